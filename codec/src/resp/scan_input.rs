//! What the RESP scanners read from: a contiguous slice (the fast path, taken when
//! everything received lies in one segment) or a [`CompositeBuf`]. Neither copies
//! the input; a composite copies at most one short header line into a stack buffer.

use seine_buffer::CompositeBuf;

use crate::error::Corruption;

/// Longest `*<n>` / `$<n>` / `:<n>` header line accepted, type byte and CRLF
/// included: a sign, 20 digits and some slack. A longer line is corrupt.
pub(crate) const MAX_HEADER_LINE: usize = 32;

/// Read access to received bytes by absolute index, without consuming them.
pub(crate) trait Input {
    /// Bytes available.
    fn len(&self) -> usize;
    /// The byte at `i` (`i < len()`).
    fn byte(&self, i: usize) -> u8;
    /// Index of the first `\n` in `from..min(to, len())`.
    fn find_lf(&self, from: usize, to: usize) -> Option<usize>;
    /// Parses the signed decimal in `from..to` (a header line without its type
    /// byte and CRLF); `None` if it is not one.
    fn number(&self, from: usize, to: usize) -> Option<i64>;
    /// The bytes as one slice, when they are contiguous.
    fn as_slice(&self) -> Option<&[u8]> {
        None
    }
}

impl Input for [u8] {
    #[inline]
    fn len(&self) -> usize {
        <[u8]>::len(self)
    }

    #[inline]
    fn byte(&self, i: usize) -> u8 {
        self[i]
    }

    #[inline]
    fn find_lf(&self, from: usize, to: usize) -> Option<usize> {
        let to = to.min(self.len());
        if from >= to {
            return None;
        }
        let window = &self[from..to];
        let found = if window.len() <= 2 * MAX_HEADER_LINE {
            // A header line (a few bytes): a plain scan ends before `memchr`
            // has set up its vector search.
            window.iter().position(|&b| b == b'\n')
        } else {
            memchr::memchr(b'\n', window)
        };
        found.map(|p| from + p)
    }

    #[inline]
    fn number(&self, from: usize, to: usize) -> Option<i64> {
        parse_i64(&self[from..to])
    }

    #[inline]
    fn as_slice(&self) -> Option<&[u8]> {
        Some(self)
    }
}

impl Input for CompositeBuf {
    #[inline]
    fn len(&self) -> usize {
        CompositeBuf::len(self)
    }

    #[inline]
    fn byte(&self, i: usize) -> u8 {
        self.get_u8_at(i).unwrap_or(0)
    }

    fn find_lf(&self, from: usize, to: usize) -> Option<usize> {
        self.find_byte(b'\n', from).filter(|&p| p < to)
    }

    fn number(&self, from: usize, to: usize) -> Option<i64> {
        let mut line = [0u8; MAX_HEADER_LINE];
        let dst = line.get_mut(..to - from)?;
        if !self.copy_to_slice_at(from, dst) {
            return None;
        }
        parse_i64(dst)
    }
}

/// Parses a strict signed decimal: an optional `-`, then 1 to 19 digits, nothing
/// else (no `+`, no spaces). `None` on anything else or on overflow.
#[inline]
pub(crate) fn parse_i64(s: &[u8]) -> Option<i64> {
    let (neg, digits) = match s.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, s),
    };
    if digits.is_empty() || digits.len() > 19 {
        return None;
    }
    let mut n: i64 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return None;
        }
        n = n.checked_mul(10)?.checked_add(i64::from(d - b'0'))?;
    }
    Some(if neg { -n } else { n })
}

/// Where a header line (`<type><number>\r\n` starting at `pos`) ends.
pub(crate) enum Line {
    /// The number, and the index just past the `\n`.
    Done(i64, usize),
    /// Not all of the line has arrived.
    Partial,
}

/// Reads the header line at `pos` (its type byte already checked).
///
/// Errors with a reason when the line is longer than [`MAX_HEADER_LINE`], lacks the
/// `\r` before its `\n`, or does not hold a decimal number.
#[inline]
pub(crate) fn header_line<I: Input + ?Sized>(input: &I, pos: usize) -> Result<Line, Corruption> {
    if let Some(line) = input.as_slice().and_then(|s| quick_header_line(s, pos)) {
        return Ok(line);
    }
    let limit = pos + MAX_HEADER_LINE;
    let Some(lf) = input.find_lf(pos + 1, limit) else {
        if input.len() >= limit {
            return Err(Corruption::RespHeaderTooLong {
                offset: pos,
                max: MAX_HEADER_LINE,
            });
        }
        return Ok(Line::Partial);
    };
    if lf < pos + 2 || input.byte(lf - 1) != b'\r' {
        return Err(Corruption::RespLineNotCrlf { offset: pos });
    }
    match input.number(pos + 1, lf - 1) {
        Some(n) => Ok(Line::Done(n, lf + 1)),
        None => Err(Corruption::RespNotANumber { offset: pos }),
    }
}

