//! [`FileRegion`]: a range of a file sent as a message, with `sendfile` in mind.

mod chunks;
mod progress;

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::Arc;

use bytes::Bytes;

use crate::BufferError;

pub use chunks::{MappedChunks, PreadChunks};
pub use progress::Progress;

/// A range of a file to be written to a channel, like Netty's `FileRegion`.
///
/// It holds a shared [`File`] (an `Arc`, so clones and chunk iterators share one
/// descriptor), the start `position`, the `count` of bytes, and how many have been
/// `transferred` so far. It flows through the pipeline as a message; the socket
/// transport writes a region of 4 KiB or more with `sendfile(2)` (the bytes never
/// enter user space) and reads a smaller one with `pread` and copies it (measured
/// cheaper below one page: seine-transport's `SENDFILE_MIN_BYTES` and
/// `FilePolicy`), and reports what was written with [`advance`](Self::advance).
///
/// Where `sendfile` cannot be used (TLS in the pipeline, a sink that is not a
/// socket), read it in chunks:
///
/// * [`pread_chunks`](Self::pread_chunks), the default: one copy per chunk into a
///   new buffer, with `pread(2)` (no seek, so clones can share the descriptor). A file
///   that shrinks under the region fails cleanly with [`BufferError::FileShrank`].
/// * [`mapped_chunks`](Self::mapped_chunks), opt-in: `Bytes` views of one memory
///   mapping, no copy, but only for files that cannot shrink (see its docs on
///   `SIGBUS`).
///
/// Never is the whole file loaded at once.
///
/// # Examples
///
/// ```
/// use std::io::Write;
/// use seine_buffer::FileRegion;
///
/// let mut file = tempfile::tempfile().unwrap();
/// file.write_all(b"hello, world").unwrap();
/// let mut region = FileRegion::from_file(file).unwrap();
/// assert_eq!(region.count(), 12);
///
/// let chunk = region.read_chunk(5).unwrap();
/// assert_eq!(&chunk[..], b"hello");
/// region.advance(chunk.len() as u64); // what a transport does after writing it
/// assert_eq!(region.current_position(), 5);
/// assert_eq!(region.remaining(), 7);
/// ```
#[derive(Clone, Debug)]
pub struct FileRegion {
    file: Arc<File>,
    position: u64,
    count: u64,
    transferred: u64,
    progress: Option<Progress>,
}

fn file_len(file: &File) -> Result<u64, BufferError> {
    Ok(file
        .metadata()
        .map_err(|e| BufferError::io("metadata", e))?
        .len())
}

impl FileRegion {
    /// A region of `count` bytes of `file` starting at `position`.
    ///
    /// Checks `position + count <= file length` once (one `fstat`; overflow-safe).
    /// Does not read or copy anything.
    ///
    /// # Errors
    ///
    /// [`BufferError::RangePastEnd`] if the range is not inside the file,
    /// [`BufferError::Io`] if `fstat` fails.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use seine_buffer::FileRegion;
    ///
    /// let file = tempfile::tempfile().unwrap();
    /// file.set_len(100).unwrap();
    /// let file = Arc::new(file);
    /// let region = FileRegion::new(file.clone(), 10, 90).unwrap();
    /// assert_eq!((region.position(), region.count()), (10, 90));
    /// assert!(FileRegion::new(file, 10, 91).is_err());
    /// ```
    pub fn new(file: Arc<File>, position: u64, count: u64) -> Result<Self, BufferError> {
        let file_len = file_len(&file)?;
        Self::with_file_len(file, position, count, file_len)
    }

