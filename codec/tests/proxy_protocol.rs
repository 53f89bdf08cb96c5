//! The PROXY protocol decoder: v1 and v2 headers (TLVs, LOCAL, UNKNOWN, AF_UNIX)
//! through the pipeline handler, limits and timeouts, and a property test that
//! decodes every encodable header the same whatever the read boundaries.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use proptest::prelude::*;
use seine_buffer::Bytes;
use seine_channel::Handler;
use seine_channel::testing::EmbeddedChannel;
use seine_codec::CodecError;
use seine_codec::proxy::*;

fn decoder_channel(decoder: HAProxyMessageDecoder) -> EmbeddedChannel {
    EmbeddedChannel::with_handlers([("proxy", Handler::from(decoder))])
}

fn inet(src: &str, dst: &str) -> ProxiedAddrs {
    ProxiedAddrs::Inet {
        source: src.parse().unwrap(),
        destination: dst.parse().unwrap(),
    }
}

fn v2(
    command: ProxyCommand,
    protocol: ProxiedProtocol,
    addrs: ProxiedAddrs,
    tlvs: Vec<Tlv>,
) -> Bytes {
    HAProxyMessage::new(ProxyVersion::V2, command, protocol, addrs, tlvs)
        .encode()
        .unwrap()
}

#[test]
fn v2_tcp4_with_tlvs_sets_the_attribute_fires_the_event_and_passes_the_rest_on() {
    let ssl = SslTlv::new(
        SslTlv::CLIENT_SSL,
        0,
        vec![Tlv::Plain {
            kind: TlvType::SslVersion,
            value: Bytes::from_static(b"TLSv1.3"),
        }],
    );
    let header = v2(
        ProxyCommand::Proxy,
        ProxiedProtocol::Tcp4,
        inet("127.0.0.5:40000", "10.0.0.1:443"),
        vec![
            Tlv::Plain {
                kind: TlvType::Alpn,
                value: Bytes::from_static(b"h2"),
            },
            Tlv::Plain {
                kind: TlvType::Authority,
                value: Bytes::from_static(b"example.com"),
            },
            Tlv::Ssl(ssl),
            Tlv::Plain {
                kind: TlvType::Other(0xe0),
                value: Bytes::from_static(b"x"),
            },
        ],
    );
    let mut ch = decoder_channel(HAProxyMessageDecoder::new());
    let mut input = header.to_vec();
    input.extend_from_slice(b"payload");
    // Byte by byte: the header is assembled across reads.
    for b in input {
        ch.write_inbound(Bytes::from(vec![b])).unwrap();
    }
    let events = ch.take_user_events();
    let msg = events[0].downcast_ref::<HAProxyMessage>().unwrap();
    assert_eq!(msg.version(), ProxyVersion::V2);
    assert_eq!(msg.source(), Some("127.0.0.5:40000".parse().unwrap()));
    assert_eq!(msg.destination(), Some("10.0.0.1:443".parse().unwrap()));
    assert_eq!(msg.alpn(), Some(&b"h2"[..]));
    assert_eq!(msg.authority(), Some("example.com"));
    let ssl = msg.ssl().unwrap();
    assert!(ssl.is_ssl());
    assert_eq!(ssl.version(), Some("TLSv1.3"));
    assert_eq!(msg.tlvs().len(), 4);
    assert_eq!(msg.tlv(TlvType::Other(0xe0)).unwrap(), "x");
    // Everything after the header reached the next handler, in order.
    let mut rest = Vec::new();
    while let Some(b) = ch.read_inbound::<Bytes>() {
        rest.extend_from_slice(&b);
    }
    assert_eq!(rest, b"payload");
    assert!(ch.pipeline().names().is_empty());
    ch.take_exception().unwrap();
}

