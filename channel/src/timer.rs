//! [`TimerQueue`]: deadlines by key, earliest first, with set, reset and cancel in
//! O(log n) and no allocation once warm.
//!
//! Each channel core keeps one for its handlers' timers, and a transport's event
//! loop can keep one for its channels' next deadlines. Time is an input: the
//! queue never reads a clock; callers say what `now` is.

use std::collections::HashMap;
use std::hash::Hash;
use std::time::Instant;

/// Deadlines keyed by `K`: an indexed binary min-heap.
///
/// Setting a key that is already set moves its deadline (a reset) in place: no
/// allocation, no stale entry left behind. Storage grows to the largest number of
/// timers set at once and is then reused. Timers with equal deadlines come out in
/// the order they were set.
///
/// ```
/// use std::time::{Duration, Instant};
/// use seine_channel::TimerQueue;
///
/// let t0 = Instant::now();
/// let mut q = TimerQueue::new();
/// q.set("read", t0 + Duration::from_secs(30));
/// q.set("write", t0 + Duration::from_secs(10));
/// q.set("read", t0 + Duration::from_secs(5)); // a reset
/// assert_eq!(q.next_deadline(), Some(t0 + Duration::from_secs(5)));
/// assert_eq!(q.pop_due(t0 + Duration::from_secs(20)), Some(("read", t0 + Duration::from_secs(5))));
/// assert_eq!(q.pop_due(t0 + Duration::from_secs(20)), Some(("write", t0 + Duration::from_secs(10))));
/// assert_eq!(q.pop_due(t0 + Duration::from_secs(20)), None);
/// ```
#[derive(Debug)]
pub struct TimerQueue<K> {
    entries: Vec<Entry<K>>,
    /// Entry indices, as a binary heap ordered by (deadline, seq).
    heap: Vec<u32>,
    free: Vec<u32>,
    /// Key to entry, once more than [`SCAN`] timers were set at once; below that
    /// a scan of the entries is cheaper, and a channel with a timer or two pays
    /// no hash table.
    index: Option<HashMap<K, u32>>,
    seq: u64,
}

/// Up to this many entries, keys are found by scanning.
const SCAN: usize = 16;

#[derive(Debug)]
struct Entry<K> {
    key: K,
    deadline: Instant,
    seq: u64,
    /// Position in `heap`; `u32::MAX` when the entry is free.
    pos: u32,
}

impl<K: Copy + Eq + Hash> Default for TimerQueue<K> {
    fn default() -> Self {
        Self::new()
    }
}

impl<K: Copy + Eq + Hash> TimerQueue<K> {
    /// An empty queue. Allocates nothing until the first timer is set.
    pub fn new() -> Self {
        TimerQueue {
            entries: Vec::new(),
            heap: Vec::new(),
            free: Vec::new(),
            index: None,
            seq: 0,
        }
    }

    /// How many timers are set.
    pub fn len(&self) -> usize {
        self.heap.len()
    }

