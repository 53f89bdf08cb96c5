//! Changing the pipeline: add, remove and replace handlers by name, with the
//! message types of neighbours checked before any change is made.

use seine_buffer::Bytes;

use super::{HEAD, HeadKind, Hot, Inner, Slot, TAIL};
use crate::channel::Channel;
use crate::error::{ChannelError, Direction};
use crate::handler::Handler;
use crate::pipeline::erased::SlotTypes;
use crate::pipeline::erased::{TypeInfo, meta};

/// The pipeline of one channel, borrowed to add, remove or replace handlers.
///
/// Every change checks the message types of the handlers that become neighbours
/// and refuses a mismatch with [`ChannelError::TypeMismatch`], naming both handlers
/// and both types; the pipeline is left as it was. Changes made while events flow
/// (from a handler, through `ctx.pipeline()`) apply to the next event.
///
/// ```
/// use seine_channel::{ChannelError, ChannelHandler, Handler,
///     InboundContext, InboundHandler};
/// use seine_channel::testing::EmbeddedChannel;
///
/// struct Parse;
/// impl ChannelHandler for Parse {}
/// impl InboundHandler for Parse {
///     type Read = String;
///     type Fire = u64;
///     fn channel_read(&mut self, ctx: &mut InboundContext<'_, u64>, msg: String) {
///         if let Ok(n) = msg.trim().parse() { ctx.fire_read(n) }
///     }
/// }
///
/// let mut ch = EmbeddedChannel::new();
/// ch.pipeline().add_last("parse", Handler::inbound(Parse)).unwrap();
/// // A second `Parse` would read `String` where the first fires `u64`:
/// let err = ch.pipeline().add_last("again", Handler::inbound(Parse)).map(|_| ()).unwrap_err();
/// assert!(matches!(err, ChannelError::TypeMismatch { .. }));
/// assert!(err.to_string().contains("`parse` passes on `u64`"));
/// ```
pub struct Pipeline<'a> {
    inner: &'a mut Inner,
    /// Borrowed from outside the pipeline (no handler is running).
    top: bool,
}

impl<'a> Pipeline<'a> {
    /// A view for a handler (a handler is running).
    pub(crate) fn new(inner: &'a mut Inner) -> Self {
        Pipeline { inner, top: false }
    }

    /// A view from outside the pipeline (the driver, an initializer).
    pub(crate) fn top(inner: &'a mut Inner) -> Self {
        Pipeline { inner, top: true }
    }

    /// The channel's handle.
    pub fn channel(&self) -> &Channel {
        &self.inner.channel
    }

    /// Adds `handler` first (next to the head).
    pub fn add_first(&mut self, name: &str, handler: Handler) -> Result<&mut Self, ChannelError> {
        self.insert(0, name, handler)?;
        Ok(self)
    }

    /// Adds `handler` last (next to the tail).
    pub fn add_last(&mut self, name: &str, handler: Handler) -> Result<&mut Self, ChannelError> {
        let pos = self.inner.order.len();
        self.insert(pos, name, handler)?;
        Ok(self)
    }

    /// Adds `handler` just before the handler named `base`.
    pub fn add_before(
        &mut self,
        base: &str,
        name: &str,
        handler: Handler,
    ) -> Result<&mut Self, ChannelError> {
        let pos = self.position(base)?;
        self.insert(pos, name, handler)?;
        Ok(self)
    }

    /// Adds `handler` just after the handler named `base`.
    pub fn add_after(
        &mut self,
        base: &str,
        name: &str,
        handler: Handler,
    ) -> Result<&mut Self, ChannelError> {
        let pos = self.position(base)?;
        self.insert(pos + 1, name, handler)?;
        Ok(self)
    }

