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
//! 6. on end of input calls [`ChannelCore::fire_input_closed`](crate::ChannelCore::fire_input_closed),
//!    on an I/O error [`ChannelCore::fail`](crate::ChannelCore::fail), and stops once
//!    [`ChannelCore::is_closed`](crate::ChannelCore::is_closed).

use crate::error::Error;
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

    /// A handler asked for a read while auto-read is off. Most drivers check
    /// [`ChannelCore::wants_read`](crate::ChannelCore::wants_read) after every event and
    /// need do nothing here.
    fn read_requested(&mut self) {}
}
