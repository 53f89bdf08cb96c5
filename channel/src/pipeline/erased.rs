//! Handlers as the pipeline stores them: type-erased, receiving messages as
//! `&mut dyn Any` pointing at an `Option<T>` the receiver `take`s. A message hop
//! allocates nothing.

use std::any::Any;
use std::collections::VecDeque;

use crate::completion::Promise;
use crate::context::{Context, InboundContext, OutboundContext};
use crate::error::{Direction, Error};
use crate::handler::{InboundHandler, OutboundHandler, TypeInfo, UserEvent};
use crate::pipeline::Inner;

/// A message in flight: a pointer to the sender's `Option<T>`, plus the type's
/// name for error messages.
pub(crate) struct Msg<'m> {
    any: &'m mut dyn Any,
    pub(crate) type_name: &'static str,
    boxer: Boxer,
}

/// Moves the message out of its `Option<T>` into a box (for the test transport,
/// which keeps messages of any type).
pub(crate) type Boxer = fn(&mut dyn Any) -> Option<Box<dyn Any>>;

pub(crate) fn boxer<T: 'static>(any: &mut dyn Any) -> Option<Box<dyn Any>> {
    any.downcast_mut::<Option<T>>()
        .and_then(Option::take)
        .map(|t| Box::new(t) as Box<dyn Any>)
}

impl<'m> Msg<'m> {
    #[inline]
    pub(crate) fn new<T: 'static>(slot: &'m mut Option<T>) -> Self {
        Msg {
            any: slot,
            type_name: std::any::type_name::<T>(),
            boxer: boxer::<T>,
        }
    }

    /// A message whose `Option<T>` is behind `any` (boxed by a `Channel` handle).
    pub(crate) fn from_raw(any: &'m mut dyn Any, type_name: &'static str, boxer: Boxer) -> Self {
        Msg {
            any,
            type_name,
            boxer,
        }
    }

    /// Moves the message into a box, whatever its type.
    pub(crate) fn take_boxed(&mut self) -> Option<Box<dyn Any>> {
        (self.boxer)(self.any)
    }

    /// Takes the message out if it is a `T`.
    #[inline]
    pub(crate) fn take<T: 'static>(&mut self) -> Option<T> {
        self.any.downcast_mut::<Option<T>>().and_then(Option::take)
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
        .get_or_insert_with(|| Box::new(Mailbox::<R, W>::new()))
        .downcast_mut::<Mailbox<R, W>>()
        .expect("mailbox type matches its slot")
        .push_back(item);
    Ok(())
}

/// What the pipeline knows of a slot's types.
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
    pub(crate) fn inbound<R: 'static, F: 'static>() -> Self {
        SlotTypes {
            read: Some(TypeInfo::of::<R>()),
            fire: Some(TypeInfo::of::<F>()),
            write: None,
            emit: None,
            defer: defer::<R, NoWrite>,
        }
    }

    pub(crate) fn outbound<W: 'static, E: 'static>() -> Self {
        SlotTypes {
            read: None,
            fire: None,
            write: Some(TypeInfo::of::<W>()),
            emit: Some(TypeInfo::of::<E>()),
            defer: defer::<NoWrite, W>,
        }
    }

    pub(crate) fn duplex<R: 'static, F: 'static, W: 'static, E: 'static>() -> Self {
        SlotTypes {
            read: Some(TypeInfo::of::<R>()),
            fire: Some(TypeInfo::of::<F>()),
            write: Some(TypeInfo::of::<W>()),
            emit: Some(TypeInfo::of::<E>()),
            defer: defer::<R, W>,
        }
    }

    pub(crate) fn is_inbound(&self) -> bool {
        self.read.is_some()
    }

    pub(crate) fn is_outbound(&self) -> bool {
        self.write.is_some()
    }

    pub(crate) fn describe(&self) -> String {
        let name = |t: Option<TypeInfo>| t.map_or("-", |t| t.name);
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

    /// Delivers what queued up in the slot's mailbox while the handler was busy,
    /// stopping early if the slot was removed.
    fn drain(&mut self, inner: &mut Inner, idx: usize);

    /// The slot was removed: passes mailbox items on to the neighbours.
    fn forward_mailbox(&mut self, inner: &mut Inner, idx: usize);

    fn added(&mut self, inner: &mut Inner, idx: usize);
    fn removed(&mut self, inner: &mut Inner, idx: usize);
}

pub(crate) struct Inbound<H>(pub(crate) H);
pub(crate) struct Outbound<H>(pub(crate) H);
pub(crate) struct Duplex<H>(pub(crate) H);

