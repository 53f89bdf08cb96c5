//! [`DatagramBootstrap`] (bind a socket, or connect one to a single peer) and the
//! [`DatagramEndpoint`] handle it returns.

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs};
use std::sync::Arc;
use std::time::Duration;

use seine_channel::{Addr, Channel, ChannelError, Pipeline};

use super::driver::{DatagramParams, run_datagram};
use super::metrics::{Counters, DatagramMetrics};
use super::options::DatagramOptions;
use super::socket::{DatagramPath, bind_socket, enable_path, local_addr};
use crate::bootstrap::resolve;
use crate::channel_set::{ChannelSet, close_all};
use crate::driver::Initializer;
use crate::error::TransportError;
use crate::event_loop::{EventLoopGroup, block_on};

/// Starts datagram (UDP) channels: their pipeline, options and loops.
///
/// Each socket is one channel whose pipeline reads and writes
/// [`DatagramPacket`](seine_channel::DatagramPacket)s. [`bind`](Self::bind) opens
/// one socket per loop on the same address (`SO_REUSEPORT`; the kernel spreads
/// senders over them), [`connect`](Self::connect) one socket talking to one peer.
///
/// ```
/// use seine_channel::prelude::*;
/// use seine_channel::DatagramPacket;
/// use seine_transport::{DatagramBootstrap, EventLoopGroup};
///
/// /// Sends every datagram back to its sender.
/// struct Echo;
/// impl ChannelHandler for Echo {}
/// impl InboundHandler for Echo {
///     type Read = DatagramPacket;
///     type Fire = DatagramPacket;
///     fn channel_read(&mut self, ctx: &mut InboundContext<'_, DatagramPacket>, msg: DatagramPacket) {
///         ctx.write(msg.reply(msg.content.clone()));
///     }
/// }
///
/// let group = EventLoopGroup::new(1)?;
/// let server = DatagramBootstrap::new()
///     .group(&group)
///     .handler(|p| {
///         p.add_last("echo", Handler::inbound(Echo))?;
///         Ok(())
///     })
///     .bind("127.0.0.1:0")?;
///
/// let client = std::net::UdpSocket::bind("127.0.0.1:0")?;
/// client.set_read_timeout(Some(std::time::Duration::from_secs(5)))?;
/// client.send_to(b"ping", server.local_addr())?;
/// let mut buf = [0; 16];
/// let (n, from) = client.recv_from(&mut buf)?;
/// assert_eq!((&buf[..n], from), (&b"ping"[..], server.local_addr()));
/// server.shutdown_gracefully_blocking(std::time::Duration::from_secs(1));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct DatagramBootstrap {
    group: Option<EventLoopGroup>,
    init: Initializer,
    options: DatagramOptions,
}

impl Default for DatagramBootstrap {
    fn default() -> Self {
        Self::new()
    }
}

