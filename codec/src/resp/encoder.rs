//! [`RespEncoder`]: RESP2 values to bytes.

use seine_channel::OutboundBuf;

use super::value::RespValue;
use crate::encoder::{EncodeBuf, Encoder};
use crate::error::CodecError;

/// Encodes [`RespValue`]s (replies, or commands a client sends as arrays).
///
/// Headers, integers and short strings are copied into the output buffer; a bulk
/// string of 64 bytes or more is appended as its own segment, **not copied**
/// ([`EncodeBuf::push_bytes`]). Simple strings and errors containing CR or LF would
/// break the framing and are refused with [`CodecError::Encode`].
///
/// # Examples
///
/// ```
/// use seine_codec::{EncodeBuf, Encoder};
/// use seine_codec::resp::{RespEncoder, RespValue};
///
/// let mut out = EncodeBuf::new();
/// RespEncoder.encode(RespValue::ok(), &mut out).unwrap();
/// RespEncoder.encode(RespValue::Integer(42), &mut out).unwrap();
/// assert_eq!(out.len(), 10); // "+OK\r\n:42\r\n"
/// assert!(RespEncoder.encode(RespValue::simple("a\r\nb"), &mut out).is_err());
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct RespEncoder;

impl Encoder for RespEncoder {
    type Item = RespValue;

    fn encode(&mut self, item: RespValue, dst: &mut EncodeBuf) -> Result<(), CodecError> {
        check(&item)?;
        encode_into(&item, dst);
        Ok(())
    }
}

/// Where [`encode_into`] writes: bytes it produces (copied) and bulk payloads
/// (which a sink may keep uncopied).
pub(crate) trait Sink {
    /// Copies `src` into the output.
    fn put(&mut self, src: &[u8]);
    /// Appends a bulk payload (not copied when large).
    fn push(&mut self, b: &seine_buffer::Bytes);
}

impl Sink for EncodeBuf {
    #[inline]
    fn put(&mut self, src: &[u8]) {
        self.put_slice(src);
    }

    #[inline]
    fn push(&mut self, b: &seine_buffer::Bytes) {
        self.push_bytes(b.clone());
    }
}

/// Refuses simple strings and errors that contain CR or LF.
pub(crate) fn check(v: &RespValue) -> Result<(), CodecError> {
    match v {
        RespValue::Simple(s) | RespValue::Error(s) => {
            if memchr::memchr2(b'\r', b'\n', s).is_some() {
                return Err(CodecError::Encode {
                    reason: "a RESP simple string or error contains CR or LF; send it as a bulk \
                             string instead"
                        .into(),
                });
            }
            Ok(())
        }
        RespValue::Array(items) => items.iter().try_for_each(check),
        _ => Ok(()),
    }
}

/// Writes `v` into `dst`: framing copied, bulk payloads pushed.
#[inline]
pub(crate) fn encode_into<S: Sink>(v: &RespValue, dst: &mut S) {
    match v {
        RespValue::Simple(s) => {
            dst.put(b"+");
            dst.put(s);
            dst.put(b"\r\n");
        }
        RespValue::Error(s) => {
            dst.put(b"-");
            dst.put(s);
            dst.put(b"\r\n");
        }
        RespValue::Integer(n) => dst.put(Header::new(b':', *n).as_slice()),
        RespValue::Bulk(b) => {
            dst.put(Header::new(b'$', b.len() as i64).as_slice());
            dst.push(b);
            dst.put(b"\r\n");
        }
        RespValue::Null => dst.put(b"$-1\r\n"),
        RespValue::NullArray => dst.put(b"*-1\r\n"),
        RespValue::Array(items) => {
            dst.put(Header::new(b'*', items.len() as i64).as_slice());
            for item in items {
                encode_into(item, dst);
            }
        }
    }
}

/// The encoded bytes of `v` in one `Vec` (copies everything). No CR/LF check.
pub(crate) fn to_vec(v: &RespValue) -> Vec<u8> {
    let mut out = EncodeBuf::new();
    encode_into(v, &mut out);
    let mut all = Vec::with_capacity(out.len());
    for part in out.take_parts() {
        match part {
            OutboundBuf::Bytes(b) => all.extend_from_slice(&b),
            OutboundBuf::Composite(c) => {
                for seg in c.segments() {
                    all.extend_from_slice(seg);
                }
            }
            OutboundBuf::File(_) => unreachable!("RESP values hold no files"),
        }
    }
    all
}

