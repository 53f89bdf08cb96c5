//! Search across segment borders: `find_byte` (memchr) and `find_slice` (memmem).

use memchr::memmem;
use smallvec::SmallVec;

use super::CompositeBuf;

impl CompositeBuf {
    /// Index of the first `byte` at or after `from`, or `None`.
    ///
    /// Indexes are absolute (from the start of the composite). Uses `memchr` on each
    /// segment from the one holding `from`: O(bytes scanned), does not copy.
    /// `from >= len()` returns `None`.
    ///
    /// # Examples
    ///
    /// ```
    /// use seine_buffer::{Bytes, CompositeBuf};
    ///
    /// let buf: CompositeBuf = [Bytes::from_static(b"ab\n"), Bytes::from_static(b"cd\n")].into_iter().collect();
    /// assert_eq!(buf.find_byte(b'\n', 0), Some(2));
    /// assert_eq!(buf.find_byte(b'\n', 3), Some(5));
    /// assert_eq!(buf.find_byte(b'x', 0), None);
    /// assert_eq!(buf.find_byte(b'a', 10), None);
    /// ```
    pub fn find_byte(&self, byte: u8, from: usize) -> Option<usize> {
        if from >= self.len {
            return None;
        }
        let (i, mut off) = self.locate(from);
        let mut base = from - off;
        for seg in &self.segs[i..] {
            if let Some(pos) = memchr::memchr(byte, &seg[off..]) {
                return Some(base + off + pos);
            }
            base += seg.len();
            off = 0;
        }
        None
    }

    /// Index of the first occurrence of `needle` starting at or after `from`, or
    /// `None`.
    ///
    /// Indexes are absolute. Finds needles split over two or more segments. Uses
    /// `memmem` inside each segment and on a small window (at most
    /// `2 * (needle.len() - 1)` bytes, on the stack for needles up to 33 bytes)
    /// around each border: O(bytes scanned + segments × needle length); does not
    /// copy the buffer. An empty needle matches at `from` when `from <= len()`.
    ///
    /// # Examples
    ///
    /// ```
    /// use seine_buffer::{Bytes, CompositeBuf};
    ///
    /// let buf: CompositeBuf = [Bytes::from_static(b"GET / HTTP/1.1\r"), Bytes::from_static(b"\n\r"), Bytes::from_static(b"\nbody")]
    ///     .into_iter()
    ///     .collect();
    /// assert_eq!(buf.find_slice(b"\r\n\r\n", 0), Some(14)); // split over 3 segments
    /// assert_eq!(buf.find_slice(b"HTTP", 5), Some(6));
    /// assert_eq!(buf.find_slice(b"HTTP", 7), None);
    /// ```
    pub fn find_slice(&self, needle: &[u8], from: usize) -> Option<usize> {
        match needle.len() {
            0 => return (from <= self.len).then_some(from),
            1 => return self.find_byte(needle[0], from),
            n if from.checked_add(n).is_none_or(|end| end > self.len) => return None,
            _ => {}
        }
        let finder = memmem::Finder::new(needle);
        let overlap = needle.len() - 1;
        let mut window: SmallVec<[u8; 64]> = SmallVec::new();
        let (i, mut off) = self.locate(from);
        let mut base = from - off;
        for (k, seg) in self.segs[i..].iter().enumerate() {
            // A match entirely inside this segment comes before any match that
            // starts in this segment and crosses its end.
            if let Some(pos) = finder.find(&seg[off..]) {
                return Some(base + off + pos);
            }
            let seg_end = base + seg.len();
            if seg_end >= self.len {
                break;
            }
            // Matches that start in the last `overlap` bytes of this segment and run
            // into the following ones: search a window around the border.
            let start = off.max(seg.len().saturating_sub(overlap));
            window.clear();
            window.extend_from_slice(&seg[start..]);
            let mut need = overlap;
            for next in &self.segs[i + k + 1..] {
                let n = next.len().min(need);
                window.extend_from_slice(&next[..n]);
                need -= n;
                if need == 0 {
                    break;
                }
            }
            if let Some(pos) = finder.find(&window) {
                // The window holds fewer than `needle.len()` bytes after the border,
                // so any match in it starts in this segment.
                return Some(base + start + pos);
            }
            base = seg_end;
            off = 0;
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use crate::composite::tests::comp;
    use crate::{Buf, Bytes, CompositeBuf};

    fn naive_find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
        if from > hay.len() {
            return None;
        }
        if needle.is_empty() {
            return Some(from);
        }
        hay[from..]
            .windows(needle.len())
            .position(|w| w == needle)
            .map(|p| p + from)
    }

    fn layouts(d: &[u8]) -> Vec<CompositeBuf> {
        let mut out = vec![comp(&[d])];
        for size in [1, 2, 3, 5] {
            out.push(d.chunks(size).map(Bytes::copy_from_slice).collect());
        }
        if d.len() > 4 {
            out.push(comp(&[&d[..1], &d[1..d.len() - 2], &d[d.len() - 2..]]));
        }
        out
    }

    #[test]
    fn find_byte_everywhere() {
        let d = b"abcabcxyzabc".to_vec();
        for buf in layouts(&d) {
            for b in [b'a', b'c', b'x', b'z', b'q'] {
                for from in 0..=d.len() + 1 {
                    let want = d
                        .get(from..)
                        .and_then(|s| s.iter().position(|&x| x == b))
                        .map(|p| p + from);
                    assert_eq!(buf.find_byte(b, from), want, "byte {b} from {from}");
                }
            }
        }
        assert_eq!(CompositeBuf::new().find_byte(0, 0), None);
    }

    #[test]
    fn find_slice_everywhere() {
        let d = b"xx\r\n\r\nab\r\nabcabcd\r\n\r\n".to_vec();
        let needles: [&[u8]; 9] = [
            b"",
            b"\r",
            b"\r\n",
            b"\r\n\r\n",
            b"abcd",
            b"cabc",
            b"zz",
            b"\n\r\nab",
            &d,
        ];
        for buf in layouts(&d) {
            for needle in needles {
                for from in 0..=d.len() + 1 {
                    assert_eq!(
                        buf.find_slice(needle, from),
                        naive_find(&d, needle, from),
                        "needle {needle:?} from {from} in {buf:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn find_after_advance_is_absolute_from_new_start() {
        let mut buf = comp(&[b"abc", b"def", b"ghi"]);
        buf.advance(4);
        assert_eq!(buf.find_byte(b'h', 0), Some(3));
        assert_eq!(buf.find_slice(b"fg", 0), Some(1));
        assert_eq!(buf.find_slice(b"fg", 2), None);
    }

    #[test]
    fn long_needle_over_many_small_segments() {
        let d: Vec<u8> = (0..200u8).collect();
        let needle: Vec<u8> = (50..150u8).collect();
        let buf: CompositeBuf = d.chunks(7).map(Bytes::copy_from_slice).collect();
        assert_eq!(buf.find_slice(&needle, 0), Some(50));
        assert_eq!(buf.find_slice(&needle, 51), None);
        assert_eq!(buf.find_slice(&needle, usize::MAX), None);
    }
}
