//! Wrapping memory that already exists into [`Bytes`] without copying it.
//!
//! Netty's `Unpooled.wrappedBuffer` family: the bytes stay where they are and the
//! returned [`Bytes`] refers to them. Every function here is O(1) in the length of
//! the data (only the mapping functions make a system call).

use std::fs::File;

use bytes::Bytes;
use memmap2::{Mmap, MmapOptions};

use crate::BufferError;

/// Takes ownership of a `Vec<u8>` as [`Bytes`] without copying.
///
/// The vector's allocation becomes the buffer (spare capacity included); this is an
/// O(1) operation and does not copy.
///
/// # Examples
///
/// ```
/// let v = b"hello".to_vec();
/// let ptr = v.as_ptr();
/// let bytes = seine_buffer::wrap_vec(v);
/// assert_eq!(bytes.as_ptr(), ptr); // same memory
/// assert_eq!(&bytes[..], b"hello");
/// ```
#[inline]
pub fn wrap_vec(v: Vec<u8>) -> Bytes {
    Bytes::from(v)
}

/// Wraps a `'static` byte slice as [`Bytes`] without copying.
///
/// No reference counting at all; cloning the result is free. This is an O(1)
/// operation and does not copy.
///
/// # Examples
///
/// ```
/// static GREETING: &[u8] = b"HTTP/1.1 200 OK\r\n";
/// let bytes = seine_buffer::wrap_static(GREETING);
/// assert_eq!(bytes.as_ptr(), GREETING.as_ptr());
/// ```
#[inline]
pub fn wrap_static(s: &'static [u8]) -> Bytes {
    Bytes::from_static(s)
}

/// Wraps a read-only memory map as [`Bytes`] without copying.
///
/// The map is moved into the returned `Bytes` (via [`Bytes::from_owner`]) and
/// unmapped when the last clone or slice of it is dropped. O(1), does not copy.
///
/// Creating the [`Mmap`] of an ordinary file is `unsafe` in `memmap2` and is the
/// caller's decision: if the file is truncated while mapped, touching the missing
/// pages raises `SIGBUS` and kills the process; if it is written, the bytes change
/// under the reader. Use [`FileRegion::pread_chunks`](crate::FileRegion::pread_chunks)
/// when you cannot promise the file stays as it is.
///
/// # Examples
///
/// ```
/// use memmap2::MmapOptions;
///
/// // An anonymous mapping needs no `unsafe`; a file mapping is made the same way
/// // with `unsafe { memmap2::Mmap::map(&file) }` by code that accepts the hazard.
/// let mut anon = MmapOptions::new().len(4096).map_anon().unwrap();
/// anon[..5].copy_from_slice(b"hello");
/// let map = anon.make_read_only().unwrap();
/// let ptr = map.as_ptr();
/// let bytes = seine_buffer::wrap_mmap(map);
/// assert_eq!(bytes.as_ptr(), ptr);
/// assert_eq!(&bytes[..5], b"hello");
/// ```
#[inline]
pub fn wrap_mmap(map: Mmap) -> Bytes {
    Bytes::from_owner(map)
}

