//! Questionnaire versions and interviews: start or resume, complete, progress.
//!
//! An assignment has at most one interview, ever (a unique index), so an
//! interview started twice (a double tap, a retry after a crash) resumes the
//! first one instead of duplicating it.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, Row, TransactionBehavior, params};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::assignments::{AssignmentKind, enum_parse, enum_text, parse_uuid};
use crate::nonresponse::NonResponseCode;
use crate::{Result, Store, StoreError, clock};

/// Where an interview stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InterviewStatus {
    /// Being filled (or waiting for a revisit).
    Draft,
    /// Finished and validated by the caller.
    Completed,
    /// Ended with a final non-response code.
    NonResponse,
}

/// One filled (or being filled) questionnaire.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Interview {
    /// UUIDv7: sorts by creation, never collides across offline devices.
    pub id: Uuid,
    /// The assignment interviewed.
    pub assignment_id: Uuid,
    /// Questionnaire (form id) used.
    pub form_id: String,
    /// Questionnaire version used, fixed at start.
    pub form_version: String,
    /// Where it stands.
    pub status: InterviewStatus,
    /// When it was started (UTC).
    pub started_at: DateTime<Utc>,
    /// When it was completed or ended as a non-response.
    pub ended_at: Option<DateTime<Utc>>,
    /// Enumerator who did it.
    pub enumerator: String,
    /// Device that recorded it.
    pub device: Uuid,
    /// Set when the final outcome is a non-response.
    pub non_response_code: Option<NonResponseCode>,
    /// When the answers were purged after the server acknowledged them.
    pub purged_at: Option<DateTime<Utc>>,
}

/// Assignment counts by status: what the enumerator's progress bar shows.
/// Readable while locked, and kept after purge.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    /// Assignments with no interview yet.
    pub not_started: u32,
    /// Draft interviews (including revisits due).
    pub in_progress: u32,
    /// Completed interviews.
    pub completed: u32,
    /// Final non-responses.
    pub non_response: u32,
    /// Reserves not released (not counted as work to do).
    pub reserve_held: u32,
}

const COLUMNS: &str = "id, assignment_id, form_id, form_version, status, started_at, ended_at, \
     enumerator, device, non_response_code, purged_at";

impl Store {
    /// Keep a compiled questionnaire (the form engine's JSON) under its form id
    /// and version. A version is immutable: loading the same bytes again is a
    /// no-op, different bytes under the same version are refused.
    pub fn save_questionnaire(&mut self, form_id: &str, version: &str, json: &str) -> Result<()> {
        serde_json::from_str::<serde_json::Value>(json).map_err(|e| {
            StoreError::InvalidInput(format!("questionnaire {form_id} {version}: {e}"))
        })?;
        if let Some(existing) = self.questionnaire(form_id, version)? {
            if existing == json {
                return Ok(());
            }
            return Err(StoreError::InvalidInput(format!(
                "questionnaire {form_id} version {version} is already stored with other content; \
                 publish it under a new version"
            )));
        }
        self.conn.execute(
            "INSERT INTO questionnaire (form_id, version, compiled_json, loaded_at) \
             VALUES (?1, ?2, ?3, ?4)",
            params![form_id, version, json, clock::fmt(Utc::now())],
        )?;
        Ok(())
    }

