//! Starting the example servers for the end-to-end tests: find the binary `cargo
//! test` built next to this test, run it, and read the `listening on ADDR` line.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The example binary `name`: `cargo test` builds the examples into
/// `<target>/<profile>/examples/`, the parent of this test's `deps/` directory
/// (so `CARGO_TARGET_DIR` is honoured). `cargo test --test <this>` does not build
/// them: then it is built here with `cargo build --example` (in the test's
/// profile) when missing or older than its source, so a stale binary is never
/// what gets tested.
pub fn example_bin(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    let profile_dir = exe
        .parent()
        .and_then(|d| d.parent())
        .expect("target/<profile>");
    let bin = profile_dir.join("examples").join(name);
    let source = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples")
        .join(format!("{name}.rs"));
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    if modified(&bin) < modified(&source) {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let mut build = Command::new(cargo);
        build.args(["build", "--example", name]);
        if profile_dir.ends_with("release") {
            build.arg("--release");
        }
        let status = build
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status()
            .expect("run cargo build --example");
        assert!(status.success(), "cargo build --example {name} failed");
    }
    assert!(bin.exists(), "{} not found", bin.display());
    bin
}

/// A running example server, stopped (Ctrl-C, then killed) when dropped.
pub struct ExampleServer {
    pub child: Child,
    pub addr: SocketAddr,
    name: String,
}

impl ExampleServer {
    /// Starts example `name` with `args` (plus `--addr 127.0.0.1:0` unless given)
    /// and waits for its `listening on` line.
    pub fn start(name: &str, args: &[&str]) -> Self {
        let mut cmd = Command::new(example_bin(name));
        if !args.contains(&"--addr") {
            cmd.args(["--addr", "127.0.0.1:0"]);
        }
        let mut child = cmd
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {name}: {e}"));
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("piped stdout"))
            .read_line(&mut line)
            .expect("read the first line");
        let addr = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("{name} printed {line:?} first"))
            .parse()
            .expect("an address");
        ExampleServer {
            child,
            addr,
            name: name.into(),
        }
    }

    /// Sends `signal` (`"INT"`: what Ctrl-C sends; `"TERM"`: what `kill` and service
    /// managers send) and waits up to `within` for the process to exit.
    pub fn signal(&mut self, signal: &str, within: Duration) -> Option<std::process::ExitStatus> {
        let _ = Command::new("kill")
            .args([&format!("-{signal}"), &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    pub fn connect(&self) -> TcpStream {
        let s = TcpStream::connect(self.addr)
            .unwrap_or_else(|e| panic!("connect to {}: {e}", self.name));
        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        s.set_nodelay(true).unwrap();
        s
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// How many file descriptors the server process has open now.
    pub fn open_fds(&self) -> usize {
        std::fs::read_dir(format!("/proc/{}/fd", self.child.id()))
            .expect("the server's /proc/PID/fd")
            .count()
    }
}

impl Drop for ExampleServer {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait()
            && self.signal("INT", Duration::from_secs(5)).is_none()
        {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Sends `request` on a new connection and reads until the server closes it (or
/// `timeout` passes); returns everything read.
pub fn exchange(addr: SocketAddr, request: &[u8], timeout: Duration) -> Vec<u8> {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(timeout)).unwrap();
    let _ = s.write_all(request);
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    out
}

/// Whether an external tool is installed (for the `#[ignore]`d real-client tests).
pub fn have(tool: &str) -> bool {
    Command::new(tool)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok()
}

/// A small deterministic PRNG (xorshift64*), so tests need no crate for it.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        let mut v = Vec::with_capacity(n + 8);
        while v.len() < n {
            v.extend_from_slice(&self.next().to_le_bytes());
        }
        v.truncate(n);
        v
    }
}

/// A directory under the system temp dir, removed when dropped.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> Self {
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("seine-{tag}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create a temp dir");
        TempDir(dir)
    }

    pub fn path(&self) -> &std::path::Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// One HTTP response read off a kept-alive connection.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub head: String,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().skip(1).find_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.trim().eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }
}

/// Reads one response (`Content-Length` framed; no body if `head_only`), leaving
/// the connection open for the next.
pub fn read_response(conn: &mut TcpStream, head_only: bool) -> Response {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        let n = conn.read(&mut byte).expect("read a response head");
        assert!(
            n == 1,
            "closed inside a head: {:?}",
            String::from_utf8_lossy(&head)
        );
        head.push(byte[0]);
    }
    let head = String::from_utf8(head).expect("an ASCII head");
    let status = head[9..12].parse().expect("a status");
    let mut resp = Response {
        status,
        head,
        body: Vec::new(),
    };
    let len: usize = resp
        .header("content-length")
        .map_or(0, |v| v.parse().expect("a length"));
    if !head_only && status != 304 && status != 204 {
        resp.body = vec![0; len];
        conn.read_exact(&mut resp.body).expect("read a body");
    }
    resp
}

/// A CA and a `localhost` certificate signed by it, as files in `dir`:
/// (ca, cert, key).
pub fn certificates(dir: &TempDir) -> (String, String, String) {
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "seine example CA");
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let issuer = rcgen::Issuer::from_params(&ca_params, &ca_key);
    let key = rcgen::KeyPair::generate().unwrap();
    let leaf =
        rcgen::CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()])
            .unwrap()
            .signed_by(&key, &issuer)
            .unwrap();
    let path = |n: &str| dir.path().join(n).to_str().unwrap().to_string();
    std::fs::write(path("ca.pem"), ca.pem()).unwrap();
    std::fs::write(path("cert.pem"), leaf.pem()).unwrap();
    std::fs::write(path("key.pem"), key.serialize_pem()).unwrap();
    (path("ca.pem"), path("cert.pem"), path("key.pem"))
}
