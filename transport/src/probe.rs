//! Zero-copy capability probe: can this process use `sendfile(2)` and `splice(2)`,
//! and does the interface a socket leaves by offer scatter-gather DMA and transmit
//! checksum offload (so `sendfile` there is free of CPU copies)?
//!
//! [`probe`] returns a [`ZeroCopyCapabilities`] value; its `Display` is one log line.
//! `sendfile` and `splice` are tried for real, once per process (a few bytes through
//! a memfd, a socket pair and a pipe), and the answer is cached. Interface features
//! come from the ethtool ioctl (`SIOCETHTOOL` with `ETHTOOL_GSG`, `ETHTOOL_GTXCSUM`,
//! `ETHTOOL_GTSO`), which needs no privileges; [`interface_features`] asks by name.
//!
//! # Examples
//!
//! ```
//! use std::os::fd::AsFd;
//! use seine_transport::probe;
//!
//! let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
//! let stream = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
//! let caps = probe::probe(Some(stream.as_fd()));
//! println!("{caps}"); // e.g. "zero-copy: sendfile=yes splice=yes egress=lo sg=on ..."
//! assert_eq!(caps.interface.as_deref(), Some("lo"));
//! ```

use std::fmt;
use std::fs::File;
use std::io::{self, Read, Write};
use std::net::IpAddr;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::sync::OnceLock;

use nix::ifaddrs::getifaddrs;
use nix::net::if_::InterfaceFlags;
use nix::sys::socket::{
    AddressFamily, SockFlag, SockType, SockaddrLike, SockaddrStorage, getpeername, getsockname,
    socket,
};

/// What this host offers for kernel-level zero-copy sends, as found by [`probe`].
///
/// `None` means "could not tell" (no socket given, a non-IP socket, an interface
/// that does not answer the ethtool query).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ZeroCopyCapabilities {
    /// `sendfile(2)` from a file to a socket works.
    pub sendfile: bool,
    /// `splice(2)` from a socket into a pipe and from the pipe to a socket works.
    pub splice: bool,
    /// The running kernel's release (`/proc/sys/kernel/osrelease`).
    pub kernel: Option<String>,
    /// The interface the probed socket sends through (see [`egress_interface`]).
    pub interface: Option<String>,
    /// The interface does scatter-gather DMA (`ETHTOOL_GSG`): it can send pages
    /// straight from the page cache.
    pub scatter_gather: Option<bool>,
    /// The interface computes transmit checksums (`ETHTOOL_GTXCSUM`), so the CPU
    /// does not have to read the payload to checksum it.
    pub tx_checksum: Option<bool>,
    /// The interface does TCP segmentation offload (`ETHTOOL_GTSO`): fewer, larger
    /// packets through the stack. Not needed for copy-free `sendfile`; reported for
    /// context.
    pub tcp_segmentation: Option<bool>,
}

impl ZeroCopyCapabilities {
    /// Whether `sendfile` through the probed interface needs no CPU copy of the
    /// payload: `sendfile` works and the interface has both scatter-gather and
    /// transmit checksum offload. `Some(false)` if `sendfile` does not work or
    /// either feature is off; `None` if the features are unknown.
    ///
    /// # Examples
    ///
    /// ```
    /// let caps = seine_transport::probe::probe(None);
    /// assert_eq!(caps.sendfile_is_copy_free(), if caps.sendfile { None } else { Some(false) });
    /// ```
    pub fn sendfile_is_copy_free(&self) -> Option<bool> {
        if !self.sendfile {
            return Some(false);
        }
        Some(self.scatter_gather? && self.tx_checksum?)
    }
}

impl fmt::Display for ZeroCopyCapabilities {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let yes = |b: bool| if b { "yes" } else { "no" };
        let on = |b: Option<bool>| match b {
            Some(true) => "on",
            Some(false) => "off",
            None => "?",
        };
        write!(
            f,
            "zero-copy: sendfile={} splice={} kernel={} egress={} sg={} tx-csum={} tso={} sendfile-copy-free={}",
            yes(self.sendfile),
            yes(self.splice),
            self.kernel.as_deref().unwrap_or("?"),
            self.interface.as_deref().unwrap_or("?"),
            on(self.scatter_gather),
            on(self.tx_checksum),
            on(self.tcp_segmentation),
            match self.sendfile_is_copy_free() {
                Some(true) => "yes",
                Some(false) => "no",
                None => "?",
            }
        )
    }
}

