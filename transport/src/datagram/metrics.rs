//! [`DatagramMetrics`]: what datagram channels moved, and every datagram they
//! dropped, by cause.

use std::fmt;
use std::ops::AddAssign;
use std::sync::atomic::{AtomicU64, Ordering};

/// Counters of one datagram channel (or the sum over an endpoint's sockets).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DatagramMetrics {
    /// Datagrams handed to the pipeline.
    pub received: u64,
    /// Datagrams the kernel accepted for sending.
    pub sent: u64,
    /// Received datagrams longer than `max_datagram_size`: cut by the kernel,
    /// dropped here.
    pub dropped_truncated: u64,
    /// Datagrams the kernel dropped at the socket's receive queue (full buffer),
    /// as the socket's drop count (`SO_MEMINFO`) reports them, read after every
    /// wake-up that received datagrams.
    pub dropped_kernel: u64,
    /// Datagrams whose send failed (no route, too large, refused): their write
    /// completions failed with the error.
    pub dropped_send_failed: u64,
    /// Datagrams still queued when the channel closed (their completions failed).
    pub dropped_at_close: u64,
    /// `recvmmsg` calls that returned data.
    pub recv_calls: u64,
    /// `sendmmsg` calls.
    pub send_calls: u64,
    /// Messages sent as one UDP GSO super-datagram.
    pub gso_messages: u64,
    /// Received buffers the kernel had coalesced with UDP GRO.
    pub gro_messages: u64,
    /// Receive blocks allocated (the pool had none free); the rest were reused.
    pub pool_allocations: u64,
}

impl DatagramMetrics {
    /// Every datagram dropped, whatever the cause.
    pub fn dropped(&self) -> u64 {
        self.dropped_truncated
            + self.dropped_kernel
            + self.dropped_send_failed
            + self.dropped_at_close
    }
}

impl AddAssign for DatagramMetrics {
    fn add_assign(&mut self, o: Self) {
        self.received += o.received;
        self.sent += o.sent;
        self.dropped_truncated += o.dropped_truncated;
        self.dropped_kernel += o.dropped_kernel;
        self.dropped_send_failed += o.dropped_send_failed;
        self.dropped_at_close += o.dropped_at_close;
        self.recv_calls += o.recv_calls;
        self.send_calls += o.send_calls;
        self.gso_messages += o.gso_messages;
        self.gro_messages += o.gro_messages;
        self.pool_allocations += o.pool_allocations;
    }
}

impl fmt::Display for DatagramMetrics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "datagrams: {} received in {} recvmmsg, {} sent in {} sendmmsg ({} GSO messages, \
             {} GRO buffers); dropped: {} truncated, {} by the kernel, {} failed sends, {} at close; \
             {} receive blocks allocated",
            self.received,
            self.recv_calls,
            self.sent,
            self.send_calls,
            self.gso_messages,
            self.gro_messages,
            self.dropped_truncated,
            self.dropped_kernel,
            self.dropped_send_failed,
            self.dropped_at_close,
            self.pool_allocations,
        )
    }
}

/// The live counters a channel's driver updates (relaxed atomics, read by
/// [`snapshot`](Self::snapshot) from any thread).
#[derive(Default, Debug)]
pub(crate) struct Counters {
    pub(crate) received: AtomicU64,
    pub(crate) sent: AtomicU64,
    pub(crate) dropped_truncated: AtomicU64,
    pub(crate) dropped_kernel: AtomicU64,
    pub(crate) dropped_send_failed: AtomicU64,
    pub(crate) dropped_at_close: AtomicU64,
    pub(crate) recv_calls: AtomicU64,
    pub(crate) send_calls: AtomicU64,
    pub(crate) gso_messages: AtomicU64,
    pub(crate) gro_messages: AtomicU64,
    pub(crate) pool_allocations: AtomicU64,
}

impl Counters {
    #[inline]
    pub(crate) fn add(c: &AtomicU64, n: u64) {
        // Only the channel's loop writes: a load and a store, no locked add.
        c.store(c.load(Ordering::Relaxed) + n, Ordering::Relaxed);
    }

    pub(crate) fn snapshot(&self) -> DatagramMetrics {
        let l = |c: &AtomicU64| c.load(Ordering::Relaxed);
        DatagramMetrics {
            received: l(&self.received),
            sent: l(&self.sent),
            dropped_truncated: l(&self.dropped_truncated),
            dropped_kernel: l(&self.dropped_kernel),
            dropped_send_failed: l(&self.dropped_send_failed),
            dropped_at_close: l(&self.dropped_at_close),
            recv_calls: l(&self.recv_calls),
            send_calls: l(&self.send_calls),
            gso_messages: l(&self.gso_messages),
            gro_messages: l(&self.gro_messages),
            pool_allocations: l(&self.pool_allocations),
        }
    }
}
