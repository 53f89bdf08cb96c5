//! Handlers as the pipeline stores them: type-erased, receiving messages as
//! `&mut dyn Any` pointing at an `Option<T>` the receiver `take`s. A message hop
//! allocates nothing.

use std::any::{Any, TypeId};
use std::collections::VecDeque;
use std::marker::PhantomData;
use std::ptr::NonNull;

use crate::completion::Promise;
use crate::context::{Context, InboundContext, OutboundContext};
use crate::error::{Direction, Error};
use crate::handler::{InboundHandler, OutboundHandler, UserEvent};
use crate::pipeline::Inner;

/// A message in flight: a pointer to the sender's `Option<T>` and a static
/// description of `T` (its `TypeId`, its name for error messages, and how to box
/// it). Three words; the type check is one `TypeId` comparison, no virtual call.
pub(crate) struct Msg<'m> {
    ptr: NonNull<()>,
    meta: &'static MsgMeta,
    _borrow: PhantomData<&'m mut ()>,
}

/// A message type as the pipeline knows it: its `TypeId`, its name for error
/// messages, and how to box it. The one type descriptor: slots keep a reference to
/// one static per type for each of their four types.
pub(crate) struct MsgMeta {
    type_id: TypeId,
    option_type_id: TypeId,
    type_name: fn() -> &'static str,
    boxer: fn(NonNull<()>) -> Option<Box<dyn Any>>,
}

/// A reference to a type's descriptor (one static per type: cheap to copy).
pub(crate) type TypeInfo = &'static MsgMeta;

impl MsgMeta {
    pub(crate) fn type_id(&self) -> TypeId {
        self.type_id
    }

    pub(crate) fn name(&self) -> &'static str {
        (self.type_name)()
    }
}

/// What a datagram head accepts, described for error messages.
pub(crate) static DATAGRAM_HEAD_WRITE: MsgMeta = MsgMeta {
    type_id: TypeId::of::<crate::DatagramPacket>(),
    option_type_id: TypeId::of::<Option<crate::DatagramPacket>>(),
    type_name: || "DatagramPacket (or, connected, Bytes, CompositeBuf, OutboundBuf)",
    boxer: boxer::<crate::DatagramPacket>,
};

/// What a socket head accepts, described for error messages.
pub(crate) static HEAD_WRITE: MsgMeta = MsgMeta {
    type_id: TypeId::of::<crate::OutboundBuf>(),
    option_type_id: TypeId::of::<Option<crate::OutboundBuf>>(),
    type_name: || "OutboundBuf (or Bytes, CompositeBuf, FileRegion)",
    boxer: boxer::<crate::OutboundBuf>,
};

/// The `MsgMeta` of `T`, one static per type.
pub(crate) const fn meta<T: 'static>() -> &'static MsgMeta {
    const {
        &MsgMeta {
            type_id: TypeId::of::<T>(),
            option_type_id: TypeId::of::<Option<T>>(),
            type_name: std::any::type_name::<T>,
            boxer: boxer::<T>,
        }
    }
}

fn boxer<T: 'static>(ptr: NonNull<()>) -> Option<Box<dyn Any>> {
    // SAFETY: a `MsgMeta` for `T` is only ever paired with a pointer to a live
    // `Option<T>` that the `Msg` borrows mutably (see `Msg::new`, `Msg::from_raw`).
    let slot = unsafe { ptr.cast::<Option<T>>().as_mut() };
    slot.take().map(|t| Box::new(t) as Box<dyn Any>)
}

