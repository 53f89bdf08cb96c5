//! Configuration errors name the file; keys of every encoding load; SNI; mTLS.

mod support;

use seine_channel::{Handler, testing::EmbeddedChannel};
use seine_tls::{HandshakeComplete, TlsClientConfig, TlsError, TlsHandler, TlsServerConfig};
use support::{Certs, pump};

fn message(err: TlsError) -> String {
    err.to_string()
}

#[test]
fn a_missing_file_is_named() {
    let certs = Certs::new();
    let missing = certs.dir.path().join("nope.pem");
    let err = TlsServerConfig::builder()
        .cert_and_key_files(&missing, &certs.key)
        .build()
        .unwrap_err();
    assert!(matches!(err, TlsError::CannotReadFile { .. }));
    assert!(message(err).contains("nope.pem"));
}

#[test]
fn a_file_without_a_key_is_named() {
    let certs = Certs::new();
    let err = TlsServerConfig::builder()
        .cert_and_key_files(&certs.cert, &certs.cert)
        .build()
        .unwrap_err();
    assert!(matches!(err, TlsError::NoPrivateKeyInFile { .. }), "{err}");
    assert!(message(err).contains("cert.pem"));
}

#[test]
fn a_file_without_a_certificate_is_named() {
    let certs = Certs::new();
    let err = TlsServerConfig::builder()
        .cert_and_key_files(&certs.key, &certs.key)
        .build()
        .unwrap_err();
    assert!(matches!(err, TlsError::NoCertificateInFile { .. }), "{err}");
}

#[test]
fn a_key_of_another_certificate_is_a_mismatch_naming_both_files() {
    let certs = Certs::new();
    let other = certs.write(
        "other.key",
        rcgen::KeyPair::generate().unwrap().serialize_pem(),
    );
    let err = TlsServerConfig::builder()
        .cert_and_key_files(&certs.cert, &other)
        .build()
        .unwrap_err();
    assert!(
        matches!(err, TlsError::KeyDoesNotMatchCertificate { .. }),
        "{err}"
    );
    let m = message(err);
    assert!(m.contains("other.key") && m.contains("cert.pem"), "{m}");
}

#[test]
fn garbage_pem_is_reported() {
    let certs = Certs::new();
    let bad = certs.write(
        "bad.pem",
        "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n",
    );
    let err = TlsServerConfig::builder()
        .cert_and_key_files(&bad, &certs.key)
        .build()
        .unwrap_err();
    assert!(message(err).contains("bad.pem"));
}

#[test]
fn no_certificate_is_refused() {
    let err = TlsServerConfig::builder().build().unwrap_err();
    assert!(matches!(err, TlsError::NoCertificateConfigured));
}

#[test]
fn an_invalid_server_name_is_refused() {
    let config = TlsClientConfig::builder().webpki_roots().build().unwrap();
    assert!(matches!(
        TlsHandler::client(&config, "not a name"),
        Err(TlsError::InvalidServerName { .. })
    ));
}

fn handshake(server: TlsServerConfig, client: TlsClientConfig, name: &str) -> HandshakeComplete {
    let s = TlsHandler::server(&server);
    let hs = s.handshake();
    let mut server = EmbeddedChannel::with_handlers([("tls", Handler::from(s))]);
    let mut client = EmbeddedChannel::with_handlers([(
        "tls",
        Handler::from(TlsHandler::client(&client, name).unwrap()),
    )]);
    let errors = pump(&mut client, &mut server);
    assert!(errors.is_empty(), "{errors:?}");
    hs.result().expect("finished").expect("succeeded")
}

#[test]
fn ecdsa_rsa_and_ed25519_keys_in_pkcs8() {
    let certs = Certs::new();
    for alg in [
        &rcgen::PKCS_ECDSA_P256_SHA256,
        &rcgen::PKCS_ECDSA_P384_SHA384,
        &rcgen::PKCS_ED25519,
    ] {
        let key = rcgen::KeyPair::generate_for(alg).unwrap();
        let (cert, key) = certs.issue(&["localhost"], key);
        let c = certs.write("alg.pem", cert);
        let k = certs.write("alg.key", key);
        let server = TlsServerConfig::builder()
            .cert_and_key_files(&c, &k)
            .build()
            .unwrap();
        handshake(server, certs.client(), "localhost");
    }
}

