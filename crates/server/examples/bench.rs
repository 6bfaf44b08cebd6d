//! Ingest benchmark: `cargo run --release -p fieldpost-server --example bench [RUNS]`
//!
//! Measures the server alone, at the batch sizes devices really send:
//! - a real server in-process (`demo::serve_in`: the same router and accept loop as
//!   `fieldpost serve`) on loopback HTTP, on SQLite and on a real PostgreSQL (started for the
//!   run, as the tests do);
//! - for each run, 16 fresh devices (enumerator account, assignments, enrolled device) and every
//!   batch sealed with `fieldpost-seal` BEFORE the clock starts, so sealing, the device store and
//!   the sync client's bookkeeping are not timed;
//! - then 16 concurrent clients (tokio tasks, one per device, each uploading its batches one
//!   after the other as a device does) POST them to `/device/batches`; the clock stops when every
//!   batch is acknowledged. The client does NOT verify the server's reply signatures
//!   (`http/sign.rs`): it measures the server, and the devices' check is tested elsewhere. It
//!   does check every reply is a 200 acknowledgement, and afterwards that the database holds
//!   exactly the interviews sent.
//!
//! Prints, per figure, the median of RUNS runs (default 5) and their spread:
//! `BENCH ingest_sqlite_batch1 <median> interviews/s`, then
//! `BENCH ingest_sqlite_batch1_spread <max - min> interviews/s` and a line with every run;
//! the same for `ingest_sqlite_batch10` and `ingest_postgres_batch10`. First, `BENCH
//! answer_check <n> interviews/s`: ingest's check of answers against the compiled form, alone.

#[path = "../tests/common/certs.rs"]
mod certs;
#[allow(dead_code)] // the TLS variant is for the tests
#[path = "../tests/common/postgres.rs"]
mod postgres_harness;

use chrono::Utc;
use fieldpost_proto::v1::{Assignment, BatchPayload, InterviewRecord, Role};
use fieldpost_seal::{DeviceSigningKey, InterviewSummary, Recipient, SealInput};
use fieldpost_server::storage::{NewAssignment, NewDevice, Storage};
use std::path::Path;
use std::time::Instant;
use uuid::Uuid;

/// Concurrent clients (devices uploading at once).
const CLIENTS: usize = 16;

/// One device's sealed batches and its token.
struct Device {
    token: String,
    batches: Vec<Vec<u8>>,
}

fn sample_answers() -> Vec<(String, serde_json::Value)> {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../../assets/forms");
    let steps: Vec<serde_json::Value> = serde_json::from_str(
        &std::fs::read_to_string(format!("{root}/sipas/sample-answers.json")).expect("answers"),
    )
    .expect("JSON");
    steps
        .iter()
        .filter_map(|s| Some((s.get("set")?.as_str()?.to_string(), s.get("value")?.clone())))
        .collect()
}

