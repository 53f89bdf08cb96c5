//! The load generator checks every echoed byte: against a server that flips one byte it
//! fails with a clear message and a non-zero status; against a correct server it passes.
//! Bounded (`--frames`, `--timeout`), loopback only, port 0, no timing dependence.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Command, Output};
use std::thread;

/// What the toy server does to the echoed stream.
#[derive(Clone, Copy)]
enum Mode {
    Correct,
    /// XOR the byte at this stream offset (of every connection) with 0x01.
    FlipByte(usize),
    /// Close the connection after echoing this many bytes.
    CloseAfter(usize),
}

fn serve(mut s: TcpStream, mode: Mode) {
    let mut buf = [0u8; 8192];
    let mut off = 0usize;
    loop {
        let n = match s.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        let chunk = &mut buf[..n];
        match mode {
            Mode::Correct => {}
            Mode::FlipByte(at) => {
                if (off..off + n).contains(&at) {
                    chunk[at - off] ^= 0x01;
                }
            }
            Mode::CloseAfter(limit) => {
                if off + n >= limit {
                    let _ = s.write_all(&chunk[..limit - off]);
                    return;
                }
            }
        }
        off += n;
        if s.write_all(chunk).is_err() {
            return;
        }
    }
}

/// A plain blocking echo server (thread per connection) on 127.0.0.1:0.
fn spawn_server(mode: Mode) -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    thread::spawn(move || {
        for s in l.incoming().flatten() {
            thread::spawn(move || serve(s, mode));
        }
    });
    addr
}

fn loadgen(addr: SocketAddr, size: &str, extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_loadgen"))
        .args([
            "--addr",
            &addr.to_string(),
            "--conns",
            "3",
            "--inflight",
            "4",
        ])
        .args(["--size", size, "--frames", "40", "--timeout", "30"])
        .args(extra)
        .output()
        .expect("run loadgen")
}

fn text(o: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status,
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn correct_server_passes_for_small_and_large_frames() {
    let addr = spawn_server(Mode::Correct);
    for size in ["64", "4k", "100k"] {
        let o = loadgen(addr, size, &["--json"]);
        assert!(o.status.success(), "size {size}: {}", text(&o));
        let out = String::from_utf8_lossy(&o.stdout);
        // 3 connections x 40 frames, all verified, no errors.
        assert!(out.contains("\"frames\":120,"), "{}", text(&o));
        assert!(out.contains("\"errors\":0,"), "{}", text(&o));
    }
}

#[test]
fn one_flipped_byte_fails_the_run_with_a_clear_message() {
    // Byte 4 + 10 of each connection's stream: payload byte 10 of frame 0.
    let addr = spawn_server(Mode::FlipByte(14));
    let o = loadgen(addr, "64", &[]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("echo verification failed"), "{}", text(&o));
    assert!(err.contains("frame 0: payload byte 10"), "{}", text(&o));
    assert!(err.contains("corrupted"), "{}", text(&o));

    // Deep inside a large frame sent with writev: frame 1, payload byte 70000.
    let addr = spawn_server(Mode::FlipByte(2 * 4 + 100 * 1024 + 70_000));
    let o = loadgen(addr, "100k", &[]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("frame 1: payload byte 70000"), "{}", text(&o));
}

#[test]
fn a_server_that_hangs_up_early_is_an_error() {
    let addr = spawn_server(Mode::CloseAfter(68 * 5 + 30));
    let o = loadgen(addr, "64", &[]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    // "the server closed the connection", or a reset if the close raced our writes.
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("loadgen: error: connection"),
        "{}",
        text(&o)
    );
    assert!(!String::from_utf8_lossy(&o.stderr).contains("verification failed"));
}

/// A UDP echo server thread on 127.0.0.1:0 that XORs byte `flip` of every
/// datagram (if it has one) with 0x01.
fn spawn_udp_server(flip: Option<usize>) -> SocketAddr {
    let s = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = s.local_addr().unwrap();
    thread::spawn(move || {
        let mut buf = [0u8; 2048];
        while let Ok((n, from)) = s.recv_from(&mut buf) {
            if let Some(at) = flip.filter(|&at| at < n) {
                buf[at] ^= 0x01;
            }
            let _ = s.send_to(&buf[..n], from);
        }
    });
    addr
}

#[test]
fn udp_mode_verifies_every_datagram_against_a_correct_server() {
    let addr = spawn_udp_server(None);
    let o = loadgen(addr, "64", &["--udp", "--json"]);
    assert!(o.status.success(), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    // 3 sockets x 40 datagrams: echoed or counted lost, never both.
    let frames: u64 = out
        .split("\"frames\":")
        .nth(1)
        .unwrap()
        .split(',')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let lost: u64 = out
        .split("\"lost\":")
        .nth(1)
        .unwrap()
        .split([',', '}'])
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(frames + lost, 120, "{}", text(&o));
    assert!(out.contains("\"transport\":\"udp\""), "{}", text(&o));
}

#[test]
fn udp_mode_fails_on_a_flipped_byte() {
    let addr = spawn_udp_server(Some(30));
    let o = loadgen(addr, "64", &["--udp"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("echo verification failed") && err.contains("byte 30"),
        "{}",
        text(&o)
    );
}
