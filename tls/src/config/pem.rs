//! Reading certificate chains, private keys and CA files from PEM, each error
//! naming its file.

use std::path::Path;
use std::sync::Arc;

use rustls::RootCertStore;
use rustls::crypto::CryptoProvider;
use rustls::sign::CertifiedKey;
use rustls_pki_types::pem::{self, PemObject};
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use crate::error::TlsError;

fn read(path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|e| TlsError::CannotReadFile {
        path: path.to_owned(),
        source: Arc::new(e),
    })
}

fn invalid(path: &Path, e: pem::Error) -> TlsError {
    TlsError::InvalidPem {
        path: path.to_owned(),
        reason: e.to_string(),
    }
}

/// Every certificate of a PEM file, in order (leaf first for a chain).
pub(crate) fn certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let pem = read(path)?;
    let certs = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| invalid(path, e))?;
    if certs.is_empty() {
        return Err(TlsError::NoCertificateInFile {
            path: path.to_owned(),
        });
    }
    Ok(certs)
}

/// The first private key of a PEM file: PKCS#8, PKCS#1 (RSA) or SEC1 (EC).
pub(crate) fn private_key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsError> {
    let pem = read(path)?;
    PrivateKeyDer::from_pem_slice(&pem).map_err(|e| match e {
        pem::Error::NoItemsFound => TlsError::NoPrivateKeyInFile {
            path: path.to_owned(),
        },
        e => invalid(path, e),
    })
}

/// A chain and its key, checked to belong together.
pub(crate) fn certified_key(
    cert: &Path,
    key: &Path,
    provider: &CryptoProvider,
) -> Result<Arc<CertifiedKey>, TlsError> {
    let chain = certificates(cert)?;
    let der = private_key(key)?;
    certified_key_der(chain, der, provider).map_err(|e| match e {
        KeyError::Unsupported(reason) => TlsError::UnsupportedPrivateKey {
            path: key.to_owned(),
            reason,
        },
        KeyError::Mismatch => TlsError::KeyDoesNotMatchCertificate {
            cert: cert.to_owned(),
            key: key.to_owned(),
        },
        KeyError::BadCertificate(reason) => TlsError::InvalidPem {
            path: cert.to_owned(),
            reason,
        },
    })
}

pub(crate) enum KeyError {
    Unsupported(String),
    Mismatch,
    BadCertificate(String),
}

/// A chain and its key from DER, checked to belong together.
pub(crate) fn certified_key_der(
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
    provider: &CryptoProvider,
) -> Result<Arc<CertifiedKey>, KeyError> {
    let signer = provider
        .key_provider
        .load_private_key(key)
        .map_err(|e| KeyError::Unsupported(e.to_string()))?;
    let ck = CertifiedKey::new(chain, signer);
    match ck.keys_match() {
        Ok(()) | Err(rustls::Error::InconsistentKeys(rustls::InconsistentKeys::Unknown)) => {
            Ok(Arc::new(ck))
        }
        Err(rustls::Error::InconsistentKeys(_)) => Err(KeyError::Mismatch),
        Err(e) => Err(KeyError::BadCertificate(e.to_string())),
    }
}

/// A root store of every certificate in a CA file.
pub(crate) fn root_store(path: &Path) -> Result<RootCertStore, TlsError> {
    let mut roots = RootCertStore::empty();
    add_roots(&mut roots, path)?;
    Ok(roots)
}

/// Adds every certificate of a CA file to `roots`.
pub(crate) fn add_roots(roots: &mut RootCertStore, path: &Path) -> Result<(), TlsError> {
    for cert in certificates(path)? {
        roots.add(cert).map_err(|e| TlsError::InvalidCaFile {
            path: path.to_owned(),
            reason: e.to_string(),
        })?;
    }
    Ok(())
}
