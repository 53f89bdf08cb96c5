//! The channel's outbound buffer: what handlers wrote, waiting for the transport.
//!
//! `write` appends an entry; `flush` marks every entry so far as flushed and hands
//! the buffer to the [`Transport`](crate::Transport), which writes flushed entries in
//! order (gathering memory entries into one `writev`, sending file regions with
//! `sendfile`) and reports progress with [`OutboundBuffer::advance`]. Pending bytes
//! (file regions included) drive the high/low water marks.
//!
//! A datagram channel's buffer is in *datagram mode*: each entry is one datagram
//! with its recipient, never merged with another, written whole or not at all
//! ([`OutboundBuffer::flushed_datagram`], [`OutboundBuffer::advance_datagrams`]),
//! and the water marks count queued datagrams instead of bytes.

use std::collections::VecDeque;
use std::io::IoSlice;
use std::net::SocketAddr;

use seine_buffer::{Buf, BytesMut, FileRegion};

use crate::completion::CompletionState;
use crate::error::Error;
use crate::message::OutboundBuf;
use crate::sync::Arc;

/// Netty's default low water mark: 32 KiB.
pub const DEFAULT_LOW_WATER_MARK: usize = 32 * 1024;
/// Netty's default high water mark: 64 KiB.
pub const DEFAULT_HIGH_WATER_MARK: usize = 64 * 1024;

struct Entry {
    msg: OutboundBuf,
    ticket: u64,
}

/// Queued writes of one channel, with their completions and water marks.
pub struct OutboundBuffer {
    entries: VecDeque<Entry>,
    /// Small writes copied together, not yet an entry (logically the last,
    /// unflushed entry): see [`ChannelConfig::merge_writes_below`]
    /// (crate::ChannelConfig::merge_writes_below).
    merge: BytesMut,
    /// The highest ticket among the writes in `merge`.
    merge_ticket: u64,
    /// `merge` came from the thread's pool (or grew here) and goes back to it
    /// once everything is written.
    merge_held: bool,
    /// Memory writes shorter than this are merged (0: never).
    merge_below: usize,
    flushed: usize,
    pending_bytes: u64,
    low: u64,
    high: u64,
    writable: bool,
    crossings: u32,
    completions: Arc<CompletionState>,
    /// Datagram mode: each entry's recipient, in the entries' order (`None`: the
    /// connected peer). Empty in stream mode.
    recipients: VecDeque<Option<SocketAddr>>,
    datagrams: bool,
}

impl OutboundBuffer {
    pub(crate) fn new(completions: Arc<CompletionState>, low: usize, high: usize) -> Self {
        OutboundBuffer {
            entries: VecDeque::new(),
            merge: BytesMut::new(),
            merge_ticket: 0,
            merge_held: false,
            merge_below: 0,
            flushed: 0,
            pending_bytes: 0,
            low: low as u64,
            high: high.max(low) as u64,
            writable: true,
            crossings: 0,
            completions,
            recipients: VecDeque::new(),
            datagrams: false,
        }
    }

    /// Whether the buffer is in datagram mode (a datagram channel's).
    pub fn is_datagram_mode(&self) -> bool {
        self.datagrams
    }

    /// Datagram mode: one entry per datagram, no merging, water marks counting
    /// datagrams.
    pub(crate) fn set_datagram_mode(&mut self) {
        self.set_merge_below(0);
        self.datagrams = true;
        self.update_writability();
    }

    /// Queues one datagram (datagram mode) for `recipient` (`None`: the connected
    /// peer). O(1), does not copy.
    pub(crate) fn push_datagram(
        &mut self,
        msg: OutboundBuf,
        recipient: Option<SocketAddr>,
        ticket: u64,
    ) {
        debug_assert!(self.datagrams, "push_datagram in stream mode");
        self.pending_bytes += msg.len() as u64;
        self.entries.push_back(Entry { msg, ticket });
        self.recipients.push_back(recipient);
        self.update_writability();
    }

    /// The `i`th flushed datagram and its recipient (datagram mode), if that many
    /// are flushed.
    pub fn flushed_datagram(&self, i: usize) -> Option<(&OutboundBuf, Option<SocketAddr>)> {
        if i >= self.flushed || !self.datagrams {
            return None;
        }
        Some((&self.entries[i].msg, self.recipients[i]))
    }

