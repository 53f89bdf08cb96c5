//! The chunked transfer coding (RFC 9112 §7.1), decoded incrementally: each
//! chunk's data is moved out as it arrives, without copying. Used for request
//! bodies by [`HttpRequestDecoder`](super::HttpRequestDecoder); public as
//! [`ChunkedDecoder`] for any other message (a response decoder).

use seine_buffer::{Buf, Bytes, CompositeBuf};
use smallvec::SmallVec;

use super::error::HttpError;
use super::headers::HttpHeaders;

/// Longest chunk-size line accepted (size, extensions, CRLF).
pub(crate) const MAX_CHUNK_LINE: usize = 4096;

/// Where the decoder is inside a chunked body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Expecting a chunk-size line.
    Size,
    /// Inside a chunk's data, this many bytes left.
    Data(u64),
    /// Expecting the CRLF after a chunk's data.
    DataEnd,
    /// After the last chunk: trailer lines until an empty line; bytes seen so far.
    Trailer(usize),
    /// The body and its trailers are complete.
    Done,
}

/// Decodes a body in the chunked transfer coding, as its bytes arrive.
///
/// [`decode`](Self::decode) moves the data of the chunks (their framing stripped)
/// from the input to an output buffer, without copying, and reports when the last
/// chunk and the trailer section have been read; the trailer fields are then in
/// [`take_trailers`](Self::take_trailers). Bytes after the body stay in the input.
///
/// # Limits and bad input
///
/// * the sum of the chunk sizes over `max_body`: [`HttpError::BodyTooLarge`], as
///   soon as a chunk-size line announces it (before its data is read);
/// * a chunk-size line that is not hex digits (optionally followed by
///   extensions), of more than 16 significant digits (a 2^64 claim), longer than
///   4 KiB or not ended by CRLF, chunk data not followed by CRLF, a trailer line
///   without `:`: [`HttpError::BadRequest`];
/// * a trailer section over `max_trailers` bytes: [`HttpError::HeadersTooLarge`].
///
/// Nothing is buffered beyond one chunk-size or trailer line; the decoder never
/// allocates for a size a peer claims. After an error the body is not framed any
/// more: the connection must close.
///
/// ```
/// use seine_buffer::CompositeBuf;
/// use seine_codec::http::ChunkedDecoder;
///
/// let mut dec = ChunkedDecoder::new(1 << 20, 1024);
/// let mut src = CompositeBuf::from(&b"3\r\nabc\r\n2;ext=1\r\nde\r\n0\r\nSum: 5\r\n\r\nNEXT"[..]);
/// let mut body = CompositeBuf::new();
/// assert!(dec.decode(&mut src, &mut body).unwrap());
/// assert_eq!(body, b"abcde"[..]);
/// assert_eq!(dec.take_trailers().get_str("sum"), Some("5"));
/// assert_eq!(src, b"NEXT"[..]);
/// ```
#[derive(Debug, Clone)]
pub struct ChunkedDecoder {
    state: State,
    received: u64,
    max_body: u64,
    max_trailers: usize,
    trailers: HttpHeaders,
}

impl ChunkedDecoder {
    /// A decoder for one body of at most `max_body` bytes of data, with a trailer
    /// section of at most `max_trailers` bytes.
    pub fn new(max_body: u64, max_trailers: usize) -> Self {
        ChunkedDecoder {
            state: State::Size,
            received: 0,
            max_body,
            max_trailers,
            trailers: HttpHeaders::new(),
        }
    }

    /// Data bytes decoded so far.
    pub fn received(&self) -> u64 {
        self.received
    }

    /// Whether the body and its trailers are complete.
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// The trailer fields read (all of them once [`is_done`](Self::is_done)).
    pub fn take_trailers(&mut self) -> HttpHeaders {
        std::mem::take(&mut self.trailers)
    }

