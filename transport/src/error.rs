//! [`TransportError`], the one error type of seine-transport.

use std::fmt;
use std::io;

use seine_channel::ChannelError;

/// Everything that can go wrong binding, accepting, connecting and moving bytes.
///
/// Every message says what happened and, where there is one, what to change.
/// [`TransportError::source`](std::error::Error::source) returns the underlying
/// [`io::Error`], so [`seine_channel::Error::is_connection_reset`] recognises resets
/// wrapped in it.
///
/// ```
/// use seine_transport::TransportError;
/// let err = TransportError::from_io(
///     std::io::Error::from(std::io::ErrorKind::AddrInUse),
///     "binding",
///     "127.0.0.1:8080",
/// );
/// assert!(matches!(err, TransportError::AddrInUse { .. }));
/// assert!(err.to_string().contains("127.0.0.1:8080"));
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum TransportError {
    /// Another socket is bound to the address.
    AddrInUse {
        /// The address asked for.
        addr: String,
        /// What the operating system said.
        source: io::Error,
    },
    /// Binding or listening on an address failed for another reason.
    Bind {
        /// The address asked for.
        addr: String,
        /// What the operating system said.
        source: io::Error,
    },
    /// The address could not be resolved or parsed.
    Resolve {
        /// The address as given.
        addr: String,
        /// What went wrong.
        source: io::Error,
    },
    /// Connecting to a peer failed (refused, unreachable, timed out).
    Connect {
        /// The peer's address.
        addr: String,
        /// What the operating system said.
        source: io::Error,
    },
    /// The process ran out of file descriptors (`EMFILE`/`ENFILE`).
    TooManyOpenFiles {
        /// What was being done (`"accepting"`, `"connecting"`, ...).
        context: &'static str,
        /// The soft and hard `RLIMIT_NOFILE` at the time, if known.
        limit: Option<(u64, u64)>,
        /// What the operating system said.
        source: io::Error,
    },
    /// The peer reset the connection or went away mid-write (`ECONNRESET`,
    /// `EPIPE`, `ECONNABORTED`).
    ConnectionReset {
        /// The peer's address.
        peer: String,
        /// What the operating system said.
        source: io::Error,
    },
    /// Any other I/O error, with what was being done.
    Io {
        /// What was being done (`"read"`, `"writev"`, `"sendfile"`, ...).
        context: &'static str,
        /// Where (an address), if known.
        addr: String,
        /// What the operating system said.
        source: io::Error,
    },
    /// The sockets systemd passed (`LISTEN_FDS`) cannot be used.
    SocketActivation {
        /// What is wrong with them.
        reason: String,
    },
    /// The channel initializer refused to build the pipeline.
    Initializer(ChannelError),
    /// The event loop group has shut down; nothing more can run on it.
    Shutdown,
}

impl TransportError {
    /// Classifies an I/O error `source` that happened while `context` at `addr`.
    pub fn from_io(source: io::Error, context: &'static str, addr: impl fmt::Display) -> Self {
        let addr = addr.to_string();
        match source.kind() {
            io::ErrorKind::AddrInUse => return TransportError::AddrInUse { addr, source },
            io::ErrorKind::ConnectionReset
            | io::ErrorKind::BrokenPipe
            | io::ErrorKind::ConnectionAborted => {
                return TransportError::ConnectionReset { peer: addr, source };
            }
            _ => {}
        }
        if matches!(source.raw_os_error(), Some(libc::EMFILE | libc::ENFILE)) {
            return TransportError::TooManyOpenFiles {
                context,
                limit: nofile_limit(),
                source,
            };
        }
        match context {
            "binding" | "listening" => TransportError::Bind { addr, source },
            "connecting" => TransportError::Connect { addr, source },
            "resolving" => TransportError::Resolve { addr, source },
            _ => TransportError::Io {
                context,
                addr,
                source,
            },
        }
    }

    /// Whether the peer went away (reset, broken pipe): logged at debug level,
    /// not a bug.
    pub fn is_connection_reset(&self) -> bool {
        matches!(self, TransportError::ConnectionReset { .. })
    }
}

