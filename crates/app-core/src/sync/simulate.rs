//! A fleet of simulated enumerators' devices, for load tests and benchmarks
//! (`fieldpost simulate`). Each device is the real thing apart from the person: a real store
//! file, a real Ed25519 key, interviews answered and completed through the store, sealed with
//! `fieldpost-seal`, uploaded by [`SyncClient`]. Only the answers are random (drawn from the
//! SIPAS questionnaire's own choice lists, so they are valid answers).
//!
//! Against a `fieldpost serve --demo` server it needs nothing else: it signs in as the demo
//! admin, creates one enumerator account per device and a sample of official assignments for
//! them in the demo provinces, and hands each device an enrolment code.

use super::{BatchSizer, SyncClient, SyncError};
use crate::server::{Server, Trust};
use fieldpost_proto::v1::*;
use fieldpost_seal::{DeviceSigningKey, Recipient};
use fieldpost_store::Store;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};
use thiserror::Error;
use uuid::Uuid;

/// The demo server's admin (printed by `fieldpost serve --demo`; public on purpose).
pub const DEMO_ADMIN: (&str, &str) = ("admin", "fieldpost-demo-admin");
/// Code of the demo survey.
pub const DEMO_SURVEY: &str = "sipas-2024-demo";
/// Form id and version the SIPAS questionnaire declares in its settings sheet.
pub const FORM_ID: &str = "sipas_household";
pub const FORM_VERSION: &str = "2024.1";

#[derive(Debug, Clone)]
pub struct SimConfig {
    pub server: String,
    pub devices: usize,
    pub interviews: usize,
    pub seed: u64,
    /// Folder for the devices' store files (a RAM disk keeps the simulator from measuring
    /// its own fsyncs).
    pub work_dir: PathBuf,
    /// The SIPAS choice lists (`assets/forms/sipas/choices.csv`) and a valid interview
    /// (`sample-answers.json`), from which random valid answers are drawn.
    pub form_dir: PathBuf,
    /// Where devices upload, when not `server` (a fault-injecting proxy in the tests).
    pub upload_server: Option<String>,
    /// Retry policy of the devices' sync; `None`: the app's default.
    pub backoff: Option<super::Backoff>,
}

/// What a simulation did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SimReport {
    pub devices: usize,
    pub completed: u64,
    pub acked: u64,
    /// Whole run, wall clock.
    pub seconds: f64,
    /// Upload phase only (all devices uploading at once): the ingest throughput window.
    pub upload_seconds: f64,
    pub sealed_bytes: u64,
    pub retries: u32,
}

impl SimReport {
    pub fn interviews_per_second(&self) -> f64 {
        if self.upload_seconds > 0.0 {
            self.acked as f64 / self.upload_seconds
        } else {
            0.0
        }
    }
    pub fn sealed_bytes_per_interview(&self) -> f64 {
        if self.completed > 0 {
            self.sealed_bytes as f64 / self.completed as f64
        } else {
            0.0
        }
    }
}

