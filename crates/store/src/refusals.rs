//! Batches the server refused for good, and the interviews set aside because of them.
//!
//! A refused batch never blocks the others: it leaves the upload queue (its bytes stay, for
//! support), and its interviews are free to be sealed again. The app core decides what comes
//! next (`sync::plan::after_refusal`): a batch of several interviews is split, each interview
//! sealed alone, so one bad interview cannot hold back the rest; an interview refused on its own
//! is *held* with the refusal code and the context it was refused in (the server's keys and
//! questionnaire versions, as a digest), and is not sent again until that context changes.
//! Held interviews stay on the device, and the sync screen names each one's household.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};
use uuid::Uuid;

use crate::assignments::parse_uuid;
use crate::{Result, Store, StoreError, clock};

/// Schema version 5: refusals and held interviews.
pub(crate) const SCHEMA: &str = r#"
CREATE TABLE refusal (
    sequence INTEGER PRIMARY KEY REFERENCES outbox(sequence),
    code     TEXT NOT NULL,
    at       TEXT NOT NULL
) STRICT;

CREATE TABLE held_interview (
    interview_id TEXT PRIMARY KEY REFERENCES interview(id),
    code         TEXT NOT NULL,
    since        TEXT NOT NULL,
    context      TEXT NOT NULL
) STRICT;
"#;

/// An interview the server refused on its own.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeldInterview {
    /// The interview set aside.
    pub interview_id: Uuid,
    /// The server's refusal code (`questionnaire_mismatch`, ...).
    pub code: String,
    /// When the server refused it.
    pub since: DateTime<Utc>,
    /// What was true when it was refused; another value releases it.
    pub context: String,
}

impl Store {
    /// Records that the server refused batch `sequence` for good with `code`: it leaves the
    /// upload queue and its interviews may be sealed again. Idempotent.
    pub fn refuse_batch(&mut self, sequence: u64, code: &str) -> Result<()> {
        let exists: Option<u64> = self
            .conn
            .query_row(
                "SELECT sequence FROM outbox WHERE sequence = ?1",
                [sequence],
                |r| r.get(0),
            )
            .optional()?;
        if exists.is_none() {
            return Err(StoreError::NotFound {
                what: "outbox batch",
                id: sequence.to_string(),
            });
        }
        let now = clock::fmt(Utc::now());
        self.conn.execute(
            "INSERT INTO refusal (sequence, code, at) VALUES (?1, ?2, ?3) \
             ON CONFLICT (sequence) DO NOTHING",
            params![sequence, code, now],
        )?;
        self.log_sync("refused", Some(sequence), code)
    }

    /// The refusal code of a batch, if the server refused it.
    pub fn refusal(&self, sequence: u64) -> Result<Option<String>> {
        Ok(self
            .conn
            .query_row(
                "SELECT code FROM refusal WHERE sequence = ?1",
                [sequence],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// Sets an interview aside after the server refused it alone.
    pub fn hold_interview(&mut self, interview_id: Uuid, code: &str, context: &str) -> Result<()> {
        self.conn.execute(
            "INSERT INTO held_interview (interview_id, code, since, context) VALUES (?1, ?2, ?3, ?4) \
             ON CONFLICT (interview_id) DO UPDATE SET code = ?2, since = ?3, context = ?4",
            params![
                interview_id.to_string(),
                code,
                clock::fmt(Utc::now()),
                context
            ],
        )?;
        Ok(())
    }

    /// Every held interview, oldest first.
    pub fn held_interviews(&self) -> Result<Vec<HeldInterview>> {
        let mut stmt = self.conn.prepare(
            "SELECT interview_id, code, since, context FROM held_interview ORDER BY since, interview_id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
            ))
        })?;
        rows.map(|row| {
            let (id, code, since, context) = row?;
            Ok(HeldInterview {
                interview_id: parse_uuid(&id)?,
                code,
                since: clock::parse(&since)?,
                context,
            })
        })
        .collect()
    }

    /// Releases the held interviews refused in another context than `context` (the server's
    /// keys or questionnaires changed since): they are sealed and sent again. Returns how many.
    pub fn release_held(&mut self, context: &str) -> Result<usize> {
        Ok(self
            .conn
            .execute("DELETE FROM held_interview WHERE context <> ?1", [context])?)
    }

    /// Finished interviews whose last batch was refused and that are not held: to be sealed
    /// again, one per batch.
    pub fn refused_interviews(&self) -> Result<Vec<Uuid>> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT i.id FROM interview i WHERE i.status IN ('completed', 'non_response') \
             AND {NOT_IN_LIVE_BATCH} \
             AND EXISTS (SELECT 1 FROM outbox_interview o WHERE o.interview_id = i.id) \
             AND i.id NOT IN (SELECT interview_id FROM held_interview) ORDER BY i.id"
        ))?;
        let ids = stmt.query_map([], |r| r.get::<_, String>(0))?;
        ids.map(|id| parse_uuid(&id?)).collect()
    }
}

/// SQL condition on `i.id`: the interview is in no batch that is still live (not refused).
pub(crate) const NOT_IN_LIVE_BATCH: &str = "i.id NOT IN (SELECT o.interview_id FROM outbox_interview o \
     WHERE o.sequence NOT IN (SELECT sequence FROM refusal))";
