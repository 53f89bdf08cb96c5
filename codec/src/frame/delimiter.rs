//! [`DelimiterDecoder`]: frames ended by one of several delimiters (Netty's
//! `DelimiterBasedFrameDecoder`).

use seine_buffer::{Bytes, CompositeBuf};
use seine_channel::Handler;

use crate::byte_to_message::ByteToMessageDecoder;
use crate::decoder::Decoder;
use crate::error::CodecError;

use super::delimiter_framing::{Delimited, Finder};

/// Decodes frames ended by any of one or more delimiters (Netty's
/// `DelimiterBasedFrameDecoder`).
///
/// When several delimiters occur, the one that makes the **shortest** frame wins
/// (with delimiters `"\n"` and `"\r\n"`, `"a\r\n"` is the frame `"a"`); between
/// delimiters found at the same place, the first given wins. Frames are fired as
/// [`CompositeBuf`]s sharing memory with the reads (no copy), without their
/// delimiter by default ([`strip_delimiter`](Self::strip_delimiter)). The search
/// (`memmem`, across segment borders) resumes where the previous read's search
/// stopped, so a long frame arriving in many reads is scanned once.
///
/// # Too-long frames
///
/// A frame longer than `max_frame_length` (delimiter not counted) is skipped up to
/// and including its delimiter, also across later reads, and reported once as
/// [`CodecError::TooLongFrame`]: as soon as it is seen with `fail_fast` on (the
/// default, as in Netty), or once its delimiter arrived (with the frame's full
/// length; Netty reports only the part skipped before the last read) when it is off.
///
/// Two things Netty gets wrong are right here: bytes that may be the start of a
/// delimiter cut between two reads are kept while skipping (Netty discards them and
/// so misses that delimiter, swallowing the next frame too), and they do not count
/// toward the frame's length (Netty refuses a frame of exactly `max_frame_length`
/// bytes whose multi-byte delimiter is cut between reads).
///
/// At end of input, bytes left without a delimiter are reported as
/// [`CodecError::TruncatedFrame`] (Netty drops them silently).
///
/// # Examples
///
/// ```
/// use seine_buffer::{Bytes, CompositeBuf};
/// use seine_channel::{EmbeddedChannel, Handler};
/// use seine_codec::DelimiterDecoder;
///
/// let decoder = DelimiterDecoder::new(64, [&b";"[..], b"||"]);
/// let mut ch = EmbeddedChannel::with_handlers([("frames", Handler::from(decoder))]);
/// ch.write_inbound(Bytes::from_static(b"a;bc|")).unwrap();
/// ch.write_inbound(Bytes::from_static(b"|d;")).unwrap();
/// for want in [&b"a"[..], b"bc", b"d"] {
///     assert_eq!(ch.read_inbound::<CompositeBuf>().unwrap(), want);
/// }
/// ```
#[derive(Clone, Debug)]
pub struct DelimiterDecoder {
    delimiters: Delimiters,
    state: Delimited,
}

/// Finds the earliest of several delimiters.
#[derive(Clone, Debug)]
struct Delimiters {
    all: Vec<Bytes>,
    /// The longest delimiter's length.
    max_len: usize,
}

impl Finder for Delimiters {
    /// The shortest frame: `(frame length, delimiter length)`.
    fn find(&self, src: &CompositeBuf, from: usize) -> Option<(usize, usize)> {
        let mut best: Option<(usize, usize)> = None;
        for delimiter in &self.all {
            if let Some(i) = src.find_slice(delimiter, from)
                && best.is_none_or(|(b, _)| i < b)
            {
                best = Some((i, delimiter.len()));
            }
        }
        best
    }

    /// No delimiter starts before the last `max_len - 1` bytes.
    fn resume_from(&self, src: &CompositeBuf) -> usize {
        src.len().saturating_sub(self.max_len - 1)
    }

    /// The longest suffix of `src` that is a proper prefix of a delimiter. O(d²)
    /// byte reads for delimiters of d bytes.
    fn tail_to_keep(&self, src: &CompositeBuf) -> usize {
        let len = src.len();
        (1..self.max_len.min(len + 1))
            .rev()
            .find(|&k| {
                self.all.iter().any(|d| {
                    d.len() > k && (0..k).all(|i| src.get_u8_at(len - k + i) == Some(d[i]))
                })
            })
            .unwrap_or(0)
    }
}

impl DelimiterDecoder {
    /// A decoder of frames of at most `max_frame_length` bytes ended by any of
    /// `delimiters`, stripping the delimiter, failing fast (Netty's defaults).
    /// Copies the delimiters once.
    ///
    /// # Panics
    ///
    /// If there is no delimiter or one is empty, or `max_frame_length` is 0 (as
    /// Netty's constructor).
    ///
    /// # Examples
    ///
    /// ```
    /// let decoder = seine_codec::DelimiterDecoder::new(1024, [b"\0"]);
    /// assert_eq!(decoder.max_frame_length(), 1024);
    /// ```
    pub fn new<I, D>(max_frame_length: usize, delimiters: I) -> Self
    where
        I: IntoIterator<Item = D>,
        D: AsRef<[u8]>,
    {
        let delimiters: Vec<Bytes> = delimiters
            .into_iter()
            .map(|d| Bytes::copy_from_slice(d.as_ref()))
            .collect();
        assert!(!delimiters.is_empty(), "at least one delimiter is needed");
        assert!(
            delimiters.iter().all(|d| !d.is_empty()),
            "a delimiter must not be empty"
        );
        assert!(max_frame_length > 0, "max_frame_length must be positive");
        let max_len = delimiters.iter().map(Bytes::len).max().unwrap_or(1);
        DelimiterDecoder {
            delimiters: Delimiters {
                all: delimiters,
                max_len,
            },
            state: Delimited::new(max_frame_length),
        }
    }

