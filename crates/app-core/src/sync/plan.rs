//! The sync decisions, with no I/O: which batches to upload in which order, how long to wait
//! before a retry, what an upload's answer means, and how many interviews to seal per batch.
//! The loop in [`super::client`] only carries these decisions out.

use fieldpost_proto::v1::{BatchAck, ErrorCode};
use std::time::Duration;

/// What the plan needs to know about one outbox batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Queued {
    pub sequence: u64,
    pub byte_len: u64,
    /// Interviews sealed in the batch: what [`BatchSizer`] learns the link's capacity from.
    pub interviews: usize,
    pub acknowledged: bool,
}

/// The batches to upload, oldest (lowest sequence) first: every batch not acknowledged, whether
/// it was never sent or sent without an answer (a retry of the same bytes is safe: the server
/// answers a duplicate with the original acknowledgement). `skip` holds batches the server
/// rejected for good in this run, which stay in the outbox but are not sent again now.
pub fn uploads(outbox: &[Queued], skip: &[u64]) -> Vec<Queued> {
    let mut todo: Vec<Queued> = outbox
        .iter()
        .filter(|b| !b.acknowledged && !skip.contains(&b.sequence))
        .copied()
        .collect();
    todo.sort_by_key(|b| b.sequence);
    todo
}

/// What an upload attempt came back with, before interpretation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// HTTP 2xx with an acknowledgement.
    Ack(BatchAck),
    /// An error answer from the server with its code.
    Error { status: u16, code: ErrorCode },
    /// An HTTP error without an API error body (a proxy, a load balancer).
    Status(u16),
    /// No answer: connection refused, reset, timed out.
    Network,
    /// An answer not signed by the pinned server key: as good as none, whatever it says.
    Untrusted,
}

/// What to do about a reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Safe on the server: mark the batch acknowledged.
    Acknowledged(BatchAck),
    /// Try the same bytes again after a backoff.
    Retry,
    /// The server refuses this batch for good: keep it in the outbox, report it, go on.
    Rejected(ErrorCode),
    /// Stop syncing altogether: the device cannot upload anything (revoked, not enrolled).
    Stop(ErrorCode),
}

/// Interprets a reply to the upload of `sequence` whose SHA-256 is `digest` (hex). An
/// acknowledgement for other bytes is not one: it is treated as a failure to retry, never as
/// permission to forget the batch.
pub fn judge(reply: Reply, sequence: u64, digest: &str) -> Verdict {
    match reply {
        Reply::Ack(ack) if ack.sequence == sequence && ack.digest == digest => {
            Verdict::Acknowledged(ack)
        }
        Reply::Ack(_) => Verdict::Retry,
        Reply::Error { code, .. } if code.is_retryable() => Verdict::Retry,
        Reply::Error {
            code:
                code
                @ (ErrorCode::Unauthenticated | ErrorCode::RevokedDevice | ErrorCode::UnknownDevice),
            ..
        } => Verdict::Stop(code),
        Reply::Error { code, .. } => Verdict::Rejected(code),
        // 408 timeout, 429 slow down, 5xx: the server or a proxy is in trouble, not the batch.
        Reply::Status(s) if s == 408 || s == 429 || s >= 500 => Verdict::Retry,
        Reply::Status(_) => Verdict::Stop(ErrorCode::Internal),
        Reply::Network | Reply::Untrusted => Verdict::Retry,
    }
}

/// What becomes of the interviews of a batch the server refused for good.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterRefusal {
    /// Seal each interview again, alone, in a new batch: one bad interview among several must
    /// not hold the others back, and a batch sealed to keys the server has since changed goes
    /// through once sealed to the current ones.
    Reseal,
    /// Set the interview aside until something changes (the server's keys or questionnaires):
    /// sending the same thing again would only be refused again, and archived again.
    Hold,
}

/// Decides after a refusal of a batch of `interviews` interviews. `sealed_to_current_keys`:
/// whether the batch's header names exactly the recipients the device holds now.
pub fn after_refusal(interviews: usize, sealed_to_current_keys: bool) -> AfterRefusal {
    if interviews > 1 || !sealed_to_current_keys {
        AfterRefusal::Reseal
    } else {
        AfterRefusal::Hold
    }
}

