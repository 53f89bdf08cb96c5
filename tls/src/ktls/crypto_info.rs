//! The kernel's view of a TLS session's keys: the `crypto_info` structures of
//! `linux/tls.h`, as `#[repr(C)]` mirrors, built from the secrets rustls
//! extracts after the handshake.

use rustls::ConnectionTrafficSecrets;
use rustls::ProtocolVersion;
use rustls::crypto::cipher::{AeadKey, Iv};

/// `TLS_1_2_VERSION` (linux/tls.h).
pub(crate) const TLS_1_2_VERSION: u16 = 0x0303;
/// `TLS_1_3_VERSION` (linux/tls.h).
pub(crate) const TLS_1_3_VERSION: u16 = 0x0304;
/// `TLS_CIPHER_AES_GCM_128` (linux/tls.h).
pub(crate) const TLS_CIPHER_AES_GCM_128: u16 = 51;
/// `TLS_CIPHER_AES_GCM_256` (linux/tls.h).
pub(crate) const TLS_CIPHER_AES_GCM_256: u16 = 52;
/// `TLS_CIPHER_CHACHA20_POLY1305` (linux/tls.h).
pub(crate) const TLS_CIPHER_CHACHA20_POLY1305: u16 = 54;

/// `struct tls_crypto_info`: the header of every cipher's structure.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct TlsCryptoInfo {
    pub(crate) version: u16,
    pub(crate) cipher_type: u16,
}

/// `struct tls12_crypto_info_aes_gcm_128` (used for TLS 1.3 too).
#[repr(C)]
#[derive(Clone, Copy)]
pub(crate) struct AesGcm128 {
    pub(crate) info: TlsCryptoInfo,
    pub(crate) iv: [u8; 8],
    pub(crate) key: [u8; 16],
    pub(crate) salt: [u8; 4],
    pub(crate) rec_seq: [u8; 8],
}

/// `struct tls12_crypto_info_aes_gcm_256`.
#[repr(C)]
#[derive(Clone, Copy)]
pub(crate) struct AesGcm256 {
    pub(crate) info: TlsCryptoInfo,
    pub(crate) iv: [u8; 8],
    pub(crate) key: [u8; 32],
    pub(crate) salt: [u8; 4],
    pub(crate) rec_seq: [u8; 8],
}

/// `struct tls12_crypto_info_chacha20_poly1305` (its salt has no bytes).
#[repr(C)]
#[derive(Clone, Copy)]
pub(crate) struct Chacha20Poly1305 {
    pub(crate) info: TlsCryptoInfo,
    pub(crate) iv: [u8; 12],
    pub(crate) key: [u8; 32],
    pub(crate) salt: [u8; 0],
    pub(crate) rec_seq: [u8; 8],
}

/// One direction's keys as the kernel takes them (`setsockopt(SOL_TLS, TLS_TX |
/// TLS_RX)`). The key bytes are overwritten when it is dropped.
pub(crate) enum CryptoInfo {
    AesGcm128(AesGcm128),
    AesGcm256(AesGcm256),
    Chacha20Poly1305(Chacha20Poly1305),
}

/// Why a session's keys cannot go to the kernel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Unsupported {
    /// Neither TLS 1.2 nor 1.3.
    Version,
    /// A cipher suite the kernel has no structure for.
    Suite,
}

impl CryptoInfo {
    /// The kernel's structure for one direction: `seq` is the next record's
    /// sequence number in that direction, `secrets` rustls' key and IV. The IV's
    /// first 4 bytes are the kernel's salt for AES-GCM, its last 8 the IV; for
    /// ChaCha20-Poly1305 all 12 bytes are the IV.
    pub(crate) fn new(
        version: ProtocolVersion,
        seq: u64,
        secrets: &ConnectionTrafficSecrets,
    ) -> Result<Self, Unsupported> {
        let version = match version {
            ProtocolVersion::TLSv1_2 => TLS_1_2_VERSION,
            ProtocolVersion::TLSv1_3 => TLS_1_3_VERSION,
            _ => return Err(Unsupported::Version),
        };
        let rec_seq = seq.to_be_bytes();
        Ok(match secrets {
            ConnectionTrafficSecrets::Aes128Gcm { key, iv } => {
                let (salt, iv) = split_iv(iv);
                CryptoInfo::AesGcm128(AesGcm128 {
                    info: TlsCryptoInfo {
                        version,
                        cipher_type: TLS_CIPHER_AES_GCM_128,
                    },
                    iv,
                    key: key_bytes(key)?,
                    salt,
                    rec_seq,
                })
            }
            ConnectionTrafficSecrets::Aes256Gcm { key, iv } => {
                let (salt, iv) = split_iv(iv);
                CryptoInfo::AesGcm256(AesGcm256 {
                    info: TlsCryptoInfo {
                        version,
                        cipher_type: TLS_CIPHER_AES_GCM_256,
                    },
                    iv,
                    key: key_bytes(key)?,
                    salt,
                    rec_seq,
                })
            }
            ConnectionTrafficSecrets::Chacha20Poly1305 { key, iv } => {
                CryptoInfo::Chacha20Poly1305(Chacha20Poly1305 {
                    info: TlsCryptoInfo {
                        version,
                        cipher_type: TLS_CIPHER_CHACHA20_POLY1305,
                    },
                    iv: iv.as_ref().try_into().map_err(|_| Unsupported::Suite)?,
                    key: key_bytes(key)?,
                    salt: [],
                    rec_seq,
                })
            }
            // The enum is non-exhaustive: a suite added to rustls later.
            #[allow(unreachable_patterns)]
            _ => return Err(Unsupported::Suite),
        })
    }

    /// The structure's header.
    #[cfg(test)]
    pub(crate) fn info(&self) -> TlsCryptoInfo {
        match self {
            CryptoInfo::AesGcm128(c) => c.info,
            CryptoInfo::AesGcm256(c) => c.info,
            CryptoInfo::Chacha20Poly1305(c) => c.info,
        }
    }

    /// The structure as `setsockopt` takes it: its address and size.
    pub(crate) fn as_sockopt(&self) -> (*const libc::c_void, libc::socklen_t) {
        fn raw<T>(v: &T) -> (*const libc::c_void, libc::socklen_t) {
            (
                (v as *const T).cast(),
                std::mem::size_of::<T>() as libc::socklen_t,
            )
        }
        match self {
            CryptoInfo::AesGcm128(c) => raw(c),
            CryptoInfo::AesGcm256(c) => raw(c),
            CryptoInfo::Chacha20Poly1305(c) => raw(c),
        }
    }
}

impl Drop for CryptoInfo {
    fn drop(&mut self) {
        match self {
            CryptoInfo::AesGcm128(c) => c.key.fill(0),
            CryptoInfo::AesGcm256(c) => c.key.fill(0),
            CryptoInfo::Chacha20Poly1305(c) => c.key.fill(0),
        }
        std::hint::black_box(&*self);
    }
}

/// rustls' 12-byte IV as the kernel's (salt, explicit IV) for AES-GCM.
fn split_iv(iv: &Iv) -> ([u8; 4], [u8; 8]) {
    let b = iv.as_ref();
    let mut salt = [0; 4];
    let mut rest = [0; 8];
    salt.copy_from_slice(&b[..4]);
    rest.copy_from_slice(&b[4..12]);
    (salt, rest)
}

fn key_bytes<const N: usize>(key: &AeadKey) -> Result<[u8; N], Unsupported> {
    key.as_ref().try_into().map_err(|_| Unsupported::Suite)
}

#[cfg(test)]
mod tests;
