//! A peer that resets mid-write (SO_LINGER 0, then close) closes only its own
//! channel, with a reset error and no panic; the server keeps serving others.

mod common;

use std::time::Duration;

use common::{LIMIT, Probe, eventually, init_tracing, random_bytes};
use seine_buffer::Bytes;
use seine_channel::prelude::*;
use seine_transport::{ChannelOptions, EventLoopGroup, ServerBootstrap, TransportError};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Sends 16 MiB on "BIG", echoes anything else; records errors and closes.
struct Route {
    probe: Probe,
}
impl ChannelHandler for Route {}
impl InboundHandler for Route {
    type Read = Bytes;
    type Fire = Bytes;
    fn channel_read(&mut self, ctx: &mut InboundContext<'_, Bytes>, msg: Bytes) {
        if &msg[..] == b"BIG" {
            ctx.write(Bytes::from(random_bytes(1, 16 << 20)));
        } else {
            ctx.write(msg);
        }
    }
    fn channel_inactive(&mut self, ctx: &mut InboundContext<'_, Bytes>) {
        *self.probe.inactive.lock().unwrap() += 1;
        ctx.fire_inactive();
    }
    fn exception_caught(&mut self, ctx: &mut InboundContext<'_, Bytes>, error: Error) {
        self.probe.errors.lock().unwrap().push(error.clone());
        ctx.fire_exception(error);
    }
}

#[tokio::test]
async fn reset_mid_write_closes_only_that_channel() {
    init_tracing();
    let group = EventLoopGroup::new(1).unwrap();
    let probe = Probe::default();
    let server = ServerBootstrap::new()
        .group(&group)
        .child_options(ChannelOptions::default().socket_buffers(32 * 1024, 32 * 1024))
        .child_handler({
            let probe = probe.clone();
            move |p| {
                p.add_last(
                    "route",
                    Handler::inbound(Route {
                        probe: probe.clone(),
                    }),
                )?;
                Ok(())
            }
        })
        .bind("127.0.0.1:0")
        .unwrap();
    let addr = server.local_addr().unwrap();

    // A bystander connected before the reset.
    let mut other = TcpStream::connect(addr).await.unwrap();
    other.write_all(b"hello").await.unwrap();
    let mut buf = [0u8; 5];
    other.read_exact(&mut buf).await.unwrap();
    assert_eq!(&buf, b"hello");

    let mut victim = TcpStream::connect(addr).await.unwrap();
    victim.write_all(b"BIG").await.unwrap();
    let mut some = vec![0u8; 64 * 1024];
    victim.read_exact(&mut some).await.unwrap();
    // The server is mid-write (16 MiB cannot fit in the socket buffers): reset.
    socket2::SockRef::from(&victim)
        .set_linger(Some(Duration::ZERO))
        .unwrap();
    drop(victim);

    eventually("the reset channel closes", || probe.inactive() == 1).await;
    let errors = probe.errors.lock().unwrap().clone();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].is_connection_reset(), "{:?}", errors[0]);
    assert!(
        matches!(
            errors[0].downcast_ref::<TransportError>(),
            Some(TransportError::ConnectionReset { .. })
        ),
        "{:?}",
        errors[0]
    );
    eventually("one connection left", || {
        server.metrics().connections_open == 1
    })
    .await;

    // The bystander and newcomers are still served.
    other.write_all(b"still").await.unwrap();
    other.read_exact(&mut buf).await.unwrap();
    assert_eq!(&buf, b"still");
    let mut fresh = TcpStream::connect(addr).await.unwrap();
    fresh.write_all(b"fresh").await.unwrap();
    tokio::time::timeout(LIMIT, fresh.read_exact(&mut buf))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(&buf, b"fresh");

    server.shutdown_gracefully(Duration::from_secs(5)).await;
    group.shutdown_gracefully(Duration::from_secs(1)).await;
}
