//! What a handler gets with each callback: its position in the pipeline, from which
//! it fires inbound events to the next handler and starts outbound operations toward
//! the transport (Netty's `ctx.write`, as opposed to `channel.write` from the tail).

use std::any::Any;
use std::future::Future;
use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};
use std::time::{Duration, Instant};

use crate::channel::Channel;
use crate::completion::{Completion, Promise};
use crate::error::{ChannelError, Error};
use crate::handler::{Handler, UserEvent};
use crate::pipeline::erased::{Event, Msg, OwnedEvent, TypeInfo};
use crate::pipeline::{Inner, Pipeline, TimerId};

/// A handler's view of its channel, untyped: everything but the typed message
/// operations of [`InboundContext`] and [`OutboundContext`] (which dereference to it).
///
/// # Writing
///
/// Three calls write, from this handler's position toward the transport:
///
/// | call | returns | for |
/// |---|---|---|
/// | [`write`](Self::write) | a [`Completion`] | writes whose outcome is awaited or inspected |
/// | [`write_void`](Self::write_void) | nothing | the common write nobody awaits (cheapest; a failure is fired as `exception_caught`) |
/// | [`write_and_flush`](Self::write_and_flush) | a [`Completion`] | a write that must go out now |
///
/// Writes are queued; [`flush`](Self::flush) hands them to the transport, and the
/// end of a read batch flushes what the batch wrote. An outbound handler passes a
/// write on with [`OutboundContext::write`], which takes the write's [`Promise`]
/// instead of making a new one. From another thread or task, write through a
/// [`Channel`] handle ([`Channel::write`], [`Channel::write_and_flush`]).
pub struct Context<'a> {
    pub(crate) inner: &'a mut Inner,
    pub(crate) idx: usize,
}

impl<'a> Context<'a> {
    pub(crate) fn new(inner: &'a mut Inner, idx: usize) -> Self {
        Context { inner, idx }
    }

    /// The name this handler was added under.
    pub fn name(&self) -> &str {
        &self.inner.slots[self.idx].name
    }

    /// The channel's handle (cheap to clone, `Send + Sync`).
    pub fn channel(&self) -> &Channel {
        &self.inner.channel
    }

    /// Whether the channel is connected and not closed.
    pub fn is_active(&self) -> bool {
        self.inner.channel.is_active()
    }

    /// Whether this handler has been removed from the pipeline (it may still be
    /// finishing the callback in which it was removed).
    pub fn is_removed(&self) -> bool {
        self.inner.hot[self.idx].removed
    }

    /// Whether the channel reads on its own (auto-read), rather than when a
    /// handler calls [`read`](Self::read).
    pub fn is_auto_read(&self) -> bool {
        self.inner.config.auto_read
    }

    /// Whether a close was requested or has happened: the channel accepts no more
    /// writes, though it may still be flushing what it accepted.
    pub fn is_closing(&self) -> bool {
        self.inner.life.is_closing()
    }

    /// Whether the channel is closing without flushing ([`close_now`](Self::close_now),
    /// [`close_with_reset`](Self::close_with_reset), or a broken transport): writes
    /// still queued will be dropped. A handler that holds writes back (TLS with a
    /// file to encrypt) reads this in its `close` to drop them instead of waiting.
    pub fn is_closing_now(&self) -> bool {
        self.inner.life.drops_unsent()
    }

    /// Whether the outbound buffer is below its high water mark.
    pub fn is_writable(&self) -> bool {
        self.inner.out.is_writable()
    }

    /// Bytes written but not yet handed to the socket.
    pub fn pending_outbound_bytes(&self) -> u64 {
        self.inner.out.pending_bytes()
    }

