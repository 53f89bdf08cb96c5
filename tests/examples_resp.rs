//! End-to-end tests of `examples/resp_server.rs`: a pure-Rust RESP client over
//! loopback (always run), and `redis-cli` / `redis-benchmark` (`#[ignore]`d: run with
//! `cargo test -- --ignored` after `apt-get install -y redis-tools`).

mod examples_support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::Duration;

use examples_support::{ExampleServer, have};

/// Sends `cmds` as RESP arrays in one write (pipelined) and reads `n` replies' worth
/// of bytes: returns the raw reply text.
fn send(conn: &mut TcpStream, cmds: &[&[&str]]) -> String {
    let mut wire = Vec::new();
    for cmd in cmds {
        wire.extend_from_slice(format!("*{}\r\n", cmd.len()).as_bytes());
        for arg in *cmd {
            wire.extend_from_slice(format!("${}\r\n{arg}\r\n", arg.len()).as_bytes());
        }
    }
    conn.write_all(&wire).unwrap();
    read_replies(conn, cmds.len())
}

/// Reads `n` complete top-level replies (simple parser: enough for these tests).
fn read_replies(conn: &mut TcpStream, n: usize) -> String {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        if count_replies(&buf) >= n {
            return String::from_utf8_lossy(&buf).into_owned();
        }
        let k = conn.read(&mut chunk).expect("read a reply");
        assert!(
            k > 0,
            "server closed; got {:?}",
            String::from_utf8_lossy(&buf)
        );
        buf.extend_from_slice(&chunk[..k]);
    }
}

fn count_replies(buf: &[u8]) -> usize {
    let mut pos = 0;
    let mut n = 0;
    while let Some(end) = reply_end(buf, pos) {
        pos = end;
        n += 1;
    }
    n
}

fn reply_end(buf: &[u8], pos: usize) -> Option<usize> {
    let line_end = pos + buf.get(pos..)?.windows(2).position(|w| w == b"\r\n")? + 2;
    let head = std::str::from_utf8(&buf[pos + 1..line_end - 2]).ok()?;
    match buf[pos] {
        b'+' | b'-' | b':' => Some(line_end),
        b'$' => {
            let len: i64 = head.parse().ok()?;
            if len < 0 {
                return Some(line_end);
            }
            let end = line_end + len as usize + 2;
            (buf.len() >= end).then_some(end)
        }
        b'*' => {
            let len: i64 = head.parse().ok()?;
            let mut p = line_end;
            for _ in 0..len.max(0) {
                p = reply_end(buf, p)?;
            }
            Some(p)
        }
        _ => None,
    }
}