#[derive(Debug, Error)]
pub enum SimError {
    #[error("server {0}")]
    Api(String),
    #[error("device store: {0}")]
    Store(#[from] fieldpost_store::StoreError),
    #[error(transparent)]
    Sync(#[from] SyncError),
    #[error("{0}")]
    Setup(String),
    #[error("--server: {0}")]
    Url(#[from] crate::http::UrlError),
}

fn api_err(e: impl std::fmt::Display) -> SimError {
    SimError::Api(e.to_string())
}

/// A blocking-style JSON client over reqwest, for the set-up calls.
struct Admin {
    http: reqwest::Client,
    base: String,
    token: String,
}

async fn send<T: serde::de::DeserializeOwned>(req: reqwest::RequestBuilder) -> Result<T, SimError> {
    let resp = req.send().await.map_err(api_err)?;
    let status = resp.status();
    let body = resp.bytes().await.map_err(api_err)?;
    if !status.is_success() {
        return Err(match serde_json::from_slice::<ApiError>(&body) {
            Ok(e) => SimError::Api(e.to_string()),
            Err(_) => SimError::Api(format!("HTTP {status}")),
        });
    }
    serde_json::from_slice(&body).map_err(api_err)
}

/// One device's instructions from the set-up.
struct Plan {
    index: usize,
    username: String,
    code: String,
    /// The server key's fingerprint, as printed beside the code: the device checks it.
    fingerprint: String,
}

/// Runs the simulation and reports; the caller prints the summary line.
pub fn simulate(cfg: &SimConfig) -> Result<SimReport, SimError> {
    let started = Instant::now();
    // The devices' own rule, checked before the admin set-up contacts anything.
    for url in std::iter::once(&cfg.server).chain(cfg.upload_server.as_ref()) {
        crate::http::check_server_url(url)?;
    }
    let answers = AnswerSource::load(&cfg.form_dir)?;
    std::fs::create_dir_all(&cfg.work_dir)
        .map_err(|e| SimError::Setup(format!("{}: {e}", cfg.work_dir.display())))?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| SimError::Setup(e.to_string()))?;
    let plans = rt.block_on(set_up(cfg))?;
    let barrier = Arc::new(Barrier::new(plans.len() + 1));
    let mut handles = Vec::new();
    for plan in plans {
        let (cfg, answers, barrier) = (cfg.clone(), answers.clone(), barrier.clone());
        handles.push(std::thread::spawn(move || {
            run_device(&cfg, &answers, plan, &barrier)
        }));
    }
    barrier.wait();
    let upload_started = Instant::now();
    let mut report = SimReport {
        devices: cfg.devices,
        ..SimReport::default()
    };
    let mut first_error = None;
    for h in handles {
        match h.join() {
            Ok(Ok(d)) => {
                report.completed += d.completed;
                report.acked += d.acked;
                report.sealed_bytes += d.sealed_bytes;
                report.retries += d.retries;
            }
            Ok(Err(e)) => first_error = first_error.or(Some(e)),
            Err(_) => {
                first_error =
                    first_error.or(Some(SimError::Setup("a device thread panicked".into())))
            }
        }
    }
    report.upload_seconds = upload_started.elapsed().as_secs_f64();
    report.seconds = started.elapsed().as_secs_f64();
    match first_error {
        Some(e) => Err(e),
        None => Ok(report),
    }
}

async fn set_up(cfg: &SimConfig) -> Result<Vec<Plan>, SimError> {
    let base = format!("{}{PREFIX}", cfg.server.trim_end_matches('/'));
    // The app's own client: the same TLS roots (and FIELDPOST_CA_CERT) as the devices.
    let http = crate::http::client(Duration::from_secs(120)).map_err(api_err)?;
    let login: LoginResponse = send(http.post(format!("{base}/sessions")).json(&LoginRequest {
        username: DEMO_ADMIN.0.into(),
        password: DEMO_ADMIN.1.into(),
    }))
    .await
    .map_err(|e| {
        SimError::Setup(format!(
            "signing in as the demo admin failed ({e}); is the server started with --demo?"
        ))
    })?;
    let admin = Admin {
        http,
        base,
        token: login.token,
    };
    let surveys: Vec<Survey> = send(
        admin
            .http
            .get(format!("{}/surveys", admin.base))
            .bearer_auth(&admin.token),
    )
    .await?;
    let survey = surveys
        .into_iter()
        .find(|s| s.code == DEMO_SURVEY)
        .ok_or_else(|| {
            SimError::Setup("the server has no demo survey; start it with --demo".into())
        })?;
    // Unique per run, so runs against the same server do not collide.
    let run = format!(
        "sim{}-{}",
        cfg.seed,
        Uuid::now_v7()
            .simple()
            .to_string()
            .get(20..28)
            .unwrap_or("0")
    );
    let provinces = [("01", "00004", "urban"), ("79", "25747", "urban")];
    let mut csv = fieldpost_proto::v1::SAMPLE_CSV_COLUMNS.join(",");
    csv.push('\n');
    let mut plans = Vec::new();
    for i in 0..cfg.devices {
        let username = format!("{run}-{i}");
        let _: Account = send(
            admin
                .http
                .post(format!("{}/accounts", admin.base))
                .bearer_auth(&admin.token)
                .json(&NewAccount {
                    username: username.clone(),
                    password: format!("{run}-password"),
                    role: Role::Enumerator,
                    province: None,
                }),
        )
        .await?;
        let (province, commune, stratum) = provinces[i % provinces.len()];
        for k in 0..cfg.interviews {
            csv.push_str(&format!(
                "{username}-{k:05},official,,{province},{commune},Thôn 1,{stratum},{username}\n"
            ));
        }
        plans.push(Plan {
            index: i,
            username,
            code: String::new(),
            fingerprint: String::new(),
        });
    }
    let _: SampleUploaded = send(
        admin
            .http
            .post(format!("{}/surveys/{}/sample", admin.base, survey.id))
            .bearer_auth(&admin.token)
            .body(csv),
    )
    .await?;
    for plan in &mut plans {
        let code: EnrolmentCode = send(
            admin
                .http
                .post(format!("{}/enrolment-codes", admin.base))
                .bearer_auth(&admin.token)
                .json(&NewEnrolmentCode {
                    survey_id: survey.id,
                    enumerator: plan.username.clone(),
                }),
        )
        .await?;
        plan.code = code.code;
        plan.fingerprint = code.server_fingerprint;
    }
    Ok(plans)
}

struct DeviceResult {
    completed: u64,
    acked: u64,
    sealed_bytes: u64,
    retries: u32,
}

/// One device: enrol, interview, seal, wait for the others, upload until all is acknowledged.
fn run_device(
    cfg: &SimConfig,
    answers: &AnswerSource,
    plan: Plan,
    barrier: &Barrier,
) -> Result<DeviceResult, SimError> {
    let outcome = prepare_device(cfg, answers, &plan);
    // Always reach the barrier, or the other devices would wait forever.
    barrier.wait();
    let (mut store, client, completed, sealed_bytes) = outcome?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| SimError::Setup(e.to_string()))?;
    let mut retries = 0;
    let mut runs = 0;
    loop {
        let report = rt.block_on(client.sync(&mut store, |_| {}))?;
        retries += report.retries;
        if !report.rejected.is_empty() {
            return Err(SimError::Api(format!(
                "device {}: batches rejected: {:?}",
                plan.index, report.rejected
            )));
        }
        if report.interrupted.is_none() {
            break;
        }
        runs += 1;
        if runs > 20 {
            return Err(SimError::Api(format!(
                "device {}: {}",
                plan.index,
                report.interrupted.unwrap_or_default()
            )));
        }
    }
    let acked = store
        .outbox()?
        .iter()
        .filter(|b| b.state == fieldpost_store::BatchState::Acknowledged)
        .map(|b| b.interview_ids.len() as u64)
        .sum();
    Ok(DeviceResult {
        completed,
        acked,
        sealed_bytes,
        retries,
    })
}

fn prepare_device(
    cfg: &SimConfig,
    answers: &AnswerSource,
    plan: &Plan,
) -> Result<(Store, SyncClient, u64, u64), SimError> {
    let path = cfg.work_dir.join(format!("{}.sqlite", plan.username));
    let mut store = Store::open(&path)?;
    // Few PBKDF2 iterations: the simulator measures the server, not PIN stretching.
    store.set_up_pin_with_iterations("246810", 1_000)?;
    let key = DeviceSigningKey::generate().map_err(|e| SimError::Setup(e.to_string()))?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| SimError::Setup(e.to_string()))?;
    // As the app does: the enrolment reply must be signed by the key with the code's
    // fingerprint, and every later reply by that key.
    let api = |e: fieldpost_proto::app::CommandError| SimError::Api(e.to_string());
    let enroller = Server::new(
        &cfg.server,
        None,
        Trust::Fingerprint(plan.fingerprint.clone()),
    )
    .map_err(api)?;
    let enrolled: EnrolResponse = rt
        .block_on(enroller.enrol(&EnrolRequest {
            code: plan.code.clone(),
            device_id: store.device_id(),
            public_key: key.public_key().to_string(),
        }))
        .map_err(api)?;
    let server_key = enroller
        .signer()
        .ok_or_else(|| SimError::Api("the enrolment reply has no signer".into()))?;
    let device = Server::new(
        &cfg.server,
        Some(&enrolled.device_token),
        Trust::Pinned(server_key),
    )
    .map_err(api)?;
    let assignments: Assignments = rt
        .block_on(device.get("/device/assignments"))
        .map_err(api)?;
    let recipients: Vec<Recipient> = enrolled
        .recipients
        .iter()
        .map(|r| {
            r.public_key
                .parse()
                .map_err(|e: fieldpost_seal::KeyError| SimError::Setup(e.to_string()))
        })
        .collect::<Result<_, _>>()?;
    // The same mapping the app uses (officials paired with their reserves).
    let local = crate::device::local_assignments(&assignments.assignments, &plan.username, FORM_ID);
    store.import_assignments(&local)?;
    // The app keeps the compiled form here; the simulator does not run the form engine (its
    // answers come from a valid interview, see AnswerSource), so it records the version only.
    store.save_questionnaire(FORM_ID, FORM_VERSION, "{}")?;
    let mut rng = fastrand::Rng::with_seed(
        cfg.seed
            .wrapping_mul(1_000_003)
            .wrapping_add(plan.index as u64),
    );
    for a in &assignments.assignments {
        let iv = store.start_or_resume(a.id, FORM_VERSION, &plan.username)?;
        for (path, value) in answers.draw(&mut rng, a) {
            store.set_answer(iv.id, &path, &value)?;
        }
        store.complete(iv.id)?;
    }
    let completed = assignments.assignments.len() as u64;
    // The device's sync client keeps the batch sizer: its uploads teach it the link, and the
    // size of each batch sealed here comes from it (as in the app, which seals between syncs).
    let mut client = SyncClient::new(
        cfg.upload_server.as_deref().unwrap_or(&cfg.server),
        &enrolled.device_token,
        server_key,
    )?
    .with_batch_sizer(BatchSizer::new(100, 1, 200, Duration::from_secs(5)));
    if let Some(b) = cfg.backoff {
        client.backoff = b;
    }
    let sealer = crate::batch::Sealer {
        key,
        recipients,
        enumerator_id: enrolled.enumerator.id,
    };
    let sealed_bytes = seal_unbatched(&mut store, &client, &sealer)?;
    Ok((store, client, completed, sealed_bytes))
}

