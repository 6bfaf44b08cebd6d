//! HTTPS for `fieldpost serve --tls-cert FILE --tls-key FILE`: the certificate chain and key
//! read from PEM files into a rustls server configuration on the *ring* provider.
//!
//! Why the server speaks TLS itself (and not only behind a proxy): a device on plain HTTP can be
//! handed someone else's recipient key at enrolment, or a forged acknowledgement at upload, by
//! anyone on the path. A deployment with a reverse proxy (docs/server.md, "TLS") keeps
//! `fieldpost serve` on loopback, where plain HTTP is acceptable.

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use thiserror::Error;

/// The two PEM files of `--tls-cert` and `--tls-key`; one without the other is not
/// representable, so "half a TLS configuration" cannot reach the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    /// The server's certificate, followed by any intermediate certificates (a "full chain").
    pub cert: PathBuf,
    /// The certificate's private key (PKCS#8, PKCS#1 or SEC1), unencrypted.
    pub key: PathBuf,
}

#[derive(Debug, Error)]
pub enum TlsError {
    #[error(
        "--tls-cert {0} was given without --tls-key: give both files, or neither for plain HTTP"
    )]
    CertWithoutKey(PathBuf),
    #[error(
        "--tls-key {0} was given without --tls-cert: give both files, or neither for plain HTTP"
    )]
    KeyWithoutCert(PathBuf),
    #[error("TLS certificate file {path}: {reason}")]
    Cert { path: PathBuf, reason: String },
    #[error("TLS key file {path}: {reason}")]
    Key { path: PathBuf, reason: String },
    #[error("the TLS certificate and key cannot be used together: {0}")]
    Config(String),
}

impl TlsFiles {
    /// Both or neither: the command line's two options, checked.
    pub fn from_options(
        cert: Option<PathBuf>,
        key: Option<PathBuf>,
    ) -> Result<Option<TlsFiles>, TlsError> {
        match (cert, key) {
            (Some(cert), Some(key)) => Ok(Some(TlsFiles { cert, key })),
            (None, None) => Ok(None),
            (Some(cert), None) => Err(TlsError::CertWithoutKey(cert)),
            (None, Some(key)) => Err(TlsError::KeyWithoutCert(key)),
        }
    }

    /// Reads both files and builds the server configuration (HTTP/1.1 only, as the server
    /// speaks). Fails with the file's name and what is wrong with it, before anything listens.
    pub fn server_config(&self) -> Result<Arc<rustls::ServerConfig>, TlsError> {
        let certs = read_certs(&self.cert)?;
        let key = read_key(&self.key)?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| TlsError::Config(e.to_string()))?
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .map_err(|e| TlsError::Config(e.to_string()))?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Arc::new(config))
    }
}

fn read_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let err = |reason: String| TlsError::Cert {
        path: path.to_path_buf(),
        reason,
    };
    let bytes = std::fs::read(path).map_err(|e| err(e.to_string()))?;
    let certs = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| err(format!("not a PEM certificate file ({e})")))?;
    if certs.is_empty() {
        return Err(err(
            "holds no \"BEGIN CERTIFICATE\" block; give the PEM certificate (full chain)".into(),
        ));
    }
    Ok(certs)
}

fn read_key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsError> {
    let err = |reason: String| TlsError::Key {
        path: path.to_path_buf(),
        reason,
    };
    let bytes = std::fs::read(path).map_err(|e| err(e.to_string()))?;
    PrivateKeyDer::from_pem_slice(&bytes).map_err(|e| match e {
        rustls::pki_types::pem::Error::NoItemsFound => err(
            "holds no private key block (\"BEGIN PRIVATE KEY\", \"BEGIN RSA PRIVATE KEY\" or \
             \"BEGIN EC PRIVATE KEY\"); an encrypted key must be decrypted first"
                .into(),
        ),
        other => err(format!("not a PEM private key ({other})")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_file_without_the_other_is_refused_with_what_to_do() {
        let e = TlsFiles::from_options(Some("c.pem".into()), None).expect_err("half");
        assert!(e.to_string().contains("without --tls-key"), "{e}");
        let e = TlsFiles::from_options(None, Some("k.pem".into())).expect_err("half");
        assert!(e.to_string().contains("without --tls-cert"), "{e}");
        assert_eq!(TlsFiles::from_options(None, None).expect("plain"), None);
    }

    #[test]
    fn missing_and_invalid_files_name_the_file() {
        let dir = tempfile::tempdir().expect("temp dir");
        let junk = dir.path().join("junk.pem");
        std::fs::write(&junk, "not pem at all\n").expect("write");
        let missing = dir.path().join("missing.pem");
        let files = TlsFiles {
            cert: missing.clone(),
            key: junk.clone(),
        };
        let e = files.server_config().expect_err("missing cert");
        assert!(
            matches!(&e, TlsError::Cert { path, .. } if *path == missing),
            "{e}"
        );
        let files = TlsFiles {
            cert: junk.clone(),
            key: junk.clone(),
        };
        let e = files.server_config().expect_err("junk cert");
        assert!(e.to_string().contains("BEGIN CERTIFICATE"), "{e}");
    }
}
