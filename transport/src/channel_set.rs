//! The live channels of a server (or of a whole event loop group): for graceful
//! shutdown, connection limits and metrics totals.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use seine_channel::{Channel, ChannelId, MetricsSnapshot};

use crate::metrics::ServerMetrics;

#[derive(Default)]
struct Shard {
    live: HashMap<ChannelId, Channel>,
    /// Counters of channels that have closed.
    closed: MetricsSnapshot,
    closing: bool,
}

/// Channels by loop (one lock per loop, so loops do not contend).
pub(crate) struct ChannelSet {
    shards: Box<[Mutex<Shard>]>,
    closing: AtomicBool,
    active: AtomicUsize,
    accepted: AtomicU64,
    rejected: AtomicU64,
}

fn lock(m: &Mutex<Shard>) -> MutexGuard<'_, Shard> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl ChannelSet {
    pub(crate) fn new(loops: usize) -> Arc<Self> {
        Arc::new(ChannelSet {
            shards: (0..loops.max(1)).map(|_| Mutex::default()).collect(),
            closing: AtomicBool::new(false),
            active: AtomicUsize::new(0),
            accepted: AtomicU64::new(0),
            rejected: AtomicU64::new(0),
        })
    }

    fn shard(&self, i: usize) -> &Mutex<Shard> {
        &self.shards[i % self.shards.len()]
    }

    /// Reserves a connection slot under `max` (counts the connection as accepted);
    /// `None` (and counts a rejection) when the limit is reached or the set closes.
    pub(crate) fn reserve(self: &Arc<Self>, max: Option<usize>) -> Option<Slot> {
        if self.closing.load(Ordering::Acquire) {
            return None;
        }
        let max = max.unwrap_or(usize::MAX);
        let ok = self
            .active
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < max).then_some(n + 1)
            })
            .is_ok();
        if ok {
            self.accepted.fetch_add(1, Ordering::Relaxed);
            Some(Slot { set: self.clone() })
        } else {
            self.rejected.fetch_add(1, Ordering::Relaxed);
            None
        }
    }

    /// Adds a live channel; `false` if the set is shutting down.
    pub(crate) fn register(&self, shard: usize, ch: &Channel) -> bool {
        let mut s = lock(self.shard(shard));
        if s.closing {
            return false;
        }
        s.live.insert(ch.id(), ch.clone());
        true
    }

    /// Removes a channel, adding its counters to the totals.
    pub(crate) fn unregister(&self, shard: usize, ch: &Channel) {
        let mut s = lock(self.shard(shard));
        if s.live.remove(&ch.id()).is_some() {
            let snap = ch.metrics().snapshot();
            s.closed.add(&snap);
        }
    }

    /// Refuses new channels from now on and returns those open.
    pub(crate) fn begin_closing(&self) -> Vec<Channel> {
        self.closing.store(true, Ordering::Release);
        let mut all = Vec::new();
        for sh in self.shards.iter() {
            let mut s = lock(sh);
            s.closing = true;
            all.extend(s.live.values().cloned());
        }
        all
    }

    /// Server totals: closed channels' counters plus the live ones' now.
    pub(crate) fn metrics(&self) -> ServerMetrics {
        let mut io = MetricsSnapshot::default();
        let mut open = 0;
        for sh in self.shards.iter() {
            let s = lock(sh);
            io.add(&s.closed);
            for ch in s.live.values() {
                io.add(&ch.metrics().snapshot());
            }
            // A channel that reported closed is not open, even before its loop
            // task has unregistered it.
            open += s.live.values().filter(|ch| !ch.is_closed()).count();
        }
        ServerMetrics {
            io,
            connections_open: open as u64,
            connections_accepted: self.accepted.load(Ordering::Relaxed),
            connections_rejected: self.rejected.load(Ordering::Relaxed),
        }
    }
}

/// One reserved connection slot; released on drop.
pub(crate) struct Slot {
    set: Arc<ChannelSet>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.set.active.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Closes every channel of `set` (flushing first, through its `Channel` handle),
/// waits up to `grace` for them, then force-closes what is left. Returns how many
/// had to be forced. Runs on an event loop (it needs tokio's timer).
pub(crate) async fn close_all(set: Arc<ChannelSet>, grace: Duration) -> usize {
    let channels = set.begin_closing();
    for ch in &channels {
        ch.close();
    }
    let deadline = tokio::time::Instant::now() + grace;
    for ch in &channels {
        if tokio::time::timeout_at(deadline, ch.closed())
            .await
            .is_err()
        {
            break;
        }
    }
    let mut forced = 0;
    for ch in channels.iter().filter(|c| !c.is_closed()) {
        forced += 1;
        tracing::debug!(channel = %ch.id(), "graceful shutdown deadline passed: closing now");
        ch.execute(|core| {
            core.close_now(Some(seine_channel::Error::from(
                crate::TransportError::Io {
                    context: "graceful shutdown",
                    addr: String::new(),
                    source: std::io::Error::new(
                        std::io::ErrorKind::TimedOut,
                        "the shutdown deadline passed before the channel flushed",
                    ),
                },
            )))
        });
    }
    if forced > 0 {
        // Forced closes run as soon as each channel's loop sees them.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        for ch in &channels {
            if tokio::time::timeout_at(deadline, ch.closed())
                .await
                .is_err()
            {
                tracing::warn!(channel = %ch.id(), "channel did not close after a forced close");
                break;
            }
        }
    }
    forced
}