/// Exponential backoff with full jitter: the n-th retry waits a uniformly random time in
/// `[0, min(max, base * 2^n)]`, so devices that lost the network together do not return
/// together. The random draw is an argument, so the function stays pure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    pub base: Duration,
    pub max: Duration,
    /// Attempts per batch in one sync run; after that the run stops and resumes later.
    pub max_attempts: u32,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            base: Duration::from_millis(500),
            max: Duration::from_secs(60),
            max_attempts: 8,
        }
    }
}

impl Backoff {
    /// The wait before retry number `attempt` (1 for the first retry); `unit` is a random
    /// number in `[0, 1)`.
    pub fn delay(&self, attempt: u32, unit: f64) -> Duration {
        let factor = 2u32.saturating_pow(attempt.saturating_sub(1).min(30));
        let cap = self.base.saturating_mul(factor).min(self.max);
        cap.mul_f64(unit.clamp(0.0, 1.0))
    }
}

/// How an upload attempt went, for [`BatchSizer::observe`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UploadOutcome {
    /// Acknowledged after this long.
    Acknowledged(Duration),
    /// Cut, timed out, or refused by an overloaded server or proxy: to be retried.
    Failed,
    /// Refused for good (the batch's content, not the link): says nothing about the link.
    Rejected,
}

/// How many interviews to seal into the next batch, adapted to the link: grows while uploads
/// succeed quickly, halves when one is slow or cut, so a poor connection still gets small
/// batches through and a good one is not slowed by many round trips.
///
/// It learns from each upload of a batch of `n` interviews (batches already in the outbox may
/// have been sealed at another size): a fast upload (under half the target time) lets the size
/// reach `2n`; a slow one (over the target) or a cut one brings it down to `n/2`; anything in
/// between leaves it. So one small fast batch never inflates the size, and one large slow batch
/// is enough to cut it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BatchSizer {
    size: usize,
    pub min: usize,
    pub max: usize,
    /// An upload should take about this long.
    pub target: Duration,
}

impl Default for BatchSizer {
    fn default() -> Self {
        Self {
            size: 10,
            min: 1,
            max: 200,
            target: Duration::from_secs(5),
        }
    }
}

impl BatchSizer {
    pub fn new(start: usize, min: usize, max: usize, target: Duration) -> Self {
        let min = min.max(1);
        let max = max.max(min);
        Self {
            size: start.clamp(min, max),
            min,
            max,
            target,
        }
    }

    pub fn size(&self) -> usize {
        self.size
    }

    /// Learns from one upload attempt of a batch of `interviews` interviews.
    pub fn observe(&mut self, interviews: usize, outcome: UploadOutcome) {
        let n = interviews.max(1);
        let next = match outcome {
            UploadOutcome::Acknowledged(elapsed) if elapsed * 2 < self.target => {
                self.size.max(n.saturating_mul(2))
            }
            UploadOutcome::Acknowledged(elapsed) if elapsed > self.target => self.size.min(n / 2),
            UploadOutcome::Failed => self.size.min(n / 2),
            UploadOutcome::Acknowledged(_) | UploadOutcome::Rejected => self.size,
        };
        self.size = next.clamp(self.min, self.max);
    }

    /// An upload of a batch of the current size took `elapsed`.
    pub fn succeeded(&mut self, elapsed: Duration) {
        self.observe(self.size, UploadOutcome::Acknowledged(elapsed));
    }

    /// An upload of a batch of the current size failed (cut, timeout).
    pub fn failed(&mut self) {
        self.observe(self.size, UploadOutcome::Failed);
    }
}

/// Where a sync run stands, for the UI's progress bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SyncProgress {
    pub batches_done: usize,
    pub batches_total: usize,
    pub bytes_done: u64,
    pub bytes_total: u64,
    /// Retries in this run so far (the UI can say "weak connection, retrying").
    pub retries: u32,
}

