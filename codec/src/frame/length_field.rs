//! [`LengthFieldDecoder`]: frames announced by a length field in their header
//! (Netty's `LengthFieldBasedFrameDecoder`, same parameters, same semantics).
//!
//! The decoder reads an unsigned integer of `length_field_length` bytes (1, 2, 3, 4
//! or 8) at `length_field_offset`, adds `length_adjustment` and the end of the field
//! (`length_field_offset + length_field_length`) to it: that is the frame length,
//! header included. It then skips `initial_bytes_to_strip` bytes and fires the rest
//! of the frame. In short:
//!
//! ```text
//! frame_length = length_field_value + length_adjustment + length_field_offset + length_field_length
//! emitted      = frame[initial_bytes_to_strip .. frame_length]
//! ```
//!
//! The examples below are all those of Netty's `LengthFieldBasedFrameDecoder`
//! documentation, with the same bytes (`"HELLO, WORLD"` is 12 bytes, `0x000C`).
//!
//! # 2-byte length field at offset 0, header kept
//!
//! `length_field_offset = 0`, `length_field_length = 2`, `length_adjustment = 0`,
//! `initial_bytes_to_strip = 0`: the length field counts the content only.
//!
//! ```text
//! BEFORE DECODE (14 bytes)         AFTER DECODE (14 bytes)
//! +--------+----------------+      +--------+----------------+
//! | Length | Actual Content |----->| Length | Actual Content |
//! | 0x000C | "HELLO, WORLD" |      | 0x000C | "HELLO, WORLD" |
//! +--------+----------------+      +--------+----------------+
//! ```
//!
//! # 2-byte length field at offset 0, header stripped
//!
//! `initial_bytes_to_strip = 2` (the length field's size) drops the header:
//!
//! ```text
//! BEFORE DECODE (14 bytes)         AFTER DECODE (12 bytes)
//! +--------+----------------+      +----------------+
//! | Length | Actual Content |----->| Actual Content |
//! | 0x000C | "HELLO, WORLD" |      | "HELLO, WORLD" |
//! +--------+----------------+      +----------------+
//! ```
//!
//! # The length counts the whole frame
//!
//! When the field counts the header too (here 14 = 2 + 12), subtract the field's
//! size with `length_adjustment = -2`:
//!
//! ```text
//! BEFORE DECODE (14 bytes)         AFTER DECODE (14 bytes)
//! +--------+----------------+      +--------+----------------+
//! | Length | Actual Content |----->| Length | Actual Content |
//! | 0x000E | "HELLO, WORLD" |      | 0x000E | "HELLO, WORLD" |
//! +--------+----------------+      +--------+----------------+
//! ```
//!
//! # 3-byte length field after a 2-byte header
//!
//! `length_field_offset = 2`, `length_field_length = 3`: the bytes before the field
//! belong to the frame.
//!
//! ```text
//! BEFORE DECODE (17 bytes)                      AFTER DECODE (17 bytes)
//! +----------+----------+----------------+      +----------+----------+----------------+
//! | Header 1 |  Length  | Actual Content |----->| Header 1 |  Length  | Actual Content |
//! |  0xCAFE  | 0x00000C | "HELLO, WORLD" |      |  0xCAFE  | 0x00000C | "HELLO, WORLD" |
//! +----------+----------+----------------+      +----------+----------+----------------+
//! ```
//!
//! # 3-byte length field, then a 2-byte header
//!
//! `length_field_length = 3`, `length_adjustment = 2`: the header between the field
//! and the content is not counted by the field, so add its size.
//!
//! ```text
//! BEFORE DECODE (17 bytes)                      AFTER DECODE (17 bytes)
//! +----------+----------+----------------+      +----------+----------+----------------+
//! |  Length  | Header 1 | Actual Content |----->|  Length  | Header 1 | Actual Content |
//! | 0x00000C |  0xCAFE  | "HELLO, WORLD" |      | 0x00000C |  0xCAFE  | "HELLO, WORLD" |
//! +----------+----------+----------------+      +----------+----------+----------------+
//! ```
//!
//! # 2-byte length between two 1-byte headers, first header and length stripped
//!
//! `length_field_offset = 1`, `length_field_length = 2`, `length_adjustment = 1`
//! (HDR2 is not counted), `initial_bytes_to_strip = 3` (HDR1 and the length):
//!
//! ```text
//! BEFORE DECODE (16 bytes)                       AFTER DECODE (13 bytes)
//! +------+--------+------+----------------+      +------+----------------+
//! | HDR1 | Length | HDR2 | Actual Content |----->| HDR2 | Actual Content |
//! | 0xCA | 0x000C | 0xFE | "HELLO, WORLD" |      | 0xFE | "HELLO, WORLD" |
//! +------+--------+------+----------------+      +------+----------------+
//! ```
//!
//! # The same, with the length counting the whole message
//!
//! Here the field holds 16, the whole message; `length_adjustment = -3` takes off
//! HDR1 and the length field:
//!
//! ```text
//! BEFORE DECODE (16 bytes)                       AFTER DECODE (13 bytes)
//! +------+--------+------+----------------+      +------+----------------+
//! | HDR1 | Length | HDR2 | Actual Content |----->| HDR2 | Actual Content |
//! | 0xCA | 0x0010 | 0xFE | "HELLO, WORLD" |      | 0xFE | "HELLO, WORLD" |
//! +------+--------+------+----------------+      +------+----------------+
//! ```
//!
//! # Byte order and field sizes
//!
//! The field is big-endian by default; [`LengthFieldDecoderBuilder::little_endian`]
//! reads it least significant byte first. Sizes 1, 2, 3, 4 and 8 are supported; an
//! 8-byte field is read as a signed number, as in Netty (a value of 2⁶³ or more is
//! a negative length, hence corrupt).
//!
//! ```text
//! length_field_length = 4, big-endian       length_field_length = 4, little-endian
//! +-------------+---------+                 +-------------+---------+
//! | 00 00 00 03 | "abc"   |                 | 03 00 00 00 | "abc"   |
//! +-------------+---------+                 +-------------+---------+
//! ```
//!
//! # Too-long frames and `fail_fast`
//!
//! A frame whose `frame_length` exceeds `max_frame_length` is never buffered: its
//! bytes are skipped as they arrive (also those of later reads) and it is reported
//! once as [`CodecError::TooLongFrame`], as soon as its header is read with
//! `fail_fast = true` (the default, as in Netty), or once all of it was skipped with
//! `fail_fast = false`. Decoding goes on with the next frame if the channel stays
//! open (a handler took the error).
//!
//! ```text
//! max_frame_length = 8          reads: | 00 0A 'a' 'b' | 'c'..'j' 00 01 'z' |
//!   fail_fast = true:   TooLongFrame at the first read, then frame "\x00\x01z"
//!   fail_fast = false:  TooLongFrame at the second read, then frame "\x00\x01z"
//! ```
//!
//! # Corrupt frames
//!
//! A negative length field (8 bytes), a computed frame length that overflows or is
//! smaller than the end of the length field, and a frame shorter than
//! `initial_bytes_to_strip` are [`CodecError::CorruptFrame`]. The decoder then
//! resets and decodes the next frame from scratch. Netty, after a frame shorter
//! than `initial_bytes_to_strip`, keeps the cached frame length and fails every
//! later frame; seine does not.

