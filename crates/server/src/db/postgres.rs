//! PostgreSQL backend: the synchronous `postgres` client with an r2d2 pool.
//!
//! For deployments that outgrow one machine: several stateless server processes share one
//! PostgreSQL, and the unique key on (device, sequence) keeps ingest exactly-once across them.
//!
//! TLS follows libpq's `sslmode` in the URL (`?sslmode=require`), with rustls on ring:
//! absent or `disable`: plain (a local socket or loopback); `prefer`: TLS when the server offers
//! it; `require`: TLS or no connection, the certificate not checked (libpq's meaning: it stops
//! eavesdroppers, not an active attacker); `verify-ca`: the chain must lead to `sslrootcert=FILE`
//! (or to the public web roots when no file is named); `verify-full`: that and the host name.
//! As in libpq, `require` with an `sslrootcert` file behaves as `verify-ca`.

use super::{Backend, DbError, Dialect, Row, Sql, Value};
use ::postgres::GenericClient;
use ::postgres::config::SslMode as PgSslMode;
use ::postgres::types::{IsNull, ToSql, Type, to_sql_checked};
use r2d2_postgres::PostgresConnectionManager;
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, RootCertStore, SignatureScheme};
use std::error::Error as StdError;
use std::path::PathBuf;
use std::sync::Arc;
use tokio_postgres_rustls::MakeRustlsConnect;

type Pool = r2d2::Pool<PostgresConnectionManager<MakeRustlsConnect>>;

pub struct PostgresBackend {
    /// Always `Some` until dropped (see the `Drop` impl).
    pool: Option<Pool>,
    described: String,
}

/// The `postgres` client runs its own small runtime, and closing a connection blocks on it,
/// which tokio forbids on an async worker thread (the server drops its storage there when it
/// stops). The pool is therefore always dropped on a plain thread of its own.
impl Drop for PostgresBackend {
    fn drop(&mut self) {
        if let Some(pool) = self.pool.take() {
            let _ = std::thread::spawn(move || drop(pool)).join();
        }
    }
}

impl PostgresBackend {
    pub fn connect(url: &str) -> Result<Self, DbError> {
        let (url, tls) = TlsSettings::from_url(url)?;
        let mut config: ::postgres::Config = url.parse()?;
        config.ssl_mode(match tls.mode {
            SslMode::Disable => PgSslMode::Disable,
            SslMode::Prefer => PgSslMode::Prefer,
            SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull => PgSslMode::Require,
        });
        let manager = PostgresConnectionManager::new(config.clone(), tls.connector()?);
        let pool = r2d2::Pool::builder()
            .max_size(8)
            .min_idle(Some(1))
            .connection_timeout(std::time::Duration::from_secs(10))
            .build(manager)?;
        let host = config
            .get_hosts()
            .first()
            .map(|h| format!("{h:?}"))
            .unwrap_or_default();
        let described = format!(
            "postgres://{}@{host}:{}/{} (sslmode {})",
            config.get_user().unwrap_or(""),
            config.get_ports().first().copied().unwrap_or(5432),
            config.get_dbname().unwrap_or(""),
            tls.mode.as_str()
        );
        Ok(Self {
            pool: Some(pool),
            described,
        })
    }
}

/// libpq's `sslmode` values (tokio-postgres itself knows only disable, prefer and require).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslMode {
    Disable,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

impl SslMode {
    fn parse(s: &str) -> Result<SslMode, DbError> {
        Ok(match s {
            "disable" => SslMode::Disable,
            "prefer" => SslMode::Prefer,
            "require" => SslMode::Require,
            "verify-ca" => SslMode::VerifyCa,
            "verify-full" => SslMode::VerifyFull,
            other => {
                return Err(DbError::PostgresTls(format!(
                    "sslmode={other} is not one of disable, prefer, require, verify-ca, verify-full"
                )));
            }
        })
    }

    fn as_str(self) -> &'static str {
        match self {
            SslMode::Disable => "disable",
            SslMode::Prefer => "prefer",
            SslMode::Require => "require",
            SslMode::VerifyCa => "verify-ca",
            SslMode::VerifyFull => "verify-full",
        }
    }
}

/// What the URL asks of TLS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsSettings {
    pub mode: SslMode,
    /// `sslrootcert=FILE`: the CA certificates (PEM) the server's chain must lead to.
    /// `sslrootcert=system` (libpq 16) or none: the public web roots.
    pub root_cert: Option<PathBuf>,
}