/// Seals every finished interview not yet in a batch, in batches of the client's current
/// batch size, as the app does; returns the sealed bytes' total length.
fn seal_unbatched(
    store: &mut Store,
    client: &SyncClient,
    sealer: &crate::batch::Sealer,
) -> Result<u64, SimError> {
    sealer
        .seal_pending(store, client.batch_size())
        .map_err(|e| SimError::Setup(e.to_string()))
}

/// Random valid answers: a valid SIPAS interview (`sample-answers.json`) whose select_one
/// answers are redrawn from their own choice lists, and whose location is the assignment's.
#[derive(Clone)]
struct AnswerSource {
    template: Vec<(String, serde_json::Value)>,
    /// For each template answer, the choices it may be redrawn from (empty: keep as is).
    choices: Vec<Vec<String>>,
}

impl AnswerSource {
    fn load(dir: &Path) -> Result<Self, SimError> {
        let read = |name: &str| {
            std::fs::read_to_string(dir.join(name))
                .map_err(|e| SimError::Setup(format!("{}: {e}", dir.join(name).display())))
        };
        let template_json: Vec<serde_json::Value> =
            serde_json::from_str(&read("sample-answers.json")?)
                .map_err(|e| SimError::Setup(format!("sample-answers.json: {e}")))?;
        let survey = read("survey.csv")?;
        let choices_csv = read("choices.csv")?;
        let list_of = csv_column_pairs(&survey, "type", "name");
        let choice_pairs = csv_column_pairs(&choices_csv, "list_name", "name");
        let mut template = Vec::new();
        let mut choices = Vec::new();
        for item in template_json {
            let (Some(path), Some(value)) =
                (item.get("set").and_then(|v| v.as_str()), item.get("value"))
            else {
                continue;
            };
            let name = path.rsplit('/').next().unwrap_or(path);
            // Redraw plain 5-point and similar scales only; anything with a filter or a
            // follow-up question keeps the template's (valid) answer.
            let list = list_of
                .iter()
                .find(|(t, n)| n == name && t.starts_with("select_one "))
                .map(|(t, _)| t.trim_start_matches("select_one ").trim().to_string());
            let options: Vec<String> = match list {
                Some(l) if matches!(l.as_str(), "hai_long" | "quan_tam" | "uu_tien") => {
                    choice_pairs
                        .iter()
                        .filter(|(ln, _)| *ln == l)
                        .map(|(_, c)| c.clone())
                        .collect()
                }
                _ => Vec::new(),
            };
            template.push((path.to_string(), value.clone()));
            choices.push(options);
        }
        if template.is_empty() {
            return Err(SimError::Setup(format!(
                "{}: no answers in sample-answers.json",
                dir.display()
            )));
        }
        Ok(Self { template, choices })
    }

