//! The examples behind a load balancer and through restarts: drains on SIGTERM
//! that lose nothing, the access log and metrics, systemd socket activation, and
//! HAProxy (`send-proxy-v2`, health checks, a rolling restart under `wrk`). Tests
//! that need HAProxy, wrk or systemd-socket-activate are `#[ignore]`d.

mod examples_support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use examples_support::{Rng, TempDir, example_bin, have};

/// A running example with its announced addresses.
struct Proc {
    child: Child,
    addrs: Vec<SocketAddr>,
    stderr: std::path::PathBuf,
}

impl Proc {
    /// Starts example `name` and reads `lines` announcement lines (`listening on`,
    /// `metrics on`). Its stderr goes to a file under `dir`.
    fn start(name: &str, args: &[&str], lines: usize, dir: &Path) -> Proc {
        Self::start_in(None, name, args, lines, dir)
    }

    /// As [`start`](Self::start), in network namespace `netns` if given
    /// (`ip netns exec` runs the example in its own process).
    fn start_in(netns: Option<&str>, name: &str, args: &[&str], lines: usize, dir: &Path) -> Proc {
        static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let stderr = dir.join(format!("{name}-{n}.stderr"));
        let bin = example_bin(name);
        let mut cmd = match netns {
            Some(ns) => {
                let mut c = Command::new("ip");
                c.args(["netns", "exec", ns]).arg(&bin);
                c
            }
            None => Command::new(&bin),
        };
        let mut child = cmd
            .args(args)
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&stderr).unwrap())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {name}: {e}"));
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut addrs = Vec::new();
        for _ in 0..lines {
            let mut line = String::new();
            out.read_line(&mut line).unwrap();
            let addr = line
                .trim()
                .rsplit(' ')
                .next()
                .and_then(|a| a.parse().ok())
                .unwrap_or_else(|| panic!("{name} printed {line:?}"));
            addrs.push(addr);
        }
        Proc {
            child,
            addrs,
            stderr,
        }
    }

    fn term(&self) {
        let pid = nix::unistd::Pid::from_raw(self.child.id() as i32);
        nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).unwrap();
    }

    /// Waits (bounded) for the process to exit; returns its stderr.
    fn wait(&mut self) -> String {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                let err = std::fs::read_to_string(&self.stderr).unwrap_or_default();
                assert!(status.success(), "exited with {status}: {err}");
                return err;
            }
            assert!(Instant::now() < deadline, "did not exit");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Waits (bounded) until `f` holds.
