//! `splice(2)` forwarding between two TCP sockets, for proxies: the bytes go from
//! one socket into a pipe and from the pipe to the other socket inside the kernel,
//! never through user space.
//!
//! [`splice_bidirectional`] runs both directions of a proxied connection on the
//! calling task; [`splice_supported`] says whether the kernel allows it (check once
//! and fall back to `tokio::io::copy_bidirectional` where it does not).
//!
//! # Examples
//!
//! ```
//! use tokio::net::{TcpListener, TcpStream};
//!
//! # async fn proxy() -> std::io::Result<()> {
//! let listener = TcpListener::bind("127.0.0.1:8080").await?;
//! loop {
//!     let (client, _) = listener.accept().await?;
//!     tokio::spawn(async move {
//!         let upstream = TcpStream::connect("127.0.0.1:9000").await?;
//!         let (up, down) = seine_transport::splice::splice_bidirectional(client, upstream).await?;
//!         println!("{up} bytes up, {down} bytes down");
//!         std::io::Result::Ok(())
//!     });
//! }
//! # }
//! # let _ = proxy;
//! ```

use std::future::{Future, poll_fn};
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::pin::pin;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::Poll;
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::fcntl::{FcntlArg, OFlag, SpliceFFlags, fcntl, splice};
use nix::sys::socket::{Shutdown, shutdown};
use tokio::io::Interest;
use tokio::net::TcpStream;

/// Capacity asked for each direction's pipe (`F_SETPIPE_SZ`); if refused (over
/// `/proc/sys/fs/pipe-max-size` or the per-user pipe quota), the pipe keeps the
/// kernel default of 64 KiB. It bounds the bytes in flight inside the proxy per
/// direction, and how many one `splice` call moves.
const PIPE_SIZE: usize = 256 << 10;

/// Moves bytes both ways between `a` and `b` until both directions have ended,
/// with `splice(2)` through one pipe per direction: no copy through user space.
///
/// Returns `(bytes a→b, bytes b→a)`.
///
/// * **Waiting**: each `splice` is non-blocking (`SPLICE_F_NONBLOCK`) and runs in
///   tokio's `try_io`, so `EAGAIN` clears the readiness and the task waits for the
///   socket (`readable()` / `writable()`) instead of spinning.
/// * **Backpressure**: a direction reads from its source only when its pipe is
///   empty; the bytes in the pipe are written to the destination first. A slow
///   reader on one side therefore stops reading from the other side (at most one
///   pipe, 256 KiB, is held per direction), in both directions independently.
/// * **Half-close**: end of stream from `a` (after the pipe has drained) becomes
///   `shutdown(Write)` on `b`, and vice versa; the other direction goes on until it
///   ends too.
/// * **Errors** in either direction end both: the first error is returned and both
///   sockets are reset (`SO_LINGER` 0) and closed on return, so that the peer of the
///   healthy side sees a reset, not the end of a complete stream. A reset of a
///   source is noticed even while its destination does not read.
///
/// Writing to a peer that has gone away may raise `SIGPIPE`, as `write(2)` would;
/// Rust programs ignore it by default (then it is an `EPIPE` error here).
///
/// Dropping the future before it completes closes both sockets and discards what
/// sits in the pipes (at most one pipe's worth per direction).
///
/// # Errors
///
/// Creating the pipes fails (`EMFILE`), or a socket error in either direction
/// (`ECONNRESET`, `EPIPE`, ...). `EINVAL` from `splice` means the kernel or the
/// socket type does not support it (see [`splice_supported`]).
pub async fn splice_bidirectional(a: TcpStream, b: TcpStream) -> io::Result<(u64, u64)> {
    relay(a, b, None).await
}

/// [`splice_bidirectional`] that gives up when no byte has moved either way for
/// `idle` (nginx's `proxy_timeout`, HAProxy's `timeout tunnel`): it then fails with
/// [`io::ErrorKind::TimedOut`] and resets both connections. Without it a peer that
/// vanished without a reset (a host that went down) holds the relay forever.
pub async fn splice_bidirectional_with_idle_timeout(
    a: TcpStream,
    b: TcpStream,
    idle: Duration,
) -> io::Result<(u64, u64)> {
    relay(a, b, Some(idle)).await
}

