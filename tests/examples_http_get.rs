//! `http_get` end to end: against the `http_file_server` example (a download, a
//! resume with `Range`, a file already whole, an HTTP error, https), against small
//! canned servers in the test (close-delimited and chunked bodies, a body cut
//! short, a server that ignores `Range`, a redirect), and against nginx
//! (`#[ignore]`d; installed by `.ci/run`).

mod examples_support;

use std::fs::File;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::thread::JoinHandle;
use std::time::Duration;

use examples_support::{ExampleServer, Rng, TempDir, certificates, example_bin};

/// Runs `http_get URL --output FILE EXTRA..`; returns its exit code and stderr.
fn http_get(url: &str, output: &Path, extra: &[&str]) -> (i32, String) {
    let Output { status, stderr, .. } = Command::new(example_bin("http_get"))
        .args([
            url,
            "--output",
            output.to_str().unwrap(),
            "--idle-timeout",
            "20",
        ])
        .args(extra)
        .output()
        .expect("run http_get");
    (
        status.code().expect("exited"),
        String::from_utf8_lossy(&stderr).into_owned(),
    )
}

/// A root holding `data.bin` (`len` pseudo-random bytes), served by the example.
fn file_server(len: usize, extra: &[&str]) -> (TempDir, ExampleServer, Vec<u8>) {
    let root = TempDir::new("http-get-root");
    let data = Rng(len as u64 | 1).bytes(len);
    std::fs::write(root.path().join("data.bin"), &data).unwrap();
    let mut args = vec!["--root", root.path().to_str().unwrap(), "--threads", "1"];
    args.extend_from_slice(extra);
    let srv = ExampleServer::start("http_file_server", &args);
    (root, srv, data)
}

#[test]
fn downloads_resumes_and_fails_against_the_file_server() {
    let (_root, srv, data) = file_server(3_000_000, &[]);
    let out = TempDir::new("http-get-out");
    let file = out.path().join("data.bin");
    let url = format!("http://{}/data.bin", srv.addr);

    let (code, err) = http_get(&url, &file, &[]);
    assert_eq!(code, 0, "{err}");
    assert!(
        std::fs::read(&file).unwrap() == data,
        "the download differs"
    );
    assert!(err.contains("3000000 bytes (3000000 received)"), "{err}");

    // A partial file: only the rest is asked for and appended.
    std::fs::write(&file, &data[..1_234_567]).unwrap();
    let (code, err) = http_get(&url, &file, &[]);
    assert_eq!(code, 0, "{err}");
    assert!(
        std::fs::read(&file).unwrap() == data,
        "the resumed file differs"
    );
    assert!(err.contains("(1765433 received)"), "{err}");

    // Whole already: the server answers 416 */3000000; nothing changes.
    let (code, err) = http_get(&url, &file, &[]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("(0 received)"), "{err}");
    assert!(std::fs::read(&file).unwrap() == data);

    // --no-resume starts over, whatever the file holds.
    std::fs::write(&file, b"junk that is not the start of the file").unwrap();
    let (code, err) = http_get(&url, &file, &["--no-resume"]);
    assert_eq!(code, 0, "{err}");
    assert!(std::fs::read(&file).unwrap() == data);

    // An HTTP error: exit 1, the file is not made.
    let missing = out.path().join("missing");
    let (code, err) = http_get(&format!("http://{}/nope", srv.addr), &missing, &[]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("HTTP 404"), "{err}");
    assert!(!missing.exists());

    // Nothing listens: exit 3.
    let free = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let (code, err) = http_get(&format!("http://{free}/x"), &missing, &[]);
    assert_eq!(code, 3, "{err}");

    // Not http(s): exit 2.
    let (code, _) = http_get("ftp://127.0.0.1/x", &missing, &[]);
    assert_eq!(code, 2);
}

/// Peak resident memory of process `pid` so far (`VmHWM`), in KiB.
fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[test]
fn a_one_gib_download_streams_through_bounded_memory() {
    // A sparse 1 GiB file (no disk used), written to /dev/null.
    let root = TempDir::new("http-get-big");
    let big = File::create(root.path().join("big.bin")).unwrap();
    big.set_len(1 << 30).unwrap();
    drop(big);
    let srv = ExampleServer::start(
        "http_file_server",
        &["--root", root.path().to_str().unwrap(), "--threads", "1"],
    );
    let mut child = Command::new(example_bin("http_get"))
        .args([
            &format!("http://{}/big.bin", srv.addr),
            "--output",
            "/dev/null",
        ])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut peak = 0;
    // Sampled until it exits (bounded: 10 minutes of 5 ms samples).
    for _ in 0..120_000 {
        if let Some(kib) = peak_rss_kib(child.id()) {
            peak = peak.max(kib);
        }
        if child.try_wait().unwrap().is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("1073741824 bytes (1073741824 received)"),
        "{err}"
    );
    eprintln!("http_get peak RSS for 1 GiB: {peak} KiB");
    assert!(peak > 0, "no memory sample taken");
    assert!(peak < 64 * 1024, "peak RSS {peak} KiB for a 1 GiB download");
}

