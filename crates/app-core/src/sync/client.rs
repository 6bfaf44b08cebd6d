//! The sync loop: carries out [`super::plan`]'s decisions against the server and the outbox.

use super::plan::{self, Backoff, BatchSizer, Queued, Reply, SyncProgress, UploadOutcome, Verdict};
use fieldpost_proto::v1::{ApiError, BatchAck, ErrorCode, PREFIX};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use thiserror::Error;

/// Where sealed batches wait for upload. Implemented by the device store; the loop never
/// deletes anything, it only marks batches acknowledged.
pub trait Outbox {
    /// Every batch in the outbox with its state.
    fn queued(&mut self) -> Result<Vec<Queued>, SyncError>;
    /// The sealed bytes of one batch (checked against its recorded digest).
    fn bytes(&mut self, sequence: u64) -> Result<Vec<u8>, SyncError>;
    /// Records the server's acknowledgement.
    fn acknowledge(&mut self, sequence: u64, ack: &BatchAck) -> Result<(), SyncError>;
    /// A line for the device's sync log (never personal data).
    fn note(&mut self, _kind: &str, _sequence: Option<u64>, _message: &str) {}
}

#[derive(Debug, Error)]
pub enum SyncError {
    #[error("the device store failed: {0}")]
    Outbox(String),
    #[error("the server address {0:?} is not a valid http:// or https:// URL")]
    BadServerUrl(String),
    #[error("the HTTP client could not be set up: {0}")]
    Client(String),
}

/// What one sync run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncReport {
    pub acknowledged: Vec<u64>,
    /// Batches the server refused for good (they stay in the outbox; support looks at them).
    pub rejected: Vec<(u64, ErrorCode)>,
    /// Why the run ended before the outbox was empty: too many retries (the network), or a
    /// stop from the server (revoked device). `None` when everything was uploaded.
    pub interrupted: Option<String>,
    pub retries: u32,
    /// How many interviews to seal into the next batch, after what this run's uploads showed.
    pub batch_size: usize,
}

/// Uploads a device's outbox to one server.
///
/// It also keeps the device's [`BatchSizer`]: every upload attempt's duration and outcome feed
/// it, and whoever seals new batches asks [`SyncClient::batch_size`] how many interviews to put
/// in the next one. Clones share the sizer.
#[derive(Clone)]
pub struct SyncClient {
    http: reqwest::Client,
    batches_url: String,
    token: String,
    pub backoff: Backoff,
    sizer: Arc<Mutex<BatchSizer>>,
}

