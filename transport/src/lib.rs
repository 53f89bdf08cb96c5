#![deny(missing_docs)]
#![doc(test(attr(deny(warnings))))]
//! # seine-transport
//!
//! Runs seine channels on real sockets: event loops ([`EventLoopGroup`]), servers
//! ([`ServerBootstrap`] → [`Server`]) and clients ([`Bootstrap`]) over TCP and Unix
//! domain stream sockets, and datagram (UDP) channels ([`DatagramBootstrap`]) with
//! batched system calls, on tokio.
//!
//! * **Threads.** A group has one thread per loop, each a current-thread tokio
//!   runtime with a `LocalSet`. Every channel is pinned to one loop: its
//!   initializer, handlers and I/O run there, so handlers need not be `Send`. A
//!   group can also be the caller's own thread ([`EventLoopGroup::current`]).
//! * **Reads.** An adaptive receive buffer (Netty's `AdaptiveRecvByteBufAllocator`,
//!   64 B..64 KiB by default) is read into and each read is handed up as a `Bytes`
//!   split off it, without copying; at most `max_reads_per_wakeup` reads, then
//!   `channel_read_complete`, which flushes what the handlers wrote. An idle channel
//!   holds no receive buffer.
//! * **Writes.** Flushed buffers are gathered into one `writev` of up to 1024
//!   slices; `FileRegion`s of 4 KiB or more go out with `sendfile(2)` (no copy
//!   through user space), smaller ones (cheaper copied, as measured in
//!   [`sendfile`]) and those the kernel refuses are read with `pread` and written.
//! * **Accepting.** One `SO_REUSEPORT` listener per loop by default, or one acceptor
//!   handing connections round robin ([`AcceptMode`]).
//! * **Errors.** [`TransportError`]; a peer that resets closes only its channel
//!   (logged at debug level).
//!
//! ## What it costs
//!
//! * A request/response round trip of small messages costs three syscalls on the
//!   server: `epoll_wait`, one `recvfrom` (a read shorter than the buffer ends the
//!   batch, so the read that would say `EAGAIN` is skipped) and one `writev` at the
//!   end of the batch (measured with `strace -c`: 2 000 echoes of 64 bytes, 2 004
//!   `epoll_wait`, 2 217 `recvfrom`, 2 000 `writev`).
//! * Reads are never copied in user space: each is a `Bytes` split off the
//!   receive buffer. Writes of `Bytes`/`CompositeBuf` are not copied either,
//!   except small ones, on purpose: a write under [`MERGE_WRITES_BELOW`] (512)
//!   bytes is merged into one buffer with its small neighbours when it is queued,
//!   and a run of slices under 512 bytes is copied into one slice before the
//!   `writev` (many tiny iovecs cost the kernel and the peer more than the copy).
//!   A slice of 512 bytes or more is never copied.
//! * An idle connection holds no receive buffer; the server process grows by about
//!   3.6 KB per idle connection (10 000 connections, `transport/examples/idle_memory.rs`),
//!   besides the kernel's socket buffers.
//! * Accepting costs one `accept4` (non-blocking and close-on-exec in the same
//!   call), one `setsockopt` (`TCP_NODELAY`), and a `getsockname` only when the
//!   server listens on an unspecified address (`0.0.0.0`).
//!
//! ## Example: an echo server
//!
//! ```
//! use std::io::{Read, Write};
//! use std::time::Duration;
//! use seine_channel::prelude::*;
//! use seine_buffer::Bytes;
//! use seine_transport::ServerBootstrap;
//!
//! /// Writes back every read (flushed when the read batch ends).
//! struct Echo;
//! impl ChannelHandler for Echo {}
//! impl InboundHandler for Echo {
//!     type Read = Bytes;
//!     type Fire = Bytes;
//!     fn channel_read(&mut self, ctx: &mut InboundContext<'_, Bytes>, msg: Bytes) {
//!         ctx.write(msg);
//!     }
//! }
//!
//! let server = ServerBootstrap::new()
//!     .child_handler(|pipeline| {
//!         pipeline.add_last("echo", Handler::inbound(Echo))?;
//!         Ok(())
//!     })
//!     .bind("127.0.0.1:0")?;
//!
//! let mut client = std::net::TcpStream::connect(server.local_addr()?)?;
//! client.write_all(b"hello")?;
//! let mut back = [0; 5];
//! client.read_exact(&mut back)?;
//! assert_eq!(&back, b"hello");
//!
//! server.shutdown_gracefully_blocking(Duration::from_secs(1));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod accept;
mod bootstrap;
mod channel_set;
mod clock;
mod datagram;
mod drain;
mod driver;
mod error;
mod event_loop;
mod executor;
mod ktls;
pub mod listen_fds;
mod metrics;
mod options;
pub mod probe;
#[cfg(feature = "prometheus")]
mod prometheus;
mod recv_buf;
pub mod sendfile;
mod signal;
mod socket_stream;
pub mod splice;
mod wakeup;
mod writer;

pub use bootstrap::{Bootstrap, Server, ServerBootstrap};
pub use datagram::{
    DatagramBootstrap, DatagramEndpoint, DatagramMetrics, DatagramOptions, DatagramPath,
};
pub use error::TransportError;
pub use event_loop::{EventLoop, EventLoopGroup};
pub use metrics::ServerMetrics;
pub use options::{
    AcceptMode, ChannelOptions, MERGE_WRITES_BELOW, RecvBufferOptions, ServerOptions,
};
pub use probe::ZeroCopyCapabilities;
#[cfg(feature = "prometheus")]
pub use prometheus::ServerCollector;
pub use sendfile::FilePolicy;
pub use signal::{ShutdownOutcome, ShutdownSignals};
pub use splice::{splice_bidirectional, splice_bidirectional_with_idle_timeout};
