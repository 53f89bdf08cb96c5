//! User events the framework itself fires.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// The server is shutting down gracefully: fired (as a user event, from the head
/// of the pipeline) to every open channel when shutdown begins, and to every
/// channel accepted from the listen backlog after that.
///
/// A handler that knows its protocol finishes the connection its own way and calls
/// [`take_over`](Self::take_over): an HTTP server ends the current response with
/// `Connection: close` (an idle keep-alive connection closes at once), a
/// request/response protocol answers what it has received, a stream protocol
/// reads until the peer half-closes. Whatever is still open at
/// [`deadline`](Self::deadline) is closed without flushing and counted as forced.
///
/// If no handler takes it over, the transport closes the channel gracefully
/// right after the event (writes made so far are flushed first).
///
/// ```
/// use seine_channel::prelude::*;
/// use seine_channel::ShutdownRequested;
///
/// /// Closes at the end of the current exchange once shutdown is asked for.
/// struct Server { busy: bool, closing: bool }
/// impl ChannelHandler for Server {}
/// impl InboundHandler for Server {
///     type Read = seine_buffer::Bytes;
///     type Fire = seine_buffer::Bytes;
///     fn channel_read(&mut self, ctx: &mut InboundContext<'_, Self::Fire>, msg: Self::Read) {
///         ctx.write(msg);
///         if self.closing { ctx.close(); }
///     }
///     fn user_event(&mut self, ctx: &mut InboundContext<'_, Self::Fire>, event: UserEvent) {
///         if let Some(shutdown) = event.downcast_ref::<ShutdownRequested>() {
///             shutdown.take_over();
///             self.closing = true;
///             if !self.busy { ctx.close(); }
///             return;
///         }
///         ctx.fire_user_event(event);
///     }
/// }
/// let _handler = Handler::inbound(Server { busy: false, closing: false });
/// ```
#[derive(Clone, Debug)]
pub struct ShutdownRequested {
    deadline: Instant,
    grace: Duration,
    taken: Arc<AtomicBool>,
}

impl ShutdownRequested {
    /// An event for a shutdown whose grace period of `grace` ends at `deadline`.
    pub fn new(deadline: Instant, grace: Duration) -> Self {
        ShutdownRequested {
            deadline,
            grace,
            taken: Arc::new(AtomicBool::new(false)),
        }
    }

    /// When the transport closes what is left, without flushing.
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// The whole grace period the server was given.
    pub fn grace(&self) -> Duration {
        self.grace
    }

    /// Says that a handler finishes this connection itself (before the deadline),
    /// so the transport does not close it after the event. Clones of the event
    /// share this flag.
    pub fn take_over(&self) {
        self.taken.store(true, Ordering::Relaxed);
    }

    /// Whether a handler called [`take_over`](Self::take_over).
    pub fn is_taken_over(&self) -> bool {
        self.taken.load(Ordering::Relaxed)
    }
}

/// A TLS record that is not application data (an alert, a TLS 1.3
/// NewSessionTicket or KeyUpdate), read by a transport whose TLS record layer the
/// kernel runs (kTLS, see [`Transport::offload_tls`](crate::Transport::offload_tls)).
/// Fired as a user event from the head, in order with the plaintext; the TLS
/// handler that asked for the offload consumes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KernelTlsRecord {
    /// The record's content type (21 alert, 22 handshake, ...).
    pub content_type: u8,
    /// The record's decrypted payload.
    pub payload: seine_buffer::Bytes,
}
