//! End-to-end tests of `examples/http_file_server.rs`: raw HTTP over loopback
//! (always run) and `curl` (`#[ignore]`d: `cargo test -- --ignored` after
//! `apt-get install -y curl`).

mod examples_support;

use std::io::{Read, Write};
use std::os::unix::fs::symlink;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use examples_support::{ExampleServer, Rng, TempDir, exchange, have, read_response};

/// A tree to serve: small files, a binary file, a subdirectory, symlinks in and
/// out (the second directory is the outside one; keep it alive with the first).
fn tree() -> (TempDir, TempDir) {
    let dir = TempDir::new("www");
    let p = dir.path();
    std::fs::write(p.join("hello.txt"), b"hello, world\n").unwrap();
    std::fs::write(p.join("page.html"), b"<h1>hi</h1>").unwrap();
    std::fs::write(p.join("data.bin"), Rng(7).bytes(100_000)).unwrap();
    std::fs::write(p.join("empty"), b"").unwrap();
    std::fs::create_dir(p.join("sub dir")).unwrap();
    std::fs::write(p.join("sub dir").join("a&b.txt"), b"inside").unwrap();
    symlink(p.join("hello.txt"), p.join("link-in")).unwrap();
    symlink("../hello.txt", p.join("sub dir").join("link-rel")).unwrap();
    let outside = TempDir::new("outside");
    std::fs::write(outside.path().join("secret"), b"secret").unwrap();
    symlink(outside.path().join("secret"), p.join("link-out")).unwrap();
    // A FIFO: opening it must not block the server (refused as not a file).
    nix::unistd::mkfifo(&p.join("fifo"), nix::sys::stat::Mode::S_IRWXU).unwrap();
    // The same escape as a relative link: "../<outside dir name>/secret".
    let outside_name = outside.path().file_name().unwrap();
    symlink(
        Path::new("..").join(outside_name).join("secret"),
        p.join("link-out-rel"),
    )
    .unwrap();
    (dir, outside)
}

fn server(root: &TempDir, extra: &[&str]) -> ExampleServer {
    let mut args = vec!["--root", root.path().to_str().unwrap(), "--threads", "2"];
    args.extend_from_slice(extra);
    ExampleServer::start("http_file_server", &args)
}

fn get(conn: &mut std::net::TcpStream, path: &str, extra: &str) -> examples_support::Response {
    write!(conn, "GET {path} HTTP/1.1\r\nHost: t\r\n{extra}\r\n").unwrap();
    read_response(conn, false)
}

