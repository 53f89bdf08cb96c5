//! [`HttpClientCodec`]: the HTTP/1.1 client codec as one duplex pipeline handler.

use std::sync::Arc;

use seine_buffer::{Bytes, Cumulation, CumulationStrategy};
use seine_channel::{
    ChannelHandler, Context, Handler, InboundContext, InboundHandler, OutboundBuf, OutboundContext,
    OutboundHandler, Promise,
};

use super::error::HttpClientError;
use super::request_encoder::{HttpClientRequest, HttpRequestEncoder};
use super::response_decoder::{HttpResponseDecoder, HttpResponsePart};
use crate::encoder::EncodeBuf;
use crate::error::CodecError;
use crate::http::flow::ReadWindow;
use crate::http::{DEFAULT_READ_WINDOW, HttpContent, HttpPart, LastHttpContent};
use crate::resp::write_parts;

/// An HTTP/1.1 client in one pipeline slot (Netty's `HttpClientCodec`): accepts
/// [`HttpClientRequest`]s and writes them, reads bytes and fires
/// [`HttpResponsePart`]s.
///
/// * **Requests** are encoded by an [`HttpRequestEncoder`]: whole
///   ([`HttpClientRequest::Full`]) or streamed (a head, body parts, a last part;
///   chunked unless the head has a `Content-Length`). A request that cannot be
///   encoded fails its write's promise with [`CodecError::Encode`], nothing sent.
/// * **Responses** are decoded by an [`HttpResponseDecoder`] (limits and the
///   body-length rules of RFC 9112 §6.3 are documented there): each fires as a
///   head, zero or more [`HttpContent`] parts and one [`LastHttpContent`]. The
///   codec tells the decoder each request's method as the request is written, so
///   pipelined requests are answered in order and a `HEAD` response has no body.
/// * **Backpressure**: body parts carry a [`ReadCredit`](crate::http::ReadCredit).
///   While more than the [read window](HttpClientCodecBuilder::read_window) of
///   body bytes has been delivered and not released (the parts dropped, or their
///   credits released), auto-read is off: a slow consumer (a disk) slows the
///   server down through TCP, and memory stays bounded whatever the body's size.
/// * **Errors**: a malformed response, or the connection ending inside one (a
///   body cut short is never delivered as complete), fires the
///   [`HttpClientError`] as an exception (`error.downcast_ref::<HttpClientError>()`)
///   and closes the channel.
/// * After a `101 Switching Protocols` (or a 2xx to `CONNECT`) the codec decodes
///   no more; remove it from the pipeline and the bytes it holds are passed on
///   to the next handler.
///
/// Compared with Netty's `HttpClientCodec`: the end of input with requests still
/// unanswered is always reported ([`HttpClientError::NoResponse`], Netty's
/// `failOnMissingResponse`, off there by default); after a 2xx to `CONNECT`
/// nothing more is parsed as HTTP (Netty's default,
/// `parseHttpAfterConnectRequest = false`); messages are one enum per direction
/// ([`HttpClientRequest`], [`HttpResponsePart`]) rather than `HttpObject`s of
/// several classes, and a body cut short is an error rather than a
/// `LastHttpContent` after a decoder-result failure.
///
/// The codec does not close the connection after a response that says
/// `Connection: close` ([`HttpResponseHead::keep_alive`](super::HttpResponseHead::keep_alive)
/// tells); the server does.
///
/// # Examples
///
/// ```
/// use seine_buffer::Bytes;
/// use seine_channel::testing::EmbeddedChannel;
/// use seine_codec::http::{HttpClientCodec, HttpClientRequest, HttpPart, HttpRequest, HttpResponsePart, Method};
///
/// let mut ch = EmbeddedChannel::with_handlers([("http", HttpClientCodec::new().into())]);
/// let mut req = HttpRequest::new(Method::Get, "/hello");
/// req.headers.append("Host", "example.com");
/// ch.write_outbound(HttpClientRequest::from(req));
/// assert!(ch.read_outbound_bytes().starts_with(b"GET /hello HTTP/1.1\r\nHost: example.com\r\n"));
///
/// ch.write_inbound(Bytes::from_static(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi")).unwrap();
/// let Some(HttpPart::Head(head)) = ch.read_inbound::<HttpResponsePart>() else { panic!() };
/// assert_eq!(head.status, 200);
/// let Some(HttpPart::Last(last)) = ch.read_inbound::<HttpResponsePart>() else { panic!() };
/// assert_eq!(last.data(), &b"hi"[..]);
/// ```
pub struct HttpClientCodec {
    decoder: HttpResponseDecoder,
    encoder: HttpRequestEncoder,
    cumulation: Cumulation,
    out: EncodeBuf,
    read_window: u64,
    window: Option<Arc<ReadWindow>>,
    /// Off after an error: the input is no longer framed.
    reading: bool,
}

