//! A TCP proxy: every connection is forwarded to `--upstream` both ways with
//! `splice(2)`, so the bytes never enter user space.
//!
//! ```text
//! cargo run --release --example proxy -- --addr 127.0.0.1:9100 --upstream 127.0.0.1:9000
//! cargo run --release --example proxy -- --help
//! ```
//!
//! There is no pipeline here: a proxy that does not look at the bytes does not need
//! one. Connections are accepted on the first event loop and each is handed to the
//! next loop (round robin), which connects upstream and runs
//! `seine::transport::splice_bidirectional_with_idle_timeout` until both directions
//! have ended (half-closes are passed on), or until no byte has moved either way
//! for `--idle-timeout` seconds (default 600, nginx's `proxy_timeout`). A reset on
//! one side is passed on as a reset to the other.

use std::net::SocketAddr;
use std::time::Duration;

use seine::transport::{EventLoopGroup, splice_bidirectional_with_idle_timeout};
use tokio::net::{TcpListener, TcpStream};

mod support;

/// A TCP proxy: every connection is forwarded to --upstream both ways with
/// splice(2), so the bytes never enter user space.
#[derive(clap::Parser)]
#[command(name = "proxy", version, args_override_self = true)]
struct Args {
    #[command(flatten)]
    server: support::ServerArgs<9100>,

    /// Where connections are forwarded.
    #[arg(long, value_name = "HOST:PORT", default_value = "127.0.0.1:9000")]
    upstream: String,

    /// Seconds without a byte moving either way after which a connection is
    /// closed (nginx's proxy_timeout).
    #[arg(long, value_name = "SECS", default_value_t = 600)]
    idle_timeout: u64,
}

/// Connects upstream and forwards until both directions end, or nothing moved
/// for `idle`.
async fn forward(client: TcpStream, upstream: SocketAddr, idle: Duration) {
    let server = match TcpStream::connect(upstream).await {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!(%upstream, error = %e, "cannot connect upstream");
            return;
        }
    };
    let _ = (client.set_nodelay(true), server.set_nodelay(true));
    match splice_bidirectional_with_idle_timeout(client, server, idle).await {
        Ok((up, down)) => tracing::debug!(up, down, "connection done"),
        Err(e) => tracing::debug!(error = %e, "connection failed"),
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Args = support::start();
    let signals = support::ShutdownSignals::install()?;
    let upstream = std::net::ToSocketAddrs::to_socket_addrs(&args.upstream)?
        .next()
        .ok_or("--upstream resolves to no address")?;

    let listener = std::net::TcpListener::bind(&args.server.addr)?;
    // std listens with a backlog of 128: a burst of connects overflows it (SYNs
    // dropped and retried after a second). Listen again with nginx's 511.
    nix::sys::socket::listen(&listener, nix::sys::socket::Backlog::new(511)?)?;
    listener.set_nonblocking(true)?;
    support::announce(listener.local_addr()?)?;

    let group = EventLoopGroup::new(args.server.threads())?;
    let loops = group.clone();
    let idle = Duration::from_secs(args.idle_timeout);
    group.loops()[0].spawn(move || async move {
        let listener = match TcpListener::from_std(listener) {
            Ok(l) => l,
            Err(e) => return tracing::error!(error = %e, "cannot listen"),
        };
        loop {
            let (client, _) = match listener.accept().await {
                Ok(c) => c,
                Err(e) => {
                    // EMFILE and friends: wait a little rather than spin.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            };
            // A tokio socket belongs to the runtime that registered it: move it to
            // the chosen loop as a std socket and register it there.
            let Ok(client) = client.into_std() else {
                continue;
            };
            let _ = loops.next().spawn(move || async move {
                if let Ok(client) = TcpStream::from_std(client) {
                    forward(client, upstream, idle).await;
                }
            });
        }
    })?;

    support::shutdown::wait_then_drain(signals, None, &group);
    Ok(())
}