async fn relay(a: TcpStream, b: TcpStream, idle: Option<Duration>) -> io::Result<(u64, u64)> {
    let ab = Pipe::new()?;
    let ba = Pipe::new()?;
    let activity = Activity::new();
    let both = try_join(pump(&a, &b, &ab, &activity), pump(&b, &a, &ba, &activity));
    let moved = match idle {
        None => both.await,
        Some(idle) => until_idle(both, &activity, idle).await,
    };
    if moved.is_err() {
        // One side failed (a reset, most often): reset the other too rather than
        // end its stream with a FIN, which would pass a truncated stream off as a
        // complete one.
        for s in [&a, &b] {
            let _ = socket2::SockRef::from(s).set_linger(Some(Duration::ZERO));
        }
    }
    moved
}

/// Whether `splice(2)` from a socket into a pipe and from a pipe into a socket
/// works here. Tried once per process (a few bytes through a Unix socket pair and
/// a pipe) and cached.
///
/// # Examples
///
/// ```
/// assert!(seine_transport::splice::splice_supported()); // on any Linux since 2.6.25
/// ```
pub fn splice_supported() -> bool {
    static SUPPORTED: OnceLock<bool> = OnceLock::new();
    *SUPPORTED.get_or_init(|| match try_splice() {
        Ok(()) => true,
        Err(e) => {
            tracing::debug!(error = %e, "splice(2) does not work here");
            false
        }
    })
}

fn try_splice() -> io::Result<()> {
    const PROBE: &[u8] = b"seine splice probe";
    let (mut a, b) = UnixStream::pair()?;
    let pipe = Pipe::new()?;
    let flags = SpliceFFlags::SPLICE_F_MOVE | SpliceFFlags::SPLICE_F_NONBLOCK;
    a.write_all(PROBE)?;
    // b -> pipe -> b: comes back out of a.
    let n = splice(&b, None, &pipe.w, None, PROBE.len(), flags)?;
    let m = splice(&pipe.r, None, &b, None, n, flags)?;
    let mut got = vec![0; m];
    a.read_exact(&mut got)?;
    if got != PROBE {
        return Err(io::Error::other("splice moved the wrong bytes"));
    }
    Ok(())
}

/// A non-blocking pipe: the kernel buffer one direction moves bytes through.
struct Pipe {
    r: OwnedFd,
    w: OwnedFd,
    /// Its capacity in bytes: the most one `splice` into it should ask for.
    capacity: usize,
}

impl Pipe {
    fn new() -> io::Result<Pipe> {
        let (r, w) = nix::unistd::pipe2(OFlag::O_CLOEXEC | OFlag::O_NONBLOCK)?;
        let capacity = fcntl(&w, FcntlArg::F_SETPIPE_SZ(PIPE_SIZE as libc::c_int))
            .or_else(|_| fcntl(&w, FcntlArg::F_GETPIPE_SZ))
            .map_or(64 << 10, |n| n as usize);
        Ok(Pipe { r, w, capacity })
    }
}