impl TlsSettings {
    /// Takes `sslmode` and `sslrootcert` out of a `postgres://` URL's query and returns the
    /// rest for tokio-postgres, which refuses both `verify-*` and `sslrootcert`. No `sslmode`:
    /// plain, as before TLS support (libpq would try TLS first; the servers this was written
    /// for are reached over loopback or a local socket).
    pub fn from_url(url: &str) -> Result<(String, TlsSettings), DbError> {
        let mut settings = TlsSettings {
            mode: SslMode::Disable,
            root_cert: None,
        };
        let Some((base, query)) = url.split_once('?') else {
            return Ok((url.to_string(), settings));
        };
        let mut rest = Vec::new();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let decoded = percent_encoding::percent_decode_str(value)
                .decode_utf8()
                .map_err(|e| DbError::PostgresTls(format!("{key}: {e}")))?;
            match key {
                "sslmode" => settings.mode = SslMode::parse(&decoded)?,
                "sslrootcert" if decoded == "system" => settings.root_cert = None,
                "sslrootcert" => settings.root_cert = Some(PathBuf::from(decoded.as_ref())),
                _ => rest.push(pair),
            }
        }
        if settings.mode == SslMode::Require && settings.root_cert.is_some() {
            settings.mode = SslMode::VerifyCa;
        }
        let url = if rest.is_empty() {
            base.to_string()
        } else {
            format!("{base}?{}", rest.join("&"))
        };
        Ok((url, settings))
    }

    /// The rustls connector for these settings (also built for `disable`, where the pool's
    /// type needs one but tokio-postgres never calls it).
    fn connector(&self) -> Result<MakeRustlsConnect, DbError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| DbError::PostgresTls(e.to_string()))?;
        let verifier: Arc<dyn ServerCertVerifier> = match self.mode {
            SslMode::Disable | SslMode::Prefer | SslMode::Require => {
                Arc::new(EncryptOnly(provider.clone()))
            }
            SslMode::VerifyCa | SslMode::VerifyFull => {
                let webpki = WebPkiServerVerifier::builder_with_provider(
                    Arc::new(self.roots()?),
                    provider.clone(),
                )
                .build()
                .map_err(|e| DbError::PostgresTls(e.to_string()))?;
                if self.mode == SslMode::VerifyCa {
                    Arc::new(ChainOnly(webpki))
                } else {
                    webpki
                }
            }
        };
        let config = builder
            .dangerous()
            .with_custom_certificate_verifier(verifier)
            .with_no_client_auth();
        Ok(MakeRustlsConnect::new(config))
    }

    fn roots(&self) -> Result<RootCertStore, DbError> {
        let Some(path) = &self.root_cert else {
            return Ok(RootCertStore {
                roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
            });
        };
        let err = |reason: String| {
            DbError::PostgresTls(format!("sslrootcert {}: {reason}", path.display()))
        };
        let bytes = std::fs::read(path).map_err(|e| err(e.to_string()))?;
        let mut roots = RootCertStore::empty();
        for cert in CertificateDer::pem_slice_iter(&bytes) {
            let cert = cert.map_err(|e| err(format!("not a PEM certificate file ({e})")))?;
            roots.add(cert).map_err(|e| err(e.to_string()))?;
        }
        if roots.is_empty() {
            return Err(err("holds no \"BEGIN CERTIFICATE\" block".into()));
        }
        Ok(roots)
    }
}

/// `sslmode=require` (and `prefer`): the link is encrypted and the handshake's signatures are
/// checked, but any certificate is accepted, exactly as libpq does for these modes.
#[derive(Debug)]
struct EncryptOnly(Arc<CryptoProvider>);