impl<'m> Msg<'m> {
    #[inline]
    pub(crate) fn new<T: 'static>(slot: &'m mut Option<T>) -> Self {
        Msg {
            ptr: NonNull::from(slot).cast(),
            meta: meta::<T>(),
            _borrow: PhantomData,
        }
    }

    /// A message boxed by a `Channel` handle: `any` must hold an `Option<T>`
    /// where `meta` describes `T`.
    pub(crate) fn from_raw(any: &'m mut (dyn Any + Send), meta: &'static MsgMeta) -> Option<Self> {
        // The box holds an `Option<T>`; check that `meta` describes that `T`.
        if (*any).type_id() != meta.option_type_id {
            return None;
        }
        Some(Msg {
            ptr: NonNull::from(any).cast(),
            meta,
            _borrow: PhantomData,
        })
    }

    /// The message type's name.
    pub(crate) fn type_name(&self) -> &'static str {
        (self.meta.type_name)()
    }

    /// Takes the message out if it is a `T`.
    #[inline]
    pub(crate) fn take<T: 'static>(&mut self) -> Option<T> {
        if self.meta.type_id != TypeId::of::<T>() {
            return None;
        }
        // SAFETY: `ptr` points at the live `Option<X>` this `Msg` mutably borrows
        // for 'm, where `meta` describes X; the TypeIds are equal, so X is T.
        let slot = unsafe { self.ptr.cast::<Option<T>>().as_mut() };
        slot.take()
    }

    /// Moves the message into a box, whatever its type.
    pub(crate) fn take_boxed(&mut self) -> Option<Box<dyn Any>> {
        (self.meta.boxer)(self.ptr)
    }
}

/// Events without a typed payload (they can be stored as they are).
pub(crate) enum OwnedEvent {
    Active,
    Inactive,
    ReadComplete,
    InputClosed,
    WritabilityChanged,
    UserEvent(UserEvent),
    Exception(Error),
    Flush,
    ReadRequest,
    Close,
    ShutdownOutput,
}

impl OwnedEvent {
    pub(crate) fn direction(&self) -> Direction {
        match self {
            OwnedEvent::Flush
            | OwnedEvent::ReadRequest
            | OwnedEvent::Close
            | OwnedEvent::ShutdownOutput => Direction::Outbound,
            _ => Direction::Inbound,
        }
    }
}

/// An event on its way to one slot.
pub(crate) enum Event<'m> {
    Read(Msg<'m>),
    Write(Msg<'m>, Promise),
    Other(OwnedEvent),
}

impl Event<'_> {
    pub(crate) fn direction(&self) -> Direction {
        match self {
            Event::Read(_) => Direction::Inbound,
            Event::Write(..) => Direction::Outbound,
            Event::Other(o) => o.direction(),
        }
    }
}

/// An event stored for a slot that was busy when it arrived.
pub(crate) enum Deferred<R, W> {
    Read(R),
    Write(W, Promise),
    Other(OwnedEvent),
}

/// The typed queue of a busy slot, boxed as `dyn Any` in the slot.
pub(crate) type Mailbox<R, W> = VecDeque<Deferred<R, W>>;

/// Stores `ev` in the slot's mailbox (creating it the first time). On a type
/// mismatch, gives the event back.
pub(crate) type DeferFn = for<'m> fn(&mut Option<Box<dyn Any>>, Event<'m>) -> Result<(), Event<'m>>;

fn defer<'m, R: 'static, W: 'static>(
    mailbox: &mut Option<Box<dyn Any>>,
    ev: Event<'m>,
) -> Result<(), Event<'m>> {
    let item = match ev {
        Event::Read(mut m) => match m.take::<R>() {
            Some(r) => Deferred::Read(r),
            None => return Err(Event::Read(m)),
        },
        Event::Write(mut m, p) => match m.take::<W>() {
            Some(w) => Deferred::Write(w, p),
            None => return Err(Event::Write(m, p)),
        },
        Event::Other(o) => Deferred::Other(o),
    };
    mailbox
        .get_or_insert_with(|| {
            recycle::take::<Mailbox<R, W>>().unwrap_or_else(|| Box::new(Mailbox::<R, W>::new()))
        })
        .downcast_mut::<Mailbox<R, W>>()
        .expect("mailbox type matches its slot")
        .push_back(item);
    Ok(())
}

