//! What a finished handshake tells: the [`HandshakeComplete`] user event and the
//! [`Handshake`] completion.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Waker};

use rustls::{CipherSuite, ProtocolVersion};
use rustls_pki_types::CertificateDer;

use crate::error::TlsError;

/// Fired as a user event by the [`TlsHandler`](crate::TlsHandler) when its
/// handshake finishes (Netty's `SslHandshakeCompletionEvent`), before any
/// plaintext is passed on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HandshakeComplete {
    /// The protocol version agreed (TLS 1.3 or 1.2).
    pub protocol_version: ProtocolVersion,
    /// The cipher suite agreed.
    pub cipher_suite: CipherSuite,
    /// The application protocol agreed by ALPN, if any.
    pub alpn_protocol: Option<Vec<u8>>,
    /// The server name the client asked for by SNI (on the server), or the name
    /// the client connected to (on the client).
    pub server_name: Option<String>,
    /// The peer's certificate chain, leaf first (empty if it sent none).
    pub peer_certificates: Vec<CertificateDer<'static>>,
    /// Whether the session was resumed (an abbreviated handshake).
    pub resumed: bool,
}

#[derive(Default)]
struct State {
    result: Option<Result<HandshakeComplete, TlsError>>,
    wakers: Vec<Waker>,
}

/// The outcome of one handler's handshake, observable from any thread: poll it
/// with [`result`](Self::result) or await it. Cloning is O(1).
///
/// ```
/// # use seine_tls::{Handshake};
/// let hs = Handshake::default();
/// assert!(hs.result().is_none()); // not finished
/// ```
#[derive(Clone, Default)]
pub struct Handshake {
    state: Arc<Mutex<State>>,
}

impl Handshake {
    /// The outcome, once known.
    pub fn result(&self) -> Option<Result<HandshakeComplete, TlsError>> {
        self.lock().result.clone()
    }

    pub(crate) fn resolve(&self, result: Result<HandshakeComplete, TlsError>) {
        let wakers = {
            let mut s = self.lock();
            if s.result.is_some() {
                return;
            }
            s.result = Some(result);
            std::mem::take(&mut s.wakers)
        };
        for w in wakers {
            w.wake();
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl std::fmt::Debug for Handshake {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Handshake")
            .field("result", &self.lock().result)
            .finish()
    }
}

impl Future for Handshake {
    type Output = Result<HandshakeComplete, TlsError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut s = self.lock();
        match &s.result {
            Some(r) => Poll::Ready(r.clone()),
            None => {
                if !s.wakers.iter().any(|w| w.will_wake(cx.waker())) {
                    s.wakers.push(cx.waker().clone());
                }
                Poll::Pending
            }
        }
    }
}
