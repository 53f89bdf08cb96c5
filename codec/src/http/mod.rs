//! HTTP/1.1 for servers: a request decoder, a response encoder, and both as one
//! duplex pipeline handler, [`HttpServerCodec`], which delivers requests whole or
//! streamed.
//!
//! ```text
//! bytes ─▶ HttpRequestDecoder ─▶ HttpRequest { method, uri, version, headers, body }
//!          (whole, the default)        │ your handler
//!       or ─▶ HttpPart::Head(HttpRequest), HttpPart::Content(HttpContent)…,
//!             HttpPart::Last(LastHttpContent { trailers })   (streaming)
//!                 └─▶ optional HttpObjectAggregator ─▶ HttpRequest
//! bytes ◀─ HttpResponseEncoder ◀─ HttpResponse { status, headers, body: Body }
//!          status line + headers      Body::{Empty, Bytes, Composite, File, Chunked,
//!          copied, body not copied          Stream(BodyStream: a ChunkedInput or a file)}
//! ```
//!
//! * Request heads are parsed with `httparse`; bodies are framed by
//!   `Content-Length` or the chunked coding ([`ChunkedDecoder`]) and never copied.
//!   Every limit is checked before anything is buffered for it, and each refusal is
//!   a typed [`HttpError`] with its status.
//! * **Whole requests** ([`HttpServerCodec::new`]): the body up to
//!   `max_body_length`, in memory.
//! * **Streamed requests** ([`HttpServerCodec::streaming`],
//!   [`HttpServerCodecBuilder::build_streaming`]): [`HttpRequestPart`]s — the head,
//!   the body as it arrives, one last part with the trailers. Each part holds a
//!   [`ReadCredit`] for its bytes: while more than the read window is delivered and
//!   not released, reading pauses (auto-read off), so a body of any size passes
//!   through bounded memory. [`HttpObjectAggregator`] turns parts back into whole
//!   requests, within its own limit. The part types ([`HttpPart`],
//!   [`HttpContent`], [`LastHttpContent`]) are not tied to requests: a response
//!   decoder can deliver `HttpPart<ItsHead>` with them.
//! * **Body limit**: 413 as soon as a `Content-Length` over the limit is read
//!   (instead of `100 Continue`), or when a chunked body passes it; the connection
//!   then closes lingering (output shut down, input drained for a while) so the
//!   client reads the 413, not a reset.
//! * Keep-alive, pipelining, `HEAD`, `Expect: 100-continue` (sent only when the
//!   body is going to be read; 417 for other expectations) and the close after
//!   `Connection: close` are handled by [`HttpServerCodec`].
//! * **Streamed responses**: [`BodyStream`] sends a body from any
//!   [`ChunkedInput`](seine_channel::ChunkedInput) (pulled only while the channel is
//!   writable) or a [`FileRegion`](seine_buffer::FileRegion) (by `sendfile`), with
//!   a `Content-Length` when its length is known, chunked otherwise or on request.
//! * [`format_http_date`] / [`parse_http_date`] read and write `Date`,
//!   `Last-Modified` and `If-Modified-Since` values.
//!
//! Not supported: transfer codings other than chunked (a request with one is
//! answered 501), chunk extensions (accepted and ignored), trailers in responses
//! (a [`LastHttpContent`]'s trailers are for decoded messages), protocol upgrades,
//! HTTP/2.

mod aggregator;
mod body;
mod chunked;
mod codec;
mod date;
mod decoder;
mod encoder;
mod error;
mod flow;
mod headers;
mod request;
mod response;

pub use aggregator::HttpObjectAggregator;
pub use body::{HttpContent, HttpPart, HttpRequestPart, LastHttpContent};
pub use chunked::ChunkedDecoder;
pub use codec::{
    DEFAULT_LINGER, DEFAULT_READ_WINDOW, HttpServerCodec, HttpServerCodecBuilder, ServerMessage,
};
pub use date::{format_http_date, parse_http_date};
pub use decoder::{
    DEFAULT_MAX_BODY_LENGTH, DEFAULT_MAX_HEADER_LENGTH, DEFAULT_MAX_HEADERS, HttpRequestDecoder,
    HttpRequestDecoderBuilder,
};
pub use encoder::{HttpResponseEncoder, HttpResponseEncoderBuilder, ResponseContext};
pub use error::HttpError;
pub use flow::ReadCredit;
pub use headers::HttpHeaders;
pub use request::{HttpRequest, Method, Version};
pub use response::{Body, BodyStream, HttpResponse, reason_phrase};
