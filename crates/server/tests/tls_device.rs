//! HTTPS end to end: `fieldpost-server --tls-cert --tls-key` as a real process on 127.0.0.1 with
//! a certificate made at test time, and devices (the app core's simulator: enrolment through the
//! app's `Server`, upload through `SyncClient`) that trust the test CA through
//! `FIELDPOST_CA_CERT`. Plain http:// to another machine is refused before any connection.
//!
//! One test in this file on purpose: it sets an environment variable, which is only sound while
//! no other thread of the process reads the environment.

mod common;

use common::process::free_port;
use common::stats;
use fieldpost_app_core::http::{CA_CERT_ENV, UrlError};
use fieldpost_app_core::sync::simulate::{SimConfig, SimError, simulate};
use fieldpost_proto::app::{EnrolRequest, ErrorCode};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The server process, killed when dropped (also when the test fails).
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `fieldpost-server --demo` with TLS and returns it with the line it printed.
fn start_https(db: &str, data_dir: &Path, cert: &Path, key: &Path) -> (Killed, String) {
    let port = free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_fieldpost-server"))
        .args([
            "--db",
            db,
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--demo",
        ])
        .arg("--data-dir")
        .arg(data_dir)
        .arg("--tls-cert")
        .arg(cert)
        .arg("--tls-key")
        .arg(key)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("the server starts");
    let stdout = child.stdout.take().expect("stdout");
    let server = Killed(child);
    let mut lines = BufReader::new(stdout).lines();
    let listening = loop {
        match lines.next() {
            Some(Ok(line)) if line.contains("listening on") => break line,
            Some(Ok(_)) => continue,
            _ => panic!("the server exited before listening"),
        }
    };
    std::thread::spawn(move || for _ in lines {});
    (server, listening)
}

fn sim(server: &str, work: &Path) -> SimConfig {
    SimConfig {
        server: server.to_string(),
        devices: 2,
        interviews: 3,
        seed: 12,
        work_dir: work.to_path_buf(),
        form_dir: concat!(env!("CARGO_MANIFEST_DIR"), "/../../assets/forms/sipas").into(),
        upload_server: None,
        backoff: None,
    }
}

#[test]
fn devices_enrol_and_upload_over_https_and_refuse_plain_http_to_other_machines() {
    let dir = tempfile::tempdir().expect("temp dir");
    let certs = common::certs::make(dir.path(), "serve");
    let db = dir.path().join("server.sqlite").display().to_string();
    let (_server, listening) = start_https(&db, &dir.path().join("data"), &certs.cert, &certs.key);
    let url = listening
        .strip_prefix("fieldpost serve: listening on ")
        .expect("the listening line")
        .to_string();
    assert!(url.starts_with("https://127.0.0.1:"), "{listening}");

    // Without the CA the device does not trust the certificate: nothing is sent.
    let untrusted = simulate(&sim(&url, &dir.path().join("untrusted")));
    assert!(untrusted.is_err(), "a certificate from an unknown CA");
    assert_eq!(stats(&db).get("interviews").copied().unwrap_or(0), 0);

    // SAFETY: this is the only test of this binary, and no thread of it runs now (the failed
    // simulation above has returned, its runtime is gone), so nothing reads the environment
    // while it is written.
    unsafe { std::env::set_var(CA_CERT_ENV, &certs.ca) };
    let report = simulate(&sim(&url, &dir.path().join("devices"))).expect("enrols and uploads");
    assert_eq!(report.completed, 6);
    assert_eq!(report.acked, report.completed, "{report:?}");
    assert_eq!(stats(&db)["interviews"], 6);

    // Plain http:// to an address that is not this machine: refused before any connection,
    // with what to do (192.0.2.1 is a documentation address; nothing is sent to it).
    let started = Instant::now();
    let refused = simulate(&sim("http://192.0.2.1:8080", &dir.path().join("lan")))
        .expect_err("plain http to another machine");
    assert!(
        matches!(refused, SimError::Url(UrlError::Insecure(_))),
        "{refused}"
    );
    assert!(refused.to_string().contains("https://"), "{refused}");
    let core = fieldpost_app_core::AppCore::new(dir.path().join("app"));
    let e = core
        .enrol(&EnrolRequest {
            server_url: "http://192.0.2.1:8080".into(),
            code: "ABCD-EFGH".into(),
            server_fingerprint: String::new(),
            pin: "246810".into(),
        })
        .expect_err("plain http to another machine");
    assert_eq!(e.code, ErrorCode::InsecureServerUrl, "{e}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "refused without trying to connect"
    );
}
