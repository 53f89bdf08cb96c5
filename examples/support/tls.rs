//! `--tls-cert FILE --tls-key FILE`: serve over TLS (with neither, nothing changes).

use std::path::PathBuf;

use seine::tls::{TlsHandler, TlsServerConfig};

/// The TLS flags, for `#[command(flatten)]`.
#[derive(clap::Args, Clone, Debug)]
pub struct TlsArgs {
    /// Serve over TLS with this certificate chain (PEM, leaf first); needs --tls-key.
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,

    /// The private key of --tls-cert (PEM: PKCS#8, PKCS#1 or SEC1; RSA or ECDSA).
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
}

impl TlsArgs {
    /// The server configuration, offering `alpn`, if the flags ask for TLS.
    pub fn config(&self, alpn: &[&str]) -> Result<Option<TlsServerConfig>, seine::tls::TlsError> {
        let (Some(cert), Some(key)) = (&self.tls_cert, &self.tls_key) else {
            return Ok(None);
        };
        TlsServerConfig::builder()
            .cert_and_key_files(cert, key)
            .alpn(alpn)
            .build()
            .map(Some)
    }
}

/// Adds a server-side TLS handler first in `pipeline` when `config` is set.
pub fn add_first(
    pipeline: &mut seine::channel::Pipeline<'_>,
    config: &Option<TlsServerConfig>,
) -> Result<(), seine::channel::ChannelError> {
    if let Some(config) = config {
        pipeline.add_first("tls", TlsHandler::server(config).into())?;
    }
    Ok(())
}