#[test]
fn commands_over_loopback() {
    let server = ExampleServer::start("resp_server", &["--threads", "2"]);
    let mut c = server.connect();
    assert_eq!(send(&mut c, &[&["PING"]]), "+PONG\r\n");
    assert_eq!(
        send(
            &mut c,
            &[
                &["SET", "k", "v"],
                &["GET", "k"],
                &["GET", "missing"],
                &["EXISTS", "k", "missing"]
            ]
        ),
        "+OK\r\n$1\r\nv\r\n$-1\r\n:1\r\n"
    );
    assert_eq!(
        send(
            &mut c,
            &[
                &["INCR", "n"],
                &["INCR", "n"],
                &["DECR", "n"],
                &["INCR", "k"]
            ]
        ),
        ":1\r\n:2\r\n:1\r\n-ERR value is not an integer or out of range\r\n"
    );
    assert_eq!(
        send(
            &mut c,
            &[
                &["MSET", "a", "1", "b", "2"],
                &["MGET", "a", "b", "zz"],
                &["DEL", "a", "zz"]
            ]
        ),
        "+OK\r\n*3\r\n$1\r\n1\r\n$1\r\n2\r\n$-1\r\n:1\r\n"
    );
    assert_eq!(
        send(
            &mut c,
            &[
                &["SET", "x", "1", "NX"],
                &["SET", "x", "2", "NX"],
                &["SET", "y", "1", "XX"],
                &["GET", "x"]
            ]
        ),
        "+OK\r\n$-1\r\n$-1\r\n$1\r\n1\r\n"
    );
    assert_eq!(
        send(
            &mut c,
            &[
                &["SET", "t", "v", "EX", "100"],
                &["TTL", "t"],
                &["TTL", "k"],
                &["TTL", "nope"]
            ]
        ),
        "+OK\r\n:100\r\n:-1\r\n:-2\r\n"
    );
    assert_eq!(send(&mut c, &[&["SET", "p", "v", "PX", "50"]]), "+OK\r\n");
    std::thread::sleep(Duration::from_millis(120));
    assert_eq!(
        send(
            &mut c,
            &[&["GET", "p"], &["EXPIRE", "k", "100"], &["TTL", "k"]]
        ),
        "$-1\r\n:1\r\n:100\r\n"
    );
    assert_eq!(
        send(&mut c, &[&["ECHO", "hi"], &["DBSIZE"]]),
        "$2\r\nhi\r\n:5\r\n"
    );
    let unknown = send(&mut c, &[&["NOSUCH", "a"]]);
    assert!(
        unknown.starts_with("-ERR unknown command 'NOSUCH'"),
        "{unknown}"
    );
    assert_eq!(
        send(&mut c, &[&["GET"]]),
        "-ERR wrong number of arguments for 'get' command\r\n"
    );
    assert!(send(&mut c, &[&["HELLO", "3"]]).starts_with("-NOPROTO"));
    assert_eq!(
        send(&mut c, &[&["CONFIG", "GET", "save"]]),
        "*2\r\n$4\r\nsave\r\n$0\r\n\r\n"
    );
    assert_eq!(send(&mut c, &[&["COMMAND", "DOCS"]]), "*0\r\n");
    // Inline commands too, and the connection is still usable after errors.
    c.write_all(b"PING\r\n").unwrap();
    assert_eq!(read_replies(&mut c, 1), "+PONG\r\n");
    assert_eq!(send(&mut c, &[&["FLUSHDB"], &["DBSIZE"]]), "+OK\r\n:0\r\n");
}

/// Replies that follow Redis where it is easy to get wrong: strict integers, SET
/// option checks, expiry overflow, error texts built from peer data.
#[test]
fn replies_match_redis() {
    let server = ExampleServer::start("resp_server", &["--threads", "1"]);
    let mut c = server.connect();
    let not_int = "-ERR value is not an integer or out of range\r\n";
    for bad in ["+1", "01", "-0", " 1", "1x", "99999999999999999999"] {
        assert_eq!(send(&mut c, &[&["INCRBY", "n", bad]]), not_int, "{bad}");
    }
    assert_eq!(
        send(
            &mut c,
            &[
                &["DECRBY", "n", "-9223372036854775808"],
                &["SET", "k", "v", "EX", "10", "PX", "100"],
                &["SET", "k", "v", "EX"],
                &["SET", "k", "v", "NX", "XX"],
                &["SET", "k", "v", "EX", "9223372036854775807"],
                &["SET", "k", "v", "EX", "0"],
            ]
        ),
        "-ERR decrement would overflow\r\n-ERR syntax error\r\n-ERR syntax error\r\n\
         -ERR syntax error\r\n-ERR invalid expire time in 'set' command\r\n\
         -ERR invalid expire time in 'set' command\r\n"
    );
    assert_eq!(
        send(
            &mut c,
            &[
                &["SET", "g", "1"],
                &["SET", "g", "2", "GET"],
                &["SET", "g", "3", "NX", "GET"],
                &["GET", "g"],
                &["SET", "p", "1", "PX", "100000"],
                &["PTTL", "p"],
                &["TTL", "p"],
                &["EXPIRE", "p", "9223372036854775807"],
                &["EXPIRE", "p", "5", "GT"],
                &["SET", "gone", "1", "EXAT", "1"],
                &["EXISTS", "gone"],
            ]
        ),
        "+OK\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n2\r\n+OK\r\n:100000\r\n:100\r\n\
         -ERR invalid expire time in 'expire' command\r\n:0\r\n+OK\r\n:0\r\n"
    );
    assert_eq!(
        send(
            &mut c,
            &[
                &["APPEND", "a", "xy"],
                &["APPEND", "a", "z"],
                &["STRLEN", "a"],
                &["GETDEL", "a"],
                &["TYPE", "a"],
                &["DBSIZE", "x"],
                &["SELECT", "abc"],
                &["CLIENT", "GETNAME"],
            ]
        ),
        ":2\r\n:3\r\n:3\r\n$3\r\nxyz\r\n+none\r\n\
         -ERR wrong number of arguments for 'dbsize' command\r\n{not_int}$-1\r\n"
            .replace("{not_int}", not_int)
    );
    // An unknown command's error shows 128 bytes of each part, never a CR or LF
    // (which would make it an invalid reply and leave the client waiting).
    let huge = "x".repeat(1 << 20);
    let reply = send(&mut c, &[&["NO\r\nSUCH", &huge], &["PING"]]);
    assert!(
        reply.starts_with("-ERR unknown command 'NO  SUCH', with args beginning with: 'xxx"),
        "{reply}"
    );
    assert!(reply.len() < 300, "{} bytes", reply.len());
    assert!(reply.ends_with("' \r\n+PONG\r\n"), "{reply}");
    // Inline commands are split as redis-cli quotes them.
    c.write_all(b"SET \"a b\" 'c d'\r\nGET \"a b\"\r\nKEYS a*\r\n")
        .unwrap();
    assert_eq!(
        read_replies(&mut c, 3),
        "+OK\r\n$3\r\nc d\r\n*1\r\n$3\r\na b\r\n"
    );
    // Nothing pipelined behind QUIT runs.
    let quit = send(&mut c, &[&["QUIT"]]);
    assert_eq!(quit, "+OK\r\n");
    let mut c = server.connect();
    c.write_all(b"QUIT\r\nSET after 1\r\n").unwrap();
    let mut rest = String::new();
    c.read_to_string(&mut rest).unwrap();
    assert_eq!(rest, "+OK\r\n");
    let mut c = server.connect();
    assert_eq!(send(&mut c, &[&["EXISTS", "after"]]), ":0\r\n");
}