use seine_buffer::{Buf, ByteOrder, CompositeBuf};
use seine_channel::Handler;

use super::{NettyOptions, skip};
use crate::byte_to_message::ByteToMessageDecoder;
use crate::decoder::{AfterError, Decoder};
use crate::error::{CodecError, Corruption, InvalidConfig};

use super::DEFAULT_MAX_FRAME_LENGTH;

/// Decodes frames announced by a length field in their header (Netty's
/// `LengthFieldBasedFrameDecoder`); the [module documentation](crate::frame::length_field) draws each
/// option.
///
/// Fires [`CompositeBuf`] frames sharing memory with the reads (no payload byte is
/// copied, whatever the frame size); the header is read in place (O(1) when it lies
/// in one segment). A frame is held until all of it arrived; nothing is allocated
/// for its announced length.
///
/// # Examples
///
/// ```
/// use seine_buffer::{Bytes, CompositeBuf};
/// use seine_channel::Handler;
/// use seine_channel::testing::EmbeddedChannel;
/// use seine_codec::LengthFieldDecoder;
///
/// // 2-byte length, then the content; strip the length.
/// let decoder = LengthFieldDecoder::builder()
///     .max_frame_length(1024)
///     .length_field_length(2)
///     .initial_bytes_to_strip(2)
///     .build()
///     .unwrap();
/// let mut ch = EmbeddedChannel::with_handlers([("frames", Handler::from(decoder))]);
/// ch.write_inbound(Bytes::from_static(b"\x00\x05hel")).unwrap();
/// ch.write_inbound(Bytes::from_static(b"lo\x00\x01!")).unwrap();
/// assert_eq!(ch.read_inbound::<CompositeBuf>().unwrap(), b"hello"[..]);
/// assert_eq!(ch.read_inbound::<CompositeBuf>().unwrap(), b"!"[..]);
/// ```
#[derive(Clone, Debug)]
pub struct LengthFieldDecoder {
    max_frame_length: usize,
    length_field_offset: usize,
    length_field_length: usize,
    length_adjustment: i64,
    initial_bytes_to_strip: usize,
    byte_order: ByteOrder,
    fail_fast: bool,
    netty: NettyOptions,
    /// `length_field_offset + length_field_length`.
    end_offset: usize,
    /// The length of the frame at the front, once its header was read.
    frame_length: Option<usize>,
    /// Bytes of a too-long frame still to skip (skipping while `> 0`).
    bytes_to_discard: u64,
    /// The length of the too-long frame being skipped.
    too_long_frame_length: u64,
}

