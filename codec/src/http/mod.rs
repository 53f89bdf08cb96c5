//! HTTP/1.1 for servers: a request decoder, a response encoder, and both as one
//! duplex pipeline handler, [`HttpServerCodec`].
//!
//! ```text
//! bytes ─▶ HttpRequestDecoder ─▶ HttpRequest { method, uri, version, headers, body }
//!                                      │ your handler
//! bytes ◀─ HttpResponseEncoder ◀─ HttpResponse { status, headers, body: Body }
//!          status line + headers      Body::{Empty, Bytes, Composite, File, Chunked}
//!          copied, body not copied    (File goes by sendfile)
//! ```
//!
//! * Request heads are parsed with `httparse`; bodies are framed by
//!   `Content-Length` or the chunked coding and delivered whole (up to
//!   `max_body_length`), never copied. Every limit is checked before anything is
//!   buffered for it, and each refusal is a typed [`HttpError`] with its status.
//! * Keep-alive, pipelining, `HEAD`, `Expect: 100-continue` and the close after
//!   `Connection: close` are handled by [`HttpServerCodec`].
//! * [`format_http_date`] / [`parse_http_date`] read and write `Date`,
//!   `Last-Modified` and `If-Modified-Since` values.
//!
//! Not supported: request or response streaming of unknown length beyond
//! [`Body::Chunked`] (whose chunks are all known when the response is written),
//! transfer codings other than chunked, protocol upgrades, HTTP/2.

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
pub use response::{Body, HttpResponse, reason_phrase};
