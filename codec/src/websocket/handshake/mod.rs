//! The opening handshake (RFC 6455, section 4): the accept key, the server side
//! on the HTTP codec, the client side over a fresh connection.

mod client;
mod server;

pub use client::WebSocketClientProtocolHandler;
pub use server::{WebSocketAppInit, WebSocketServerProtocolHandler};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use sha1::{Digest, Sha1};

/// The GUID RFC 6455 appends to the key.
const GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// `Sec-WebSocket-Accept` for a `Sec-WebSocket-Key`: base64(SHA-1(key + GUID)).
///
/// ```
/// // The example of RFC 6455, section 1.3.
/// assert_eq!(
///     seine_codec::websocket::accept_key("dGhlIHNhbXBsZSBub25jZQ=="),
///     "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
/// );
/// ```
pub fn accept_key(key: &str) -> String {
    let mut sha = Sha1::new();
    sha.update(key.as_bytes());
    sha.update(GUID.as_bytes());
    STANDARD.encode(sha.finalize())
}

/// Whether `key` is base64 of 16 bytes, as a `Sec-WebSocket-Key` must be.
fn valid_key(key: &str) -> bool {
    STANDARD.decode(key).is_ok_and(|k| k.len() == 16)
}

/// A fresh random `Sec-WebSocket-Key`.
fn new_key() -> String {
    let mut nonce = [0u8; 16];
    if let Err(e) = getrandom::fill(&mut nonce) {
        tracing::warn!(error = %e, "getrandom failed for a WebSocket key");
    }
    STANDARD.encode(nonce)
}

/// Fired (as a user event, from the head of the pipeline) once a handshake has
/// completed and the WebSocket codec is in place. On the server it arrives after
/// any message that came in the same read as the upgrade request.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct WebSocketHandshakeComplete {
    /// The request target (`/ws?room=1`).
    pub uri: String,
    /// The subprotocol agreed on, if any.
    pub subprotocol: Option<String>,
    /// Whether permessage-deflate was negotiated.
    pub deflate: bool,
}
