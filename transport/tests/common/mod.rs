//! Helpers shared by the transport's integration tests.
#![allow(dead_code)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use seine_buffer::Bytes;
use seine_channel::prelude::*;
use seine_transport::{ChannelOptions, EventLoopGroup, Server, ServerBootstrap, ServerOptions};

/// Writes back every read; the transport flushes at the end of the read batch.
pub struct Echo;
impl ChannelHandler for Echo {}
impl InboundHandler for Echo {
    type Read = Bytes;
    type Fire = Bytes;
    fn channel_read(&mut self, ctx: &mut InboundContext<'_, Bytes>, msg: Bytes) {
        let _ = ctx.write(msg);
    }
}

/// Records writability changes (true = writable) and passes reads on.
pub struct WatchWritability(pub Arc<Mutex<Vec<bool>>>);
impl ChannelHandler for WatchWritability {}
impl InboundHandler for WatchWritability {
    type Read = Bytes;
    type Fire = Bytes;
    fn channel_read(&mut self, ctx: &mut InboundContext<'_, Bytes>, msg: Bytes) {
        ctx.fire_read(msg);
    }
    fn channel_writability_changed(&mut self, ctx: &mut InboundContext<'_, Bytes>) {
        self.0.lock().unwrap().push(ctx.is_writable());
        ctx.fire_writability_changed();
    }
}

/// An echo server on 127.0.0.1 port 0.
pub fn echo_server(group: &EventLoopGroup, opts: ServerOptions, child: ChannelOptions) -> Server {
    ServerBootstrap::new()
        .group(group)
        .options(opts)
        .child_options(child)
        .child_handler(|p| {
            p.add_last("echo", Handler::inbound(Echo))?;
            Ok(())
        })
        .bind("127.0.0.1:0")
        .expect("bind 127.0.0.1:0")
}

/// Deterministic pseudo-random bytes (xorshift64*).
pub fn random_bytes(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        out.extend_from_slice(&x.wrapping_mul(0x2545_F491_4F6C_DD1D).to_le_bytes());
    }
    out.truncate(len);
    out
}

/// A bound on every wait in the tests: generous, only hit when something hangs.
pub const LIMIT: Duration = Duration::from_secs(60);

/// Polls `cond` every few ms until it holds or `LIMIT` passes.
pub async fn eventually(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + LIMIT;
    while !cond() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for: {what}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Installs a tracing subscriber (RUST_LOG) once.
pub fn init_tracing() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
}
