//! [`TlsHandler`]: TLS as one duplex pipeline slot, on rustls' sans-IO connection.

use std::collections::VecDeque;
use std::io::BufRead;
use std::time::Duration;

use rustls::{CipherSuite, Connection, HandshakeKind, ProtocolVersion};
use rustls_pki_types::ServerName;
use seine_buffer::Bytes;
use seine_channel::{
    ChannelError, ChannelHandler, Context, Counter, Handler, InboundContext, InboundHandler,
    KernelTlsRecord, OutboundBuf, OutboundContext, OutboundHandler, Promise, UserEvent,
};

use crate::config::{TlsClientConfig, TlsServerConfig};
use crate::error::TlsError;
use crate::handshake::{Handshake, HandshakeComplete};
use crate::ktls::KtlsSupport;

mod ktls;
mod outbound;

use ktls::RecordFramer;

/// The handshake timeout unless set otherwise: 10 s.
pub const DEFAULT_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Plaintext per record: a `FileRegion` is read in chunks of this size, each
/// encrypted into one full TLS record.
pub const RECORD_PLAINTEXT: usize = 16 * 1024;

/// The key of the handler's one timer.
const HANDSHAKE_TIMER: u64 = 0;

/// TLS in the pipeline: server or client, one duplex slot next to the head.
///
/// * **Inbound** it reads the transport's `Bytes` (TLS records) and fires the
///   plaintext as `Bytes` (one copy, out of rustls' buffer). Bytes that arrive
///   before the handshake ends drive it; the first plaintext is preceded by a
///   [`HandshakeComplete`] user event (also the outcome of [`handshake`](Self::handshake)).
/// * **Outbound** it accepts [`OutboundBuf`] (what seine's codecs emit) and writes
///   `Bytes` of records. Bytes and composites are encrypted at once (rustls copies
///   the plaintext into the record it encrypts, and the record is copied once out
///   of rustls). A **`FileRegion` needs no user code**: it is read with `pread`
///   in 16 KiB chunks, each encrypted into one full record, only while the channel
///   is writable — so a download to a reader that stops holds about the high water
///   mark of records, never the file — and resumed when the channel becomes
///   writable again. The region's `Progress` advances chunk by chunk; its write
///   completes when its last record is written. Writes made before the handshake
///   ends wait for it.
/// * **Close**: a graceful close (`close`, `shutdown_output`) sends `close_notify`
///   after what was written, then passes the close on; `close_now` drops what waits.
///   A received `close_notify` is end of input (`input_closed` is fired), answered
///   with `close_notify` and a close once what was written is out; an EOF
///   without one is fired as [`TlsError::TruncatedWithoutCloseNotify`], then
///   `input_closed`.
/// * **Errors**: a peer that breaks the protocol (plain HTTP, garbage) gets an alert,
///   the error is fired as [`TlsError::Protocol`] and the channel closes. The
///   handshake must finish within [`DEFAULT_HANDSHAKE_TIMEOUT`] (or the timeout
///   set), else [`TlsError::HandshakeTimedOut`] and the channel closes at once.
/// * **STARTTLS**: added to a running pipeline (`replace` the decoder that read the
///   command with it, so its leftover bytes — a pipelined ClientHello — reach it;
///   add the plaintext decoder after it) it starts at once.
/// * **kTLS**: where the kernel has the `tls` ULP ([`KtlsSupport`]) and the
///   configuration wants it (the default), the session's keys go to the kernel
///   right after the handshake (TLS 1.3 / 1.2, AES-GCM or ChaCha20-Poly1305, on
///   a TCP socket). Then the handler only passes plaintext through: writes go
///   to the transport as they are, a `FileRegion` whole (to `sendfile`); reads
///   are the kernel's plaintext; `close_notify` from the kernel is end of input,
///   another alert or a KeyUpdate closes the channel, a NewSessionTicket to a
///   client is skipped; a graceful close sends `close_notify` through the kernel
///   before the FIN. Anything that prevents the hand-off before it touches the
///   socket keeps the session in user space as described above (logged once per
///   process, counted). While such a handshake runs, rustls is given one record
///   at a time, so that the kernel takes over at a record boundary. The handler
///   must sit next to the head for this (the hand-off talks to the transport).
/// * **Metrics**: channel counters `tls_bytes_encrypted_user`,
///   `tls_bytes_encrypted_kernel`, `tls_bytes_decrypted`,
///   `tls_bytes_decrypted_kernel`, `tls_ktls_offloaded`, `tls_ktls_fallbacks`
///   (see the crate documentation).
///
/// ```
/// use seine_channel::{Handler, testing::EmbeddedChannel};
/// use seine_tls::{TlsClientConfig, TlsHandler};
///
/// let config = TlsClientConfig::builder().webpki_roots().build().unwrap();
/// let tls = TlsHandler::client(&config, "example.com").unwrap();
/// let handshake = tls.handshake(); // await it, or poll it with result()
/// let mut ch = EmbeddedChannel::with_handlers([("tls", Handler::from(tls))]);
/// // The ClientHello went out as soon as the channel was active.
/// assert_eq!(ch.read_outbound_bytes()[0], 0x16); // a handshake record
/// assert!(handshake.result().is_none());
/// ```
pub struct TlsHandler {
    /// rustls' connection; `None` once the kernel runs the record layer.
    conn: Option<Connection>,
    /// The name a client connected to.
    client_name: Option<String>,
    timeout: Option<Duration>,
    handshake: Handshake,
    started: bool,
    handshaking: bool,
    queue: VecDeque<(OutboundBuf, Promise)>,
    close: PendingClose,
    received_close_notify: bool,
    input_closed_fired: bool,
    sent_close_notify: bool,
    failed: bool,
    counters: Option<Counters>,
    /// The configuration asks for kTLS (see [`KtlsSupport`]).
    ktls_wanted: bool,
    /// Record boundaries of what rustls got, while a handshake that may be
    /// handed off to the kernel runs.
    framer: Option<RecordFramer>,
    /// The kernel runs the record layer (kTLS): plaintext and files pass through.
    kernel: bool,
    /// The hand-off was tried or ruled out (once per session).
    ktls_decided: bool,
    /// What the kernel offers ([`KtlsSupport::get`]).
    support: KtlsSupport,
    /// The handshake's outcome, kept when the connection goes to the kernel.
    completed: Option<HandshakeComplete>,
    /// Plaintext taken out of rustls just before the hand-off, passed on after
    /// the handshake event.
    early: Option<Bytes>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum PendingClose {
    None,
    Close,
    Shutdown,
}

struct Counters {
    user: Counter,
    decrypted: Counter,
    kernel: Counter,
    kernel_decrypted: Counter,
    offloaded: Counter,
    fallbacks: Counter,
}

impl TlsHandler {
    /// A server-side handler.
    pub fn server(config: &TlsServerConfig) -> Self {
        // rustls fails only for a configuration without protocol versions, which
        // TlsServerConfig never builds; a hand-made one is the caller's.
        let conn = rustls::ServerConnection::new(config.inner.clone())
            .expect("a server configuration with protocol versions");
        Self::with_connection(conn.into(), None, config.ktls)
    }

