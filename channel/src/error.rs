//! Errors: [`Error`], the one type every crate's errors travel in through
//! `exception_caught` and completions, and [`ChannelError`], this crate's own.

use std::fmt;
use std::sync::Arc;

/// The error type handlers receive in `exception_caught` and completions fail with.
///
/// Every crate's typed error converts into it (`From` for any
/// `std::error::Error + Send + Sync + 'static`), and handlers get the typed error
/// back with [`Error::downcast_ref`]. Cloning is O(1) (a reference count), so one
/// error can fail many pending writes.
///
/// `Error` deliberately does not implement `std::error::Error` itself (as
/// `anyhow::Error` does not), which is what lets the blanket `From` exist; use
/// [`Error::as_std`] where a `&dyn std::error::Error` is wanted.
///
/// ```
/// use seine_channel::{ChannelError, Error};
///
/// let err = Error::from(ChannelError::Closed);
/// assert!(matches!(err.downcast_ref::<ChannelError>(), Some(ChannelError::Closed)));
/// assert_eq!(err.to_string(), ChannelError::Closed.to_string());
/// ```
#[derive(Clone)]
pub struct Error {
    inner: Arc<dyn std::error::Error + Send + Sync + 'static>,
}

impl Error {
    /// Wraps any error. Allocates once.
    pub fn new<E: std::error::Error + Send + Sync + 'static>(error: E) -> Self {
        Error {
            inner: Arc::new(error),
        }
    }

    /// The wrapped error as `T`, if it is one, or the first error of type `T`
    /// in its `source()` chain (so an `io::Error` wrapping a codec error is found).
    pub fn downcast_ref<T: std::error::Error + 'static>(&self) -> Option<&T> {
        let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(self.as_std());
        while let Some(e) = cur {
            if let Some(t) = e.downcast_ref::<T>() {
                return Some(t);
            }
            cur = e.source();
        }
        None
    }

    /// Whether the wrapped error is a `T`.
    pub fn is<T: std::error::Error + 'static>(&self) -> bool {
        self.inner.is::<T>()
    }

    /// The wrapped error as a standard error trait object.
    pub fn as_std(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
        &*self.inner
    }

    /// Whether this is a connection reset or broken pipe (possibly wrapped):
    /// the peer went away, which servers log at a lower level than bugs.
    pub fn is_connection_reset(&self) -> bool {
        let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(self.as_std());
        while let Some(e) = cur {
            if let Some(io) = e.downcast_ref::<std::io::Error>() {
                use std::io::ErrorKind::*;
                return matches!(
                    io.kind(),
                    ConnectionReset | BrokenPipe | ConnectionAborted | UnexpectedEof
                );
            }
            cur = e.source();
        }
        false
    }
}

impl<E: std::error::Error + Send + Sync + 'static> From<E> for Error {
    fn from(error: E) -> Self {
        Error::new(error)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&*self.inner, f)
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.inner, f)
    }
}

/// Which way a message travels through the pipeline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// From the transport (head) toward the tail: reads and inbound events.
    Inbound,
    /// From the tail toward the transport (head): writes and outbound operations.
    Outbound,
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Direction::Inbound => "inbound",
            Direction::Outbound => "outbound",
        })
    }
}

/// The errors of seine-channel.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ChannelError {
    /// The channel closed before the operation could complete.
    Closed,
    /// The write side was shut down; nothing more can be written.
    OutputShutdown,
    /// Two adjacent handlers do not agree on the message type between them.
    TypeMismatch {
        /// Which way the message flows.
        direction: Direction,
        /// The handler that passes the message on.
        from: String,
        /// The type it passes on.
        from_type: &'static str,
        /// The handler that would receive it.
        to: String,
        /// The type that handler takes.
        to_type: &'static str,
    },
    /// A message reached a handler that takes another type (a write started from
    /// the middle of the pipeline or through the `Channel` handle).
    UnexpectedMessage {
        /// The handler that received it (`head` for the transport).
        handler: String,
        /// The type it takes.
        expected: &'static str,
        /// The type it was given.
        got: &'static str,
    },
    /// A handler name is already in the pipeline.
    DuplicateName(String),
    /// No handler has that name.
    NoSuchHandler(String),
    /// The names `head` and `tail` belong to the pipeline's ends.
    ReservedName(String),
    /// The channel's transport provides no executor, so a task or blocking job
    /// cannot run.
    NoExecutor,
}

impl fmt::Display for ChannelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChannelError::Closed => f.write_str("channel closed before the operation completed"),
            ChannelError::OutputShutdown => {
                f.write_str("the channel's output was shut down; nothing more can be written")
            }
            ChannelError::TypeMismatch {
                direction,
                from,
                from_type,
                to,
                to_type,
            } => write!(
                f,
                "pipeline type mismatch ({direction}): handler `{from}` passes on `{from_type}` \
                 but the next {direction} handler `{to}` takes `{to_type}`; reorder the handlers \
                 or add one that converts `{from_type}` into `{to_type}`"
            ),
            ChannelError::UnexpectedMessage {
                handler,
                expected,
                got,
            } => write!(
                f,
                "handler `{handler}` takes `{expected}` but was given `{got}`; \
                 write the type the handler before it expects"
            ),
            ChannelError::DuplicateName(n) => {
                write!(
                    f,
                    "a handler named `{n}` is already in the pipeline; choose another name"
                )
            }
            ChannelError::NoSuchHandler(n) => write!(f, "no handler named `{n}` in the pipeline"),
            ChannelError::ReservedName(n) => {
                write!(f, "`{n}` names an end of the pipeline; choose another name")
            }
            ChannelError::NoExecutor => f.write_str(
                "this channel's transport runs no tasks; drive it with seine-transport or \
                 EmbeddedChannel, or implement Transport::executor",
            ),
        }
    }
}

impl std::error::Error for ChannelError {}
