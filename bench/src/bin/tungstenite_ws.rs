//! Baseline WebSocket echo server on tokio-tungstenite: each text or binary
//! message is sent back (`forward` of the read half into the write half, which
//! flushes when no more input is ready: the canonical echo).
//!
//! `tungstenite_ws [--addr HOST:PORT] [--runtime current|multi1]`

use futures_util::{StreamExt, TryStreamExt};
use tokio::net::TcpStream;

use seine_bench::server::serve;

async fn echo(stream: TcpStream) -> std::io::Result<()> {
    stream.set_nodelay(true)?;
    let ws = tokio_tungstenite::accept_async(stream)
        .await
        .map_err(std::io::Error::other)?;
    let (write, read) = ws.split();
    read.try_filter(|m| std::future::ready(m.is_text() || m.is_binary()))
        .forward(write)
        .await
        .map_err(std::io::Error::other)
}

fn main() {
    serve("tungstenite_ws", echo);
}