    /// A client-side handler that connects to `server_name` (a DNS name, checked
    /// against the server's certificate and sent by SNI, or an IP address).
    ///
    /// # Errors
    /// [`TlsError::InvalidServerName`] if the name is neither.
    pub fn client(config: &TlsClientConfig, server_name: &str) -> Result<Self, TlsError> {
        let name = ServerName::try_from(server_name.to_owned()).map_err(|_| {
            TlsError::InvalidServerName {
                name: server_name.to_owned(),
            }
        })?;
        let conn = rustls::ClientConnection::new(config.inner.clone(), name).map_err(|e| {
            TlsError::InvalidConfig {
                reason: e.to_string(),
            }
        })?;
        Ok(Self::with_connection(
            conn.into(),
            Some(server_name.to_owned()),
            config.ktls,
        ))
    }

    fn with_connection(
        mut conn: Connection,
        client_name: Option<String>,
        ktls_wanted: bool,
    ) -> Self {
        // The handler bounds what it gives rustls itself (one record's worth
        // at a time, files only while writable).
        conn.set_buffer_limit(None);
        TlsHandler {
            conn: Some(conn),
            client_name,
            timeout: Some(DEFAULT_HANDSHAKE_TIMEOUT),
            handshake: Handshake::default(),
            started: false,
            handshaking: true,
            queue: VecDeque::new(),
            close: PendingClose::None,
            received_close_notify: false,
            input_closed_fired: false,
            sent_close_notify: false,
            failed: false,
            counters: None,
            ktls_wanted,
            // Records are followed only where the kernel may take them.
            support: KtlsSupport::get(),
            framer: (ktls_wanted && KtlsSupport::get().kernel_encrypts())
                .then(RecordFramer::default),
            kernel: false,
            ktls_decided: false,
            completed: None,
            early: None,
        }
    }

