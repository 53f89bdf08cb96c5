//! The streaming HTTP server codec over TCP: read backpressure with a consumer
//! that holds the body parts (released from another thread), a 413 answered and
//! read by a client in the middle of a 1 GiB upload that then stops, and (with
//! `#[ignore]`, `cargo test -- --ignored`, needs `curl`) curl uploading with a
//! length, chunked, with `100-continue`, 1 GiB with bounded memory, and over the
//! limit.

mod examples_support;

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use examples_support::{TempDir, have};
use seine_channel::prelude::*;
use seine_codec::http::{
    HttpPart, HttpRequestDecoder, HttpRequestPart, HttpResponse, HttpServerCodec,
};
use seine_transport::{EventLoopGroup, Server, ServerBootstrap};

const LIMIT: Duration = Duration::from_secs(30);

/// What the server's application saw.
#[derive(Default)]
struct Stats {
    /// Parts held (hold mode) and their body bytes.
    held: Mutex<(Vec<HttpRequestPart>, u64)>,
    /// The most body bytes held at once.
    max_held: AtomicU64,
    /// Body bytes received in all.
    received: AtomicU64,
}

/// Counts the body (and, in hold mode, keeps the parts until the test drops
/// them); answers the last part with `<bytes> <byte sum>`.
struct Sink {
    hold: bool,
    stats: Arc<Stats>,
    bytes: u64,
    sum: u64,
}

impl ChannelHandler for Sink {}
impl InboundHandler for Sink {
    type Read = HttpRequestPart;
    type Fire = HttpRequestPart;
    fn channel_read(
        &mut self,
        ctx: &mut InboundContext<'_, HttpRequestPart>,
        part: HttpRequestPart,
    ) {
        let data = match &part {
            HttpPart::Head(_) => return,
            HttpPart::Content(c) => c.data(),
            HttpPart::Last(l) => l.data(),
        };
        let n = data.len() as u64;
        self.bytes += n;
        for seg in data.segments() {
            self.sum += seg.iter().map(|&b| u64::from(b)).sum::<u64>();
        }
        self.stats.received.fetch_add(n, Ordering::SeqCst);
        let last = part.is_last();
        if self.hold {
            let mut held = self.stats.held.lock().unwrap();
            held.1 += n;
            self.stats.max_held.fetch_max(held.1, Ordering::SeqCst);
            held.0.push(part);
        }
        if last {
            let body = format!("{} {}", self.bytes, self.sum);
            self.bytes = 0;
            self.sum = 0;
            ctx.write_void(HttpResponse::text(200, body));
            ctx.flush();
        }
    }
}

struct TestServer {
    group: EventLoopGroup,
    server: Server,
    stats: Arc<Stats>,
}

impl TestServer {
    fn start(max_body: usize, window: u64, hold: bool) -> Self {
        let group = EventLoopGroup::new(1).unwrap();
        let stats = Arc::new(Stats::default());
        let server = ServerBootstrap::new()
            .group(&group)
            .child_handler({
                let stats = stats.clone();
                move |p| {
                    let codec = HttpServerCodec::builder()
                        .decoder(
                            HttpRequestDecoder::builder()
                                .max_body_length(max_body)
                                .build()
                                .expect("valid limits"),
                        )
                        .read_window(window)
                        .linger(Duration::from_millis(500))
                        .build_streaming()
                        .expect("a valid window");
                    p.add_last("http", codec.into())?;
                    p.add_last(
                        "sink",
                        Handler::inbound(Sink {
                            hold,
                            stats: stats.clone(),
                            bytes: 0,
                            sum: 0,
                        }),
                    )?;
                    Ok(())
                }
            })
            .bind("127.0.0.1:0")
            .unwrap();
        TestServer {
            group,
            server,
            stats,
        }
    }

    fn addr(&self) -> SocketAddr {
        self.server.local_addr().unwrap()
    }

    fn stop(self) {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            self.server
                .shutdown_gracefully(Duration::from_secs(2))
                .await;
            self.group.shutdown_gracefully(Duration::from_secs(1)).await;
        });
    }
}

