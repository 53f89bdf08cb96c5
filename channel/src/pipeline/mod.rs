//! The pipeline: handlers in order, stored type-erased in slots, with the head (the
//! transport's end) and the tail at fixed slots 0 and 1.
//!
//! Dispatch takes a slot's handler out while it runs. An event that reaches a slot
//! whose handler is running (a codec whose `fire_read` led the next handler to
//! write a response back through the same codec) waits in that slot's typed
//! mailbox and is delivered, in order, as soon as the running callback returns.
//! Removed slots keep pointing at their neighbours, so an event in flight finishes
//! its path; their storage is reused only once no dispatch is running.

pub(crate) mod erased;
mod structure;
mod timers;

use std::any::Any;
use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

use seine_buffer::{Bytes, CompositeBuf, FileRegion};

use crate::attr::Attributes;
use crate::channel::Channel;
use crate::completion::Completion;
use crate::config::ChannelConfig;
use crate::datagram::DatagramPacket;
use crate::error::{ChannelError, Direction, Error};
use crate::message::OutboundBuf;
use crate::outbound::OutboundBuffer;
use crate::transport::Transport;
use erased::{ErasedHandler, Event, Msg, OwnedEvent, SlotTypes, TypeInfo};

pub use structure::Pipeline;
pub(crate) use timers::{Due, TimerId, Timers};

pub(crate) const HEAD: usize = 0;
pub(crate) const TAIL: usize = 1;

/// What every hop touches, kept small and apart from the rest of a slot.
pub(crate) struct Hot {
    pub(crate) handler: Option<Box<dyn ErasedHandler>>,
    pub(crate) next_in: u32,
    pub(crate) prev_out: u32,
    /// Events waiting in the slot's mailbox.
    pub(crate) deferred: u32,
    pub(crate) removed: bool,
}

/// The rest of a slot.
pub(crate) struct Slot {
    pub(crate) name: String,
    /// Which handler holds the slot (slots are reused): work that comes back
    /// later (a blocking job's result) reaches the handler that asked, or no one.
    pub(crate) generation: u32,
    pub(crate) mailbox: Option<Box<dyn Any>>,
    pub(crate) types: SlotTypes,
}

