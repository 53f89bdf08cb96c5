//! Socket and channel options for servers ([`ServerOptions`]) and for every
//! connection ([`ChannelOptions`]), with sane defaults.

use std::io;
use std::time::Duration;

use seine_channel::ChannelConfig;
use socket2::SockRef;

use crate::sendfile::FilePolicy;

/// How a server spreads accepted connections over its event loops.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum AcceptMode {
    /// One listening socket per loop, all bound to the address with `SO_REUSEPORT`:
    /// the kernel spreads connections by hashing the peer's address, and each loop
    /// accepts its own (no hand-off between threads). Unix domain sockets always
    /// use [`Acceptor`](Self::Acceptor).
    ///
    /// The default. Measured with `transport/examples/accept_rate.rs` (2 cores, 2 loops, the
    /// client on the same machine, 20 000 connect/echo/close cycles per run, 32 in
    /// flight, median of 9 alternating runs): 37.0 k connections/s against 37.1 k
    /// for the acceptor, a tie within this machine's ±10 % noise. `ReusePort` is
    /// kept because it needs no hand-off (one allocation and one cross-thread wake
    /// less per connection) and has no single accepting thread to saturate on a
    /// machine with more cores. Note that any process of the same user can bind the
    /// same port with `SO_REUSEPORT` and receive a share of the connections.
    #[default]
    ReusePort,
    /// One listening socket; the loop that owns it accepts and hands each socket to
    /// the next loop in turn (round robin), as Netty's boss/worker groups do.
    Acceptor,
}

/// Options of a listening socket. `Default` gives the values documented per field.
///
/// ```
/// use seine_transport::{AcceptMode, ServerOptions};
/// let opts = ServerOptions { backlog: 4096, max_connections: Some(10_000), ..ServerOptions::default() };
/// assert_eq!(opts.accept_mode, AcceptMode::ReusePort);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerOptions {
    /// The accept queue length passed to `listen(2)` (default 1024; the kernel caps
    /// it at `net.core.somaxconn`).
    pub backlog: u32,
    /// `SO_REUSEADDR` (default on): rebind at once after a restart, while old
    /// connections sit in `TIME_WAIT`.
    pub reuse_addr: bool,
    /// `SO_REUSEPORT` (default on). Needed by [`AcceptMode::ReusePort`]; with it
    /// off, that mode falls back to [`AcceptMode::Acceptor`].
    pub reuse_port: bool,
    /// How accepted connections are spread over the loops.
    pub accept_mode: AcceptMode,
    /// At most this many connections open at once (default: no limit). Connections
    /// past it are closed as soon as they are accepted, with a warning.
    pub max_connections: Option<usize>,
    /// At most this many `accept(2)` calls per wake-up of a listener (default 64),
    /// so a connection storm does not starve the loop's channels.
    pub accepts_per_wakeup: usize,
}

impl Default for ServerOptions {
    fn default() -> Self {
        ServerOptions {
            backlog: 1024,
            reuse_addr: true,
            reuse_port: true,
            accept_mode: AcceptMode::default(),
            max_connections: None,
            accepts_per_wakeup: 64,
        }
    }
}

/// Bounds of the adaptive receive buffer (Netty's `AdaptiveRecvByteBufAllocator`):
/// each read asks for the current guess; a read that fills it grows the guess (four
/// steps of the size table), two reads in a row that would have fit the next
/// smaller size shrink it (one step).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecvBufferOptions {
    /// Smallest guess (default 64 bytes).
    pub min: usize,
    /// First guess (default 2048 bytes).
    pub initial: usize,
    /// Largest guess (default 64 KiB).
    pub max: usize,
}

impl Default for RecvBufferOptions {
    fn default() -> Self {
        RecvBufferOptions {
            min: 64,
            initial: 2048,
            max: 64 * 1024,
        }
    }
}

