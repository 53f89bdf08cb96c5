//! The client side of HTTP/1.1: a request encoder, a streaming response decoder,
//! and both as one duplex pipeline handler, [`HttpClientCodec`].
//!
//! ```text
//! HttpClientRequest ─▶ HttpRequestEncoder ─▶ bytes      Full(req) | Head(req), Content.., Last
//!                          │ (each request's method queued for the decoder)
//! HttpResponsePart  ◀─ HttpResponseDecoder ◀─ bytes     Head(HttpResponseHead), Content.., Last
//! ```
//!
//! Connect it with the transport's `Bootstrap` (`seine::transport::Bootstrap`),
//! as `examples/http_get.rs` does.

mod client_codec;
mod error;
mod request_encoder;
mod response_decoder;
mod response_head;

pub use client_codec::{HttpClientCodec, HttpClientCodecBuilder};
pub use error::HttpClientError;
pub use request_encoder::{HttpClientRequest, HttpRequestEncoder};
pub use response_decoder::{HttpResponseDecoder, HttpResponseDecoderBuilder, HttpResponsePart};
pub use response_head::HttpResponseHead;

#[cfg(test)]
mod tests;
