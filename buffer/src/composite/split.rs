//! Restructuring that shares memory: `split_to`, `split_off`, `slice`.

use std::mem;
use std::ops::{Bound, RangeBounds};

use super::{CompositeBuf, SegVec};

impl CompositeBuf {
    /// Splits off the first `at` bytes and returns them; `self` keeps `[at, len)`.
    ///
    /// Shares memory, does not copy: whole segments move to the result and the
    /// segment that straddles `at` is split with [`Bytes::split_to`](bytes::Bytes::split_to) (a reference
    /// count increment). O(number of segments moved); no allocation when the result
    /// has at most four segments.
    ///
    /// # Panics
    ///
    /// Panics if `at > self.len()`, like [`Bytes::split_to`](bytes::Bytes::split_to). Use
    /// [`try_split_to`](Self::try_split_to) to get `None` instead.
    ///
    /// # Examples
    ///
    /// ```
    /// use seine_buffer::{Bytes, CompositeBuf};
    ///
    /// let a = Bytes::from(b"hello ".to_vec());
    /// let mut buf: CompositeBuf = [a.clone(), Bytes::from_static(b"world")].into_iter().collect();
    /// let first = buf.split_to(3);
    /// assert_eq!(first, b"hel"[..]);
    /// assert_eq!(first.segments()[0].as_ptr(), a.as_ptr()); // same memory
    /// assert_eq!(buf, b"lo world"[..]);
    /// ```
    #[must_use = "consider CompositeBuf::advance if you don't need the other half"]
    pub fn split_to(&mut self, at: usize) -> CompositeBuf {
        assert!(
            at <= self.len,
            "split_to out of bounds: {:?} <= {:?}",
            at,
            self.len,
        );
        if at == 0 {
            return CompositeBuf::new();
        }
        if at == self.len {
            return mem::take(self);
        }
        let first = &mut self.segs[self.head];
        if at < first.len() {
            // Fast path (a frame inside the first segment): one `Bytes::split_to`.
            let seg = first.split_to(at);
            self.len -= at;
            let mut out = SegVec::new();
            out.push(seg);
            return CompositeBuf::from_segs(out, at);
        }
        let mut out = SegVec::new();
        let mut rem = at;
        while rem > 0 {
            let first = &mut self.segs[self.head];
            if rem >= first.len() {
                rem -= first.len();
                out.push(mem::take(first));
                self.head += 1;
            } else {
                out.push(first.split_to(rem));
                rem = 0;
            }
        }
        self.len -= at;
        self.normalize();
        CompositeBuf::from_segs(out, at)
    }

    /// Like [`split_to`](Self::split_to) but returns `None` instead of panicking
    /// when `at > self.len()`. Same cost; does not copy.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut buf = seine_buffer::CompositeBuf::from(vec![1, 2, 3]);
    /// assert!(buf.try_split_to(4).is_none());
    /// assert_eq!(buf.try_split_to(2).unwrap(), [1u8, 2][..]);
    /// ```
    pub fn try_split_to(&mut self, at: usize) -> Option<CompositeBuf> {
        (at <= self.len).then(|| self.split_to(at))
    }

    /// Splits off the bytes from `at` on and returns them; `self` keeps `[0, at)`.
    ///
    /// Shares memory, does not copy (the straddling segment is split with
    /// [`Bytes::split_off`](bytes::Bytes::split_off)). O(number of segments).
    ///
    /// # Panics
    ///
    /// Panics if `at > self.len()`, like [`Bytes::split_off`](bytes::Bytes::split_off). Use
    /// [`try_split_off`](Self::try_split_off) to get `None` instead.
    ///
    /// # Examples
    ///
    /// ```
    /// use seine_buffer::{Bytes, CompositeBuf};
    ///
    /// let mut buf: CompositeBuf = [Bytes::from_static(b"abc"), Bytes::from_static(b"def")].into_iter().collect();
    /// let tail = buf.split_off(2);
    /// assert_eq!(buf, b"ab"[..]);
    /// assert_eq!(tail, b"cdef"[..]);
    /// ```
    #[must_use = "consider CompositeBuf::truncate if you don't need the other half"]
    pub fn split_off(&mut self, at: usize) -> CompositeBuf {
        assert!(
            at <= self.len,
            "split_off out of bounds: {:?} <= {:?}",
            at,
            self.len,
        );
        if at == self.len {
            return CompositeBuf::new();
        }
        if at == 0 {
            return mem::take(self);
        }
        let tail_len = self.len - at;
        let (i, off) = self.locate(at);
        let mut out = SegVec::new();
        let rest_from = if off == 0 {
            i
        } else {
            out.push(self.segs[i].split_off(off));
            i + 1
        };
        out.extend(self.segs.drain(rest_from..));
        self.len = at;
        CompositeBuf::from_segs(out, tail_len)
    }

