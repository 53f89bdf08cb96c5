//! Per-datagram codec adapters (Netty's `DatagramPacketDecoder` and
//! `DatagramPacketEncoder`): any byte [`Decoder`] or [`Encoder`] applied to each
//! datagram's content, the addresses kept.
//!
//! A datagram is a whole message: nothing accumulates between datagrams. Bytes
//! a decoder leaves over are offered to [`Decoder::decode_eof`] (which reports a
//! truncated frame) and then discarded with the datagram.
//!
//! ```
//! use seine_buffer::{Bytes, CompositeBuf};
//! use seine_channel::testing::EmbeddedChannel;
//! use seine_channel::{DatagramPacket, OutboundBuf};
//! use seine_codec::{
//!     CodecError, DatagramPacketDecoder, DatagramPacketEncoder, EncodeBuf, Encoder, LineDecoder,
//! };
//!
//! /// Writes a line: the text and a newline.
//! struct Line;
//! impl Encoder for Line {
//!     type Item = String;
//!     fn encode(&mut self, s: String, dst: &mut EncodeBuf) -> Result<(), CodecError> {
//!         dst.put_slice(s.as_bytes());
//!         dst.put_slice(b"\n");
//!         Ok(())
//!     }
//! }
//!
//! let mut ch = EmbeddedChannel::with_handlers([
//!     ("decoder", DatagramPacketDecoder::new(LineDecoder::builder().max_frame_length(64).build()?).into()),
//!     ("encoder", DatagramPacketEncoder::new(Line).into()),
//! ]);
//! let from = "127.0.0.1:5000".parse().unwrap();
//! // Two lines in one datagram: two messages, each with the sender.
//! ch.write_inbound(DatagramPacket {
//!     content: Bytes::from_static(b"one\ntwo\n"),
//!     sender: Some(from),
//!     recipient: None,
//! })
//! .unwrap();
//! let one: DatagramPacket<CompositeBuf> = ch.read_inbound().unwrap();
//! assert_eq!((one.content.to_vec(), one.sender), (b"one".to_vec(), Some(from)));
//! assert!(ch.read_inbound::<DatagramPacket<CompositeBuf>>().is_some());
//!
//! ch.write_outbound(DatagramPacket::new(String::from("hi"), from));
//! let out: DatagramPacket<OutboundBuf> = ch.read_outbound().unwrap();
//! assert_eq!((out.content.len(), out.recipient), (3, Some(from)));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use seine_buffer::CompositeBuf;
use seine_channel::{
    ChannelHandler, DatagramPacket, Handler, InboundContext, InboundHandler, OutboundBuf,
    OutboundContext, OutboundHandler, Promise,
};

use crate::decoder::Decoder;
use crate::encoder::{EncodeBuf, Encoder};
use crate::error::CodecError;

/// Decodes each datagram's content with `D`, firing one
/// `DatagramPacket<D::Item>` per message (same sender and recipient). A decode
/// error fires `exception_caught` and drops the rest of that datagram; the next
/// datagram starts afresh.
pub struct DatagramPacketDecoder<D: Decoder> {
    decoder: D,
}

impl<D: Decoder> DatagramPacketDecoder<D> {
    /// Wraps `decoder`.
    pub fn new(decoder: D) -> Self {
        DatagramPacketDecoder { decoder }
    }

    /// The wrapped decoder.
    pub fn decoder_mut(&mut self) -> &mut D {
        &mut self.decoder
    }
}

impl<D: Decoder> ChannelHandler for DatagramPacketDecoder<D> {}

impl<D: Decoder> InboundHandler for DatagramPacketDecoder<D> {
    type Read = DatagramPacket;
    type Fire = DatagramPacket<D::Item>;

