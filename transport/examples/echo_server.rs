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

fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .init();
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:7000".into());
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
