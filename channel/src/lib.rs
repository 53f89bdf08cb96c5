#![deny(missing_docs)]
#![doc(test(attr(deny(warnings))))]
//! # seine-channel
//!
//! Netty's channel model in Rust: servers are pipelines of typed handlers.
//!
//! ## The contracts other crates build on
//!
//! * **Handlers** implement [`InboundHandler`] (reads `Read`, fires `Fire`),
//!   [`OutboundHandler`] (accepts `Write`, emits `Emit`) or both (a codec, one slot),
//!   plus [`ChannelHandler`] (added/removed callbacks). They enter a pipeline as a
//!   [`Handler`]. Handlers need not be `Send`: each is created on its channel's
//!   event loop and stays there.
//! * **The ends**: the transport fires one [`Bytes`](seine_buffer::Bytes) per read into
//!   the head; the head accepts [`OutboundBuf`] and also plain `Bytes`,
//!   [`CompositeBuf`](seine_buffer::CompositeBuf) and
//!   [`FileRegion`](seine_buffer::FileRegion). A [`Pipeline`] checks neighbouring
//!   types whenever it changes ([`ChannelError::TypeMismatch`]).
//! * **Errors** travel as [`Error`]; every crate's typed errors convert into it and
//!   come back out with [`Error::downcast_ref`].
//! * **Writes** return a [`Completion`] that costs nothing unless observed; outbound
//!   handlers pass the write's [`Promise`] on. Writes made during a read batch are
//!   flushed when the batch ends; writes from [`Channel`] handles or spawned tasks
//!   once the queued work has run.
//! * **Transports** implement [`Transport`] and drive a [`ChannelCore`] (see the
//!   [`transport`] module for the calls and their order).
//!   [`EmbeddedChannel`](testing::EmbeddedChannel), in [`testing`], is the test
//!   transport.
//! * **Time is an input.** The core owns each channel's timers
//!   ([`Context::set_timer`], delivered to [`ChannelHandler::timer_fired`]); a driver
//!   asks [`ChannelCore::next_timeout`] and calls [`ChannelCore::handle_timeout`]. No
//!   task and no allocation per timer or reset. [`Context::now`] is the transport's
//!   clock, virtual under [`EmbeddedChannel`](testing::EmbeddedChannel).
//! * **No runtime here.** Tasks ([`Context::spawn`]) and blocking work
//!   ([`Context::spawn_blocking`], whose output comes back to the handler on the
//!   channel's loop) go through the [`Executor`] the transport provides.
//!
//! ## Example
//!
//! ```
//! use seine_channel::prelude::*;
//! use seine_channel::testing::EmbeddedChannel;
//! use seine_buffer::Bytes;
//!
//! /// Answers every read with the same bytes.
//! struct Echo;
//! impl ChannelHandler for Echo {}
//! impl InboundHandler for Echo {
//!     type Read = Bytes;
//!     type Fire = Bytes;
//!     fn channel_read(&mut self, ctx: &mut InboundContext<'_, Bytes>, msg: Bytes) {
//!         ctx.write(msg); // flushed when the read batch ends
//!     }
//! }
//!
//! let mut ch = EmbeddedChannel::with_handlers([("echo", Handler::inbound(Echo))]);
//! ch.write_inbound(Bytes::from_static(b"hello")).unwrap();
//! assert_eq!(ch.read_outbound::<Bytes>().unwrap(), "hello");
//! ```

mod attr;
mod channel;
mod chunked_input;
mod completion;
mod config;
mod context;
mod core;
mod datagram;
mod embedded;
mod error;
mod events;
mod executor;
mod handler;
mod message;
mod metrics;
mod outbound;
mod pipeline;
mod sync;
mod timer;
pub mod transport;

pub use channel::{Addr, Channel, ChannelId, ClosedFuture};
pub use chunked_input::ChunkedInput;
pub use completion::{Completion, Promise};
pub use config::ChannelConfig;
pub use context::{Context, InboundContext, OutboundContext, ScheduledEvent};
pub use core::ChannelCore;
pub use datagram::DatagramPacket;
pub use error::{ChannelError, Direction, Error};
pub use events::ShutdownRequested;
pub use executor::{BlockingJob, Executor, LocalTask};
pub use handler::{ChannelHandler, Handler, InboundHandler, OutboundHandler, UserEvent};
pub use message::OutboundBuf;
pub use metrics::{ChannelMetrics, Counter, MetricsRecorder, MetricsSnapshot};
pub use outbound::{DEFAULT_HIGH_WATER_MARK, DEFAULT_LOW_WATER_MARK, OutboundBuffer};
pub use pipeline::Pipeline;
pub use timer::TimerQueue;
pub use transport::Transport;

/// Tools for testing handlers without a socket: [`EmbeddedChannel`](testing::EmbeddedChannel) drives a
/// pipeline in memory, with a virtual clock.
pub mod testing {
    pub use crate::embedded::EmbeddedChannel;
}

/// The names a handler author needs (test tools are in [`testing`]).
pub mod prelude {
    pub use crate::{
        Channel, ChannelConfig, ChannelError, ChannelHandler, Completion, Context, Error, Handler,
        InboundContext, InboundHandler, OutboundBuf, OutboundContext, OutboundHandler, Promise,
        UserEvent,
    };
}

#[doc(hidden)]
#[cfg(seine_loom)]
pub mod __loom;
