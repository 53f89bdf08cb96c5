//! The dns_server example's fast path (a strict parser of the common query and
//! answers precomputed from the zone) held to hickory-proto's full path: over the
//! zone's names and types, random IDs, header flags and name case, with and without
//! an OPT record (payload sizes, the DO bit, COOKIE and padding options), on both
//! transports, every answer is byte for byte the same. Mutated queries check the
//! parser's edges the same way (it declines, or agrees).

#[path = "../examples/dns_server.rs"]
#[allow(dead_code)]
mod dns_server;
mod examples_support;

use std::sync::Arc;

use dns_server::{DnsHandler, DnsQuery, Stats, Zone};
use examples_support::Rng;
use seine::buffer::Bytes;
use seine::channel::DatagramPacket;

const ZONE: &str = r#"$ORIGIN example.com.
$TTL 3600
@        IN SOA ns1.example.com. hostmaster.example.com. ( 2024010101 7200 3600 1209600 300 )
@        IN NS  ns1.example.com.
@        IN MX  10 mail.example.com.
ns1      IN A   192.0.2.53
www      IN A   192.0.2.1
www      IN AAAA 2001:db8::1
mail     IN A   192.0.2.25
txt      IN TXT "v=spf1 -all"
a.b.deep IN A   192.0.2.7
alias    IN CNAME www.example.com.
big      IN TXT "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
big      IN TXT "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
big      IN TXT "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"
"#;

const NAMES: [&str; 12] = [
    "example.com",
    "www.example.com",
    "ns1.example.com",
    "mail.example.com",
    "txt.example.com",
    "a.b.deep.example.com",
    "b.deep.example.com",
    "alias.example.com",
    "big.example.com",
    "nope.example.com",
    "www.example.org",
    "",
];

/// A, NS, CNAME, SOA, MX, TXT, AAAA, OPT, ANY, CAA, 0 and 65535.
const TYPES: [u16; 12] = [1, 2, 5, 6, 15, 16, 28, 41, 255, 257, 0, 65535];

/// The EDNS part of a generated query.
#[derive(Clone, Copy, Debug)]
enum Opt {
    None,
    /// Payload size, DO bit, options (0: none, 1: COOKIE 8, 2: COOKIE 24 + padding,
    /// 3: NSID, 4: a cut option), version.
    Some(u16, bool, u8, u8),
}

fn wire_name(name: &str, rng: &mut Rng) -> Vec<u8> {
    let mut w = Vec::new();
    for label in name.split('.').filter(|l| !l.is_empty()) {
        w.push(label.len() as u8);
        // Random case, as clients using 0x20 send.
        w.extend(label.bytes().map(|b| {
            if rng.below(2) == 0 {
                b.to_ascii_uppercase()
            } else {
                b
            }
        }));
    }
    w.push(0);
    w
}

fn query(rng: &mut Rng, name: &str, qtype: u16, opt: Opt) -> Vec<u8> {
    let mut q = Vec::new();
    q.extend_from_slice(&(rng.next() as u16).to_be_bytes());
    // RD at random, sometimes TC, AD or CD too: the answer copies RD only.
    let flags = rng.below(2) as u8 | if rng.below(8) == 0 { 0x02 } else { 0 };
    let flags2 = if rng.below(4) == 0 { 0x30 } else { 0 };
    q.extend_from_slice(&[flags, flags2, 0, 1, 0, 0, 0, 0, 0]);
    q.push(u8::from(matches!(opt, Opt::Some(..))));
    q.extend(wire_name(name, rng));
    q.extend_from_slice(&qtype.to_be_bytes());
    q.extend_from_slice(&1u16.to_be_bytes());
    if let Opt::Some(payload, dnssec_ok, options, version) = opt {
        q.push(0);
        q.extend_from_slice(&41u16.to_be_bytes());
        q.extend_from_slice(&payload.to_be_bytes());
        q.extend_from_slice(&[0, version, if dnssec_ok { 0x80 } else { 0 }, 0]);
        let rdata: Vec<u8> = match options {
            0 => vec![],
            1 => [&[0, 10, 0, 8][..], &rng.bytes(8)].concat(),
            2 => [&[0, 10, 0, 24][..], &rng.bytes(24), &[0, 12, 0, 3, 0, 0, 0]].concat(),
            3 => vec![0, 3, 0, 0],
            _ => vec![0, 10, 0, 8, 1, 2],
        };
        q.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
        q.extend(rdata);
    }
    q
}

