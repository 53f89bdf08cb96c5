//! [`LineDecoder`]: frames ended by `\n` or `\r\n` (Netty's
//! `LineBasedFrameDecoder`).

use seine_buffer::CompositeBuf;
use seine_channel::Handler;

use crate::byte_to_message::ByteToMessageDecoder;
use crate::decoder::{AfterError, Decoder};
use crate::error::CodecError;

use super::delimiter_framing::{Delimited, Finder};
use super::{DEFAULT_MAX_FRAME_LENGTH, NettyOptions};

/// Decodes lines ended by `\n` or `\r\n` (Netty's `LineBasedFrameDecoder`).
///
/// Fires each line as a [`CompositeBuf`] sharing memory with the reads (no copy),
/// without its line ending by default ([`strip_delimiter`](LineDecoderBuilder::strip_delimiter)).
/// The search for the line ending is `memchr` and resumes where the previous read's
/// search stopped, so a long line arriving in many reads is scanned once.
///
/// # Too-long lines
///
/// A line longer than `max_frame_length` (line ending not counted) is skipped up to and
/// including its line ending, also across later reads, and reported once as
/// [`CodecError::TooLongFrame`]: as soon as more than `max_frame_length` bytes without a
/// line ending are seen when `fail_fast` is on (the default, as in Netty), or once
/// its line ending arrived (with the line's full length) when it is off. Decoding
/// goes on with the next line if the channel stays open.
///
/// Netty counts a `\r` that ends a read as part of the line, so a line of exactly
/// `max_frame_length` bytes whose `\r\n` is cut between two reads is refused; here it is
/// accepted.
///
/// At end of input, bytes left without a line ending are reported as
/// [`CodecError::TruncatedFrame`] (Netty drops them silently, as this decoder does
/// with [`drop_partial_at_eof`](LineDecoderBuilder::drop_partial_at_eof)).
///
/// # Examples
///
/// ```
/// use seine_buffer::{Bytes, CompositeBuf};
/// use seine_channel::Handler;
/// use seine_channel::testing::EmbeddedChannel;
/// use seine_codec::{CodecError, LineDecoder};
///
/// let mut ch = EmbeddedChannel::with_handlers([("lines", Handler::from(LineDecoder::new(5)))]);
/// ch.write_inbound(Bytes::from_static(b"one\r\ntwo\n")).unwrap();
/// assert_eq!(ch.read_inbound::<CompositeBuf>().unwrap(), b"one"[..]);
/// assert_eq!(ch.read_inbound::<CompositeBuf>().unwrap(), b"two"[..]);
///
/// let err = ch.write_inbound(Bytes::from_static(b"toolong")).unwrap_err();
/// assert_eq!(err.downcast_ref(), Some(&CodecError::TooLongFrame { length: 7, max: 5 }));
/// ```
#[derive(Clone, Debug)]
pub struct LineDecoder {
    state: Delimited,
}

/// Finds `\n` and `\r\n` line endings.
#[derive(Clone, Copy, Debug)]
struct LineEndings;

impl Finder for LineEndings {
    fn find(&self, src: &CompositeBuf, from: usize) -> Option<(usize, usize)> {
        let i = src.find_byte(b'\n', from)?;
        if i > 0 && src.get_u8_at(i - 1) == Some(b'\r') {
            Some((i - 1, 2))
        } else {
            Some((i, 1))
        }
    }

    fn resume_from(&self, src: &CompositeBuf) -> usize {
        src.len()
    }

    /// A final `\r` may be the start of `\r\n`: not part of the line.
    fn tail_to_keep(&self, src: &CompositeBuf) -> usize {
        usize::from(src.get_u8_at(src.len().wrapping_sub(1)) == Some(b'\r'))
    }
}

/// Configures a [`LineDecoder`]; made by [`LineDecoder::builder`].
///
/// Defaults: `max_frame_length` 8 MiB, `strip_delimiter` true, `fail_fast` true
/// (Netty's defaults), `drop_partial_at_eof` false, `stop_at_first_error` false.
///
/// # Examples
///
/// ```
/// use seine_codec::LineDecoder;
///
/// let decoder = LineDecoder::builder()
///     .max_frame_length(1024)
///     .strip_delimiter(false)
///     .fail_fast(false)
///     .netty_exact()
///     .build()
///     .unwrap();
/// assert_eq!(decoder.max_frame_length(), 1024);
/// assert!(!decoder.strip_delimiter() && !decoder.fail_fast());
/// assert!(decoder.drop_partial_at_eof() && !decoder.stop_at_first_error());
/// ```
#[derive(Clone, Debug)]
#[must_use = "call build() to get the decoder"]
pub struct LineDecoderBuilder {
    max_frame_length: usize,
    strip_delimiter: bool,
    fail_fast: bool,
    netty: NettyOptions,
}

impl Default for LineDecoderBuilder {
    fn default() -> Self {
        LineDecoderBuilder {
            max_frame_length: DEFAULT_MAX_FRAME_LENGTH,
            strip_delimiter: true,
            fail_fast: true,
            netty: NettyOptions::default(),
        }
    }
}

impl LineDecoderBuilder {
    /// The longest line accepted, line ending not counted; longer lines are
    /// skipped and reported. Netty's `maxLength`.
    pub fn max_frame_length(mut self, max: usize) -> Self {
        self.max_frame_length = max;
        self
    }

