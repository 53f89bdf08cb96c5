//! [`ProxyHeaderParser`]: finds and decodes one PROXY header at the start of a
//! byte stream, incrementally and within a fixed memory bound.

use seine_buffer::{Bytes, BytesMut};

use super::invalid;
use super::message::HAProxyMessage;
use super::v1::{self, V1_MAX_LENGTH};
use super::v2::{self, V2_HEADER_LENGTH, V2_SIGNATURE};
use crate::CodecError;

/// The longest v2 header the format can express (16 bytes and a 16-bit length).
pub const V2_MAX_LENGTH: usize = V2_HEADER_LENGTH + u16::MAX as usize;

/// The shortest v2 header limit a parser accepts: room for Unix addresses (216 bytes).
pub const V2_MIN_LENGTH: usize = V2_HEADER_LENGTH + v2::UNIX_ADDRS;

const V1_PREFIX: &[u8] = b"PROXY";
/// Bytes that tell v1 from v2 (and from anything else).
const DETECT: usize = 5;

/// Which header the stream starts with, once known.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Unknown,
    V1,
    V2,
}

/// A sans-IO decoder of one PROXY protocol header (v1 or v2), the core of
/// [`HAProxyMessageDecoder`](super::HAProxyMessageDecoder).
///
/// [`push`](Self::push) takes bytes as they arrive, consumes only the header's
/// (the rest stays in the caller's `Bytes`), and returns the message once the
/// header is complete. It copies the header's bytes into a buffer that never
/// grows past the header's length, which is checked against the limit before a
/// byte of it is buffered: at most [`V1_MAX_LENGTH`] bytes for v1, at most
/// [`max_v2_length`](Self::max_v2_length) for v2 (Netty's `maxTlvSize` plus the
/// address block). Input that starts with neither signature fails as soon as
/// its first byte differs.
///
/// ```
/// use seine_buffer::Bytes;
/// use seine_codec::proxy::ProxyHeaderParser;
/// let mut p = ProxyHeaderParser::default();
/// let mut first = Bytes::from_static(b"PROXY TCP4 192.0.2.7 ");
/// assert!(p.push(&mut first).unwrap().is_none()); // wants the rest
/// let mut rest = Bytes::from_static(b"198.51.100.1 56324 443\r\nhello");
/// let msg = p.push(&mut rest).unwrap().unwrap();
/// assert_eq!(msg.source().unwrap().port(), 56324);
/// assert_eq!(rest, "hello");
/// ```
#[derive(Debug)]
pub struct ProxyHeaderParser {
    buf: BytesMut,
    kind: Kind,
    /// The whole v2 header's length, once its fixed part is read.
    v2_total: Option<usize>,
    max_v2: usize,
    done: bool,
}

impl Default for ProxyHeaderParser {
    /// Accepts v2 headers of any length the format allows (Netty's default).
    fn default() -> Self {
        Self::with_max_tlv_size(V2_MAX_LENGTH - V2_MIN_LENGTH)
    }
}

impl ProxyHeaderParser {
    /// A parser that refuses v2 headers whose TLVs may take more than
    /// `max_tlv_size` bytes (Netty's `HAProxyMessageDecoder(maxTlvSize)`): the v2
    /// limit is `16 + 216 + max_tlv_size`, capped at 65 551.
    pub fn with_max_tlv_size(max_tlv_size: usize) -> Self {
        ProxyHeaderParser {
            buf: BytesMut::new(),
            kind: Kind::Unknown,
            v2_total: None,
            max_v2: V2_MIN_LENGTH
                .saturating_add(max_tlv_size)
                .min(V2_MAX_LENGTH),
            done: false,
        }
    }

    /// The longest v2 header accepted.
    pub fn max_v2_length(&self) -> usize {
        self.max_v2
    }

    /// Bytes of a header buffered so far.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// Consumes header bytes from the front of `input`; returns the message once
    /// the header is complete (the bytes after it stay in `input`), `None` if more
    /// are needed (then `input` is empty). Copies at most the header's bytes.
    ///
    /// # Errors
    /// [`CodecError::InvalidProxyHeader`] for input that is not a PROXY header or a
    /// malformed one, [`CodecError::ProxyHeaderTooLong`] for a header over the
    /// limit. After an error, or once a message was returned, the parser consumes
    /// nothing more.
    pub fn push(&mut self, input: &mut Bytes) -> Result<Option<HAProxyMessage>, CodecError> {
        if self.done {
            return Ok(None);
        }
        let r = self.step(input);
        if !matches!(r, Ok(None)) {
            self.done = true;
            self.buf = BytesMut::new();
        }
        r
    }

