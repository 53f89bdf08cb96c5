//! [`EmbeddedChannel`]: a channel with no socket, for testing handlers and codecs.

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use seine_buffer::{Bytes, CompositeBuf};

use crate::channel::{Addr, Channel};
use crate::completion::Completion;
use crate::config::ChannelConfig;
use crate::core::ChannelCore;
use crate::error::Error;
use crate::handler::{Handler, UserEvent};
use crate::message::OutboundBuf;
use crate::outbound::OutboundBuffer;
use crate::pipeline::{EmbeddedSinks, HeadKind, Pipeline, SharedSinks};
use crate::transport::Transport;

/// How many bytes the embedded transport still accepts (`None`: unlimited).
type Budget = Rc<Cell<Option<usize>>>;

struct EmbeddedTransport {
    sinks: SharedSinks,
    budget: Budget,
}

impl Transport for EmbeddedTransport {
    fn flush(&mut self, out: &mut OutboundBuffer) -> Result<(), Error> {
        while out.has_flushed() {
            let len = out.front().map_or(0, OutboundBuf::len);
            match self.budget.get() {
                None => {}
                Some(0) if len > 0 => return Ok(()),
                Some(b) if b < len => {
                    let part = partial(out.front().expect("flushed entry"), b)?;
                    self.sinks
                        .borrow_mut()
                        .outbound
                        .push_back((Box::new(OutboundBuf::Bytes(part)), "OutboundBuf"));
                    out.advance(b);
                    self.budget.set(Some(0));
                    return Ok(());
                }
                Some(b) => self.budget.set(Some(b - len)),
            }
            let msg = out.pop_flushed().expect("flushed entry");
            self.sinks
                .borrow_mut()
                .outbound
                .push_back((Box::new(msg), "OutboundBuf"));
        }
        Ok(())
    }

    fn shutdown_output(&mut self) -> Result<(), Error> {
        Ok(())
    }

    fn close(&mut self) {}
}

/// The first `n` bytes of `msg`, for a transport that accepts only part of it.
fn partial(msg: &OutboundBuf, n: usize) -> Result<Bytes, Error> {
    Ok(match msg {
        OutboundBuf::Bytes(b) => b.slice(..n),
        OutboundBuf::Composite(c) => c.slice(..n).to_bytes(),
        OutboundBuf::File(f) => f.read_chunk(n)?,
    })
}

/// A channel driven by the test instead of a socket (Netty's `EmbeddedChannel`).
///
/// Write inbound messages of any type, read what reached the end of the pipeline,
/// write outbound messages, read what reached the transport. Tasks spawned by
/// handlers run on a current-thread runtime whose clock is paused: time moves only
/// with [`advance_time`](Self::advance_time).
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
    local: Rc<tokio::task::LocalSet>,
    rt: tokio::runtime::Runtime,
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
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build()
            .expect("a current-thread runtime builds");
        let local = Rc::new(tokio::task::LocalSet::new());
        let sinks: SharedSinks = Rc::new(RefCell::new(EmbeddedSinks::default()));
        let budget: Budget = Rc::new(Cell::new(None));
        let transport = EmbeddedTransport {
            sinks: sinks.clone(),
            budget: budget.clone(),
        };
        let channel = Channel::new(Addr::None, Addr::None);
        let mut core = ChannelCore::with_head(
            channel,
            Box::new(transport),
            config,
            HeadKind::Embedded(sinks.clone()),
        );
        core.inner_mut().spawner = Some(local.clone());
        EmbeddedChannel {
            core,
            sinks,
            budget,
            local,
            rt,
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
    /// tasks. Returns the first exception that reached the tail meanwhile.
    pub fn write_inbound<M: 'static>(&mut self, msg: M) -> Result<(), Error> {
        self.write_inbound_all([msg])
    }

    /// Fires each message as one read, then one `channel_read_complete`.
    pub fn write_inbound_all<M: 'static>(
        &mut self,
        msgs: impl IntoIterator<Item = M>,
    ) -> Result<(), Error> {
        self.activate();
        for m in msgs {
            self.core.fire_message(m);
        }
        self.core.fire_read_complete();
        self.run_pending_tasks();
        self.take_exception()
    }

    /// Signals end of input (the peer shut down its write side).
    pub fn close_inbound(&mut self) -> Result<(), Error> {
        self.activate();
        self.core.fire_input_closed();
        self.run_pending_tasks();
        self.take_exception()
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
        self.run_pending_tasks();
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

    /// Runs tasks spawned by handlers and work queued by `Channel` handles until
    /// none is left to run now (timers wait for [`advance_time`](Self::advance_time)).
    pub fn run_pending_tasks(&mut self) {
        self.activate();
        for _ in 0..64 {
            self.rt.block_on(self.local.run_until(async {
                for _ in 0..16 {
                    tokio::task::yield_now().await;
                }
            }));
            let queued = std::future::poll_fn(|cx| {
                std::task::Poll::Ready(self.core.poll_queued(cx).is_ready())
            });
            if !self.rt.block_on(queued) {
                break;
            }
            self.core.run_queued();
        }
    }

    /// Moves the virtual clock forward by `by`, firing due timers, and runs what
    /// they started.
    pub fn advance_time(&mut self, by: Duration) {
        self.activate();
        self.rt
            .block_on(self.local.run_until(tokio::time::advance(by)));
        self.run_pending_tasks();
    }

    /// Closes the channel (flushing first) and runs pending tasks.
    pub fn close(&mut self) {
        self.core.close();
        self.run_pending_tasks();
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
        let _rt = self.rt.enter();
        self.core.close_now(None);
    }
}