/// What the pipeline knows of a slot's types: one constant per handler type,
/// which every slot of that type points at.
#[derive(Clone, Copy)]
pub(crate) struct SlotTypes {
    pub(crate) read: Option<TypeInfo>,
    pub(crate) fire: Option<TypeInfo>,
    pub(crate) write: Option<TypeInfo>,
    pub(crate) emit: Option<TypeInfo>,
    pub(crate) defer: DeferFn,
}

/// The write type of an inbound-only slot: never constructed.
pub(crate) enum NoWrite {}

impl SlotTypes {
    pub(crate) fn inbound<R: 'static, F: 'static>() -> &'static Self {
        const {
            &SlotTypes {
                read: Some(meta::<R>()),
                fire: Some(meta::<F>()),
                write: None,
                emit: None,
                defer: defer::<R, NoWrite>,
            }
        }
    }

    pub(crate) fn outbound<W: 'static, E: 'static>() -> &'static Self {
        const {
            &SlotTypes {
                read: None,
                fire: None,
                write: Some(meta::<W>()),
                emit: Some(meta::<E>()),
                defer: defer::<NoWrite, W>,
            }
        }
    }

    pub(crate) fn duplex<R: 'static, F: 'static, W: 'static, E: 'static>() -> &'static Self {
        const {
            &SlotTypes {
                read: Some(meta::<R>()),
                fire: Some(meta::<F>()),
                write: Some(meta::<W>()),
                emit: Some(meta::<E>()),
                defer: defer::<R, W>,
            }
        }
    }

    pub(crate) fn is_inbound(&self) -> bool {
        self.read.is_some()
    }

    pub(crate) fn is_outbound(&self) -> bool {
        self.write.is_some()
    }

    pub(crate) fn describe(&self) -> String {
        let name = |t: Option<TypeInfo>| t.map_or("-", |t| t.name());
        format!(
            "reads {} fires {} / accepts {} writes {}",
            name(self.read),
            name(self.fire),
            name(self.write),
            name(self.emit)
        )
    }
}

