//! [`RespValueDecoder`]: any RESP2 value (what a client reads: replies, nested
//! arrays, null bulk strings and arrays).

use seine_buffer::{Bytes, CompositeBuf};

use super::decoder::{
    DEFAULT_MAX_ARRAY_LENGTH, DEFAULT_MAX_BULK_LENGTH, DEFAULT_MAX_INLINE_LENGTH,
};
use super::scan_input::{Input, Line, header_line};
use super::value::RespValue;
use crate::decoder::Decoder;
use crate::error::{CodecError, Corruption};

/// Default [`RespValueDecoder::max_depth`]: arrays nested 32 deep.
pub const DEFAULT_MAX_DEPTH: usize = 32;

/// Decodes RESP2 values: simple strings, errors, integers, bulk strings (and the
/// null bulk string), arrays (nested, and the null array).
///
/// This is the client side (reading replies) and a general tool; servers read
/// commands with the faster [`RespCommandDecoder`](super::RespCommandDecoder).
///
/// # Cost
///
/// A value is first measured (validated, nothing allocated), then built: strings are
/// [`Bytes`] views of the received buffer, not copies, when the value lies in one
/// segment; otherwise each string that straddles segments is copied. An incomplete
/// value is measured again when more bytes arrive, except that a partly received
/// bulk string is not looked at again until all of it is there.
///
/// # Limits
///
/// Bulk strings over [`max_bulk_length`](RespValueDecoderBuilder::max_bulk_length) and arrays over
/// [`max_array_length`](RespValueDecoderBuilder::max_array_length) elements are refused when their header is
/// read ([`CodecError::TooLongFrame`]), as are simple strings and errors longer than
/// 64 KiB without a CRLF; arrays nested deeper than
/// [`max_depth`](RespValueDecoderBuilder::max_depth), lengths below -1 and RESP3 types are
/// [`CodecError::CorruptFrame`].
///
/// # Examples
///
/// ```
/// use seine_buffer::CompositeBuf;
/// use seine_codec::Decoder;
/// use seine_codec::resp::{RespValue, RespValueDecoder};
///
/// let mut dec = RespValueDecoder::new();
/// let mut buf = CompositeBuf::from(&b"*2\r\n$1\r\na\r\n*1\r\n:5\r\n+OK\r\n"[..]);
/// assert_eq!(
///     dec.decode(&mut buf).unwrap(),
///     Some(RespValue::Array(vec![RespValue::bulk("a"), RespValue::Array(vec![RespValue::Integer(5)])]))
/// );
/// assert_eq!(dec.decode(&mut buf).unwrap(), Some(RespValue::ok()));
/// ```
#[derive(Clone, Debug)]
pub struct RespValueDecoder {
    max_bulk_length: usize,
    max_array_length: usize,
    max_line_len: usize,
    max_depth: usize,
    /// Do not measure again before the buffer holds this many bytes.
    wait_for: usize,
}

/// Configures a [`RespValueDecoder`]; made by [`RespValueDecoder::builder`].
/// Defaults: as [`RespValueDecoder::new`].
///
/// ```
/// use seine_buffer::CompositeBuf;
/// use seine_codec::{CodecError, Decoder};
/// use seine_codec::resp::RespValueDecoder;
///
/// let mut dec = RespValueDecoder::builder()
///     .max_bulk_length(2)
///     .max_array_length(8)
///     .max_depth(1)
///     .build()?;
/// assert_eq!((dec.max_bulk_length(), dec.max_array_length(), dec.max_depth()), (2, 8, 1));
/// assert!(dec.decode(&mut CompositeBuf::from(&b"$3\r\n"[..])).is_err());
/// assert!(dec.decode(&mut CompositeBuf::from(&b"*1\r\n*0\r\n"[..])).is_err());
/// # Ok::<(), CodecError>(())
/// ```
#[derive(Clone, Debug)]
#[must_use = "call build() to get the decoder"]
pub struct RespValueDecoderBuilder {
    max_bulk_length: usize,
    max_array_length: usize,
    max_depth: usize,
}

impl Default for RespValueDecoderBuilder {
    fn default() -> Self {
        RespValueDecoderBuilder {
            max_bulk_length: DEFAULT_MAX_BULK_LENGTH,
            max_array_length: DEFAULT_MAX_ARRAY_LENGTH,
            max_depth: DEFAULT_MAX_DEPTH,
        }
    }
}