fn eventually(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn connect(addr: SocketAddr) -> TcpStream {
    let c = TcpStream::connect(addr).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    c
}

fn get(addr: SocketAddr, path: &str) -> (u16, Vec<u8>) {
    let mut c = connect(addr);
    write!(
        c,
        "GET {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut out = Vec::new();
    c.read_to_end(&mut out).unwrap();
    let status = std::str::from_utf8(&out[9..12]).unwrap().parse().unwrap();
    let body = out.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    (status, out[body..].to_vec())
}

/// One sample of `name` (with its labels, if any) in a metrics scrape.
fn sample(text: &str, name: &str) -> u64 {
    text.lines()
        .find(|l| l.starts_with(name) && l[name.len()..].starts_with(' '))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse::<f64>().ok())
        .unwrap_or_else(|| panic!("{name} not in:\n{text}")) as u64
}

#[test]
fn echo_drain_returns_every_frame_written_before_sigterm_and_ends_with_a_fin() {
    let dir = TempDir::new("edge-echo");
    let mut server = Proc::start(
        "echo",
        &["--addr", "127.0.0.1:0", "--threads", "2"],
        1,
        dir.path(),
    );
    let addr = server.addrs[0];
    let mut rng = Rng(5);
    let mut clients: Vec<(TcpStream, Vec<u8>)> = Vec::new();
    for _ in 0..8 {
        let mut c = connect(addr);
        let mut sent = Vec::new();
        // Frames in flight: written, not read back yet.
        for _ in 0..200 {
            let size = rng.below(4000) as usize;
            let payload = rng.bytes(size);
            let mut frame = (payload.len() as u32).to_be_bytes().to_vec();
            frame.extend_from_slice(&payload);
            c.write_all(&frame).unwrap();
            sent.extend_from_slice(&frame);
        }
        clients.push((c, sent));
    }
    server.term();
    // The listener closes at once: new connections are refused...
    eventually("the listener to close", || {
        TcpStream::connect(addr).is_err()
    });
    // ...while open ones keep being answered until their peer half-closes.
    for (c, sent) in &mut clients {
        let frame = [0, 0, 0, 3, b'e', b'n', b'd'];
        c.write_all(&frame).unwrap();
        sent.extend_from_slice(&frame);
        c.shutdown(std::net::Shutdown::Write).unwrap();
    }
    for (mut c, sent) in clients {
        let mut back = Vec::new();
        // read_to_end fails on a reset: this checks the FIN.
        c.read_to_end(&mut back)
            .expect("the echo ends with a FIN, not a reset");
        assert_eq!(back.len(), sent.len());
        assert!(back == sent, "echoed frames differ");
    }
    let err = server.wait();
    assert!(err.contains("0 connection(s) forced"), "{err}");
}

#[test]
fn a_download_in_flight_at_sigterm_completes_byte_exact() {
    let dir = TempDir::new("edge-download");
    let data = Rng(9).bytes(48 << 20);
    std::fs::write(dir.path().join("big.bin"), &data).unwrap();
    let root = dir.path().to_str().unwrap().to_string();
    let mut server = Proc::start(
        "http_file_server",
        &[
            "--addr",
            "127.0.0.1:0",
            "--root",
            &root,
            "--shutdown-grace",
            "60",
        ],
        1,
        dir.path(),
    );
    let addr = server.addrs[0];
    let sock = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    sock.set_recv_buffer_size(64 * 1024).unwrap();
    sock.connect(&addr.into()).unwrap();
    let mut c: TcpStream = sock.into();
    c.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    // Keep-alive: the server must end the download, then close.
    c.write_all(b"GET /big.bin HTTP/1.1\r\nHost: t\r\n\r\n")
        .unwrap();
    let mut first = vec![0u8; 1 << 20];
    c.read_exact(&mut first).unwrap();
    server.term();
    eventually("the listener to close", || {
        TcpStream::connect(addr).is_err()
    });
    let mut rest = Vec::new();
    c.read_to_end(&mut rest).expect("FIN, not reset");
    first.extend_from_slice(&rest);
    let head = first.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    let text = String::from_utf8_lossy(&first[..head]).to_string();
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    assert!(
        first[head..] == data[..],
        "body of {} bytes, {} expected",
        first.len() - head,
        data.len()
    );
    let err = server.wait();
    assert!(err.contains("0 connection(s) forced"), "{err}");
}

#[test]
fn access_log_and_metrics_agree_with_what_clients_received() {
    let dir = TempDir::new("edge-metrics");
    let www = dir.path().join("www");
    std::fs::create_dir(&www).unwrap();
    std::fs::write(www.join("small.txt"), b"hello\n").unwrap();
    std::fs::write(www.join("big.bin"), Rng(3).bytes(3 << 20)).unwrap();
    let log = dir.path().join("access.log");
    let mut server = Proc::start(
        "http_file_server",
        &[
            "--addr",
            "127.0.0.1:0",
            "--root",
            www.to_str().unwrap(),
            "--access-log",
            log.to_str().unwrap(),
            "--metrics-addr",
            "127.0.0.1:0",
        ],
        2,
        dir.path(),
    );
    let (addr, metrics) = (server.addrs[0], server.addrs[1]);
    let mut received = 0u64;
    let mut bodies = 0u64;
    for i in 0..20 {
        let path = if i % 4 == 0 { "/big.bin" } else { "/small.txt" };
        let mut c = connect(addr);
        write!(
            c,
            "GET {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut out = Vec::new();
        c.read_to_end(&mut out).unwrap();
        received += out.len() as u64;
        bodies += if i % 4 == 0 { 3 << 20 } else { 6 };
    }
    let (status, _) = get(addr, "/missing");
    assert_eq!(status, 404);
    let missing_len = {
        let mut c = connect(addr);
        c.write_all(b"GET /missing HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
            .unwrap();
        let mut out = Vec::new();
        c.read_to_end(&mut out).unwrap();
        out.len() as u64
    };
    received += 2 * missing_len;
    // One line per request, written when the response completed.
    eventually("22 access log lines", || {
        std::fs::read_to_string(&log).is_ok_and(|t| t.lines().count() == 22)
    });
    let text = std::fs::read_to_string(&log).unwrap();
    assert_eq!(
        text.lines()
            .filter(|l| l.contains("\"GET /big.bin HTTP/1.1\" 200 3145728 "))
            .count(),
        5
    );
    assert_eq!(
        text.lines()
            .filter(|l| l.contains("\"GET /missing HTTP/1.1\" 404 "))
            .count(),
        2
    );
    assert!(text.lines().all(|l| l.starts_with("127.0.0.1 [")), "{text}");
    let logged: u64 = text
        .lines()
        .filter(|l| l.contains("\" 200 "))
        .map(|l| l.split(' ').rev().nth(1).unwrap().parse::<u64>().unwrap())
        .sum();
    assert_eq!(logged, bodies);
    // The counters: every connection closed, every byte sent is a byte received.
    eventually("all connections closed", || {
        let (_, body) = get(metrics, "/metrics");
        sample(&String::from_utf8(body).unwrap(), "seine_connections_open") == 0
    });
    let (status, body) = get(metrics, "/metrics");
    assert_eq!(status, 200);
    let m = String::from_utf8(body).unwrap();
    assert_eq!(sample(&m, "seine_connections_accepted_total"), 22);
    assert_eq!(sample(&m, "seine_connections_closed_total"), 22);
    assert_eq!(sample(&m, "seine_connections_forced_total"), 0);
    let copy = sample(&m, "seine_bytes_written_total{method=\"copy\"}");
    let sendfile = sample(&m, "seine_bytes_written_total{method=\"sendfile\"}");
    assert_eq!(copy + sendfile, received, "{m}");
    assert!(
        sendfile >= 5 * (3 << 20),
        "the big files went by sendfile: {m}"
    );
    server.term();
    server.wait();
}

#[test]
fn health_checks_with_or_without_a_local_header_pass_quietly_and_others_are_refused() {
    let dir = TempDir::new("edge-health");
    let www = dir.path().join("www");
    std::fs::create_dir(&www).unwrap();
    std::fs::write(www.join("f.txt"), b"f\n").unwrap();
    let log = dir.path().join("access.log");
    let mut server = Proc::start(
        "http_file_server",
        &[
            "--addr",
            "127.0.0.1:0",
            "--root",
            www.to_str().unwrap(),
            "--proxy-protocol",
            "--access-log",
            log.to_str().unwrap(),
        ],
        1,
        dir.path(),
    );
    let addr = server.addrs[0];
    // TCP checks: connect and close.
    for _ in 0..3 {
        drop(connect(addr));
    }
    // HAProxy's v2 check: a LOCAL header, then close...
    let local = b"\r\n\r\n\x00\r\nQUIT\n\x20\x00\x00\x00";
    let mut c = connect(addr);
    c.write_all(local).unwrap();
    drop(c);
    // ...or a LOCAL header and a request, logged with the connection's address.
    let mut c = connect(addr);
    c.write_all(local).unwrap();
    c.write_all(b"GET /f.txt HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut out = Vec::new();
    c.read_to_end(&mut out).unwrap();
    assert!(out.starts_with(b"HTTP/1.1 200"));
    // A v1 header from a client at 127.0.0.5.
    let mut c = connect(addr);
    c.write_all(b"PROXY TCP4 127.0.0.5 127.0.0.1 40000 80\r\nGET /f.txt HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut out = Vec::new();
    c.read_to_end(&mut out).unwrap();
    assert!(out.starts_with(b"HTTP/1.1 200"));
    // No header: refused, closed without a response.
    let mut c = connect(addr);
    c.write_all(b"GET /f.txt HTTP/1.1\r\nHost: t\r\n\r\n")
        .unwrap();
    let mut out = Vec::new();
    let _ = c.read_to_end(&mut out);
    assert!(out.is_empty(), "{}", String::from_utf8_lossy(&out));
    eventually("two access log lines", || {
        std::fs::read_to_string(&log).is_ok_and(|t| t.lines().count() == 2)
    });
    let lines = std::fs::read_to_string(&log).unwrap();
    // (Connections on different loops: either order.)
    assert!(
        lines.lines().any(|l| l.starts_with("127.0.0.1 [")),
        "{lines}"
    );
    assert!(
        lines.lines().any(|l| l.starts_with("127.0.0.5 [")),
        "{lines}"
    );
    server.term();
    let err = server.wait();
    // Quiet: nothing logged but the closing note (RUST_LOG unset: errors only).
    let logged: Vec<&str> = err.lines().filter(|l| !l.contains("forced")).collect();
    assert!(logged.is_empty(), "{err}");
}

#[test]
#[ignore = "needs systemd-socket-activate (apt package systemd)"]
fn socket_activation_serves_the_socket_systemd_passes() {
    assert!(have("systemd-socket-activate"), "install systemd");
    let dir = TempDir::new("edge-activate");
    std::fs::write(dir.path().join("f.txt"), b"activated\n").unwrap();
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let bin = example_bin("http_file_server");
    let mut child = Command::new("systemd-socket-activate")
        .args(["-l", &listen])
        .arg(&bin)
        // An address the server would fail to bind: it must use the passed socket.
        .args([
            "--addr",
            "192.0.2.1:1",
            "--root",
            dir.path().to_str().unwrap(),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let addr: SocketAddr = listen.parse().unwrap();
    eventually("systemd-socket-activate to listen", || {
        TcpStream::connect(addr).is_ok()
    });
    let (status, body) = get(addr, "/f.txt");
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(status, 200);
    assert_eq!(body, b"activated\n");
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// HAProxy in front of `backends`, as operators configure it: health checks
/// (sent with a PROXY v2 LOCAL header), send-proxy-v2, retries on connection
/// failures and empty responses.
struct HaProxy {
    child: Child,
    addr: SocketAddr,
}

impl HaProxy {
    fn start(dir: &Path, backends: &[SocketAddr]) -> HaProxy {
        let port = free_port();
        let mut cfg = format!(
            "global\n  maxconn 2000\n\
             defaults\n  mode http\n  timeout connect 2s\n  timeout client 30s\n  timeout server 30s\n  \
             timeout check 3s\n  retries 3\n  option redispatch 1\n  \
             retry-on conn-failure empty-response response-timeout\n\
             frontend fe\n  bind 127.0.0.1:{port}\n  default_backend be\n\
             backend be\n  balance roundrobin\n  option httpchk GET /health.txt\n"
        );
        for (i, b) in backends.iter().enumerate() {
            cfg.push_str(&format!(
                "  server s{i} {b} send-proxy-v2 check check-send-proxy inter 200ms fall 3 rise 1\n"
            ));
        }
        let path = dir.join("haproxy.cfg");
        std::fs::write(&path, cfg).unwrap();
        let child = Command::new("haproxy")
            .args(["-db", "-f"])
            .arg(&path)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.join("haproxy.stderr")).unwrap())
            .spawn()
            .unwrap();
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        eventually("haproxy to answer", || {
            TcpStream::connect(addr).is_ok() && get(addr, "/health.txt").0 == 200
        });
        HaProxy { child, addr }
    }
}

impl Drop for HaProxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn backend(dir: &Path, www: &Path, addr: &str, log: &Path) -> Proc {
    backend_in(None, dir, www, addr, log)
}

fn backend_in(netns: Option<&str>, dir: &Path, www: &Path, addr: &str, log: &Path) -> Proc {
    Proc::start_in(
        netns,
        "http_file_server",
        &[
            "--addr",
            addr,
            "--threads",
            "1",
            "--root",
            www.to_str().unwrap(),
            "--proxy-protocol",
            "--access-log",
            log.to_str().unwrap(),
            "--shutdown-grace",
            "20",
        ],
        1,
        dir,
    )
}

fn site(dir: &Path) -> std::path::PathBuf {
    let www = dir.join("www");
    std::fs::create_dir_all(&www).unwrap();
    std::fs::write(www.join("health.txt"), b"ok\n").unwrap();
    std::fs::write(www.join("page.html"), Rng(1).bytes(2048)).unwrap();
    www
}

#[test]
#[ignore = "needs haproxy (apt package haproxy)"]
fn haproxy_send_proxy_v2_shows_the_client_address_in_the_access_log() {
    assert!(
        have("haproxy") || Path::new("/usr/sbin/haproxy").exists(),
        "install haproxy"
    );
    let dir = TempDir::new("edge-haproxy");
    let www = site(dir.path());
    let logs = [dir.path().join("a.log"), dir.path().join("b.log")];
    let a = backend(dir.path(), &www, "127.0.0.1:0", &logs[0]);
    let b = backend(dir.path(), &www, "127.0.0.1:0", &logs[1]);
    let lb = HaProxy::start(dir.path(), &[a.addrs[0], b.addrs[0]]);
    // A client from a second loopback address.
    for _ in 0..4 {
        let sock =
            socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
        sock.bind(&"127.0.0.5:0".parse::<SocketAddr>().unwrap().into())
            .unwrap();
        sock.connect(&lb.addr.into()).unwrap();
        let mut c: TcpStream = sock.into();
        c.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        c.write_all(b"GET /page.html HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
            .unwrap();
        let mut out = Vec::new();
        c.read_to_end(&mut out).unwrap();
        assert!(out.starts_with(b"HTTP/1.1 200"));
    }
    eventually("both backends to log the client at 127.0.0.5", || {
        logs.iter().all(|l| {
            std::fs::read_to_string(l).is_ok_and(|t| {
                t.lines()
                    .any(|l| l.starts_with("127.0.0.5 [") && l.contains("/page.html"))
            })
        })
    });
    // Health checks (connect, PROXY v2 LOCAL, GET /health.txt) pass and are logged
    // with the connection's own address.
    let t = std::fs::read_to_string(&logs[0]).unwrap();
    assert!(
        t.lines()
            .any(|l| l.starts_with("127.0.0.1 [") && l.contains("/health.txt")),
        "{t}"
    );
}

#[test]
fn wrk_summary_reads_errors_and_non_2xx() {
    let out = "  Latency 1ms\n  1234 requests in 8.00s, 3MB read\n  Socket errors: connect 1, read 2, write 0, timeout 4\n  Non-2xx or 3xx responses: 7\n";
    assert_eq!(wrk_summary(out), (1234, 7, 7));
}

/// wrk's summary: (requests, socket errors, non-2xx/3xx responses).
fn wrk_summary(out: &str) -> (u64, u64, u64) {
    let mut requests = 0;
    let mut errors = 0;
    let mut non2xx = 0;
    for line in out.lines().map(str::trim) {
        if line.contains("requests in") {
            requests = line.split(' ').next().unwrap().parse().unwrap_or(0);
        } else if let Some(e) = line.strip_prefix("Socket errors:") {
            errors = e
                .split(',')
                .filter_map(|p| p.split_whitespace().last()?.parse::<u64>().ok())
                .sum();
        } else if let Some(n) = line.strip_prefix("Non-2xx or 3xx responses:") {
            non2xx = n.trim().parse().unwrap();
        }
    }
    (requests, errors, non2xx)
}

#[test]
#[ignore = "needs haproxy and wrk (apt packages haproxy, wrk)"]
fn rolling_restart_behind_haproxy_under_wrk_has_no_errors() {
    let dir = TempDir::new("edge-rolling");
    let ports = [free_port(), free_port()];
    let addrs: Vec<String> = ports.iter().map(|p| format!("127.0.0.1:{p}")).collect();
    rolling_restart(dir.path(), None, &addrs, "2s");
}

/// Two backends restarted one at a time (start the new process on the same
/// port, SO_REUSEPORT, then SIGTERM the old one) while wrk runs through HAProxy:
/// no socket error, no non-2xx response, nothing forced.
fn rolling_restart(dir: &Path, netns: Option<&str>, addrs: &[String], wrk_timeout: &str) {
    assert!(
        have("wrk") || Path::new("/usr/bin/wrk").exists(),
        "install wrk"
    );
    let www = site(dir);
    let log = dir.join("access.log");
    let mut backends: Vec<Proc> = addrs
        .iter()
        .map(|a| backend_in(netns, dir, &www, a, &log))
        .collect();
    let lb = HaProxy::start(
        dir,
        &addrs.iter().map(|a| a.parse().unwrap()).collect::<Vec<_>>(),
    );
    let url = format!("http://{}/page.html", lb.addr);
    let wrk = Command::new("wrk")
        .args(["-t2", "-c32", "-d8s", "--timeout", wrk_timeout, &url])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    for i in 0..2 {
        std::thread::sleep(Duration::from_millis(1500));
        let new = backend_in(netns, dir, &www, &addrs[i], &log);
        let mut old = std::mem::replace(&mut backends[i], new);
        old.term();
        let err = old.wait();
        assert!(err.contains("0 connection(s) forced"), "{err}");
    }
    let out = wrk.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let (requests, errors, non2xx) = wrk_summary(&text);
    eprintln!("wrk through haproxy during two restarts:\n{text}");
    assert!(requests > 100, "{text}");
    assert_eq!((errors, non2xx), (0, 0), "{text}");
}

/// A network namespace joined to the host by a veth pair, both ends behind
/// `tc netem` (1% loss, 20 ms delay each way) where the kernel has netem;
/// removed when dropped.
struct LossyNetns {
    name: String,
    host_if: String,
}

impl LossyNetns {
    /// `None` (and says why) where namespaces cannot be made.
    fn create(tag: u8) -> Option<(LossyNetns, String)> {
        let name = format!("seine-{}-{tag}", std::process::id());
        let host_if = format!("vs{}{tag}", std::process::id() % 100_000);
        let ns_if = format!("{host_if}n");
        let (host_ip, ns_ip) = (format!("10.213.{tag}.1"), format!("10.213.{tag}.2"));
        let ok = |args: &[&str]| {
            Command::new("ip")
                .args(args)
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        };
        if !ok(&["netns", "add", &name]) {
            eprintln!("skipped: cannot create a network namespace here (needs CAP_SYS_ADMIN)");
            return None;
        }
        let ns = LossyNetns {
            name: name.clone(),
            host_if: host_if.clone(),
        };
        let host_cidr = format!("{host_ip}/24");
        let ns_cidr = format!("{ns_ip}/24");
        let steps: [&[&str]; 7] = [
            &[
                "link", "add", &host_if, "type", "veth", "peer", "name", &ns_if,
            ],
            &["link", "set", &ns_if, "netns", &name],
            &["addr", "add", &host_cidr, "dev", &host_if],
            &["link", "set", &host_if, "up"],
            &["-n", &name, "addr", "add", &ns_cidr, "dev", &ns_if],
            &["-n", &name, "link", "set", &ns_if, "up"],
            &["-n", &name, "link", "set", "lo", "up"],
        ];
        for step in steps {
            if !ok(step) {
                eprintln!("skipped: `ip {}` failed", step.join(" "));
                return None;
            }
        }
        let netem = |ns: Option<&str>, dev: &str| {
            let mut c = Command::new("tc");
            if let Some(ns) = ns {
                c.args(["-n", ns]);
            }
            c.args([
                "qdisc", "add", "dev", dev, "root", "netem", "loss", "1%", "delay", "20ms",
            ])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
        };
        if !netem(None, &host_if) || !netem(Some(&name), &ns_if) {
            // Still worth running: the backends are on another host as far as TCP
            // is concerned.
            eprintln!(
                "tc netem is not available here (kernel module sch_netem): \
                 running across the veth link without loss or delay"
            );
        }
        Some((ns, ns_ip))
    }
}

impl Drop for LossyNetns {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["link", "del", &self.host_if])
            .status();
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .status();
    }
}

#[test]
#[ignore = "needs haproxy, wrk, ip netns and tc netem (root)"]
fn rolling_restart_with_backends_in_a_network_namespace_behind_netem_has_no_errors() {
    let Some((ns, ip)) = LossyNetns::create(1) else {
        return;
    };
    let dir = TempDir::new("edge-netns");
    let addrs = vec![format!("{ip}:18080"), format!("{ip}:18081")];
    rolling_restart(dir.path(), Some(&ns.name), &addrs, "10s");
}
