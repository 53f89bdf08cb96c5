//! Bad peers: nothing panics, an alert goes out, the channel closes.

mod support;

use seine_buffer::Bytes;
use seine_channel::testing::EmbeddedChannel;
use seine_channel::{Handler, OutboundBuf};
use seine_tls::{TlsError, TlsHandler};
use support::{Certs, inbound_text, pump};

fn server(certs: &Certs) -> EmbeddedChannel {
    EmbeddedChannel::with_handlers([("tls", Handler::from(TlsHandler::server(&certs.server())))])
}

fn assert_protocol_error(err: seine_channel::Error) {
    assert!(
        matches!(err.downcast_ref::<TlsError>(), Some(TlsError::Protocol(_))),
        "{err}"
    );
}

/// An alert record: content type 21.
fn is_alert(records: &[u8]) -> bool {
    records.first() == Some(&21)
}

#[test]
fn plain_http_gets_an_alert_and_a_close() {
    let certs = Certs::new();
    let mut ch = server(&certs);
    let err = ch
        .write_inbound(Bytes::from_static(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
        .unwrap_err();
    assert_protocol_error(err);
    assert!(is_alert(&ch.read_outbound_bytes()));
    assert!(!ch.is_active());
}

#[test]
fn garbage_records_get_an_alert_and_a_close() {
    let certs = Certs::new();
    let mut ch = server(&certs);
    // A handshake record header announcing 0x4000 bytes of junk.
    let mut junk = vec![22, 3, 1, 0x40, 0];
    junk.extend(std::iter::repeat_n(0xAB, 0x4000));
    let err = ch.write_inbound(Bytes::from(junk)).unwrap_err();
    assert_protocol_error(err);
    // rustls sends no alert for an oversized handshake message (it closes at
    // once); anything written is an alert.
    let out = ch.read_outbound_bytes();
    assert!(out.is_empty() || is_alert(&out), "{out:?}");
    assert!(!ch.is_active());
    // More input after the failure is dropped without another report.
    ch.write_inbound(Bytes::from_static(b"more")).unwrap();
}

#[test]
fn junk_after_the_handshake_closes_without_reading_it_all() {
    let certs = Certs::new();
    let mut server = server(&certs);
    let mut client = EmbeddedChannel::with_handlers([(
        "tls",
        Handler::from(TlsHandler::client(&certs.client(), "localhost").unwrap()),
    )]);
    assert!(pump(&mut client, &mut server).is_empty());
    client.write_outbound(OutboundBuf::from("hello"));
    pump(&mut client, &mut server);
    assert_eq!(inbound_text(&mut server), b"hello");

    // 10 MB of junk, 64 KiB at a time, as the transport would deliver it.
    let chunk = Bytes::from(vec![0x5Au8; 64 * 1024]);
    let mut errors = 0;
    for _ in 0..160 {
        if !server.is_active() {
            break;
        }
        if let Err(e) = server.write_inbound(chunk.clone()) {
            assert_protocol_error(e);
            errors += 1;
        }
    }
    assert_eq!(errors, 1);
    assert!(!server.is_active());
    assert_eq!(
        server.inbound_len(),
        0,
        "no junk was passed on as plaintext"
    );
}

#[test]
fn a_reset_mid_record_fails_the_handshake_future() {
    let certs = Certs::new();
    let tls = TlsHandler::server(&certs.server());
    let hs = tls.handshake();
    let mut server = EmbeddedChannel::with_handlers([("tls", Handler::from(tls))]);
    let mut client = EmbeddedChannel::with_handlers([(
        "tls",
        Handler::from(TlsHandler::client(&certs.client(), "localhost").unwrap()),
    )]);
    let hello = client.read_outbound_bytes();
    // Half a ClientHello, then the connection is gone.
    server
        .write_inbound(Bytes::copy_from_slice(&hello[..hello.len() / 2]))
        .unwrap();
    let err = server.close_inbound().unwrap_err();
    assert!(
        matches!(
            err.downcast_ref::<TlsError>(),
            Some(TlsError::ClosedDuringHandshake)
        ),
        "{err}"
    );
    server.close();
    assert!(matches!(
        hs.result(),
        Some(Err(TlsError::ClosedDuringHandshake))
    ));
}

#[test]
fn a_client_that_distrusts_the_server_fails_both_sides() {
    let certs = Certs::new();
    let other = Certs::new(); // another CA
    let mut server = server(&certs);
    let ctls = TlsHandler::client(&other.client(), "localhost").unwrap();
    let hs = ctls.handshake();
    let mut client = EmbeddedChannel::with_handlers([("tls", Handler::from(ctls))]);
    let errors = pump(&mut client, &mut server);
    assert!(!errors.is_empty());
    assert!(matches!(hs.result(), Some(Err(TlsError::Protocol(_)))));
    assert!(!client.is_active());
}
