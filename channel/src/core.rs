//! [`ChannelCore`]: one channel on its event loop — the pipeline, the outbound
//! buffer and the transport — and the calls a driver makes into it.

use std::collections::VecDeque;
use std::task::{Context as TaskContext, Poll};
use std::time::Instant;

use seine_buffer::Bytes;

use crate::channel::{Channel, Command};
use crate::config::ChannelConfig;
use crate::error::{ChannelError, Error};
use crate::handler::UserEvent;
use crate::outbound::OutboundBuffer;
use crate::pipeline::erased::{Event, Msg, OwnedEvent};
use crate::pipeline::{HEAD, HeadKind, Inner, Pipeline, TAIL};
use crate::transport::Transport;

/// One channel as its event loop sees it. Transports (and
/// [`EmbeddedChannel`](crate::testing::EmbeddedChannel)) own one per connection and drive it; see the
/// [`transport`](crate::transport) module for the order of calls.
///
/// Every call that starts outside the pipeline (all `fire_*` but
/// [`fire_read`](Self::fire_read), [`run_queued`](Self::run_queued),
/// [`close`](Self::close)) flushes what handlers wrote during it, unless a read
/// batch is open; a read batch's writes are flushed by
/// [`fire_read_complete`](Self::fire_read_complete).
pub struct ChannelCore {
    inner: Inner,
    commands: VecDeque<Command>,
}

impl ChannelCore {
    /// A channel with a socket head: fires `Bytes`, accepts buffers.
    pub fn new(channel: Channel, transport: Box<dyn Transport>, config: ChannelConfig) -> Self {
        Self::with_head(channel, transport, config, HeadKind::Socket)
    }

    /// A channel with a datagram head: fires [`DatagramPacket`](crate::DatagramPacket)
    /// (read with [`fire_datagram`](Self::fire_datagram)), accepts `DatagramPacket`s
    /// (and buffers, for a connected socket); its outbound buffer is in datagram
    /// mode (water marks count datagrams).
    pub fn new_datagram(
        channel: Channel,
        transport: Box<dyn Transport>,
        config: ChannelConfig,
    ) -> Self {
        let mut core = Self::with_head(channel, transport, config, HeadKind::Datagram);
        core.inner.out.set_datagram_mode();
        core
    }

    pub(crate) fn with_head(
        channel: Channel,
        transport: Box<dyn Transport>,
        config: ChannelConfig,
        head: HeadKind,
    ) -> Self {
        ChannelCore {
            inner: Inner::new(channel, transport, config, head),
            commands: VecDeque::new(),
        }
    }

    /// The channel's handle.
    pub fn channel(&self) -> &Channel {
        &self.inner.channel
    }

    /// The channel's options.
    pub fn config(&self) -> &ChannelConfig {
        &self.inner.config
    }

