//! Listening sockets and the accept loops that hand connections to event loops.

use std::cell::Cell;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::PathBuf;
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use seine_channel::Addr;
use socket2::{Domain, SockAddr, SockRef, Socket, Type};
use tokio::io::Interest;
use tokio::io::unix::AsyncFd;
use tokio::net::{TcpStream, UnixStream};
use tokio::sync::{oneshot, watch};
use tracing::Instrument;

use crate::channel_set::{ChannelSet, Slot};
use crate::driver::{ChannelParams, open_channel};
use crate::error::TransportError;
use crate::event_loop::EventLoop;
use crate::options::{ChannelOptions, ServerOptions};
use crate::socket_stream::{SocketStream, tcp_local_addr, unix_addr};

/// What kind of socket a listener accepts.
#[derive(Clone, Debug)]
pub(crate) enum ListenKind {
    Tcp {
        local: SocketAddr,
        /// Bound to 0.0.0.0 / [::]: each connection's local address is asked for.
        unspecified: bool,
    },
    Unix {
        path: PathBuf,
    },
}

/// Shared by a server's accept loops.
pub(crate) struct AcceptCtx {
    pub(crate) params: ChannelParams,
    pub(crate) server: Arc<ChannelSet>,
    pub(crate) max_connections: Option<usize>,
    pub(crate) accepts_per_wakeup: usize,
    /// The listen backlog: bounds the sweep of the accept queue at shutdown.
    pub(crate) backlog: usize,
    pub(crate) kind: ListenKind,
    /// When "max connections reached" was last logged (ms since `epoch`).
    last_limit_warning: AtomicU64,
    epoch: Instant,
}

impl AcceptCtx {
    pub(crate) fn new(
        params: ChannelParams,
        server: Arc<ChannelSet>,
        opts: &ServerOptions,
        kind: ListenKind,
    ) -> Self {
        AcceptCtx {
            params,
            server,
            max_connections: opts.max_connections,
            accepts_per_wakeup: opts.accepts_per_wakeup.max(1),
            backlog: opts.backlog as usize,
            kind,
            last_limit_warning: AtomicU64::new(0),
            epoch: Instant::now(),
        }
    }

    /// Whether a rate-limited warning may be logged now (at most one a second).
    fn may_warn(&self) -> bool {
        let now = self.epoch.elapsed().as_millis() as u64 + 1000;
        let last = self.last_limit_warning.load(Ordering::Relaxed);
        now >= last + 1000
            && self
                .last_limit_warning
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
    }
}

/// Where accepted connections go.
pub(crate) enum Handoff {
    /// To the accepting loop itself (one `SO_REUSEPORT` listener per loop).
    Local,
    /// Round robin over every loop of the group.
    RoundRobin {
        loops: Vec<EventLoop>,
        next: Cell<usize>,
    },
}

/// A TCP listening socket with the server's options, bound and listening.
pub(crate) fn tcp_listener(
    addr: SocketAddr,
    opts: &ServerOptions,
    child: &ChannelOptions,
    reuse_port: bool,
) -> Result<Socket, TransportError> {
    let bind_err = |e| TransportError::from_io(e, "binding", addr);
    let sock = Socket::new(
        Domain::for_address(addr),
        Type::STREAM.nonblocking().cloexec(),
        None,
    )
    .map_err(bind_err)?;
    sock.set_reuse_address(opts.reuse_addr).map_err(bind_err)?;
    if reuse_port {
        sock.set_reuse_port(true).map_err(bind_err)?;
    }
    child
        .apply_buffers(SockRef::from(&sock))
        .map_err(bind_err)?;
    sock.bind(&addr.into()).map_err(bind_err)?;
    sock.listen(opts.backlog.min(i32::MAX as u32) as i32)
        .map_err(|e| TransportError::from_io(e, "listening", addr))?;
    Ok(sock)
}

/// A Unix domain stream listening socket at `path`.
pub(crate) fn unix_listener(
    path: &std::path::Path,
    opts: &ServerOptions,
    child: &ChannelOptions,
) -> Result<Socket, TransportError> {
    let shown = path.display();
    let bind_err = |e| TransportError::from_io(e, "binding", format!("unix:{shown}"));
    let sock =
        Socket::new(Domain::UNIX, Type::STREAM.nonblocking().cloexec(), None).map_err(bind_err)?;
    child
        .apply_buffers(SockRef::from(&sock))
        .map_err(bind_err)?;
    sock.bind(&SockAddr::unix(path).map_err(bind_err)?)
        .map_err(bind_err)?;
    sock.listen(opts.backlog.min(i32::MAX as u32) as i32)
        .map_err(bind_err)?;
    Ok(sock)
}

