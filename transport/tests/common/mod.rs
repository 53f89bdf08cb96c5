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
        ctx.write(msg);
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

/// Shared between a test and the handlers it installs on the server.
#[derive(Clone, Default)]
pub struct Probe {
    /// Writability changes seen (true = became writable).
    pub writability: Arc<Mutex<Vec<bool>>>,
    /// Handles of the channels that became active.
    pub channels: Arc<Mutex<Vec<seine_channel::Channel>>>,
    /// Errors that reached `exception_caught`.
    pub errors: Arc<Mutex<Vec<seine_channel::Error>>>,
    /// How many channels went inactive.
    pub inactive: Arc<Mutex<usize>>,
}

impl Probe {
    pub fn writability(&self) -> Vec<bool> {
        self.writability.lock().unwrap().clone()
    }
    pub fn channel(&self, i: usize) -> Option<seine_channel::Channel> {
        self.channels.lock().unwrap().get(i).cloned()
    }
    pub fn inactive(&self) -> usize {
        *self.inactive.lock().unwrap()
    }
}

/// Writes `data` in `chunk`-byte slices while the channel is writable and
/// resumes when it becomes writable again. Starts on the first read (which it
/// otherwise ignores), or at once with `on_active`.
pub struct Producer {
    pub data: Bytes,
    pub pos: usize,
    pub chunk: usize,
    pub on_active: bool,
    pub started: bool,
    pub probe: Probe,
}

impl Producer {
    pub fn new(data: Bytes, chunk: usize, on_active: bool, probe: Probe) -> Self {
        Producer {
            data,
            pos: 0,
            chunk,
            on_active,
            started: false,
            probe,
        }
    }

    fn pump(&mut self, ctx: &mut InboundContext<'_, Bytes>) {
        while self.pos < self.data.len() && ctx.is_writable() {
            let end = (self.pos + self.chunk).min(self.data.len());
            ctx.write(self.data.slice(self.pos..end));
            self.pos = end;
        }
        ctx.flush();
    }
}

impl ChannelHandler for Producer {}
impl InboundHandler for Producer {
    type Read = Bytes;
    type Fire = Bytes;
    fn channel_active(&mut self, ctx: &mut InboundContext<'_, Bytes>) {
        self.probe
            .channels
            .lock()
            .unwrap()
            .push(ctx.channel().clone());
        if self.on_active {
            self.started = true;
            self.pump(ctx);
        }
        ctx.fire_active();
    }
    fn channel_read(&mut self, ctx: &mut InboundContext<'_, Bytes>, _msg: Bytes) {
        if !self.started {
            self.started = true;
            self.pump(ctx);
        }
    }
    fn channel_writability_changed(&mut self, ctx: &mut InboundContext<'_, Bytes>) {
        let w = ctx.is_writable();
        self.probe.writability.lock().unwrap().push(w);
        if w && self.started {
            self.pump(ctx);
        }
    }
    fn channel_inactive(&mut self, ctx: &mut InboundContext<'_, Bytes>) {
        *self.probe.inactive.lock().unwrap() += 1;
        ctx.fire_inactive();
    }
    fn exception_caught(
        &mut self,
        ctx: &mut InboundContext<'_, Bytes>,
        error: seine_channel::Error,
    ) {
        self.probe.errors.lock().unwrap().push(error.clone());
        ctx.fire_exception(error);
    }
}

/// Reads until end of input; returns everything read.
pub async fn read_to_end(stream: &mut (impl tokio::io::AsyncRead + Unpin)) -> Vec<u8> {
    use tokio::io::AsyncReadExt;
    let mut out = Vec::new();
    tokio::time::timeout(LIMIT, stream.read_to_end(&mut out))
        .await
        .expect("read to end in time")
        .expect("read to end");
    out
}

/// Runs `f`, failing the test if it takes longer than `LIMIT` (a hang, not a
/// timing assumption).
pub async fn bounded<F: std::future::Future>(f: F) -> F::Output {
    tokio::time::timeout(LIMIT, f)
        .await
        .expect("test step finished within the limit")
}