    /// [`new`](Self::new) for a caller that already knows the file's length (from
    /// the `fstat` it made to answer a request, say): the same range check against
    /// `file_len`, without another system call. Should the file be shorter than
    /// `file_len` by the time the region is written, the write fails with
    /// [`BufferError::FileShrank`] like any file that shrinks under a region.
    ///
    /// # Errors
    ///
    /// [`BufferError::RangePastEnd`] if the range is not inside `file_len` bytes.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use seine_buffer::FileRegion;
    ///
    /// let file = tempfile::tempfile().unwrap();
    /// file.set_len(100).unwrap();
    /// let len = file.metadata().unwrap().len();
    /// let file = Arc::new(file);
    /// let region = FileRegion::with_file_len(file.clone(), 0, len, len).unwrap();
    /// assert_eq!(region.count(), 100);
    /// assert!(FileRegion::with_file_len(file, 1, len, len).is_err());
    /// ```
    pub fn with_file_len(
        file: Arc<File>,
        position: u64,
        count: u64,
        file_len: u64,
    ) -> Result<Self, BufferError> {
        if position.checked_add(count).is_none_or(|end| end > file_len) {
            return Err(BufferError::RangePastEnd {
                position,
                count,
                file_len,
            });
        }
        Ok(FileRegion {
            file,
            position,
            count,
            transferred: 0,
            progress: None,
        })
    }

    /// A region covering the whole file (its length now). One `fstat`; no copy.
    ///
    /// # Errors
    ///
    /// [`BufferError::Io`] if `fstat` fails.
    ///
    /// # Examples
    ///
    /// ```
    /// let file = tempfile::tempfile().unwrap();
    /// file.set_len(42).unwrap();
    /// let region = seine_buffer::FileRegion::from_file(file).unwrap();
    /// assert_eq!(region.count(), 42);
    /// ```
    pub fn from_file(file: File) -> Result<Self, BufferError> {
        let len = file_len(&file)?;
        FileRegion::new(Arc::new(file), 0, len)
    }

    /// Opens the file at `path` read-only; the region covers the whole file.
    /// One `open` and one `fstat`; no copy.
    ///
    /// # Errors
    ///
    /// [`BufferError::Io`] with `op: "open"` if the file cannot be opened.
    ///
    /// # Examples
    ///
    /// ```
    /// let dir = tempfile::tempdir().unwrap();
    /// let path = dir.path().join("index.html");
    /// std::fs::write(&path, b"<html></html>").unwrap();
    /// let region = seine_buffer::FileRegion::open(&path).unwrap();
    /// assert_eq!(region.count(), 13);
    /// assert!(seine_buffer::FileRegion::open(dir.path().join("missing")).is_err());
    /// ```
    pub fn open(path: impl AsRef<Path>) -> Result<Self, BufferError> {
        let file = File::open(path).map_err(|e| BufferError::io("open", e))?;
        FileRegion::from_file(file)
    }

    /// Opens the file at `path` read-only; the region covers `count` bytes from
    /// `position`. One `open` and one `fstat`; no copy.
    ///
    /// # Errors
    ///
    /// [`BufferError::Io`] if the file cannot be opened,
    /// [`BufferError::RangePastEnd`] if the range is not inside it.
    ///
    /// # Examples
    ///
    /// ```
    /// let dir = tempfile::tempdir().unwrap();
    /// let path = dir.path().join("data");
    /// std::fs::write(&path, b"0123456789").unwrap();
    /// let region = seine_buffer::FileRegion::open_range(&path, 2, 5).unwrap();
    /// assert_eq!(&region.read_chunk(100).unwrap()[..], b"23456");
    /// ```
    pub fn open_range(
        path: impl AsRef<Path>,
        position: u64,
        count: u64,
    ) -> Result<Self, BufferError> {
        let file = File::open(path).map_err(|e| BufferError::io("open", e))?;
        FileRegion::new(Arc::new(file), position, count)
    }

    /// The shared file. O(1).
    ///
    /// # Examples
    ///
    /// ```
    /// let region = seine_buffer::FileRegion::from_file(tempfile::tempfile().unwrap()).unwrap();
    /// assert_eq!(region.file().metadata().unwrap().len(), 0);
    /// ```
    pub fn file(&self) -> &Arc<File> {
        &self.file
    }