    /// Removes the handler named `name`; its `handler_removed` runs (at once, or
    /// when its running callback returns if it removes itself).
    pub fn remove(&mut self, name: &str) -> Result<(), ChannelError> {
        let pos = self.position(name)?;
        let mut order = self.inner.order.clone();
        order.remove(pos);
        self.check(&order, None)?;
        let idx = self.inner.order[pos];
        self.detach(idx, order);
        Ok(())
    }

    /// Replaces the handler named `old` with `handler` under `name` (which may be
    /// `old` again). The new handler is added before the old one's
    /// `handler_removed` runs, so a decoder's leftover bytes reach its successor.
    pub fn replace(&mut self, old: &str, name: &str, handler: Handler) -> Result<(), ChannelError> {
        let pos = self.position(old)?;
        if name != old {
            self.check_name(name)?;
        }
        let old_idx = self.inner.order[pos];
        let mut order = self.inner.order.clone();
        order[pos] = usize::MAX;
        self.check(&order, Some((name, handler.types)))?;
        let new_idx = self.attach(pos + 1, name, handler);
        self.added(new_idx);
        let mut order = self.inner.order.clone();
        order.retain(|&i| i != old_idx);
        self.detach(old_idx, order);
        Ok(())
    }

    /// The handlers' names, head to tail.
    pub fn names(&self) -> Vec<String> {
        self.inner
            .order
            .iter()
            .map(|&i| self.inner.slots[i].name.to_string())
            .collect()
    }

    /// Whether a handler named `name` is in the pipeline.
    pub fn contains(&self, name: &str) -> bool {
        self.position(name).is_ok()
    }

    fn position(&self, name: &str) -> Result<usize, ChannelError> {
        self.inner
            .order
            .iter()
            .position(|&i| *self.inner.slots[i].name == *name)
            .ok_or_else(|| ChannelError::NoSuchHandler(name.to_owned()))
    }

    fn check_name(&self, name: &str) -> Result<(), ChannelError> {
        if name == "head" || name == "tail" {
            return Err(ChannelError::ReservedName(name.to_owned()));
        }
        if self.contains(name) {
            return Err(ChannelError::DuplicateName(name.to_owned()));
        }
        Ok(())
    }

    fn insert(&mut self, pos: usize, name: &str, handler: Handler) -> Result<(), ChannelError> {
        self.check_name(name)?;
        let mut order = self.inner.order.clone();
        order.insert(pos, usize::MAX);
        self.check(&order, Some((name, handler.types)))?;
        let idx = self.attach(pos, name, handler);
        self.added(idx);
        Ok(())
    }

    /// Puts `handler` in a slot at order position `pos` (types already checked; no
    /// callback yet).
    fn attach(&mut self, pos: usize, name: &str, handler: Handler) -> usize {
        self.inner.next_generation = self.inner.next_generation.wrapping_add(1);
        let slot = Slot {
            name: super::names::intern(name),
            generation: self.inner.next_generation,
            mailbox: None,
            types: handler.types,
        };
        let hot = Hot {
            handler: Some(handler.erased),
            next_in: TAIL as u32,
            prev_out: HEAD as u32,
            deferred: 0,
            removed: false,
        };
        let idx = match self.inner.free.pop() {
            Some(i) => {
                self.inner.slots[i] = slot;
                self.inner.hot[i] = hot;
                i
            }
            None => {
                // Exact sizes: pipelines change rarely, and every connection holds one.
                self.inner.slots.reserve_exact(1);
                self.inner.hot.reserve_exact(1);
                self.inner.slots.push(slot);
                self.inner.hot.push(hot);
                self.inner.slots.len() - 1
            }
        };
        self.inner.order.reserve_exact(1);
        self.inner.order.insert(pos, idx);
        self.relink();
        idx
    }

    fn added(&mut self, idx: usize) {
        if let Some(mut h) = self.inner.hot[idx].handler.take() {
            h.added(self.inner, idx);
            if self.inner.hot[idx].removed {
                h.removed(self.inner, idx);
            } else {
                self.inner.hot[idx].handler = Some(h);
            }
        }
    }

