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
//! The decoder fires each payload as a `CompositeBuf` of the received segments and
//! the prepender writes it back behind a new header: no payload byte is copied. A
//! peer announcing a frame over 16 MiB is disconnected before anything is buffered
//! for it.

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
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Args = support::start();
    let signals = support::ShutdownSignals::install()?;

    // Configured (and checked) once; each connection gets a copy.
    let frames = LengthFieldDecoder::builder()
        .length_field_length(4)
        .initial_bytes_to_strip(4)
        .max_frame_length(4 + MAX_PAYLOAD)
        .build()?;
    let prepender = LengthFieldPrepender::builder()
        .length_field_length(4)
        .build()?;

    let group = EventLoopGroup::new(args.server.threads())?;
    let server = ServerBootstrap::new()
        .group(&group)
        .child_handler(move |pipeline| {
            pipeline.add_last("frames", frames.clone().into())?;
            pipeline.add_last("prepender", prepender.clone().into())?;
            pipeline.add_last("echo", Handler::inbound(Echo))?;
            Ok(())
        })
        .bind(&args.server.addr)?;
    support::announce(server.local_addr()?)?;

    support::shutdown::wait_then_drain(signals, Some(&server), &group);
    Ok(())
}