    /// File offset of the first byte of the region. O(1).
    ///
    /// # Examples
    ///
    /// ```
    /// # let file = tempfile::tempfile().unwrap(); file.set_len(9).unwrap();
    /// let region = seine_buffer::FileRegion::new(std::sync::Arc::new(file), 3, 4).unwrap();
    /// assert_eq!(region.position(), 3);
    /// ```
    pub fn position(&self) -> u64 {
        self.position
    }

    /// Number of bytes in the region. O(1).
    ///
    /// # Examples
    ///
    /// ```
    /// # let file = tempfile::tempfile().unwrap(); file.set_len(9).unwrap();
    /// let region = seine_buffer::FileRegion::new(std::sync::Arc::new(file), 3, 4).unwrap();
    /// assert_eq!(region.count(), 4);
    /// ```
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Bytes of the region already transferred (as reported by
    /// [`advance`](Self::advance)). O(1).
    ///
    /// # Examples
    ///
    /// ```
    /// # let file = tempfile::tempfile().unwrap(); file.set_len(9).unwrap();
    /// let mut region = seine_buffer::FileRegion::from_file(file).unwrap();
    /// region.advance(2);
    /// assert_eq!(region.transferred(), 2);
    /// ```
    pub fn transferred(&self) -> u64 {
        self.transferred
    }

    /// Bytes of the region still to transfer (`count - transferred`). O(1).
    ///
    /// # Examples
    ///
    /// ```
    /// # let file = tempfile::tempfile().unwrap(); file.set_len(9).unwrap();
    /// let mut region = seine_buffer::FileRegion::from_file(file).unwrap();
    /// region.advance(2);
    /// assert_eq!(region.remaining(), 7);
    /// ```
    pub fn remaining(&self) -> u64 {
        self.count - self.transferred
    }

    /// File offset of the next byte to transfer (`position + transferred`): what
    /// the transport passes to `sendfile`. O(1).
    ///
    /// # Examples
    ///
    /// ```
    /// # let file = tempfile::tempfile().unwrap(); file.set_len(9).unwrap();
    /// let mut region = seine_buffer::FileRegion::new(std::sync::Arc::new(file), 3, 4).unwrap();
    /// region.advance(1);
    /// assert_eq!(region.current_position(), 4);
    /// ```
    pub fn current_position(&self) -> u64 {
        self.position + self.transferred
    }

    /// Whether every byte has been transferred. O(1).
    ///
    /// # Examples
    ///
    /// ```
    /// # let file = tempfile::tempfile().unwrap(); file.set_len(9).unwrap();
    /// let mut region = seine_buffer::FileRegion::from_file(file).unwrap();
    /// assert!(!region.is_done());
    /// region.advance(9);
    /// assert!(region.is_done());
    /// ```
    pub fn is_done(&self) -> bool {
        self.transferred == self.count
    }

    /// Records that `n` more bytes were transferred, saturating at `count`, and
    /// publishes the new total to the attached [`Progress`] if any.
    ///
    /// O(1): one atomic store when a `Progress` is attached, nothing otherwise.
    ///
    /// # Examples
    ///
    /// ```
    /// # let file = tempfile::tempfile().unwrap(); file.set_len(9).unwrap();
    /// let mut region = seine_buffer::FileRegion::from_file(file).unwrap();
    /// region.advance(5);
    /// region.advance(100); // saturates
    /// assert_eq!(region.transferred(), 9);
    /// ```
    pub fn advance(&mut self, n: u64) {
        self.transferred = self.transferred.saturating_add(n).min(self.count);
        if let Some(progress) = &self.progress {
            progress.set(self.transferred);
        }
    }

    /// Attaches a [`Progress`] observer and returns it alongside the region.
    ///
    /// The observer is a cloneable handle that another thread can poll; it starts at
    /// the current `transferred` value. One small allocation; regions without one pay
    /// nothing. Clones of the region share the same observer.
    ///
    /// # Examples
    ///
    /// ```
    /// # let file = tempfile::tempfile().unwrap(); file.set_len(9).unwrap();
    /// let region = seine_buffer::FileRegion::from_file(file).unwrap();
    /// let (mut region, progress) = region.with_progress();
    /// let watcher = std::thread::spawn({
    ///     let progress = progress.clone();
    ///     move || progress.count()
    /// });
    /// region.advance(4);
    /// assert_eq!(progress.transferred(), 4);
    /// assert_eq!(watcher.join().unwrap(), 9);
    /// ```
    pub fn with_progress(mut self) -> (Self, Progress) {
        let progress = Progress::new(self.transferred, self.count);
        self.progress = Some(progress.clone());
        (self, progress)
    }

    /// Reads up to `max` bytes at [`current_position`](Self::current_position)
    /// without advancing (call [`advance`](Self::advance) once they are written).
    ///
    /// **Copies** the bytes from the page cache into a new buffer of
    /// `min(max, remaining)` bytes, with `pread(2)` (no seek: clones of the region can
    /// read concurrently). Returns an empty `Bytes` when the region is done or `max`
    /// is 0.
    ///
    /// # Errors
    ///
    /// [`BufferError::FileShrank`] if the file ends before the chunk is complete
    /// (it was truncated after the region was created): never a hang or a panic.
    /// [`BufferError::Io`] with `op: "pread"` for other read errors.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io::Write;
    ///
    /// let mut file = tempfile::tempfile().unwrap();
    /// file.write_all(b"abcdef").unwrap();
    /// let region = seine_buffer::FileRegion::from_file(file).unwrap();
    /// assert_eq!(&region.read_chunk(4).unwrap()[..], b"abcd");
    /// assert_eq!(&region.read_chunk(4).unwrap()[..], b"abcd"); // did not advance
    /// ```
    pub fn read_chunk(&self, max: usize) -> Result<Bytes, BufferError> {
        read_at(&self.file, self.current_position(), self.remaining(), max)
    }

    /// Reads the next `min(buf.len(), remaining)` bytes of the region, from its
    /// current position, into the front of `buf`; returns how many. As
    /// [`read_chunk`](Self::read_chunk), without a new buffer per chunk: for a
    /// caller that reuses one (a TLS handler encrypting a file chunk by chunk).
    /// Does not advance the region. Same errors as `read_chunk`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io::Write;
    ///
    /// let mut file = tempfile::tempfile().unwrap();
    /// file.write_all(b"abcdef").unwrap();
    /// let mut region = seine_buffer::FileRegion::from_file(file).unwrap();
    /// let mut buf = [0u8; 4];
    /// assert_eq!(region.read_chunk_into(&mut buf).unwrap(), 4);
    /// assert_eq!(&buf, b"abcd");
    /// region.advance(4);
    /// assert_eq!(region.read_chunk_into(&mut buf).unwrap(), 2);
    /// assert_eq!(&buf[..2], b"ef");
    /// ```
    pub fn read_chunk_into(&self, buf: &mut [u8]) -> Result<usize, BufferError> {
        let remaining = self.remaining();
        let want = usize::try_from(remaining).map_or(buf.len(), |r| r.min(buf.len()));
        fill_at(
            &self.file,
            self.current_position(),
            remaining,
            &mut buf[..want],
        )?;
        Ok(want)
    }

    /// Iterates over the rest of the region in chunks of at most `max` bytes read
    /// with `pread(2)`: the default fallback when `sendfile` cannot be used.
    ///
    /// Each item **copies** one chunk into a new `Bytes`; only one chunk is in
    /// memory at a time. The iterator shares the file (no seek) and does not advance
    /// the region. A `max` of 0 is treated as 1. After an error the iterator ends.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io::Write;
    ///
    /// let mut file = tempfile::tempfile().unwrap();
    /// file.write_all(b"abcdefg").unwrap();
    /// let region = seine_buffer::FileRegion::from_file(file).unwrap();
    /// let chunks: Vec<_> = region.pread_chunks(3).collect::<Result<_, _>>().unwrap();
    /// assert_eq!(chunks, [&b"abc"[..], b"def", b"g"]);
    /// ```
    pub fn pread_chunks(&self, max: usize) -> PreadChunks {
        PreadChunks::new(
            self.file.clone(),
            self.current_position(),
            self.remaining(),
            max,
        )
    }

    /// Maps the rest of the region into memory once and iterates over it as `Bytes`
    /// views of at most `max` bytes each: **no copy**, opt-in.
    ///
    /// The mapping starts at the page boundary at or below
    /// [`current_position`](Self::current_position) (as `mmap(2)` requires; the
    /// slack is hidden) and is released when the iterator and every chunk it yielded
    /// are dropped. A zero-length region yields nothing and maps nothing (a
    /// zero-length mapping is an error in `mmap(2)`). A `max` of 0 is treated as 1.
    ///
    /// # SIGBUS, and when to choose which
    ///
    /// If a mapped file is truncated, touching the vanished pages raises `SIGBUS`,
    /// which kills the whole process, not just this write; and if it is written,
    /// the bytes change under the reader. So mapping an ordinary file is `unsafe`
    /// in `memmap2`, and this crate has no `unsafe`: `mapped_chunks` only maps files
    /// proven immutable (a memfd sealed with `F_SEAL_SHRINK | F_SEAL_WRITE`, or an
    /// fs-verity file) and returns [`BufferError::MapRefused`] for the rest.
    ///
    /// * Use `sendfile` (the transport's default for regions of 4 KiB or more)
    ///   whenever the sink is a plain socket.
    /// * Use [`pread_chunks`](Self::pread_chunks) when it is not (TLS, a pipe, a test
    ///   sink) and the file may change: one copy per chunk, and a shrinking file is
    ///   an error, not a crash.
    /// * Use `mapped_chunks` for sealed content (generated assets in a memfd): no
    ///   copy at all. For ordinary files you promise will not shrink or change, use
    ///   [`mapped_chunks_unchecked`](Self::mapped_chunks_unchecked) (`unsafe`: the
    ///   promise is yours).
    ///
    /// # Errors
    ///
    /// [`BufferError::MapRefused`] for a file that is not sealed,
    /// [`BufferError::FileShrank`] if the file is already shorter than the region,
    /// [`BufferError::Io`] if `fstat` or `mmap` fails.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io::Write;
    /// use nix::fcntl::{fcntl, FcntlArg, SealFlag};
    /// use nix::sys::memfd::{memfd_create, MFdFlags};
    ///
    /// // Sealed content can be mapped safely.
    /// let fd = memfd_create("asset", MFdFlags::MFD_CLOEXEC | MFdFlags::MFD_ALLOW_SEALING).unwrap();
    /// let mut file = std::fs::File::from(fd);
    /// file.write_all(&[7u8; 10_000]).unwrap();
    /// let seals = SealFlag::F_SEAL_SHRINK | SealFlag::F_SEAL_GROW | SealFlag::F_SEAL_WRITE;
    /// fcntl(&file, FcntlArg::F_ADD_SEALS(seals)).unwrap();
    ///
    /// let region = seine_buffer::FileRegion::from_file(file).unwrap();
    /// let chunks: Vec<_> = region.mapped_chunks(4096).unwrap().collect();
    /// assert_eq!(chunks.iter().map(|c| c.len()).collect::<Vec<_>>(), [4096, 4096, 1808]);
    /// assert_eq!(chunks[1].as_ptr(), chunks[0][4096..].as_ptr()); // one mapping
    ///
    /// // An ordinary file is refused: use pread_chunks.
    /// let mut plain = tempfile::tempfile().unwrap();
    /// plain.write_all(b"data").unwrap();
    /// let region = seine_buffer::FileRegion::from_file(plain).unwrap();
    /// assert!(matches!(region.mapped_chunks(4096), Err(seine_buffer::BufferError::MapRefused { .. })));
    /// ```
    pub fn mapped_chunks(&self, max: usize) -> Result<MappedChunks, BufferError> {
        match self.mappable_range()? {
            None => Ok(MappedChunks::empty(max)),
            Some((position, len)) => {
                let map = crate::wrap::map_sealed(&self.file, position, len)?;
                Ok(MappedChunks::from_mmap(map, max))
            }
        }
    }

    /// Like [`mapped_chunks`](Self::mapped_chunks), for an ordinary file the caller
    /// vouches for: the opt-in zero-copy path for sinks that cannot `sendfile`
    /// (TLS, compression) when the file is known not to change. One `mmap`; the
    /// chunks are views of it, no byte is copied.
    ///
    /// # Safety
    ///
    /// Until every chunk (and every `Bytes` sliced from one) is dropped, the file
    /// must not be truncated (touching a vanished page raises `SIGBUS`, which kills
    /// the process) nor written by anyone (the bytes would change under shared
    /// references). Files that are replaced by rename, never rewritten in place,
    /// meet this; files other processes edit do not: use
    /// [`pread_chunks`](Self::pread_chunks) for those.
    ///
    /// # Errors
    ///
    /// [`BufferError::FileShrank`] if the file is already shorter than the region,
    /// [`BufferError::Io`] if `fstat` or `mmap` fails.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io::Write;
    ///
    /// let mut file = tempfile::tempfile().unwrap();
    /// file.write_all(&[9u8; 10_000]).unwrap();
    /// let region = seine_buffer::FileRegion::from_file(file).unwrap();
    /// // SAFETY: this test owns the temp file; nobody truncates or writes it while
    /// // the chunks live.
    /// let chunks: Vec<_> = unsafe { region.mapped_chunks_unchecked(4096) }.unwrap().collect();
    /// assert_eq!(chunks.iter().map(|c| c.len()).sum::<usize>(), 10_000);
    /// assert_eq!(chunks[1].as_ptr(), chunks[0][4096..].as_ptr()); // one mapping
    /// ```
    #[allow(unsafe_code)]
    pub unsafe fn mapped_chunks_unchecked(&self, max: usize) -> Result<MappedChunks, BufferError> {
        match self.mappable_range()? {
            None => Ok(MappedChunks::empty(max)),
            Some((position, len)) => {
                // SAFETY: the caller guarantees (this function's contract) that the
                // file is neither truncated nor written while the mapping lives; the
                // range was checked against the file's current length just above.
                let map = unsafe {
                    memmap2::MmapOptions::new()
                        .offset(position)
                        .len(len)
                        .map(&*self.file)
                }
                .map_err(|e| BufferError::io("mmap", e))?;
                Ok(MappedChunks::from_mmap(map, max))
            }
        }
    }

    /// The remaining range as (position, length), checked against the file's
    /// length; `None` when nothing remains.
    fn mappable_range(&self) -> Result<Option<(u64, usize)>, BufferError> {
        let remaining = self.remaining();
        if remaining == 0 {
            return Ok(None);
        }
        let position = self.current_position();
        let file_len = file_len(&self.file)?;
        if file_len < position + remaining {
            return Err(BufferError::FileShrank {
                position,
                expected: remaining,
                available: file_len.saturating_sub(position),
            });
        }
        let len = usize::try_from(remaining).map_err(|_| {
            BufferError::io(
                "mmap",
                io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "region larger than the address space",
                ),
            )
        })?;
        Ok(Some((position, len)))
    }
}