impl SyncProgress {
    pub fn start(todo: &[Queued]) -> Self {
        Self {
            batches_done: 0,
            batches_total: todo.len(),
            bytes_done: 0,
            bytes_total: todo.iter().map(|b| b.byte_len).sum(),
            retries: 0,
        }
    }

    pub fn done(&mut self, batch: &Queued) {
        self.batches_done += 1;
        self.bytes_done += batch.byte_len;
    }

    /// 0.0 to 1.0 by bytes (uploads take time by size, not by count).
    pub fn fraction(&self) -> f64 {
        if self.bytes_total == 0 {
            1.0
        } else {
            self.bytes_done as f64 / self.bytes_total as f64
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;
    use uuid::Uuid;

    fn q(sequence: u64, acknowledged: bool) -> Queued {
        Queued {
            sequence,
            byte_len: 100 * sequence,
            interviews: 1,
            acknowledged,
        }
    }

    fn ack(sequence: u64, digest: &str) -> BatchAck {
        BatchAck {
            device_id: Uuid::nil(),
            sequence,
            batch_id: Uuid::nil(),
            digest: digest.into(),
            interviews: 1,
            acknowledged_at: Utc::now(),
        }
    }

    #[test]
    fn uploads_go_oldest_first_and_skip_only_acknowledged_and_rejected() {
        let outbox = [q(3, false), q(1, true), q(4, false), q(2, false)];
        let seqs: Vec<u64> = uploads(&outbox, &[]).iter().map(|b| b.sequence).collect();
        assert_eq!(seqs, [2, 3, 4]);
        let seqs: Vec<u64> = uploads(&outbox, &[3]).iter().map(|b| b.sequence).collect();
        assert_eq!(seqs, [2, 4]);
        assert!(uploads(&[q(1, true)], &[]).is_empty());
    }

    #[test]
    fn only_an_ack_for_these_bytes_acknowledges() {
        let good = ack(5, "ab");
        assert_eq!(
            judge(Reply::Ack(good.clone()), 5, "ab"),
            Verdict::Acknowledged(good)
        );
        assert_eq!(
            judge(Reply::Ack(ack(5, "cd")), 5, "ab"),
            Verdict::Retry,
            "other bytes"
        );
        assert_eq!(
            judge(Reply::Ack(ack(4, "ab")), 5, "ab"),
            Verdict::Retry,
            "other sequence"
        );
    }

    #[test]
    fn failures_are_sorted_into_retry_reject_and_stop() {
        let err = |code| Reply::Error { status: 400, code };
        assert_eq!(judge(Reply::Network, 1, "x"), Verdict::Retry);
        // A reply the pinned key did not sign is no reply, even an acknowledgement.
        assert_eq!(judge(Reply::Untrusted, 1, "x"), Verdict::Retry);
        assert_eq!(
            judge(
                Reply::Error {
                    status: 403,
                    code: ErrorCode::UnknownDevice
                },
                1,
                "x"
            ),
            Verdict::Stop(ErrorCode::UnknownDevice)
        );
        assert_eq!(judge(Reply::Status(502), 1, "x"), Verdict::Retry);
        assert_eq!(judge(Reply::Status(429), 1, "x"), Verdict::Retry);
        assert_eq!(judge(err(ErrorCode::Internal), 1, "x"), Verdict::Retry);
        assert_eq!(
            judge(err(ErrorCode::ForgedSignature), 1, "x"),
            Verdict::Rejected(ErrorCode::ForgedSignature)
        );
        assert_eq!(
            judge(err(ErrorCode::SequenceConflict), 1, "x"),
            Verdict::Rejected(ErrorCode::SequenceConflict)
        );
        assert_eq!(
            judge(err(ErrorCode::RevokedDevice), 1, "x"),
            Verdict::Stop(ErrorCode::RevokedDevice)
        );
        assert_eq!(
            judge(err(ErrorCode::Unauthenticated), 1, "x"),
            Verdict::Stop(ErrorCode::Unauthenticated)
        );
        assert_eq!(
            judge(Reply::Status(404), 1, "x"),
            Verdict::Stop(ErrorCode::Internal)
        );
    }

    #[test]
    fn backoff_doubles_up_to_the_cap_and_jitters_below_it() {
        let b = Backoff {
            base: Duration::from_millis(100),
            max: Duration::from_secs(2),
            max_attempts: 5,
        };
        assert_eq!(b.delay(1, 1.0), Duration::from_millis(100));
        assert_eq!(b.delay(2, 1.0), Duration::from_millis(200));
        assert_eq!(b.delay(4, 1.0), Duration::from_millis(800));
        assert_eq!(b.delay(10, 1.0), Duration::from_secs(2));
        assert_eq!(b.delay(1000, 1.0), Duration::from_secs(2), "no overflow");
        assert_eq!(b.delay(3, 0.5), Duration::from_millis(200));
        assert_eq!(b.delay(3, 0.0), Duration::ZERO);
    }

    #[test]
    fn batch_size_grows_on_fast_uploads_and_halves_on_failures() {
        let mut s = BatchSizer::new(10, 1, 50, Duration::from_secs(4));
        s.succeeded(Duration::from_secs(1));
        assert_eq!(s.size(), 20);
        s.succeeded(Duration::from_secs(3));
        assert_eq!(s.size(), 20, "within target: unchanged");
        s.succeeded(Duration::from_millis(10));
        s.succeeded(Duration::from_millis(10));
        assert_eq!(s.size(), 50, "capped");
        s.succeeded(Duration::from_secs(9));
        assert_eq!(s.size(), 25, "too slow: halved");
        for _ in 0..10 {
            s.failed();
        }
        assert_eq!(s.size(), 1, "never below the minimum");
    }

    /// The policy learns from the batch actually uploaded, not from the size it would seal now.
    #[test]
    fn batch_size_follows_what_each_uploaded_batch_shows() {
        let fast = UploadOutcome::Acknowledged(Duration::from_millis(200));
        let ok = UploadOutcome::Acknowledged(Duration::from_secs(3));
        let slow = UploadOutcome::Acknowledged(Duration::from_secs(12));
        let mut s = BatchSizer::new(40, 1, 200, Duration::from_secs(5));
        s.observe(5, fast);
        assert_eq!(s.size(), 40, "a small fast batch proves nothing about 80");
        s.observe(40, fast);
        assert_eq!(s.size(), 80, "a full fast batch doubles");
        s.observe(80, ok);
        assert_eq!(s.size(), 80, "within the target: kept");
        s.observe(80, slow);
        assert_eq!(s.size(), 40, "slow: half of what was slow");
        s.observe(30, UploadOutcome::Failed);
        assert_eq!(s.size(), 15, "cut: half of what was cut");
        s.observe(15, UploadOutcome::Rejected);
        assert_eq!(s.size(), 15, "a rejection is about content, not the link");
        s.observe(300, slow);
        assert_eq!(
            s.size(),
            15,
            "a slow batch larger than the size does not raise it"
        );
        for _ in 0..10 {
            s.observe(1, UploadOutcome::Failed);
        }
        assert_eq!(s.size(), 1, "never below the minimum");
        for _ in 0..20 {
            let n = s.size();
            s.observe(n, fast);
        }
        assert_eq!(s.size(), 200, "never above the maximum");
    }

    #[test]
    fn progress_counts_bytes_and_batches() {
        let todo = [q(1, false), q(3, false)];
        let mut p = SyncProgress::start(&todo);
        assert_eq!((p.batches_total, p.bytes_total), (2, 400));
        p.done(&todo[0]);
        assert_eq!(p.fraction(), 0.25);
        p.done(&todo[1]);
        assert_eq!(p.fraction(), 1.0);
        assert_eq!(SyncProgress::start(&[]).fraction(), 1.0);
    }

    /// A refused batch of several interviews is split; one interview refused alone is held,
    /// unless it was sealed to keys the device has since replaced.
    #[test]
    fn refusals_split_batches_and_hold_single_interviews() {
        assert_eq!(after_refusal(5, true), AfterRefusal::Reseal);
        assert_eq!(after_refusal(1, true), AfterRefusal::Hold);
        assert_eq!(after_refusal(1, false), AfterRefusal::Reseal);
    }
}
