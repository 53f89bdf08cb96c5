//! [`Segments`]: the borrowed view of a composite's segments.

use std::iter::FusedIterator;
use std::ops::Deref;
use std::slice;

use bytes::Bytes;

/// The segments of a [`CompositeBuf`](crate::CompositeBuf), in order, none empty.
///
/// Returned by [`CompositeBuf::segments`](crate::CompositeBuf::segments). It is an
/// iterator of `&Bytes` and also dereferences to the `[Bytes]` slice of the
/// segments not yet iterated, so it can be indexed and sliced. Creating and
/// iterating it is O(1) per step and never copies.
///
/// # Examples
///
/// ```
/// use seine_buffer::{Bytes, CompositeBuf};
///
/// let buf: CompositeBuf = [Bytes::from_static(b"ab"), Bytes::from_static(b"cde")].into_iter().collect();
/// let segs = buf.segments();
/// assert_eq!(segs.len(), 2);
/// assert_eq!(segs[1], &b"cde"[..]);
/// let total: usize = segs.map(|s| s.len()).sum();
/// assert_eq!(total, 5);
/// ```
#[derive(Clone, Debug)]
pub struct Segments<'a> {
    iter: slice::Iter<'a, Bytes>,
}

impl<'a> Segments<'a> {
    pub(crate) fn new(segs: &'a [Bytes]) -> Self {
        Segments { iter: segs.iter() }
    }

    /// The segments not yet iterated, as a slice. O(1), no copy.
    ///
    /// # Examples
    ///
    /// ```
    /// let buf = seine_buffer::CompositeBuf::from(vec![1, 2]);
    /// assert_eq!(buf.segments().as_slice().len(), 1);
    /// ```
    pub fn as_slice(&self) -> &'a [Bytes] {
        self.iter.as_slice()
    }
}

impl<'a> Iterator for Segments<'a> {
    type Item = &'a Bytes;

    #[inline]
    fn next(&mut self) -> Option<&'a Bytes> {
        self.iter.next()
    }

    #[inline]
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.iter.size_hint()
    }
}

impl DoubleEndedIterator for Segments<'_> {
    #[inline]
    fn next_back(&mut self) -> Option<Self::Item> {
        self.iter.next_back()
    }
}

impl ExactSizeIterator for Segments<'_> {}

impl FusedIterator for Segments<'_> {}

impl Deref for Segments<'_> {
    type Target = [Bytes];

    #[inline]
    fn deref(&self) -> &[Bytes] {
        self.iter.as_slice()
    }
}

#[cfg(test)]
mod tests {
    use crate::composite::tests::comp;

    #[test]
    fn iterates_and_derefs() {
        let buf = comp(&[b"a", b"bc", b"def"]);
        let mut segs = buf.segments();
        assert_eq!(segs.len(), 3);
        assert_eq!(segs.next().unwrap(), &b"a"[..]);
        assert_eq!(segs.as_slice().len(), 2);
        assert_eq!(segs[0], &b"bc"[..]);
        assert_eq!(segs.next_back().unwrap(), &b"def"[..]);
        assert_eq!(segs.iter().count(), 1);
        let mut n = 0;
        for s in buf.segments() {
            n += s.len();
        }
        assert_eq!(n, 6);
    }
}
