//! TlsHandler between two embedded channels: handshake, data, close, files.

mod support;

use std::io::Write;
use std::time::Duration;

use seine_buffer::{Bytes, FileRegion};
use seine_channel::testing::EmbeddedChannel;
use seine_channel::{
    ChannelConfig, ChannelHandler, Handler, InboundContext, InboundHandler, OutboundBuf, UserEvent,
};
use seine_tls::{HandshakeComplete, TlsError, TlsHandler};
use support::{Certs, inbound_text, pump};

fn pair(
    certs: &Certs,
) -> (
    EmbeddedChannel,
    EmbeddedChannel,
    seine_tls::Handshake,
    seine_tls::Handshake,
) {
    let server_tls = TlsHandler::server(&certs.server());
    let client_tls = TlsHandler::client(&certs.client(), "localhost").unwrap();
    let (hs_s, hs_c) = (server_tls.handshake(), client_tls.handshake());
    let server = EmbeddedChannel::with_handlers([("tls", Handler::from(server_tls))]);
    let client = EmbeddedChannel::with_handlers([("tls", Handler::from(client_tls))]);
    (client, server, hs_c, hs_s)
}

fn handshake_event(ch: &mut EmbeddedChannel) -> HandshakeComplete {
    ch.take_user_events()
        .into_iter()
        .find_map(|e| e.downcast::<HandshakeComplete>().ok())
        .expect("a HandshakeComplete event")
}

#[test]
fn handshake_then_data_both_ways() {
    let certs = Certs::new();
    let (mut client, mut server, hs_c, hs_s) = pair(&certs);
    assert!(pump(&mut client, &mut server).is_empty());

    let ev = handshake_event(&mut server);
    assert_eq!(ev.protocol_version, rustls::ProtocolVersion::TLSv1_3);
    assert_eq!(ev.alpn_protocol.as_deref(), Some(&b"http/1.1"[..]));
    assert_eq!(ev.server_name.as_deref(), Some("localhost"));
    assert!(ev.peer_certificates.is_empty());
    let cev = handshake_event(&mut client);
    assert_eq!(cev.peer_certificates.len(), 1);
    assert_eq!(hs_s.result().unwrap().unwrap(), ev);
    assert_eq!(
        hs_c.result().unwrap().unwrap().cipher_suite,
        ev.cipher_suite
    );

    client.write_outbound(OutboundBuf::from("GET / HTTP/1.1\r\n\r\n"));
    pump(&mut client, &mut server);
    assert_eq!(inbound_text(&mut server), b"GET / HTTP/1.1\r\n\r\n");

    let big = vec![7u8; 100_000];
    let done = server.write_outbound(OutboundBuf::from(big.clone()));
    assert!(matches!(done.result(), Some(Ok(()))));
    pump(&mut client, &mut server);
    assert_eq!(inbound_text(&mut client), big);

    let counters = server.channel().metrics().counters();
    assert!(
        counters.contains(&("tls_bytes_encrypted_user", 100_000)),
        "{counters:?}"
    );
    assert!(
        counters.contains(&("tls_bytes_encrypted_kernel", 0)),
        "{counters:?}"
    );
}

#[test]
fn writes_before_the_handshake_wait_for_it() {
    let certs = Certs::new();
    let (mut client, mut server, _, _) = pair(&certs);
    let done = client.write_outbound(OutboundBuf::from("early"));
    assert!(done.result().is_none());
    pump(&mut client, &mut server);
    assert_eq!(inbound_text(&mut server), b"early");
    assert!(matches!(done.result(), Some(Ok(()))));
}

#[test]
fn graceful_close_sends_close_notify_which_is_end_of_input() {
    let certs = Certs::new();
    let (mut client, mut server, _, _) = pair(&certs);
    pump(&mut client, &mut server);
    server.write_outbound(OutboundBuf::from("bye"));
    server.close();
    // close_notify went out before the close.
    let records = server.read_outbound_bytes();
    assert!(!server.is_active());
    client.write_inbound(Bytes::from(records)).unwrap();
    assert_eq!(inbound_text(&mut client), b"bye");
    // The input_closed reached the tail: no truncation error, and the client's
    // later EOF is not reported as truncation either.
    client.close_inbound().unwrap();
    client.take_exception().unwrap();
}

/// Application-data records in `wire`, as (type, length) pairs.
fn records(wire: &[u8]) -> Vec<(u8, usize)> {
    let mut out = Vec::new();
    let mut rest = wire;
    while rest.len() >= 5 {
        let len = usize::from(u16::from_be_bytes([rest[3], rest[4]]));
        out.push((rest[0], len));
        rest = &rest[5 + len..];
    }
    assert!(rest.is_empty(), "a partial record at the end");
    out
}

