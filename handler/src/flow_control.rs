//! [`FlowControlHandler`]: with auto-read off, holds decoded messages and releases
//! one per `read()` demand (Netty's `FlowControlHandler`).
//!
//! A decoder turns one read of the socket into as many messages as it holds: one
//! 64 KiB read can carry five thousand pipelined HTTP requests. Turning auto-read
//! off stops further reads, not the messages of the read in hand. Placed after the
//! decoder, this handler queues them and passes one on per [`Context::read`] from
//! the handlers after it; with its queue empty, a `read()` goes on to the transport.
//! A handler that asks for the next message only when it can take it (writable,
//! fewer than N requests in flight) then bounds its work whatever arrives at once.
//!
//! **Releases are never nested in the decode.** Writes made while a codec is
//! decoding reach the outbound buffer only when it returns, so writability seen
//! there is stale. A `read()` made during a read batch is therefore answered after
//! the batch, from a core timer due at once (timers fire with no handler on the
//! stack; no task, no allocation), when the previous response already counts.
//! Releases asked for outside a batch are made at once.
//!
//! With auto-read on, messages pass straight through.
//!
//! ```
//! use seine_channel::testing::EmbeddedChannel;
//! use seine_channel::{ChannelConfig, Handler};
//! use seine_handler::FlowControlHandler;
//!
//! let config = ChannelConfig { auto_read: false, ..ChannelConfig::default() };
//! let mut ch = EmbeddedChannel::with_config(config);
//! ch.pipeline()
//!     .add_last("flow", Handler::duplex(FlowControlHandler::<u32, u32>::new()))
//!     .unwrap();
//! ch.write_inbound_all([1u32, 2, 3]).unwrap();
//! assert_eq!(ch.inbound_len(), 0); // held: nobody asked
//! ch.channel().read(); // a read() from the tail, run by the channel's queue
//! ch.run_pending_tasks().unwrap();
//! assert_eq!(ch.read_inbound::<u32>(), Some(1));
//! assert_eq!(ch.inbound_len(), 0);
//! ```

use std::collections::VecDeque;
use std::marker::PhantomData;

use seine_channel::{
    ChannelHandler, Context, InboundContext, InboundHandler, OutboundContext, OutboundHandler,
    Promise,
};

/// Holds messages of type `M` until asked for them; writes of type `W` pass
/// through. See the [module docs](self).
pub struct FlowControlHandler<M, W = M> {
    queue: VecDeque<M>,
    /// A `read()` found the queue empty: the next message goes straight on.
    demand: bool,
    /// Between a message from upstream and the end of its read batch.
    in_batch: bool,
    /// Releases asked for during a batch, owed once it ends.
    owed: u32,
    _write: PhantomData<fn(W)>,
}

impl<M: 'static, W: 'static> FlowControlHandler<M, W> {
    /// An empty handler.
    pub fn new() -> Self {
        FlowControlHandler {
            queue: VecDeque::new(),
            demand: false,
            in_batch: false,
            owed: 0,
            _write: PhantomData,
        }
    }

    /// Messages held now.
    pub fn held(&self) -> usize {
        self.queue.len()
    }

    /// Passes the oldest held message on, or asks the transport for more.
    fn release(&mut self, ctx: &mut Context<'_>) {
        match self.queue.pop_front() {
            Some(msg) => ctx.fire_message(msg),
            None => {
                self.demand = true;
                ctx.read();
            }
        }
    }

    /// Releases what is owed once the batch is over: a core timer due now fires
    /// when the loop next turns, with no handler on the stack, so the release is
    /// not nested in any decode (no task, no allocation).
    fn schedule(&mut self, ctx: &mut Context<'_>) {
        if ctx.timer_deadline(RELEASE).is_none() {
            let now = ctx.now();
            ctx.set_timer(RELEASE, now);
        }
    }
}

/// The key of the release timer.
const RELEASE: u64 = 0;

impl<M: 'static, W: 'static> Default for FlowControlHandler<M, W> {
    fn default() -> Self {
        Self::new()
    }
}

impl<M: 'static, W: 'static> ChannelHandler for FlowControlHandler<M, W> {
    fn timer_fired(&mut self, ctx: &mut Context<'_>, _key: u64) {
        // Timers fire between read batches.
        self.in_batch = false;
        if self.owed > 0 {
            self.owed -= 1;
            self.release(ctx);
        }
        if self.owed > 0 {
            self.schedule(ctx);
        }
    }

    fn handler_removed(&mut self, ctx: &mut Context<'_>) {
        // What was held is passed on, as Netty's handler does.
        while let Some(msg) = self.queue.pop_front() {
            ctx.fire_message(msg);
        }
    }
}

impl<M: 'static, W: 'static> InboundHandler for FlowControlHandler<M, W> {
    type Read = M;
    type Fire = M;

    fn channel_read(&mut self, ctx: &mut InboundContext<'_, M>, msg: M) {
        self.in_batch = true;
        if self.demand && self.queue.is_empty() {
            self.demand = false;
            return ctx.fire_read(msg);
        }
        if ctx.is_auto_read() && self.queue.is_empty() {
            return ctx.fire_read(msg);
        }
        self.queue.push_back(msg);
        if ctx.is_auto_read() {
            while let Some(m) = self.queue.pop_front() {
                ctx.fire_read(m);
            }
        }
    }

    fn channel_read_complete(&mut self, ctx: &mut InboundContext<'_, M>) {
        self.in_batch = false;
        if self.demand && !ctx.is_auto_read() {
            // Asked for a message and the batch brought none (half a request):
            // read on, as Netty's decoders do with auto-read off.
            ctx.read();
        }
        ctx.fire_read_complete();
    }

    fn channel_inactive(&mut self, ctx: &mut InboundContext<'_, M>) {
        self.queue.clear();
        self.owed = 0;
        ctx.fire_inactive();
    }
}

impl<M: 'static, W: 'static> OutboundHandler for FlowControlHandler<M, W> {
    type Write = W;
    type Emit = W;

    fn write(&mut self, ctx: &mut OutboundContext<'_, W>, msg: W, promise: Promise) {
        ctx.write(msg, promise);
    }

    fn read(&mut self, ctx: &mut OutboundContext<'_, W>) {
        if self.in_batch {
            // The decoder may still be firing this batch's messages (and holding
            // the writes made for them): answer once it has finished.
            self.owed += 1;
            return self.schedule(ctx);
        }
        self.release(ctx);
    }
}
