//! [`HttpServerCodec`]: the HTTP/1.1 server codec as one duplex pipeline handler.

use std::collections::VecDeque;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use seine_buffer::{Cumulation, CumulationStrategy};
use seine_channel::{Handler, Promise};

use super::body::HttpRequestPart;
use super::decoder::HttpRequestDecoder;
use super::encoder::{HttpResponseEncoder, OutStream, ResponseContext};
use super::error::HttpError;
use super::flow::ReadWindow;
use super::request::HttpRequest;
use super::response::HttpResponse;
use crate::encoder::EncodeBuf;
use crate::error::CodecError;

/// Private event: close if still idle (after a shutdown request).
struct IdleCheck;

/// Default [`HttpServerCodecBuilder::read_window`]: 256 KiB.
pub const DEFAULT_READ_WINDOW: u64 = 256 * 1024;
/// Default [`HttpServerCodecBuilder::linger`]: 2 s.
pub const DEFAULT_LINGER: Duration = Duration::from_secs(2);

/// A response whose body is being pulled from its input.
struct ActiveStream {
    stream: OutStream,
    promise: Promise,
    /// The connection closes after it.
    close: bool,
    interim: bool,
}

/// The codec's timer: the end of a lingering close.
const LINGER_TIMER: u64 = 1;

mod sealed {
    use super::{HttpRequest, HttpRequestPart};

    /// What the decoder produced, in either mode.
    pub enum Item {
        Whole(HttpRequest),
        Part(HttpRequestPart),
    }

    /// How a codec delivers requests (sealed: the two kinds below).
    pub trait Delivery: Sized + 'static {
        const STREAMING: bool;
        fn from_item(item: Item) -> Self;
    }

    impl Delivery for HttpRequest {
        const STREAMING: bool = false;
        fn from_item(item: Item) -> Self {
            match item {
                Item::Whole(req) => req,
                Item::Part(_) => unreachable!("a whole-request codec decodes whole requests"),
            }
        }
    }

    impl Delivery for HttpRequestPart {
        const STREAMING: bool = true;
        fn from_item(item: Item) -> Self {
            match item {
                Item::Part(part) => part,
                Item::Whole(_) => unreachable!("a streaming codec decodes parts"),
            }
        }
    }
}

use sealed::Item;

/// What an [`HttpServerCodec`] fires: [`HttpRequest`] (whole requests, the
/// default) or [`HttpRequestPart`] (streamed, [`HttpServerCodec::streaming`]).
/// Sealed: implemented for these two only.
pub trait ServerMessage: sealed::Delivery {}
impl ServerMessage for HttpRequest {}
impl ServerMessage for HttpRequestPart {}

