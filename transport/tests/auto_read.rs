//! Auto-read off: the server reads only when asked (`Channel::read`), one batch
//! per request; turning auto-read back on resumes reading.

mod common;

use std::time::Duration;

use common::{Probe, Producer, bounded, eventually, init_tracing};
use seine_buffer::Bytes;
use seine_channel::Handler;
use seine_transport::{ChannelOptions, EventLoopGroup, ServerBootstrap};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

#[tokio::test]
async fn reads_only_when_asked() {
    init_tracing();
    let group = EventLoopGroup::new(1).unwrap();
    let probe = Probe::default();
    let server = ServerBootstrap::new()
        .group(&group)
        .child_options(ChannelOptions::default().auto_read(false))
        .child_handler({
            let probe = probe.clone();
            move |p| {
                // Answers the first read with "ok"; later reads are dropped.
                let producer = Producer::new(Bytes::from_static(b"ok"), 2, false, probe.clone());
                p.add_last("producer", Handler::inbound(producer))?;
                Ok(())
            }
        })
        .bind("127.0.0.1:0")
        .unwrap();
    let mut c = TcpStream::connect(server.local_addr().unwrap())
        .await
        .unwrap();
    eventually("the channel is active", || probe.channel(0).is_some()).await;
    let ch = probe.channel(0).unwrap();
    c.write_all(b"hello").await.unwrap();
    // Nothing is read until asked (a broken implementation could only pass this
    // by luck of timing, never fail it by chance).
    assert_eq!(ch.metrics().snapshot().bytes_read, 0);

    ch.read();
    let mut ok = [0u8; 2];
    bounded(c.read_exact(&mut ok)).await.unwrap();
    assert_eq!(&ok, b"ok");
    assert_eq!(ch.metrics().snapshot().bytes_read, 5);

    ch.set_auto_read(true);
    c.write_all(b"more").await.unwrap();
    eventually("auto-read resumed", || {
        ch.metrics().snapshot().bytes_read == 9
    })
    .await;
    server.shutdown_gracefully(Duration::from_secs(5)).await;
    group.shutdown_gracefully(Duration::from_secs(1)).await;
}
