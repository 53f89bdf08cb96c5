//! Writing a PROXY header (Netty's `HAProxyMessageEncoder`), for clients that
//! connect through seine to a server expecting one, and for tests.

use std::net::SocketAddr;
use std::os::unix::ffi::OsStrExt;

use seine_buffer::Bytes;

use super::message::{HAProxyMessage, ProxiedAddrs, ProxiedProtocol, ProxyCommand, ProxyVersion};
use super::tlv::write_tlv;
use super::v2::{self, UNIX_PATH, V2_HEADER_LENGTH, V2_SIGNATURE};
use crate::CodecError;

impl HAProxyMessage {
    /// The header in its version's wire format. Copies into one new buffer.
    ///
    /// ```
    /// use seine_codec::proxy::*;
    /// let msg = HAProxyMessage::new(
    ///     ProxyVersion::V1,
    ///     ProxyCommand::Proxy,
    ///     ProxiedProtocol::Tcp4,
    ///     ProxiedAddrs::Inet {
    ///         source: "127.0.0.5:40000".parse().unwrap(),
    ///         destination: "10.0.0.1:80".parse().unwrap(),
    ///     },
    ///     vec![],
    /// );
    /// assert_eq!(msg.encode().unwrap(), "PROXY TCP4 127.0.0.5 10.0.0.1 40000 80\r\n");
    /// ```
    ///
    /// # Errors
    /// [`CodecError::Encode`] when the addresses do not match the protocol, a v1
    /// header is asked for what only v2 expresses (LOCAL, UDP, Unix, TLVs), a Unix
    /// path is over 108 bytes, or the TLVs make the header longer than 65 551 bytes.
    pub fn encode(&self) -> Result<Bytes, CodecError> {
        match self.version {
            ProxyVersion::V1 => self.encode_v1(),
            ProxyVersion::V2 => self.encode_v2(),
        }
    }

    fn encode_v1(&self) -> Result<Bytes, CodecError> {
        let fail = |what: &str| {
            Err(CodecError::Encode {
                reason: format!("a v1 PROXY header cannot carry {what}; use v2"),
            })
        };
        if self.command == ProxyCommand::Local {
            return fail("the LOCAL command");
        }
        if !self.tlvs.is_empty() {
            return fail("TLVs");
        }
        let line = match (&self.protocol, &self.addrs) {
            (ProxiedProtocol::Unknown, _) => "PROXY UNKNOWN\r\n".to_string(),
            (
                ProxiedProtocol::Tcp4 | ProxiedProtocol::Tcp6,
                ProxiedAddrs::Inet {
                    source,
                    destination,
                },
            ) if same_family(self.protocol, source, destination) => format!(
                "PROXY {} {} {} {} {}\r\n",
                if self.protocol == ProxiedProtocol::Tcp4 {
                    "TCP4"
                } else {
                    "TCP6"
                },
                source.ip(),
                destination.ip(),
                source.port(),
                destination.port()
            ),
            (p, _) => return fail(&format!("{p:?} with these addresses")),
        };
        Ok(Bytes::from(line))
    }

    fn encode_v2(&self) -> Result<Bytes, CodecError> {
        let mut out = Vec::with_capacity(V2_HEADER_LENGTH + 36);
        out.extend_from_slice(&V2_SIGNATURE);
        out.push(match self.command {
            ProxyCommand::Local => 0x20,
            ProxyCommand::Proxy => 0x21,
        });
        out.push(v2::byte_of(self.protocol));
        out.extend_from_slice(&[0, 0]);
        let mismatch = || CodecError::Encode {
            reason: format!(
                "addresses {:?} do not match protocol {:?}",
                self.addrs, self.protocol
            ),
        };
        match (self.protocol, &self.addrs) {
            (ProxiedProtocol::Unknown, _) => {}
            (
                p @ (ProxiedProtocol::Tcp4
                | ProxiedProtocol::Udp4
                | ProxiedProtocol::Tcp6
                | ProxiedProtocol::Udp6),
                ProxiedAddrs::Inet {
                    source,
                    destination,
                },
            ) if same_family(p, source, destination) => {
                for a in [source, destination] {
                    match a {
                        SocketAddr::V4(a) => out.extend_from_slice(&a.ip().octets()),
                        SocketAddr::V6(a) => out.extend_from_slice(&a.ip().octets()),
                    }
                }
                out.extend_from_slice(&source.port().to_be_bytes());
                out.extend_from_slice(&destination.port().to_be_bytes());
            }
            (
                ProxiedProtocol::UnixStream | ProxiedProtocol::UnixDgram,
                ProxiedAddrs::Unix {
                    source,
                    destination,
                },
            ) => {
                for p in [source, destination] {
                    let raw = p.as_os_str().as_bytes();
                    if raw.len() > UNIX_PATH || raw.contains(&0) {
                        return Err(CodecError::Encode {
                            reason: format!(
                                "Unix path {p:?} is over {UNIX_PATH} bytes or contains NUL"
                            ),
                        });
                    }
                    out.extend_from_slice(raw);
                    out.resize(out.len() + UNIX_PATH - raw.len(), 0);
                }
            }
            _ => return Err(mismatch()),
        }
        for t in &self.tlvs {
            if t.value().len() > u16::MAX as usize {
                return Err(CodecError::Encode {
                    reason: format!("a TLV value of {} bytes is over 65535", t.value().len()),
                });
            }
            write_tlv(&mut out, t);
        }
        let len = out.len() - V2_HEADER_LENGTH;
        let len = u16::try_from(len).map_err(|_| CodecError::Encode {
            reason: format!("a v2 header of {len} bytes after its fixed part is over 65535"),
        })?;
        out[14..16].copy_from_slice(&len.to_be_bytes());
        Ok(Bytes::from(out))
    }
}

fn same_family(p: ProxiedProtocol, a: &SocketAddr, b: &SocketAddr) -> bool {
    let v4 = matches!(p, ProxiedProtocol::Tcp4 | ProxiedProtocol::Udp4);
    a.is_ipv4() == v4 && b.is_ipv4() == v4
}