/// An HTTP/1.1 server in one pipeline slot: reads bytes and fires [`HttpRequest`]s
/// (or, streaming, [`HttpRequestPart`]s), accepts [`HttpResponse`]s and writes them.
///
/// * **Requests** are decoded by an [`HttpRequestDecoder`] (limits, smuggling rules
///   and costs are documented there) from a [`Cumulation`]; pipelined requests are
///   fired one after the other. `HttpServerCodec` (that is,
///   `HttpServerCodec<HttpRequest>`) fires each request whole, its body up to
///   `max_body_length` in memory.
/// * **Streaming** ([`HttpServerCodec::streaming`], or
///   [`build_streaming`](HttpServerCodecBuilder::build_streaming)): an
///   `HttpServerCodec<HttpRequestPart>` fires each request as its head
///   ([`HttpPart::Head`](super::HttpPart::Head), an [`HttpRequest`] with an empty body), then the body as
///   it arrives ([`HttpPart::Content`](super::HttpPart::Content), the received bytes, not copied), then one
///   [`HttpPart::Last`](super::HttpPart::Last) (with a chunked body's trailers). Bodies of any size within
///   `max_body_length` pass through a bounded amount of memory: each part holds a
///   [`ReadCredit`](super::ReadCredit) for its bytes, and while the bytes delivered
///   and not released exceed the [read window](HttpServerCodecBuilder::read_window)
///   the codec turns the channel's auto-read off (back on at half the window), so
///   a slow consumer slows the peer down through TCP instead of buffering. Put an
///   [`HttpObjectAggregator`](super::HttpObjectAggregator) behind it to get whole
///   requests for some routes.
/// * **Body limit**: a `Content-Length` over `max_body_length` is answered 413 as
///   soon as the head is read (the body is not read, no `100 Continue` is sent); a
///   chunked body is refused with 413 once its chunk sizes add up to more. The
///   connection then closes *lingering*: the codec shuts its output down after the
///   413, then reads and discards what the client still sends until it closes (or
///   the [linger time](HttpServerCodecBuilder::linger) passes), so the client
///   reads the 413 rather than a reset.
/// * **Responses** must be written in request order (one per request; 1xx responses
///   do not count). Each is encoded by [`HttpResponseEncoder`] knowing its request:
///   headers only for `HEAD`, `Connection: keep-alive` for an HTTP/1.0 client that
///   asked for it. The body is not copied; a file region goes by `sendfile`.
/// * **Keep-alive**: HTTP/1.1 stays open unless `Connection: close`, HTTP/1.0
///   closes unless `Connection: keep-alive`. When a response closes the connection
///   (the request or the response said so), the codec closes the channel once that
///   response is flushed, and ignores any request after it.
/// * **`Expect: 100-continue`**: the codec answers `100 Continue` when the request's
///   head has arrived and its body has not (after the responses to earlier
///   requests), and only if the body is going to be read: a declared length over the
///   limit gets 413 instead, an unknown expectation 417; streaming, the head is
///   fired first, and if the application answers it right away (a final status,
///   say 401 or 413) no `100` is sent and the connection closes (lingering) after
///   that response.
/// * **Bad requests**: the codec answers the [`HttpError`]'s status (400, 413, 414,
///   431, 417, 501, 505) with `Connection: close` — after the responses owed to the
///   requests before it — closes the channel once that is flushed, and fires the
///   `HttpError` as an exception (handlers find it with
///   `error.downcast_ref::<HttpError>()`).
/// * **Graceful shutdown**: on [`ShutdownRequested`](seine_channel::ShutdownRequested) the codec takes the drain
///   over (and passes the event on). An idle keep-alive connection (no request
///   owed a response, no partial request received) closes at once; otherwise the
///   requests already received are answered, the last of them with
///   `Connection: close`, and the channel closes once that response is flushed.
///
/// # Examples
///
/// ```
/// use seine_buffer::Bytes;
/// use seine_channel::prelude::*;
/// use seine_channel::testing::EmbeddedChannel;
/// use seine_codec::http::{HttpRequest, HttpResponse, HttpServerCodec};
///
/// struct Hello;
/// impl ChannelHandler for Hello {}
/// impl InboundHandler for Hello {
///     type Read = HttpRequest;
///     type Fire = HttpRequest;
///     fn channel_read(&mut self, ctx: &mut InboundContext<'_, HttpRequest>, req: HttpRequest) {
///         let body = format!("hello {}\n", req.path());
///         ctx.write_void(HttpResponse::text(200, body));
///     }
/// }
///
/// let mut ch = EmbeddedChannel::with_handlers([
///     ("http", HttpServerCodec::new().into()),
///     ("app", Handler::inbound(Hello)),
/// ]);
/// ch.write_inbound(Bytes::from_static(b"GET /world HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")).unwrap();
/// let out = String::from_utf8(ch.read_outbound_bytes()).unwrap();
/// assert!(out.starts_with("HTTP/1.1 200 OK\r\n"));
/// assert!(out.contains("Connection: close\r\n"));
/// assert!(out.ends_with("\r\n\r\nhello /world\n"));
/// assert!(!ch.is_active()); // closed after the response
/// ```
pub struct HttpServerCodec<M: ServerMessage = HttpRequest> {
    decoder: HttpRequestDecoder,
    encoder: HttpResponseEncoder,
    cumulation: Cumulation,
    out: EncodeBuf,
    /// Requests fired and not yet answered, oldest first.
    pending: VecDeque<ResponseContext>,
    /// Whether input is still decoded (off after a request that closes, or an error).
    reading: bool,
    /// A response that closes the connection was written.
    closing: bool,
    /// A bad request to answer once the responses owed before it are written.
    pending_error: Option<(HttpError, bool)>,
    /// A `100 Continue` to send once the responses owed before it are written.
    continue_wanted: bool,
    /// The server is shutting down: the last response owed closes the connection.
    draining: bool,
    /// Streaming: the read window's size, and the window once made.
    read_window: u64,
    window: Option<Arc<ReadWindow>>,
    /// Streaming: a request's head was fired and its last part not yet.
    body_open: bool,
    /// The request whose body is open keeps the connection alive.
    body_keep_alive: bool,
    /// The request whose body is open was answered already.
    body_answered: bool,
    /// The request whose body is open asked for a `100 Continue` not yet sent.
    continue_owed: bool,
    /// The output is shut down; input is discarded until it ends or the timer.
    lingering: bool,
    /// A response whose body is being pulled from its input.
    out_stream: Option<ActiveStream>,
    /// Responses written while a body is streamed, in order.
    queued: VecDeque<(HttpResponse, Promise)>,
    linger: Duration,
    _delivery: PhantomData<fn() -> M>,
}