impl RespValueDecoderBuilder {
    /// The longest bulk string accepted, in bytes.
    pub fn max_bulk_length(mut self, max: usize) -> Self {
        self.max_bulk_length = max;
        self
    }

    /// The largest number of elements of one array.
    pub fn max_array_length(mut self, max: usize) -> Self {
        self.max_array_length = max;
        self
    }

    /// How deep arrays may nest (1: no array inside an array; 0: no array).
    pub fn max_depth(mut self, max: usize) -> Self {
        self.max_depth = max;
        self
    }

    /// Builds the decoder. Does not allocate.
    ///
    /// # Errors
    ///
    /// None today (every limit is valid); the `Result` keeps one convention
    /// across the codecs' builders.
    pub fn build(self) -> Result<RespValueDecoder, CodecError> {
        Ok(RespValueDecoder {
            max_bulk_length: self.max_bulk_length,
            max_array_length: self.max_array_length,
            max_line_len: DEFAULT_MAX_INLINE_LENGTH,
            max_depth: self.max_depth,
            wait_for: 0,
        })
    }
}

impl Default for RespValueDecoder {
    fn default() -> Self {
        Self::new()
    }
}

/// The outcome of measuring.
enum Measure {
    /// The value ends here.
    Done(usize),
    /// At least this many bytes are needed in total.
    Need(usize),
}

impl RespValueDecoder {
    /// A decoder with the same limits as [`RespCommandDecoder::new`](super::RespCommandDecoder::new)
    /// and arrays nested at most 32 deep.
    ///
    /// ```
    /// let _ = seine_codec::resp::RespValueDecoder::new();
    /// ```
    pub fn new() -> Self {
        RespValueDecoder {
            max_bulk_length: DEFAULT_MAX_BULK_LENGTH,
            max_array_length: DEFAULT_MAX_ARRAY_LENGTH,
            max_line_len: DEFAULT_MAX_INLINE_LENGTH,
            max_depth: DEFAULT_MAX_DEPTH,
            wait_for: 0,
        }
    }

    /// A builder with the defaults of [`new`](Self::new).
    pub fn builder() -> RespValueDecoderBuilder {
        RespValueDecoderBuilder::default()
    }

    /// The longest bulk string accepted, in bytes.
    pub fn max_bulk_length(&self) -> usize {
        self.max_bulk_length
    }

    /// The largest number of elements of one array.
    pub fn max_array_length(&self) -> usize {
        self.max_array_length
    }

    /// How deep arrays may nest (1: no array inside an array).
    pub fn max_depth(&self) -> usize {
        self.max_depth
    }

