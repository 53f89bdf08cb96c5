//! The stream sockets the channel driver runs on: TCP and Unix domain, behind one
//! crate-private trait so the driver is written once.

use std::io::{self, IoSlice};
use std::os::fd::{AsFd, OwnedFd};
use std::task::{Context, Poll};

use bytes::BufMut;
use seine_channel::Addr;
use tokio::io::Interest;
use tokio::net::{TcpStream, UnixStream};

/// A connected, non-blocking stream socket registered with the current loop's
/// reactor. Readiness is edge-triggered: it is cleared only by an operation that
/// returns `WouldBlock` (or by [`clear_read_ready`](Self::clear_read_ready) /
/// [`clear_write_ready`](Self::clear_write_ready)).
pub(crate) trait SocketStream: AsFd + Sized + 'static {
    /// Wraps an accepted, non-blocking socket; registers it with the reactor of the
    /// current thread's runtime.
    fn from_owned_fd(fd: OwnedFd) -> io::Result<Self>;

    fn poll_read_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>>;
    fn poll_write_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>>;
    fn try_read_buf<B: BufMut>(&self, buf: &mut B) -> io::Result<usize>;
    fn try_write_vectored(&self, bufs: &[IoSlice<'_>]) -> io::Result<usize>;
    fn try_write(&self, buf: &[u8]) -> io::Result<usize>;
    fn try_io<R>(&self, interest: Interest, f: impl FnOnce() -> io::Result<R>) -> io::Result<R>;

    /// Clears read readiness without a syscall after a short read (the socket is
    /// drained; with edge-triggered epoll, data arriving later raises a new event).
    fn clear_read_ready(&self) {
        let _ = self.try_io(Interest::READABLE, || {
            Err::<(), _>(io::ErrorKind::WouldBlock.into())
        });
    }

    /// Clears write readiness after a short write (the send buffer is full; the
    /// kernel raises a new event when space frees up).
    fn clear_write_ready(&self) {
        let _ = self.try_io(Interest::WRITABLE, || {
            Err::<(), _>(io::ErrorKind::WouldBlock.into())
        });
    }
}

macro_rules! impl_stream {
    ($ty:ty, $std:ty) => {
        impl SocketStream for $ty {
            fn from_owned_fd(fd: OwnedFd) -> io::Result<Self> {
                <$ty>::from_std(<$std>::from(fd))
            }

            #[inline]
            fn poll_read_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                <$ty>::poll_read_ready(self, cx)
            }

            #[inline]
            fn poll_write_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                <$ty>::poll_write_ready(self, cx)
            }

            #[inline]
            fn try_read_buf<B: BufMut>(&self, buf: &mut B) -> io::Result<usize> {
                <$ty>::try_read_buf(self, buf)
            }

            #[inline]
            fn try_write_vectored(&self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
                <$ty>::try_write_vectored(self, bufs)
            }

            #[inline]
            fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
                <$ty>::try_write(self, buf)
            }

            #[inline]
            fn try_io<R>(
                &self,
                interest: Interest,
                f: impl FnOnce() -> io::Result<R>,
            ) -> io::Result<R> {
                <$ty>::try_io(self, interest, f)
            }
        }
    };
}

impl_stream!(TcpStream, std::net::TcpStream);
impl_stream!(UnixStream, std::os::unix::net::UnixStream);

/// The local address of a connected TCP socket (`getsockname`), or `Addr::None`.
pub(crate) fn tcp_local_addr(fd: &impl AsFd) -> Addr {
    match socket2::SockRef::from(fd).local_addr() {
        Ok(a) => a.as_socket().map_or(Addr::None, Addr::Inet),
        Err(_) => Addr::None,
    }
}

/// A Unix socket address as a channel [`Addr`] (empty path when unnamed).
pub(crate) fn unix_addr(a: &socket2::SockAddr) -> Addr {
    Addr::Unix(a.as_pathname().map(|p| p.to_path_buf()).unwrap_or_default())
}
