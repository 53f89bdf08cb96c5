//! [`DelimiterDecoder`]: frames ended by one of several delimiters (Netty's
//! `DelimiterBasedFrameDecoder`).

use seine_buffer::{Buf, Bytes, CompositeBuf};
use seine_channel::Handler;

use crate::byte_to_message::ByteToMessageDecoder;
use crate::decoder::Decoder;
use crate::error::CodecError;

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
    delimiters: Vec<Bytes>,
    /// The longest delimiter's length.
    max_delimiter: usize,
    max_frame_length: usize,
    strip_delimiter: bool,
    fail_fast: bool,
    discarding: bool,
    /// Bytes of the too-long frame skipped so far.
    discarded: u64,
    /// Where the search resumes (no delimiter starts before it).
    offset: usize,
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
        let max_delimiter = delimiters.iter().map(Bytes::len).max().unwrap_or(1);
        DelimiterDecoder {
            delimiters,
            max_delimiter,
            max_frame_length,
            strip_delimiter: true,
            fail_fast: true,
            discarding: false,
            discarded: 0,
            offset: 0,
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
        self.strip_delimiter = strip;
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
        self.fail_fast = fail_fast;
        self
    }

    /// The longest frame accepted, delimiter not counted.
    pub fn max_frame_length(&self) -> usize {
        self.max_frame_length
    }

    /// The delimiters, in the order given.
    pub fn delimiters(&self) -> &[Bytes] {
        &self.delimiters
    }

    /// Whether the decoder is skipping the rest of a too-long frame.
    pub fn is_discarding(&self) -> bool {
        self.discarding
    }

    fn too_long(&self, length: u64) -> CodecError {
        CodecError::TooLongFrame {
            length,
            max: self.max_frame_length,
        }
    }

    /// The shortest frame: `(frame length, delimiter length)`.
    fn find(&mut self, src: &CompositeBuf) -> Option<(usize, usize)> {
        let from = self.offset.min(src.len());
        let mut best: Option<(usize, usize)> = None;
        for delimiter in &self.delimiters {
            if let Some(i) = src.find_slice(delimiter, from)
                && best.is_none_or(|(b, _)| i < b)
            {
                best = Some((i, delimiter.len()));
            }
        }
        self.offset = match best {
            Some(_) => 0,
            // No delimiter starts before the last `max_delimiter - 1` bytes.
            None => src.len().saturating_sub(self.max_delimiter - 1),
        };
        best
    }

    /// Bytes at the end of `src` that may start a delimiter cut by the read: the
    /// longest suffix that is a proper prefix of a delimiter. O(d²) byte reads for
    /// delimiters of d bytes.
    fn tail_to_keep(&self, src: &CompositeBuf) -> usize {
        let len = src.len();
        (1..self.max_delimiter.min(len + 1))
            .rev()
            .find(|&k| {
                self.delimiters.iter().any(|d| {
                    d.len() > k && (0..k).all(|i| src.get_u8_at(len - k + i) == Some(d[i]))
                })
            })
            .unwrap_or(0)
    }

    /// Skips all of `src` but what may start a delimiter.
    fn skip_all_but_tail(&mut self, src: &mut CompositeBuf) {
        let n = src.len() - self.tail_to_keep(src);
        src.advance(n);
        self.discarded += n as u64;
        self.offset = 0;
    }
}

impl Decoder for DelimiterDecoder {
    type Item = CompositeBuf;

    fn decode(&mut self, src: &mut CompositeBuf) -> Result<Option<CompositeBuf>, CodecError> {
        loop {
            let found = self.find(src);
            if self.discarding {
                let Some((length, delimiter)) = found else {
                    self.skip_all_but_tail(src);
                    return Ok(None);
                };
                let total = self.discarded + length as u64;
                src.advance(length + delimiter);
                self.discarded = 0;
                self.discarding = false;
                if !self.fail_fast {
                    return Err(self.too_long(total));
                }
                continue;
            }
            return match found {
                Some((length, delimiter)) if length > self.max_frame_length => {
                    src.advance(length + delimiter);
                    Err(self.too_long(length as u64))
                }
                Some((length, delimiter)) => {
                    if self.strip_delimiter {
                        let frame = src.split_to(length);
                        src.advance(delimiter);
                        Ok(Some(frame))
                    } else {
                        Ok(Some(src.split_to(length + delimiter)))
                    }
                }
                None => {
                    let length = src.len() - self.tail_to_keep(src);
                    if length <= self.max_frame_length {
                        return Ok(None);
                    }
                    self.discarding = true;
                    self.discarded = 0;
                    self.skip_all_but_tail(src);
                    if self.fail_fast {
                        Err(self.too_long(length as u64))
                    } else {
                        Ok(None)
                    }
                }
            };
        }
    }

    /// Decodes the complete frames; then reports bytes left without a delimiter as
    /// [`CodecError::TruncatedFrame`], or, with `fail_fast` off, a too-long frame
    /// cut short as [`CodecError::TooLongFrame`].
    fn decode_eof(&mut self, src: &mut CompositeBuf) -> Result<Option<CompositeBuf>, CodecError> {
        if let Some(frame) = self.decode(src)? {
            return Ok(Some(frame));
        }
        self.offset = 0;
        super::delimited_eof(
            src,
            &mut self.discarding,
            &mut self.discarded,
            self.fail_fast,
            self.max_frame_length,
        )
    }
}

impl From<DelimiterDecoder> for Handler {
    fn from(decoder: DelimiterDecoder) -> Self {
        Handler::from(ByteToMessageDecoder::new(decoder))
    }
}
