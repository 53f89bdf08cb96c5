//! [`DelimiterDecoder`]: frames ended by one of several delimiters (Netty's
//! `DelimiterBasedFrameDecoder`).

use seine_buffer::{Bytes, CompositeBuf};
use seine_channel::Handler;

use crate::byte_to_message::ByteToMessageDecoder;
use crate::decoder::{AfterError, Decoder};
use crate::error::{CodecError, InvalidConfig};

use super::delimiter_framing::{Delimited, Finder};
use super::{DEFAULT_MAX_FRAME_LENGTH, NettyOptions};

/// Decodes frames ended by any of one or more delimiters (Netty's
/// `DelimiterBasedFrameDecoder`).
///
/// When several delimiters occur, the one that makes the **shortest** frame wins
/// (with delimiters `"\n"` and `"\r\n"`, `"a\r\n"` is the frame `"a"`); between
/// delimiters found at the same place, the first given wins. Frames are fired as
/// [`CompositeBuf`]s sharing memory with the reads (no copy), without their
/// delimiter by default ([`strip_delimiter`](DelimiterDecoderBuilder::strip_delimiter)). The search
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
/// [`CodecError::TruncatedFrame`] (Netty drops them silently, as this decoder does
/// with [`drop_partial_at_eof`](DelimiterDecoderBuilder::drop_partial_at_eof)).
///
/// # Examples
///
/// ```
/// use seine_buffer::{Bytes, CompositeBuf};
/// use seine_channel::Handler;
/// use seine_channel::testing::EmbeddedChannel;
/// use seine_codec::DelimiterDecoder;
///
/// let decoder = DelimiterDecoder::builder()
///     .max_frame_length(64)
///     .delimiters([&b";"[..], b"||"])
///     .build()
///     .unwrap();
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

/// Configures a [`DelimiterDecoder`]; made by [`DelimiterDecoder::builder`].
///
/// Defaults: no delimiter (give at least one with [`delimiter`](Self::delimiter),
/// [`delimiters`](Self::delimiters), [`line_delimiters`](Self::line_delimiters) or
/// [`nul_delimiter`](Self::nul_delimiter)), `max_frame_length` 8 MiB,
/// `strip_delimiter` true, `fail_fast` true (Netty's defaults),
/// `drop_partial_at_eof` false, `stop_at_first_error` false.
///
/// # Examples
///
/// ```
/// use seine_codec::DelimiterDecoder;
///
/// let decoder = DelimiterDecoder::builder()
///     .max_frame_length(64)
///     .delimiter(";")
///     .delimiter("||")
///     .strip_delimiter(false)
///     .build()
///     .unwrap();
/// assert_eq!(decoder.delimiters().len(), 2);
/// assert!(!decoder.strip_delimiter());
/// ```
#[derive(Clone, Debug)]
#[must_use = "call build() to get the decoder"]
pub struct DelimiterDecoderBuilder {
    delimiters: Vec<Bytes>,
    max_frame_length: usize,
    strip_delimiter: bool,
    fail_fast: bool,
    netty: NettyOptions,
    /// `netty_exact` was called: `stop_at_first_error` is decided by `build`.
    netty_exact: bool,
}

impl Default for DelimiterDecoderBuilder {
    fn default() -> Self {
        DelimiterDecoderBuilder {
            delimiters: Vec::new(),
            max_frame_length: DEFAULT_MAX_FRAME_LENGTH,
            strip_delimiter: true,
            fail_fast: true,
            netty: NettyOptions::default(),
            netty_exact: false,
        }
    }
}

impl DelimiterDecoderBuilder {
    /// The longest frame accepted, delimiter not counted; longer frames are
    /// skipped and reported. Netty's `maxFrameLength`.
    pub fn max_frame_length(mut self, max: usize) -> Self {
        self.max_frame_length = max;
        self
    }

