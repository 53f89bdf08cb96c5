//! A TCP proxy: every connection is forwarded to `--upstream` both ways with
//! `splice(2)`, so the bytes never enter user space.
//!
//! ```text
//! cargo run --release --example proxy -- --addr 127.0.0.1:9100 --upstream 127.0.0.1:9000
//! ```
//!
//! There is no pipeline here: a proxy that does not look at the bytes does not need
//! one. Connections are accepted on the first event loop and each is handed to the
//! next loop (round robin), which connects upstream and runs
//! `seine::transport::splice_bidirectional_with_idle_timeout` until both directions
//! have ended (half-closes are passed on), or until no byte has moved either way
//! for `--idle-timeout` seconds (default 600, nginx's `proxy_timeout`). A reset on
//! one side is passed on as a reset to the other.

use std::io::Write;
use std::net::SocketAddr;
use std::time::Duration;

use seine::transport::{EventLoopGroup, splice_bidirectional_with_idle_timeout};
use tokio::net::{TcpListener, TcpStream};

mod support;

struct Args {
    addr: String,
    upstream: String,
    threads: usize,
    idle_timeout: Duration,
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        addr: "127.0.0.1:9100".into(),
        upstream: "127.0.0.1:9000".into(),
        threads: EventLoopGroup::default_threads(),
        idle_timeout: Duration::from_secs(600),
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next().ok_or(format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--addr" => a.addr = value,
            "--upstream" => a.upstream = value,
            "--threads" => a.threads = value.parse().map_err(|e| format!("--threads: {e}"))?,
            "--idle-timeout" => {
                let secs: u64 = value.parse().map_err(|e| format!("--idle-timeout: {e}"))?;
                a.idle_timeout = Duration::from_secs(secs);
            }
            _ => {
                return Err(format!(
                    "unknown option {flag}; use --addr HOST:PORT --upstream HOST:PORT --threads N \
                     --idle-timeout SECS"
                ));
            }
        }
    }
    Ok(a)
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
    let mut signals = seine::transport::ShutdownSignals::install()?;
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let args = parse_args()?;
    let upstream = std::net::ToSocketAddrs::to_socket_addrs(&args.upstream)?
        .next()
        .ok_or("--upstream resolves to no address")?;

    let listener = std::net::TcpListener::bind(&args.addr)?;
    // std listens with a backlog of 128: a burst of connects overflows it (SYNs
    // dropped and retried after a second). Listen again with nginx's 511.
    nix::sys::socket::listen(&listener, nix::sys::socket::Backlog::new(511)?)?;
    listener.set_nonblocking(true)?;
    println!("listening on {}", listener.local_addr()?);
    std::io::stdout().flush()?;

    let group = EventLoopGroup::new(args.threads.max(1))?;
    let loops = group.clone();
    let idle = args.idle_timeout;
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

    let signal = signals.wait();
    eprintln!("{signal} received: shutting down");
    group.shutdown_gracefully_blocking(Duration::from_secs(1));
    Ok(())
}