    /// Sets the handshake timeout (`None`: wait forever). Default 10 s.
    pub fn handshake_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.timeout = timeout;
        self
    }

    /// The handshake's outcome, to await or poll (take it before adding the
    /// handler to a pipeline).
    pub fn handshake(&self) -> Handshake {
        self.handshake.clone()
    }

    /// Starts the handshake once the channel is active: the timeout, and a
    /// client's ClientHello.
    fn start(&mut self, ctx: &mut Context<'_>) {
        if self.started {
            return;
        }
        self.started = true;
        let m = ctx.channel().metrics();
        self.counters = Some(Counters {
            user: m.counter("tls_bytes_encrypted_user"),
            decrypted: m.counter("tls_bytes_decrypted"),
            kernel: m.counter("tls_bytes_encrypted_kernel"),
            kernel_decrypted: m.counter("tls_bytes_decrypted_kernel"),
            offloaded: m.counter("tls_ktls_offloaded"),
            fallbacks: m.counter("tls_ktls_fallbacks"),
        });
        if let Some(t) = self.timeout {
            ctx.set_timer_after(HANDSHAKE_TIMER, t);
        }
        if self.emit_void(ctx) {
            ctx.flush();
        }
    }

    fn info(&self) -> HandshakeComplete {
        let Some(conn) = &self.conn else {
            return self.completed.clone().unwrap_or_else(|| HandshakeComplete {
                protocol_version: ProtocolVersion::Unknown(0),
                cipher_suite: CipherSuite::Unknown(0),
                alpn_protocol: None,
                server_name: self.client_name.clone(),
                peer_certificates: Vec::new(),
                resumed: false,
            });
        };
        HandshakeComplete {
            protocol_version: conn
                .protocol_version()
                .unwrap_or(ProtocolVersion::Unknown(0)),
            cipher_suite: conn
                .negotiated_cipher_suite()
                .map_or(CipherSuite::Unknown(0), |s| s.suite()),
            alpn_protocol: conn.alpn_protocol().map(<[u8]>::to_vec),
            server_name: match conn {
                Connection::Server(s) => s.server_name().map(str::to_owned),
                Connection::Client(_) => self.client_name.clone(),
            },
            peer_certificates: conn
                .peer_certificates()
                .map(<[_]>::to_vec)
                .unwrap_or_default(),
            resumed: conn.handshake_kind() == Some(HandshakeKind::Resumed),
        }
    }

    /// The peer broke the protocol: the alert rustls queued goes out, the error
    /// is fired, the channel closes (after the alert).
    fn fail(&mut self, ctx: &mut Context<'_>, error: TlsError) {
        if self.failed {
            return;
        }
        self.failed = true;
        self.queue.clear();
        ctx.cancel_timer(HANDSHAKE_TIMER);
        if self.handshaking {
            self.handshake.resolve(Err(error.clone()));
        }
        self.emit_void(ctx);
        ctx.fire_exception(error);
        ctx.close();
    }

    /// After rustls processed records: the handshake's end, records to send,
    /// plaintext to pass on.
    fn after_packets(&mut self, ctx: &mut InboundContext<'_, Bytes>) {
        let finished = self.handshaking && !self.conn.as_ref().is_some_and(|c| c.is_handshaking());
        if finished {
            self.handshaking = false;
            if self.ktls_wanted && !self.ktls_decided {
                self.hand_off_skipped();
            }
            ctx.cancel_timer(HANDSHAKE_TIMER);
            let info = self.info();
            tracing::debug!(
                channel = %ctx.channel().id(),
                version = ?info.protocol_version,
                suite = ?info.cipher_suite,
                "TLS handshake complete"
            );
            self.handshake.resolve(Ok(info.clone()));
            ctx.fire_user_event(info);
        }
        self.emit_void(ctx);
        if finished {
            self.pump(ctx);
        }
        self.read_plaintext(ctx);
    }