    /// The pipeline, to add or change handlers.
    pub fn pipeline(&mut self) -> Pipeline<'_> {
        Pipeline::top(&mut self.inner)
    }

    /// The outbound buffer.
    pub fn outbound(&self) -> &OutboundBuffer {
        &self.inner.out
    }

    /// Whether the channel has closed.
    pub fn is_closed(&self) -> bool {
        self.inner.life.is_closed()
    }

    /// Whether the driver should read: open, input not ended, auto-read on or a
    /// read requested, and (unless disabled) the channel writable, so that a peer
    /// that does not read what it asked for stops being read from
    /// ([`ChannelConfig::pause_reads_when_unwritable`]).
    pub fn wants_read(&self) -> bool {
        let life = &self.inner.life;
        !life.is_closing()
            && !life.input_ended()
            && (self.inner.config.auto_read || self.inner.read_requested)
            && (self.inner.out.is_writable() || !self.inner.config.pause_reads_when_unwritable)
    }

    /// Whether flushed data waits for the socket to become writable.
    pub fn wants_write(&self) -> bool {
        !self.inner.life.is_closed() && self.inner.out.has_flushed()
    }

    /// The channel is connected: fires `channel_active`.
    pub fn fire_active(&mut self) {
        if !self.inner.life.activate() {
            return;
        }
        self.inner.channel.set_active(true);
        self.fire_from_head(OwnedEvent::Active);
        self.end_top();
    }

    /// One read's bytes (a batch continues until
    /// [`fire_read_complete`](Self::fire_read_complete)).
    #[inline]
    pub fn fire_read(&mut self, bytes: Bytes) {
        if self.inner.life.is_closed() {
            return;
        }
        self.inner.in_read_batch = true;
        let mut slot = Some(bytes);
        let next = self.inner.next_in(HEAD);
        self.inner.invoke_read(next, Msg::new(&mut slot));
    }

    /// One datagram received (a datagram channel's read; the batch continues
    /// until [`fire_read_complete`](Self::fire_read_complete)).
    #[inline]
    pub fn fire_datagram(&mut self, packet: crate::DatagramPacket) {
        self.fire_message(packet);
    }

    /// Fires any message from the head (the embedded channel's `write_inbound`).
    pub(crate) fn fire_message<M: 'static>(&mut self, msg: M) {
        if self.inner.life.is_closed() {
            return;
        }
        self.inner.in_read_batch = true;
        let mut slot = Some(msg);
        let next = self.inner.next_in(HEAD);
        self.inner.invoke_read(next, Msg::new(&mut slot));
    }

    /// The end of a batch of reads: fires `channel_read_complete`, then flushes
    /// what the batch wrote (through the outbound handlers).
    pub fn fire_read_complete(&mut self) {
        self.inner.in_read_batch = false;
        self.inner.read_requested = false;
        if !self.inner.life.is_closed() {
            self.fire_from_head(OwnedEvent::ReadComplete);
        }
        self.end_top();
    }

    /// The peer shut down its write side: fires `input_closed`; then, unless
    /// half-closure is allowed, closes (after flushing).
    pub fn fire_input_closed(&mut self) {
        if !self.inner.life.end_input() {
            return;
        }
        self.inner.in_read_batch = false;
        self.fire_from_head(OwnedEvent::InputClosed);
        if !self.inner.config.allow_half_closure {
            self.close_from_tail();
        }
        self.end_top();
    }

    /// Fires `exception_caught` from the head.
    pub fn fire_exception(&mut self, error: impl Into<Error>) {
        self.fire_from_head(OwnedEvent::Exception(error.into()));
        self.end_top();
    }

    /// Fires a user event from the head.
    pub fn fire_user_event(&mut self, event: UserEvent) {
        self.fire_from_head(OwnedEvent::UserEvent(event));
        self.end_top();
    }

    /// The socket is writable again: writes more of the flushed entries.
    pub fn write_pending(&mut self) {
        self.inner.write_out();
        self.end_top();
    }

    /// The transport failed (read or write error, reset): fires `exception_caught`
    /// and closes without flushing.
    pub fn fail(&mut self, error: impl Into<Error>) {
        self.inner.fail(error.into());
        self.end_top();
    }

    /// Closes from the tail (through every outbound handler), flushing first.
    pub fn close(&mut self) {
        self.close_from_tail();
        self.end_top();
    }

    /// Closes at once without flushing (a deadline passed): pending writes fail.
    pub fn close_now(&mut self, cause: Option<Error>) {
        self.inner.life.drop_unsent();
        self.inner.do_close(cause);
    }

    /// Ready when `Channel` handles queued work; run it with
    /// [`run_queued`](Self::run_queued).
    pub fn poll_queued(&self, cx: &mut TaskContext<'_>) -> Poll<()> {
        self.inner.channel.shared.queue.poll(cx)
    }

    /// Runs the work `Channel` handles queued, in order, then flushes what it wrote.
    pub fn run_queued(&mut self) {
        let mut cmds = std::mem::take(&mut self.commands);
        self.inner.channel.shared.queue.drain_into(&mut cmds);
        while let Some(cmd) = cmds.pop_front() {
            self.run_command(cmd);
        }
        self.commands = cmds;
        self.end_top();
    }

    fn run_command(&mut self, cmd: Command) {
        match cmd {
            Command::Write {
                mut msg,
                meta,
                ticket,
                flush,
            } => {
                let t = self.inner.next_ticket();
                ticket.assign(t, &self.inner.channel.shared.completions);
                if self.inner.life.is_closed() {
                    self.inner.resolve(t, Err(ChannelError::Closed.into()));
                    return;
                }
                let prev = self.inner.prev_out(TAIL);
                if let Some(expected) = self.inner.refuses_write(prev, meta) {
                    // A handle's write of a type the pipeline does not take: fail
                    // its completion, and report it through the pipeline too, as a
                    // void write's failure is, since nobody may await it.
                    let handler = self.inner.slots[prev].name.to_string();
                    tracing::warn!(
                        channel = %self.inner.channel.id(), handler = %handler,
                        expected = expected.name(), got = meta.name(),
                        "a Channel handle wrote a type the pipeline does not take: failed"
                    );
                    let err: Error = ChannelError::UnexpectedMessage {
                        handler,
                        expected: expected.name(),
                        got: meta.name(),
                    }
                    .into();
                    self.inner.resolve(t, Err(err.clone()));
                    self.fire_from_head(OwnedEvent::Exception(err));
                    return;
                }
                match Msg::from_raw(&mut *msg, meta) {
                    Some(m) => self
                        .inner
                        .invoke(prev, Event::Write(m, crate::Promise { ticket: t })),
                    None => unreachable!(
                        "a handle write boxes an Option of the type its meta describes"
                    ),
                }
                if flush {
                    self.flush_from_tail();
                }
            }
            Command::Flush => self.flush_from_tail(),
            Command::Close => self.close_from_tail(),
            Command::ShutdownOutput => {
                let prev = self.inner.prev_out(TAIL);
                self.inner
                    .invoke(prev, Event::Other(OwnedEvent::ShutdownOutput));
            }
            Command::Read => {
                let prev = self.inner.prev_out(TAIL);
                self.inner
                    .invoke(prev, Event::Other(OwnedEvent::ReadRequest));
            }
            Command::SetAutoRead(on) => self.inner.config.auto_read = on,
            Command::UserEvent(ev) => {
                self.fire_from_head(OwnedEvent::UserEvent(UserEvent::from_box(ev)))
            }
            Command::Deliver {
                slot,
                generation,
                key,
                output,
            } => {
                let idx = slot as usize;
                let current = self.inner.slots.get(idx).map(|s| s.generation);
                if current == Some(generation) {
                    let ev = UserEvent::from_box(output);
                    self.inner
                        .call_slot(idx, |h, inner| h.blocking_done(inner, idx, key, ev));
                }
            }
            Command::Execute(f) => f(self),
        }
    }

    /// The earliest deadline of the channel's timers: the driver calls
    /// [`handle_timeout`](Self::handle_timeout) once its clock reaches it. `None`
    /// when no timer is set (or the channel closed). It may change after any call
    /// into the core.
    pub fn next_timeout(&self) -> Option<Instant> {
        if self.inner.life.is_closed() {
            return None;
        }
        self.inner.timers.next_deadline()
    }

    /// Fires the timers due at `now` in deadline order (equal deadlines in the
    /// order they were set), then flushes what they wrote.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.inner.fire_timers(now);
        self.end_top();
    }

    /// Turns auto-read on or off (from the loop).
    pub fn set_auto_read(&mut self, on: bool) {
        self.inner.config.auto_read = on;
    }

    /// Sets the water marks.
    pub fn set_water_marks(&mut self, low: usize, high: usize) {
        self.inner.config.low_water_mark = low;
        self.inner.config.high_water_mark = high.max(low);
        self.inner.out.set_water_marks(low, high);
    }

    /// Writes `msg` from the tail (as a `Channel` handle does, but on the loop and
    /// without boxing).
    pub fn write<M: 'static>(&mut self, msg: M) -> crate::Completion {
        let t = self.inner.next_ticket();
        let mut slot = Some(msg);
        let prev = self.inner.prev_out(TAIL);
        self.inner.invoke(
            prev,
            Event::Write(Msg::new(&mut slot), crate::Promise { ticket: t }),
        );
        let c = self.inner.completion(t);
        self.end_top();
        c
    }

    /// Flushes from the tail, through every outbound handler.
    pub fn flush(&mut self) {
        self.flush_from_tail();
        self.end_top();
    }

    fn fire_from_head(&mut self, ev: OwnedEvent) {
        let next = self.inner.next_in(HEAD);
        self.inner.invoke(next, Event::Other(ev));
    }

    fn flush_from_tail(&mut self) {
        self.inner.dirty = false;
        let prev = self.inner.prev_out(TAIL);
        self.inner.invoke(prev, Event::Other(OwnedEvent::Flush));
    }

    fn close_from_tail(&mut self) {
        let prev = self.inner.prev_out(TAIL);
        self.inner.invoke(prev, Event::Other(OwnedEvent::Close));
    }

    /// After a call from outside the pipeline: flush unflushed writes (unless a
    /// read batch is open) and free removed slots.
    fn end_top(&mut self) {
        // A loop: a flush can fire writability_changed, whose handlers may write
        // again (answering the next request once the channel is writable); those
        // writes are flushed too, or they would wait for the next event.
        while self.inner.dirty && !self.inner.in_read_batch && !self.inner.life.is_closed() {
            self.flush_from_tail();
        }
        if !self.inner.graveyard.is_empty() {
            self.inner.reclaim();
        }
    }
}

impl Drop for ChannelCore {
    fn drop(&mut self) {
        if !self.inner.life.is_closed() {
            self.close_now(None);
        }
    }
}
