//! What wakes a channel's driver, shared by the stream and datagram drivers:
//! work queued by handles, the core's next deadline
//! ([`ChannelCore::next_timeout`]) through the channel's one timer, and the
//! socket's readiness for the direction the core wants.

use std::future::{Future, poll_fn};
use std::io;
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};
use std::time::Instant;

use seine_channel::ChannelCore;

use crate::clock::{self, TurnClock};

/// What a driver's turn found ready, run by [`Turn::run`]. While it lives, the
/// loop's clock answers from the one read taken when the turn began
/// ([`clock`]).
pub(crate) struct Turn {
    _clock: TurnClock,
    queued: bool,
    timer: bool,
    /// The socket can take writes (only polled while flushed data waits).
    writable: Option<io::Result<()>>,
    /// The socket has input (only polled while the core wants to read).
    readable: Option<io::Result<()>>,
}

/// Waits until something of the channel's is ready: queued work, a deadline, or
/// the socket in a direction the core wants (`poll_write`, `poll_read`).
pub(crate) async fn next_turn(
    core: &mut ChannelCore,
    wakeup: &mut Wakeup,
    mut poll_write: impl FnMut(&mut TaskContext<'_>) -> Poll<io::Result<()>>,
    mut poll_read: impl FnMut(&mut TaskContext<'_>) -> Poll<io::Result<()>>,
) -> Turn {
    poll_fn(|cx| {
        let turn = Turn {
            _clock: TurnClock::begin(),
            queued: core.poll_queued(cx).is_ready(),
            timer: wakeup.poll(core.next_timeout(), cx),
            writable: if core.wants_write() {
                ready(poll_write(cx))
            } else {
                None
            },
            readable: if core.wants_read() {
                ready(poll_read(cx))
            } else {
                None
            },
        };
        if turn.queued || turn.timer || turn.writable.is_some() || turn.readable.is_some() {
            Poll::Ready(turn)
        } else {
            Poll::Pending
        }
    })
    .await
}

fn ready<T>(p: Poll<T>) -> Option<T> {
    match p {
        Poll::Ready(t) => Some(t),
        Poll::Pending => None,
    }
}

impl Turn {
    /// Runs the turn in the order [`seine_channel::transport`] gives, the same for
    /// every driver: what handles queued and the timers due, then the write the
    /// socket is ready for, then `read` (a read batch) if the socket has input and
    /// the core wants it. A readiness error goes to `fail` with the matching one
    /// of `contexts` (writing, reading). Returns whether the driver should come
    /// back at once (the batch hit its limit, or a timer is due again). The
    /// turn, and its clock, end here.
    pub(crate) fn run(
        mut self,
        core: &mut ChannelCore,
        read: impl FnOnce(&mut ChannelCore) -> bool,
        fail: impl Fn(&mut ChannelCore, io::Error, &'static str),
        contexts: [&'static str; 2],
    ) -> bool {
        if self.queued {
            core.run_queued();
        }
        if self.timer {
            core.handle_timeout(clock::now());
        }
        match self.writable.take() {
            Some(Ok(())) if core.wants_write() => core.write_pending(),
            Some(Err(e)) => fail(core, e, contexts[0]),
            _ => {}
        }
        let more = match self.readable.take() {
            Some(Ok(())) if core.wants_read() => read(core),
            Some(Err(e)) => {
                fail(core, e, contexts[1]);
                false
            }
            _ => false,
        };
        more || due_now(core.next_timeout())
    }
}

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
        if deadline <= clock::now() {
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
    deadline.is_some_and(|d| d <= clock::now())
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
