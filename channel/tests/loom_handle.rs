//! loom models of the cross-thread parts of a channel: the `Channel` handle's queue
//! to the loop, completions waking their waiters, and the writability flag.
//!
//! Run with:
//! `RUSTFLAGS="--cfg seine_loom" CARGO_TARGET_DIR=target/loom LOOM_MAX_PREEMPTIONS=2 \
//!  cargo test -p seine-channel --release --test 'loom_*'`
#![cfg(seine_loom)]

use loom::thread;
use seine_channel::__loom as hooks;
use seine_channel::{Addr, Channel};

#[test]
fn handle_writes_are_neither_lost_nor_reordered() {
    loom::model(|| {
        let ch = Channel::new(Addr::None, Addr::None);
        let producers: Vec<_> = [[1u32, 2], [10, 20]]
            .into_iter()
            .map(|msgs| {
                let ch = ch.clone();
                thread::spawn(move || msgs.into_iter().map(|m| ch.write(m)).collect::<Vec<_>>())
            })
            .collect();
        let mut ticket = 0;
        let mut got = Vec::new();
        got.extend(hooks::drain_and_complete(&ch, &mut ticket));
        let completions: Vec<_> = producers
            .into_iter()
            .flat_map(|p| p.join().unwrap())
            .collect();
        got.extend(hooks::drain_and_complete(&ch, &mut ticket));
        assert_eq!(got.len(), 4, "lost a write: {got:?}");
        let ones: Vec<_> = got.iter().filter(|v| **v < 10).collect();
        let tens: Vec<_> = got.iter().filter(|v| **v >= 10).collect();
        assert_eq!(ones, [&1, &2]);
        assert_eq!(tens, [&10, &20]);
        assert!(
            completions
                .iter()
                .all(|c| matches!(c.result(), Some(Ok(()))))
        );
    });
}

#[test]
fn close_racing_write_never_leaves_a_write_hanging() {
    loom::model(|| {
        let ch = Channel::new(Addr::None, Addr::None);
        let writer = {
            let ch = ch.clone();
            thread::spawn(move || ch.write(7u32))
        };
        let mut ticket = 0;
        let processed = hooks::drain_and_complete(&ch, &mut ticket);
        let dropped = hooks::close(&ch);
        let completion = writer.join().unwrap();
        let result = completion
            .result()
            .expect("after close every write has an outcome");
        match (processed.as_slice(), dropped.as_slice()) {
            ([7], []) => assert!(result.is_ok(), "processed write must succeed"),
            ([], [7]) | ([], []) => assert!(result.is_err(), "unprocessed write must fail"),
            other => panic!("write seen twice or mangled: {other:?}"),
        }
        // Once closed, a write is refused and fails at once.
        assert!(matches!(ch.write(8u32).result(), Some(Err(_))));
    });
}

#[test]
fn a_completion_waiter_is_always_woken() {
    loom::model(|| {
        let ch = Channel::new(Addr::None, Addr::None);
        let c = hooks::completion(&ch, 1);
        let waiter = thread::spawn(move || loom::future::block_on(c));
        hooks::complete_through(&ch, 1);
        assert!(waiter.join().unwrap().is_ok());
    });
}

#[test]
fn a_close_wakes_completion_waiters() {
    loom::model(|| {
        let ch = Channel::new(Addr::None, Addr::None);
        let c = hooks::completion(&ch, 1);
        let waiter = thread::spawn(move || loom::future::block_on(c));
        hooks::close(&ch);
        assert!(waiter.join().unwrap().is_err());
    });
}

#[test]
fn the_writability_flag_ends_in_the_loops_last_state() {
    loom::model(|| {
        let ch = Channel::new(Addr::None, Addr::None);
        let observer = {
            let ch = ch.clone();
            thread::spawn(move || (ch.is_writable(), ch.is_writable()))
        };
        hooks::set_writable(&ch, false);
        hooks::set_writable(&ch, true);
        // Another thread may see any state the loop went through, but once it has
        // synchronised with the loop (join), it sees the last one.
        let _ = observer.join().unwrap();
        assert!(ch.is_writable());
        let late = {
            let ch = ch.clone();
            thread::spawn(move || ch.is_writable())
        };
        assert!(late.join().unwrap());
    });
}