#[test]
fn v2_tcp6_unix_unknown_and_local() {
    let cases = [
        (
            ProxyCommand::Proxy,
            ProxiedProtocol::Tcp6,
            inet("[2001:db8::5]:1", "[::1]:65535"),
        ),
        (
            ProxyCommand::Proxy,
            ProxiedProtocol::UnixStream,
            ProxiedAddrs::Unix {
                source: PathBuf::from("/run/client.sock"),
                destination: PathBuf::from("/run/server.sock"),
            },
        ),
        (
            ProxyCommand::Proxy,
            ProxiedProtocol::Unknown,
            ProxiedAddrs::None,
        ),
        (
            ProxyCommand::Local,
            ProxiedProtocol::Unknown,
            ProxiedAddrs::None,
        ),
    ];
    for (command, protocol, addrs) in cases {
        let mut ch = decoder_channel(HAProxyMessageDecoder::new());
        ch.write_inbound(v2(command, protocol, addrs.clone(), vec![]))
            .unwrap();
        let ev = ch.take_user_events();
        let m = ev[0].downcast_ref::<HAProxyMessage>().unwrap();
        assert_eq!(m.command(), command);
        assert_eq!(m.protocol(), protocol);
        assert_eq!(m.addrs(), &addrs);
        ch.take_exception().unwrap();
    }
}

#[test]
fn local_header_ignores_whatever_addresses_follow() {
    // HAProxy's v2 health check: LOCAL, possibly with a family and addresses.
    let mut h = V2_SIGNATURE.to_vec();
    h.extend_from_slice(&[0x20, 0x11, 0, 12]);
    h.extend_from_slice(&[1; 12]);
    let mut ch = decoder_channel(HAProxyMessageDecoder::new());
    ch.write_inbound(Bytes::from(h)).unwrap();
    let ev = ch.take_user_events();
    let m = ev[0].downcast_ref::<HAProxyMessage>().unwrap();
    assert_eq!(m.command(), ProxyCommand::Local);
    assert_eq!(m.source(), None);
}

#[test]
fn a_connection_without_a_header_is_refused_and_closed() {
    let mut ch = decoder_channel(HAProxyMessageDecoder::new());
    ch.activate();
    let err = ch
        .write_inbound(Bytes::from_static(b"GET / HTTP/1.1\r\n\r\n"))
        .unwrap_err();
    assert!(matches!(
        err.downcast_ref::<CodecError>(),
        Some(CodecError::InvalidProxyHeader { .. })
    ));
    assert!(!ch.is_active());
    assert!(ch.read_inbound::<Bytes>().is_none());
}

#[test]
fn malformed_v2_headers_are_typed_errors() {
    let mut cases: Vec<Vec<u8>> = Vec::new();
    let fixed = |vc: u8, fam: u8, len: u16| {
        let mut h = V2_SIGNATURE.to_vec();
        h.push(vc);
        h.push(fam);
        h.extend_from_slice(&len.to_be_bytes());
        h
    };
    cases.push(fixed(0x11, 0x11, 12)); // version 1 in binary form
    cases.push(fixed(0x22, 0x11, 12)); // command 2
    let mut h = fixed(0x21, 0x41, 12); // family 4
    h.extend_from_slice(&[0; 12]);
    cases.push(h);
    let mut h = fixed(0x21, 0x11, 8); // too short for IPv4 addresses
    h.extend_from_slice(&[0; 8]);
    cases.push(h);
    let mut h = fixed(0x21, 0x11, 16); // TLV longer than the header
    h.extend_from_slice(&[0; 12]);
    h.extend_from_slice(&[0x01, 0x00, 0x09, b'x']);
    cases.push(h);
    let mut h = fixed(0x21, 0x11, 14); // 2 stray bytes
    h.extend_from_slice(&[0; 14]);
    cases.push(h);
    let mut h = fixed(0x21, 0x11, 12 + 3 + 2); // SSL TLV shorter than 5 bytes
    h.extend_from_slice(&[0; 12]);
    h.extend_from_slice(&[0x20, 0x00, 0x02, 1, 0]);
    cases.push(h);
    for case in cases {
        let mut p = ProxyHeaderParser::default();
        let err = p.push(&mut Bytes::from(case.clone())).unwrap_err();
        assert!(
            matches!(err, CodecError::InvalidProxyHeader { .. }),
            "{case:?}: {err}"
        );
    }
}

