//! The outbox of sealed batches and the sync log.
//!
//! A batch is opaque bytes sealed by `fieldpost-seal`. The store gives each
//! one the device's next sequence number (1, 2, 3, ...; never reused, even
//! after purge, because the server keys batches by device and sequence) and
//! records its length and SHA-256, so a batch damaged on disk is caught before
//! upload instead of being sent as garbage. Only an acknowledged batch leaves
//! the queue.

use chrono::{DateTime, Utc};
use ring::digest::{SHA256, digest};
use rusqlite::{OptionalExtension, TransactionBehavior, params};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::assignments::{enum_parse, enum_text, parse_uuid};
use crate::{Result, Store, StoreError, clock};

/// Where a batch is on its way to the server.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BatchState {
    /// Queued, not uploaded yet.
    Pending,
    /// Uploaded, no acknowledgement yet.
    Sent,
    /// The server has it: eligible for purge.
    Acknowledged,
}

/// A batch in the outbox (without its bytes: see [`Store::batch_bytes`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxBatch {
    /// Per-device sequence number (1, 2, 3, ...).
    pub sequence: u64,
    /// Where it is.
    pub state: BatchState,
    /// Length of the sealed bytes.
    pub byte_len: u64,
    /// When it was queued.
    pub created_at: DateTime<Utc>,
    /// When it was last uploaded.
    pub sent_at: Option<DateTime<Utc>>,
    /// When the server acknowledged it.
    pub acknowledged_at: Option<DateTime<Utc>>,
    /// Interviews sealed in it.
    pub interview_ids: Vec<Uuid>,
    /// The server's code when it refused the batch for good (see [`Store::refuse_batch`]):
    /// such a batch is no longer uploaded.
    pub refused: Option<String>,
}

/// One line of the sync log. Messages never hold personal data.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncLogEntry {
    /// When (UTC).
    pub at: DateTime<Utc>,
    /// What happened (`queued`, `sent`, `acknowledged`, or the caller's kind).
    pub kind: String,
    /// The batch concerned, if any.
    pub sequence: Option<u64>,
    /// Details, never personal data.
    pub message: String,
}

impl Store {
    /// Finished interviews (completed or final non-response) not yet in any batch.
    pub fn unbatched_interviews(&self) -> Result<Vec<Uuid>> {
        let mut stmt = self.conn.prepare(
            "SELECT id FROM interview WHERE status IN ('completed', 'non_response') \
             AND id NOT IN (SELECT interview_id FROM outbox_interview) ORDER BY id",
        )?;
        let ids = stmt.query_map([], |r| r.get::<_, String>(0))?;
        ids.map(|id| parse_uuid(&id?)).collect()
    }