/// Configures a [`LengthFieldDecoder`]; made by [`LengthFieldDecoder::builder`].
///
/// Defaults: `max_frame_length` 8 MiB, `length_field_offset` 0,
/// `length_field_length` 4, `length_adjustment` 0, `initial_bytes_to_strip` 0,
/// big-endian, `fail_fast` true, `drop_partial_at_eof` false,
/// `stop_at_first_error` false ([`netty_exact`](Self::netty_exact) turns both on).
///
/// # Examples
///
/// ```
/// use seine_codec::LengthFieldDecoder;
///
/// let decoder = LengthFieldDecoder::builder()
///     .max_frame_length(64 * 1024)
///     .length_field_offset(1)
///     .length_field_length(2)
///     .length_adjustment(1)
///     .initial_bytes_to_strip(3)
///     .little_endian()
///     .fail_fast(false)
///     .build()
///     .unwrap();
/// assert_eq!(decoder.max_frame_length(), 64 * 1024);
/// ```
#[derive(Clone, Debug)]
#[must_use = "call build() to get the decoder"]
pub struct LengthFieldDecoderBuilder {
    max_frame_length: usize,
    length_field_offset: usize,
    length_field_length: usize,
    length_adjustment: i64,
    initial_bytes_to_strip: usize,
    byte_order: ByteOrder,
    fail_fast: bool,
    netty: NettyOptions,
}

impl Default for LengthFieldDecoderBuilder {
    fn default() -> Self {
        LengthFieldDecoderBuilder {
            max_frame_length: DEFAULT_MAX_FRAME_LENGTH,
            length_field_offset: 0,
            length_field_length: 4,
            length_adjustment: 0,
            initial_bytes_to_strip: 0,
            byte_order: ByteOrder::BigEndian,
            fail_fast: true,
            netty: NettyOptions::default(),
        }
    }
}

impl LengthFieldDecoderBuilder {
    /// The largest frame accepted, header included (`frame_length` above); longer
    /// frames are skipped and reported. Netty's `maxFrameLength`.
    pub fn max_frame_length(mut self, max: usize) -> Self {
        self.max_frame_length = max;
        self
    }

    /// Where the length field starts in the frame. Netty's `lengthFieldOffset`.
    pub fn length_field_offset(mut self, offset: usize) -> Self {
        self.length_field_offset = offset;
        self
    }

    /// The length field's size in bytes: 1, 2, 3, 4 or 8 (checked by
    /// [`build`](Self::build)). Netty's `lengthFieldLength`.
    pub fn length_field_length(mut self, length: usize) -> Self {
        self.length_field_length = length;
        self
    }

