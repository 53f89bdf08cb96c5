//! WebSocket codec and handshakes on an `EmbeddedChannel`: the handshake on the
//! HTTP codec, frames, the close handshake, and each kind of bad input.

use std::sync::Arc;
use std::time::Duration;

use seine_buffer::Bytes;
use seine_channel::testing::EmbeddedChannel;
use seine_channel::{ChannelHandler, Handler, InboundContext, InboundHandler};
use seine_codec::http::{HttpRequest, HttpResponse, HttpServerCodec};
use seine_codec::websocket::{
    CloseCode, DeflateConfig, Message, WebSocketClientProtocolHandler, WebSocketCodec,
    WebSocketConfig, WebSocketError, WebSocketHandshakeComplete, WebSocketServerProtocolHandler,
    accept_key,
};

const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";

/// A client frame: FIN, opcode, masked with a fixed key.
fn client_frame(fin: bool, opcode: u8, payload: &[u8]) -> Vec<u8> {
    let key = [0x37, 0xfa, 0x21, 0x3d];
    let mut f = frame_header(fin, opcode, payload.len() as u64, true);
    f.extend_from_slice(&key);
    f.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
    f
}

fn frame_header(fin: bool, opcode: u8, len: u64, masked: bool) -> Vec<u8> {
    let mut f = vec![(u8::from(fin) << 7) | opcode];
    let m = if masked { 0x80 } else { 0 };
    if len < 126 {
        f.push(m | len as u8);
    } else if len <= 0xffff {
        f.push(m | 126);
        f.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        f.push(m | 127);
        f.extend_from_slice(&len.to_be_bytes());
    }
    f
}

fn server() -> EmbeddedChannel {
    EmbeddedChannel::with_handlers([(
        "ws",
        WebSocketCodec::server(WebSocketConfig::default()).into(),
    )])
}

/// Feeds `bytes` and expects the connection closed with `code` and `error`.
fn expect_failure(ch: &mut EmbeddedChannel, bytes: Vec<u8>, code: CloseCode) -> WebSocketError {
    let err = ch.write_inbound(Bytes::from(bytes)).unwrap_err();
    let ws = err
        .downcast_ref::<WebSocketError>()
        .expect("a WebSocketError")
        .clone();
    assert_eq!(ws.close_code(), Some(code), "{ws}");
    let out = ch.read_outbound_bytes();
    let mut expected = vec![0x88, 0x02];
    expected.extend_from_slice(&code.0.to_be_bytes());
    assert_eq!(out, expected, "a close frame with code {code}");
    assert!(!ch.is_active());
    ws
}

#[test]
fn an_unmasked_client_frame_is_a_protocol_error() {
    let mut ch = server();
    let mut f = frame_header(true, 1, 2, false);
    f.extend_from_slice(b"hi");
    let e = expect_failure(&mut ch, f, CloseCode::PROTOCOL_ERROR);
    assert_eq!(e, WebSocketError::UnmaskedClientFrame);
}

#[test]
fn a_control_frame_over_125_bytes_is_a_protocol_error() {
    let mut ch = server();
    let e = expect_failure(
        &mut ch,
        client_frame(true, 9, &[0; 126]),
        CloseCode::PROTOCOL_ERROR,
    );
    assert_eq!(e, WebSocketError::ControlFrameTooLong { length: 126 });
}

#[test]
fn a_fragmented_control_frame_is_a_protocol_error() {
    let mut ch = server();
    let e = expect_failure(
        &mut ch,
        client_frame(false, 9, b"x"),
        CloseCode::PROTOCOL_ERROR,
    );
    assert_eq!(e, WebSocketError::FragmentedControlFrame);
}

#[test]
fn invalid_utf8_in_a_text_message_is_1007() {
    let mut ch = server();
    let e = expect_failure(
        &mut ch,
        client_frame(true, 1, b"ok \xff"),
        CloseCode::INVALID_PAYLOAD,
    );
    assert_eq!(e, WebSocketError::InvalidUtf8);
}

