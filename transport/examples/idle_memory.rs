//! Measures what idle connections cost the server process: opens `--conns`
//! connections (default 10 000) from a child process, exchanges one 100-byte echo
//! on each (so every channel has read once), then reports the server's resident
//! memory growth per connection while they sit idle.
//!
//! ```text
//! cargo run --release -p seine-transport --example idle_memory -- [--conns 10000]
//! ```

use std::io::{BufRead, Read, Write};
use std::process::{Command, Stdio};
use std::time::Duration;

use seine_buffer::Bytes;
use seine_channel::prelude::*;
use seine_transport::{EventLoopGroup, ServerBootstrap};

struct Echo;
impl ChannelHandler for Echo {}
impl InboundHandler for Echo {
    type Read = Bytes;
    type Fire = Bytes;
    fn channel_read(&mut self, ctx: &mut InboundContext<'_, Bytes>, msg: Bytes) {
        ctx.write(msg);
    }
}

fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// The child: opens `n` connections, one echo each, reports "ready", waits for EOF
/// on stdin.
fn client(addr: &str, n: usize) {
    let mut conns = Vec::with_capacity(n);
    let msg = [7u8; 100];
    for _ in 0..n {
        let mut c = std::net::TcpStream::connect(addr).expect("connect");
        c.write_all(&msg).unwrap();
        let mut back = [0u8; 100];
        c.read_exact(&mut back).unwrap();
        conns.push(c);
    }
    println!("ready");
    std::io::stdout().flush().unwrap();
    let mut s = String::new();
    let _ = std::io::stdin().read_to_string(&mut s);
}

/// Measures what idle connections cost the server process (resident memory
/// growth per connection).
#[derive(clap::Parser)]
#[command(name = "idle_memory", version)]
struct Args {
    /// Idle connections to open.
    #[arg(long, value_name = "N", default_value_t = 10_000)]
    conns: usize,

    /// (Internal) run as the client process, connecting to this address.
    #[arg(long, value_name = "HOST:PORT", hide = true)]
    client: Option<String>,

    /// (Internal) connections the client process opens.
    #[arg(long, value_name = "N", default_value_t = 10_000, hide = true)]
    n: usize,
}

fn main() {
    let args: Args = clap::Parser::parse();
    if let Some(addr) = args.client {
        return client(&addr, args.n);
    }
    let n = args.conns;
    let group = EventLoopGroup::new(1).unwrap();
    let server = ServerBootstrap::new()
        .group(&group)
        .child_handler(|p| {
            p.add_last("echo", Handler::inbound(Echo))?;
            Ok(())
        })
        .bind("127.0.0.1:0")
        .unwrap();
    // Warm up allocator and runtime with a few connections first.
    let warm: Vec<_> = (0..10)
        .map(|_| std::net::TcpStream::connect(server.local_addr().unwrap()).unwrap())
        .collect();
    std::thread::sleep(Duration::from_millis(200));
    drop(warm);
    std::thread::sleep(Duration::from_millis(200));
    let before = rss_kib();
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--client",
            &server.local_addr().unwrap().to_string(),
            "--n",
            &n.to_string(),
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert_eq!(line.trim(), "ready");
    std::thread::sleep(Duration::from_millis(500));
    let after = rss_kib();
    let m = server.metrics();
    println!(
        "{} idle connections: server RSS {} KiB -> {} KiB, {:.0} bytes per connection",
        m.connections_open,
        before,
        after,
        (after.saturating_sub(before) * 1024) as f64 / m.connections_open.max(1) as f64
    );
    drop(child.stdin.take());
    let _ = child.wait();
    server.shutdown_gracefully_blocking(Duration::from_secs(5));
}