/// Answers every read with a head and a body written separately (as an HTTP
/// server does), then closes if asked: all within the one read event.
struct Respond {
    body: usize,
    file: Option<FileRegion>,
    close: bool,
}
impl ChannelHandler for Respond {}
impl InboundHandler for Respond {
    type Read = Bytes;
    type Fire = Bytes;
    fn channel_read(&mut self, ctx: &mut InboundContext<'_, Bytes>, _msg: Bytes) {
        ctx.write_void(OutboundBuf::from("HTTP/1.1 200 OK\r\n\r\n"));
        match self.file.take() {
            Some(region) => ctx.write_void(OutboundBuf::from(region)),
            None => ctx.write_void(OutboundBuf::from(vec![b'x'; self.body])),
        }
        if self.close {
            ctx.close();
        }
    }
}

fn responding_pair(certs: &Certs, body: usize, close: bool) -> (EmbeddedChannel, EmbeddedChannel) {
    responding_with(
        certs,
        Respond {
            body,
            file: None,
            close,
        },
    )
}

fn responding_with(certs: &Certs, respond: Respond) -> (EmbeddedChannel, EmbeddedChannel) {
    let (mut client, mut server, _, _) = pair(certs);
    pump(&mut client, &mut server);
    let respond = Handler::inbound(respond);
    server.pipeline().add_last("respond", respond).unwrap();
    client.write_outbound(OutboundBuf::from("GET"));
    server
        .write_inbound(Bytes::from(client.read_outbound_bytes()))
        .unwrap();
    (client, server)
}

#[test]
fn the_writes_of_one_event_share_records() {
    let certs = Certs::new();
    let (mut client, mut server) = responding_pair(&certs, 4096, false);
    let wire = server.read_outbound_bytes();
    // One record: 19 + 4096 plaintext, the content type byte, a 16-byte tag.
    assert_eq!(records(&wire), [(0x17, 19 + 4096 + 1 + 16)]);
    client.write_inbound(Bytes::from(wire)).unwrap();
    let text = inbound_text(&mut client);
    assert_eq!(&text[..19], b"HTTP/1.1 200 OK\r\n\r\n");
    assert_eq!(text.len(), 19 + 4096);

    // 40 KiB: full records of 16 KiB across the two writes, then the rest.
    let (_, mut server) = responding_pair(&certs, 40 * 1024, false);
    let sizes: Vec<usize> = records(&server.read_outbound_bytes())
        .into_iter()
        .map(|(_, len)| len - 17)
        .collect();
    assert_eq!(sizes, [16384, 16384, 19 + 40 * 1024 - 32768]);
}

#[test]
fn a_head_and_a_file_share_records() {
    let certs = Certs::new();
    let (data, region) = file_of(4096);
    let (region, progress) = region.with_progress();
    let respond = Respond {
        body: 0,
        file: Some(region),
        close: false,
    };
    let (mut client, mut server) = responding_with(&certs, respond);
    let wire = server.read_outbound_bytes();
    assert_eq!(records(&wire), [(0x17, 19 + 4096 + 17)]);
    assert_eq!(progress.transferred(), 4096);
    client.write_inbound(Bytes::from(wire)).unwrap();
    assert_eq!(inbound_text(&mut client)[19..], data[..]);

    // A large file: the head fills its first record, then full records.
    let (data, region) = file_of(40_000);
    let respond = Respond {
        body: 0,
        file: Some(region),
        close: true,
    };
    let (mut client, mut server) = responding_with(&certs, respond);
    let wire = server.read_outbound_bytes();
    let sizes: Vec<usize> = records(&wire)
        .into_iter()
        .map(|(_, len)| len - 17)
        .collect();
    // The last record is close_notify.
    assert_eq!(sizes, [16384, 16384, 19 + 40_000 - 32768, 2]);
    client.write_inbound(Bytes::from(wire)).unwrap();
    assert_eq!(inbound_text(&mut client)[19..], data[..]);
}