    /// Added to the field's value to get the length of what follows the field
    /// (negative when the field counts the header). Netty's `lengthAdjustment`.
    pub fn length_adjustment(mut self, adjustment: i64) -> Self {
        self.length_adjustment = adjustment;
        self
    }

    /// How many bytes to drop from the front of each frame before firing it.
    /// Netty's `initialBytesToStrip`.
    pub fn initial_bytes_to_strip(mut self, strip: usize) -> Self {
        self.initial_bytes_to_strip = strip;
        self
    }

    /// The length field's byte order (big-endian by default). Netty's `byteOrder`.
    pub fn byte_order(mut self, order: ByteOrder) -> Self {
        self.byte_order = order;
        self
    }

    /// Reads the length field big-endian (the default).
    pub fn big_endian(self) -> Self {
        self.byte_order(ByteOrder::BigEndian)
    }

    /// Reads the length field little-endian.
    pub fn little_endian(self) -> Self {
        self.byte_order(ByteOrder::LittleEndian)
    }

    /// Report a too-long frame as soon as its header is read (`true`, the default)
    /// or once all of it was skipped (`false`). Netty's `failFast`.
    pub fn fail_fast(mut self, fail_fast: bool) -> Self {
        self.fail_fast = fail_fast;
        self
    }

    /// At end of input, drop a partial frame silently (`true`, as Netty does)
    /// instead of reporting it as [`CodecError::TruncatedFrame`] (`false`, the
    /// default). A too-long frame cut short by the end of input is then not
    /// reported either.
    pub fn drop_partial_at_eof(mut self, drop: bool) -> Self {
        self.netty.drop_partial_at_eof = drop;
        self
    }

    /// After an error, stop decoding for this read and keep the bytes after the
    /// bad frame for the next read (`true`, as Netty does), instead of decoding on
    /// in the same read, or, after a corrupt frame, discarding everything
    /// accumulated (`false`, the default). See
    /// [`AfterError`].
    pub fn stop_at_first_error(mut self, stop: bool) -> Self {
        self.netty.stop_at_first_error = stop;
        self
    }

    /// Turns on every option that makes the decoder behave as Netty's
    /// (`drop_partial_at_eof` and `stop_at_first_error`); the
    /// [differences page](crate::netty) lists what remains.
    pub fn netty_exact(self) -> Self {
        self.drop_partial_at_eof(true).stop_at_first_error(true)
    }

    /// Builds the decoder. O(1), does not allocate.
    ///
    /// # Errors
    ///
    /// [`CodecError::InvalidConfig`] for what Netty's constructor refuses (with
    /// `IllegalArgumentException`): a `length_field_length` other than 1, 2, 3, 4
    /// or 8 ([`InvalidConfig::LengthFieldLength`]), a `max_frame_length` of 0
    /// ([`InvalidConfig::ZeroMaxFrameLength`]), or a length field that does not fit
    /// in `max_frame_length`
    /// ([`InvalidConfig::LengthFieldBeyondMaxFrameLength`]).
    pub fn build(self) -> Result<LengthFieldDecoder, CodecError> {
        if !matches!(self.length_field_length, 1 | 2 | 3 | 4 | 8) {
            return Err(InvalidConfig::LengthFieldLength {
                length: self.length_field_length,
            }
            .into());
        }
        if self.max_frame_length == 0 {
            return Err(InvalidConfig::ZeroMaxFrameLength.into());
        }
        let end_offset = self
            .length_field_offset
            .checked_add(self.length_field_length)
            .filter(|&end| end <= self.max_frame_length)
            .ok_or(InvalidConfig::LengthFieldBeyondMaxFrameLength {
                offset: self.length_field_offset,
                length: self.length_field_length,
                max: self.max_frame_length,
            })?;
        Ok(LengthFieldDecoder {
            max_frame_length: self.max_frame_length,
            length_field_offset: self.length_field_offset,
            length_field_length: self.length_field_length,
            length_adjustment: self.length_adjustment,
            initial_bytes_to_strip: self.initial_bytes_to_strip,
            byte_order: self.byte_order,
            fail_fast: self.fail_fast,
            netty: self.netty,
            end_offset,
            frame_length: None,
            bytes_to_discard: 0,
            too_long_frame_length: 0,
        })
    }
}

