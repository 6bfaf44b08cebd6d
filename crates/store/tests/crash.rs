//! Crash safety, for real: a child process (`src/bin/crash-child.rs`) autosaves
//! answers and reports each one after it commits; this test kills it with
//! SIGKILL at random moments, reopens the store after every kill and checks
//! that every reported answer and completion is there, repeat rows are
//! consistent after row removals, `PRAGMA integrity_check` says ok and no
//! assignment has two interviews.
//!
//! Environment:
//! - `FIELDPOST_CRASH_LONG=1`: 1,000 kills instead of 200;
//! - `FIELDPOST_CRASH_SEED=<n>`: replay a run (the seed is printed);
//! - `FIELDPOST_CRASH_PRODUCTION_KDF=1`: the test store's PIN key at production
//!   strength (Argon2id, `Kdf::PRODUCTION`). The default is the test-only
//!   `common::TEST_KDF`, because the child and this test each unlock once per kill
//!   (2 x 200 unlocks). The production default is asserted in `encryption.rs`.
//!
//! Prints exactly `crash-test: kills=N lost=L corrupt=C`.

mod common;

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::{PIN, VERSION};
use fieldpost_store::{AssignmentKind, InterviewStatus, Store};
use uuid::Uuid;

const CHILD: &str = env!("CARGO_BIN_EXE_crash-child");

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

/// What the child reported in one run.
#[derive(Default)]
struct Reports {
    unlock_ms: Option<f64>,
    saved: Vec<(String, String, u64)>,
    completed: Vec<String>,
    removed: u32,
    done: bool,
}

fn parse(lines: &[String]) -> Reports {
    let mut r = Reports::default();
    for line in lines {
        let parts: Vec<&str> = line.split_whitespace().collect();
        match parts.as_slice() {
            ["UNLOCKED", ms] => r.unlock_ms = ms.parse().ok(),
            ["SAVED", iv, path, n] => r.saved.push((
                iv.to_string(),
                path.to_string(),
                n.parse().expect("counter"),
            )),
            ["COMPLETED", iv] => r.completed.push(iv.to_string()),
            ["REMOVED", _, "members", "0"] => r.removed += 1,
            ["DONE"] => r.done = true,
            _ => panic!("unexpected line from the child: {line:?}"),
        }
    }
    r
}

