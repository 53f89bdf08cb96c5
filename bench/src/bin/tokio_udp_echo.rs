//! Baseline UDP echo server, a plain tokio `UdpSocket` loop: `recv_from` into one
//! buffer, `send_to` the same bytes back, on a current-thread runtime.
//!
//! `tokio_udp_echo [--addr HOST:PORT]` (prints `listening on ADDR` first).

use std::io::Write;

use seine_bench::args::{Args, die};
use tokio::net::UdpSocket;

const USAGE: &str = "usage: tokio_udp_echo [--addr HOST:PORT] [--threads 1]\n\
    UDP echo server: every datagram is sent back to its sender.\n\
    Prints `listening on ADDR` as its first stdout line. Default --addr 127.0.0.1:0.";

fn main() {
    let args = Args::from_env(&["help"]).unwrap_or_else(|e| die(&e, USAGE));
    if args.flag("help") {
        println!("{USAGE}");
        return;
    }
    let bad = args.unknown(&["addr", "threads"]);
    if !bad.is_empty() {
        die(&format!("unknown option(s) {bad:?}"), USAGE);
    }
    if args
        .get("threads", 1usize)
        .unwrap_or_else(|e| die(&e, USAGE))
        != 1
    {
        die("only --threads 1 is supported (one runtime thread)", USAGE);
    }
    let addr = args.str("addr").unwrap_or("127.0.0.1:0").to_string();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| die(&format!("runtime: {e}"), USAGE));
    rt.block_on(async move {
        let sock = UdpSocket::bind(&addr)
            .await
            .unwrap_or_else(|e| die(&format!("bind {addr}: {e}"), USAGE));
        println!("listening on {}", sock.local_addr().expect("local_addr"));
        let _ = std::io::stdout().flush();
        let mut buf = vec![0u8; 65_536];
        loop {
            let Ok((n, from)) = sock.recv_from(&mut buf).await else {
                continue; // an ICMP error for an earlier send
            };
            let _ = sock.send_to(&buf[..n], from).await;
        }
    });
}
