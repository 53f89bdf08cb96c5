//! Opening datagram sockets: bind (with `SO_REUSEPORT` for one socket per loop),
//! connect, socket options, and which batched path the kernel offers.

use std::fmt;
use std::net::SocketAddr;
use std::os::fd::{AsRawFd, RawFd};
use std::sync::OnceLock;

use socket2::{Domain, Protocol, Socket, Type};

use super::options::DatagramOptions;
use crate::error::TransportError;

/// Which datagram path a socket uses: batched system calls always, UDP GSO and
/// GRO where the kernel has them and the options ask for them.
///
/// ```
/// use seine_transport::DatagramPath;
/// let path = DatagramPath { gso: true, gro: false };
/// assert_eq!(
///     path.to_string(),
///     "datagram I/O: recvmmsg/sendmmsg batches, UDP GSO on, UDP GRO off"
/// );
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DatagramPath {
    /// Runs of equal-size datagrams to one peer leave as one `UDP_SEGMENT` message.
    pub gso: bool,
    /// The kernel may hand several datagrams over in one coalesced buffer (`UDP_GRO`).
    pub gro: bool,
}

impl fmt::Display for DatagramPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let on = |b: bool| if b { "on" } else { "off" };
        write!(
            f,
            "datagram I/O: recvmmsg/sendmmsg batches, UDP GSO {}, UDP GRO {}",
            on(self.gso),
            on(self.gro)
        )
    }
}

fn set_int(fd: RawFd, level: libc::c_int, name: libc::c_int, value: libc::c_int) -> bool {
    // SAFETY: `fd` is an open socket; the option value is a pointer to an int and
    // its size, which is what these integer options read.
    unsafe {
        libc::setsockopt(
            fd,
            level,
            name,
            (&raw const value).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        ) == 0
    }
}

/// Whether this kernel takes `UDP_SEGMENT` (Linux 4.18+): setting the socket's
/// default segment size to 0 (off) succeeds exactly where GSO exists. Probed once.
pub(crate) fn kernel_has_gso() -> bool {
    static GSO: OnceLock<bool> = OnceLock::new();
    *GSO.get_or_init(|| {
        let Ok(s) = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP)) else {
            return false;
        };
        set_int(s.as_raw_fd(), libc::SOL_UDP, libc::UDP_SEGMENT, 0)
    })
}

/// Turns on what the driver uses: `UDP_GRO` if asked and available. Returns the
/// path in use, logged once per process.
pub(crate) fn enable_path(fd: RawFd, opts: &DatagramOptions) -> DatagramPath {
    let gro = opts.gro && set_int(fd, libc::SOL_UDP, libc::UDP_GRO, 1);
    let path = DatagramPath {
        gso: opts.gso && kernel_has_gso(),
        gro,
    };
    static LOGGED: OnceLock<DatagramPath> = OnceLock::new();
    if LOGGED.set(path).is_ok() {
        if opts.gso && !path.gso {
            tracing::info!("{path} (the kernel has no UDP_SEGMENT: one datagram per message)");
        } else if opts.gro && !path.gro {
            tracing::info!("{path} (the kernel refused UDP_GRO: one datagram per slot)");
        } else {
            tracing::info!("{path}");
        }
    }
    path
}

