//! Chunk iterators for sinks that cannot `sendfile`: [`PreadChunks`] and
//! [`MappedChunks`].

use std::fs::File;
use std::iter::FusedIterator;
use std::sync::Arc;

use bytes::Bytes;
use memmap2::Mmap;

use crate::BufferError;

/// Iterator over the rest of a [`FileRegion`](crate::FileRegion) read with
/// `pread(2)` in chunks; see
/// [`FileRegion::pread_chunks`](crate::FileRegion::pread_chunks).
///
/// Each item copies one chunk (at most `max` bytes) from the page cache into a new
/// `Bytes`. It shares the file descriptor (no seek). After the first error it
/// yields `None`.
///
/// # Examples
///
/// ```
/// use std::io::Write;
///
/// let mut file = tempfile::tempfile().unwrap();
/// file.write_all(&[1u8; 10]).unwrap();
/// let region = seine_buffer::FileRegion::from_file(file).unwrap();
/// let mut chunks = region.pread_chunks(4);
/// assert_eq!(chunks.remaining(), 10);
/// assert_eq!(chunks.next().unwrap().unwrap().len(), 4);
/// assert_eq!(chunks.remaining(), 6);
/// ```
#[derive(Debug)]
pub struct PreadChunks {
    file: Arc<File>,
    position: u64,
    remaining: u64,
    max: usize,
}

impl PreadChunks {
    pub(crate) fn new(file: Arc<File>, position: u64, remaining: u64, max: usize) -> Self {
        PreadChunks {
            file,
            position,
            remaining,
            max: max.max(1),
        }
    }

    /// Bytes not yet yielded (0 after an error). O(1).
    ///
    /// # Examples
    ///
    /// ```
    /// # let file = tempfile::tempfile().unwrap(); file.set_len(3).unwrap();
    /// let region = seine_buffer::FileRegion::from_file(file).unwrap();
    /// assert_eq!(region.pread_chunks(1).remaining(), 3);
    /// ```
    pub fn remaining(&self) -> u64 {
        self.remaining
    }

    /// File offset of the next chunk. O(1).
    ///
    /// # Examples
    ///
    /// ```
    /// # let file = tempfile::tempfile().unwrap(); file.set_len(3).unwrap();
    /// let region = seine_buffer::FileRegion::new(std::sync::Arc::new(file), 1, 2).unwrap();
    /// assert_eq!(region.pread_chunks(1).position(), 1);
    /// ```
    pub fn position(&self) -> u64 {
        self.position
    }
}

impl Iterator for PreadChunks {
    type Item = Result<Bytes, BufferError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.remaining == 0 {
            return None;
        }
        match super::read_at(&self.file, self.position, self.remaining, self.max) {
            Ok(chunk) => {
                self.position += chunk.len() as u64;
                self.remaining -= chunk.len() as u64;
                Some(Ok(chunk))
            }
            Err(e) => {
                self.remaining = 0;
                Some(Err(e))
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.remaining.div_ceil(self.max as u64);
        let n = usize::try_from(n).unwrap_or(usize::MAX);
        // An error can end the iteration early.
        (n.min(1), Some(n))
    }
}

impl FusedIterator for PreadChunks {}

/// Iterator over one memory mapping as `Bytes` views of at most `max` bytes each;
/// see [`FileRegion::mapped_chunks`](crate::FileRegion::mapped_chunks).
///
/// No item copies: each is a [`Bytes::slice`] of one `Bytes` that owns the map
/// (built with [`Bytes::from_owner`]), so consecutive chunks are adjacent views of
/// one allocation, and the map is released when the iterator and every chunk are
/// dropped.
///
/// # Examples
///
/// ```
/// use memmap2::MmapOptions;
/// use seine_buffer::MappedChunks;
///
/// let map = MmapOptions::new().len(10).map_anon().unwrap().make_read_only().unwrap();
/// let chunks: Vec<_> = MappedChunks::from_mmap(map, 4).collect();
/// assert_eq!(chunks.iter().map(|c| c.len()).collect::<Vec<_>>(), [4, 4, 2]);
/// ```
#[derive(Debug)]
pub struct MappedChunks {
    rest: Bytes,
    max: usize,
}

impl MappedChunks {
    pub(crate) fn empty(max: usize) -> Self {
        MappedChunks {
            rest: Bytes::new(),
            max: max.max(1),
        }
    }

    /// Iterates over a mapping you created (for example with
    /// `unsafe { memmap2::Mmap::map(&file) }`, accepting the `SIGBUS` hazard of a
    /// file that may shrink) in views of at most `max` bytes (0 is treated as 1).
    ///
    /// O(1), does not copy: the map is moved into a `Bytes` with
    /// [`Bytes::from_owner`].
    ///
    /// # Examples
    ///
    /// ```
    /// use memmap2::MmapOptions;
    ///
    /// let map = MmapOptions::new().len(8192).map_anon().unwrap().make_read_only().unwrap();
    /// let ptr = map.as_ptr();
    /// let mut chunks = seine_buffer::MappedChunks::from_mmap(map, 4096);
    /// assert_eq!(chunks.next().unwrap().as_ptr(), ptr);
    /// ```
    pub fn from_mmap(map: Mmap, max: usize) -> Self {
        MappedChunks {
            rest: Bytes::from_owner(map),
            max: max.max(1),
        }
    }

    /// Bytes not yet yielded. O(1).
    ///
    /// # Examples
    ///
    /// ```
    /// let map = memmap2::MmapOptions::new().len(10).map_anon().unwrap().make_read_only().unwrap();
    /// let mut chunks = seine_buffer::MappedChunks::from_mmap(map, 4);
    /// chunks.next();
    /// assert_eq!(chunks.remaining(), 6);
    /// ```
    pub fn remaining(&self) -> usize {
        self.rest.len()
    }
}

impl Iterator for MappedChunks {
    type Item = Bytes;

    fn next(&mut self) -> Option<Bytes> {
        if self.rest.is_empty() {
            return None;
        }
        let n = self.rest.len().min(self.max);
        Some(self.rest.split_to(n))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.rest.len().div_ceil(self.max);
        (n, Some(n))
    }
}

impl ExactSizeIterator for MappedChunks {}

impl FusedIterator for MappedChunks {}

#[cfg(test)]
mod tests {
    use super::*;
    use memmap2::MmapOptions;

    #[test]
    fn mapped_chunks_are_adjacent_views() {
        let map = MmapOptions::new()
            .len(10_000)
            .map_anon()
            .unwrap()
            .make_read_only()
            .unwrap();
        let base = map.as_ptr();
        let chunks: Vec<Bytes> = MappedChunks::from_mmap(map, 4096).collect();
        assert_eq!(chunks.len(), 3);
        assert_eq!(chunks[0].as_ptr(), base);
        assert_eq!(chunks[1].as_ptr(), chunks[0][4096..].as_ptr());
        assert_eq!(chunks[2].len(), 10_000 - 8192);
    }

    #[test]
    fn zero_max_is_one() {
        let map = MmapOptions::new()
            .len(3)
            .map_anon()
            .unwrap()
            .make_read_only()
            .unwrap();
        assert_eq!(MappedChunks::from_mmap(map, 0).count(), 3);
        assert_eq!(MappedChunks::empty(0).count(), 0);
    }
}
