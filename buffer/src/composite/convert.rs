//! Conversions into `CompositeBuf`: `From`, `FromIterator`, `Extend`.

use bytes::{Bytes, BytesMut};

use super::CompositeBuf;

/// One segment (none if empty). O(1), does not copy.
impl From<Bytes> for CompositeBuf {
    fn from(bytes: Bytes) -> Self {
        let mut buf = CompositeBuf::new();
        buf.push(bytes);
        buf
    }
}

/// Freezes the buffer into one segment. O(1), does not copy.
impl From<BytesMut> for CompositeBuf {
    fn from(bytes: BytesMut) -> Self {
        CompositeBuf::from(bytes.freeze())
    }
}

/// Takes the vector's allocation as one segment. O(1), does not copy.
impl From<Vec<u8>> for CompositeBuf {
    fn from(v: Vec<u8>) -> Self {
        CompositeBuf::from(Bytes::from(v))
    }
}

/// Wraps static memory as one segment. O(1), does not copy.
impl From<&'static [u8]> for CompositeBuf {
    fn from(s: &'static [u8]) -> Self {
        CompositeBuf::from(Bytes::from_static(s))
    }
}

/// Wraps a static string's bytes as one segment. O(1), does not copy.
impl From<&'static str> for CompositeBuf {
    fn from(s: &'static str) -> Self {
        CompositeBuf::from(Bytes::from_static(s.as_bytes()))
    }
}

/// One segment per item (empty items dropped). O(items), does not copy bytes.
impl FromIterator<Bytes> for CompositeBuf {
    fn from_iter<I: IntoIterator<Item = Bytes>>(iter: I) -> Self {
        let mut buf = CompositeBuf::new();
        buf.extend(iter);
        buf
    }
}

/// Appends one segment per item (empty items dropped). O(items), does not copy bytes.
impl Extend<Bytes> for CompositeBuf {
    fn extend<I: IntoIterator<Item = Bytes>>(&mut self, iter: I) {
        for seg in iter {
            self.push(seg);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::{Bytes, BytesMut, CompositeBuf};

    #[test]
    fn conversions_do_not_copy() {
        let v = b"abc".to_vec();
        let p = v.as_ptr();
        assert_eq!(CompositeBuf::from(v).segments()[0].as_ptr(), p);
        static S: &[u8] = b"static";
        assert_eq!(CompositeBuf::from(S).segments()[0].as_ptr(), S.as_ptr());
        let m = BytesMut::from(&b"xyz"[..]);
        let p = m.as_ptr();
        assert_eq!(CompositeBuf::from(m).segments()[0].as_ptr(), p);
        assert_eq!(CompositeBuf::from("hi"), b"hi"[..]);
        assert!(CompositeBuf::from(Bytes::new()).segment_count() == 0);
    }

    #[test]
    fn collect_and_extend() {
        let mut buf: CompositeBuf = vec![Bytes::from_static(b"a"), Bytes::new()]
            .into_iter()
            .collect();
        buf.extend([Bytes::from_static(b"b"), Bytes::from_static(b"c")]);
        assert_eq!(buf.segment_count(), 3);
        assert_eq!(buf, b"abc"[..]);
    }
}
