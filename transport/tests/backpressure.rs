//! A client that reads nothing makes the server's channel unwritable; once it
//! reads, the channel becomes writable again, and no byte is lost.

mod common;

use std::time::Duration;

use common::{LIMIT, Probe, Producer, eventually, init_tracing, random_bytes};
use seine_buffer::Bytes;
use seine_channel::Handler;
use seine_transport::{ChannelOptions, EventLoopGroup, ServerBootstrap};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpSocket;

const TOTAL: usize = 4 << 20;

#[tokio::test]
async fn slow_reader_flips_writability_and_loses_nothing() {
    init_tracing();
    let group = EventLoopGroup::new(1).unwrap();
    let data = Bytes::from(random_bytes(42, TOTAL));
    let probe = Probe::default();
    let server = ServerBootstrap::new()
        .group(&group)
        .child_options(ChannelOptions::default().socket_buffers(16 * 1024, 16 * 1024))
        .child_handler({
            let (data, probe) = (data.clone(), probe.clone());
            move |p| {
                let producer = Producer::new(data.clone(), 64 * 1024, false, probe.clone());
                p.add_last("producer", Handler::inbound(producer))?;
                Ok(())
            }
        })
        .bind("127.0.0.1:0")
        .unwrap();

    let sock = TcpSocket::new_v4().unwrap();
    sock.set_recv_buffer_size(8 * 1024).unwrap();
    let mut client = sock.connect(server.local_addr().unwrap()).await.unwrap();
    client.write_all(b"go").await.unwrap();

    // Not reading: the server's channel must become unwritable.
    // (The handle's flag flips just before the event reaches the handler: wait
    // for both.)
    eventually("the server channel becomes unwritable", || {
        probe.channel(0).is_some_and(|c| !c.is_writable()) && !probe.writability().is_empty()
    })
    .await;
    assert_eq!(probe.writability().first(), Some(&false));
    let written = server.metrics().io.bytes_written_copy;
    assert!(
        written < TOTAL as u64,
        "the kernel cannot hold 4 MiB: {written}"
    );

    // Now read everything.
    let mut got = vec![0u8; TOTAL];
    tokio::time::timeout(
        LIMIT,
        tokio::io::AsyncReadExt::read_exact(&mut client, &mut got),
    )
    .await
    .expect("read in time")
    .unwrap();
    assert!(got[..] == data[..], "bytes differ after backpressure");

    eventually("the server channel is writable again", || {
        probe.channel(0).is_some_and(|c| c.is_writable())
            && probe.writability().last() == Some(&true)
    })
    .await;
    let flips = probe.writability();
    assert_eq!(flips.last(), Some(&true), "{flips:?}");
    assert!(
        flips.windows(2).all(|w| w[0] != w[1]),
        "changes alternate: {flips:?}"
    );
    eventually("every byte written is counted", || {
        server.metrics().io.bytes_written_copy == TOTAL as u64
    })
    .await;

    drop(client);
    eventually("server sees the close", || probe.inactive() == 1).await;
    server.shutdown_gracefully(Duration::from_secs(5)).await;
    group.shutdown_gracefully(Duration::from_secs(1)).await;
}
