//! End-to-end tests of `examples/echo.rs` (framed echo) and `examples/proxy.rs`
//! (splice proxy in front of it). The 100-connection load tests are `#[ignore]`d
//! (`cargo test -- --ignored`).

mod examples_support;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use examples_support::{ExampleServer, Rng};

/// Sends one frame and checks that the same frame comes back.
fn round_trip(conn: &mut TcpStream, payload: &[u8]) {
    conn.write_all(&(payload.len() as u32).to_be_bytes())
        .unwrap();
    conn.write_all(payload).unwrap();
    let mut len = [0u8; 4];
    conn.read_exact(&mut len).expect("a frame header");
    assert_eq!(u32::from_be_bytes(len) as usize, payload.len());
    let mut back = vec![0u8; payload.len()];
    conn.read_exact(&mut back).expect("a frame payload");
    assert!(
        back == payload,
        "payload of {} bytes differs",
        payload.len()
    );
}

fn connect(addr: SocketAddr) -> TcpStream {
    let c = TcpStream::connect(addr).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    c.set_nodelay(true).unwrap();
    c
}

fn check_frames(addr: SocketAddr) {
    let mut c = connect(addr);
    let mut rng = Rng(1);
    for size in [0, 1, 3, 4, 100, 65_536, 1 << 20] {
        round_trip(&mut c, &rng.bytes(size));
    }
    // Many small frames in one write come back in order.
    let mut batch = Vec::new();
    for i in 0..1000u32 {
        batch.extend_from_slice(&4u32.to_be_bytes());
        batch.extend_from_slice(&i.to_be_bytes());
    }
    c.write_all(&batch).unwrap();
    let mut back = vec![0u8; batch.len()];
    c.read_exact(&mut back).unwrap();
    assert_eq!(back, batch);
}

fn check_oversized_frame_disconnects(addr: SocketAddr) {
    let mut c = connect(addr);
    round_trip(&mut c, b"fine");
    // 16 MiB + 1 announced: the connection is closed, nothing echoed.
    c.write_all(&((16u32 << 20) + 1).to_be_bytes()).unwrap();
    let _ = c.write_all(&[0u8; 1024]);
    let mut rest = Vec::new();
    let _ = c.read_to_end(&mut rest);
    assert!(rest.is_empty(), "got {} bytes", rest.len());
}

#[test]
fn echo_frames() {
    let echo = ExampleServer::start("echo", &["--threads", "2"]);
    check_frames(echo.addr);
    // The largest frame allowed, 16 MiB.
    round_trip(&mut connect(echo.addr), &Rng(2).bytes(16 << 20));
    check_oversized_frame_disconnects(echo.addr);
}

#[test]
fn proxy_in_front_of_echo() {
    let echo = ExampleServer::start("echo", &["--threads", "1"]);
    let upstream = echo.addr.to_string();
    let proxy = ExampleServer::start("proxy", &["--threads", "2", "--upstream", &upstream]);
    check_frames(proxy.addr);
    check_oversized_frame_disconnects(proxy.addr);
}

/// 100 connections at once, each sending frames of random sizes in 0..4 MiB and
/// checking every byte that comes back.
fn load(addr: SocketAddr, seed: u64) {
    let source = std::sync::Arc::new(Rng(seed).bytes(8 << 20));
    let clients: Vec<_> = (0..100u64)
        .map(|i| {
            let source = source.clone();
            std::thread::spawn(move || {
                let mut rng = Rng(seed ^ (i + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
                let mut c = connect(addr);
                for _ in 0..4 {
                    let size = rng.below(4 << 20) as usize;
                    let start = rng.below((source.len() - size) as u64) as usize;
                    round_trip(&mut c, &source[start..start + size]);
                }
                round_trip(&mut c, &[]);
            })
        })
        .collect();
    for c in clients {
        c.join().expect("a client thread");
    }
}

#[test]
#[ignore = "load test: 100 connections, frames up to 4 MiB"]
fn echo_100_connections_random_sizes() {
    let echo = ExampleServer::start("echo", &[]);
    load(echo.addr, 42);
}

#[test]
#[ignore = "load test: 100 connections, frames up to 4 MiB, through the splice proxy"]
fn proxy_100_connections_random_sizes() {
    let echo = ExampleServer::start("echo", &[]);
    let upstream = echo.addr.to_string();
    let proxy = ExampleServer::start("proxy", &["--upstream", &upstream]);
    load(proxy.addr, 43);
}
