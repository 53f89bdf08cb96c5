//! The WebSocket target: the frame decoder alone, then the whole codec behind
//! the server handshake (or as a client), with small limits from the input.

use std::sync::Arc;

use seine::testing::EmbeddedChannel;
use seine_buffer::{Bytes, CompositeBuf};
use seine_codec::http::HttpServerCodec;
use seine_codec::websocket::{
    DeflateConfig, FrameDecoder, Message, Opcode, Role, WebSocketCodec, WebSocketConfig,
    WebSocketServerProtocolHandler,
};

use crate::common;

/// The upgrade request the server pipeline is given first.
const UPGRADE: &[u8] =
    b"GET /ws HTTP/1.1\r\nHost: f\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n";

/// `FrameDecoder` and `WebSocketCodec` (3 configuration bytes): frames never
/// exceed the frame limit, control frames are whole and at most 125 bytes,
/// messages never exceed the message limit, nothing panics.
pub fn websocket(data: &[u8]) {
    let Some((c, stream)) = common::split_config::<3>(data) else {
        return;
    };
    let max_frame = usize::from(c[0]) * 4 + 1;
    let max_message = max_frame * (usize::from(c[1] & 7) + 1);
    let client = c[1] & 0x08 != 0;
    let deflate = c[1] & 0x10 != 0;
    let step = usize::from(c[2] % 64) + 1;
    let role = if client { Role::Client } else { Role::Server };

    // The frame layer alone.
    let mut decoder = FrameDecoder::new(role)
        .with_max_frame_size(max_frame)
        .with_rsv1(deflate);
    let mut buf = CompositeBuf::new();
    'reads: for read in stream.chunks(step) {
        buf.push(Bytes::copy_from_slice(read));
        loop {
            let before = buf.len();
            match decoder.decode(&mut buf) {
                Ok(Some(frame)) => {
                    assert!(buf.len() < before, "a frame without consuming input");
                    assert!(frame.payload.len() <= max_frame, "a frame over the limit");
                    if frame.opcode.is_control() {
                        assert!(
                            frame.fin && frame.payload.len() <= 125,
                            "a bad control frame"
                        );
                    }
                    if frame.rsv1 {
                        assert!(deflate && matches!(frame.opcode, Opcode::Text | Opcode::Binary));
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    assert_eq!(buf.len(), before, "an error that consumed input: {e}");
                    assert!(e.close_code().is_some());
                    break 'reads;
                }
            }
        }
    }

    // The codec, with the handshake (server) or alone (client).
    let mut config = WebSocketConfig::default()
        .max_frame_size(max_frame)
        .max_message_size(max_message);
    if deflate {
        config = config.deflate(DeflateConfig::default());
    }
    let mut ch = if client {
        EmbeddedChannel::with_handlers([("ws", WebSocketCodec::client(config).into())])
    } else {
        let upgrade = WebSocketServerProtocolHandler::new("/ws", config, Arc::new(|_| Ok(())));
        let mut ch = EmbeddedChannel::with_handlers([
            ("http", HttpServerCodec::new().into()),
            ("upgrade", upgrade.into()),
        ]);
        ch.write_inbound(Bytes::from_static(UPGRADE))
            .expect("the upgrade is accepted");
        assert!(ch.read_outbound_bytes().starts_with(b"HTTP/1.1 101 "));
        ch
    };
    for read in stream.chunks(step) {
        if !ch.is_active() {
            break;
        }
        let _ = ch.write_inbound(Bytes::copy_from_slice(read));
        while let Some(msg) = ch.read_inbound::<Message>() {
            match msg {
                Message::Text(t) => assert!(t.len() <= max_message),
                Message::Binary(b) => assert!(b.len() <= max_message),
                Message::Ping(b) | Message::Pong(b) => assert!(b.len() <= 125),
                Message::Close(c) => assert!(c.is_none_or(|c| c.code.is_sendable())),
                Message::Frame(_) => panic!("a raw frame fired"),
            }
        }
        ch.read_outbound_bytes();
    }
}