    /// Moves what `src` holds of the body's data to the end of `out`. Returns
    /// `Ok(true)` once the body (trailers included) is complete, `Ok(false)` when
    /// more bytes are needed.
    ///
    /// # Errors
    ///
    /// See the type's documentation.
    pub fn decode(
        &mut self,
        src: &mut CompositeBuf,
        out: &mut CompositeBuf,
    ) -> Result<bool, HttpError> {
        loop {
            match self.state {
                State::Done => return Ok(true),
                State::Size => {
                    let Some(line) = line(src, MAX_CHUNK_LINE, "chunk-size line")? else {
                        return Ok(false);
                    };
                    let size = parse_chunk_size(&line)?;
                    if size == 0 {
                        self.state = State::Trailer(0);
                        continue;
                    }
                    let total = self.received.saturating_add(size);
                    if total > self.max_body {
                        return Err(HttpError::BodyTooLarge {
                            length: total,
                            max: usize::try_from(self.max_body).unwrap_or(usize::MAX),
                        });
                    }
                    self.state = State::Data(size);
                }
                State::Data(left) => {
                    if src.is_empty() {
                        return Ok(false);
                    }
                    let n = left.min(src.len() as u64) as usize;
                    let mut data = src.split_to(n);
                    out.append(&mut data);
                    self.received += n as u64;
                    self.state = if n as u64 == left {
                        State::DataEnd
                    } else {
                        State::Data(left - n as u64)
                    };
                }
                State::DataEnd => {
                    if src.len() < 2 {
                        return Ok(false);
                    }
                    if src.get_u16_at(0) != Some(u16::from_be_bytes(*b"\r\n")) {
                        return Err(HttpError::bad("chunk data not followed by CRLF"));
                    }
                    src.advance(2);
                    self.state = State::Size;
                }
                State::Trailer(seen) => {
                    let max = self.max_trailers;
                    let left = max.saturating_sub(seen);
                    let Some(line) = line(src, left, "trailer section").map_err(|e| match e {
                        HttpError::HeadersTooLarge { size, .. } => HttpError::HeadersTooLarge {
                            size: seen + size,
                            max,
                        },
                        other => other,
                    })?
                    else {
                        return Ok(false);
                    };
                    if line.is_empty() {
                        self.state = State::Done;
                        return Ok(true);
                    }
                    let Some(colon) = line.iter().position(|&b| b == b':') else {
                        return Err(HttpError::bad("a trailer line without ':'"));
                    };
                    let name = &line[..colon];
                    if name.is_empty() || !name.iter().all(|&b| is_tchar(b)) {
                        return Err(HttpError::bad("a trailer field name that is not a token"));
                    }
                    let value = line[colon + 1..].trim_ascii();
                    if value.iter().any(|&b| b == 0 || b == b'\r') {
                        return Err(HttpError::bad("a control character in a trailer value"));
                    }
                    self.trailers
                        .append(Bytes::copy_from_slice(name), Bytes::copy_from_slice(value));
                    self.state = State::Trailer(seen + line.len() + 2);
                }
            }
        }
    }
}

fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Cuts the next CRLF-terminated line off `src` (without its CRLF), copied into a
/// small buffer; `None` if it has not all arrived. A line of `limit` bytes or more
/// is an error.
fn line(
    src: &mut CompositeBuf,
    limit: usize,
    what: &str,
) -> Result<Option<SmallVec<[u8; 32]>>, HttpError> {
    let lf = match src.find_byte(b'\n', 0) {
        Some(lf) if lf < limit => lf,
        Some(lf) => return Err(too_long(what, lf + 1, limit)),
        None if src.len() >= limit => return Err(too_long(what, src.len(), limit)),
        None => return Ok(None),
    };
    if lf == 0 || src.get_u8_at(lf - 1) != Some(b'\r') {
        return Err(HttpError::bad(format!("a {what} not ended by CRLF")));
    }
    let mut out: SmallVec<[u8; 32]> = SmallVec::from_elem(0, lf - 1);
    src.copy_to_slice_at(0, &mut out);
    src.advance(lf + 1);
    Ok(Some(out))
}

fn too_long(what: &str, size: usize, max: usize) -> HttpError {
    if what == "trailer section" {
        HttpError::HeadersTooLarge { size, max }
    } else {
        HttpError::bad(format!("a {what} longer than {max} bytes"))
    }
}