    /// The compiled questionnaire JSON of one version, if stored.
    pub fn questionnaire(&self, form_id: &str, version: &str) -> Result<Option<String>> {
        Ok(self
            .conn
            .query_row(
                "SELECT compiled_json FROM questionnaire WHERE form_id = ?1 AND version = ?2",
                [form_id, version],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// The most recently loaded version of a form: `(version, json)`.
    pub fn latest_questionnaire(&self, form_id: &str) -> Result<Option<(String, String)>> {
        Ok(self
            .conn
            .query_row(
                "SELECT version, compiled_json FROM questionnaire WHERE form_id = ?1 \
                 ORDER BY loaded_at DESC, rowid DESC LIMIT 1",
                [form_id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?)
    }

    /// Start the interview of an assignment with a questionnaire version, or
    /// return the one that already exists (whatever its status: the caller
    /// shows a completed one read-only). A reserve can be started only after
    /// its official pair released it.
    pub fn start_or_resume(
        &mut self,
        assignment_id: Uuid,
        form_version: &str,
        enumerator: &str,
    ) -> Result<Interview> {
        self.key()?;
        let device = self.device_id;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        if let Some(existing) = find_by_assignment(&tx, assignment_id)? {
            return Ok(existing);
        }
        let (kind, form_id, released): (String, String, bool) = tx
            .query_row(
                "SELECT kind, form_id, EXISTS (SELECT 1 FROM reserve_release r \
                 WHERE r.reserve_id = a.id) FROM assignment a WHERE id = ?1",
                [assignment_id.to_string()],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?
            .ok_or_else(|| StoreError::NotFound {
                what: "assignment",
                id: assignment_id.to_string(),
            })?;
        if enum_parse::<AssignmentKind>(&kind)? == AssignmentKind::Reserve && !released {
            return Err(StoreError::InvalidState(format!(
                "reserve assignment {assignment_id} has not been released: interview its \
                 official pair first"
            )));
        }
        let known: bool = tx.query_row(
            "SELECT EXISTS (SELECT 1 FROM questionnaire WHERE form_id = ?1 AND version = ?2)",
            [&form_id, form_version],
            |r| r.get(0),
        )?;
        if !known {
            return Err(StoreError::NotFound {
                what: "questionnaire version",
                id: format!("{form_id} {form_version}"),
            });
        }
        let id = Uuid::now_v7();
        tx.execute(
            "INSERT INTO interview (id, assignment_id, form_id, form_version, status, \
             started_at, enumerator, device) VALUES (?1, ?2, ?3, ?4, 'draft', ?5, ?6, ?7)",
            params![
                id.to_string(),
                assignment_id.to_string(),
                form_id,
                form_version,
                clock::fmt(Utc::now()),
                enumerator,
                device.to_string()
            ],
        )?;
        let created = find(&tx, id)?;
        tx.commit()?;
        Ok(created)
    }

    /// One interview.
    pub fn interview(&self, id: Uuid) -> Result<Interview> {
        find(&self.conn, id)
    }

    /// All interviews, oldest first.
    pub fn interviews(&self) -> Result<Vec<Interview>> {
        let mut stmt = self
            .conn
            .prepare(&format!("SELECT {COLUMNS} FROM interview ORDER BY id"))?;
        let raws = stmt.query_map([], RawInterview::read)?;
        raws.map(|r| r?.parse()).collect()
    }

    /// Mark a draft interview completed (end time now). The caller has run the
    /// form engine's validation first; the store only records the outcome.
    pub fn complete(&mut self, interview_id: Uuid) -> Result<Interview> {
        self.key()?;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        require_draft(&tx, interview_id)?;
        tx.execute(
            "UPDATE interview SET status = 'completed', ended_at = ?2 WHERE id = ?1",
            params![interview_id.to_string(), clock::fmt(Utc::now())],
        )?;
        let done = find(&tx, interview_id)?;
        tx.commit()?;
        Ok(done)
    }

    /// Assignment counts by status (works while locked).
    pub fn progress(&self) -> Result<Progress> {
        let mut stmt = self.conn.prepare(
            "SELECT a.kind, i.status, \
               EXISTS (SELECT 1 FROM reserve_release r WHERE r.reserve_id = a.id), count(*) \
             FROM assignment a LEFT JOIN interview i ON i.assignment_id = a.id \
             GROUP BY 1, 2, 3",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, Option<String>>(1)?,
                r.get::<_, bool>(2)?,
                r.get::<_, u32>(3)?,
            ))
        })?;
        let mut p = Progress::default();
        for row in rows {
            let (kind, status, released, n) = row?;
            let slot = match status.as_deref() {
                None if kind == "reserve" && !released => &mut p.reserve_held,
                None => &mut p.not_started,
                Some("draft") => &mut p.in_progress,
                Some("completed") => &mut p.completed,
                Some(_) => &mut p.non_response,
            };
            *slot += n;
        }
        Ok(p)
    }
}

/// Fail unless the interview exists and is a draft.
pub(crate) fn require_draft(conn: &rusqlite::Connection, id: Uuid) -> Result<Interview> {
    let interview = find(conn, id)?;
    if interview.status != InterviewStatus::Draft {
        return Err(StoreError::InvalidState(format!(
            "interview {id} is {}, it can no longer be changed",
            enum_text(&interview.status)?
        )));
    }
    Ok(interview)
}

pub(crate) fn find(conn: &rusqlite::Connection, id: Uuid) -> Result<Interview> {
    conn.query_row(
        &format!("SELECT {COLUMNS} FROM interview WHERE id = ?1"),
        [id.to_string()],
        RawInterview::read,
    )
    .optional()?
    .ok_or_else(|| StoreError::NotFound {
        what: "interview",
        id: id.to_string(),
    })?
    .parse()
}

fn find_by_assignment(conn: &rusqlite::Connection, assignment: Uuid) -> Result<Option<Interview>> {
    conn.query_row(
        &format!("SELECT {COLUMNS} FROM interview WHERE assignment_id = ?1"),
        [assignment.to_string()],
        RawInterview::read,
    )
    .optional()?
    .map(RawInterview::parse)
    .transpose()
}

struct RawInterview([Option<String>; 11]);

impl RawInterview {
    fn read(r: &Row<'_>) -> rusqlite::Result<Self> {
        let mut cols: [Option<String>; 11] = Default::default();
        for (i, col) in cols.iter_mut().enumerate() {
            *col = r.get(i)?;
        }
        Ok(RawInterview(cols))
    }

    fn parse(self) -> Result<Interview> {
        let [
            id,
            assignment,
            form_id,
            version,
            status,
            started,
            ended,
            enumerator,
            device,
            code,
            purged,
        ] = self.0;
        let need = |v: Option<String>, what: &str| {
            v.ok_or_else(|| StoreError::Damaged(format!("interview column {what} is empty")))
        };
        Ok(Interview {
            id: parse_uuid(&need(id, "id")?)?,
            assignment_id: parse_uuid(&need(assignment, "assignment_id")?)?,
            form_id: need(form_id, "form_id")?,
            form_version: need(version, "form_version")?,
            status: enum_parse(&need(status, "status")?)?,
            started_at: clock::parse(&need(started, "started_at")?)?,
            ended_at: clock::parse_opt(ended)?,
            enumerator: need(enumerator, "enumerator")?,
            device: parse_uuid(&need(device, "device")?)?,
            non_response_code: code.as_deref().map(enum_parse).transpose()?,
            purged_at: clock::parse_opt(purged)?,
        })
    }
}
