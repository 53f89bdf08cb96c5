//! The contract between a pipeline and whatever moves its bytes.
//!
//! A socket transport (seine-transport) and [`EmbeddedChannel`](crate::testing::EmbeddedChannel)
//! are the two drivers of one [`ChannelCore`](crate::ChannelCore). A driver:
//!
//! 1. builds a [`ChannelCore`](crate::ChannelCore) on a [`Channel`](crate::Channel) with its [`Transport`],
//!    runs the initializer, then calls [`ChannelCore::fire_active`](crate::ChannelCore::fire_active);
//! 2. for each batch of reads, calls [`ChannelCore::fire_read`](crate::ChannelCore::fire_read)
//!    once per read (one `Bytes` each) and then
//!    [`ChannelCore::fire_read_complete`](crate::ChannelCore::fire_read_complete), which also
//!    flushes what the batch wrote (a datagram channel, built with
//!    [`ChannelCore::new_datagram`](crate::ChannelCore::new_datagram), calls
//!    [`ChannelCore::fire_datagram`](crate::ChannelCore::fire_datagram) once per datagram
//!    instead, and its transport sends flushed entries whole with
//!    [`OutboundBuffer::flushed_datagram`] and [`OutboundBuffer::advance_datagrams`]);
//! 3. reads only while [`ChannelCore::wants_read`](crate::ChannelCore::wants_read) says so
//!    (auto-read, or a handler asked);
//! 4. runs queued work from `Channel` handles with
//!    [`ChannelCore::run_queued`](crate::ChannelCore::run_queued) whenever
//!    [`ChannelCore::poll_queued`](crate::ChannelCore::poll_queued) wakes it;
//! 5. when the socket becomes writable again while
//!    [`OutboundBuffer::has_flushed`](crate::OutboundBuffer::has_flushed), calls
//!    [`ChannelCore::write_pending`](crate::ChannelCore::write_pending);
//! 6. keeps one timer at [`ChannelCore::next_timeout`](crate::ChannelCore::next_timeout)
//!    and, when it passes, calls [`ChannelCore::handle_timeout`](crate::ChannelCore::handle_timeout)
//!    (the deadline may change after any call: look again each time);
//! 7. on end of input calls [`ChannelCore::fire_input_closed`](crate::ChannelCore::fire_input_closed),
//!    on an I/O error [`ChannelCore::fail`](crate::ChannelCore::fail), and stops once
//!    [`ChannelCore::is_closed`](crate::ChannelCore::is_closed).

use std::io;
use std::os::fd::BorrowedFd;
use std::time::Instant;

use crate::error::Error;
use crate::executor::Executor;
use crate::outbound::OutboundBuffer;

/// What a pipeline's head asks of the transport. All calls are made on the channel's
/// event loop and must not block.
pub trait Transport: 'static {
    /// Writes as many flushed entries of `out` as the sink accepts now, reporting
    /// progress with [`OutboundBuffer::advance`]; returns `Ok` when the sink is full or
    /// everything is written (the driver retries when the sink is writable again).
    /// An `Err` means the channel is broken: the pipeline fails pending writes and
    /// closes.
    fn flush(&mut self, out: &mut OutboundBuffer) -> Result<(), Error>;

    /// Shuts down the write side (TCP FIN) once flushed data is written.
    fn shutdown_output(&mut self) -> Result<(), Error>;

    /// Closes the channel's resource. Called once, after everything accepted for
    /// writing was written (or the channel broke).
    fn close(&mut self);

    /// Makes the coming [`close`](Self::close) abortive: the peer gets a reset and
    /// the system frees unsent data at once (TCP: `SO_LINGER` 0). Called just
    /// before `close` when a handler closed with
    /// [`Context::close_with_reset`](crate::Context::close_with_reset). Nothing by
    /// default.
    fn abort(&mut self) {}

    /// A handler asked for a read while auto-read is off. Most drivers check
    /// [`ChannelCore::wants_read`](crate::ChannelCore::wants_read) after every event and
    /// need do nothing here.
    fn read_requested(&mut self) {}

    /// Hands the channel's TLS record layer to the kernel (kTLS), for a TLS handler
    /// that finished its handshake ([`Context::offload_tls`](crate::Context::offload_tls)
    /// calls it once everything written is on the socket). `setup` configures the
    /// socket (`TCP_ULP`, `TLS_TX`, `TLS_RX`); if it returns `Ok`, the transport
    /// from then on reads plaintext, delivers each record that is not application
    /// data as a [`KernelTlsRecord`](crate::KernelTlsRecord) user event, and sends
    /// `close_notify` before the FIN of a graceful shutdown. `Unsupported` by default
    /// (no socket: the TLS handler keeps the record layer in user space).
    fn offload_tls(
        &mut self,
        setup: &mut dyn FnMut(BorrowedFd<'_>) -> io::Result<()>,
    ) -> io::Result<()> {
        let _ = setup;
        Err(io::ErrorKind::Unsupported.into())
    }

    /// The time now, as handlers see it ([`Context::now`](crate::Context::now)) and
    /// as their timers are set. The real clock by default; a test transport has a
    /// virtual one.
    fn now(&self) -> Instant {
        Instant::now()
    }

    /// Where the channel's tasks and blocking work run. `None` (the default): the
    /// channel cannot run any, and [`Context::spawn`](crate::Context::spawn) fails
    /// with [`ChannelError::NoExecutor`](crate::ChannelError::NoExecutor).
    fn executor(&self) -> Option<&dyn Executor> {
        None
    }
}