#[test]
fn max_tlv_size_limits_v2_headers() {
    let tlv = Tlv::Plain {
        kind: TlvType::Noop,
        value: Bytes::from(vec![0; 100]),
    };
    let header = v2(
        ProxyCommand::Proxy,
        ProxiedProtocol::Tcp4,
        inet("1.2.3.4:5", "6.7.8.9:10"),
        vec![tlv],
    );
    let mut ok = ProxyHeaderParser::with_max_tlv_size(103);
    assert!(ok.push(&mut header.clone()).unwrap().is_some());
    let mut ch = decoder_channel(HAProxyMessageDecoder::with_max_tlv_size(0));
    // 16 + 12 + 103 = 131 bytes fit the 232-byte minimum limit.
    ch.write_inbound(header.clone()).unwrap();
    let big = v2(
        ProxyCommand::Proxy,
        ProxiedProtocol::Tcp4,
        inet("1.2.3.4:5", "6.7.8.9:10"),
        vec![Tlv::Plain {
            kind: TlvType::Noop,
            value: Bytes::from(vec![0; 300]),
        }],
    );
    let mut ch = decoder_channel(HAProxyMessageDecoder::with_max_tlv_size(0));
    let err = ch.write_inbound(big.slice(..16)).unwrap_err();
    assert_eq!(
        err.downcast_ref::<CodecError>(),
        Some(&CodecError::ProxyHeaderTooLong {
            length: 16 + 12 + 303,
            max: V2_MIN_LENGTH
        })
    );
}

#[test]
fn a_header_not_complete_in_time_closes_the_connection() {
    let mut ch = decoder_channel(HAProxyMessageDecoder::new().with_timeout(Duration::from_secs(3)));
    ch.activate();
    ch.write_inbound(Bytes::from_static(b"PROXY TCP4 "))
        .unwrap();
    ch.advance_time(Duration::from_secs(2)).unwrap();
    assert!(ch.is_active());
    let err = ch.advance_time(Duration::from_secs(2)).unwrap_err();
    assert_eq!(
        err.downcast_ref::<CodecError>(),
        Some(&CodecError::ProxyHeaderTimedOut {
            after: Duration::from_secs(3)
        })
    );
    assert!(!ch.is_active());
}

#[test]
fn the_timeout_is_disarmed_once_the_header_is_in() {
    let mut ch = decoder_channel(HAProxyMessageDecoder::new().with_timeout(Duration::from_secs(3)));
    ch.activate();
    ch.write_inbound(Bytes::from_static(b"PROXY UNKNOWN\r\n"))
        .unwrap();
    ch.advance_time(Duration::from_secs(10)).unwrap();
    assert!(ch.is_active());
    assert_eq!(ch.take_user_events().len(), 1);
}

#[test]
fn a_health_check_that_connects_and_closes_is_quiet() {
    let mut ch = decoder_channel(HAProxyMessageDecoder::new().with_timeout(Duration::from_secs(3)));
    ch.activate();
    ch.close_inbound().unwrap();
    ch.take_exception().unwrap();
    // Half a header, then the end: a truncated-frame error.
    let mut ch = decoder_channel(HAProxyMessageDecoder::new());
    ch.activate();
    ch.write_inbound(Bytes::from_static(b"PROXY TC")).unwrap();
    let err = ch.close_inbound().unwrap_err();
    assert_eq!(
        err.downcast_ref::<CodecError>(),
        Some(&CodecError::TruncatedFrame { remaining: 8 })
    );
}

fn arb_addrs() -> impl Strategy<Value = (ProxiedProtocol, ProxiedAddrs)> {
    let v4 = (
        any::<[u8; 4]>(),
        any::<u16>(),
        any::<[u8; 4]>(),
        any::<u16>(),
    )
        .prop_map(|(a, p, b, q)| {
            (
                ProxiedProtocol::Tcp4,
                ProxiedAddrs::Inet {
                    source: SocketAddr::from((a, p)),
                    destination: SocketAddr::from((b, q)),
                },
            )
        });
    let v6 = (
        any::<[u8; 16]>(),
        any::<u16>(),
        any::<[u8; 16]>(),
        any::<u16>(),
    )
        .prop_map(|(a, p, b, q)| {
            (
                ProxiedProtocol::Tcp6,
                ProxiedAddrs::Inet {
                    source: SocketAddr::from((a, p)),
                    destination: SocketAddr::from((b, q)),
                },
            )
        });
    let unix = ("[a-z/]{0,108}", "[a-z/]{0,108}").prop_map(|(a, b)| {
        (
            ProxiedProtocol::UnixDgram,
            ProxiedAddrs::Unix {
                source: a.into(),
                destination: b.into(),
            },
        )
    });
    prop_oneof![
        v4,
        v6,
        unix,
        Just((ProxiedProtocol::Unknown, ProxiedAddrs::None))
    ]
}

