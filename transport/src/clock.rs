//! The loop's clock: read once per driver turn, as nginx caches its time once
//! per event-loop iteration.
//!
//! A turn that answers a request asks for the time many times: the core
//! checks its deadline, and handlers reset read, idle and write timeouts
//! through [`Context::now`](seine_channel::Context::now). Each read is a vDSO
//! call (about 20 ns, more under a hypervisor); one per turn is enough, since a
//! turn lasts microseconds. Outside a turn (a channel being registered, code on
//! another thread) [`now`] reads the real clock, so a value is never older than
//! the turn that took it.

use std::cell::Cell;
use std::time::Instant;

thread_local! {
    /// The time the current turn began, while a turn runs on this thread.
    static TURN: Cell<Option<Instant>> = const { Cell::new(None) };
}

/// The time now: the current turn's start while a driver turn runs on this
/// thread, the real clock otherwise.
pub(crate) fn now() -> Instant {
    TURN.get().unwrap_or_else(Instant::now)
}

/// A driver turn on this thread: [`now`] answers from one clock read until
/// this is dropped. Nested turns restore the outer one's time.
pub(crate) struct TurnClock {
    outer: Option<Instant>,
}

impl TurnClock {
    /// Reads the clock and starts a turn.
    pub(crate) fn begin() -> Self {
        let outer = TURN.replace(Some(Instant::now()));
        TurnClock { outer }
    }
}

impl Drop for TurnClock {
    fn drop(&mut self) {
        TURN.set(self.outer);
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn a_turn_answers_from_one_read_and_ends_with_its_guard() {
        let outside = now();
        std::thread::sleep(Duration::from_millis(2));
        let turn = TurnClock::begin();
        let t = now();
        assert!(t > outside);
        std::thread::sleep(Duration::from_millis(2));
        // The same instant for the whole turn.
        assert_eq!(now(), t);
        {
            let inner = TurnClock::begin();
            assert!(now() > t);
            drop(inner);
        }
        assert_eq!(now(), t);
        drop(turn);
        // After the turn: the real clock again.
        assert!(now() >= t + Duration::from_millis(2));
        assert!(TURN.get().is_none());
    }
}
