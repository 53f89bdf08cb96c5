//! [`WriteTimeoutHandler`]: closes a channel when a write is not fully written
//! within a time, reporting [`HandlerError::WriteTimedOut`] (Netty's
//! `WriteTimeoutHandler`).
//!
//! Every write gets its own deadline, counted from when it passed through; the
//! oldest unfinished one is watched with one core timer that fires exactly at its
//! deadline. "Written" means handed to the socket: the handler sits next to the
//! transport (first in the pipeline) and compares the bytes it passed on with what
//! the outbound buffer still holds, so a `FileRegion` sent by `sendfile` counts as
//! it goes. On timeout the channel is closed without flushing ([`CloseMode::Fin`])
//! or with a reset ([`CloseMode::Reset`]); the pending writes' completions fail.
//!
//! For a *send* timeout that tolerates slow but progressing transfers (nginx's
//! `send_timeout`), use an [`IdleStateHandler`](crate::IdleStateHandler) observing
//! output instead: a 1 GiB response needs longer than any sane write timeout.
//!
//! ```
//! use std::time::Duration;
//! use seine_buffer::Bytes;
//! use seine_channel::testing::EmbeddedChannel;
//! use seine_channel::{Handler, OutboundBuf};
//! use seine_handler::{HandlerError, WriteTimeoutHandler};
//!
//! let mut ch = EmbeddedChannel::with_handlers([(
//!     "write-timeout",
//!     Handler::outbound(WriteTimeoutHandler::new(Duration::from_secs(5))),
//! )]);
//! ch.set_transport_budget(Some(0)); // the peer reads nothing
//! let done = ch.write_outbound(OutboundBuf::from(Bytes::from_static(b"stuck")));
//! let err = ch.advance_time(Duration::from_secs(5)).unwrap_err();
//! assert!(matches!(err.downcast_ref(), Some(HandlerError::WriteTimedOut { .. })));
//! assert!(matches!(done.result(), Some(Err(_))));
//! ```

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use seine_channel::{
    ChannelHandler, Context, OutboundBuf, OutboundContext, OutboundHandler, Promise,
};

use crate::{CloseMode, HandlerError};

const DEADLINE: u64 = 0;

/// Fails writes not written in time and closes; see the [module docs](self).
pub struct WriteTimeoutHandler {
    timeout: Duration,
    close: CloseMode,
    /// Bytes passed on so far.
    accepted: u64,
    /// Unfinished writes: deadline, and `accepted` once the write is done.
    writes: VecDeque<(Instant, u64)>,
    fired: bool,
}

impl WriteTimeoutHandler {
    /// Closes the channel when a write is not written within `timeout`.
    pub fn new(timeout: Duration) -> Self {
        WriteTimeoutHandler {
            timeout,
            close: CloseMode::Fin,
            accepted: 0,
            writes: VecDeque::new(),
            fired: false,
        }
    }

    /// How the channel is closed (default [`CloseMode::Fin`]).
    pub fn close_mode(mut self, mode: CloseMode) -> Self {
        self.close = mode;
        self
    }

    /// Bytes handed to the socket (of those passed through here).
    fn done(&self, ctx: &Context<'_>) -> u64 {
        self.accepted.saturating_sub(ctx.pending_outbound_bytes())
    }
}

impl ChannelHandler for WriteTimeoutHandler {
    fn timer_fired(&mut self, ctx: &mut Context<'_>, _key: u64) {
        let done = self.done(ctx);
        while self.writes.front().is_some_and(|&(_, end)| end <= done) {
            self.writes.pop_front();
        }
        let Some(&(deadline, _)) = self.writes.front() else {
            return;
        };
        if ctx.now() < deadline {
            return ctx.set_timer(DEADLINE, deadline);
        }
        if self.fired || ctx.is_closing() && !ctx.is_active() {
            return;
        }
        self.fired = true;
        self.writes.clear();
        tracing::debug!(timeout = ?self.timeout, "write timeout: closing the channel");
        ctx.fire_exception(HandlerError::WriteTimedOut {
            after: self.timeout,
        });
        self.close.close(ctx);
    }
}

impl OutboundHandler for WriteTimeoutHandler {
    type Write = OutboundBuf;
    type Emit = OutboundBuf;

    fn write(
        &mut self,
        ctx: &mut OutboundContext<'_, OutboundBuf>,
        msg: OutboundBuf,
        promise: Promise,
    ) {
        if self.timeout.is_zero() {
            return ctx.write(msg, promise);
        }
        self.accepted += msg.len() as u64;
        let deadline = ctx.now() + self.timeout;
        if self.writes.is_empty() {
            ctx.set_timer(DEADLINE, deadline);
        }
        self.writes.push_back((deadline, self.accepted));
        ctx.write(msg, promise);
    }
}
