//! The timeout handlers over TCP on 127.0.0.1: a silent peer is closed by the read
//! timeout, a peer that reads nothing by the send timeout (an IdleStateHandler
//! observing output) and by the write timeout, with a reset when asked. Bounds are
//! generous: they say that it happens, not how precisely (the embedded tests do).

use std::time::{Duration, Instant};

use seine_buffer::Bytes;
use seine_channel::prelude::*;
use seine_handler::{
    CloseMode, IdleState, IdleStateEvent, IdleStateHandler, ReadTimeoutHandler, WriteTimeoutHandler,
};
use seine_transport::{ChannelOptions, EventLoopGroup, Server, ServerBootstrap};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Writes `size` bytes on activation; on a writer-idle event with output
/// pending, closes the way it was told (the send timeout).
struct Sender {
    size: usize,
    close: CloseMode,
}
impl ChannelHandler for Sender {}
impl InboundHandler for Sender {
    type Read = Bytes;
    type Fire = Bytes;
    fn channel_active(&mut self, ctx: &mut InboundContext<'_, Bytes>) {
        ctx.write_and_flush(OutboundBuf::from(vec![b'x'; self.size]));
        ctx.fire_active();
    }
    fn channel_read(&mut self, _ctx: &mut InboundContext<'_, Bytes>, _msg: Bytes) {}
    fn user_event(&mut self, ctx: &mut InboundContext<'_, Bytes>, event: UserEvent) {
        match event.downcast::<IdleStateEvent>() {
            Ok(ev) if ev.state == IdleState::WriterIdle && ctx.pending_outbound_bytes() > 0 => {
                self.close.close(ctx)
            }
            Ok(_) => {}
            Err(other) => ctx.fire_user_event(other),
        }
    }
    fn exception_caught(&mut self, _ctx: &mut InboundContext<'_, Bytes>, _e: Error) {}
}

fn server(
    group: &EventLoopGroup,
    init: impl Fn(&mut seine_channel::Pipeline<'_>) + Send + Sync + 'static,
) -> Server {
    // A small send buffer, so that the kernel takes little of what the peer does
    // not read.
    let opts = ChannelOptions {
        send_buffer_size: Some(64 * 1024),
        ..ChannelOptions::default()
    };
    ServerBootstrap::new()
        .group(group)
        .child_options(opts)
        .child_handler(move |p| {
            init(p);
            Ok(())
        })
        .bind("127.0.0.1:0")
        .unwrap()
}

/// Reads until EOF or an error; returns how long that took, and whether it was a
/// reset.
async fn until_closed(s: &mut TcpStream) -> (Duration, bool) {
    let start = Instant::now();
    let mut buf = vec![0u8; 1 << 20];
    let fut = async {
        loop {
            match s.read(&mut buf).await {
                Ok(0) => return false,
                Ok(_) => {}
                Err(e) => return e.kind() == std::io::ErrorKind::ConnectionReset,
            }
        }
    };
    let reset = tokio::time::timeout(Duration::from_secs(30), fut)
        .await
        .expect("the server closes the connection");
    (start.elapsed(), reset)
}

#[tokio::test]
async fn a_silent_peer_is_closed_by_the_read_timeout() {
    let group = EventLoopGroup::new(1).unwrap();
    let srv = server(&group, |p| {
        let rt = ReadTimeoutHandler::new(Duration::from_millis(300));
        p.add_last("rt", Handler::duplex(rt)).unwrap();
        p.add_last(
            "sink",
            Handler::inbound(Sender {
                size: 0,
                close: CloseMode::Fin,
            }),
        )
        .unwrap();
    });
    let started = Instant::now();
    let mut s = TcpStream::connect(srv.local_addr().unwrap()).await.unwrap();
    s.write_all(b"one byte, then silence").await.unwrap();
    let (_, reset) = until_closed(&mut s).await;
    let took = started.elapsed();
    assert!(!reset);
    assert!(took >= Duration::from_millis(290), "{took:?}");
    assert!(took < Duration::from_secs(10), "{took:?}");
    srv.shutdown_gracefully(Duration::from_secs(1)).await;
    group.shutdown_gracefully(Duration::from_secs(1)).await;
}

/// Connects, lets the server fill the socket, reads nothing for `stall`, then
/// reads: returns whether the connection was reset, and how long it stayed open.
async fn stalled_reader(srv: &Server, stall: Duration) -> (bool, Duration) {
    let mut s = TcpStream::connect(srv.local_addr().unwrap()).await.unwrap();
    let started = Instant::now();
    tokio::time::sleep(stall).await;
    let (_, reset) = until_closed(&mut s).await;
    (reset, started.elapsed())
}

#[tokio::test]
async fn a_peer_that_reads_nothing_is_reset_by_the_send_timeout() {
    let group = EventLoopGroup::new(1).unwrap();
    let srv = server(&group, |p| {
        let idle = IdleStateHandler::new()
            .writer_idle(Duration::from_millis(500))
            .observe_output(true);
        p.add_last("idle", Handler::duplex(idle)).unwrap();
        p.add_last(
            "sender",
            Handler::inbound(Sender {
                size: 32 << 20,
                close: CloseMode::Reset,
            }),
        )
        .unwrap();
    });
    let (reset, open) = stalled_reader(&srv, Duration::from_millis(1500)).await;
    assert!(reset, "closed with a reset");
    assert!(open < Duration::from_secs(20), "{open:?}");
    tokio::time::timeout(Duration::from_secs(10), async {
        while srv.metrics().connections_open > 0 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("the server closed its side");
    srv.shutdown_gracefully(Duration::from_secs(1)).await;
    group.shutdown_gracefully(Duration::from_secs(1)).await;
}

#[tokio::test]
async fn a_slow_reader_that_keeps_reading_is_not_timed_out() {
    let group = EventLoopGroup::new(1).unwrap();
    let srv = server(&group, |p| {
        let idle = IdleStateHandler::new()
            .writer_idle(Duration::from_millis(400))
            .observe_output(true);
        p.add_last("idle", Handler::duplex(idle)).unwrap();
        p.add_last(
            "sender",
            Handler::inbound(Sender {
                size: 4 << 20,
                close: CloseMode::Reset,
            }),
        )
        .unwrap();
    });
    let mut s = TcpStream::connect(srv.local_addr().unwrap()).await.unwrap();
    // 64 KiB every 100 ms: slow, but never 400 ms without progress.
    let mut got = 0usize;
    let mut buf = vec![0u8; 64 * 1024];
    let deadline = Instant::now() + Duration::from_secs(60);
    while got < 4 << 20 && Instant::now() < deadline {
        let n = s.read(&mut buf).await.expect("never reset");
        assert!(n > 0, "closed early after {got} bytes");
        got += n;
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(got, 4 << 20);
    srv.shutdown_gracefully(Duration::from_secs(1)).await;
    group.shutdown_gracefully(Duration::from_secs(1)).await;
}

#[tokio::test]
async fn a_write_not_written_in_time_closes_with_a_reset() {
    let group = EventLoopGroup::new(1).unwrap();
    let srv = server(&group, |p| {
        let wt = WriteTimeoutHandler::new(Duration::from_millis(300)).close_mode(CloseMode::Reset);
        p.add_last("wt", Handler::outbound(wt)).unwrap();
        p.add_last(
            "sender",
            Handler::inbound(Sender {
                size: 32 << 20,
                close: CloseMode::Fin,
            }),
        )
        .unwrap();
    });
    let (reset, open) = stalled_reader(&srv, Duration::from_millis(1000)).await;
    assert!(reset);
    assert!(open < Duration::from_secs(20), "{open:?}");
    srv.shutdown_gracefully(Duration::from_secs(1)).await;
    group.shutdown_gracefully(Duration::from_secs(1)).await;
}