    /// Adds a delimiter (copied once). Netty's `delimiters`, one at a time.
    pub fn delimiter(mut self, delimiter: impl AsRef<[u8]>) -> Self {
        self.delimiters
            .push(Bytes::copy_from_slice(delimiter.as_ref()));
        self
    }

    /// Replaces the delimiters with `delimiters` (each copied once).
    pub fn delimiters<I, D>(mut self, delimiters: I) -> Self
    where
        I: IntoIterator<Item = D>,
        D: AsRef<[u8]>,
    {
        self.delimiters = delimiters
            .into_iter()
            .map(|d| Bytes::copy_from_slice(d.as_ref()))
            .collect();
        self
    }

    /// Replaces the delimiters with `"\r\n"` and `"\n"` (Netty's
    /// `Delimiters.lineDelimiter()`).
    ///
    /// # Examples
    ///
    /// ```
    /// use seine_buffer::CompositeBuf;
    /// use seine_codec::{Decoder, DelimiterDecoder};
    /// let mut decoder = DelimiterDecoder::builder().line_delimiters().build().unwrap();
    /// let mut src = CompositeBuf::from("a\r\nb\n");
    /// assert_eq!(decoder.decode(&mut src).unwrap().unwrap(), b"a"[..]);
    /// assert_eq!(decoder.decode(&mut src).unwrap().unwrap(), b"b"[..]);
    /// ```
    pub fn line_delimiters(self) -> Self {
        self.delimiters([&b"\r\n"[..], b"\n"])
    }

    /// Replaces the delimiters with a NUL byte (Netty's `Delimiters.nulDelimiter()`).
    ///
    /// # Examples
    ///
    /// ```
    /// use seine_buffer::CompositeBuf;
    /// use seine_codec::{Decoder, DelimiterDecoder};
    /// let mut decoder = DelimiterDecoder::builder().nul_delimiter().build().unwrap();
    /// let mut src = CompositeBuf::from("a\0");
    /// assert_eq!(decoder.decode(&mut src).unwrap().unwrap(), b"a"[..]);
    /// ```
    pub fn nul_delimiter(self) -> Self {
        self.delimiters([b"\0"])
    }

    /// Whether frames are fired without (`true`, the default) or with their
    /// delimiter. Netty's `stripDelimiter`.
    ///
    /// # Examples
    ///
    /// ```
    /// use seine_buffer::CompositeBuf;
    /// use seine_codec::{Decoder, DelimiterDecoder};
    /// let mut decoder = DelimiterDecoder::builder()
    ///     .nul_delimiter()
    ///     .strip_delimiter(false)
    ///     .build()
    ///     .unwrap();
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
    /// let mut decoder = DelimiterDecoder::builder()
    ///     .nul_delimiter()
    ///     .max_frame_length(2)
    ///     .fail_fast(false)
    ///     .build()?;
    /// let mut src = CompositeBuf::from("abcd");
    /// assert_eq!(decoder.decode(&mut src).unwrap(), None);
    /// src.push("e\0ok\0".into());
    /// assert_eq!(decoder.decode(&mut src), Err(CodecError::TooLongFrame { length: 5, max: 2 }));
    /// assert_eq!(decoder.decode(&mut src).unwrap().unwrap(), b"ok"[..]);
    /// # Ok::<(), CodecError>(())
    /// ```
    pub fn fail_fast(mut self, fail_fast: bool) -> Self {
        self.fail_fast = fail_fast;
        self
    }

    /// At end of input, drop bytes left without a delimiter silently (`true`, as
    /// Netty does) instead of reporting them as [`CodecError::TruncatedFrame`]
    /// (`false`, the default).
    pub fn drop_partial_at_eof(mut self, drop: bool) -> Self {
        self.netty.drop_partial_at_eof = drop;
        self
    }

    /// After an error, stop decoding for this read and keep the rest for the next
    /// read (`true`, as Netty does) instead of decoding on in the same read
    /// (`false`, the default). See [`AfterError`].
    pub fn stop_at_first_error(mut self, stop: bool) -> Self {
        self.netty.stop_at_first_error = stop;
        self.netty_exact = false;
        self
    }