/// `<kind><n>\r\n`, formatted on the stack.
pub(crate) struct Header {
    buf: [u8; 24],
    start: usize,
}

impl Header {
    #[inline]
    pub(crate) fn new(kind: u8, n: i64) -> Self {
        let mut buf = [0u8; 24];
        let mut i = buf.len() - 2;
        buf[i..].copy_from_slice(b"\r\n");
        let mut m = n.unsigned_abs();
        loop {
            i -= 1;
            buf[i] = b'0' + (m % 10) as u8;
            m /= 10;
            if m == 0 {
                break;
            }
        }
        if n < 0 {
            i -= 1;
            buf[i] = b'-';
        }
        i -= 1;
        buf[i] = kind;
        Header { buf, start: i }
    }

    #[inline]
    pub(crate) fn as_slice(&self) -> &[u8] {
        &self.buf[self.start..]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use seine_buffer::Bytes;

    fn encode(v: RespValue) -> Vec<u8> {
        let mut out = EncodeBuf::new();
        RespEncoder.encode(v, &mut out).unwrap();
        let mut all = Vec::new();
        for part in out.take_parts() {
            match part {
                OutboundBuf::Bytes(b) => all.extend_from_slice(&b),
                OutboundBuf::Composite(c) => all.extend_from_slice(&c.to_vec()),
                OutboundBuf::File(_) => unreachable!(),
            }
        }
        all
    }

    #[test]
    fn every_kind() {
        assert_eq!(encode(RespValue::ok()), b"+OK\r\n");
        assert_eq!(encode(RespValue::error("ERR bad")), b"-ERR bad\r\n");
        assert_eq!(encode(RespValue::Integer(0)), b":0\r\n");
        assert_eq!(
            encode(RespValue::Integer(i64::MIN)),
            b":-9223372036854775808\r\n"
        );
        assert_eq!(
            encode(RespValue::Integer(i64::MAX)),
            b":9223372036854775807\r\n"
        );
        assert_eq!(encode(RespValue::bulk("")), b"$0\r\n\r\n");
        assert_eq!(encode(RespValue::Null), b"$-1\r\n");
        assert_eq!(encode(RespValue::NullArray), b"*-1\r\n");
        assert_eq!(encode(RespValue::Array(vec![])), b"*0\r\n");
        assert_eq!(
            encode(RespValue::Array(vec![
                RespValue::Array(vec![RespValue::Integer(1)]),
                RespValue::bulk("x")
            ])),
            b"*2\r\n*1\r\n:1\r\n$1\r\nx\r\n"
        );
    }

    #[test]
    fn large_bulk_is_not_copied() {
        let payload = Bytes::from(vec![7u8; 1000]);
        let mut out = EncodeBuf::new();
        RespEncoder
            .encode(RespValue::Bulk(payload.clone()), &mut out)
            .unwrap();
        let parts = out.take_parts();
        assert_eq!(parts.len(), 1);
        let OutboundBuf::Composite(c) = &parts[0] else {
            panic!("expected a composite, got {:?}", parts[0]);
        };
        assert_eq!(c.segment_count(), 3);
        assert_eq!(c.segments()[1].as_ptr(), payload.as_ptr());
        assert_eq!(c.len(), 1000 + b"$1000\r\n\r\n".len());
    }

    #[test]
    fn crlf_in_simple_string_is_refused() {
        let mut out = EncodeBuf::new();
        assert!(
            RespEncoder
                .encode(RespValue::error("a\nb"), &mut out)
                .is_err()
        );
        assert!(
            RespEncoder
                .encode(RespValue::Array(vec![RespValue::simple("x\r")]), &mut out)
                .is_err()
        );
        assert!(out.is_empty());
    }

    #[test]
    fn to_vec_matches_encoder() {
        let v = RespValue::Array(vec![
            RespValue::bulk(vec![1u8; 100]),
            RespValue::Integer(-5),
        ]);
        assert_eq!(v.to_vec(), encode(v.clone()));
    }
}