/// Configures an [`HttpClientCodec`]; made by [`HttpClientCodec::builder`].
///
/// ```
/// use seine_codec::http::{HttpClientCodec, HttpResponseDecoder};
/// let codec = HttpClientCodec::builder()
///     .decoder(HttpResponseDecoder::builder().max_header_length(8192).build()?)
///     .read_window(256 * 1024)
///     .build()?;
/// assert_eq!(codec.decoder().max_header_length(), 8192);
/// assert_eq!(codec.read_window(), 256 * 1024);
/// # Ok::<(), seine_codec::CodecError>(())
/// ```
#[derive(Debug)]
#[must_use = "call build() to get the codec"]
pub struct HttpClientCodecBuilder {
    decoder: Option<HttpResponseDecoder>,
    cumulation: CumulationStrategy,
    read_window: u64,
}

impl Default for HttpClientCodecBuilder {
    fn default() -> Self {
        HttpClientCodecBuilder {
            decoder: None,
            cumulation: CumulationStrategy::default(),
            read_window: DEFAULT_READ_WINDOW,
        }
    }
}

impl HttpClientCodecBuilder {
    /// The response decoder (to change its limits).
    pub fn decoder(mut self, decoder: HttpResponseDecoder) -> Self {
        self.decoder = Some(decoder);
        self
    }

    /// How received bytes are accumulated (adaptive by default).
    pub fn cumulation(mut self, strategy: CumulationStrategy) -> Self {
        self.cumulation = strategy;
        self
    }

    /// Body bytes delivered and not released above which reading pauses (it
    /// resumes at half of it); [`DEFAULT_READ_WINDOW`] (256 KiB) by default.
    pub fn read_window(mut self, bytes: u64) -> Self {
        self.read_window = bytes;
        self
    }

    /// Builds the codec (a zero read window counts as 1 byte).
    ///
    /// # Errors
    ///
    /// None today; the `Result` keeps one convention across the codecs' builders.
    pub fn build(self) -> Result<HttpClientCodec, CodecError> {
        Ok(HttpClientCodec {
            decoder: self.decoder.unwrap_or_default(),
            encoder: HttpRequestEncoder::new(),
            cumulation: Cumulation::new(self.cumulation),
            out: EncodeBuf::new(),
            read_window: self.read_window.max(1),
            window: None,
            reading: true,
        })
    }
}

impl Default for HttpClientCodec {
    fn default() -> Self {
        Self::new()
    }
}

impl HttpClientCodec {
    /// A codec with the default decoder limits (64 KiB head, 100 fields), the
    /// default read window ([`DEFAULT_READ_WINDOW`], 256 KiB, as the server
    /// codec's) and the adaptive cumulation.
    ///
    /// ```
    /// let _handler: seine_channel::Handler = seine_codec::http::HttpClientCodec::new().into();
    /// ```
    pub fn new() -> Self {
        Self::builder().build().unwrap_or_else(|_| unreachable!())
    }

    /// A builder with the defaults of [`new`](Self::new).
    pub fn builder() -> HttpClientCodecBuilder {
        HttpClientCodecBuilder::default()
    }

