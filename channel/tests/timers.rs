//! Timers, the virtual clock, tasks and blocking work on `EmbeddedChannel`.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use seine_channel::prelude::*;
use seine_channel::testing::EmbeddedChannel;
use seine_channel::{ChannelConfig, ChannelError};

#[path = "support/counting_alloc.rs"]
mod counting_alloc;
use counting_alloc::{Counting, allocations_during};

#[global_allocator]
static GLOBAL: Counting = Counting;

type Log = Rc<RefCell<Vec<(u64, Duration)>>>;

/// Records each timer that fires with the virtual time it saw (since `t0`).
struct Recorder {
    log: Log,
    t0: Option<Instant>,
    /// Timers to set when the channel becomes active: (key, delay).
    arm: Vec<(u64, Duration)>,
}

impl ChannelHandler for Recorder {
    fn timer_fired(&mut self, ctx: &mut Context<'_>, key: u64) {
        let t0 = self.t0.expect("armed");
        self.log.borrow_mut().push((key, ctx.now() - t0));
    }
}

impl InboundHandler for Recorder {
    type Read = String;
    type Fire = String;

    fn channel_active(&mut self, ctx: &mut InboundContext<'_, String>) {
        self.t0 = Some(ctx.now());
        for &(key, delay) in &self.arm {
            ctx.set_timer_after(key, delay);
        }
        ctx.fire_active();
    }

    /// "reset K MS", "cancel K" or anything else (passed on).
    fn channel_read(&mut self, ctx: &mut InboundContext<'_, String>, msg: String) {
        let parts: Vec<&str> = msg.split(' ').collect();
        match parts.as_slice() {
            ["reset", k, ms] => ctx.set_timer_after(
                k.parse().unwrap(),
                Duration::from_millis(ms.parse().unwrap()),
            ),
            ["cancel", k] => {
                let was = ctx.cancel_timer(k.parse().unwrap());
                ctx.fire_read(format!("cancelled {was}"));
            }
            _ => ctx.fire_read(msg),
        }
    }
}