    /// Whether no timer is set.
    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }

    /// The entry of `key`, if set.
    fn find(&self, key: &K) -> Option<u32> {
        match &self.index {
            Some(map) => map.get(key).copied(),
            None => self
                .entries
                .iter()
                .position(|e| e.pos != u32::MAX && e.key == *key)
                .map(|e| e as u32),
        }
    }

    /// Forgets `key`'s entry in the index (the entry itself is freed by the caller).
    fn unindex(&mut self, key: &K) {
        if let Some(map) = &mut self.index {
            map.remove(key);
        }
    }

    /// Sets `key` to fire at `deadline`, moving it if it was already set.
    /// O(log n); allocates only when more timers are set at once than ever before.
    pub fn set(&mut self, key: K, deadline: Instant) {
        self.seq += 1;
        if let Some(e) = self.find(&key) {
            let entry = &mut self.entries[e as usize];
            let earlier = deadline < entry.deadline;
            entry.deadline = deadline;
            entry.seq = self.seq;
            let pos = entry.pos as usize;
            if earlier {
                self.sift_up(pos);
            } else {
                self.sift_down(pos);
            }
            return;
        }
        let entry = Entry {
            key,
            deadline,
            seq: self.seq,
            pos: self.heap.len() as u32,
        };
        let e = match self.free.pop() {
            Some(e) => {
                self.entries[e as usize] = entry;
                e
            }
            None => {
                self.entries.push(entry);
                (self.entries.len() - 1) as u32
            }
        };
        match &mut self.index {
            Some(map) => {
                map.insert(key, e);
            }
            None if self.entries.len() > SCAN => {
                let map = self
                    .entries
                    .iter()
                    .enumerate()
                    .filter(|(_, en)| en.pos != u32::MAX)
                    .map(|(i, en)| (en.key, i as u32))
                    .collect();
                self.index = Some(map);
            }
            None => {}
        }
        self.heap.push(e);
        self.sift_up(self.heap.len() - 1);
    }

    /// Cancels `key`; returns whether it was set. O(log n), no allocation.
    pub fn cancel(&mut self, key: &K) -> bool {
        match self.find(key) {
            Some(e) => {
                self.unindex(key);
                self.remove_at(self.entries[e as usize].pos as usize);
                true
            }
            None => false,
        }
    }

    /// Cancels every timer whose key matches `pred`. O(n).
    pub fn cancel_where(&mut self, mut pred: impl FnMut(&K) -> bool) {
        let mut i = 0;
        while i < self.heap.len() {
            let key = self.entries[self.heap[i] as usize].key;
            if pred(&key) {
                self.unindex(&key);
                self.remove_at(i);
                // The last entry moved into `i` (or `i` was the last): look again.
                i = 0;
            } else {
                i += 1;
            }
        }
    }

    /// When `key` fires, if it is set.
    pub fn deadline(&self, key: &K) -> Option<Instant> {
        self.find(key).map(|e| self.entries[e as usize].deadline)
    }

    /// The earliest deadline.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.heap
            .first()
            .map(|&e| self.entries[e as usize].deadline)
    }

    /// Removes and returns the earliest timer if its deadline is at or before `now`.
    pub fn pop_due(&mut self, now: Instant) -> Option<(K, Instant)> {
        let &e = self.heap.first()?;
        let entry = &self.entries[e as usize];
        if entry.deadline > now {
            return None;
        }
        let (key, deadline) = (entry.key, entry.deadline);
        self.unindex(&key);
        self.remove_at(0);
        Some((key, deadline))
    }

    fn remove_at(&mut self, pos: usize) {
        let e = self.heap.swap_remove(pos);
        self.entries[e as usize].pos = u32::MAX;
        self.free.push(e);
        if pos < self.heap.len() {
            let moved = self.heap[pos];
            self.entries[moved as usize].pos = pos as u32;
            self.sift_up(pos);
            let now_at = self.entries[moved as usize].pos as usize;
            self.sift_down(now_at);
        }
    }

    fn less(&self, a: u32, b: u32) -> bool {
        let (a, b) = (&self.entries[a as usize], &self.entries[b as usize]);
        (a.deadline, a.seq) < (b.deadline, b.seq)
    }

    fn swap(&mut self, i: usize, j: usize) {
        self.heap.swap(i, j);
        let (a, b) = (self.heap[i], self.heap[j]);
        self.entries[a as usize].pos = i as u32;
        self.entries[b as usize].pos = j as u32;
    }

    fn sift_up(&mut self, mut pos: usize) {
        while pos > 0 {
            let parent = (pos - 1) / 2;
            if !self.less(self.heap[pos], self.heap[parent]) {
                break;
            }
            self.swap(pos, parent);
            pos = parent;
        }
    }

    fn sift_down(&mut self, mut pos: usize) {
        loop {
            let (l, r) = (2 * pos + 1, 2 * pos + 2);
            let mut least = pos;
            if l < self.heap.len() && self.less(self.heap[l], self.heap[least]) {
                least = l;
            }
            if r < self.heap.len() && self.less(self.heap[r], self.heap[least]) {
                least = r;
            }
            if least == pos {
                return;
            }
            self.swap(pos, least);
            pos = least;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn at(t0: Instant, ms: u64) -> Instant {
        t0 + Duration::from_millis(ms)
    }

    /// Against a plain model (a Vec scanned for its minimum), over a pseudo-random
    /// mix of sets, resets, cancels and pops: with few keys (found by scanning) and
    /// with many (found through the index).
    #[test]
    fn matches_a_model() {
        model_run(8);
        model_run(64);
    }

    fn model_run(keys: u64) {
        let t0 = Instant::now();
        let mut q = TimerQueue::new();
        let mut model: Vec<(u32, Instant, u64)> = Vec::new();
        let mut seq = 0u64;
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for step in 0..20_000u64 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let key = (x % keys) as u32;
            let when = at(t0, (x >> 8) % 1000);
            match (x >> 20) % 4 {
                0 | 1 => {
                    seq += 1;
                    q.set(key, when);
                    model.retain(|m| m.0 != key);
                    model.push((key, when, seq));
                }
                2 => {
                    let had = model.iter().any(|m| m.0 == key);
                    model.retain(|m| m.0 != key);
                    assert_eq!(q.cancel(&key), had, "step {step}");
                }
                _ => {
                    let now = at(t0, (x >> 30) % 1000);
                    let best = model
                        .iter()
                        .enumerate()
                        .filter(|(_, m)| m.1 <= now)
                        .min_by_key(|(_, m)| (m.1, m.2))
                        .map(|(i, _)| i);
                    let expect = best.map(|i| {
                        let m = model.remove(i);
                        (m.0, m.1)
                    });
                    assert_eq!(q.pop_due(now), expect, "step {step}");
                }
            }
            assert_eq!(q.len(), model.len());
            let min = model.iter().map(|m| (m.1, m.2)).min().map(|m| m.0);
            assert_eq!(q.next_deadline(), min);
        }
    }

    #[test]
    fn equal_deadlines_fire_in_the_order_they_were_set() {
        let t0 = Instant::now();
        let mut q = TimerQueue::new();
        for k in [3, 1, 2] {
            q.set(k, t0);
        }
        let order: Vec<_> = std::iter::from_fn(|| q.pop_due(t0).map(|p| p.0)).collect();
        assert_eq!(order, [3, 1, 2]);
    }

    #[test]
    fn cancel_where_removes_only_matching_keys() {
        let t0 = Instant::now();
        let mut q = TimerQueue::new();
        for k in 0..100u32 {
            q.set(k, at(t0, u64::from(k)));
        }
        q.cancel_where(|k| k % 3 == 0);
        assert_eq!(q.len(), 66);
        let order: Vec<_> = std::iter::from_fn(|| q.pop_due(at(t0, 1000)).map(|p| p.0)).collect();
        let expect: Vec<_> = (0..100u32).filter(|k| k % 3 != 0).collect();
        assert_eq!(order, expect);
    }
}