    /// Passes `msg` to the next inbound handler, checking its type when it arrives
    /// (for handlers whose output type varies, such as a decoder passing on its
    /// leftover bytes when removed). A mismatch is reported as an exception.
    pub fn fire_message<M: 'static>(&mut self, msg: M) {
        let mut slot = Some(msg);
        let next = self.inner.next_in(self.idx);
        self.inner.invoke_read(next, Msg::new(&mut slot));
    }

    /// Writes `msg` from this handler's position toward the transport; the previous
    /// outbound handler must accept an `M` (a mismatch fails the completion with
    /// [`ChannelError::UnexpectedMessage`]). Not flushed until a flush (or the end
    /// of the current read batch). Allocates nothing; the [`Completion`] holds a
    /// reference to the channel's shared state (use [`write_void`](Self::write_void)
    /// when nobody looks at it).
    #[inline]
    pub fn write<M: 'static>(&mut self, msg: M) -> Completion {
        let ticket = self.inner.next_ticket();
        self.pass_write(msg, Promise { ticket });
        self.inner.completion(ticket)
    }

    /// The former name of [`write`](Self::write).
    #[doc(hidden)]
    pub fn write_message<M: 'static>(&mut self, msg: M) -> Completion {
        self.write(msg)
    }

    /// Hands `msg` with `promise` to the previous outbound handler.
    #[inline]
    fn pass_write<M: 'static>(&mut self, msg: M, promise: Promise) {
        let mut slot = Some(msg);
        let prev = self.inner.prev_out(self.idx);
        self.inner.invoke_write(prev, Msg::new(&mut slot), promise);
    }

    /// [`write`](Self::write) without a [`Completion`]: Netty's
    /// `write(msg, voidPromise())`. For the common write whose outcome nobody
    /// awaits: it skips the completion's reference to the channel's shared state
    /// (two atomic operations per write). A write of a type the previous outbound
    /// handler does not accept is reported as `exception_caught` (there is no
    /// completion to fail); a write after the channel closed is dropped, as its
    /// close was already reported.
    pub fn write_void<M: 'static>(&mut self, msg: M) {
        self.inner.mark_dirty();
        self.pass_write(msg, Promise::void());
    }

    /// [`write`](Self::write), then [`flush`](Self::flush).
    pub fn write_and_flush<M: 'static>(&mut self, msg: M) -> Completion {
        let c = self.write(msg);
        self.flush();
        c
    }

    /// Fires `channel_active` to the next inbound handler.
    pub fn fire_active(&mut self) {
        self.forward(Event::Other(OwnedEvent::Active));
    }

    /// Fires `channel_inactive` to the next inbound handler.
    pub fn fire_inactive(&mut self) {
        self.forward(Event::Other(OwnedEvent::Inactive));
    }

    /// Fires `channel_read_complete` to the next inbound handler.
    pub fn fire_read_complete(&mut self) {
        self.forward(Event::Other(OwnedEvent::ReadComplete));
    }

    /// Fires `input_closed` to the next inbound handler.
    pub fn fire_input_closed(&mut self) {
        self.forward(Event::Other(OwnedEvent::InputClosed));
    }

    /// Fires `channel_writability_changed` to the next inbound handler.
    pub fn fire_writability_changed(&mut self) {
        self.forward(Event::Other(OwnedEvent::WritabilityChanged));
    }

    /// Fires a user event to the next inbound handler. Takes a [`UserEvent`] or any
    /// value (boxed here).
    pub fn fire_user_event<E: Any>(&mut self, event: E) {
        let mut slot = Some(event);
        let ev = match (&mut slot as &mut dyn Any).downcast_mut::<Option<UserEvent>>() {
            Some(ue) => ue.take().expect("present"),
            None => UserEvent::new(slot.take().expect("present")),
        };
        self.forward(Event::Other(OwnedEvent::UserEvent(ev)));
    }

    /// Fires `exception_caught` to the next inbound handler.
    pub fn fire_exception(&mut self, error: impl Into<Error>) {
        self.forward(Event::Other(OwnedEvent::Exception(error.into())));
    }

    /// Asks the transport to flush what was written, through the outbound handlers
    /// before this one.
    pub fn flush(&mut self) {
        self.forward(Event::Other(OwnedEvent::Flush));
    }

    /// Asks for more input (when auto-read is off).
    pub fn read(&mut self) {
        self.forward(Event::Other(OwnedEvent::ReadRequest));
    }

    /// Closes the channel once what was written so far is flushed.
    pub fn close(&mut self) {
        self.forward(Event::Other(OwnedEvent::Close));
    }

    /// Closes the channel without waiting for the flush (Netty's `close()`, which
    /// [`close`](Self::close) is not): what is still queued for writing is dropped
    /// and its completions fail with [`ChannelError::Closed`](crate::ChannelError::Closed).
    /// For a peer that stopped reading (a send timeout), where a graceful close
    /// would wait forever. The close still passes through the outbound handlers
    /// before this one.
    pub fn close_now(&mut self) {
        self.inner.life.drop_unsent();
        self.forward(Event::Other(OwnedEvent::Close));
    }

    /// Closes the channel abortively: as [`close_now`](Self::close_now), and the
    /// peer gets a reset instead of a FIN, so the system frees the unsent data at
    /// once (TCP `SO_LINGER` 0; nginx's `reset_timedout_connection`). For a peer
    /// that stopped reading, whose queued bytes would otherwise sit in the kernel.
    pub fn close_with_reset(&mut self) {
        self.inner.life.reset();
        self.close_now();
    }

    /// Shuts down the write side once what was written so far is flushed.
    pub fn shutdown_output(&mut self) {
        self.forward(Event::Other(OwnedEvent::ShutdownOutput));
    }

    /// Asks the transport to take over the channel's TLS record layer (kTLS; see
    /// [`Transport::offload_tls`](crate::Transport::offload_tls)). What was written
    /// so far is flushed first, straight to the transport (not through outbound
    /// handlers), and must all reach the socket: otherwise `WouldBlock`, and
    /// `setup` is not called. Meant for a TLS handler next to the head, right
    /// after its handshake.
    ///
    /// # Errors
    /// `WouldBlock` (written bytes wait), `NotConnected` (closing or closed),
    /// `Unsupported` (the transport has no socket), or `setup`'s error.
    pub fn offload_tls(
        &mut self,
        setup: &mut dyn FnMut(std::os::fd::BorrowedFd<'_>) -> std::io::Result<()>,
    ) -> std::io::Result<()> {
        let inner = &mut *self.inner;
        if inner.life.accepts_writes().is_err() || inner.life.drops_unsent() {
            return Err(std::io::ErrorKind::NotConnected.into());
        }
        inner.out.mark_flushed();
        inner.write_out();
        if inner.life.is_closing() || inner.life.drops_unsent() {
            return Err(std::io::ErrorKind::NotConnected.into());
        }
        if inner.out.has_flushed() {
            return Err(std::io::ErrorKind::WouldBlock.into());
        }
        inner.transport.offload_tls(setup)
    }

    /// Resolves a promise this handler will not pass on, as written.
    pub fn complete_promise(&mut self, promise: Promise) {
        self.inner.resolve(promise.take_ticket(), Ok(()));
    }

    /// Fails a promise this handler will not pass on. A failed write is reported
    /// once: to its [`Completion`](crate::Completion), or, when nobody observes it
    /// ([`Promise::void`], a `write_void`), fired as `exception_caught` from this
    /// handler (Netty's void promise), so that it is not lost silently.
    pub fn fail_promise(&mut self, promise: Promise, error: impl Into<Error>) {
        self.inner.fail_write(self.idx, promise, error.into());
    }

    /// The time now: the transport's clock (virtual under
    /// [`EmbeddedChannel`](crate::testing::EmbeddedChannel)). Use it, not
    /// `Instant::now()`, for anything compared with timer deadlines.
    pub fn now(&self) -> Instant {
        self.inner.transport.now()
    }

    /// Sets this handler's timer `key` to fire at `deadline`, or moves it if it is
    /// set (a reset). When due, [`ChannelHandler::timer_fired`](crate::ChannelHandler::timer_fired)
    /// is called with `key` on the channel's loop. Keys are the handler's own: two
    /// handlers may use the same key. Timers are cancelled when the handler leaves
    /// the pipeline or the channel closes. O(log n) in the channel's timers; no
    /// allocation, no task.
    pub fn set_timer(&mut self, key: u64, deadline: Instant) {
        let id = TimerId {
            slot: self.idx as u32,
            key,
        };
        self.inner.timers.set(id, deadline);
    }

    /// [`set_timer`](Self::set_timer) at [`now`](Self::now)` + delay`.
    pub fn set_timer_after(&mut self, key: u64, delay: Duration) {
        let at = self.now() + delay;
        self.set_timer(key, at);
    }

    /// Cancels this handler's timer `key`; returns whether it was set.
    pub fn cancel_timer(&mut self, key: u64) -> bool {
        self.inner.timers.cancel(TimerId {
            slot: self.idx as u32,
            key,
        })
    }

    /// When this handler's timer `key` fires, if it is set.
    pub fn timer_deadline(&self, key: u64) -> Option<Instant> {
        self.inner.timers.deadline(TimerId {
            slot: self.idx as u32,
            key,
        })
    }

    /// Fires `event` as a user event from the head of the pipeline after `delay`
    /// (on the channel's clock). Returns a key for
    /// [`cancel_scheduled`](Self::cancel_scheduled). A timer of the channel's own:
    /// no task; the event is boxed once.
    pub fn schedule_user_event<E: Any>(&mut self, delay: Duration, event: E) -> ScheduledEvent {
        let at = self.now() + delay;
        let key = self.inner.timers.schedule(UserEvent::new(event), at);
        ScheduledEvent(key)
    }

    /// Cancels a scheduled user event; returns whether it had not fired yet.
    pub fn cancel_scheduled(&mut self, event: ScheduledEvent) -> bool {
        self.inner.timers.cancel_scheduled(event.0)
    }

    /// Runs `task` on the channel's event loop (it need not be `Send`); it reaches
    /// the channel through a [`Channel`] handle it captured.
    ///
    /// # Errors
    /// [`ChannelError::NoExecutor`] if the transport runs no tasks.
    pub fn spawn<F>(&self, task: F) -> Result<(), ChannelError>
    where
        F: Future<Output = ()> + 'static,
    {
        self.inner.spawn(Box::pin(task))
    }

    /// Runs `job` off the event loop, where it may block (opening or reading a file,
    /// a DNS lookup), and hands its output back to this handler on the channel's
    /// loop: [`ChannelHandler::blocking_done`](crate::ChannelHandler::blocking_done)
    /// with `key`. If the handler has left the pipeline or the channel has closed
    /// by then, the output is dropped. Allocates the job and its output's box.
    ///
    /// # Errors
    /// [`ChannelError::NoExecutor`] if the transport runs no blocking work.
    pub fn spawn_blocking<T, F>(&mut self, key: u64, job: F) -> Result<(), ChannelError>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let ex = self
            .inner
            .transport
            .executor()
            .ok_or(ChannelError::NoExecutor)?;
        let channel = self.inner.channel.clone();
        let slot = self.idx as u32;
        let generation = self.inner.slots[self.idx].generation;
        ex.spawn_blocking(Box::new(move || {
            let output = Box::new(job());
            channel.deliver(slot, generation, key, output);
        }));
        Ok(())
    }

    /// The per-channel attribute of type `T`, if set.
    pub fn attr<T: Any>(&self) -> Option<&T> {
        self.inner.attrs.get::<T>()
    }

    /// The per-channel attribute of type `T`, mutably.
    pub fn attr_mut<T: Any>(&mut self) -> Option<&mut T> {
        self.inner.attrs.get_mut::<T>()
    }

    /// Sets the per-channel attribute of type `T`, returning the old value.
    pub fn set_attr<T: Any>(&mut self, value: T) -> Option<T> {
        self.inner.attrs.insert(value)
    }

    /// Removes the per-channel attribute of type `T`.
    pub fn remove_attr<T: Any>(&mut self) -> Option<T> {
        self.inner.attrs.remove::<T>()
    }

    /// The pipeline, to add, remove or replace handlers while events flow. A change
    /// applies to the next event; the event in flight finishes its path.
    pub fn pipeline(&mut self) -> Pipeline<'_> {
        Pipeline::new(self.inner)
    }

    /// Removes this handler from the pipeline (a handshake handler that is done).
    pub fn remove_self(&mut self) {
        let name = self.inner.slots[self.idx].name.clone();
        // Removing a handler that is running cannot fail: it is in the pipeline.
        let _ = self.pipeline().remove(&name);
    }

    /// Replaces this handler with `handler` under `name`.
    pub fn replace_self(&mut self, name: &str, handler: Handler) -> Result<(), ChannelError> {
        let old = self.inner.slots[self.idx].name.clone();
        self.pipeline().replace(&old, name, handler)
    }

    /// Passes an event on in its direction from this handler.
    pub(crate) fn forward(&mut self, ev: Event<'_>) {
        self.inner.forward(self.idx, ev);
    }

    /// A message of the wrong type reached this handler.
    pub(crate) fn unexpected(&mut self, ev: Event<'_>, expected: TypeInfo) {
        self.inner.unexpected(self.idx, ev, expected);
    }
}

