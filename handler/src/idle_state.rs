//! [`IdleStateHandler`]: fires an [`IdleStateEvent`] when a channel has not read,
//! not written, or done neither for a while (Netty's `IdleStateHandler`).
//!
//! The handler only reports; the handler after it decides (close, send a ping).
//! With [`observe_output`](IdleStateHandler::observe_output), writing means the
//! transport handing bytes to the socket (by copy or `sendfile`), so a slow but
//! progressing download is not idle while a peer that reads nothing is, however
//! much is queued for it: nginx's `send_timeout`.
//!
//! Timers come from the channel core: one per kind, moved lazily (a read or write
//! only records the time), so busy channels pay no timer work per message.
//!
//! ```
//! use std::time::Duration;
//! use seine_buffer::Bytes;
//! use seine_channel::testing::EmbeddedChannel;
//! use seine_channel::{Handler};
//! use seine_handler::{IdleState, IdleStateEvent, IdleStateHandler};
//!
//! let idle = IdleStateHandler::new()
//!     .reader_idle(Duration::from_secs(30));
//! let mut ch = EmbeddedChannel::with_handlers([("idle", Handler::duplex(idle))]);
//! ch.write_inbound(Bytes::from_static(b"hi")).unwrap();
//! ch.advance_time(Duration::from_secs(29)).unwrap();
//! assert!(ch.take_user_events().is_empty());
//! ch.advance_time(Duration::from_secs(1)).unwrap();
//! let events = ch.take_user_events();
//! let ev = events[0].downcast_ref::<IdleStateEvent>().unwrap();
//! assert_eq!((ev.state, ev.first), (IdleState::ReaderIdle, true));
//! ```

use std::marker::PhantomData;
use std::time::{Duration, Instant};

use seine_buffer::Bytes;
use seine_channel::{
    ChannelHandler, Context, InboundContext, InboundHandler, OutboundBuf, OutboundContext,
    OutboundHandler, Promise,
};

use crate::output::OutputWatch;

/// Which kind of idleness an [`IdleStateEvent`] reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IdleState {
    /// Nothing was read for the reader-idle time.
    ReaderIdle,
    /// Nothing was written (or, observing output, sent) for the writer-idle time.
    WriterIdle,
    /// Neither for the all-idle time.
    AllIdle,
}

/// The user event an [`IdleStateHandler`] fires.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IdleStateEvent {
    /// What has been idle.
    pub state: IdleState,
    /// Whether this is the first event of this kind since the last activity (the
    /// handler fires again every period while idleness lasts).
    pub first: bool,
}

const READER: u64 = 0;
const WRITER: u64 = 1;
const ALL: u64 = 2;
/// Looks at the output while some is pending (observing output only).
const SAMPLE: u64 = 3;

/// One kind of idleness: its period, since when it counts, whether the next event
/// is the first.
#[derive(Clone, Copy, Debug)]
struct Watch {
    period: Duration,
    since: Instant,
    first: bool,
}

impl Watch {
    fn new(period: Duration, now: Instant) -> Self {
        Watch {
            period,
            since: now,
            first: true,
        }
    }

    fn enabled(&self) -> bool {
        !self.period.is_zero()
    }

    fn activity(&mut self, now: Instant) {
        self.since = now;
        self.first = true;
    }

    fn deadline(&self) -> Instant {
        self.since + self.period
    }
}

/// Fires [`IdleStateEvent`]s; see the [module docs](self). A duplex handler whose
/// message types default to the transport's (`Bytes` in, [`OutboundBuf`] out), so
/// it usually sits first; [`with_types`](Self::with_types) places it elsewhere.
pub struct IdleStateHandler<I = Bytes, O = OutboundBuf> {
    reader: Watch,
    writer: Watch,
    all: Watch,
    observe_output: bool,
    output: OutputWatch,
    started: bool,
    _types: PhantomData<fn(I, O)>,
}

impl<I, O> Clone for IdleStateHandler<I, O> {
    /// The same configuration (a server's initializer clones one per connection).
    fn clone(&self) -> Self {
        IdleStateHandler {
            reader: self.reader,
            writer: self.writer,
            all: self.all,
            observe_output: self.observe_output,
            output: self.output,
            started: self.started,
            _types: PhantomData,
        }
    }
}

impl IdleStateHandler {
    /// A handler with every kind of idleness off; turn on the ones you need.
    pub fn new() -> Self {
        let now = Instant::now();
        IdleStateHandler {
            reader: Watch::new(Duration::ZERO, now),
            writer: Watch::new(Duration::ZERO, now),
            all: Watch::new(Duration::ZERO, now),
            observe_output: false,
            output: OutputWatch::default(),
            started: false,
            _types: PhantomData,
        }
    }
}

impl Default for IdleStateHandler {
    fn default() -> Self {
        Self::new()
    }
}

impl<I: 'static, O: 'static> IdleStateHandler<I, O> {
    /// Fires [`IdleState::ReaderIdle`] after `period` without a read (zero: off).
    pub fn reader_idle(mut self, period: Duration) -> Self {
        self.reader.period = period;
        self
    }