fn inbound_event<H: InboundHandler>(h: &mut H, ctx: &mut InboundContext<'_, H::Fire>, ev: OwnedEvent) {
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

fn outbound_event<H: OutboundHandler>(h: &mut H, ctx: &mut OutboundContext<'_, H::Emit>, ev: OwnedEvent) {
    match ev {
        OwnedEvent::Flush => h.flush(ctx),
        OwnedEvent::ReadRequest => h.read(ctx),
        OwnedEvent::Close => h.close(ctx),
        OwnedEvent::ShutdownOutput => h.shutdown_output(ctx),
        other => ctx.forward(Event::Other(other)),
    }
}

fn pop<R: 'static, W: 'static>(inner: &mut Inner, idx: usize) -> Option<Deferred<R, W>> {
    let slot = &mut inner.slots[idx];
    if slot.deferred == 0 || slot.removed {
        return None;
    }
    let item = slot
        .mailbox
        .as_mut()?
        .downcast_mut::<Mailbox<R, W>>()?
        .pop_front();
    if item.is_some() {
        slot.deferred -= 1;
    }
    item
}

fn forward_all<R: 'static, W: 'static>(inner: &mut Inner, idx: usize) {
    inner.slots[idx].removed = true;
    loop {
        let slot = &mut inner.slots[idx];
        let Some(item) = slot
            .mailbox
            .as_mut()
            .and_then(|m| m.downcast_mut::<Mailbox<R, W>>())
            .and_then(|m| m.pop_front())
        else {
            slot.deferred = 0;
            return;
        };
        slot.deferred = slot.deferred.saturating_sub(1);
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
    fn handle(&mut self, inner: &mut Inner, idx: usize, ev: Event<'_>) {
        let mut ctx = InboundContext::new(inner, idx);
        match ev {
            Event::Read(mut m) => match m.take::<H::Read>() {
                Some(msg) => self.0.channel_read(&mut ctx, msg),
                None => ctx.unexpected(Event::Read(m), TypeInfo::of::<H::Read>()),
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

    fn added(&mut self, inner: &mut Inner, idx: usize) {
        self.0.handler_added(&mut Context::new(inner, idx));
    }

    fn removed(&mut self, inner: &mut Inner, idx: usize) {
        self.0.handler_removed(&mut Context::new(inner, idx));
    }
}

impl<H: OutboundHandler> ErasedHandler for Outbound<H> {
    #[inline]
    fn handle(&mut self, inner: &mut Inner, idx: usize, ev: Event<'_>) {
        let mut ctx = OutboundContext::new(inner, idx);
        match ev {
            Event::Write(mut m, p) => match m.take::<H::Write>() {
                Some(msg) => self.0.write(&mut ctx, msg, p),
                None => ctx.unexpected(Event::Write(m, p), TypeInfo::of::<H::Write>()),
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

    fn added(&mut self, inner: &mut Inner, idx: usize) {
        self.0.handler_added(&mut Context::new(inner, idx));
    }

    fn removed(&mut self, inner: &mut Inner, idx: usize) {
        self.0.handler_removed(&mut Context::new(inner, idx));
    }
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
    fn handle(&mut self, inner: &mut Inner, idx: usize, ev: Event<'_>) {
        match ev {
            Event::Read(mut m) => {
                let mut ctx = InboundContext::new(inner, idx);
                match m.take::<<H as InboundHandler>::Read>() {
                    Some(msg) => self.0.channel_read(&mut ctx, msg),
                    None => ctx.unexpected(
                        Event::Read(m),
                        TypeInfo::of::<<H as InboundHandler>::Read>(),
                    ),
                }
            }
            Event::Write(mut m, p) => {
                let mut ctx = OutboundContext::new(inner, idx);
                match m.take::<<H as OutboundHandler>::Write>() {
                    Some(msg) => self.0.write(&mut ctx, msg, p),
                    None => ctx.unexpected(
                        Event::Write(m, p),
                        TypeInfo::of::<<H as OutboundHandler>::Write>(),
                    ),
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
                Deferred::Write(w, p) => {
                    self.0.write(&mut OutboundContext::new(inner, idx), w, p)
                }
                Deferred::Other(o) => self.other(inner, idx, o),
            }
        }
    }

    fn forward_mailbox(&mut self, inner: &mut Inner, idx: usize) {
        forward_all::<<H as InboundHandler>::Read, <H as OutboundHandler>::Write>(inner, idx);
    }

    fn added(&mut self, inner: &mut Inner, idx: usize) {
        self.0.handler_added(&mut Context::new(inner, idx));
    }

    fn removed(&mut self, inner: &mut Inner, idx: usize) {
        self.0.handler_removed(&mut Context::new(inner, idx));
    }
}
