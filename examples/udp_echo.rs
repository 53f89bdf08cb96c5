//! A UDP echo server: every datagram goes back to its sender.
//!
//! ```text
//! cargo run --release --example udp_echo -- --addr 127.0.0.1:9001 --threads 2
//! ```
//!
//! The pipeline is one handler on a datagram channel; the transport does the rest:
//! a read batch is one `recvmmsg` into a pooled buffer (each datagram a `Bytes`
//! slice of it, no copy), and the replies the batch wrote leave in one `sendmmsg`
//! when it ends, runs of equal-size replies to one peer as a single UDP GSO
//! message where the kernel has it. With `--threads N` each loop has its own
//! socket on the address (`SO_REUSEPORT`).

use std::time::Duration;

use clap::Parser;
use seine::channel::DatagramPacket;
use seine::channel::prelude::*;
use seine::transport::{DatagramBootstrap, EventLoopGroup};

mod support;

/// A UDP echo server: every datagram goes back to its sender (with --threads N,
/// one socket per loop on the address).
#[derive(Parser)]
#[command(name = "udp_echo", version, args_override_self = true)]
struct Args {
    #[command(flatten)]
    server: support::ServerArgs<9001>,
}

/// Sends every datagram back to its sender (flushed when the read batch ends).
struct Echo;

impl ChannelHandler for Echo {}

impl InboundHandler for Echo {
    type Read = DatagramPacket;
    type Fire = DatagramPacket;

    fn channel_read(&mut self, ctx: &mut InboundContext<'_, DatagramPacket>, msg: DatagramPacket) {
        let reply = msg.reply(msg.content.clone()); // O(1): the same bytes
        ctx.write_void(reply);
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Args = support::start();
    let mut signals = seine::transport::ShutdownSignals::install()?;
    let group = EventLoopGroup::new(args.server.threads())?;
    let endpoint = DatagramBootstrap::new()
        .group(&group)
        .handler(|p| {
            p.add_last("echo", Handler::inbound(Echo))?;
            Ok(())
        })
        .bind(&args.server.addr)?;
    support::announce(endpoint.local_addr())?;

    signals.wait();
    eprintln!("shutting down; {}", endpoint.metrics());
    endpoint.shutdown_gracefully_blocking(Duration::from_secs(1));
    group.shutdown_gracefully_blocking(Duration::from_secs(1));
    Ok(())
}