struct Pair {
    udp_fast: DnsHandler<DatagramPacket<DnsQuery>>,
    udp_full: DnsHandler<DatagramPacket<DnsQuery>>,
    tcp_fast: DnsHandler<DnsQuery>,
    tcp_full: DnsHandler<DnsQuery>,
}

impl Pair {
    fn new() -> Pair {
        let zone = Arc::new(Zone::parse(ZONE, None).expect("the zone parses"));
        let stats = Arc::new(Stats::default());
        Pair {
            udp_fast: DnsHandler::new(zone.clone(), stats.clone()),
            udp_full: DnsHandler::new(zone.clone(), stats.clone()),
            tcp_fast: DnsHandler::new(zone.clone(), stats.clone()),
            tcp_full: DnsHandler::new(zone, stats),
        }
    }

    /// Checks both transports; returns whether the fast parser took the query.
    fn check(&mut self, raw: &[u8]) -> bool {
        let raw = Bytes::copy_from_slice(raw);
        let fast = DnsQuery::read(raw.clone());
        let full = DnsQuery::read_full(raw.clone());
        assert_eq!(
            self.udp_fast.answer_bytes(&fast),
            self.udp_full.answer_bytes(&full),
            "UDP answers differ for {raw:?}"
        );
        assert_eq!(
            self.tcp_fast.answer_bytes(&fast),
            self.tcp_full.answer_bytes(&full),
            "TCP answers differ for {raw:?}"
        );
        fast.is_simple()
    }
}

fn opts() -> Vec<Opt> {
    let mut v = vec![Opt::None];
    for payload in [0, 511, 512, 1232, 1400, 4096, 65535] {
        for dnssec_ok in [false, true] {
            for options in 0..5 {
                v.push(Opt::Some(payload, dnssec_ok, options, 0));
            }
        }
    }
    v.push(Opt::Some(1232, false, 1, 1));
    v
}

#[test]
fn fast_answers_are_byte_identical_to_hickory_protos_over_the_zone() {
    let mut rng = Rng(0x5eed_d115);
    let mut pair = Pair::new();
    let (mut simple, mut total) = (0, 0);
    for name in NAMES {
        for qtype in TYPES {
            for opt in opts() {
                let q = query(&mut rng, name, qtype, opt);
                let took = pair.check(&q);
                total += 1;
                simple += usize::from(took);
                // The fast parser takes every query of the common shape.
                let common = match opt {
                    Opt::None => true,
                    Opt::Some(_, _, options, version) => options <= 2 && version == 0,
                };
                assert_eq!(took, common, "fast parser on {name} {qtype} {opt:?}");
            }
        }
    }
    assert!(simple > total / 2, "{simple} of {total} on the fast path");
}

#[test]
fn mutated_queries_get_the_same_answer_on_both_paths() {
    let mut rng = Rng(0xbad_c0de);
    let mut pair = Pair::new();
    let all = opts();
    for _ in 0..20_000 {
        let name = NAMES[rng.below(NAMES.len() as u64) as usize];
        let qtype = TYPES[rng.below(TYPES.len() as u64) as usize];
        let opt = all[rng.below(all.len() as u64) as usize];
        let mut q = query(&mut rng, name, qtype, opt);
        match rng.below(4) {
            0 => {
                let at = rng.below(q.len() as u64) as usize;
                q[at] = rng.next() as u8;
            }
            1 => q.truncate(rng.below(q.len() as u64) as usize),
            2 => {
                let n = 1 + rng.below(8) as usize;
                q.extend(rng.bytes(n));
            }
            _ => {
                // A byte of the header or the OPT record's fixed part.
                let at = rng.below(12) as usize;
                q[at] ^= 1 << rng.below(8);
            }
        }
        pair.check(&q);
    }
}