    /// Like [`split_off`](Self::split_off) but returns `None` instead of panicking
    /// when `at > self.len()`. Same cost; does not copy.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut buf = seine_buffer::CompositeBuf::from(vec![1, 2, 3]);
    /// assert!(buf.try_split_off(4).is_none());
    /// assert_eq!(buf.try_split_off(1).unwrap(), [2u8, 3][..]);
    /// ```
    pub fn try_split_off(&mut self, at: usize) -> Option<CompositeBuf> {
        (at <= self.len).then(|| self.split_off(at))
    }

    /// Returns the bytes in `range` as a new composite sharing memory with `self`.
    ///
    /// Does not copy: each overlapping segment is cloned or sliced with
    /// [`Bytes::slice`](bytes::Bytes::slice) (reference count increments). O(number of segments).
    ///
    /// # Panics
    ///
    /// Panics like [`Bytes::slice`](bytes::Bytes::slice): if the start is greater than the end, or the
    /// end is greater than `self.len()`. Use [`try_slice`](Self::try_slice) to get
    /// `None` instead.
    ///
    /// # Examples
    ///
    /// ```
    /// use seine_buffer::{Bytes, CompositeBuf};
    ///
    /// let b = Bytes::from(b"def".to_vec());
    /// let buf: CompositeBuf = [Bytes::from_static(b"abc"), b.clone()].into_iter().collect();
    /// let s = buf.slice(2..4);
    /// assert_eq!(s, b"cd"[..]);
    /// assert_eq!(s.segments()[1].as_ptr(), b.as_ptr());
    /// assert_eq!(buf.len(), 6); // unchanged
    /// ```
    pub fn slice(&self, range: impl RangeBounds<usize>) -> CompositeBuf {
        let (begin, end) = bounds(&range, self.len);
        assert!(
            begin <= end,
            "range start must not be greater than end: {:?} <= {:?}",
            begin,
            end,
        );
        assert!(
            end <= self.len,
            "range end out of bounds: {:?} <= {:?}",
            end,
            self.len,
        );
        self.slice_checked(begin, end)
    }

    /// Like [`slice`](Self::slice) but returns `None` instead of panicking when the
    /// range is reversed or out of bounds. Same cost; does not copy.
    ///
    /// # Examples
    ///
    /// ```
    /// let buf = seine_buffer::CompositeBuf::from(vec![1, 2, 3]);
    /// assert!(buf.try_slice(2..5).is_none());
    /// assert_eq!(buf.try_slice(1..).unwrap(), [2u8, 3][..]);
    /// ```
    pub fn try_slice(&self, range: impl RangeBounds<usize>) -> Option<CompositeBuf> {
        let begin = match range.start_bound() {
            Bound::Included(&n) => n,
            Bound::Excluded(&n) => n.checked_add(1)?,
            Bound::Unbounded => 0,
        };
        let end = match range.end_bound() {
            Bound::Included(&n) => n.checked_add(1)?,
            Bound::Excluded(&n) => n,
            Bound::Unbounded => self.len,
        };
        (begin <= end && end <= self.len).then(|| self.slice_checked(begin, end))
    }

    fn slice_checked(&self, begin: usize, end: usize) -> CompositeBuf {
        if begin == end {
            return CompositeBuf::new();
        }
        let (i, off) = self.locate(begin);
        let mut out = SegVec::new();
        let mut need = end - begin;
        let mut off = off;
        for seg in &self.segs[i..] {
            let take = (seg.len() - off).min(need);
            if off == 0 && take == seg.len() {
                out.push(seg.clone());
            } else {
                out.push(seg.slice(off..off + take));
            }
            need -= take;
            off = 0;
            if need == 0 {
                break;
            }
        }
        CompositeBuf::from_segs(out, end - begin)
    }
}