    /// Fires [`IdleState::WriterIdle`] after `period` without a write (zero: off).
    pub fn writer_idle(mut self, period: Duration) -> Self {
        self.writer.period = period;
        self
    }

    /// Fires [`IdleState::AllIdle`] after `period` without a read or a write (zero:
    /// off).
    pub fn all_idle(mut self, period: Duration) -> Self {
        self.all.period = period;
        self
    }

    /// Counts as writing only what the transport hands to the socket (and a write
    /// to an empty output), not writes queued behind a peer that reads nothing.
    /// While output is pending the handler looks at it ten times per period, so an
    /// event comes at most a tenth of the period late.
    pub fn observe_output(mut self, on: bool) -> Self {
        self.observe_output = on;
        self
    }

    /// The same handler for a position where it reads `I2` and writes `O2`.
    pub fn with_types<I2: 'static, O2: 'static>(self) -> IdleStateHandler<I2, O2> {
        IdleStateHandler {
            reader: self.reader,
            writer: self.writer,
            all: self.all,
            observe_output: self.observe_output,
            output: self.output,
            started: self.started,
            _types: PhantomData,
        }
    }

    fn start(&mut self, ctx: &mut Context<'_>) {
        if self.started || !ctx.is_active() {
            return;
        }
        self.started = true;
        let now = ctx.now();
        self.output.reset(ctx);
        for (key, w) in [
            (READER, &mut self.reader),
            (WRITER, &mut self.writer),
            (ALL, &mut self.all),
        ] {
            w.activity(now);
            if w.enabled() {
                ctx.set_timer(key, w.deadline());
            }
        }
    }

    /// The sampling step while output is pending.
    fn step(&self) -> Duration {
        let p = match (self.writer.enabled(), self.all.enabled()) {
            (true, true) => self.writer.period.min(self.all.period),
            (true, false) => self.writer.period,
            (false, true) => self.all.period,
            (false, false) => return Duration::ZERO,
        };
        (p / 10).max(Duration::from_millis(1))
    }

    fn wrote(&mut self, now: Instant) {
        self.writer.activity(now);
        self.all.activity(now);
    }

    /// Looks at the output (observing it); progress is writing.
    fn sample(&mut self, ctx: &mut Context<'_>) {
        if !self.observe_output {
            return;
        }
        let now = ctx.now();
        if self.output.moved(ctx) {
            self.writer.activity(now);
            self.all.activity(now);
        }
        if ctx.pending_outbound_bytes() > 0 {
            let step = self.step();
            if !step.is_zero() {
                ctx.set_timer(SAMPLE, now + step);
            }
        }
    }

    fn check(&mut self, ctx: &mut Context<'_>, key: u64) {
        let now = ctx.now();
        let (w, state) = match key {
            READER => (&mut self.reader, IdleState::ReaderIdle),
            WRITER => (&mut self.writer, IdleState::WriterIdle),
            _ => (&mut self.all, IdleState::AllIdle),
        };
        if now < w.deadline() {
            ctx.set_timer(key, w.deadline());
            return;
        }
        let first = w.first;
        w.first = false;
        w.since = now;
        ctx.set_timer(key, w.deadline());
        ctx.fire_user_event(IdleStateEvent { state, first });
    }
}

impl<I: 'static, O: 'static> ChannelHandler for IdleStateHandler<I, O> {
    fn handler_added(&mut self, ctx: &mut Context<'_>) {
        self.start(ctx);
    }

    fn timer_fired(&mut self, ctx: &mut Context<'_>, key: u64) {
        if key == SAMPLE {
            return self.sample(ctx);
        }
        if key != READER {
            self.sample(ctx);
        }
        self.check(ctx, key);
    }
}

impl<I: 'static, O: 'static> InboundHandler for IdleStateHandler<I, O> {
    type Read = I;
    type Fire = I;

    fn channel_active(&mut self, ctx: &mut InboundContext<'_, I>) {
        self.start(ctx);
        ctx.fire_active();
    }

    fn channel_read(&mut self, ctx: &mut InboundContext<'_, I>, msg: I) {
        let now = ctx.now();
        self.reader.activity(now);
        self.all.activity(now);
        ctx.fire_read(msg);
    }
}

impl<I: 'static, O: 'static> OutboundHandler for IdleStateHandler<I, O> {
    type Write = O;
    type Emit = O;

    fn write(&mut self, ctx: &mut OutboundContext<'_, O>, msg: O, promise: Promise) {
        let now = ctx.now();
        if !self.observe_output {
            self.wrote(now);
            return ctx.write(msg, promise);
        }
        // Observing output, a write queued behind others is not progress; one that
        // starts a send is.
        if self.output.moved(ctx) || ctx.pending_outbound_bytes() == 0 {
            self.wrote(now);
        }
        ctx.write(msg, promise);
        self.output.reset(ctx);
        if ctx.timer_deadline(SAMPLE).is_none() && ctx.pending_outbound_bytes() > 0 {
            let step = self.step();
            if !step.is_zero() {
                ctx.set_timer(SAMPLE, now + step);
            }
        }
    }
}