#[test]
fn https_with_a_private_ca() {
    let certs = TempDir::new("http-get-certs");
    let (ca, cert, key) = certificates(&certs);
    let (_root, srv, data) = file_server(500_000, &["--tls-cert", &cert, "--tls-key", &key]);
    let out = TempDir::new("http-get-out");
    let file = out.path().join("data.bin");
    let url = format!("https://localhost:{}/data.bin", srv.port());
    let (code, err) = http_get(&url, &file, &["--ca-file", &ca]);
    assert_eq!(code, 0, "{err}");
    assert!(std::fs::read(&file).unwrap() == data);
    // Resumed over TLS too.
    std::fs::write(&file, &data[..100_000]).unwrap();
    let (code, err) = http_get(&url, &file, &["--ca-file", &ca]);
    assert_eq!(code, 0, "{err}");
    assert!(std::fs::read(&file).unwrap() == data);
    // Without the CA the certificate is refused.
    std::fs::remove_file(&file).unwrap();
    let (code, err) = http_get(&url, &file, &[]);
    assert_eq!(code, 3, "{err}");
}

/// A server that answers each of `responses` (one connection each, in order)
/// after reading a request head, then closes; returns the requests it read.
fn canned(responses: Vec<Vec<u8>>) -> (SocketAddr, JoinHandle<Vec<String>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let handle = std::thread::spawn(move || {
        let mut requests = Vec::new();
        for response in responses {
            let (mut conn, _) = listener.accept().unwrap();
            conn.set_read_timeout(Some(Duration::from_secs(20)))
                .unwrap();
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") {
                if conn.read(&mut byte).unwrap_or(0) == 0 {
                    break;
                }
                head.push(byte[0]);
            }
            requests.push(String::from_utf8_lossy(&head).into_owned());
            let _ = conn.write_all(&response);
        }
        requests
    });
    (addr, handle)
}