/// Resolves a range against `len` the way `Bytes::slice` does (panicking on
/// overflow of an inclusive bound).
fn bounds(range: &impl RangeBounds<usize>, len: usize) -> (usize, usize) {
    let begin = match range.start_bound() {
        Bound::Included(&n) => n,
        Bound::Excluded(&n) => n.checked_add(1).expect("out of range"),
        Bound::Unbounded => 0,
    };
    let end = match range.end_bound() {
        Bound::Included(&n) => n.checked_add(1).expect("out of range"),
        Bound::Excluded(&n) => n,
        Bound::Unbounded => len,
    };
    (begin, end)
}

#[cfg(test)]
mod tests {
    use std::ops::Bound;

    use crate::composite::tests::{check_invariants, comp};
    use crate::{Bytes, CompositeBuf};

    #[test]
    fn split_to_shares_memory() {
        let a = Bytes::from(b"hello".to_vec());
        let b = Bytes::from(b"world".to_vec());
        let mut buf: CompositeBuf = [a.clone(), b.clone()].into_iter().collect();
        let first = buf.split_to(7);
        assert_eq!(first, b"hellowo"[..]);
        assert_eq!(first.segments()[0].as_ptr(), a.as_ptr());
        assert_eq!(first.segments()[1].as_ptr(), b.as_ptr());
        assert_eq!(buf.segments()[0].as_ptr(), b[2..].as_ptr());
        assert_eq!(buf, b"rld"[..]);
        check_invariants(&buf);
        check_invariants(&first);
        assert!(buf.split_to(0).is_empty());
        let all = buf.split_to(3);
        assert_eq!(all, b"rld"[..]);
        assert!(buf.is_empty());
        assert!(buf.try_split_to(1).is_none());
        assert!(buf.try_split_to(0).unwrap().is_empty());
    }

    #[test]
    #[should_panic(expected = "split_to out of bounds")]
    fn split_to_past_end_panics() {
        let mut buf = comp(&[b"ab"]);
        let _ = buf.split_to(3);
    }

    #[test]
    fn split_off_cases() {
        let a = Bytes::from(b"abc".to_vec());
        let mut buf: CompositeBuf = [a.clone(), Bytes::from_static(b"def")]
            .into_iter()
            .collect();
        let tail = buf.split_off(1);
        assert_eq!(buf, b"a"[..]);
        assert_eq!(tail, b"bcdef"[..]);
        assert_eq!(tail.segments()[0].as_ptr(), a[1..].as_ptr());
        check_invariants(&tail);
        let mut buf2 = comp(&[b"abc", b"def"]);
        let t2 = buf2.split_off(3);
        assert_eq!((buf2.segment_count(), t2.segment_count()), (1, 1));
        assert!(buf2.split_off(3).is_empty());
        let everything = buf2.split_off(0);
        assert!(buf2.is_empty());
        assert_eq!(everything, b"abc"[..]);
        assert!(buf2.try_split_off(1).is_none());
    }

    #[test]
    #[should_panic(expected = "split_off out of bounds")]
    fn split_off_past_end_panics() {
        let _ = CompositeBuf::new().split_off(1);
    }

    #[test]
    fn slice_cases() {
        let b = Bytes::from(b"def".to_vec());
        let buf: CompositeBuf = [
            Bytes::from_static(b"abc"),
            b.clone(),
            Bytes::from_static(b"g"),
        ]
        .into_iter()
        .collect();
        assert_eq!(buf.slice(..), buf);
        assert_eq!(buf.slice(..).segment_count(), 3);
        assert_eq!(buf.slice(3..6).segments()[0].as_ptr(), b.as_ptr());
        assert_eq!(buf.slice(2..=3), b"cd"[..]);
        assert_eq!(buf.slice(1..7), b"bcdefg"[..]);
        assert!(buf.slice(7..).is_empty());
        assert!(buf.slice(4..4).is_empty());
        assert!(buf.try_slice(5..8).is_none());
        #[allow(clippy::reversed_empty_ranges)]
        let reversed = buf.try_slice(5..4);
        assert!(reversed.is_none());
        assert!(buf.try_slice(..=usize::MAX).is_none());
        assert_eq!(
            buf.try_slice((Bound::Excluded(0), Bound::Included(1)))
                .unwrap(),
            b"b"[..]
        );
    }

    #[test]
    #[should_panic(expected = "range end out of bounds")]
    fn slice_past_end_panics() {
        let _ = comp(&[b"ab"]).slice(1..3);
    }

    #[test]
    #[should_panic(expected = "range start must not be greater than end")]
    fn slice_reversed_panics() {
        let (a, b) = (2, 1);
        let _ = comp(&[b"abc"]).slice(a..b);
    }
}