/// Probes what this host offers for zero-copy sends; with `sock` (a connected or
/// bound IP socket), also the features of the interface it sends through.
///
/// `sendfile` and `splice` are tried once per process and cached; the interface
/// part costs a `getsockname`, a `getifaddrs` and three ioctls. Never fails: what
/// cannot be found out is `None` (or `false` for `sendfile`/`splice`).
pub fn probe(sock: Option<BorrowedFd<'_>>) -> ZeroCopyCapabilities {
    let mut caps = ZeroCopyCapabilities {
        sendfile: sendfile_supported(),
        splice: crate::splice::splice_supported(),
        kernel: std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .ok()
            .map(|s| s.trim().to_owned()),
        ..ZeroCopyCapabilities::default()
    };
    let Some(sock) = sock else {
        return caps;
    };
    let name = match egress_interface(sock) {
        Ok(Some(name)) => name,
        Ok(None) => return caps,
        Err(e) => {
            tracing::debug!(error = %e, "zero-copy probe: egress interface unknown");
            return caps;
        }
    };
    match control_socket() {
        Ok(ctl) => {
            let get = |cmd| ethtool_get(ctl.as_fd(), &name, cmd).ok();
            caps.scatter_gather = get(ETHTOOL_GSG);
            caps.tx_checksum = get(ETHTOOL_GTXCSUM);
            caps.tcp_segmentation = get(ETHTOOL_GTSO);
        }
        Err(e) => tracing::debug!(error = %e, "zero-copy probe: no socket for ethtool"),
    }
    caps.interface = Some(name);
    caps
}

/// Scatter-gather and transmit-checksum offload of the interface called `name`
/// (`ethtool -k NAME`: `scatter-gather`, `tx-checksumming`), as `(sg, tx_csum)`.
///
/// # Errors
///
/// [`io::ErrorKind::InvalidInput`] for an empty name, one of 16 bytes or more, or one
/// with a NUL; the ioctl's error otherwise (`ENODEV`: no such interface,
/// `EOPNOTSUPP`: the driver does not answer).
///
/// # Examples
///
/// ```
/// let (sg, csum) = seine_transport::probe::interface_features("lo").unwrap();
/// assert!(sg && csum); // the loopback device offers both
/// assert!(seine_transport::probe::interface_features("no-such-if0").is_err());
/// ```
pub fn interface_features(name: &str) -> io::Result<(bool, bool)> {
    let ctl = control_socket()?;
    Ok((
        ethtool_get(ctl.as_fd(), name, ETHTOOL_GSG)?,
        ethtool_get(ctl.as_fd(), name, ETHTOOL_GTXCSUM)?,
    ))
}

/// The interface `sock` sends through: the loopback interface when either end is a
/// loopback address or the peer is an address of this host, else the interface
/// that owns the socket's local address.
///
/// `Ok(None)` for a socket that is not IP, or is not yet bound to an address.
/// This reads addresses, not the routing table: a host that sends from an address
/// owned by one interface out through another (policy routing, an address on a
/// dummy device) is reported by the owner of the address.
///
/// # Errors
///
/// `getsockname` or `getifaddrs` failing.
pub fn egress_interface(sock: BorrowedFd<'_>) -> io::Result<Option<String>> {
    let local: SockaddrStorage = getsockname(sock.as_raw_fd())?;
    let Some(local) = ip_of(&local) else {
        return Ok(None);
    };
    if local.is_unspecified() {
        return Ok(None);
    }
    let peer = getpeername::<SockaddrStorage>(sock.as_raw_fd())
        .ok()
        .and_then(|a| ip_of(&a));
    let addrs: Vec<(String, InterfaceFlags, IpAddr)> = getifaddrs()?
        .filter_map(|ifa| {
            let ip = ifa.address.as_ref().and_then(ip_of)?;
            Some((ifa.interface_name, ifa.flags, ip))
        })
        .collect();
    let is_local = |ip: IpAddr| addrs.iter().any(|(_, _, a)| *a == ip);
    let loopback = local.is_loopback() || peer.is_some_and(|p| p.is_loopback() || is_local(p));
    if loopback {
        let lo = addrs
            .iter()
            .find(|(_, flags, _)| flags.contains(InterfaceFlags::IFF_LOOPBACK))
            .map_or_else(|| "lo".to_owned(), |(name, _, _)| name.clone());
        return Ok(Some(lo));
    }
    Ok(addrs
        .into_iter()
        .find(|(_, _, a)| *a == local)
        .map(|(name, _, _)| name))
}

/// The IP address of an IPv4 or IPv6 socket address (IPv4-mapped IPv6 as IPv4).
fn ip_of(addr: &SockaddrStorage) -> Option<IpAddr> {
    match addr.family()? {
        AddressFamily::Inet => Some(IpAddr::V4(addr.as_sockaddr_in()?.ip())),
        AddressFamily::Inet6 => Some(IpAddr::V6(addr.as_sockaddr_in6()?.ip()).to_canonical()),
        _ => None,
    }
}

/// `ETHTOOL_GTXCSUM` from `<linux/ethtool.h>`: get transmit checksum offload.
const ETHTOOL_GTXCSUM: u32 = 0x16;
/// `ETHTOOL_GSG`: get scatter-gather.
const ETHTOOL_GSG: u32 = 0x18;
/// `ETHTOOL_GTSO`: get TCP segmentation offload.
const ETHTOOL_GTSO: u32 = 0x1e;

/// `struct ethtool_value` from `<linux/ethtool.h>`.
#[repr(C)]
struct EthtoolValue {
    cmd: u32,
    data: u32,
}