#[test]
fn files_ranges_and_conditional_requests_on_one_connection() {
    let (root, _outside) = tree();
    let srv = server(&root, &[]);
    let mut c = srv.connect();

    let r = get(&mut c, "/hello.txt", "");
    assert_eq!((r.status, &r.body[..]), (200, &b"hello, world\n"[..]));
    assert_eq!(r.header("content-type"), Some("text/plain; charset=utf-8"));
    assert_eq!(r.header("accept-ranges"), Some("bytes"));
    let last_modified = r
        .header("last-modified")
        .expect("Last-Modified")
        .to_string();

    let r = get(&mut c, "/data.bin", "");
    assert_eq!(r.body, Rng(7).bytes(100_000));
    assert_eq!(r.header("content-type"), Some("application/octet-stream"));

    let r = get(&mut c, "/page.html", "");
    assert_eq!(r.header("content-type"), Some("text/html; charset=utf-8"));

    for (range, status, body, content_range) in [
        ("bytes=0-4", 206, &b"hello"[..], Some("bytes 0-4/13")),
        ("bytes=7-", 206, b"world\n", Some("bytes 7-12/13")),
        ("bytes=-3", 206, b"ld\n", Some("bytes 10-12/13")),
        ("bytes=5-100", 206, b", world\n", Some("bytes 5-12/13")),
        ("bytes=-100", 206, b"hello, world\n", Some("bytes 0-12/13")),
        (
            "bytes=13-",
            416,
            b"416 Range Not Satisfiable\n",
            Some("bytes */13"),
        ),
        (
            "bytes=-0",
            416,
            b"416 Range Not Satisfiable\n",
            Some("bytes */13"),
        ),
        ("pages=1", 200, b"hello, world\n", None),
    ] {
        let r = get(&mut c, "/hello.txt", &format!("Range: {range}\r\n"));
        assert_eq!(r.status, status, "{range}");
        assert_eq!(r.body, body, "{range}");
        assert_eq!(r.header("content-range"), content_range, "{range}");
    }

    // Several ranges: one multipart/byteranges body.
    let r = get(&mut c, "/hello.txt", "Range: bytes=0-1,7-11\r\n");
    assert_eq!(r.status, 206);
    let ct = r.header("content-type").unwrap().to_string();
    let boundary = ct
        .strip_prefix("multipart/byteranges; boundary=")
        .expect(&ct);
    let want = format!(
        "\r\n--{boundary}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Range: bytes 0-1/13\r\n\r\nhe\
         \r\n--{boundary}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Range: bytes 7-11/13\r\n\r\nworld\
         \r\n--{boundary}--\r\n"
    );
    assert_eq!(String::from_utf8(r.body).unwrap(), want);

    let r = get(
        &mut c,
        "/hello.txt",
        &format!("If-Modified-Since: {last_modified}\r\n"),
    );
    assert_eq!((r.status, r.body.len()), (304, 0));
    let r = get(
        &mut c,
        "/hello.txt",
        "If-Modified-Since: Thu, 01 Jan 1970 00:00:00 GMT\r\n",
    );
    assert_eq!(r.status, 200);

    write!(c, "HEAD /data.bin HTTP/1.1\r\nHost: t\r\n\r\n").unwrap();
    let r = read_response(&mut c, true);
    assert_eq!(
        (r.status, r.header("content-length")),
        (200, Some("100000"))
    );

    let r = get(&mut c, "/empty", "");
    assert_eq!((r.status, r.body.len()), (200, 0));
    let r = get(&mut c, "/link-in", "");
    assert_eq!(r.body, b"hello, world\n");
    let r = get(&mut c, "/sub%20dir/link-rel", "");
    assert_eq!(r.body, b"hello, world\n");
}

#[test]
fn directories_errors_and_escapes() {
    let (root, _outside) = tree();
    let srv = server(&root, &[]);
    let mut c = srv.connect();
    let r = get(&mut c, "/sub%20dir", "");
    assert_eq!((r.status, r.header("location")), (301, Some("/sub%20dir/")));
    let r = get(&mut c, "/sub%20dir/", "");
    let page = String::from_utf8(r.body).unwrap();
    assert_eq!(r.status, 200);
    assert!(
        page.contains("<a href=\"a%26b.txt\">a&amp;b.txt</a>"),
        "{page}"
    );
    let r = get(&mut c, "/sub%20dir/a%26b.txt", "");
    assert_eq!(r.body, b"inside");
    let r = get(&mut c, "/", "");
    assert!(String::from_utf8_lossy(&r.body).contains("hello.txt"));

    for (path, status) in [
        ("/missing", 404),
        ("/../../../../etc/passwd", 403),
        ("/sub%20dir/../../etc/passwd", 403),
        ("/%2e%2e/%2e%2e/etc/passwd", 403),
        ("/link-out", 403),
        ("/link-out-rel", 403),
        ("/fifo", 403),
        ("/bad%zz", 400),
        ("/nul%00", 400),
    ] {
        let r = get(&mut c, path, "");
        assert_eq!(r.status, status, "{path}");
    }
    write!(c, "DELETE /hello.txt HTTP/1.1\r\nHost: t\r\n\r\n").unwrap();
    let r = read_response(&mut c, false);
    assert_eq!((r.status, r.header("allow")), (405, Some("GET, HEAD")));
    write!(c, "get /hello.txt HTTP/1.1\r\nHost: t\r\n\r\n").unwrap();
    assert_eq!(read_response(&mut c, false).status, 501);
}

