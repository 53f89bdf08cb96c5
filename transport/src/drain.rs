//! Graceful drain of a server's connections: tell every channel that shutdown
//! began ([`ShutdownRequested`]), let handlers finish their protocol's way until
//! the deadline, then close what is left without flushing and count it.

use std::time::{Duration, Instant};

use seine_channel::{Channel, ShutdownRequested, UserEvent};

use crate::channel_set::ChannelSet;
use crate::error::TransportError;

/// Fires [`ShutdownRequested`] into `ch`'s pipeline on its loop; closes the
/// channel gracefully right after if no handler took the drain over.
pub(crate) fn notify(ch: &Channel, deadline: Instant, grace: Duration) {
    ch.execute(move |core| {
        let event = ShutdownRequested::new(deadline, grace);
        let probe = event.clone();
        core.fire_user_event(UserEvent::new(event));
        if !probe.is_taken_over() && !core.is_closed() {
            core.close();
        }
    });
}

/// Closes each channel of `channels` still open without flushing; returns how
/// many it closed.
pub(crate) fn force_close(channels: &[Channel]) -> usize {
    let mut forced = 0;
    for ch in channels.iter().filter(|c| !c.is_closed()) {
        forced += 1;
        tracing::debug!(channel = %ch.id(), "graceful shutdown deadline passed: closing now");
        ch.execute(|core| {
            core.close_now(Some(seine_channel::Error::from(TransportError::Io {
                context: "graceful shutdown",
                addr: String::new(),
                source: std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    "the shutdown deadline passed before the channel finished",
                ),
            })))
        });
    }
    forced
}

/// Drains `set` (whose listeners have stopped): every open channel, and every
/// channel accepted from the backlog afterwards, gets [`ShutdownRequested`]; once
/// all have closed, or at `grace`, what is left is closed without flushing.
/// Returns how many were forced. Runs on an event loop (it needs tokio's timer).
pub(crate) async fn drain(set: std::sync::Arc<ChannelSet>, grace: Duration) -> usize {
    let now = tokio::time::Instant::now();
    let deadline = now + grace;
    let open = set.begin_draining(deadline.into_std(), grace);
    tracing::info!(
        connections = open.len(),
        grace_ms = grace.as_millis() as u64,
        "draining"
    );
    for ch in &open {
        notify(ch, deadline.into_std(), grace);
    }
    // Wait for every channel, including those registered after the drain began.
    loop {
        let open = set.open_channels();
        let Some(first) = open.first() else { break };
        if tokio::time::timeout_at(deadline, first.closed())
            .await
            .is_err()
        {
            break;
        }
    }
    let left = set.begin_closing();
    let forced = force_close(&left);
    set.add_forced(forced as u64);
    if forced > 0 {
        tracing::warn!(
            forced,
            "shutdown deadline passed: connections closed unfinished"
        );
        let until = tokio::time::Instant::now() + Duration::from_secs(5);
        for ch in &left {
            if tokio::time::timeout_at(until, ch.closed()).await.is_err() {
                tracing::warn!(channel = %ch.id(), "channel did not close after a forced close");
                break;
            }
        }
    }
    forced
}