    /// Queue a batch of finished interviews. `seal` receives the batch's
    /// sequence number and returns the sealed bytes; it runs inside the
    /// transaction, so if it fails nothing is queued and the number is not
    /// used. Returns the sequence number.
    pub fn enqueue_batch<F, E>(&mut self, interview_ids: &[Uuid], seal: F) -> Result<u64>
    where
        F: FnOnce(u64) -> std::result::Result<Vec<u8>, E>,
        E: std::fmt::Display,
    {
        if interview_ids.is_empty() {
            return Err(StoreError::InvalidInput(
                "a batch needs at least one interview".into(),
            ));
        }
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        for id in interview_ids {
            let (status, batched): (String, bool) = tx
                .query_row(
                    &format!(
                        "SELECT status, NOT ({}) FROM interview i WHERE id = ?1",
                        crate::refusals::NOT_IN_LIVE_BATCH
                    ),
                    [id.to_string()],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?
                .ok_or_else(|| StoreError::NotFound {
                    what: "interview",
                    id: id.to_string(),
                })?;
            if status == "draft" || batched {
                return Err(StoreError::InvalidState(format!(
                    "interview {id} is {}; only finished interviews not yet queued go in a batch",
                    if batched {
                        "already in a batch"
                    } else {
                        "a draft"
                    }
                )));
            }
        }
        let last: Option<u64> = tx
            .query_row(
                "SELECT value FROM setting WHERE key = 'outbox_last_sequence'",
                [],
                |r| r.get::<_, String>(0),
            )
            .optional()?
            .map(|t| t.parse())
            .transpose()
            .map_err(|e| StoreError::Damaged(format!("stored outbox sequence: {e}")))?;
        // The counter survives purges; the table guards against a counter
        // that is behind (a store written before the counter existed).
        let in_table: u64 =
            tx.query_row("SELECT coalesce(max(sequence), 0) FROM outbox", [], |r| {
                r.get(0)
            })?;
        let sequence = last.unwrap_or(0).max(in_table) + 1;
        let bytes = seal(sequence).map_err(|e| StoreError::Seal(e.to_string()))?;
        let sha = digest(&SHA256, &bytes);
        tx.execute(
            "INSERT INTO outbox (sequence, state, bytes, byte_len, sha256, created_at) \
             VALUES (?1, 'pending', ?2, ?3, ?4, ?5)",
            params![
                sequence,
                bytes,
                bytes.len() as u64,
                sha.as_ref(),
                clock::fmt(Utc::now())
            ],
        )?;
        for id in interview_ids {
            tx.execute(
                "INSERT INTO outbox_interview (sequence, interview_id) VALUES (?1, ?2)",
                params![sequence, id.to_string()],
            )?;
        }
        tx.execute(
            "INSERT INTO setting (key, value) VALUES ('outbox_last_sequence', ?1) \
             ON CONFLICT (key) DO UPDATE SET value = ?1",
            [sequence.to_string()],
        )?;
        log(
            &tx,
            "queued",
            Some(sequence),
            &format!("{} interviews", interview_ids.len()),
        )?;
        tx.commit()?;
        Ok(sequence)
    }

    /// Every batch still in the outbox or acknowledged, oldest first.
    pub fn outbox(&self) -> Result<Vec<OutboxBatch>> {
        let mut stmt = self.conn.prepare(
            "SELECT o.sequence, o.state, o.byte_len, o.created_at, o.sent_at, o.acknowledged_at, \
             r.code FROM outbox o LEFT JOIN refusal r ON r.sequence = o.sequence ORDER BY o.sequence",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, u64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, u64>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, Option<String>>(4)?,
                r.get::<_, Option<String>>(5)?,
                r.get::<_, Option<String>>(6)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (sequence, state, byte_len, created, sent, acked, refused) = row?;
            let mut ids = self
                .conn
                .prepare("SELECT interview_id FROM outbox_interview WHERE sequence = ?1")?;
            let interview_ids = ids
                .query_map([sequence], |r| r.get::<_, String>(0))?
                .map(|id| parse_uuid(&id?))
                .collect::<Result<_>>()?;
            out.push(OutboxBatch {
                sequence,
                state: enum_parse(&state)?,
                byte_len,
                created_at: clock::parse(&created)?,
                sent_at: clock::parse_opt(sent)?,
                acknowledged_at: clock::parse_opt(acked)?,
                interview_ids,
                refused,
            });
        }
        Ok(out)
    }

    /// The sealed bytes of a batch to upload, checked against the length and
    /// digest recorded when it was queued ([`StoreError::CorruptBatch`] if
    /// they differ; the row is left as it is).
    pub fn batch_bytes(&self, sequence: u64) -> Result<Vec<u8>> {
        let (bytes, len, sha): (Option<Vec<u8>>, u64, Vec<u8>) = self
            .conn
            .query_row(
                "SELECT bytes, byte_len, sha256 FROM outbox WHERE sequence = ?1",
                [sequence],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?
            .ok_or_else(|| StoreError::NotFound {
                what: "outbox batch",
                id: sequence.to_string(),
            })?;
        let bytes = bytes.ok_or_else(|| {
            StoreError::InvalidState(format!(
                "batch {sequence} was acknowledged and purged from the device"
            ))
        })?;
        let corrupt = |reason: String| StoreError::CorruptBatch { sequence, reason };
        if bytes.len() as u64 != len {
            return Err(corrupt(format!(
                "{} bytes stored, {len} expected",
                bytes.len()
            )));
        }
        if digest(&SHA256, &bytes).as_ref() != sha.as_slice() {
            return Err(corrupt("SHA-256 does not match".into()));
        }
        Ok(bytes)
    }

    /// Record that a batch was uploaded (awaiting acknowledgement).
    pub fn mark_sent(&mut self, sequence: u64) -> Result<()> {
        self.move_batch(sequence, BatchState::Sent, "sent_at")
    }

    /// Record the server's acknowledgement: the batch is safe on the server
    /// and its interviews become eligible for purge after the retention window.
    pub fn mark_acknowledged(&mut self, sequence: u64) -> Result<()> {
        self.move_batch(sequence, BatchState::Acknowledged, "acknowledged_at")
    }

    /// Add a line to the sync log (no personal data in `message`).
    pub fn log_sync(&mut self, kind: &str, sequence: Option<u64>, message: &str) -> Result<()> {
        log(&self.conn, kind, sequence, message)
    }

    /// The latest `limit` sync log lines, newest first.
    pub fn sync_log(&self, limit: u32) -> Result<Vec<SyncLogEntry>> {
        let mut stmt = self.conn.prepare(
            "SELECT at, kind, sequence, message FROM sync_log ORDER BY id DESC LIMIT ?1",
        )?;
        let rows = stmt.query_map([limit], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Option<u64>>(2)?,
                r.get::<_, String>(3)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (at, kind, sequence, message) = row?;
            out.push(SyncLogEntry {
                at: clock::parse(&at)?,
                kind,
                sequence,
                message,
            });
        }
        Ok(out)
    }

    /// Move a batch forward (pending -> sent -> acknowledged; never back).
    fn move_batch(&mut self, sequence: u64, to: BatchState, column: &str) -> Result<()> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let state: String = tx
            .query_row(
                "SELECT state FROM outbox WHERE sequence = ?1",
                [sequence],
                |r| r.get(0),
            )
            .optional()?
            .ok_or_else(|| StoreError::NotFound {
                what: "outbox batch",
                id: sequence.to_string(),
            })?;
        let from: BatchState = enum_parse(&state)?;
        let rank = |s: BatchState| s as u8;
        if rank(from) >= rank(to) {
            // Repeated acknowledgement or a late "sent": nothing to do.
            return Ok(());
        }
        tx.execute(
            &format!("UPDATE outbox SET state = ?2, {column} = ?3 WHERE sequence = ?1"),
            params![sequence, enum_text(&to)?, clock::fmt(Utc::now())],
        )?;
        log(&tx, &enum_text(&to)?, Some(sequence), "")?;
        tx.commit()?;
        Ok(())
    }
}

fn log(
    conn: &rusqlite::Connection,
    kind: &str,
    sequence: Option<u64>,
    message: &str,
) -> Result<()> {
    conn.execute(
        "INSERT INTO sync_log (at, kind, sequence, message) VALUES (?1, ?2, ?3, ?4)",
        params![clock::fmt(Utc::now()), kind, sequence, message],
    )?;
    Ok(())
}
