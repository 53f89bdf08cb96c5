//! Hooks into the loop side of a channel for the loom models in `tests/loom_*.rs`
//! (built only with `--cfg seine_loom`). Not part of the API.

use std::collections::VecDeque;

use crate::channel::{Channel, Command};
use crate::completion::Completion;

/// The loop drains the handle queue: returns the `u32` messages written, in order,
/// and marks each write's ticket (numbered from `first_ticket`) as written.
pub fn drain_and_complete(ch: &Channel, first_ticket: &mut u64) -> Vec<u32> {
    let mut cmds = VecDeque::new();
    ch.shared.queue.drain_into(&mut cmds);
    let mut out = Vec::new();
    for cmd in cmds {
        if let Command::Write {
            mut msg, ticket, ..
        } = cmd
        {
            *first_ticket += 1;
            ticket.assign(*first_ticket, &ch.shared.completions);
            ch.shared.completions.complete_through(*first_ticket);
            if let Some(v) = msg.downcast_mut::<Option<u32>>().and_then(Option::take) {
                out.push(v);
            }
        }
    }
    out
}

/// The loop closes the channel: completions fail, the queue refuses new work;
/// returns the `u32` writes that were still queued (never to run).
pub fn close(ch: &Channel) -> Vec<u32> {
    ch.shared.completions.close(None);
    let left = ch.shared.queue.close();
    left.into_iter()
        .filter_map(|cmd| match cmd {
            Command::Write { mut msg, .. } => {
                msg.downcast_mut::<Option<u32>>().and_then(Option::take)
            }
            _ => None,
        })
        .collect()
}

/// The completion of loop-side ticket `ticket`.
pub fn completion(ch: &Channel, ticket: u64) -> Completion {
    Completion::ticket(ch.shared.completions.clone(), ticket)
}

/// The loop marks every ticket up to `ticket` as written.
pub fn complete_through(ch: &Channel, ticket: u64) {
    ch.shared.completions.complete_through(ticket);
}

/// The loop flips the writability flag.
pub fn set_writable(ch: &Channel, on: bool) {
    ch.set_writable(on);
}

/// A blocking job's thread hands its output back: queues it for slot 2 of
/// generation 1 under `key`.
pub fn deliver(ch: &Channel, key: u64, value: u32) {
    ch.deliver(2, 1, key, Box::new(value));
}

/// The loop drains the handle queue: returns the (key, value) outputs delivered,
/// in order.
pub fn drain_delivered(ch: &Channel) -> Vec<(u64, u32)> {
    let mut cmds = VecDeque::new();
    ch.shared.queue.drain_into(&mut cmds);
    cmds.into_iter()
        .filter_map(|cmd| match cmd {
            Command::Deliver { key, output, .. } => {
                output.downcast::<u32>().ok().map(|v| (key, *v))
            }
            _ => None,
        })
        .collect()
}

/// The loop closes the queue; returns the outputs still queued (never delivered).
pub fn close_delivered(ch: &Channel) -> usize {
    ch.shared
        .queue
        .close()
        .into_iter()
        .filter(|cmd| matches!(cmd, Command::Deliver { .. }))
        .count()
}