/// `pread`s `min(max, remaining)` bytes at `position` into a new buffer.
pub(crate) fn read_at(
    file: &File,
    position: u64,
    remaining: u64,
    max: usize,
) -> Result<Bytes, BufferError> {
    let want = usize::try_from(remaining).map_or(max, |r| r.min(max));
    if want == 0 {
        return Ok(Bytes::new());
    }
    let mut buf = vec![0u8; want];
    fill_at(file, position, remaining, &mut buf)?;
    Ok(Bytes::from(buf))
}

/// Fills `buf` from `file` at `position` with `pread(2)`; `remaining` is what
/// the region still expects there (for the error when the file ends early).
fn fill_at(file: &File, position: u64, remaining: u64, buf: &mut [u8]) -> Result<(), BufferError> {
    let mut filled = 0;
    while filled < buf.len() {
        let at = position + filled as u64;
        match file.read_at(&mut buf[filled..], at) {
            Ok(0) => {
                let available = file.metadata().map_or(0, |m| m.len().saturating_sub(at));
                return Err(BufferError::FileShrank {
                    position: at,
                    expected: remaining - filled as u64,
                    available,
                });
            }
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(BufferError::io("pread", e)),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn temp(data: &[u8]) -> File {
        let mut f = tempfile::tempfile().unwrap();
        f.write_all(data).unwrap();
        f
    }

    #[test]
    fn range_checks() {
        let f = Arc::new(temp(&[0; 10]));
        assert!(FileRegion::new(f.clone(), 0, 10).is_ok());
        assert!(FileRegion::new(f.clone(), 10, 0).is_ok());
        for (p, c) in [(0, 11), (11, 0), (u64::MAX, 1), (1, u64::MAX)] {
            match FileRegion::new(f.clone(), p, c) {
                Err(BufferError::RangePastEnd {
                    position,
                    count,
                    file_len: 10,
                }) => assert_eq!((position, count), (p, c)),
                other => panic!("{p} {c}: {other:?}"),
            }
        }
    }

    #[test]
    fn accessors_and_advance() {
        let f = Arc::new(temp(&[0; 10]));
        let mut r = FileRegion::new(f.clone(), 2, 6).unwrap();
        assert!(Arc::ptr_eq(r.file(), &f));
        assert_eq!((r.position(), r.count(), r.transferred()), (2, 6, 0));
        r.advance(4);
        assert_eq!((r.remaining(), r.current_position()), (2, 6));
        assert!(!r.is_done());
        r.advance(u64::MAX);
        assert!(r.is_done());
        assert_eq!(r.remaining(), 0);
        assert!(r.read_chunk(10).unwrap().is_empty());
        assert_eq!(r.pread_chunks(10).count(), 0);
    }

    #[test]
    fn read_chunk_reads_at_current_position() {
        let r = FileRegion::new(Arc::new(temp(b"0123456789")), 3, 5).unwrap();
        assert_eq!(&r.read_chunk(2).unwrap()[..], b"34");
        assert_eq!(&r.read_chunk(100).unwrap()[..], b"34567");
        assert!(r.read_chunk(0).unwrap().is_empty());
        let mut r2 = r.clone();
        r2.advance(3);
        assert_eq!(&r2.read_chunk(100).unwrap()[..], b"67");
        assert_eq!(r.transferred(), 0); // clones are independent
    }

    #[test]
    fn shrunk_file_fails_cleanly() {
        let f = temp(&[1; 100]);
        let r = FileRegion::new(Arc::new(f.try_clone().unwrap()), 10, 80).unwrap();
        f.set_len(50).unwrap();
        match r.read_chunk(1000) {
            Err(BufferError::FileShrank {
                position: 50,
                expected: 40,
                available: 0,
            }) => {}
            other => panic!("{other:?}"),
        }
        assert!(r.read_chunk(40).is_ok()); // the part still there
    }
}
