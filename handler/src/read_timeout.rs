//! [`ReadTimeoutHandler`]: closes a channel from which nothing was read for a
//! while, reporting [`HandlerError::ReadTimedOut`] (Netty's `ReadTimeoutHandler`).
//!
//! Any read counts, however small: a peer that trickles one byte a second never
//! times out here (a protocol's own deadline, such as an HTTP header timeout, is
//! for that). The deadline is one core timer, moved lazily: a read records the
//! time, and the timer, when it fires early, sets itself to the new deadline. The
//! close comes at the deadline, to the timer's granularity.
//!
//! ```
//! use std::time::Duration;
//! use seine_buffer::Bytes;
//! use seine_channel::testing::EmbeddedChannel;
//! use seine_channel::{Handler};
//! use seine_handler::{HandlerError, ReadTimeoutHandler};
//!
//! let mut ch = EmbeddedChannel::with_handlers([(
//!     "read-timeout",
//!     Handler::duplex(ReadTimeoutHandler::new(Duration::from_secs(5))),
//! )]);
//! ch.write_inbound(Bytes::from_static(b"hi")).unwrap();
//! ch.advance_time(Duration::from_millis(4_999)).unwrap();
//! assert!(ch.is_active());
//! let err = ch.advance_time(Duration::from_millis(1)).unwrap_err();
//! assert!(matches!(err.downcast_ref(), Some(HandlerError::ReadTimedOut { .. })));
//! assert!(!ch.is_active());
//! ```

use std::marker::PhantomData;
use std::time::{Duration, Instant};

use seine_buffer::Bytes;
use seine_channel::{
    ChannelHandler, Context, InboundContext, InboundHandler, OutboundBuf, OutboundContext,
    OutboundHandler, Promise,
};

use crate::{CloseMode, HandlerError};

const DEADLINE: u64 = 0;

/// Closes the channel after a period without reads; see the [module docs](self).
/// Duplex (so that it can close with a reset) with the transport's message types
/// by default; [`with_types`](Self::with_types) places it elsewhere.
pub struct ReadTimeoutHandler<I = Bytes, O = OutboundBuf> {
    timeout: Duration,
    last_read: Option<Instant>,
    close: CloseMode,
    fired: bool,
    _types: PhantomData<fn(I, O)>,
}

impl ReadTimeoutHandler {
    /// Closes the channel once nothing was read for `timeout`.
    pub fn new(timeout: Duration) -> Self {
        ReadTimeoutHandler {
            timeout,
            last_read: None,
            close: CloseMode::Fin,
            fired: false,
            _types: PhantomData,
        }
    }
}

impl<I: 'static, O: 'static> ReadTimeoutHandler<I, O> {
    /// How the channel is closed (default [`CloseMode::Fin`]).
    pub fn close_mode(mut self, mode: CloseMode) -> Self {
        self.close = mode;
        self
    }

    /// The same handler for a position where it reads `I2` and writes `O2`.
    pub fn with_types<I2: 'static, O2: 'static>(self) -> ReadTimeoutHandler<I2, O2> {
        ReadTimeoutHandler {
            timeout: self.timeout,
            last_read: self.last_read,
            close: self.close,
            fired: self.fired,
            _types: PhantomData,
        }
    }

    fn start(&mut self, ctx: &mut Context<'_>) {
        if self.last_read.is_some() || !ctx.is_active() || self.timeout.is_zero() {
            return;
        }
        let now = ctx.now();
        self.last_read = Some(now);
        ctx.set_timer(DEADLINE, now + self.timeout);
    }
}

impl<I: 'static, O: 'static> ChannelHandler for ReadTimeoutHandler<I, O> {
    fn handler_added(&mut self, ctx: &mut Context<'_>) {
        self.start(ctx);
    }

    fn timer_fired(&mut self, ctx: &mut Context<'_>, _key: u64) {
        let Some(last) = self.last_read else { return };
        let deadline = last + self.timeout;
        if ctx.now() < deadline {
            return ctx.set_timer(DEADLINE, deadline);
        }
        if self.fired {
            return;
        }
        self.fired = true;
        tracing::debug!(timeout = ?self.timeout, "read timeout: closing the channel");
        ctx.fire_exception(HandlerError::ReadTimedOut {
            after: self.timeout,
        });
        self.close.close(ctx);
    }
}

impl<I: 'static, O: 'static> InboundHandler for ReadTimeoutHandler<I, O> {
    type Read = I;
    type Fire = I;

    fn channel_active(&mut self, ctx: &mut InboundContext<'_, I>) {
        self.start(ctx);
        ctx.fire_active();
    }

    fn channel_read(&mut self, ctx: &mut InboundContext<'_, I>, msg: I) {
        if self.last_read.is_some() {
            self.last_read = Some(ctx.now());
        }
        ctx.fire_read(msg);
    }
}

impl<I: 'static, O: 'static> OutboundHandler for ReadTimeoutHandler<I, O> {
    type Write = O;
    type Emit = O;

    fn write(&mut self, ctx: &mut OutboundContext<'_, O>, msg: O, promise: Promise) {
        ctx.write(msg, promise);
    }
}
