//! Batches, interviews and incidents: the exactly-once part.
//!
//! The unique key on `batch (device_id, sequence)` is what makes ingest exactly-once, across
//! retries, restarts and several server processes: the batch row and its interview rows are
//! written in one transaction, and a second upload of the same sequence finds the row and gets
//! the stored acknowledgement (same digest) or an incident (different digest).

use super::survey::assignment_place;
use super::{Result, Storage, StorageError, row_time, row_uuid, time_text};
use crate::db::{Row, Sql};
use chrono::{DateTime, Utc};
use fieldpost_proto::v1::{BatchAck, Progress, ProgressBy, ProgressRow};
use std::collections::BTreeSet;
use uuid::Uuid;

/// One interview row to write.
#[derive(Debug, Clone, PartialEq)]
pub struct IngestedInterview {
    pub id: Uuid,
    pub assignment_id: Uuid,
    pub enumerator_id: Uuid,
    pub questionnaire_version: String,
    pub province: String,
    pub commune: String,
    pub stratum: String,
    pub status: String,
    pub started_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    /// The answers as JSON text, when the server could decrypt them.
    pub answers: Option<String>,
}

/// A verified batch ready to be written.
#[derive(Debug, Clone)]
pub struct BatchCommit {
    pub survey_id: Uuid,
    pub device_id: Uuid,
    pub enumerator_id: Uuid,
    pub sequence: u64,
    pub digest: String,
    pub batch_id: Uuid,
    pub byte_len: u64,
    pub interviews: Vec<IngestedInterview>,
    pub acknowledged_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommitOutcome {
    /// Written now.
    Acked(BatchAck),
    /// Written before with the same bytes: the original acknowledgement.
    Duplicate(BatchAck),
    /// The sequence was acknowledged before with other bytes; an incident was recorded.
    Conflict { acknowledged_digest: String },
}

/// Something to look into: a rejected batch, a sequence conflict.
#[derive(Debug, Clone)]
pub struct Incident {
    /// The error code (`forged_signature`, `sequence_conflict`, ...).
    pub kind: String,
    pub device_id: Option<Uuid>,
    pub sequence: Option<u64>,
    pub digest: Option<String>,
    /// Technical detail; never respondents' data.
    pub detail: String,
}

fn ack(r: &Row, device_id: Uuid, sequence: u64) -> Result<BatchAck> {
    Ok(BatchAck {
        device_id,
        sequence,
        digest: r.text(0)?,
        batch_id: row_uuid(r, 1)?,
        interviews: u32::try_from(r.int(2)?)
            .map_err(|_| StorageError::Corrupt("interview count".into()))?,
        acknowledged_at: row_time(r, 3)?,
    })
}

fn seq(s: u64) -> Result<i64> {
    i64::try_from(s).map_err(|_| StorageError::Invalid(format!("sequence {s} is too large")))
}

fn find_batch(sql: &mut dyn Sql, device_id: Uuid, sequence: u64) -> Result<Option<BatchAck>> {
    let rows = sql.query(
        "SELECT digest, batch_id, interviews, acknowledged_at FROM batch WHERE device_id = $1 AND sequence = $2",
        &[device_id.to_string().into(), seq(sequence)?.into()],
    )?;
    rows.first()
        .map(|r| ack(r, device_id, sequence))
        .transpose()
}

fn insert_incident(sql: &mut dyn Sql, i: &Incident) -> Result<()> {
    sql.execute(
        "INSERT INTO incident (id, at, kind, device_id, sequence, digest, detail) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        &[
            Uuid::now_v7().to_string().into(),
            time_text(Utc::now()).into(),
            i.kind.as_str().into(),
            i.device_id.map(|d| d.to_string()).into(),
            i.sequence.map(seq).transpose()?.into(),
            i.digest.clone().into(),
            i.detail.as_str().into(),
        ],
    )?;
    Ok(())
}

impl Storage {
    /// The acknowledgement of (device, sequence), if that batch was ingested.
    pub fn acknowledged_batch(&self, device_id: Uuid, sequence: u64) -> Result<Option<BatchAck>> {
        self.read(|sql| find_batch(sql, device_id, sequence))
    }

    pub fn record_incident(&self, incident: &Incident) -> Result<()> {
        self.tx(|sql| insert_incident(sql, incident))
    }

