//! The message-to-byte building block: implement [`Encoder`], wrap it in
//! [`MessageToByteEncoder`](crate::MessageToByteEncoder), add it to a pipeline.

use seine_buffer::{BufMut, Bytes, BytesMut, CompositeBuf, FileRegion};
use seine_channel::OutboundBuf;
use smallvec::SmallVec;

use crate::error::CodecError;

/// Turns messages into bytes.
pub trait Encoder: 'static {
    /// The message type encoded.
    type Item: 'static;

    /// Encodes `item` into `dst`: small parts copied with
    /// [`EncodeBuf::put_slice`] and friends, large parts that are already buffers
    /// appended with [`EncodeBuf::push_bytes`] / [`EncodeBuf::push_file`] without
    /// copying.
    fn encode(&mut self, item: Self::Item, dst: &mut EncodeBuf) -> Result<(), CodecError>;
}

/// Where an [`Encoder`] writes: a scratch `BytesMut` for bytes it produces, plus a
/// list of finished parts for buffers it passes on without copying.
///
/// The output is, in order, the parts pushed and the scratch bytes between them.
/// Writing the parts is done by the encoder handler, which emits a single `Bytes`
/// or `CompositeBuf` when it can and a file region as its own write.
#[derive(Default)]
pub struct EncodeBuf {
    scratch: BytesMut,
    parts: SmallVec<[OutboundBuf; 2]>,
}

impl EncodeBuf {
    /// An empty buffer.
    pub fn new() -> Self {
        Self::default()
    }

    /// The scratch buffer, to write produced bytes into (`BufMut`).
    pub fn scratch(&mut self) -> &mut BytesMut {
        &mut self.scratch
    }

    /// Copies `src` into the output.
    pub fn put_slice(&mut self, src: &[u8]) {
        self.scratch.put_slice(src);
    }

    /// Appends `b` without copying (small buffers, under 64 bytes, are copied into
    /// the scratch buffer instead: a separate segment would cost more than the copy).
    pub fn push_bytes(&mut self, b: Bytes) {
        if b.len() < 64 {
            self.scratch.put_slice(&b);
        } else if !b.is_empty() {
            self.seal();
            self.parts.push(OutboundBuf::Bytes(b));
        }
    }

    /// Appends every segment of `c` without copying.
    pub fn push_composite(&mut self, c: CompositeBuf) {
        if c.is_empty() {
            return;
        }
        self.seal();
        self.parts.push(OutboundBuf::Composite(c));
    }

    /// Appends a file region (sent with `sendfile` where the transport can).
    pub fn push_file(&mut self, f: FileRegion) {
        self.seal();
        self.parts.push(OutboundBuf::File(f));
    }

    /// Whether nothing was written.
    pub fn is_empty(&self) -> bool {
        self.scratch.is_empty() && self.parts.is_empty()
    }

    /// Bytes written so far (file regions count their remaining length).
    pub fn len(&self) -> usize {
        self.scratch.len() + self.parts.iter().map(OutboundBuf::len).sum::<usize>()
    }

    /// Moves the scratch bytes written so far into a part (O(1), no copy).
    fn seal(&mut self) {
        if !self.scratch.is_empty() {
            let b = self.scratch.split().freeze();
            self.parts.push(OutboundBuf::Bytes(b));
        }
    }

    /// Takes the output as parts ready to write, in order: memory parts merged into
    /// one `Bytes` or `CompositeBuf` (no copy), file regions apart. Keeps the
    /// scratch buffer's spare capacity for the next message.
    pub fn take_parts(&mut self) -> SmallVec<[OutboundBuf; 2]> {
        self.seal();
        let mut out: SmallVec<[OutboundBuf; 2]> = SmallVec::new();
        for part in self.parts.drain(..) {
            match (out.last_mut(), part) {
                (Some(OutboundBuf::Bytes(prev)), OutboundBuf::Bytes(b)) => {
                    let mut c = CompositeBuf::from(std::mem::take(prev));
                    c.push(b);
                    *out.last_mut().expect("last") = OutboundBuf::Composite(c);
                }
                (Some(OutboundBuf::Composite(prev)), OutboundBuf::Bytes(b)) => prev.push(b),
                (Some(OutboundBuf::Composite(prev)), OutboundBuf::Composite(c)) => {
                    prev.extend(c.segments().cloned())
                }
                (Some(OutboundBuf::Bytes(prev)), OutboundBuf::Composite(c)) => {
                    let mut n = CompositeBuf::from(std::mem::take(prev));
                    n.extend(c.segments().cloned());
                    *out.last_mut().expect("last") = OutboundBuf::Composite(n);
                }
                (_, p) => out.push(p),
            }
        }
        out
    }
}
