//! The kTLS side of [`TlsHandler`]: the hand-off to the kernel right after the
//! handshake, and the channel once the kernel runs the record layer (plaintext
//! and files passed through, records that are not data handled here).
//!
//! While a handshake that may be handed off runs, the handler gives rustls one
//! record at a time ([`RecordFramer`]): when the handshake ends, rustls holds no
//! byte of a later record, so the kernel's view of the stream starts exactly at
//! a record boundary.

use std::io::Read;

use seine_buffer::Bytes;
use seine_channel::{Context, KernelTlsRecord, OutboundBuf, Promise};

use super::TlsHandler;
use crate::error::TlsError;
use crate::ktls::{self, Fallback, HandOffError};

/// TLS content types.
const ALERT: u8 = 21;
const HANDSHAKE: u8 = 22;
/// Handshake message types that may follow a TLS 1.3 handshake.
const NEW_SESSION_TICKET: u8 = 4;
const KEY_UPDATE: u8 = 24;
/// TLS record header: type, version (2), length (2).
const HEADER: usize = 5;

/// Follows TLS record boundaries in the bytes given to rustls.
#[derive(Debug, Default)]
pub(crate) struct RecordFramer {
    header: [u8; HEADER],
    /// Header bytes seen of the current record (0: at a boundary).
    have: usize,
    /// Body bytes of the current record still to come.
    body_left: usize,
}

impl RecordFramer {
    /// Whether the bytes seen end exactly at the end of a record.
    pub(crate) fn at_boundary(&self) -> bool {
        self.have == 0 && self.body_left == 0
    }

    /// How many of `data`'s bytes belong to the current record (up to and
    /// including its last byte; all of `data` if the record goes on).
    pub(crate) fn span(&self, data: &[u8]) -> usize {
        let mut probe = RecordFramer { ..*self };
        let mut n = 0;
        while n < data.len() {
            let step = probe.step(&data[n..]);
            n += step;
            if probe.at_boundary() {
                return n;
            }
        }
        n
    }

    /// Notes `data` as given to rustls.
    pub(crate) fn consume(&mut self, mut data: &[u8]) {
        while !data.is_empty() {
            let n = self.step(data);
            data = &data[n..];
        }
    }

    /// Consumes from `data` up to the end of the current header or body.
    fn step(&mut self, data: &[u8]) -> usize {
        if self.body_left == 0 {
            let n = (HEADER - self.have).min(data.len());
            self.header[self.have..self.have + n].copy_from_slice(&data[..n]);
            self.have += n;
            if self.have == HEADER {
                self.have = 0;
                self.body_left = u16::from_be_bytes([self.header[3], self.header[4]]) as usize;
                // An empty record: at a boundary at once (rustls rejects it).
            }
            n
        } else {
            let n = self.body_left.min(data.len());
            self.body_left -= n;
            n
        }
    }
}

/// Gives rustls all of `rest` (whole records) and appends their plaintext to
/// `plain`.
fn take_records_plaintext(
    conn: &mut rustls::Connection,
    rest: &mut &[u8],
    plain: &mut Vec<u8>,
) -> Result<(), Result<Fallback, rustls::Error>> {
    while !rest.is_empty() {
        let before = rest.len();
        // A slice reader never fails; a full rustls buffer is drained below.
        let _ = conn.read_tls(rest);
        conn.process_new_packets().map_err(Err)?;
        let mut buf = [0u8; 16 * 1024];
        loop {
            match conn.reader().read(&mut buf) {
                // close_notify: left for the user-space path to answer.
                Ok(0) => return Err(Ok(Fallback::PeerClosed)),
                Ok(n) => plain.extend_from_slice(&buf[..n]),
                Err(_) => break,
            }
        }
        if rest.len() == before {
            return Err(Ok(Fallback::PartialRecord));
        }
    }
    Ok(())
}

impl Copy for RecordFramer {}
impl Clone for RecordFramer {
    fn clone(&self) -> Self {
        *self
    }
}