/// The soft and hard limit on open files of this process.
pub(crate) fn nofile_limit() -> Option<(u64, u64)> {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `lim` is a valid, writable rlimit for the duration of the call.
    let rc = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) };
    (rc == 0).then_some((lim.rlim_cur, lim.rlim_max))
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TransportError::AddrInUse { addr, .. } => write!(
                f,
                "address {addr} is already in use: stop the process holding it, choose another \
                 port (port 0 picks a free one), or enable SO_REUSEPORT on every socket sharing it"
            ),
            TransportError::Bind { addr, source } => {
                write!(f, "could not bind or listen on {addr}: {source}")?;
                if source.kind() == io::ErrorKind::PermissionDenied {
                    f.write_str(" (ports below 1024 need CAP_NET_BIND_SERVICE; use a higher port)")?;
                }
                if source.kind() == io::ErrorKind::AddrNotAvailable {
                    f.write_str(" (the address is not on a local interface; use 0.0.0.0 or a local address)")?;
                }
                Ok(())
            }
            TransportError::Resolve { addr, source } => {
                write!(f, "could not resolve {addr:?}: {source}; give `host:port` or an IP socket address")
            }
            TransportError::Connect { addr, source } => {
                write!(f, "could not connect to {addr}: {source}")?;
                if source.kind() == io::ErrorKind::ConnectionRefused {
                    f.write_str(" (nothing listens there: is the server running on that port?)")?;
                }
                Ok(())
            }
            TransportError::TooManyOpenFiles {
                context,
                limit,
                source,
            } => {
                write!(f, "too many open files while {context}: {source}; raise the limit with `ulimit -n`")?;
                if let Some((soft, hard)) = limit {
                    write!(f, " (now {soft}, hard limit {hard})")?;
                }
                f.write_str(" or lower the server's max_connections")
            }
            TransportError::ConnectionReset { peer, source } => {
                write!(f, "connection to {peer} was reset by the peer: {source}")
            }
            TransportError::Io {
                context,
                addr,
                source,
            } => {
                if addr.is_empty() {
                    write!(f, "I/O error in {context}: {source}")
                } else {
                    write!(f, "I/O error in {context} ({addr}): {source}")
                }
            }
            TransportError::Initializer(e) => {
                write!(f, "the channel initializer failed to build the pipeline: {e}")
            }
            TransportError::Shutdown => f.write_str(
                "the event loop group has shut down; create a new EventLoopGroup to run more channels",
            ),
            TransportError::SocketActivation { reason } => write!(
                f,
                "systemd socket activation: {reason} (check the .socket unit: \
                 ListenStream= and the service's Sockets=)"
            ),
        }
    }
}

impl std::error::Error for TransportError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            TransportError::AddrInUse { source, .. }
            | TransportError::Bind { source, .. }
            | TransportError::Resolve { source, .. }
            | TransportError::Connect { source, .. }
            | TransportError::TooManyOpenFiles { source, .. }
            | TransportError::ConnectionReset { source, .. }
            | TransportError::Io { source, .. } => Some(source),
            TransportError::Initializer(e) => Some(e),
            TransportError::Shutdown | TransportError::SocketActivation { .. } => None,
        }
    }
}

impl From<ChannelError> for TransportError {
    fn from(e: ChannelError) -> Self {
        TransportError::Initializer(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use seine_channel::Error;

    #[test]
    fn reset_is_recognised_through_the_channel_error() {
        let err = TransportError::from_io(
            io::Error::from(io::ErrorKind::ConnectionReset),
            "read",
            "1.2.3.4:5",
        );
        assert!(err.is_connection_reset());
        let err = Error::from(err);
        assert!(err.is_connection_reset());
    }

    #[test]
    fn emfile_says_ulimit() {
        let err =
            TransportError::from_io(io::Error::from_raw_os_error(libc::EMFILE), "accepting", "");
        assert!(matches!(err, TransportError::TooManyOpenFiles { .. }));
        assert!(err.to_string().contains("ulimit -n"));
    }
}
