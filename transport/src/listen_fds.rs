//! systemd socket activation (`sd_listen_fds(3)`): listening sockets that a
//! service manager opened and passed down, so a listener outlives the process.
//!
//! The protocol: the manager starts the process with the sockets as descriptors
//! 3, 4, ... and sets `LISTEN_FDS` (how many) and `LISTEN_PID` (the pid they are
//! meant for; a child process that inherits the environment must not take them).
//! `LISTEN_FDNAMES` (colon-separated names) is not needed here.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicBool, Ordering};

use socket2::Socket;

use crate::error::TransportError;

/// The first descriptor passed (`SD_LISTEN_FDS_START`).
pub const LISTEN_FDS_START: RawFd = 3;

/// Set once the descriptors have been taken: each may have one owner only.
static TAKEN: AtomicBool = AtomicBool::new(false);

/// Reads `LISTEN_PID`/`LISTEN_FDS` as given; `None` when they are absent or meant
/// for another process.
fn count_from(pid: Option<&str>, fds: Option<&str>, me: u32) -> Result<usize, TransportError> {
    let (Some(pid), Some(fds)) = (pid, fds) else {
        return Ok(0);
    };
    let pid: u32 = pid
        .trim()
        .parse()
        .map_err(|_| TransportError::SocketActivation {
            reason: format!("LISTEN_PID={pid:?} is not a process id"),
        })?;
    if pid != me {
        return Ok(0); // meant for another process (we inherited the environment)
    }
    let n: usize = fds
        .trim()
        .parse()
        .map_err(|_| TransportError::SocketActivation {
            reason: format!("LISTEN_FDS={fds:?} is not a count"),
        })?;
    if n > 1024 {
        return Err(TransportError::SocketActivation {
            reason: format!("LISTEN_FDS={n} is more descriptors than a manager passes"),
        });
    }
    Ok(n)
}

/// Takes the listening sockets systemd passed to this process, in order (empty
/// when the process was not socket-activated). Each is checked to be a
/// listening stream socket and set non-blocking and close-on-exec. The
/// environment is left as it is; `LISTEN_PID` keeps children from using it.
///
/// The descriptors can be taken once per process: later calls return an empty
/// list.
///
/// # Errors
/// [`TransportError::SocketActivation`] when the variables are malformed or a
/// descriptor is not a listening stream socket.
pub fn listen_fds() -> Result<Vec<Socket>, TransportError> {
    let n = count_from(
        std::env::var("LISTEN_PID").ok().as_deref(),
        std::env::var("LISTEN_FDS").ok().as_deref(),
        std::process::id(),
    )?;
    if n == 0 || TAKEN.swap(true, Ordering::AcqRel) {
        return Ok(Vec::new());
    }
    let mut out = Vec::with_capacity(n);
    for i in 0..n as RawFd {
        let fd = LISTEN_FDS_START + i;
        // SAFETY: F_GETFD only reads the descriptor's flags; it fails with EBADF
        // for a descriptor that is not open, which is checked before it is owned.
        if unsafe { libc::fcntl(fd, libc::F_GETFD) } < 0 {
            return Err(TransportError::SocketActivation {
                reason: format!("descriptor {fd} of LISTEN_FDS={n} is not open"),
            });
        }
        // SAFETY: the descriptor is open (checked above), was passed to this
        // process by LISTEN_PID, and `TAKEN` makes this the only place that takes
        // ownership of it.
        let sock = Socket::from(unsafe { OwnedFd::from_raw_fd(fd) });
        check_listening(&sock)?;
        out.push(sock);
    }
    Ok(out)
}

/// Checks that `sock` is a listening stream socket; makes it non-blocking and
/// close-on-exec.
pub(crate) fn check_listening(sock: &Socket) -> Result<(), TransportError> {
    let fd = sock.as_raw_fd();
    let bad = |what: String| TransportError::SocketActivation {
        reason: format!("descriptor {fd} {what}"),
    };
    match sock.r#type() {
        Ok(t) if t == socket2::Type::STREAM => {}
        Ok(_) => return Err(bad("is not a stream socket (ListenStream=)".into())),
        Err(e) => return Err(bad(format!("is not a socket: {e}"))),
    }
    if !sock.is_listener().unwrap_or(false) {
        return Err(bad("is a socket that does not listen".into()));
    }
    sock.set_nonblocking(true)
        .and_then(|()| sock.set_cloexec(true))
        .map_err(|e| bad(format!("cannot be set non-blocking: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variables_for_another_process_or_absent_mean_none() {
        assert_eq!(count_from(None, None, 7).unwrap(), 0);
        assert_eq!(count_from(Some("8"), Some("2"), 7).unwrap(), 0);
        assert_eq!(count_from(Some("7"), Some("2"), 7).unwrap(), 2);
        assert!(count_from(Some("x"), Some("2"), 7).is_err());
        assert!(count_from(Some("7"), Some("two"), 7).is_err());
        assert!(count_from(Some("7"), Some("100000"), 7).is_err());
    }

    #[test]
    fn only_listening_stream_sockets_pass() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let s = Socket::from(OwnedFd::from(l));
        check_listening(&s).unwrap();
        let not_listening =
            Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
        assert!(check_listening(&not_listening).is_err());
        let dgram = Socket::new(socket2::Domain::IPV4, socket2::Type::DGRAM, None).unwrap();
        assert!(check_listening(&dgram).is_err());
    }
}