#[test]
fn invalid_utf8_split_across_fragments_fails_at_the_first_bad_byte() {
    let mut ch = server();
    // "é" is 0xc3 0xa9: a valid character split across two fragments passes.
    ch.write_inbound(Bytes::from(client_frame(false, 1, b"caf\xc3")))
        .unwrap();
    ch.write_inbound(Bytes::from(client_frame(false, 0, b"\xa9 ")))
        .unwrap();
    // A 3-byte character started in one fragment, broken in the next (not the last).
    ch.write_inbound(Bytes::from(client_frame(false, 0, b"\xe2\x82")))
        .unwrap();
    assert_eq!(ch.read_inbound::<Message>(), None);
    let e = expect_failure(
        &mut ch,
        client_frame(false, 0, b"x"),
        CloseCode::INVALID_PAYLOAD,
    );
    assert_eq!(e, WebSocketError::InvalidUtf8);
}

#[test]
fn an_incomplete_character_at_the_end_of_a_text_message_is_1007() {
    let mut ch = server();
    ch.write_inbound(Bytes::from(client_frame(false, 1, b"a")))
        .unwrap();
    expect_failure(
        &mut ch,
        client_frame(true, 0, b"\xe2\x82"),
        CloseCode::INVALID_PAYLOAD,
    );
}

#[test]
fn a_2_pow_63_length_claim_is_refused_from_the_header() {
    let mut ch = server();
    let mut f = frame_header(true, 2, 1 << 63, true);
    f.extend_from_slice(&[1, 2, 3, 4]);
    let e = expect_failure(&mut ch, f, CloseCode::PROTOCOL_ERROR);
    assert_eq!(e, WebSocketError::InvalidLength { length: 1 << 63 });
}

#[test]
fn a_frame_over_the_limit_is_1009_before_its_payload_arrives() {
    let mut ch = server();
    // Only the header: 2^62 - 1 bytes announced, nothing buffered for them.
    let f = frame_header(true, 2, (1 << 62) - 1, true);
    let e = expect_failure(&mut ch, f, CloseCode::MESSAGE_TOO_BIG);
    assert!(matches!(e, WebSocketError::FrameTooLong { max, .. } if max == 1 << 20));
}

#[test]
fn a_message_over_the_limit_across_fragments_is_1009() {
    let config = WebSocketConfig::default()
        .max_frame_size(100)
        .max_message_size(150);
    let mut ch = EmbeddedChannel::with_handlers([("ws", WebSocketCodec::server(config).into())]);
    ch.write_inbound(Bytes::from(client_frame(false, 2, &[0; 100])))
        .unwrap();
    let e = expect_failure(
        &mut ch,
        client_frame(true, 0, &[0; 100]),
        CloseCode::MESSAGE_TOO_BIG,
    );
    assert_eq!(
        e,
        WebSocketError::MessageTooLong {
            length: 200,
            max: 150
        }
    );
}

#[test]
fn reserved_bits_and_opcodes_and_stray_continuations_are_protocol_errors() {
    for bytes in [
        {
            let mut f = client_frame(true, 1, b"x");
            f[0] |= 0x40; // RSV1 without permessage-deflate
            f
        },
        client_frame(true, 3, b"x"),
        client_frame(true, 0, b"x"),
        [client_frame(false, 1, b"x"), client_frame(true, 1, b"y")].concat(),
        client_frame(true, 8, &[3]), // a one-byte close payload
        client_frame(true, 8, &1005u16.to_be_bytes()),
    ] {
        let mut ch = server();
        expect_failure(&mut ch, bytes, CloseCode::PROTOCOL_ERROR);
    }
}

#[test]
fn fragments_are_joined_and_control_frames_between_them_are_answered() {
    let mut ch = server();
    let input = [
        client_frame(false, 1, b"Hel"),
        client_frame(true, 9, b"are you there"),
        client_frame(false, 0, b"lo, "),
        client_frame(true, 0, "wörld".as_bytes()),
    ]
    .concat();
    // One byte at a time: every split point of every header.
    for b in input {
        ch.write_inbound(Bytes::copy_from_slice(&[b])).unwrap();
    }
    assert_eq!(
        ch.read_inbound::<Message>(),
        Some(Message::Ping(Bytes::from_static(b"are you there")))
    );
    assert_eq!(
        ch.read_inbound::<Message>(),
        Some(Message::text("Hello, wörld"))
    );
    let mut pong = vec![0x8a, 13];
    pong.extend_from_slice(b"are you there");
    assert_eq!(ch.read_outbound_bytes(), pong);
    assert!(ch.is_active());
}

