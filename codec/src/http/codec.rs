//! [`HttpServerCodec`]: the HTTP/1.1 server codec as one duplex pipeline handler.

use std::collections::VecDeque;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use seine_buffer::{Bytes, Cumulation, CumulationStrategy};
use seine_channel::{
    ChannelError, ChannelHandler, Context, Handler, InboundContext, InboundHandler, OutboundBuf,
    OutboundContext, OutboundHandler, Promise, ShutdownRequested, UserEvent,
};

use super::body::{HttpContent, HttpPart, HttpRequestPart, LastHttpContent};
use super::decoder::HttpRequestDecoder;
use super::encoder::{HttpResponseEncoder, OutStream, ResponseContext};
use super::error::HttpError;
use super::flow::ReadWindow;
use super::request::{HttpRequest, Version};
use super::response::HttpResponse;
use crate::encoder::EncodeBuf;
use crate::error::CodecError;
use crate::resp::write_parts;

const CONTINUE: &[u8] = b"HTTP/1.1 100 Continue\r\n\r\n";

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
///   ([`HttpPart::Head`], an [`HttpRequest`] with an empty body), then the body as
///   it arrives ([`HttpPart::Content`], the received bytes, not copied), then one
///   [`HttpPart::Last`] (with a chunked body's trailers). Bodies of any size within
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
/// * **Graceful shutdown**: on [`ShutdownRequested`] the codec takes the drain
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

    /// Decodes and fires every complete request (or part); `eof` at the end of
    /// input.
    fn decode_all(&mut self, ctx: &mut InboundContext<'_, M>, eof: bool) {
        while self.reading {
            let buf = self.cumulation.buf();
            let result = match (M::STREAMING, eof) {
                (false, false) => self.decoder.decode_request(buf).map(|r| r.map(Item::Whole)),
                (false, true) => self
                    .decoder
                    .decode_request_eof(buf)
                    .map(|r| r.map(Item::Whole)),
                (true, false) => self.decoder.decode_part(buf).map(|r| r.map(Item::Part)),
                (true, true) => self.decoder.decode_part_eof(buf).map(|r| r.map(Item::Part)),
            };
            match result {
                Ok(Some(Item::Whole(req))) => {
                    let rc = ResponseContext::of(&req);
                    self.pending.push_back(rc);
                    self.continue_wanted = false;
                    if !rc.keep_alive {
                        // Nothing after this request is answered.
                        self.stop_reading();
                    }
                    ctx.fire_read(M::from_item(Item::Whole(req)));
                }
                Ok(Some(Item::Part(part))) => self.fire_part(ctx, part),
                Ok(None) => {
                    if !M::STREAMING && self.decoder.take_continue() {
                        if self.pending.is_empty() && self.out_stream.is_none() {
                            send_continue(ctx);
                        } else {
                            self.continue_wanted = true;
                        }
                    }
                    return;
                }
                Err(e) => self.refuse(ctx, e, eof),
            }
        }
    }

    /// Streaming: fires one part, with its read credit.
    fn fire_part(&mut self, ctx: &mut InboundContext<'_, M>, part: HttpRequestPart) {
        let part = match part {
            HttpPart::Head(req) => {
                let rc = ResponseContext::of(&req);
                self.pending.push_back(rc);
                self.body_open = true;
                self.body_keep_alive = rc.keep_alive;
                self.body_answered = false;
                // Answered (or not) in `channel_read_complete`, once the
                // application has seen the head.
                self.continue_owed = self.decoder.take_continue();
                ctx.fire_read(M::from_item(Item::Part(HttpPart::Head(req))));
                return;
            }
            HttpPart::Content(c) => {
                let (data, _) = c.into_parts();
                let credit = self.credit(ctx, data.len());
                HttpPart::Content(HttpContent::with_credit(data, credit))
            }
            HttpPart::Last(l) => {
                let (data, trailers, _) = l.into_parts();
                let credit = self.credit(ctx, data.len());
                self.body_open = false;
                self.continue_owed = false;
                if !self.body_keep_alive {
                    // Nothing after this request is answered.
                    self.stop_reading();
                }
                HttpPart::Last(LastHttpContent::with_credit(data, trailers, credit))
            }
        };
        ctx.fire_read(M::from_item(Item::Part(part)));
    }

    fn credit(&mut self, ctx: &mut Context<'_>, bytes: usize) -> super::ReadCredit {
        let size = self.read_window;
        self.window
            .get_or_insert_with(|| ReadWindow::new(size, ctx.channel().clone()))
            .deliver(bytes as u64)
    }

    /// A request the decoder refused: answered with its status in its turn.
    fn refuse(&mut self, ctx: &mut Context<'_>, e: HttpError, eof: bool) {
        // Input may still be arriving for it (a body refused or cut short): close
        // lingering, so that the client reads the answer rather than a reset.
        let linger = !eof && (self.body_open || matches!(e, HttpError::BodyTooLarge { .. }));
        let answered = self.body_open && self.body_answered;
        if self.body_open && !self.body_answered {
            // The streamed request is answered by the error instead.
            self.pending.pop_back();
        }
        self.body_open = false;
        self.continue_owed = false;
        self.stop_reading();
        if answered {
            // Its response went out already: nothing to answer, just close.
            self.closing = true;
            self.close(ctx, linger);
            ctx.fire_exception(e);
        } else if self.pending.is_empty() && self.out_stream.is_none() {
            self.answer_error(ctx, e, linger);
        } else {
            self.pending_error = Some((e, linger));
        }
    }

    fn stop_reading(&mut self) {
        self.reading = false;
        self.continue_wanted = false;
        self.cumulation.clear();
    }

    /// Writes a response the codec makes itself (an error answer) before closing;
    /// nothing is written if even that cannot be encoded.
    fn write_last_response(
        &mut self,
        ctx: &mut Context<'_>,
        resp: HttpResponse,
        rc: &ResponseContext,
    ) {
        if self
            .encoder
            .encode_response(resp, rc, &mut self.out)
            .is_ok()
        {
            for part in self.out.take_parts() {
                ctx.write_void(part);
            }
        }
    }

    /// Answers a bad request with its status, closes after the flush (lingering if
    /// asked), reports it.
    fn answer_error(&mut self, ctx: &mut Context<'_>, error: HttpError, linger: bool) {
        let status = error.status();
        let resp = HttpResponse::text(status, format!("{status} {error}\n")).close();
        let rc = ResponseContext {
            head: false,
            version: Version::Http11,
            keep_alive: false,
        };
        self.write_last_response(ctx, resp, &rc);
        self.closing = true;
        ctx.flush();
        self.close(ctx, linger);
        ctx.fire_exception(error);
    }

    /// Closes once what was written is flushed: at once, or lingering (output shut
    /// down, input read and discarded until it ends or the linger time passes).
    fn close(&mut self, ctx: &mut Context<'_>, linger: bool) {
        if !linger {
            ctx.close();
            return;
        }
        self.lingering = true;
        self.stop_reading();
        ctx.flush();
        ctx.shutdown_output();
        // Reading must go on, whatever the read window said.
        if self.window.as_ref().is_some_and(|w| w.unpause()) || !ctx.is_auto_read() {
            ctx.channel().set_auto_read(true);
        }
        ctx.set_timer_after(LINGER_TIMER, self.linger);
    }
}