/// The context of an inbound handler that passes on `F`.
pub struct InboundContext<'a, F> {
    ctx: Context<'a>,
    _fire: PhantomData<fn(F)>,
}

impl<'a, F: 'static> InboundContext<'a, F> {
    pub(crate) fn new(inner: &'a mut Inner, idx: usize) -> Self {
        InboundContext {
            ctx: Context::new(inner, idx),
            _fire: PhantomData,
        }
    }

    /// Passes `msg` to the next inbound handler (whose type the pipeline checked).
    /// Allocates nothing.
    #[inline]
    pub fn fire_read(&mut self, msg: F) {
        let mut slot = Some(msg);
        let next = self.ctx.inner.next_in(self.ctx.idx);
        self.ctx.inner.invoke_read(next, Msg::new(&mut slot));
    }
}

impl<'a, F> Deref for InboundContext<'a, F> {
    type Target = Context<'a>;
    fn deref(&self) -> &Context<'a> {
        &self.ctx
    }
}

impl<F> DerefMut for InboundContext<'_, F> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.ctx
    }
}

/// The context of an outbound handler that writes `E`.
pub struct OutboundContext<'a, E> {
    ctx: Context<'a>,
    _emit: PhantomData<fn(E)>,
}

impl<'a, E: 'static> OutboundContext<'a, E> {
    pub(crate) fn new(inner: &'a mut Inner, idx: usize) -> Self {
        OutboundContext {
            ctx: Context::new(inner, idx),
            _emit: PhantomData,
        }
    }

    /// Writes `msg` to the previous outbound handler (or the transport) with the
    /// promise of the write it came from. Allocates nothing.
    #[inline]
    pub fn write(&mut self, msg: E, promise: Promise) {
        self.ctx.pass_write(msg, promise);
    }
}

impl<'a, E> Deref for OutboundContext<'a, E> {
    type Target = Context<'a>;
    fn deref(&self) -> &Context<'a> {
        &self.ctx
    }
}

impl<E> DerefMut for OutboundContext<'_, E> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.ctx
    }
}

/// A user event scheduled with [`Context::schedule_user_event`], to cancel it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ScheduledEvent(u64);
