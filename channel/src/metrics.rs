//! A channel's counters: the transport's (bytes and system calls), written only
//! through the [`MetricsRecorder`] the transport holds, and handlers' own
//! ([`ChannelMetrics::counter`]). Relaxed atomics: figures, not synchronisation.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use crate::channel::Channel;

/// Counters of one channel, readable from any thread. The transport's counters
/// are written by the transport alone (through its [`MetricsRecorder`]); handlers
/// register counters of their own with [`counter`](Self::counter).
#[derive(Default)]
pub struct ChannelMetrics {
    bytes_read: AtomicU64,
    bytes_written_copy: AtomicU64,
    bytes_written_sendfile: AtomicU64,
    read_syscalls: AtomicU64,
    write_syscalls: AtomicU64,
    custom: Mutex<Vec<(&'static str, Counter)>>,
}

/// A copy of the transport's counters of a [`ChannelMetrics`] at one moment.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MetricsSnapshot {
    /// Bytes read from the socket.
    pub bytes_read: u64,
    /// Bytes written with write/writev (copied from user space by the kernel).
    pub bytes_written_copy: u64,
    /// Bytes written with sendfile (never in user space).
    pub bytes_written_sendfile: u64,
    /// read(2) calls.
    pub read_syscalls: u64,
    /// write/writev/sendfile calls.
    pub write_syscalls: u64,
}

impl MetricsSnapshot {
    /// Adds `other` field by field (for server totals).
    pub fn add(&mut self, other: &MetricsSnapshot) {
        self.bytes_read += other.bytes_read;
        self.bytes_written_copy += other.bytes_written_copy;
        self.bytes_written_sendfile += other.bytes_written_sendfile;
        self.read_syscalls += other.read_syscalls;
        self.write_syscalls += other.write_syscalls;
    }

    /// Bytes written by any means.
    pub fn bytes_written(&self) -> u64 {
        self.bytes_written_copy + self.bytes_written_sendfile
    }
}

impl ChannelMetrics {
    /// The transport's counters now.
    pub fn snapshot(&self) -> MetricsSnapshot {
        MetricsSnapshot {
            bytes_read: self.bytes_read.load(Ordering::Relaxed),
            bytes_written_copy: self.bytes_written_copy.load(Ordering::Relaxed),
            bytes_written_sendfile: self.bytes_written_sendfile.load(Ordering::Relaxed),
            read_syscalls: self.read_syscalls.load(Ordering::Relaxed),
            write_syscalls: self.write_syscalls.load(Ordering::Relaxed),
        }
    }

    /// The handler counter named `name`, made at its first use (one allocation
    /// then; later calls find it). Keep the returned [`Counter`] rather than
    /// asking again per event.
    ///
    /// ```
    /// use seine_channel::{Addr, Channel};
    /// let ch = Channel::new(Addr::None, Addr::None);
    /// let encrypted = ch.metrics().counter("tls_bytes_encrypted");
    /// encrypted.add(1200);
    /// assert_eq!(ch.metrics().counters(), [("tls_bytes_encrypted", 1200)]);
    /// ```
    pub fn counter(&self, name: &'static str) -> Counter {
        let mut custom = self.custom.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((_, c)) = custom.iter().find(|(n, _)| *n == name) {
            return c.clone();
        }
        let c = Counter::default();
        custom.push((name, c.clone()));
        c
    }

    /// Every handler counter with its value, in the order they were made.
    pub fn counters(&self) -> Vec<(&'static str, u64)> {
        let custom = self.custom.lock().unwrap_or_else(PoisonError::into_inner);
        custom.iter().map(|(n, c)| (*n, c.get())).collect()
    }
}

/// A handler's counter, shared with its channel's [`ChannelMetrics`]. Cloning is
/// O(1); adding is one relaxed atomic add.
#[derive(Clone, Debug, Default)]
pub struct Counter(Arc<AtomicU64>);

impl Counter {
    /// Adds `n`.
    pub fn add(&self, n: u64) {
        self.0.fetch_add(n, Ordering::Relaxed);
    }

    /// Adds one.
    pub fn increment(&self) {
        self.add(1);
    }

    /// The value now.
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// The writer of a channel's transport counters, held by the transport that made
/// the channel ([`Channel::with_recorder`](crate::Channel::with_recorder)); no
/// handler can get one for an existing channel. Cloning is O(1) (for the
/// transport's read and write sides).
#[derive(Clone)]
pub struct MetricsRecorder {
    channel: Channel,
}

impl MetricsRecorder {
    pub(crate) fn new(channel: Channel) -> Self {
        MetricsRecorder { channel }
    }

    /// Counts one read(2) that returned `n` bytes.
    pub fn record_read(&self, n: usize) {
        let m = &self.channel.shared.metrics;
        m.bytes_read.fetch_add(n as u64, Ordering::Relaxed);
        m.read_syscalls.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts one write/writev that wrote `n` bytes.
    pub fn record_copy_write(&self, n: usize) {
        let m = &self.channel.shared.metrics;
        m.bytes_written_copy.fetch_add(n as u64, Ordering::Relaxed);
        m.write_syscalls.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts one sendfile that sent `n` bytes.
    pub fn record_sendfile(&self, n: usize) {
        let m = &self.channel.shared.metrics;
        m.bytes_written_sendfile
            .fetch_add(n as u64, Ordering::Relaxed);
        m.write_syscalls.fetch_add(1, Ordering::Relaxed);
    }
}
