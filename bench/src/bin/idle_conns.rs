//! Opens N connections to a server, makes one round trip on each (a length-prefixed
//! echo frame, a keep-alive HTTP `GET /`, or a RESP `PING`, by `--proto`), so every
//! connection is accepted and served once, lets the server settle, and reports the
//! server's resident memory per connection (`VmRSS` before/after, its child
//! processes included). Then `--second`
//! random connections make a second round trip (the server kept them usable), it holds
//! the connections for `--hold` seconds and closes them with a reset (no TIME_WAIT left
//! behind). See `bench/README.md`.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

use seine_bench::args::{Args, die};
use seine_bench::cpu;
use seine_bench::json::JsonLine;

const USAGE: &str = "\
usage: idle_conns --addr HOST:PORT --server-pid PID [options]
  --conns N        connections to open and hold (default 10000)
  --proto P        echo (4-byte length frames, default), http (GET /) or resp (PING)
  --second N       random connections that make a second round trip after the
                   measurement (default 100)
  --settle SECS    wait before reading the server's RSS (default 1)
  --hold SECS      keep the connections open this long after measuring (default 0)
  --no-ping        only connect; do not echo a frame on each connection
  --json           one JSON line";

#[derive(Clone, Copy)]
enum Proto {
    Echo,
    Http,
    Resp,
}

/// One round trip of `proto` on `s`.
fn round_trip(s: &mut TcpStream, proto: Proto, i: u32) -> std::io::Result<()> {
    match proto {
        Proto::Echo => ping(s, i),
        Proto::Http => http_get(s),
        Proto::Resp => {
            s.write_all(b"*1\r\n$4\r\nPING\r\n")?;
            let mut back = [0u8; 7];
            s.read_exact(&mut back)?;
            if &back != b"+PONG\r\n" {
                return Err(std::io::Error::other(format!("PING answered {back:?}")));
            }
            Ok(())
        }
    }
}

/// A keep-alive `GET /` and its whole response (head, then a Content-Length body).
fn http_get(s: &mut TcpStream) -> std::io::Result<()> {
    s.write_all(b"GET / HTTP/1.1\r\nHost: idle\r\n\r\n")?;
    let mut buf = Vec::with_capacity(4096);
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break p + 4;
        }
        if buf.len() > 64 * 1024 {
            return Err(std::io::Error::other("response head over 64 KiB"));
        }
        let n = s.read(&mut chunk)?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
    if !head.starts_with("http/1.1 ") {
        return Err(std::io::Error::other("not an HTTP/1.1 response"));
    }
    let len: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .ok_or_else(|| std::io::Error::other("response without Content-Length"))?;
    let mut have = buf.len() - head_end;
    while have < len {
        let n = s.read(&mut chunk)?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        have += n;
    }
    Ok(())
}

fn ping(s: &mut TcpStream, i: u32) -> std::io::Result<()> {
    let mut frame = [0u8; 8];
    frame[..4].copy_from_slice(&4u32.to_be_bytes());
    frame[4..].copy_from_slice(&i.to_le_bytes());
    s.write_all(&frame)?;
    let mut back = [0u8; 8];
    s.read_exact(&mut back)?;
    if back != frame {
        return Err(std::io::Error::other(format!(
            "echo mismatch on connection {i}: sent {frame:?}, got {back:?}"
        )));
    }
    Ok(())
}