fn arb_tlv() -> impl Strategy<Value = Tlv> {
    let plain = (
        prop_oneof![
            Just(0x01u8),
            Just(0x02),
            Just(0x05),
            Just(0x30),
            0xe0u8..=0xef
        ],
        proptest::collection::vec(any::<u8>(), 0..40),
    )
        .prop_map(|(k, v)| Tlv::Plain {
            kind: TlvType::from_byte(k),
            value: Bytes::from(v),
        });
    prop_oneof![
        3 => plain.clone(),
        1 => (any::<u8>(), any::<u32>(), proptest::collection::vec(plain, 0..3))
            .prop_map(|(c, v, t)| Tlv::Ssl(SslTlv::new(c, v, t))),
    ]
}

proptest! {
    /// Any encodable header decodes to itself, whatever the read boundaries, and the
    /// bytes after it are left untouched.
    #[test]
    fn decodes_what_it_encodes_across_any_split(
        v1 in any::<bool>(),
        (protocol, addrs) in arb_addrs(),
        tlvs in proptest::collection::vec(arb_tlv(), 0..4),
        tail in proptest::collection::vec(any::<u8>(), 0..20),
        cuts in proptest::collection::vec(1usize..50, 1..10),
    ) {
        let v1 = v1 && matches!(protocol, ProxiedProtocol::Tcp4 | ProxiedProtocol::Tcp6 | ProxiedProtocol::Unknown);
        // v1 has no TLVs; an unknown family's block (TLVs included) is skipped.
        let tlvs = if v1 || protocol == ProxiedProtocol::Unknown { vec![] } else { tlvs };
        let version = if v1 { ProxyVersion::V1 } else { ProxyVersion::V2 };
        let addrs = if v1 && protocol == ProxiedProtocol::Unknown { ProxiedAddrs::None } else { addrs };
        let msg = HAProxyMessage::new(version, ProxyCommand::Proxy, protocol, addrs, tlvs);
        let mut wire = msg.encode().unwrap().to_vec();
        let header_len = wire.len();
        wire.extend_from_slice(&tail);
        let mut parser = ProxyHeaderParser::default();
        let mut got = None;
        let mut rest = Vec::new();
        let mut at = 0;
        let mut i = 0;
        while at < wire.len() {
            let n = cuts[i % cuts.len()].min(wire.len() - at);
            i += 1;
            let mut read = Bytes::copy_from_slice(&wire[at..at + n]);
            at += n;
            if got.is_none() {
                got = parser.push(&mut read).unwrap();
                prop_assert!(parser.buffered() <= header_len);
            }
            rest.extend_from_slice(&read);
        }
        prop_assert_eq!(got, Some(msg));
        prop_assert_eq!(rest, tail);
    }

    /// Arbitrary input never panics, never buffers past the limit, and a message or
    /// error ends the parser's interest in the stream.
    #[test]
    fn arbitrary_input_is_bounded(
        prefix in prop_oneof![Just(V2_SIGNATURE.to_vec()), Just(b"PROXY ".to_vec()), Just(vec![])],
        body in proptest::collection::vec(any::<u8>(), 0..400),
        max_tlv in 0usize..300,
    ) {
        let mut parser = ProxyHeaderParser::with_max_tlv_size(max_tlv);
        let mut input = Bytes::from([prefix, body].concat());
        let before = input.len();
        let r = parser.push(&mut input);
        prop_assert!(parser.buffered() <= parser.max_v2_length().max(V1_MAX_LENGTH));
        if let Ok(Some(_)) = r {
            prop_assert!(before - input.len() <= parser.max_v2_length().max(V1_MAX_LENGTH));
        }
    }
}
