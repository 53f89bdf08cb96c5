//! A peer that sends but does not read its answers is not read from while the
//! channel is unwritable: the server's queue of answers stays bounded (high water
//! mark plus one read batch), and nothing is lost once the peer reads.

mod common;

use std::cell::Cell;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use common::{init_tracing, random_bytes};
use seine_buffer::Bytes;
use seine_channel::prelude::*;
use seine_transport::{ChannelOptions, EventLoopGroup, ServerBootstrap};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const TOTAL: usize = 32 << 20;

/// Echoes every read; records the most bytes ever pending when a read arrives.
struct Echo {
    max_pending: Arc<AtomicU64>,
    reads: Rc<Cell<u64>>,
}
impl ChannelHandler for Echo {}
impl InboundHandler for Echo {
    type Read = Bytes;
    type Fire = Bytes;
    fn channel_read(&mut self, ctx: &mut InboundContext<'_, Bytes>, msg: Bytes) {
        self.reads.set(self.reads.get() + 1);
        self.max_pending
            .fetch_max(ctx.pending_outbound_bytes(), Ordering::Relaxed);
        ctx.write(msg);
    }
}

#[tokio::test]
async fn a_peer_that_does_not_read_is_not_read_from() {
    init_tracing();
    let group = EventLoopGroup::new(1).unwrap();
    let max_pending = Arc::new(AtomicU64::new(0));
    let server = ServerBootstrap::new()
        .group(&group)
        .child_options(ChannelOptions::default().socket_buffers(64 * 1024, 64 * 1024))
        .child_handler({
            let max_pending = max_pending.clone();
            move |p| {
                let echo = Echo {
                    max_pending: max_pending.clone(),
                    reads: Rc::default(),
                };
                p.add_last("echo", Handler::inbound(echo))?;
                Ok(())
            }
        })
        .bind("127.0.0.1:0")
        .unwrap();
    let data = Bytes::from(random_bytes(7, TOTAL));
    let stream = TcpStream::connect(server.local_addr().unwrap())
        .await
        .unwrap();
    let (mut rd, mut wr) = stream.into_split();
    let writer = {
        let data = data.clone();
        tokio::spawn(async move { wr.write_all(&data).await.map(|_| wr) })
    };
    // Read only once the writer is stuck or done: until then the server is the
    // one holding the echoes, and it must stop reading instead of piling them up.
    common::eventually("the writer is blocked or done", || {
        writer.is_finished() || server.metrics().io.bytes_read > 128 << 10
    })
    .await;
    let mut got = vec![0u8; TOTAL];
    tokio::time::timeout(common::LIMIT, rd.read_exact(&mut got))
        .await
        .expect("echo read in time")
        .unwrap();
    assert!(got[..] == data[..], "echoed bytes differ");
    let _wr = writer.await.unwrap().unwrap();
    let max = max_pending.load(Ordering::Relaxed);
    // High water mark (64 KiB) + one batch of reads (16 x 64 KiB) + slack.
    assert!(
        max <= 2 << 20,
        "the server queued {max} bytes for a peer that did not read"
    );
    server
        .shutdown_gracefully(std::time::Duration::from_secs(5))
        .await;
    group
        .shutdown_gracefully(std::time::Duration::from_secs(1))
        .await;
}