fn main() {
    let a = Args::from_env(&["json", "no-ping", "help"]).unwrap_or_else(|e| die(&e, USAGE));
    if a.flag("help") {
        println!("{USAGE}");
        return;
    }
    let bad = a.unknown(&[
        "addr",
        "conns",
        "settle",
        "hold",
        "server-pid",
        "proto",
        "second",
    ]);
    if !bad.is_empty() {
        die(&format!("unknown option(s) {bad:?}"), USAGE);
    }
    let addr: SocketAddr = a
        .str("addr")
        .and_then(|s| s.to_socket_addrs().ok()?.next())
        .unwrap_or_else(|| die("--addr HOST:PORT is required", USAGE));
    let pid: u32 = a
        .str("server-pid")
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| die("--server-pid PID is required", USAGE));
    let n: usize = a.get("conns", 10_000).unwrap_or_else(|e| die(&e, USAGE));
    let proto = match a.str("proto").unwrap_or("echo") {
        "echo" => Proto::Echo,
        "http" => Proto::Http,
        "resp" => Proto::Resp,
        other => die(&format!("--proto {other}: use echo, http or resp"), USAGE),
    };
    let second: usize = a.get("second", 100).unwrap_or_else(|e| die(&e, USAGE));
    let settle: f64 = a.get("settle", 1.0).unwrap_or_else(|e| die(&e, USAGE));
    let hold: f64 = a.get("hold", 0.0).unwrap_or_else(|e| die(&e, USAGE));
    let limit = cpu::raise_nofile(n as u64 + 64);
    if limit < n as u64 + 16 {
        eprintln!("idle_conns: RLIMIT_NOFILE is {limit}, too low for {n} connections");
        std::process::exit(1);
    }
    let rss0 = cpu::tree_rss_bytes(pid).unwrap_or_else(|e| {
        eprintln!("idle_conns: server pid {pid}: {e}");
        std::process::exit(1)
    });
    let t0 = Instant::now();
    let mut conns = Vec::with_capacity(n);
    let mut errors = 0u64;
    let mut first_error = None;
    for i in 0..n {
        let r = TcpStream::connect_timeout(&addr, Duration::from_secs(10)).and_then(|mut s| {
            s.set_nodelay(true)?;
            s.set_read_timeout(Some(Duration::from_secs(10)))?;
            if !a.flag("no-ping") {
                round_trip(&mut s, proto, i as u32)?;
            }
            Ok(s)
        });
        match r {
            Ok(s) => conns.push(s),
            Err(e) => {
                errors += 1;
                first_error.get_or_insert(format!("connection {i}: {e}"));
                if errors > 100 {
                    break;
                }
            }
        }
    }
    let open_s = t0.elapsed().as_secs_f64();
    std::thread::sleep(Duration::from_secs_f64(settle));
    let rss1 = cpu::tree_rss_bytes(pid).unwrap_or(0);
    let opened = conns.len() as u64;
    let per_conn = if opened > 0 {
        (rss1 as f64 - rss0 as f64) / opened as f64
    } else {
        f64::NAN
    };
    // A second round trip on random connections: the server kept them usable.
    let mut second_ok = 0u64;
    let mut x: u64 = 0x2545_F491_4F6C_DD1D ^ rss1;
    for k in 0..second.min(conns.len()) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let i = (x % conns.len() as u64) as usize;
        match round_trip(&mut conns[i], proto, (n + k) as u32) {
            Ok(()) => second_ok += 1,
            Err(e) => {
                errors += 1;
                first_error.get_or_insert(format!("second round trip on connection {i}: {e}"));
            }
        }
    }
    if a.flag("json") {
        println!(
            "{}",
            JsonLine::new()
                .int("conns", opened)
                .int("errors", errors)
                .int("second_ok", second_ok)
                .int("rss_before", rss0)
                .int("rss_after", rss1)
                .num("rss_per_conn_bytes", per_conn)
                .num("open_s", open_s)
                .finish()
        );
    } else {
        println!(
            "idle_conns {addr}: {opened} connections open ({errors} errors) in {open_s:.2} s; \
             server RSS {:.1} MiB -> {:.1} MiB = {per_conn:.0} bytes per connection; \
             {second_ok} second round trips ok",
            rss0 as f64 / 1048576.0,
            rss1 as f64 / 1048576.0
        );
    }
    if let Some(e) = &first_error {
        eprintln!("idle_conns: first error: {e}");
    }
    std::thread::sleep(Duration::from_secs_f64(hold));
    // Close with RST (SO_LINGER 0): thousands of TIME_WAIT sockets would linger otherwise.
    for s in &conns {
        let l = libc::linger {
            l_onoff: 1,
            l_linger: 0,
        };
        use std::os::fd::AsRawFd;
        // SAFETY: valid fd and a correctly sized option value.
        unsafe {
            libc::setsockopt(
                s.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_LINGER,
                (&l as *const libc::linger).cast(),
                std::mem::size_of::<libc::linger>() as libc::socklen_t,
            );
        }
    }
    drop(conns);
    if errors > 0 {
        std::process::exit(1);
    }
}
