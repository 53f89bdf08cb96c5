//! A channel's timers: its handlers' (by slot and key) and its scheduled user
//! events, in one [`TimerQueue`]. Nothing is allocated until the first timer is
//! set, so a channel whose handlers set none pays one pointer.

use std::time::Instant;

use super::HEAD;
use crate::handler::UserEvent;
use crate::timer::TimerQueue;

/// A timer: the slot whose handler set it and the handler's key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct TimerId {
    pub(crate) slot: u32,
    pub(crate) key: u64,
}

#[derive(Default)]
pub(crate) struct Timers(Option<Box<Set>>);

#[derive(Default)]
struct Set {
    queue: TimerQueue<TimerId>,
    /// The events of scheduled user events, by key (their timers belong to the head).
    scheduled: Vec<(u64, UserEvent)>,
    next_scheduled: u64,
}

/// What [`Timers::pop_due`] found.
pub(crate) enum Due {
    /// A handler's timer.
    Handler { slot: usize, key: u64 },
    /// A scheduled user event, to fire from the head.
    Event(UserEvent),
}

impl Timers {
    fn set_mut(&mut self) -> &mut Set {
        self.0.get_or_insert_with(Box::default)
    }

    pub(crate) fn set(&mut self, id: TimerId, at: Instant) {
        self.set_mut().queue.set(id, at);
    }

    pub(crate) fn cancel(&mut self, id: TimerId) -> bool {
        self.0.as_mut().is_some_and(|s| s.queue.cancel(&id))
    }

    pub(crate) fn deadline(&self, id: TimerId) -> Option<Instant> {
        self.0.as_ref()?.queue.deadline(&id)
    }

    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        self.0.as_ref()?.queue.next_deadline()
    }

    pub(crate) fn len(&self) -> usize {
        self.0.as_ref().map_or(0, |s| s.queue.len())
    }

    /// Cancels every timer of `slot` (its handler left the pipeline).
    pub(crate) fn cancel_slot(&mut self, slot: usize) {
        if let Some(s) = &mut self.0 {
            s.queue.cancel_where(|t| t.slot as usize == slot);
        }
    }

    /// Schedules `event` to fire from the head at `at`; returns its key.
    pub(crate) fn schedule(&mut self, event: UserEvent, at: Instant) -> u64 {
        let s = self.set_mut();
        s.next_scheduled += 1;
        let key = s.next_scheduled;
        s.scheduled.push((key, event));
        s.queue.set(
            TimerId {
                slot: HEAD as u32,
                key,
            },
            at,
        );
        key
    }

    /// Cancels a scheduled event; whether it had not fired yet.
    pub(crate) fn cancel_scheduled(&mut self, key: u64) -> bool {
        let Some(s) = &mut self.0 else {
            return false;
        };
        s.scheduled.retain(|e| e.0 != key);
        s.queue.cancel(&TimerId {
            slot: HEAD as u32,
            key,
        })
    }

    /// The earliest timer due at `now`, if any.
    pub(crate) fn pop_due(&mut self, now: Instant) -> Option<Due> {
        let s = self.0.as_mut()?;
        loop {
            let (id, _) = s.queue.pop_due(now)?;
            if id.slot as usize != HEAD {
                return Some(Due::Handler {
                    slot: id.slot as usize,
                    key: id.key,
                });
            }
            if let Some(i) = s.scheduled.iter().position(|e| e.0 == id.key) {
                return Some(Due::Event(s.scheduled.swap_remove(i).1));
            }
        }
    }

    /// Drops every timer and its storage (the channel closed).
    pub(crate) fn clear(&mut self) {
        self.0 = None;
    }
}