#[test]
fn clients_on_different_loops_share_the_store() {
    let server = ExampleServer::start("resp_server", &["--threads", "2"]);
    let mut conns: Vec<TcpStream> = (0..6).map(|_| server.connect()).collect();
    for (i, c) in conns.iter_mut().enumerate() {
        assert_eq!(
            send(c, &[&["SET", &format!("key{i}"), &format!("v{i}")]]),
            "+OK\r\n"
        );
        assert_eq!(send(c, &[&["INCR", "shared"]]), format!(":{}\r\n", i + 1));
    }
    for c in &mut conns {
        for i in 0..6 {
            assert_eq!(
                send(c, &[&["GET", &format!("key{i}")]]),
                format!("$2\r\nv{i}\r\n")
            );
        }
    }
}

#[test]
fn protocol_error_answers_and_closes() {
    let server = ExampleServer::start("resp_server", &["--threads", "1"]);
    let mut c = server.connect();
    c.write_all(b"*1\r\n$4294967296\r\n").unwrap();
    let mut out = Vec::new();
    c.read_to_end(&mut out).unwrap();
    let text = String::from_utf8_lossy(&out);
    assert!(text.starts_with("-ERR Protocol error:"), "{text}");
    // The server is still fine for others.
    let mut c = server.connect();
    assert_eq!(send(&mut c, &[&["PING"]]), "+PONG\r\n");
}

#[test]
fn large_values_round_trip() {
    let server = ExampleServer::start("resp_server", &["--threads", "1"]);
    let mut c = server.connect();
    let big = "x".repeat(3 << 20);
    assert_eq!(send(&mut c, &[&["SET", "big", &big]]), "+OK\r\n");
    let reply = send(&mut c, &[&["GET", "big"]]);
    assert_eq!(
        reply.len(),
        big.len() + format!("${}\r\n\r\n", big.len()).len()
    );
    assert!(reply.starts_with(&format!("${}\r\nxxx", big.len())));
}

fn redis_cli(port: u16, args: &[&str]) -> String {
    let out = Command::new("redis-cli")
        .args(["-p", &port.to_string()])
        .args(args)
        .output()
        .expect("run redis-cli");
    assert!(out.status.success(), "redis-cli {args:?}: {out:?}");
    String::from_utf8_lossy(&out.stdout).trim_end().to_string()
}

