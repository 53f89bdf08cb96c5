//! Half-close: the client shuts down its write side and still receives the rest
//! of the response, with half-closure off (the server flushes, then closes) and on
//! (the server answers after the end of input).

mod common;

use std::time::Duration;

use common::{LIMIT, echo_server, init_tracing, random_bytes, read_to_end};
use seine_buffer::Bytes;
use seine_channel::prelude::*;
use seine_transport::{ChannelOptions, EventLoopGroup, ServerBootstrap, ServerOptions};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

#[tokio::test]
async fn client_shutdown_write_still_gets_the_whole_echo() {
    init_tracing();
    let group = EventLoopGroup::new(1).unwrap();
    let server = echo_server(
        &group,
        ServerOptions::default(),
        ChannelOptions::default().socket_buffers(16 * 1024, 16 * 1024),
    );
    let data = random_bytes(3, 3 << 20);
    let stream = TcpStream::connect(server.local_addr().unwrap())
        .await
        .unwrap();
    let (mut rd, mut wr) = stream.into_split();
    let writer = tokio::spawn({
        let data = data.clone();
        async move {
            wr.write_all(&data).await.unwrap();
            wr.shutdown().await.unwrap(); // FIN: the server sees end of input
            wr
        }
    });
    let got = read_to_end(&mut rd).await;
    let _wr = writer.await.unwrap();
    assert_eq!(got.len(), data.len());
    assert!(got == data, "echo after half-close differs");
    server.shutdown_gracefully(Duration::from_secs(5)).await;
    group.shutdown_gracefully(Duration::from_secs(1)).await;
}

/// Counts bytes; at end of input writes the count and a large tail, then closes.
struct CountThenAnswer {
    n: usize,
}
impl ChannelHandler for CountThenAnswer {}
impl InboundHandler for CountThenAnswer {
    type Read = Bytes;
    type Fire = Bytes;
    fn channel_read(&mut self, _ctx: &mut InboundContext<'_, Bytes>, msg: Bytes) {
        self.n += msg.len();
    }
    fn input_closed(&mut self, ctx: &mut InboundContext<'_, Bytes>) {
        ctx.write(Bytes::from(format!("{}\n", self.n)));
        ctx.write(Bytes::from(random_bytes(9, 1 << 20)));
        ctx.close();
    }
}

#[tokio::test]
async fn half_closure_allowed_answers_after_end_of_input() {
    init_tracing();
    let group = EventLoopGroup::new(1).unwrap();
    let server = ServerBootstrap::new()
        .group(&group)
        .child_options(ChannelOptions::default().allow_half_closure(true))
        .child_handler(|p| {
            p.add_last("count", Handler::inbound(CountThenAnswer { n: 0 }))?;
            Ok(())
        })
        .bind("127.0.0.1:0")
        .unwrap();
    let mut stream = TcpStream::connect(server.local_addr().unwrap())
        .await
        .unwrap();
    stream.write_all(&random_bytes(5, 100_000)).await.unwrap();
    stream.shutdown().await.unwrap();
    let got = tokio::time::timeout(LIMIT, read_to_end(&mut stream))
        .await
        .unwrap();
    let tail = random_bytes(9, 1 << 20);
    assert_eq!(&got[..7], b"100000\n");
    assert!(
        got[7..] == tail[..],
        "the answer after end of input is complete"
    );
    server.shutdown_gracefully(Duration::from_secs(5)).await;
    group.shutdown_gracefully(Duration::from_secs(1)).await;
}