fn send_continue(ctx: &mut Context<'_>) {
    ctx.write_void(OutboundBuf::Bytes(Bytes::from_static(CONTINUE)));
}

impl<M: ServerMessage> ChannelHandler for HttpServerCodec<M> {
    /// Passes the bytes received but not decoded on to the next handler (one
    /// `Bytes` per segment, not copied).
    fn handler_removed(&mut self, ctx: &mut Context<'_>) {
        for seg in self.cumulation.take_all().into_segments() {
            ctx.fire_message(seg);
        }
    }

    fn timer_fired(&mut self, ctx: &mut Context<'_>, key: u64) {
        if key == LINGER_TIMER && self.lingering {
            tracing::debug!("lingering close: the client did not close in time");
            ctx.close();
        }
    }
}

impl<M: ServerMessage> InboundHandler for HttpServerCodec<M> {
    type Read = Bytes;
    type Fire = M;

    fn channel_read(&mut self, ctx: &mut InboundContext<'_, M>, msg: Bytes) {
        if !self.reading {
            // Lingering or closing: what still arrives is dropped.
            return;
        }
        self.cumulation.push(msg);
        self.decode_all(ctx, false);
        // A partial request left: copy it out of the read if small.
        self.cumulation.settle();
    }

    /// Streaming: a head that asked for `100 Continue` has been through the
    /// application (its writes made in `channel_read` have reached the codec): if
    /// it did not answer the request, the body is going to be read, so the client
    /// is told to send it.
    fn channel_read_complete(&mut self, ctx: &mut InboundContext<'_, M>) {
        if self.continue_owed && self.body_open && !self.body_answered && !self.closing {
            if self.pending.len() == 1 && self.out_stream.is_none() {
                self.continue_owed = false;
                send_continue(ctx);
            } else {
                self.continue_wanted = true;
            }
        }
        ctx.fire_read_complete();
    }