/// `accept4(2)` with `SOCK_NONBLOCK | SOCK_CLOEXEC`: one syscall, no `fcntl`.
fn accept4(listener: &Socket) -> io::Result<(OwnedFd, SockAddr)> {
    // SAFETY: `try_init` hands a zeroed sockaddr_storage and its length; accept4
    // writes at most that many bytes. A non-negative return is a new descriptor
    // that nothing else owns.
    unsafe {
        SockAddr::try_init(|storage, len| {
            let fd = libc::accept4(
                listener.as_raw_fd(),
                storage.cast(),
                len,
                libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
            );
            if fd < 0 {
                Err(io::Error::last_os_error())
            } else {
                Ok(OwnedFd::from_raw_fd(fd))
            }
        })
    }
}

/// Accepts on `listener` until `stop` turns true (or the server handle is dropped),
/// handing each connection over as `handoff` says. `own` is the loop this runs
/// on. The listener closes when this returns; `_done` tells the server.
pub(crate) async fn accept_loop(
    listener: Socket,
    ctx: Arc<AcceptCtx>,
    own: usize,
    handoff: Handoff,
    mut stop: watch::Receiver<bool>,
    _done: oneshot::Sender<()>,
) {
    // SAFETY: the `Socket` owns its descriptor, which stays open and the same until
    // the `AsyncFd` (which owns the `Socket`) is dropped.
    let afd = match unsafe { AsyncFd::register_with_interest(listener, Interest::READABLE) } {
        Ok(a) => a,
        Err(e) => {
            tracing::error!(error = %e, "cannot register the listening socket: not accepting");
            return;
        }
    };
    loop {
        if *stop.borrow() {
            break;
        }
        let mut guard = tokio::select! {
            biased;
            r = stop.changed() => {
                if r.is_err() {
                    break;
                }
                continue;
            }
            g = afd.readable() => match g {
                Ok(g) => g,
                Err(e) => {
                    tracing::error!(error = %e, "listening socket failed: not accepting");
                    break;
                }
            },
        };
        let mut backoff = false;
        for _ in 0..ctx.accepts_per_wakeup {
            match guard.try_io(|l| accept4(l.get_ref())) {
                Ok(Ok((fd, peer))) => dispatch(&ctx, fd, peer, own, &handoff),
                Ok(Err(e)) => match e.raw_os_error() {
                    Some(libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM) => {
                        if ctx.may_warn() {
                            let err = TransportError::from_io(e, "accepting", "");
                            tracing::warn!(error = %err, "cannot accept: backing off for 100 ms");
                        }
                        backoff = true;
                        break;
                    }
                    Some(
                        libc::ECONNABORTED
                        | libc::EINTR
                        | libc::EPROTO
                        | libc::ENOPROTOOPT
                        | libc::EHOSTDOWN
                        | libc::ENONET
                        | libc::EHOSTUNREACH
                        | libc::ENETUNREACH
                        | libc::EPERM,
                    ) => continue,
                    _ => {
                        tracing::warn!(error = %e, "accept failed");
                        break;
                    }
                },
                Err(_would_block) => break,
            }
        }
        drop(guard);
        if backoff {
            tokio::time::sleep(Duration::from_millis(100)).await;
        } else {
            // Let the loop's channels run between bursts of accepts.
            tokio::task::yield_now().await;
        }
    }
    if *stop.borrow() {
        sweep_backlog(afd.get_ref(), &ctx, own, &handoff);
    }
    tracing::debug!("listener closed");
}

/// Accepts what waits in the accept queue before the listener closes: closing a
/// listener resets the connections still queued on it, and those clients were
/// told the connection was established. They are served as the drain says (a
/// channel registered during a drain is told to shut down at once).
fn sweep_backlog(listener: &Socket, ctx: &Arc<AcceptCtx>, own: usize, handoff: &Handoff) {
    let mut swept = 0usize;
    // Bounded: the queue holds at most `backlog` connections (capped by somaxconn).
    for _ in 0..=ctx.backlog {
        match accept4(listener) {
            Ok((fd, peer)) => {
                swept += 1;
                dispatch(ctx, fd, peer, own, handoff);
            }
            Err(e) if e.raw_os_error() == Some(libc::ECONNABORTED) => continue,
            Err(_) => break, // EAGAIN: the queue is empty
        }
    }
    if swept > 0 {
        tracing::debug!(swept, "accepted the listen backlog before closing");
    }
}