/// One direction: `src` → pipe → `dst` until end of stream from `src`, then
/// `shutdown(Write)` on `dst`. Returns the bytes moved.
async fn pump(
    src: &TcpStream,
    dst: &TcpStream,
    pipe: &Pipe,
    activity: &Activity,
) -> io::Result<u64> {
    let flags = SpliceFFlags::SPLICE_F_MOVE | SpliceFFlags::SPLICE_F_NONBLOCK;
    let mut total = 0u64;
    loop {
        // The pipe is empty here, so EAGAIN can only mean "no data on src".
        let n = loop {
            src.readable().await?;
            match src.try_io(Interest::READABLE, || {
                splice_io(src, &pipe.w, pipe.capacity, flags)
            }) {
                Ok(n) => {
                    activity.touch();
                    break n;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => return Err(e),
            }
        };
        if n == 0 {
            // End of stream, and all of it written: pass the half-close on.
            return match shutdown(dst.as_raw_fd(), Shutdown::Write) {
                Ok(()) | Err(Errno::ENOTCONN) => Ok(total),
                Err(e) => Err(e.into()),
            };
        }
        // Drain all of it before reading more: backpressure. The pipe is not empty,
        // so EAGAIN can only mean "dst is full".
        let mut left = n;
        while left > 0 {
            writable_unless_failed(dst, src).await?;
            match dst.try_io(Interest::WRITABLE, || splice_io(&pipe.r, dst, left, flags)) {
                Ok(m) => {
                    activity.touch();
                    left -= m;
                    total += m as u64;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => return Err(e),
            }
        }
    }
}

/// When bytes last moved, in milliseconds since the relay began.
struct Activity {
    start: Instant,
    last_ms: AtomicU64,
}

impl Activity {
    fn new() -> Self {
        Activity {
            start: Instant::now(),
            last_ms: AtomicU64::new(0),
        }
    }

    fn touch(&self) {
        let ms = self.start.elapsed().as_millis() as u64;
        self.last_ms.store(ms, Ordering::Relaxed);
    }

    fn last(&self) -> Instant {
        self.start + Duration::from_millis(self.last_ms.load(Ordering::Relaxed))
    }
}

/// Runs `relay` until it ends, or fails with `TimedOut` once nothing moved for
/// `idle` (one timer, re-armed from the last activity when it fires).
async fn until_idle<F>(relay: F, activity: &Activity, idle: Duration) -> io::Result<(u64, u64)>
where
    F: Future<Output = io::Result<(u64, u64)>>,
{
    let mut relay = pin!(relay);
    let mut timer = pin!(tokio::time::sleep_until((activity.last() + idle).into()));
    poll_fn(|cx| {
        if let Poll::Ready(r) = relay.as_mut().poll(cx) {
            return Poll::Ready(r);
        }
        while timer.as_mut().poll(cx).is_ready() {
            let deadline = activity.last() + idle;
            if Instant::now() >= deadline {
                return Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "no bytes moved either way for the idle timeout",
                )));
            }
            timer.as_mut().reset(deadline.into());
        }
        Poll::Pending
    })
    .await
}

/// Waits until `dst` can take more, or fails when `src` reports an error (a reset)
/// meanwhile: nothing else watches `src` while this direction waits on a `dst`
/// that does not read, so a source that went away would otherwise hold both
/// connections open for as long as `dst` stays full.
async fn writable_unless_failed(dst: &TcpStream, src: &TcpStream) -> io::Result<()> {
    let mut writable = pin!(dst.writable());
    let mut failed = pin!(src.ready(Interest::ERROR));
    poll_fn(|cx| {
        if let Poll::Ready(r) = writable.as_mut().poll(cx) {
            return Poll::Ready(r);
        }
        match failed.as_mut().poll(cx) {
            Poll::Ready(Ok(_)) => Poll::Ready(Err(src
                .take_error()?
                .unwrap_or_else(|| io::ErrorKind::ConnectionReset.into()))),
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => Poll::Pending,
        }
    })
    .await
}

/// One `splice(2)` from `from` to `to`, retrying `EINTR`.
fn splice_io(from: impl AsFd, to: impl AsFd, len: usize, flags: SpliceFFlags) -> io::Result<usize> {
    loop {
        match splice(from.as_fd(), None, to.as_fd(), None, len, flags) {
            Err(Errno::EINTR) => {}
            r => return r.map_err(io::Error::from),
        }
    }
}

/// Polls both futures until both are done, or one fails (the other is then
/// dropped, unfinished).
async fn try_join<A, B>(a: A, b: B) -> io::Result<(u64, u64)>
where
    A: Future<Output = io::Result<u64>>,
    B: Future<Output = io::Result<u64>>,
{
    let (mut a, mut b) = (pin!(a), pin!(b));
    let (mut ra, mut rb) = (None, None);
    poll_fn(|cx| {
        if ra.is_none()
            && let Poll::Ready(r) = a.as_mut().poll(cx)
        {
            ra = Some(r?);
        }
        if rb.is_none()
            && let Poll::Ready(r) = b.as_mut().poll(cx)
        {
            rb = Some(r?);
        }
        match (ra, rb) {
            (Some(x), Some(y)) => Poll::Ready(Ok((x, y))),
            _ => Poll::Pending,
        }
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probe_round_trip() {
        try_splice().unwrap();
        assert!(splice_supported());
    }

    #[test]
    fn pipe_gets_its_capacity() {
        let pipe = Pipe::new().unwrap();
        assert!(pipe.capacity >= 64 << 10, "{}", pipe.capacity);
        assert_eq!(
            fcntl(&pipe.w, FcntlArg::F_GETPIPE_SZ).unwrap() as usize,
            pipe.capacity
        );
    }
}