/// What a hostile or unusual peer found: `//` paths stay under the root, the
/// validators and conditional requests follow RFC 9110, odd request lines are
/// answered as nginx answers them.
#[test]
fn paths_validators_and_request_lines() {
    let (root, _outside) = tree();
    let srv = server(&root, &[]);
    let mut c = srv.connect();
    // Not the host's /etc/passwd, and no hint whether a host path exists.
    for path in ["//etc/passwd", "//etc/nonexistent", "/%2Fetc/passwd"] {
        assert_eq!(get(&mut c, path, "").status, 404, "{path}");
    }
    assert_eq!(get(&mut c, "//hello.txt", "").body, b"hello, world\n");
    // A redirect never points at another host, and keeps the query.
    let r = get(&mut c, "//sub%20dir?x=1", "");
    assert_eq!(
        (r.status, r.header("location")),
        (301, Some("/sub%20dir/?x=1"))
    );

    let r = get(&mut c, "/hello.txt", "");
    let etag = r.header("etag").expect("an ETag").to_string();
    let lm = r.header("last-modified").unwrap().to_string();
    let old = "Mon, 01 Jan 2001 00:00:00 GMT";
    let future = "Mon, 01 Jan 2102 00:00:00 GMT";
    for (extra, status) in [
        (format!("If-None-Match: {etag}\r\n"), 304),
        (format!("If-None-Match: W/{etag}, \"x\"\r\n"), 304),
        ("If-None-Match: *\r\n".to_string(), 304),
        // If-None-Match wins over If-Modified-Since.
        (
            format!("If-None-Match: \"x\"\r\nIf-Modified-Since: {lm}\r\n"),
            200,
        ),
        // A date in the future is not a validator.
        (format!("If-Modified-Since: {future}\r\n"), 200),
        (format!("If-Unmodified-Since: {old}\r\n"), 412),
        ("If-Match: \"x\"\r\n".to_string(), 412),
        (format!("If-Match: {etag}\r\n"), 200),
        // If-Range naming another version: the whole file, not the range.
        (format!("Range: bytes=0-4\r\nIf-Range: {old}\r\n"), 200),
        ("Range: bytes=0-4\r\nIf-Range: \"x\"\r\n".to_string(), 200),
        (format!("Range: bytes=0-4\r\nIf-Range: {etag}\r\n"), 206),
        (format!("Range: bytes=0-4\r\nIf-Range: {lm}\r\n"), 206),
        ("Range: BYTES=0-4\r\n".to_string(), 206),
    ] {
        let r = get(&mut c, "/hello.txt", &extra);
        assert_eq!(r.status, status, "{extra}");
    }
    let r = get(
        &mut c,
        "/hello.txt",
        "Range: bytes=2-99999999999999999999999\r\n",
    );
    assert_eq!(r.header("content-range"), Some("bytes 2-12/13"));
    let r = get(&mut c, "/empty", "Range: bytes=-5\r\n");
    assert_eq!((r.status, r.body.len()), (200, 0));

    // Absolute-form targets and higher HTTP/1 minor versions are served;
    // a raw space in the target and junk are 400 at once.
    write!(c, "GET http://t/hello.txt HTTP/1.1\r\nHost: t\r\n\r\n").unwrap();
    assert_eq!(read_response(&mut c, false).body, b"hello, world\n");
    write!(c, "GET /hello.txt HTTP/1.2\r\nHost: t\r\n\r\n").unwrap();
    assert_eq!(read_response(&mut c, false).status, 200);
    let addr = srv.addr;
    for junk in [
        &b"GET /a b HTTP/1.1\r\nHost: t\r\n\r\n"[..],
        b"\x16\x03\x01\x00\xa5\x01",
    ] {
        let out = exchange(addr, junk, Duration::from_secs(5));
        assert!(
            out.starts_with(b"HTTP/1.1 400 "),
            "{:?}",
            String::from_utf8_lossy(&out)
        );
    }
}

/// A request for a 99,999-byte range of `data.bin`: its response holds the file
/// open until it is sent.
const RANGE_REQUEST: &str = "GET /data.bin HTTP/1.1\r\nHost: t\r\nRange: bytes=0-99998\r\n\r\n";