impl LengthFieldDecoder {
    /// A builder with the defaults listed on [`LengthFieldDecoderBuilder`].
    ///
    /// # Examples
    ///
    /// ```
    /// let decoder = seine_codec::LengthFieldDecoder::builder()
    ///     .length_field_length(2)
    ///     .build()
    ///     .unwrap();
    /// assert_eq!(decoder.length_field_length(), 2);
    /// ```
    pub fn builder() -> LengthFieldDecoderBuilder {
        LengthFieldDecoderBuilder::default()
    }

    /// The largest frame accepted, header included.
    pub fn max_frame_length(&self) -> usize {
        self.max_frame_length
    }

    /// Where the length field starts.
    pub fn length_field_offset(&self) -> usize {
        self.length_field_offset
    }

    /// The length field's size in bytes.
    pub fn length_field_length(&self) -> usize {
        self.length_field_length
    }

    /// What is added to the field's value.
    pub fn length_adjustment(&self) -> i64 {
        self.length_adjustment
    }

    /// Bytes dropped from the front of each frame.
    pub fn initial_bytes_to_strip(&self) -> usize {
        self.initial_bytes_to_strip
    }

    /// The length field's byte order.
    pub fn byte_order(&self) -> ByteOrder {
        self.byte_order
    }

    /// Whether too-long frames are reported as soon as they are seen.
    pub fn fail_fast(&self) -> bool {
        self.fail_fast
    }

    /// Whether a partial frame at end of input is dropped silently.
    pub fn drop_partial_at_eof(&self) -> bool {
        self.netty.drop_partial_at_eof
    }

    /// Whether decoding stops for the read at the first error.
    pub fn stop_at_first_error(&self) -> bool {
        self.netty.stop_at_first_error
    }

    /// Whether the decoder is skipping the rest of a too-long frame.
    pub fn is_discarding(&self) -> bool {
        self.bytes_to_discard > 0
    }

    fn too_long(&self, length: u64) -> CodecError {
        CodecError::TooLongFrame {
            length,
            max: self.max_frame_length,
        }
    }

    /// Skips the header of a frame that cannot be decoded and reports it.
    fn corrupt(&mut self, src: &mut CompositeBuf, reason: Corruption) -> CodecError {
        self.frame_length = None;
        skip(src, self.end_offset as u64);
        CodecError::CorruptFrame { reason }
    }

    /// The length field's raw value (fixed-width reads for the common sizes: no
    /// variable-length copy).
    #[inline]
    fn read_length_field(&self, src: &CompositeBuf) -> Option<u64> {
        let at = self.length_field_offset;
        let big = self.byte_order == ByteOrder::BigEndian;
        match self.length_field_length {
            1 => src.get_u8_at(at).map(u64::from),
            2 if big => src.get_u16_at(at).map(u64::from),
            2 => src.get_u16_le_at(at).map(u64::from),
            4 if big => src.get_u32_at(at).map(u64::from),
            4 => src.get_u32_le_at(at).map(u64::from),
            8 if big => src.get_u64_at(at),
            8 => src.get_u64_le_at(at),
            n => src.get_uint_at(at, n, self.byte_order),
        }
    }

    /// Reads the header at the front of `src` (at least `end_offset` bytes) and
    /// computes the frame length, checking it.
    fn read_frame_length(&mut self, src: &mut CompositeBuf) -> Result<Option<usize>, CodecError> {
        let Some(raw) = self.read_length_field(src) else {
            return Ok(None);
        };
        // Fast path (no negative adjustment, a frame within the maximum): plain u64
        // arithmetic; every other case takes the checked path below.
        if self.length_adjustment >= 0
            && raw <= i64::MAX as u64
            && let Some(computed) = raw
                .checked_add(self.length_adjustment as u64)
                .and_then(|n| n.checked_add(self.end_offset as u64))
            && computed <= self.max_frame_length as u64
            && computed <= i64::MAX as u64
        {
            return Ok(Some(computed as usize));
        }
        if self.length_field_length == 8 && raw > i64::MAX as u64 {
            let reason = Corruption::NegativeLengthField { value: raw as i64 };
            return Err(self.corrupt(src, reason));
        }
        let end = self.end_offset as i128;
        let computed = i128::from(raw) + i128::from(self.length_adjustment) + end;
        if computed < end {
            let reason = Corruption::LengthBelowFieldEnd {
                length: computed,
                end: self.end_offset,
                adjustment: self.length_adjustment,
            };
            return Err(self.corrupt(src, reason));
        }
        if computed > i128::from(i64::MAX) {
            let reason = Corruption::LengthOverflows {
                length: computed,
                adjustment: self.length_adjustment,
            };
            return Err(self.corrupt(src, reason));
        }
        let frame_length = computed as u64; // in 0..=i64::MAX
        if frame_length > self.max_frame_length as u64 {
            return self.exceeded(src, frame_length);
        }
        Ok(Some(frame_length as usize))
    }