    /// Writes a batch and its interviews in one transaction, after checking each interview
    /// against its assignment and the survey's questionnaire versions. A check that fails rolls
    /// everything back and returns [`StorageError::Invalid`].
    pub fn commit_batch(&self, b: &BatchCommit) -> Result<CommitOutcome> {
        match self.commit_batch_once(b) {
            // Another server process (PostgreSQL) committed the same (device, sequence) between
            // our check and our insert: run again, and the check now sees its row.
            Err(StorageError::Db(e)) if e.is_unique_violation() => self.commit_batch_once(b),
            other => other,
        }
    }

    fn commit_batch_once(&self, b: &BatchCommit) -> Result<CommitOutcome> {
        self.tx(|sql| {
            if let Some(prior) = find_batch(sql, b.device_id, b.sequence)? {
                if prior.digest == b.digest {
                    return Ok(CommitOutcome::Duplicate(prior));
                }
                insert_incident(
                    sql,
                    &Incident {
                        kind: "sequence_conflict".into(),
                        device_id: Some(b.device_id),
                        sequence: Some(b.sequence),
                        digest: Some(b.digest.clone()),
                        detail: format!("sequence already acknowledged with digest {}", prior.digest),
                    },
                )?;
                return Ok(CommitOutcome::Conflict { acknowledged_digest: prior.digest });
            }
            check_versions(sql, b)?;
            let count = i64::try_from(b.interviews.len()).unwrap_or(i64::MAX);
            sql.execute(
                "INSERT INTO batch (device_id, sequence, digest, batch_id, interviews, byte_len, acknowledged_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
                &[
                    b.device_id.to_string().into(),
                    seq(b.sequence)?.into(),
                    b.digest.as_str().into(),
                    b.batch_id.to_string().into(),
                    count.into(),
                    i64::try_from(b.byte_len).unwrap_or(i64::MAX).into(),
                    time_text(b.acknowledged_at).into(),
                ],
            )?;
            for (i, iv) in b.interviews.iter().enumerate() {
                check_interview(sql, b, i, iv)?;
                let inserted = sql.execute(
                    "INSERT INTO interview (id, survey_id, device_id, sequence, assignment_id, enumerator_id, \
                     questionnaire_version, province, commune, stratum, status, started_at, ended_at, answers) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) ON CONFLICT (id) DO NOTHING",
                    &[
                        iv.id.to_string().into(),
                        b.survey_id.to_string().into(),
                        b.device_id.to_string().into(),
                        seq(b.sequence)?.into(),
                        iv.assignment_id.to_string().into(),
                        iv.enumerator_id.to_string().into(),
                        iv.questionnaire_version.as_str().into(),
                        iv.province.as_str().into(),
                        iv.commune.as_str().into(),
                        iv.stratum.as_str().into(),
                        iv.status.as_str().into(),
                        iv.started_at.map(time_text).into(),
                        iv.ended_at.map(time_text).into(),
                        iv.answers.clone().into(),
                    ],
                )?;
                if inserted == 0 {
                    return Err(StorageError::Invalid(format!(
                        "interview {} (item {i}) was already received in another batch",
                        iv.id
                    )));
                }
            }
            Ok(CommitOutcome::Acked(BatchAck {
                device_id: b.device_id,
                sequence: b.sequence,
                batch_id: b.batch_id,
                digest: b.digest.clone(),
                interviews: b.interviews.len() as u32,
                acknowledged_at: b.acknowledged_at,
            }))
        })
    }