    /// Passes on the plaintext rustls decrypted; notes a received close_notify.
    fn read_plaintext(&mut self, ctx: &mut InboundContext<'_, Bytes>) {
        if let Some(early) = self.early.take() {
            if let Some(c) = &self.counters {
                c.decrypted.add(early.len() as u64);
            }
            ctx.fire_read(early);
            if self.failed || ctx.is_removed() {
                return;
            }
        }
        loop {
            let Some(conn) = self.conn.as_mut() else {
                return;
            };
            let mut reader = conn.reader();
            match reader.fill_buf() {
                Ok([]) => {
                    self.received_close_notify = true;
                    if !self.input_closed_fired {
                        self.input_closed_fired = true;
                        ctx.fire_input_closed();
                    }
                    // Answer with close_notify and close once what was written
                    // is out (as Netty's SslHandler does): a peer that waits for
                    // the answer (Python's unwrap) is not left hanging.
                    if !ctx.is_closing() {
                        self.graceful_close(ctx);
                    }
                    return;
                }
                Ok(chunk) => {
                    let bytes = Bytes::copy_from_slice(chunk);
                    let n = bytes.len();
                    reader.consume(n);
                    if let Some(c) = &self.counters {
                        c.decrypted.add(n as u64);
                    }
                    ctx.fire_read(bytes);
                    if self.failed || ctx.is_removed() {
                        return;
                    }
                }
                // WouldBlock: nothing more now.
                Err(_) => return,
            }
        }
    }
}

impl From<TlsHandler> for Handler {
    fn from(h: TlsHandler) -> Handler {
        Handler::duplex(h)
    }
}

impl ChannelHandler for TlsHandler {
    fn handler_added(&mut self, ctx: &mut Context<'_>) {
        // Added to a running channel (STARTTLS): start now.
        if ctx.is_active() {
            self.start(ctx);
        }
    }

    fn handler_removed(&mut self, _ctx: &mut Context<'_>) {
        if self.handshaking {
            self.handshake.resolve(Err(TlsError::ClosedDuringHandshake));
        }
    }

    fn timer_fired(&mut self, ctx: &mut Context<'_>, key: u64) {
        if key != HANDSHAKE_TIMER || !self.handshaking || self.failed {
            return;
        }
        let after = self.timeout.unwrap_or_default();
        tracing::debug!(channel = %ctx.channel().id(), ?after, "TLS handshake timed out");
        self.failed = true;
        self.queue.clear();
        let err = TlsError::HandshakeTimedOut { after };
        self.handshake.resolve(Err(err.clone()));
        ctx.fire_exception(err);
        ctx.close_now();
    }
}

impl InboundHandler for TlsHandler {
    type Read = Bytes;
    type Fire = Bytes;

    fn channel_active(&mut self, ctx: &mut InboundContext<'_, Bytes>) {
        self.start(ctx);
        ctx.fire_active();
    }

    fn channel_read(&mut self, ctx: &mut InboundContext<'_, Bytes>, msg: Bytes) {
        if !self.started {
            self.start(ctx);
        }
        if self.failed || self.received_close_notify {
            return; // nothing after an error or close_notify is read
        }
        if self.kernel {
            // The kernel decrypted it.
            if let Some(c) = &self.counters {
                c.kernel_decrypted.add(msg.len() as u64);
            }
            return ctx.fire_read(msg);
        }
        let mut rd: &[u8] = &msg;
        let mut stuck = false;
        while !rd.is_empty() {
            let Some(conn) = self.conn.as_mut() else {
                return;
            };
            // While a handshake that may go to the kernel runs: one record at a time.
            let limit = self.framer.as_ref().map_or(rd.len(), |f| f.span(rd));
            let mut part = &rd[..limit];
            match conn.read_tls(&mut part) {
                Ok(0) => return, // close_notify was received
                Ok(n) => {
                    stuck = false;
                    if let Some(f) = self.framer.as_mut() {
                        f.consume(&rd[..n]);
                    }
                    rd = &rd[n..];
                }
                // rustls' plaintext buffer is full: drained below, then retried.
                Err(e) if !stuck => {
                    stuck = true;
                    tracing::trace!(error = %e, "read_tls paused");
                }
                Err(e) => {
                    let err = TlsError::Protocol(rustls::Error::General(e.to_string()));
                    return self.fail(ctx, err);
                }
            }
            if let Err(e) = conn.process_new_packets() {
                return self.fail(ctx, TlsError::Protocol(e));
            }
            if self.framer.is_some()
                && !conn.is_handshaking()
                && self.framer.as_ref().is_some_and(RecordFramer::at_boundary)
                && let Err(e) = self.try_hand_off(ctx, &mut rd)
            {
                return self.fail(ctx, e);
            }
            self.after_packets(ctx);
            if self.failed || self.received_close_notify || ctx.is_removed() {
                return;
            }
            if self.kernel && !rd.is_empty() {
                // Cannot happen: the hand-off takes whole records only.
                return self.fail(
                    ctx,
                    TlsError::KtlsHandOff {
                        reason: "bytes left after the hand-off".into(),
                    },
                );
            }
        }
    }

