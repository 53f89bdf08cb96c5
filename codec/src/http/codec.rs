//! [`HttpServerCodec`]: the HTTP/1.1 server codec as one duplex pipeline handler.

use std::collections::VecDeque;

use seine_buffer::{Bytes, Cumulation, CumulationStrategy};
use seine_channel::{
    ChannelHandler, Context, Handler, InboundContext, InboundHandler, OutboundBuf, OutboundContext,
    OutboundHandler, Promise, ShutdownRequested, UserEvent,
};

use super::decoder::HttpRequestDecoder;
use super::encoder::{HttpResponseEncoder, ResponseContext};
use super::error::HttpError;
use super::request::{HttpRequest, Version};
use super::response::HttpResponse;
use crate::encoder::EncodeBuf;
use crate::error::CodecError;
use crate::resp::write_parts;

const CONTINUE: &[u8] = b"HTTP/1.1 100 Continue\r\n\r\n";

/// Private event: close if still idle (after a shutdown request).
struct IdleCheck;

/// An HTTP/1.1 server in one pipeline slot: reads bytes and fires [`HttpRequest`]s,
/// accepts [`HttpResponse`]s and writes them.
///
/// * **Requests** are decoded by an [`HttpRequestDecoder`] (limits, smuggling rules
///   and costs are documented there) from a [`Cumulation`]; pipelined requests are
///   fired one after the other.
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
///   requests).
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
pub struct HttpServerCodec {
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
    pending_error: Option<HttpError>,
    /// A `100 Continue` to send once the responses owed before it are written.
    continue_wanted: bool,
    /// The server is shutting down: the last response owed closes the connection.
    draining: bool,
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

    /// Builds the codec.
    ///
    /// # Errors
    ///
    /// None today; the `Result` keeps one convention across the codecs' builders.
    pub fn build(self) -> Result<HttpServerCodec, CodecError> {
        Ok(HttpServerCodec::from_parts(
            self.decoder.unwrap_or_default(),
            self.encoder.unwrap_or_default(),
            self.cumulation,
        ))
    }
}

impl Default for HttpServerCodec {
    fn default() -> Self {
        Self::new()
    }
}

impl HttpServerCodec {
    /// A codec with the default decoder limits (64 KiB head, 100 fields, 8 MiB body)
    /// and the adaptive cumulation.
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

    /// Decodes and fires every complete request; `eof` at the end of input.
    fn decode_all(&mut self, ctx: &mut InboundContext<'_, HttpRequest>, eof: bool) {
        while self.reading {
            let buf = self.cumulation.buf();
            let result = if eof {
                self.decoder.decode_request_eof(buf)
            } else {
                self.decoder.decode_request(buf)
            };
            match result {
                Ok(Some(req)) => {
                    let rc = ResponseContext::of(&req);
                    self.pending.push_back(rc);
                    self.continue_wanted = false;
                    if !rc.keep_alive {
                        // Nothing after this request is answered.
                        self.stop_reading();
                    }
                    ctx.fire_read(req);
                    if ctx.is_removed() {
                        // Replaced during the request (a protocol upgrade): the
                        // bytes after it belong to the successor.
                        return;
                    }
                }
                Ok(None) => {
                    if self.decoder.take_continue() {
                        if self.pending.is_empty() {
                            send_continue(ctx);
                        } else {
                            self.continue_wanted = true;
                        }
                    }
                    return;
                }
                Err(e) => {
                    self.stop_reading();
                    if self.pending.is_empty() {
                        self.answer_error(ctx, e);
                    } else {
                        self.pending_error = Some(e);
                    }
                }
            }
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

    /// Answers a bad request with its status, closes after the flush, reports it.
    fn answer_error(&mut self, ctx: &mut Context<'_>, error: HttpError) {
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
        ctx.close();
        ctx.fire_exception(error);
    }
}

fn send_continue(ctx: &mut Context<'_>) {
    ctx.write_void(OutboundBuf::Bytes(Bytes::from_static(CONTINUE)));
}

impl ChannelHandler for HttpServerCodec {
    /// Passes the bytes received but not decoded on to the next handler (one
    /// `Bytes` per segment, not copied).
    fn handler_removed(&mut self, ctx: &mut Context<'_>) {
        for seg in self.cumulation.take_all().into_segments() {
            ctx.fire_message(seg);
        }
    }
}

impl InboundHandler for HttpServerCodec {
    type Read = Bytes;
    type Fire = HttpRequest;

    fn channel_read(&mut self, ctx: &mut InboundContext<'_, HttpRequest>, msg: Bytes) {
        if !self.reading {
            return;
        }
        self.cumulation.push(msg);
        self.decode_all(ctx, false);
        // A partial request left: copy it out of the read if small.
        self.cumulation.settle();
    }

    fn input_closed(&mut self, ctx: &mut InboundContext<'_, HttpRequest>) {
        self.decode_all(ctx, true);
        ctx.fire_input_closed();
    }

    fn user_event(&mut self, ctx: &mut InboundContext<'_, HttpRequest>, event: UserEvent) {
        if event.is::<IdleCheck>() {
            if self.pending.is_empty() && self.cumulation.is_empty() && !self.closing {
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

impl OutboundHandler for HttpServerCodec {
    type Write = HttpResponse;
    type Emit = OutboundBuf;

    fn write(
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
        // Draining: the last response owed (with no partial request behind it)
        // ends the connection.
        let resp = if self.draining
            && !interim
            && self.pending.is_empty()
            && self.cumulation.is_empty()
            && self.pending_error.is_none()
        {
            resp.close()
        } else {
            resp
        };
        match self.encoder.encode_response(resp, &rc, &mut self.out) {
            Ok(close) => {
                write_parts(ctx, &mut self.out, promise);
                if close {
                    self.closing = true;
                    self.stop_reading();
                    ctx.close();
                    return;
                }
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
                self.closing = true;
                self.stop_reading();
                ctx.close();
                return;
            }
        }
        if !interim && self.pending.is_empty() {
            if let Some(error) = self.pending_error.take() {
                self.answer_error(ctx, error);
            } else if std::mem::take(&mut self.continue_wanted) {
                send_continue(ctx);
            }
        }
    }
}

impl From<HttpServerCodec> for Handler {
    fn from(codec: HttpServerCodec) -> Self {
        Handler::duplex(codec)
    }
}