    /// A frame of `frame_length` bytes exceeds the maximum: skip it (now and as
    /// its bytes arrive) and report it once.
    fn exceeded(
        &mut self,
        src: &mut CompositeBuf,
        frame_length: u64,
    ) -> Result<Option<usize>, CodecError> {
        let available = src.len() as u64;
        if frame_length <= available {
            skip(src, frame_length);
            return Err(self.too_long(frame_length));
        }
        skip(src, available);
        self.bytes_to_discard = frame_length - available;
        self.too_long_frame_length = frame_length;
        if self.fail_fast {
            Err(self.too_long(frame_length))
        } else {
            Ok(None)
        }
    }

    /// Skips what is left of a too-long frame. `Ok(true)` once done.
    fn discard(&mut self, src: &mut CompositeBuf) -> Result<bool, CodecError> {
        self.bytes_to_discard -= skip(src, self.bytes_to_discard) as u64;
        if self.bytes_to_discard > 0 {
            return Ok(false);
        }
        let length = std::mem::take(&mut self.too_long_frame_length);
        if self.fail_fast {
            Ok(true)
        } else {
            Err(self.too_long(length))
        }
    }
}

impl Decoder for LengthFieldDecoder {
    type Item = CompositeBuf;

    fn decode(&mut self, src: &mut CompositeBuf) -> Result<Option<CompositeBuf>, CodecError> {
        if self.bytes_to_discard > 0 && !self.discard(src)? {
            return Ok(None);
        }
        let frame_length = match self.frame_length {
            Some(n) => n,
            None => {
                if src.len() < self.end_offset {
                    return Ok(None);
                }
                match self.read_frame_length(src)? {
                    Some(n) => n,
                    None => return Ok(None),
                }
            }
        };
        if src.len() < frame_length {
            self.frame_length = Some(frame_length);
            return Ok(None);
        }
        self.frame_length = None;
        let strip = self.initial_bytes_to_strip;
        if strip > frame_length {
            // Netty keeps its cached frame length here and fails every later
            // frame; this skips the frame and starts afresh.
            src.advance(frame_length);
            return Err(CodecError::CorruptFrame {
                reason: Corruption::LengthBelowStrip {
                    length: frame_length,
                    strip,
                },
            });
        }
        src.advance(strip);
        Ok(Some(src.split_to(frame_length - strip)))
    }

    /// Decodes what is complete; then reports a partial frame left as
    /// [`CodecError::TruncatedFrame`], or, with `fail_fast` off, a too-long frame
    /// cut short as [`CodecError::TooLongFrame`] (it was not reported yet).
    fn decode_eof(&mut self, src: &mut CompositeBuf) -> Result<Option<CompositeBuf>, CodecError> {
        if self.bytes_to_discard == 0
            && let Some(frame) = self.decode(src)?
        {
            return Ok(Some(frame));
        }
        self.frame_length = None;
        if self.bytes_to_discard > 0 {
            self.bytes_to_discard = 0;
            let length = std::mem::take(&mut self.too_long_frame_length);
            skip(src, src.len() as u64);
            return if self.fail_fast || self.netty.drop_partial_at_eof {
                Ok(None)
            } else {
                Err(self.too_long(length))
            };
        }
        super::truncated(src, self.netty)
    }

    fn after_error(&self) -> AfterError {
        self.netty.after_error()
    }
}