    /// Datagram mode: the first `n` flushed datagrams were sent whole; completes
    /// them and updates writability.
    ///
    /// # Panics
    /// If fewer than `n` datagrams are flushed.
    pub fn advance_datagrams(&mut self, n: usize) {
        assert!(
            n <= self.flushed,
            "advance_datagrams({n}) past the flushed datagrams"
        );
        let mut done = 0;
        for _ in 0..n {
            let e = self.entries.pop_front().expect("flushed entries exist");
            self.recipients.pop_front();
            self.flushed -= 1;
            self.pending_bytes -= e.msg.len() as u64;
            done = done.max(e.ticket);
        }
        if done > 0 {
            self.completions.complete_through(done);
        }
        self.update_writability();
    }

    /// Datagrams queued and not yet sent, flushed or not (datagram mode; 0 otherwise).
    pub fn pending_datagrams(&self) -> usize {
        if self.datagrams {
            self.entries.len()
        } else {
            0
        }
    }

    /// Whether nothing at all is queued (flushed or not).
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty() && self.merge.is_empty()
    }

    /// Whether flushed entries wait to be written.
    pub fn has_flushed(&self) -> bool {
        self.flushed > 0
    }

    /// How many entries are flushed and waiting.
    pub fn flushed_entries(&self) -> usize {
        self.flushed
    }

    /// Bytes queued and not yet written, flushed or not, file regions included.
    pub fn pending_bytes(&self) -> u64 {
        self.pending_bytes
    }

    /// Whether the pending bytes are below the high water mark (or have come back
    /// under the low one since they crossed it).
    pub fn is_writable(&self) -> bool {
        self.writable
    }

    /// The first flushed entry, if any.
    pub fn front(&self) -> Option<&OutboundBuf> {
        if self.flushed == 0 {
            return None;
        }
        self.entries.front().map(|e| &e.msg)
    }

    /// The first flushed entry, if it is a file region (the transport sends it with
    /// `sendfile` and then calls [`advance`](Self::advance)).
    pub fn front_file(&self) -> Option<&FileRegion> {
        match self.front() {
            Some(OutboundBuf::File(f)) => Some(f),
            _ => None,
        }
    }

    /// Whether the flushed memory entries at the front are followed by a flushed
    /// file region: the transport then writes them with `MSG_MORE` (or under
    /// `TCP_CORK`), so that a response header and its file body leave in full
    /// segments. O(entries before the file).
    pub fn file_follows(&self) -> bool {
        self.file_after_memory().is_some()
    }

    /// The first flushed file region, when only memory entries stand before it
    /// (a response header and its body): a transport may read a small region and
    /// send it in the same `writev` as the header. O(entries before the file).
    pub fn file_after_memory(&self) -> Option<&FileRegion> {
        self.entries
            .iter()
            .take(self.flushed)
            .find_map(|e| match &e.msg {
                OutboundBuf::File(f) => Some(Some(f)),
                _ => None,
            })
            .flatten()
    }

    /// Bytes of the flushed memory entries before the first file region (all of
    /// them if none follows). O(entries before the file).
    pub fn memory_before_file(&self) -> usize {
        self.entries
            .iter()
            .take(self.flushed)
            .take_while(|e| !matches!(e.msg, OutboundBuf::File(_)))
            .map(|e| e.msg.len())
            .sum()
    }

    /// Fills `dst` with slices of the flushed memory entries at the front, stopping
    /// at the first file region, when `dst` is full, or once `max_bytes` are
    /// gathered. Returns (slices, bytes). Does not copy.
    pub fn io_slices<'a>(&'a self, dst: &mut [IoSlice<'a>], max_bytes: usize) -> (usize, usize) {
        let mut n = 0;
        let mut bytes = 0;
        for e in self.entries.iter().take(self.flushed) {
            if n == dst.len() || bytes >= max_bytes {
                break;
            }
            match &e.msg {
                OutboundBuf::Bytes(b) => {
                    if !b.is_empty() {
                        dst[n] = IoSlice::new(b);
                        n += 1;
                        bytes += b.len();
                    }
                }
                OutboundBuf::Composite(c) => {
                    let k = c.chunks_vectored(&mut dst[n..]);
                    bytes += dst[n..n + k].iter().map(|s| s.len()).sum::<usize>();
                    n += k;
                    if k < c.segment_count() {
                        break;
                    }
                }
                OutboundBuf::File(_) => break,
            }
        }
        (n, bytes)
    }

    /// Records that `n` bytes of the flushed entries were written: consumes them
    /// from the front, completes every entry whose last byte left (and zero-length
    /// entries that reached the front), and updates writability.
    ///
    /// # Panics
    /// If `n` is more than the flushed entries hold.
    pub fn advance(&mut self, mut n: usize) {
        let mut done = 0;
        while self.flushed > 0 {
            let front = self.entries.front_mut().expect("flushed entries exist");
            let len = front.msg.len();
            if len > n {
                if n > 0 {
                    front.msg.advance(n);
                    self.pending_bytes -= n as u64;
                }
                n = 0;
                break;
            }
            // Written whole: drop it as it is (advancing a memory buffer first would
            // walk its segments for nothing); a file region is advanced so that its
            // progress observer reaches the total.
            n -= len;
            self.pending_bytes -= len as u64;
            let mut e = self.entries.pop_front().expect("front exists");
            self.recipients.pop_front();
            if let OutboundBuf::File(f) = &mut e.msg {
                f.advance(len as u64);
            }
            self.flushed -= 1;
            done = done.max(e.ticket);
        }
        assert!(n == 0, "advance({n}) past the flushed entries");
        if done > 0 {
            self.completions.complete_through(done);
        }
        self.update_writability();
        if self.entries.is_empty() {
            // Everything written: an idle channel holds no entry storage and no
            // merge buffer.
            if self.entries.capacity() > 0 {
                pool::give(std::mem::take(&mut self.entries));
            }
            if self.merge_held && self.merge.is_empty() {
                self.merge_held = false;
                // Even at capacity 0 it may still own the buffer its written part
                // was split from, which `reserve` reclaims in place once that part
                // is dropped: keep it whole.
                pool::give_merge(std::mem::take(&mut self.merge));
            }
        }
    }

    /// Removes the first flushed entry as handed over whole (the test transport),
    /// completing it.
    pub fn pop_flushed(&mut self) -> Option<OutboundBuf> {
        if self.flushed == 0 {
            return None;
        }
        let e = self.entries.pop_front()?;
        self.recipients.pop_front();
        self.flushed -= 1;
        self.pending_bytes -= e.msg.len() as u64;
        if let OutboundBuf::File(f) = &e.msg {
            // Handed over whole: the observer sees it done (the region itself is
            // returned unadvanced, for the caller to read).
            f.clone().advance(f.remaining());
        }
        if e.ticket > 0 {
            self.completions.complete_through(e.ticket);
        }
        self.update_writability();
        Some(e.msg)
    }

    /// Removes the first flushed entry because it cannot be written, failing its
    /// completion with `error` (e.g. a file shorter than its region).
    pub fn fail_front(&mut self, error: Error) -> Option<OutboundBuf> {
        if self.flushed == 0 {
            return None;
        }
        let e = self.entries.pop_front()?;
        self.recipients.pop_front();
        self.flushed -= 1;
        self.pending_bytes -= e.msg.len() as u64;
        self.completions.resolve(e.ticket, Err(error));
        self.update_writability();
        Some(e.msg)
    }

    #[inline]
    pub(crate) fn push(&mut self, msg: OutboundBuf, ticket: u64) {
        if self.entries.capacity() == 0 {
            self.entries = pool::take();
        }
        let len = msg.len();
        self.pending_bytes += len as u64;
        if len < self.merge_below && len > 0 {
            if !self.merge_held {
                self.merge = pool::take_merge();
                self.merge_held = true;
            }
            match &msg {
                OutboundBuf::Bytes(b) => self.merge.extend_from_slice(b),
                OutboundBuf::Composite(c) => {
                    self.merge.reserve(len);
                    for seg in c.segments() {
                        self.merge.extend_from_slice(seg);
                    }
                }
                OutboundBuf::File(_) => {
                    self.seal_merge();
                    self.entries.push_back(Entry { msg, ticket });
                    self.update_writability();
                    return;
                }
            }
            self.merge_ticket = self.merge_ticket.max(ticket);
        } else {
            self.seal_merge();
            self.entries.push_back(Entry { msg, ticket });
        }
        self.update_writability();
    }

    /// Turns the merged small writes into one entry (O(1), no copy).
    fn seal_merge(&mut self) {
        if !self.merge.is_empty() {
            let b = self.merge.split().freeze();
            let ticket = std::mem::take(&mut self.merge_ticket);
            self.entries.push_back(Entry {
                msg: OutboundBuf::Bytes(b),
                ticket,
            });
        }
    }

    /// Merges memory writes shorter than `below` bytes into one buffer (a copy of
    /// those bytes only), so that many small messages become one entry and one
    /// slice of a `writev`. 0 turns it off.
    pub(crate) fn set_merge_below(&mut self, below: usize) {
        self.seal_merge();
        self.merge_below = below;
    }

    /// Marks everything queued as flushed; completes zero-length entries at the front.
    pub(crate) fn mark_flushed(&mut self) {
        self.seal_merge();
        self.flushed = self.entries.len();
        if self.datagrams {
            // An empty datagram is still a datagram: it is sent, not skipped.
            return;
        }
        self.advance(0);
    }

    /// Drops every entry, failing the completions (the channel closed).
    pub(crate) fn fail_all(&mut self, error: &Error) {
        self.seal_merge();
        for e in self.entries.drain(..) {
            if e.ticket > 0 {
                self.completions.resolve(e.ticket, Err(error.clone()));
            }
        }
        self.recipients.clear();
        self.flushed = 0;
        self.pending_bytes = 0;
        self.update_writability();
    }

    pub(crate) fn set_water_marks(&mut self, low: usize, high: usize) {
        self.low = low as u64;
        self.high = high.max(low) as u64;
        self.update_writability();
    }

    /// How many times writability flipped since the last call.
    pub(crate) fn take_writability_changes(&mut self) -> u32 {
        std::mem::take(&mut self.crossings)
    }

    fn update_writability(&mut self) {
        let pending = if self.datagrams {
            self.entries.len() as u64
        } else {
            self.pending_bytes
        };
        if self.writable && pending > self.high {
            self.writable = false;
            self.crossings += 1;
        } else if !self.writable && pending < self.low {
            self.writable = true;
            self.crossings += 1;
        }
    }
}

