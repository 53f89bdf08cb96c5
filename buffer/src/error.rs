//! The one error type of seine-buffer.

use std::{error::Error as StdError, fmt, io};

/// Everything that can go wrong in seine-buffer.
///
/// In-memory buffer operations do not fail this way: they return `Option` or panic
/// like `bytes` does (documented per method). `BufferError` is about files (a
/// [`FileRegion`](crate::FileRegion) or a mapping) and about checked reads such as
/// [`CompositeBuf::try_get_uint_at`](crate::CompositeBuf::try_get_uint_at).
/// Every message says which numbers were involved and what to change.
///
/// # Examples
///
/// ```
/// use seine_buffer::{BufferError, FileRegion};
/// use std::sync::Arc;
///
/// let file = tempfile::tempfile().unwrap();
/// file.set_len(10).unwrap();
/// let err = FileRegion::new(Arc::new(file), 8, 4).unwrap_err();
/// assert!(matches!(err, BufferError::RangePastEnd { position: 8, count: 4, file_len: 10 }));
/// assert!(err.to_string().contains("past the end"));
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum BufferError {
    /// A file range `position..position + count` does not lie inside the file.
    RangePastEnd {
        /// First byte of the requested range.
        position: u64,
        /// Number of bytes requested.
        count: u64,
        /// Length of the file when it was checked.
        file_len: u64,
    },
    /// The file became shorter than a [`FileRegion`](crate::FileRegion) that was
    /// checked against it: a read hit end-of-file before the region was complete.
    FileShrank {
        /// File offset at which the read found end-of-file.
        position: u64,
        /// Bytes the region still needed from `position` on.
        expected: u64,
        /// Bytes the file actually had from `position` on (0 if unknown).
        available: u64,
    },
    /// An I/O call failed.
    Io {
        /// The call that failed (`"open"`, `"metadata"`, `"pread"`, `"mmap"`, ...).
        op: &'static str,
        /// The error the operating system reported.
        source: io::Error,
    },
    /// An integer width outside `1..=8` bytes was requested.
    InvalidWidth {
        /// The width that was asked for.
        width: usize,
    },
    /// A checked read asked for bytes beyond the end of a buffer.
    OutOfBounds {
        /// First byte of the read.
        index: usize,
        /// Number of bytes the read needed.
        width: usize,
        /// Length of the buffer.
        len: usize,
    },
    /// A safe memory mapping was refused because the file is not sealed against
    /// writes and truncation.
    ///
    /// Mapping an ordinary file is `unsafe` in `memmap2` (another process can change
    /// the bytes under a `&[u8]`, or truncate the file and kill this one with
    /// `SIGBUS`), and seine-buffer contains no `unsafe`. Only files proven immutable
    /// (a memfd sealed with `F_SEAL_SHRINK | F_SEAL_WRITE`, or an fs-verity file) are
    /// mapped by the safe functions.
    MapRefused {
        /// First byte of the requested mapping.
        position: u64,
        /// Length of the requested mapping.
        count: u64,
    },
}

impl fmt::Display for BufferError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BufferError::RangePastEnd {
                position,
                count,
                file_len,
            } => write!(
                f,
                "file range of {count} bytes at offset {position} reaches past the end of \
                 the {file_len}-byte file; ask for at most {} bytes at that offset",
                file_len.saturating_sub(*position)
            ),
            BufferError::FileShrank {
                position,
                expected,
                available,
            } => write!(
                f,
                "file shrank while a region of it was being read: {expected} more bytes were \
                 expected at offset {position} but only {available} are there; do not truncate \
                 a file while it is being sent (send a copy or a sealed memfd instead)"
            ),
            BufferError::Io { op, source } => write!(f, "{op} failed: {source}"),
            BufferError::InvalidWidth { width } => write!(
                f,
                "cannot read a {width}-byte integer: the width must be between 1 and 8 bytes"
            ),
            BufferError::OutOfBounds { index, width, len } => write!(
                f,
                "cannot read {width} bytes at index {index} of a {len}-byte buffer; wait for \
                 more data or read at most {} bytes there",
                len.saturating_sub(*index)
            ),
            BufferError::MapRefused { position, count } => write!(
                f,
                "refusing to memory-map {count} bytes at offset {position}: the file is not \
                 sealed against writes and truncation, so a mapping could change under the \
                 reader or kill the process with SIGBUS; read it with FileRegion::pread_chunks, \
                 seal it (memfd with F_SEAL_SHRINK|F_SEAL_WRITE), or map it yourself with \
                 `unsafe {{ memmap2::Mmap::map(..) }}` and pass the map to wrap_mmap or \
                 MappedChunks::from_mmap"
            ),
        }
    }
}

impl StdError for BufferError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        match self {
            BufferError::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

impl From<io::Error> for BufferError {
    /// Wraps an I/O error with the operation name `"io"`. O(1), no copy.
    fn from(source: io::Error) -> Self {
        BufferError::Io { op: "io", source }
    }
}

impl BufferError {
    /// Builds [`BufferError::Io`] for the named operation. O(1).
    pub(crate) fn io(op: &'static str, source: io::Error) -> Self {
        BufferError::Io { op, source }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_has_source() {
        let e = BufferError::io("pread", io::Error::other("boom"));
        assert!(e.source().is_some());
        assert!(e.to_string().contains("pread failed: boom"));
        let e: BufferError = io::Error::other("x").into();
        assert!(matches!(e, BufferError::Io { op: "io", .. }));
    }

    #[test]
    fn messages_carry_numbers() {
        let e = BufferError::RangePastEnd {
            position: 5,
            count: 10,
            file_len: 8,
        };
        let s = e.to_string();
        assert!(
            s.contains("10 bytes at offset 5") && s.contains("8-byte") && s.contains("at most 3")
        );
        assert!(e.source().is_none());
        let s = BufferError::FileShrank {
            position: 4,
            expected: 6,
            available: 1,
        }
        .to_string();
        assert!(s.contains("6 more bytes") && s.contains("offset 4") && s.contains("only 1"));
        assert!(
            BufferError::InvalidWidth { width: 9 }
                .to_string()
                .contains("9-byte")
        );
        let s = BufferError::OutOfBounds {
            index: 3,
            width: 4,
            len: 5,
        }
        .to_string();
        assert!(s.contains("at most 2"));
        let s = BufferError::MapRefused {
            position: 0,
            count: 7,
        }
        .to_string();
        assert!(s.contains("7 bytes") && s.contains("pread_chunks"));
    }
}
