//! The rustls server configuration of a listener, from PEM files.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio_rustls::TlsAcceptor;

use super::ListenerError;

/// A certificate chain and its private key, both PEM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsPaths {
    pub cert: PathBuf,
    pub key: PathBuf,
}

fn read_pem(path: &Path) -> Result<Vec<u8>, ListenerError> {
    std::fs::read(path).map_err(|source| ListenerError::ReadPem {
        path: path.to_owned(),
        source,
    })
}

/// Loads the files; offers HTTP/2 and HTTP/1.1 by ALPN.
pub(super) fn acceptor(paths: &TlsPaths) -> Result<TlsAcceptor, ListenerError> {
    let (cert, key) = (&paths.cert, &paths.key);
    let cert_pem = read_pem(cert)?;
    let certs: Vec<_> = rustls_pemfile::certs(&mut cert_pem.as_slice())
        .collect::<Result<_, _>>()
        .map_err(|source| ListenerError::ReadPem {
            path: cert.to_owned(),
            source,
        })?;
    if certs.is_empty() {
        return Err(ListenerError::EmptyPem {
            path: cert.to_owned(),
            what: "certificate",
        });
    }
    let key_pem = read_pem(key)?;
    let private_key = rustls_pemfile::private_key(&mut key_pem.as_slice())
        .map_err(|source| ListenerError::ReadPem {
            path: key.to_owned(),
            source,
        })?
        .ok_or_else(|| ListenerError::EmptyPem {
            path: key.to_owned(),
            what: "private key",
        })?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut server = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(certs, private_key)?;
    server.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(server)))
}
