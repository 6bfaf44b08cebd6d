//! A real `fieldpost serve --demo` process and `fieldpost stats`, for the tests that need a
//! server on loopback.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

pub const FIELDPOST: &str = env!("CARGO_BIN_EXE_fieldpost");

/// The server process, stopped when dropped (also when a test fails).
pub struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A started demo server: its address and the enrolment code it printed for `enum1`.
pub struct Demo {
    pub server: Server,
    pub url: String,
    pub enum1_code: Option<String>,
    /// The server key's fingerprint printed beside the codes.
    pub fingerprint: String,
}

/// Starts `fieldpost serve --demo` on `listen` (`127.0.0.1:0` for any free port).
pub fn demo_server(db: &Path, listen: &str) -> Demo {
    let mut child = Command::new(FIELDPOST)
        .args(["serve", "--demo", "--listen", listen, "--db"])
        .arg(db)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("starts fieldpost serve");
    let stdout = child.stdout.take().expect("stdout");
    let server = Server(child);
    let (tx, rx) = mpsc::channel();
    // Reads the listening line, then keeps draining so the server never blocks on its output.
    std::thread::spawn(move || {
        let (mut code, mut fingerprint) = (None, String::new());
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let field = |name: &str| {
                line.split_whitespace()
                    .find_map(|w| w.strip_prefix(name))
                    .map(str::to_string)
            };
            if line.contains("username=enum1 ") {
                code = field("enrolment_code=");
            }
            if let Some(f) = field("fingerprint=") {
                fingerprint = f;
            }
            if let Some(url) = line.strip_prefix("fieldpost serve: listening on ") {
                let _ = tx.send((url.to_string(), code.take(), fingerprint.clone()));
            }
        }
    });
    let (url, enum1_code, fingerprint) = rx
        .recv_timeout(Duration::from_secs(120))
        .expect("the server prints its address");
    Demo {
        server,
        url,
        enum1_code,
        fingerprint,
    }
}

impl Demo {
    /// What the enrol screen sends for `enum1`: this server, its printed code and fingerprint.
    pub fn enrol_request(&self, pin: &str) -> fieldpost_proto::app::EnrolRequest {
        fieldpost_proto::app::EnrolRequest {
            server_url: self.url.clone(),
            code: self
                .enum1_code
                .clone()
                .expect("the demo prints enum1's code"),
            server_fingerprint: self.fingerprint.clone(),
            pin: pin.to_string(),
        }
    }
}

/// A loopback address with a port free now, for a server restarted on the same address.
pub fn free_address() -> String {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    format!("127.0.0.1:{port}")
}

/// `fieldpost stats --db DB` as a map of counts.
pub fn stats(db: &Path) -> BTreeMap<String, i64> {
    let out = Command::new(FIELDPOST)
        .args(["stats", "--db"])
        .arg(db)
        .output()
        .expect("runs fieldpost stats");
    assert!(out.status.success());
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_once(' '))
        .map(|(k, v)| (k.to_string(), v.parse().expect("a count")))
        .collect()
}