    fn measure<I: Input + ?Sized>(
        &self,
        input: &I,
        pos: usize,
        depth: usize,
    ) -> Result<Measure, CodecError> {
        if pos >= input.len() {
            return Ok(Measure::Need(pos + 1));
        }
        let corrupt = |reason: Corruption| CodecError::CorruptFrame { reason };
        match input.byte(pos) {
            b'+' | b'-' => {
                let limit = pos.saturating_add(self.max_line_len);
                match input.find_lf(pos + 1, limit) {
                    Some(lf) if input.byte(lf - 1) == b'\r' && lf >= pos + 2 => {
                        Ok(Measure::Done(lf + 1))
                    }
                    Some(_) => Err(corrupt(Corruption::RespLineNotCrlf { offset: pos })),
                    None if input.len() >= limit => Err(CodecError::TooLongFrame {
                        length: (input.len() - pos) as u64,
                        max: self.max_line_len,
                    }),
                    None => Ok(Measure::Need(input.len() + 1)),
                }
            }
            b':' => match header_line(input, pos).map_err(corrupt)? {
                Line::Done(_, end) => Ok(Measure::Done(end)),
                Line::Partial => Ok(Measure::Need(input.len() + 1)),
            },
            b'$' => match header_line(input, pos).map_err(corrupt)? {
                Line::Partial => Ok(Measure::Need(input.len() + 1)),
                Line::Done(-1, end) => Ok(Measure::Done(end)),
                Line::Done(n, _) if n < 0 => Err(corrupt(Corruption::RespInvalidBulkLength {
                    length: n,
                    offset: pos,
                })),
                Line::Done(n, _) if n as u64 > self.max_bulk_length as u64 => {
                    Err(CodecError::TooLongFrame {
                        length: n as u64,
                        max: self.max_bulk_length,
                    })
                }
                Line::Done(n, start) => {
                    let end = start.saturating_add(n as usize).saturating_add(2);
                    if input.len() < end {
                        return Ok(Measure::Need(end));
                    }
                    if input.byte(end - 2) != b'\r' || input.byte(end - 1) != b'\n' {
                        return Err(corrupt(Corruption::RespBulkNotCrlf {
                            length: n as usize,
                            offset: start,
                        }));
                    }
                    Ok(Measure::Done(end))
                }
            },
            b'*' => match header_line(input, pos).map_err(corrupt)? {
                Line::Partial => Ok(Measure::Need(input.len() + 1)),
                Line::Done(-1, end) => Ok(Measure::Done(end)),
                Line::Done(n, _) if n < 0 => Err(corrupt(Corruption::RespInvalidArrayLength {
                    length: n,
                    offset: pos,
                })),
                Line::Done(n, _) if n as u64 > self.max_array_length as u64 => {
                    Err(CodecError::TooLongFrame {
                        length: n as u64,
                        max: self.max_array_length,
                    })
                }
                Line::Done(n, mut end) => {
                    if depth >= self.max_depth {
                        return Err(corrupt(Corruption::RespTooDeep {
                            max: self.max_depth,
                            offset: pos,
                        }));
                    }
                    for _ in 0..n {
                        match self.measure(input, end, depth + 1)? {
                            Measure::Done(e) => end = e,
                            need => return Ok(need),
                        }
                    }
                    Ok(Measure::Done(end))
                }
            },
            b'%' | b'~' | b'_' | b',' | b'#' | b'(' | b'=' | b'>' | b'|' | b'!' => {
                Err(corrupt(Corruption::RespUnsupportedType {
                    byte: input.byte(pos),
                    offset: pos,
                }))
            }
            other => Err(corrupt(Corruption::RespUnknownType {
                byte: other,
                offset: pos,
            })),
        }
    }
}

/// Builds a measured (so valid) value from `frame`.
struct Builder<'a, I: ?Sized> {
    input: &'a I,
    take: &'a dyn Fn(usize, usize) -> Bytes,
}

impl<I: Input + ?Sized> Builder<'_, I> {
    fn build(&self, pos: usize) -> (RespValue, usize) {
        let number = |pos: usize| match header_line(self.input, pos) {
            Ok(Line::Done(n, end)) => (n, end),
            _ => unreachable!("the value was measured"),
        };
        match self.input.byte(pos) {
            kind @ (b'+' | b'-') => {
                let lf = self
                    .input
                    .find_lf(pos + 1, usize::MAX)
                    .expect("the value was measured");
                let text = (self.take)(pos + 1, lf - 1);
                let v = if kind == b'+' {
                    RespValue::Simple(text)
                } else {
                    RespValue::Error(text)
                };
                (v, lf + 1)
            }
            b':' => {
                let (n, end) = number(pos);
                (RespValue::Integer(n), end)
            }
            b'$' => match number(pos) {
                (-1, end) => (RespValue::Null, end),
                (n, start) => {
                    let end = start + n as usize;
                    (RespValue::Bulk((self.take)(start, end)), end + 2)
                }
            },
            _ => match number(pos) {
                (-1, end) => (RespValue::NullArray, end),
                (n, mut end) => {
                    // Every element was measured, so `n` is bounded by the bytes received.
                    let mut items = Vec::with_capacity(n as usize);
                    for _ in 0..n {
                        let (v, e) = self.build(end);
                        items.push(v);
                        end = e;
                    }
                    (RespValue::Array(items), end)
                }
            },
        }
    }
}

impl Decoder for RespValueDecoder {
    type Item = RespValue;

    fn decode(&mut self, src: &mut CompositeBuf) -> Result<Option<RespValue>, CodecError> {
        if src.is_empty() || src.len() < self.wait_for {
            return Ok(None);
        }
        let measured = match src.segments().as_slice() {
            [one] => self.measure(&one[..], 0, 0),
            _ => self.measure(&*src, 0, 0),
        };
        let end = match measured {
            Ok(Measure::Done(end)) => end,
            Ok(Measure::Need(n)) => {
                self.wait_for = n;
                return Ok(None);
            }
            Err(e) => {
                self.wait_for = 0;
                return Err(e);
            }
        };
        self.wait_for = 0;
        let frame = src.split_to(end);
        let value = if frame.segment_count() == 1 {
            let base = frame.into_bytes();
            let take = |s: usize, e: usize| base.slice(s..e);
            Builder {
                input: &base[..],
                take: &take,
            }
            .build(0)
            .0
        } else {
            let take = |s: usize, e: usize| frame.slice(s..e).into_bytes();
            Builder {
                input: &frame,
                take: &take,
            }
            .build(0)
            .0
        };
        Ok(Some(value))
    }

