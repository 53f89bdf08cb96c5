//! [`ServerBootstrap`] (listen and serve) and [`Bootstrap`] (connect), Netty's two
//! ways to start channels, and the [`Server`] handle.

use std::cell::Cell;
use std::io;
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use seine_channel::{Addr, Channel, ChannelError, Pipeline};
use socket2::SockRef;
use tokio::sync::{oneshot, watch};

use crate::accept::{AcceptCtx, Handoff, ListenKind, accept_loop, tcp_listener, unix_listener};
use crate::channel_set::ChannelSet;
use crate::drain::drain;
use crate::driver::{ChannelParams, Initializer, run_channel};
use crate::error::TransportError;
use crate::event_loop::{EventLoopGroup, block_on};
use crate::metrics::ServerMetrics;
use crate::options::{AcceptMode, ChannelOptions, ServerOptions};
use crate::probe::ZeroCopyCapabilities;
use crate::socket_stream::tcp_local_addr;

fn empty_initializer() -> Initializer {
    Arc::new(|_: &mut Pipeline<'_>| Ok(()))
}

/// Starts servers: a listening address, the child channels' initializer and
/// options, and the event loops they run on.
///
/// ```
/// use seine_transport::{ServerBootstrap, ServerOptions};
/// let server = ServerBootstrap::new()
///     .options(ServerOptions { max_connections: Some(100), ..ServerOptions::default() })
///     .child_handler(|_pipeline| Ok(())) // add handlers here
///     .bind("127.0.0.1:0")
///     .unwrap();
/// assert_ne!(server.local_addr().unwrap().port(), 0);
/// server.shutdown_gracefully_blocking(std::time::Duration::from_secs(1));
/// ```
#[derive(Clone)]
pub struct ServerBootstrap {
    group: Option<EventLoopGroup>,
    init: Initializer,
    options: ServerOptions,
    child: ChannelOptions,
}

impl Default for ServerBootstrap {
    fn default() -> Self {
        Self::new()
    }
}

impl ServerBootstrap {
    /// A bootstrap with default options, no handlers, and no group (`bind` then
    /// starts a group of [`EventLoopGroup::default_threads`] loops that the server
    /// owns and stops at shutdown).
    pub fn new() -> Self {
        ServerBootstrap {
            group: None,
            init: empty_initializer(),
            options: ServerOptions::default(),
            child: ChannelOptions::default(),
        }
    }

    /// Runs the server's channels on `group` (shared: shutting the server down
    /// leaves the group running).
    pub fn group(mut self, group: &EventLoopGroup) -> Self {
        self.group = Some(group.clone());
        self
    }

    /// Builds each accepted channel's pipeline. Called on the channel's loop, once
    /// per connection, so the handlers it adds need not be `Send`. An `Err` closes
    /// the connection (logged as a warning).
    pub fn child_handler<F>(mut self, init: F) -> Self
    where
        F: Fn(&mut Pipeline<'_>) -> Result<(), ChannelError> + Send + Sync + 'static,
    {
        self.init = Arc::new(init);
        self
    }

    /// The listening socket's options.
    pub fn options(mut self, options: ServerOptions) -> Self {
        self.options = options;
        self
    }

    /// Every accepted channel's options.
    pub fn child_options(mut self, options: ChannelOptions) -> Self {
        self.child = options;
        self
    }

    /// Sets `ServerOptions::max_connections`.
    pub fn max_connections(mut self, max: usize) -> Self {
        self.options.max_connections = Some(max);
        self
    }

    /// Sets `ServerOptions::accept_mode`.
    pub fn accept_mode(mut self, mode: AcceptMode) -> Self {
        self.options.accept_mode = mode;
        self
    }

    fn group_or_new(&self) -> Result<(EventLoopGroup, bool), TransportError> {
        match &self.group {
            Some(g) => Ok((g.clone(), false)),
            None => Ok((EventLoopGroup::new(0)?, true)),
        }
    }

    /// Listens on `addr` (the first address it resolves to; port 0 picks a free
    /// port, see [`Server::local_addr`]) and serves every connection on the group's
    /// loops. Returns once the socket listens; accepting starts on the loops.
    ///
    /// # Errors
    /// [`TransportError::AddrInUse`], [`TransportError::Bind`],
    /// [`TransportError::Resolve`], or [`TransportError::Shutdown`] if the group
    /// has stopped.
    pub fn bind(&self, addr: impl ToSocketAddrs) -> Result<Server, TransportError> {
        let addr = resolve(addr)?;
        let (group, owns_group) = self.group_or_new()?;
        let n = group.len();
        let reuse_port =
            self.options.accept_mode == AcceptMode::ReusePort && self.options.reuse_port && n > 1;
        let first = tcp_listener(addr, &self.options, &self.child, self.options.reuse_port)?;
        let local = first
            .local_addr()
            .ok()
            .and_then(|a| a.as_socket())
            .unwrap_or(addr);
        let mut listeners = vec![first];
        if reuse_port {
            for _ in 1..n {
                listeners.push(tcp_listener(local, &self.options, &self.child, true)?);
            }
        }
        let kind = ListenKind::Tcp {
            local,
            unspecified: local.ip().is_unspecified(),
        };
        self.start(group, owns_group, listeners, kind, Addr::Inet(local), None)
    }

    /// Serves on a socket that already listens: one passed by systemd socket
    /// activation ([`listen_fds`](crate::listen_fds::listen_fds)), inherited from a
    /// parent, or bound by the caller. The server takes it over and closes it at
    /// shutdown; one accept loop hands connections to the loops round robin.
    ///
    /// ```
    /// use seine_transport::ServerBootstrap;
    /// let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    /// let addr = listener.local_addr().unwrap();
    /// let server = ServerBootstrap::new().serve_listener(listener.into()).unwrap();
    /// assert_eq!(server.local_addr().unwrap(), addr);
    /// server.shutdown_gracefully_blocking(std::time::Duration::from_secs(1));
    /// ```
    ///
    /// # Errors
    /// [`TransportError::SocketActivation`] if it is not a listening TCP or Unix
    /// stream socket.
    pub fn serve_listener(&self, listener: socket2::Socket) -> Result<Server, TransportError> {
        crate::listen_fds::check_listening(&listener)?;
        let local = listener
            .local_addr()
            .map_err(|e| TransportError::SocketActivation {
                reason: format!("getsockname failed: {e}"),
            })?;
        let (group, owns_group) = self.group_or_new()?;
        if let Some(inet) = local.as_socket() {
            let kind = ListenKind::Tcp {
                local: inet,
                unspecified: inet.ip().is_unspecified(),
            };
            return self.start(
                group,
                owns_group,
                vec![listener],
                kind,
                Addr::Inet(inet),
                None,
            );
        }
        let path = local.as_pathname().map(Path::to_path_buf).ok_or_else(|| {
            TransportError::SocketActivation {
                reason: "the socket is neither TCP nor a Unix socket with a path".into(),
            }
        })?;
        let kind = ListenKind::Unix { path: path.clone() };
        // The socket file belongs to whoever created it (systemd): not removed here.
        self.start(
            group,
            owns_group,
            vec![listener],
            kind,
            Addr::Unix(path),
            None,
        )
    }

    /// Serves on the first socket systemd passed (`LISTEN_FDS`) if the process was
    /// socket-activated, otherwise binds `addr` as [`bind`](Self::bind) does.
    /// With socket activation the listener belongs to systemd and outlives the
    /// process: connections that arrive while the service restarts wait in its
    /// backlog.
    ///
    /// # Errors
    /// As [`bind`](Self::bind) and [`serve_listener`](Self::serve_listener).
    pub fn bind_activated_or(&self, addr: impl ToSocketAddrs) -> Result<Server, TransportError> {
        match crate::listen_fds::listen_fds()?.into_iter().next() {
            Some(listener) => {
                tracing::info!("using the listening socket passed by systemd (LISTEN_FDS)");
                self.serve_listener(listener)
            }
            None => self.bind(addr),
        }
    }

    /// Listens on the Unix domain socket `path` (which must not exist; remove a
    /// stale one first) and serves every connection with the same handlers and
    /// options as TCP. One listener hands connections to the loops round robin.
    /// The socket file is removed at shutdown.
    ///
    /// # Errors
    /// [`TransportError::AddrInUse`] if `path` exists, [`TransportError::Bind`].
    pub fn bind_unix(&self, path: impl AsRef<Path>) -> Result<Server, TransportError> {
        let path = path.as_ref().to_path_buf();
        let (group, owns_group) = self.group_or_new()?;
        let listener = unix_listener(&path, &self.options, &self.child)?;
        let kind = ListenKind::Unix { path: path.clone() };
        self.start(
            group,
            owns_group,
            vec![listener],
            kind,
            Addr::Unix(path.clone()),
            Some(path),
        )
    }

    fn start(
        &self,
        group: EventLoopGroup,
        owns_group: bool,
        listeners: Vec<socket2::Socket>,
        kind: ListenKind,
        local: Addr,
        unix_path: Option<PathBuf>,
    ) -> Result<Server, TransportError> {
        let set = ChannelSet::new(group.len());
        let params = ChannelParams {
            init: self.init.clone(),
            opts: Arc::new(self.child.clone()),
            server: Some(set.clone()),
            group: group.channels().clone(),
        };
        let ctx = Arc::new(AcceptCtx::new(params, set.clone(), &self.options, kind));
        // What zero copy this kernel and the listening interface offer, once per
        // server (the sendfile/splice checks themselves run once per process).
        let zero_copy = listeners
            .first()
            .map(|l| crate::probe::probe(Some(std::os::fd::AsFd::as_fd(l))))
            .unwrap_or_default();
        tracing::info!(addr = %local, "{zero_copy}");
        let (stop_tx, stop_rx) = watch::channel(false);
        let mut done = Vec::new();
        let per_loop = listeners.len() > 1;
        for (i, listener) in listeners.into_iter().enumerate() {
            let lp = if per_loop {
                group.loops()[i].clone()
            } else {
                group.next()
            };
            let own = lp.index();
            let handoff = if per_loop {
                Handoff::Local
            } else {
                Handoff::RoundRobin {
                    loops: group.loops().to_vec(),
                    next: Cell::new(own),
                }
            };
            let (done_tx, done_rx) = oneshot::channel();
            done.push(done_rx);
            let ctx = ctx.clone();
            let stop = stop_rx.clone();
            lp.spawn(move || accept_loop(listener, ctx, own, handoff, stop, done_tx))?;
        }
        tracing::info!(addr = %local, loops = group.len(), "listening");
        Ok(Server {
            inner: Arc::new(ServerInner {
                local,
                set,
                group,
                owns_group,
                stop: stop_tx,
                done: Mutex::new(done),
                unix_path,
                zero_copy,
            }),
        })
    }
}

pub(crate) fn resolve(addr: impl ToSocketAddrs) -> Result<SocketAddr, TransportError> {
    let mut it = addr
        .to_socket_addrs()
        .map_err(|e| TransportError::Resolve {
            addr: e.to_string(),
            source: e,
        })?;
    it.next().ok_or_else(|| TransportError::Resolve {
        addr: String::from("(no address)"),
        source: io::Error::new(
            io::ErrorKind::InvalidInput,
            "the address resolved to nothing",
        ),
    })
}

/// A running server. Dropping it stops accepting (open connections carry on; a
/// group the server created stops too). Cloning is not offered: share it in an
/// `Arc` if needed.
pub struct Server {
    inner: Arc<ServerInner>,
}

struct ServerInner {
    local: Addr,
    set: Arc<ChannelSet>,
    group: EventLoopGroup,
    owns_group: bool,
    stop: watch::Sender<bool>,
    done: Mutex<Vec<oneshot::Receiver<()>>>,
    unix_path: Option<PathBuf>,
    zero_copy: ZeroCopyCapabilities,
}

impl Drop for ServerInner {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
        if let Some(p) = &self.unix_path {
            let _ = std::fs::remove_file(p);
        }
    }
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("addr", &self.inner.local)
            .finish()
    }
}