/// Creates `CLIENTS` devices with `per_device` assignments each, and seals their interviews in
/// batches of `batch` (not timed).
fn prepare(storage: &Storage, run: &str, per_device: usize, batch: usize) -> Vec<Device> {
    let survey = storage
        .surveys()
        .expect("surveys")
        .into_iter()
        .find(|s| s.code == fieldpost_server::demo::DEMO_SURVEY)
        .expect("demo survey");
    let recipients: Vec<Recipient> = storage
        .recipients(survey.id)
        .expect("recipients")
        .iter()
        .map(|r| r.public_key.parse().expect("recipient key"))
        .collect();
    // A real place from the demo sample, so the interviews pass ingest's checks.
    let enum1 = storage
        .account_by_username("enum1")
        .expect("reads")
        .expect("demo enumerator");
    let place: Assignment = storage
        .assignments_for(survey.id, enum1.id)
        .expect("assignments")
        .into_iter()
        .find(|a| !a.reserve)
        .expect("an official assignment");
    let template = sample_answers();
    let password = "not-used-by-the-bench";
    let mut out = Vec::with_capacity(CLIENTS);
    for d in 0..CLIENTS {
        let username = format!("bench{run}d{d}");
        let account = storage
            .create_account(&username, password, Role::Enumerator, None)
            .expect("account");
        let rows: Vec<NewAssignment> = (0..per_device)
            .map(|i| NewAssignment {
                code: format!("B{run}-{d}-{i}"),
                reserve: false,
                reserve_for: None,
                province: place.province.clone(),
                commune: place.commune.clone(),
                village: place.village.clone(),
                stratum: place.stratum.clone(),
                enumerator: username.clone(),
            })
            .collect();
        storage
            .insert_assignments(survey.id, &rows)
            .expect("assignments");
        let assignments = storage
            .assignments_for(survey.id, account.id)
            .expect("assignments");
        let key = DeviceSigningKey::generate().expect("device key");
        let device_id = Uuid::now_v7();
        let code = fieldpost_server::auth::new_enrolment_code().expect("code");
        let code_hash = fieldpost_server::auth::token_hash(&code);
        storage
            .create_enrolment_code(
                &code_hash,
                survey.id,
                account.id,
                Utc::now() + chrono::Duration::hours(1),
            )
            .expect("enrolment code");
        let token = fieldpost_server::auth::new_token(fieldpost_server::auth::DEVICE_PREFIX)
            .expect("token");
        storage
            .enrol(
                &code_hash,
                &NewDevice {
                    id: device_id,
                    public_key: key.public_key().to_string(),
                    token_hash: fieldpost_server::auth::token_hash(&token),
                },
                Utc::now(),
            )
            .expect("enrols")
            .expect("code accepted");
        let mut batches = Vec::new();
        for (n, chunk) in assignments.chunks(batch).enumerate() {
            let now = Utc::now();
            let mut summaries = Vec::with_capacity(chunk.len());
            let mut records = Vec::with_capacity(chunk.len());
            for a in chunk {
                let interview_id = Uuid::now_v7();
                let answers: serde_json::Map<String, serde_json::Value> = template
                    .iter()
                    .map(|(path, v)| {
                        let v = if path.ends_with("/tinh") {
                            a.province.clone().into()
                        } else if path.ends_with("/xa") {
                            a.commune.clone().into()
                        } else {
                            v.clone()
                        };
                        (path.clone(), v)
                    })
                    .collect();
                // Per-question timestamps, about the size the app records.
                let paradata: Vec<serde_json::Value> = template
                    .iter()
                    .map(|(path, _)| serde_json::json!({"path": path, "at": now}))
                    .collect();
                summaries.push(InterviewSummary {
                    interview_id,
                    province: a.province.clone(),
                    commune: a.commune.clone(),
                    stratum: a.stratum.clone(),
                    status: "completed".into(),
                    enumerator_id: account.id,
                    questionnaire_version: fieldpost_server::demo::DEMO_QUESTIONNAIRE_VERSION
                        .into(),
                });
                records.push(InterviewRecord {
                    interview_id,
                    assignment_id: a.id,
                    questionnaire_version: fieldpost_server::demo::DEMO_QUESTIONNAIRE_VERSION
                        .into(),
                    enumerator_id: account.id,
                    status: "completed".into(),
                    started_at: now - chrono::Duration::minutes(20),
                    ended_at: now,
                    answers,
                    paradata: paradata.into(),
                });
            }
            let payload = serde_json::to_vec(&BatchPayload {
                interviews: records,
            })
            .expect("payload");
            let sealed = fieldpost_seal::seal(
                &SealInput {
                    batch_id: Uuid::now_v7(),
                    device_id,
                    sequence: n as u64 + 1,
                    created_at: now,
                    interviews: &summaries,
                    payload: &payload,
                },
                &key,
                &recipients,
            )
            .expect("seals");
            batches.push(sealed);
        }
        out.push(Device { token, batches });
    }
    out
}

