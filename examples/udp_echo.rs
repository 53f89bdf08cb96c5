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

use std::io::Write;
use std::time::Duration;

use clap::Parser;
use seine::channel::DatagramPacket;
use seine::channel::prelude::*;
use seine::transport::{DatagramBootstrap, EventLoopGroup};

mod support;

/// Command line.
#[derive(Parser, Debug)]
#[command(about = "A UDP echo server on seine datagram channels")]
struct Args {
    /// Address to listen on (port 0: any free port, printed).
    #[arg(long, value_name = "HOST:PORT", default_value = "127.0.0.1:9001")]
    addr: String,
    /// Event loops, each with its own socket (default: one per core).
    #[arg(long, value_name = "N")]
    threads: Option<usize>,
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
    let signals = support::ShutdownSignals::install()?;
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    let threads = args
        .threads
        .unwrap_or_else(EventLoopGroup::default_threads)
        .max(1);
    let group = EventLoopGroup::new(threads)?;
    let endpoint = DatagramBootstrap::new()
        .group(&group)
        .handler(|p| {
            p.add_last("echo", Handler::inbound(Echo))?;
            Ok(())
        })
        .bind(&args.addr)?;
    println!("listening on {}", endpoint.local_addr());
    std::io::stdout().flush()?;

    signals.wait();
    eprintln!("shutting down; {}", endpoint.metrics());
    endpoint.shutdown_gracefully_blocking(Duration::from_secs(1));
    group.shutdown_gracefully_blocking(Duration::from_secs(1));
    Ok(())
}
