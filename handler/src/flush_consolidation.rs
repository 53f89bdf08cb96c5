//! [`FlushConsolidationHandler`]: turns many flushes into few (Netty's
//! `FlushConsolidationHandler`).
//!
//! Each flush that reaches the transport is at least one system call. A handler
//! that flushes after every response of a pipelined batch makes one per response;
//! behind this handler, flushes made during a read batch are passed on after every
//! `explicit_after`-th one and once more when the batch ends, and flushes made
//! outside a batch are passed on at once, or (with
//! [`consolidate_when_no_read`](FlushConsolidationHandler::consolidate_when_no_read))
//! once the loop comes back to the channel: a zero-delay core timer, no task.
//! A close, a writability change or the handler's removal flushes what is pending.
//!
//! ```
//! use seine_buffer::Bytes;
//! use seine_channel::testing::EmbeddedChannel;
//! use seine_channel::{
//!     ChannelHandler, Handler, InboundContext, InboundHandler, OutboundBuf,
//! };
//! use seine_handler::FlushConsolidationHandler;
//!
//! /// Answers each read and flushes it at once (a flush per message).
//! struct Eager;
//! impl ChannelHandler for Eager {}
//! impl InboundHandler for Eager {
//!     type Read = Bytes;
//!     type Fire = Bytes;
//!     fn channel_read(&mut self, ctx: &mut InboundContext<'_, Bytes>, msg: Bytes) {
//!         ctx.write_and_flush(OutboundBuf::from(msg));
//!     }
//! }
//!
//! let mut ch = EmbeddedChannel::with_handlers([
//!     ("flush", Handler::duplex(FlushConsolidationHandler::new(256))),
//!     ("eager", Handler::inbound(Eager)),
//! ]);
//! ch.write_inbound_all([Bytes::from_static(b"a"), Bytes::from_static(b"b")]).unwrap();
//! // Both answers reached the transport, with one flush at the end of the batch.
//! assert_eq!(ch.read_outbound_bytes(), b"ab");
//! ```

use std::marker::PhantomData;

use seine_buffer::Bytes;
use seine_channel::{
    ChannelHandler, Context, InboundContext, InboundHandler, OutboundBuf, OutboundContext,
    OutboundHandler, Promise,
};

const LATER: u64 = 0;

/// Consolidates flushes; see the [module docs](self). A duplex handler (it sees
/// the read batches go by) whose types default to the transport's (`Bytes` in,
/// [`OutboundBuf`] out), so it usually sits first; [`with_types`](Self::with_types)
/// places it elsewhere.
pub struct FlushConsolidationHandler<I = Bytes, W = OutboundBuf> {
    explicit_after: u32,
    consolidate_when_no_read: bool,
    /// Flushes held back.
    held: u32,
    /// Between a read and the end of its batch.
    reading: bool,
    _types: PhantomData<fn(I, W)>,
}

impl FlushConsolidationHandler {
    /// Passes on every `explicit_after`-th flush of a read batch (Netty's default is
    /// 256), and the last one when the batch ends.
    pub fn new(explicit_after: u32) -> Self {
        FlushConsolidationHandler {
            explicit_after: explicit_after.max(1),
            consolidate_when_no_read: false,
            held: 0,
            reading: false,
            _types: PhantomData,
        }
    }
}

impl<I: 'static, W: 'static> FlushConsolidationHandler<I, W> {
    /// Also holds flushes made outside a read batch until the loop comes back to
    /// the channel (several writes from a timer or a task leave together).
    pub fn consolidate_when_no_read(mut self, on: bool) -> Self {
        self.consolidate_when_no_read = on;
        self
    }

    /// The same handler for a position where it reads `I2` and accepts `W2`.
    pub fn with_types<I2: 'static, W2: 'static>(self) -> FlushConsolidationHandler<I2, W2> {
        FlushConsolidationHandler {
            explicit_after: self.explicit_after,
            consolidate_when_no_read: self.consolidate_when_no_read,
            held: self.held,
            reading: self.reading,
            _types: PhantomData,
        }
    }

    fn flush_now(&mut self, ctx: &mut Context<'_>) {
        self.held = 0;
        ctx.cancel_timer(LATER);
        ctx.flush();
    }
}

impl<I: 'static, W: 'static> ChannelHandler for FlushConsolidationHandler<I, W> {
    fn timer_fired(&mut self, ctx: &mut Context<'_>, _key: u64) {
        if self.held > 0 {
            self.flush_now(ctx);
        }
    }

    fn handler_removed(&mut self, ctx: &mut Context<'_>) {
        if self.held > 0 {
            self.flush_now(ctx);
        }
    }
}

impl<I: 'static, W: 'static> InboundHandler for FlushConsolidationHandler<I, W> {
    type Read = I;
    type Fire = I;

    fn channel_read(&mut self, ctx: &mut InboundContext<'_, I>, msg: I) {
        self.reading = true;
        ctx.fire_read(msg);
    }

    fn channel_read_complete(&mut self, ctx: &mut InboundContext<'_, I>) {
        self.reading = false;
        ctx.fire_read_complete();
        if self.held > 0 {
            self.flush_now(ctx);
        }
    }

    fn channel_writability_changed(&mut self, ctx: &mut InboundContext<'_, I>) {
        if self.held > 0 && !ctx.is_writable() {
            // The transport should drain what it was given before we hold more.
            self.flush_now(ctx);
        }
        ctx.fire_writability_changed();
    }

    fn exception_caught(&mut self, ctx: &mut InboundContext<'_, I>, error: seine_channel::Error) {
        if self.held > 0 {
            self.flush_now(ctx);
        }
        ctx.fire_exception(error);
    }
}

impl<I: 'static, W: 'static> OutboundHandler for FlushConsolidationHandler<I, W> {
    type Write = W;
    type Emit = W;

    fn write(&mut self, ctx: &mut OutboundContext<'_, W>, msg: W, promise: Promise) {
        ctx.write(msg, promise);
    }

    fn flush(&mut self, ctx: &mut OutboundContext<'_, W>) {
        self.held += 1;
        if self.held >= self.explicit_after {
            return self.flush_now(ctx);
        }
        if self.reading {
            // Passed on when the batch ends.
            return;
        }
        if self.consolidate_when_no_read {
            if ctx.timer_deadline(LATER).is_none() {
                let now = ctx.now();
                ctx.set_timer(LATER, now);
            }
            return;
        }
        self.flush_now(ctx);
    }

    fn close(&mut self, ctx: &mut OutboundContext<'_, W>) {
        if self.held > 0 {
            self.flush_now(ctx);
        }
        ctx.close();
    }
}
