//! kTLS: the kernel's TLS record layer. After the handshake, where the kernel
//! offers the `tls` upper-layer protocol, the session's keys go to the kernel,
//! which from then on encrypts every record sent and decrypts every record
//! received on the socket; the channel writes plaintext, and a `FileRegion` goes
//! out with `sendfile(2)` again.
//!
//! * **When**: the kernel lists `tls` in [`AVAILABLE_ULP_PATH`] (detected once per
//!   process, [`KtlsSupport::get`], which logs the finding), the configuration
//!   wants it (the default; `ktls(false)` on the builders turns it off), the
//!   session is TLS 1.3 or 1.2 with AES-128-GCM, AES-256-GCM or
//!   ChaCha20-Poly1305, and the channel runs on a TCP socket.
//! * **How** ([`hand_off`]): right after the handshake, before any plaintext is
//!   passed on, what rustls has to send is flushed to the socket; then
//!   `setsockopt(TCP_ULP, "tls")`, then rustls' secrets are extracted
//!   (`dangerous_extract_secrets`, allowed by `enable_secret_extraction`, which
//!   the builders set only when kTLS is wanted and available) and set as
//!   `SOL_TLS`/`TLS_TX` and `TLS_RX` (the `crypto_info` structures of
//!   `linux/tls.h`, with the sequence numbers rustls reached).
//! * **Fallback**: anything that stops the hand-off before the first
//!   `setsockopt` succeeds — no ULP, another suite, records of the peer already
//!   read past a record boundary, bytes not yet on the socket, a socket that
//!   is not TCP, the ULP refused — keeps the session in user space, untouched.
//!   The first fallback of the process is logged (info), each is counted in
//!   the channel counter `tls_ktls_fallbacks`. A failure after the secrets left
//!   rustls cannot fall back: the channel closes with
//!   [`TlsError::KtlsHandOff`](crate::TlsError::KtlsHandOff).
//! * **Records that are not data**, read by the transport with their record type
//!   and passed to the handler: `close_notify` is end of input; another alert
//!   closes; a TLS 1.3 NewSessionTicket to a client is skipped; a KeyUpdate,
//!   which the kernel cannot follow with rustls' keys, closes the channel.
//!   A graceful close sends `close_notify` through the kernel before the FIN.

use std::os::fd::BorrowedFd;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};

use rustls::{CipherSuite, Connection, ProtocolVersion};

mod crypto_info;
mod socket;

use crypto_info::CryptoInfo;
use socket::Direction;

/// Where the kernel's list of available TCP upper-layer protocols lives.
pub const AVAILABLE_ULP_PATH: &str = "/proc/sys/net/ipv4/tcp_available_ulp";

/// What the kernel offers for TLS.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KtlsSupport {
    /// The `tls` ULP is listed: the kernel can encrypt records.
    Available,
    /// The list exists but has no `tls` (the module is not loaded or not built).
    NoTlsUlp,
    /// The list cannot be read (not Linux, or /proc is not mounted).
    Unknown,
}

impl KtlsSupport {
    /// Reads [`AVAILABLE_ULP_PATH`].
    pub fn detect() -> Self {
        match std::fs::read_to_string(AVAILABLE_ULP_PATH) {
            Ok(list) => Self::from_ulp_list(&list),
            Err(_) => KtlsSupport::Unknown,
        }
    }

    /// Parses the content of [`AVAILABLE_ULP_PATH`] (names separated by spaces).
    ///
    /// ```
    /// use seine_tls::KtlsSupport;
    /// assert_eq!(KtlsSupport::from_ulp_list("espintcp mptcp tls\n"), KtlsSupport::Available);
    /// assert_eq!(KtlsSupport::from_ulp_list("mptcp\n"), KtlsSupport::NoTlsUlp);
    /// ```
    pub fn from_ulp_list(list: &str) -> Self {
        if list.split_ascii_whitespace().any(|u| u == "tls") {
            KtlsSupport::Available
        } else {
            KtlsSupport::NoTlsUlp
        }
    }

