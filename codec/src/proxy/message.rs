//! [`HAProxyMessage`]: what a PROXY protocol header says about a connection.

use std::net::SocketAddr;
use std::path::PathBuf;

use seine_buffer::Bytes;

use super::tlv::{SslTlv, Tlv, TlvType};

/// The PROXY protocol version a header used.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ProxyVersion {
    /// The human-readable form (`PROXY TCP4 ...\r\n`, at most 107 bytes).
    V1,
    /// The binary form (12-byte signature, then version/command, family, length).
    V2,
}

/// What the proxy asks of the receiver (Netty's `HAProxyCommand`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ProxyCommand {
    /// The connection was made by the proxy itself (a health check): the addresses
    /// are the connection's own, and any in the header are ignored. v2 only.
    Local,
    /// The connection is relayed for a client, whose addresses the header carries.
    Proxy,
}

/// The relayed connection's address family and transport (Netty's
/// `HAProxyProxiedProtocol`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ProxiedProtocol {
    /// Unknown or unspecified (v1 `UNKNOWN`, v2 `AF_UNSPEC`, every `LOCAL` header).
    Unknown,
    /// TCP over IPv4.
    Tcp4,
    /// TCP over IPv6.
    Tcp6,
    /// UDP over IPv4 (v2 only).
    Udp4,
    /// UDP over IPv6 (v2 only).
    Udp6,
    /// A Unix domain stream socket (v2 only).
    UnixStream,
    /// A Unix domain datagram socket (v2 only).
    UnixDgram,
}

/// The relayed connection's addresses.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ProxiedAddrs {
    /// None given (`UNKNOWN`, `AF_UNSPEC` or a `LOCAL` command).
    None,
    /// IPv4 or IPv6 addresses with their ports.
    Inet {
        /// The client's address: the one handlers should treat as the peer's.
        source: SocketAddr,
        /// The address the client connected to (on the proxy).
        destination: SocketAddr,
    },
    /// Unix domain socket paths (each up to its first NUL byte, as Netty reads them).
    Unix {
        /// The client's path.
        source: PathBuf,
        /// The path the client connected to.
        destination: PathBuf,
    },
}

/// A decoded PROXY protocol header (Netty's `HAProxyMessage`).
///
/// [`HAProxyMessageDecoder`](super::HAProxyMessageDecoder) fires it as a user event
/// and stores it as a channel attribute (`ctx.attr::<HAProxyMessage>()`), so any
/// handler can ask for the client's address:
///
/// ```
/// use seine_codec::proxy::{HAProxyMessage, ProxyHeaderParser};
/// use seine_buffer::Bytes;
///
/// let mut input = Bytes::from_static(b"PROXY TCP4 127.0.0.5 10.0.0.1 40000 80\r\nGET /");
/// let msg: HAProxyMessage = ProxyHeaderParser::default().push(&mut input).unwrap().unwrap();
/// assert_eq!(msg.source().unwrap().to_string(), "127.0.0.5:40000");
/// assert_eq!(input, "GET /"); // the bytes after the header are left in place
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HAProxyMessage {
    pub(crate) version: ProxyVersion,
    pub(crate) command: ProxyCommand,
    pub(crate) protocol: ProxiedProtocol,
    pub(crate) addrs: ProxiedAddrs,
    pub(crate) tlvs: Vec<Tlv>,
}

impl HAProxyMessage {
    /// A message; `addrs` should match `protocol` (the encoder writes what
    /// `protocol` says and fails otherwise).
    pub fn new(
        version: ProxyVersion,
        command: ProxyCommand,
        protocol: ProxiedProtocol,
        addrs: ProxiedAddrs,
        tlvs: Vec<Tlv>,
    ) -> Self {
        HAProxyMessage {
            version,
            command,
            protocol,
            addrs,
            tlvs,
        }
    }

    /// The version of the header it was decoded from.
    pub fn version(&self) -> ProxyVersion {
        self.version
    }

    /// `LOCAL` (a health check by the proxy) or `PROXY`.
    pub fn command(&self) -> ProxyCommand {
        self.command
    }

    /// The relayed connection's family and transport.
    pub fn protocol(&self) -> ProxiedProtocol {
        self.protocol
    }

    /// The relayed connection's addresses.
    pub fn addrs(&self) -> &ProxiedAddrs {
        &self.addrs
    }

    /// The client's IP address and port, if the header carries one: what logs and
    /// access checks should use instead of the connection's peer address.
    pub fn source(&self) -> Option<SocketAddr> {
        match &self.addrs {
            ProxiedAddrs::Inet { source, .. } => Some(*source),
            _ => None,
        }
    }

    /// The address the client connected to, if the header carries one.
    pub fn destination(&self) -> Option<SocketAddr> {
        match &self.addrs {
            ProxiedAddrs::Inet { destination, .. } => Some(*destination),
            _ => None,
        }
    }

    /// The type-length-value extensions of a v2 header, in order (empty for v1).
    pub fn tlvs(&self) -> &[Tlv] {
        &self.tlvs
    }

    /// The value of the first TLV of type `kind` (not looking inside the SSL TLV).
    /// Does not copy.
    pub fn tlv(&self, kind: TlvType) -> Option<&Bytes> {
        self.tlvs
            .iter()
            .find(|t| t.kind() == kind)
            .map(|t| t.value())
    }

    /// The ALPN protocol the client negotiated with the proxy (`PP2_TYPE_ALPN`).
    pub fn alpn(&self) -> Option<&[u8]> {
        self.tlv(TlvType::Alpn).map(|b| &b[..])
    }

    /// The host name the client asked for (`PP2_TYPE_AUTHORITY`, TLS SNI), if it
    /// is UTF-8.
    pub fn authority(&self) -> Option<&str> {
        self.tlv(TlvType::Authority)
            .and_then(|b| std::str::from_utf8(b).ok())
    }

    /// What the proxy knows of the client's TLS session (`PP2_TYPE_SSL`).
    pub fn ssl(&self) -> Option<&SslTlv> {
        self.tlvs.iter().find_map(Tlv::as_ssl)
    }
}
