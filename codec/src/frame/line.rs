//! [`LineDecoder`]: frames ended by `\n` or `\r\n` (Netty's
//! `LineBasedFrameDecoder`).

use seine_buffer::CompositeBuf;
use seine_channel::Handler;

use crate::byte_to_message::ByteToMessageDecoder;
use crate::decoder::Decoder;
use crate::error::CodecError;

use super::delimiter_framing::{Delimited, Finder};

/// Decodes lines ended by `\n` or `\r\n` (Netty's `LineBasedFrameDecoder`).
///
/// Fires each line as a [`CompositeBuf`] sharing memory with the reads (no copy),
/// without its line ending by default ([`strip_delimiter`](Self::strip_delimiter)).
/// The search for the line ending is `memchr` and resumes where the previous read's
/// search stopped, so a long line arriving in many reads is scanned once.
///
/// # Too-long lines
///
/// A line longer than `max_length` (line ending not counted) is skipped up to and
/// including its line ending, also across later reads, and reported once as
/// [`CodecError::TooLongFrame`]: as soon as more than `max_length` bytes without a
/// line ending are seen when `fail_fast` is on (the default, as in Netty), or once
/// its line ending arrived (with the line's full length) when it is off. Decoding
/// goes on with the next line if the channel stays open.
///
/// Netty counts a `\r` that ends a read as part of the line, so a line of exactly
/// `max_length` bytes whose `\r\n` is cut between two reads is refused; here it is
/// accepted.
///
/// At end of input, bytes left without a line ending are reported as
/// [`CodecError::TruncatedFrame`] (Netty drops them silently).
///
/// # Examples
///
/// ```
/// use seine_buffer::{Bytes, CompositeBuf};
/// use seine_channel::{EmbeddedChannel, Handler};
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

impl LineDecoder {
    /// A decoder of lines of at most `max_length` bytes, stripping line endings,
    /// failing fast (Netty's defaults). Does not allocate.
    ///
    /// # Examples
    ///
    /// ```
    /// let decoder = seine_codec::LineDecoder::new(8192);
    /// assert_eq!(decoder.max_length(), 8192);
    /// ```
    pub fn new(max_length: usize) -> Self {
        LineDecoder {
            state: Delimited::new(max_length),
        }
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
    /// let mut decoder = LineDecoder::new(80).strip_delimiter(false);
    /// let mut src = CompositeBuf::from("a\r\nb\n");
    /// assert_eq!(decoder.decode(&mut src).unwrap().unwrap(), b"a\r\n"[..]);
    /// assert_eq!(decoder.decode(&mut src).unwrap().unwrap(), b"b\n"[..]);
    /// ```
    pub fn strip_delimiter(mut self, strip: bool) -> Self {
        self.state.strip_delimiter = strip;
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
    /// let mut decoder = LineDecoder::new(2).fail_fast(false);
    /// let mut src = CompositeBuf::from("abcd");
    /// assert_eq!(decoder.decode(&mut src).unwrap(), None); // skipping, not reported yet
    /// src.push("ef\nok\n".into());
    /// assert_eq!(decoder.decode(&mut src), Err(CodecError::TooLongFrame { length: 6, max: 2 }));
    /// assert_eq!(decoder.decode(&mut src).unwrap().unwrap(), b"ok"[..]);
    /// ```
    pub fn fail_fast(mut self, fail_fast: bool) -> Self {
        self.state.fail_fast = fail_fast;
        self
    }

    /// The longest line accepted, line ending not counted.
    pub fn max_length(&self) -> usize {
        self.state.max_length
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
}

impl From<LineDecoder> for Handler {
    fn from(decoder: LineDecoder) -> Self {
        Handler::from(ByteToMessageDecoder::new(decoder))
    }
}
