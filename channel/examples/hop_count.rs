//! Runs messages through N pass-through handlers, for instruction counting:
//! `valgrind --tool=callgrind target/release/examples/hop_count N MESSAGES`.
//! Instructions per hop = (Ir(N) - Ir(0)) / (N * MESSAGES).

use seine_buffer::Bytes;
use seine_channel::prelude::*;
use seine_channel::{Addr, ChannelConfig, ChannelCore, OutboundBuffer, Transport};

struct Null;
impl Transport for Null {
    fn flush(&mut self, _out: &mut OutboundBuffer) -> Result<(), Error> {
        Ok(())
    }
    fn shutdown_output(&mut self) -> Result<(), Error> {
        Ok(())
    }
    fn close(&mut self) {}
}

struct Pass;
impl ChannelHandler for Pass {}
impl InboundHandler for Pass {
    type Read = Bytes;
    type Fire = Bytes;
    fn channel_read(&mut self, ctx: &mut InboundContext<'_, Bytes>, msg: Bytes) {
        ctx.fire_read(msg);
    }
}

struct Sink(u64);
impl ChannelHandler for Sink {}
impl InboundHandler for Sink {
    type Read = Bytes;
    type Fire = Bytes;
    fn channel_read(&mut self, _ctx: &mut InboundContext<'_, Bytes>, msg: Bytes) {
        self.0 += msg.len() as u64;
    }
}

/// Runs messages through N pass-through handlers, for instruction counting
/// (valgrind --tool=callgrind).
#[derive(clap::Parser)]
#[command(name = "hop_count", version)]
struct Args {
    /// Pass-through handlers.
    #[arg(value_name = "N", default_value_t = 4)]
    n: usize,

    /// Messages sent through them.
    #[arg(value_name = "MESSAGES", default_value_t = 1_000_000)]
    messages: u64,
}

fn main() {
    let Args { n, messages } = clap::Parser::parse();
    let mut core = ChannelCore::new(
        Channel::new(Addr::None, Addr::None),
        Box::new(Null),
        ChannelConfig::default(),
    );
    {
        let mut p = core.pipeline();
        for i in 0..n {
            p.add_last(&format!("pass{i}"), Handler::inbound(Pass))
                .unwrap();
        }
        p.add_last("sink", Handler::inbound(Sink(0))).unwrap();
    }
    core.fire_active();
    let msg = Bytes::from_static(b"0123456789abcdef");
    let start = std::time::Instant::now();
    for _ in 0..messages {
        core.fire_read(std::hint::black_box(msg.clone()));
    }
    eprintln!(
        "{n} handlers: {:.2} ns/message",
        start.elapsed().as_nanos() as f64 / messages as f64
    );
}
