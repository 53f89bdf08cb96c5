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
use crate::ktls::{self, Fallback, HandOffError, KtlsSupport};

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
        self.framer_done();
        let Some(conn) = self.conn.as_ref() else {
            return Ok(());
        };
        let version = match ktls::check_session(
            KtlsSupport::get(),
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

    /// Stops following record boundaries (the handshake is over).
    pub(super) fn framer_done(&mut self) {
        self.framer = None;
    }

    pub(super) fn fell_back_partial(&mut self) {
        self.fell_back(Fallback::PartialRecord);
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
        while !rest.is_empty() {
            let before = rest.len();
            // A Vec reader never fails; a full rustls buffer is drained below.
            let _ = conn.read_tls(rest);
            if let Err(e) = conn.process_new_packets() {
                return Err(Err(e));
            }
            let mut closed = false;
            loop {
                let mut buf = [0u8; 16 * 1024];
                match conn.reader().read(&mut buf) {
                    Ok(0) => {
                        closed = true;
                        break;
                    }
                    Ok(n) => plain.extend_from_slice(&buf[..n]),
                    Err(_) => break,
                }
            }
            if !plain.is_empty() {
                self.early = Some(Bytes::from(std::mem::take(&mut plain)));
            }
            if closed {
                return Err(Ok(Fallback::PeerClosed));
            }
            if rest.len() == before {
                return Err(Ok(Fallback::PartialRecord));
            }
        }
        Ok(())
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
            (HANDSHAKE, Some(NEW_SESSION_TICKET)) if self.client_name.is_some() => {
                // A ticket for resumption: rustls' session store is not reachable
                // any more; the next connection makes a full handshake.
                tracing::trace!(channel = %ctx.channel().id(), "kTLS: NewSessionTicket skipped");
            }
            (HANDSHAKE, Some(KEY_UPDATE)) => {
                tracing::warn!(
                    channel = %ctx.channel().id(),
                    "kTLS: the peer sent a TLS 1.3 KeyUpdate, which the kernel cannot follow: closing"
                );
                self.kernel_fail(
                    ctx,
                    TlsError::KtlsUnexpectedRecord {
                        content_type: HANDSHAKE,
                        reason: "KeyUpdate (new keys the kernel was not given)".into(),
                    },
                );
            }
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
mod tests {
    use super::*;

    fn record(len: u16) -> Vec<u8> {
        let mut r = vec![23, 3, 3];
        r.extend_from_slice(&len.to_be_bytes());
        r.extend(std::iter::repeat_n(0xaa, len as usize));
        r
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
