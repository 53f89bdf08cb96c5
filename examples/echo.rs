//! A framed echo server: each frame is a 4-byte big-endian length and that many
//! bytes (0 to 16 MiB); every frame is answered with the same frame.
//!
//! ```text
//! cargo run --release --example echo -- --addr 127.0.0.1:9000 --threads 2
//! cargo run --release --example echo -- --help
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
//! `--idle-timeout SECS` closes a connection that neither sent nor received
//! anything for that long (an `IdleStateHandler`; default 0, never).
//!
//! The decoder fires each payload as a `CompositeBuf` of the received segments and
//! the prepender writes it back behind a new header: no payload byte is copied. A
//! peer announcing a frame over 16 MiB is disconnected before anything is buffered
//! for it.

use std::time::Duration;

use seine::channel::ShutdownRequested;
use seine::handler::{IdleStateEvent, IdleStateHandler};
use seine::prelude::*;

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
        if event.is::<IdleStateEvent>() {
            tracing::debug!("idle: closing");
            return ctx.close();
        }
        ctx.fire_user_event(event);
    }

    fn exception_caught(&mut self, ctx: &mut InboundContext<'_, CompositeBuf>, error: Error) {
        // A frame over the limit (or a broken connection): hang up.
        tracing::debug!(%error, "closing");
        ctx.close();
    }
}

/// A framed echo server: each frame is a 4-byte big-endian length and that many
/// bytes (up to 16 MiB), answered with the same frame.
#[derive(clap::Parser)]
#[command(name = "echo", version, args_override_self = true)]
struct Args {
    #[command(flatten)]
    server: support::ServerArgs<9000>,
    #[command(flatten)]
    edge: support::edge::EdgeArgs,

    #[command(flatten)]
    tls: support::tls::TlsArgs,

    /// Seconds a connection may send and receive nothing before it is closed
    /// (0: never).
    #[arg(long, value_name = "SECS", default_value_t = 0)]
    idle_timeout: u64,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Args = support::start();
    let tls = args.tls.config(&[])?;
    let signals = seine::transport::ShutdownSignals::install()?;

    // Configured (and checked) once; each connection gets a copy.
    let frames = LengthFieldDecoder::builder()
        .length_field_length(4)
        .initial_bytes_to_strip(4)
        .max_frame_length(4 + MAX_PAYLOAD)
        .build()?;
    let prepender = LengthFieldPrepender::builder()
        .length_field_length(4)
        .build()?;

    let edge = args.edge.clone();
    let idle = Duration::from_secs(args.idle_timeout);
    let group = EventLoopGroup::new(args.server.threads())?;
    let server = ServerBootstrap::new()
        .group(&group)
        .child_handler(move |pipeline| {
            if !idle.is_zero() {
                let idle = IdleStateHandler::new().all_idle(idle);
                pipeline.add_last("idle", Handler::duplex(idle))?;
            }
            support::tls::add_first(pipeline, &tls)?;
            // The PROXY header precedes the TLS handshake on the wire.
            if let Some(proxy) = edge.proxy_decoder(Duration::from_secs(10)) {
                pipeline.add_first("proxy", proxy.into())?;
            }
            pipeline.add_last("frames", frames.clone().into())?;
            pipeline.add_last("prepender", prepender.clone().into())?;
            pipeline.add_last("echo", Handler::inbound(Echo))?;
            Ok(())
        })
        .bind_activated_or(&args.server.addr)?;
    support::announce(server.local_addr()?)?;

    args.edge.run_until_signal(signals, &server, &group);
    Ok(())
}
