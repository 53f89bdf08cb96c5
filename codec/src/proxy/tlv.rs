//! PROXY protocol v2 type-length-value extensions (Netty's `HAProxyTLV` and
//! `HAProxySSLTLV`).

use seine_buffer::Bytes;

use crate::CodecError;

/// A TLV's type (the `PP2_TYPE_*` constants of the specification).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TlvType {
    /// 0x01: the ALPN protocol negotiated on the client's connection.
    Alpn,
    /// 0x02: the host name the client asked for (TLS SNI or Host).
    Authority,
    /// 0x03: a CRC32c checksum of the header.
    Crc32c,
    /// 0x04: padding, to be ignored.
    Noop,
    /// 0x05: an opaque connection identifier chosen by the proxy.
    UniqueId,
    /// 0x20: the client's TLS session ([`SslTlv`]).
    Ssl,
    /// 0x21 (inside SSL): the TLS version, such as `TLSv1.3`.
    SslVersion,
    /// 0x22 (inside SSL): the client certificate's common name.
    SslCn,
    /// 0x23 (inside SSL): the cipher, such as `ECDHE-RSA-AES128-GCM-SHA256`.
    SslCipher,
    /// 0x24 (inside SSL): the certificate's signature algorithm.
    SslSigAlg,
    /// 0x25 (inside SSL): the certificate's key algorithm.
    SslKeyAlg,
    /// 0x30: the network namespace the connection was accepted in.
    Netns,
    /// Any other type (custom and experimental ranges included).
    Other(u8),
}

impl TlvType {
    /// The type for a byte of the wire format.
    pub fn from_byte(b: u8) -> Self {
        match b {
            0x01 => TlvType::Alpn,
            0x02 => TlvType::Authority,
            0x03 => TlvType::Crc32c,
            0x04 => TlvType::Noop,
            0x05 => TlvType::UniqueId,
            0x20 => TlvType::Ssl,
            0x21 => TlvType::SslVersion,
            0x22 => TlvType::SslCn,
            0x23 => TlvType::SslCipher,
            0x24 => TlvType::SslSigAlg,
            0x25 => TlvType::SslKeyAlg,
            0x30 => TlvType::Netns,
            other => TlvType::Other(other),
        }
    }

    /// The byte of the wire format.
    pub fn to_byte(self) -> u8 {
        match self {
            TlvType::Alpn => 0x01,
            TlvType::Authority => 0x02,
            TlvType::Crc32c => 0x03,
            TlvType::Noop => 0x04,
            TlvType::UniqueId => 0x05,
            TlvType::Ssl => 0x20,
            TlvType::SslVersion => 0x21,
            TlvType::SslCn => 0x22,
            TlvType::SslCipher => 0x23,
            TlvType::SslSigAlg => 0x24,
            TlvType::SslKeyAlg => 0x25,
            TlvType::Netns => 0x30,
            TlvType::Other(b) => b,
        }
    }
}

/// One TLV: its type and value (a view of the header's bytes, not a copy). The
/// SSL TLV is decoded further into an [`SslTlv`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Tlv {
    /// `PP2_TYPE_SSL`, decoded.
    Ssl(SslTlv),
    /// Any other TLV.
    Plain {
        /// Its type.
        kind: TlvType,
        /// Its value.
        value: Bytes,
    },
}

impl Tlv {
    /// The TLV's type.
    pub fn kind(&self) -> TlvType {
        match self {
            Tlv::Ssl(_) => TlvType::Ssl,
            Tlv::Plain { kind, .. } => *kind,
        }
    }

    /// The TLV's whole value as on the wire (for SSL: client, verify and the
    /// nested TLVs). Does not copy.
    pub fn value(&self) -> &Bytes {
        match self {
            Tlv::Ssl(s) => &s.raw,
            Tlv::Plain { value, .. } => value,
        }
    }

    /// The SSL TLV, if this is one.
    pub fn as_ssl(&self) -> Option<&SslTlv> {
        match self {
            Tlv::Ssl(s) => Some(s),
            Tlv::Plain { .. } => None,
        }
    }
}

/// `PP2_TYPE_SSL`: what the proxy knows of the client's TLS session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SslTlv {
    client: u8,
    verify: u32,
    tlvs: Vec<Tlv>,
    raw: Bytes,
}

