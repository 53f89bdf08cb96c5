//! Dispatch: delivering an event to a slot's handler, the mailbox of a handler
//! that is running, passing events on from removed slots, and a message of the
//! wrong type.

use super::erased::{self, ErasedHandler, Event, Msg, OwnedEvent, TypeInfo};
use super::{Due, HEAD, Inner, TAIL};
use crate::error::{ChannelError, Direction, Error};

impl Inner {
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
        while budget > 0 && !self.life.is_closed() {
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
    pub(super) fn take_live(&mut self, idx: usize) -> Option<Box<dyn ErasedHandler>> {
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
    pub(super) fn put_back(&mut self, idx: usize, h: Box<dyn ErasedHandler>) {
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
    pub(super) fn invoke_slow(&mut self, idx: usize, ev: Event<'_>) {
        if self.hot[idx].removed {
            self.forward(idx, ev)
        } else {
            self.defer(idx, ev)
        }
    }

    /// After a callback: deliver what queued up meanwhile, then put the handler
    /// back, or finish its removal.
    #[cold]
    pub(super) fn finish_slow(&mut self, idx: usize, mut h: Box<dyn ErasedHandler>) {
        if self.hot[idx].deferred > 0 {
            h.drain(self, idx);
            if self.hot[idx].deferred == 0 {
                // An idle channel holds no mailbox: the empty one goes back to
                // the thread's spares, for the next handler that gets busy.
                if let Some(mailbox) = self.slots[idx].mailbox.take() {
                    erased::recycle::give(mailbox);
                }
            }
        }
        if self.hot[idx].removed {
            h.removed(self, idx);
            h.forward_mailbox(self, idx);
        } else {
            self.hot[idx].handler = Some(h);
        }
    }

    pub(super) fn defer(&mut self, idx: usize, ev: Event<'_>) {
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
            slot.name = super::names::intern("");
            self.hot[idx].deferred = 0;
            self.free.push(idx);
        }
    }

    /// A message of the wrong type reached slot `idx`.
    pub(crate) fn unexpected(&mut self, idx: usize, ev: Event<'_>, expected: TypeInfo) {
        let handler = self.slots[idx].name.to_string();
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
}