#[test]
fn auto_pong_can_be_turned_off() {
    let config = WebSocketConfig::default().auto_pong(false);
    let mut ch = EmbeddedChannel::with_handlers([("ws", WebSocketCodec::server(config).into())]);
    ch.write_inbound(Bytes::from(client_frame(true, 9, b"p")))
        .unwrap();
    assert_eq!(
        ch.read_inbound::<Message>(),
        Some(Message::Ping(Bytes::from_static(b"p")))
    );
    assert!(ch.read_outbound_bytes().is_empty());
}

#[test]
fn a_close_frame_is_answered_with_the_same_code_then_the_connection_closes() {
    let mut ch = server();
    let mut payload = 4001u16.to_be_bytes().to_vec();
    payload.extend_from_slice(b"bye");
    ch.write_inbound(Bytes::from(client_frame(true, 8, &payload)))
        .unwrap();
    assert_eq!(
        ch.read_inbound::<Message>(),
        Some(Message::close(CloseCode(4001), "bye"))
    );
    assert_eq!(ch.read_outbound_bytes(), [0x88, 0x02, 0x0f, 0xa1]);
    assert!(!ch.is_active());
}

#[test]
fn writes_after_a_close_fail() {
    let mut ch = server();
    ch.write_outbound(Message::close(CloseCode::GOING_AWAY, ""));
    assert_eq!(ch.read_outbound_bytes(), [0x88, 0x02, 0x03, 0xe9]);
    let done = ch.write_outbound(Message::text("late"));
    assert!(matches!(done.result(), Some(Err(_))));
    // The peer's answer ends the connection.
    ch.write_inbound(Bytes::from(client_frame(true, 8, &1001u16.to_be_bytes())))
        .unwrap();
    assert!(!ch.is_active());
}

#[test]
fn a_peer_that_never_answers_our_close_is_closed_after_the_timeout() {
    let mut ch = server();
    ch.write_outbound(Message::close(CloseCode::NORMAL, ""));
    ch.advance_time(Duration::from_millis(4900)).unwrap();
    assert!(ch.is_active());
    ch.advance_time(Duration::from_millis(200)).unwrap();
    assert!(!ch.is_active());
}

#[test]
fn large_frames_use_the_16_and_64_bit_lengths() {
    let mut ch = server();
    for len in [125usize, 126, 65535, 65536, 300_000] {
        let data: Vec<u8> = (0..len).map(|i| i as u8).collect();
        ch.write_inbound(Bytes::from(client_frame(true, 2, &data)))
            .unwrap();
        assert_eq!(
            ch.read_inbound::<Message>(),
            Some(Message::Binary(data.clone().into()))
        );
        ch.write_outbound(Message::binary(data.clone()));
        let out = ch.read_outbound_bytes();
        let header = frame_header(true, 2, len as u64, false);
        assert_eq!(&out[..header.len()], &header[..]);
        assert_eq!(&out[header.len()..], &data[..]);
    }
}

// ---- the server handshake on the HTTP codec ----

/// Answers HTTP requests (to show they are removed on upgrade).
struct Page;
impl ChannelHandler for Page {}
impl InboundHandler for Page {
    type Read = HttpRequest;
    type Fire = HttpRequest;
    fn channel_read(&mut self, ctx: &mut InboundContext<'_, HttpRequest>, _req: HttpRequest) {
        ctx.write_void(HttpResponse::text(200, "page\n"));
    }
}

/// Echoes text messages.
struct Echo;
impl ChannelHandler for Echo {}
impl InboundHandler for Echo {
    type Read = Message;
    type Fire = Message;
    fn channel_read(&mut self, ctx: &mut InboundContext<'_, Message>, msg: Message) {
        if let Message::Text(t) = msg {
            ctx.write_void(Message::Text(t));
        }
    }
}

fn http_server(config: WebSocketConfig) -> EmbeddedChannel {
    let upgrade = WebSocketServerProtocolHandler::new(
        "/ws",
        config,
        Arc::new(|p| {
            p.add_last("echo", Handler::inbound(Echo))?;
            Ok(())
        }),
    );
    EmbeddedChannel::with_handlers([
        ("http", HttpServerCodec::new().into()),
        ("upgrade", upgrade.into()),
        ("page", Handler::inbound(Page)),
    ])
}

