//! `fieldpost simulate` against a real `fieldpost serve --demo` process, then `fieldpost stats`
//! on the server's database: the counts the server reports are the simulator's, exactly.

mod common;

use common::{FIELDPOST, demo_server, stats};
use std::collections::BTreeMap;
use std::process::Command;

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
    let demo = demo_server(&db, "127.0.0.1:0");
    let url = demo.url.clone();

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

    let counts = stats(&db);
    drop(demo);
    assert_eq!(counts["interviews"], acked, "{counts:?}");
    assert_eq!(counts["interviews_completed"], completed, "{counts:?}");
    assert_eq!(counts["devices"], devices, "{counts:?}");
    // Valid SIPAS answers pass every ingest check: nothing was refused on the way.
    assert_eq!(counts["incidents"], 0, "{counts:?}");
}