/// A handler as the pipeline calls it.
pub(crate) trait ErasedHandler {
    /// Delivers one event.
    fn handle(&mut self, inner: &mut Inner, idx: usize, ev: Event<'_>);

    /// Delivers a read: the hot path, without wrapping the message in an `Event`.
    fn read(&mut self, inner: &mut Inner, idx: usize, msg: Msg<'_>) {
        self.handle(inner, idx, Event::Read(msg));
    }

    /// Delivers a write: the hot path, without wrapping the message in an `Event`.
    fn write(&mut self, inner: &mut Inner, idx: usize, msg: Msg<'_>, promise: Promise) {
        self.handle(inner, idx, Event::Write(msg, promise));
    }

    /// Delivers what queued up in the slot's mailbox while the handler was busy,
    /// stopping early if the slot was removed.
    fn drain(&mut self, inner: &mut Inner, idx: usize);

    /// The slot was removed: passes mailbox items on to the neighbours.
    fn forward_mailbox(&mut self, inner: &mut Inner, idx: usize);

    fn added(&mut self, inner: &mut Inner, idx: usize);
    fn removed(&mut self, inner: &mut Inner, idx: usize);
    /// A timer the handler set is due.
    fn timer(&mut self, inner: &mut Inner, idx: usize, key: u64);
    /// Blocking work the handler started has finished.
    fn blocking_done(&mut self, inner: &mut Inner, idx: usize, key: u64, output: UserEvent);
}

/// The callbacks of [`ChannelHandler`](crate::ChannelHandler) for each of the three slot kinds.
macro_rules! channel_handler_callbacks {
    () => {
        fn added(&mut self, inner: &mut Inner, idx: usize) {
            self.0.handler_added(&mut Context::new(inner, idx));
        }

        fn removed(&mut self, inner: &mut Inner, idx: usize) {
            self.0.handler_removed(&mut Context::new(inner, idx));
        }

        fn timer(&mut self, inner: &mut Inner, idx: usize, key: u64) {
            self.0.timer_fired(&mut Context::new(inner, idx), key);
        }

        fn blocking_done(&mut self, inner: &mut Inner, idx: usize, key: u64, output: UserEvent) {
            self.0
                .blocking_done(&mut Context::new(inner, idx), key, output);
        }
    };
}

pub(crate) struct Inbound<H>(pub(crate) H);
pub(crate) struct Outbound<H>(pub(crate) H);
pub(crate) struct Duplex<H>(pub(crate) H);

fn inbound_event<H: InboundHandler>(
    h: &mut H,
    ctx: &mut InboundContext<'_, H::Fire>,
    ev: OwnedEvent,
) {
    match ev {
        OwnedEvent::Active => h.channel_active(ctx),
        OwnedEvent::Inactive => h.channel_inactive(ctx),
        OwnedEvent::ReadComplete => h.channel_read_complete(ctx),
        OwnedEvent::InputClosed => h.input_closed(ctx),
        OwnedEvent::WritabilityChanged => h.channel_writability_changed(ctx),
        OwnedEvent::UserEvent(e) => h.user_event(ctx, e),
        OwnedEvent::Exception(e) => h.exception_caught(ctx, e),
        other => ctx.forward(Event::Other(other)),
    }
}

fn outbound_event<H: OutboundHandler>(
    h: &mut H,
    ctx: &mut OutboundContext<'_, H::Emit>,
    ev: OwnedEvent,
) {
    match ev {
        OwnedEvent::Flush => h.flush(ctx),
        OwnedEvent::ReadRequest => h.read(ctx),
        OwnedEvent::Close => h.close(ctx),
        OwnedEvent::ShutdownOutput => h.shutdown_output(ctx),
        other => ctx.forward(Event::Other(other)),
    }
}

fn pop<R: 'static, W: 'static>(inner: &mut Inner, idx: usize) -> Option<Deferred<R, W>> {
    let hot = &inner.hot[idx];
    if hot.deferred == 0 || hot.removed {
        return None;
    }
    let mailbox = inner.slots[idx]
        .mailbox
        .as_mut()?
        .downcast_mut::<Mailbox<R, W>>()?;
    let item = mailbox.pop_front();
    if mailbox.is_empty() && mailbox.capacity() > recycle::KEEP_CAPACITY {
        // A burst grew it: what is kept for reuse stays small.
        mailbox.shrink_to(recycle::KEEP_CAPACITY);
    }
    if item.is_some() {
        inner.hot[idx].deferred -= 1;
    }
    item
}

/// Emptied mailboxes, kept per thread for the next handler that gets busy:
/// a mailbox is made whenever events wait for a running handler (a write
/// during a read, several times per request in an HTTP pipeline) and dropped
/// when they have been delivered, so that an idle channel holds none. Reusing
/// them saves the two allocations (the box and the queue) each time.
pub(crate) mod recycle {
    use std::any::{Any, TypeId};
    use std::cell::RefCell;

    /// Mailboxes kept per thread, of all types.
    const KEEP: usize = 32;
    /// The queue capacity a kept mailbox may have.
    pub(crate) const KEEP_CAPACITY: usize = 16;

    thread_local! {
        static FREE: RefCell<Vec<Box<dyn Any>>> = const { RefCell::new(Vec::new()) };
    }

    /// An empty mailbox of type `T` kept earlier, if there is one.
    pub(crate) fn take<T: 'static>() -> Option<Box<dyn Any>> {
        FREE.with_borrow_mut(|free| {
            let i = free
                .iter()
                .rposition(|b| (**b).type_id() == TypeId::of::<T>())?;
            Some(free.swap_remove(i))
        })
    }

