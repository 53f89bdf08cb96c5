//! The adaptive receive buffer (Netty's `AdaptiveRecvByteBufAllocator`).
//!
//! Each read asks for the current guess from a size table (16-byte steps up to 512,
//! then doubling). A read that fills the guess grows it by four steps; two reads in
//! a row that would have fit one step smaller shrink it by one. Reads go into the
//! spare capacity of a `BytesMut`, and each read's bytes are split off and frozen
//! into a `Bytes` that shares the allocation (no copy). Between wake-ups the channel
//! holds no buffer at all ([`RecvBuf::release`]), so idle connections cost nothing
//! here.

use bytes::BytesMut;

use crate::options::RecvBufferOptions;

const INDEX_INCREMENT: usize = 4;
const INDEX_DECREMENT: usize = 1;

/// The size table: 16, 32, ..., 496, then 512, 1024, ... up to 1 GiB.
fn size_table() -> &'static [usize] {
    static TABLE: std::sync::OnceLock<Vec<usize>> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| {
        let mut t: Vec<usize> = (1..32).map(|i| i * 16).collect();
        let mut s = 512;
        while s <= 1 << 30 {
            t.push(s);
            s <<= 1;
        }
        t
    })
}

/// Index of the smallest table size `>= size` (the last one if none).
fn index_of(size: usize) -> usize {
    let t = size_table();
    t.partition_point(|&s| s < size).min(t.len() - 1)
}

pub(crate) struct RecvBuf {
    buf: BytesMut,
    index: usize,
    min_index: usize,
    max_index: usize,
    decrease_now: bool,
}

impl RecvBuf {
    pub(crate) fn new(opts: &RecvBufferOptions) -> Self {
        let min = opts.min.max(1);
        let max = opts.max.max(min);
        let min_index = index_of(min);
        let max_index = index_of(max).max(min_index);
        let index = index_of(opts.initial.clamp(min, max)).clamp(min_index, max_index);
        RecvBuf {
            buf: BytesMut::new(),
            index,
            min_index,
            max_index,
            decrease_now: false,
        }
    }

    /// How many bytes the next read asks for.
    #[inline]
    pub(crate) fn guess(&self) -> usize {
        size_table()[self.index]
    }

    /// The buffer to read into, with at least [`guess`](Self::guess) bytes of spare
    /// capacity (allocating `guess` bytes when what is left is too small).
    #[inline]
    pub(crate) fn buffer(&mut self) -> &mut BytesMut {
        let want = self.guess();
        if self.buf.capacity() - self.buf.len() < want {
            self.buf = BytesMut::with_capacity(want);
        }
        &mut self.buf
    }

    /// Records a read of `n` bytes (after it asked for [`guess`](Self::guess)).
    #[inline]
    pub(crate) fn record(&mut self, n: usize) {
        let t = size_table();
        if n <= t[self.index.saturating_sub(INDEX_DECREMENT)] {
            if self.decrease_now {
                self.index = self
                    .index
                    .saturating_sub(INDEX_DECREMENT)
                    .max(self.min_index);
                self.decrease_now = false;
            } else {
                self.decrease_now = true;
            }
        } else if n >= t[self.index] {
            self.index = (self.index + INDEX_INCREMENT).min(self.max_index);
            self.decrease_now = false;
        }
    }

    /// Drops the buffer (the channel is idle until its next wake-up). Bytes already
    /// handed up keep their part of the allocation alive.
    #[inline]
    pub(crate) fn release(&mut self) {
        if self.buf.capacity() != 0 {
            self.buf = BytesMut::new();
        }
    }

    #[cfg(test)]
    fn capacity(&self) -> usize {
        self.buf.capacity()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(min: usize, initial: usize, max: usize) -> RecvBufferOptions {
        RecvBufferOptions { min, initial, max }
    }

    #[test]
    fn grows_after_full_reads_and_stops_at_max() {
        let mut r = RecvBuf::new(&RecvBufferOptions::default());
        assert_eq!(r.guess(), 2048);
        r.record(2048);
        assert_eq!(r.guess(), 32 * 1024);
        r.record(32 * 1024);
        assert_eq!(r.guess(), 64 * 1024);
        r.record(64 * 1024);
        assert_eq!(r.guess(), 64 * 1024);
    }

    #[test]
    fn shrinks_after_two_short_reads_and_stops_at_min() {
        let mut r = RecvBuf::new(&opts(64, 1024, 65536));
        r.record(10);
        assert_eq!(r.guess(), 1024, "one short read does not shrink");
        r.record(10);
        assert_eq!(r.guess(), 512);
        for _ in 0..200 {
            r.record(1);
        }
        assert_eq!(r.guess(), 64);
    }

    #[test]
    fn a_read_between_resets_nothing() {
        let mut r = RecvBuf::new(&opts(64, 1024, 65536));
        r.record(700); // between 512 and 1024: neither grow nor shrink
        r.record(700);
        assert_eq!(r.guess(), 1024);
    }

    #[test]
    fn buffer_is_released_and_reallocated() {
        let mut r = RecvBuf::new(&RecvBufferOptions::default());
        assert_eq!(r.capacity(), 0, "no buffer before the first read");
        let buf = r.buffer();
        buf.extend_from_slice(b"abc");
        let first = buf.split().freeze();
        assert_eq!(first, "abc");
        r.release();
        assert_eq!(r.capacity(), 0);
        assert!(r.buffer().capacity() >= 2048);
    }

    #[test]
    fn odd_bounds_are_clamped() {
        let r = RecvBuf::new(&opts(100, 1, 50));
        assert_eq!(r.guess(), 112);
    }
}