impl ServerCertVerifier for EncryptOnly {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// `sslmode=verify-ca`: the chain is checked against the roots, the host name is not (libpq's
/// meaning; for a server reached by an address its certificate does not name).
#[derive(Debug)]
struct ChainOnly(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for ChainOnly {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        // webpki checks the chain before the name, so a name error means the chain was good.
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
        {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

impl PostgresBackend {
    fn pool(&self) -> Result<&Pool, DbError> {
        self.pool.as_ref().ok_or(DbError::Poisoned)
    }
}

/// Binds our dynamic values to whatever column type PostgreSQL inferred for the parameter.
impl ToSql for Value {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut bytes::BytesMut,
    ) -> Result<IsNull, Box<dyn StdError + Sync + Send>> {
        match self {
            Value::Null => Ok(IsNull::Yes),
            Value::Int(i) if *ty == Type::INT4 => i32::try_from(*i)?.to_sql(ty, out),
            Value::Int(i) if *ty == Type::INT2 => i16::try_from(*i)?.to_sql(ty, out),
            Value::Int(i) => i.to_sql(ty, out),
            Value::Text(s) => s.to_sql(ty, out),
            Value::Blob(b) => b.to_sql(ty, out),
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

fn read_row(row: &::postgres::Row) -> Result<Row, DbError> {
    let mut out = Vec::with_capacity(row.len());
    for (i, col) in row.columns().iter().enumerate() {
        let ty = col.type_();
        let v = if *ty == Type::INT8 {
            row.try_get::<_, Option<i64>>(i)?.map(Value::Int)
        } else if *ty == Type::INT4 {
            row.try_get::<_, Option<i32>>(i)?
                .map(|v| Value::Int(v.into()))
        } else if *ty == Type::INT2 {
            row.try_get::<_, Option<i16>>(i)?
                .map(|v| Value::Int(v.into()))
        } else if *ty == Type::BYTEA {
            row.try_get::<_, Option<Vec<u8>>>(i)?.map(Value::Blob)
        } else if *ty == Type::BOOL {
            row.try_get::<_, Option<bool>>(i)?
                .map(|b| Value::Int(b.into()))
        } else {
            row.try_get::<_, Option<String>>(i)?.map(Value::Text)
        };
        out.push(v.unwrap_or(Value::Null));
    }
    Ok(Row(out))
}

fn refs(params: &[Value]) -> Vec<&(dyn ToSql + Sync)> {
    params.iter().map(|p| p as &(dyn ToSql + Sync)).collect()
}

/// A connection or a transaction: `GenericClient` covers both, so one wrapper serves both.
struct On<'a, C: GenericClient>(&'a mut C);

impl<C: GenericClient> Sql for On<'_, C> {
    fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64, DbError> {
        Ok(self.0.execute(sql, &refs(params))?)
    }
    fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>, DbError> {
        self.0
            .query(sql, &refs(params))?
            .iter()
            .map(read_row)
            .collect()
    }
    fn batch(&mut self, sql: &str) -> Result<(), DbError> {
        Ok(self.0.batch_execute(sql)?)
    }
}

impl Backend for PostgresBackend {
    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    fn transaction(
        &self,
        f: &mut dyn FnMut(&mut dyn Sql) -> Result<(), DbError>,
    ) -> Result<(), DbError> {
        let mut client = self.pool()?.get()?;
        let mut tx = client.transaction()?;
        f(&mut On(&mut tx))?;
        tx.commit()?;
        Ok(())
    }

    fn read(&self, f: &mut dyn FnMut(&mut dyn Sql) -> Result<(), DbError>) -> Result<(), DbError> {
        let mut client = self.pool()?.get()?;
        f(&mut On(&mut *client))
    }

    fn describe(&self) -> String {
        self.described.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sslmode_and_sslrootcert_are_taken_out_of_the_url() {
        let (url, tls) =
            TlsSettings::from_url("postgres://u@h:5/db?sslmode=verify-full&sslrootcert=%2Ftmp%2Fca.pem&application_name=x")
                .expect("parses");
        assert_eq!(url, "postgres://u@h:5/db?application_name=x");
        assert_eq!(tls.mode, SslMode::VerifyFull);
        assert_eq!(tls.root_cert, Some(PathBuf::from("/tmp/ca.pem")));
        let (url, tls) = TlsSettings::from_url("postgres://u@h/db").expect("parses");
        assert_eq!(
            (url.as_str(), tls.mode),
            ("postgres://u@h/db", SslMode::Disable)
        );
        let (_, tls) =
            TlsSettings::from_url("postgres://u@h/db?sslrootcert=ca.pem&sslmode=require")
                .expect("parses");
        assert_eq!(
            tls.mode,
            SslMode::VerifyCa,
            "libpq: require with a root file verifies"
        );
        let e = TlsSettings::from_url("postgres://u@h/db?sslmode=always").expect_err("bad");
        assert!(e.to_string().contains("verify-full"), "{e}");
    }
}