    /// Keeps an emptied mailbox for reuse (up to [`KEEP`] per thread).
    pub(crate) fn give(mailbox: Box<dyn Any>) {
        FREE.with_borrow_mut(|free| {
            if free.len() < KEEP {
                free.push(mailbox);
            }
        });
    }
}

fn forward_all<R: 'static, W: 'static>(inner: &mut Inner, idx: usize) {
    inner.hot[idx].removed = true;
    loop {
        let Some(item) = inner.slots[idx]
            .mailbox
            .as_mut()
            .and_then(|m| m.downcast_mut::<Mailbox<R, W>>())
            .and_then(|m| m.pop_front())
        else {
            inner.hot[idx].deferred = 0;
            return;
        };
        inner.hot[idx].deferred = inner.hot[idx].deferred.saturating_sub(1);
        match item {
            Deferred::Read(r) => {
                let mut o = Some(r);
                inner.forward(idx, Event::Read(Msg::new(&mut o)));
            }
            Deferred::Write(w, p) => {
                let mut o = Some(w);
                inner.forward(idx, Event::Write(Msg::new(&mut o), p));
            }
            Deferred::Other(ev) => inner.forward(idx, Event::Other(ev)),
        }
    }
}

impl<H: InboundHandler> ErasedHandler for Inbound<H> {
    #[inline]
    fn read(&mut self, inner: &mut Inner, idx: usize, mut m: Msg<'_>) {
        let mut ctx = InboundContext::new(inner, idx);
        match m.take::<H::Read>() {
            Some(msg) => self.0.channel_read(&mut ctx, msg),
            None => ctx.unexpected(Event::Read(m), meta::<H::Read>()),
        }
    }

    #[inline]
    fn handle(&mut self, inner: &mut Inner, idx: usize, ev: Event<'_>) {
        let mut ctx = InboundContext::new(inner, idx);
        match ev {
            Event::Read(mut m) => match m.take::<H::Read>() {
                Some(msg) => self.0.channel_read(&mut ctx, msg),
                None => ctx.unexpected(Event::Read(m), meta::<H::Read>()),
            },
            Event::Other(o) => inbound_event(&mut self.0, &mut ctx, o),
            w @ Event::Write(..) => ctx.forward(w),
        }
    }

    fn drain(&mut self, inner: &mut Inner, idx: usize) {
        while let Some(item) = pop::<H::Read, NoWrite>(inner, idx) {
            let mut ctx = InboundContext::new(inner, idx);
            match item {
                Deferred::Read(r) => self.0.channel_read(&mut ctx, r),
                Deferred::Other(o) => inbound_event(&mut self.0, &mut ctx, o),
                Deferred::Write(never, _) => match never {},
            }
        }
    }

    fn forward_mailbox(&mut self, inner: &mut Inner, idx: usize) {
        forward_all::<H::Read, NoWrite>(inner, idx);
    }

    channel_handler_callbacks!();
}

impl<H: OutboundHandler> ErasedHandler for Outbound<H> {
    #[inline]
    fn write(&mut self, inner: &mut Inner, idx: usize, mut m: Msg<'_>, p: Promise) {
        let mut ctx = OutboundContext::new(inner, idx);
        match m.take::<H::Write>() {
            Some(msg) => self.0.write(&mut ctx, msg, p),
            None => ctx.unexpected(Event::Write(m, p), meta::<H::Write>()),
        }
    }

    #[inline]
    fn handle(&mut self, inner: &mut Inner, idx: usize, ev: Event<'_>) {
        let mut ctx = OutboundContext::new(inner, idx);
        match ev {
            Event::Write(mut m, p) => match m.take::<H::Write>() {
                Some(msg) => self.0.write(&mut ctx, msg, p),
                None => ctx.unexpected(Event::Write(m, p), meta::<H::Write>()),
            },
            Event::Other(o) => outbound_event(&mut self.0, &mut ctx, o),
            r @ Event::Read(_) => ctx.forward(r),
        }
    }