    /// Whether lines are fired without (`true`, the default) or with their line
    /// ending. Netty's `stripDelimiter`.
    ///
    /// # Examples
    ///
    /// ```
    /// use seine_buffer::CompositeBuf;
    /// use seine_codec::{Decoder, LineDecoder};
    ///
    /// let mut decoder = LineDecoder::builder().strip_delimiter(false).build().unwrap();
    /// let mut src = CompositeBuf::from("a\r\nb\n");
    /// assert_eq!(decoder.decode(&mut src).unwrap().unwrap(), b"a\r\n"[..]);
    /// assert_eq!(decoder.decode(&mut src).unwrap().unwrap(), b"b\n"[..]);
    /// ```
    pub fn strip_delimiter(mut self, strip: bool) -> Self {
        self.strip_delimiter = strip;
        self
    }

    /// Report a too-long line as soon as it is seen (`true`, the default) or once
    /// its line ending arrived (`false`). Netty's `failFast`.
    ///
    /// # Examples
    ///
    /// ```
    /// use seine_buffer::CompositeBuf;
    /// use seine_codec::{CodecError, Decoder, LineDecoder};
    ///
    /// let mut decoder = LineDecoder::builder().max_frame_length(2).fail_fast(false).build()?;
    /// let mut src = CompositeBuf::from("abcd");
    /// assert_eq!(decoder.decode(&mut src).unwrap(), None); // skipping, not reported yet
    /// src.push("ef\nok\n".into());
    /// assert_eq!(decoder.decode(&mut src), Err(CodecError::TooLongFrame { length: 6, max: 2 }));
    /// assert_eq!(decoder.decode(&mut src).unwrap().unwrap(), b"ok"[..]);
    /// # Ok::<(), CodecError>(())
    /// ```
    pub fn fail_fast(mut self, fail_fast: bool) -> Self {
        self.fail_fast = fail_fast;
        self
    }

    /// At end of input, drop bytes left without a line ending silently (`true`, as
    /// Netty does) instead of reporting them as [`CodecError::TruncatedFrame`]
    /// (`false`, the default).
    pub fn drop_partial_at_eof(mut self, drop: bool) -> Self {
        self.netty.drop_partial_at_eof = drop;
        self
    }

    /// After an error, stop decoding for this read and keep the rest for the next
    /// read (`true`) instead of decoding on in the same read (`false`, the
    /// default, which is also what Netty's `LineBasedFrameDecoder` does: it fires
    /// its errors instead of throwing them). See [`AfterError`].
    pub fn stop_at_first_error(mut self, stop: bool) -> Self {
        self.netty.stop_at_first_error = stop;
        self
    }

    /// Netty's behaviour: `drop_partial_at_eof(true)`; `stop_at_first_error`
    /// stays off, as Netty's line decoder goes on decoding after an error in the
    /// same read (see [`crate::netty`]).
    pub fn netty_exact(self) -> Self {
        self.drop_partial_at_eof(true).stop_at_first_error(false)
    }

    /// Builds the decoder. Does not allocate.
    ///
    /// # Errors
    ///
    /// None today (every setting is valid); the `Result` keeps one convention
    /// across the codecs' builders.
    pub fn build(self) -> Result<LineDecoder, CodecError> {
        Ok(LineDecoder {
            state: Delimited::new(
                self.max_frame_length,
                self.strip_delimiter,
                self.fail_fast,
                self.netty,
            ),
        })
    }
}

impl LineDecoder {
    /// A builder with the defaults listed on [`LineDecoderBuilder`].
    pub fn builder() -> LineDecoderBuilder {
        LineDecoderBuilder::default()
    }

    /// A decoder of lines of at most `max_frame_length` bytes with Netty's
    /// defaults (line endings stripped, failing fast): the same as
    /// `LineDecoder::builder().max_frame_length(max_frame_length).build().unwrap()`, which
    /// cannot fail. Does not allocate.
    ///
    /// # Examples
    ///
    /// ```
    /// let decoder = seine_codec::LineDecoder::new(8192);
    /// assert_eq!(decoder.max_frame_length(), 8192);
    /// ```
    pub fn new(max_frame_length: usize) -> Self {
        LineDecoder {
            state: Delimited::new(max_frame_length, true, true, NettyOptions::default()),
        }
    }

    /// The longest line accepted, line ending not counted.
    pub fn max_frame_length(&self) -> usize {
        self.state.max_length
    }

    /// Whether lines are fired without their line ending.
    pub fn strip_delimiter(&self) -> bool {
        self.state.strip_delimiter
    }

    /// Whether a too-long line is reported as soon as it is seen.
    pub fn fail_fast(&self) -> bool {
        self.state.fail_fast
    }

    /// Whether bytes left without a line ending at end of input are dropped
    /// silently.
    pub fn drop_partial_at_eof(&self) -> bool {
        self.state.netty.drop_partial_at_eof
    }

    /// Whether decoding stops for the read at the first error.
    pub fn stop_at_first_error(&self) -> bool {
        self.state.netty.stop_at_first_error
    }

    /// Whether the decoder is skipping the rest of a too-long line.
    pub fn is_discarding(&self) -> bool {
        self.state.discarding
    }
}

impl Decoder for LineDecoder {
    type Item = CompositeBuf;

    fn decode(&mut self, src: &mut CompositeBuf) -> Result<Option<CompositeBuf>, CodecError> {
        self.state.decode(src, &LineEndings)
    }

    /// Decodes the complete lines; then reports bytes left without a line ending as
    /// [`CodecError::TruncatedFrame`], or, with `fail_fast` off, a too-long line cut
    /// short as [`CodecError::TooLongFrame`].
    fn decode_eof(&mut self, src: &mut CompositeBuf) -> Result<Option<CompositeBuf>, CodecError> {
        self.state.decode_eof(src, &LineEndings)
    }

    fn after_error(&self) -> AfterError {
        self.state.netty.after_error()
    }
}

impl From<LineDecoder> for Handler {
    fn from(decoder: LineDecoder) -> Self {
        Handler::from(ByteToMessageDecoder::new(decoder))
    }
}
