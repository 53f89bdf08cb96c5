use std::mem::{offset_of, size_of};
use std::sync::Arc;

use rustls::crypto::{CryptoProvider, ring};
use rustls::{
    ClientConfig, ClientConnection, ConnectionTrafficSecrets, ProtocolVersion, RootCertStore,
    ServerConfig, ServerConnection, SupportedCipherSuite,
};
use rustls_pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};

use super::*;

// Sizes and offsets from linux/tls.h (identical on every architecture: u16 and
// byte arrays only, no padding).
#[test]
fn the_structures_are_laid_out_as_linux_tls_h() {
    assert_eq!(size_of::<TlsCryptoInfo>(), 4);
    assert_eq!(offset_of!(TlsCryptoInfo, version), 0);
    assert_eq!(offset_of!(TlsCryptoInfo, cipher_type), 2);

    assert_eq!(size_of::<AesGcm128>(), 40);
    assert_eq!(offset_of!(AesGcm128, info), 0);
    assert_eq!(offset_of!(AesGcm128, iv), 4);
    assert_eq!(offset_of!(AesGcm128, key), 12);
    assert_eq!(offset_of!(AesGcm128, salt), 28);
    assert_eq!(offset_of!(AesGcm128, rec_seq), 32);

    assert_eq!(size_of::<AesGcm256>(), 56);
    assert_eq!(offset_of!(AesGcm256, iv), 4);
    assert_eq!(offset_of!(AesGcm256, key), 12);
    assert_eq!(offset_of!(AesGcm256, salt), 44);
    assert_eq!(offset_of!(AesGcm256, rec_seq), 48);

    assert_eq!(size_of::<Chacha20Poly1305>(), 56);
    assert_eq!(offset_of!(Chacha20Poly1305, iv), 4);
    assert_eq!(offset_of!(Chacha20Poly1305, key), 16);
    assert_eq!(offset_of!(Chacha20Poly1305, salt), 48);
    assert_eq!(offset_of!(Chacha20Poly1305, rec_seq), 48);
}

#[test]
fn the_constants_are_linux_tls_h() {
    assert_eq!(TLS_1_2_VERSION, 0x0303);
    assert_eq!(TLS_1_3_VERSION, 0x0304);
    assert_eq!(TLS_CIPHER_AES_GCM_128, 51);
    assert_eq!(TLS_CIPHER_AES_GCM_256, 52);
    assert_eq!(TLS_CIPHER_CHACHA20_POLY1305, 54);
    // Where libc has them too, they agree.
    assert_eq!(libc::SOL_TLS, crate::ktls::socket::SOL_TLS);
}

#[test]
fn sockopt_sizes_are_the_structures() {
    let s = ConnectionTrafficSecrets::Aes256Gcm {
        key: [1u8; 32].into(),
        iv: [2u8; 12].into(),
    };
    let c = CryptoInfo::new(ProtocolVersion::TLSv1_2, 5, &s).unwrap();
    assert_eq!(c.as_sockopt().1 as usize, 56);
    let s = ConnectionTrafficSecrets::Aes128Gcm {
        key: [1u8; 32].into(),
        iv: [2u8; 12].into(),
    };
    // An AeadKey from 32 bytes holds 32: too long for AES-128, refused.
    assert_eq!(
        CryptoInfo::new(ProtocolVersion::TLSv1_3, 0, &s).err(),
        Some(Unsupported::Suite)
    );
}

#[test]
fn versions_other_than_1_2_and_1_3_are_refused() {
    let s = ConnectionTrafficSecrets::Chacha20Poly1305 {
        key: [1u8; 32].into(),
        iv: [2u8; 12].into(),
    };
    assert_eq!(
        CryptoInfo::new(ProtocolVersion::TLSv1_1, 0, &s).err(),
        Some(Unsupported::Version)
    );
}

/// An in-memory handshake with one suite; then records both ways, so that the
/// sequence numbers are not all zero; then the secrets of both ends.
fn handshake(
    suite: SupportedCipherSuite,
    version: &'static rustls::SupportedProtocolVersion,
) -> (rustls::ExtractedSecrets, rustls::ExtractedSecrets) {
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec!["localhost".to_string()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    let provider = Arc::new(CryptoProvider {
        cipher_suites: vec![suite],
        ..ring::default_provider()
    });
    let mut server_cfg = ServerConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&[version])
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![cert.der().clone()],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
        )
        .unwrap();
    server_cfg.enable_secret_extraction = true;
    let mut roots = RootCertStore::empty();
    roots.add(cert.der().clone()).unwrap();
    let mut client_cfg = ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[version])
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    client_cfg.enable_secret_extraction = true;
    let mut client = ClientConnection::new(
        Arc::new(client_cfg),
        ServerName::try_from("localhost").unwrap(),
    )
    .unwrap();
    let mut server = ServerConnection::new(Arc::new(server_cfg)).unwrap();
    for _ in 0..10 {
        let mut buf = Vec::new();
        while client.wants_write() {
            client.write_tls(&mut buf).unwrap();
        }
        server.read_tls(&mut &buf[..]).unwrap();
        server.process_new_packets().unwrap();
        let mut buf = Vec::new();
        while server.wants_write() {
            server.write_tls(&mut buf).unwrap();
        }
        client.read_tls(&mut &buf[..]).unwrap();
        client.process_new_packets().unwrap();
        if !client.is_handshaking() && !server.is_handshaking() && !client.wants_write() {
            break;
        }
    }
    assert!(!client.is_handshaking() && !server.is_handshaking());
    // Three records client -> server, one back.
    use std::io::{Read, Write};
    for _ in 0..3 {
        client.writer().write_all(b"ping").unwrap();
        let mut buf = Vec::new();
        while client.wants_write() {
            client.write_tls(&mut buf).unwrap();
        }
        server.read_tls(&mut &buf[..]).unwrap();
        server.process_new_packets().unwrap();
        let mut got = [0u8; 4];
        server.reader().read_exact(&mut got).unwrap();
    }
    server.writer().write_all(b"pong").unwrap();
    let mut buf = Vec::new();
    while server.wants_write() {
        server.write_tls(&mut buf).unwrap();
    }
    client.read_tls(&mut &buf[..]).unwrap();
    client.process_new_packets().unwrap();
    let mut got = [0u8; 4];
    client.reader().read_exact(&mut got).unwrap();
    (
        client.dangerous_extract_secrets().unwrap(),
        server.dangerous_extract_secrets().unwrap(),
    )
}