    /// Like `decode`; an incomplete value left at the end of input is
    /// [`CodecError::TruncatedFrame`].
    fn decode_eof(&mut self, src: &mut CompositeBuf) -> Result<Option<RespValue>, CodecError> {
        self.wait_for = 0;
        match self.decode(src)? {
            Some(v) => Ok(Some(v)),
            None if src.is_empty() => Ok(None),
            None => {
                let remaining = src.len();
                src.clear();
                Err(CodecError::TruncatedFrame { remaining })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_all(bytes: &[u8]) -> Result<Vec<RespValue>, CodecError> {
        let mut dec = RespValueDecoder::new();
        let mut buf = CompositeBuf::from(bytes.to_vec());
        let mut out = Vec::new();
        while let Some(v) = dec.decode(&mut buf)? {
            out.push(v);
        }
        assert!(buf.is_empty(), "left: {buf:?}");
        Ok(out)
    }

    #[test]
    fn all_kinds_round_trip() {
        let v = RespValue::Array(vec![
            RespValue::ok(),
            RespValue::error("ERR x"),
            RespValue::Integer(-12),
            RespValue::bulk("bin\r\nary"),
            RespValue::bulk(""),
            RespValue::Null,
            RespValue::NullArray,
            RespValue::Array(vec![]),
            RespValue::Array(vec![RespValue::Array(vec![RespValue::Integer(1)])]),
        ]);
        assert_eq!(decode_all(&v.to_vec()).unwrap(), vec![v]);
    }

    #[test]
    fn split_everywhere() {
        let v = RespValue::Array(vec![
            RespValue::bulk("hello"),
            RespValue::Array(vec![RespValue::Integer(7), RespValue::simple("OK")]),
            RespValue::Null,
        ]);
        let wire = v.to_vec();
        for at in 0..=wire.len() {
            for at2 in at..=wire.len() {
                let mut dec = RespValueDecoder::new();
                let mut buf = CompositeBuf::new();
                let mut got = Vec::new();
                for piece in [&wire[..at], &wire[at..at2], &wire[at2..]] {
                    buf.push(Bytes::copy_from_slice(piece));
                    while let Some(v) = dec.decode(&mut buf).unwrap() {
                        got.push(v);
                    }
                }
                assert_eq!(got, vec![v.clone()], "split at {at}, {at2}");
            }
        }
    }

    #[test]
    fn rejects() {
        for bad in [
            &b"*-2\r\n"[..],
            b"$-2\r\n",
            b"%1\r\n",
            b"?\r\n",
            b"+OK\n",
            b"$3\r\nabcd\r\n",
        ] {
            assert!(
                matches!(decode_all(bad), Err(CodecError::CorruptFrame { .. })),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
        let deep = b"*1\r\n".repeat(40);
        assert!(matches!(
            decode_all(&deep),
            Err(CodecError::CorruptFrame { .. })
        ));
        assert!(matches!(
            decode_all(b"$4294967296\r\n"),
            Err(CodecError::TooLongFrame { .. })
        ));
    }

    #[test]
    fn waits_for_a_whole_bulk_without_remeasuring() {
        let mut dec = RespValueDecoder::new();
        let mut buf = CompositeBuf::from(&b"$10\r\n01"[..]);
        assert!(dec.decode(&mut buf).unwrap().is_none());
        assert_eq!(dec.wait_for, 17);
        buf.push(Bytes::from_static(b"23456789\r\n"));
        assert_eq!(
            dec.decode(&mut buf).unwrap(),
            Some(RespValue::bulk("0123456789"))
        );
        let mut eof = CompositeBuf::from(&b"$3\r\na"[..]);
        assert_eq!(
            dec.decode_eof(&mut eof),
            Err(CodecError::TruncatedFrame { remaining: 5 })
        );
    }
}