impl TlsHandler {
    /// Right after the handshake ended (rustls is done, nothing passed on yet):
    /// hands the record layer to the kernel if it can. `rest` is what is left
    /// of the current read; it is given to rustls first if it holds whole
    /// records (their plaintext is passed on after the handshake event).
    /// Returns an error only when the session cannot go on.
    pub(super) fn try_hand_off(
        &mut self,
        ctx: &mut Context<'_>,
        rest: &mut &[u8],
    ) -> Result<(), TlsError> {
        self.ktls_decided = true;
        self.framer = None;
        let Some(conn) = self.conn.as_ref() else {
            return Ok(());
        };
        let version = match ktls::check_session(
            self.support,
            conn.protocol_version(),
            conn.negotiated_cipher_suite().map(|s| s.suite()),
        ) {
            Ok(v) => v,
            Err(f) => {
                self.fell_back(f);
                return Ok(());
            }
        };
        if !rest.is_empty() {
            match self.take_whole_records(rest) {
                Ok(()) => {}
                Err(Ok(f)) => {
                    self.fell_back(f);
                    return Ok(());
                }
                Err(Err(e)) => return Err(TlsError::Protocol(e)),
            }
        }
        // What rustls has to send (a client's Finished, a server's tickets)
        // goes out first, under the keys rustls used.
        self.emit_void(ctx);
        self.completed = Some(self.info());
        let mut conn = self.conn.take();
        let mut failure = None;
        let r = ctx.offload_tls(&mut |fd| ktls::hand_off(fd, &mut conn, version, &mut failure));
        match (r, failure) {
            (Ok(()), _) => {
                self.kernel = true;
                if let Some(c) = &self.counters {
                    c.offloaded.add(1);
                }
                tracing::debug!(channel = %ctx.channel().id(), "kTLS: the kernel runs the record layer");
                Ok(())
            }
            (Err(e), None) => {
                self.conn = conn;
                self.fell_back(Fallback::Transport(e.kind()));
                Ok(())
            }
            (Err(_), Some(HandOffError::Ulp(kind))) => {
                self.conn = conn;
                self.fell_back(Fallback::UlpRefused(kind));
                Ok(())
            }
            (Err(_), Some(HandOffError::AfterUlp(reason))) => {
                self.conn = conn; // None: the secrets left rustls
                tracing::warn!(channel = %ctx.channel().id(), %reason, "kTLS hand-off failed: closing");
                Err(TlsError::KtlsHandOff { reason })
            }
        }
    }

    /// The handshake ended without a hand-off attempt: counts why.
    pub(super) fn hand_off_skipped(&mut self) {
        self.ktls_decided = true;
        self.framer = None;
        let reason = match self.conn.as_ref().map(|c| {
            ktls::check_session(
                self.support,
                c.protocol_version(),
                c.negotiated_cipher_suite().map(|s| s.suite()),
            )
        }) {
            Some(Err(f)) => f,
            // Could have gone, but rustls finished inside a record (cannot happen
            // when records are given one at a time).
            _ => Fallback::PartialRecord,
        };
        self.fell_back(reason);
    }

    fn fell_back(&mut self, reason: Fallback) {
        ktls::log_fallback(&reason);
        if let Some(c) = &self.counters {
            c.fallbacks.add(1);
        }
    }

    /// Gives rustls the records read with the handshake's end, if they are
    /// whole, and keeps their plaintext for after the handshake event.
    /// `Err(Ok(_))`: stay in user space; `Err(Err(_))`: the peer broke the protocol.
    fn take_whole_records(
        &mut self,
        rest: &mut &[u8],
    ) -> Result<(), Result<Fallback, rustls::Error>> {
        let mut framer = RecordFramer::default();
        framer.consume(rest);
        if !framer.at_boundary() {
            return Err(Ok(Fallback::PartialRecord));
        }
        let Some(conn) = self.conn.as_mut() else {
            return Err(Ok(Fallback::PeerClosed));
        };
        let mut plain = Vec::new();
        let r = take_records_plaintext(conn, rest, &mut plain);
        if !plain.is_empty() {
            self.early = Some(Bytes::from(plain));
        }
        r
    }

