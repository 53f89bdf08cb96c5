//! A TCP echo server: every read is written back and flushed when the read batch
//! ends. Prints the server's metrics every few seconds.
//!
//! ```text
//! cargo run --release -p seine-transport --example echo_server -- [127.0.0.1:7000]
//! ```

use std::time::Duration;

use seine_buffer::Bytes;
use seine_channel::prelude::*;
use seine_transport::ServerBootstrap;

/// Writes back every read (flushed when the read batch ends).
struct Echo;
impl ChannelHandler for Echo {}
impl InboundHandler for Echo {
    type Read = Bytes;
    type Fire = Bytes;
    fn channel_read(&mut self, ctx: &mut InboundContext<'_, Bytes>, msg: Bytes) {
        ctx.write(msg);
    }
}

/// An echo server: every read is written back.
#[derive(clap::Parser)]
#[command(name = "echo_server", version)]
struct Args {
    /// Address to listen on.
    #[arg(value_name = "HOST:PORT", default_value = "127.0.0.1:7000")]
    addr: String,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let Args { addr } = clap::Parser::parse();
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .init();
    let server = ServerBootstrap::new()
        .child_handler(|pipeline| {
            pipeline.add_last("echo", Handler::inbound(Echo))?;
            Ok(())
        })
        .bind(addr.as_str())?;
    println!(
        "echo server on {} ({} loops)",
        server.local_addr()?,
        server.group().len()
    );
    loop {
        std::thread::sleep(Duration::from_secs(5));
        println!("{}", server.metrics());
    }
}