/// Configures an [`HttpServerCodec`]; made by [`HttpServerCodec::builder`].
/// Defaults: as [`HttpServerCodec::new`].
///
/// ```
/// use seine_buffer::CumulationStrategy;
/// use seine_codec::CodecError;
/// use seine_codec::http::{HttpRequestDecoder, HttpResponseEncoder, HttpServerCodec};
///
/// let codec = HttpServerCodec::builder()
///     .decoder(HttpRequestDecoder::builder().max_body_length(1 << 30).build()?)
///     .encoder(HttpResponseEncoder::builder().date(false).build()?)
///     .cumulation(CumulationStrategy::Compose)
///     .build()?;
/// assert_eq!(codec.decoder().max_body_length(), 1 << 30);
/// assert!(!codec.encoder().date());
/// assert_eq!(codec.cumulation(), CumulationStrategy::Compose);
/// # Ok::<(), CodecError>(())
/// ```
#[derive(Debug, Default)]
#[must_use = "call build() to get the codec"]
pub struct HttpServerCodecBuilder {
    decoder: Option<HttpRequestDecoder>,
    encoder: Option<HttpResponseEncoder>,
    cumulation: CumulationStrategy,
    read_window: Option<u64>,
    linger: Option<Duration>,
}

impl HttpServerCodecBuilder {
    /// The request decoder (to change its limits).
    pub fn decoder(mut self, decoder: HttpRequestDecoder) -> Self {
        self.decoder = Some(decoder);
        self
    }

    /// The response encoder (to turn the `Date` field off).
    pub fn encoder(mut self, encoder: HttpResponseEncoder) -> Self {
        self.encoder = Some(encoder);
        self
    }

    /// How received bytes are accumulated (adaptive by default).
    pub fn cumulation(mut self, strategy: CumulationStrategy) -> Self {
        self.cumulation = strategy;
        self
    }

    /// Streaming: the body bytes delivered and not yet released above which
    /// reading pauses (256 KiB by default; reading resumes at half of it).
    pub fn read_window(mut self, bytes: u64) -> Self {
        self.read_window = Some(bytes);
        self
    }

    /// How long a lingering close (after a 413 or another refusal while a body
    /// may still be arriving) waits for the client to close before closing
    /// anyway (2 s by default).
    pub fn linger(mut self, time: Duration) -> Self {
        self.linger = Some(time);
        self
    }