    /// The response decoder (its limits, the requests awaiting responses).
    pub fn decoder(&self) -> &HttpResponseDecoder {
        &self.decoder
    }

    /// The read window, in bytes.
    pub fn read_window(&self) -> u64 {
        self.read_window
    }

    /// Decodes and fires every part the input holds; `eof` at the end of input.
    fn decode_all(&mut self, ctx: &mut InboundContext<'_, HttpResponsePart>, eof: bool) {
        while self.reading {
            let buf = self.cumulation.buf();
            let result = if eof {
                self.decoder.decode_part_eof(buf)
            } else {
                self.decoder.decode_part(buf)
            };
            match result {
                Ok(Some(part)) => {
                    let part = self.with_credit(ctx, part);
                    ctx.fire_read(part);
                }
                Ok(None) => return,
                Err(e) => {
                    self.fail(ctx, e);
                    return;
                }
            }
        }
    }

    /// Gives a body part a credit for its bytes against the read window.
    fn with_credit(&mut self, ctx: &mut Context<'_>, part: HttpResponsePart) -> HttpResponsePart {
        if part.body_len() == 0 {
            return part;
        }
        let window = self
            .window
            .get_or_insert_with(|| ReadWindow::new(self.read_window, ctx.channel().clone()));
        match part {
            HttpPart::Content(c) => {
                let (data, _none) = c.into_parts();
                let credit = window.deliver(data.len() as u64);
                HttpPart::Content(HttpContent::with_credit(data, credit))
            }
            HttpPart::Last(l) => {
                let (data, trailers, _none) = l.into_parts();
                let credit = window.deliver(data.len() as u64);
                HttpPart::Last(LastHttpContent::with_credit(data, trailers, credit))
            }
            head => head,
        }
    }

    fn fail(&mut self, ctx: &mut InboundContext<'_, HttpResponsePart>, error: HttpClientError) {
        tracing::debug!(%error, "HTTP client: closing the connection");
        self.reading = false;
        self.cumulation.clear();
        ctx.close();
        ctx.fire_exception(error);
    }
}

impl ChannelHandler for HttpClientCodec {
    /// Passes the bytes received but not decoded (after a `101`, say) on to the
    /// next handler: one `Bytes` per segment, not copied.
    fn handler_removed(&mut self, ctx: &mut Context<'_>) {
        for seg in self.cumulation.take_all().into_segments() {
            ctx.fire_message(seg);
        }
    }
}

impl InboundHandler for HttpClientCodec {
    type Read = Bytes;
    type Fire = HttpResponsePart;

    fn channel_read(&mut self, ctx: &mut InboundContext<'_, HttpResponsePart>, msg: Bytes) {
        if !self.reading {
            return;
        }
        self.cumulation.push(msg);
        self.decode_all(ctx, false);
        self.cumulation.settle();
    }

    fn input_closed(&mut self, ctx: &mut InboundContext<'_, HttpResponsePart>) {
        self.decode_all(ctx, true);
        ctx.fire_input_closed();
    }
}

impl OutboundHandler for HttpClientCodec {
    type Write = HttpClientRequest;
    type Emit = OutboundBuf;

    fn write(
        &mut self,
        ctx: &mut OutboundContext<'_, OutboundBuf>,
        msg: HttpClientRequest,
        promise: Promise,
    ) {
        let method = msg.method().cloned();
        match self.encoder.encode_request(msg, &mut self.out) {
            Ok(()) => {
                if let Some(method) = method {
                    self.decoder.expect_response(&method);
                }
                write_parts(ctx, &mut self.out, promise);
            }
            Err(e) => {
                self.out.take_parts();
                ctx.fail_promise(promise, CodecError::from(e));
            }
        }
    }
}

impl From<HttpClientCodec> for Handler {
    fn from(codec: HttpClientCodec) -> Self {
        Handler::duplex(codec)
    }
}