/// Waits (bounded) for `cond`.
fn eventually(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + LIMIT;
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for: {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Reads until the server closes; a reset is an error.
fn read_to_close(conn: &mut TcpStream) -> std::io::Result<Vec<u8>> {
    conn.set_read_timeout(Some(LIMIT))?;
    let mut out = Vec::new();
    conn.read_to_end(&mut out)?;
    Ok(out)
}

#[test]
fn a_consumer_that_holds_parts_pauses_reading_over_tcp() {
    let window = 256 * 1024;
    let server = TestServer::start(usize::MAX, window, true);
    let total: u64 = 64 << 20;
    let sent = Arc::new(AtomicU64::new(0));
    let client = {
        let sent = sent.clone();
        let addr = server.addr();
        std::thread::spawn(move || {
            let mut conn = TcpStream::connect(addr).unwrap();
            conn.write_all(
                format!("PUT /up HTTP/1.1\r\nHost: h\r\nContent-Length: {total}\r\n\r\n")
                    .as_bytes(),
            )
            .unwrap();
            let block = vec![7u8; 64 * 1024];
            while sent.load(Ordering::SeqCst) < total {
                conn.write_all(&block).unwrap();
                sent.fetch_add(block.len() as u64, Ordering::SeqCst);
            }
            let mut resp = Vec::new();
            conn.set_read_timeout(Some(LIMIT)).unwrap();
            let mut buf = [0u8; 4096];
            while !resp.ends_with(format!("{total} {}", total * 7).as_bytes()) {
                let n = conn.read(&mut buf).unwrap();
                assert!(n > 0, "closed before the response");
                resp.extend_from_slice(&buf[..n]);
            }
            String::from_utf8(resp).unwrap()
        })
    };
    let stats = server.stats.clone();
    eventually("the window filled", || {
        stats.held.lock().unwrap().1 >= window
    });
    // Let the client push as much as the network takes: it stalls, because the
    // server stopped reading (kernel buffers hold a few MiB at most).
    let mut last = sent.load(Ordering::SeqCst);
    let deadline = Instant::now() + LIMIT;
    loop {
        std::thread::sleep(Duration::from_millis(200));
        let now = sent.load(Ordering::SeqCst);
        if now == last || Instant::now() > deadline {
            break;
        }
        last = now;
    }
    assert!(
        sent.load(Ordering::SeqCst) < total,
        "the client was never slowed down"
    );
    // Held: the window plus one read batch (16 reads of at most 64 KiB) at most.
    let bound = window + 16 * 64 * 1024;
    let held = stats.held.lock().unwrap().1;
    assert!(held <= bound, "held {held} > {bound}");
    // Released from this thread, part by part: reading resumes each time.
    while !client.is_finished() {
        {
            let mut h = stats.held.lock().unwrap();
            h.0.clear();
            h.1 = 0;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    let resp = client.join().unwrap();
    assert!(resp.starts_with("HTTP/1.1 200 OK\r\n"), "{resp}");
    let max = stats.max_held.load(Ordering::SeqCst);
    assert!(max <= bound, "at most {max} held, over {bound}");
    assert_eq!(stats.received.load(Ordering::SeqCst), total);
    server.stop();
}

#[test]
fn a_413_reaches_a_client_that_sent_part_of_a_gigabyte_and_stopped() {
    let server = TestServer::start(1 << 20, 256 * 1024, false);
    // Without Expect: the client sends 256 KiB of its 1 GiB body at once, then
    // stops sending, and reads: the 413, then the server's close once the linger
    // time has passed (a FIN, not a reset).
    let mut conn = TcpStream::connect(server.addr()).unwrap();
    conn.write_all(b"PUT /big HTTP/1.1\r\nHost: h\r\nContent-Length: 1073741824\r\n\r\n")
        .unwrap();
    conn.write_all(&vec![1u8; 256 * 1024]).unwrap();
    let out = read_to_close(&mut conn).expect("the response, then a clean close");
    let text = String::from_utf8_lossy(&out);
    assert!(
        text.starts_with("HTTP/1.1 413 Content Too Large\r\n"),
        "{text}"
    );
    assert!(text.contains("Connection: close\r\n"), "{text}");
    assert!(
        text.ends_with("(raise max_body_length to accept it)\n"),
        "{text}"
    );
    assert_eq!(server.stats.received.load(Ordering::SeqCst), 0);

    // A client that goes on sending after the 413: its bytes are read and
    // dropped, so it reads the whole 413 and its close is answered by a close.
    let mut conn = TcpStream::connect(server.addr()).unwrap();
    conn.write_all(b"PUT /big HTTP/1.1\r\nHost: h\r\nContent-Length: 1073741824\r\n\r\n")
        .unwrap();
    let mut head = [0u8; 12];
    conn.set_read_timeout(Some(LIMIT)).unwrap();
    conn.read_exact(&mut head).unwrap();
    assert_eq!(&head, b"HTTP/1.1 413");
    for _ in 0..64 {
        match conn.write_all(&[2u8; 64 * 1024]) {
            Ok(()) => {}
            // The linger time may pass first: the server closed.
            Err(e) if e.kind() == ErrorKind::BrokenPipe => break,
            Err(e) if e.kind() == ErrorKind::ConnectionReset => break,
            Err(e) => panic!("{e}"),
        }
    }
    let _ = conn.shutdown(std::net::Shutdown::Write);
    let rest = read_to_close(&mut conn).expect("the rest of the 413, then a close");
    assert!(String::from_utf8_lossy(&rest).ends_with("it)\n"));
    server.stop();
}

// ---- curl ----

/// Whether curl is here; outside CI a missing curl skips the test loudly.
fn curl_available() -> bool {
    if have("curl") {
        return true;
    }
    assert!(std::env::var_os("CI").is_none(), "curl is not installed");
    eprintln!("SKIPPED: curl is not installed");
    false
}

/// Runs curl; returns (exit code, stdout, stderr).
fn curl(args: &[&str]) -> (i32, String, String) {
    let out = Command::new("curl")
        .args(["-sS", "--max-time", "120"])
        .args(args)
        .output()
        .expect("run curl");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A file of `len` pseudo-random bytes in `dir`; returns its path and byte sum.
fn random_file(dir: &TempDir, len: usize) -> (String, u64) {
    let mut rng = examples_support::Rng(0x5eed_1234);
    let data = rng.bytes(len);
    let sum = data.iter().map(|&b| u64::from(b)).sum();
    let path = dir.path().join("upload");
    std::fs::write(&path, &data).unwrap();
    (path.to_str().unwrap().to_owned(), sum)
}

/// This process's resident memory, in bytes.
fn rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .expect("VmRSS");
    let kb: u64 = line
        .split_whitespace()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap();
    kb * 1024
}

#[test]
#[ignore = "needs curl (apt-get install -y curl)"]
fn curl_uploads_with_a_length_chunked_and_100_continue() {
    if !curl_available() {
        return;
    }
    let server = TestServer::start(64 << 20, 256 * 1024, false);
    let url = format!("http://{}/up", server.addr());
    let dir = TempDir::new("http-stream");
    let (path, sum) = random_file(&dir, 3 << 20);
    let path = path.as_str();
    let want = format!("{} {sum}", 3 << 20);

    // With a length; curl asks for 100-continue itself above 1 MiB.
    let (code, out, err) = curl(&["-v", "-T", path, &url]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, want);
    assert!(err.contains("Expect: 100-continue"), "{err}");
    assert!(err.contains("< HTTP/1.1 100 Continue"), "{err}");

    // Chunked.
    let (code, out, err) = curl(&["-v", "-H", "Transfer-Encoding: chunked", "-T", path, &url]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, want);
    assert!(err.contains("Transfer-Encoding: chunked"), "{err}");

    // A small body with 100-continue asked explicitly.
    let (code, out, err) = curl(&[
        "-v",
        "-H",
        "Expect: 100-continue",
        "--data-binary",
        "hello",
        &url,
    ]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out,
        format!("5 {}", b"hello".iter().map(|&b| u64::from(b)).sum::<u64>())
    );
    assert!(err.contains("< HTTP/1.1 100 Continue"), "{err}");
    server.stop();
}

#[test]
#[ignore = "needs curl (apt-get install -y curl)"]
fn curl_uploads_a_gigabyte_through_bounded_memory() {
    if !curl_available() {
        return;
    }
    let server = TestServer::start(usize::MAX, 256 * 1024, false);
    let url = format!("http://{}/up", server.addr());
    // Sparse: no disk used, zeros read.
    let dir = TempDir::new("http-stream");
    let path = dir.path().join("sparse");
    std::fs::File::create(&path)
        .unwrap()
        .set_len(1 << 30)
        .unwrap();
    let path = path.to_str().unwrap().to_owned();
    let before = rss();
    let (code, out, err) = curl(&["-T", &path, &url]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, format!("{} 0", 1u64 << 30));
    // Chunked too (from a pipe, length unknown to curl).
    let (code, out, err) = curl(&["-H", "Transfer-Encoding: chunked", "-T", &path, &url]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, format!("{} 0", 1u64 << 30));
    let grown = rss().saturating_sub(before);
    eprintln!("RSS grew by {} KiB over 2 GiB uploaded", grown / 1024);
    assert!(grown < 64 << 20, "RSS grew by {grown} bytes");
    server.stop();
}

#[test]
#[ignore = "needs curl (apt-get install -y curl)"]
fn curl_gets_413_over_the_limit_not_a_reset() {
    if !curl_available() {
        return;
    }
    let server = TestServer::start(1 << 20, 256 * 1024, false);
    let url = format!("http://{}/up", server.addr());
    let dir = TempDir::new("http-stream");
    let (path, _) = random_file(&dir, 3 << 20);
    let path = path.as_str();
    // With 100-continue: the 413 comes instead of the 100, no body is sent.
    let (code, out, err) = curl(&["-v", "-w", "\n%{http_code}", "-T", path, &url]);
    assert_eq!(code, 0, "{err}");
    assert!(out.ends_with("\n413"), "{out}");
    assert!(!err.contains("100 Continue"), "{err}");
    // Without: curl sends the body at once; it still reads the 413.
    let (code, out, err) = curl(&[
        "-v",
        "-H",
        "Expect:",
        "-w",
        "\n%{http_code}",
        "-T",
        path,
        &url,
    ]);
    assert!(out.ends_with("\n413"), "{out}\n{err}");
    assert!(!err.contains("reset"), "{err}");
    assert!(code == 0, "curl exit {code}: {err}");
    // Chunked over the limit.
    let (_, out, err) = curl(&[
        "-H",
        "Transfer-Encoding: chunked",
        "-H",
        "Expect:",
        "-w",
        "\n%{http_code}",
        "-T",
        path,
        &url,
    ]);
    assert!(out.ends_with("\n413"), "{out}\n{err}");
    assert!(!err.contains("reset"), "{err}");
    server.stop();
}