impl From<LengthFieldDecoder> for Handler {
    fn from(decoder: LengthFieldDecoder) -> Self {
        Handler::from(ByteToMessageDecoder::new(decoder))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use seine_buffer::Bytes;

    /// Netty's five-argument constructor.
    fn new(
        max: usize,
        offset: usize,
        length: usize,
        adjustment: i64,
        strip: usize,
    ) -> Result<LengthFieldDecoder, CodecError> {
        LengthFieldDecoder::builder()
            .max_frame_length(max)
            .length_field_offset(offset)
            .length_field_length(length)
            .length_adjustment(adjustment)
            .initial_bytes_to_strip(strip)
            .build()
    }

    fn buf(bytes: &[u8]) -> CompositeBuf {
        CompositeBuf::from(Bytes::copy_from_slice(bytes))
    }

    #[test]
    fn decodes_and_keeps_going_after_strip_larger_than_frame() {
        // 1-byte length, strip 3: a frame of 2 is corrupt, the next is fine.
        let mut d = new(100, 0, 1, 0, 3).unwrap();
        let mut src = buf(b"\x01a\x03xyz");
        let err = d.decode(&mut src).unwrap_err();
        assert_eq!(
            err,
            CodecError::CorruptFrame {
                reason: Corruption::LengthBelowStrip {
                    length: 2,
                    strip: 3
                }
            }
        );
        assert_eq!(d.decode(&mut src).unwrap().unwrap(), b"z"[..]);
        assert!(src.is_empty());
    }

    #[test]
    fn negative_and_overflowing_lengths_are_corrupt() {
        let mut d = new(100, 0, 8, 0, 0).unwrap();
        let mut src = buf(&u64::MAX.to_be_bytes());
        assert!(matches!(
            d.decode(&mut src),
            Err(CodecError::CorruptFrame { .. })
        ));
        assert!(src.is_empty());

        let mut d = new(100, 0, 8, i64::MAX, 0).unwrap();
        let mut src = buf(&(i64::MAX as u64).to_be_bytes());
        let err = d.decode(&mut src).unwrap_err();
        assert!(
            matches!(
                err,
                CodecError::CorruptFrame {
                    reason: Corruption::LengthOverflows { .. }
                }
            ),
            "{err}"
        );

        let mut d = new(100, 0, 2, -5, 0).unwrap();
        let mut src = buf(b"\x00\x02ab");
        let err = d.decode(&mut src).unwrap_err();
        assert_eq!(
            err,
            CodecError::CorruptFrame {
                reason: Corruption::LengthBelowFieldEnd {
                    length: -1,
                    end: 2,
                    adjustment: -5
                }
            }
        );
        assert_eq!(src, b"ab"[..]);
    }

    #[test]
    fn huge_claim_allocates_nothing_and_discards() {
        let mut d = new(16, 0, 8, 0, 0).unwrap();
        let mut src = buf(&(1u64 << 62).to_be_bytes());
        src.push(Bytes::from_static(b"junk"));
        assert!(matches!(
            d.decode(&mut src),
            Err(CodecError::TooLongFrame { .. })
        ));
        assert!(d.is_discarding());
        assert!(src.is_empty());
    }

    #[test]
    fn invalid_parameters_are_typed_errors() {
        let b = LengthFieldDecoder::builder;
        for length in [0, 5, 6, 7, 9] {
            assert_eq!(
                b().length_field_length(length).build().unwrap_err(),
                CodecError::InvalidConfig(InvalidConfig::LengthFieldLength { length })
            );
        }
        assert_eq!(
            b().max_frame_length(0).build().unwrap_err(),
            CodecError::InvalidConfig(InvalidConfig::ZeroMaxFrameLength)
        );
        assert_eq!(
            new(4, 3, 2, 0, 0).unwrap_err(),
            CodecError::InvalidConfig(InvalidConfig::LengthFieldBeyondMaxFrameLength {
                offset: 3,
                length: 2,
                max: 4
            })
        );
        assert_eq!(
            b().length_field_offset(usize::MAX).build().unwrap_err(),
            CodecError::InvalidConfig(InvalidConfig::LengthFieldBeyondMaxFrameLength {
                offset: usize::MAX,
                length: 4,
                max: DEFAULT_MAX_FRAME_LENGTH
            })
        );
        assert!(new(5, 3, 2, 0, 0).is_ok());
    }
}