impl DatagramBootstrap {
    /// Default options, no handlers, no group (`bind`/`connect` then start a
    /// group of [`EventLoopGroup::default_threads`] loops that the endpoint owns).
    pub fn new() -> Self {
        DatagramBootstrap {
            group: None,
            init: Arc::new(|_: &mut Pipeline<'_>| Ok(())),
            options: DatagramOptions::default(),
        }
    }

    /// Runs the channels on `group` (shared: shutting the endpoint down leaves
    /// the group running).
    pub fn group(mut self, group: &EventLoopGroup) -> Self {
        self.group = Some(group.clone());
        self
    }

    /// Builds each socket's pipeline, on its loop, before it becomes active.
    /// The first handler reads `DatagramPacket`; the last writes
    /// `DatagramPacket` (or, connected, plain buffers).
    pub fn handler<F>(mut self, init: F) -> Self
    where
        F: Fn(&mut Pipeline<'_>) -> Result<(), ChannelError> + Send + Sync + 'static,
    {
        self.init = Arc::new(init);
        self
    }

    /// The sockets' and channels' options.
    pub fn options(mut self, options: DatagramOptions) -> Self {
        self.options = options;
        self
    }

    fn group_or_new(&self) -> Result<(EventLoopGroup, bool), TransportError> {
        match &self.group {
            Some(g) => Ok((g.clone(), false)),
            None => Ok((EventLoopGroup::new(0)?, true)),
        }
    }

    /// Binds `addr` (port 0 picks a free port) and starts receiving on the
    /// group's loops: one socket per loop with `SO_REUSEPORT` (option on and
    /// more than one loop), else one socket. Datagrams that arrive before a
    /// channel is active wait in the kernel.
    ///
    /// # Errors
    /// [`TransportError::AddrInUse`], [`TransportError::Bind`],
    /// [`TransportError::Resolve`], [`TransportError::Shutdown`].
    pub fn bind(&self, addr: impl ToSocketAddrs) -> Result<DatagramEndpoint, TransportError> {
        let addr = resolve(addr)?;
        let (group, owns) = self.group_or_new()?;
        let per_loop = self.options.reuse_port && group.len() > 1;
        let first = bind_socket(addr, &self.options, self.options.reuse_port)?;
        let local = local_addr(&first, addr);
        let mut sockets = vec![first];
        if per_loop {
            for _ in 1..group.len() {
                sockets.push(bind_socket(local, &self.options, true)?);
            }
        }
        self.start(group, owns, sockets, local, None)
    }

    /// Opens a socket connected to `peer` (bound to an unspecified address of
    /// its family, port 0): it receives only from `peer`, and its pipeline may
    /// write plain buffers, sent to `peer`.
    ///
    /// # Errors
    /// [`TransportError::Connect`], [`TransportError::Bind`],
    /// [`TransportError::Resolve`], [`TransportError::Shutdown`].
    pub fn connect(&self, peer: impl ToSocketAddrs) -> Result<DatagramEndpoint, TransportError> {
        let peer = resolve(peer)?;
        let any: SocketAddr = if peer.is_ipv4() {
            (Ipv4Addr::UNSPECIFIED, 0).into()
        } else {
            (Ipv6Addr::UNSPECIFIED, 0).into()
        };
        let opts = DatagramOptions {
            reuse_port: false,
            ..self.options.clone()
        };
        let s = bind_socket(any, &opts, false)?;
        s.connect(&peer.into())
            .map_err(|e| TransportError::from_io(e, "connecting", peer))?;
        let local = local_addr(&s, any);
        let (group, owns) = self.group_or_new()?;
        self.start(group, owns, vec![s], local, Some(peer))
    }

    fn start(
        &self,
        group: EventLoopGroup,
        owns_group: bool,
        sockets: Vec<socket2::Socket>,
        local: SocketAddr,
        peer: Option<SocketAddr>,
    ) -> Result<DatagramEndpoint, TransportError> {
        let set = ChannelSet::new(group.len());
        let opts = Arc::new(self.options.clone());
        let mut channels = Vec::new();
        let mut counters = Vec::new();
        let mut handles = Vec::new();
        let mut path = DatagramPath::default();
        let per_loop = sockets.len() > 1;
        for s in sockets {
            let fd = std::os::fd::AsRawFd::as_raw_fd(&s);
            path = enable_path(fd, &opts);
            let handle = s
                .try_clone()
                .map_err(|e| TransportError::from_io(e, "duplicating the socket", local))?;
            let lp = if per_loop {
                group.loops()[channels.len()].clone()
            } else {
                group.next()
            };
            let (channel, recorder) =
                Channel::with_recorder(Addr::Inet(local), peer.map_or(Addr::None, Addr::Inet));
            let c = Arc::new(Counters::default());
            let params = DatagramParams {
                socket: std::net::UdpSocket::from(s),
                channel: channel.clone(),
                recorder,
                local,
                connected: peer.is_some(),
                init: self.init.clone(),
                opts: opts.clone(),
                path,
                counters: c.clone(),
                sets: [set.clone(), group.channels().clone()],
                shard: lp.index(),
            };
            lp.spawn(move || run_datagram(params))?;
            channels.push(channel);
            counters.push(c);
            handles.push(handle);
        }
        tracing::info!(addr = %local, sockets = channels.len(), "{path}");
        Ok(DatagramEndpoint {
            inner: Arc::new(Inner {
                local,
                peer,
                channels,
                counters,
                sockets: handles,
                set,
                group,
                owns_group,
                path,
            }),
        })
    }
}

/// Bound (or connected) datagram sockets, one channel each. Dropping the last
/// handle closes the channels (after they flush).
#[derive(Clone)]
pub struct DatagramEndpoint {
    inner: Arc<Inner>,
}

struct Inner {
    local: SocketAddr,
    peer: Option<SocketAddr>,
    channels: Vec<Channel>,
    counters: Vec<Arc<Counters>>,
    /// Duplicates of the sockets' descriptors, for multicast membership.
    sockets: Vec<socket2::Socket>,
    set: Arc<ChannelSet>,
    group: EventLoopGroup,
    owns_group: bool,
    path: DatagramPath,
}

impl Drop for Inner {
    fn drop(&mut self) {
        for ch in &self.channels {
            ch.close();
        }
    }
}

impl std::fmt::Debug for DatagramEndpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DatagramEndpoint")
            .field("local", &self.inner.local)
            .field("peer", &self.inner.peer)
            .field("sockets", &self.inner.channels.len())
            .finish()
    }
}

