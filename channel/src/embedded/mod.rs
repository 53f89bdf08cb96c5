//! [`EmbeddedChannel`]: a channel with no socket, for testing handlers and codecs.

mod executor;
mod transport;

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::task::{Context as TaskContext, Waker};
use std::time::{Duration, Instant};

use seine_buffer::{Bytes, CompositeBuf};

use crate::channel::{Addr, Channel};
use crate::completion::Completion;
use crate::config::ChannelConfig;
use crate::core::ChannelCore;
use crate::error::Error;
use crate::handler::{Handler, UserEvent};
use crate::message::OutboundBuf;
use crate::pipeline::{EmbeddedSinks, HeadKind, Pipeline, SharedSinks};
use executor::LocalExecutor;
use transport::{Budget, EmbeddedTransport};

/// A channel driven by the test instead of a socket (Netty's `EmbeddedChannel`).
///
/// Write inbound messages of any type, read what reached the end of the pipeline,
/// write outbound messages, read what reached the transport.
///
/// **Time is virtual.** The channel has its own clock: it starts at the real time
/// of construction and moves only with [`advance_time`](Self::advance_time), which
/// fires due timers in deadline order, each callback seeing
/// [`Context::now`](crate::Context::now) at that timer's deadline. Tasks spawned by
/// handlers ([`Context::spawn`](crate::Context::spawn)) and blocking jobs
/// ([`Context::spawn_blocking`](crate::Context::spawn_blocking)) run on the test's
/// thread in [`run_pending_tasks`](Self::run_pending_tasks) (which every call that
/// drives the pipeline ends with). No runtime is involved: a task awaiting a tokio
/// timer or socket never completes here.
///
/// **Errors.** An exception that reaches the tail is returned by the call during
/// which it happened: [`write_inbound`](Self::write_inbound),
/// [`write_inbound_all`](Self::write_inbound_all), [`close_inbound`](Self::close_inbound),
/// [`advance_time`](Self::advance_time) and
/// [`run_pending_tasks`](Self::run_pending_tasks) return the first one as `Err`
/// (later ones of the same call stay queued). Calls that return something else (a
/// write's [`Completion`], which reports that write's own outcome) leave exceptions
/// queued for [`take_exception`](Self::take_exception), which returns the oldest.
///
/// The channel becomes active on first use (the first write, task run or
/// [`activate`](Self::activate)), so handlers added before see `channel_active`.
///
/// ```
/// use seine_channel::testing::EmbeddedChannel;
/// use seine_buffer::Bytes;
///
/// let mut ch = EmbeddedChannel::new();
/// // No handlers: inbound messages reach the tail, outbound ones the transport.
/// ch.write_inbound(Bytes::from_static(b"ping")).unwrap();
/// assert_eq!(ch.read_inbound::<Bytes>().unwrap(), "ping");
/// let done = ch.write_outbound(Bytes::from_static(b"pong"));
/// assert!(matches!(done.result(), Some(Ok(()))));
/// assert_eq!(ch.read_outbound::<Bytes>().unwrap(), "pong");
/// ```
pub struct EmbeddedChannel {
    core: ChannelCore,
    sinks: SharedSinks,
    budget: Budget,
    clock: Rc<Cell<Instant>>,
    executor: LocalExecutor,
}

impl Default for EmbeddedChannel {
    fn default() -> Self {
        Self::new()
    }
}

impl EmbeddedChannel {
    /// An embedded channel with default options and no handlers.
    pub fn new() -> Self {
        Self::with_config(ChannelConfig::default())
    }

    /// An embedded channel with `config`.
    pub fn with_config(config: ChannelConfig) -> Self {
        let sinks: SharedSinks = Rc::new(RefCell::new(EmbeddedSinks::default()));
        let budget: Budget = Rc::new(Cell::new(None));
        let clock = Rc::new(Cell::new(Instant::now()));
        let executor = LocalExecutor::default();
        let transport = EmbeddedTransport {
            sinks: sinks.clone(),
            budget: budget.clone(),
            clock: clock.clone(),
            executor: executor.clone(),
        };
        let channel = Channel::new(Addr::None, Addr::None);
        let core = ChannelCore::with_head(
            channel,
            Box::new(transport),
            config,
            HeadKind::Embedded(sinks.clone()),
        );
        EmbeddedChannel {
            core,
            sinks,
            budget,
            clock,
            executor,
        }
    }

