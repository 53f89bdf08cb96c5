//! kTLS detection: whether the kernel offers the `tls` upper-layer protocol, so
//! that record encryption (and `sendfile` of files) could move into the kernel.
//!
//! seine-tls detects the ULP and, where it is missing, encrypts in user space; the
//! choice is logged once per process ([`KtlsSupport::get`]) and counted per channel
//! (`tls_bytes_encrypted_user` / `tls_bytes_encrypted_kernel`).
//!
//! **The key hand-off is not built yet.** Where the ULP exists, user space
//! encrypts as well and the log line says so. What the hand-off needs, for whoever
//! builds it (and a machine with the `tls` module to test it on):
//!
//! * the server configuration with `enable_secret_extraction = true`, and after the
//!   handshake `Connection::dangerous_extract_secrets()` (it consumes the rustls
//!   connection: from then on the kernel frames every record, both ways);
//! * the socket itself: `setsockopt(IPPROTO_TCP, TCP_ULP, "tls")`, then
//!   `setsockopt(SOL_TLS, TLS_TX / TLS_RX, tls12_crypto_info_aes_gcm_128 | _256 |
//!   chacha20_poly1305)` with the version, key, IV, salt and record sequence
//!   number rustls extracted. A pipeline handler cannot reach the socket: this
//!   is a new transport call (say `Transport::enable_ktls(secrets)`), after which
//!   the TLS handler passes plaintext and `FileRegion`s through untouched and the
//!   transport's `sendfile` path applies again;
//! * non-application records (alerts, close_notify, TLS 1.3 NewSessionTicket and
//!   KeyUpdate, which kernels before 6.x cannot rekey) go through `sendmsg`/`recvmsg`
//!   with a `TLS_SET_RECORD_TYPE` / `TLS_GET_RECORD_TYPE` control message;
//! * a fallback to user space when any `setsockopt` fails (the secrets are already
//!   extracted then: the connection must be closed, so probe with a throwaway
//!   socket before the handshake).

use std::sync::OnceLock;

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
                    "kTLS: the kernel offers the tls ULP, but keys are not handed to it yet; \
                     TLS records are encrypted in user space"
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

    /// Whether records are encrypted by the kernel on this machine. Always false
    /// for now (see the module documentation).
    pub fn kernel_encrypts(self) -> bool {
        false
    }
}