    fn user_event(&mut self, ctx: &mut InboundContext<'_, Bytes>, event: UserEvent) {
        match event.downcast::<KernelTlsRecord>() {
            Ok(rec) if self.kernel => self.kernel_record(ctx, &rec),
            Ok(rec) => ctx.fire_user_event(rec),
            Err(event) => ctx.fire_user_event(event),
        }
    }

    fn input_closed(&mut self, ctx: &mut InboundContext<'_, Bytes>) {
        if self.input_closed_fired {
            return;
        }
        self.input_closed_fired = true;
        if !self.failed {
            if self.handshaking {
                self.failed = true;
                ctx.cancel_timer(HANDSHAKE_TIMER);
                self.handshake.resolve(Err(TlsError::ClosedDuringHandshake));
                ctx.fire_exception(TlsError::ClosedDuringHandshake);
            } else if !self.received_close_notify {
                ctx.fire_exception(TlsError::TruncatedWithoutCloseNotify);
            }
        }
        ctx.fire_input_closed();
    }

    fn channel_writability_changed(&mut self, ctx: &mut InboundContext<'_, Bytes>) {
        if ctx.is_writable() && !self.queue.is_empty() && self.pump(ctx) {
            ctx.flush();
        }
        ctx.fire_writability_changed();
    }

    fn channel_inactive(&mut self, ctx: &mut InboundContext<'_, Bytes>) {
        if self.handshaking {
            self.handshake.resolve(Err(TlsError::ClosedDuringHandshake));
        }
        self.queue.clear();
        ctx.fire_inactive();
    }
}

impl OutboundHandler for TlsHandler {
    type Write = OutboundBuf;
    type Emit = OutboundBuf;

    fn write(
        &mut self,
        ctx: &mut OutboundContext<'_, OutboundBuf>,
        msg: OutboundBuf,
        promise: Promise,
    ) {
        if self.failed || self.sent_close_notify || self.close != PendingClose::None {
            return ctx.fail_promise(promise, ChannelError::Closed);
        }
        if self.kernel && self.queue.is_empty() {
            if let Some(c) = &self.counters {
                c.kernel.add(msg.len() as u64);
            }
            return ctx.write(msg, promise);
        }
        // Encrypted at the flush, as Netty's SslHandler does: the writes of one
        // flush (a response's head and its body) then share records instead of
        // taking one each, which costs a seal and 22 bytes per write.
        let large = !msg.is_file() && msg.len() >= RECORD_PLAINTEXT;
        self.queue.push_back((msg, promise));
        if large {
            self.pump(ctx);
        }
    }

    fn flush(&mut self, ctx: &mut OutboundContext<'_, OutboundBuf>) {
        self.pump(ctx);
        ctx.flush();
    }

    fn close(&mut self, ctx: &mut OutboundContext<'_, OutboundBuf>) {
        if ctx.is_closing_now() || self.failed || self.handshaking {
            self.queue.clear();
            return ctx.close();
        }
        self.graceful_close(ctx);
    }

    fn shutdown_output(&mut self, ctx: &mut OutboundContext<'_, OutboundBuf>) {
        if self.failed || self.handshaking {
            return ctx.shutdown_output();
        }
        if !self.queue.is_empty() {
            self.close = PendingClose::Shutdown;
            self.pump(ctx);
            return;
        }
        self.send_close_notify(ctx);
        ctx.shutdown_output();
    }
}
