//! Shared test helpers: a real PostgreSQL, a real server on loopback, an HTTP client, and a
//! device that enrols and seals batches with the real `fieldpost-seal` code.
#![allow(dead_code)]

pub mod certs;
pub mod postgres;
pub mod process;

use chrono::Utc;
use fieldpost_proto::v1::*;
use fieldpost_seal::{DeviceSigningKey, InterviewSummary, Recipient, SealInput};
use reqwest::blocking::Client;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::path::{Path, PathBuf};
use uuid::Uuid;

/// A backend to run the suite on: a SQLite file or a PostgreSQL database.
pub enum Backend {
    Sqlite,
    Postgres(postgres::Postgres),
}

impl Backend {
    /// A fresh database for one test case.
    pub fn fresh_db(&self, dir: &Path, case: &str) -> String {
        match self {
            Backend::Sqlite => dir.join(format!("{case}.sqlite")).display().to_string(),
            Backend::Postgres(pg) => pg.create_db(case),
        }
    }
}

/// The server running in this process on 127.0.0.1, with its own runtime.
pub struct TestServer {
    pub base: String,
    pub db: String,
    pub data_dir: PathBuf,
    runtime: tokio::runtime::Runtime,
}

impl TestServer {
    /// Starts a server on a fresh database, seeded with the demo survey.
    pub fn start(db: String, data_dir: PathBuf) -> TestServer {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let (url, _) =
            fieldpost_server::demo::serve_in(&runtime, &db, &data_dir).expect("demo server");
        TestServer {
            base: format!("{url}/api/v1"),
            db,
            data_dir,
            runtime,
        }
    }

    pub fn api(&self) -> Api {
        Api {
            base: self.base.clone(),
            client: Client::new(),
        }
    }
}

/// A tiny HTTP client for the v1 API.
#[derive(Clone)]
pub struct Api {
    pub base: String,
    pub client: Client,
}

pub type Answer<T> = Result<T, (u16, ApiError)>;

impl Api {
    fn finish<T: DeserializeOwned>(resp: reqwest::blocking::Response) -> Answer<T> {
        let status = resp.status().as_u16();
        let bytes = resp.bytes().expect("body");
        if (200..300).contains(&status) {
            Ok(serde_json::from_slice(&bytes)
                .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&bytes))))
        } else {
            let err = serde_json::from_slice(&bytes).unwrap_or_else(|e| {
                panic!(
                    "error body {status} not ApiError ({e}): {}",
                    String::from_utf8_lossy(&bytes)
                )
            });
            Err((status, err))
        }
    }

    fn auth(
        req: reqwest::blocking::RequestBuilder,
        token: Option<&str>,
    ) -> reqwest::blocking::RequestBuilder {
        match token {
            Some(t) => req.bearer_auth(t),
            None => req,
        }
    }

    pub fn get<T: DeserializeOwned>(&self, path: &str, token: Option<&str>) -> Answer<T> {
        Self::finish(
            Self::auth(self.client.get(format!("{}{path}", self.base)), token)
                .send()
                .expect("sends"),
        )
    }

    pub fn post<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        token: Option<&str>,
        body: &B,
    ) -> Answer<T> {
        Self::finish(
            Self::auth(self.client.post(format!("{}{path}", self.base)), token)
                .json(body)
                .send()
                .expect("sends"),
        )
    }

    pub fn send_bytes<T: DeserializeOwned>(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Vec<u8>,
    ) -> Answer<T> {
        let url = format!("{}{path}", self.base);
        let req = if method == "PUT" {
            self.client.put(url)
        } else {
            self.client.post(url)
        };
        Self::finish(Self::auth(req, token).body(body).send().expect("sends"))
    }

    pub fn login(&self, username: &str, password: &str) -> String {
        let r: LoginResponse = self
            .post(
                "/sessions",
                None,
                &LoginRequest {
                    username: username.into(),
                    password: password.into(),
                },
            )
            .expect("signs in");
        r.token
    }

    pub fn admin(&self) -> String {
        self.login(
            fieldpost_server::demo::DEMO_ADMIN,
            fieldpost_server::demo::DEMO_ADMIN_PASSWORD,
        )
    }

    pub fn survey_id(&self, admin: &str) -> Uuid {
        let surveys: Vec<Survey> = self.get("/surveys", Some(admin)).expect("lists surveys");
        surveys
            .iter()
            .find(|s| s.code == fieldpost_server::demo::DEMO_SURVEY)
            .expect("demo survey")
            .id
    }

    pub fn enrolment_code(&self, admin: &str, enumerator: &str) -> String {
        let survey_id = self.survey_id(admin);
        let c: EnrolmentCode = self
            .post(
                "/enrolment-codes",
                Some(admin),
                &NewEnrolmentCode {
                    survey_id,
                    enumerator: enumerator.into(),
                },
            )
            .expect("makes a code");
        c.code
    }
}

/// An enumerator's device: its key, token, assignments and next sequence number.
pub struct Device {
    pub id: Uuid,
    pub key: DeviceSigningKey,
    pub token: String,
    pub enumerator: Account,
    pub recipients: Vec<Recipient>,
    pub assignments: Vec<Assignment>,
    pub next_sequence: u64,
    pub next_assignment: usize,
}