/// What an embedded channel's ends keep for the test to inspect.
#[derive(Default)]
pub(crate) struct EmbeddedSinks {
    /// Messages written to the head (buffers once flushed; other types at once).
    pub(crate) outbound: VecDeque<(Box<dyn Any>, &'static str)>,
    /// Messages that reached the tail.
    pub(crate) inbound: VecDeque<(Box<dyn Any>, &'static str)>,
    pub(crate) user_events: VecDeque<crate::UserEvent>,
    pub(crate) exceptions: VecDeque<Error>,
}

pub(crate) type SharedSinks = Rc<RefCell<EmbeddedSinks>>;

/// What the head fires and accepts.
pub(crate) enum HeadKind {
    /// A socket: fires `Bytes`, accepts the buffer types.
    Socket,
    /// A datagram socket: fires `DatagramPacket`, accepts `DatagramPacket` (and,
    /// connected, the buffer types).
    Datagram,
    /// The test transport: fires and accepts anything; non-buffer messages are
    /// kept as they are.
    Embedded(SharedSinks),
}

#[derive(Default)]
pub(crate) struct State {
    pub(crate) active: bool,
    pub(crate) inactive_fired: bool,
    pub(crate) close_pending: bool,
    pub(crate) closed: bool,
    pub(crate) broken: bool,
    /// Close abortively (a reset), dropping unsent data.
    pub(crate) abort: bool,
    pub(crate) shutdown_pending: bool,
    pub(crate) output_shut: bool,
    pub(crate) input_closed: bool,
}

pub(crate) struct Inner {
    pub(crate) hot: Vec<Hot>,
    pub(crate) slots: Vec<Slot>,
    pub(crate) order: Vec<usize>,
    pub(crate) free: Vec<usize>,
    pub(crate) graveyard: Vec<usize>,
    pub(crate) out: OutboundBuffer,
    pub(crate) transport: Box<dyn Transport>,
    pub(crate) channel: Channel,
    pub(crate) config: ChannelConfig,
    pub(crate) attrs: Attributes,
    pub(crate) next_ticket: u64,
    pub(crate) dirty: bool,
    pub(crate) in_read_batch: bool,
    pub(crate) read_requested: bool,
    pub(crate) state: State,
    pub(crate) head: HeadKind,
    /// Handlers' timers and scheduled user events.
    pub(crate) timers: Timers,
    pub(crate) next_generation: u32,
}

fn sentinel(name: &str) -> (Hot, Slot) {
    (
        Hot {
            handler: None,
            next_in: TAIL as u32,
            prev_out: HEAD as u32,
            deferred: 0,
            removed: false,
        },
        Slot {
            name: name.to_owned(),
            generation: 0,
            mailbox: None,
            types: SlotTypes::inbound::<(), ()>(),
        },
    )
}

impl Inner {
    pub(crate) fn new(
        channel: Channel,
        transport: Box<dyn Transport>,
        config: ChannelConfig,
        head: HeadKind,
    ) -> Self {
        let mut out = OutboundBuffer::new(
            channel.shared.completions.clone(),
            config.low_water_mark,
            config.high_water_mark,
        );
        out.set_merge_below(config.merge_writes_below);
        let (head_hot, head_slot) = sentinel("head");
        let (tail_hot, tail_slot) = sentinel("tail");
        Inner {
            hot: vec![head_hot, tail_hot],
            slots: vec![head_slot, tail_slot],
            order: Vec::new(),
            free: Vec::new(),
            graveyard: Vec::new(),
            out,
            transport,
            channel,
            config,
            attrs: Attributes::default(),
            next_ticket: 0,
            dirty: false,
            in_read_batch: false,
            read_requested: false,
            state: State::default(),
            head,
            timers: Timers::default(),
            next_generation: 0,
        }
    }

    /// The type slot `idx` takes for writes, if it does not take `msg`'s (`None`:
    /// it does, or the check happens later, as at an embedded head).
    pub(crate) fn refuses_write(&self, idx: usize, msg: &erased::MsgMeta) -> Option<TypeInfo> {
        if idx == HEAD {
            let (accepted, _) = self.head_accepts();
            let ok = accepted.is_empty() || accepted.iter().any(|&a| a.type_id() == msg.type_id());
            return (!ok).then_some(match self.head {
                HeadKind::Datagram => &erased::DATAGRAM_HEAD_WRITE,
                _ => &erased::HEAD_WRITE,
            });
        }
        let want = self.slots[idx].types.write?;
        (want.type_id() != msg.type_id()).then_some(want)
    }

    /// The types the head takes for writes, and how error messages name them
    /// (empty: any type, the embedded head). One list for the pipeline's type
    /// check and for handle writes.
    pub(crate) fn head_accepts(&self) -> (smallvec::SmallVec<[TypeInfo; 5]>, &'static str) {
        use erased::meta;
        match self.head {
            HeadKind::Socket => (
                smallvec::smallvec![
                    meta::<Bytes>(),
                    meta::<CompositeBuf>(),
                    meta::<FileRegion>(),
                    meta::<OutboundBuf>(),
                ],
                "OutboundBuf (or Bytes, CompositeBuf, FileRegion)",
            ),
            HeadKind::Datagram => (
                smallvec::smallvec![
                    meta::<crate::DatagramPacket>(),
                    meta::<crate::DatagramPacket<OutboundBuf>>(),
                    meta::<Bytes>(),
                    meta::<CompositeBuf>(),
                    meta::<OutboundBuf>(),
                ],
                "DatagramPacket (or, connected, Bytes, CompositeBuf, OutboundBuf)",
            ),
            HeadKind::Embedded(_) => (smallvec::SmallVec::new(), ""),
        }
    }

    /// Spawns a task on the channel's loop, through the transport's executor.
    pub(crate) fn spawn(&self, task: crate::LocalTask) -> Result<(), ChannelError> {
        let ex = self.transport.executor().ok_or(ChannelError::NoExecutor)?;
        ex.spawn_local(task);
        Ok(())
    }

    /// Calls the handler of slot `idx` (at top level: no handler is running) with
    /// `f`; nothing if the slot was removed.
    pub(crate) fn call_slot(
        &mut self,
        idx: usize,
        f: impl FnOnce(&mut dyn ErasedHandler, &mut Inner),
    ) {
        if idx <= TAIL || idx >= self.hot.len() {
            return;
        }
        if let Some(mut h) = self.take_live(idx) {
            f(&mut *h, self);
            self.put_back(idx, h);
        }
    }

    /// Fires the timers due at `now`, earliest first: at most as many as were set
    /// when called, so a handler that sets its timer again for `now` runs once
    /// per call rather than forever.
    pub(crate) fn fire_timers(&mut self, now: std::time::Instant) {
        let mut budget = self.timers.len();
        while budget > 0 && !self.state.closed {
            budget -= 1;
            match self.timers.pop_due(now) {
                None => return,
                Some(Due::Event(ev)) => {
                    let next = self.next_in(HEAD);
                    self.invoke(next, Event::Other(OwnedEvent::UserEvent(ev)));
                }
                Some(Due::Handler { slot, key }) => {
                    self.call_slot(slot, |h, inner| h.timer(inner, slot, key));
                }
            }
        }
    }

    #[inline]
    pub(crate) fn next_in(&self, idx: usize) -> usize {
        self.hot[idx].next_in as usize
    }

    #[inline]
    pub(crate) fn prev_out(&self, idx: usize) -> usize {
        self.hot[idx].prev_out as usize
    }

    /// Something was written: flush at the end of the read batch.
    #[inline]
    pub(crate) fn mark_dirty(&mut self) {
        self.dirty = true;
    }

    /// Numbers a new write and marks the channel as having unflushed writes.
    #[inline]
    pub(crate) fn next_ticket(&mut self) -> u64 {
        self.dirty = true;
        self.next_ticket += 1;
        self.next_ticket
    }

    pub(crate) fn completion(&self, ticket: u64) -> Completion {
        Completion::ticket(self.channel.shared.completions.clone(), ticket)
    }

    pub(crate) fn resolve(&mut self, ticket: u64, result: Result<(), Error>) {
        self.channel.shared.completions.resolve(ticket, result);
    }

    /// Fails a write: its completion, or, for a void write (nobody observes it),
    /// as `exception_caught` passed on from slot `from` (Netty's void promise), so
    /// that no failure is lost silently.
    pub(crate) fn fail_write(&mut self, from: usize, promise: crate::Promise, error: Error) {
        if promise.is_void() {
            self.forward(from, Event::Other(OwnedEvent::Exception(error)));
        } else {
            self.resolve(promise.take_ticket(), Err(error));
        }
    }

    /// Passes `ev` on from slot `idx` in its direction.
    #[inline]
    pub(crate) fn forward(&mut self, idx: usize, ev: Event<'_>) {
        let target = match ev.direction() {
            Direction::Inbound => self.next_in(idx),
            Direction::Outbound => self.prev_out(idx),
        };
        self.invoke(target, ev);
    }

    /// Takes slot `idx`'s handler out to call it; `None` if the slot was removed
    /// or its handler is running (the caller then takes the slow path).
    #[inline]
    fn take_live(&mut self, idx: usize) -> Option<Box<dyn ErasedHandler>> {
        let hot = &mut self.hot[idx];
        if hot.removed {
            None
        } else {
            hot.handler.take()
        }
    }

    /// Delivers `ev` to slot `idx`.
    #[inline]
    pub(crate) fn invoke(&mut self, idx: usize, ev: Event<'_>) {
        if idx <= TAIL {
            return if idx == HEAD {
                self.head(ev)
            } else {
                self.tail(ev)
            };
        }
        match self.take_live(idx) {
            Some(mut h) => {
                h.handle(self, idx, ev);
                self.put_back(idx, h);
            }
            None => self.invoke_slow(idx, ev),
        }
    }

    /// Delivers a read to slot `idx` (the hot path of [`invoke`](Self::invoke)).
    #[inline]
    pub(crate) fn invoke_read(&mut self, idx: usize, msg: Msg<'_>) {
        if idx <= TAIL {
            return self.invoke(idx, Event::Read(msg));
        }
        match self.take_live(idx) {
            Some(mut h) => {
                h.read(self, idx, msg);
                self.put_back(idx, h);
            }
            None => self.invoke_slow(idx, Event::Read(msg)),
        }
    }

    /// Delivers a write to slot `idx` (the hot path of [`invoke`](Self::invoke)).
    #[inline]
    pub(crate) fn invoke_write(&mut self, idx: usize, msg: Msg<'_>, promise: crate::Promise) {
        if idx == HEAD {
            return self.head_write(msg, promise.take_ticket());
        }
        if idx == TAIL {
            return self.invoke(idx, Event::Write(msg, promise));
        }
        match self.take_live(idx) {
            Some(mut h) => {
                h.write(self, idx, msg, promise);
                self.put_back(idx, h);
            }
            None => self.invoke_slow(idx, Event::Write(msg, promise)),
        }
    }

    /// Puts a handler back after a callback, or finishes what queued up meanwhile.
    #[inline]
    fn put_back(&mut self, idx: usize, h: Box<dyn ErasedHandler>) {
        let hot = &mut self.hot[idx];
        if hot.deferred == 0 && !hot.removed {
            // The slot is empty while its handler runs: nothing to drop.
            let old = hot.handler.replace(h);
            debug_assert!(old.is_none());
            std::mem::forget(old);
        } else {
            self.finish_slow(idx, h);
        }
    }

    /// The slot was removed (pass the event on) or its handler is running (queue
    /// the event in its mailbox).
    #[cold]
    fn invoke_slow(&mut self, idx: usize, ev: Event<'_>) {
        if self.hot[idx].removed {
            self.forward(idx, ev)
        } else {
            self.defer(idx, ev)
        }
    }

    /// After a callback: deliver what queued up meanwhile, then put the handler
    /// back, or finish its removal.
    #[cold]
    fn finish_slow(&mut self, idx: usize, mut h: Box<dyn ErasedHandler>) {
        if self.hot[idx].deferred > 0 {
            h.drain(self, idx);
            if self.hot[idx].deferred == 0 {
                // An idle channel holds no mailbox (one is made again, once per
                // batch, when events wait for a busy handler).
                self.slots[idx].mailbox = None;
            }
        }
        if self.hot[idx].removed {
            h.removed(self, idx);
            h.forward_mailbox(self, idx);
        } else {
            self.hot[idx].handler = Some(h);
        }
    }

    fn defer(&mut self, idx: usize, ev: Event<'_>) {
        let slot = &mut self.slots[idx];
        match (slot.types.defer)(&mut slot.mailbox, ev) {
            Ok(()) => self.hot[idx].deferred += 1,
            Err(ev) => {
                let t = &slot.types;
                let expected = match &ev {
                    Event::Read(_) => t.read,
                    _ => t.write,
                };
                let expected = expected.unwrap_or_else(erased::meta::<()>);
                self.unexpected(idx, ev, expected);
            }
        }
    }

    /// Frees the storage of removed slots. Only when no handler is running (at
    /// the end of a call from the driver, or a change made from outside the
    /// pipeline): a running handler's context may still point at a removed slot.
    pub(crate) fn reclaim(&mut self) {
        while let Some(idx) = self.graveyard.pop() {
            let slot = &mut self.slots[idx];
            slot.mailbox = None;
            slot.name.clear();
            self.hot[idx].deferred = 0;
            self.free.push(idx);
        }
    }

    /// A message of the wrong type reached slot `idx`.
    pub(crate) fn unexpected(&mut self, idx: usize, ev: Event<'_>, expected: TypeInfo) {
        let handler = self.slots[idx].name.clone();
        match ev {
            Event::Read(m) => {
                tracing::warn!(
                    channel = %self.channel.id(), handler = %handler, expected = expected.name(),
                    got = m.type_name(), "inbound message of the wrong type: dropped"
                );
                let err = ChannelError::UnexpectedMessage {
                    handler,
                    expected: expected.name(),
                    got: m.type_name(),
                };
                self.forward(idx, Event::Other(OwnedEvent::Exception(err.into())));
            }
            Event::Write(m, p) => {
                tracing::warn!(
                    channel = %self.channel.id(), handler = %handler, expected = expected.name(),
                    got = m.type_name(), "write of the wrong type: failed"
                );
                let err = ChannelError::UnexpectedMessage {
                    handler,
                    expected: expected.name(),
                    got: m.type_name(),
                };
                // A void write: a pipeline wired with the wrong types must still be
                // seen, from the head as Netty's void promise fires it.
                self.fail_write(HEAD, p, err.into());
            }
            Event::Other(o) => self.forward(idx, Event::Other(o)),
        }
    }

    // ---- the head: the transport's end ----

    #[inline(never)]
    fn head(&mut self, ev: Event<'_>) {
        match ev {
            Event::Write(m, p) => self.head_write(m, p.take_ticket()),
            Event::Other(OwnedEvent::Flush) => self.head_flush(),
            Event::Other(OwnedEvent::ReadRequest) => {
                self.read_requested = true;
                self.transport.read_requested();
            }
            Event::Other(OwnedEvent::Close) => self.head_close(),
            Event::Other(OwnedEvent::ShutdownOutput) => self.head_shutdown_output(),
            // Inbound events start after the head; nothing inbound arrives here.
            Event::Read(_) | Event::Other(_) => {}
        }
    }

    fn head_write(&mut self, mut m: Msg<'_>, ticket: u64) {
        if self.state.closed || self.state.close_pending || self.state.output_shut {
            let err = if self.state.output_shut {
                ChannelError::OutputShutdown
            } else {
                ChannelError::Closed
            };
            self.resolve(ticket, Err(err.into()));
            return;
        }
        if let HeadKind::Datagram = self.head {
            self.head_write_datagram(m, ticket);
            return;
        }
        let buf = if let Some(b) = m.take::<Bytes>() {
            OutboundBuf::Bytes(b)
        } else if let Some(b) = m.take::<OutboundBuf>() {
            b
        } else if let Some(c) = m.take::<CompositeBuf>() {
            OutboundBuf::Composite(c)
        } else if let Some(f) = m.take::<FileRegion>() {
            OutboundBuf::File(f)
        } else if let HeadKind::Embedded(sinks) = &self.head {
            let name = m.type_name();
            if let Some(b) = m.take_boxed() {
                sinks.borrow_mut().outbound.push_back((b, name));
            }
            if ticket > 0 {
                self.channel.shared.completions.complete_through(ticket);
            }
            return;
        } else {
            let expected: TypeInfo = &erased::HEAD_WRITE;
            self.unexpected(HEAD, Event::Write(m, crate::Promise { ticket }), expected);
            return;
        };
        self.out.push(buf, ticket);
        self.fire_writability_changes();
    }

    /// A datagram channel's head: one entry per datagram, with its recipient.
    fn head_write_datagram(&mut self, mut m: Msg<'_>, ticket: u64) {
        let (buf, to) = if let Some(d) = m.take::<DatagramPacket>() {
            (OutboundBuf::Bytes(d.content), d.recipient)
        } else if let Some(d) = m.take::<DatagramPacket<OutboundBuf>>() {
            (d.content, d.recipient)
        } else if let Some(b) = m.take::<Bytes>() {
            (OutboundBuf::Bytes(b), None)
        } else if let Some(b) = m.take::<OutboundBuf>() {
            (b, None)
        } else if let Some(c) = m.take::<CompositeBuf>() {
            (OutboundBuf::Composite(c), None)
        } else {
            let expected: TypeInfo = &erased::DATAGRAM_HEAD_WRITE;
            self.unexpected(HEAD, Event::Write(m, crate::Promise { ticket }), expected);
            return;
        };
        if buf.is_file() {
            let err = ChannelError::UnexpectedMessage {
                handler: "head".into(),
                expected: "a datagram in memory",
                got: "FileRegion",
            };
            self.resolve(ticket, Err(err.into()));
            return;
        }
        self.out.push_datagram(buf, to, ticket);
        self.fire_writability_changes();
    }

    pub(crate) fn head_flush(&mut self) {
        self.dirty = false;
        if self.state.closed {
            return;
        }
        self.out.mark_flushed();
        self.write_out();
    }

    /// Hands flushed entries to the transport; finishes a pending shutdown or close
    /// once they are written.
    pub(crate) fn write_out(&mut self) {
        if self.state.closed || self.state.broken {
            return;
        }
        if self.out.has_flushed()
            && let Err(e) = self.transport.flush(&mut self.out)
        {
            self.fail(e);
            return;
        }
        self.fire_writability_changes();
        if !self.out.has_flushed() {
            if self.state.shutdown_pending && !self.state.output_shut {
                self.state.shutdown_pending = false;
                self.state.output_shut = true;
                if let Err(e) = self.transport.shutdown_output() {
                    tracing::debug!(channel = %self.channel.id(), error = %e, "shutdown_output failed");
                }
            }
            if self.state.close_pending {
                self.do_close(None);
            }
        }
    }

    fn head_close(&mut self) {
        if self.state.closed {
            return;
        }
        self.state.close_pending = true;
        if self.state.broken {
            return self.do_close(None);
        }
        self.out.mark_flushed();
        self.write_out();
    }

    fn head_shutdown_output(&mut self) {
        if self.state.closed || self.state.output_shut {
            return;
        }
        self.state.shutdown_pending = true;
        self.out.mark_flushed();
        self.write_out();
    }

    fn fire_writability_changes(&mut self) {
        let n = self.out.take_writability_changes();
        if n == 0 {
            return;
        }
        self.channel.set_writable(self.out.is_writable());
        for _ in 0..n {
            let next = self.next_in(HEAD);
            self.invoke(next, Event::Other(OwnedEvent::WritabilityChanged));
        }
    }

    /// The transport broke (reset, broken pipe, I/O error): report, then close
    /// without trying to flush.
    pub(crate) fn fail(&mut self, error: Error) {
        if self.state.closed {
            return;
        }
        self.state.broken = true;
        let next = self.next_in(HEAD);
        self.invoke(next, Event::Other(OwnedEvent::Exception(error.clone())));
        self.do_close(Some(error));
    }

    pub(crate) fn do_close(&mut self, cause: Option<Error>) {
        if self.state.closed {
            return;
        }
        self.state.closed = true;
        self.state.close_pending = false;
        self.timers.clear();
        let err = cause.clone().unwrap_or_else(|| ChannelError::Closed.into());
        self.out.fail_all(&err);
        self.channel.shared.completions.close(cause);
        self.channel.set_active(false);
        // Commands queued by handles after this point are refused; those still
        // queued will never run: their completions fail as the channel closed.
        drop(self.channel.shared.queue.close());
        if self.state.abort {
            self.transport.abort();
        }
        self.transport.close();
        if self.state.active && !self.state.inactive_fired {
            self.state.inactive_fired = true;
            let next = self.next_in(HEAD);
            self.invoke(next, Event::Other(OwnedEvent::Inactive));
        }
    }

    // ---- the tail: where unhandled inbound events end ----

    #[cold]
    #[inline(never)]
    fn tail(&mut self, ev: Event<'_>) {
        if let HeadKind::Embedded(sinks) = &self.head {
            match ev {
                Event::Read(mut m) => {
                    let name = m.type_name();
                    if let Some(b) = m.take_boxed() {
                        sinks.borrow_mut().inbound.push_back((b, name));
                    }
                    return;
                }
                Event::Other(OwnedEvent::UserEvent(e)) => {
                    sinks.borrow_mut().user_events.push_back(e);
                    return;
                }
                Event::Other(OwnedEvent::Exception(ref e)) => {
                    sinks.borrow_mut().exceptions.push_back(e.clone());
                }
                _ => {}
            }
        }
        match ev {
            Event::Read(m) => {
                tracing::warn!(
                    channel = %self.channel.id(), message = m.type_name(),
                    "a message reached the tail of the pipeline unhandled: dropped \
                     (add a handler that consumes it)"
                );
            }
            Event::Other(OwnedEvent::Exception(e)) => {
                if e.is_connection_reset() {
                    tracing::debug!(channel = %self.channel.id(), error = %e, "peer went away");
                } else {
                    tracing::warn!(
                        channel = %self.channel.id(), error = %e,
                        "an exception reached the tail of the pipeline unhandled"
                    );
                }
                if self.config.close_on_exception {
                    let prev = self.prev_out(TAIL);
                    self.invoke(prev, Event::Other(OwnedEvent::Close));
                }
            }
            Event::Other(OwnedEvent::UserEvent(_)) => {
                tracing::trace!(channel = %self.channel.id(), "user event reached the tail");
            }
            Event::Write(m, p) => {
                // Outbound events never target the tail; keep the promise honest.
                let err = ChannelError::UnexpectedMessage {
                    handler: "tail".into(),
                    expected: "nothing",
                    got: m.type_name(),
                };
                self.resolve(p.take_ticket(), Err(err.into()));
            }
            Event::Other(_) => {}
        }
    }
}