/// The common header line in one pass: `-`?, 1 to 18 digits, CRLF, all present.
/// `None` for anything else (a partial line, 19 or more digits, a malformed one):
/// [`header_line`] then decides, with its exact errors.
#[inline]
fn quick_header_line(input: &[u8], pos: usize) -> Option<Line> {
    let line = input.get(pos + 1..)?;
    let (neg, digits) = match line.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, line),
    };
    let mut n: i64 = 0;
    let mut i = 0;
    while let Some(&d) = digits.get(i) {
        if !d.is_ascii_digit() {
            break;
        }
        if i == 18 {
            return None; // may overflow: the careful parser decides
        }
        n = n * 10 + i64::from(d - b'0');
        i += 1;
    }
    if i == 0 || digits.get(i..i + 2) != Some(&b"\r\n"[..]) {
        return None;
    }
    let end = pos + 1 + usize::from(neg) + i + 2;
    Some(Line::Done(if neg { -n } else { n }, end))
}

#[cfg(test)]
mod tests {
    use super::*;
    use seine_buffer::Bytes;

    #[test]
    fn parse_i64_is_strict() {
        assert_eq!(parse_i64(b"0"), Some(0));
        assert_eq!(parse_i64(b"-1"), Some(-1));
        assert_eq!(parse_i64(b"9223372036854775807"), Some(i64::MAX));
        assert_eq!(parse_i64(b"9223372036854775808"), None);
        assert_eq!(parse_i64(b"-9223372036854775807"), Some(-i64::MAX));
        for bad in [
            &b""[..],
            b"-",
            b"+1",
            b" 1",
            b"1 ",
            b"1a",
            b"--1",
            b"00000000000000000001",
        ] {
            assert_eq!(parse_i64(bad), None, "{:?}", bad);
        }
    }

    #[test]
    fn header_line_on_slice_and_composite() {
        let data = b"$12\r\nrest";
        assert!(matches!(header_line(&data[..], 0), Ok(Line::Done(12, 5))));
        let comp: CompositeBuf = [
            Bytes::from_static(b"$1"),
            Bytes::from_static(b"2\r"),
            Bytes::from_static(b"\nrest"),
        ]
        .into_iter()
        .collect();
        assert!(matches!(header_line(&comp, 0), Ok(Line::Done(12, 5))));
        assert!(matches!(header_line(&b"$12\r"[..], 0), Ok(Line::Partial)));
        assert!(header_line(&b"$12\n"[..], 0).is_err());
        assert!(header_line(&b"$1x\r\n"[..], 0).is_err());
        assert!(header_line(&[b'1'; 40][..], 0).is_err());
    }

    /// The one-pass parse of contiguous input agrees with the careful one (run on
    /// a composite of one-byte segments, which has no slice to take the fast path).
    #[test]
    fn quick_and_careful_header_lines_agree() {
        let lines: Vec<Vec<u8>> = [
            &b"$0\r\n"[..],
            b"*-1\r\n",
            b"$-0\r\n",
            b"$007\r\n",
            b"$999999999999999999\r\n",
            b"$9223372036854775807\r\n",
            b"$9223372036854775808\r\n",
            b"$-9223372036854775807\r\n",
            b"$12\r",
            b"$12",
            b"$",
            b"$-",
            b"$-\r\n",
            b"$\r\n",
            b"$1 \r\n",
            b"$1\n",
            b"$1\rx",
            b"$+1\r\n",
            b"$--1\r\n",
            b"$00000000000000000001\r\n",
            b"$123456789012345678901234567890123\r\n",
        ]
        .iter()
        .map(|l| [&l[..], b"tail"].concat())
        .collect();
        for line in &lines {
            for cut in [line.len() - 4, line.len()] {
                let bytes = &line[..cut];
                let comp: CompositeBuf = bytes.iter().map(|&b| Bytes::from(vec![b])).collect();
                let quick = header_line(bytes, 0);
                let careful = header_line(&comp, 0);
                let show = |r: &Result<Line, Corruption>| match r {
                    Ok(Line::Done(n, end)) => format!("done {n} {end}"),
                    Ok(Line::Partial) => "partial".to_string(),
                    Err(_) => "error".to_string(),
                };
                assert_eq!(
                    show(&quick),
                    show(&careful),
                    "{:?}",
                    String::from_utf8_lossy(bytes)
                );
            }
        }
    }
}
