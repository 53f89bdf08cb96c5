//! End-to-end tests of `examples/dns_server.rs`: answers over UDP and TCP, EDNS,
//! truncation, and bad input (each its own test). The `dig` and Python tests are
//! `#[ignore]`d (`cargo test -- --ignored`; `.ci/run` installs the tools).

mod examples_support;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::process::Command;
use std::time::{Duration, Instant};

use examples_support::{ExampleServer, Rng, TempDir, have};
use hickory_proto::op::{Edns, Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::{Name, RData, RecordType};

const ZONE: &str = r#"$ORIGIN example.com.
$TTL 3600
@        IN SOA ns1.example.com. hostmaster.example.com. ( 2024010101 7200 3600 1209600 300 )
@        IN NS  ns1.example.com.
ns1      IN A   192.0.2.53
www      IN A   192.0.2.1
www      IN AAAA 2001:db8::1
txt      IN TXT "hello world"
a.b.deep IN A   192.0.2.7
big      IN TXT "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
big      IN TXT "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
big      IN TXT "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"
"#;

/// A dns_server on `addr` serving [`ZONE`]; the zone file lives as long as it.
struct Dns {
    server: ExampleServer,
    _dir: TempDir,
}

fn start_on(addr: &str) -> Dns {
    let dir = TempDir::new("dns");
    let zone = dir.path().join("example.com.zone");
    std::fs::write(&zone, ZONE).unwrap();
    let server = ExampleServer::start(
        "dns_server",
        &[
            "--addr",
            addr,
            "--zone",
            zone.to_str().unwrap(),
            "--threads",
            "1",
        ],
    );
    Dns { server, _dir: dir }
}

fn start() -> Dns {
    start_on("127.0.0.1:0")
}

fn query(name: &str, ty: RecordType, edns: bool) -> Message {
    let mut m = Message::query();
    m.metadata.recursion_desired = true;
    m.add_query(Query::query(Name::from_ascii(name).unwrap(), ty));
    if edns {
        let mut e = Edns::new();
        e.set_max_payload(1232);
        m.set_edns(e);
    }
    m
}

fn udp_client(addr: SocketAddr) -> UdpSocket {
    let bind = if addr.is_ipv4() {
        "127.0.0.1:0"
    } else {
        "[::1]:0"
    };
    let c = UdpSocket::bind(bind).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    c.connect(addr).unwrap();
    c
}

/// Sends `bytes`, returns the answer's bytes (or `None` after `wait`).
fn udp_raw(c: &UdpSocket, bytes: &[u8], wait: Duration) -> Option<Vec<u8>> {
    c.set_read_timeout(Some(wait)).unwrap();
    c.send(bytes).unwrap();
    let mut buf = vec![0u8; 65_536];
    match c.recv(&mut buf) {
        Ok(n) => Some(buf[..n].to_vec()),
        Err(_) => None,
    }
}

fn udp_ask(addr: SocketAddr, q: &Message) -> (Message, usize) {
    let c = udp_client(addr);
    let raw = udp_raw(&c, &q.to_vec().unwrap(), Duration::from_secs(10)).expect("an answer");
    (
        Message::from_vec(&raw).expect("a well-formed answer"),
        raw.len(),
    )
}

fn tcp_ask(conn: &mut TcpStream, q: &Message) -> Message {
    let bytes = q.to_vec().unwrap();
    conn.write_all(&(bytes.len() as u16).to_be_bytes()).unwrap();
    conn.write_all(&bytes).unwrap();
    tcp_read(conn)
}

fn tcp_read(conn: &mut TcpStream) -> Message {
    let mut len = [0u8; 2];
    conn.read_exact(&mut len).expect("a length");
    let mut buf = vec![0u8; u16::from_be_bytes(len) as usize];
    conn.read_exact(&mut buf).expect("a message");
    Message::from_vec(&buf).expect("a well-formed answer")
}

fn rdata(m: &Message) -> Vec<String> {
    m.answers.iter().map(|r| r.data.to_string()).collect()
}

#[test]
fn a_aaaa_and_txt_are_answered_over_udp_with_the_question_as_asked() {
    let dns = start();
    let (a, _) = udp_ask(
        dns.server.addr,
        &query("WwW.Example.COM.", RecordType::A, false),
    );
    assert_eq!(a.metadata.response_code, ResponseCode::NoError);
    assert!(a.metadata.authoritative && a.metadata.recursion_desired);
    assert_eq!(a.metadata.message_type, MessageType::Response);
    assert_eq!(rdata(&a), ["192.0.2.1"]);
    assert_eq!(
        a.queries[0].name().to_ascii(),
        "WwW.Example.COM.",
        "0x20 case kept"
    );
    let (aaaa, _) = udp_ask(
        dns.server.addr,
        &query("www.example.com.", RecordType::AAAA, false),
    );
    assert_eq!(rdata(&aaaa), ["2001:db8::1"]);
    let (txt, _) = udp_ask(
        dns.server.addr,
        &query("txt.example.com.", RecordType::TXT, false),
    );
    assert!(
        matches!(&txt.answers[0].data, RData::TXT(t) if t.txt_data[0][..] == b"hello world"[..]),
        "{txt:?}"
    );
}

#[test]
fn the_answer_id_matches_the_query() {
    let dns = start();
    for _ in 0..5 {
        let q = query("www.example.com.", RecordType::A, true);
        let (a, _) = udp_ask(dns.server.addr, &q);
        assert_eq!(a.metadata.id, q.metadata.id);
    }
}

#[test]
fn unknown_names_are_nxdomain_and_empty_names_nodata_with_the_soa() {
    let dns = start();
    let (nx, _) = udp_ask(
        dns.server.addr,
        &query("nope.example.com.", RecordType::A, false),
    );
    assert_eq!(nx.metadata.response_code, ResponseCode::NXDomain);
    assert_eq!(nx.authorities[0].record_type(), RecordType::SOA);
    let (nodata, _) = udp_ask(
        dns.server.addr,
        &query("deep.example.com.", RecordType::A, false),
    );
    assert_eq!(nodata.metadata.response_code, ResponseCode::NoError);
    assert!(nodata.answers.is_empty());
    let (wrong_type, _) = udp_ask(
        dns.server.addr,
        &query("txt.example.com.", RecordType::A, false),
    );
    assert_eq!(wrong_type.metadata.response_code, ResponseCode::NoError);
    assert!(wrong_type.answers.is_empty());
    let (other, _) = udp_ask(
        dns.server.addr,
        &query("example.org.", RecordType::A, false),
    );
    assert_eq!(other.metadata.response_code, ResponseCode::Refused);
}

#[test]
fn a_query_with_edns_gets_an_answer_with_an_opt_record() {
    let dns = start();
    let (a, _) = udp_ask(
        dns.server.addr,
        &query("www.example.com.", RecordType::A, true),
    );
    let edns = a.edns.as_ref().expect("an OPT record");
    assert_eq!(edns.max_payload(), 1232);
    let (plain, _) = udp_ask(
        dns.server.addr,
        &query("www.example.com.", RecordType::A, false),
    );
    assert!(plain.edns.is_none(), "no OPT without one in the query");
}

#[test]
fn an_answer_over_512_bytes_without_edns_is_truncated_and_whole_over_tcp() {
    let dns = start();
    let (tc, len) = udp_ask(
        dns.server.addr,
        &query("big.example.com.", RecordType::TXT, false),
    );
    assert!(tc.metadata.truncation, "TC set");
    assert!(len <= 512 && tc.answers.is_empty());
    // With EDNS (1232) the same answer fits a datagram.
    let (whole, len) = udp_ask(
        dns.server.addr,
        &query("big.example.com.", RecordType::TXT, true),
    );
    assert!(!whole.metadata.truncation && whole.answers.len() == 3 && len > 512);
    let mut conn = dns.server.connect();
    let tcp = tcp_ask(
        &mut conn,
        &query("big.example.com.", RecordType::TXT, false),
    );
    assert!(!tcp.metadata.truncation);
    assert_eq!(tcp.answers.len(), 3);
}

#[test]
fn tcp_serves_pipelined_queries_with_two_byte_framing() {
    let dns = start();
    let mut conn = dns.server.connect();
    let q1 = query("www.example.com.", RecordType::A, false);
    let q2 = query("www.example.com.", RecordType::AAAA, true);
    let mut wire = Vec::new();
    for q in [&q1, &q2] {
        let b = q.to_vec().unwrap();
        wire.extend_from_slice(&(b.len() as u16).to_be_bytes());
        wire.extend_from_slice(&b);
    }
    // One write, split at an awkward place.
    conn.write_all(&wire[..5]).unwrap();
    std::thread::sleep(Duration::from_millis(20));
    conn.write_all(&wire[5..]).unwrap();
    let a1 = tcp_read(&mut conn);
    let a2 = tcp_read(&mut conn);
    assert_eq!(
        (a1.metadata.id, rdata(&a1)),
        (q1.metadata.id, vec!["192.0.2.1".to_string()])
    );
    assert_eq!(
        (a2.metadata.id, rdata(&a2)),
        (q2.metadata.id, vec!["2001:db8::1".to_string()])
    );
}

#[test]
fn udp_and_tcp_listen_on_the_same_address_within_a_second() {
    let t0 = Instant::now();
    let dns = start();
    let addr = dns.server.addr;
    let (a, _) = udp_ask(addr, &query("www.example.com.", RecordType::A, false));
    assert_eq!(rdata(&a), ["192.0.2.1"]);
    let mut conn = dns.server.connect();
    assert_eq!(
        rdata(&tcp_ask(
            &mut conn,
            &query("www.example.com.", RecordType::A, false)
        )),
        ["192.0.2.1"]
    );
    assert!(t0.elapsed() < Duration::from_secs(1), "{:?}", t0.elapsed());
}

// ---- bad input: no panic, other clients served, memory bounded ----

/// The server still answers a real query.
fn still_serves(addr: SocketAddr) {
    let (a, _) = udp_ask(addr, &query("www.example.com.", RecordType::A, false));
    assert_eq!(rdata(&a), ["192.0.2.1"]);
}

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

#[test]
fn a_truncated_query_gets_formerr() {
    let dns = start();
    let c = udp_client(dns.server.addr);
    let q = query("www.example.com.", RecordType::A, false)
        .to_vec()
        .unwrap();
    let raw = udp_raw(&c, &q[..q.len() - 3], Duration::from_secs(10)).expect("FORMERR");
    assert_eq!(&raw[..2], &q[..2], "the ID is copied");
    assert_eq!(raw[2] & 0x80, 0x80, "QR");
    assert_eq!(raw[3] & 0x0f, 1, "RCODE FORMERR");
    still_serves(dns.server.addr);
}

#[test]
fn packets_shorter_than_a_header_and_responses_are_dropped() {
    let dns = start();
    let c = udp_client(dns.server.addr);
    for junk in [&b""[..], b"\x01", b"0123456789a"] {
        assert_eq!(
            udp_raw(&c, junk, Duration::from_millis(200)),
            None,
            "{junk:?}"
        );
    }
    // A response (QR set) is never answered: no reflection loops.
    let mut resp = query("www.example.com.", RecordType::A, false);
    resp.metadata.message_type = MessageType::Response;
    assert_eq!(
        udp_raw(&c, &resp.to_vec().unwrap(), Duration::from_millis(200)),
        None
    );
    still_serves(dns.server.addr);
}

#[test]
fn garbage_gets_formerr_or_is_dropped_and_never_stops_the_server() {
    let dns = start();
    let c = udp_client(dns.server.addr);
    let mut rng = Rng(7);
    let mut sent_ids = std::collections::HashSet::new();
    for i in 0..300 {
        let mut junk = rng.bytes(1 + (i % 100));
        if junk.len() >= 3 {
            junk[2] &= 0x7f; // a query header, mostly
        }
        if junk.len() >= 2 {
            sent_ids.insert([junk[0], junk[1]]);
        }
        if let Some(raw) = udp_raw(&c, &junk, Duration::from_millis(50)) {
            assert!(
                raw.len() >= 12 && raw[2] & 0x80 != 0,
                "an answer is a response"
            );
            // On a busy machine the answer to an earlier datagram may arrive
            // only now: it must still answer one of ours.
            assert!(
                sent_ids.contains(&[raw[0], raw[1]]),
                "an answer carries the ID of a query sent"
            );
        }
    }
    still_serves(dns.server.addr);
}

#[test]
fn a_query_with_a_compression_pointer_loop_gets_formerr() {
    let dns = start();
    let c = udp_client(dns.server.addr);
    // Header: ID 0xbeef, RD, one question; the name is a pointer to itself (offset 12).
    let mut q = vec![0xbe, 0xef, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0];
    q.extend_from_slice(&[0xc0, 12, 0, 1, 0, 1]);
    let raw = udp_raw(&c, &q, Duration::from_secs(10)).expect("FORMERR");
    assert_eq!(&raw[..2], &[0xbe, 0xef]);
    assert_eq!(raw[3] & 0x0f, 1);
    // And a pair of pointers pointing at each other, past a real label.
    let mut q2 = vec![0xbe, 0xf0, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0];
    q2.extend_from_slice(&[1, b'a', 0xc0, 16, 0xc0, 14, 0, 1, 0, 1]);
    let raw = udp_raw(&c, &q2, Duration::from_secs(10)).expect("FORMERR");
    assert_eq!(raw[3] & 0x0f, 1);
    still_serves(dns.server.addr);
}

#[test]
fn a_maximum_size_datagram_is_dropped_and_counted_not_fatal() {
    let dns = start();
    let c = udp_client(dns.server.addr);
    socket2::SockRef::from(&c)
        .set_send_buffer_size(1 << 20)
        .unwrap();
    let mut big = query("www.example.com.", RecordType::A, false)
        .to_vec()
        .unwrap();
    big.resize(65_507, 0);
    c.send(&big).unwrap();
    still_serves(dns.server.addr);
}

#[test]
fn a_flood_of_junk_from_one_source_does_not_starve_a_real_client() {
    let dns = start();
    let addr = dns.server.addr;
    let pid = dns.server.child.id();
    still_serves(addr);
    let before = rss_kib(pid);
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flood = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let s = UdpSocket::bind("127.0.0.1:0").unwrap();
            let mut rng = Rng(99);
            let mut sent = 0u64;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) && sent < 2_000_000 {
                let mut junk = rng.bytes(40);
                junk[2] |= 0x80; // responses: dropped unanswered, as junk should be
                let _ = s.send_to(&junk, addr);
                sent += 1;
            }
            sent
        })
    };
    // The real client: 200 queries, each retried (UDP may drop under a flood).
    let c = udp_client(addr);
    let mut answered = 0;
    for _ in 0..200 {
        let q = query("www.example.com.", RecordType::A, false);
        for _ in 0..20 {
            if let Some(raw) = udp_raw(&c, &q.to_vec().unwrap(), Duration::from_millis(100)) {
                let m = Message::from_vec(&raw).unwrap();
                if m.metadata.id == q.metadata.id {
                    answered += 1;
                    break;
                }
            }
        }
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let sent = flood.join().unwrap();
    assert_eq!(
        answered, 200,
        "every query answered despite {sent} junk datagrams"
    );
    let after = rss_kib(pid);
    assert!(
        after < before + 32 * 1024,
        "RSS grew from {before} KiB to {after} KiB"
    );
}