impl SslTlv {
    /// Bit 0x01 of the client field: the client connected over TLS.
    pub const CLIENT_SSL: u8 = 0x01;
    /// Bit 0x02: the client presented a certificate on this connection.
    pub const CLIENT_CERT_CONN: u8 = 0x02;
    /// Bit 0x04: the client presented a certificate at least once in the session.
    pub const CLIENT_CERT_SESS: u8 = 0x04;

    /// The client bit field (`CLIENT_*` constants).
    pub fn client(&self) -> u8 {
        self.client
    }

    /// Zero if the client's certificate was verified (or none was presented).
    pub fn verify(&self) -> u32 {
        self.verify
    }

    /// Whether the client's connection to the proxy used TLS.
    pub fn is_ssl(&self) -> bool {
        self.client & Self::CLIENT_SSL != 0
    }

    /// The nested TLVs (version, common name, cipher, algorithms).
    pub fn tlvs(&self) -> &[Tlv] {
        &self.tlvs
    }

    /// The TLS version (`PP2_SUBTYPE_SSL_VERSION`), if given as UTF-8.
    pub fn version(&self) -> Option<&str> {
        self.tlvs
            .iter()
            .find(|t| t.kind() == TlvType::SslVersion)
            .and_then(|t| std::str::from_utf8(t.value()).ok())
    }
}

/// Parses the TLVs filling `block` (the bytes after the addresses). Values are
/// views of `block`. `nested` is true inside the SSL TLV (which may not nest again).
pub(crate) fn parse_tlvs(mut block: Bytes, nested: bool) -> Result<Vec<Tlv>, CodecError> {
    let mut tlvs = Vec::new();
    while !block.is_empty() {
        if block.len() < 3 {
            return Err(super::invalid(format!(
                "{} bytes after the last TLV are too few for another (a TLV header is 3 bytes)",
                block.len()
            )));
        }
        let kind = TlvType::from_byte(block[0]);
        let len = u16::from_be_bytes([block[1], block[2]]) as usize;
        if block.len() - 3 < len {
            return Err(super::invalid(format!(
                "TLV of type {:#04x} declares {len} bytes but only {} remain in the header",
                kind.to_byte(),
                block.len() - 3
            )));
        }
        let _ = block.split_to(3);
        let value = block.split_to(len);
        if kind == TlvType::Ssl {
            if nested {
                return Err(super::invalid("an SSL TLV inside an SSL TLV".into()));
            }
            if value.len() < 5 {
                return Err(super::invalid(format!(
                    "SSL TLV of {} bytes is shorter than its 5-byte client and verify fields",
                    value.len()
                )));
            }
            let client = value[0];
            let verify = u32::from_be_bytes([value[1], value[2], value[3], value[4]]);
            let inner = parse_tlvs(value.slice(5..), true)?;
            tlvs.push(Tlv::Ssl(SslTlv {
                client,
                verify,
                tlvs: inner,
                raw: value,
            }));
        } else {
            tlvs.push(Tlv::Plain { kind, value });
        }
    }
    Ok(tlvs)
}

/// Builds an SSL TLV (for encoders and tests).
impl SslTlv {
    /// An SSL TLV with these fields and nested TLVs (which must not be SSL TLVs).
    pub fn new(client: u8, verify: u32, tlvs: Vec<Tlv>) -> Self {
        let mut raw = Vec::with_capacity(5);
        raw.push(client);
        raw.extend_from_slice(&verify.to_be_bytes());
        for t in &tlvs {
            write_tlv(&mut raw, t);
        }
        SslTlv {
            client,
            verify,
            tlvs,
            raw: Bytes::from(raw),
        }
    }
}

/// Appends `t` in wire format (values over 65535 bytes are cut at 65535: the
/// encoder checks lengths before calling this).
pub(crate) fn write_tlv(out: &mut Vec<u8>, t: &Tlv) {
    let v = t.value();
    let len = v.len().min(u16::MAX as usize);
    out.push(t.kind().to_byte());
    out.extend_from_slice(&(len as u16).to_be_bytes());
    out.extend_from_slice(&v[..len]);
}
