//! Measures how fast a server accepts short connections with each
//! [`AcceptMode`]: one `SO_REUSEPORT` listener per loop, or one acceptor handing
//! sockets round robin.
//!
//! The server runs the default group (one loop per core); a client thread with a
//! current-thread runtime keeps `--concurrency` connections in flight, each
//! connecting, sending one byte, reading it back and closing with `SO_LINGER 0`
//! (no `TIME_WAIT`, so ports do not run out). The modes alternate run by run; the
//! median rate of each is printed.
//!
//! ```text
//! cargo run --release -p seine-transport --example accept_rate -- [--reps 5] [--conns 20000] [--concurrency 32]
//! ```

use std::time::{Duration, Instant};

use seine_buffer::Bytes;
use seine_channel::prelude::*;
use seine_transport::{AcceptMode, ServerBootstrap, ServerOptions};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

struct Echo;
impl ChannelHandler for Echo {}
impl InboundHandler for Echo {
    type Read = Bytes;
    type Fire = Bytes;
    fn channel_read(&mut self, ctx: &mut InboundContext<'_, Bytes>, msg: Bytes) {
        ctx.write(msg);
    }
}

/// Measures how fast a server accepts short connections with each accept mode
/// (a SO_REUSEPORT listener per loop, or one acceptor handing sockets round robin).
#[derive(clap::Parser)]
#[command(name = "accept_rate", version)]
struct Args {
    /// Runs per mode (the median is reported).
    #[arg(long, value_name = "N", default_value_t = 5)]
    reps: usize,

    /// Connections per run.
    #[arg(long, value_name = "N", default_value_t = 20_000)]
    conns: usize,

    /// Connections in flight.
    #[arg(long, value_name = "N", default_value_t = 32)]
    concurrency: usize,
}

async fn client(addr: std::net::SocketAddr, conns: usize, concurrency: usize) -> Duration {
    let start = Instant::now();
    let per = conns / concurrency;
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        tasks.push(tokio::task::spawn_local(async move {
            for _ in 0..per {
                let mut c = tokio::net::TcpStream::connect(addr).await.expect("connect");
                c.write_all(b"x").await.unwrap();
                let mut b = [0u8; 1];
                c.read_exact(&mut b).await.unwrap();
                socket2::SockRef::from(&c)
                    .set_linger(Some(Duration::ZERO))
                    .unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    start.elapsed()
}

fn run(mode: AcceptMode, conns: usize, concurrency: usize) -> f64 {
    let server = ServerBootstrap::new()
        .options(ServerOptions {
            accept_mode: mode,
            ..ServerOptions::default()
        })
        .child_handler(|p| {
            p.add_last("echo", Handler::inbound(Echo))?;
            Ok(())
        })
        .bind("127.0.0.1:0")
        .expect("bind");
    let addr = server.local_addr().unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let local = tokio::task::LocalSet::new();
    let took = local.block_on(&rt, client(addr, conns, concurrency));
    let accepted = server.metrics().connections_accepted;
    server.shutdown_gracefully_blocking(Duration::from_secs(5));
    assert!(accepted as usize >= conns / concurrency * concurrency);
    (conns / concurrency * concurrency) as f64 / took.as_secs_f64()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

fn main() {
    let Args {
        reps,
        conns,
        concurrency,
    } = clap::Parser::parse();
    println!(
        "{} loops, {conns} connections per run, {concurrency} in flight, {reps} runs per mode",
        seine_transport::EventLoopGroup::default_threads()
    );
    let (mut reuse, mut acceptor) = (Vec::new(), Vec::new());
    for _ in 0..reps {
        reuse.push(run(AcceptMode::ReusePort, conns, concurrency));
        acceptor.push(run(AcceptMode::Acceptor, conns, concurrency));
    }
    let fmt = |v: &[f64]| {
        v.iter()
            .map(|r| format!("{r:.0}"))
            .collect::<Vec<_>>()
            .join(" ")
    };
    println!(
        "ReusePort: median {:.0} conn/s  [{}]",
        median(reuse.clone()),
        fmt(&reuse)
    );
    println!(
        "Acceptor:  median {:.0} conn/s  [{}]",
        median(acceptor.clone()),
        fmt(&acceptor)
    );
}
