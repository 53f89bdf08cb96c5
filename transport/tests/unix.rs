//! Unix domain stream sockets with the same bootstrap and handlers: echo to a plain
//! tokio client and to a seine client channel.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{Echo, bounded, eventually, init_tracing, random_bytes};
use seine_buffer::Bytes;
use seine_channel::Addr;
use seine_channel::prelude::*;
use seine_transport::{Bootstrap, EventLoopGroup, ServerBootstrap, TransportError};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixStream;

/// Collects everything read.
struct Collect(Arc<Mutex<Vec<u8>>>);
impl ChannelHandler for Collect {}
impl InboundHandler for Collect {
    type Read = Bytes;
    type Fire = Bytes;
    fn channel_read(&mut self, _ctx: &mut InboundContext<'_, Bytes>, msg: Bytes) {
        self.0.lock().unwrap().extend_from_slice(&msg);
    }
}

#[tokio::test]
async fn unix_socket_echo() {
    init_tracing();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("echo.sock");
    let group = EventLoopGroup::new(2).unwrap();
    let server = ServerBootstrap::new()
        .group(&group)
        .child_handler(|p| {
            p.add_last("echo", Handler::inbound(Echo))?;
            Ok(())
        })
        .bind_unix(&path)
        .unwrap();
    assert_eq!(server.addr(), &Addr::Unix(path.clone()));
    assert!(server.local_addr().is_err());

    // Binding again to the same path says the address is in use.
    let again = ServerBootstrap::new()
        .group(&group)
        .bind_unix(&path)
        .unwrap_err();
    assert!(matches!(again, TransportError::AddrInUse { .. }), "{again}");

    // A plain tokio client, 2 MiB each way.
    let data = random_bytes(21, 2 << 20);
    let stream = UnixStream::connect(&path).await.unwrap();
    let (mut rd, mut wr) = stream.into_split();
    let w = tokio::spawn({
        let data = data.clone();
        async move {
            wr.write_all(&data).await.unwrap();
            wr
        }
    });
    let mut back = vec![0u8; data.len()];
    bounded(rd.read_exact(&mut back)).await.unwrap();
    let _wr = w.await.unwrap();
    assert!(back == data);

    // A seine client channel on the same group.
    let got = Arc::new(Mutex::new(Vec::new()));
    let client = Bootstrap::new(&group)
        .handler({
            let got = got.clone();
            move |p| {
                p.add_last("collect", Handler::inbound(Collect(got.clone())))?;
                Ok(())
            }
        })
        .connect_unix(&path)
        .await
        .unwrap();
    assert_eq!(client.peer_addr(), &Addr::Unix(path.clone()));
    let msg = Bytes::from(random_bytes(22, 300_000));
    bounded(client.write_and_flush(msg.clone())).await.unwrap();
    eventually("the echo comes back", || {
        got.lock().unwrap().len() == msg.len()
    })
    .await;
    assert!(got.lock().unwrap()[..] == msg[..]);
    client.close();
    bounded(client.closed()).await;

    assert_eq!(server.metrics().connections_accepted, 2);
    server.shutdown_gracefully(Duration::from_secs(5)).await;
    assert!(!path.exists(), "the socket file is removed at shutdown");
    group.shutdown_gracefully(Duration::from_secs(1)).await;
}

#[tokio::test]
async fn connecting_to_a_missing_socket_fails_clearly() {
    let group = EventLoopGroup::new(1).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let err = Bootstrap::new(&group)
        .connect_unix(dir.path().join("none.sock"))
        .await
        .unwrap_err();
    assert!(matches!(err, TransportError::Connect { .. }), "{err}");
    group.shutdown_gracefully(Duration::from_secs(1)).await;
}
