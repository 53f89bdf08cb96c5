//! [`TlsServerConfig`]: certificates (one default, more by SNI), ALPN, optional
//! client certificates, session resumption.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::server::{ClientHello, ResolvesServerCert, WebPkiClientVerifier};
use rustls::sign::CertifiedKey;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use super::{pem, protocol_versions, provider};
use crate::error::TlsError;
use crate::ktls::KtlsSupport;

/// A TLS server configuration, ready to make [`TlsHandler`](crate::TlsHandler)s
/// (cloning is O(1): one shared rustls `ServerConfig`).
///
/// TLS 1.3 and 1.2, the `ring` provider's safe cipher suites, session resumption
/// on (a stateful cache of 256 sessions and TLS 1.3 tickets).
///
/// ```no_run
/// use seine_tls::TlsServerConfig;
///
/// let config = TlsServerConfig::builder()
///     .cert_and_key_files("cert.pem", "key.pem")
///     .sni_cert_and_key_files("files.example", "files.pem", "files.key")
///     .alpn(["http/1.1"])
///     .build()?;
/// # Ok::<(), seine_tls::TlsError>(())
/// ```
#[derive(Clone)]
pub struct TlsServerConfig {
    pub(crate) inner: Arc<rustls::ServerConfig>,
    /// Hand sessions to the kernel after the handshake where it can (kTLS).
    pub(crate) ktls: bool,
}

impl TlsServerConfig {
    /// A builder with nothing set.
    pub fn builder() -> TlsServerConfigBuilder {
        TlsServerConfigBuilder::default()
    }

    /// Wraps a rustls configuration made by hand. kTLS is tried where the
    /// configuration allows it (`enable_secret_extraction`).
    pub fn from_rustls(config: Arc<rustls::ServerConfig>) -> Self {
        TlsServerConfig {
            ktls: config.enable_secret_extraction,
            inner: config,
        }
    }

    /// Whether sessions are handed to the kernel after the handshake where it
    /// can take them (see [`KtlsSupport`](crate::KtlsSupport)).
    pub fn ktls(&self) -> bool {
        self.ktls
    }

    /// The rustls configuration.
    pub fn rustls(&self) -> &Arc<rustls::ServerConfig> {
        &self.inner
    }
}

impl fmt::Debug for TlsServerConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsServerConfig")
            .field("alpn", &self.inner.alpn_protocols)
            .finish_non_exhaustive()
    }
}

enum KeySource {
    Files { cert: PathBuf, key: PathBuf },
    Der(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>),
}

/// Builds a [`TlsServerConfig`]. Files are read by [`build`](Self::build), whose
/// error names the file at fault.
#[derive(Default)]
pub struct TlsServerConfigBuilder {
    default: Option<KeySource>,
    sni: Vec<(String, KeySource)>,
    alpn: Vec<Vec<u8>>,
    client_ca: Option<PathBuf>,
    client_auth_optional: bool,
    no_resumption: bool,
    no_ktls: bool,
}

impl TlsServerConfigBuilder {
    /// The certificate chain (PEM, leaf first) and private key (PEM: PKCS#8,
    /// PKCS#1 or SEC1; RSA or ECDSA) served when no SNI certificate matches.
    pub fn cert_and_key_files(mut self, cert: impl AsRef<Path>, key: impl AsRef<Path>) -> Self {
        self.default = Some(KeySource::Files {
            cert: cert.as_ref().to_owned(),
            key: key.as_ref().to_owned(),
        });
        self
    }

    /// The default certificate chain and key, already in DER.
    pub fn cert_and_key_der(
        mut self,
        chain: Vec<CertificateDer<'static>>,
        key: PrivateKeyDer<'static>,
    ) -> Self {
        self.default = Some(KeySource::Der(chain, key));
        self
    }

    /// A certificate served to clients that ask for `name` by SNI
    /// (case-insensitive, exact match).
    pub fn sni_cert_and_key_files(
        mut self,
        name: &str,
        cert: impl AsRef<Path>,
        key: impl AsRef<Path>,
    ) -> Self {
        self.sni.push((
            name.to_ascii_lowercase(),
            KeySource::Files {
                cert: cert.as_ref().to_owned(),
                key: key.as_ref().to_owned(),
            },
        ));
        self
    }

    /// The application protocols offered by ALPN, in order of preference
    /// (`"h2"`, `"http/1.1"`). A client that offers none of them is refused with
    /// a `no_application_protocol` alert; a client that offers no ALPN at all is
    /// served.
    pub fn alpn<I, P>(mut self, protocols: I) -> Self
    where
        I: IntoIterator<Item = P>,
        P: AsRef<[u8]>,
    {
        self.alpn = protocols.into_iter().map(|p| p.as_ref().to_vec()).collect();
        self
    }

