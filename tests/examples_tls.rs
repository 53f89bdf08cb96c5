//! The examples over TLS (`--tls-cert F --tls-key F`), with a certificate made at
//! test time: a plain-HTTP client on the TLS port (always run), and real clients
//! (`#[ignore]`d, installed by `.ci/run`): curl `--cacert` (GET, Range, HEAD, a
//! 256 MiB file), `redis-cli --tls`, Python's `ssl` against the echo example.

mod examples_support;

use std::io::{Read, Write};
use std::process::Command;
use std::time::Duration;

use examples_support::{ExampleServer, Rng, TempDir, certificates, have};
use seine::tls::rustls;

struct Https {
    _root: TempDir,
    _certs: TempDir,
    ca: String,
    srv: ExampleServer,
    data: Vec<u8>,
}

fn https_server() -> Https {
    let root = TempDir::new("www-tls");
    let data = Rng(11).bytes(300_000);
    std::fs::write(root.path().join("data.bin"), &data).unwrap();
    std::fs::write(root.path().join("hello.txt"), b"hello, tls\n").unwrap();
    let certs = TempDir::new("certs");
    let (ca, cert, key) = certificates(&certs);
    let srv = ExampleServer::start(
        "http_file_server",
        &[
            "--root",
            root.path().to_str().unwrap(),
            "--threads",
            "1",
            "--tls-cert",
            &cert,
            "--tls-key",
            &key,
        ],
    );
    Https {
        _root: root,
        _certs: certs,
        ca,
        srv,
        data,
    }
}

#[test]
fn plain_http_on_the_tls_port_gets_an_alert_and_a_close() {
    let h = https_server();
    let mut c = h.srv.connect();
    c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    c.write_all(b"GET /hello.txt HTTP/1.1\r\nHost: t\r\n\r\n")
        .unwrap();
    let mut got = Vec::new();
    // Closed at once: read_to_end ends (EOF or a reset) well before the timeout.
    let _ = c.read_to_end(&mut got);
    assert_eq!(got.first(), Some(&21), "an alert record, got {got:?}");
    // The server still serves others.
    let text = tls_get(&h.srv, &h.ca);
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    assert!(text.ends_with("hello, tls\n"), "{text}");
}

