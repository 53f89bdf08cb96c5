//! IdleStateHandler, ReadTimeoutHandler and WriteTimeoutHandler on the embedded
//! channel's virtual clock: events and closes at their exact deadlines.

use std::time::Duration;

use seine_buffer::Bytes;
use seine_channel::testing::EmbeddedChannel;
use seine_channel::{ChannelConfig, Handler, OutboundBuf};
use seine_handler::{
    HandlerError, IdleState, IdleStateEvent, IdleStateHandler, ReadTimeoutHandler,
    WriteTimeoutHandler,
};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn idle_events(ch: &mut EmbeddedChannel) -> Vec<IdleStateEvent> {
    ch.take_user_events()
        .into_iter()
        .filter_map(|e| e.downcast::<IdleStateEvent>().ok())
        .collect()
}

fn out(n: usize) -> OutboundBuf {
    OutboundBuf::from(vec![1u8; n])
}

#[test]
fn reader_idle_fires_a_period_after_the_last_read_then_every_period() {
    let idle = IdleStateHandler::new().reader_idle(ms(1000));
    let mut ch = EmbeddedChannel::with_handlers([("idle", Handler::duplex(idle))]);
    ch.advance_time(ms(600)).unwrap();
    ch.write_inbound(Bytes::from_static(b"x")).unwrap();
    ch.advance_time(ms(999)).unwrap();
    assert!(idle_events(&mut ch).is_empty());
    ch.advance_time(ms(1)).unwrap();
    let ev = idle_events(&mut ch);
    assert_eq!(
        ev,
        [IdleStateEvent {
            state: IdleState::ReaderIdle,
            first: true
        }]
    );
    ch.advance_time(ms(1000)).unwrap();
    assert_eq!(
        idle_events(&mut ch),
        [IdleStateEvent {
            state: IdleState::ReaderIdle,
            first: false
        }]
    );
    // A read makes the next one first again.
    ch.write_inbound(Bytes::from_static(b"x")).unwrap();
    ch.advance_time(ms(1000)).unwrap();
    assert!(idle_events(&mut ch)[0].first);
}

#[test]
fn writer_idle_counts_writes_and_all_idle_counts_both() {
    let idle = IdleStateHandler::new()
        .writer_idle(ms(1000))
        .all_idle(ms(1500));
    let mut ch = EmbeddedChannel::with_handlers([("idle", Handler::duplex(idle))]);
    ch.advance_time(ms(900)).unwrap();
    ch.write_outbound(out(10));
    ch.write_inbound(Bytes::from_static(b"x")).unwrap();
    ch.advance_time(ms(999)).unwrap();
    assert!(idle_events(&mut ch).is_empty());
    ch.advance_time(ms(1)).unwrap();
    assert_eq!(idle_events(&mut ch)[0].state, IdleState::WriterIdle);
    ch.advance_time(ms(500)).unwrap();
    assert_eq!(idle_events(&mut ch)[0].state, IdleState::AllIdle);
}

#[test]
fn observing_output_a_stalled_write_is_idle_and_a_progressing_one_is_not() {
    let idle = IdleStateHandler::new()
        .writer_idle(ms(1000))
        .observe_output(true);
    let mut ch = EmbeddedChannel::with_handlers([("idle", Handler::duplex(idle))]);
    ch.set_transport_budget(Some(0));
    ch.write_outbound(out(100_000));
    // The peer takes 1000 bytes every 500 ms for 3 s: slow, but progressing.
    for _ in 0..6 {
        ch.advance_time(ms(500)).unwrap();
        ch.set_transport_budget(Some(1000));
        ch.set_transport_budget(Some(0));
    }
    assert!(idle_events(&mut ch).is_empty(), "progress is not idle");
    // Then it stops reading: idle one period (+ a tenth at most) after the last
    // progress, although 94 KB wait.
    ch.advance_time(ms(999)).unwrap();
    assert!(idle_events(&mut ch).is_empty());
    ch.advance_time(ms(101)).unwrap();
    assert_eq!(idle_events(&mut ch)[0].state, IdleState::WriterIdle);
}

#[test]
fn without_observing_output_queued_writes_count_as_writing() {
    let idle = IdleStateHandler::new().writer_idle(ms(1000));
    let mut ch = EmbeddedChannel::with_handlers([("idle", Handler::duplex(idle))]);
    ch.set_transport_budget(Some(0));
    for _ in 0..4 {
        ch.write_outbound(out(10));
        ch.advance_time(ms(900)).unwrap();
    }
    assert!(idle_events(&mut ch).is_empty());
}

#[test]
fn read_timeout_closes_at_the_deadline_after_the_last_read() {
    let mut ch = EmbeddedChannel::with_handlers([(
        "rt",
        Handler::duplex(ReadTimeoutHandler::new(ms(1000))),
    )]);
    for _ in 0..5 {
        ch.advance_time(ms(900)).unwrap();
        ch.write_inbound(Bytes::from_static(b"x")).unwrap();
    }
    assert!(ch.is_active());
    ch.advance_time(ms(999)).unwrap();
    assert!(ch.is_active());
    let err = ch.advance_time(ms(1)).unwrap_err();
    assert_eq!(
        err.downcast_ref::<HandlerError>(),
        Some(&HandlerError::ReadTimedOut { after: ms(1000) })
    );
    assert!(!ch.is_active());
}

#[test]
fn write_timeout_spares_writes_that_finish_and_fails_the_one_that_does_not() {
    let mut ch = EmbeddedChannel::with_handlers([(
        "wt",
        Handler::outbound(WriteTimeoutHandler::new(ms(1000))),
    )]);
    ch.set_transport_budget(Some(0));
    let first = ch.write_outbound(out(100));
    ch.advance_time(ms(500)).unwrap();
    let second = ch.write_outbound(out(100));
    ch.set_transport_budget(Some(100)); // the first one goes
    ch.set_transport_budget(Some(0));
    assert!(matches!(first.result(), Some(Ok(()))));
    ch.advance_time(ms(999)).unwrap();
    assert!(ch.is_active(), "the second write has 1 ms left");
    let err = ch.advance_time(ms(1)).unwrap_err();
    assert!(matches!(
        err.downcast_ref(),
        Some(HandlerError::WriteTimedOut { .. })
    ));
    assert!(matches!(second.result(), Some(Err(_))));
    assert!(!ch.is_active());
}

#[test]
fn write_timeout_is_quiet_when_writes_complete() {
    let mut ch = EmbeddedChannel::with_config(ChannelConfig::default());
    ch.pipeline()
        .add_last("wt", Handler::outbound(WriteTimeoutHandler::new(ms(100))))
        .unwrap();
    for _ in 0..10 {
        assert!(ch.write_outbound(out(10)).is_done());
        ch.advance_time(ms(60)).unwrap();
    }
    assert!(ch.is_active());
}
