//! The PROXY protocol v2 header: binary.
//!
//! ```text
//! offset 0                12        13          14        16
//!        +----------------+---------+-----------+---------+---------------------+
//!        | signature (12) | ver|cmd | fam|proto | len u16 | addresses, TLVs ... |
//!        +----------------+---------+-----------+---------+---------------------+
//! signature: \r\n\r\n\0\r\nQUIT\n      ver = 2; cmd = 0 LOCAL, 1 PROXY
//! fam: 0 UNSPEC, 1 INET, 2 INET6, 3 UNIX    proto: 0 UNSPEC, 1 STREAM, 2 DGRAM
//! addresses: INET 12 bytes (src, dst, sport, dport), INET6 36, UNIX 216 (two 108-byte paths)
//! ```
//!
//! `len` counts the bytes after the 16-byte header: addresses, then TLVs.

use std::ffi::OsStr;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

use seine_buffer::Bytes;

use super::invalid;
use super::message::{HAProxyMessage, ProxiedAddrs, ProxiedProtocol, ProxyCommand, ProxyVersion};
use super::tlv::parse_tlvs;
use crate::CodecError;

/// The 12 bytes every v2 header starts with.
pub const V2_SIGNATURE: [u8; 12] = *b"\r\n\r\n\0\r\nQUIT\n";

/// The fixed part of a v2 header (signature, version/command, family, length).
pub const V2_HEADER_LENGTH: usize = 16;

/// Bytes of the address block for each family.
pub(crate) const INET_ADDRS: usize = 12;
pub(crate) const INET6_ADDRS: usize = 36;
pub(crate) const UNIX_ADDRS: usize = 216;
pub(crate) const UNIX_PATH: usize = 108;

/// The family/protocol byte's meaning.
pub(crate) fn protocol_of(byte: u8) -> Result<ProxiedProtocol, CodecError> {
    Ok(match byte {
        0x00 => ProxiedProtocol::Unknown,
        0x11 => ProxiedProtocol::Tcp4,
        0x12 => ProxiedProtocol::Udp4,
        0x21 => ProxiedProtocol::Tcp6,
        0x22 => ProxiedProtocol::Udp6,
        0x31 => ProxiedProtocol::UnixStream,
        0x32 => ProxiedProtocol::UnixDgram,
        other => {
            return Err(invalid(format!(
                "v2 family/protocol byte {other:#04x} is not a known combination"
            )));
        }
    })
}

/// The family/protocol byte of `p`.
pub(crate) fn byte_of(p: ProxiedProtocol) -> u8 {
    match p {
        ProxiedProtocol::Unknown => 0x00,
        ProxiedProtocol::Tcp4 => 0x11,
        ProxiedProtocol::Udp4 => 0x12,
        ProxiedProtocol::Tcp6 => 0x21,
        ProxiedProtocol::Udp6 => 0x22,
        ProxiedProtocol::UnixStream => 0x31,
        ProxiedProtocol::UnixDgram => 0x32,
    }
}

/// Checks the fixed part (`head` is at least 16 bytes, signature included) and
/// returns the length of the whole header.
pub(crate) fn header_length(head: &[u8]) -> Result<usize, CodecError> {
    if head[..12] != V2_SIGNATURE {
        return Err(invalid("the v2 signature is wrong".into()));
    }
    let version = head[12] >> 4;
    if version != 2 {
        return Err(invalid(format!("v2 header says version {version}, not 2")));
    }
    if head[12] & 0x0f > 1 {
        return Err(invalid(format!(
            "v2 command {} is neither LOCAL (0) nor PROXY (1)",
            head[12] & 0x0f
        )));
    }
    Ok(V2_HEADER_LENGTH + u16::from_be_bytes([head[14], head[15]]) as usize)
}

/// Parses a whole v2 header (`header_length` bytes). TLV values are views of
/// `header`.
pub(crate) fn parse(header: Bytes) -> Result<HAProxyMessage, CodecError> {
    let total = header_length(&header)?;
    debug_assert_eq!(total, header.len());
    let command = if header[12] & 0x0f == 0 {
        ProxyCommand::Local
    } else {
        ProxyCommand::Proxy
    };
    let protocol = protocol_of(header[13])?;
    let body = header.slice(V2_HEADER_LENGTH..);
    if command == ProxyCommand::Local || protocol == ProxiedProtocol::Unknown {
        // A health check (the proxy's own connection), or a relayed connection of
        // an unknown family: the specification says to use the connection's own
        // addresses and skip the whole block, TLVs included.
        return Ok(HAProxyMessage::new(
            ProxyVersion::V2,
            command,
            ProxiedProtocol::Unknown,
            ProxiedAddrs::None,
            Vec::new(),
        ));
    }
    let need = match protocol {
        ProxiedProtocol::Unknown => 0,
        ProxiedProtocol::Tcp4 | ProxiedProtocol::Udp4 => INET_ADDRS,
        ProxiedProtocol::Tcp6 | ProxiedProtocol::Udp6 => INET6_ADDRS,
        ProxiedProtocol::UnixStream | ProxiedProtocol::UnixDgram => UNIX_ADDRS,
    };
    if body.len() < need {
        return Err(invalid(format!(
            "v2 header of {} address bytes is too short for {protocol:?} ({need} bytes)",
            body.len()
        )));
    }
    let a = &body[..need];
    let addrs = match protocol {
        ProxiedProtocol::Unknown => ProxiedAddrs::None,
        ProxiedProtocol::Tcp4 | ProxiedProtocol::Udp4 => {
            let ip = |i: usize| Ipv4Addr::new(a[i], a[i + 1], a[i + 2], a[i + 3]);
            let port = |i: usize| u16::from_be_bytes([a[i], a[i + 1]]);
            ProxiedAddrs::Inet {
                source: SocketAddr::new(ip(0).into(), port(8)),
                destination: SocketAddr::new(ip(4).into(), port(10)),
            }
        }
        ProxiedProtocol::Tcp6 | ProxiedProtocol::Udp6 => {
            let ip = |i: usize| {
                let mut o = [0u8; 16];
                o.copy_from_slice(&a[i..i + 16]);
                Ipv6Addr::from(o)
            };
            let port = |i: usize| u16::from_be_bytes([a[i], a[i + 1]]);
            ProxiedAddrs::Inet {
                source: SocketAddr::new(ip(0).into(), port(32)),
                destination: SocketAddr::new(ip(16).into(), port(34)),
            }
        }
        ProxiedProtocol::UnixStream | ProxiedProtocol::UnixDgram => ProxiedAddrs::Unix {
            source: unix_path(&a[..UNIX_PATH]),
            destination: unix_path(&a[UNIX_PATH..]),
        },
    };
    let tlvs = parse_tlvs(body.slice(need..), false)?;
    Ok(HAProxyMessage::new(
        ProxyVersion::V2,
        command,
        protocol,
        addrs,
        tlvs,
    ))
}

/// A zero-padded path, up to its first NUL.
fn unix_path(raw: &[u8]) -> PathBuf {
    let end = raw.iter().position(|&b| b == 0).unwrap_or(raw.len());
    PathBuf::from(OsStr::from_bytes(&raw[..end]))
}