    /// Detected once per process; the first call logs the choice (tracing, info).
    pub fn get() -> Self {
        static ONCE: OnceLock<KtlsSupport> = OnceLock::new();
        *ONCE.get_or_init(|| {
            let s = Self::detect();
            match s {
                KtlsSupport::Available => tracing::info!(
                    "kTLS: the kernel offers the tls ULP: after the handshake, sessions with \
                     AES-GCM or ChaCha20-Poly1305 hand their record layer to the kernel \
                     (files go out with sendfile)"
                ),
                KtlsSupport::NoTlsUlp => tracing::info!(
                    "kTLS: no tls ULP in {AVAILABLE_ULP_PATH}; TLS records are encrypted in user space \
                     and files are read in chunks instead of sent with sendfile"
                ),
                KtlsSupport::Unknown => tracing::info!(
                    "kTLS: {AVAILABLE_ULP_PATH} cannot be read; TLS records are encrypted in user space"
                ),
            }
            s
        })
    }

    /// Whether the kernel can take sessions' record layers on this machine
    /// (sessions still fall back one by one, see the module documentation).
    pub fn kernel_encrypts(self) -> bool {
        self == KtlsSupport::Available
    }
}

/// Why a session's record layer stays in user space.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Fallback {
    /// The kernel has no `tls` ULP.
    NoUlp,
    /// Neither TLS 1.2 nor TLS 1.3.
    Version(ProtocolVersion),
    /// A cipher suite the kernel does not take.
    Suite(CipherSuite),
    /// Records of the peer were read past the end of the handshake and end
    /// inside a record: the rest of it is for the kernel, its start is not.
    PartialRecord,
    /// The peer closed (close_notify) in the same read as the handshake's end.
    PeerClosed,
    /// The transport did not take it: bytes waiting to be written, no socket
    /// (an embedded channel), closing.
    Transport(std::io::ErrorKind),
    /// `setsockopt(TCP_ULP, "tls")` failed (not a TCP socket, ...).
    UlpRefused(std::io::ErrorKind),
}

impl std::fmt::Display for Fallback {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Fallback::NoUlp => write!(f, "the kernel has no tls ULP ({AVAILABLE_ULP_PATH})"),
            Fallback::Version(v) => write!(f, "{v:?} is not TLS 1.2 or 1.3"),
            Fallback::Suite(s) => write!(f, "the kernel does not take {s:?}"),
            Fallback::PartialRecord => {
                f.write_str("a record of the peer was read in part with the handshake's end")
            }
            Fallback::PeerClosed => f.write_str("the peer closed right after the handshake"),
            Fallback::Transport(k) => write!(f, "the transport did not take it ({k})"),
            Fallback::UlpRefused(k) => write!(f, "setsockopt(TCP_ULP, \"tls\") failed ({k})"),
        }
    }
}

/// Logs the first fallback of the process at info, the others at debug.
pub(crate) fn log_fallback(reason: &Fallback) {
    static LOGGED: AtomicBool = AtomicBool::new(false);
    if !LOGGED.swap(true, Ordering::Relaxed) {
        tracing::info!(
            %reason,
            "kTLS: this TLS session stays in user space (logged once; counted in \
             tls_ktls_fallbacks)"
        );
    } else {
        tracing::debug!(%reason, "kTLS: the TLS session stays in user space");
    }
}

/// Whether the kernel takes the record layer of a session of `version` and
/// `suite` (the checks made before anything is touched).
pub(crate) fn check_session(
    support: KtlsSupport,
    version: Option<ProtocolVersion>,
    suite: Option<CipherSuite>,
) -> Result<ProtocolVersion, Fallback> {
    if !support.kernel_encrypts() {
        return Err(Fallback::NoUlp);
    }
    let version = version.unwrap_or(ProtocolVersion::Unknown(0));
    if !matches!(version, ProtocolVersion::TLSv1_2 | ProtocolVersion::TLSv1_3) {
        return Err(Fallback::Version(version));
    }
    let suite = suite.unwrap_or(CipherSuite::Unknown(0));
    match suite {
        CipherSuite::TLS13_AES_128_GCM_SHA256
        | CipherSuite::TLS13_AES_256_GCM_SHA384
        | CipherSuite::TLS13_CHACHA20_POLY1305_SHA256
        | CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
        | CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384
        | CipherSuite::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256
        | CipherSuite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
        | CipherSuite::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384
        | CipherSuite::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256 => Ok(version),
        other => Err(Fallback::Suite(other)),
    }
}