fn key_iv(s: &ConnectionTrafficSecrets) -> (Vec<u8>, Vec<u8>) {
    match s {
        ConnectionTrafficSecrets::Aes128Gcm { key, iv }
        | ConnectionTrafficSecrets::Aes256Gcm { key, iv }
        | ConnectionTrafficSecrets::Chacha20Poly1305 { key, iv } => {
            (key.as_ref().to_vec(), iv.as_ref().to_vec())
        }
        _ => unreachable!("ring's suites only"),
    }
}

/// The kernel structure's fields, as bytes: (version, cipher, salt+iv, key, rec_seq).
fn fields(c: &CryptoInfo) -> (u16, u16, Vec<u8>, Vec<u8>, [u8; 8]) {
    match c {
        CryptoInfo::AesGcm128(c) => (
            c.info.version,
            c.info.cipher_type,
            [&c.salt[..], &c.iv[..]].concat(),
            c.key.to_vec(),
            c.rec_seq,
        ),
        CryptoInfo::AesGcm256(c) => (
            c.info.version,
            c.info.cipher_type,
            [&c.salt[..], &c.iv[..]].concat(),
            c.key.to_vec(),
            c.rec_seq,
        ),
        CryptoInfo::Chacha20Poly1305(c) => (
            c.info.version,
            c.info.cipher_type,
            c.iv.to_vec(),
            c.key.to_vec(),
            c.rec_seq,
        ),
    }
}

fn check(
    suite: SupportedCipherSuite,
    version: &'static rustls::SupportedProtocolVersion,
    cipher: u16,
) {
    let (client, server) = handshake(suite, version);
    let v = version.version;
    let kernel_version = if v == ProtocolVersion::TLSv1_3 {
        TLS_1_3_VERSION
    } else {
        TLS_1_2_VERSION
    };
    // What one end sends with, the other receives with, at the same sequence.
    assert_eq!(client.tx.0, server.rx.0);
    assert_eq!(server.tx.0, client.rx.0);
    assert_eq!(key_iv(&client.tx.1), key_iv(&server.rx.1));
    assert!(server.rx.0 >= 3, "three records were received");
    for (seq, secrets) in [&client.tx, &client.rx, &server.tx, &server.rx] {
        let info = CryptoInfo::new(v, *seq, secrets).unwrap();
        let (version, cipher_type, iv, key, rec_seq) = fields(&info);
        assert_eq!(version, kernel_version);
        assert_eq!(cipher_type, cipher);
        assert_eq!(info.info().cipher_type, cipher);
        let (k, i) = key_iv(secrets);
        assert_eq!(key, k);
        assert_eq!(iv, i, "salt then IV: rustls' 12-byte IV");
        assert_eq!(rec_seq, seq.to_be_bytes());
    }
}

#[test]
fn tls13_aes128_gcm_keys_from_rustls() {
    check(
        ring::cipher_suite::TLS13_AES_128_GCM_SHA256,
        &rustls::version::TLS13,
        TLS_CIPHER_AES_GCM_128,
    );
}

#[test]
fn tls13_aes256_gcm_keys_from_rustls() {
    check(
        ring::cipher_suite::TLS13_AES_256_GCM_SHA384,
        &rustls::version::TLS13,
        TLS_CIPHER_AES_GCM_256,
    );
}

#[test]
fn tls13_chacha20_poly1305_keys_from_rustls() {
    check(
        ring::cipher_suite::TLS13_CHACHA20_POLY1305_SHA256,
        &rustls::version::TLS13,
        TLS_CIPHER_CHACHA20_POLY1305,
    );
}

#[test]
fn tls12_aes128_gcm_keys_from_rustls() {
    check(
        ring::cipher_suite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
        &rustls::version::TLS12,
        TLS_CIPHER_AES_GCM_128,
    );
}

#[test]
fn tls12_aes256_gcm_keys_from_rustls() {
    check(
        ring::cipher_suite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
        &rustls::version::TLS12,
        TLS_CIPHER_AES_GCM_256,
    );
}

#[test]
fn tls12_chacha20_poly1305_keys_from_rustls() {
    check(
        ring::cipher_suite::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
        &rustls::version::TLS12,
        TLS_CIPHER_CHACHA20_POLY1305,
    );
}