    fn draw(&self, rng: &mut fastrand::Rng, a: &Assignment) -> Vec<(String, serde_json::Value)> {
        self.template
            .iter()
            .zip(&self.choices)
            .map(|((path, value), options)| {
                let v = if path.ends_with("/tinh") {
                    serde_json::Value::String(a.province.clone())
                } else if path.ends_with("/xa") {
                    serde_json::Value::String(a.commune.clone())
                } else if options.is_empty() {
                    value.clone()
                } else {
                    serde_json::Value::String(options[rng.usize(..options.len())].clone())
                };
                (path.clone(), v)
            })
            .collect()
    }
}

/// (column a, column b) of every row of a CSV with a header row.
fn csv_column_pairs(text: &str, a: &str, b: &str) -> Vec<(String, String)> {
    let mut rdr = csv::Reader::from_reader(text.as_bytes());
    let Ok(headers) = rdr.headers().cloned() else {
        return Vec::new();
    };
    let (Some(ia), Some(ib)) = (
        headers.iter().position(|h| h == a),
        headers.iter().position(|h| h == b),
    ) else {
        return Vec::new();
    };
    rdr.records()
        .filter_map(Result::ok)
        .map(|r| {
            (
                r.get(ia).unwrap_or("").to_string(),
                r.get(ib).unwrap_or("").to_string(),
            )
        })
        .collect()
}