impl Server {
    /// The address the server listens on (with the real port when bound to port 0).
    ///
    /// # Errors
    /// `InvalidInput` for a Unix domain socket server (see [`addr`](Self::addr)).
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        match &self.inner.local {
            Addr::Inet(a) => Ok(*a),
            other => Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{other} is not an IP address; use Server::addr"),
            )),
        }
    }

    /// What zero copy is available to this server: sendfile and splice on this
    /// kernel, and whether the listening interface offers scatter-gather DMA with
    /// checksum offload (so `sendfile` copies nothing on the CPU). Probed once at
    /// bind and logged with `tracing` then. For a server bound to an unspecified
    /// address the interface is unknown until a connection arrives; probe a
    /// connected socket with [`probe`](crate::probe::probe) for that.
    pub fn zero_copy(&self) -> &ZeroCopyCapabilities {
        &self.inner.zero_copy
    }

    /// The address the server listens on, IP or Unix path.
    pub fn addr(&self) -> &Addr {
        &self.inner.local
    }

    /// The loops the server runs on.
    pub fn group(&self) -> &EventLoopGroup {
        &self.inner.group
    }

    /// Totals over every connection the server accepted.
    pub fn metrics(&self) -> ServerMetrics {
        self.inner.set.metrics()
    }

    #[cfg(feature = "prometheus")]
    pub(crate) fn channel_set(&self) -> &Arc<ChannelSet> {
        &self.inner.set
    }

    /// Shuts the server down: stops accepting (the listening sockets close), closes
    /// every connection through its `Channel` handle (flushing what was written),
    /// force-closes those still open after `grace`, and, if the server created its
    /// own group, stops the loops. Returns how many connections had to be forced.
    pub async fn shutdown_gracefully(&self, grace: Duration) -> usize {
        let _ = self.inner.stop.send(true);
        let done = std::mem::take(
            &mut *self
                .inner
                .done
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
        );
        for rx in done {
            let _ = rx.await;
        }
        if let Some(p) = &self.inner.unix_path {
            let _ = std::fs::remove_file(p);
        }
        let set = self.inner.set.clone();
        let forced = match self.inner.group.get(0) {
            Some(lp) => lp.run(move || drain(set, grace)).await.unwrap_or(0),
            None => 0,
        };
        if self.inner.owns_group {
            self.inner.group.shutdown_gracefully(Duration::ZERO).await;
        }
        tracing::info!(addr = %self.inner.local, forced, "server shut down");
        forced
    }

    /// [`shutdown_gracefully`](Self::shutdown_gracefully), blocking the calling
    /// thread. Not from inside an async task or one of the server's loops.
    pub fn shutdown_gracefully_blocking(&self, grace: Duration) -> usize {
        block_on(self.shutdown_gracefully(grace))
    }
}

