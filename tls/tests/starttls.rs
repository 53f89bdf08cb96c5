//! STARTTLS: a TlsHandler added to a running pipeline after a plaintext
//! exchange; bytes pipelined after the command (the ClientHello) reach it.
//!
//! The tiny protocol: lines ending in `\n`. `PING` is answered `PONG`,
//! `STARTTLS` is answered `OK` in plaintext, after which both sides speak TLS.

mod support;

use seine_buffer::{Bytes, CompositeBuf};
use seine_channel::testing::EmbeddedChannel;
use seine_channel::{ChannelHandler, Handler, InboundContext, InboundHandler, OutboundBuf};
use seine_codec::{ByteToMessageDecoder, CodecError, Decoder};
use seine_tls::{TlsHandler, TlsServerConfig};
use support::{Certs, inbound_text, pump};

/// Lines (with their `\n`) as `Bytes`.
struct Lines;
impl Decoder for Lines {
    type Item = Bytes;
    fn decode(&mut self, src: &mut CompositeBuf) -> Result<Option<Bytes>, CodecError> {
        match src.find_byte(b'\n', 0) {
            Some(i) => Ok(Some(src.split_to(i + 1).to_bytes())),
            None => Ok(None),
        }
    }
}

struct App {
    tls: Option<TlsServerConfig>,
}
impl ChannelHandler for App {}
impl InboundHandler for App {
    type Read = Bytes;
    type Fire = Bytes;
    fn channel_read(&mut self, ctx: &mut InboundContext<'_, Bytes>, line: Bytes) {
        match &line[..] {
            b"PING\n" => ctx.write_void(OutboundBuf::from("PONG\n")),
            b"STARTTLS\n" => {
                let config = self.tls.take().expect("STARTTLS once");
                // The answer leaves in plaintext: nothing encrypts yet.
                ctx.write_void(OutboundBuf::from("OK\n"));
                // TLS goes right after the line decoder; removing the decoder
                // hands it the bytes read past this line; a new line decoder reads
                // the plaintext.
                let mut p = ctx.pipeline();
                p.add_after("lines", "tls", TlsHandler::server(&config).into())
                    .unwrap();
                p.remove("lines").unwrap();
                p.add_after("tls", "lines", ByteToMessageDecoder::new(Lines).into())
                    .unwrap();
            }
            _ => ctx.write_void(OutboundBuf::from("ERR\n")),
        }
    }
}

#[test]
fn a_client_hello_pipelined_after_starttls_is_not_lost() {
    let certs = Certs::new();
    let mut server = EmbeddedChannel::with_handlers([
        ("lines", ByteToMessageDecoder::new(Lines).into()),
        (
            "app",
            Handler::inbound(App {
                tls: Some(certs.server()),
            }),
        ),
    ]);
    let mut client = EmbeddedChannel::with_handlers([(
        "tls",
        Handler::from(TlsHandler::client(&certs.client(), "localhost").unwrap()),
    )]);
    let hello = client.read_outbound_bytes();

    // One read: a plaintext command, STARTTLS, and the ClientHello behind it.
    let mut first = b"PING\nSTARTTLS\n".to_vec();
    first.extend_from_slice(&hello);
    server.write_inbound(Bytes::from(first)).unwrap();
    assert_eq!(server.pipeline().names(), ["tls", "lines", "app"]);

    let out = server.read_outbound_bytes();
    assert!(
        out.starts_with(b"PONG\nOK\n"),
        "{:?}",
        &out[..out.len().min(16)]
    );
    // The rest is the server's handshake, which the client accepts.
    client
        .write_inbound(Bytes::copy_from_slice(&out[8..]))
        .unwrap();
    assert!(pump(&mut client, &mut server).is_empty());

    client.write_outbound(OutboundBuf::from("PING\n"));
    pump(&mut client, &mut server);
    assert_eq!(inbound_text(&mut client), b"PONG\n");
}

#[test]
fn starttls_in_one_read_and_the_hello_in_the_next() {
    let certs = Certs::new();
    let mut server = EmbeddedChannel::with_handlers([
        ("lines", ByteToMessageDecoder::new(Lines).into()),
        (
            "app",
            Handler::inbound(App {
                tls: Some(certs.server()),
            }),
        ),
    ]);
    let mut client = EmbeddedChannel::with_handlers([(
        "tls",
        Handler::from(TlsHandler::client(&certs.client(), "localhost").unwrap()),
    )]);
    let hello = client.read_outbound_bytes();
    server
        .write_inbound(Bytes::from_static(b"STARTTLS\n"))
        .unwrap();
    assert_eq!(server.read_outbound_bytes(), b"OK\n");
    // The ClientHello in two halves.
    let (a, b) = hello.split_at(hello.len() / 2);
    server.write_inbound(Bytes::copy_from_slice(a)).unwrap();
    server.write_inbound(Bytes::copy_from_slice(b)).unwrap();
    assert!(pump(&mut client, &mut server).is_empty());
    client.write_outbound(OutboundBuf::from("PING\nPING\n"));
    pump(&mut client, &mut server);
    assert_eq!(inbound_text(&mut client), b"PONG\nPONG\n");
}
