//! The errors of seine-handler.

use std::fmt;
use std::time::Duration;

/// What a handler of this crate reports. Converts into [`seine_channel::Error`]
/// and reaches handlers through `exception_caught`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum HandlerError {
    /// Nothing was read for the configured time ([`ReadTimeoutHandler`](crate::ReadTimeoutHandler)).
    ReadTimedOut {
        /// The configured time.
        after: Duration,
    },
    /// A write was not fully written within the configured time
    /// ([`WriteTimeoutHandler`](crate::WriteTimeoutHandler)).
    WriteTimedOut {
        /// The configured time.
        after: Duration,
    },
    /// A rate is not an integer with an optional `k` or `m` suffix
    /// ([`Rate`](crate::Rate)).
    InvalidRate {
        /// The text that was given.
        text: String,
    },
    /// A [`ChunkedInput`](crate::ChunkedInput) failed to produce its next chunk.
    ChunkedInputFailed {
        /// What went wrong.
        reason: String,
    },
    /// A builder was given options it cannot build with (a root that cannot be
    /// opened, a malformed name).
    InvalidConfig {
        /// What is wrong, with the value.
        reason: String,
    },
}

impl fmt::Display for HandlerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HandlerError::ReadTimedOut { after } => write!(
                f,
                "nothing was read for {after:?}; the channel is closed (raise the read \
                 timeout if peers may legitimately pause that long)"
            ),
            HandlerError::WriteTimedOut { after } => write!(
                f,
                "a write was not fully written within {after:?}; the channel is closed \
                 (the peer reads too slowly or not at all)"
            ),
            HandlerError::InvalidRate { text } => write!(
                f,
                "invalid rate {text:?}: give bytes per second as an integer, optionally \
                 followed by k (x1024) or m (x1048576), such as 512k or 10m"
            ),
            HandlerError::InvalidConfig { reason } => write!(f, "invalid configuration: {reason}"),
            HandlerError::ChunkedInputFailed { reason } => {
                write!(
                    f,
                    "a chunked input failed to produce its next chunk: {reason}"
                )
            }
        }
    }
}

impl std::error::Error for HandlerError {}
