//! The explicit copies: `consolidate`, `to_bytes`, `into_bytes`, `to_vec`.

use bytes::{Bytes, BytesMut};

use super::CompositeBuf;

impl CompositeBuf {
    /// Copies all bytes into one new segment, so that afterwards there is at most
    /// one segment.
    ///
    /// **This is the one explicit copy** of `CompositeBuf`: O(len) bytes copied and
    /// one allocation when there are two or more segments; a no-op (nothing copied)
    /// with zero or one segment. Nothing else consolidates implicitly.
    ///
    /// # Examples
    ///
    /// ```
    /// use seine_buffer::{Buf, Bytes, CompositeBuf};
    ///
    /// let mut buf: CompositeBuf = [Bytes::from_static(b"ab"), Bytes::from_static(b"cd")].into_iter().collect();
    /// buf.consolidate();
    /// assert_eq!(buf.segment_count(), 1);
    /// assert_eq!(buf.chunk(), b"abcd");
    /// ```
    pub fn consolidate(&mut self) {
        if self.segment_count() <= 1 {
            return;
        }
        let merged = self.copy_all();
        let len = self.len;
        self.segs.clear();
        self.segs.push(merged);
        self.head = 0;
        self.len = len;
    }

    fn copy_all(&self) -> Bytes {
        let mut out = BytesMut::with_capacity(self.len);
        for seg in self.live() {
            out.extend_from_slice(seg);
        }
        out.freeze()
    }

    /// Returns the content as one [`Bytes`].
    ///
    /// Does not copy with zero or one segment (O(1), a reference count increment);
    /// copies all `len` bytes into a new allocation with two or more.
    ///
    /// # Examples
    ///
    /// ```
    /// use seine_buffer::{Bytes, CompositeBuf};
    ///
    /// let b = Bytes::from(b"abc".to_vec());
    /// let one = CompositeBuf::from(b.clone());
    /// assert_eq!(one.to_bytes().as_ptr(), b.as_ptr()); // no copy
    ///
    /// let two: CompositeBuf = [b, Bytes::from_static(b"d")].into_iter().collect();
    /// assert_eq!(two.to_bytes(), &b"abcd"[..]); // copied
    /// ```
    pub fn to_bytes(&self) -> Bytes {
        match self.live() {
            [] => Bytes::new(),
            [one] => one.clone(),
            _ => self.copy_all(),
        }
    }

    /// Converts into one [`Bytes`]; same rule as [`to_bytes`](Self::to_bytes):
    /// O(1) and no copy with zero or one segment, copies otherwise.
    ///
    /// # Examples
    ///
    /// ```
    /// use seine_buffer::{Bytes, CompositeBuf};
    ///
    /// let b = Bytes::from(b"abc".to_vec());
    /// let ptr = b.as_ptr();
    /// assert_eq!(CompositeBuf::from(b).into_bytes().as_ptr(), ptr);
    /// ```
    pub fn into_bytes(mut self) -> Bytes {
        match self.segment_count() {
            0 => Bytes::new(),
            1 => self.pop_front().unwrap_or_default(),
            _ => self.copy_all(),
        }
    }

    /// Copies the content into a new `Vec<u8>`. O(len), always copies.
    ///
    /// # Examples
    ///
    /// ```
    /// use seine_buffer::{Bytes, CompositeBuf};
    ///
    /// let buf: CompositeBuf = [Bytes::from_static(b"ab"), Bytes::from_static(b"c")].into_iter().collect();
    /// assert_eq!(buf.to_vec(), b"abc");
    /// ```
    pub fn to_vec(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.len);
        for seg in self.live() {
            out.extend_from_slice(seg);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use crate::CompositeBuf;
    use crate::composite::tests::comp;

    #[test]
    fn consolidate_and_conversions() {
        let mut buf = comp(&[b"ab", b"cd", b"e"]);
        assert_eq!(buf.to_vec(), b"abcde");
        assert_eq!(buf.to_bytes(), &b"abcde"[..]);
        buf.consolidate();
        assert_eq!(buf.segment_count(), 1);
        assert_eq!(buf, b"abcde"[..]);
        let ptr = buf.segments()[0].as_ptr();
        buf.consolidate(); // no-op
        assert_eq!(buf.segments()[0].as_ptr(), ptr);
        assert_eq!(buf.to_bytes().as_ptr(), ptr);
        assert_eq!(buf.clone().into_bytes().as_ptr(), ptr);
        let mut empty = CompositeBuf::new();
        empty.consolidate();
        assert!(empty.to_bytes().is_empty());
        assert!(empty.into_bytes().is_empty());
        assert_eq!(comp(&[b"a", b"b"]).into_bytes(), &b"ab"[..]);
    }
}
