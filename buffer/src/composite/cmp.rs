//! Equality by content, regardless of segmentation.

use bytes::Bytes;

use super::CompositeBuf;

impl CompositeBuf {
    /// Whether the content equals `other`. O(len), no copy.
    fn eq_slice(&self, mut other: &[u8]) -> bool {
        if self.len != other.len() {
            return false;
        }
        for seg in self.live() {
            let (head, rest) = other.split_at(seg.len());
            if seg[..] != *head {
                return false;
            }
            other = rest;
        }
        true
    }
}

/// Compares content (not segmentation): `[ab][c] == [a][bc]`. O(len), no copy.
impl PartialEq for CompositeBuf {
    fn eq(&self, other: &CompositeBuf) -> bool {
        if self.len != other.len {
            return false;
        }
        let mut theirs = other.live().iter();
        let mut cur: &[u8] = &[];
        for seg in self.live() {
            let mut mine: &[u8] = seg;
            while !mine.is_empty() {
                if cur.is_empty() {
                    match theirs.next() {
                        Some(s) => cur = s,
                        None => return false,
                    }
                }
                let n = mine.len().min(cur.len());
                if mine[..n] != cur[..n] {
                    return false;
                }
                mine = &mine[n..];
                cur = &cur[n..];
            }
        }
        true
    }
}

impl Eq for CompositeBuf {}

/// Compares content with a byte slice. O(len), no copy.
impl PartialEq<[u8]> for CompositeBuf {
    fn eq(&self, other: &[u8]) -> bool {
        self.eq_slice(other)
    }
}

/// Compares content with a byte slice. O(len), no copy.
impl PartialEq<&[u8]> for CompositeBuf {
    fn eq(&self, other: &&[u8]) -> bool {
        self.eq_slice(other)
    }
}

/// Compares content with a byte array. O(len), no copy.
impl<const N: usize> PartialEq<[u8; N]> for CompositeBuf {
    fn eq(&self, other: &[u8; N]) -> bool {
        self.eq_slice(other)
    }
}

/// Compares content with a byte array. O(len), no copy.
impl<const N: usize> PartialEq<&[u8; N]> for CompositeBuf {
    fn eq(&self, other: &&[u8; N]) -> bool {
        self.eq_slice(*other)
    }
}

/// Compares content with a vector. O(len), no copy.
impl PartialEq<Vec<u8>> for CompositeBuf {
    fn eq(&self, other: &Vec<u8>) -> bool {
        self.eq_slice(other)
    }
}

/// Compares content with a `Bytes`. O(len), no copy.
impl PartialEq<Bytes> for CompositeBuf {
    fn eq(&self, other: &Bytes) -> bool {
        self.eq_slice(other)
    }
}

/// Compares content with a composite. O(len), no copy.
impl PartialEq<CompositeBuf> for [u8] {
    fn eq(&self, other: &CompositeBuf) -> bool {
        other.eq_slice(self)
    }
}

/// Compares content with a composite. O(len), no copy.
impl PartialEq<CompositeBuf> for Vec<u8> {
    fn eq(&self, other: &CompositeBuf) -> bool {
        other.eq_slice(self)
    }
}

#[cfg(test)]
mod tests {
    use crate::composite::tests::comp;
    use crate::{Bytes, CompositeBuf};

    #[test]
    fn equality_ignores_segmentation() {
        let a = comp(&[b"ab", b"c"]);
        let b = comp(&[b"a", b"bc"]);
        let c = comp(&[b"abc"]);
        assert_eq!(a, b);
        assert_eq!(b, c);
        assert_ne!(a, comp(&[b"ab", b"d"]));
        assert_ne!(a, comp(&[b"ab"]));
        assert_eq!(CompositeBuf::new(), comp(&[]));
    }

    #[test]
    fn equality_with_slices() {
        let a = comp(&[b"ab", b"c"]);
        assert_eq!(a, b"abc"[..]);
        assert_eq!(a, &b"abc"[..]);
        assert_eq!(a, *b"abc");
        assert_eq!(a, b"abc");
        assert_eq!(a, b"abc".to_vec());
        assert_eq!(a, Bytes::from_static(b"abc"));
        assert_eq!(b"abc"[..], a);
        assert_eq!(b"abc".to_vec(), a);
        assert_ne!(a, b"abd"[..]);
        assert_ne!(a, b"ab"[..]);
    }
}