    /// Interviews by status per group; `province` limits the rows to one province.
    pub fn progress(&self, by: ProgressBy, province: Option<&str>) -> Result<Progress> {
        let col = match by {
            ProgressBy::Province => "province",
            ProgressBy::Commune => "commune",
            ProgressBy::Stratum => "stratum",
            ProgressBy::Enumerator => "enumerator_id",
        };
        let (filter, params) = match province {
            Some(p) => ("WHERE province = $1", vec![p.into()]),
            None => ("", vec![]),
        };
        let q = format!(
            "SELECT province, {col}, status, COUNT(*) FROM interview {filter} \
             GROUP BY province, {col}, status ORDER BY province, {col}, status"
        );
        self.read(|sql| {
            let rows = sql
                .query(&q, &params)?
                .iter()
                .map(|r| {
                    Ok(ProgressRow {
                        province: r.text(0)?,
                        group: r.text(1)?,
                        status: r.text(2)?,
                        interviews: r.int(3)?.max(0) as u64,
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            Ok(Progress { by, rows })
        })
    }

    /// Counts for `fieldpost stats`, as (key, value) in a stable order.
    pub fn stats(&self) -> Result<Vec<(String, i64)>> {
        self.read(|sql| {
            let count = |sql: &mut dyn Sql, q: &str| -> Result<i64> {
                Ok(sql
                    .query(q, &[])?
                    .first()
                    .map(|r| r.int(0))
                    .transpose()?
                    .unwrap_or(0))
            };
            let mut out = Vec::new();
            for (key, q) in [
                ("surveys", "SELECT COUNT(*) FROM survey"),
                ("accounts", "SELECT COUNT(*) FROM account"),
                (
                    "assignments_official",
                    "SELECT COUNT(*) FROM assignment WHERE reserve = 0",
                ),
                (
                    "assignments_reserve",
                    "SELECT COUNT(*) FROM assignment WHERE reserve = 1",
                ),
                ("devices", "SELECT COUNT(*) FROM device"),
                (
                    "devices_revoked",
                    "SELECT COUNT(*) FROM device WHERE revoked_at IS NOT NULL",
                ),
                ("batches", "SELECT COUNT(*) FROM batch"),
                ("interviews", "SELECT COUNT(*) FROM interview"),
            ] {
                out.push((key.to_string(), count(sql, q)?));
            }
            for r in sql.query(
                "SELECT status, COUNT(*) FROM interview GROUP BY status ORDER BY status",
                &[],
            )? {
                out.push((format!("interviews_{}", r.text(0)?), r.int(1)?));
            }
            out.push((
                "incidents".to_string(),
                count(sql, "SELECT COUNT(*) FROM incident")?,
            ));
            for r in sql.query(
                "SELECT kind, COUNT(*) FROM incident GROUP BY kind ORDER BY kind",
                &[],
            )? {
                out.push((format!("incidents_{}", r.text(0)?), r.int(1)?));
            }
            Ok(out)
        })
    }

    /// Empties what ingest wrote (interviews, batches, incidents), before a rebuild from the
    /// archive. Surveys, accounts, assignments and devices stay.
    pub fn reset_ingest(&self) -> Result<()> {
        self.tx(|sql| {
            sql.batch("DELETE FROM interview; DELETE FROM batch; DELETE FROM incident;")?;
            Ok(())
        })
    }
}

fn check_versions(sql: &mut dyn Sql, b: &BatchCommit) -> Result<()> {
    let versions: BTreeSet<&str> = b
        .interviews
        .iter()
        .map(|i| i.questionnaire_version.as_str())
        .collect();
    for v in versions {
        let rows = sql.query(
            "SELECT 1 FROM questionnaire WHERE survey_id = $1 AND version = $2",
            &[b.survey_id.to_string().into(), v.into()],
        )?;
        if rows.is_empty() {
            return Err(StorageError::Invalid(format!(
                "questionnaire version {v:?} is not loaded for this survey"
            )));
        }
    }
    Ok(())
}

fn check_interview(
    sql: &mut dyn Sql,
    b: &BatchCommit,
    i: usize,
    iv: &IngestedInterview,
) -> Result<()> {
    let Some(place) = assignment_place(sql, iv.assignment_id)? else {
        return Err(StorageError::Invalid(format!(
            "item {i}: assignment {} is unknown",
            iv.assignment_id
        )));
    };
    if place.survey_id != b.survey_id {
        return Err(StorageError::Invalid(format!(
            "item {i}: the assignment belongs to another survey"
        )));
    }
    if place.enumerator_id != b.enumerator_id || iv.enumerator_id != b.enumerator_id {
        return Err(StorageError::Invalid(format!(
            "item {i}: the assignment is not given to this device's enumerator"
        )));
    }
    if (
        place.province.as_str(),
        place.commune.as_str(),
        place.stratum.as_str(),
    ) != (
        iv.province.as_str(),
        iv.commune.as_str(),
        iv.stratum.as_str(),
    ) {
        return Err(StorageError::Invalid(format!(
            "item {i}: province, commune or stratum differ from the assignment's"
        )));
    }
    Ok(())
}