#[test]
fn a_file_that_shrank_fails_its_write_and_closes() {
    let certs = Certs::new();
    let mut file = tempfile::tempfile().unwrap();
    file.write_all(&[1u8; 40_000]).unwrap();
    let region = FileRegion::from_file(file.try_clone().unwrap()).unwrap();
    // Truncated after the region was made: the second record's read comes up short.
    file.set_len(20_000).unwrap();
    let (mut client, mut server, _, _) = pair(&certs);
    pump(&mut client, &mut server);
    let respond = Respond {
        body: 0,
        file: Some(region),
        close: false,
    };
    server
        .pipeline()
        .add_last("respond", Handler::inbound(respond))
        .unwrap();
    client.write_outbound(OutboundBuf::from("GET"));
    let err = server
        .write_inbound(Bytes::from(client.read_outbound_bytes()))
        .unwrap_err();
    assert!(
        matches!(
            err.downcast_ref::<TlsError>(),
            Some(TlsError::FileRegionUnreadable { .. })
        ),
        "{err}"
    );
    assert!(!server.is_active());
}

#[test]
fn a_close_sends_the_writes_before_it_then_close_notify() {
    let certs = Certs::new();
    let (mut client, mut server) = responding_pair(&certs, 10, true);
    assert!(!server.is_active());
    let wire = server.read_outbound_bytes();
    // The data, then close_notify (an alert: 2 bytes, the type, the tag).
    assert_eq!(records(&wire), [(0x17, 19 + 10 + 17), (0x17, 2 + 17)]);
    client.write_inbound(Bytes::from(wire)).unwrap();
    assert_eq!(inbound_text(&mut client).len(), 19 + 10);
    client.close_inbound().unwrap();
}

#[test]
fn eof_without_close_notify_is_a_truncation_error() {
    let certs = Certs::new();
    let (mut client, mut server, _, _) = pair(&certs);
    pump(&mut client, &mut server);
    server.write_outbound(OutboundBuf::from("partial body"));
    pump(&mut client, &mut server);
    assert_eq!(inbound_text(&mut client), b"partial body");
    let err = client.close_inbound().unwrap_err();
    assert!(
        matches!(
            err.downcast_ref::<TlsError>(),
            Some(TlsError::TruncatedWithoutCloseNotify)
        ),
        "{err}"
    );
}

#[test]
fn file_region_is_sent_in_records_while_writable_with_progress() {
    let certs = Certs::new();
    let server_tls = TlsHandler::server(&certs.server());
    let config = ChannelConfig {
        high_water_mark: 64 * 1024,
        low_water_mark: 32 * 1024,
        ..ChannelConfig::default()
    };
    let mut server = EmbeddedChannel::with_config(config);
    server
        .pipeline()
        .add_last("tls", server_tls.into())
        .unwrap();
    server.activate();
    let mut client = EmbeddedChannel::with_handlers([(
        "tls",
        Handler::from(TlsHandler::client(&certs.client(), "localhost").unwrap()),
    )]);
    pump(&mut client, &mut server);

    // A 4 MiB file whose bytes tell their offset.
    let mut file = tempfile::tempfile().unwrap();
    let content: Vec<u8> = (0..4u32 * 1024 * 1024).map(|i| (i % 251) as u8).collect();
    file.write_all(&content).unwrap();
    let (region, progress) = FileRegion::from_file(file).unwrap().with_progress();

    // The reader stops: the transport takes nothing.
    server.set_transport_budget(Some(0));
    let done = server.write_outbound(OutboundBuf::from(region));
    let held = server.core().outbound().pending_bytes();
    assert!(
        held <= 64 * 1024 + 20 * 1024,
        "held {held} bytes for a stalled reader"
    );
    assert!(
        progress.transferred() < 128 * 1024,
        "read {} bytes ahead",
        progress.transferred()
    );
    assert!(done.result().is_none());

    // The reader reads again: everything arrives, in full records.
    server.set_transport_budget(None);
    let mut received = Vec::new();
    for _ in 0..10_000 {
        let records = server.read_outbound_bytes();
        if records.is_empty() && progress.is_done() {
            break;
        }
        if !records.is_empty() {
            client.write_inbound(Bytes::from(records)).unwrap();
            received.extend(inbound_text(&mut client));
        }
        // Draining the transport made the channel writable again.
        server.run_pending_tasks().unwrap();
    }
    received.extend(inbound_text(&mut client));
    assert_eq!(received.len(), content.len());
    assert!(received == content);
    assert!(progress.is_done());
    assert!(matches!(done.result(), Some(Ok(()))));
}