/// The socket part of the hand-off, run by the transport with the socket
/// (through `Context::offload_tls`): the ULP, then the secrets out of `conn`
/// into `TLS_TX` and `TLS_RX`. `conn` is taken only once the ULP is attached;
/// `failure` says what failed.
pub(crate) fn hand_off(
    fd: BorrowedFd<'_>,
    conn: &mut Option<Connection>,
    version: ProtocolVersion,
    failure: &mut Option<HandOffError>,
) -> std::io::Result<()> {
    if let Err(e) = socket::set_tls_ulp(fd) {
        *failure = Some(HandOffError::Ulp(e.kind()));
        return Err(e);
    }
    let fail = |failure: &mut Option<HandOffError>, why: String| {
        *failure = Some(HandOffError::AfterUlp(why));
        std::io::Error::other("kTLS hand-off failed")
    };
    let Some(c) = conn.take() else {
        return Err(fail(failure, "no connection".into()));
    };
    let secrets = c
        .dangerous_extract_secrets()
        .map_err(|e| fail(failure, format!("extracting the secrets: {e}")))?;
    let tx = CryptoInfo::new(version, secrets.tx.0, &secrets.tx.1)
        .map_err(|e| fail(failure, format!("transmit keys: {e:?}")))?;
    let rx = CryptoInfo::new(version, secrets.rx.0, &secrets.rx.1)
        .map_err(|e| fail(failure, format!("receive keys: {e:?}")))?;
    drop(secrets);
    socket::set_keys(fd, Direction::Tx, &tx)
        .map_err(|e| fail(failure, format!("setsockopt(TLS_TX): {e}")))?;
    socket::set_keys(fd, Direction::Rx, &rx)
        .map_err(|e| fail(failure, format!("setsockopt(TLS_RX): {e}")))?;
    Ok(())
}

/// What [`hand_off`] reports beside its `io::Result`.
#[derive(Debug)]
pub(crate) enum HandOffError {
    /// The ULP was refused: nothing changed.
    Ulp(std::io::ErrorKind),
    /// Something failed after the ULP: the session cannot go on.
    AfterUlp(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_kernels_suites_and_versions_are_handed_off() {
        let ok = |v, s| check_session(KtlsSupport::Available, Some(v), Some(s));
        use CipherSuite as C;
        use ProtocolVersion as V;
        for s in [
            C::TLS13_AES_128_GCM_SHA256,
            C::TLS13_AES_256_GCM_SHA384,
            C::TLS13_CHACHA20_POLY1305_SHA256,
        ] {
            assert_eq!(ok(V::TLSv1_3, s), Ok(V::TLSv1_3));
        }
        for s in [
            C::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
            C::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
            C::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
        ] {
            assert_eq!(ok(V::TLSv1_2, s), Ok(V::TLSv1_2));
        }
        assert_eq!(
            ok(V::TLSv1_3, C::TLS13_AES_128_CCM_SHA256),
            Err(Fallback::Suite(C::TLS13_AES_128_CCM_SHA256))
        );
        assert_eq!(
            ok(V::TLSv1_1, C::TLS13_AES_128_GCM_SHA256),
            Err(Fallback::Version(V::TLSv1_1))
        );
        for s in [KtlsSupport::NoTlsUlp, KtlsSupport::Unknown] {
            assert_eq!(
                check_session(s, Some(V::TLSv1_3), Some(C::TLS13_AES_128_GCM_SHA256)),
                Err(Fallback::NoUlp)
            );
        }
    }
}
