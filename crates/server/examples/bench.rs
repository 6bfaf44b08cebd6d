//! Ingest benchmark: `cargo run --release -p fieldpost-server --example bench [DEVICES INTERVIEWS]`
//!
//! For SQLite and for a real PostgreSQL (started for the run, as the tests do): a `--demo` server
//! on loopback, then the device simulator (real store, seal and sync code) with DEVICES devices
//! of INTERVIEWS interviews each (default 20 x 1,000, the figure). Prints
//! `BENCH ingest_<backend> <n> interviews/s` (upload phase: all devices uploading at once, until
//! every batch is acknowledged), `BENCH sealed_bytes_per_interview <n> bytes`, and checks that the
//! server holds exactly the interviews the devices completed. First, `BENCH answer_check <n>
//! interviews/s`: ingest's check of answers against the compiled form, alone.

#[path = "../tests/common/postgres.rs"]
mod postgres_harness;

use fieldpost_app_core::sync::simulate::{SimConfig, simulate};
use std::path::Path;

fn run(backend: &str, db: String, dir: &Path, devices: usize, interviews: usize) {
    let data = dir.join(format!("{backend}.data"));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let (url, _) = fieldpost_server::demo::serve_in(&rt, &db, &data).expect("demo server");
    let shm = Path::new("/dev/shm");
    let work = if shm.is_dir() {
        shm.join(format!("fieldpost-bench-{backend}-{}", std::process::id()))
    } else {
        dir.join("devices")
    };
    let cfg = SimConfig {
        server: url.clone(),
        devices,
        interviews,
        seed: 1,
        work_dir: work.clone(),
        form_dir: concat!(env!("CARGO_MANIFEST_DIR"), "/../../assets/forms/sipas").into(),
        upload_server: None,
        backoff: None,
    };
    let report = simulate(&cfg).expect("simulates");
    let _ = std::fs::remove_dir_all(&work);
    let stats: std::collections::BTreeMap<String, i64> =
        fieldpost_server::storage::Storage::open(&db)
            .expect("opens")
            .stats()
            .expect("stats")
            .into_iter()
            .collect();
    assert_eq!(
        stats["interviews"], report.completed as i64,
        "server holds exactly the completed interviews"
    );
    assert_eq!(report.acked, report.completed);
    println!(
        "simulate: devices={} completed={} acked={} seconds={:.1} (upload {:.2} s)",
        report.devices, report.completed, report.acked, report.seconds, report.upload_seconds
    );
    println!(
        "BENCH ingest_{backend} {:.0} interviews/s",
        report.interviews_per_second()
    );
    println!(
        "BENCH sealed_bytes_per_interview_{backend} {:.0} bytes",
        report.sealed_bytes_per_interview()
    );
    rt.shutdown_background();
}

/// The ingest answer check alone: SIPAS sample interviews against the compiled SIPAS form, the
/// way ingest runs it (form parsed once, then one check per interview).
fn answer_check(interviews: usize) {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../../assets/forms");
    let xlsx = std::fs::read(format!("{root}/sipas-2024.xlsx")).expect("SIPAS workbook");
    let (json, _) = fieldpost_server::questionnaire::compile(&xlsx).expect("compiles");
    let form = fieldpost_form::Form::from_json(&json).expect("compiled form");
    let checker = fieldpost_server::answers::AnswerChecker::new(form);
    let steps: Vec<serde_json::Value> = serde_json::from_str(
        &std::fs::read_to_string(format!("{root}/sipas/sample-answers.json")).expect("answers"),
    )
    .expect("JSON");
    let answers: serde_json::Map<String, serde_json::Value> = steps
        .iter()
        .filter_map(|s| Some((s.get("set")?.as_str()?.to_string(), s.get("value")?.clone())))
        .collect();
    let started = std::time::Instant::now();
    for _ in 0..interviews {
        checker.check(&answers).expect("valid");
    }
    let per_second = interviews as f64 / started.elapsed().as_secs_f64();
    println!("BENCH answer_check {per_second:.0} interviews/s");
}

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let devices = args.first().copied().unwrap_or(20);
    let interviews = args.get(1).copied().unwrap_or(1000);
    answer_check(devices * interviews);
    let dir = tempfile::tempdir().expect("temp dir");
    run(
        "sqlite",
        dir.path().join("bench.sqlite").display().to_string(),
        dir.path(),
        devices,
        interviews,
    );
    let pg = postgres_harness::Postgres::start();
    run(
        "postgres",
        pg.create_db("bench"),
        dir.path(),
        devices,
        interviews,
    );
}