impl DatagramEndpoint {
    /// The bound address (with the real port when bound to port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.inner.local
    }

    /// The peer of a connected endpoint.
    pub fn peer_addr(&self) -> Option<SocketAddr> {
        self.inner.peer
    }

    /// One channel per socket (one per loop with `SO_REUSEPORT`).
    pub fn channels(&self) -> &[Channel] {
        &self.inner.channels
    }

    /// The first socket's channel: write `DatagramPacket`s through it from any
    /// thread.
    pub fn channel(&self) -> &Channel {
        &self.inner.channels[0]
    }

    /// Which batched path the sockets use (GSO, GRO), as logged at bind.
    pub fn path(&self) -> DatagramPath {
        self.inner.path
    }

    /// Counters summed over the sockets, drops by cause included.
    pub fn metrics(&self) -> DatagramMetrics {
        let mut m = DatagramMetrics::default();
        for c in &self.inner.counters {
            m += c.snapshot();
        }
        m
    }

    fn each(
        &self,
        what: &'static str,
        f: impl Fn(&socket2::Socket) -> std::io::Result<()>,
    ) -> Result<(), TransportError> {
        for s in &self.inner.sockets {
            f(s).map_err(|e| TransportError::from_io(e, what, self.inner.local))?;
        }
        Ok(())
    }

    /// Joins the IPv4 multicast `group` on the interface with address
    /// `interface` (`0.0.0.0`: the kernel's choice), on every socket.
    ///
    /// # Errors
    /// [`TransportError::Io`] (no such interface, not a multicast address).
    pub fn join_multicast_v4(
        &self,
        group: Ipv4Addr,
        interface: Ipv4Addr,
    ) -> Result<(), TransportError> {
        self.each("joining a multicast group", |s| {
            s.join_multicast_v4(&group, &interface)
        })
    }

    /// Leaves an IPv4 multicast group joined with
    /// [`join_multicast_v4`](Self::join_multicast_v4).
    ///
    /// # Errors
    /// [`TransportError::Io`].
    pub fn leave_multicast_v4(
        &self,
        group: Ipv4Addr,
        interface: Ipv4Addr,
    ) -> Result<(), TransportError> {
        self.each("leaving a multicast group", |s| {
            s.leave_multicast_v4(&group, &interface)
        })
    }

    /// Joins the IPv6 multicast `group` on the interface with index
    /// `interface` (0: the kernel's choice), on every socket.
    ///
    /// # Errors
    /// [`TransportError::Io`].
    pub fn join_multicast_v6(&self, group: Ipv6Addr, interface: u32) -> Result<(), TransportError> {
        self.each("joining a multicast group", |s| {
            s.join_multicast_v6(&group, interface)
        })
    }

    /// Leaves an IPv6 multicast group.
    ///
    /// # Errors
    /// [`TransportError::Io`].
    pub fn leave_multicast_v6(
        &self,
        group: Ipv6Addr,
        interface: u32,
    ) -> Result<(), TransportError> {
        self.each("leaving a multicast group", |s| {
            s.leave_multicast_v6(&group, interface)
        })
    }

    /// Closes every channel (flushing queued datagrams), force-closes those
    /// still open after `grace`, and stops the group if the endpoint created it.
    /// Returns how many had to be forced.
    pub async fn shutdown_gracefully(&self, grace: Duration) -> usize {
        let set = self.inner.set.clone();
        let forced = match self.inner.group.get(0) {
            Some(lp) => lp.run(move || close_all(set, grace)).await.unwrap_or(0),
            None => 0,
        };
        if self.inner.owns_group {
            self.inner.group.shutdown_gracefully(Duration::ZERO).await;
        }
        forced
    }

    /// [`shutdown_gracefully`](Self::shutdown_gracefully), blocking the calling
    /// thread (not from inside a loop or an async task).
    pub fn shutdown_gracefully_blocking(&self, grace: Duration) -> usize {
        block_on(self.shutdown_gracefully(grace))
    }
}
