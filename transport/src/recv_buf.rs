//! The adaptive receive buffer (Netty's `AdaptiveRecvByteBufAllocator`).
//!
//! Each read asks for the current guess from a size table (16-byte steps up to 512,
//! then doubling). A read that fills the guess grows it by four steps; two reads in
//! a row that would have fit one step smaller shrink it by one. Reads go into the
//! spare capacity of a `BytesMut`, and each read's bytes are split off and frozen
//! into a `Bytes` that shares the allocation (no copy). Between wake-ups the channel
//! holds no buffer at all ([`RecvBuf::release`]), so idle connections cost nothing
//! here: a released buffer goes to a small per-thread cache (Netty's pooled
//! allocator's thread cache, in miniature), and the next read of any channel on
//! the loop takes its allocation back once every message split off it is gone,
//! instead of a `malloc` and a `free` per read.

use std::cell::RefCell;

use bytes::BytesMut;

/// Released buffers kept per event-loop thread (each at most the largest guess,
/// 64 KiB by default).
const CACHE_MAX: usize = 8;

thread_local! {
    static CACHE: RefCell<Vec<BytesMut>> = const { RefCell::new(Vec::new()) };
}

/// A buffer with `want` bytes of spare capacity from this thread's cache: the
/// most recently released one, if it has the room or every view split off it is
/// gone (then its whole allocation is taken back). A cached buffer whose
/// allocation is still in use is dropped, not kept.
fn from_cache(want: usize) -> Option<BytesMut> {
    CACHE.with(|c| {
        let mut buf = c.try_borrow_mut().ok()?.pop()?;
        // The spare capacity of a `BytesMut` is its own even while views split off
        // it are alive; `try_reclaim` extends it over those views only once they
        // are all dropped.
        (buf.capacity() - buf.len() >= want || buf.try_reclaim(want)).then_some(buf)
    })
}

/// Gives a released buffer to this thread's cache (dropped when it is full).
fn to_cache(buf: BytesMut) {
    CACHE.with(|c| {
        if let Ok(mut c) = c.try_borrow_mut()
            && c.len() < CACHE_MAX
        {
            c.push(buf);
        }
    });
}

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
        if self.buf.capacity() - self.buf.len() < want && !self.buf.try_reclaim(want) {
            self.buf = from_cache(want).unwrap_or_else(|| BytesMut::with_capacity(want));
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

    /// Gives the buffer up (the channel is idle until its next wake-up) to the
    /// thread's cache. Bytes already handed up keep their part of the allocation
    /// alive.
    #[inline]
    pub(crate) fn release(&mut self) {
        if self.buf.capacity() != 0 {
            to_cache(std::mem::take(&mut self.buf));
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

    /// Runs `f` on a thread of its own: the cache is per thread, and tests share
    /// threads.
    fn on_fresh_thread(f: impl FnOnce() + Send + 'static) {
        std::thread::spawn(f).join().unwrap();
    }

    #[test]
    fn a_released_buffer_is_taken_back_once_its_views_are_dropped() {
        on_fresh_thread(|| {
            let mut a = RecvBuf::new(&RecvBufferOptions::default());
            let buf = a.buffer();
            let base = buf.as_ptr();
            buf.extend_from_slice(&[7; 100]);
            let msg = buf.split().freeze();
            a.release();
            drop(msg);
            // Another channel of the loop reads next: same allocation, from its start.
            let mut b = RecvBuf::new(&RecvBufferOptions::default());
            assert_eq!(b.buffer().as_ptr(), base);
        });
    }

    #[test]
    fn a_buffer_whose_views_live_is_not_written_under_them() {
        on_fresh_thread(|| {
            let mut a = RecvBuf::new(&opts(64, 2048, 2048));
            let buf = a.buffer();
            buf.extend_from_slice(&[1; 2048]);
            let msg = buf.split().freeze(); // fills the whole allocation
            a.release();
            let mut b = RecvBuf::new(&opts(64, 2048, 2048));
            let nb = b.buffer();
            nb.extend_from_slice(&[2; 2048]);
            assert!(
                msg.iter().all(|&x| x == 1),
                "a live message was overwritten"
            );
            assert_ne!(nb.as_ptr(), msg.as_ptr());
        });
    }

    #[test]
    fn spare_capacity_of_a_shared_buffer_is_reused() {
        on_fresh_thread(|| {
            let mut a = RecvBuf::new(&opts(64, 1024, 1024));
            let buf = a.buffer();
            buf.reserve(4096);
            buf.extend_from_slice(b"hello");
            let msg = buf.split().freeze();
            let spare = buf.as_ptr();
            a.release();
            let mut b = RecvBuf::new(&opts(64, 1024, 1024));
            let nb = b.buffer();
            assert_eq!(
                nb.as_ptr(),
                spare,
                "the room after the live message is reused"
            );
            nb.extend_from_slice(b"world");
            assert_eq!(msg, "hello");
        });
    }

    #[test]
    fn odd_bounds_are_clamped() {
        let r = RecvBuf::new(&opts(100, 1, 50));
        assert_eq!(r.guess(), 112);
    }
}