#[test]
fn handshake_timeout_closes_the_channel() {
    let certs = Certs::new();
    let tls = TlsHandler::server(&certs.server()).handshake_timeout(Some(Duration::from_secs(1)));
    let hs = tls.handshake();
    let mut server = EmbeddedChannel::with_handlers([("tls", Handler::from(tls))]);
    // A ClientHello trickled one byte a second never completes.
    let client = TlsHandler::client(&certs.client(), "localhost").unwrap();
    let mut c = EmbeddedChannel::with_handlers([("tls", Handler::from(client))]);
    let hello = c.read_outbound_bytes();
    let start = server.now();
    let mut timed_out = None;
    for b in hello.iter().take(5) {
        server.write_inbound(Bytes::copy_from_slice(&[*b])).unwrap();
        if let Err(e) = server.advance_time(Duration::from_secs(1)) {
            timed_out = Some(e);
            break;
        }
    }
    let err = timed_out.expect("timed out within 5 s");
    // Closed at the deadline, one second after the first byte.
    assert_eq!(server.now() - start, Duration::from_secs(1));
    assert!(matches!(
        err.downcast_ref::<TlsError>(),
        Some(TlsError::HandshakeTimedOut { .. })
    ));
    assert!(!server.is_active());
    assert!(matches!(
        hs.result(),
        Some(Err(TlsError::HandshakeTimedOut { .. }))
    ));
}

/// A server with a 64 KiB high water mark whose handshake with a client is done.
fn small_window_pair(certs: &Certs) -> (EmbeddedChannel, EmbeddedChannel) {
    let config = ChannelConfig {
        high_water_mark: 64 * 1024,
        low_water_mark: 32 * 1024,
        ..ChannelConfig::default()
    };
    let mut server = EmbeddedChannel::with_config(config);
    server
        .pipeline()
        .add_last("tls", TlsHandler::server(&certs.server()).into())
        .unwrap();
    server.activate();
    let mut client = EmbeddedChannel::with_handlers([(
        "tls",
        Handler::from(TlsHandler::client(&certs.client(), "localhost").unwrap()),
    )]);
    assert!(pump(&mut client, &mut server).is_empty());
    (client, server)
}

fn file_of(len: usize) -> (Vec<u8>, FileRegion) {
    let mut file = tempfile::tempfile().unwrap();
    let content: Vec<u8> = (0..len).map(|i| (i % 239) as u8).collect();
    file.write_all(&content).unwrap();
    (content, FileRegion::from_file(file).unwrap())
}

#[test]
fn a_graceful_close_waits_for_the_file_then_sends_close_notify() {
    let certs = Certs::new();
    let (mut client, mut server) = small_window_pair(&certs);
    let (content, region) = file_of(1024 * 1024);
    server.set_transport_budget(Some(0));
    let done = server.write_outbound(OutboundBuf::from(region));
    server.close();
    assert!(server.is_active(), "the close waits for the file");
    server.set_transport_budget(None);
    let mut received = Vec::new();
    for _ in 0..1000 {
        let records = server.read_outbound_bytes();
        if records.is_empty() {
            break;
        }
        client.write_inbound(Bytes::from(records)).unwrap();
        received.extend(inbound_text(&mut client));
        server.run_pending_tasks().unwrap();
    }
    assert!(received == content);
    assert!(matches!(done.result(), Some(Ok(()))));
    assert!(!server.is_active());
    // The stream ended with close_notify: EOF is no truncation.
    client.close_inbound().unwrap();
}

/// Closes the channel at once (`close_now`) on any user event, as a send
/// timeout does.
struct Stopper;
impl ChannelHandler for Stopper {}
impl InboundHandler for Stopper {
    type Read = Bytes;
    type Fire = Bytes;
    fn channel_read(&mut self, ctx: &mut InboundContext<'_, Bytes>, msg: Bytes) {
        ctx.fire_read(msg);
    }
    fn user_event(&mut self, ctx: &mut InboundContext<'_, Bytes>, _event: UserEvent) {
        ctx.close_now();
    }
}

#[test]
fn close_now_drops_a_file_that_waits_for_writability() {
    let certs = Certs::new();
    let (_client, mut server) = small_window_pair(&certs);
    server
        .pipeline()
        .add_last("stopper", Handler::inbound(Stopper))
        .unwrap();
    let (_, region) = file_of(1024 * 1024);
    let (region, progress) = region.with_progress();
    server.set_transport_budget(Some(0));
    let done = server.write_outbound(OutboundBuf::from(region));
    assert!(server.is_active());
    // The close passes through the TLS handler, which drops the file instead of
    // waiting for writability that never comes.
    server.channel().fire_user_event(());
    server.run_pending_tasks().unwrap();
    assert!(!server.is_active());
    assert!(matches!(done.result(), Some(Err(_))));
    assert!(!progress.is_done());
}
