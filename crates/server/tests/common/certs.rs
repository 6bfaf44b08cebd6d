//! Certificates made at test time (rcgen, ring): a private CA and a server certificate it
//! signed for 127.0.0.1 and localhost, written as PEM files. Nothing is shipped or reused.

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
use std::path::{Path, PathBuf};

/// The PEM files of one test CA and its server certificate.
pub struct TestCerts {
    /// The CA's certificate: what a client must trust (`FIELDPOST_CA_CERT`, `sslrootcert`).
    pub ca: PathBuf,
    /// The server's certificate (signed by the CA).
    pub cert: PathBuf,
    /// The server certificate's private key (PKCS#8).
    pub key: PathBuf,
}

/// Makes a CA named `name` and a server certificate for 127.0.0.1, ::1 and localhost in `dir`.
pub fn make(dir: &Path, name: &str) -> TestCerts {
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, format!("{name} test CA"));
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().expect("CA key"))
        .expect("CA certificate");
    let mut params = CertificateParams::new(vec![
        "127.0.0.1".to_string(),
        "::1".to_string(),
        "localhost".to_string(),
    ])
    .expect("server params");
    params
        .distinguished_name
        .push(DnType::CommonName, "localhost");
    let key = KeyPair::generate().expect("server key");
    let cert = params.signed_by(&key, &ca).expect("server certificate");
    let files = TestCerts {
        ca: dir.join(format!("{name}-ca.pem")),
        cert: dir.join(format!("{name}-server.crt")),
        key: dir.join(format!("{name}-server.key")),
    };
    std::fs::write(&files.ca, ca.pem()).expect("writes the CA");
    std::fs::write(&files.cert, cert.pem()).expect("writes the certificate");
    std::fs::write(&files.key, key.serialize_pem()).expect("writes the key");
    files
}