    /// Netty's behaviour: `drop_partial_at_eof(true)`, and
    /// `stop_at_first_error(true)` unless the delimiters are exactly `"\r\n"` and
    /// `"\n"` (in either order), for which Netty's `DelimiterBasedFrameDecoder`
    /// hands over to its line decoder, which goes on decoding after an error in
    /// the same read. Decided by [`build`](Self::build), after all delimiters are
    /// known; a later `stop_at_first_error` overrides it. See [`crate::netty`].
    pub fn netty_exact(mut self) -> Self {
        self.netty_exact = true;
        self.drop_partial_at_eof(true)
    }

    /// Builds the decoder.
    ///
    /// # Errors
    ///
    /// [`CodecError::InvalidConfig`] for what Netty's constructor refuses: no
    /// delimiter ([`InvalidConfig::NoDelimiter`]), an empty one
    /// ([`InvalidConfig::EmptyDelimiter`]), a `max_frame_length` of 0
    /// ([`InvalidConfig::ZeroMaxFrameLength`]).
    pub fn build(mut self) -> Result<DelimiterDecoder, CodecError> {
        if self.delimiters.is_empty() {
            return Err(InvalidConfig::NoDelimiter.into());
        }
        if self.delimiters.iter().any(Bytes::is_empty) {
            return Err(InvalidConfig::EmptyDelimiter.into());
        }
        if self.max_frame_length == 0 {
            return Err(InvalidConfig::ZeroMaxFrameLength.into());
        }
        if self.netty_exact {
            self.netty.stop_at_first_error = !is_line_based(&self.delimiters);
        }
        let max_len = self.delimiters.iter().map(Bytes::len).max().unwrap_or(1);
        Ok(DelimiterDecoder {
            delimiters: Delimiters {
                all: self.delimiters,
                max_len,
            },
            state: Delimited::new(
                self.max_frame_length,
                self.strip_delimiter,
                self.fail_fast,
                self.netty,
            ),
        })
    }
}

/// Whether `delimiters` are Netty's line delimiters, `"\r\n"` and `"\n"` in
/// either order (for which Netty's `DelimiterBasedFrameDecoder` uses its
/// `LineBasedFrameDecoder`).
fn is_line_based(delimiters: &[Bytes]) -> bool {
    matches!(delimiters, [a, b] if (a == "\r\n" && b == "\n") || (a == "\n" && b == "\r\n"))
}

impl DelimiterDecoder {
    /// A builder with the defaults listed on [`DelimiterDecoderBuilder`].
    pub fn builder() -> DelimiterDecoderBuilder {
        DelimiterDecoderBuilder::default()
    }

    /// The longest frame accepted, delimiter not counted.
    pub fn max_frame_length(&self) -> usize {
        self.state.max_length
    }

    /// The delimiters, in the order given.
    pub fn delimiters(&self) -> &[Bytes] {
        &self.delimiters.all
    }

    /// Whether frames are fired without their delimiter.
    pub fn strip_delimiter(&self) -> bool {
        self.state.strip_delimiter
    }

    /// Whether a too-long frame is reported as soon as it is seen.
    pub fn fail_fast(&self) -> bool {
        self.state.fail_fast
    }

    /// Whether bytes left without a delimiter at end of input are dropped
    /// silently.
    pub fn drop_partial_at_eof(&self) -> bool {
        self.state.netty.drop_partial_at_eof
    }

    /// Whether decoding stops for the read at the first error.
    pub fn stop_at_first_error(&self) -> bool {
        self.state.netty.stop_at_first_error
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

    fn after_error(&self) -> AfterError {
        self.state.netty.after_error()
    }
}

impl From<DelimiterDecoder> for Handler {
    fn from(decoder: DelimiterDecoder) -> Self {
        Handler::from(ByteToMessageDecoder::new(decoder))
    }
}
