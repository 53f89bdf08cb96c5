//! kTLS detection: whether the kernel offers the `tls` upper-layer protocol, so
//! that record encryption (and `sendfile` of files) could move into the kernel.
//!
//! seine-tls detects the ULP and, where it is missing, encrypts in user space; the
//! choice is logged once per process and counted per channel
//! (`tls_bytes_encrypted_user` / `tls_bytes_encrypted_kernel`). Handing the
//! session keys to the kernel needs the socket itself (`setsockopt(SOL_TLS)`),
//! which a pipeline handler cannot reach through the transport today: where the
//! ULP exists, user space encrypts as well and the log line says so.

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