/// Connects clients: the group to run on, the channel's initializer and options.
///
/// ```
/// # use seine_transport::{Bootstrap, EventLoopGroup, ServerBootstrap};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let group = EventLoopGroup::new(1).unwrap();
/// let server = ServerBootstrap::new().group(&group).bind("127.0.0.1:0").unwrap();
/// let channel = Bootstrap::new(&group)
///     .handler(|_pipeline| Ok(()))
///     .connect(server.local_addr().unwrap())
///     .await
///     .unwrap();
/// assert!(channel.is_active());
/// channel.close();
/// channel.closed().await;
/// group.shutdown_gracefully(std::time::Duration::from_secs(1)).await;
/// # }
/// ```
#[derive(Clone)]
pub struct Bootstrap {
    group: EventLoopGroup,
    init: Initializer,
    options: ChannelOptions,
}

impl Bootstrap {
    /// A client bootstrap on `group` (each connection goes to its next loop).
    pub fn new(group: &EventLoopGroup) -> Self {
        Bootstrap {
            group: group.clone(),
            init: empty_initializer(),
            options: ChannelOptions::default(),
        }
    }

    /// Builds the channel's pipeline, on its loop, before it becomes active.
    pub fn handler<F>(mut self, init: F) -> Self
    where
        F: Fn(&mut Pipeline<'_>) -> Result<(), ChannelError> + Send + Sync + 'static,
    {
        self.init = Arc::new(init);
        self
    }

    /// The channel's options.
    pub fn options(mut self, options: ChannelOptions) -> Self {
        self.options = options;
        self
    }

    fn params(&self) -> ChannelParams {
        ChannelParams {
            init: self.init.clone(),
            opts: Arc::new(self.options.clone()),
            server: None,
            group: self.group.channels().clone(),
        }
    }

    /// Connects to `addr` (resolved on the calling thread, the first address
    /// used) and returns the channel's handle once it is active (its pipeline
    /// built, `channel_active` fired). Await it from any runtime.
    ///
    /// # Errors
    /// [`TransportError::Connect`] (refused, unreachable), [`TransportError::Resolve`],
    /// [`TransportError::Initializer`], [`TransportError::Shutdown`].
    pub async fn connect(&self, addr: impl ToSocketAddrs) -> Result<Channel, TransportError> {
        let addr = resolve(addr)?;
        let params = self.params();
        let lp = self.group.next();
        let shard = lp.index();
        let (tx, rx) = oneshot::channel();
        lp.spawn(move || async move {
            let opts = params.opts.clone();
            let connect = async {
                let sock = if addr.is_ipv4() {
                    tokio::net::TcpSocket::new_v4()
                } else {
                    tokio::net::TcpSocket::new_v6()
                }?;
                opts.apply_buffers(SockRef::from(&sock))?;
                let stream = sock.connect(addr).await?;
                opts.apply_tcp(SockRef::from(&stream))?;
                Ok::<_, io::Error>(stream)
            };
            match connect.await {
                Ok(stream) => {
                    let local = tcp_local_addr(&stream);
                    run_channel(
                        stream,
                        local,
                        Addr::Inet(addr),
                        params,
                        shard,
                        None,
                        Some(tx),
                    )
                    .await
                }
                Err(e) => {
                    let _ = tx.send(Err(TransportError::from_io(e, "connecting", addr)));
                }
            }
        })?;
        rx.await.map_err(|_| TransportError::Shutdown)?
    }

    /// Connects to the Unix domain socket at `path`; otherwise as
    /// [`connect`](Self::connect).
    ///
    /// # Errors
    /// As [`connect`](Self::connect).
    pub async fn connect_unix(&self, path: impl AsRef<Path>) -> Result<Channel, TransportError> {
        let path = path.as_ref().to_path_buf();
        let params = self.params();
        let lp = self.group.next();
        let shard = lp.index();
        let (tx, rx) = oneshot::channel();
        lp.spawn(move || async move {
            let shown = format!("unix:{}", path.display());
            match tokio::net::UnixStream::connect(&path).await {
                Ok(stream) => {
                    if let Err(e) = params.opts.apply_buffers(SockRef::from(&stream)) {
                        tracing::debug!(error = %e, "setting socket buffer sizes failed");
                    }
                    let local = stream
                        .local_addr()
                        .ok()
                        .and_then(|a| a.as_pathname().map(Path::to_path_buf))
                        .unwrap_or_default();
                    run_channel(
                        stream,
                        Addr::Unix(local),
                        Addr::Unix(path),
                        params,
                        shard,
                        None,
                        Some(tx),
                    )
                    .await
                }
                Err(e) => {
                    let _ = tx.send(Err(TransportError::from_io(e, "connecting", shown)));
                }
            }
        })?;
        rx.await.map_err(|_| TransportError::Shutdown)?
    }
}