/// Uploads every device's batches, one client per device, all at once; returns the seconds
/// from the first request to the last acknowledgement.
fn upload(client_rt: &tokio::runtime::Runtime, url: &str, devices: Vec<Device>) -> f64 {
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(CLIENTS)
        .build()
        .expect("client");
    client_rt.block_on(async {
        let started = Instant::now();
        let tasks: Vec<_> = devices
            .into_iter()
            .map(|d| {
                let http = http.clone();
                let target = format!("{url}/api/v1/device/batches");
                tokio::spawn(async move {
                    for b in d.batches {
                        let resp = http
                            .post(&target)
                            .bearer_auth(&d.token)
                            .header("content-type", "application/octet-stream")
                            .body(b)
                            .send()
                            .await
                            .expect("uploads");
                        let status = resp.status();
                        let body = resp.bytes().await.expect("reply");
                        assert!(
                            status.is_success(),
                            "HTTP {status}: {}",
                            String::from_utf8_lossy(&body)
                        );
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await.expect("client task");
        }
        started.elapsed().as_secs_f64()
    })
}

fn interviews_stored(storage: &Storage) -> i64 {
    storage
        .stats()
        .expect("stats")
        .into_iter()
        .find(|(k, _)| k == "interviews")
        .map_or(0, |(_, v)| v)
}

/// One figure: `runs` runs of `CLIENTS` devices x `per_device` interviews in batches of
/// `batch`; prints the median, the spread and every run.
fn figure(name: &str, db: &str, data: &Path, batch: usize, per_device: usize, runs: usize) {
    let server_rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let client_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let (url, _) = fieldpost_server::demo::serve_in(&server_rt, db, data).expect("demo server");
    let storage = Storage::open(db).expect("opens");
    let mut rates = Vec::with_capacity(runs);
    for run in 0..runs {
        let devices = prepare(&storage, &format!("{name}r{run}"), per_device, batch);
        let sent = CLIENTS * per_device;
        let before = interviews_stored(&storage);
        let seconds = upload(&client_rt, &url, devices);
        let stored = interviews_stored(&storage) - before;
        assert_eq!(
            stored as usize, sent,
            "the server holds exactly the interviews sent"
        );
        rates.push(sent as f64 / seconds);
    }
    rates.sort_by(f64::total_cmp);
    let median = rates[rates.len() / 2];
    let (min, max) = (rates[0], rates[rates.len() - 1]);
    println!(
        "{name}: {runs} runs of {CLIENTS} clients x {per_device} interviews in batches of \
         {batch}: {:?} interviews/s",
        rates.iter().map(|r| r.round() as i64).collect::<Vec<_>>()
    );
    println!("BENCH {name} {median:.0} interviews/s");
    println!(
        "BENCH {name}_spread {:.0} interviews/s (min {min:.0}, max {max:.0})",
        max - min
    );
    server_rt.shutdown_background();
    client_rt.shutdown_background();
}

/// The ingest answer check alone: SIPAS sample interviews against the compiled SIPAS form, the
/// way ingest runs it (form parsed once, then one check per interview).
fn answer_check(interviews: usize) {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../../assets/forms");
    let xlsx = std::fs::read(format!("{root}/sipas-2024.xlsx")).expect("SIPAS workbook");
    let (json, _) = fieldpost_server::questionnaire::compile(&xlsx).expect("compiles");
    let form = fieldpost_form::Form::from_json(&json).expect("compiled form");
    let checker = fieldpost_server::answers::AnswerChecker::new(form);
    let answers: serde_json::Map<String, serde_json::Value> =
        sample_answers().into_iter().collect();
    let started = std::time::Instant::now();
    for _ in 0..interviews {
        checker.check(&answers).expect("valid");
    }
    let per_second = interviews as f64 / started.elapsed().as_secs_f64();
    println!("BENCH answer_check {per_second:.0} interviews/s");
}

fn main() {
    let runs = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(5usize)
        .max(1);
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!("load average at start: {}", load.trim());
    answer_check(10_000);
    let dir = tempfile::tempdir().expect("temp dir");
    let sqlite = |n: &str| dir.path().join(format!("{n}.sqlite")).display().to_string();
    figure(
        "ingest_sqlite_batch1",
        &sqlite("b1"),
        &dir.path().join("b1.data"),
        1,
        100,
        runs,
    );
    figure(
        "ingest_sqlite_batch10",
        &sqlite("b10"),
        &dir.path().join("b10.data"),
        10,
        300,
        runs,
    );
    let pg = postgres_harness::Postgres::start();
    figure(
        "ingest_postgres_batch10",
        &pg.create_db("bench"),
        &dir.path().join("pg.data"),
        10,
        300,
        runs,
    );
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!("load average at end: {}", load.trim());
}