/// A peer that pipelines many requests and reads nothing holds at most a batch
/// of open files, not one per request (each response holds its file until sent).
#[test]
fn pipelining_without_reading_holds_few_files() {
    let (root, _outside) = tree();
    let srv = server(&root, &["--threads", "1"]);
    let before = srv.open_fds();
    let mut c = srv.connect();
    // 100 MB of responses: more than the socket buffers take in.
    c.write_all(RANGE_REQUEST.repeat(1000).as_bytes()).unwrap();
    // Wait until the server has answered all it will (its count settles).
    let mut last = 0;
    for _ in 0..50 {
        std::thread::sleep(Duration::from_millis(100));
        let now = srv.open_fds();
        if now == last {
            break;
        }
        last = now;
    }
    let held = srv.open_fds() - before;
    assert!(held <= 24, "{held} descriptors held for one connection");
    // Everything is answered once the peer reads.
    for i in 0..1000 {
        let resp = read_response(&mut c, false);
        assert_eq!(
            (resp.status, resp.body.len()),
            (206, 99_999),
            "response {i}"
        );
    }
}

/// A peer that stops reading responses is closed after `--send-timeout` seconds
/// without progress, dropping what it did not read (nginx's `send_timeout`).
#[test]
fn a_peer_that_reads_nothing_is_closed() {
    let (root, _outside) = tree();
    let srv = server(
        &root,
        &[
            "--threads",
            "1",
            "--header-timeout",
            "1",
            "--idle-timeout",
            "1",
            "--send-timeout",
            "1",
        ],
    );
    let before = srv.open_fds();
    let mut c = srv.connect();
    c.write_all(RANGE_REQUEST.repeat(1000).as_bytes()).unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    // First the server holds the connection (it may not have accepted it yet)...
    while srv.open_fds() <= before && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(srv.open_fds() > before, "the server holds the connection");
    // ...then, the send timeout past, neither it nor its files.
    while srv.open_fds() > before && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        srv.open_fds() <= before,
        "the connection and its files are gone"
    );
}

