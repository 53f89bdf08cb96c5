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
//! On SIGTERM/SIGINT the server stops accepting and keeps echoing on open
//! connections until each peer half-closes (then it closes with a FIN after the
//! last echo) or `--shutdown-grace` seconds pass (default 30). `--proxy-protocol`
//! requires a PROXY protocol header (v1 or v2) first on each connection.
//!
//! The decoder fires each payload as a `CompositeBuf` of the received segments and
//! the prepender writes it back behind a new header: no payload byte is copied. A
//! peer announcing a frame over 16 MiB is disconnected before anything is buffered
//! for it.

use std::io::Write;
use std::time::Duration;

use seine::buffer::CompositeBuf;
use seine::channel::ShutdownRequested;
use seine::channel::prelude::*;
use seine::codec::proxy::HAProxyMessageDecoder;
use seine::codec::{LengthFieldDecoder, LengthFieldPrepender};
use seine::transport::{EventLoopGroup, ServerBootstrap, ShutdownSignals};

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

    fn user_event(&mut self, ctx: &mut InboundContext<'_, CompositeBuf>, event: UserEvent) {
        if let Some(shutdown) = event.downcast_ref::<ShutdownRequested>() {
            // Keep echoing: the peer's half-close ends the channel (after the last
            // echo is flushed, with a FIN), or the deadline does.
            shutdown.take_over();
            return;
        }
        ctx.fire_user_event(event);
    }

    fn exception_caught(&mut self, ctx: &mut InboundContext<'_, CompositeBuf>, error: Error) {
        // A frame over the limit (or a broken connection): hang up.
        tracing::debug!(%error, "closing");
        ctx.close();
    }
}

struct Args {
    addr: String,
    threads: usize,
    shutdown_grace: u64,
    proxy_protocol: bool,
}

fn parse_args(default_addr: &str) -> Result<Args, String> {
    let mut a = Args {
        addr: default_addr.to_string(),
        threads: EventLoopGroup::default_threads(),
        shutdown_grace: 30,
        proxy_protocol: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        if flag == "--proxy-protocol" {
            a.proxy_protocol = true;
            continue;
        }
        let value = args.next().ok_or(format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--addr" => a.addr = value,
            "--threads" => a.threads = value.parse().map_err(|e| format!("--threads: {e}"))?,
            "--shutdown-grace" => {
                a.shutdown_grace = value
                    .parse()
                    .map_err(|e| format!("--shutdown-grace: {e}"))?
            }
            _ => {
                return Err(format!(
                    "unknown option {flag}; use --addr HOST:PORT --threads N \
                     --shutdown-grace SECS --proxy-protocol"
                ));
            }
        }
    }
    a.threads = a.threads.max(1);
    Ok(a)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let signals = ShutdownSignals::install()?;
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let args = parse_args("127.0.0.1:9000")?;
    let proxy_protocol = args.proxy_protocol;

    let group = EventLoopGroup::new(args.threads)?;
    let server = ServerBootstrap::new()
        .group(&group)
        .child_handler(move |pipeline| {
            if proxy_protocol {
                let decoder = HAProxyMessageDecoder::new().with_timeout(Duration::from_secs(10));
                pipeline.add_last("proxy", decoder.into())?;
            }
            let frames = LengthFieldDecoder::builder()
                .length_field_length(4)
                .initial_bytes_to_strip(4)
                .max_frame_length(4 + MAX_PAYLOAD)
                .build();
            pipeline.add_last("frames", frames.into())?;
            pipeline.add_last("prepender", LengthFieldPrepender::new(4).into())?;
            pipeline.add_last("echo", Handler::inbound(Echo))?;
            Ok(())
        })
        .bind_activated_or(&args.addr)?;
    println!("listening on {}", server.local_addr()?);
    std::io::stdout().flush()?;

    let outcome = signals.run_until_signal(&server, Duration::from_secs(args.shutdown_grace));
    eprintln!("{outcome}");
    group.shutdown_gracefully_blocking(Duration::from_secs(1));
    Ok(())
}
