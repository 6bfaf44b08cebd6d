//! App benchmark: `cargo run --release -p fieldpost-app-core --example app_bench`
//!
//! The enumerator's core path on the SIPAS questionnaire, against a real demo server on
//! loopback: opening the app's store for the first screen (`app_status` on a fresh device),
//! enrolment (PIN stretching, key, downloads, compiling the questionnaire), opening an interview,
//! and "answer to next question": saving an answer (engine + durable SQLite write) and drawing
//! the next screen, over the whole sample interview. The webview's own share (IPC and
//! rendering) is measured by `tests/e2e/bench.mjs` in the real app.
//!
//! Prints `BENCH <name> <value> <unit>` lines.

use fieldpost_app_core::AppCore;
use fieldpost_proto::app::EnrolRequest;
use std::time::Instant;

fn ms(d: std::time::Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("server.sqlite").display().to_string();
    let data = dir.path().join("server.data");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let (url, report) = fieldpost_server::demo::serve_in(&rt, &db, &data).expect("demo server");
    let code = report
        .lines()
        .find(|l| l.contains("username=enum1 "))
        .and_then(|l| {
            l.split_whitespace()
                .find_map(|w| w.strip_prefix("enrolment_code="))
        })
        .expect("enum1's code")
        .to_string();

    let device = dir.path().join("device");
    let t = Instant::now();
    let core = AppCore::new(&device);
    core.app_status().expect("first screen");
    println!("BENCH app_core_first_screen {:.1} ms", ms(t.elapsed()));

    let t = Instant::now();
    let fingerprint = report
        .lines()
        .find(|l| l.contains("username=enum1 "))
        .and_then(|l| {
            l.split_whitespace()
                .find_map(|w| w.strip_prefix("server_fingerprint="))
        })
        .expect("the server fingerprint")
        .to_string();
    core.enrol(&EnrolRequest {
        server_url: url,
        code,
        server_fingerprint: fingerprint,
        pin: "246810".into(),
    })
    .expect("enrols");
    println!("BENCH app_enrol {:.0} ms", ms(t.elapsed()));

    let list = core.assignments().expect("assignments");
    let first = list
        .groups
        .iter()
        .flat_map(|g| &g.assignments)
        .find(|a| !a.reserve)
        .expect("an official assignment")
        .id;
    let t = Instant::now();
    let screen = core.open_interview(first).expect("opens");
    println!("BENCH app_open_interview {:.1} ms", ms(t.elapsed()));
    let id = screen.interview_id;

    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../assets/forms/sipas/sample-answers.json"
    ))
    .expect("sample answers");
    let steps: Vec<serde_json::Value> = serde_json::from_str(&text).expect("json");
    let mut times = Vec::new();
    for s in &steps {
        let (Some(path), Some(value)) = (s["set"].as_str(), s.get("value")) else {
            continue;
        };
        let t = Instant::now();
        let shown = core.set_answer(id, path, value).expect("saves");
        let next = (shown.index + 1).min(shown.total - 1);
        core.show_screen(id, next).expect("next screen");
        times.push(ms(t.elapsed()));
    }
    times.sort_by(f64::total_cmp);
    println!(
        "BENCH app_answer_to_next_screen_p50 {:.2} ms",
        percentile(&times, 0.5)
    );
    println!(
        "BENCH app_answer_to_next_screen_p99 {:.2} ms",
        percentile(&times, 0.99)
    );
    let t = Instant::now();
    let review = core.review(id).expect("review");
    assert!(review.problems.is_empty(), "{:?}", review.problems);
    core.complete(id).expect("completes");
    println!("BENCH app_review_and_complete {:.1} ms", ms(t.elapsed()));
    let t = Instant::now();
    core.sync(|_| {}).expect("syncs");
    println!("BENCH app_sync_one_interview {:.0} ms", ms(t.elapsed()));
}