#[test]
fn malformed_requests_over_raw_tcp() {
    let (root, _outside) = tree();
    let srv = server(&root, &[]);
    let mut big_header = b"GET / HTTP/1.1\r\nHost: t\r\nX-Big: ".to_vec();
    big_header.extend(std::iter::repeat_n(b'a', 1 << 20));
    big_header.extend_from_slice(b"\r\n\r\n");
    let mut many = b"GET / HTTP/1.1\r\nHost: t\r\n".to_vec();
    for i in 0..10_000 {
        many.extend_from_slice(format!("X-{i}: v\r\n").as_bytes());
    }
    many.extend_from_slice(b"\r\n");
    let cases: Vec<(&[u8], &str)> = vec![
        (b"GARBAGE\r\n\r\n", "400"),
        (b"GET / HTTP/1.1\r\n\r\n", "400"), // no Host
        (&big_header, "431"),
        (&many, "431"),
        (b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: -5\r\n\r\n", "400"),
        (b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 99999999\r\n\r\n", "413"),
        (b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", "400"),
        (b"GET / HTTP/2.0\r\nHost: t\r\n\r\n", "505"),
    ];
    for (wire, status) in cases {
        let out = exchange(srv.addr, wire, Duration::from_secs(10));
        let text = String::from_utf8_lossy(&out);
        assert!(
            text.starts_with(&format!("HTTP/1.1 {status} ")),
            "{text:.200}"
        );
        assert!(text.contains("Connection: close\r\n"), "{text:.200}");
    }
    // A truncated chunked body, then the client half-closes: 400.
    let mut s = srv.connect();
    s.write_all(b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab")
        .unwrap();
    s.shutdown(std::net::Shutdown::Write).unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    assert!(out.starts_with("HTTP/1.1 400 "), "{out}");
    // HTTP/1.0 without keep-alive: answered, then closed.
    let out = exchange(
        srv.addr,
        b"GET /hello.txt HTTP/1.0\r\n\r\n",
        Duration::from_secs(10),
    );
    assert!(String::from_utf8_lossy(&out).ends_with("\r\n\r\nhello, world\n"));
}

#[test]
fn slowloris_and_idle_connections_are_closed() {
    let (root, _outside) = tree();
    let srv = server(&root, &["--header-timeout", "1", "--idle-timeout", "2"]);
    // Trickles header lines and never finishes the head.
    let mut s = srv.connect();
    s.write_all(b"GET / HTTP/1.1\r\nHost: t\r\n").unwrap();
    let start = Instant::now();
    for _ in 0..40 {
        std::thread::sleep(Duration::from_millis(100));
        if s.write_all(b"X-Slow: 1\r\n").is_err() {
            break; // reset by the server
        }
    }
    // Closed by the server: end of stream (or a reset) well before the 30 s read
    // timeout.
    let mut rest = Vec::new();
    let _ = s.read_to_end(&mut rest);
    let waited = start.elapsed();
    assert!(waited < Duration::from_secs(3), "closed after {waited:?}");
    // A kept-alive connection that goes quiet is closed after the idle timeout.
    let mut c = srv.connect();
    assert_eq!(get(&mut c, "/hello.txt", "").status, 200);
    let start = Instant::now();
    let mut buf = [0u8; 1];
    assert_eq!(c.read(&mut buf).unwrap_or(0), 0);
    let waited = start.elapsed();
    assert!(
        waited > Duration::from_millis(1500) && waited < Duration::from_secs(5),
        "{waited:?}"
    );
}

// ---- curl ----

fn curl(args: &[&str]) -> (String, Vec<u8>) {
    let out = Command::new("curl")
        .args(["-s", "-S"])
        .args(args)
        .output()
        .expect("run curl");
    assert!(
        out.status.success(),
        "curl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.stdout,
    )
}

fn code(args: &[&str]) -> String {
    let mut all = vec!["-o", "/dev/null", "-w", "%{http_code}"];
    all.extend_from_slice(args);
    String::from_utf8(curl(&all).1).unwrap()
}

fn sha256_file(path: &std::path::Path) -> String {
    let out = Command::new("sha256sum")
        .arg(path)
        .output()
        .expect("sha256sum");
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .unwrap()
        .to_string()
}

fn sha256_of_url(url: &str) -> String {
    let out = Command::new("sh")
        .args(["-c", &format!("curl -s -S --fail '{url}' | sha256sum")])
        .output()
        .expect("curl | sha256sum");
    assert!(out.status.success());
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .unwrap()
        .to_string()
}

#[test]
#[ignore = "needs curl (apt-get install -y curl)"]
fn curl_one_gib_sparse_file() {
    assert!(have("curl"), "curl is not installed");
    let root = TempDir::new("sparse");
    let path = root.path().join("big.img");
    {
        use std::os::unix::fs::FileExt;
        let f = std::fs::File::create(&path).unwrap();
        f.set_len(1 << 30).unwrap();
        for at in [0u64, 4095, 1 << 20, 512 << 20, (1 << 30) - 7] {
            f.write_all_at(b"seine!\n", at.min((1 << 30) - 7)).unwrap();
        }
    }
    let srv = server(&root, &[]);
    let url = format!("http://{}/big.img", srv.addr);
    assert_eq!(sha256_of_url(&url), sha256_file(&path));
}

#[test]
#[ignore = "needs curl (apt-get install -y curl)"]
fn curl_ranges_conditional_errors_head_and_keep_alive() {
    assert!(have("curl"), "curl is not installed");
    let (root, _outside) = tree();
    let srv = server(&root, &[]);
    let base = format!("http://{}", srv.addr);
    let data = Rng(7).bytes(100_000);
    let url = format!("{base}/data.bin");
    for (range, want) in [
        ("0-99", &data[..100]),
        ("99990-", &data[99_990..]),
        ("-10", &data[99_990..]),
        ("50000-50009", &data[50_000..50_010]),
    ] {
        let (_, body) = curl(&["-r", range, &url]);
        assert_eq!(body, want, "range {range}");
        assert_eq!(code(&["-r", range, &url]), "206");
    }
    assert_eq!(code(&["-r", "100000-", &url]), "416");
    let (_, head) = curl(&["-I", &url]);
    let head = String::from_utf8(head).unwrap();
    assert!(
        head.starts_with("HTTP/1.1 200 OK\r\n") && head.contains("Content-Length: 100000\r\n"),
        "{head}"
    );
    let last_modified = head
        .lines()
        .find_map(|l| l.strip_prefix("Last-Modified: "))
        .unwrap()
        .trim()
        .to_string();
    assert_eq!(
        code(&["-H", &format!("If-Modified-Since: {last_modified}"), &url]),
        "304"
    );
    assert_eq!(code(&["-z", "Thu, 01 Jan 1970 00:00:00 GMT", &url]), "200");
    assert_eq!(code(&[&format!("{base}/nope")]), "404");
    assert_eq!(
        code(&["--path-as-is", &format!("{base}/../../../etc/passwd")]),
        "403"
    );
    assert_eq!(code(&[&format!("{base}/link-out")]), "403");
    // Several URLs in one curl: one connection, reused.
    let (_, out) = curl(&[
        "-o",
        "/dev/null",
        "-o",
        "/dev/null",
        "-o",
        "/dev/null",
        "-w",
        "%{http_code} %{num_connects}\n",
        &format!("{base}/hello.txt"),
        &url,
        &format!("{base}/sub%20dir/"),
    ]);
    assert_eq!(String::from_utf8(out).unwrap(), "200 1\n200 0\n200 0\n");
}

#[test]
#[ignore = "needs curl (apt-get install -y curl)"]
fn curl_64_mib_file_by_32_clients_at_once() {
    assert!(have("curl"), "curl is not installed");
    let root = TempDir::new("big");
    let path = root.path().join("64m.bin");
    let mut rng = Rng(64);
    let mut f = std::fs::File::create(&path).unwrap();
    for _ in 0..64 {
        f.write_all(&rng.bytes(1 << 20)).unwrap();
    }
    drop(f);
    let want = sha256_file(&path);
    let srv = server(&root, &[]);
    let url = format!("http://{}/64m.bin", srv.addr);
    let clients: Vec<_> = (0..32)
        .map(|_| {
            Command::new("sh")
                .args(["-c", &format!("curl -s -S --fail '{url}' | sha256sum")])
                .stdout(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for c in clients {
        let out = c.wait_with_output().unwrap();
        assert!(out.status.success());
        assert_eq!(
            String::from_utf8_lossy(&out.stdout)
                .split_whitespace()
                .next()
                .unwrap(),
            want
        );
    }
}

// ---- uploads (--allow-put, --max-body) ----

/// Whether `tool` is there; outside CI a missing tool skips the test loudly.
fn need(tool: &str) -> bool {
    if have(tool) {
        return true;
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "{tool} is not installed (CI must have it)"
    );
    eprintln!("SKIPPED: {tool} is not installed");
    false
}

/// Files under `dir` whose name holds `.upload-` (temporary upload files).
fn temporaries(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_dir() {
            out.extend(temporaries(&e.path()));
        } else if e.file_name().to_string_lossy().contains(".upload-") {
            out.push(e.path().display().to_string());
        }
    }
    out
}

#[test]
fn put_over_raw_tcp_with_100_continue_and_one_cut_short() {
    let (root, _outside) = tree();
    let srv = server(&root, &["--allow-put", "--max-body", "1000000"]);
    let mut c = srv.connect();
    write!(
        c,
        "PUT /new/dir/file.txt HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n"
    )
    .unwrap();
    let mut interim = [0u8; 25];
    c.read_exact(&mut interim).unwrap();
    assert_eq!(&interim, b"HTTP/1.1 100 Continue\r\n\r\n");
    c.write_all(b"abcde").unwrap();
    assert_eq!(read_response(&mut c, false).status, 201);
    assert_eq!(
        std::fs::read(root.path().join("new/dir/file.txt")).unwrap(),
        b"abcde"
    );
    // Chunked, replacing: 204; the new content is served at once.
    c.write_all(
        b"PUT /hello.txt HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nnew\r\n4\r\n one\r\n0\r\n\r\n",
    )
    .unwrap();
    assert_eq!(read_response(&mut c, false).status, 204);
    assert_eq!(get(&mut c, "/hello.txt", "").body, b"new one");
    // Out of the root, onto a directory: refused.
    for (path, status) in [("/link-out", 204), ("/sub%20dir", 409), ("/../x", 403)] {
        write!(
            c,
            "PUT {path} HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\n\r\nx"
        )
        .unwrap();
        assert_eq!(read_response(&mut c, false).status, status, "{path}");
    }
    assert_eq!(
        std::fs::read(_outside.path().join("secret")).unwrap(),
        b"secret"
    );
    // Above --max-body: 413 at once, no 100 Continue, the connection closes.
    let out = exchange(
        srv.addr,
        b"PUT /big HTTP/1.1\r\nHost: t\r\nContent-Length: 2000000\r\nExpect: 100-continue\r\n\r\n",
        Duration::from_secs(10),
    );
    let text = String::from_utf8_lossy(&out);
    assert!(text.starts_with("HTTP/1.1 413 "), "{text}");
    assert!(!text.contains("100 Continue"), "{text}");

    // A client that announces 1 GiB, sends 3 MB, stops, then goes away: the
    // part written is removed, nothing stays.
    let srv = server(&root, &["--allow-put"]);
    let mut s = srv.connect();
    write!(
        s,
        "PUT /cut HTTP/1.1\r\nHost: t\r\nContent-Length: 1073741824\r\n\r\n"
    )
    .unwrap();
    s.write_all(&vec![b'x'; 3_000_000]).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while temporaries(root.path()).is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(temporaries(root.path()).len(), 1, "being written");
    drop(s);
    let deadline = Instant::now() + Duration::from_secs(10);
    while !temporaries(root.path()).is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(temporaries(root.path()), Vec::<String>::new());
    assert!(!root.path().join("cut").exists());
}

#[test]
fn put_is_405_without_allow_put() {
    let (root, _outside) = tree();
    let srv = server(&root, &[]);
    let mut c = srv.connect();
    write!(
        c,
        "PUT /x HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabc"
    )
    .unwrap();
    let r = read_response(&mut c, false);
    assert_eq!((r.status, r.header("allow")), (405, Some("GET, HEAD")));
    assert!(!root.path().join("x").exists());
}

#[test]
#[ignore = "needs curl and python3"]
fn curl_several_ranges_parsed_as_multipart() {
    if !need("curl") || !need("python3") {
        return;
    }
    let (root, _outside) = tree();
    let srv = server(&root, &[]);
    let url = format!("http://{}/data.bin", srv.addr);
    let dir = TempDir::new("multi");
    let body = dir.path().join("body");
    let (_, ct) = curl(&[
        "-r",
        "0-99,50000-50009,99990-",
        "-o",
        body.to_str().unwrap(),
        "-w",
        "%{http_code} %{content_type}",
        &url,
    ]);
    let ct = String::from_utf8(ct).unwrap();
    let ct = ct.strip_prefix("206 ").expect(&ct);
    assert!(ct.starts_with("multipart/byteranges; boundary="), "{ct}");
    // Python's MIME parser splits the parts; each is compared with the file.
    let script = r#"
import email, email.policy, sys
ct, path = sys.argv[1], sys.argv[2]
raw = b"Content-Type: " + ct.encode() + b"\r\n\r\n" + open(path, "rb").read()
msg = email.message_from_bytes(raw, policy=email.policy.HTTP)
assert msg.is_multipart(), "not multipart"
for part in msg.iter_parts():
    data = part.get_payload(decode=True)
    print(part["Content-Type"], part["Content-Range"], data.hex())
"#;
    let out = Command::new("python3")
        .args(["-c", script, ct, body.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let data = Rng(7).bytes(100_000);
    let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
    let want = [
        ("bytes 0-99/100000", hex(&data[..100])),
        ("bytes 50000-50009/100000", hex(&data[50_000..50_010])),
        ("bytes 99990-99999/100000", hex(&data[99_990..])),
    ]
    .iter()
    .map(|(r, h)| format!("application/octet-stream {r} {h}\n"))
    .collect::<String>();
    assert_eq!(String::from_utf8(out.stdout).unwrap(), want);
}

#[test]
#[ignore = "needs curl"]
fn curl_uploads_sized_and_chunked() {
    if !need("curl") {
        return;
    }
    let (root, _outside) = tree();
    let srv = server(&root, &["--allow-put"]);
    let dir = TempDir::new("uploads");
    let src = dir.path().join("src.bin");
    std::fs::write(&src, Rng(9).bytes(3_000_000)).unwrap();
    let src = src.to_str().unwrap();
    let url = format!("http://{}/up/loaded.bin", srv.addr);
    assert_eq!(code(&["-T", src, &url]), "201");
    assert_eq!(
        sha256_file(&root.path().join("up/loaded.bin")),
        sha256_file(Path::new(src))
    );
    assert_eq!(code(&["-T", src, &url]), "204");
    let chunked = format!("http://{}/up/chunked.bin", srv.addr);
    assert_eq!(
        code(&["-H", "Transfer-Encoding: chunked", "-T", src, &chunked]),
        "201"
    );
    assert_eq!(sha256_of_url(&chunked), sha256_file(Path::new(src)));
    assert_eq!(temporaries(root.path()), Vec::<String>::new());
}

/// The server's resident memory in KiB.
fn vm_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap()
}

#[test]
#[ignore = "needs curl; writes 1 GiB to the temporary directory"]
fn curl_one_gib_upload_in_bounded_memory() {
    if !need("curl") {
        return;
    }
    let root = TempDir::new("gib-up");
    let srv = server(&root, &["--allow-put", "--threads", "1"]);
    let pid = srv.child.id();
    let before = vm_rss_kib(pid);
    let url = format!("http://{}/gib", srv.addr);
    // Made on the fly: nothing of it in the test's memory or on disk first.
    let mut upload = Command::new("sh")
        .args([
            "-c",
            &format!("head -c 1073741824 /dev/zero | curl -s -S -o /dev/null -w '%{{http_code}}' -T - '{url}'"),
        ])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut peak = before;
    let deadline = Instant::now() + Duration::from_secs(300);
    while upload.try_wait().unwrap().is_none() && Instant::now() < deadline {
        peak = peak.max(vm_rss_kib(pid));
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = upload.wait_with_output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "201");
    let len = std::fs::metadata(root.path().join("gib")).unwrap().len();
    std::fs::remove_file(root.path().join("gib")).unwrap();
    assert_eq!(len, 1 << 30);
    let grew = peak.saturating_sub(before);
    eprintln!("1 GiB upload: VmRSS {before} KiB before, peak {peak} KiB (+{grew} KiB)");
    assert!(grew < 32 * 1024, "server memory grew by {grew} KiB");
}

#[test]
#[ignore = "needs curl"]
fn curl_max_body_413_instead_of_100_continue() {
    if !need("curl") {
        return;
    }
    let (root, _outside) = tree();
    let srv = server(&root, &["--allow-put", "--max-body", "100000"]);
    let dir = TempDir::new("max-body");
    let src = dir.path().join("big.bin");
    std::fs::write(&src, vec![7u8; 5_000_000]).unwrap();
    let url = format!("http://{}/big.bin", srv.addr);
    // Sized: curl asks with Expect: 100-continue and reads the 413 at once (its
    // exit status is 0: no reset).
    let start = Instant::now();
    let (trace, codes) = curl(&[
        "-v",
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
        "-T",
        src.to_str().unwrap(),
        &url,
    ]);
    assert_eq!(String::from_utf8(codes).unwrap(), "413");
    assert!(trace.contains("Expect: 100-continue"), "{trace}");
    assert!(!trace.contains("HTTP/1.1 100"), "{trace}");
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "curl waited {:?}",
        start.elapsed()
    );
    // Chunked: 413 once the chunks add up past the limit; curl still reads it.
    let (_, codes) = curl(&[
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
        "-H",
        "Transfer-Encoding: chunked",
        "-T",
        src.to_str().unwrap(),
        &url,
    ]);
    assert_eq!(String::from_utf8(codes).unwrap(), "413");
    assert!(!root.path().join("big.bin").exists());
    // The part written before the refusal is removed (once the write in flight,
    // if any, returns).
    let deadline = Instant::now() + Duration::from_secs(10);
    while !temporaries(root.path()).is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(temporaries(root.path()), Vec::<String>::new());
    // Under the limit: stored.
    let small = dir.path().join("small.bin");
    std::fs::write(&small, vec![1u8; 99_999]).unwrap();
    assert_eq!(code(&["-T", small.to_str().unwrap(), &url]), "201");
}
