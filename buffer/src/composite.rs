//! [`CompositeBuf`]: many [`Bytes`] segments behaving as one buffer, without copying.

mod buf_impl;
mod cmp;
mod convert;
mod fmt;
mod read;
mod search;
mod segments;

use std::mem;
use std::ops::{Bound, RangeBounds};

use bytes::{Bytes, BytesMut};
use smallvec::SmallVec;

pub use segments::Segments;

/// Number of segments a [`CompositeBuf`] stores inline before it allocates.
pub(crate) const INLINE_SEGMENTS: usize = 4;

type SegVec = SmallVec<[Bytes; INLINE_SEGMENTS]>;

/// An ordered list of [`Bytes`] segments that behaves as one buffer, without copying.
///
/// This is Netty's `CompositeByteBuf` built from `bytes`: each segment is a
/// reference-counted [`Bytes`] (a received packet, a slice of one, a static header,
/// a file mapping), and the composite is the logical concatenation of them. Empty
/// segments are never stored. The first four segments live inline (no allocation);
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
/// [`to_bytes`](Self::to_bytes) / [`into_bytes`](Self::into_bytes) /
/// [`to_vec`](Self::to_vec) of several segments, and
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
    /// handle). Allocates only when more than four segments are live.
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

    /// Splits off the first `at` bytes and returns them; `self` keeps `[at, len)`.
    ///
    /// Shares memory, does not copy: whole segments move to the result and the
    /// segment that straddles `at` is split with [`Bytes::split_to`] (a reference
    /// count increment). O(number of segments moved); no allocation when the result
    /// has at most four segments.
    ///
    /// # Panics
    ///
    /// Panics if `at > self.len()`, like [`Bytes::split_to`]. Use
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
    /// [`Bytes::split_off`]). O(number of segments).
    ///
    /// # Panics
    ///
    /// Panics if `at > self.len()`, like [`Bytes::split_off`]. Use
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
    /// [`Bytes::slice`] (reference count increments). O(number of segments).
    ///
    /// # Panics
    ///
    /// Panics like [`Bytes::slice`]: if the start is greater than the end, or the
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
pub(crate) mod tests {
    use super::*;

    /// A composite of the given pieces, one segment each (empty pieces dropped).
    pub(crate) fn comp(pieces: &[&[u8]]) -> CompositeBuf {
        pieces.iter().map(|p| Bytes::copy_from_slice(p)).collect()
    }

    fn check_invariants(buf: &CompositeBuf) {
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

    #[test]
    fn clone_shares_segments() {
        let buf = comp(&[b"abc", b"def"]);
        let c = buf.clone();
        for (x, y) in buf.segments().zip(c.segments()) {
            assert_eq!(x.as_ptr(), y.as_ptr());
        }
    }
}