fn dispatch(ctx: &Arc<AcceptCtx>, fd: OwnedFd, peer: SockAddr, own: usize, handoff: &Handoff) {
    let peer = match &ctx.kind {
        ListenKind::Tcp { .. } => peer.as_socket().map_or(Addr::None, Addr::Inet),
        ListenKind::Unix { .. } => unix_addr(&peer),
    };
    let Some(slot) = ctx.server.reserve(ctx.max_connections) else {
        if ctx.may_warn() {
            tracing::warn!(
                peer = %peer,
                max_connections = ?ctx.max_connections,
                "max connections reached (or shutting down): closing the new connection; \
                 raise ServerOptions::max_connections to accept more"
            );
        }
        return;
    };
    if let ListenKind::Tcp { .. } = ctx.kind
        && let Err(e) = ctx.params.opts.apply_tcp(SockRef::from(&fd))
    {
        tracing::debug!(error = %e, "setting TCP options on an accepted socket failed");
    }
    let shard = match handoff {
        Handoff::Local => own,
        Handoff::RoundRobin { loops, next } => {
            let i = next.get();
            next.set((i + 1) % loops.len());
            i
        }
    };
    let accepted = Accepted {
        fd,
        peer,
        ctx: ctx.clone(),
        shard,
        slot,
    };
    match handoff {
        Handoff::RoundRobin { loops, .. } if shard != own => {
            let _ = loops[shard].execute(move || spawn_start(accepted));
        }
        _ => spawn_start(accepted),
    }
}

/// What an accepted connection's task starts from. Boxed: the task's future then
/// keeps one pointer of it for its whole life instead of the values themselves
/// (an async function's arguments stay in its state until it ends).
struct Accepted {
    fd: OwnedFd,
    peer: Addr,
    ctx: Arc<AcceptCtx>,
    shard: usize,
    slot: Slot,
}

/// Spawns the driver of an accepted connection on the current loop.
fn spawn_start(a: Accepted) {
    let tcp = matches!(a.ctx.kind, ListenKind::Tcp { .. });
    let a = Box::new(a);
    if tcp {
        tokio::task::spawn_local(start::<TcpStream>(a));
    } else {
        tokio::task::spawn_local(start::<UnixStream>(a));
    }
}

/// Opens an accepted connection's channel and drives it. The setup runs in the
/// connection's own task (a panicking initializer ends that task only); while the
/// task waits it keeps the [`ChannelTask`](crate::driver::ChannelTask) and little
/// else: the driver's future is made by a plain function and pinned where it is
/// awaited, never held in a second local (rustc keeps the storage of a
/// moved-from local in an async function's state while it is in scope).
async fn start<S: SocketStream>(a: Box<Accepted>) {
    let driver = pin!(open_accepted::<S>(a));
    if let Some(driver) = driver.as_pin_mut() {
        driver.await;
    }
}

/// Registers an accepted socket and opens its channel; the driver to await, or
/// `None` where the channel did not open.
// Takes the box itself: moving the value out at the call would leave a temporary
// of it in the task's future.
#[allow(clippy::boxed_local)]
fn open_accepted<S: SocketStream>(a: Box<Accepted>) -> Option<impl Future<Output = ()>> {
    let Accepted {
        fd,
        peer,
        ctx,
        shard,
        slot,
    } = *a;
    let stream = match S::from_owned_fd(fd) {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!(error = %e, "cannot register an accepted socket");
            return None;
        }
    };
    let local = match &ctx.kind {
        ListenKind::Tcp {
            unspecified: true, ..
        } => tcp_local_addr(&stream),
        ListenKind::Tcp { local, .. } => Addr::Inet(*local),
        ListenKind::Unix { path } => Addr::Unix(path.clone()),
    };
    let (task, span) = open_channel(stream, local, peer, &ctx.params, shard, Some(slot), None)?;
    Some(task.run().instrument(span))
}

#[cfg(test)]
mod task_size {
    use std::mem::size_of;

    use tokio::net::TcpStream;

    use crate::driver::ChannelTask;

    /// The size of the future `make` returns (never called).
    fn future_size<Fut>(_make: &dyn Fn() -> Fut) -> usize {
        size_of::<Fut>()
    }

    /// Every idle connection holds its task's future: the driver state plus a
    /// little, not twice the channel (an `async fn` that moved the channel into a
    /// local, or kept a moved-from local in scope across an await, held two
    /// copies: 1,400 bytes where 900 do).
    #[test]
    #[allow(unreachable_code)]
    fn an_accepted_connections_future_is_its_channel_task_and_a_little() {
        let task = size_of::<ChannelTask<TcpStream>>();
        let accepted = future_size(&|| super::start::<TcpStream>(todo!()));
        let client = future_size(&|| {
            crate::driver::run_channel::<TcpStream>(
                todo!(),
                todo!(),
                todo!(),
                todo!(),
                0,
                None,
                None,
            )
        });
        eprintln!("accepted {accepted} client {client} task {task}");
        assert!(
            accepted < task + 350,
            "accepted: {accepted} B for a {task} B task"
        );
        assert!(
            client < task + 550,
            "client: {client} B for a {task} B task"
        );
    }
}