    /// Builds the codec, delivering whole requests.
    ///
    /// # Errors
    ///
    /// None today; the `Result` keeps one convention across the codecs' builders.
    pub fn build(self) -> Result<HttpServerCodec, CodecError> {
        Ok(self.make())
    }

    /// Builds the codec, delivering streamed requests ([`HttpRequestPart`]s).
    ///
    /// ```
    /// use seine_codec::http::{HttpRequestDecoder, HttpServerCodec};
    /// let codec = HttpServerCodec::builder()
    ///     .decoder(HttpRequestDecoder::builder().max_body_length(usize::MAX).build()?)
    ///     .read_window(1 << 20)
    ///     .build_streaming()?;
    /// assert_eq!(codec.read_window(), 1 << 20);
    /// # Ok::<(), seine_codec::CodecError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`CodecError::InvalidConfig`] for a read window of 0.
    pub fn build_streaming(self) -> Result<HttpServerCodec<HttpRequestPart>, CodecError> {
        if self.read_window == Some(0) {
            return Err(CodecError::InvalidConfig(
                crate::error::InvalidConfig::ZeroReadWindow,
            ));
        }
        Ok(self.make())
    }

    fn make<M: ServerMessage>(self) -> HttpServerCodec<M> {
        let mut codec = HttpServerCodec::from_parts(
            self.decoder.unwrap_or_default(),
            self.encoder.unwrap_or_default(),
            self.cumulation,
        );
        codec.read_window = self.read_window.unwrap_or(DEFAULT_READ_WINDOW);
        codec.linger = self.linger.unwrap_or(DEFAULT_LINGER);
        codec
    }
}

impl Default for HttpServerCodec {
    fn default() -> Self {
        Self::new()
    }
}

impl HttpServerCodec {
    /// A codec with the default decoder limits (64 KiB head, 100 fields, 8 MiB body)
    /// and the adaptive cumulation, firing whole requests.
    ///
    /// ```
    /// let _handler: seine_channel::Handler = seine_codec::http::HttpServerCodec::new().into();
    /// ```
    pub fn new() -> Self {
        Self::from_parts(
            HttpRequestDecoder::new(),
            HttpResponseEncoder::new(),
            CumulationStrategy::default(),
        )
    }

    /// A codec with the given decoder (to change its limits), the default encoder
    /// and cumulation: the same as `HttpServerCodec::builder().decoder(decoder).build()`,
    /// which cannot fail.
    ///
    /// ```
    /// use seine_codec::http::{HttpRequestDecoder, HttpServerCodec};
    /// let decoder = HttpRequestDecoder::builder().max_body_length(1 << 30).build().unwrap();
    /// let codec = HttpServerCodec::with_decoder(decoder);
    /// assert_eq!(codec.decoder().max_body_length(), 1 << 30);
    /// ```
    pub fn with_decoder(decoder: HttpRequestDecoder) -> Self {
        Self::from_parts(
            decoder,
            HttpResponseEncoder::new(),
            CumulationStrategy::default(),
        )
    }

    /// A builder with the defaults of [`new`](Self::new).
    pub fn builder() -> HttpServerCodecBuilder {
        HttpServerCodecBuilder::default()
    }
}