    /// With the record layer in the kernel: a write passes through as plaintext
    /// (a `FileRegion` too, to `sendfile`), counted as encrypted by the kernel.
    pub(super) fn write_through(
        &mut self,
        ctx: &mut Context<'_>,
        msg: OutboundBuf,
        promise: Promise,
    ) {
        if let Some(c) = &self.counters {
            c.kernel.add(msg.len() as u64);
        }
        if promise.is_void() {
            ctx.write_void(msg);
        } else {
            // The promise's ticket is older than this write's: it resolves when
            // this one does (writes complete in order).
            drop(ctx.write_message(msg));
        }
    }

    /// A record that is not application data, read by the kernel.
    pub(super) fn kernel_record(&mut self, ctx: &mut Context<'_>, rec: &KernelTlsRecord) {
        match (rec.content_type, rec.payload.first().copied()) {
            (ALERT, _) if rec.payload.len() == 2 && rec.payload[1] == 0 => {
                // close_notify: end of input, answered as in user space.
                self.received_close_notify = true;
                if !self.input_closed_fired {
                    self.input_closed_fired = true;
                    ctx.fire_input_closed();
                }
                if !ctx.is_closing() {
                    self.graceful_close(ctx);
                }
            }
            (ALERT, _) => {
                let description = rec.payload.get(1).copied().unwrap_or(0);
                let alert = rustls::AlertDescription::from(description);
                tracing::debug!(channel = %ctx.channel().id(), ?alert, "kTLS: alert received");
                self.kernel_fail(ctx, TlsError::Protocol(rustls::Error::AlertReceived(alert)));
            }
            (HANDSHAKE, Some(_)) => self.kernel_handshake(ctx, &rec.payload),
            (t, m) => {
                let reason = match m {
                    Some(m) => format!("handshake message {m} after the handshake"),
                    None => "an empty record".into(),
                };
                self.kernel_fail(
                    ctx,
                    TlsError::KtlsUnexpectedRecord {
                        content_type: t,
                        reason,
                    },
                );
            }
        }
    }

    /// Handshake messages after the handshake: a client skips NewSessionTicket
    /// (rustls' session store is out of reach: the next connection makes a full
    /// handshake); KeyUpdate, whose new keys the kernel was not given, and
    /// anything else close the channel.
    fn kernel_handshake(&mut self, ctx: &mut Context<'_>, mut payload: &[u8]) {
        while !payload.is_empty() {
            // type (1), length (3), body: None if cut short.
            let message = match payload {
                [kind, a, b, c, rest @ ..] => {
                    let len = u32::from_be_bytes([0, *a, *b, *c]) as usize;
                    rest.get(len..).map(|after| (*kind, after))
                }
                _ => None,
            };
            let reason = match message {
                Some((NEW_SESSION_TICKET, after)) if self.client_name.is_some() => {
                    tracing::trace!(channel = %ctx.channel().id(), "kTLS: NewSessionTicket skipped");
                    payload = after;
                    continue;
                }
                Some((KEY_UPDATE, _)) => {
                    tracing::warn!(
                        channel = %ctx.channel().id(),
                        "kTLS: the peer sent a TLS 1.3 KeyUpdate, which the kernel cannot \
                         follow: closing"
                    );
                    "KeyUpdate (new keys the kernel was not given)".to_string()
                }
                Some((m, _)) => format!("handshake message {m} after the handshake"),
                None => "a truncated handshake message".to_string(),
            };
            return self.kernel_fail(
                ctx,
                TlsError::KtlsUnexpectedRecord {
                    content_type: HANDSHAKE,
                    reason,
                },
            );
        }
    }

    /// The session cannot go on with the kernel's record layer: fire, close.
    fn kernel_fail(&mut self, ctx: &mut Context<'_>, error: TlsError) {
        if self.failed {
            return;
        }
        self.failed = true;
        self.queue.clear();
        ctx.fire_exception(error);
        ctx.close();
    }
}

#[cfg(test)]
impl TlsHandler {
    /// As right after a hand-off: the kernel runs the record layer.
    fn in_kernel_mode(mut self) -> Self {
        self.conn = None;
        self.kernel = true;
        self.handshaking = false;
        self.ktls_decided = true;
        self.framer = None;
        self.timeout = None;
        self
    }