#[test]
fn a_tcp_peer_announcing_a_long_message_and_leaving_is_harmless() {
    let dns = start();
    let mut conn = dns.server.connect();
    conn.write_all(&[0xff, 0xff, 1, 2, 3]).unwrap();
    drop(conn);
    let mut conn = dns.server.connect();
    let a = tcp_ask(&mut conn, &query("www.example.com.", RecordType::A, false));
    assert_eq!(rdata(&a), ["192.0.2.1"]);
}

#[test]
fn a_non_query_opcode_is_notimp_and_two_questions_formerr() {
    let dns = start();
    let mut m = query("www.example.com.", RecordType::A, false);
    m.metadata.op_code = OpCode::Status;
    let (a, _) = udp_ask(dns.server.addr, &m);
    assert_eq!(a.metadata.response_code, ResponseCode::NotImp);
    let mut two = query("www.example.com.", RecordType::A, false);
    two.add_query(Query::query(
        Name::from_ascii("txt.example.com.").unwrap(),
        RecordType::TXT,
    ));
    let (b, _) = udp_ask(dns.server.addr, &two);
    assert_eq!(b.metadata.response_code, ResponseCode::FormErr);
}

// ---- real clients ----

fn dig(dns: &Dns, args: &[&str]) -> String {
    let out = Command::new("dig")
        .arg(format!("@{}", dns.server.addr.ip()))
        .args(["-p", &dns.server.port().to_string(), "+tries=1", "+time=5"])
        .args(args)
        .output()
        .expect("run dig");
    assert!(out.status.success(), "dig failed: {out:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
#[ignore = "needs dig (dnsutils)"]
fn dig_over_udp_gets_answers_with_an_opt_record() {
    assert!(
        have("dig"),
        "dig is not installed (apt-get install dnsutils)"
    );
    let dns = start();
    let out = dig(&dns, &["www.example.com", "A"]);
    assert!(out.contains("status: NOERROR"), "{out}");
    assert!(out.contains("192.0.2.1"), "{out}");
    assert!(
        out.contains("OPT PSEUDOSECTION") && out.contains("udp: 1232"),
        "{out}"
    );
    assert!(out.contains("(UDP)"), "{out}");
    let out = dig(&dns, &["+short", "www.example.com", "AAAA"]);
    assert_eq!(out.trim(), "2001:db8::1");
    let out = dig(&dns, &["+short", "txt.example.com", "TXT"]);
    assert_eq!(out.trim(), "\"hello world\"");
    let out = dig(&dns, &["nope.example.com", "A"]);
    assert!(out.contains("status: NXDOMAIN"), "{out}");
}

#[test]
#[ignore = "needs dig (dnsutils)"]
fn dig_over_tcp_gets_the_same_answers() {
    assert!(
        have("dig"),
        "dig is not installed (apt-get install dnsutils)"
    );
    let dns = start();
    let out = dig(&dns, &["+tcp", "www.example.com", "A"]);
    assert!(
        out.contains("status: NOERROR") && out.contains("192.0.2.1"),
        "{out}"
    );
    assert!(out.contains("(TCP)"), "{out}");
}

#[test]
#[ignore = "needs dig (dnsutils)"]
fn dig_retries_a_truncated_answer_over_tcp() {
    assert!(
        have("dig"),
        "dig is not installed (apt-get install dnsutils)"
    );
    let dns = start();
    let out = dig(&dns, &["+noedns", "big.example.com", "TXT"]);
    assert!(out.contains("Truncated, retrying in TCP mode"), "{out}");
    assert!(
        out.contains("status: NOERROR") && out.contains("ANSWER: 3"),
        "{out}"
    );
    assert!(out.contains("(TCP)"), "{out}");
}

#[test]
#[ignore = "needs python3"]
fn python_queries_over_ipv6() {
    assert!(have("python3"), "python3 is not installed");
    if UdpSocket::bind("[::1]:0").is_err() {
        eprintln!("skipped: no IPv6 loopback on this machine");
        return;
    }
    let dns = start_on("[::1]:0");
    let q = query("www.example.com.", RecordType::AAAA, false)
        .to_vec()
        .unwrap();
    let hex: String = q.iter().map(|b| format!("{b:02x}")).collect();
    let script = format!(
        "import socket,sys\n\
         s=socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)\n\
         s.settimeout(10)\n\
         s.sendto(bytes.fromhex('{hex}'), ('::1', {port}))\n\
         data, addr = s.recvfrom(4096)\n\
         sys.stdout.write(data.hex())\n",
        port = dns.server.port()
    );
    let out = Command::new("python3")
        .args(["-c", &script])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let hex = String::from_utf8(out.stdout).unwrap();
    let bytes: Vec<u8> = (0..hex.len() / 2)
        .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap())
        .collect();
    let a = Message::from_vec(&bytes).unwrap();
    assert_eq!(rdata(&a), ["2001:db8::1"]);
}
