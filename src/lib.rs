//! # seine
//!
//! A Netty-style buffer and networking framework for Rust: protocol servers and
//! clients are written as a pipeline of typed channel handlers, codecs plug into
//! that pipeline, and large files leave through `sendfile(2)` as `FileRegion`s.
//!
//! This facade re-exports the workspace crates:
//!
//! * [`buffer`]: `Bytes`, `CompositeBuf`, `FileRegion`, cumulation (user-level zero-copy);
//! * [`channel`]: handler traits, the pipeline, the outbound buffer, `EmbeddedChannel`;
//! * [`codec`]: frame decoders and encoders, building blocks for custom codecs;
//! * [`transport`]: event loops, bootstraps, TCP and Unix sockets, sendfile and splice.
#![deny(missing_docs)]

#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;

pub use seine_buffer as buffer;
pub use seine_channel as channel;
pub use seine_codec as codec;
pub use seine_transport as transport;
/// TLS in the pipeline (rustls): `TlsHandler`, configurations, kTLS detection.
#[cfg(feature = "tls")]
pub use seine_tls as tls;

/// The names most programs need, in one `use seine::prelude::*;`.
pub mod prelude {
    pub use seine_buffer::{Buf, BufMut, Bytes, BytesMut, CompositeBuf, FileRegion};
    pub use seine_channel::prelude::*;
    pub use seine_codec::{
        ByteToMessageDecoder, CodecError, Decoder, EncodeBuf, Encoder, MessageToByteEncoder,
    };
    pub use seine_transport::{Bootstrap, EventLoopGroup, ServerBootstrap};
}
