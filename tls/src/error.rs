//! [`TlsError`], everything this crate reports.

use std::fmt;
use std::io;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// What seine-tls reports: configuration errors (each naming the file at fault)
/// and connection errors (fired as `exception_caught`; get them back with
/// `error.downcast_ref::<TlsError>()`). Cloning is cheap.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum TlsError {
    /// A certificate, key or CA file could not be read.
    CannotReadFile {
        /// The file.
        path: PathBuf,
        /// Why.
        source: Arc<io::Error>,
    },
    /// A file is not valid PEM.
    InvalidPem {
        /// The file.
        path: PathBuf,
        /// What the PEM parser said.
        reason: String,
    },
    /// A certificate file holds no `CERTIFICATE` section.
    NoCertificateInFile {
        /// The file.
        path: PathBuf,
    },
    /// A key file holds no private key (PKCS#8, PKCS#1 or SEC1 section).
    NoPrivateKeyInFile {
        /// The file.
        path: PathBuf,
    },
    /// The private key is not one rustls can sign with (RSA, ECDSA P-256/P-384, Ed25519).
    UnsupportedPrivateKey {
        /// The key file.
        path: PathBuf,
        /// What rustls said.
        reason: String,
    },
    /// The private key is not the key of the first certificate of the chain.
    KeyDoesNotMatchCertificate {
        /// The certificate chain file.
        cert: PathBuf,
        /// The key file.
        key: PathBuf,
    },
    /// A CA file's certificates cannot be used as trust anchors.
    InvalidCaFile {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// A server configuration has no certificate at all.
    NoCertificateConfigured,
    /// rustls refused the configuration.
    InvalidConfig {
        /// What rustls said.
        reason: String,
    },
    /// The name given for the server is neither a DNS name nor an IP address.
    InvalidServerName {
        /// The name.
        name: String,
    },
    /// The handshake did not finish within the handshake timeout.
    HandshakeTimedOut {
        /// The timeout.
        after: Duration,
    },
    /// The channel closed (or the peer sent EOF) before the handshake finished.
    ClosedDuringHandshake,
    /// The peer broke the TLS protocol (a plain-text client, garbage, a bad
    /// certificate); an alert was sent and the channel closed.
    Protocol(rustls::Error),
    /// The peer ended its stream without `close_notify`: what was received may be
    /// truncated (a close-delimited body must not be taken as complete).
    TruncatedWithoutCloseNotify,
    /// A `FileRegion` written through TLS could not be read.
    FileRegionUnreadable {
        /// What the read said.
        reason: String,
    },
    /// The kernel refused the session's keys after they were taken out of
    /// rustls (kTLS): the session cannot go on, the channel closes. (A refusal
    /// before that — no `tls` ULP — keeps the session in user space instead.)
    KtlsHandOff {
        /// What failed.
        reason: String,
    },
    /// With the record layer in the kernel (kTLS), the peer sent a record the
    /// kernel cannot follow (a TLS 1.3 KeyUpdate) or that is not allowed
    /// there; the channel closes.
    KtlsUnexpectedRecord {
        /// The record's content type (22: handshake).
        content_type: u8,
        /// What it was.
        reason: String,
    },
}

impl fmt::Display for TlsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TlsError::CannotReadFile { path, source } => {
                write!(f, "cannot read {}: {source}", path.display())
            }
            TlsError::InvalidPem { path, reason } => {
                write!(f, "{} is not valid PEM: {reason}", path.display())
            }
            TlsError::NoCertificateInFile { path } => write!(
                f,
                "{} holds no certificate: give a PEM file with a BEGIN CERTIFICATE section",
                path.display()
            ),
            TlsError::NoPrivateKeyInFile { path } => write!(
                f,
                "{} holds no private key: give a PEM file with a BEGIN PRIVATE KEY, \
                 BEGIN RSA PRIVATE KEY or BEGIN EC PRIVATE KEY section",
                path.display()
            ),
            TlsError::UnsupportedPrivateKey { path, reason } => write!(
                f,
                "the private key in {} cannot be used (RSA, ECDSA P-256/P-384 or Ed25519 are): {reason}",
                path.display()
            ),
            TlsError::KeyDoesNotMatchCertificate { cert, key } => write!(
                f,
                "the private key in {} is not the key of the first certificate in {}",
                key.display(),
                cert.display()
            ),
            TlsError::InvalidCaFile { path, reason } => {
                write!(f, "the CA file {} cannot be used: {reason}", path.display())
            }
            TlsError::NoCertificateConfigured => f.write_str(
                "the TLS server configuration has no certificate: add one with cert_and_key_files",
            ),
            TlsError::InvalidConfig { reason } => write!(f, "invalid TLS configuration: {reason}"),
            TlsError::InvalidServerName { name } => write!(
                f,
                "`{name}` is not a server name: give a DNS name or an IP address"
            ),
            TlsError::HandshakeTimedOut { after } => {
                write!(f, "the TLS handshake did not finish within {after:?}")
            }
            TlsError::ClosedDuringHandshake => {
                f.write_str("the connection closed before the TLS handshake finished")
            }
            TlsError::Protocol(e) => write!(f, "TLS protocol error: {e}"),
            TlsError::TruncatedWithoutCloseNotify => f.write_str(
                "the peer closed the connection without a TLS close_notify: the data may be truncated",
            ),
            TlsError::FileRegionUnreadable { reason } => {
                write!(f, "a file region written through TLS could not be read: {reason}")
            }
            TlsError::KtlsHandOff { reason } => {
                write!(f, "the kernel refused the TLS session's keys (kTLS): {reason}")
            }
            TlsError::KtlsUnexpectedRecord {
                content_type,
                reason,
            } => write!(
                f,
                "kTLS: a record of type {content_type} the kernel cannot follow: {reason}"
            ),
        }
    }
}

impl std::error::Error for TlsError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            TlsError::CannotReadFile { source, .. } => Some(&**source),
            TlsError::Protocol(e) => Some(e),
            _ => None,
        }
    }
}