impl std::fmt::Debug for OutboundBuffer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutboundBuffer")
            .field("entries", &self.entries.len())
            .field("flushed", &self.flushed)
            .field("pending_bytes", &self.pending_bytes)
            .field("writable", &self.writable)
            .finish()
    }
}

/// Entry storage of channels that have nothing queued, per thread: a busy channel
/// takes one back instead of growing its own, and an idle channel holds none.
mod pool {
    use std::cell::RefCell;
    use std::collections::VecDeque;

    use seine_buffer::BytesMut;

    use super::Entry;

    /// Buffers kept per thread; more are freed. Sized for the channels of a loop
    /// that are busy at once: when the pool runs dry, every flush pays a malloc and
    /// the growth reallocs again (measured: +200 instructions per echoed frame with
    /// 64 busy connections and 16 kept).
    const KEEP: usize = 256;
    /// Larger queues are freed rather than kept (a burst's storage).
    const KEEP_CAPACITY: usize = 64;
    /// Larger merge buffers are freed rather than kept.
    const KEEP_MERGE_BYTES: usize = 8 * 1024;

    thread_local! {
        static FREE: RefCell<Vec<VecDeque<Entry>>> = const { RefCell::new(Vec::new()) };
        static MERGE: RefCell<Vec<BytesMut>> = const { RefCell::new(Vec::new()) };
    }

