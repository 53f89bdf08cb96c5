//! [`FixedLengthDecoder`]: frames of a fixed size (Netty's
//! `FixedLengthFrameDecoder`).

use seine_buffer::CompositeBuf;
use seine_channel::Handler;

use super::NettyOptions;
use crate::byte_to_message::ByteToMessageDecoder;
use crate::decoder::Decoder;
use crate::error::{CodecError, InvalidConfig};

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
/// drops it silently, as this decoder does with
/// [`drop_partial_at_eof`](FixedLengthDecoderBuilder::drop_partial_at_eof)).
///
/// # Examples
///
/// ```
/// use seine_buffer::{Bytes, CompositeBuf};
/// use seine_channel::Handler;
/// use seine_channel::testing::EmbeddedChannel;
/// use seine_codec::FixedLengthDecoder;
///
/// let decoder = FixedLengthDecoder::builder().frame_length(3).build().unwrap();
/// let mut ch = EmbeddedChannel::with_handlers([("f", Handler::from(decoder))]);
/// ch.write_inbound_all([&b"A"[..], b"BC", b"DEFG", b"HI"].map(Bytes::from_static)).unwrap();
/// for want in ["ABC", "DEF", "GHI"] {
///     assert_eq!(ch.read_inbound::<CompositeBuf>().unwrap(), want.as_bytes());
/// }
/// ```
#[derive(Clone, Debug)]
pub struct FixedLengthDecoder {
    frame_length: usize,
    netty: NettyOptions,
}

/// Configures a [`FixedLengthDecoder`]; made by [`FixedLengthDecoder::builder`].
///
/// Defaults: no `frame_length` (set it: 0 is refused), `drop_partial_at_eof`
/// false.
///
/// # Examples
///
/// ```
/// use seine_codec::{CodecError, FixedLengthDecoder, InvalidConfig};
///
/// let decoder = FixedLengthDecoder::builder().frame_length(4).build()?;
/// assert_eq!(decoder.frame_length(), 4);
/// assert_eq!(
///     FixedLengthDecoder::builder().build().unwrap_err(),
///     CodecError::InvalidConfig(InvalidConfig::ZeroFrameLength)
/// );
/// # Ok::<(), CodecError>(())
/// ```
#[derive(Clone, Debug, Default)]
#[must_use = "call build() to get the decoder"]
pub struct FixedLengthDecoderBuilder {
    frame_length: usize,
    netty: NettyOptions,
}

impl FixedLengthDecoderBuilder {
    /// The frame size in bytes. Netty's `frameLength`.
    pub fn frame_length(mut self, length: usize) -> Self {
        self.frame_length = length;
        self
    }

    /// At end of input, drop a partial frame silently (`true`, as Netty does)
    /// instead of reporting it as [`CodecError::TruncatedFrame`] (`false`, the
    /// default).
    pub fn drop_partial_at_eof(mut self, drop: bool) -> Self {
        self.netty.drop_partial_at_eof = drop;
        self
    }

    /// Netty's behaviour: the same as `drop_partial_at_eof(true)` (this decoder
    /// reports no other error, so `stop_at_first_error` has nothing to change).
    pub fn netty_exact(self) -> Self {
        self.drop_partial_at_eof(true)
    }

    /// Builds the decoder. Does not allocate.
    ///
    /// # Errors
    ///
    /// [`CodecError::InvalidConfig`] with [`InvalidConfig::ZeroFrameLength`] if
    /// `frame_length` is 0 (as Netty's constructor).
    pub fn build(self) -> Result<FixedLengthDecoder, CodecError> {
        if self.frame_length == 0 {
            return Err(InvalidConfig::ZeroFrameLength.into());
        }
        Ok(FixedLengthDecoder {
            frame_length: self.frame_length,
            netty: self.netty,
        })
    }
}

impl FixedLengthDecoder {
    /// A builder with the defaults listed on [`FixedLengthDecoderBuilder`].
    pub fn builder() -> FixedLengthDecoderBuilder {
        FixedLengthDecoderBuilder::default()
    }

    /// The frame size.
    pub fn frame_length(&self) -> usize {
        self.frame_length
    }

    /// Whether a partial frame at end of input is dropped silently.
    pub fn drop_partial_at_eof(&self) -> bool {
        self.netty.drop_partial_at_eof
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
        super::truncated(src, self.netty)
    }
}

impl From<FixedLengthDecoder> for Handler {
    fn from(decoder: FixedLengthDecoder) -> Self {
        Handler::from(ByteToMessageDecoder::new(decoder))
    }
}