    /// Requires clients to present a certificate issued by a CA of `ca_file`
    /// (PEM) — mutual TLS.
    pub fn client_ca_file(mut self, ca_file: impl AsRef<Path>) -> Self {
        self.client_ca = Some(ca_file.as_ref().to_owned());
        self
    }

    /// With [`client_ca_file`](Self::client_ca_file): clients may also connect
    /// without a certificate (the handshake event then carries none).
    pub fn client_auth_optional(mut self) -> Self {
        self.client_auth_optional = true;
        self
    }

    /// Turns session resumption off (it is on by default).
    pub fn no_resumption(mut self) -> Self {
        self.no_resumption = true;
        self
    }

    /// Keeps every session's record layer in user space, even where the kernel
    /// offers kTLS (by default sessions are handed to the kernel after the
    /// handshake where it can take them; see [`KtlsSupport`]).
    pub fn no_ktls(mut self) -> Self {
        self.no_ktls = true;
        self
    }

    /// Reads the files and builds the configuration.
    ///
    /// # Errors
    /// A [`TlsError`] naming the file that is missing, unreadable, not PEM, holds
    /// no certificate or key, or whose key does not match its certificate;
    /// [`TlsError::NoCertificateConfigured`] if no certificate was given.
    pub fn build(self) -> Result<TlsServerConfig, TlsError> {
        let provider = provider();
        let load = |src: KeySource| -> Result<Arc<CertifiedKey>, TlsError> {
            match src {
                KeySource::Files { cert, key } => pem::certified_key(&cert, &key, &provider),
                KeySource::Der(chain, key) => pem::certified_key_der(chain, key, &provider)
                    .map_err(|e| match e {
                        pem::KeyError::Unsupported(reason)
                        | pem::KeyError::BadCertificate(reason) => {
                            TlsError::InvalidConfig { reason }
                        }
                        pem::KeyError::Mismatch => TlsError::InvalidConfig {
                            reason: "the private key is not the certificate's".into(),
                        },
                    }),
            }
        };
        let default = self.default.map(load).transpose()?;
        let mut by_name = HashMap::new();
        for (name, src) in self.sni {
            by_name.insert(name, load(src)?);
        }
        if default.is_none() && by_name.is_empty() {
            return Err(TlsError::NoCertificateConfigured);
        }
        let resolver = Arc::new(SniResolver { default, by_name });

        let builder = rustls::ServerConfig::builder_with_provider(Arc::new(provider.clone()))
            .with_protocol_versions(protocol_versions())
            .map_err(|e| TlsError::InvalidConfig {
                reason: e.to_string(),
            })?;
        let builder = match self.client_ca {
            None => builder.with_no_client_auth(),
            Some(path) => {
                let roots = Arc::new(pem::root_store(&path)?);
                let mut v = WebPkiClientVerifier::builder_with_provider(roots, Arc::new(provider));
                if self.client_auth_optional {
                    v = v.allow_unauthenticated();
                }
                let verifier = v.build().map_err(|e| TlsError::InvalidCaFile {
                    path: path.clone(),
                    reason: e.to_string(),
                })?;
                builder.with_client_cert_verifier(verifier)
            }
        };
        let mut config = builder.with_cert_resolver(resolver);
        config.alpn_protocols = self.alpn;
        if self.no_resumption {
            config.session_storage = Arc::new(rustls::server::NoServerSessionStorage {});
            config.send_tls13_tickets = 0;
        } else {
            config.ticketer =
                rustls::crypto::ring::Ticketer::new().map_err(|e| TlsError::InvalidConfig {
                    reason: e.to_string(),
                })?;
        }
        // The secrets stay extractable only where they may go to the kernel.
        config.enable_secret_extraction = !self.no_ktls && KtlsSupport::get().kernel_encrypts();
        Ok(TlsServerConfig {
            inner: Arc::new(config),
            ktls: !self.no_ktls,
        })
    }
}

/// Picks the certificate by SNI name, else the default.
struct SniResolver {
    default: Option<Arc<CertifiedKey>>,
    by_name: HashMap<String, Arc<CertifiedKey>>,
}

impl fmt::Debug for SniResolver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SniResolver")
            .field("names", &self.by_name.keys().collect::<Vec<_>>())
            .field("default", &self.default.is_some())
            .finish()
    }
}

impl ResolvesServerCert for SniResolver {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        hello
            .server_name()
            .and_then(|n| {
                self.by_name
                    .get(n)
                    .or_else(|| self.by_name.get(&n.to_ascii_lowercase()))
            })
            .or(self.default.as_ref())
            .cloned()
    }
}
