//! [`CompositeBuf`]: many [`Bytes`] segments behaving as one buffer, without copying.

mod buf_impl;
mod cmp;
mod convert;
mod copy;
mod fmt;
mod read;
mod search;
mod segments;
mod split;

use std::mem;

use bytes::Bytes;
use smallvec::SmallVec;

pub use segments::Segments;

/// Number of segments a [`CompositeBuf`] stores inline before it allocates.
pub(crate) const INLINE_SEGMENTS: usize = 2;

type SegVec = SmallVec<[Bytes; INLINE_SEGMENTS]>;

/// An ordered list of [`Bytes`] segments that behaves as one buffer, without copying.
///
/// This is Netty's `CompositeByteBuf` built from `bytes`: each segment is a
/// reference-counted [`Bytes`] (a received packet, a slice of one, a static header,
/// a file mapping), and the composite is the logical concatenation of them. Empty
/// segments are never stored. The first two segments live inline (no allocation);
/// cloning a composite only bumps reference counts.
///
/// What it offers on top of [`bytes::Buf`] is what framing needs:
///
/// * absolute reads that do not consume ([`get_u8_at`](Self::get_u8_at),
///   [`get_uint_at`](Self::get_uint_at), ...), fast when the field lies in one
///   segment and correct when it straddles several;
/// * search across segment borders ([`find_byte`](Self::find_byte) with `memchr`,
///   [`find_slice`](Self::find_slice) with `memmem`);
/// * [`split_to`](Self::split_to), [`split_off`](Self::split_off) and
///   [`slice`](Self::slice), which return composites sharing the same memory;
/// * [`chunks_vectored`](bytes::Buf::chunks_vectored) yielding every segment, for
///   `writev(2)`.
///
/// # Copies
///
/// Nothing here copies payload bytes except [`consolidate`](Self::consolidate),
/// [`to_bytes`](Self::to_bytes) / [`into_bytes`](Self::into_bytes) of several
/// segments, [`to_vec`](Self::to_vec) (always: it returns a new `Vec`), and
/// [`copy_to_bytes`](bytes::Buf::copy_to_bytes) of a range that spans segments;
/// each says so. In particular a `CompositeBuf` **never consolidates implicitly**,
/// however many segments pile up. Netty's `CompositeByteBuf` consolidates into one
/// new buffer once it holds more than 16 components by default, so a cumulation
/// that keeps growing copies everything it holds again and again
/// ([netty#1521](https://github.com/netty/netty/issues/1521)); here the cost of many
/// segments is only a longer segment list to walk.
///
/// # Examples
///
/// ```
/// use seine_buffer::{Buf, Bytes, CompositeBuf};
///
/// let header = Bytes::from_static(b"\x00\x05");
/// let body = Bytes::from(b"hello world".to_vec());
/// let mut buf: CompositeBuf = [header, body.clone()].into_iter().collect();
///
/// assert_eq!(buf.len(), 13);
/// assert_eq!(buf.get_u16_at(0), Some(5));
/// let frame = buf.split_to(7); // header + "hello", no copy
/// assert_eq!(frame, b"\x00\x05hello"[..]);
/// assert_eq!(frame.segments()[1].as_ptr(), body.as_ptr());
/// assert_eq!(buf.chunk(), b" world");
/// ```
#[derive(Clone, Default)]
pub struct CompositeBuf {
    /// `segs[..head]` are empty placeholders of consumed segments; `segs[head..]`
    /// are the live, non-empty segments.
    segs: SegVec,
    head: usize,
    len: usize,
}

impl CompositeBuf {
    /// Creates an empty composite. Does not allocate.
    ///
    /// # Examples
    ///
    /// ```
    /// let buf = seine_buffer::CompositeBuf::new();
    /// assert!(buf.is_empty());
    /// assert_eq!(buf.segment_count(), 0);
    /// ```
    #[inline]
    pub const fn new() -> Self {
        CompositeBuf {
            segs: SmallVec::new_const(),
            head: 0,
            len: 0,
        }
    }

