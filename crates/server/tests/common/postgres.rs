//! A real PostgreSQL for tests: initdb + pg_ctl as the `postgres` user in a temporary folder, on
//! a private loopback port, stopped when dropped (also when a test panics).
//!
//! The binaries come from the Debian package `postgresql` (/usr/lib/postgresql/<v>/bin); when
//! they are absent the harness installs the package with apt-get. It never skips: a machine that
//! cannot run PostgreSQL fails the test, so "passed" always means "passed on PostgreSQL".

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;

pub struct Postgres {
    dir: tempfile::TempDir,
    bin: PathBuf,
    pub port: u16,
    /// With [`Postgres::start_with_tls`]: the CA that signed the server's certificate.
    pub ca_cert: Option<PathBuf>,
}

fn find_bin() -> Option<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok())
        .map(|e| e.path().join("bin"))
        .filter(|b| b.join("initdb").is_file() && b.join("pg_ctl").is_file())
        .collect();
    found.sort();
    found.pop()
}

fn install() {
    eprintln!("PostgreSQL binaries not found: installing the Debian package `postgresql`");
    for args in [
        &["update"][..],
        &["install", "-y", "--no-install-recommends", "postgresql"][..],
    ] {
        let status = Command::new("apt-get")
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .status()
            .expect("apt-get runs");
        assert!(
            status.success(),
            "apt-get {args:?} failed; install PostgreSQL by hand"
        );
    }
}

fn as_postgres(cmd: &Path) -> Command {
    let mut c = Command::new("runuser");
    c.args(["-u", "postgres", "--"]).arg(cmd);
    c
}

fn run(mut c: Command, what: &str) {
    let out = c.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        out.status.success(),
        "{what} failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port()
}

impl Postgres {
    pub fn start() -> Postgres {
        Self::start_inner(false)
    }

    /// With `ssl = on` and a certificate for 127.0.0.1 made now (its CA in `ca_cert`).
    pub fn start_with_tls() -> Postgres {
        Self::start_inner(true)
    }

    fn start_inner(tls: bool) -> Postgres {
        let bin = find_bin().unwrap_or_else(|| {
            install();
            find_bin().expect("PostgreSQL binaries after installing the package")
        });
        let dir = tempfile::Builder::new()
            .prefix("fieldpost-pg-")
            .tempdir()
            .expect("temp dir");
        run(
            {
                let mut c = Command::new("chown");
                c.args(["postgres:postgres"]).arg(dir.path());
                c
            },
            "chown",
        );
        let data = dir.path().join("data");
        let mut init = as_postgres(&bin.join("initdb"));
        init.arg("-D").arg(&data).args([
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--no-sync",
        ]);
        run(init, "initdb");
        let mut ca_cert = None;
        let mut ssl_options = String::new();
        if tls {
            // In the folder's root, not in data/ (owned by postgres), so the test can write them;
            // PostgreSQL wants its key owned by itself and unreadable to others.
            let certs = super::certs::make(dir.path(), "postgres");
            for file in [&certs.cert, &certs.key] {
                let mut chown = Command::new("chown");
                chown.arg("postgres:postgres").arg(file);
                run(chown, "chown");
            }
            let mut chmod = Command::new("chmod");
            chmod.arg("600").arg(&certs.key);
            run(chmod, "chmod");
            ssl_options = format!(
                " -c ssl=on -c ssl_cert_file={} -c ssl_key_file={}",
                certs.cert.display(),
                certs.key.display()
            );
            ca_cert = Some(certs.ca);
        }
        let port = free_port();
        let mut start = as_postgres(&bin.join("pg_ctl"));
        start
            .arg("-D")
            .arg(&data)
            .arg("-l")
            .arg(dir.path().join("log"))
            .arg("-o")
            .arg(format!(
                "-p {port} -k {} -c listen_addresses=127.0.0.1 -c max_connections=100{ssl_options}",
                dir.path().display()
            ))
            .args(["-w", "start"]);
        run(start, "pg_ctl start");
        Postgres {
            dir,
            bin,
            port,
            ca_cert,
        }
    }

    /// A fresh, empty database; returns its URL.
    pub fn create_db(&self, name: &str) -> String {
        let mut client = postgres::Client::connect(
            &format!(
                "host=127.0.0.1 port={} user=postgres dbname=postgres",
                self.port
            ),
            postgres::NoTls,
        )
        .expect("connects to the test PostgreSQL");
        client
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .expect("creates the database");
        format!("postgres://postgres@127.0.0.1:{}/{name}", self.port)
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let mut stop = as_postgres(&self.bin.join("pg_ctl"));
        stop.arg("-D")
            .arg(self.dir.path().join("data"))
            .args(["-m", "fast", "-w", "stop"]);
        let _ = stop.output();
    }
}
