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
//! ## kTLS: the record layer in the kernel
//!
//! Where the kernel offers the `tls` upper-layer protocol (`tls` listed in
//! [`AVAILABLE_ULP_PATH`]), a session's keys go to the kernel right after its
//! handshake, before any plaintext is passed on. From then on:
//!
//! * **offloaded**: the kernel encrypts what the channel writes and decrypts what
//!   it reads; the handler passes plaintext through, and a `FileRegion` reaches
//!   the transport whole and goes out with `sendfile(2)` (the kernel encrypts
//!   the file's pages: no read into user space, no copy);
//! * records that are not data come from the transport as
//!   [`KernelTlsRecord`](seine_channel::KernelTlsRecord) events: `close_notify` is
//!   end of input, another alert closes with [`TlsError::Protocol`], a TLS 1.3
//!   NewSessionTicket to a client is skipped (the next connection makes a full
//!   handshake), a KeyUpdate (which the kernel cannot follow with these keys)
//!   closes with [`TlsError::KtlsUnexpectedRecord`]; a graceful close sends
//!   `close_notify` through the kernel before the FIN.
//!
//! It is used for TLS 1.3 and 1.2 sessions with AES-128-GCM, AES-256-GCM or
//! ChaCha20-Poly1305 on TCP sockets, when the configuration wants it (the
//! default; `no_ktls()` on the builders turns it off; a configuration from
//! `from_rustls` wants it if its `enable_secret_extraction` is set).
//! **Falls back** to user space, session by session, untouched: a kernel without
//! the ULP, another suite, an embedded channel (no socket), bytes of the peer
//! read past the handshake that end inside a record, a refused `TCP_ULP`. The
//! first fallback is logged once per process (info), each counted. A failure
//! after the keys left rustls (the kernel refuses `TLS_TX`/`TLS_RX`) closes the
//! channel with [`TlsError::KtlsHandOff`].
//!
//! **Counters** (per channel, in `Channel::metrics`): `tls_bytes_encrypted_user`
//! / `tls_bytes_encrypted_kernel` (plaintext encrypted by rustls / handed to
//! the kernel), `tls_bytes_decrypted` / `tls_bytes_decrypted_kernel`,
//! `tls_ktls_offloaded` (1 when the session went to the kernel),
//! `tls_ktls_fallbacks` (1 when it was wanted and stayed in user space).
//! Details: the `ktls` module's source (`tls/src/ktls/mod.rs`).
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