    fn channel_writability_changed(&mut self, ctx: &mut InboundContext<'_, M>) {
        if ctx.is_writable() && self.out_stream.is_some() {
            // A flush from the tail reaches `flush`, which writes on.
            ctx.channel().flush();
        }
        ctx.fire_writability_changed();
    }

    fn channel_inactive(&mut self, ctx: &mut InboundContext<'_, M>) {
        if let Some(active) = self.out_stream.take() {
            ctx.fail_promise(active.promise, ChannelError::Closed);
        }
        self.fail_queued(ctx);
        ctx.fire_inactive();
    }

    fn input_closed(&mut self, ctx: &mut InboundContext<'_, M>) {
        if self.lingering {
            ctx.close();
        } else {
            self.decode_all(ctx, true);
        }
        ctx.fire_input_closed();
    }

    fn user_event(&mut self, ctx: &mut InboundContext<'_, M>, event: UserEvent) {
        if event.is::<IdleCheck>() {
            if self.pending.is_empty()
                && self.cumulation.is_empty()
                && !self.body_open
                && self.out_stream.is_none()
                && !self.closing
            {
                // An idle keep-alive connection: nothing is owed, nothing started.
                self.closing = true;
                self.stop_reading();
                ctx.close();
            }
            return;
        }
        if let Some(shutdown) = event.downcast_ref::<ShutdownRequested>() {
            shutdown.take_over();
            self.draining = true;
            // Checked once the bytes already received by the kernel have been read
            // (the check waits behind that read in the channel's queue), so a
            // request in flight is answered with `Connection: close`, not reset.
            ctx.channel().fire_user_event(IdleCheck);
        }
        ctx.fire_user_event(event);
    }
}

impl<M: ServerMessage> HttpServerCodec<M> {
    /// Encodes and writes a response now (no streamed body is in progress).
    fn write_now(
        &mut self,
        ctx: &mut OutboundContext<'_, OutboundBuf>,
        resp: HttpResponse,
        promise: Promise,
    ) {
        if self.closing {
            return ctx.fail_promise(
                promise,
                CodecError::Encode {
                    reason: "a response after the one that closed the connection".into(),
                },
            );
        }
        let interim = resp.status < 200;
        let rc = if interim {
            self.pending.front().copied()
        } else {
            self.pending.pop_front()
        }
        .unwrap_or_default();
        // The streamed request whose body is arriving (always the newest) is
        // answered before its body was read.
        let early = !interim && self.body_open && self.pending.is_empty() && !self.body_answered;
        if early {
            self.body_answered = true;
        }
        // Draining: the last response owed (with no partial request behind it)
        // ends the connection. An early answer to a request whose client waits
        // for a `100 Continue` that will not come ends it too: the client may
        // send the body or not.
        let resp = if (self.draining
            && !interim
            && self.pending.is_empty()
            && self.cumulation.is_empty()
            && !self.body_open
            && self.pending_error.is_none())
            || (early && (self.continue_owed || self.draining))
        {
            resp.close()
        } else {
            resp
        };
        match self.encoder.encode_head_and_body(resp, &rc, &mut self.out) {
            Ok((close, Some(stream))) => {
                // The head now; the body as the channel can take it (`flush`).
                for part in self.out.take_parts() {
                    ctx.write_void(part);
                }
                self.out_stream = Some(ActiveStream {
                    stream,
                    promise,
                    close,
                    interim,
                });
            }
            Ok((close, None)) => {
                write_parts(ctx, &mut self.out, promise);
                self.after_response(ctx, close, interim);
            }
            Err(e) => {
                // The request is owed a response: answer 500 and close.
                self.out.take_parts();
                let status = 500;
                let resp = HttpResponse::text(status, "500 the response could not be encoded\n");
                let rc = ResponseContext {
                    keep_alive: false,
                    ..rc
                };
                self.write_last_response(ctx, resp, &rc);
                ctx.fail_promise(promise, e);
                self.after_response(ctx, true, false);
            }
        }
    }