impl Device {
    pub fn enrol(api: &Api, code: &str) -> Device {
        let key = DeviceSigningKey::generate().expect("key");
        let id = Uuid::now_v7();
        let r: EnrolResponse = api
            .post(
                "/enrol",
                None,
                &EnrolRequest {
                    code: code.into(),
                    device_id: id,
                    public_key: key.public_key().to_string(),
                },
            )
            .expect("enrols");
        let assignments: Assignments = api
            .get("/device/assignments", Some(&r.device_token))
            .expect("assignments");
        Device {
            id,
            key,
            token: r.device_token,
            enumerator: r.enumerator,
            recipients: r
                .recipients
                .iter()
                .map(|k| k.public_key.parse().expect("recipient"))
                .collect(),
            assignments: assignments
                .assignments
                .into_iter()
                .filter(|a| !a.reserve)
                .collect(),
            next_sequence: 1,
            next_assignment: 0,
        }
    }

    /// Seals the next `n` completed interviews (on the next official assignments) as one batch.
    pub fn batch(&mut self, n: usize) -> (Vec<u8>, Vec<Uuid>) {
        let sequence = self.next_sequence;
        self.next_sequence += 1;
        let mut records = Vec::new();
        let mut summaries = Vec::new();
        for _ in 0..n {
            let a = self.assignments[self.next_assignment % self.assignments.len()].clone();
            self.next_assignment += 1;
            let (rec, sum) = interview(&a, self.enumerator.id);
            records.push(rec);
            summaries.push(sum);
        }
        let ids = records.iter().map(|r| r.interview_id).collect();
        let payload = serde_json::to_vec(&BatchPayload {
            interviews: records,
        })
        .expect("payload");
        let bytes = seal_as(
            self.id,
            &self.key,
            sequence,
            &summaries,
            &payload,
            &self.recipients,
        );
        (bytes, ids)
    }

    pub fn upload(&self, api: &Api, bytes: Vec<u8>) -> Answer<BatchAck> {
        api.send_bytes("POST", "/device/batches", Some(&self.token), bytes)
    }
}

pub fn interview(a: &Assignment, enumerator_id: Uuid) -> (InterviewRecord, InterviewSummary) {
    let id = Uuid::now_v7();
    let mut answers = serde_json::Map::new();
    // A few real SIPAS answers: ingest checks paths and values against the questionnaire.
    answers.insert("phan_a/tinh".into(), serde_json::json!(a.province));
    answers.insert("phan_a/gioi_tinh".into(), serde_json::json!("nam"));
    answers.insert("phan_a/nam_sinh".into(), serde_json::json!(1962));
    let rec = InterviewRecord {
        interview_id: id,
        assignment_id: a.id,
        questionnaire_version: fieldpost_server::demo::DEMO_QUESTIONNAIRE_VERSION.into(),
        enumerator_id,
        status: "completed".into(),
        started_at: Utc::now(),
        ended_at: Utc::now(),
        answers,
        paradata: serde_json::Value::Null,
    };
    let sum = InterviewSummary {
        interview_id: id,
        province: a.province.clone(),
        commune: a.commune.clone(),
        stratum: a.stratum.clone(),
        status: "completed".into(),
        enumerator_id,
        questionnaire_version: rec.questionnaire_version.clone(),
    };
    (rec, sum)
}

pub fn seal_as(
    device_id: Uuid,
    key: &DeviceSigningKey,
    sequence: u64,
    summaries: &[InterviewSummary],
    payload: &[u8],
    recipients: &[Recipient],
) -> Vec<u8> {
    let input = SealInput {
        batch_id: Uuid::now_v7(),
        device_id,
        sequence,
        created_at: Utc::now(),
        interviews: summaries,
        payload,
    };
    fieldpost_seal::seal(&input, key, recipients).expect("seals")
}

/// Flips one byte inside the ciphertext and signs the result again with the device key: what a
/// buggy or malicious device could send. Framing per docs/sealed-batch.md:
/// magic(8) version(2) header_len(4) header ciphertext_len(8) ciphertext signature(64).
pub fn tamper_and_resign(batch: &[u8], key: &DeviceSigningKey) -> Vec<u8> {
    let header_len = u32::from_be_bytes(batch[10..14].try_into().expect("4 bytes")) as usize;
    let cipher_at = 14 + header_len + 8;
    let mut out = batch[..batch.len() - 64].to_vec();
    let last = out.len() - 20; // inside the age payload, past its header
    assert!(last > cipher_at);
    out[last] ^= 0x55;
    let pair =
        ring::signature::Ed25519KeyPair::from_pkcs8_maybe_unchecked(key.pkcs8()).expect("key");
    let sig = pair.sign(&out);
    out.extend_from_slice(sig.as_ref());
    out
}

/// `key value` pairs of `Storage::stats`, as a map.
pub fn stats(db: &str) -> std::collections::BTreeMap<String, i64> {
    fieldpost_server::storage::Storage::open(db)
        .expect("opens")
        .stats()
        .expect("stats")
        .into_iter()
        .collect()
}
