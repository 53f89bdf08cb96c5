//! The PROXY protocol v1 header: one line of text.
//!
//! ```text
//! PROXY TCP4 192.0.2.7 198.51.100.1 56324 443\r\n
//! PROXY TCP6 2001:db8::7 2001:db8::1 56324 443\r\n
//! PROXY UNKNOWN\r\n            (anything between UNKNOWN and CRLF is ignored)
//! ```
//!
//! Fields are separated by exactly one space; ports are decimal without leading
//! zeros; the line, CRLF included, is at most [`V1_MAX_LENGTH`] bytes.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use super::invalid;
use super::message::{HAProxyMessage, ProxiedAddrs, ProxiedProtocol, ProxyCommand, ProxyVersion};
use crate::CodecError;

/// The longest v1 line the specification allows, CRLF included.
pub const V1_MAX_LENGTH: usize = 107;

/// Parses one v1 line (`PROXY ...\r\n`, CRLF included).
pub(crate) fn parse(line: &[u8]) -> Result<HAProxyMessage, CodecError> {
    let Some(body) = line.strip_suffix(b"\r\n") else {
        return Err(invalid("a v1 header must end with CRLF".into()));
    };
    if body.contains(&b'\r') || body.contains(&b'\n') {
        return Err(invalid("a v1 header contains a stray CR or LF".into()));
    }
    let text =
        std::str::from_utf8(body).map_err(|_| invalid("a v1 header must be ASCII text".into()))?;
    let mut parts = text.split(' ');
    if parts.next() != Some("PROXY") {
        return Err(invalid("a v1 header must start with `PROXY `".into()));
    }
    let family = parts.next().unwrap_or("");
    let protocol = match family {
        "UNKNOWN" => {
            return Ok(HAProxyMessage::new(
                ProxyVersion::V1,
                ProxyCommand::Proxy,
                ProxiedProtocol::Unknown,
                ProxiedAddrs::None,
                Vec::new(),
            ));
        }
        "TCP4" => ProxiedProtocol::Tcp4,
        "TCP6" => ProxiedProtocol::Tcp6,
        other => {
            return Err(invalid(format!(
                "v1 protocol `{}` is none of TCP4, TCP6, UNKNOWN",
                other.escape_debug()
            )));
        }
    };
    let fields: Vec<&str> = parts.collect();
    let [src, dst, sport, dport] = fields[..] else {
        return Err(invalid(format!(
            "a v1 {family} header has 4 fields after the protocol, not {}",
            fields.len()
        )));
    };
    let ip = |s: &str| -> Result<IpAddr, CodecError> {
        let parsed = if protocol == ProxiedProtocol::Tcp4 {
            s.parse::<Ipv4Addr>().map(IpAddr::V4).ok()
        } else {
            s.parse::<Ipv6Addr>().map(IpAddr::V6).ok()
        };
        parsed.ok_or_else(|| invalid(format!("`{}` is not an {family} address", s.escape_debug())))
    };
    let source = SocketAddr::new(ip(src)?, port(sport)?);
    let destination = SocketAddr::new(ip(dst)?, port(dport)?);
    Ok(HAProxyMessage::new(
        ProxyVersion::V1,
        ProxyCommand::Proxy,
        protocol,
        ProxiedAddrs::Inet {
            source,
            destination,
        },
        Vec::new(),
    ))
}

/// A decimal port, 0 to 65535, without sign or leading zeros.
fn port(s: &str) -> Result<u16, CodecError> {
    let digits = !s.is_empty() && s.len() <= 5 && s.bytes().all(|b| b.is_ascii_digit());
    let canonical = s == "0" || !s.starts_with('0');
    match s.parse::<u16>() {
        Ok(p) if digits && canonical => Ok(p),
        _ => Err(invalid(format!(
            "`{}` is not a port (0 to 65535, no leading zeros)",
            s.escape_debug()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tcp4_tcp6_and_unknown() {
        let m = parse(b"PROXY TCP4 127.0.0.5 10.0.0.1 40000 80\r\n").unwrap();
        assert_eq!(m.source(), Some("127.0.0.5:40000".parse().unwrap()));
        assert_eq!(m.destination(), Some("10.0.0.1:80".parse().unwrap()));
        let m = parse(b"PROXY TCP6 ::1 2001:db8::1 1 65535\r\n").unwrap();
        assert_eq!(m.source(), Some("[::1]:1".parse().unwrap()));
        assert_eq!(m.protocol(), ProxiedProtocol::Tcp6);
        let m = parse(b"PROXY UNKNOWN whatever follows\r\n").unwrap();
        assert_eq!(m.addrs(), &ProxiedAddrs::None);
    }

    #[test]
    fn rejects_malformed_lines() {
        for bad in [
            &b"PROXY TCP4 127.0.0.1 10.0.0.1 40000 80\n"[..],
            b"PROXY TCP4 127.0.0.1 10.0.0.1 40000\r\n",
            b"PROXY TCP4 127.0.0.1 10.0.0.1 40000 80 9\r\n",
            b"PROXY TCP4  127.0.0.1 10.0.0.1 40000 80\r\n",
            b"PROXY TCP4 ::1 10.0.0.1 40000 80\r\n",
            b"PROXY TCP6 127.0.0.1 ::1 40000 80\r\n",
            b"PROXY TCP4 127.0.0.1 10.0.0.1 65536 80\r\n",
            b"PROXY TCP4 127.0.0.1 10.0.0.1 080 80\r\n",
            b"PROXY TCP4 127.0.0.1 10.0.0.1 +80 80\r\n",
            b"PROXY TCP4 127.0.0.01 10.0.0.1 80 80\r\n",
            b"PROXY UDP4 127.0.0.1 10.0.0.1 80 80\r\n",
            b"PROXY\r\n",
            b"PROXY TCP4 1.2.3.4\r5.6.7.8 1 2\r\n",
        ] {
            let err = parse(bad).unwrap_err();
            assert!(
                matches!(err, CodecError::InvalidProxyHeader { .. }),
                "{bad:?}: {err}"
            );
        }
    }
}