    fn channel_read(
        &mut self,
        ctx: &mut InboundContext<'_, DatagramPacket<D::Item>>,
        msg: DatagramPacket,
    ) {
        let (sender, recipient) = (msg.sender, msg.recipient);
        // O(1): the datagram's bytes become the composite's one segment, no copy.
        let mut buf = CompositeBuf::from(msg.content);
        let wrap = |content| DatagramPacket {
            content,
            sender,
            recipient,
        };
        while !buf.is_empty() {
            let before = buf.len();
            match self.decoder.decode(&mut buf) {
                Ok(Some(item)) => {
                    if buf.len() == before {
                        ctx.fire_exception(CodecError::DecoderMadeNoProgress {
                            decoder: std::any::type_name::<D>(),
                        });
                        return;
                    }
                    ctx.fire_read(wrap(item));
                }
                Ok(None) => {
                    // Whatever is left is all this datagram will ever have.
                    match self.decoder.decode_eof(&mut buf) {
                        Ok(Some(item)) => ctx.fire_read(wrap(item)),
                        Ok(None) => {}
                        Err(e) => ctx.fire_exception(e),
                    }
                    return;
                }
                Err(e) => {
                    ctx.fire_exception(e);
                    return;
                }
            }
        }
    }
}

impl<D: Decoder> From<DatagramPacketDecoder<D>> for Handler {
    fn from(d: DatagramPacketDecoder<D>) -> Self {
        Handler::inbound(d)
    }
}

/// Encodes each `DatagramPacket<E::Item>`'s content with `E` into one datagram
/// (its parts gathered, not copied) for the same recipient. An encode error
/// fails that write's completion.
pub struct DatagramPacketEncoder<E: Encoder> {
    encoder: E,
    buf: EncodeBuf,
}

impl<E: Encoder> DatagramPacketEncoder<E> {
    /// Wraps `encoder`.
    pub fn new(encoder: E) -> Self {
        DatagramPacketEncoder {
            encoder,
            buf: EncodeBuf::new(),
        }
    }

    /// The wrapped encoder.
    pub fn encoder_mut(&mut self) -> &mut E {
        &mut self.encoder
    }
}

impl<E: Encoder> ChannelHandler for DatagramPacketEncoder<E> {}

impl<E: Encoder> OutboundHandler for DatagramPacketEncoder<E> {
    type Write = DatagramPacket<E::Item>;
    type Emit = DatagramPacket<OutboundBuf>;

    fn write(
        &mut self,
        ctx: &mut OutboundContext<'_, DatagramPacket<OutboundBuf>>,
        msg: DatagramPacket<E::Item>,
        promise: Promise,
    ) {
        let (sender, recipient) = (msg.sender, msg.recipient);
        if let Err(e) = self.encoder.encode(msg.content, &mut self.buf) {
            drop(self.buf.take_parts());
            ctx.fail_promise(promise, e);
            return;
        }
        let mut parts = self.buf.take_parts();
        let content = match parts.len() {
            0 => OutboundBuf::Bytes(Default::default()),
            1 => parts.pop().expect("one part"),
            _ => {
                let mut c = CompositeBuf::new();
                for p in parts {
                    match p {
                        OutboundBuf::Bytes(b) => c.push(b),
                        OutboundBuf::Composite(k) => c.extend(k.segments().cloned()),
                        OutboundBuf::File(_) => {
                            ctx.fail_promise(
                                promise,
                                CodecError::Encode {
                                    reason: "a file region cannot be part of a datagram".into(),
                                },
                            );
                            return;
                        }
                    }
                }
                OutboundBuf::Composite(c)
            }
        };
        if content.is_file() {
            ctx.fail_promise(
                promise,
                CodecError::Encode {
                    reason: "a file region cannot be part of a datagram".into(),
                },
            );
            return;
        }
        ctx.write(
            DatagramPacket {
                content,
                sender,
                recipient,
            },
            promise,
        );
    }
}

impl<E: Encoder> From<DatagramPacketEncoder<E>> for Handler {
    fn from(e: DatagramPacketEncoder<E>) -> Self {
        Handler::outbound(e)
    }
}
