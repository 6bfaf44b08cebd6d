//! `--db postgres://...?sslmode=...` against a real PostgreSQL with `ssl = on` and a certificate
//! made for the test: the connection is encrypted when asked (PostgreSQL's own `pg_stat_ssl`
//! says so), verified when asked, and plain when no sslmode is given.

mod common;

use common::postgres::Postgres;
use fieldpost_server::db::{Backend, PostgresBackend, Value};
use fieldpost_server::storage::Storage;

/// Whether PostgreSQL sees this connection as TLS.
fn encrypted(url: &str) -> bool {
    let backend = PostgresBackend::connect(url).expect("connects");
    let mut ssl = None;
    backend
        .read(&mut |sql| {
            let rows = sql.query(
                "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
                &[],
            )?;
            ssl = rows.first().and_then(|r| r.0.first().cloned());
            Ok(())
        })
        .expect("asks pg_stat_ssl");
    match ssl {
        Some(Value::Int(v)) => v == 1,
        other => panic!("pg_stat_ssl.ssl: {other:?}"),
    }
}

#[test]
fn sslmode_require_encrypts_and_verify_full_checks_the_certificate() {
    let pg = Postgres::start_with_tls();
    let ca = pg.ca_cert.clone().expect("a CA");
    let url = pg.create_db("tls_modes");

    assert!(encrypted(&format!("{url}?sslmode=require")), "require: TLS");
    assert!(
        encrypted(&format!(
            "{url}?sslmode=verify-full&sslrootcert={}",
            ca.display()
        )),
        "verify-full against the right CA"
    );
    assert!(
        encrypted(&format!(
            "{url}?sslmode=verify-ca&sslrootcert={}",
            ca.display()
        )),
        "verify-ca against the right CA"
    );
    assert!(!encrypted(&url), "no sslmode: plain, as before");

    // Another CA's root: the server's certificate does not chain to it, so no connection.
    let other = tempfile::tempdir().expect("temp dir");
    let wrong = common::certs::make(other.path(), "other").ca;
    let refused = PostgresBackend::connect(&format!(
        "{url}?sslmode=verify-full&sslrootcert={}",
        wrong.display()
    ));
    assert!(
        refused.is_err(),
        "a certificate from an unknown CA is refused"
    );
    // And the public web roots do not know the test CA either.
    assert!(PostgresBackend::connect(&format!("{url}?sslmode=verify-full")).is_err());

    // The whole server on a TLS connection: migrations and a write go through.
    let storage = Storage::open(&format!("{url}?sslmode=require")).expect("the server's storage");
    assert!(
        storage.describe().contains("sslmode require"),
        "{}",
        storage.describe()
    );
    storage
        .create_survey("tls-check", "TLS check")
        .expect("a write over TLS");
}
