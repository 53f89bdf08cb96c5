//! The zero-copy probe on this host: sendfile and splice work, loopback sockets
//! leave by `lo` (which offers scatter-gather and checksum offload), and what
//! cannot be known is `None`.

use std::net::{IpAddr, TcpListener, TcpStream, UdpSocket};
use std::os::fd::AsFd;
use std::os::unix::net::UnixStream;

use seine_transport::probe::{egress_interface, interface_features, probe};

#[test]
fn without_a_socket() {
    let caps = probe(None);
    assert!(caps.sendfile && caps.splice, "{caps}");
    assert!(caps.kernel.is_some());
    assert_eq!(caps.interface, None);
    assert_eq!((caps.scatter_gather, caps.tx_checksum), (None, None));
    assert_eq!(caps.sendfile_is_copy_free(), None);
    let line = caps.to_string();
    assert!(
        line.starts_with("zero-copy: sendfile=yes splice=yes"),
        "{line}"
    );
    assert!(line.contains("egress=? sg=? tx-csum=?"), "{line}");
    assert!(!line.contains('\n'));
}

#[test]
fn loopback_tcp_leaves_by_lo_copy_free() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (server, _) = listener.accept().unwrap();
    for sock in [&client, &server] {
        let caps = probe(Some(sock.as_fd()));
        assert_eq!(caps.interface.as_deref(), Some("lo"), "{caps}");
        assert_eq!(caps.scatter_gather, Some(true), "{caps}");
        assert_eq!(caps.tx_checksum, Some(true), "{caps}");
        assert_eq!(caps.sendfile_is_copy_free(), Some(true), "{caps}");
        assert!(
            caps.to_string().contains("egress=lo sg=on tx-csum=on"),
            "{caps}"
        );
    }
}

#[test]
fn ipv6_loopback_leaves_by_lo() {
    let Ok(listener) = TcpListener::bind("[::1]:0") else {
        return; // no IPv6 on this host
    };
    let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    assert_eq!(
        egress_interface(client.as_fd()).unwrap().as_deref(),
        Some("lo")
    );
}

#[test]
fn non_ip_and_unbound_sockets_have_no_interface() {
    let (unix, _other) = UnixStream::pair().unwrap();
    assert_eq!(egress_interface(unix.as_fd()).unwrap(), None);
    let caps = probe(Some(unix.as_fd()));
    assert_eq!((caps.interface, caps.scatter_gather), (None, None));

    let unbound = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    assert_eq!(egress_interface(unbound.as_fd()).unwrap(), None);
    let wildcard = UdpSocket::bind("0.0.0.0:0").unwrap();
    assert_eq!(egress_interface(wildcard.as_fd()).unwrap(), None);
}

#[test]
fn connected_udp_to_loopback_is_lo() {
    // connect() on UDP sends nothing; it only picks the route and local address.
    let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
    udp.connect("127.0.0.1:9").unwrap();
    assert_eq!(
        egress_interface(udp.as_fd()).unwrap().as_deref(),
        Some("lo")
    );
}

#[test]
fn a_non_loopback_address_maps_to_its_interface_and_to_lo_when_talking_to_itself() {
    // The first non-loopback IPv4 address of this host, if any.
    let Some((name, ip)) = nix::ifaddrs::getifaddrs().unwrap().find_map(|ifa| {
        let sin = *ifa.address?.as_sockaddr_in()?;
        let ip = IpAddr::V4(sin.ip());
        (!ip.is_loopback()).then_some((ifa.interface_name, ip))
    }) else {
        return; // only loopback here
    };
    // Bound to that address, not connected: its owner.
    let udp = UdpSocket::bind((ip, 0)).unwrap();
    assert_eq!(egress_interface(udp.as_fd()).unwrap(), Some(name.clone()));
    // Connected to an address of this host: the kernel sends it through lo.
    let listener = TcpListener::bind((ip, 0)).unwrap();
    let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    assert_eq!(
        egress_interface(client.as_fd()).unwrap().as_deref(),
        Some("lo")
    );
}

#[test]
fn features_by_interface_name() {
    assert_eq!(interface_features("lo").unwrap(), (true, true));
    let missing = interface_features("seine-none0").unwrap_err();
    assert_eq!(missing.raw_os_error(), Some(libc::ENODEV), "{missing}");
    for bad in ["", "a-name-too-long-for-ifnamsiz", "l\0o"] {
        let err = interface_features(bad).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput, "{bad:?}");
    }
}