    /// An embedded channel with `handlers` added in order, then activated.
    ///
    /// # Panics
    /// If the handlers' types do not fit together (the message says where).
    pub fn with_handlers<'n>(handlers: impl IntoIterator<Item = (&'n str, Handler)>) -> Self {
        let mut ch = Self::new();
        for (name, h) in handlers {
            if let Err(e) = ch.pipeline().add_last(name, h) {
                panic!("EmbeddedChannel::with_handlers: {e}");
            }
        }
        ch.activate();
        ch
    }

    /// The pipeline, to add or change handlers.
    pub fn pipeline(&mut self) -> Pipeline<'_> {
        self.core.pipeline()
    }

    /// The channel's handle.
    pub fn channel(&self) -> &Channel {
        self.core.channel()
    }

    /// The channel's core (for tests of driver behaviour).
    pub fn core(&mut self) -> &mut ChannelCore {
        &mut self.core
    }

    /// Fires `channel_active` if it has not been fired.
    pub fn activate(&mut self) {
        self.core.fire_active();
    }

    /// Whether the channel is active (not closed).
    pub fn is_active(&self) -> bool {
        self.core.channel().is_active()
    }

    /// Whether the outbound buffer is below its high water mark.
    pub fn is_writable(&self) -> bool {
        self.core.outbound().is_writable()
    }

    /// Fires `msg` as one read, then `channel_read_complete`, then runs pending
    /// tasks. Returns the first exception that reached the tail during this call.
    pub fn write_inbound<M: 'static>(&mut self, msg: M) -> Result<(), Error> {
        self.write_inbound_all([msg])
    }

    /// Fires each message as one read, then one `channel_read_complete`.
    pub fn write_inbound_all<M: 'static>(
        &mut self,
        msgs: impl IntoIterator<Item = M>,
    ) -> Result<(), Error> {
        self.raised_during(|ch| {
            ch.activate();
            for m in msgs {
                ch.core.fire_message(m);
            }
            ch.core.fire_read_complete();
            ch.run_tasks();
        })
    }

    /// Signals end of input (the peer shut down its write side). Returns the first
    /// exception that reached the tail meanwhile.
    pub fn close_inbound(&mut self) -> Result<(), Error> {
        self.raised_during(|ch| {
            ch.activate();
            ch.core.fire_input_closed();
            ch.run_tasks();
        })
    }

    /// Runs `f`, then returns the first exception that reached the tail during it
    /// (taken), leaving earlier and later ones queued.
    fn raised_during(&mut self, f: impl FnOnce(&mut Self)) -> Result<(), Error> {
        let before = self.sinks.borrow().exceptions.len();
        f(self);
        let mut sinks = self.sinks.borrow_mut();
        match sinks.exceptions.remove(before) {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// Removes and returns the next message that reached the end of the pipeline.
    ///
    /// # Panics
    /// If that message is not a `T` (the message names both types).
    pub fn read_inbound<T: 'static>(&mut self) -> Option<T> {
        let (b, name) = self.sinks.borrow_mut().inbound.pop_front()?;
        match b.downcast::<T>() {
            Ok(t) => Some(*t),
            Err(_) => panic!(
                "the next inbound message is a `{name}`, not a `{}`",
                std::any::type_name::<T>()
            ),
        }
    }

    /// How many inbound messages wait to be read.
    pub fn inbound_len(&self) -> usize {
        self.sinks.borrow().inbound.len()
    }

    /// Writes `msg` from the tail through every outbound handler and flushes.
    pub fn write_outbound<M: 'static>(&mut self, msg: M) -> Completion {
        self.activate();
        let c = self.core.write(msg);
        self.core.flush();
        self.run_tasks();
        c
    }

    /// Writes `msg` from the tail without flushing.
    pub fn write_outbound_unflushed<M: 'static>(&mut self, msg: M) -> Completion {
        self.activate();
        self.core.write(msg)
    }

    /// Flushes from the tail.
    pub fn flush(&mut self) {
        self.core.flush();
    }

    /// Removes and returns the next message that reached the transport. Buffers
    /// can be read as `OutboundBuf`, `Bytes` (a composite is copied into one, a file
    /// region read) or `CompositeBuf`; other types as written.
    ///
    /// # Panics
    /// If the message cannot be read as a `T`.
    pub fn read_outbound<T: 'static>(&mut self) -> Option<T> {
        let (b, name) = self.sinks.borrow_mut().outbound.pop_front()?;
        let b = match b.downcast::<T>() {
            Ok(t) => return Some(*t),
            Err(b) => b,
        };
        let wanted = std::any::type_name::<T>();
        let Ok(buf) = b.downcast::<OutboundBuf>() else {
            panic!("the next outbound message is a `{name}`, not a `{wanted}`");
        };
        let converted: Box<dyn Any> = match *buf {
            OutboundBuf::Bytes(b) if is::<T, CompositeBuf>() => Box::new(CompositeBuf::from(b)),
            OutboundBuf::Bytes(b) => Box::new(b),
            OutboundBuf::Composite(c) if is::<T, Bytes>() => Box::new(c.to_bytes()),
            OutboundBuf::Composite(c) => Box::new(c),
            OutboundBuf::File(f) => {
                let mut all = Vec::new();
                for chunk in f.pread_chunks(64 * 1024) {
                    match chunk {
                        Ok(c) => all.extend_from_slice(&c),
                        Err(e) => panic!("reading the written file region failed: {e}"),
                    }
                }
                Box::new(Bytes::from(all))
            }
        };
        match converted.downcast::<T>() {
            Ok(t) => Some(*t),
            Err(_) => panic!("the next outbound message is a buffer, not a `{wanted}`"),
        }
    }

    /// Every buffer that reached the transport so far, concatenated (copies).
    pub fn read_outbound_bytes(&mut self) -> Vec<u8> {
        let mut all = Vec::new();
        while self.outbound_len() > 0 {
            let front_is_buf = self
                .sinks
                .borrow()
                .outbound
                .front()
                .is_some_and(|(b, _)| b.is::<OutboundBuf>());
            if !front_is_buf {
                break;
            }
            if let Some(b) = self.read_outbound::<Bytes>() {
                all.extend_from_slice(&b);
            }
        }
        all
    }

    /// How many outbound messages wait to be read.
    pub fn outbound_len(&self) -> usize {
        self.sinks.borrow().outbound.len()
    }

    /// Limits what the transport accepts from now on to `bytes` more (`None`:
    /// everything). With `Some(0)` writes pile up in the outbound buffer, which
    /// is how water marks are tested.
    pub fn set_transport_budget(&mut self, bytes: Option<usize>) {
        self.budget.set(bytes);
        self.core.write_pending();
    }

    /// User events that reached the tail, oldest first (taken).
    pub fn take_user_events(&mut self) -> Vec<UserEvent> {
        self.sinks.borrow_mut().user_events.drain(..).collect()
    }

    /// The first exception that reached the tail and was not yet taken, as `Err`.
    pub fn take_exception(&mut self) -> Result<(), Error> {
        match self.sinks.borrow_mut().exceptions.pop_front() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// Runs tasks spawned by handlers, blocking jobs and work queued by `Channel`
    /// handles until none is left to run now (timers wait for
    /// [`advance_time`](Self::advance_time)). Returns the first exception that
    /// reached the tail during this call.
    pub fn run_pending_tasks(&mut self) -> Result<(), Error> {
        self.raised_during(Self::run_tasks)
    }

    fn run_tasks(&mut self) {
        self.activate();
        let mut cx = TaskContext::from_waker(Waker::noop());
        loop {
            let ran = self.executor.run_ready();
            let queued = self.core.poll_queued(&mut cx).is_ready();
            if queued {
                self.core.run_queued();
            }
            if !ran && !queued {
                return;
            }
        }
    }

    /// Tasks spawned by handlers that have not finished.
    pub fn pending_tasks(&self) -> usize {
        self.executor.live_tasks()
    }

    /// The channel's virtual time.
    pub fn now(&self) -> Instant {
        self.clock.get()
    }

    /// Moves the virtual clock forward by `by`, firing the timers that fall due, in
    /// deadline order; each timer's callback sees the clock at its deadline, and
    /// what it started runs before the next one fires. Returns the first exception
    /// that reached the tail during this call.
    pub fn advance_time(&mut self, by: Duration) -> Result<(), Error> {
        self.raised_during(|ch| {
            ch.activate();
            let end = ch.clock.get() + by;
            while let Some(at) = ch.core.next_timeout().filter(|&at| at <= end) {
                if at > ch.clock.get() {
                    ch.clock.set(at);
                }
                let now = ch.clock.get();
                ch.core.handle_timeout(now);
                ch.run_tasks();
            }
            ch.clock.set(end);
            ch.run_tasks();
        })
    }

    /// Closes the channel (flushing first) and runs pending tasks.
    pub fn close(&mut self) {
        self.core.close();
        self.run_tasks();
    }

    /// Closes the channel; returns whether unread inbound or outbound messages are
    /// left (Netty's `finish`).
    pub fn finish(&mut self) -> bool {
        self.close();
        self.inbound_len() > 0 || self.outbound_len() > 0
    }
}

fn is<T: 'static, U: 'static>() -> bool {
    std::any::TypeId::of::<T>() == std::any::TypeId::of::<U>()
}

impl Drop for EmbeddedChannel {
    fn drop(&mut self) {
        self.core.close_now(None);
    }
}
