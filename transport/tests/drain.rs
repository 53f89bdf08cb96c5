//! Graceful drain: handlers get `ShutdownRequested` and finish their protocol's
//! way; connections waiting in the listen backlog at shutdown are served, not
//! reset; the deadline forces what is left and counts it.

mod common;

use std::time::Duration;

use common::{bounded, init_tracing, random_bytes, read_to_end};
use seine_buffer::Bytes;
use seine_channel::ShutdownRequested;
use seine_channel::prelude::*;
use seine_transport::{EventLoopGroup, ServerBootstrap, ServerOptions};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Echoes; on shutdown keeps echoing until the peer half-closes (the channel then
/// closes after flushing, with a FIN).
struct DrainingEcho;
impl ChannelHandler for DrainingEcho {}
impl InboundHandler for DrainingEcho {
    type Read = Bytes;
    type Fire = Bytes;
    fn channel_read(&mut self, ctx: &mut InboundContext<'_, Bytes>, msg: Bytes) {
        ctx.write_void(msg);
    }
    fn user_event(&mut self, ctx: &mut InboundContext<'_, Bytes>, event: UserEvent) {
        if let Some(s) = event.downcast_ref::<ShutdownRequested>() {
            s.take_over();
            return;
        }
        ctx.fire_user_event(event);
    }
}

/// Answers one request with its bytes, then closes (request/response).
struct OneShot;
impl ChannelHandler for OneShot {}
impl InboundHandler for OneShot {
    type Read = Bytes;
    type Fire = Bytes;
    fn channel_read(&mut self, ctx: &mut InboundContext<'_, Bytes>, msg: Bytes) {
        ctx.write_void(msg);
        ctx.close();
    }
    fn user_event(&mut self, ctx: &mut InboundContext<'_, Bytes>, event: UserEvent) {
        if let Some(s) = event.downcast_ref::<ShutdownRequested>() {
            s.take_over(); // it closes after its answer
            return;
        }
        ctx.fire_user_event(event);
    }
}

#[tokio::test]
async fn echo_keeps_answering_until_the_peer_half_closes_and_ends_with_a_fin() {
    init_tracing();
    let group = EventLoopGroup::new(1).unwrap();
    let server = ServerBootstrap::new()
        .group(&group)
        .child_handler(|p| {
            p.add_last("echo", Handler::inbound(DrainingEcho))
                .map(|_| ())
        })
        .bind("127.0.0.1:0")
        .unwrap();
    let addr = server.local_addr().unwrap();
    let data = random_bytes(3, 4 << 20);
    let mut clients = Vec::new();
    for _ in 0..4 {
        clients.push(TcpStream::connect(addr).await.unwrap());
    }
    // Half the data before shutdown begins, half after.
    let half = data.len() / 2;
    let mut readers = Vec::new();
    let mut writers = Vec::new();
    for c in clients {
        let (mut r, w) = c.into_split();
        readers.push(tokio::spawn(async move { read_to_end(&mut r).await }));
        writers.push(w);
    }
    for w in &mut writers {
        w.write_all(&data[..half]).await.unwrap();
    }
    let server = std::sync::Arc::new(server);
    let s = server.clone();
    let shutdown =
        tokio::spawn(async move { s.shutdown_gracefully(Duration::from_secs(60)).await });
    // The listener closes at once; the open connections go on.
    common::eventually("the listener is closed", || {
        std::net::TcpStream::connect(addr).is_err()
    })
    .await;
    for w in &mut writers {
        w.write_all(&data[half..]).await.unwrap();
        w.shutdown().await.unwrap(); // half-close: the server may finish now
    }
    for r in readers {
        let got = bounded(r).await.unwrap(); // read_to_end: an RST would fail it
        assert_eq!(got.len(), data.len());
        assert!(got == data, "echoed bytes differ");
    }
    let forced = bounded(shutdown).await.unwrap();
    assert_eq!(forced, 0);
    let m = server.metrics();
    assert_eq!(m.connections_forced, 0);
    assert_eq!(m.connections_open, 0);
    assert_eq!(m.io.bytes_read, 4 * data.len() as u64);
    group.shutdown_gracefully(Duration::from_secs(1)).await;
}

#[tokio::test]
async fn connections_waiting_in_the_backlog_are_served_not_reset() {
    init_tracing();
    let group = EventLoopGroup::new(1).unwrap();
    let server = ServerBootstrap::new()
        .group(&group)
        .options(ServerOptions {
            backlog: 64,
            ..ServerOptions::default()
        })
        .child_handler(|p| p.add_last("one", Handler::inbound(OneShot)).map(|_| ()))
        .bind("127.0.0.1:0")
        .unwrap();
    let addr = server.local_addr().unwrap();
    // Hold the only loop, so that nothing is accepted meanwhile.
    let (release, held) = std::sync::mpsc::channel::<()>();
    let (entered_tx, entered) = tokio::sync::oneshot::channel();
    group.loops()[0]
        .execute(move || {
            let _ = entered_tx.send(());
            let _ = held.recv_timeout(common::LIMIT);
        })
        .unwrap();
    entered.await.unwrap();
    // The kernel completes these handshakes; they wait in the accept queue.
    let mut clients = Vec::new();
    for i in 0..10u8 {
        let mut c = TcpStream::connect(addr).await.unwrap();
        c.write_all(&[b'a' + i; 3]).await.unwrap();
        clients.push(c);
    }
    let server = std::sync::Arc::new(server);
    let s = server.clone();
    let shutdown =
        tokio::spawn(async move { s.shutdown_gracefully(Duration::from_secs(60)).await });
    // Let the shutdown's stop signal reach the accept loop before it runs again.
    tokio::task::yield_now().await;
    release.send(()).unwrap();
    for (i, mut c) in clients.into_iter().enumerate() {
        let mut got = Vec::new();
        bounded(c.read_to_end(&mut got))
            .await
            .expect("answered and closed with a FIN, not reset");
        assert_eq!(got, vec![b'a' + i as u8; 3]);
    }
    assert_eq!(bounded(shutdown).await.unwrap(), 0);
    assert_eq!(server.metrics().connections_accepted, 10);
    group.shutdown_gracefully(Duration::from_secs(1)).await;
}

#[tokio::test]
async fn the_deadline_forces_what_is_left_and_counts_it() {
    init_tracing();
    let group = EventLoopGroup::new(1).unwrap();
    let server = ServerBootstrap::new()
        .group(&group)
        .child_handler(|p| {
            p.add_last("echo", Handler::inbound(DrainingEcho))
                .map(|_| ())
        })
        .bind("127.0.0.1:0")
        .unwrap();
    let addr = server.local_addr().unwrap();
    let mut idle = TcpStream::connect(addr).await.unwrap();
    idle.write_all(b"x").await.unwrap();
    let mut b = [0u8; 1];
    idle.read_exact(&mut b).await.unwrap();
    // The client never half-closes: the drain waits for the deadline.
    let forced = bounded(server.shutdown_gracefully(Duration::from_millis(200))).await;
    assert_eq!(forced, 1);
    assert_eq!(server.metrics().connections_forced, 1);
    group.shutdown_gracefully(Duration::from_secs(1)).await;
}

#[tokio::test]
async fn handlers_that_ignore_the_event_are_closed_gracefully_at_once() {
    init_tracing();
    let group = EventLoopGroup::new(1).unwrap();
    let server = common::echo_server(&group, ServerOptions::default(), Default::default());
    let mut c = TcpStream::connect(server.local_addr().unwrap())
        .await
        .unwrap();
    c.write_all(b"x").await.unwrap();
    let mut b = [0u8; 1];
    c.read_exact(&mut b).await.unwrap();
    let forced = bounded(server.shutdown_gracefully(Duration::from_secs(60))).await;
    assert_eq!(forced, 0);
    assert!(read_to_end(&mut c).await.is_empty());
    group.shutdown_gracefully(Duration::from_secs(1)).await;
}
