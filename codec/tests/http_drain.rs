//! HttpServerCodec on ShutdownRequested: idle keep-alive connections close at
//! once; a request in progress is answered with `Connection: close`.

use std::time::{Duration, Instant};

use seine_buffer::Bytes;
use seine_channel::ShutdownRequested;
use seine_channel::prelude::*;
use seine_channel::testing::EmbeddedChannel;
use seine_codec::http::{HttpRequest, HttpResponse, HttpServerCodec};

/// Holds requests until told to answer them.
#[derive(Default)]
struct Deferred(Vec<HttpRequest>);
impl ChannelHandler for Deferred {}
impl InboundHandler for Deferred {
    type Read = HttpRequest;
    type Fire = HttpRequest;
    fn channel_read(&mut self, ctx: &mut InboundContext<'_, HttpRequest>, req: HttpRequest) {
        if req.path() == "/now" {
            ctx.write_void(HttpResponse::text(200, "now\n"));
        } else {
            self.0.push(req);
        }
    }
    fn user_event(&mut self, ctx: &mut InboundContext<'_, HttpRequest>, event: UserEvent) {
        if event.is::<&'static str>() {
            for r in self.0.drain(..) {
                ctx.write_void(HttpResponse::text(200, format!("{}\n", r.path())));
            }
            ctx.flush();
            return;
        }
        ctx.fire_user_event(event);
    }
}

fn channel() -> EmbeddedChannel {
    EmbeddedChannel::with_handlers([
        ("http", HttpServerCodec::new().into()),
        ("app", Handler::inbound(Deferred::default())),
    ])
}

fn shutdown() -> (ShutdownRequested, UserEvent) {
    let ev = ShutdownRequested::new(
        Instant::now() + Duration::from_secs(30),
        Duration::from_secs(30),
    );
    (ev.clone(), UserEvent::new(ev))
}

#[test]
fn an_idle_keep_alive_connection_closes_at_once() {
    let mut ch = channel();
    ch.write_inbound(Bytes::from_static(b"GET /now HTTP/1.1\r\nHost: x\r\n\r\n"))
        .unwrap();
    let out = String::from_utf8(ch.read_outbound_bytes()).unwrap();
    assert!(!out.contains("Connection: close"));
    let (probe, ev) = shutdown();
    ch.core().fire_user_event(ev);
    assert!(probe.is_taken_over());
    ch.run_pending_tasks().unwrap(); // the idle check runs behind what the queue holds
    assert!(!ch.is_active());
}

#[test]
fn the_request_in_progress_is_answered_with_connection_close() {
    let mut ch = channel();
    ch.write_inbound(Bytes::from_static(
        b"GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n",
    ))
    .unwrap();
    let (probe, ev) = shutdown();
    ch.core().fire_user_event(ev);
    assert!(probe.is_taken_over());
    ch.run_pending_tasks().unwrap();
    assert!(ch.is_active(), "requests are owed responses");
    ch.core().fire_user_event(UserEvent::new("answer"));
    let out = String::from_utf8(ch.read_outbound_bytes()).unwrap();
    let responses: Vec<&str> = out.split("HTTP/1.1 200 OK").skip(1).collect();
    assert_eq!(responses.len(), 2);
    assert!(!responses[0].contains("Connection: close"), "{out}");
    assert!(responses[1].contains("Connection: close"), "{out}");
    assert!(!ch.is_active());
}

#[test]
fn a_partial_request_is_finished_then_answered_with_close() {
    let mut ch = channel();
    ch.write_inbound(Bytes::from_static(b"GET /now HTTP/1.1\r\nHo"))
        .unwrap();
    let (_, ev) = shutdown();
    ch.core().fire_user_event(ev);
    ch.run_pending_tasks().unwrap();
    assert!(ch.is_active());
    ch.write_inbound(Bytes::from_static(b"st: x\r\n\r\n"))
        .unwrap();
    let out = String::from_utf8(ch.read_outbound_bytes()).unwrap();
    assert!(out.contains("Connection: close\r\n"), "{out}");
    assert!(out.ends_with("now\n"));
    assert!(!ch.is_active());
}

#[test]
fn a_request_that_arrives_behind_the_event_is_answered_not_reset() {
    let mut ch = channel();
    ch.activate();
    let (_, ev) = shutdown();
    ch.core().fire_user_event(ev);
    // Before the idle check runs, the transport reads what the kernel held.
    ch.core()
        .fire_read(Bytes::from_static(b"GET /now HTTP/1.1\r\nHost: x\r\n\r\n"));
    ch.core().fire_read_complete();
    ch.run_pending_tasks().unwrap();
    let out = String::from_utf8(ch.read_outbound_bytes()).unwrap();
    assert!(out.contains("Connection: close\r\n"), "{out}");
    assert!(!ch.is_active());
}