    /// As on a kernel with (or without) the `tls` ULP.
    fn with_support(mut self, support: crate::KtlsSupport) -> Self {
        self.support = support;
        self.framer = (self.ktls_wanted && support.kernel_encrypts()).then(RecordFramer::default);
        self
    }
}

#[cfg(test)]
mod tests {
    use seine_buffer::FileRegion;
    use seine_channel::testing::EmbeddedChannel;
    use seine_channel::{Handler, UserEvent};

    use super::*;
    use crate::{TlsClientConfig, TlsServerConfig};

    fn record(len: u16) -> Vec<u8> {
        let mut r = vec![23, 3, 3];
        r.extend_from_slice(&len.to_be_bytes());
        r.extend(std::iter::repeat_n(0xaa, len as usize));
        r
    }

    /// A server for `localhost` with a self-signed certificate, and a client
    /// that trusts it.
    fn configs() -> (TlsServerConfig, TlsClientConfig) {
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = rcgen::CertificateParams::new(vec!["localhost".to_string()])
            .unwrap()
            .self_signed(&key)
            .unwrap();
        let server = TlsServerConfig::builder()
            .cert_and_key_der(
                vec![cert.der().clone()],
                rustls_pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into()),
            )
            .build()
            .unwrap();
        let mut roots = rustls::RootCertStore::empty();
        roots.add(cert.der().clone()).unwrap();
        let client = TlsClientConfig::from_rustls(std::sync::Arc::new(
            rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
                rustls::crypto::ring::default_provider(),
            ))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth(),
        ));
        (server, client)
    }

    fn server_config() -> TlsServerConfig {
        configs().0
    }

    fn kernel_channel(client: bool) -> EmbeddedChannel {
        let h = if client {
            let cfg = TlsClientConfig::builder().webpki_roots().build().unwrap();
            TlsHandler::client(&cfg, "localhost").unwrap()
        } else {
            TlsHandler::server(&server_config())
        };
        EmbeddedChannel::with_handlers([("tls", Handler::from(h.in_kernel_mode()))])
    }

    fn kernel_record(ch: &mut EmbeddedChannel, content_type: u8, payload: &[u8]) {
        ch.core().fire_user_event(UserEvent::new(KernelTlsRecord {
            content_type,
            payload: Bytes::copy_from_slice(payload),
        }));
    }

    fn counter(ch: &EmbeddedChannel, name: &str) -> u64 {
        ch.channel()
            .metrics()
            .counters()
            .into_iter()
            .find(|(n, _)| *n == name)
            .map_or(0, |(_, v)| v)
    }

    fn tls_error(ch: &mut EmbeddedChannel) -> TlsError {
        let e = ch.take_exception().expect_err("an error was fired");
        e.downcast_ref::<TlsError>().expect("a TlsError").clone()
    }

    #[test]
    fn plaintext_and_files_pass_through_to_the_kernel() {
        let mut ch = kernel_channel(false);
        ch.write_outbound(OutboundBuf::from("abc"));
        let out: OutboundBuf = ch.read_outbound().unwrap();
        assert_eq!(out.len(), 3);
        assert!(!out.is_file());
        let mut f = tempfile::tempfile().unwrap();
        std::io::Write::write_all(&mut f, &[7u8; 100_000]).unwrap();
        let region = FileRegion::new(std::sync::Arc::new(f), 0, 100_000).unwrap();
        ch.write_outbound(OutboundBuf::from(region));
        let out: OutboundBuf = ch.read_outbound().unwrap();
        assert!(
            out.is_file(),
            "the region reaches the transport whole: sendfile"
        );
        assert_eq!(counter(&ch, "tls_bytes_encrypted_kernel"), 100_003);
        assert_eq!(counter(&ch, "tls_bytes_encrypted_user"), 0);
        ch.write_inbound(Bytes::from_static(b"xyz")).unwrap();
        assert_eq!(ch.read_inbound::<Bytes>().unwrap(), &b"xyz"[..]);
        assert_eq!(counter(&ch, "tls_bytes_decrypted_kernel"), 3);
    }

    #[test]
    fn close_notify_from_the_kernel_is_end_of_input_and_closes_gracefully() {
        let mut ch = kernel_channel(false);
        kernel_record(&mut ch, ALERT, &[1, 0]);
        ch.take_exception().unwrap();
        assert!(!ch.is_active(), "answered with close_notify and a close");
        // Nothing after close_notify is read.
        let _ = ch.write_inbound(Bytes::from_static(b"late"));
        assert_eq!(ch.inbound_len(), 0);
    }

    #[test]
    fn a_fatal_alert_from_the_kernel_closes_with_the_alert() {
        let mut ch = kernel_channel(false);
        kernel_record(&mut ch, ALERT, &[2, 40]);
        match tls_error(&mut ch) {
            TlsError::Protocol(rustls::Error::AlertReceived(a)) => {
                assert_eq!(a, rustls::AlertDescription::HandshakeFailure)
            }
            e => panic!("{e}"),
        }
        assert!(!ch.is_active());
    }

    #[test]
    fn a_client_skips_new_session_tickets() {
        let mut ch = kernel_channel(true);
        // Two tickets in one record.
        let nst = [NEW_SESSION_TICKET, 0, 0, 2, 9, 9];
        kernel_record(&mut ch, HANDSHAKE, &[&nst[..], &nst[..]].concat());
        ch.take_exception().unwrap();
        assert!(ch.is_active());
        ch.write_inbound(Bytes::from_static(b"data")).unwrap();
        assert_eq!(ch.read_inbound::<Bytes>().unwrap(), &b"data"[..]);
    }

    #[test]
    fn key_update_closes_the_channel() {
        let mut ch = kernel_channel(true);
        kernel_record(&mut ch, HANDSHAKE, &[KEY_UPDATE, 0, 0, 1, 0]);
        match tls_error(&mut ch) {
            TlsError::KtlsUnexpectedRecord {
                content_type,
                reason,
            } => {
                assert_eq!(content_type, HANDSHAKE);
                assert!(reason.contains("KeyUpdate"), "{reason}");
            }
            e => panic!("{e}"),
        }
        assert!(!ch.is_active());
    }

    #[test]
    fn other_handshake_records_close_the_channel() {
        // A ticket to a server, a truncated message, a ticket then garbage.
        for payload in [
            &[NEW_SESSION_TICKET, 0, 0, 0][..],
            &[NEW_SESSION_TICKET, 0, 0, 9, 1][..],
            &[1, 2][..],
        ] {
            let mut ch = kernel_channel(false);
            kernel_record(&mut ch, HANDSHAKE, payload);
            assert!(matches!(
                tls_error(&mut ch),
                TlsError::KtlsUnexpectedRecord { .. }
            ));
            assert!(!ch.is_active());
        }
        let mut ch = kernel_channel(true);
        kernel_record(&mut ch, HANDSHAKE, &[NEW_SESSION_TICKET, 0, 0, 0, 7]);
        assert!(matches!(
            tls_error(&mut ch),
            TlsError::KtlsUnexpectedRecord { .. }
        ));
        let mut ch = kernel_channel(false);
        kernel_record(&mut ch, 99, &[]);
        assert!(matches!(
            tls_error(&mut ch),
            TlsError::KtlsUnexpectedRecord {
                content_type: 99,
                ..
            }
        ));
    }

    #[test]
    fn an_eof_without_close_notify_is_a_truncation() {
        let mut ch = kernel_channel(false);
        let e = ch.close_inbound().expect_err("a truncation");
        assert!(matches!(
            e.downcast_ref::<TlsError>(),
            Some(TlsError::TruncatedWithoutCloseNotify)
        ));
    }

    #[test]
    fn a_graceful_close_shuts_the_output_down_then_closes() {
        let mut ch = kernel_channel(false);
        ch.write_outbound(OutboundBuf::from("last"));
        ch.close();
        ch.take_exception().unwrap();
        assert!(!ch.is_active());
        let out: OutboundBuf = ch.read_outbound().unwrap();
        assert_eq!(out.len(), 4);
    }

    /// A client's Finished and its first records in one read: on a kernel with
    /// the ULP they are taken by rustls before the hand-off, which an embedded
    /// channel (no socket) then refuses: the session goes on in user space with
    /// nothing lost, the handshake event first.
    fn finished_and_data_in_one_read(data_cut: Option<usize>) -> (EmbeddedChannel, Vec<u8>) {
        let (server_cfg, client_cfg) = configs();
        let server = TlsHandler::server(&server_cfg).with_support(crate::KtlsSupport::Available);
        let mut s = EmbeddedChannel::with_handlers([("tls", Handler::from(server))]);
        let client = TlsHandler::client(&client_cfg, "localhost").unwrap();
        let mut c = EmbeddedChannel::with_handlers([("tls", Handler::from(client))]);
        let hello = c.read_outbound_bytes();
        s.write_inbound(Bytes::from(hello)).unwrap();
        let flight = s.read_outbound_bytes();
        c.write_inbound(Bytes::from(flight)).unwrap();
        let data: Vec<u8> = (0..40_000u32).map(|i| (i % 249) as u8).collect();
        c.write_outbound(OutboundBuf::from(data.clone()));
        let both = c.read_outbound_bytes();
        match data_cut {
            None => s.write_inbound(Bytes::from(both)).unwrap(),
            Some(cut) => {
                let cut = both.len() - cut;
                s.write_inbound(Bytes::copy_from_slice(&both[..cut]))
                    .unwrap();
                s.write_inbound(Bytes::copy_from_slice(&both[cut..]))
                    .unwrap();
            }
        }
        (s, data)
    }

    fn events_then_text(s: &mut EmbeddedChannel) -> (bool, Vec<u8>) {
        let handshake_first = s
            .take_user_events()
            .iter()
            .any(|e| e.is::<crate::HandshakeComplete>());
        let mut text = Vec::new();
        while let Some(b) = s.read_inbound::<Bytes>() {
            text.extend_from_slice(&b);
        }
        (handshake_first, text)
    }

    #[test]
    fn whole_records_read_with_the_finished_are_kept_when_the_hand_off_is_refused() {
        let (mut s, data) = finished_and_data_in_one_read(None);
        s.take_exception().unwrap();
        let (event, text) = events_then_text(&mut s);
        assert!(event);
        assert!(text == data, "{} of {} bytes", text.len(), data.len());
        // Refused by the transport (no socket): one fallback, user space goes on.
        assert_eq!(counter(&s, "tls_ktls_fallbacks"), 1);
        assert_eq!(counter(&s, "tls_ktls_offloaded"), 0);
        assert_eq!(counter(&s, "tls_bytes_decrypted"), data.len() as u64);
    }

    #[test]
    fn a_record_cut_after_the_finished_keeps_the_session_in_user_space() {
        let (mut s, data) = finished_and_data_in_one_read(Some(100));
        s.take_exception().unwrap();
        let (event, text) = events_then_text(&mut s);
        assert!(event);
        assert!(text == data, "{} of {} bytes", text.len(), data.len());
        assert_eq!(counter(&s, "tls_ktls_fallbacks"), 1);
    }

    #[test]
    fn the_framer_finds_record_ends() {
        let two = [record(3), record(10)].concat();
        let f = RecordFramer::default();
        assert!(f.at_boundary());
        assert_eq!(f.span(&two), 8);
        let mut f = RecordFramer::default();
        f.consume(&two[..8]);
        assert!(f.at_boundary());
        assert_eq!(f.span(&two[8..]), 15);
        // Split anywhere, byte by byte: boundaries after 8 and 23 bytes only.
        let mut f = RecordFramer::default();
        for (i, b) in two.iter().enumerate() {
            f.consume(std::slice::from_ref(b));
            assert_eq!(
                f.at_boundary(),
                i + 1 == 8 || i + 1 == 23,
                "after {}",
                i + 1
            );
        }
        // A header cut in two.
        let mut f = RecordFramer::default();
        f.consume(&two[..2]);
        assert_eq!(f.span(&two[2..]), 6);
        assert!(!f.at_boundary());
    }

    #[test]
    fn a_partial_record_spans_all_that_is_given() {
        let r = record(100);
        let f = RecordFramer::default();
        assert_eq!(f.span(&r[..50]), 50);
        assert_eq!(f.span(&r[..3]), 3);
        assert_eq!(f.span(&[]), 0);
    }
}
