//! `max_connections`: connections past the limit are closed at accept; once one
//! closes, a new one is served.

mod common;

use std::time::Duration;

use common::{bounded, echo_server, eventually, init_tracing};
use seine_transport::{AcceptMode, ChannelOptions, EventLoopGroup, ServerOptions};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

async fn ping(c: &mut TcpStream, msg: &[u8]) {
    c.write_all(msg).await.unwrap();
    let mut back = vec![0u8; msg.len()];
    bounded(c.read_exact(&mut back)).await.unwrap();
    assert_eq!(back, msg);
}

async fn run(mode: AcceptMode) {
    init_tracing();
    let group = EventLoopGroup::new(2).unwrap();
    let server = echo_server(
        &group,
        ServerOptions {
            max_connections: Some(3),
            accept_mode: mode,
            ..ServerOptions::default()
        },
        ChannelOptions::default(),
    );
    let addr = server.local_addr().unwrap();
    let mut open = Vec::new();
    for i in 0..3u8 {
        let mut c = TcpStream::connect(addr).await.unwrap();
        ping(&mut c, &[i; 10]).await;
        open.push(c);
    }
    assert_eq!(server.metrics().connections_open, 3);

    // The fourth is accepted by the kernel, then closed by the server.
    let mut extra = TcpStream::connect(addr).await.unwrap();
    let mut buf = [0u8; 1];
    let r = bounded(extra.read(&mut buf)).await;
    assert!(matches!(r, Ok(0) | Err(_)), "closed at accept: {r:?}");
    let m = server.metrics();
    assert_eq!(m.connections_rejected, 1);
    assert_eq!(m.connections_accepted, 3);

    // One leaves; a newcomer is served.
    drop(open.pop());
    eventually("a slot frees up", || server.metrics().connections_open == 2).await;
    let mut late = TcpStream::connect(addr).await.unwrap();
    ping(&mut late, b"late").await;
    for c in &mut open {
        ping(c, b"still here").await;
    }
    assert_eq!(server.metrics().connections_accepted, 4);
    server.shutdown_gracefully(Duration::from_secs(5)).await;
    group.shutdown_gracefully(Duration::from_secs(1)).await;
}

#[tokio::test]
async fn max_connections_enforced_reuseport() {
    run(AcceptMode::ReusePort).await;
}

#[tokio::test]
async fn max_connections_enforced_acceptor() {
    run(AcceptMode::Acceptor).await;
}
