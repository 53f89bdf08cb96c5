//! The receive-buffer pool: whole blocks of `batch * slot` bytes that `recvmmsg`
//! fills, handed up as `Bytes` slices (no copy, no allocation per datagram) and
//! reused once every slice of a block is dropped.

use std::collections::VecDeque;

use bytes::{Bytes, BytesMut};

/// Blocks kept while handlers still hold slices of them; the oldest is reused
/// first. A handler that keeps slices longer than this many batches makes the
/// pool allocate a fresh block (counted), and the held block is freed with its
/// last slice.
const HELD: usize = 8;

pub(crate) struct RecvPool {
    block: usize,
    spare: Option<BytesMut>,
    held: VecDeque<Bytes>,
    allocations: u64,
}

impl RecvPool {
    pub(crate) fn new(block: usize) -> Self {
        RecvPool {
            block,
            spare: None,
            held: VecDeque::with_capacity(HELD),
            allocations: 0,
        }
    }

    /// Blocks allocated so far.
    pub(crate) fn allocations(&self) -> u64 {
        self.allocations
    }

    /// A block of `block` initialized bytes: the spare one, the oldest held one
    /// whose slices are all gone, or a new one.
    pub(crate) fn take(&mut self) -> BytesMut {
        if let Some(b) = self.spare.take() {
            return b;
        }
        if let Some(front) = self.held.pop_front() {
            match front.try_into_mut() {
                // The whole block came back: every byte of it is initialized.
                Ok(b) if b.len() == self.block => return b,
                Ok(_) => {}
                Err(front) => {
                    if self.held.len() + 1 < HELD {
                        self.held.push_front(front);
                    }
                }
            }
        }
        self.allocations += 1;
        BytesMut::zeroed(self.block)
    }

    /// Gives back a block nothing was received into.
    pub(crate) fn give_back(&mut self, b: BytesMut) {
        self.spare = Some(b);
    }

    /// Keeps a frozen block whose slices went up the pipeline, to reuse later.
    pub(crate) fn hold(&mut self, b: Bytes) {
        if self.held.len() == HELD {
            self.held.pop_front();
        }
        self.held.push_back(b);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_block_is_reused_once_its_slices_are_dropped() {
        let mut pool = RecvPool::new(1024);
        let b = pool.take();
        assert_eq!(b.len(), 1024);
        let frozen = b.freeze();
        let slice = frozen.slice(10..20);
        pool.hold(frozen);
        // A slice is alive: a new block.
        let b2 = pool.take();
        assert_eq!(pool.allocations(), 2);
        pool.give_back(b2);
        drop(slice);
        let _ = pool.take(); // the spare
        let again = pool.take(); // the held block, now unique
        assert_eq!(again.len(), 1024);
        assert_eq!(pool.allocations(), 2, "no allocation once slices are gone");
    }

    #[test]
    fn steady_batches_allocate_nothing() {
        let mut pool = RecvPool::new(256);
        for _ in 0..100 {
            let frozen = pool.take().freeze();
            let parts: Vec<Bytes> = (0..4).map(|i| frozen.slice(i * 64..i * 64 + 10)).collect();
            pool.hold(frozen);
            drop(parts);
        }
        assert_eq!(pool.allocations(), 1);
    }
}
