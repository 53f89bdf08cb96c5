//! Echo of random sizes (0..4 MiB) over 100 concurrent connections, verified byte
//! for byte, and the server's metrics.

mod common;

use std::time::Duration;

use common::{LIMIT, echo_server, eventually, init_tracing, random_bytes};
use seine_transport::{AcceptMode, ChannelOptions, EventLoopGroup, ServerOptions};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const CONNECTIONS: usize = 100;
const MAX_LEN: usize = 4 << 20;

fn sizes() -> Vec<usize> {
    let mut s: Vec<usize> = random_bytes(7, CONNECTIONS * 8)
        .chunks(8)
        .map(|c| (u64::from_le_bytes(c.try_into().unwrap()) % MAX_LEN as u64) as usize)
        .collect();
    s[0] = 0;
    s[1] = 1;
    s[2] = MAX_LEN;
    s
}

async fn echo_one(addr: std::net::SocketAddr, seed: u64, len: usize) {
    let data = random_bytes(seed, len);
    let stream = TcpStream::connect(addr).await.unwrap();
    let (mut rd, mut wr) = stream.into_split();
    let writer = tokio::spawn({
        let data = data.clone();
        async move {
            wr.write_all(&data).await.unwrap();
            wr
        }
    });
    let mut back = vec![0u8; len];
    rd.read_exact(&mut back).await.unwrap();
    let _wr = writer.await.unwrap();
    assert!(back == data, "connection {seed}: echoed bytes differ");
}

async fn run(mode: AcceptMode) {
    init_tracing();
    let group = EventLoopGroup::new(2).unwrap();
    let server = echo_server(
        &group,
        ServerOptions {
            accept_mode: mode,
            ..ServerOptions::default()
        },
        ChannelOptions::default(),
    );
    let addr = server.local_addr().unwrap();
    let sizes = sizes();
    let total: usize = sizes.iter().sum();
    let tasks: Vec<_> = sizes
        .into_iter()
        .enumerate()
        .map(|(i, len)| tokio::spawn(echo_one(addr, i as u64, len)))
        .collect();
    tokio::time::timeout(LIMIT, async {
        for t in tasks {
            t.await.unwrap();
        }
    })
    .await
    .expect("echo finished in time");

    // The last `writev`'s count is recorded just after the client may have read
    // its bytes: wait for it rather than race it.
    eventually("every byte written is counted", || {
        server.metrics().io.bytes_written_copy == total as u64
    })
    .await;
    let m = server.metrics();
    assert_eq!(m.connections_accepted, CONNECTIONS as u64);
    assert_eq!(m.io.bytes_read, total as u64);
    assert_eq!(m.io.bytes_written_copy, total as u64);
    assert_eq!(m.io.bytes_written_sendfile, 0);
    assert!(m.io.read_syscalls > 0 && m.io.write_syscalls > 0);
    assert_eq!(server.shutdown_gracefully(Duration::from_secs(5)).await, 0);
    let m = server.metrics();
    assert_eq!(m.connections_open, 0);
    assert_eq!(m.io.bytes_read, total as u64, "closed channels still count");
    group.shutdown_gracefully(Duration::from_secs(1)).await;
}

#[tokio::test]
async fn echo_random_sizes_100_connections_reuseport() {
    run(AcceptMode::ReusePort).await;
}

#[tokio::test]
async fn echo_random_sizes_100_connections_acceptor() {
    run(AcceptMode::Acceptor).await;
}
