//! WebSocket echo load: `--conns` connections, each keeping `--depth` masked
//! text messages of `--size` bytes in flight, for `--seconds`; prints the
//! messages echoed per second. Every echo is checked (an unmasked text frame of
//! the same size).
//!
//! `ws_load --addr HOST:PORT [--conns 32] [--depth 16] [--size 64] [--seconds 5]`

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use seine_bench::args::{Args, die};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const USAGE: &str = "usage: ws_load --addr HOST:PORT [--conns 32] [--depth 16] [--size 64] [--seconds 5]\n\
WebSocket echo load generator: prints `messages N seconds S rate R`.";

fn frame(size: usize) -> Vec<u8> {
    assert!(size < 126, "--size must be under 126");
    let key = [0x11, 0x22, 0x33, 0x44];
    let mut f = vec![0x81, 0x80 | size as u8];
    f.extend_from_slice(&key);
    f.extend(
        (0..size)
            .map(|i| b'a' + (i % 26) as u8)
            .enumerate()
            .map(|(i, b)| b ^ key[i % 4]),
    );
    f
}

async fn conn(
    addr: String,
    size: usize,
    depth: usize,
    stop: Arc<AtomicBool>,
    count: Arc<AtomicU64>,
) -> std::io::Result<()> {
    let mut s = TcpStream::connect(&addr).await?;
    s.set_nodelay(true)?;
    s.write_all(
        b"GET /ws HTTP/1.1\r\nHost: bench\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
          Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
    )
    .await?;
    let mut head = Vec::new();
    let mut b = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        s.read_exact(&mut b).await?;
        head.push(b[0]);
    }
    if !head.starts_with(b"HTTP/1.1 101") {
        return Err(std::io::Error::other("no 101"));
    }
    let one = frame(size);
    let batch: Vec<u8> = one
        .iter()
        .copied()
        .cycle()
        .take(one.len() * depth)
        .collect();
    let echo_len = 2 + size;
    s.write_all(&batch).await?;
    let mut buf = vec![0u8; 64 << 10];
    let mut pending = 0usize; // bytes of a partial echo
    while !stop.load(Ordering::Relaxed) {
        let n = s.read(&mut buf[pending..]).await?;
        if n == 0 {
            return Err(std::io::Error::other("closed by the server"));
        }
        let total = pending + n;
        let done = total / echo_len;
        for i in 0..done {
            let f = &buf[i * echo_len..(i + 1) * echo_len];
            if f[0] != 0x81 || usize::from(f[1]) != size {
                return Err(std::io::Error::other("a bad echo frame"));
            }
        }
        pending = total % echo_len;
        buf.copy_within(done * echo_len..total, 0);
        count.fetch_add(done as u64, Ordering::Relaxed);
        if done > 0 {
            s.write_all(&batch[..done * one.len()]).await?;
        }
    }
    Ok(())
}

fn main() {
    let args = Args::from_env(&["help"]).unwrap_or_else(|e| die(&e, USAGE));
    if args.flag("help") {
        println!("{USAGE}");
        return;
    }
    let bad = args.unknown(&["addr", "conns", "depth", "size", "seconds"]);
    if !bad.is_empty() {
        die(&format!("unknown option(s) {bad:?}"), USAGE);
    }
    let addr = args
        .str("addr")
        .unwrap_or_else(|| die("--addr is required", USAGE))
        .to_string();
    let conns: usize = args.get("conns", 32).unwrap_or_else(|e| die(&e, USAGE));
    let depth: usize = args.get("depth", 16).unwrap_or_else(|e| die(&e, USAGE));
    let size: usize = args.get("size", 64).unwrap_or_else(|e| die(&e, USAGE));
    let seconds: f64 = args.get("seconds", 5.0).unwrap_or_else(|e| die(&e, USAGE));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let stop = Arc::new(AtomicBool::new(false));
    let count = Arc::new(AtomicU64::new(0));
    let (n, elapsed) = rt.block_on(async {
        let mut tasks = Vec::new();
        for _ in 0..conns {
            tasks.push(tokio::spawn(conn(
                addr.clone(),
                size,
                depth,
                stop.clone(),
                count.clone(),
            )));
        }
        // Counted from the start (handshakes included): the script's server CPU
        // window is the client's whole run.
        let start = Instant::now();
        tokio::time::sleep(Duration::from_secs_f64(seconds)).await;
        let n = count.load(Ordering::Relaxed);
        let elapsed = start.elapsed().as_secs_f64();
        stop.store(true, Ordering::Relaxed);
        for t in tasks {
            if t.is_finished() {
                if let Ok(Err(e)) = t.await {
                    eprintln!("ws_load: a connection failed: {e}");
                }
            } else {
                t.abort();
            }
        }
        (n, elapsed)
    });
    println!(
        "messages {n} seconds {elapsed:.3} rate {:.0}",
        n as f64 / elapsed
    );
}
