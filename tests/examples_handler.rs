//! http_file_server's timeouts and bounds, built on seine-handler, against the
//! real binary over 127.0.0.1: the send timeout closes (and resets) peers that
//! read nothing, the header timeout closes tricklers while normal requests
//! succeed, a pipelined burst holds few open files, `--limit-rate` paces a
//! download. Generous bounds: they say that it happens; `bench/handler_figures.sh`
//! measures how precisely.

mod examples_support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use examples_support::{ExampleServer, Rng, TempDir, read_response};

fn root(big: u64) -> TempDir {
    let dir = TempDir::new("www-handler");
    std::fs::write(dir.path().join("hello.txt"), b"hello\n").unwrap();
    std::fs::write(dir.path().join("data.bin"), Rng(5).bytes(3 << 20)).unwrap();
    // Sparse: no disk, any size.
    let f = std::fs::File::create(dir.path().join("big.bin")).unwrap();
    f.set_len(big).unwrap();
    dir
}

fn server(root: &TempDir, extra: &[&str]) -> ExampleServer {
    let mut args = vec!["--root", root.path().to_str().unwrap(), "--threads", "1"];
    args.extend_from_slice(extra);
    ExampleServer::start("http_file_server", &args)
}

/// Waits (bounded) until the server holds `fds` descriptors or fewer.
fn fds_drop_to(srv: &ExampleServer, fds: usize, within: Duration) -> Duration {
    let start = Instant::now();
    while srv.open_fds() > fds {
        assert!(
            start.elapsed() < within,
            "still {} descriptors",
            srv.open_fds()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    start.elapsed()
}

#[test]
fn peers_that_read_nothing_are_reset_after_the_send_timeout() {
    let www = root(1 << 30);
    let srv = server(&www, &["--send-timeout", "2", "--send-timeout-reset"]);
    let before = srv.open_fds();
    let clients: Vec<TcpStream> = (0..10)
        .map(|_| {
            let mut c = srv.connect();
            c.write_all(b"GET /big.bin HTTP/1.1\r\nHost: t\r\n\r\n")
                .unwrap();
            c
        })
        .collect();
    // Accepted, each holding its socket and its file.
    let start = Instant::now();
    while srv.open_fds() < before + 20 && start.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(srv.open_fds() >= before + 20, "{}", srv.open_fds());
    // Each stalls once the socket buffers are full, then goes 2 s without
    // progress: closed (connection and file) well within 10 s.
    let took = fds_drop_to(&srv, before, Duration::from_secs(15));
    assert!(took >= Duration::from_millis(1500), "{took:?}");
    // With a reset: the client sees ECONNRESET, not a clean end.
    for mut c in clients {
        let mut buf = vec![0u8; 1 << 20];
        let err = loop {
            match c.read(&mut buf) {
                Ok(0) => panic!("a FIN, not a reset"),
                Ok(_) => continue,
                Err(e) => break e,
            }
        };
        assert_eq!(err.kind(), std::io::ErrorKind::ConnectionReset);
    }
}

#[test]
fn tricklers_are_closed_at_the_header_timeout_while_requests_succeed() {
    let www = root(1 << 20);
    let srv = server(&www, &["--header-timeout", "2"]);
    let start = Instant::now();
    let mut tricklers: Vec<TcpStream> = (0..20).map(|_| srv.connect()).collect();
    let mut closed_at = vec![None; tricklers.len()];
    while closed_at.iter().any(Option::is_none) && start.elapsed() < Duration::from_secs(10) {
        for (i, t) in tricklers.iter_mut().enumerate() {
            if closed_at[i].is_none() && t.write_all(b"G").is_err() {
                closed_at[i] = Some(start.elapsed());
            }
        }
        // A normal request meanwhile.
        let mut c = srv.connect();
        c.write_all(b"GET /hello.txt HTTP/1.1\r\nHost: t\r\n\r\n")
            .unwrap();
        assert_eq!(read_response(&mut c, false).status, 200);
        std::thread::sleep(Duration::from_millis(200));
    }
    for t in &mut tricklers {
        // The server closed: end of stream or reset, not the 30 s read timeout.
        let mut rest = Vec::new();
        let _ = t.read_to_end(&mut rest);
    }
    let waited = start.elapsed();
    assert!(waited < Duration::from_secs(10), "{waited:?}");
    assert!(waited >= Duration::from_millis(1800), "{waited:?}");
}

#[test]
fn a_pipelined_burst_that_is_not_read_holds_few_files() {
    let www = root(1 << 30);
    let srv = server(&www, &[]);
    let before = srv.open_fds();
    let mut c = srv.connect();
    let burst = "GET /big.bin HTTP/1.1\r\nHost: t\r\n\r\n".repeat(5000);
    c.write_all(burst.as_bytes()).unwrap();
    std::thread::sleep(Duration::from_secs(2));
    let held = srv.open_fds() - before;
    assert!(held <= 32, "{held} descriptors for one connection");
}

#[test]
#[ignore = "takes 3 s: a paced download"]
fn limit_rate_paces_a_download() {
    let www = root(1 << 20);
    let srv = server(&www, &["--limit-rate", "1m"]);
    let mut c = srv.connect();
    let start = Instant::now();
    c.write_all(b"GET /data.bin HTTP/1.1\r\nHost: t\r\n\r\n")
        .unwrap();
    let resp = read_response(&mut c, false);
    let took = start.elapsed().as_secs_f64();
    assert_eq!(resp.body.len(), 3 << 20);
    // 3 MiB at 1 MiB/s: about 3 s (the first slice leaves at once).
    assert!((2.5..4.0).contains(&took), "{took} s");
}