    /// A merge buffer (empty; with storage if one is kept).
    pub(super) fn take_merge() -> BytesMut {
        MERGE
            .with(|f| f.try_borrow_mut().ok().and_then(|mut f| f.pop()))
            .unwrap_or_default()
    }

    /// Keeps an empty merge buffer for another channel of this thread.
    pub(super) fn give_merge(b: BytesMut) {
        if b.capacity() > KEEP_MERGE_BYTES {
            return;
        }
        MERGE.with(|f| {
            if let Ok(mut f) = f.try_borrow_mut()
                && f.len() < KEEP
            {
                f.push(b);
            }
        });
    }

    /// An empty queue, with storage if one is kept.
    pub(super) fn take() -> VecDeque<Entry> {
        FREE.with(|f| f.try_borrow_mut().ok().and_then(|mut f| f.pop()))
            .unwrap_or_default()
    }

    /// Keeps an empty queue's storage for another channel of this thread.
    pub(super) fn give(q: VecDeque<Entry>) {
        debug_assert!(q.is_empty());
        if q.capacity() > KEEP_CAPACITY {
            return;
        }
        FREE.with(|f| {
            if let Ok(mut f) = f.try_borrow_mut()
                && f.len() < KEEP
            {
                f.push(q);
            }
        });
    }
}
