//! The client `Bootstrap` over TCP, errors that say what to change, and a group
//! running on the caller's own current-thread runtime.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{Echo, bounded, echo_server, eventually, init_tracing, random_bytes};
use seine_buffer::Bytes;
use seine_channel::ChannelError;
use seine_channel::prelude::*;
use seine_transport::{
    Bootstrap, ChannelOptions, EventLoopGroup, ServerBootstrap, ServerOptions, TransportError,
};

struct Collect(Arc<Mutex<Vec<u8>>>);
impl ChannelHandler for Collect {}
impl InboundHandler for Collect {
    type Read = Bytes;
    type Fire = Bytes;
    fn channel_read(&mut self, _ctx: &mut InboundContext<'_, Bytes>, msg: Bytes) {
        self.0.lock().unwrap().extend_from_slice(&msg);
    }
}

fn collecting_client(group: &EventLoopGroup, got: &Arc<Mutex<Vec<u8>>>) -> Bootstrap {
    let got = got.clone();
    Bootstrap::new(group).handler(move |p| {
        p.add_last("collect", Handler::inbound(Collect(got.clone())))?;
        Ok(())
    })
}

#[tokio::test]
async fn client_channel_echo_over_tcp() {
    init_tracing();
    let group = EventLoopGroup::new(2).unwrap();
    let server = echo_server(&group, ServerOptions::default(), ChannelOptions::default());
    let got = Arc::new(Mutex::new(Vec::new()));
    let ch = collecting_client(&group, &got)
        .connect(server.local_addr().unwrap())
        .await
        .unwrap();
    assert!(ch.is_active());
    let mut want = Vec::new();
    for i in 0..20u64 {
        let part = Bytes::from(random_bytes(i, 50_000));
        want.extend_from_slice(&part);
        ch.write(part); // unobserved writes: flushed once the queued work ran
    }
    eventually("all echoed", || got.lock().unwrap().len() == want.len()).await;
    assert!(*got.lock().unwrap() == want);
    eventually("the client's writes are counted", || {
        ch.metrics().snapshot().bytes_written_copy == want.len() as u64
    })
    .await;
    let m = ch.metrics().snapshot();
    assert_eq!(m.bytes_read, want.len() as u64);
    ch.close();
    bounded(ch.closed()).await;
    eventually("the server sees it", || {
        server.metrics().connections_open == 0
    })
    .await;
    group.shutdown_gracefully(Duration::from_secs(1)).await;
}

#[tokio::test]
async fn errors_say_what_to_change() {
    let group = EventLoopGroup::new(1).unwrap();
    let server = echo_server(&group, ServerOptions::default(), ChannelOptions::default());
    let addr = server.local_addr().unwrap();

    // Same port without SO_REUSEPORT on our side: in use.
    let err = ServerBootstrap::new()
        .group(&group)
        .options(ServerOptions {
            reuse_port: false,
            ..ServerOptions::default()
        })
        .bind(addr)
        .unwrap_err();
    assert!(matches!(err, TransportError::AddrInUse { .. }), "{err}");
    assert!(err.to_string().contains(&addr.to_string()), "{err}");

    let err = ServerBootstrap::new()
        .group(&group)
        .bind("no-such-host.invalid:80")
        .unwrap_err();
    assert!(matches!(err, TransportError::Resolve { .. }), "{err}");

    // Refused: nothing listens on a port we just freed.
    let free = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let err = Bootstrap::new(&group).connect(free).await.unwrap_err();
    assert!(matches!(err, TransportError::Connect { .. }), "{err}");
    assert!(err.to_string().contains("is the server running"), "{err}");

    // An initializer that fails: the client gets the error, the channel is not made.
    let err = Bootstrap::new(&group)
        .handler(|p| {
            p.add_last("a", Handler::inbound(Echo))?;
            p.add_last("a", Handler::inbound(Echo))?;
            Ok(())
        })
        .connect(addr)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            TransportError::Initializer(ChannelError::DuplicateName(_))
        ),
        "{err}"
    );

    server.shutdown_gracefully(Duration::from_secs(1)).await;
    group.shutdown_gracefully(Duration::from_secs(1)).await;
    assert!(matches!(
        Bootstrap::new(&group).connect(addr).await,
        Err(TransportError::Shutdown)
    ));
}

#[tokio::test]
async fn group_on_the_callers_current_thread_runtime() {
    init_tracing();
    let local = tokio::task::LocalSet::new();
    local
        .run_until(async {
            let group = EventLoopGroup::current();
            let server = echo_server(&group, ServerOptions::default(), ChannelOptions::default());
            let got = Arc::new(Mutex::new(Vec::new()));
            let ch = collecting_client(&group, &got)
                .connect(server.local_addr().unwrap())
                .await
                .unwrap();
            bounded(ch.write_and_flush(Bytes::from_static(b"same thread")))
                .await
                .unwrap();
            eventually("echoed", || &got.lock().unwrap()[..] == b"same thread").await;
            assert_eq!(server.shutdown_gracefully(Duration::from_secs(5)).await, 0);
            assert_eq!(group.shutdown_gracefully(Duration::from_secs(5)).await, 0);
            assert!(ch.is_closed());
        })
        .await;
}
