//! A framed echo server: each frame is a 4-byte big-endian length and that many
//! bytes (0 to 16 MiB); every frame is answered with the same frame.
//!
//! ```text
//! cargo run --release --example echo -- --addr 127.0.0.1:9000 --threads 2
//! ```
//!
//! The pipeline is Netty's classic one:
//!
//! ```text
//! bytes -> LengthFieldDecoder (strips the length) -> Echo -> LengthFieldPrepender -> bytes
//! ```
//!
//! The decoder fires each payload as a `CompositeBuf` of the received segments and
//! the prepender writes it back behind a new header: no payload byte is copied. A
//! peer announcing a frame over 16 MiB is disconnected before anything is buffered
//! for it.

use std::io::Write;
use std::time::Duration;

use seine::buffer::CompositeBuf;
use seine::channel::prelude::*;
use seine::codec::{LengthFieldDecoder, LengthFieldPrepender};
use seine::transport::{EventLoopGroup, ServerBootstrap};

mod support;

const MAX_PAYLOAD: usize = 16 * 1024 * 1024;

/// Writes every frame back.
struct Echo;

impl ChannelHandler for Echo {}

impl InboundHandler for Echo {
    type Read = CompositeBuf;
    type Fire = CompositeBuf;

    fn channel_read(&mut self, ctx: &mut InboundContext<'_, CompositeBuf>, frame: CompositeBuf) {
        ctx.write_void(frame); // flushed when the read batch ends
    }

    fn exception_caught(&mut self, ctx: &mut InboundContext<'_, CompositeBuf>, error: Error) {
        // A frame over the limit (or a broken connection): hang up.
        tracing::debug!(%error, "closing");
        ctx.close();
    }
}

fn parse_args(default_addr: &str) -> Result<(String, usize), String> {
    let mut addr = default_addr.to_string();
    let mut threads = EventLoopGroup::default_threads();
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next().ok_or(format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--addr" => addr = value,
            "--threads" => threads = value.parse().map_err(|e| format!("--threads: {e}"))?,
            _ => {
                return Err(format!(
                    "unknown option {flag}; use --addr HOST:PORT --threads N"
                ));
            }
        }
    }
    Ok((addr, threads.max(1)))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let signals = support::ShutdownSignals::install()?;
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let (addr, threads) = parse_args("127.0.0.1:9000")?;

    // Configured (and checked) once; each connection gets a copy.
    let frames = LengthFieldDecoder::builder()
        .length_field_length(4)
        .initial_bytes_to_strip(4)
        .max_frame_length(4 + MAX_PAYLOAD)
        .build()?;
    let prepender = LengthFieldPrepender::builder()
        .length_field_length(4)
        .build()?;

    let group = EventLoopGroup::new(threads)?;
    let server = ServerBootstrap::new()
        .group(&group)
        .child_handler(move |pipeline| {
            pipeline.add_last("frames", frames.clone().into())?;
            pipeline.add_last("prepender", prepender.clone().into())?;
            pipeline.add_last("echo", Handler::inbound(Echo))?;
            Ok(())
        })
        .bind(&addr)?;
    println!("listening on {}", server.local_addr()?);
    std::io::stdout().flush()?;

    signals.wait();
    eprintln!("shutting down");
    server.shutdown_gracefully_blocking(Duration::from_secs(5));
    group.shutdown_gracefully_blocking(Duration::from_secs(1));
    Ok(())
}