/// A datagram socket to send interface ioctls through (IPv4, else IPv6).
fn control_socket() -> io::Result<OwnedFd> {
    socket(
        AddressFamily::Inet,
        SockType::Datagram,
        SockFlag::SOCK_CLOEXEC,
        None,
    )
    .or_else(|_| {
        socket(
            AddressFamily::Inet6,
            SockType::Datagram,
            SockFlag::SOCK_CLOEXEC,
            None,
        )
    })
    .map_err(io::Error::from)
}

/// One ethtool "get value" command (`cmd`) for interface `name`, through `ctl`.
fn ethtool_get(ctl: BorrowedFd<'_>, name: &str, cmd: u32) -> io::Result<bool> {
    if name.is_empty() || name.len() >= libc::IFNAMSIZ || name.contains('\0') {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "interface name {name:?} must be 1 to {} bytes without NUL",
                libc::IFNAMSIZ - 1
            ),
        ));
    }
    let mut value = EthtoolValue { cmd, data: 0 };
    // SAFETY: `ifreq` is plain C data (a byte array and a union of integers, socket
    // addresses and raw pointers), for which all-zero bytes are a valid value. Zeroed
    // whole, no byte the kernel copies in is uninitialized (valgrind checks this).
    let mut ifr: libc::ifreq = unsafe { std::mem::zeroed() };
    // NUL-terminated: at most IFNAMSIZ - 1 bytes are copied into the zeroed name.
    for (dst, &src) in ifr.ifr_name.iter_mut().zip(name.as_bytes()) {
        *dst = src as libc::c_char;
    }
    ifr.ifr_ifru.ifru_data = (&raw mut value).cast::<libc::c_char>();
    // SAFETY: SIOCETHTOOL reads `ifr` (a NUL-terminated name and `ifru_data`) and,
    // for the ETHTOOL_G* "get value" commands, reads and writes exactly one
    // `struct ethtool_value` at `ifru_data`, which points to `value`: a live,
    // writable `#[repr(C)]` match of that struct. Both outlive the call, which keeps
    // no pointer. `ctl` is an open socket.
    let rc = unsafe { libc::ioctl(ctl.as_raw_fd(), libc::SIOCETHTOOL, &mut ifr) };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(value.data != 0)
}

/// Whether `sendfile(2)` from a file to a socket works here: tried once (a memfd,
/// or an unnamed temporary file, to a Unix socket pair) and cached.
fn sendfile_supported() -> bool {
    static SUPPORTED: OnceLock<bool> = OnceLock::new();
    *SUPPORTED.get_or_init(|| match try_sendfile() {
        Ok(()) => true,
        Err(e) => {
            tracing::debug!(error = %e, "zero-copy probe: sendfile does not work");
            false
        }
    })
}

const PROBE_BYTES: &[u8] = b"seine zero-copy probe";

fn try_sendfile() -> io::Result<()> {
    let mut file =
        match nix::sys::memfd::memfd_create(c"seine-probe", nix::sys::memfd::MFdFlags::MFD_CLOEXEC)
        {
            Ok(fd) => File::from(fd),
            Err(_) => {
                use std::os::unix::fs::OpenOptionsExt;
                File::options()
                    .read(true)
                    .write(true)
                    .custom_flags(libc::O_TMPFILE)
                    .open(std::env::temp_dir())?
            }
        };
    file.write_all(PROBE_BYTES)?;
    let (tx, mut rx) = UnixStream::pair()?;
    let mut offset = 0;
    let n = nix::sys::sendfile::sendfile(tx.as_fd(), file.as_fd(), Some(&mut offset), 64)?;
    let mut got = vec![0; n];
    rx.read_exact(&mut got)?;
    if got != PROBE_BYTES {
        return Err(io::Error::other("sendfile sent the wrong bytes"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ethtool_on_loopback() {
        let ctl = control_socket().unwrap();
        assert!(ethtool_get(ctl.as_fd(), "lo", ETHTOOL_GSG).unwrap());
        assert!(ethtool_get(ctl.as_fd(), "lo", ETHTOOL_GTXCSUM).unwrap());
        ethtool_get(ctl.as_fd(), "lo", ETHTOOL_GTSO).unwrap();
        // A 15-byte name is the longest that fits (with its NUL): no such device.
        let err = ethtool_get(ctl.as_fd(), "abcdefghijklmno", ETHTOOL_GSG).unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::ENODEV), "{err}");
        for bad in ["", "abcdefghijklmnop", "l\0o"] {
            let err = ethtool_get(ctl.as_fd(), bad, ETHTOOL_GSG).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{bad:?}");
        }
        // An unknown command is refused, not misread.
        assert!(ethtool_get(ctl.as_fd(), "lo", 0xffff).is_err());
    }

    #[test]
    fn sendfile_probe_works() {
        try_sendfile().unwrap();
        assert!(sendfile_supported());
    }

    #[test]
    fn ip_of_maps_v4_in_v6() {
        let v6: SockaddrStorage = std::net::SocketAddr::from((
            "::ffff:127.0.0.1".parse::<std::net::Ipv6Addr>().unwrap(),
            80,
        ))
        .into();
        assert_eq!(ip_of(&v6), Some(IpAddr::from([127, 0, 0, 1])));
    }
}
