//! loom models of the executor seam: blocking work finishing on another thread
//! hands its output back through the channel's queue while the loop drains it or
//! closes the channel.
//!
//! Run with:
//! `RUSTFLAGS="--cfg seine_loom" CARGO_TARGET_DIR=target/loom LOOM_MAX_PREEMPTIONS=2 \
//!  cargo test -p seine-channel --release --test 'loom_*'`
#![cfg(seine_loom)]

use loom::thread;
use seine_channel::__loom as hooks;
use seine_channel::{Addr, Channel};

#[test]
fn blocking_outputs_reach_the_loop_once_each_in_order_per_job_thread() {
    loom::model(|| {
        let ch = Channel::new(Addr::None, Addr::None);
        let pool: Vec<_> = [(1u64, [1u32, 2]), (2, [10, 20])]
            .into_iter()
            .map(|(key, values)| {
                let ch = ch.clone();
                thread::spawn(move || {
                    for v in values {
                        hooks::deliver(&ch, key, v);
                    }
                })
            })
            .collect();
        let mut got = hooks::drain_delivered(&ch);
        for t in pool {
            t.join().unwrap();
        }
        got.extend(hooks::drain_delivered(&ch));
        assert_eq!(got.len(), 4, "an output was lost or doubled: {got:?}");
        let first: Vec<_> = got.iter().filter(|(k, _)| *k == 1).map(|p| p.1).collect();
        let second: Vec<_> = got.iter().filter(|(k, _)| *k == 2).map(|p| p.1).collect();
        assert_eq!(first, [1, 2]);
        assert_eq!(second, [10, 20]);
    });
}

#[test]
fn an_output_racing_the_close_is_delivered_or_dropped_never_both() {
    loom::model(|| {
        let ch = Channel::new(Addr::None, Addr::None);
        let job = {
            let ch = ch.clone();
            thread::spawn(move || hooks::deliver(&ch, 7, 7))
        };
        let delivered = hooks::drain_delivered(&ch).len();
        let dropped = hooks::close_delivered(&ch);
        job.join().unwrap();
        // After the close nothing is queued any more: a late output is refused.
        let late = hooks::drain_delivered(&ch).len();
        assert_eq!(late, 0);
        assert!(
            delivered + dropped <= 1,
            "delivered {delivered}, dropped {dropped}"
        );
    });
}
