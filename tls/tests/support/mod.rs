//! Certificates made at test time (never committed) and a pump between two
//! embedded channels.
#![allow(dead_code)]

use std::path::PathBuf;

use seine_buffer::Bytes;
use seine_channel::testing::EmbeddedChannel;
use seine_tls::{TlsClientConfig, TlsServerConfig};

/// A CA, a server certificate for `localhost` signed by it, and the files.
pub struct Certs {
    pub dir: tempfile::TempDir,
    pub ca: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
    issuer_key: rcgen::KeyPair,
    issuer_params: rcgen::CertificateParams,
}

impl Certs {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "seine test CA");
        let ca_key = rcgen::KeyPair::generate().unwrap();
        let ca_cert = ca_params.self_signed(&ca_key).unwrap();
        let ca = dir.path().join("ca.pem");
        std::fs::write(&ca, ca_cert.pem()).unwrap();
        let certs = Certs {
            cert: dir.path().join("cert.pem"),
            key: dir.path().join("key.pem"),
            ca,
            dir,
            issuer_key: ca_key,
            issuer_params: ca_params,
        };
        let (cert, key) = certs.issue(
            &["localhost", "127.0.0.1"],
            rcgen::KeyPair::generate().unwrap(),
        );
        std::fs::write(&certs.cert, cert).unwrap();
        std::fs::write(&certs.key, key).unwrap();
        certs
    }

    /// A leaf for `names` with `key`, signed by the CA: (cert PEM, key PEM as PKCS#8).
    pub fn issue(&self, names: &[&str], key: rcgen::KeyPair) -> (String, String) {
        let names: Vec<String> = names.iter().map(|s| s.to_string()).collect();
        let params = rcgen::CertificateParams::new(names).unwrap();
        let issuer = rcgen::Issuer::from_params(&self.issuer_params, &self.issuer_key);
        let cert = params.signed_by(&key, &issuer).unwrap();
        (cert.pem(), key.serialize_pem())
    }

    /// Writes a file in the temporary directory.
    pub fn write(&self, name: &str, content: impl AsRef<[u8]>) -> PathBuf {
        let p = self.dir.path().join(name);
        std::fs::write(&p, content).unwrap();
        p
    }

    pub fn server(&self) -> TlsServerConfig {
        TlsServerConfig::builder()
            .cert_and_key_files(&self.cert, &self.key)
            .alpn(["http/1.1"])
            .build()
            .unwrap()
    }

    pub fn client(&self) -> TlsClientConfig {
        TlsClientConfig::builder()
            .ca_file(&self.ca)
            .alpn(["http/1.1"])
            .build()
            .unwrap()
    }
}

/// Moves what each channel wrote to the other until nothing moves (bounded).
/// Exceptions raised on the way are returned.
pub fn pump(
    client: &mut EmbeddedChannel,
    server: &mut EmbeddedChannel,
) -> Vec<seine_channel::Error> {
    let mut errors = Vec::new();
    for _ in 0..4096 {
        let c = client.read_outbound_bytes();
        let s = server.read_outbound_bytes();
        if c.is_empty() && s.is_empty() {
            return errors;
        }
        if !c.is_empty() && server.is_active() {
            errors.extend(server.write_inbound(Bytes::from(c)).err());
        }
        if !s.is_empty() && client.is_active() {
            errors.extend(client.write_inbound(Bytes::from(s)).err());
        }
    }
    panic!("the two channels never went quiet");
}

/// Every plaintext `Bytes` that reached the tail, concatenated.
pub fn inbound_text(ch: &mut EmbeddedChannel) -> Vec<u8> {
    let mut all = Vec::new();
    while ch.inbound_len() > 0 {
        let b: Bytes = ch.read_inbound().unwrap();
        all.extend_from_slice(&b);
    }
    all
}
