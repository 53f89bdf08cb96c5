//! The dns_server example's input path (its DnsDecoder and DnsHandler, as wired in
//! `examples/dns_server.rs`, compiled here as a module) on arbitrary bytes, over
//! UDP and over 2-byte-framed TCP. Answers must carry the query's ID, be
//! responses, and fit the UDP size the query allows; TCP length prefixes must match.

use std::sync::{Arc, OnceLock};

use seine::buffer::Bytes;
use seine::channel::DatagramPacket;
use seine::channel::testing::EmbeddedChannel;

#[path = "../../examples/dns_server.rs"]
#[allow(dead_code)]
mod dns_server;

const ZONE: &str = "$ORIGIN example.com.\n$TTL 60\n\
@ IN SOA ns1 hostmaster 1 7200 3600 1209600 300\n\
@ IN NS ns1\nns1 IN A 192.0.2.53\nwww IN A 192.0.2.1\nwww IN AAAA 2001:db8::1\n\
txt IN TXT \"hello\"\n\
big IN TXT \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"\n\
big IN TXT \"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\"\n\
big IN TXT \"cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc\"\n";

fn zone() -> Arc<dns_server::Zone> {
    static ZONE_ONCE: OnceLock<Arc<dns_server::Zone>> = OnceLock::new();
    ZONE_ONCE
        .get_or_init(|| Arc::new(dns_server::Zone::parse(ZONE, None).expect("the zone parses")))
        .clone()
}

/// The most a UDP answer to `query` may carry: 512, or its EDNS size up to 1232.
fn udp_limit(query: &[u8]) -> usize {
    match hickory_proto::op::Message::from_vec(query) {
        Ok(m) => m
            .edns
            .as_ref()
            .map_or(512, |e| usize::from(e.max_payload().clamp(512, 1232))),
        Err(_) => 512,
    }
}

fn check_answer(query: &[u8], answer: &[u8]) {
    assert!(answer.len() >= 12, "an answer has a header");
    assert_eq!(&answer[..2], &query[..2], "the answer carries the query's ID");
    assert!(answer[2] & 0x80 != 0, "an answer is a response");
}

/// Runs one input through the UDP and the TCP pipeline; panics on a broken contract.
pub fn dns(data: &[u8]) {
    let stats = Arc::new(dns_server::Stats::default());

    // UDP: the whole input is one datagram.
    let mut udp = EmbeddedChannel::new();
    dns_server::udp_pipeline(&mut udp.pipeline(), zone(), stats.clone()).expect("pipeline");
    udp.activate();
    let from = "192.0.2.9:5353".parse().unwrap();
    let _ = udp.write_inbound(DatagramPacket {
        content: Bytes::copy_from_slice(data),
        sender: Some(from),
        recipient: None,
    });
    let mut answers = 0;
    while let Some(out) = udp.read_outbound::<DatagramPacket>() {
        answers += 1;
        assert_eq!(out.recipient, Some(from), "answered to the sender");
        check_answer(data, &out.content);
        assert!(out.content.len() <= udp_limit(data), "UDP answer over the allowed size");
    }
    assert!(answers <= 1, "one datagram, at most one answer");

    // TCP: the input as a stream of 2-byte-length-framed messages, in two reads.
    let mut tcp = EmbeddedChannel::new();
    dns_server::tcp_pipeline(&mut tcp.pipeline(), zone(), stats).expect("pipeline");
    tcp.activate();
    let cut = data.first().map_or(0, |&b| usize::from(b) % (data.len() + 1));
    let _ = tcp.write_inbound(Bytes::copy_from_slice(&data[..cut]));
    let _ = tcp.write_inbound(Bytes::copy_from_slice(&data[cut..]));
    while let Some(out) = tcp.read_outbound::<Bytes>() {
        assert!(out.len() >= 2 + 12);
        let len = usize::from(u16::from_be_bytes([out[0], out[1]]));
        assert_eq!(len, out.len() - 2, "the length prefix matches");
        assert!(out[4] & 0x80 != 0, "an answer is a response");
    }
}
