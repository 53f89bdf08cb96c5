//! Server totals.

use std::fmt;

use seine_channel::MetricsSnapshot;

/// Totals of one server (or one event loop group) at one moment: bytes and
/// syscalls of every channel it ever had, and connection counts.
///
/// Taking a snapshot locks each loop's channel list briefly and reads a few
/// relaxed atomics per open channel: cheap enough to poll every second, not per
/// request.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ServerMetrics {
    /// Bytes read, written by copy (`write`/`writev`) and by `sendfile`, and the
    /// syscalls that moved them.
    pub io: MetricsSnapshot,
    /// Connections open now.
    pub connections_open: u64,
    /// Connections accepted since the server started (including those open).
    pub connections_accepted: u64,
    /// Connections closed at accept because `max_connections` was reached.
    pub connections_rejected: u64,
    /// Connections closed without flushing because a graceful shutdown's deadline
    /// passed before they finished.
    pub connections_forced: u64,
}

impl fmt::Display for ServerMetrics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "connections: {} open, {} accepted, {} rejected, {} forced at shutdown; read {} B in {} calls; \
             written {} B by copy + {} B by sendfile in {} calls",
            self.connections_open,
            self.connections_accepted,
            self.connections_rejected,
            self.connections_forced,
            self.io.bytes_read,
            self.io.read_syscalls,
            self.io.bytes_written_copy,
            self.io.bytes_written_sendfile,
            self.io.write_syscalls,
        )
    }
}