fn curl(args: &[&str]) -> std::process::Output {
    let out = Command::new("curl")
        .args(["-s", "-S", "--fail"])
        .args(args)
        .output()
        .expect("run curl");
    assert!(
        out.status.success(),
        "curl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

#[test]
#[ignore = "needs curl (apt: curl)"]
fn curl_get_range_and_head_over_https() {
    assert!(have("curl"), "curl is not installed");
    let h = https_server();
    let port = h.srv.addr.port();
    let base = format!("https://localhost:{port}");
    let resolve = format!("localhost:{port}:127.0.0.1");
    let common = ["--cacert", h.ca.as_str(), "--resolve", resolve.as_str()];

    let out = curl(&[&common[..], &[&format!("{base}/data.bin")]].concat());
    assert!(out.stdout == h.data, "GET over HTTPS returned other bytes");

    let out = curl(
        &[
            &common[..],
            &["-r", "1000-1999", &format!("{base}/data.bin")],
        ]
        .concat(),
    );
    assert!(out.stdout == h.data[1000..2000]);

    let out = curl(&[&common[..], &["-I", &format!("{base}/hello.txt")]].concat());
    let head = String::from_utf8_lossy(&out.stdout).to_ascii_lowercase();
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert!(head.contains("content-length: 11"), "{head}");

    // ALPN: curl reports the protocol it agreed.
    let out = Command::new("curl")
        .args(["-s", "-S", "-v", "-o", "/dev/null", "--http1.1"])
        .args(common)
        .arg(format!("{base}/hello.txt"))
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(log.contains("http/1.1"), "{log}");
}

#[test]
#[ignore = "needs curl (apt: curl)"]
fn curl_256_mib_file_over_https() {
    assert!(have("curl"), "curl is not installed");
    let root = TempDir::new("big-tls");
    let path = root.path().join("big.img");
    {
        use std::os::unix::fs::FileExt;
        let f = std::fs::File::create(&path).unwrap();
        f.set_len(256 << 20).unwrap();
        for at in [0u64, 4095, 1 << 20, 100 << 20, (256 << 20) - 7] {
            f.write_all_at(b"seine!\n", at).unwrap();
        }
    }
    let certs = TempDir::new("certs-big");
    let (ca, cert, key) = certificates(&certs);
    let srv = ExampleServer::start(
        "http_file_server",
        &[
            "--root",
            root.path().to_str().unwrap(),
            "--tls-cert",
            &cert,
            "--tls-key",
            &key,
        ],
    );
    let port = srv.addr.port();
    let script = format!(
        "curl -s -S --fail --cacert '{ca}' --resolve localhost:{port}:127.0.0.1 \
         https://localhost:{port}/big.img | sha256sum; sha256sum < '{}'",
        path.display()
    );
    let out = Command::new("sh").args(["-c", &script]).output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    let sums: Vec<&str> = text
        .lines()
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    assert_eq!(sums.len(), 2, "{text}");
    assert_eq!(sums[0], sums[1]);
}

#[test]
#[ignore = "needs redis-cli (apt: redis-tools) built with TLS"]
fn redis_cli_over_tls() {
    assert!(have("redis-cli"), "redis-cli is not installed");
    let certs = TempDir::new("certs-resp");
    let (ca, cert, key) = certificates(&certs);
    let srv = ExampleServer::start("resp_server", &["--tls-cert", &cert, "--tls-key", &key]);
    let port = srv.addr.port().to_string();
    let cli = |args: &[&str]| {
        let out = Command::new("redis-cli")
            .args([
                "--tls",
                "--cacert",
                &ca,
                "--sni",
                "localhost",
                "-h",
                "127.0.0.1",
                "-p",
                &port,
            ])
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "redis-cli {args:?}: {out:?}");
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    assert_eq!(cli(&["PING"]), "PONG");
    assert_eq!(cli(&["SET", "k", "over tls"]), "OK");
    assert_eq!(cli(&["GET", "k"]), "over tls");
}

#[test]
#[ignore = "needs python3 (apt: python3)"]
fn python_ssl_against_the_echo_example() {
    assert!(have("python3"), "python3 is not installed");
    let certs = TempDir::new("certs-echo");
    let (ca, cert, key) = certificates(&certs);
    let srv = ExampleServer::start("echo", &["--tls-cert", &cert, "--tls-key", &key]);
    let script = format!(
        r#"
import socket, ssl, struct
ctx = ssl.create_default_context(cafile={ca:?})
with socket.create_connection(("127.0.0.1", {port}), timeout=10) as raw:
    with ctx.wrap_socket(raw, server_hostname="localhost") as s:
        payload = bytes(range(256)) * 400
        s.sendall(struct.pack(">I", len(payload)) + payload)
        got = b""
        while len(got) < 4 + len(payload):
            chunk = s.recv(65536)
            assert chunk, "closed early"
            got += chunk
        assert got[4:] == payload and struct.unpack(">I", got[:4])[0] == len(payload)
        s.unwrap()
"#,
        port = srv.addr.port()
    );
    let out = Command::new("python3")
        .arg("-c")
        .arg(&script)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Resident memory of `pid` in KiB.
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap()
}

#[test]
fn a_reader_that_stops_holds_records_not_the_file() {
    let root = TempDir::new("stall-tls");
    let f = std::fs::File::create(root.path().join("big.img")).unwrap();
    f.set_len(1 << 30).unwrap(); // 1 GiB, sparse: reads cost no disk
    let certs = TempDir::new("certs-stall");
    let (ca, cert, key) = certificates(&certs);
    let srv = ExampleServer::start(
        "http_file_server",
        &[
            "--root",
            root.path().to_str().unwrap(),
            "--threads",
            "1",
            "--tls-cert",
            &cert,
            "--tls-key",
            &key,
        ],
    );
    let before = rss_kib(srv.child.id());
    let config = seine::tls::TlsClientConfig::builder()
        .ca_file(&ca)
        .build()
        .unwrap();
    let conn =
        rustls::ClientConnection::new(config.rustls().clone(), "localhost".try_into().unwrap())
            .unwrap();
    let tcp = srv.connect();
    tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut tls = rustls::StreamOwned::new(conn, tcp);
    tls.write_all(b"GET /big.img HTTP/1.1\r\nHost: t\r\n\r\n")
        .unwrap();
    let mut first = [0u8; 64 * 1024];
    tls.read_exact(&mut first).unwrap();
    // The client stops reading. Encrypting the whole file would take the server
    // well under the sampling time below; it must stop at the water marks
    // (plus the socket buffers) instead.
    let mut peak = 0;
    for _ in 0..20 {
        std::thread::sleep(Duration::from_millis(100));
        peak = peak.max(rss_kib(srv.child.id()));
    }
    eprintln!("rss before {before} KiB, peak {peak} KiB");
    assert!(
        peak < before + 64 * 1024,
        "the server grew from {before} KiB to {peak} KiB for a stalled reader"
    );
    drop(tls);
}

/// A TLS GET of /hello.txt on a new connection; the response text.
fn tls_get(srv: &ExampleServer, ca: &str) -> String {
    let config = seine::tls::TlsClientConfig::builder()
        .ca_file(ca)
        .build()
        .unwrap();
    let conn =
        rustls::ClientConnection::new(config.rustls().clone(), "localhost".try_into().unwrap())
            .unwrap();
    let tcp = srv.connect();
    tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut tls = rustls::StreamOwned::new(conn, tcp);
    tls.write_all(b"GET /hello.txt HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut response = Vec::new();
    let _ = tls.read_to_end(&mut response);
    String::from_utf8_lossy(&response).into_owned()
}

#[test]
fn a_client_that_resets_mid_record_does_not_disturb_others() {
    let h = https_server();
    for _ in 0..3 {
        let config = seine::tls::TlsClientConfig::builder()
            .ca_file(&h.ca)
            .build()
            .unwrap();
        let mut conn =
            rustls::ClientConnection::new(config.rustls().clone(), "localhost".try_into().unwrap())
                .unwrap();
        let mut tcp = h.srv.connect();
        tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        while conn.is_handshaking() {
            conn.complete_io(&mut tcp).unwrap();
        }
        // A request record cut in half, then a reset (SO_LINGER 0).
        conn.writer().write_all(&[b'x'; 3000]).unwrap();
        let mut record = Vec::new();
        while conn.wants_write() {
            conn.write_tls(&mut record).unwrap();
        }
        tcp.write_all(&record[..record.len() / 2]).unwrap();
        nix::sys::socket::setsockopt(
            &tcp,
            nix::sys::socket::sockopt::Linger,
            &nix::libc::linger {
                l_onoff: 1,
                l_linger: 0,
            },
        )
        .unwrap();
        drop(tcp);
    }
    assert!(tls_get(&h.srv, &h.ca).ends_with("hello, tls\n"));
}
