//! [`ChunkedInput`]: a source of chunks that a
//! [`ChunkedWriteHandler`](crate::ChunkedWriteHandler) writes one at a time, as the
//! channel can take them; with implementations for a file range ([`ChunkedFile`]),
//! any `std::io::Read` ([`ChunkedStream`]) and a closure ([`ChunkedGenerator`]).
//!
//! [`ChunkedFile`] is also how a [`FileRegion`] reaches a handler that needs its
//! bytes (TLS, compression): `sendfile` cannot pass through user space, so the
//! region is read with `pread`, one chunk in memory at a time.
//!
//! ```
//! use seine_buffer::Bytes;
//! use seine_handler::{ChunkedGenerator, ChunkedInput};
//!
//! let mut n = 0;
//! let mut counter = ChunkedGenerator::new(move || {
//!     n += 1;
//!     (n <= 3).then(|| Ok(Bytes::from(format!("{n};"))))
//! });
//! let mut all = Vec::new();
//! while let Some(chunk) = counter.next_chunk().unwrap() {
//!     all.extend_from_slice(&chunk);
//! }
//! assert_eq!(all, b"1;2;3;");
//! assert!(counter.is_end());
//! ```

use std::io::Read;

use bytes::BytesMut;
use seine_buffer::{Bytes, FileRegion};
use seine_channel::Error;

use crate::HandlerError;

/// Netty's default chunk size: 8 KiB.
pub const DEFAULT_CHUNK_SIZE: usize = 8 * 1024;

/// A source of chunks, read one at a time on the channel's loop: defined in
/// seine-channel (so that codecs below this crate can take one too) and
/// re-exported here unchanged.
pub use seine_channel::ChunkedInput;

/// A [`FileRegion`] read in chunks with `pread(2)` (each chunk is a copy; one chunk
/// in memory at a time). A file that shrinks meanwhile fails the read cleanly.
///
/// ```
/// use std::io::Write;
/// use seine_buffer::FileRegion;
/// use seine_handler::{ChunkedFile, ChunkedInput};
///
/// let mut file = tempfile::tempfile().unwrap();
/// file.write_all(b"abcdefg").unwrap();
/// let mut chunks = ChunkedFile::new(FileRegion::from_file(file).unwrap(), 3);
/// assert_eq!(chunks.length(), Some(7));
/// assert_eq!(&chunks.next_chunk().unwrap().unwrap()[..], b"abc");
/// assert_eq!(chunks.progress(), 3);
/// ```
#[derive(Debug)]
pub struct ChunkedFile {
    region: FileRegion,
    chunk_size: usize,
}

impl ChunkedFile {
    /// Reads `region` in chunks of at most `chunk_size` bytes (0 is taken as 1).
    pub fn new(region: FileRegion, chunk_size: usize) -> Self {
        ChunkedFile {
            region,
            chunk_size: chunk_size.max(1),
        }
    }

    /// The region, advanced past what was read.
    pub fn region(&self) -> &FileRegion {
        &self.region
    }
}

impl From<FileRegion> for ChunkedFile {
    /// Chunks of [`DEFAULT_CHUNK_SIZE`].
    fn from(region: FileRegion) -> Self {
        ChunkedFile::new(region, DEFAULT_CHUNK_SIZE)
    }
}

impl ChunkedInput for ChunkedFile {
    fn next_chunk(&mut self) -> Result<Option<Bytes>, Error> {
        if self.region.is_done() {
            return Ok(None);
        }
        let chunk = self.region.read_chunk(self.chunk_size)?;
        if chunk.is_empty() {
            return Err(HandlerError::ChunkedInputFailed {
                reason: format!(
                    "the file ended {} bytes before the region did",
                    self.region.remaining()
                ),
            }
            .into());
        }
        self.region.advance(chunk.len() as u64);
        Ok(Some(chunk))
    }

    fn is_end(&self) -> bool {
        self.region.is_done()
    }

    fn length(&self) -> Option<u64> {
        Some(self.region.count())
    }

    fn progress(&self) -> u64 {
        self.region.transferred()
    }
}

/// Any [`Read`] in chunks (each a copy of at most the chunk size). The reads are
/// made on the channel's loop: a source that blocks (a pipe, a slow disk) blocks it.
///
/// ```
/// use seine_handler::{ChunkedInput, ChunkedStream};
///
/// let mut s = ChunkedStream::new(&b"hello world"[..], 5);
/// assert_eq!(&s.next_chunk().unwrap().unwrap()[..], b"hello");
/// ```
#[derive(Debug)]
pub struct ChunkedStream<R> {
    reader: R,
    chunk_size: usize,
    progress: u64,
    ended: bool,
}

impl<R: Read + 'static> ChunkedStream<R> {
    /// Reads `reader` in chunks of at most `chunk_size` bytes (0 is taken as 1).
    pub fn new(reader: R, chunk_size: usize) -> Self {
        ChunkedStream {
            reader,
            chunk_size: chunk_size.max(1),
            progress: 0,
            ended: false,
        }
    }
}

impl<R: Read + 'static> ChunkedInput for ChunkedStream<R> {
    fn next_chunk(&mut self) -> Result<Option<Bytes>, Error> {
        if self.ended {
            return Ok(None);
        }
        let mut buf = BytesMut::zeroed(self.chunk_size);
        let n = loop {
            match self.reader.read(&mut buf) {
                Ok(n) => break n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    self.ended = true;
                    return Err(e.into());
                }
            }
        };
        if n == 0 {
            self.ended = true;
            return Ok(None);
        }
        buf.truncate(n);
        self.progress += n as u64;
        Ok(Some(buf.freeze()))
    }

    fn is_end(&self) -> bool {
        self.ended
    }

    fn progress(&self) -> u64 {
        self.progress
    }
}

/// Chunks made by a closure: `Some(Ok(chunk))`, `Some(Err(e))` to fail, `None` at
/// the end (a generator of rows, a template rendered piece by piece). See the
/// [module example](self).
pub struct ChunkedGenerator<F> {
    next: F,
    progress: u64,
    ended: bool,
}

impl<F> ChunkedGenerator<F>
where
    F: FnMut() -> Option<Result<Bytes, Error>> + 'static,
{
    /// Chunks from `next`, called once per chunk.
    pub fn new(next: F) -> Self {
        ChunkedGenerator {
            next,
            progress: 0,
            ended: false,
        }
    }
}

impl<F> ChunkedInput for ChunkedGenerator<F>
where
    F: FnMut() -> Option<Result<Bytes, Error>> + 'static,
{
    fn next_chunk(&mut self) -> Result<Option<Bytes>, Error> {
        if self.ended {
            return Ok(None);
        }
        match (self.next)() {
            Some(Ok(chunk)) => {
                self.progress += chunk.len() as u64;
                Ok(Some(chunk))
            }
            Some(Err(e)) => {
                self.ended = true;
                Err(e)
            }
            None => {
                self.ended = true;
                Ok(None)
            }
        }
    }

    fn is_end(&self) -> bool {
        self.ended
    }

    fn progress(&self) -> u64 {
        self.progress
    }
}
