//! Purge: once the server has acknowledged a batch and the retention window
//! has passed, the device forgets its interviews' answers, paradata and notes,
//! and the batch bytes. Interviews, statuses and assignments stay, so the
//! enumerator's progress still adds up.

use chrono::{Duration, Utc};
use rusqlite::{TransactionBehavior, params};
use serde::{Deserialize, Serialize};

use crate::{Result, Store, StoreError, clock};

/// What a purge removed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PurgeReport {
    /// Interviews whose answers were removed.
    pub interviews: u32,
    /// Answers removed (counted inside their encrypted documents).
    pub answers: u32,
    /// Batches whose bytes were dropped.
    pub batches: u32,
}

impl Store {
    /// Remove the answers of interviews in batches acknowledged more than
    /// `retention` ago, in one transaction, then checkpoint the WAL so the
    /// removed ciphertext leaves the log file too.
    pub fn purge_acknowledged(&mut self, retention: Duration) -> Result<PurgeReport> {
        if retention < Duration::zero() {
            return Err(StoreError::InvalidInput(
                "retention cannot be negative".into(),
            ));
        }
        let cutoff = clock::fmt(Utc::now() - retention);
        // Zero the freed pages too, not just unlink them.
        self.conn.pragma_update(None, "secure_delete", true)?;
        let report = self.purge_before(&cutoff);
        self.conn.pragma_update(None, "secure_delete", false)?;
        let report = report?;
        // Another connection (the screens while a sync purges) may be reading: the checkpoint
        // is then partial and a later one completes it. The purge itself has committed, and
        // what lingers in the log is ciphertext, so a busy log is no failure.
        match self
            .conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
        {
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::DatabaseBusy => {}
            other => other?,
        }
        Ok(report)
    }

    fn purge_before(&mut self, cutoff: &str) -> Result<PurgeReport> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute_batch(
            "CREATE TEMP TABLE IF NOT EXISTS purge_target (id TEXT PRIMARY KEY); \
             DELETE FROM purge_target;",
        )?;
        let interviews = tx.execute(
            "INSERT INTO purge_target (id) SELECT DISTINCT oi.interview_id \
             FROM outbox_interview oi JOIN outbox o ON o.sequence = oi.sequence \
             JOIN interview i ON i.id = oi.interview_id \
             WHERE o.state = 'acknowledged' AND o.acknowledged_at <= ?1 AND i.purged_at IS NULL",
            [cutoff],
        )?;
        // Answers are counted inside their documents, which takes the key; a purge runs
        // during a sync, unlocked. Locked (no caller does that), the count is 0.
        let mut answers = 0;
        if let Some(key) = self.key.as_deref() {
            let targets: Vec<String> = tx
                .prepare("SELECT id FROM purge_target")?
                .query_map([], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            for id in targets {
                answers += crate::answers::count_answers(&tx, key, &id)?;
            }
        }
        tx.execute_batch(
            "DELETE FROM answer_doc WHERE interview_id IN (SELECT id FROM purge_target); \
             DELETE FROM answer WHERE interview_id IN (SELECT id FROM purge_target); \
             DELETE FROM paradata WHERE interview_id IN (SELECT id FROM purge_target); \
             DELETE FROM repeat_count WHERE interview_id IN (SELECT id FROM purge_target); \
             UPDATE visit SET note = NULL WHERE interview_id IN (SELECT id FROM purge_target);",
        )?;
        tx.execute(
            "UPDATE interview SET purged_at = ?1 WHERE id IN (SELECT id FROM purge_target)",
            params![clock::fmt(Utc::now())],
        )?;
        let batches = tx.execute(
            "UPDATE outbox SET bytes = NULL \
             WHERE state = 'acknowledged' AND acknowledged_at <= ?1 AND bytes IS NOT NULL",
            [cutoff],
        )?;
        tx.execute("DELETE FROM purge_target", [])?;
        tx.commit()?;
        Ok(PurgeReport {
            interviews: interviews as u32,
            answers: answers as u32,
            batches: batches as u32,
        })
    }
}