#[test]
fn sigkill_during_autosave_loses_nothing_reported() {
    let kills_wanted: u32 = if std::env::var("FIELDPOST_CRASH_LONG").as_deref() == Ok("1") {
        1000
    } else {
        200
    };
    let kdf = if std::env::var("FIELDPOST_CRASH_PRODUCTION_KDF").as_deref() == Ok("1") {
        fieldpost_store::crypto::Kdf::PRODUCTION
    } else {
        common::TEST_KDF
    };
    let seed = env_u64("FIELDPOST_CRASH_SEED").unwrap_or_else(|| fastrand::u64(..));
    eprintln!("crash test: seed={seed} kdf={kdf:?} kills={kills_wanted}");
    let mut rng = fastrand::Rng::with_seed(seed);

    // Official assignments for the child to interview, in 30 villages.
    let officials = |n: u32| -> Vec<_> {
        (0..n)
            .map(|k| {
                common::assignment(
                    AssignmentKind::Official,
                    None,
                    &format!("T{:02}", k % 30),
                    "Crash Test",
                )
            })
            .collect()
    };
    // The store is created once; the child reopens it after every kill.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("device.db");
    {
        let mut store = Store::open(&path).unwrap();
        store.set_up_pin_with_kdf(PIN, kdf).unwrap();
        store
            .save_questionnaire(common::FORM, VERSION, r#"{"fields":[]}"#)
            .unwrap();
        store.import_assignments(&officials(kills_wanted)).unwrap();
    }

    let mut expected: HashMap<(String, String), u64> = HashMap::new();
    let mut completed: HashSet<String> = HashSet::new();
    let (mut kills, mut lost, mut corrupt, mut saves) = (0u32, 0u32, 0u32, 0u64);
    let mut removed = 0u32;
    let mut unlock_ms = Vec::new();
    let started = Instant::now();
    let mut run = 0u64;
    while kills < kills_wanted {
        run += 1;
        let mut child = Command::new(CHILD)
            .arg(&path)
            .arg(PIN)
            .arg(run.to_string())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start crash-child");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel::<String>();
        let reader = std::thread::spawn(move || {
            let mut r = BufReader::new(stdout);
            let mut line = String::new();
            // Only whole lines count: a line cut by the kill was never reported.
            while r.read_line(&mut line).unwrap_or(0) > 0 && line.ends_with('\n') {
                let _ = tx.send(line.trim_end().to_string());
                line.clear();
            }
        });
        // Where to kill: 10% during open and unlock, 20% soon after unlock
        // (choosing and starting an interview), 70% in the autosave stream.
        let mut lines = Vec::new();
        let wait_for = match rng.u32(0..10) {
            0 => None,
            1 | 2 => Some("UNLOCKED"),
            _ => Some("SAVED"),
        };
        if let Some(marker) = wait_for {
            let deadline = Instant::now() + Duration::from_secs(120);
            loop {
                let line = rx
                    .recv_timeout(deadline.saturating_duration_since(Instant::now()))
                    .unwrap_or_else(|_| panic!("run {run}: the child never printed {marker}"));
                // DONE: the child finished every assignment; it is given more below.
                let hit = line.starts_with(marker) || line == "DONE";
                lines.push(line);
                if hit {
                    break;
                }
            }
        }
        std::thread::sleep(Duration::from_micros(rng.u64(0..120_000)));
        let still_running = child.try_wait().unwrap().is_none();
        child.kill().unwrap(); // SIGKILL
        let status = child.wait().unwrap();
        reader.join().unwrap();
        lines.extend(rx.try_iter());
        let r = parse(&lines);
        if still_running {
            kills += 1;
        } else if !r.done {
            panic!("the child exited by itself ({status}); its stderr says why");
        }
        let ran_out = r.done;
        unlock_ms.extend(r.unlock_ms);
        let last_counter = r.saved.last().map(|s| s.2).unwrap_or(run * 1_000_000);
        saves += r.saved.len() as u64;
        for (iv, p, n) in r.saved {
            expected.insert((iv, p), n);
        }
        completed.extend(r.completed);
        removed += r.removed;

        // Reopen and check everything reported so far.
        let store = match Store::open(&path).and_then(|mut s| s.unlock(PIN).map(|()| s)) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("run {run}: store does not reopen: {e}");
                corrupt += 1;
                break;
            }
        };
        if let Err(e) = store.integrity_check() {
            eprintln!("run {run}: {e}");
            corrupt += 1;
        }
        // Repeat rows move when one is removed, so their answers are checked
        // for consistency (every row index below the row count, no value in
        // two rows: a half-done renumbering would show) instead of by path.
        expected.retain(|(_, p), _| !p.starts_with("members["));
        for interview in store.interviews().unwrap() {
            let rows = store.repeat_rows(interview.id).unwrap();
            let count = rows.get("members").copied().unwrap_or(0);
            let mut values = HashSet::new();
            for a in store.answers(interview.id).unwrap() {
                let Some(rest) = a.path.strip_prefix("members[") else {
                    continue;
                };
                let row: u32 = rest
                    .split(']')
                    .next()
                    .and_then(|k| k.parse().ok())
                    .unwrap_or(u32::MAX);
                if row >= count || !values.insert(a.value.to_string()) {
                    eprintln!(
                        "run {run}: {} has {} with {count} rows or a repeated value",
                        interview.id, a.path
                    );
                    corrupt += 1;
                }
            }
        }
        let interviews: HashSet<&String> = expected.keys().map(|(iv, _)| iv).collect();
        let mut stored: HashMap<(String, String), u64> = HashMap::new();
        for iv in interviews {
            let id = Uuid::parse_str(iv).unwrap();
            match store.answers(id) {
                Ok(answers) => {
                    for a in answers {
                        let n = a
                            .value
                            .as_str()
                            .and_then(|s| s.strip_prefix('c'))
                            .and_then(|s| s.parse().ok());
                        stored.insert((iv.clone(), a.path), n.unwrap_or(0));
                    }
                }
                Err(e) => {
                    eprintln!("run {run}: answers of {iv}: {e}");
                    corrupt += 1;
                }
            }
        }
        expected.retain(|key, want| match stored.get(key) {
            Some(have) if have == want => true,
            // The save in flight at the kill: committed but not yet reported.
            Some(have) if *have == last_counter + 1 => {
                *want = *have;
                true
            }
            other => {
                eprintln!("run {run}: {key:?} expected c{want}, found {other:?}");
                lost += 1;
                // Count each loss once: from now on expect what is there.
                match other {
                    Some(have) => {
                        *want = *have;
                        true
                    }
                    None => false,
                }
            }
        });
        for iv in &completed {
            let status = store
                .interview(Uuid::parse_str(iv).unwrap())
                .map(|i| i.status);
            if !matches!(status, Ok(InterviewStatus::Completed)) {
                eprintln!("run {run}: interview {iv} reported completed, is {status:?}");
                lost += 1;
            }
        }
        drop(store);
        let raw = rusqlite::Connection::open(&path).unwrap();
        let duplicated: i64 = raw
            .query_row(
                "SELECT count(*) FROM (SELECT assignment_id FROM interview GROUP BY 1 HAVING count(*) > 1)",
                [],
                |r| r.get(0),
            )
            .unwrap();
        if duplicated > 0 {
            eprintln!("run {run}: {duplicated} assignments have several interviews");
            corrupt += 1;
        }
        drop(raw);
        if ran_out {
            // A fast disk finished every assignment before the kill came: give the child more
            // work (this run was checked like the others, but is not a kill).
            let mut store = Store::open(&path).unwrap();
            store.unlock(PIN).unwrap();
            store.import_assignments(&officials(kills_wanted)).unwrap();
        }
    }
    unlock_ms.sort_by(f64::total_cmp);
    eprintln!(
        "crash test: {saves} reported autosaves, {removed} repeat rows removed, {} interviews completed, median child unlock {:.0} ms, {:.0} s in all",
        completed.len(),
        unlock_ms.get(unlock_ms.len() / 2).copied().unwrap_or(0.0),
        started.elapsed().as_secs_f64()
    );
    // Written to the real stdout, past the test harness's capture.
    let _ = writeln!(
        std::io::stdout().lock(),
        "crash-test: kills={kills} lost={lost} corrupt={corrupt}"
    );
    assert_eq!((lost, corrupt), (0, 0), "seed {seed}");
    assert!(
        saves >= 2 * u64::from(kills),
        "only {saves} autosaves were reported: the kills did not land in the autosave stream"
    );
    assert!(!completed.is_empty(), "no interview reached completion");
    assert!(removed > 0, "no repeat row was removed");
}
