//! Graceful shutdown: writes pending at shutdown are flushed before the channel
//! closes (nothing is lost); channels that cannot flush by the deadline are
//! forced; the listener stops accepting.

mod common;

use std::time::Duration;

use common::{Probe, Producer, bounded, eventually, init_tracing, random_bytes, read_to_end};
use seine_buffer::Bytes;
use seine_channel::Handler;
use seine_transport::{ChannelOptions, EventLoopGroup, Server, ServerBootstrap};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpSocket, TcpStream};

const TOTAL: usize = 8 << 20;

fn producer_server(group: &EventLoopGroup, data: Bytes, probe: Probe) -> Server {
    ServerBootstrap::new()
        .group(group)
        .child_options(ChannelOptions::default().socket_buffers(16 * 1024, 16 * 1024))
        .child_handler(move |p| {
            // Queues all of `data` at once when the client says go.
            let producer = Producer::new(data.clone(), TOTAL, false, probe.clone());
            p.add_last("producer", Handler::inbound(producer))?;
            Ok(())
        })
        .bind("127.0.0.1:0")
        .unwrap()
}

async fn slow_client(server: &Server) -> TcpStream {
    let sock = TcpSocket::new_v4().unwrap();
    sock.set_recv_buffer_size(8 * 1024).unwrap();
    let mut c = sock.connect(server.local_addr().unwrap()).await.unwrap();
    c.write_all(b"go").await.unwrap();
    c
}

#[tokio::test]
async fn pending_writes_are_flushed_before_close() {
    init_tracing();
    let group = EventLoopGroup::new(2).unwrap();
    let data = Bytes::from(random_bytes(11, TOTAL));
    let probe = Probe::default();
    let server = producer_server(&group, data.clone(), probe.clone());
    let mut clients = Vec::new();
    for _ in 0..3 {
        clients.push(slow_client(&server).await);
    }
    // Every channel has megabytes queued that the kernel cannot hold.
    eventually("all channels are unwritable", || {
        (0..3).all(|i| probe.channel(i).is_some_and(|c| !c.is_writable()))
    })
    .await;

    let shutdown = tokio::spawn(async move {
        let forced = server.shutdown_gracefully(Duration::from_secs(60)).await;
        (forced, server)
    });
    // Only now do the clients read: everything must arrive, then end of stream.
    for mut c in clients {
        let got = read_to_end(&mut c).await;
        assert_eq!(got.len(), TOTAL);
        assert!(got[..] == data[..], "bytes lost or changed at shutdown");
    }
    let (forced, server) = bounded(shutdown).await.unwrap();
    assert_eq!(forced, 0);
    let m = server.metrics();
    assert_eq!(m.connections_open, 0);
    assert_eq!(m.io.bytes_written_copy, 3 * TOTAL as u64);
    // The listener is closed.
    assert!(
        TcpStream::connect(server.local_addr().unwrap())
            .await
            .is_err()
    );
    group.shutdown_gracefully(Duration::from_secs(1)).await;
}

#[tokio::test]
async fn deadline_forces_channels_that_cannot_flush() {
    init_tracing();
    let group = EventLoopGroup::new(1).unwrap();
    let probe = Probe::default();
    let server = producer_server(&group, Bytes::from(random_bytes(12, TOTAL)), probe.clone());
    let _client = slow_client(&server).await; // never reads
    eventually("the channel is unwritable", || {
        probe.channel(0).is_some_and(|c| !c.is_writable())
    })
    .await;
    let forced = bounded(server.shutdown_gracefully(Duration::from_millis(100))).await;
    assert_eq!(forced, 1);
    assert!(probe.channel(0).unwrap().is_closed());
    assert_eq!(server.metrics().connections_open, 0);
    group.shutdown_gracefully(Duration::from_secs(1)).await;
}

#[tokio::test]
async fn group_shutdown_closes_clients_and_servers_and_joins_threads() {
    init_tracing();
    let group = EventLoopGroup::new(2).unwrap();
    let probe = Probe::default();
    let data = Bytes::from(random_bytes(13, 1 << 20));
    let server = producer_server(&group, data.clone(), probe.clone());
    let mut c = slow_client(&server).await;
    eventually("the channel is active", || probe.channel(0).is_some()).await;
    let shutdown = tokio::spawn({
        let group = group.clone();
        async move { group.shutdown_gracefully(Duration::from_secs(60)).await }
    });
    let got = read_to_end(&mut c).await;
    assert!(got[..] == data[..]);
    assert_eq!(bounded(shutdown).await.unwrap(), 0);
    assert!(group.is_shutdown());
    assert!(
        group.next().execute(|| {}).is_err(),
        "the loops have stopped"
    );
    drop(server);
}