/// A SEC1 EC key ("BEGIN EC PRIVATE KEY") and a PKCS#1 RSA key ("BEGIN RSA
/// PRIVATE KEY"), as openssl writes them, converted here from PKCS#8 by the
/// openssl command (`.ci/run` installs it).
#[test]
#[ignore = "needs openssl (apt: openssl)"]
fn sec1_and_pkcs1_keys_made_by_openssl() {
    let certs = Certs::new();
    let openssl = |args: &[&str]| std::process::Command::new("openssl").args(args).output();
    assert!(openssl(&["version"]).is_ok(), "openssl is not installed");
    // SEC1 from the default ECDSA key.
    let sec1 = certs.dir.path().join("sec1.key");
    let out = openssl(&[
        "ec",
        "-in",
        certs.key.to_str().unwrap(),
        "-out",
        sec1.to_str().unwrap(),
    ])
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        std::fs::read_to_string(&sec1)
            .unwrap()
            .contains("BEGIN EC PRIVATE KEY")
    );
    let server = TlsServerConfig::builder()
        .cert_and_key_files(&certs.cert, &sec1)
        .build()
        .unwrap();
    handshake(server, certs.client(), "localhost");

    // An openssl-made RSA-2048 pair, self-signed, leaf-only chain, key as PKCS#1.
    let rsa = certs.dir.path().join("rsa.key");
    let pkcs1 = certs.dir.path().join("rsa1.key");
    let crt = certs.dir.path().join("rsa.crt");
    let out = openssl(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        rsa.to_str().unwrap(),
        "-out",
        crt.to_str().unwrap(),
        "-days",
        "2",
        "-subj",
        "/CN=localhost",
        "-addext",
        "subjectAltName=DNS:localhost",
        "-addext",
        "basicConstraints=critical,CA:FALSE",
    ])
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = openssl(&[
        "rsa",
        "-in",
        rsa.to_str().unwrap(),
        "-traditional",
        "-out",
        pkcs1.to_str().unwrap(),
    ])
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        std::fs::read_to_string(&pkcs1)
            .unwrap()
            .contains("BEGIN RSA PRIVATE KEY")
    );
    for key in [&rsa, &pkcs1] {
        let server = TlsServerConfig::builder()
            .cert_and_key_files(&crt, key)
            .build()
            .unwrap();
        let client = TlsClientConfig::builder().ca_file(&crt).build().unwrap();
        handshake(server, client, "localhost");
    }
}

#[test]
fn certificates_are_chosen_by_sni() {
    let certs = Certs::new();
    let (c, k) = certs.issue(&["files.example"], rcgen::KeyPair::generate().unwrap());
    let c = certs.write("files.pem", c);
    let k = certs.write("files.key", k);
    let server = TlsServerConfig::builder()
        .cert_and_key_files(&certs.cert, &certs.key)
        .sni_cert_and_key_files("files.example", &c, &k)
        .build()
        .unwrap();
    // The client checks the certificate against the name: each succeeds only
    // with its own certificate.
    let a = handshake(server.clone(), certs.client(), "files.example");
    assert_eq!(a.server_name.as_deref(), Some("files.example"));
    let b = handshake(server, certs.client(), "localhost");
    assert_eq!(b.server_name.as_deref(), Some("localhost"));
}

#[test]
fn mutual_tls_requires_and_reports_the_client_certificate() {
    let certs = Certs::new();
    let (c, k) = certs.issue(&["client.example"], rcgen::KeyPair::generate().unwrap());
    let c = certs.write("client.pem", c);
    let k = certs.write("client.key", k);
    let server = TlsServerConfig::builder()
        .cert_and_key_files(&certs.cert, &certs.key)
        .client_ca_file(&certs.ca)
        .build()
        .unwrap();
    let client = TlsClientConfig::builder()
        .ca_file(&certs.ca)
        .client_cert_and_key_files(&c, &k)
        .build()
        .unwrap();
    let done = handshake(server.clone(), client, "localhost");
    assert_eq!(done.peer_certificates.len(), 1);

    // Without a certificate the handshake fails.
    let s = TlsHandler::server(&server);
    let hs = s.handshake();
    let mut sch = EmbeddedChannel::with_handlers([("tls", Handler::from(s))]);
    let mut cch = EmbeddedChannel::with_handlers([(
        "tls",
        Handler::from(TlsHandler::client(&certs.client(), "localhost").unwrap()),
    )]);
    pump(&mut cch, &mut sch);
    assert!(
        matches!(hs.result(), Some(Err(TlsError::Protocol(_)))),
        "{:?}",
        hs.result()
    );
}

#[test]
fn sessions_resume_by_default() {
    let certs = Certs::new();
    let server = certs.server();
    let client = certs.client();
    assert!(!handshake(server.clone(), client.clone(), "localhost").resumed);
    assert!(handshake(server, client, "localhost").resumed);
}

#[test]
fn tls12_is_offered_too() {
    let certs = Certs::new();
    let client = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_protocol_versions(&[&rustls::version::TLS12])
    .unwrap()
    .with_root_certificates({
        let mut r = rustls::RootCertStore::empty();
        use rustls_pki_types::pem::PemObject;
        r.add(rustls_pki_types::CertificateDer::from_pem_file(&certs.ca).unwrap())
            .unwrap();
        r
    })
    .with_no_client_auth();
    let done = handshake(
        certs.server(),
        TlsClientConfig::from_rustls(client.into()),
        "localhost",
    );
    assert_eq!(done.protocol_version, rustls::ProtocolVersion::TLSv1_2);
}
