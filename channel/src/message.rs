//! The message types at the two ends of every socket pipeline.
//!
//! * Inbound, the transport fires one [`Bytes`] per read into the head: a view split
//!   off the receive buffer, never a copy.
//! * Outbound, the head accepts [`OutboundBuf`], and also plain [`Bytes`],
//!   [`CompositeBuf`] and [`FileRegion`] (the pipeline's type check knows all four).

use std::fmt;

use seine_buffer::{Buf, Bytes, CompositeBuf, FileRegion};

/// What the transport writes: bytes in memory, a composite of them, or a region of
/// a file (sent with `sendfile(2)` where the transport can).
///
/// Converting from any of the three is O(1) and does not copy.
///
/// ```
/// use seine_channel::OutboundBuf;
/// use seine_buffer::Bytes;
///
/// let msg: OutboundBuf = Bytes::from_static(b"hello").into();
/// assert_eq!(msg.len(), 5);
/// ```
#[derive(Clone)]
pub enum OutboundBuf {
    /// One contiguous buffer.
    Bytes(Bytes),
    /// Several buffers written as one (gathered with `writev`).
    Composite(CompositeBuf),
    /// A file range.
    File(FileRegion),
}

impl OutboundBuf {
    /// Bytes still to be written. For a file region, what is left of it.
    pub fn len(&self) -> usize {
        match self {
            OutboundBuf::Bytes(b) => b.len(),
            OutboundBuf::Composite(c) => c.len(),
            OutboundBuf::File(f) => usize::try_from(f.remaining()).unwrap_or(usize::MAX),
        }
    }

    /// Whether nothing is left to write.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether this is a file region.
    pub fn is_file(&self) -> bool {
        matches!(self, OutboundBuf::File(_))
    }

    /// Marks `n` more bytes as written: O(1) for bytes and file regions, O(segments
    /// consumed) for a composite; no copy.
    ///
    /// # Panics
    /// If `n` is larger than [`len`](Self::len).
    pub fn advance(&mut self, n: usize) {
        match self {
            OutboundBuf::Bytes(b) => b.advance(n),
            OutboundBuf::Composite(c) => c.advance(n),
            OutboundBuf::File(f) => {
                assert!(
                    n as u64 <= f.remaining(),
                    "advance past the end of a file region"
                );
                f.advance(n as u64)
            }
        }
    }
}

impl From<Bytes> for OutboundBuf {
    fn from(b: Bytes) -> Self {
        OutboundBuf::Bytes(b)
    }
}

impl From<CompositeBuf> for OutboundBuf {
    fn from(c: CompositeBuf) -> Self {
        OutboundBuf::Composite(c)
    }
}

impl From<FileRegion> for OutboundBuf {
    fn from(f: FileRegion) -> Self {
        OutboundBuf::File(f)
    }
}

impl From<Vec<u8>> for OutboundBuf {
    fn from(v: Vec<u8>) -> Self {
        OutboundBuf::Bytes(Bytes::from(v))
    }
}

impl From<&'static [u8]> for OutboundBuf {
    fn from(s: &'static [u8]) -> Self {
        OutboundBuf::Bytes(Bytes::from_static(s))
    }
}

impl From<&'static str> for OutboundBuf {
    fn from(s: &'static str) -> Self {
        OutboundBuf::Bytes(Bytes::from_static(s.as_bytes()))
    }
}

impl fmt::Debug for OutboundBuf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OutboundBuf::Bytes(b) => f.debug_tuple("Bytes").field(&b.len()).finish(),
            OutboundBuf::Composite(c) => f.debug_tuple("Composite").field(c).finish(),
            OutboundBuf::File(r) => f
                .debug_struct("File")
                .field("position", &r.position())
                .field("count", &r.count())
                .field("transferred", &r.transferred())
                .finish(),
        }
    }
}