fn recorder(arm: &[(u64, u64)]) -> (EmbeddedChannel, Log) {
    let log: Log = Rc::default();
    let h = Recorder {
        log: log.clone(),
        t0: None,
        arm: arm
            .iter()
            .map(|&(k, ms)| (k, Duration::from_millis(ms)))
            .collect(),
    };
    let ch = EmbeddedChannel::with_handlers([("rec", Handler::inbound(h))]);
    (ch, log)
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

#[test]
fn timers_fire_in_deadline_order_seeing_their_deadline() {
    let (mut ch, log) = recorder(&[(1, 300), (2, 100), (3, 200), (4, 100)]);
    ch.advance_time(ms(99)).unwrap();
    assert!(log.borrow().is_empty());
    ch.advance_time(ms(1000)).unwrap();
    // Equal deadlines fire in the order they were set; each callback sees the
    // clock at its own deadline, not at the end of the advance.
    assert_eq!(
        *log.borrow(),
        [(2, ms(100)), (4, ms(100)), (3, ms(200)), (1, ms(300))]
    );
}

#[test]
fn a_reset_moves_the_timer_and_a_cancel_removes_it() {
    let (mut ch, log) = recorder(&[(1, 100), (2, 100)]);
    ch.advance_time(ms(50)).unwrap();
    ch.write_inbound("reset 1 100".to_string()).unwrap(); // now due at 150
    ch.write_inbound("cancel 2".to_string()).unwrap();
    assert_eq!(
        ch.read_inbound::<String>().as_deref(),
        Some("cancelled true")
    );
    ch.advance_time(ms(99)).unwrap(); // t = 149
    assert!(log.borrow().is_empty());
    ch.advance_time(ms(1)).unwrap(); // t = 150
    assert_eq!(*log.borrow(), [(1, ms(150))]);
    ch.write_inbound("cancel 1".to_string()).unwrap();
    assert_eq!(
        ch.read_inbound::<String>().as_deref(),
        Some("cancelled false")
    );
}

#[test]
fn a_removed_handlers_timers_do_not_fire() {
    let (mut ch, log) = recorder(&[(1, 100)]);
    ch.pipeline().remove("rec").unwrap();
    ch.advance_time(ms(1000)).unwrap();
    assert!(log.borrow().is_empty());
    assert_eq!(ch.core().next_timeout(), None);
}

#[test]
fn handlers_see_the_virtual_clock() {
    struct Clock(Rc<RefCell<Vec<Instant>>>);
    impl ChannelHandler for Clock {}
    impl InboundHandler for Clock {
        type Read = String;
        type Fire = String;
        fn channel_read(&mut self, ctx: &mut InboundContext<'_, String>, _: String) {
            self.0.borrow_mut().push(ctx.now());
        }
    }
    let seen = Rc::new(RefCell::new(Vec::new()));
    let mut ch = EmbeddedChannel::with_handlers([("c", Handler::inbound(Clock(seen.clone())))]);
    ch.write_inbound(String::new()).unwrap();
    ch.advance_time(Duration::from_secs(10)).unwrap();
    ch.write_inbound(String::new()).unwrap();
    let seen = seen.borrow();
    assert_eq!(seen[1] - seen[0], Duration::from_secs(10));
    assert_eq!(ch.now(), seen[1]);
}

#[test]
fn a_scheduled_user_event_can_be_cancelled() {
    struct Tick;
    struct Arm;
    impl ChannelHandler for Arm {}
    impl InboundHandler for Arm {
        type Read = String;
        type Fire = String;
        fn channel_read(&mut self, ctx: &mut InboundContext<'_, String>, msg: String) {
            let ev = ctx.schedule_user_event(Duration::from_secs(1), Tick);
            if msg == "cancel" {
                assert!(ctx.cancel_scheduled(ev));
            }
        }
    }
    let mut ch = EmbeddedChannel::with_handlers([("arm", Handler::inbound(Arm))]);
    ch.write_inbound("cancel".to_string()).unwrap();
    ch.write_inbound("keep".to_string()).unwrap();
    ch.advance_time(Duration::from_secs(2)).unwrap();
    let events = ch.take_user_events();
    assert_eq!(events.len(), 1);
    assert!(events[0].is::<Tick>());
}

#[test]
fn ten_thousand_timers_reset_a_million_times_allocate_nothing_per_reset() {
    struct Many {
        allocs: Rc<RefCell<Option<u64>>>,
    }
    impl ChannelHandler for Many {}
    impl InboundHandler for Many {
        type Read = String;
        type Fire = String;
        fn channel_read(&mut self, ctx: &mut InboundContext<'_, String>, _: String) {
            let t0 = ctx.now();
            for k in 0..10_000u64 {
                ctx.set_timer(k, t0 + Duration::from_millis(k));
            }
            let allocs = allocations_during(|| {
                for i in 0..1_000_000u64 {
                    let k = (i * 7919) % 10_000;
                    ctx.set_timer(k, t0 + Duration::from_micros(i * 37 % 5_000_000));
                }
            });
            *self.allocs.borrow_mut() = Some(allocs);
        }
    }
    let allocs = Rc::new(RefCell::new(None));
    let mut ch = EmbeddedChannel::with_handlers([(
        "many",
        Handler::inbound(Many {
            allocs: allocs.clone(),
        }),
    )]);
    ch.write_inbound(String::new()).unwrap();
    assert_eq!(
        *allocs.borrow(),
        Some(0),
        "allocations during 1,000,000 resets"
    );
    assert!(ch.core().next_timeout().is_some());
}

#[test]
fn blocking_work_comes_back_to_the_handler_that_started_it() {
    struct Opener {
        thread: Option<std::thread::ThreadId>,
    }
    impl ChannelHandler for Opener {
        fn blocking_done(&mut self, ctx: &mut Context<'_>, key: u64, output: UserEvent) {
            let n: usize = output.downcast().expect("a usize");
            ctx.fire_message(format!("{key}:{n}"));
        }
    }
    impl InboundHandler for Opener {
        type Read = String;
        type Fire = String;
        fn channel_read(&mut self, ctx: &mut InboundContext<'_, String>, msg: String) {
            self.thread = Some(std::thread::current().id());
            ctx.spawn_blocking(7, move || msg.len()).unwrap();
        }
    }
    let mut ch =
        EmbeddedChannel::with_handlers([("open", Handler::inbound(Opener { thread: None }))]);
    ch.write_inbound("hello".to_string()).unwrap();
    assert_eq!(ch.read_inbound::<String>().as_deref(), Some("7:5"));
}

#[test]
fn spawned_tasks_run_on_the_channel_and_reach_it_through_a_handle() {
    struct Later;
    impl ChannelHandler for Later {}
    impl InboundHandler for Later {
        type Read = String;
        type Fire = String;
        fn channel_read(&mut self, ctx: &mut InboundContext<'_, String>, msg: String) {
            let ch = ctx.channel().clone();
            ctx.spawn(async move {
                // Waits for its own write to complete, then writes again.
                let done = ch.write_and_flush(format!("{msg}-1"));
                done.await.unwrap();
                drop(ch.write_and_flush(format!("{msg}-2")));
            })
            .unwrap();
        }
    }
    let mut ch = EmbeddedChannel::with_handlers([("later", Handler::inbound(Later))]);
    ch.write_inbound("x".to_string()).unwrap();
    assert_eq!(ch.read_outbound::<String>().as_deref(), Some("x-1"));
    assert_eq!(ch.read_outbound::<String>().as_deref(), Some("x-2"));
    assert_eq!(ch.pending_tasks(), 0);
}

#[test]
fn write_inbound_reports_only_what_happened_during_it() {
    struct FailsOnWrite;
    impl ChannelHandler for FailsOnWrite {}
    impl OutboundHandler for FailsOnWrite {
        type Write = String;
        type Emit = String;
        fn write(&mut self, ctx: &mut OutboundContext<'_, String>, _: String, p: Promise) {
            ctx.complete_promise(p);
            ctx.fire_exception(ChannelError::OutputShutdown);
        }
    }
    let mut ch = EmbeddedChannel::with_config(ChannelConfig {
        close_on_exception: false,
        ..ChannelConfig::default()
    });
    ch.pipeline()
        .add_last("fail", Handler::outbound(FailsOnWrite))
        .unwrap();
    // An exception reaches the tail during a call that returns no Result...
    let done = ch.write_outbound("boom".to_string());
    assert!(matches!(done.result(), Some(Ok(()))));
    // ...and is not reported by the next, unrelated write_inbound.
    assert!(ch.write_inbound("fine".to_string()).is_ok());
    assert!(
        ch.take_exception().is_err(),
        "still there for take_exception"
    );
}
