//! `fieldpost simulate` against a real `fieldpost serve --demo` process, then `fieldpost stats`
//! on the server's database: the counts the server reports are the simulator's, exactly.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

const FIELDPOST: &str = env!("CARGO_BIN_EXE_fieldpost");

/// The server process, stopped when the test ends (also on failure).
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_demo_server(db: &std::path::Path) -> (Server, String) {
    let mut child = Command::new(FIELDPOST)
        .args(["serve", "--demo", "--listen", "127.0.0.1:0", "--db"])
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
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(url) = line.strip_prefix("fieldpost serve: listening on ") {
                let _ = tx.send(url.to_string());
            }
        }
    });
    let url = rx
        .recv_timeout(Duration::from_secs(120))
        .expect("the server prints its address");
    (server, url)
}

/// `key=value` pairs of the `simulate:` line.
fn simulate_line(stdout: &str) -> BTreeMap<String, String> {
    let line = stdout
        .lines()
        .find(|l| l.starts_with("simulate: "))
        .unwrap_or_else(|| panic!("no simulate: line in {stdout}"));
    line["simulate: ".len()..]
        .split_whitespace()
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn simulator_counts_match_the_servers_stats() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("server.sqlite");
    let (server, url) = start_demo_server(&db);

    let (devices, interviews) = (3, 25);
    let sim = Command::new(FIELDPOST)
        .args(["simulate", "--server", &url, "--seed", "7"])
        .args(["--devices", &devices.to_string()])
        .args(["--interviews", &interviews.to_string()])
        .arg("--work-dir")
        .arg(dir.path().join("devices"))
        .output()
        .expect("runs fieldpost simulate");
    let stdout = String::from_utf8_lossy(&sim.stdout);
    assert!(
        sim.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&sim.stderr)
    );
    let line = simulate_line(&stdout);
    let completed: i64 = line["completed"].parse().expect("completed");
    let acked: i64 = line["acked"].parse().expect("acked");
    assert_eq!(line["devices"], devices.to_string());
    assert_eq!(completed, devices * interviews);
    assert_eq!(acked, completed);

    let stats = Command::new(FIELDPOST)
        .args(["stats", "--db"])
        .arg(&db)
        .output()
        .expect("runs fieldpost stats");
    assert!(stats.status.success());
    drop(server);
    let counts: BTreeMap<String, i64> = String::from_utf8_lossy(&stats.stdout)
        .lines()
        .filter_map(|l| l.split_once(' '))
        .map(|(k, v)| (k.to_string(), v.parse().expect("a count")))
        .collect();
    assert_eq!(counts["interviews"], acked, "{counts:?}");
    assert_eq!(counts["interviews_completed"], completed, "{counts:?}");
    assert_eq!(counts["devices"], devices, "{counts:?}");
    // Valid SIPAS answers pass every ingest check: nothing was refused on the way.
    assert_eq!(counts["incidents"], 0, "{counts:?}");
}
