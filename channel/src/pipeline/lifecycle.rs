//! A channel's life as states rather than flags: where it is (registered,
//! active, closing, closed), how a close treats what is still queued, and the
//! state of each direction.

/// Where the channel is in its life.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Phase {
    /// Built; `channel_active` not fired yet.
    #[default]
    Registered,
    /// `channel_active` fired: reads and writes flow.
    Active,
    /// A close was asked for: no new writes are taken; what was flushed still
    /// goes out (unless the close drops it).
    Closing {
        /// Whether `channel_active` had fired (so `channel_inactive` will).
        was_active: bool,
    },
    /// Closed; `channel_inactive` fired if the channel had been active.
    Closed,
}

/// What a close does with the writes still queued, in increasing severity.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
enum Ending {
    /// Flush them, then close (`close`).
    #[default]
    Flush,
    /// Drop them (`close_now`, a deadline, or a broken transport).
    Drop,
    /// Drop them and reset the connection (`close_with_reset`).
    Reset,
}

/// The write side.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Output {
    #[default]
    Open,
    /// Shut down once what was flushed so far is written.
    ShutdownPending,
    Shut,
}

/// A channel's lifecycle. Every change goes through a method named for the
/// event, which says whether it changed anything.
#[derive(Debug, Default)]
pub(crate) struct Lifecycle {
    phase: Phase,
    ending: Ending,
    output: Output,
    input_ended: bool,
}

impl Lifecycle {
    /// Whether the channel has closed.
    #[inline]
    pub(crate) fn is_closed(&self) -> bool {
        self.phase == Phase::Closed
    }

    /// Whether a close was asked for or has happened.
    pub(crate) fn is_closing(&self) -> bool {
        matches!(self.phase, Phase::Closing { .. } | Phase::Closed)
    }

    /// Whether a close was asked for and waits for the flush.
    pub(crate) fn is_close_pending(&self) -> bool {
        matches!(self.phase, Phase::Closing { .. })
    }

    /// Whether writes may still be queued: open, not closing, output not shut.
    /// `Err` says why not.
    #[inline]
    pub(crate) fn accepts_writes(&self) -> Result<(), crate::ChannelError> {
        if self.output == Output::Shut {
            Err(crate::ChannelError::OutputShutdown)
        } else if self.is_closing() {
            Err(crate::ChannelError::Closed)
        } else {
            Ok(())
        }
    }

    /// `channel_active` is to fire: true the first time, unless closed.
    pub(crate) fn activate(&mut self) -> bool {
        match self.phase {
            Phase::Registered => self.phase = Phase::Active,
            Phase::Closing { was_active: false } => {
                self.phase = Phase::Closing { was_active: true }
            }
            Phase::Active | Phase::Closing { was_active: true } | Phase::Closed => return false,
        }
        true
    }

    /// A close was asked for; false if already closed.
    pub(crate) fn request_close(&mut self) -> bool {
        self.phase = match self.phase {
            Phase::Closed => return false,
            Phase::Registered => Phase::Closing { was_active: false },
            Phase::Active => Phase::Closing { was_active: true },
            closing @ Phase::Closing { .. } => closing,
        };
        true
    }

    /// The channel closes now. `None` if it already had; else whether
    /// `channel_inactive` is to fire.
    pub(crate) fn close(&mut self) -> Option<bool> {
        let fire_inactive = match self.phase {
            Phase::Closed => return None,
            Phase::Registered => false,
            Phase::Active => true,
            Phase::Closing { was_active } => was_active,
        };
        self.phase = Phase::Closed;
        Some(fire_inactive)
    }

    /// The close drops queued writes instead of flushing them.
    pub(crate) fn drop_unsent(&mut self) {
        self.ending = self.ending.max(Ending::Drop);
    }

    /// The close drops queued writes and resets the connection.
    pub(crate) fn reset(&mut self) {
        self.ending = Ending::Reset;
    }

    /// Whether a close drops queued writes (`close_now`, a reset, a broken
    /// transport) instead of flushing them.
    #[inline]
    pub(crate) fn drops_unsent(&self) -> bool {
        self.ending >= Ending::Drop
    }

    /// Whether the close resets the connection.
    pub(crate) fn resets(&self) -> bool {
        self.ending == Ending::Reset
    }

    /// A shutdown of the write side was asked for; false if closed or already shut.
    pub(crate) fn request_shutdown_output(&mut self) -> bool {
        if self.is_closed() || self.output == Output::Shut {
            return false;
        }
        self.output = Output::ShutdownPending;
        true
    }

    /// Everything flushed is written: true if a pending shutdown is to happen now.
    pub(crate) fn take_pending_shutdown(&mut self) -> bool {
        if self.output == Output::ShutdownPending {
            self.output = Output::Shut;
            true
        } else {
            false
        }
    }

    /// The peer ended its side: true the first time, unless closed.
    pub(crate) fn end_input(&mut self) -> bool {
        if self.input_ended || self.is_closed() {
            return false;
        }
        self.input_ended = true;
        true
    }

    /// Whether the peer ended its side.
    pub(crate) fn input_ended(&self) -> bool {
        self.input_ended
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inactive_fires_only_after_active() {
        let mut l = Lifecycle::default();
        assert!(l.request_close());
        assert_eq!(l.close(), Some(false));
        assert_eq!(l.close(), None);
        assert!(!l.activate());

        let mut l = Lifecycle::default();
        assert!(l.activate());
        assert!(!l.activate());
        assert!(l.request_close());
        assert!(l.is_closing() && !l.is_closed());
        assert_eq!(l.close(), Some(true));
        assert!(l.is_closed());
    }

    #[test]
    fn activation_while_closing_is_remembered() {
        let mut l = Lifecycle::default();
        l.request_close();
        assert!(l.activate());
        assert_eq!(l.close(), Some(true));
    }

    #[test]
    fn a_reset_is_not_downgraded() {
        let mut l = Lifecycle::default();
        assert!(!l.drops_unsent());
        l.reset();
        l.drop_unsent();
        assert!(l.resets() && l.drops_unsent());
    }

    #[test]
    fn writes_refused_once_closing_or_shut() {
        let mut l = Lifecycle::default();
        l.activate();
        assert!(l.accepts_writes().is_ok());
        assert!(l.request_shutdown_output());
        assert!(
            l.accepts_writes().is_ok(),
            "still taking writes until the flush"
        );
        assert!(l.take_pending_shutdown());
        assert!(!l.take_pending_shutdown());
        assert!(matches!(
            l.accepts_writes(),
            Err(crate::ChannelError::OutputShutdown)
        ));
        assert!(!l.request_shutdown_output());
        l.request_close();
        assert!(l.accepts_writes().is_err());
    }

    #[test]
    fn input_ends_once() {
        let mut l = Lifecycle::default();
        assert!(l.end_input());
        assert!(!l.end_input());
        assert!(l.input_ended());
    }
}