/// Parses `chunk-size [ BWS ";" chunk-ext ]`: 1 to 16 significant hex digits.
pub(crate) fn parse_chunk_size(line: &[u8]) -> Result<u64, HttpError> {
    let digits = line.iter().take_while(|b| b.is_ascii_hexdigit()).count();
    if digits == 0 {
        return Err(HttpError::bad(format!(
            "invalid chunk size {:?}",
            String::from_utf8_lossy(line)
        )));
    }
    let mut size: u64 = 0;
    for &d in &line[..digits] {
        let v = (d as char).to_digit(16).unwrap_or(0) as u64;
        size = size
            .checked_mul(16)
            .and_then(|s| s.checked_add(v))
            .ok_or_else(|| HttpError::bad("chunk size overflows 64 bits"))?;
    }
    let rest = &line[digits..];
    let rest = &rest[rest
        .iter()
        .take_while(|b| matches!(b, b' ' | b'\t'))
        .count()..];
    if !rest.is_empty() && rest[0] != b';' {
        return Err(HttpError::bad(format!(
            "invalid chunk size {:?}",
            String::from_utf8_lossy(line)
        )));
    }
    if rest.iter().any(|&b| b == b'\r' || b == 0) {
        return Err(HttpError::bad("a control character in a chunk extension"));
    }
    Ok(size)
}

#[cfg(test)]
mod tests {
    use super::*;
    use seine_buffer::Bytes;

    #[test]
    fn chunk_sizes() {
        assert_eq!(parse_chunk_size(b"0").unwrap(), 0);
        assert_eq!(parse_chunk_size(b"1aF").unwrap(), 0x1af);
        assert_eq!(parse_chunk_size(b"10;name=value").unwrap(), 16);
        assert_eq!(parse_chunk_size(b"10 ;x").unwrap(), 16);
        assert_eq!(parse_chunk_size(b"0000000000000000000001").unwrap(), 1);
        assert_eq!(parse_chunk_size(b"ffffffffffffffff").unwrap(), u64::MAX);
        for bad in [
            &b""[..],
            b"x",
            b"-1",
            b"+1",
            b"0x10",
            b"10 x",
            b"1ffffffffffffffff",
            b" 1",
        ] {
            assert!(
                parse_chunk_size(bad).is_err(),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn body_in_pieces() {
        let wire = b"3\r\nabc\r\n10;ext\r\n0123456789abcdef\r\n0\r\nTrailer: x\r\n\r\nNEXT";
        for at in 0..wire.len() {
            let mut src = CompositeBuf::from(Bytes::copy_from_slice(&wire[..at]));
            let mut body = CompositeBuf::new();
            let mut state = ChunkedDecoder::new(1 << 20, 1024);
            let done = state.decode(&mut src, &mut body).unwrap();
            assert!(!done || at >= wire.len() - 4, "done early at {at}");
            src.push(Bytes::copy_from_slice(&wire[at..]));
            assert!(state.decode(&mut src, &mut body).unwrap() || done);
            assert_eq!(state.take_trailers().get_str("trailer"), Some("x"));
            assert_eq!(body, b"abc0123456789abcdef"[..], "split at {at}");
            assert_eq!(src, b"NEXT"[..]);
        }
    }

    #[test]
    fn limits_and_errors() {
        let run = |wire: &[u8], max_body: usize| {
            let mut src = CompositeBuf::from(wire.to_vec());
            ChunkedDecoder::new(max_body as u64, 64).decode(&mut src, &mut CompositeBuf::new())
        };
        assert!(matches!(
            run(b"11\r\n", 16),
            Err(HttpError::BodyTooLarge {
                length: 17,
                max: 16
            })
        ));
        assert!(matches!(
            run(b"3\r\nabcXY", 16),
            Err(HttpError::BadRequest { .. })
        ));
        assert!(matches!(
            run(b"3\nabc", 16),
            Err(HttpError::BadRequest { .. })
        ));
        assert!(matches!(
            run(&[b'1'; 5000], 16),
            Err(HttpError::BadRequest { .. })
        ));
        let mut trailers = b"0\r\n".to_vec();
        trailers.extend(std::iter::repeat_n(b"X: y\r\n", 20).flatten());
        assert!(matches!(
            run(&trailers, 16),
            Err(HttpError::HeadersTooLarge { .. })
        ));
        assert!(matches!(
            run(b"0\r\nnocolon\r\n\r\n", 16),
            Err(HttpError::BadRequest { .. })
        ));
        assert!(run(b"0\r\n\r\n", 16).unwrap());
    }
}