    /// Lines ended by `"\n"` or `"\r\n"` (Netty's `Delimiters.lineDelimiter()`).
    ///
    /// # Examples
    ///
    /// ```
    /// use seine_buffer::CompositeBuf;
    /// use seine_codec::{Decoder, DelimiterDecoder};
    /// let mut decoder = DelimiterDecoder::lines(80);
    /// let mut src = CompositeBuf::from("a\r\nb\n");
    /// assert_eq!(decoder.decode(&mut src).unwrap().unwrap(), b"a"[..]);
    /// assert_eq!(decoder.decode(&mut src).unwrap().unwrap(), b"b"[..]);
    /// ```
    pub fn lines(max_frame_length: usize) -> Self {
        Self::new(max_frame_length, [&b"\r\n"[..], b"\n"])
    }

    /// Frames ended by a NUL byte (Netty's `Delimiters.nulDelimiter()`).
    ///
    /// # Examples
    ///
    /// ```
    /// use seine_buffer::CompositeBuf;
    /// use seine_codec::{Decoder, DelimiterDecoder};
    /// let mut decoder = DelimiterDecoder::nul(80);
    /// let mut src = CompositeBuf::from("a\0");
    /// assert_eq!(decoder.decode(&mut src).unwrap().unwrap(), b"a"[..]);
    /// ```
    pub fn nul(max_frame_length: usize) -> Self {
        Self::new(max_frame_length, [b"\0"])
    }

    /// Whether frames are fired without (`true`, the default) or with their
    /// delimiter. Netty's `stripDelimiter`.
    ///
    /// # Examples
    ///
    /// ```
    /// use seine_buffer::CompositeBuf;
    /// use seine_codec::{Decoder, DelimiterDecoder};
    /// let mut decoder = DelimiterDecoder::nul(80).strip_delimiter(false);
    /// let mut src = CompositeBuf::from("a\0");
    /// assert_eq!(decoder.decode(&mut src).unwrap().unwrap(), b"a\0"[..]);
    /// ```
    pub fn strip_delimiter(mut self, strip: bool) -> Self {
        self.state.strip_delimiter = strip;
        self
    }

    /// Report a too-long frame as soon as it is seen (`true`, the default) or once
    /// its delimiter arrived (`false`). Netty's `failFast`.
    ///
    /// # Examples
    ///
    /// ```
    /// use seine_buffer::CompositeBuf;
    /// use seine_codec::{CodecError, Decoder, DelimiterDecoder};
    /// let mut decoder = DelimiterDecoder::nul(2).fail_fast(false);
    /// let mut src = CompositeBuf::from("abcd");
    /// assert_eq!(decoder.decode(&mut src).unwrap(), None);
    /// src.push("e\0ok\0".into());
    /// assert_eq!(decoder.decode(&mut src), Err(CodecError::TooLongFrame { length: 5, max: 2 }));
    /// assert_eq!(decoder.decode(&mut src).unwrap().unwrap(), b"ok"[..]);
    /// ```
    pub fn fail_fast(mut self, fail_fast: bool) -> Self {
        self.state.fail_fast = fail_fast;
        self
    }

    /// The longest frame accepted, delimiter not counted.
    pub fn max_frame_length(&self) -> usize {
        self.state.max_length
    }

    /// The delimiters, in the order given.
    pub fn delimiters(&self) -> &[Bytes] {
        &self.delimiters.all
    }

    /// Whether the decoder is skipping the rest of a too-long frame.
    pub fn is_discarding(&self) -> bool {
        self.state.discarding
    }
}

impl Decoder for DelimiterDecoder {
    type Item = CompositeBuf;

    fn decode(&mut self, src: &mut CompositeBuf) -> Result<Option<CompositeBuf>, CodecError> {
        self.state.decode(src, &self.delimiters)
    }

    /// Decodes the complete frames; then reports bytes left without a delimiter as
    /// [`CodecError::TruncatedFrame`], or, with `fail_fast` off, a too-long frame
    /// cut short as [`CodecError::TooLongFrame`].
    fn decode_eof(&mut self, src: &mut CompositeBuf) -> Result<Option<CompositeBuf>, CodecError> {
        self.state.decode_eof(src, &self.delimiters)
    }
}

impl From<DelimiterDecoder> for Handler {
    fn from(decoder: DelimiterDecoder) -> Self {
        Handler::from(ByteToMessageDecoder::new(decoder))
    }
}
