//! The sync loop: carries out [`super::plan`]'s decisions against the server and the outbox.

use super::plan::{self, Backoff, BatchSizer, Queued, Reply, SyncProgress, UploadOutcome, Verdict};
use fieldpost_proto::v1::{ApiError, BatchAck, ErrorCode, PREFIX};
use fieldpost_seal::ServerPublicKey;
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
    /// Records that the server refused the batch for good: it leaves the queue (the caller
    /// decides what becomes of its interviews).
    fn refuse(&mut self, _sequence: u64, _code: ErrorCode) -> Result<(), SyncError> {
        Ok(())
    }
    /// A line for the device's sync log (never personal data).
    fn note(&mut self, _kind: &str, _sequence: Option<u64>, _message: &str) {}
}

#[derive(Debug, Error)]
pub enum SyncError {
    #[error("the device store failed: {0}")]
    Outbox(String),
    #[error("the server address {0:?} is not a valid http:// or https:// URL")]
    BadServerUrl(String),
    /// Plain `http://` to another machine (see [`crate::http::check_server_url`]).
    #[error("{0}")]
    InsecureServerUrl(crate::http::UrlError),
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
    /// Replies that did not verify against the pinned server key (treated as no reply: nothing
    /// was marked). More than zero means someone on the way may be interfering.
    pub untrusted: u32,
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
    /// The path signed into the server's replies (`/api/v1/device/batches`).
    batches_path: String,
    token: String,
    /// The server key pinned at enrolment: a reply it did not sign changes nothing.
    server_key: ServerPublicKey,
    pub backoff: Backoff,
    sizer: Arc<Mutex<BatchSizer>>,
}

