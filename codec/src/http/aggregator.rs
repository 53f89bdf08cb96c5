//! [`HttpObjectAggregator`]: streamed requests back into whole ones, within a
//! size limit.

use seine_buffer::CompositeBuf;
use seine_channel::{ChannelHandler, Handler, InboundContext, InboundHandler};

use super::body::{HttpPart, HttpRequestPart};
use super::decoder::DEFAULT_MAX_BODY_LENGTH;
use super::error::HttpError;
use super::request::HttpRequest;
use super::response::HttpResponse;

/// Turns the [`HttpRequestPart`]s of a streaming
/// [`HttpServerCodec`](super::HttpServerCodec) into whole [`HttpRequest`]s
/// (Netty's `HttpObjectAggregator`), for the handlers that want them.
///
/// * The body is the list of the parts' segments, not copied; each part's read
///   credit is released as it is added, so the limit bounds what a request holds.
/// * A chunked body's trailer fields are appended to the request's headers.
/// * **Limit**: a request whose `Content-Length` is over
///   [`max_content_length`](Self::max_content_length) is answered
///   `413 Content Too Large` with `Connection: close` as soon as its head arrives
///   (so no `100 Continue` is sent for it), a chunked one as soon as its body
///   passes the limit; the rest of its body is dropped, the codec closes the
///   connection lingering after the 413, and an [`HttpError::BodyTooLarge`] is
///   fired as an exception.
///
/// A streaming codec with an aggregator behind it gives what a whole-request
/// codec gives, with one difference to choose from: the codec's own
/// `max_body_length` can stay large for the routes a handler placed between them
/// streams, while the aggregator's limit applies to the rest.
///
/// ```
/// use seine_buffer::Bytes;
/// use seine_channel::prelude::*;
/// use seine_channel::testing::EmbeddedChannel;
/// use seine_codec::http::{HttpObjectAggregator, HttpRequest, HttpRequestDecoder, HttpResponse, HttpServerCodec};
///
/// struct Echo;
/// impl ChannelHandler for Echo {}
/// impl InboundHandler for Echo {
///     type Read = HttpRequest;
///     type Fire = HttpRequest;
///     fn channel_read(&mut self, ctx: &mut InboundContext<'_, HttpRequest>, req: HttpRequest) {
///         ctx.write_void(HttpResponse::ok(req.body));
///     }
/// }
///
/// let mut ch = EmbeddedChannel::with_handlers([
///     ("http", HttpServerCodec::streaming(HttpRequestDecoder::new()).into()),
///     ("aggregate", HttpObjectAggregator::new(1024).into()),
///     ("app", Handler::inbound(Echo)),
/// ]);
/// ch.write_inbound(Bytes::from_static(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhel")).unwrap();
/// ch.write_inbound(Bytes::from_static(b"lo")).unwrap();
/// let out = String::from_utf8(ch.read_outbound_bytes()).unwrap();
/// assert!(out.ends_with("\r\n\r\nhello"));
/// ```
#[derive(Debug)]
pub struct HttpObjectAggregator {
    max: usize,
    state: State,
}

#[derive(Debug)]
enum State {
    /// Between requests.
    Idle,
    /// Collecting the body of this request.
    Collecting(Box<HttpRequest>),
    /// The request was refused: its remaining parts are dropped.
    Discarding,
}

impl Default for HttpObjectAggregator {
    /// A limit of 8 MiB, as the decoder's default.
    fn default() -> Self {
        Self::new(DEFAULT_MAX_BODY_LENGTH)
    }
}

impl HttpObjectAggregator {
    /// An aggregator of bodies up to `max_content_length` bytes.
    pub fn new(max_content_length: usize) -> Self {
        HttpObjectAggregator {
            max: max_content_length,
            state: State::Idle,
        }
    }

    /// The largest body aggregated, in bytes.
    pub fn max_content_length(&self) -> usize {
        self.max
    }

    fn refuse(&mut self, ctx: &mut InboundContext<'_, HttpRequest>, length: u64) {
        self.state = State::Discarding;
        let error = HttpError::BodyTooLarge {
            length,
            max: self.max,
        };
        let status = error.status();
        ctx.write_void(HttpResponse::text(status, format!("{status} {error}\n")).close());
        ctx.flush();
        ctx.fire_exception(error);
    }

    fn add(
        &mut self,
        ctx: &mut InboundContext<'_, HttpRequest>,
        mut data: CompositeBuf,
    ) -> Option<()> {
        let State::Collecting(req) = &mut self.state else {
            return None;
        };
        let total = req.body.len() as u64 + data.len() as u64;
        if total > self.max as u64 {
            self.refuse(ctx, total);
            return None;
        }
        req.body.append(&mut data);
        Some(())
    }
}

impl ChannelHandler for HttpObjectAggregator {}

impl InboundHandler for HttpObjectAggregator {
    type Read = HttpRequestPart;
    type Fire = HttpRequest;

    fn channel_read(&mut self, ctx: &mut InboundContext<'_, HttpRequest>, part: HttpRequestPart) {
        match part {
            HttpPart::Head(req) => {
                let declared = req
                    .header("content-length")
                    .and_then(|v| v.trim().parse::<u64>().ok());
                match declared {
                    Some(n) if n > self.max as u64 => self.refuse(ctx, n),
                    _ => self.state = State::Collecting(Box::new(req)),
                }
            }
            HttpPart::Content(c) => {
                let _ = self.add(ctx, c.into_data());
            }
            HttpPart::Last(last) => {
                let (data, trailers) = last.into_data();
                if self.add(ctx, data).is_none() {
                    // Refused (now or before): the request ends here.
                    self.state = State::Idle;
                    return;
                }
                let State::Collecting(mut req) = std::mem::replace(&mut self.state, State::Idle)
                else {
                    return;
                };
                for (name, value) in trailers.iter() {
                    req.headers.append(name.clone(), value.clone());
                }
                ctx.fire_read(*req);
            }
        }
    }
}

impl From<HttpObjectAggregator> for Handler {
    fn from(a: HttpObjectAggregator) -> Self {
        Handler::inbound(a)
    }
}