/// Maps `len` bytes of `file` starting at `offset`, read-only, as [`Bytes`].
///
/// Does not copy: the result is a view of the page cache. `offset` need not be
/// page-aligned (`memmap2` aligns the mapping down to a page and hides the slack).
/// `len == 0` returns an empty `Bytes` without a system call (a zero-length
/// mapping is an error in `mmap(2)`). Costs one `fstat` plus one `mmap`.
///
/// # The SIGBUS hazard, and why ordinary files are refused
///
/// A mapping of a file that is later truncated raises `SIGBUS` (the process dies)
/// when the vanished pages are touched, and a file written by someone else changes
/// under a `&[u8]`. That is why `memmap2` makes file mappings `unsafe`, and this
/// crate has no `unsafe`: `map_file` only maps files proven immutable (a memfd
/// sealed with `F_SEAL_SHRINK | F_SEAL_WRITE`, or an fs-verity file) and returns
/// [`BufferError::MapRefused`] for others. To map an ordinary file anyway, create
/// the map yourself (`unsafe { memmap2::MmapOptions::new().offset(o).len(l).map(&file) }`)
/// and pass it to [`wrap_mmap`].
///
/// # Errors
///
/// [`BufferError::RangePastEnd`] if `offset + len` is past the end of the file,
/// [`BufferError::MapRefused`] if the file is not sealed,
/// [`BufferError::Io`] if `fstat` or `mmap` fails.
///
/// # Examples
///
/// ```
/// use std::io::Write;
/// use seine_buffer::{map_file, BufferError};
///
/// let mut file = tempfile::tempfile().unwrap();
/// file.write_all(b"0123456789").unwrap();
///
/// assert!(map_file(&file, 0, 0).unwrap().is_empty());
/// assert!(matches!(map_file(&file, 8, 4), Err(BufferError::RangePastEnd { .. })));
/// // An ordinary, unsealed file: refused; read it with pread instead.
/// assert!(matches!(map_file(&file, 2, 4), Err(BufferError::MapRefused { position: 2, count: 4 })));
/// ```
pub fn map_file(file: &File, offset: u64, len: usize) -> Result<Bytes, BufferError> {
    let file_len = file
        .metadata()
        .map_err(|e| BufferError::io("metadata", e))?
        .len();
    let count = len as u64;
    if offset.checked_add(count).is_none_or(|end| end > file_len) {
        return Err(BufferError::RangePastEnd {
            position: offset,
            count,
            file_len,
        });
    }
    if len == 0 {
        return Ok(Bytes::new());
    }
    let map = map_sealed(file, offset, len)?;
    Ok(wrap_mmap(map))
}

/// Maps a checked, non-empty range of a file that must be sealed. One `mmap`.
pub(crate) fn map_sealed(file: &File, offset: u64, len: usize) -> Result<Mmap, BufferError> {
    match MmapOptions::new().offset(offset).len(len).map_if_safe(file) {
        Ok(map) => Ok(map),
        Err(e) if e.map_failed() => Err(BufferError::io("mmap", std::io::Error::other(e))),
        Err(_) => Err(BufferError::MapRefused {
            position: offset,
            count: len as u64,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vec_with_spare_capacity_is_not_copied() {
        let mut v = Vec::with_capacity(100);
        v.extend_from_slice(b"abc");
        let ptr = v.as_ptr();
        let b = wrap_vec(v);
        assert_eq!(b.as_ptr(), ptr);
        assert_eq!(&b[..], b"abc");
    }

    #[test]
    fn empty_vec() {
        assert!(wrap_vec(Vec::new()).is_empty());
    }

    #[test]
    fn static_is_not_copied() {
        static S: &[u8] = b"static bytes";
        let b = wrap_static(S);
        assert_eq!(b.as_ptr(), S.as_ptr());
        assert_eq!(b.clone().as_ptr(), S.as_ptr());
    }

    #[test]
    fn mmap_is_not_copied() {
        let mut anon = MmapOptions::new().len(8192).map_anon().unwrap();
        anon[4096] = 7;
        let map = anon.make_read_only().unwrap();
        let ptr = map.as_ptr();
        let b = wrap_mmap(map);
        assert_eq!(b.as_ptr(), ptr);
        assert_eq!(b.len(), 8192);
        let s = b.slice(4096..);
        assert_eq!(s[0], 7);
        drop(b);
        assert_eq!(s[0], 7); // the slice keeps the map alive
    }

    #[test]
    fn map_file_checks_range_overflow() {
        let file = tempfile::tempfile().unwrap();
        file.set_len(10).unwrap();
        assert!(matches!(
            map_file(&file, u64::MAX, 2),
            Err(BufferError::RangePastEnd { .. })
        ));
        assert!(matches!(
            map_file(&file, 11, 0),
            Err(BufferError::RangePastEnd { .. })
        ));
        assert!(map_file(&file, 10, 0).unwrap().is_empty());
    }
}