impl SyncClient {
    /// `server` is the server's base address (`http://host:port`); `token` the device token
    /// received at enrolment.
    pub fn new(server: &str, token: &str) -> Result<Self, SyncError> {
        let base = server.trim_end_matches('/');
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(SyncError::BadServerUrl(server.to_string()));
        }
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(120))
            .build()
            .map_err(|e| SyncError::Client(e.to_string()))?;
        Ok(Self {
            http,
            batches_url: format!("{base}{PREFIX}/device/batches"),
            token: token.to_string(),
            backoff: Backoff::default(),
            sizer: Arc::new(Mutex::new(BatchSizer::default())),
        })
    }

    /// Starts from a sizer the app kept from an earlier session (or with its own limits).
    pub fn with_batch_sizer(self, sizer: BatchSizer) -> Self {
        *self.lock_sizer() = sizer;
        self
    }

    /// How many interviews to seal into the next batch.
    pub fn batch_size(&self) -> usize {
        self.lock_sizer().size()
    }

    /// The sizer's state, for the app to keep between sessions.
    pub fn batch_sizer(&self) -> BatchSizer {
        *self.lock_sizer()
    }

    fn lock_sizer(&self) -> std::sync::MutexGuard<'_, BatchSizer> {
        // The sizer is a few numbers, consistent after any panic.
        self.sizer.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// One upload attempt.
    pub async fn upload(&self, bytes: Vec<u8>) -> Reply {
        let sent = self
            .http
            .post(&self.batches_url)
            .bearer_auth(&self.token)
            .header(
                reqwest::header::CONTENT_TYPE,
                fieldpost_proto::v1::BATCH_CONTENT_TYPE,
            )
            .body(bytes)
            .send()
            .await;
        let Ok(resp) = sent else {
            return Reply::Network;
        };
        let status = resp.status().as_u16();
        let Ok(body) = resp.bytes().await else {
            return Reply::Network;
        };
        if (200..300).contains(&status) {
            return match serde_json::from_slice::<BatchAck>(&body) {
                Ok(ack) => Reply::Ack(ack),
                Err(_) => Reply::Status(502),
            };
        }
        match serde_json::from_slice::<ApiError>(&body) {
            Ok(e) => Reply::Error {
                status,
                code: e.code,
            },
            Err(_) => Reply::Status(status),
        }
    }

    /// Uploads every unacknowledged batch, oldest first, retrying each with backoff; marks a
    /// batch acknowledged only on an acknowledgement for its exact bytes. Safe to call again at
    /// any time: it resumes where the last run stopped.
    pub async fn sync<O: Outbox>(
        &self,
        outbox: &mut O,
        mut progress: impl FnMut(SyncProgress),
    ) -> Result<SyncReport, SyncError> {
        let todo = plan::uploads(&outbox.queued()?, &[]);
        let mut report = SyncReport::default();
        let mut shown = SyncProgress::start(&todo);
        progress(shown);
        for batch in &todo {
            let bytes = outbox.bytes(batch.sequence)?;
            let digest = sha256_hex(&bytes);
            let mut attempt = 0;
            loop {
                let started = Instant::now();
                let verdict =
                    plan::judge(self.upload(bytes.clone()).await, batch.sequence, &digest);
                let outcome = match &verdict {
                    Verdict::Acknowledged(_) => UploadOutcome::Acknowledged(started.elapsed()),
                    Verdict::Retry => UploadOutcome::Failed,
                    Verdict::Rejected(_) | Verdict::Stop(_) => UploadOutcome::Rejected,
                };
                self.lock_sizer().observe(batch.interviews, outcome);
                match verdict {
                    Verdict::Acknowledged(ack) => {
                        outbox.acknowledge(batch.sequence, &ack)?;
                        report.acknowledged.push(batch.sequence);
                        shown.done(batch);
                        progress(shown);
                        break;
                    }
                    Verdict::Rejected(code) => {
                        outbox.note("rejected", Some(batch.sequence), code.as_str());
                        report.rejected.push((batch.sequence, code));
                        break;
                    }
                    Verdict::Stop(code) => {
                        outbox.note("stopped", Some(batch.sequence), code.as_str());
                        report.interrupted =
                            Some(format!("the server refused the device: {}", code.as_str()));
                        report.batch_size = self.batch_size();
                        return Ok(report);
                    }
                    Verdict::Retry => {
                        attempt += 1;
                        report.retries += 1;
                        shown.retries += 1;
                        progress(shown);
                        if attempt >= self.backoff.max_attempts {
                            outbox.note(
                                "interrupted",
                                Some(batch.sequence),
                                "too many failed attempts",
                            );
                            report.interrupted = Some(format!(
                                "batch {} failed {attempt} times; the next sync resumes from it",
                                batch.sequence
                            ));
                            report.batch_size = self.batch_size();
                            return Ok(report);
                        }
                        tokio::time::sleep(self.backoff.delay(attempt, fastrand::f64())).await;
                    }
                }
            }
        }
        report.batch_size = self.batch_size();
        Ok(report)
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    ring::digest::digest(&ring::digest::SHA256, bytes)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The device store is the outbox.
impl Outbox for fieldpost_store::Store {
    fn queued(&mut self) -> Result<Vec<Queued>, SyncError> {
        let batches = self
            .outbox()
            .map_err(|e| SyncError::Outbox(e.to_string()))?;
        Ok(batches
            .iter()
            .map(|b| Queued {
                sequence: b.sequence,
                byte_len: b.byte_len,
                interviews: b.interview_ids.len(),
                acknowledged: b.state == fieldpost_store::BatchState::Acknowledged,
            })
            .collect())
    }

    fn bytes(&mut self, sequence: u64) -> Result<Vec<u8>, SyncError> {
        self.batch_bytes(sequence)
            .map_err(|e| SyncError::Outbox(e.to_string()))
    }

    fn acknowledge(&mut self, sequence: u64, _ack: &BatchAck) -> Result<(), SyncError> {
        self.mark_acknowledged(sequence)
            .map_err(|e| SyncError::Outbox(e.to_string()))
    }

    fn note(&mut self, kind: &str, sequence: Option<u64>, message: &str) {
        // The log is a help for support; failing to write it must not stop the upload.
        let _ = self.log_sync(kind, sequence, message);
    }
}
