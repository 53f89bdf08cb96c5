//! A channel's one timer, shared by the stream and datagram drivers: it wakes the
//! driver when the core's next deadline ([`ChannelCore::next_timeout`]) comes.
//!
//! [`ChannelCore::next_timeout`]: seine_channel::ChannelCore::next_timeout

use std::future::Future;
use std::pin::Pin;
use std::task::Context as TaskContext;
use std::time::Instant;

/// Made the first time the core sets a deadline, then moved (never re-made) as
/// the deadline changes.
#[derive(Default)]
pub(crate) struct Wakeup {
    sleep: Option<Pin<Box<tokio::time::Sleep>>>,
    at: Option<Instant>,
}

impl Wakeup {
    /// Whether `deadline` has passed; otherwise arms the timer for it.
    ///
    /// A deadline already due counts at once: the runtime's timer has a
    /// millisecond tick, so a timer set for "now" (a handler deferring work to the
    /// end of the batch) would otherwise wait for the next tick, up to 1 ms.
    pub(crate) fn poll(&mut self, deadline: Option<Instant>, cx: &mut TaskContext<'_>) -> bool {
        let Some(deadline) = deadline else {
            return false;
        };
        if deadline <= Instant::now() {
            return true;
        }
        let at = tokio::time::Instant::from_std(deadline);
        let sleep = self
            .sleep
            .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(at)));
        if self.at != Some(deadline) {
            sleep.as_mut().reset(at);
            self.at = Some(deadline);
        }
        sleep.as_mut().poll(cx).is_ready()
    }
}

/// Whether the core has a timer due now: the driver then lets the loop's other
/// tasks run before it fires it, so that a handler re-arming a timer for "now"
/// cannot keep the loop to itself.
pub(crate) fn due_now(deadline: Option<Instant>) -> bool {
    deadline.is_some_and(|d| d <= Instant::now())
}

#[cfg(test)]
mod tests {
    use std::task::Waker;
    use std::time::Duration;

    use super::*;

    #[test]
    fn a_due_deadline_counts_at_once_without_the_runtime_timer() {
        // Outside a runtime: making a `Sleep` would panic, so this also shows a
        // due deadline never waits for the timer's millisecond tick.
        let mut cx = TaskContext::from_waker(Waker::noop());
        let mut w = Wakeup::default();
        assert!(!w.poll(None, &mut cx));
        let past = Instant::now() - Duration::from_millis(5);
        assert!(w.poll(Some(past), &mut cx));
        assert!(w.sleep.is_none());
        assert!(due_now(Some(past)));
        assert!(!due_now(None));
        assert!(!due_now(Some(Instant::now() + Duration::from_secs(60))));
    }

    #[tokio::test]
    async fn a_later_deadline_arms_one_timer_and_moves_it() {
        let mut cx = TaskContext::from_waker(Waker::noop());
        let mut w = Wakeup::default();
        let later = Instant::now() + Duration::from_secs(60);
        assert!(!w.poll(Some(later), &mut cx));
        assert!(w.sleep.is_some());
        let later2 = later + Duration::from_secs(1);
        assert!(!w.poll(Some(later2), &mut cx));
        assert_eq!(w.at, Some(later2));
    }
}
