//! The live channels of a server (or of a whole event loop group): for graceful
//! shutdown, connection limits and metrics totals.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use seine_channel::{Channel, ChannelId, MetricsSnapshot};

use crate::metrics::ServerMetrics;

#[derive(Default)]
struct Shard {
    live: HashMap<ChannelId, Channel>,
    /// Counters of channels that have closed.
    closed: MetricsSnapshot,
    closing: bool,
    /// A graceful drain is under way (deadline, grace): channels that register now
    /// are told at once.
    draining: Option<(Instant, Duration)>,
}

/// Channels by loop (one lock per loop, so loops do not contend).
pub(crate) struct ChannelSet {
    shards: Box<[Mutex<Shard>]>,
    closing: AtomicBool,
    active: AtomicUsize,
    accepted: AtomicU64,
    rejected: AtomicU64,
    forced: AtomicU64,
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
            forced: AtomicU64::new(0),
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
        if let Some((deadline, grace)) = s.draining {
            // Accepted from the backlog after the drain began: told at once (the
            // event runs once the channel is active).
            crate::drain::notify(ch, deadline, grace);
        }
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

    /// Refuses new connection slots from now on (the listeners are stopping), tells
    /// channels that register later to drain, and returns those open now.
    pub(crate) fn begin_draining(&self, deadline: Instant, grace: Duration) -> Vec<Channel> {
        self.closing.store(true, Ordering::Release);
        let mut all = Vec::new();
        for sh in self.shards.iter() {
            let mut s = lock(sh);
            s.draining = Some((deadline, grace));
            all.extend(s.live.values().cloned());
        }
        all
    }

    /// The channels registered and not yet reported closed.
    pub(crate) fn open_channels(&self) -> Vec<Channel> {
        let mut all = Vec::new();
        for sh in self.shards.iter() {
            let s = lock(sh);
            all.extend(s.live.values().filter(|c| !c.is_closed()).cloned());
        }
        all
    }

    /// Counts connections closed without flushing at a shutdown deadline.
    pub(crate) fn add_forced(&self, n: u64) {
        self.forced.fetch_add(n, Ordering::Relaxed);
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
            connections_forced: self.forced.load(Ordering::Relaxed),
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
    let forced = crate::drain::force_close(&channels);
    set.add_forced(forced as u64);
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