    /// Takes slot `idx` out of the order (already checked as `order`).
    fn detach(&mut self, idx: usize, order: Vec<usize>) {
        self.inner.order = order;
        self.relink();
        self.inner.hot[idx].removed = true;
        self.inner.graveyard.push(idx);
        self.inner.timers.cancel_slot(idx);
        if let Some(mut h) = self.inner.hot[idx].handler.take() {
            h.removed(self.inner, idx);
            h.forward_mailbox(self.inner, idx);
        }
        // else: the handler is running (it removed itself); `invoke` calls
        // `handler_removed` when its callback returns.
        if self.top {
            self.inner.reclaim();
        }
    }

    /// Recomputes every live slot's next inbound and previous outbound neighbour.
    fn relink(&mut self) {
        let inner = &mut *self.inner;
        let mut next_in = TAIL;
        for &i in inner.order.iter().rev() {
            inner.hot[i].next_in = next_in as u32;
            if inner.slots[i].types.is_inbound() {
                next_in = i;
            }
        }
        inner.hot[HEAD].next_in = next_in as u32;
        let mut prev_out = HEAD;
        for &i in inner.order.iter() {
            inner.hot[i].prev_out = prev_out as u32;
            if inner.slots[i].types.is_outbound() {
                prev_out = i;
            }
        }
        inner.hot[TAIL].prev_out = prev_out as u32;
    }

    /// Checks the types along `order` (`usize::MAX` stands for `new`).
    fn check(&self, order: &[usize], new: Option<(&str, &SlotTypes)>) -> Result<(), ChannelError> {
        let entries: Vec<(&str, &SlotTypes)> = order
            .iter()
            .map(|&i| {
                if i == usize::MAX {
                    new.expect("a new handler stands at usize::MAX")
                } else {
                    let s = &self.inner.slots[i];
                    (&*s.name, s.types)
                }
            })
            .collect();
        // Inbound, head to tail: what one fires, the next reads.
        let mut prev: Option<(&str, TypeInfo)> = match self.inner.head {
            HeadKind::Socket => Some(("head", meta::<Bytes>())),
            HeadKind::Datagram => Some(("head", meta::<crate::DatagramPacket>())),
            HeadKind::Embedded(_) => None,
        };
        for &(name, t) in &entries {
            let (Some(read), Some(fire)) = (t.read, t.fire) else {
                continue;
            };
            if let Some((from, fired)) = prev
                && fired.type_id() != read.type_id()
            {
                return Err(mismatch(Direction::Inbound, from, fired, name, read.name()));
            }
            prev = Some((name, fire));
        }

        // Outbound, tail to head: what one writes, the previous accepts.
        let mut next: Option<(&str, TypeInfo)> = None;
        for &(name, t) in entries.iter().rev() {
            let (Some(write), Some(emit)) = (t.write, t.emit) else {
                continue;
            };
            if let Some((from, emitted)) = next
                && emitted.type_id() != write.type_id()
            {
                return Err(mismatch(
                    Direction::Outbound,
                    from,
                    emitted,
                    name,
                    write.name(),
                ));
            }
            next = Some((name, emit));
        }
        let (accepted, accepted_name) = self.inner.head_accepts();
        if let (false, Some((from, emitted))) = (accepted.is_empty(), next)
            && !accepted.iter().any(|&a| a.type_id() == emitted.type_id())
        {
            return Err(mismatch(
                Direction::Outbound,
                from,
                emitted,
                "head",
                accepted_name,
            ));
        }
        Ok(())
    }
}

fn mismatch(
    direction: Direction,
    from: &str,
    from_type: TypeInfo,
    to: &str,
    to_type: &'static str,
) -> ChannelError {
    ChannelError::TypeMismatch {
        direction,
        from: from.to_owned(),
        from_type: from_type.name(),
        to: to.to_owned(),
        to_type,
    }
}