impl HttpServerCodec<HttpRequestPart> {
    /// A streaming codec with `decoder`'s limits and the default read window
    /// (256 KiB): requests are fired as [`HttpRequestPart`]s. See the
    /// [type's documentation](HttpServerCodec) and
    /// [`HttpServerCodecBuilder::build_streaming`].
    ///
    /// ```
    /// use seine_buffer::Bytes;
    /// use seine_channel::prelude::*;
    /// use seine_channel::testing::EmbeddedChannel;
    /// use seine_codec::http::{HttpRequestDecoder, HttpRequestPart, HttpResponse, HttpServerCodec};
    ///
    /// /// Counts the body bytes of each upload, answers with the count.
    /// #[derive(Default)]
    /// struct Count(usize);
    /// impl ChannelHandler for Count {}
    /// impl InboundHandler for Count {
    ///     type Read = HttpRequestPart;
    ///     type Fire = HttpRequestPart;
    ///     fn channel_read(&mut self, ctx: &mut InboundContext<'_, HttpRequestPart>, part: HttpRequestPart) {
    ///         self.0 += part.body_len(); // the part (and its read credit) drops here
    ///         if part.is_last() {
    ///             ctx.write_void(HttpResponse::text(200, format!("{}\n", std::mem::take(&mut self.0))));
    ///         }
    ///     }
    /// }
    ///
    /// let decoder = HttpRequestDecoder::builder().max_body_length(1 << 40).build().unwrap();
    /// let mut ch = EmbeddedChannel::with_handlers([
    ///     ("http", HttpServerCodec::streaming(decoder).into()),
    ///     ("app", Handler::inbound(Count::default())),
    /// ]);
    /// ch.write_inbound(Bytes::from_static(b"PUT /f HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")).unwrap();
    /// for _ in 0..100 {
    ///     ch.write_inbound(Bytes::from_static(b"400\r\n")).unwrap();
    ///     ch.write_inbound(Bytes::from(vec![b'x'; 1024])).unwrap();
    ///     ch.write_inbound(Bytes::from_static(b"\r\n")).unwrap();
    /// }
    /// ch.write_inbound(Bytes::from_static(b"0\r\n\r\n")).unwrap();
    /// let out = String::from_utf8(ch.read_outbound_bytes()).unwrap();
    /// assert!(out.ends_with("\r\n\r\n102400\n"), "{out}");
    /// ```
    pub fn streaming(decoder: HttpRequestDecoder) -> Self {
        Self::from_parts(
            decoder,
            HttpResponseEncoder::new(),
            CumulationStrategy::default(),
        )
    }
}

impl<M: ServerMessage> HttpServerCodec<M> {
    fn from_parts(
        decoder: HttpRequestDecoder,
        encoder: HttpResponseEncoder,
        cumulation: CumulationStrategy,
    ) -> Self {
        HttpServerCodec {
            decoder,
            encoder,
            cumulation: Cumulation::new(cumulation),
            out: EncodeBuf::new(),
            pending: VecDeque::new(),
            reading: true,
            closing: false,
            pending_error: None,
            continue_wanted: false,
            draining: false,
            read_window: DEFAULT_READ_WINDOW,
            window: None,
            body_open: false,
            body_keep_alive: true,
            body_answered: false,
            continue_owed: false,
            lingering: false,
            out_stream: None,
            queued: VecDeque::new(),
            linger: DEFAULT_LINGER,
            _delivery: PhantomData,
        }
    }

    /// The request decoder (its limits).
    pub fn decoder(&self) -> &HttpRequestDecoder {
        &self.decoder
    }

    /// The response encoder.
    pub fn encoder(&self) -> &HttpResponseEncoder {
        &self.encoder
    }

    /// How received bytes are accumulated.
    pub fn cumulation(&self) -> CumulationStrategy {
        self.cumulation.strategy()
    }

    /// Streaming: the read window, in bytes.
    pub fn read_window(&self) -> u64 {
        self.read_window
    }

    /// How long a lingering close waits for the client.
    pub fn linger(&self) -> Duration {
        self.linger
    }

    /// Streaming: body bytes delivered and not yet released by the application.
    pub fn unreleased_bytes(&self) -> u64 {
        self.window.as_ref().map_or(0, |w| w.outstanding())
    }
}

mod inbound;
mod outbound;

impl<M: ServerMessage> From<HttpServerCodec<M>> for Handler {
    fn from(codec: HttpServerCodec<M>) -> Self {
        Handler::duplex(codec)
    }
}