/// DF on, no fragmentation, path MTU ignored (`IP_PMTUDISC_PROBE`); on an IPv6
/// socket for both its IPv6 and its IPv4-mapped traffic.
fn set_dont_fragment(fd: RawFd, v6: bool) -> std::io::Result<()> {
    let ok = if v6 {
        set_int(
            fd,
            libc::IPPROTO_IPV6,
            libc::IPV6_MTU_DISCOVER,
            libc::IPV6_PMTUDISC_PROBE,
        ) && set_int(
            fd,
            libc::IPPROTO_IP,
            libc::IP_MTU_DISCOVER,
            libc::IP_PMTUDISC_PROBE,
        )
    } else {
        set_int(
            fd,
            libc::IPPROTO_IP,
            libc::IP_MTU_DISCOVER,
            libc::IP_PMTUDISC_PROBE,
        )
    };
    if ok {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// A non-blocking UDP socket bound to `addr` with `opts` applied.
pub(crate) fn bind_socket(
    addr: SocketAddr,
    opts: &DatagramOptions,
    reuse_port: bool,
) -> Result<Socket, TransportError> {
    let err = |e| TransportError::from_io(e, "binding", addr);
    let s = Socket::new(
        Domain::for_address(addr),
        Type::DGRAM.nonblocking().cloexec(),
        Some(Protocol::UDP),
    )
    .map_err(err)?;
    s.set_reuse_address(opts.reuse_addr).map_err(err)?;
    if reuse_port {
        s.set_reuse_port(true).map_err(err)?;
    }
    if addr.is_ipv6()
        && let Some(v6) = opts.only_v6
    {
        s.set_only_v6(v6).map_err(err)?;
    }
    if let Some(n) = opts.recv_buffer_size {
        s.set_recv_buffer_size(n).map_err(err)?;
    }
    if let Some(n) = opts.send_buffer_size {
        s.set_send_buffer_size(n).map_err(err)?;
    }
    if opts.broadcast {
        s.set_broadcast(true).map_err(err)?;
    }
    if opts.dont_fragment {
        set_dont_fragment(s.as_raw_fd(), addr.is_ipv6()).map_err(err)?;
    }
    if let Some(on) = opts.multicast_loop {
        if addr.is_ipv4() {
            s.set_multicast_loop_v4(on).map_err(err)?;
        } else {
            s.set_multicast_loop_v6(on).map_err(err)?;
        }
    }
    if let Some(ttl) = opts.multicast_ttl {
        if addr.is_ipv4() {
            s.set_multicast_ttl_v4(ttl).map_err(err)?;
        } else {
            s.set_multicast_hops_v6(ttl).map_err(err)?;
        }
    }
    s.bind(&addr.into()).map_err(err)?;
    Ok(s)
}

/// The bound address of `s` (the real port after binding port 0).
pub(crate) fn local_addr(s: &Socket, asked: SocketAddr) -> SocketAddr {
    s.local_addr()
        .ok()
        .and_then(|a| a.as_socket())
        .unwrap_or(asked)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get_int(fd: RawFd, level: libc::c_int, name: libc::c_int) -> libc::c_int {
        let mut v: libc::c_int = -1;
        let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
        // SAFETY: `fd` is an open socket; the kernel writes at most `len` bytes
        // into `v`, an int, and its length into `len`.
        let r = unsafe { libc::getsockopt(fd, level, name, (&raw mut v).cast(), &mut len) };
        assert_eq!(r, 0, "getsockopt: {}", std::io::Error::last_os_error());
        v
    }

    fn pmtu_modes(addr: &str, dont_fragment: bool) -> (libc::c_int, Option<libc::c_int>) {
        let addr: SocketAddr = addr.parse().unwrap();
        let opts = DatagramOptions {
            dont_fragment,
            ..DatagramOptions::default()
        };
        let s = bind_socket(addr, &opts, false).expect("bind");
        let fd = s.as_raw_fd();
        if addr.is_ipv6() {
            let v6 = get_int(fd, libc::IPPROTO_IPV6, libc::IPV6_MTU_DISCOVER);
            (
                v6,
                Some(get_int(fd, libc::IPPROTO_IP, libc::IP_MTU_DISCOVER)),
            )
        } else {
            (get_int(fd, libc::IPPROTO_IP, libc::IP_MTU_DISCOVER), None)
        }
    }

    #[test]
    fn dont_fragment_sets_df_and_ignores_the_path_mtu() {
        assert_eq!(
            pmtu_modes("127.0.0.1:0", true),
            (libc::IP_PMTUDISC_PROBE, None)
        );
        assert_ne!(pmtu_modes("127.0.0.1:0", false).0, libc::IP_PMTUDISC_PROBE);
        // IPv6 may be missing in a container: then there is nothing to check.
        if std::net::UdpSocket::bind("[::1]:0").is_ok() {
            assert_eq!(
                pmtu_modes("[::1]:0", true),
                (libc::IPV6_PMTUDISC_PROBE, Some(libc::IP_PMTUDISC_PROBE))
            );
            assert_ne!(pmtu_modes("[::1]:0", false).0, libc::IPV6_PMTUDISC_PROBE);
        }
    }
}
