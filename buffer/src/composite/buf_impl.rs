//! `impl bytes::Buf for CompositeBuf`.

use std::io::IoSlice;

use bytes::{Buf, Bytes, BytesMut};

use super::CompositeBuf;

impl Buf for CompositeBuf {
    /// Bytes left to read. O(1).
    #[inline]
    fn remaining(&self) -> usize {
        self.len
    }

    /// The first segment (empty slice when the composite is empty). O(1), no copy.
    #[inline]
    fn chunk(&self) -> &[u8] {
        match self.live().first() {
            Some(seg) => seg,
            None => &[],
        }
    }

    /// Fills `dst` with one `IoSlice` per segment, in order, for `writev(2)`;
    /// returns how many were written (`min(dst.len(), segment_count())`).
    /// O(segments), no copy.
    fn chunks_vectored<'a>(&'a self, dst: &mut [IoSlice<'a>]) -> usize {
        let mut n = 0;
        for (slot, seg) in dst.iter_mut().zip(self.live()) {
            *slot = IoSlice::new(seg);
            n += 1;
        }
        n
    }

    /// Consumes `cnt` bytes from the front, releasing the segments that are fully
    /// consumed. O(segments released), no copy.
    ///
    /// # Panics
    ///
    /// Panics if `cnt > self.remaining()`, like `Bytes::advance`.
    fn advance(&mut self, mut cnt: usize) {
        assert!(
            cnt <= self.len,
            "cannot advance past `remaining`: {:?} <= {:?}",
            cnt,
            self.len,
        );
        self.len -= cnt;
        // Fast path: inside the first segment (a decoder stepping over a header).
        if let Some(first) = self.segs.get_mut(self.head)
            && cnt < first.len()
        {
            first.advance(cnt);
            return;
        }
        while cnt > 0 {
            let first = &mut self.segs[self.head];
            if cnt >= first.len() {
                cnt -= first.len();
                *first = Bytes::new();
                self.head += 1;
            } else {
                first.advance(cnt);
                cnt = 0;
            }
        }
        self.normalize();
    }

    /// Removes the first `len` bytes and returns them as one `Bytes`.
    ///
    /// Zero-copy (O(1), a reference count increment) when the range lies inside the
    /// first segment; otherwise **copies** `len` bytes into a new allocation.
    ///
    /// # Panics
    ///
    /// Panics if `len > self.remaining()`.
    fn copy_to_bytes(&mut self, len: usize) -> Bytes {
        assert!(
            len <= self.len,
            "copy_to_bytes out of bounds: {:?} <= {:?}",
            len,
            self.len,
        );
        if len == 0 {
            return Bytes::new();
        }
        let first = &mut self.segs[self.head];
        if len < first.len() {
            self.len -= len;
            return first.split_to(len);
        }
        if len == first.len() {
            return self.pop_front().unwrap_or_default();
        }
        let mut out = BytesMut::with_capacity(len);
        let mut need = len;
        while need > 0 {
            let chunk = self.chunk();
            let n = chunk.len().min(need);
            out.extend_from_slice(&chunk[..n]);
            self.advance(n);
            need -= n;
        }
        out.freeze()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::composite::tests::comp;

    #[test]
    fn chunk_and_remaining() {
        let buf = comp(&[b"ab", b"c"]);
        assert_eq!(buf.remaining(), 3);
        assert_eq!(buf.chunk(), b"ab");
        assert_eq!(CompositeBuf::new().chunk(), b"");
    }

    #[test]
    fn advance_drops_exhausted_segments() {
        let mut buf = comp(&[b"ab", b"cde", b"f"]);
        buf.advance(0);
        assert_eq!(buf.segment_count(), 3);
        buf.advance(2);
        assert_eq!(buf.segment_count(), 2);
        assert_eq!(buf.chunk(), b"cde");
        buf.advance(2);
        assert_eq!(buf.chunk(), b"e");
        buf.advance(2);
        assert!(buf.is_empty());
        assert_eq!(buf.segment_count(), 0);
    }

    #[test]
    #[should_panic(expected = "cannot advance past")]
    fn advance_past_end_panics() {
        comp(&[b"ab"]).advance(3);
    }

    #[test]
    fn chunks_vectored_yields_every_segment() {
        let mut buf = comp(&[b"ab", b"cde", b"f", b"gh", b"ij", b"k"]);
        buf.advance(1);
        let mut slices = [IoSlice::new(&[]); 16];
        let n = buf.chunks_vectored(&mut slices);
        assert_eq!(n, 6);
        let joined: Vec<u8> = slices[..n].iter().flat_map(|s| s.iter().copied()).collect();
        assert_eq!(joined, b"bcdefghijk");
        let mut two = [IoSlice::new(&[]); 2];
        assert_eq!(buf.chunks_vectored(&mut two), 2);
        assert_eq!(&*two[1], b"cde");
        assert_eq!(buf.chunks_vectored(&mut []), 0);
        assert_eq!(CompositeBuf::new().chunks_vectored(&mut slices), 0);
    }

    #[test]
    fn copy_to_bytes_zero_copy_inside_first_segment() {
        let a = Bytes::from(b"abcdef".to_vec());
        let mut buf: CompositeBuf = [a.clone(), Bytes::from_static(b"gh")].into_iter().collect();
        let x = buf.copy_to_bytes(2);
        assert_eq!(x.as_ptr(), a.as_ptr());
        let y = buf.copy_to_bytes(4);
        assert_eq!(y.as_ptr(), a[2..].as_ptr());
        assert_eq!(buf.segment_count(), 1);
        assert!(buf.copy_to_bytes(0).is_empty());
    }

    #[test]
    fn copy_to_bytes_copies_across_segments() {
        let mut buf = comp(&[b"ab", b"c", b"def"]);
        let x = buf.copy_to_bytes(4);
        assert_eq!(x, &b"abcd"[..]);
        assert_eq!(buf, b"ef"[..]);
        assert_eq!(buf.segment_count(), 1);
    }

    #[test]
    #[should_panic(expected = "copy_to_bytes out of bounds")]
    fn copy_to_bytes_past_end_panics() {
        let _ = comp(&[b"ab"]).copy_to_bytes(3);
    }

    #[test]
    fn buf_getters_work_across_segments() {
        let mut buf = comp(&[b"\x01", b"\x02\x03", b"\x04\x05"]);
        assert_eq!(buf.get_u32(), 0x0102_0304);
        assert_eq!(buf.get_u8(), 5);
        assert!(!buf.has_remaining());
    }
}
