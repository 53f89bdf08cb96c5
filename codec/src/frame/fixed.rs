//! [`FixedLengthDecoder`]: frames of a fixed size (Netty's
//! `FixedLengthFrameDecoder`).

use seine_buffer::CompositeBuf;
use seine_channel::Handler;

use crate::byte_to_message::ByteToMessageDecoder;
use crate::decoder::Decoder;
use crate::error::CodecError;

/// Cuts the stream into frames of `frame_length` bytes (Netty's
/// `FixedLengthFrameDecoder`).
///
/// ```text
/// reads:   | A | BC | DEFG | HI |
/// frames:  | ABC | DEF | GHI |        (frame_length = 3)
/// ```
///
/// Fires [`CompositeBuf`] frames sharing memory with the reads (no copy). At end of
/// input, a partial frame left is reported as [`CodecError::TruncatedFrame`] (Netty
/// drops it silently).
///
/// # Examples
///
/// ```
/// use seine_buffer::{Bytes, CompositeBuf};
/// use seine_channel::{EmbeddedChannel, Handler};
/// use seine_codec::FixedLengthDecoder;
///
/// let mut ch = EmbeddedChannel::with_handlers([("f", Handler::from(FixedLengthDecoder::new(3)))]);
/// ch.write_inbound_all([&b"A"[..], b"BC", b"DEFG", b"HI"].map(Bytes::from_static)).unwrap();
/// for want in ["ABC", "DEF", "GHI"] {
///     assert_eq!(ch.read_inbound::<CompositeBuf>().unwrap(), want.as_bytes());
/// }
/// ```
#[derive(Clone, Debug)]
pub struct FixedLengthDecoder {
    frame_length: usize,
}

impl FixedLengthDecoder {
    /// A decoder of `frame_length`-byte frames. Does not allocate.
    ///
    /// # Panics
    ///
    /// If `frame_length` is 0 (as Netty's constructor).
    ///
    /// # Examples
    ///
    /// See [`FixedLengthDecoder`].
    pub fn new(frame_length: usize) -> Self {
        assert!(frame_length > 0, "frame_length must be positive");
        FixedLengthDecoder { frame_length }
    }

    /// The frame size.
    pub fn frame_length(&self) -> usize {
        self.frame_length
    }
}

impl Decoder for FixedLengthDecoder {
    type Item = CompositeBuf;

    fn decode(&mut self, src: &mut CompositeBuf) -> Result<Option<CompositeBuf>, CodecError> {
        Ok(src.try_split_to(self.frame_length))
    }

    /// Decodes complete frames; then reports a partial frame as
    /// [`CodecError::TruncatedFrame`].
    fn decode_eof(&mut self, src: &mut CompositeBuf) -> Result<Option<CompositeBuf>, CodecError> {
        if let Some(frame) = self.decode(src)? {
            return Ok(Some(frame));
        }
        super::truncated(src)
    }
}

impl From<FixedLengthDecoder> for Handler {
    fn from(decoder: FixedLengthDecoder) -> Self {
        Handler::from(ByteToMessageDecoder::new(decoder))
    }
}
