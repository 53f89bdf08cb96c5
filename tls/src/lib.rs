//! # seine-tls
//!
//! TLS in the pipeline, on rustls' sans-IO connection API (the `ring` provider):
//! [`TlsHandler`] is one duplex slot next to the head that turns records into
//! plaintext and back. A `FileRegion` written through it is read in chunks and
//! encrypted into full records with no user code, bounded by the water marks, so
//! the same file-serving handler serves HTTP and HTTPS.
//!
//! * [`TlsServerConfig`] / [`TlsClientConfig`]: built from PEM files (errors name
//!   the file), SNI, ALPN, mutual TLS, resumption.
//! * [`HandshakeComplete`]: the user event fired when the handshake ends;
//!   [`Handshake`]: its outcome to await.
//! * [`KtlsSupport`]: whether the kernel offers kTLS (detected, logged once).
//! * [`TlsError`]: everything reported.
//!
//! ```
//! use seine_channel::{Handler, testing::EmbeddedChannel};
//! use seine_tls::{TlsClientConfig, TlsHandler};
//!
//! let config = TlsClientConfig::builder().webpki_roots().alpn(["http/1.1"]).build()?;
//! let mut ch = EmbeddedChannel::new();
//! ch.pipeline().add_first("tls", TlsHandler::client(&config, "example.com")?.into()).unwrap();
//! ch.activate();
//! assert!(!ch.read_outbound_bytes().is_empty()); // the ClientHello
//! # Ok::<(), seine_tls::TlsError>(())
//! ```
#![deny(missing_docs)]

mod config;
mod error;
mod handler;
mod handshake;
mod ktls;

pub use config::{
    TlsClientConfig, TlsClientConfigBuilder, TlsServerConfig, TlsServerConfigBuilder,
};
pub use error::TlsError;
pub use handler::{DEFAULT_HANDSHAKE_TIMEOUT, RECORD_PLAINTEXT, TlsHandler};
pub use handshake::{Handshake, HandshakeComplete};
pub use ktls::{AVAILABLE_ULP_PATH, KtlsSupport};

/// rustls itself, for configurations made by hand.
pub use rustls;