    fn from_segs(segs: SegVec, len: usize) -> Self {
        debug_assert!(segs.iter().all(|s| !s.is_empty()));
        debug_assert_eq!(segs.iter().map(Bytes::len).sum::<usize>(), len);
        CompositeBuf { segs, head: 0, len }
    }

    /// The live segments.
    #[inline]
    pub(crate) fn live(&self) -> &[Bytes] {
        &self.segs[self.head..]
    }

    /// Appends a segment at the end. Empty segments are dropped.
    ///
    /// O(1) amortized; does not copy the bytes (the composite takes the `Bytes`
    /// handle). Allocates only when more than two segments are live.
    ///
    /// # Examples
    ///
    /// ```
    /// use seine_buffer::{Bytes, CompositeBuf};
    ///
    /// let mut buf = CompositeBuf::new();
    /// buf.push(Bytes::from_static(b"ab"));
    /// buf.push(Bytes::new()); // dropped
    /// buf.push(Bytes::from_static(b"c"));
    /// assert_eq!(buf.segment_count(), 2);
    /// assert_eq!(buf, b"abc"[..]);
    /// ```
    pub fn push(&mut self, segment: Bytes) {
        if segment.is_empty() {
            return;
        }
        if self.head > 0
            && self.segs.len() == self.segs.capacity()
            && self.head * 2 >= self.segs.len()
        {
            // At least half of the slots are consumed placeholders: reuse them
            // instead of growing. Amortized O(1).
            self.segs.drain(..self.head);
            self.head = 0;
        }
        self.len += segment.len();
        self.segs.push(segment);
    }

    /// Inserts a segment at the front. Empty segments are dropped.
    ///
    /// O(1) when a segment was consumed from the front before (its slot is reused),
    /// otherwise O(number of segments) to shift them. Does not copy the bytes.
    ///
    /// # Examples
    ///
    /// ```
    /// use seine_buffer::{Bytes, CompositeBuf};
    ///
    /// let mut buf = CompositeBuf::from(Bytes::from_static(b"body"));
    /// buf.prepend(Bytes::from_static(b"head:"));
    /// assert_eq!(buf, b"head:body"[..]);
    /// ```
    pub fn prepend(&mut self, segment: Bytes) {
        if segment.is_empty() {
            return;
        }
        self.len += segment.len();
        if self.head > 0 {
            self.head -= 1;
            self.segs[self.head] = segment;
        } else {
            self.segs.insert(0, segment);
        }
    }

    /// Appends all segments of `other`, leaving it empty.
    ///
    /// O(number of segments of `other`); does not copy the bytes.
    ///
    /// # Examples
    ///
    /// ```
    /// use seine_buffer::CompositeBuf;
    ///
    /// let mut a = CompositeBuf::from(&b"ab"[..]);
    /// let mut b = CompositeBuf::from(&b"cd"[..]);
    /// a.append(&mut b);
    /// assert!(b.is_empty());
    /// assert_eq!(a, b"abcd"[..]);
    /// ```
    pub fn append(&mut self, other: &mut CompositeBuf) {
        let other = mem::take(other);
        let head = other.head;
        for seg in other.segs.into_iter().skip(head) {
            self.push(seg);
        }
    }

    /// Removes and returns the first segment, or `None` if empty.
    ///
    /// O(1); does not copy.
    ///
    /// # Examples
    ///
    /// ```
    /// use seine_buffer::{Bytes, CompositeBuf};
    ///
    /// let mut buf: CompositeBuf = [Bytes::from_static(b"a"), Bytes::from_static(b"bc")].into_iter().collect();
    /// assert_eq!(buf.pop_front().unwrap(), &b"a"[..]);
    /// assert_eq!(buf.len(), 2);
    /// ```
    pub fn pop_front(&mut self) -> Option<Bytes> {
        if self.head == self.segs.len() {
            return None;
        }
        let seg = mem::take(&mut self.segs[self.head]);
        self.head += 1;
        self.len -= seg.len();
        self.normalize();
        Some(seg)
    }