/// Options of one connection (a server's children or a client's channel).
///
/// ```
/// use seine_transport::ChannelOptions;
/// let opts = ChannelOptions {
///     send_buffer_size: Some(64 * 1024),
///     ..ChannelOptions::default()
/// }
/// .auto_read(false);
/// assert!(opts.tcp_nodelay);
/// assert!(!opts.config.auto_read);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChannelOptions {
    /// `TCP_NODELAY` (default on): small writes leave at once (the transport
    /// already gathers a read batch's writes into one `writev`).
    pub tcp_nodelay: bool,
    /// `SO_RCVBUF` in bytes (default: the kernel's autotuning). Set on the
    /// listening socket too, so the TCP window scale is negotiated for it.
    pub recv_buffer_size: Option<usize>,
    /// `SO_SNDBUF` in bytes (default: the kernel's autotuning).
    pub send_buffer_size: Option<usize>,
    /// TCP keep-alive: idle time before the first probe (default: off).
    pub keep_alive: Option<Duration>,
    /// The pipeline's options: auto-read, water marks, half-closure,
    /// close-on-exception, merging of small writes (on for sockets: writes under
    /// [`MERGE_WRITES_BELOW`] bytes are copied together as they are queued).
    pub config: ChannelConfig,
    /// Reads per wake-up before `channel_read_complete` and a yield to the loop's
    /// other channels (default 16, Netty's `maxMessagesPerRead`).
    pub max_reads_per_wakeup: usize,
    /// The adaptive receive buffer's bounds.
    pub recv_buffer: RecvBufferOptions,
    /// Most bytes gathered into one `writev` (default 1 MiB).
    pub write_budget: usize,
    /// Write calls per flush before yielding to other channels (default 16, Netty's
    /// `writeSpinCount`).
    pub write_spin: usize,
    /// How [`FileRegion`](seine_buffer::FileRegion)s are written.
    pub file_policy: FilePolicy,
}

/// Writes shorter than this are merged into one buffer as they are queued on a
/// socket channel ([`ChannelConfig::merge_writes_below`]). Measured on the 64-byte
/// echo: a `writev` of 32 tiny slices cost 7 us where one contiguous write of the
/// same bytes cost 5 us, and the peer spent twice the CPU reading them; queuing one
/// entry per batch instead of one per message also saves the per-entry work.
pub const MERGE_WRITES_BELOW: usize = 512;

impl Default for ChannelOptions {
    fn default() -> Self {
        ChannelOptions {
            tcp_nodelay: true,
            recv_buffer_size: None,
            send_buffer_size: None,
            keep_alive: None,
            config: ChannelConfig {
                merge_writes_below: MERGE_WRITES_BELOW,
                ..ChannelConfig::default()
            },
            max_reads_per_wakeup: 16,
            recv_buffer: RecvBufferOptions::default(),
            write_budget: 1024 * 1024,
            write_spin: 16,
            file_policy: FilePolicy::default(),
        }
    }
}

impl ChannelOptions {
    /// Sets auto-read (default on).
    pub fn auto_read(mut self, on: bool) -> Self {
        self.config.auto_read = on;
        self
    }

    /// Sets the low and high water marks of the outbound buffer (defaults
    /// [`DEFAULT_LOW_WATER_MARK`](seine_channel::DEFAULT_LOW_WATER_MARK),
    /// [`DEFAULT_HIGH_WATER_MARK`](seine_channel::DEFAULT_HIGH_WATER_MARK)).
    pub fn water_marks(mut self, low: usize, high: usize) -> Self {
        self.config.low_water_mark = low;
        self.config.high_water_mark = high.max(low);
        self
    }

    /// Keeps the channel open after the peer shut down its write side (default off).
    pub fn allow_half_closure(mut self, on: bool) -> Self {
        self.config.allow_half_closure = on;
        self
    }

    /// Sets `SO_SNDBUF` and `SO_RCVBUF`.
    pub fn socket_buffers(mut self, send: usize, recv: usize) -> Self {
        self.send_buffer_size = Some(send);
        self.recv_buffer_size = Some(recv);
        self
    }

    /// Options inherited from a listening socket by the sockets it accepts (and
    /// that must be set before `listen`/`connect`): buffer sizes.
    pub(crate) fn apply_buffers(&self, sock: SockRef<'_>) -> io::Result<()> {
        if let Some(n) = self.recv_buffer_size {
            sock.set_recv_buffer_size(n)?;
        }
        if let Some(n) = self.send_buffer_size {
            sock.set_send_buffer_size(n)?;
        }
        Ok(())
    }

    /// Per-connection TCP options: `TCP_NODELAY`, keep-alive.
    pub(crate) fn apply_tcp(&self, sock: SockRef<'_>) -> io::Result<()> {
        if self.tcp_nodelay {
            sock.set_tcp_nodelay(true)?;
        }
        if let Some(idle) = self.keep_alive {
            sock.set_tcp_keepalive(&socket2::TcpKeepalive::new().with_time(idle))?;
        }
        Ok(())
    }
}
