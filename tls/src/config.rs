//! Server and client configurations, built from PEM files.

mod client;
mod pem;
mod server;

pub use client::{TlsClientConfig, TlsClientConfigBuilder};
pub use server::{TlsServerConfig, TlsServerConfigBuilder};

/// The crypto provider: `ring` (builds with a C compiler only; aws-lc-rs needs
/// cmake too).
pub(crate) fn provider() -> rustls::crypto::CryptoProvider {
    rustls::crypto::ring::default_provider()
}

/// TLS 1.3 and 1.2.
pub(crate) fn protocol_versions() -> &'static [&'static rustls::SupportedProtocolVersion] {
    rustls::ALL_VERSIONS
}
