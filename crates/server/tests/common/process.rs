//! The server as a real process (the `fieldpost-server` binary), and a TCP proxy that cuts
//! connections on purpose.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

pub struct ServerProcess {
    child: Child,
    pub port: u16,
    db: String,
    data_dir: PathBuf,
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port()
}

impl ServerProcess {
    /// Starts `fieldpost-server --demo` and waits until it listens.
    pub fn start(db: &str, data_dir: &Path, port: u16) -> ServerProcess {
        let mut child = Command::new(env!("CARGO_BIN_EXE_fieldpost-server"))
            .args([
                "--db",
                db,
                "--listen",
                &format!("127.0.0.1:{port}"),
                "--demo",
                "--data-dir",
            ])
            .arg(data_dir)
            // One log line per request would drown the test output: warnings and errors only,
            // unless RUST_LOG says otherwise.
            .env(
                "RUST_LOG",
                std::env::var("RUST_LOG").unwrap_or_else(|_| "warn".into()),
            )
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the server starts");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        loop {
            match lines.next() {
                Some(Ok(line)) if line.contains("listening on") => break,
                Some(Ok(_)) => continue,
                _ => panic!("the server exited before listening: {:?}", child.wait()),
            }
        }
        // Keep draining stdout so the server never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        ServerProcess {
            child,
            port,
            db: db.to_string(),
            data_dir: data_dir.to_path_buf(),
        }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The server's process id (its memory is read from /proc/PID/status).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGKILL: no shutdown, no flush; whatever was not committed is lost, as in a power cut
    /// of the process.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    pub fn restart(&mut self) {
        self.kill();
        *self = ServerProcess::start(&self.db.clone(), &self.data_dir.clone(), self.port);
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A TCP proxy in front of the server that cuts a share of connections at a random byte,
/// either way: mid-upload (the server never gets the whole batch) or mid-answer (the server
/// ingested the batch, the device never hears so).
pub struct CuttingProxy {
    pub port: u16,
    stop: Arc<AtomicBool>,
    pub cuts: Arc<AtomicU64>,
}

impl CuttingProxy {
    pub fn start(upstream: u16, cut_share: f64, seed: u64) -> CuttingProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("proxy binds");
        let port = listener.local_addr().expect("address").port();
        let stop = Arc::new(AtomicBool::new(false));
        let cuts = Arc::new(AtomicU64::new(0));
        let (stop2, cuts2) = (stop.clone(), cuts.clone());
        std::thread::spawn(move || {
            let mut rng = fastrand::Rng::with_seed(seed);
            for conn in listener.incoming() {
                if stop2.load(Ordering::Relaxed) {
                    break;
                }
                let Ok(client) = conn else { continue };
                let Ok(server) = TcpStream::connect(("127.0.0.1", upstream)) else {
                    let _ = client.shutdown(Shutdown::Both);
                    continue;
                };
                // Cut after a random number of bytes in one direction, for a share of connections.
                let cut = rng.f64() < cut_share;
                let (up_limit, down_limit) = match (cut, rng.bool()) {
                    (false, _) => (u64::MAX, u64::MAX),
                    (true, true) => (rng.u64(1..4000), u64::MAX),
                    (true, false) => (u64::MAX, rng.u64(1..300)),
                };
                if cut {
                    cuts2.fetch_add(1, Ordering::Relaxed);
                }
                pipe(&client, &server, up_limit);
                pipe(&server, &client, down_limit);
            }
        });
        CuttingProxy { port, stop, cuts }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for CuttingProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

/// Copies `from` to `to` until EOF or `limit` bytes, then closes both sockets.
fn pipe(from: &TcpStream, to: &TcpStream, limit: u64) {
    let (Ok(mut from), Ok(mut to)) = (from.try_clone(), to.try_clone()) else {
        return;
    };
    std::thread::spawn(move || {
        let _ = from.set_read_timeout(Some(Duration::from_secs(30)));
        let mut buf = [0u8; 8192];
        let mut sent = 0u64;
        loop {
            let n = match from.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            let allowed = (limit - sent).min(n as u64) as usize;
            if to.write_all(&buf[..allowed]).is_err() {
                break;
            }
            sent += allowed as u64;
            if sent >= limit {
                break;
            }
        }
        let _ = to.shutdown(Shutdown::Both);
        let _ = from.shutdown(Shutdown::Both);
    });
}