    fn step(&mut self, input: &mut Bytes) -> Result<Option<HAProxyMessage>, CodecError> {
        if self.kind == Kind::Unknown {
            let n = (DETECT - self.buf.len()).min(input.len());
            self.buf.extend_from_slice(&input.split_to(n));
            let seen = &self.buf[..];
            let v1 = V1_PREFIX.starts_with(seen);
            let v2 = V2_SIGNATURE.starts_with(seen);
            if !v1 && !v2 {
                return Err(invalid(format!(
                    "the connection does not start with a PROXY protocol header (first bytes {:?})",
                    seen.escape_ascii().to_string()
                )));
            }
            if self.buf.len() < DETECT {
                return Ok(None);
            }
            self.kind = if v1 { Kind::V1 } else { Kind::V2 };
        }
        match self.kind {
            Kind::V1 => self.step_v1(input),
            _ => self.step_v2(input),
        }
    }

    fn step_v1(&mut self, input: &mut Bytes) -> Result<Option<HAProxyMessage>, CodecError> {
        let room = V1_MAX_LENGTH - self.buf.len();
        let window = &input[..input.len().min(room)];
        match memchr::memchr(b'\n', window) {
            Some(i) => {
                self.buf.extend_from_slice(&input.split_to(i + 1));
                v1::parse(&self.buf).map(Some)
            }
            None if input.len() >= room => Err(CodecError::ProxyHeaderTooLong {
                length: self.buf.len() + input.len(),
                max: V1_MAX_LENGTH,
            }),
            None => {
                self.buf.extend_from_slice(&input.split_to(input.len()));
                Ok(None)
            }
        }
    }

    fn step_v2(&mut self, input: &mut Bytes) -> Result<Option<HAProxyMessage>, CodecError> {
        let total = match self.v2_total {
            Some(t) => t,
            None => {
                let n = (V2_HEADER_LENGTH - self.buf.len()).min(input.len());
                self.buf.extend_from_slice(&input.split_to(n));
                if self.buf.len() < V2_HEADER_LENGTH {
                    // Fail early on a wrong signature byte.
                    if !V2_SIGNATURE.starts_with(&self.buf[..self.buf.len().min(12)]) {
                        return Err(invalid("the v2 signature is wrong".into()));
                    }
                    return Ok(None);
                }
                let total = v2::header_length(&self.buf)?;
                if total > self.max_v2 {
                    return Err(CodecError::ProxyHeaderTooLong {
                        length: total,
                        max: self.max_v2,
                    });
                }
                self.buf.reserve(total - self.buf.len());
                self.v2_total = Some(total);
                total
            }
        };
        let n = (total - self.buf.len()).min(input.len());
        self.buf.extend_from_slice(&input.split_to(n));
        if self.buf.len() < total {
            return Ok(None);
        }
        v2::parse(std::mem::take(&mut self.buf).freeze()).map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_other_protocols_at_the_first_wrong_byte() {
        let mut p = ProxyHeaderParser::default();
        let err = p.push(&mut Bytes::from_static(b"G")).unwrap_err();
        assert!(matches!(err, CodecError::InvalidProxyHeader { .. }));
        // Consumes nothing more afterwards.
        let mut more = Bytes::from_static(b"PROXY");
        assert_eq!(p.push(&mut more), Ok(None));
        assert_eq!(more.len(), 5);
    }

    #[test]
    fn v1_line_without_end_is_too_long_at_the_limit() {
        let mut p = ProxyHeaderParser::default();
        let mut line = Bytes::from_static(b"P");
        assert_eq!(p.push(&mut line), Ok(None));
        let mut rest = Bytes::from([&b"ROXY "[..], &[b'x'; 200]].concat());
        let err = p.push(&mut rest).unwrap_err();
        assert!(matches!(
            err,
            CodecError::ProxyHeaderTooLong { max: 107, .. }
        ));
        assert!(p.buffered() <= V1_MAX_LENGTH);
    }

    #[test]
    fn v2_over_the_limit_is_refused_before_buffering() {
        let mut p = ProxyHeaderParser::with_max_tlv_size(0);
        let mut h = V2_SIGNATURE.to_vec();
        h.extend_from_slice(&[0x21, 0x11, 0xff, 0xff]);
        let err = p.push(&mut Bytes::from(h)).unwrap_err();
        assert_eq!(
            err,
            CodecError::ProxyHeaderTooLong {
                length: 16 + 65535,
                max: V2_MIN_LENGTH
            }
        );
        assert_eq!(p.buffered(), 0);
    }
}
