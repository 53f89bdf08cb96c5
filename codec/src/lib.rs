//! # seine-codec
//!
//! Codecs for seine pipelines: building blocks for custom codecs ([`Decoder`],
//! [`Encoder`]), Netty-compatible frame decoders and encoders, and protocol codecs.
#![deny(missing_docs)]

mod decoder;
mod encoder;
mod error;
pub mod resp;

pub use decoder::Decoder;
pub use encoder::{EncodeBuf, Encoder};
pub use error::CodecError;