fn upgrade_request(extra: &str) -> String {
    format!(
        "GET /ws?room=1 HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: keep-alive, Upgrade\r\n\
         Sec-WebSocket-Key: {KEY}\r\nSec-WebSocket-Version: 13\r\n{extra}\r\n"
    )
}

#[test]
fn the_upgrade_replaces_the_http_handlers_and_keeps_the_bytes_after_the_request() {
    let mut ch = http_server(WebSocketConfig::default());
    ch.write_inbound(Bytes::from_static(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
        .unwrap();
    assert!(
        String::from_utf8(ch.read_outbound_bytes())
            .unwrap()
            .ends_with("page\n")
    );

    // The request and a first frame in one read.
    let mut input =
        upgrade_request("Sec-WebSocket-Extensions: permessage-deflate\r\n").into_bytes();
    input.extend(client_frame(true, 1, b"first"));
    ch.write_inbound(Bytes::from(input)).unwrap();
    let out = ch.read_outbound_bytes();
    let text = String::from_utf8_lossy(&out);
    let head_end = text.find("\r\n\r\n").unwrap() + 4;
    assert_eq!(
        &text[..head_end],
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n",
        "permessage-deflate is declined by default"
    );
    assert_eq!(&out[head_end..], b"\x81\x05first");
    assert_eq!(ch.pipeline().names(), ["websocket", "echo"]);
    ch.run_pending_tasks().unwrap();
    let events = ch.take_user_events();
    let done = events
        .iter()
        .find_map(|e| e.downcast_ref::<WebSocketHandshakeComplete>())
        .expect("the handshake event");
    assert_eq!(done.uri, "/ws?room=1");
    assert!(!done.deflate);
}

#[test]
fn bad_handshakes_are_refused_with_their_status() {
    for (request, status) in [
        (
            upgrade_request("").replace("Version: 13", "Version: 8"),
            "426",
        ),
        (upgrade_request("").replace(KEY, "c2hvcnQ="), "400"),
        (
            upgrade_request("").replace("Upgrade: websocket", "Upgrade: h2c"),
            "400",
        ),
        (
            upgrade_request("").replace("keep-alive, Upgrade", "keep-alive"),
            "400",
        ),
        (upgrade_request("").replace("GET", "POST"), "400"),
    ] {
        let mut ch = http_server(WebSocketConfig::default());
        ch.write_inbound(Bytes::from(request)).unwrap();
        let out = String::from_utf8(ch.read_outbound_bytes()).unwrap();
        assert!(out.starts_with(&format!("HTTP/1.1 {status} ")), "{out}");
        assert!(!ch.is_active());
        assert!(ch.pipeline().contains("http"));
    }
}

#[test]
fn permessage_deflate_is_negotiated_when_configured() {
    let config = WebSocketConfig::default().deflate(DeflateConfig::default());
    let mut ch = http_server(config);
    let request = upgrade_request(
        "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits; server_no_context_takeover\r\n",
    );
    ch.write_inbound(Bytes::from(request)).unwrap();
    let out = String::from_utf8(ch.read_outbound_bytes()).unwrap();
    assert!(
        out.contains(
            "Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover\r\n"
        ),
        "{out}"
    );
    // "Hello" compressed (RFC 7692, 7.2.3.1), sent by the client with RSV1.
    let mut f = client_frame(true, 1, &[0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]);
    f[0] |= 0x40;
    ch.write_inbound(Bytes::from(f)).unwrap();
    // Echoed, compressed: the same bytes (no context taken over).
    assert_eq!(
        ch.read_outbound_bytes(),
        [0xc1, 0x07, 0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]
    );
}

// ---- the client ----

#[test]
fn the_client_checks_the_101_then_masks_its_frames() {
    let client = WebSocketClientProtocolHandler::new("h:1", "/ws", WebSocketConfig::default());
    let mut ch = EmbeddedChannel::with_handlers([("ws", client.into())]);
    let request = String::from_utf8(ch.read_outbound_bytes()).unwrap();
    let key = request
        .lines()
        .find_map(|l| l.strip_prefix("Sec-WebSocket-Key: "))
        .unwrap()
        .to_owned();
    assert!(matches!(
        ch.write_outbound(Message::text("early")).result(),
        Some(Err(_))
    ));
    let mut response = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: upgrade\r\nSec-WebSocket-Accept: {}\r\n\r\n",
        accept_key(&key)
    )
    .into_bytes();
    response.extend_from_slice(b"\x81\x02hi"); // an unmasked server frame, same read
    ch.write_inbound(Bytes::from(response)).unwrap();
    assert_eq!(ch.read_inbound::<Message>(), Some(Message::text("hi")));
    assert_eq!(ch.pipeline().names(), ["ws"]);

    ch.write_outbound(Message::text("hello"));
    let out = ch.read_outbound_bytes();
    assert_eq!(out[0], 0x81);
    assert_eq!(out[1], 0x80 | 5, "masked");
    let key = &out[2..6];
    let unmasked: Vec<u8> = out[6..]
        .iter()
        .enumerate()
        .map(|(i, b)| b ^ key[i % 4])
        .collect();
    assert_eq!(unmasked, b"hello");

    // A masked frame from the server is refused.
    let err = ch
        .write_inbound(Bytes::from(client_frame(true, 1, b"x")))
        .unwrap_err();
    assert_eq!(
        err.downcast_ref::<WebSocketError>(),
        Some(&WebSocketError::MaskedServerFrame)
    );
}

#[test]
fn the_client_refuses_a_wrong_accept_key() {
    let client = WebSocketClientProtocolHandler::new("h", "/", WebSocketConfig::default());
    let mut ch = EmbeddedChannel::with_handlers([("ws", client.into())]);
    ch.read_outbound_bytes();
    let response = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: upgrade\r\nSec-WebSocket-Accept: {}\r\n\r\n",
        accept_key(KEY)
    );
    let err = ch.write_inbound(Bytes::from(response)).unwrap_err();
    assert!(matches!(
        err.downcast_ref::<WebSocketError>(),
        Some(WebSocketError::Handshake { .. })
    ));
    assert!(!ch.is_active());
}

