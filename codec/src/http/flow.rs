//! Read backpressure for streamed bodies: [`ReadCredit`], and the window a codec
//! keeps with it.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use seine_channel::Channel;

/// The state a codec shares with the credits it hands out.
pub(crate) struct ReadWindow {
    /// Bytes delivered and not released.
    outstanding: AtomicU64,
    /// Auto-read was turned off by this window (and not yet back on).
    paused: AtomicBool,
    high: u64,
    low: u64,
    channel: Channel,
}

impl ReadWindow {
    /// A window of `high` bytes (resuming at half of it) over `channel`.
    pub(crate) fn new(high: u64, channel: Channel) -> Arc<Self> {
        Arc::new(ReadWindow {
            outstanding: AtomicU64::new(0),
            paused: AtomicBool::new(false),
            high,
            low: high / 2,
            channel,
        })
    }

    /// Counts `bytes` delivered; returns their credit. Turns auto-read off when
    /// the window is full. Called on the channel's loop.
    pub(crate) fn deliver(self: &Arc<Self>, bytes: u64) -> ReadCredit {
        if bytes == 0 {
            return ReadCredit::none();
        }
        let now = self.outstanding.fetch_add(bytes, Ordering::SeqCst) + bytes;
        // Only this thread (the loop) sets the flag. The pause is queued before the
        // flag is set, so a release that sees the flag queues its resume after
        // the pause.
        if now > self.high && !self.paused.load(Ordering::SeqCst) {
            self.channel.set_auto_read(false);
            self.paused.store(true, Ordering::SeqCst);
            // A release may have run between the add and the flag: if it saw the
            // flag unset, it did not resume, so check again here.
            if self.outstanding.load(Ordering::SeqCst) <= self.low
                && self.paused.swap(false, Ordering::SeqCst)
            {
                self.channel.set_auto_read(true);
            }
        }
        ReadCredit {
            window: Some(self.clone()),
            bytes,
        }
    }

    /// Bytes delivered and not yet released.
    pub(crate) fn outstanding(&self) -> u64 {
        self.outstanding.load(Ordering::SeqCst)
    }

    /// Forgets the pause without resuming (the codec turns auto-read on itself,
    /// to drain a connection it is closing).
    pub(crate) fn unpause(&self) -> bool {
        self.paused.swap(false, Ordering::SeqCst)
    }

    fn release(&self, bytes: u64) {
        let now = self.outstanding.fetch_sub(bytes, Ordering::SeqCst) - bytes;
        if now <= self.low && self.paused.swap(false, Ordering::SeqCst) {
            self.channel.set_auto_read(true);
        }
    }
}

/// Bytes of a streamed body that count against the connection's read window
/// until released.
///
/// A codec that streams a body counts the bytes it has delivered and the
/// application has not consumed yet. Each delivered part carries a `ReadCredit`
/// for its bytes; dropping the part or the credit, [`release`](Self::release) or
/// [`consume`](Self::consume) gives them back. When the count goes over the
/// window the codec turns the channel's auto-read off; when releases bring it
/// down to half the window, auto-read is turned back on. So a slow consumer holds
/// at most the window plus what one read batch brings in (the pause takes effect
/// between batches), whatever the body's size, and the peer is slowed down by TCP
/// flow control.
///
/// Credits are `Send`: a part may be handed to another thread (a blocking file
/// write) and released there; the channel is resumed through its handle.
///
/// Released when dropped, by [`release`](Self::release), or bit by bit by
/// [`consume`](Self::consume). A credit made by [`none`](Self::none) (parts made
/// by the application) counts nothing.
///
/// ```
/// use seine_codec::http::ReadCredit;
/// let mut c = ReadCredit::none();
/// assert_eq!(c.bytes(), 0);
/// c.consume(10); // nothing to consume: no effect
/// c.release();
/// ```
#[must_use = "dropping a credit releases it at once"]
pub struct ReadCredit {
    window: Option<Arc<ReadWindow>>,
    bytes: u64,
}

impl ReadCredit {
    /// A credit for nothing.
    pub fn none() -> Self {
        ReadCredit {
            window: None,
            bytes: 0,
        }
    }

    /// Bytes still counted.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Gives `n` bytes back (all that is left if fewer): for a consumer that
    /// processes a part in pieces.
    pub fn consume(&mut self, n: u64) {
        let n = n.min(self.bytes);
        if n == 0 {
            return;
        }
        self.bytes -= n;
        if let Some(w) = &self.window {
            w.release(n);
        }
    }

    /// Gives every byte back.
    pub fn release(mut self) {
        self.consume(u64::MAX);
    }

    /// Adds `other`'s bytes to this credit (both counted by the same window, or
    /// `other` counting nothing); otherwise `other` is released.
    pub fn merge(&mut self, mut other: ReadCredit) {
        let same = match (&self.window, &other.window) {
            (Some(a), Some(b)) => Arc::ptr_eq(a, b),
            (None, Some(_)) => {
                self.window = other.window.take();
                self.bytes += std::mem::take(&mut other.bytes);
                return;
            }
            _ => other.bytes == 0,
        };
        if same {
            self.bytes += std::mem::take(&mut other.bytes);
        }
    }
}

impl Default for ReadCredit {
    fn default() -> Self {
        Self::none()
    }
}

impl Drop for ReadCredit {
    fn drop(&mut self) {
        self.consume(u64::MAX);
    }
}

impl fmt::Debug for ReadCredit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReadCredit")
            .field("bytes", &self.bytes)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use seine_channel::testing::EmbeddedChannel;

    #[test]
    fn pauses_above_the_window_and_resumes_at_half() {
        let mut ch = EmbeddedChannel::new();
        let w = ReadWindow::new(100, ch.channel().clone());
        let a = w.deliver(60);
        let mut b = w.deliver(41);
        ch.run_pending_tasks().unwrap();
        assert!(!ch.core().wants_read());
        b.consume(40); // 61 left: over half
        ch.run_pending_tasks().unwrap();
        assert!(!ch.core().wants_read());
        drop(a); // 1 left
        ch.run_pending_tasks().unwrap();
        assert!(ch.core().wants_read());
        assert_eq!(w.outstanding(), 1);
        b.release();
        assert_eq!(w.outstanding(), 0);
    }

    /// Releases on another thread racing with deliveries: once everything is
    /// released, reading is always back on (the pause is never left behind).
    #[test]
    fn releases_from_another_thread_never_leave_reading_paused() {
        for round in 0..200 {
            let mut ch = EmbeddedChannel::new();
            let w = ReadWindow::new(64, ch.channel().clone());
            let (tx, rx) = std::sync::mpsc::channel::<ReadCredit>();
            let releaser = std::thread::spawn(move || {
                for credit in rx {
                    drop(credit);
                }
            });
            for i in 0..100u64 {
                tx.send(w.deliver(1 + (i + round) % 40)).unwrap();
            }
            drop(tx);
            releaser.join().unwrap();
            ch.run_pending_tasks().unwrap();
            assert_eq!(w.outstanding(), 0);
            assert!(ch.core().wants_read(), "round {round}: left paused");
        }
    }
}