    /// Removes and returns the last segment, or `None` if empty.
    ///
    /// O(1); does not copy.
    ///
    /// # Examples
    ///
    /// ```
    /// use seine_buffer::{Bytes, CompositeBuf};
    ///
    /// let mut buf: CompositeBuf = [Bytes::from_static(b"a"), Bytes::from_static(b"bc")].into_iter().collect();
    /// assert_eq!(buf.pop_back().unwrap(), &b"bc"[..]);
    /// assert_eq!(buf, b"a"[..]);
    /// ```
    pub fn pop_back(&mut self) -> Option<Bytes> {
        if self.head == self.segs.len() {
            return None;
        }
        let seg = self.segs.pop()?;
        self.len -= seg.len();
        self.normalize();
        Some(seg)
    }

    /// Resets the placeholder slots once no live segment is left. O(1).
    #[inline]
    fn normalize(&mut self) {
        if self.head == self.segs.len() && self.head != 0 {
            self.segs.clear();
            self.head = 0;
        }
    }

    /// Number of bytes in the composite. O(1) (cached).
    ///
    /// # Examples
    ///
    /// ```
    /// let buf = seine_buffer::CompositeBuf::from(vec![1, 2, 3]);
    /// assert_eq!(buf.len(), 3);
    /// ```
    #[inline]
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the composite holds no bytes. O(1).
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(seine_buffer::CompositeBuf::new().is_empty());
    /// ```
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Number of (non-empty) segments. O(1).
    ///
    /// # Examples
    ///
    /// ```
    /// use seine_buffer::{Bytes, CompositeBuf};
    ///
    /// let buf: CompositeBuf = [Bytes::from_static(b"a"), Bytes::new(), Bytes::from_static(b"b")].into_iter().collect();
    /// assert_eq!(buf.segment_count(), 2);
    /// ```
    #[inline]
    pub fn segment_count(&self) -> usize {
        self.segs.len() - self.head
    }

