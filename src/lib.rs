#![deny(missing_docs)]
#![doc(test(attr(deny(warnings))))]
//! # seine
//!
//! A Netty-style buffer and networking framework for Rust: protocol servers and
//! clients are written as a pipeline of typed channel handlers, codecs plug into
//! that pipeline, and large files leave through `sendfile(2)` as `FileRegion`s.
//!
//! This facade re-exports the workspace crates:
//!
//! * [`buffer`]: `Bytes`, `CompositeBuf`, `FileRegion`, cumulation (user-level zero-copy);
//! * [`channel`]: handler traits, the pipeline, the outbound buffer;
//! * [`codec`]: frame decoders and encoders, building blocks for custom codecs;
//! * [`transport`]: event loops, bootstraps, TCP and Unix sockets, sendfile and splice;
//! * [`handler`]: timeouts, idle detection, flow control, flush consolidation, chunked
//!   writes, traffic shaping, logging.
//!
//! [`prelude`] holds what a server author uses; [`testing`] the test tools.

#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;

pub use seine_buffer as buffer;
pub use seine_channel as channel;
pub use seine_codec as codec;
pub use seine_handler as handler;
/// TLS in the pipeline (rustls): `TlsHandler`, configurations, kTLS detection.
#[cfg(feature = "tls")]
pub use seine_tls as tls;
pub use seine_transport as transport;

/// What a server author uses, in one `use seine::prelude::*;`: buffers, the
/// handler traits and contexts, the frame codecs and the building blocks for
/// custom ones, and the bootstraps. Test tools are in [`testing`]; protocol
/// codecs in [`codec::http`], [`codec::websocket`] and [`codec::resp`].
///
/// # Examples
///
/// ```
/// use seine::prelude::*;
///
/// fn serve(addr: &str) -> Result<Server, Box<dyn std::error::Error>> {
///     let group = EventLoopGroup::new(1)?;
///     let lines = LineDecoder::builder().max_frame_length(1024).build()?;
///     let server = ServerBootstrap::new()
///         .group(&group)
///         .child_handler(move |pipeline| {
///             pipeline.add_last("lines", lines.clone().into())?;
///             Ok(())
///         })
///         .bind(addr)?;
///     Ok(server)
/// }
/// # let _ = serve;
/// ```
pub mod prelude {
    pub use seine_buffer::{Buf, BufMut, Bytes, BytesMut, CompositeBuf, FileRegion};
    pub use seine_channel::prelude::*;
    pub use seine_codec::{
        ByteToMessageCodec, ByteToMessageDecoder, CodecError, Decoder, DelimiterDecoder, EncodeBuf,
        Encoder, FixedLengthDecoder, LengthFieldDecoder, LengthFieldPrepender, LineDecoder,
        MessageToByteEncoder, StringDecoder, StringEncoder,
    };
    pub use seine_transport::{
        Bootstrap, ChannelOptions, EventLoopGroup, Server, ServerBootstrap, ServerOptions,
        TransportError,
    };
}

/// Test tools: [`EmbeddedChannel`](testing::EmbeddedChannel) drives a pipeline
/// without a socket, with a virtual clock.
pub mod testing {
    pub use seine_channel::testing::EmbeddedChannel;
}
