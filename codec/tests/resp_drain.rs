//! RespCodec on ShutdownRequested: the commands received are answered, then the
//! connection closes (after a partial command is completed).

use std::time::{Duration, Instant};

use seine_buffer::Bytes;
use seine_channel::ShutdownRequested;
use seine_channel::prelude::*;
use seine_channel::testing::EmbeddedChannel;
use seine_codec::resp::{RespCodec, RespCommand, RespValue};

struct Pong;
impl ChannelHandler for Pong {}
impl InboundHandler for Pong {
    type Read = RespCommand;
    type Fire = RespCommand;
    fn channel_read(&mut self, ctx: &mut InboundContext<'_, RespCommand>, _cmd: RespCommand) {
        ctx.write_void(RespValue::simple("PONG"));
    }
}

fn channel() -> EmbeddedChannel {
    EmbeddedChannel::with_handlers([
        ("resp", RespCodec::new().into()),
        ("app", Handler::inbound(Pong)),
    ])
}

fn fire_shutdown(ch: &mut EmbeddedChannel) -> ShutdownRequested {
    let ev = ShutdownRequested::new(
        Instant::now() + Duration::from_secs(30),
        Duration::from_secs(30),
    );
    ch.core().fire_user_event(UserEvent::new(ev.clone()));
    ev
}

#[test]
fn commands_read_behind_the_event_are_answered_then_the_connection_closes() {
    let mut ch = channel();
    ch.activate();
    let ev = fire_shutdown(&mut ch);
    assert!(ev.is_taken_over());
    ch.core()
        .fire_read(Bytes::from_static(b"PING\r\n*1\r\n$4\r\nPING\r\n"));
    ch.core().fire_read_complete();
    ch.run_pending_tasks().unwrap();
    assert_eq!(ch.read_outbound_bytes(), b"+PONG\r\n+PONG\r\n");
    assert!(!ch.is_active());
}

#[test]
fn an_idle_connection_closes_once_the_queue_has_run() {
    let mut ch = channel();
    ch.activate();
    fire_shutdown(&mut ch);
    ch.run_pending_tasks().unwrap();
    assert!(!ch.is_active());
}

#[test]
fn a_partial_command_is_completed_and_answered_first() {
    let mut ch = channel();
    ch.write_inbound(Bytes::from_static(b"*1\r\n$4\r\nPI"))
        .unwrap();
    fire_shutdown(&mut ch);
    ch.run_pending_tasks().unwrap();
    assert!(ch.is_active());
    ch.write_inbound(Bytes::from_static(b"NG\r\n")).unwrap();
    assert_eq!(ch.read_outbound_bytes(), b"+PONG\r\n");
    assert!(!ch.is_active());
}
