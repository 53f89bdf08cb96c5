#![deny(missing_docs)]
#![doc(test(attr(deny(warnings))))]
//! # seine-codec
//!
//! Codecs for seine pipelines: building blocks for custom codecs, Netty-compatible
//! frame decoders and encoders, and protocol codecs.
//!
//! * **Building blocks.** Implement [`Decoder`] and wrap it in a
//!   [`ByteToMessageDecoder`] (bytes in, messages out); implement [`Encoder`] and
//!   wrap it in a [`MessageToByteEncoder`] (messages in, bytes out); or both in one
//!   slot with [`ByteToMessageCodec`]. [`MessageToMessageDecoder`] and
//!   [`MessageToMessageEncoder`] map messages to messages with a [`Convert`] or a
//!   closure. The [`byte_to_message`](ByteToMessageDecoder#events) docs say how
//!   events and errors are handled; the example below is a whole custom codec.
//! * **Frames** ([`frame`]): [`LengthFieldDecoder`] and [`LengthFieldPrepender`],
//!   [`LineDecoder`], [`DelimiterDecoder`], [`FixedLengthDecoder`], with Netty's
//!   parameters and semantics. They fire [`CompositeBuf`](seine_buffer::CompositeBuf)
//!   frames that share memory with the reads: framing copies no payload byte.
//!   Where they differ from Netty, and the options that make them behave as
//!   Netty's: [Differences from Netty](netty).
//! * **PROXY protocol** ([`proxy`]): [`HAProxyMessageDecoder`](proxy::HAProxyMessageDecoder)
//!   gives handlers the client's address behind a load balancer.
//! * **WebSocket** ([`websocket`]): the handshake on the HTTP codec, the frame codec for
//!   servers and clients, permessage-deflate.
//! * **Strings**: [`StringDecoder`] and [`StringEncoder`] (UTF-8).
//!
//! Errors are [`CodecError`]s, fired as `exception_caught`; if no handler takes one,
//! the pipeline's tail closes the channel after flushing what was written.
//!
//! # A custom codec
//!
//! A protocol of `u32` numbers, each as 4 big-endian bytes, decoded and encoded in
//! one pipeline slot:
//!
//! ```
//! use seine_buffer::{Buf, BufMut, Bytes, CompositeBuf};
//! use seine_channel::Handler;
//! use seine_channel::testing::EmbeddedChannel;
//! use seine_codec::{ByteToMessageCodec, CodecError, Decoder, EncodeBuf, Encoder};
//!
//! struct U32Decoder;
//! impl Decoder for U32Decoder {
//!     type Item = u32;
//!     fn decode(&mut self, src: &mut CompositeBuf) -> Result<Option<u32>, CodecError> {
//!         let Some(n) = src.get_u32_at(0) else {
//!             return Ok(None); // wait for more bytes
//!         };
//!         src.advance(4); // consume what was decoded
//!         Ok(Some(n))
//!     }
//! }
//!
//! struct U32Encoder;
//! impl Encoder for U32Encoder {
//!     type Item = u32;
//!     fn encode(&mut self, n: u32, dst: &mut EncodeBuf) -> Result<(), CodecError> {
//!         dst.scratch().put_u32(n);
//!         Ok(())
//!     }
//! }
//!
//! let codec = ByteToMessageCodec::new(U32Decoder, U32Encoder);
//! let mut ch = EmbeddedChannel::with_handlers([("u32", Handler::from(codec))]);
//! ch.write_inbound(Bytes::from_static(&[0, 0, 0, 7, 0, 0])).unwrap();
//! ch.write_inbound(Bytes::from_static(&[1, 0])).unwrap();
//! assert_eq!(ch.read_inbound::<u32>(), Some(7));
//! assert_eq!(ch.read_inbound::<u32>(), Some(256));
//!
//! ch.write_outbound(42u32);
//! assert_eq!(ch.read_outbound_bytes(), [0, 0, 0, 42]);
//! ```

mod byte_to_message;
mod datagram;
mod decoder;
mod encoder;
mod error;
pub mod frame;
pub mod http;
mod message_to_byte;
mod message_to_message;
pub mod netty;
pub mod proxy;
pub mod resp;
mod string;
pub mod websocket;

pub use byte_to_message::{ByteToMessageCodec, ByteToMessageDecoder};
pub use datagram::{DatagramPacketDecoder, DatagramPacketEncoder};
pub use decoder::{AfterError, Decoder};
pub use encoder::{EncodeBuf, Encoder};
pub use error::{CodecError, Corruption, InvalidConfig};
pub use frame::{
    DelimiterDecoder, FixedLengthDecoder, LengthFieldDecoder, LengthFieldDecoderBuilder,
    LengthFieldPrepender, LineDecoder,
};
pub use message_to_byte::MessageToByteEncoder;
pub use message_to_message::{
    Convert, FnConvert, MessageToMessageDecoder, MessageToMessageEncoder,
};
pub use string::{StringDecoder, StringEncoder};
