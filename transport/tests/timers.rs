//! Core timers and blocking work over TCP: a handler's timer fires on the
//! channel's loop with no task of its own; a timer can close with a reset; blocking
//! work's output comes back to the handler on its loop.

mod common;

use std::time::Duration;

use common::init_tracing;
use seine_buffer::Bytes;
use seine_channel::prelude::*;
use seine_transport::{EventLoopGroup, ServerBootstrap};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// On its timer, writes what it has counted and closes (with a reset if asked).
struct Deadline {
    reset: bool,
    reads: usize,
}
impl ChannelHandler for Deadline {
    fn timer_fired(&mut self, ctx: &mut Context<'_>, key: u64) {
        assert_eq!(key, 42);
        if self.reset {
            ctx.close_with_reset();
        } else {
            ctx.write_void(Bytes::from(format!("timer after {} reads\n", self.reads)));
            ctx.close();
        }
    }
}
impl InboundHandler for Deadline {
    type Read = Bytes;
    type Fire = Bytes;
    fn channel_active(&mut self, ctx: &mut InboundContext<'_, Bytes>) {
        ctx.set_timer_after(42, Duration::from_millis(200));
        ctx.fire_active();
    }
    fn channel_read(&mut self, ctx: &mut InboundContext<'_, Bytes>, _msg: Bytes) {
        self.reads += 1;
        // Each read moves the deadline: the timer fires 200 ms after the last one.
        ctx.set_timer_after(42, Duration::from_millis(200));
        if self.reset {
            // Queue more than the peer will read, so a FIN close would have to wait.
            ctx.write_void(Bytes::from(vec![0u8; 4 << 20]));
        }
    }
}

fn server(group: &EventLoopGroup, reset: bool) -> seine_transport::Server {
    ServerBootstrap::new()
        .group(group)
        .child_handler(move |p| {
            p.add_last("deadline", Handler::inbound(Deadline { reset, reads: 0 }))?;
            Ok(())
        })
        .bind("127.0.0.1:0")
        .unwrap()
}

#[tokio::test]
async fn a_handler_timer_fires_after_the_last_reset() {
    init_tracing();
    let group = EventLoopGroup::new(1).unwrap();
    let server = server(&group, false);
    let mut s = TcpStream::connect(server.local_addr().unwrap())
        .await
        .unwrap();
    for _ in 0..3 {
        s.write_all(b"x").await.unwrap();
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut got = String::new();
    tokio::time::timeout(Duration::from_secs(10), s.read_to_string(&mut got))
        .await
        .expect("the timer closes the connection")
        .unwrap();
    assert!(got.starts_with("timer after "), "{got}");
    server.shutdown_gracefully(Duration::from_secs(5)).await;
    group.shutdown_gracefully(Duration::from_secs(1)).await;
}

#[tokio::test]
async fn close_with_reset_sends_a_reset_not_a_fin() {
    init_tracing();
    let group = EventLoopGroup::new(1).unwrap();
    let server = server(&group, true);
    let mut s = TcpStream::connect(server.local_addr().unwrap())
        .await
        .unwrap();
    s.write_all(b"x").await.unwrap();
    // Read nothing until the server's timer has closed, then drain: a reset
    // surfaces as ECONNRESET, where a FIN would end in a clean EOF after 4 MiB.
    let mut buf = vec![0u8; 64 * 1024];
    let end = tokio::time::timeout(Duration::from_secs(10), async {
        tokio::time::sleep(Duration::from_millis(500)).await;
        loop {
            match s.read(&mut buf).await {
                Ok(0) => return Ok(()),
                Ok(_) => {}
                Err(e) => return Err(e),
            }
        }
    })
    .await
    .expect("the connection ends");
    let err = end.expect_err("a reset, not a clean end of stream");
    assert_eq!(err.kind(), std::io::ErrorKind::ConnectionReset, "{err}");
    server.shutdown_gracefully(Duration::from_secs(5)).await;
    group.shutdown_gracefully(Duration::from_secs(1)).await;
}

/// Answers each read with its length, computed off the loop.
struct OffLoop;
impl ChannelHandler for OffLoop {
    fn blocking_done(&mut self, ctx: &mut Context<'_>, _key: u64, output: UserEvent) {
        let (len, on_loop): (usize, bool) = output.downcast().expect("the job's output");
        ctx.write_void(Bytes::from(format!("{len} {on_loop}\n")));
        ctx.flush();
    }
}
impl InboundHandler for OffLoop {
    type Read = Bytes;
    type Fire = Bytes;
    fn channel_read(&mut self, ctx: &mut InboundContext<'_, Bytes>, msg: Bytes) {
        let loop_thread = std::thread::current().id();
        ctx.spawn_blocking(0, move || {
            (msg.len(), std::thread::current().id() == loop_thread)
        })
        .unwrap();
    }
}

#[tokio::test]
async fn blocking_work_runs_off_the_loop_and_answers_on_it() {
    init_tracing();
    let group = EventLoopGroup::new(1).unwrap();
    let server = ServerBootstrap::new()
        .group(&group)
        .child_handler(|p| {
            p.add_last("off", Handler::inbound(OffLoop))?;
            Ok(())
        })
        .bind("127.0.0.1:0")
        .unwrap();
    let mut s = TcpStream::connect(server.local_addr().unwrap())
        .await
        .unwrap();
    s.write_all(b"hello").await.unwrap();
    let mut buf = [0u8; 32];
    let n = tokio::time::timeout(Duration::from_secs(10), s.read(&mut buf))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(&buf[..n], b"5 false\n");
    server.shutdown_gracefully(Duration::from_secs(5)).await;
    group.shutdown_gracefully(Duration::from_secs(1)).await;
}