#[test]
#[ignore = "needs redis-cli (apt-get install -y redis-tools)"]
fn redis_cli_round_trips() {
    assert!(have("redis-cli"), "redis-cli is not installed");
    let server = ExampleServer::start("resp_server", &["--threads", "2"]);
    let p = server.port();
    assert_eq!(redis_cli(p, &["PING"]), "PONG");
    assert_eq!(redis_cli(p, &["SET", "greeting", "hello world"]), "OK");
    assert_eq!(redis_cli(p, &["GET", "greeting"]), "hello world");
    assert_eq!(redis_cli(p, &["INCR", "counter"]), "1");
    assert_eq!(redis_cli(p, &["INCR", "counter"]), "2");
    assert_eq!(redis_cli(p, &["MSET", "a", "1", "b", "2"]), "OK");
    assert_eq!(redis_cli(p, &["MGET", "a", "b", "c"]), "1\n2"); // then an empty line for nil
    assert_eq!(redis_cli(p, &["EXPIRE", "a", "100"]), "1");
    assert_eq!(redis_cli(p, &["TTL", "a"]), "100");
    assert_eq!(redis_cli(p, &["DEL", "a", "b"]), "2");
    assert_eq!(redis_cli(p, &["EXISTS", "a"]), "0");
    assert_eq!(redis_cli(p, &["DBSIZE"]), "2");
    assert!(redis_cli(p, &["FOO"]).contains("unknown command"));
    // Interactive mode (what a person types) goes through COMMAND DOCS and HELLO.
    let mut child = Command::new("redis-cli")
        .args(["-p", &p.to_string()])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"SET x 42\nGET x\nPING\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "OK\n42\nPONG\n");
    assert_eq!(redis_cli(p, &["FLUSHDB"]), "OK");
    assert_eq!(redis_cli(p, &["DBSIZE"]), "0");
}

#[test]
#[ignore = "needs redis-benchmark (apt-get install -y redis-tools)"]
fn redis_benchmark_pipelined_without_errors() {
    assert!(have("redis-benchmark"), "redis-benchmark is not installed");
    let server = ExampleServer::start("resp_server", &[]);
    let out = Command::new("redis-benchmark")
        .args(["-p", &server.port().to_string()])
        .args([
            "-t",
            "ping,set,get,incr,mset",
            "-n",
            "100000",
            "-c",
            "50",
            "-P",
            "16",
            "-q",
        ])
        .output()
        .expect("run redis-benchmark");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    let summary: Vec<&str> = stdout
        .split(['\r', '\n'])
        .filter(|l| l.contains("requests per second"))
        .collect();
    eprintln!("{}", summary.join("\n"));
    for test in ["PING_INLINE", "PING_MBULK", "SET", "GET", "INCR", "MSET"] {
        assert!(
            summary.iter().any(|l| l.starts_with(test)),
            "no result for {test}: {stdout}"
        );
    }
    let lower = format!("{stdout}{stderr}").to_lowercase();
    assert!(
        !lower.contains("error") && !lower.contains("err "),
        "{stdout}\n{stderr}"
    );
    // The counter INCR'd 100000 times.
    assert_eq!(
        redis_cli(server.port(), &["GET", "counter:__rand_int__"]),
        "100000"
    );
}

#[test]
#[ignore = "sends SIGINT with the kill command"]
fn ctrl_c_stops_gracefully() {
    let mut server = ExampleServer::start("resp_server", &["--threads", "2"]);
    let mut c = server.connect();
    assert_eq!(send(&mut c, &[&["PING"]]), "+PONG\r\n");
    let status = server
        .signal("INT", Duration::from_secs(10))
        .expect("exits after SIGINT");
    assert!(status.success(), "{status:?}");
}

#[test]
#[ignore = "sends SIGTERM with the kill command"]
fn sigterm_stops_gracefully() {
    let mut server = ExampleServer::start("resp_server", &["--threads", "1"]);
    let mut c = server.connect();
    assert_eq!(send(&mut c, &[&["PING"]]), "+PONG\r\n");
    let status = server
        .signal("TERM", Duration::from_secs(10))
        .expect("exits after SIGTERM");
    // Killed by the signal's default action, it would have no exit code.
    assert_eq!(status.code(), Some(0), "{status:?}");
}
