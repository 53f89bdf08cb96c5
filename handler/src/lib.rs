//! # seine-handler
//!
//! What every server needs, once: Netty's handler library for seine pipelines.
//! Each handler is one pipeline slot; the time-based ones use the channel core's
//! timers (no task, no allocation per reset) and are tested on
//! [`EmbeddedChannel`](seine_channel::testing::EmbeddedChannel)'s virtual clock.
//!
//! ## Which handler do I need?
//!
//! | I want to… | Handler | Where |
//! |---|---|---|
//! | know when a connection has been quiet (keep-alive idle, heartbeats) | [`IdleStateHandler`] (fires [`IdleStateEvent`]) | first |
//! | close a peer that sends nothing for T | [`ReadTimeoutHandler`] | first |
//! | close a peer that does not take a write within T | [`WriteTimeoutHandler`] | first |
//! | close a peer whose pending response made no progress for T (nginx `send_timeout`) | [`IdleStateHandler`] with `writer_idle(T)` and `observe_output(true)` | first |
//! | free a timed-out peer's unsent data at once (reset, not FIN) | [`CloseMode::Reset`] on the timeout handlers | — |
//! | answer at most N pipelined requests at a time, whatever one read holds | [`FlowControlHandler`], auto-read off, `read()` when ready for the next | right after the decoder |
//! | fewer flush system calls when handlers flush per message | [`FlushConsolidationHandler`] | first |
//! | send a big body from a file, a stream or a generator without holding it in memory | [`ChunkedWriteHandler`] with a [`ChunkedInput`] | first, or behind the encoder |
//! | turn `FileRegion`s into bytes for a handler that needs them (TLS) | [`ChunkedWriteHandler::files_as_chunks`] ([`ChunkedFile`]) | in front of that handler |
//! | limit a connection's (or all connections') byte rate (nginx `limit_rate`) | [`TrafficShapingHandler`] (per channel, or [`GlobalTrafficShaper`]) | first |
//! | serve the files under a directory over HTTP (ranges, conditional requests, listings) | [`StaticFiles`] | after `HttpServerCodec` |
//! | see every event of a connection in the logs | [`LoggingHandler`] | anywhere |
//!
//! "First" means next to the transport, where messages are `Bytes` in and
//! [`OutboundBuf`](seine_channel::OutboundBuf) out: the handlers' default types.
//! Handlers after them then write `OutboundBuf` (every codec's encoder does; wrap a
//! `Bytes` with `OutboundBuf::from`, O(1)): the transport itself also takes plain
//! `Bytes`, but a handler's type is one type. Those that can sit elsewhere, or
//! pass `Bytes` through, have `with_types`.
//!
//! ## Example: an echo server's idle connections closed after 30 s
//!
//! ```
//! use std::time::Duration;
//! use seine_buffer::Bytes;
//! use seine_channel::prelude::*;
//! use seine_channel::testing::EmbeddedChannel;
//! use seine_handler::{IdleStateEvent, IdleStateHandler};
//!
//! struct CloseIdle;
//! impl ChannelHandler for CloseIdle {}
//! impl InboundHandler for CloseIdle {
//!     type Read = Bytes;
//!     type Fire = Bytes;
//!     fn channel_read(&mut self, ctx: &mut InboundContext<'_, Bytes>, msg: Bytes) {
//!         ctx.write_void(msg);
//!     }
//!     fn user_event(&mut self, ctx: &mut InboundContext<'_, Bytes>, event: UserEvent) {
//!         match event.downcast::<IdleStateEvent>() {
//!             Ok(_) => ctx.close(),
//!             Err(other) => ctx.fire_user_event(other),
//!         }
//!     }
//! }
//!
//! let idle = IdleStateHandler::new().all_idle(Duration::from_secs(30));
//! let mut ch = EmbeddedChannel::with_handlers([
//!     ("idle", Handler::duplex(idle)),
//!     ("echo", Handler::inbound(CloseIdle)),
//! ]);
//! ch.advance_time(Duration::from_secs(30)).unwrap();
//! assert!(!ch.is_active());
//! ```
#![deny(missing_docs)]

pub mod chunked_input;
pub mod chunked_write;
pub mod close_mode;
pub mod error;
pub mod flow_control;
pub mod flush_consolidation;
pub mod idle_state;
pub mod logging;
mod output;
pub mod rate;
pub mod read_timeout;
pub mod static_files;
pub mod traffic_shaping;
pub mod write_timeout;

pub use chunked_input::{
    ChunkedFile, ChunkedGenerator, ChunkedInput, ChunkedStream, DEFAULT_CHUNK_SIZE,
};
pub use chunked_write::{ChunkedWrite, ChunkedWriteHandler};
pub use close_mode::CloseMode;
pub use error::HandlerError;
pub use flow_control::FlowControlHandler;
pub use flush_consolidation::FlushConsolidationHandler;
pub use idle_state::{IdleState, IdleStateEvent, IdleStateHandler};
pub use logging::{HEX_DUMP_LIMIT, Loggable, LoggingHandler, hex_dump};
pub use rate::Rate;
pub use read_timeout::ReadTimeoutHandler;
pub use static_files::{RequestReceived, Served, StaticFiles, StaticFilesBuilder};
pub use traffic_shaping::{GlobalTrafficShaper, TrafficShapingHandler};
pub use write_timeout::WriteTimeoutHandler;
