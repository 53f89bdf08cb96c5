//! [`TlsClientConfig`]: trusted roots, ALPN, an optional client certificate.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::RootCertStore;

use super::{pem, protocol_versions, provider};
use crate::error::TlsError;
use crate::ktls::KtlsSupport;

/// A TLS client configuration (cloning is O(1)). Connect with
/// [`TlsHandler::client`](crate::TlsHandler::client), naming the server.
///
/// ```no_run
/// use seine_tls::TlsClientConfig;
///
/// let config = TlsClientConfig::builder()
///     .webpki_roots() // Mozilla's roots, built in
///     .ca_file("my-ca.pem") // and a private CA
///     .alpn(["http/1.1"])
///     .build()?;
/// # Ok::<(), seine_tls::TlsError>(())
/// ```
#[derive(Clone)]
pub struct TlsClientConfig {
    pub(crate) inner: Arc<rustls::ClientConfig>,
    /// Hand sessions to the kernel after the handshake where it can (kTLS).
    pub(crate) ktls: bool,
}

impl TlsClientConfig {
    /// A builder that trusts nothing yet.
    pub fn builder() -> TlsClientConfigBuilder {
        TlsClientConfigBuilder::default()
    }

    /// Wraps a rustls configuration made by hand. kTLS is tried where the
    /// configuration allows it (`enable_secret_extraction`).
    pub fn from_rustls(config: Arc<rustls::ClientConfig>) -> Self {
        TlsClientConfig {
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
    pub fn rustls(&self) -> &Arc<rustls::ClientConfig> {
        &self.inner
    }
}

impl fmt::Debug for TlsClientConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsClientConfig")
            .field("alpn", &self.inner.alpn_protocols)
            .finish_non_exhaustive()
    }
}

/// Builds a [`TlsClientConfig`]; files are read by [`build`](Self::build).
#[derive(Default)]
pub struct TlsClientConfigBuilder {
    webpki_roots: bool,
    ca_files: Vec<PathBuf>,
    alpn: Vec<Vec<u8>>,
    client_cert: Option<(PathBuf, PathBuf)>,
    no_ktls: bool,
}

impl TlsClientConfigBuilder {
    /// Trusts the Mozilla root store compiled in (webpki-roots).
    pub fn webpki_roots(mut self) -> Self {
        self.webpki_roots = true;
        self
    }

    /// Trusts every certificate of a PEM CA file too.
    pub fn ca_file(mut self, path: impl AsRef<Path>) -> Self {
        self.ca_files.push(path.as_ref().to_owned());
        self
    }

    /// The application protocols offered by ALPN, in order of preference.
    pub fn alpn<I, P>(mut self, protocols: I) -> Self
    where
        I: IntoIterator<Item = P>,
        P: AsRef<[u8]>,
    {
        self.alpn = protocols.into_iter().map(|p| p.as_ref().to_vec()).collect();
        self
    }

    /// Presents this certificate chain and key to servers that ask (mutual TLS).
    pub fn client_cert_and_key_files(
        mut self,
        cert: impl AsRef<Path>,
        key: impl AsRef<Path>,
    ) -> Self {
        self.client_cert = Some((cert.as_ref().to_owned(), key.as_ref().to_owned()));
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
    /// A [`TlsError`] naming the file at fault.
    pub fn build(self) -> Result<TlsClientConfig, TlsError> {
        let provider = provider();
        let mut roots = RootCertStore::empty();
        if self.webpki_roots {
            roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        }
        for path in &self.ca_files {
            pem::add_roots(&mut roots, path)?;
        }
        let builder = rustls::ClientConfig::builder_with_provider(Arc::new(provider.clone()))
            .with_protocol_versions(protocol_versions())
            .map_err(|e| TlsError::InvalidConfig {
                reason: e.to_string(),
            })?
            .with_root_certificates(roots);
        let mut config = match self.client_cert {
            None => builder.with_no_client_auth(),
            Some((cert, key)) => {
                let ck = pem::certified_key(&cert, &key, &provider)?;
                builder
                    .with_client_auth_cert(ck.cert.clone(), pem::private_key(&key)?)
                    .map_err(|e| TlsError::InvalidConfig {
                        reason: e.to_string(),
                    })?
            }
        };
        config.alpn_protocols = self.alpn;
        // The secrets stay extractable only where they may go to the kernel.
        config.enable_secret_extraction = !self.no_ktls && KtlsSupport::get().kernel_encrypts();
        Ok(TlsClientConfig {
            inner: Arc::new(config),
            ktls: !self.no_ktls,
        })
    }
}