// ---- property: any fragmentation, any read boundaries, same messages ----

mod prop {
    use super::*;
    use proptest::prelude::*;

    /// A message, how it is cut into fragments, and whether a ping goes between.
    fn message() -> impl Strategy<Value = (Message, Vec<usize>, bool)> {
        let text = "\\PC{0,40}".prop_map(Message::Text);
        let binary =
            proptest::collection::vec(any::<u8>(), 0..300).prop_map(|v| Message::Binary(v.into()));
        (
            prop_oneof![text, binary],
            proptest::collection::vec(1usize..50, 0..4),
            any::<bool>(),
        )
    }

    proptest! {
        #[test]
        fn messages_survive_any_fragmentation_and_read_boundaries(
            msgs in proptest::collection::vec(message(), 1..8),
            read in 1usize..40,
        ) {
            let mut wire = Vec::new();
            let mut expected = Vec::new();
            for (msg, cuts, ping) in &msgs {
                let (opcode, bytes): (u8, Vec<u8>) = match msg {
                    Message::Text(t) => (1, t.as_bytes().to_vec()),
                    Message::Binary(b) => (2, b.to_vec()),
                    _ => unreachable!(),
                };
                // Fragments at the cut points (in bytes: text may split characters).
                let mut pieces = Vec::new();
                let mut rest = &bytes[..];
                for &c in cuts {
                    let c = c.min(rest.len());
                    pieces.push(&rest[..c]);
                    rest = &rest[c..];
                }
                pieces.push(rest);
                let last = pieces.len() - 1;
                for (i, piece) in pieces.iter().enumerate() {
                    let op = if i == 0 { opcode } else { 0 };
                    wire.extend(client_frame(i == last, op, piece));
                    if i == last {
                        expected.push(msg.clone());
                    }
                    if *ping && i == 0 {
                        // Between fragments, or after a one-frame message.
                        wire.extend(client_frame(true, 9, b"p"));
                        expected.push(Message::Ping(Bytes::from_static(b"p")));
                    }
                }
            }
            let mut ch = server();
            for chunk in wire.chunks(read) {
                ch.write_inbound(Bytes::copy_from_slice(chunk)).unwrap();
            }
            let mut got = Vec::new();
            while let Some(m) = ch.read_inbound::<Message>() {
                got.push(m);
            }
            prop_assert_eq!(got, expected);
            prop_assert!(ch.is_active());
        }
    }
}