impl SyncClient {
    /// `server` is the server's base address (`https://host:port`); `token` the device token
    /// received at enrolment; `server_key` the server's key pinned then.
    pub fn new(server: &str, token: &str, server_key: ServerPublicKey) -> Result<Self, SyncError> {
        let base = crate::http::check_server_url(server).map_err(|e| match e {
            crate::http::UrlError::Invalid(_) => SyncError::BadServerUrl(server.to_string()),
            insecure => SyncError::InsecureServerUrl(insecure),
        })?;
        let http = crate::http::client(Duration::from_secs(120))
            .map_err(|e| SyncError::Client(e.to_string()))?;
        Ok(Self {
            http,
            batches_url: format!("{base}{PREFIX}/device/batches"),
            batches_path: format!("{PREFIX}/device/batches"),
            token: token.to_string(),
            server_key,
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

    /// One upload attempt. A reply that does not verify against the pinned server key is
    /// [`Reply::Untrusted`], whatever it says.
    pub async fn upload(&self, bytes: Vec<u8>) -> Reply {
        let Ok(nonce) = crate::server::new_nonce() else {
            return Reply::Network;
        };
        let sent = self
            .http
            .post(&self.batches_url)
            .bearer_auth(&self.token)
            .header(fieldpost_seal::reply::NONCE_HEADER, &nonce)
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
        let headers = resp.headers().clone();
        let Ok(body) = resp.bytes().await else {
            return Reply::Network;
        };
        let ctx = fieldpost_seal::reply::ReplyContext {
            method: "POST",
            path: &self.batches_path,
            token: &self.token,
            nonce: &nonce,
        };
        let trust = crate::server::Trust::Pinned(self.server_key);
        if crate::server::verify(&trust, &ctx, status, &body, &headers).is_err() {
            return Reply::Untrusted;
        }
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
                let reply = self.upload(bytes.clone()).await;
                let reply_untrusted = reply == Reply::Untrusted;
                let verdict = plan::judge(reply, batch.sequence, &digest);
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
                        outbox.refuse(batch.sequence, code)?;
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
                        if reply_untrusted {
                            report.untrusted += 1;
                            outbox.note(
                                "untrusted_reply",
                                Some(batch.sequence),
                                "a reply not signed by the server was ignored",
                            );
                        }
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
        // A refused batch is out of the queue for good; its interviews are sealed again.
        Ok(batches
            .iter()
            .filter(|b| b.refused.is_none())
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

    fn refuse(&mut self, sequence: u64, code: ErrorCode) -> Result<(), SyncError> {
        self.refuse_batch(sequence, code.as_str())
            .map_err(|e| SyncError::Outbox(e.to_string()))
    }

    fn note(&mut self, kind: &str, sequence: Option<u64>, message: &str) {
        // The log is a help for support; failing to write it must not stop the upload.
        let _ = self.log_sync(kind, sequence, message);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::net::TcpListener;

    /// An outbox in memory; each batch's bytes are `batch-<sequence>`.
    struct Memory(Vec<Queued>);

    impl Outbox for Memory {
        fn queued(&mut self) -> Result<Vec<Queued>, SyncError> {
            Ok(self.0.clone())
        }
        fn bytes(&mut self, sequence: u64) -> Result<Vec<u8>, SyncError> {
            Ok(format!("batch-{sequence}").into_bytes())
        }
        fn acknowledge(&mut self, sequence: u64, _ack: &BatchAck) -> Result<(), SyncError> {
            if let Some(b) = self.0.iter_mut().find(|b| b.sequence == sequence) {
                b.acknowledged = true;
            }
            Ok(())
        }
    }

    fn outbox(sizes: &[usize]) -> Memory {
        Memory(
            sizes
                .iter()
                .enumerate()
                .map(|(i, n)| Queued {
                    sequence: i as u64 + 1,
                    byte_len: 10,
                    interviews: *n,
                    acknowledged: false,
                })
                .collect(),
        )
    }

    /// A loopback HTTP server that acknowledges each upload at once (signed with its own key,
    /// as the real server does), except request numbers for which `cut` is true: those lose
    /// their connection before any answer. Returns its address and key.
    fn server(cut: fn(usize) -> bool) -> (String, ServerPublicKey) {
        let key = fieldpost_seal::ServerSigningKey::generate().expect("key");
        let public = key.public_key();
        let listener = TcpListener::bind("127.0.0.1:0").expect("binds");
        let addr = listener.local_addr().expect("address");
        std::thread::spawn(move || {
            for (i, stream) in listener.incoming().enumerate() {
                let Ok(mut s) = stream else { continue };
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                // Headers, then the body (tiny: `batch-N`).
                while let Ok(n) = s.read(&mut chunk) {
                    if n == 0 {
                        break;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        let head = String::from_utf8_lossy(&buf[..end]).to_lowercase();
                        let len: usize = head
                            .lines()
                            .find_map(|l| l.strip_prefix("content-length:"))
                            .and_then(|v| v.trim().parse().ok())
                            .unwrap_or(0);
                        if buf.len() >= end + 4 + len {
                            break;
                        }
                    }
                }
                if cut(i) {
                    continue; // dropped: the connection closes without an answer
                }
                let end = buf.windows(4).position(|w| w == b"\r\n\r\n").unwrap_or(0) + 4;
                let head = String::from_utf8_lossy(&buf[..end.min(buf.len())]).to_lowercase();
                let nonce = head
                    .lines()
                    .find_map(|l| l.strip_prefix("x-fieldpost-nonce:"))
                    .map(|v| v.trim().to_string())
                    .unwrap_or_default();
                let body = &buf[end.min(buf.len())..];
                let sequence: u64 = String::from_utf8_lossy(body)
                    .trim_start_matches("batch-")
                    .parse()
                    .unwrap_or(0);
                let ack = serde_json::json!({
                    "device_id": uuid::Uuid::nil(), "sequence": sequence,
                    "batch_id": uuid::Uuid::nil(), "digest": sha256_hex(body),
                    "interviews": 1, "acknowledged_at": "2026-12-01T00:00:00Z"
                })
                .to_string();
                let ctx = fieldpost_seal::reply::ReplyContext {
                    method: "POST",
                    path: "/api/v1/device/batches",
                    token: "token",
                    nonce: &nonce,
                };
                let sig = key.sign_reply(&ctx, 200, ack.as_bytes());
                let _ = write!(
                    s,
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
                     x-fieldpost-signature: {sig}\r\nx-fieldpost-signer: {}\r\nconnection: close\r\n\r\n{ack}",
                    ack.len(),
                    key.public_key()
                );
            }
        });
        (format!("http://{addr}"), public)
    }

    fn run(client: &SyncClient, outbox: &mut Memory) -> SyncReport {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime")
            .block_on(client.sync(outbox, |_| {}))
            .expect("syncs")
    }

    /// The loop feeds the sizer: fast acknowledgements of full batches raise the size the next
    /// batches are sealed at.
    #[test]
    fn fast_uploads_raise_the_size_for_the_next_batches() {
        let (url, key) = server(|_| false);
        let client = SyncClient::new(&url, "token", key)
            .expect("client")
            .with_batch_sizer(BatchSizer::new(10, 1, 200, Duration::from_secs(30)));
        let mut outbox = outbox(&[10, 20, 40]);
        let report = run(&client, &mut outbox);
        assert_eq!(report.acknowledged, [1, 2, 3]);
        assert_eq!(report.batch_size, 80);
        assert_eq!(client.batch_size(), 80);
    }

    /// Cut uploads bring the size down to half of what was cut, so the next batches are
    /// sealed small enough to get through.
    #[test]
    fn cut_uploads_lower_the_size_for_the_next_batches() {
        let (url, key) = server(|_| true);
        let mut client = SyncClient::new(&url, "token", key)
            .expect("client")
            .with_batch_sizer(BatchSizer::new(100, 1, 200, Duration::from_secs(30)));
        client.backoff = Backoff {
            base: Duration::from_millis(1),
            max: Duration::from_millis(5),
            max_attempts: 2,
        };
        let mut outbox = outbox(&[80]);
        let report = run(&client, &mut outbox);
        assert!(report.acknowledged.is_empty());
        assert!(report.interrupted.is_some());
        assert_eq!(report.batch_size, 40);
        assert!(
            !outbox.0[0].acknowledged,
            "never marked without an acknowledgement"
        );
    }

    /// An acknowledgement signed by another key (a man in the middle's) marks nothing.
    #[test]
    fn an_acknowledgement_not_signed_by_the_pinned_key_marks_nothing() {
        let (url, _their_key) = server(|_| false);
        let ours = fieldpost_seal::ServerSigningKey::generate()
            .expect("key")
            .public_key();
        let mut client = SyncClient::new(&url, "token", ours).expect("client");
        client.backoff = Backoff {
            base: Duration::from_millis(1),
            max: Duration::from_millis(5),
            max_attempts: 2,
        };
        let mut outbox = outbox(&[3]);
        let report = run(&client, &mut outbox);
        assert!(report.acknowledged.is_empty());
        assert_eq!(report.untrusted, 2);
        assert!(!outbox.0[0].acknowledged);
    }

    /// Plain http:// to another machine is refused when the client is made, before any
    /// connection; http:// to loopback and https:// anywhere are accepted.
    #[test]
    fn plain_http_is_refused_except_to_loopback() {
        let key = fieldpost_seal::ServerSigningKey::generate()
            .expect("key")
            .public_key();
        let refused = SyncClient::new("http://192.0.2.1:8080", "token", key)
            .err()
            .expect("plain http to another machine");
        assert!(
            matches!(refused, SyncError::InsecureServerUrl(_)),
            "{refused}"
        );
        assert!(refused.to_string().contains("https://"), "{refused}");
        assert!(SyncClient::new("http://127.0.0.1:8080", "token", key).is_ok());
        assert!(SyncClient::new("https://192.0.2.1:8443", "token", key).is_ok());
    }
}