    fn drain(&mut self, inner: &mut Inner, idx: usize) {
        while let Some(item) = pop::<NoWrite, H::Write>(inner, idx) {
            let mut ctx = OutboundContext::new(inner, idx);
            match item {
                Deferred::Write(w, p) => self.0.write(&mut ctx, w, p),
                Deferred::Other(o) => outbound_event(&mut self.0, &mut ctx, o),
                Deferred::Read(never) => match never {},
            }
        }
    }

    fn forward_mailbox(&mut self, inner: &mut Inner, idx: usize) {
        forward_all::<NoWrite, H::Write>(inner, idx);
    }

    channel_handler_callbacks!();
}

impl<H: InboundHandler + OutboundHandler> Duplex<H> {
    fn other(&mut self, inner: &mut Inner, idx: usize, o: OwnedEvent) {
        match o.direction() {
            Direction::Inbound => {
                inbound_event(&mut self.0, &mut InboundContext::new(inner, idx), o)
            }
            Direction::Outbound => {
                outbound_event(&mut self.0, &mut OutboundContext::new(inner, idx), o)
            }
        }
    }
}

impl<H: InboundHandler + OutboundHandler> ErasedHandler for Duplex<H> {
    #[inline]
    fn read(&mut self, inner: &mut Inner, idx: usize, mut m: Msg<'_>) {
        let mut ctx = InboundContext::new(inner, idx);
        match m.take::<<H as InboundHandler>::Read>() {
            Some(msg) => self.0.channel_read(&mut ctx, msg),
            None => ctx.unexpected(Event::Read(m), meta::<<H as InboundHandler>::Read>()),
        }
    }

    #[inline]
    fn write(&mut self, inner: &mut Inner, idx: usize, mut m: Msg<'_>, p: Promise) {
        let mut ctx = OutboundContext::new(inner, idx);
        match m.take::<<H as OutboundHandler>::Write>() {
            Some(msg) => self.0.write(&mut ctx, msg, p),
            None => ctx.unexpected(Event::Write(m, p), meta::<<H as OutboundHandler>::Write>()),
        }
    }

    #[inline]
    fn handle(&mut self, inner: &mut Inner, idx: usize, ev: Event<'_>) {
        match ev {
            Event::Read(mut m) => {
                let mut ctx = InboundContext::new(inner, idx);
                match m.take::<<H as InboundHandler>::Read>() {
                    Some(msg) => self.0.channel_read(&mut ctx, msg),
                    None => ctx.unexpected(Event::Read(m), meta::<<H as InboundHandler>::Read>()),
                }
            }
            Event::Write(mut m, p) => {
                let mut ctx = OutboundContext::new(inner, idx);
                match m.take::<<H as OutboundHandler>::Write>() {
                    Some(msg) => self.0.write(&mut ctx, msg, p),
                    None => {
                        ctx.unexpected(Event::Write(m, p), meta::<<H as OutboundHandler>::Write>())
                    }
                }
            }
            Event::Other(o) => self.other(inner, idx, o),
        }
    }

    fn drain(&mut self, inner: &mut Inner, idx: usize) {
        type R<H> = <H as InboundHandler>::Read;
        type W<H> = <H as OutboundHandler>::Write;
        while let Some(item) = pop::<R<H>, W<H>>(inner, idx) {
            match item {
                Deferred::Read(r) => self.0.channel_read(&mut InboundContext::new(inner, idx), r),
                Deferred::Write(w, p) => self.0.write(&mut OutboundContext::new(inner, idx), w, p),
                Deferred::Other(o) => self.other(inner, idx, o),
            }
        }
    }

    fn forward_mailbox(&mut self, inner: &mut Inner, idx: usize) {
        forward_all::<<H as InboundHandler>::Read, <H as OutboundHandler>::Write>(inner, idx);
    }

    channel_handler_callbacks!();
}