    /// A response was written whole: close if it said so, otherwise answer what
    /// waited for it (an error, a `100 Continue`).
    fn after_response(
        &mut self,
        ctx: &mut OutboundContext<'_, OutboundBuf>,
        close: bool,
        interim: bool,
    ) {
        if close {
            self.closing = true;
            // A body still arriving is read and dropped until the client closes,
            // so that it reads this response rather than a reset.
            let linger = self.body_open;
            self.body_open = false;
            self.close(ctx, linger);
            self.stop_reading();
            return;
        }
        if !interim && self.pending.is_empty() {
            if let Some((error, linger)) = self.pending_error.take() {
                self.answer_error(ctx, error, linger);
            } else if std::mem::take(&mut self.continue_wanted) {
                if M::STREAMING {
                    if self.body_open && !self.body_answered && self.continue_owed {
                        self.continue_owed = false;
                        send_continue(ctx);
                    }
                } else {
                    send_continue(ctx);
                }
            }
        }
    }

    /// Writes the pieces of the streamed body in progress while the channel is
    /// writable; at its end, the responses that waited for it.
    fn pump(&mut self, ctx: &mut OutboundContext<'_, OutboundBuf>) {
        while let Some(active) = &mut self.out_stream {
            if !ctx.is_writable() || ctx.is_closing() {
                return;
            }
            match active.stream.write_next(&mut self.out) {
                Ok(false) => {
                    for part in self.out.take_parts() {
                        ctx.write_void(part);
                    }
                }
                Ok(true) => {
                    let ActiveStream {
                        promise,
                        close,
                        interim,
                        ..
                    } = self.out_stream.take().expect("a stream in progress");
                    write_parts(ctx, &mut self.out, promise);
                    self.after_response(ctx, close, interim);
                    while self.out_stream.is_none()
                        && let Some((resp, promise)) = self.queued.pop_front()
                    {
                        self.write_now(ctx, resp, promise);
                    }
                }
                Err(e) => {
                    // Part of the body is out: the framing cannot be finished.
                    tracing::debug!(error = %e, "a streamed response body failed");
                    self.out.take_parts();
                    let active = self.out_stream.take().expect("a stream in progress");
                    ctx.fail_promise(active.promise, e);
                    self.closing = true;
                    self.stop_reading();
                    self.fail_queued(ctx);
                    ctx.close();
                }
            }
        }
    }

    fn fail_queued(&mut self, ctx: &mut Context<'_>) {
        while let Some((_, promise)) = self.queued.pop_front() {
            ctx.fail_promise(promise, ChannelError::Closed);
        }
    }
}

impl<M: ServerMessage> OutboundHandler for HttpServerCodec<M> {
    type Write = HttpResponse;
    type Emit = OutboundBuf;

    fn write(
        &mut self,
        ctx: &mut OutboundContext<'_, OutboundBuf>,
        resp: HttpResponse,
        promise: Promise,
    ) {
        if self.out_stream.is_some() {
            // In order, once the streamed body in progress has ended.
            self.queued.push_back((resp, promise));
            return;
        }
        self.write_now(ctx, resp, promise);
    }

    /// Writes what the channel can take of a streamed body, then flushes.
    fn flush(&mut self, ctx: &mut OutboundContext<'_, OutboundBuf>) {
        self.pump(ctx);
        ctx.flush();
    }

    /// A close while lingering waits for the end of the lingering (the client's
    /// close, or the linger time): the exception the codec fires closes the
    /// channel by default, and would cut the lingering short. `close_now` is not
    /// delayed.
    fn close(&mut self, ctx: &mut OutboundContext<'_, OutboundBuf>) {
        if self.lingering && !ctx.is_closing_now() {
            return;
        }
        ctx.close();
    }
}

impl<M: ServerMessage> From<HttpServerCodec<M>> for Handler {
    fn from(codec: HttpServerCodec<M>) -> Self {
        Handler::duplex(codec)
    }
}