#[test]
fn body_framings_truncation_restarts_and_redirects() {
    let out = TempDir::new("http-get-out");
    let file = out.path().join("f");
    let body = Rng(5).bytes(100_000);

    // Close-delimited (HTTP/1.0, no length) and chunked bodies.
    let mut chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    for piece in body.chunks(7_000) {
        chunked.extend(format!("{:x}\r\n", piece.len()).bytes());
        chunked.extend_from_slice(piece);
        chunked.extend_from_slice(b"\r\n");
    }
    chunked.extend_from_slice(b"0\r\nX-Trailer: 1\r\n\r\n");
    let mut close_delimited = b"HTTP/1.0 200 OK\r\n\r\n".to_vec();
    close_delimited.extend_from_slice(&body);
    for response in [close_delimited, chunked] {
        let _ = std::fs::remove_file(&file);
        let (addr, server) = canned(vec![response]);
        let (code, err) = http_get(&format!("http://{addr}/f"), &file, &[]);
        assert_eq!(code, 0, "{err}");
        assert!(std::fs::read(&file).unwrap() == body);
        let requests = server.join().unwrap();
        assert!(
            requests[0].starts_with("GET /f HTTP/1.1\r\n"),
            "{requests:?}"
        );
        assert!(requests[0].contains(&format!("Host: {addr}\r\n")));
    }

    // A body cut short: exit 3, the bytes received kept for a resume.
    for cut in [
        b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n0123456789".to_vec(),
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n186a0\r\n0123456789".to_vec(),
    ] {
        let _ = std::fs::remove_file(&file);
        let (addr, server) = canned(vec![cut]);
        let (code, err) = http_get(&format!("http://{addr}/f"), &file, &[]);
        assert_eq!(code, 3, "{err}");
        assert!(err.contains("ended inside"), "{err}");
        assert_eq!(std::fs::read(&file).unwrap(), b"0123456789");
        server.join().unwrap();
    }

    // The file holds 10 bytes: a resume asks for bytes=10-; a server that
    // ignores Range answers 200 and the file is rewritten from the start.
    let mut whole =
        format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", body.len()).into_bytes();
    whole.extend_from_slice(&body);
    let (addr, server) = canned(vec![whole]);
    let (code, err) = http_get(&format!("http://{addr}/f"), &file, &[]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("100000 bytes (100000 received)"), "{err}");
    assert!(std::fs::read(&file).unwrap() == body);
    let requests = server.join().unwrap();
    assert!(requests[0].contains("Range: bytes=10-\r\n"), "{requests:?}");

    // A 206 for another range than asked is refused, the file untouched.
    std::fs::write(&file, &body[..10]).unwrap();
    let (addr, server) = canned(vec![
        b"HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 0-9/100000\r\nContent-Length: 10\r\n\r\n0123456789".to_vec(),
    ]);
    let (code, err) = http_get(&format!("http://{addr}/f"), &file, &[]);
    assert_eq!(code, 3, "{err}");
    assert_eq!(std::fs::read(&file).unwrap(), &body[..10]);
    server.join().unwrap();

    // A redirect is followed (relative Location), up to --max-redirects.
    let _ = std::fs::remove_file(&file);
    let mut there = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nthere".to_vec();
    let (addr, server) = canned(vec![
        b"HTTP/1.1 302 Found\r\nLocation: /moved?x=1\r\nContent-Length: 3\r\n\r\nabc".to_vec(),
        std::mem::take(&mut there),
    ]);
    let (code, err) = http_get(&format!("http://{addr}/f"), &file, &[]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(std::fs::read(&file).unwrap(), b"there");
    let requests = server.join().unwrap();
    assert!(
        requests[1].starts_with("GET /moved?x=1 HTTP/1.1\r\n"),
        "{requests:?}"
    );
    let (addr, server) = canned(vec![
        b"HTTP/1.1 301 Moved\r\nLocation: /again\r\nContent-Length: 0\r\n\r\n".to_vec(),
    ]);
    let (code, err) = http_get(
        &format!("http://{addr}/f"),
        &file,
        &["--max-redirects", "0"],
    );
    assert_eq!(code, 1, "{err}");
    server.join().unwrap();
}

/// nginx serving `root` on a free port of 127.0.0.1 (stopped when dropped).
struct Nginx {
    child: std::process::Child,
    port: u16,
    _dir: TempDir,
}

impl Nginx {
    fn start(root: &Path) -> Nginx {
        let dir = TempDir::new("nginx");
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let d = dir.path().to_str().unwrap();
        let conf = format!(
            "daemon off;\nmaster_process off;\npid {d}/nginx.pid;\nerror_log {d}/error.log;\n\
             events {{}}\nhttp {{\n access_log off;\n client_body_temp_path {d}/body;\n\
             proxy_temp_path {d}/proxy;\n fastcgi_temp_path {d}/fastcgi;\n\
             uwsgi_temp_path {d}/uwsgi;\n scgi_temp_path {d}/scgi;\n\
             server {{ listen 127.0.0.1:{port}; root {}; }}\n}}\n",
            root.display()
        );
        std::fs::write(dir.path().join("nginx.conf"), conf).unwrap();
        let mut child = Command::new("nginx")
            .args(["-p", d, "-e", &format!("{d}/error.log"), "-c"])
            .arg(dir.path().join("nginx.conf"))
            .spawn()
            .expect("start nginx");
        // Bounded wait for the listening socket.
        for _ in 0..500 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Nginx {
                    child,
                    port,
                    _dir: dir,
                };
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!(
            "nginx did not listen on {port}: {}",
            std::fs::read_to_string(dir.path().join("error.log")).unwrap_or_default()
        );
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
#[ignore = "needs nginx (Debian `nginx`, installed by .ci/run)"]
fn against_nginx() {
    if !examples_support::have("nginx") {
        assert!(
            std::env::var_os("CI").is_none(),
            "nginx is missing under CI"
        );
        eprintln!("skipped: nginx is not installed");
        return;
    }
    let root = TempDir::new("nginx-root");
    let data = Rng(77).bytes(4_000_000);
    std::fs::write(root.path().join("data.bin"), &data).unwrap();
    let nginx = Nginx::start(root.path());
    let out = TempDir::new("http-get-out");
    let file = out.path().join("data.bin");
    let url = format!("http://127.0.0.1:{}/data.bin", nginx.port);

    let (code, err) = http_get(&url, &file, &[]);
    assert_eq!(code, 0, "{err}");
    assert!(std::fs::read(&file).unwrap() == data);

    std::fs::write(&file, &data[..1_000_001]).unwrap();
    let (code, err) = http_get(&url, &file, &[]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("(2999999 received)"), "{err}");
    assert!(std::fs::read(&file).unwrap() == data);

    // Whole already: nginx's 416 says bytes */4000000.
    let (code, err) = http_get(&url, &file, &[]);
    assert_eq!(code, 0, "{err}");
    assert!(std::fs::read(&file).unwrap() == data);

    // A directory without a slash: nginx redirects (301) to DIR/, which is 403
    // without an index; followed, then an HTTP error.
    std::fs::create_dir(root.path().join("dir")).unwrap();
    let (code, err) = http_get(
        &format!("http://127.0.0.1:{}/dir", nginx.port),
        &out.path().join("dir"),
        &[],
    );
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("redirected to"), "{err}");
    assert!(
        err.contains("HTTP 403") || err.contains("HTTP 404"),
        "{err}"
    );

    let (code, err) = http_get(
        &format!("http://127.0.0.1:{}/missing", nginx.port),
        &out.path().join("missing"),
        &[],
    );
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("HTTP 404"), "{err}");
}