    /// The segments, in order, none of them empty.
    ///
    /// The returned [`Segments`] is both an iterator of `&Bytes` and (through
    /// `Deref`) a `&[Bytes]` slice, so `buf.segments().map(..)`,
    /// `for s in buf.segments()` and `buf.segments()[0]` all work. O(1), does not
    /// copy.
    ///
    /// # Examples
    ///
    /// ```
    /// use seine_buffer::{Bytes, CompositeBuf};
    ///
    /// let buf: CompositeBuf = [Bytes::from_static(b"ab"), Bytes::from_static(b"c")].into_iter().collect();
    /// let lens: Vec<usize> = buf.segments().map(|s| s.len()).collect();
    /// assert_eq!(lens, [2, 1]);
    /// assert_eq!(buf.segments()[1], &b"c"[..]);
    /// ```
    #[inline]
    pub fn segments(&self) -> Segments<'_> {
        Segments::new(self.live())
    }

    /// Consumes the composite and returns its segments in order. O(1), no copy.
    ///
    /// # Examples
    ///
    /// ```
    /// use seine_buffer::{Bytes, CompositeBuf};
    ///
    /// let buf: CompositeBuf = [Bytes::from_static(b"ab"), Bytes::from_static(b"c")].into_iter().collect();
    /// let segs: Vec<Bytes> = buf.into_segments().collect();
    /// assert_eq!(segs.len(), 2);
    /// ```
    pub fn into_segments(self) -> impl ExactSizeIterator<Item = Bytes> + DoubleEndedIterator {
        let head = self.head;
        let mut iter = self.segs.into_iter();
        if head > 0 {
            iter.nth(head - 1);
        }
        iter
    }

    /// Removes all bytes, releasing every segment. O(number of segments).
    ///
    /// # Examples
    ///
    /// ```
    /// let mut buf = seine_buffer::CompositeBuf::from(vec![1, 2, 3]);
    /// buf.clear();
    /// assert!(buf.is_empty());
    /// ```
    pub fn clear(&mut self) {
        self.segs.clear();
        self.head = 0;
        self.len = 0;
    }

    /// Shortens the composite to its first `len` bytes; no-op if `len >= self.len()`.
    ///
    /// O(number of segments); does not copy (the segment that straddles `len` is
    /// truncated in place, later segments are released).
    ///
    /// # Examples
    ///
    /// ```
    /// use seine_buffer::{Bytes, CompositeBuf};
    ///
    /// let mut buf: CompositeBuf = [Bytes::from_static(b"abc"), Bytes::from_static(b"def")].into_iter().collect();
    /// buf.truncate(4);
    /// assert_eq!(buf, b"abcd"[..]);
    /// assert_eq!(buf.segment_count(), 2);
    /// ```
    pub fn truncate(&mut self, len: usize) {
        if len >= self.len {
            return;
        }
        if len == 0 {
            self.clear();
            return;
        }
        let (i, off) = self.locate(len);
        if off == 0 {
            self.segs.truncate(i);
        } else {
            self.segs[i].truncate(off);
            self.segs.truncate(i + 1);
        }
        self.len = len;
    }

    /// Finds the segment holding byte `index` (`index < len`): returns its position
    /// in `segs` and the offset of `index` inside it. O(number of segments), walking
    /// from whichever end is nearer.
    #[inline]
    pub(crate) fn locate(&self, index: usize) -> (usize, usize) {
        debug_assert!(index < self.len);
        let live = self.live();
        if index < self.len / 2 {
            let mut rem = index;
            for (i, seg) in live.iter().enumerate() {
                if rem < seg.len() {
                    return (self.head + i, rem);
                }
                rem -= seg.len();
            }
        } else {
            // Near the end: walk backwards, counting bytes from the end.
            let mut from_end = self.len - index;
            for (i, seg) in live.iter().enumerate().rev() {
                if from_end <= seg.len() {
                    return (self.head + i, seg.len() - from_end);
                }
                from_end -= seg.len();
            }
        }
        unreachable!("index {index} below len {} but not located", self.len)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A composite of the given pieces, one segment each (empty pieces dropped).
    pub(crate) fn comp(pieces: &[&[u8]]) -> CompositeBuf {
        pieces.iter().map(|p| Bytes::copy_from_slice(p)).collect()
    }

    pub(crate) fn check_invariants(buf: &CompositeBuf) {
        assert!(buf.head <= buf.segs.len());
        assert!(buf.segs[..buf.head].iter().all(Bytes::is_empty));
        assert!(buf.live().iter().all(|s| !s.is_empty()));
        assert_eq!(buf.live().iter().map(Bytes::len).sum::<usize>(), buf.len);
    }

    #[test]
    fn new_and_default_are_empty() {
        let a = CompositeBuf::new();
        let b = CompositeBuf::default();
        assert!(a.is_empty() && b.is_empty());
        assert_eq!(a.segment_count(), 0);
        assert_eq!(a.segments().count(), 0);
        assert_eq!(a, b);
    }

    #[test]
    fn push_drops_empty_and_counts() {
        let mut buf = CompositeBuf::new();
        buf.push(Bytes::new());
        assert_eq!(buf.segment_count(), 0);
        for i in 0..10u8 {
            buf.push(Bytes::from(vec![i; 3]));
        }
        assert_eq!(buf.len(), 30);
        assert_eq!(buf.segment_count(), 10);
        check_invariants(&buf);
    }

    #[test]
    fn push_reuses_consumed_slots() {
        let mut buf = CompositeBuf::new();
        for round in 0..100u8 {
            buf.push(Bytes::from(vec![round; 2]));
            buf.push(Bytes::from(vec![round; 2]));
            let _ = buf.pop_front();
            check_invariants(&buf);
        }
        assert_eq!(buf.segment_count(), 100);
        assert!(buf.segs.len() <= 2 * buf.segment_count() + INLINE_SEGMENTS);
        let mut buf2 = CompositeBuf::new();
        for round in 0..1000u32 {
            buf2.push(Bytes::from(round.to_be_bytes().to_vec()));
            let frame = buf2.split_to(4);
            assert_eq!(frame, round.to_be_bytes()[..]);
            check_invariants(&buf2);
        }
        assert!(buf2.segs.capacity() <= INLINE_SEGMENTS);
    }

    #[test]
    fn prepend_and_pop() {
        let mut buf = comp(&[b"cd"]);
        buf.prepend(Bytes::from_static(b"ab"));
        buf.prepend(Bytes::new());
        assert_eq!(buf, b"abcd"[..]);
        assert_eq!(buf.pop_front().unwrap(), &b"ab"[..]);
        buf.prepend(Bytes::from_static(b"xy")); // reuses the slot
        check_invariants(&buf);
        assert_eq!(buf, b"xycd"[..]);
        assert_eq!(buf.pop_back().unwrap(), &b"cd"[..]);
        assert_eq!(buf.pop_back().unwrap(), &b"xy"[..]);
        assert!(buf.pop_back().is_none());
        assert!(buf.pop_front().is_none());
        check_invariants(&buf);
    }

    #[test]
    fn append_moves_segments() {
        let mut a = comp(&[b"a", b"b"]);
        let mut b = comp(&[b"c", b"d", b"e"]);
        let _ = b.pop_front();
        a.append(&mut b);
        assert!(b.is_empty());
        assert_eq!(a, b"abde"[..]);
        assert_eq!(a.segment_count(), 4);
    }

    #[test]
    fn into_segments_skips_consumed() {
        let mut buf = comp(&[b"a", b"bc", b"d"]);
        buf.advance_for_test(1);
        let segs: Vec<Bytes> = buf.into_segments().collect();
        assert_eq!(
            segs,
            vec![Bytes::from_static(b"bc"), Bytes::from_static(b"d")]
        );
        assert_eq!(CompositeBuf::new().into_segments().count(), 0);
    }

    impl CompositeBuf {
        fn advance_for_test(&mut self, n: usize) {
            bytes::Buf::advance(self, n);
        }
    }

    #[test]
    fn truncate_cases() {
        let mut buf = comp(&[b"abc", b"def", b"gh"]);
        buf.truncate(100);
        assert_eq!(buf.len(), 8);
        buf.truncate(6);
        assert_eq!(buf, b"abcdef"[..]);
        assert_eq!(buf.segment_count(), 2);
        buf.truncate(4);
        assert_eq!(buf, b"abcd"[..]);
        buf.truncate(0);
        assert!(buf.is_empty());
        check_invariants(&buf);
        let mut empty = CompositeBuf::new();
        empty.truncate(0);
        assert!(empty.is_empty());
    }

    #[test]
    fn locate_from_both_ends() {
        let buf = comp(&[b"abc", b"d", b"efgh", b"i"]);
        let want = [
            (0, 0),
            (0, 1),
            (0, 2),
            (1, 0),
            (2, 0),
            (2, 1),
            (2, 2),
            (2, 3),
            (3, 0),
        ];
        for (i, w) in want.iter().enumerate() {
            assert_eq!(buf.locate(i), *w, "index {i}");
        }
    }

    #[test]
    fn clone_shares_segments() {
        let buf = comp(&[b"abc", b"def"]);
        let c = buf.clone();
        for (x, y) in buf.segments().zip(c.segments()) {
            assert_eq!(x.as_ptr(), y.as_ptr());
        }
    }
}
