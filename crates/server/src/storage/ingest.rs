//! Batches, interviews and incidents: the exactly-once part.
//!
//! The unique key on `batch (device_id, sequence)` is what makes ingest exactly-once, across
//! retries, restarts and several server processes: the batch row and its interview rows are
//! written in one transaction, and a second upload of the same sequence finds the row and gets
//! the stored acknowledgement (same digest) or an incident (different digest).
//!
//! One interview counts per assignment. A second finished interview for an assignment that
//! already has one (another device of the enumerator, or the same device with a new interview
//! id) is stored too, with `duplicate_of` naming the one that counts, and recorded as a
//! `duplicate_interview` incident; the batch is acknowledged as usual, so the device purges it.
//! Which one counts:
//! - a completed interview before any non-response: a completed interview arriving after a final
//!   non-response for the same assignment replaces it (the household was interviewed after all;
//!   the coordinator sees the incident, e.g. for a reserve that non-response released);
//! - otherwise the first to arrive: a second completed interview, or a non-response after a
//!   completed interview or after another non-response, does not count.
//!
//! Non-final visits (nobody home, come back later) never leave the device, so a completed
//! interview after them is simply the assignment's first interview here.
//! The unique partial index `interview_counted (assignment_id) WHERE duplicate_of IS NULL` keeps
//! the rule across server processes racing on PostgreSQL: the later insert of a counted row
//! fails with a unique violation, and [`Storage::commit_batch`] runs the transaction again,
//! which then sees the other process's row. On SQLite the write transaction is taken at its
//! start (`BEGIN IMMEDIATE`), so commits never interleave.

use super::survey::assignment_place;
use super::{Result, Storage, StorageError, row_time, row_uuid, time_text};
use crate::db::{Row, Sql};
use chrono::{DateTime, SubsecRound, Utc};
use fieldpost_proto::v1::{self, BatchAck, DuplicateInterview, Progress, ProgressBy, ProgressRow};
use std::collections::{BTreeSet, HashMap};
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
    /// When committed alone (PostgreSQL); a group commit (SQLite) stores its own one time for
    /// all its batches instead.
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

/// The wire name of the incident a second interview for an assignment records.
pub const DUPLICATE_INTERVIEW: &str = "duplicate_interview";

/// Something to look into: a rejected batch, a sequence conflict, a duplicate interview.
///
/// Where it is placed (survey and province, which decide which coordinator sees it) is settled
/// when it is recorded: the assignment's, when one is named and it is given to the device's
/// enumerator; else the device's survey and its
/// enumerator's province when the enumerator works in one province, or `province` as given
/// when it is one of the enumerator's provinces; else none (only an admin sees it).
#[derive(Debug, Clone, Default)]
pub struct Incident {
    /// The error code (`forged_signature`, `sequence_conflict`, ...) or `duplicate_interview`.
    pub kind: String,
    pub device_id: Option<Uuid>,
    pub sequence: Option<u64>,
    pub digest: Option<String>,
    /// Technical detail; never respondents' data.
    pub detail: String,
    /// The assignment concerned, when known.
    pub assignment_id: Option<Uuid>,
    /// A hint (e.g. from the batch's signed header), checked against the enumerator's
    /// assignments before it is kept; see the type's documentation.
    pub province: Option<String>,
    /// For `duplicate_interview`.
    pub duplicate: Option<DuplicateInterview>,
}

/// Which interviews an incident list is for.
#[derive(Debug, Clone, Default)]
pub struct IncidentFilter {
    pub survey_id: Option<Uuid>,
    pub since: Option<DateTime<Utc>>,
    /// Only incidents placed in this province (a coordinator's).
    pub province: Option<String>,
    pub limit: u32,
}

/// The interview that counts for an assignment, as the commit sees it.
#[derive(Debug, Clone)]
struct Counted {
    id: Uuid,
    device_id: Uuid,
    status: String,
}

const COMPLETED: &str = "completed";

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

/// Survey and province of an incident (see [`Incident`]). Runs only when an incident is
/// recorded, never for a clean batch.
fn place_incident(sql: &mut dyn Sql, i: &Incident) -> Result<(Option<Uuid>, Option<String>)> {
    let Some(device_id) = i.device_id else {
        return Ok((None, None));
    };
    let rows = sql.query(
        "SELECT survey_id, account_id FROM device WHERE id = $1",
        &[device_id.to_string().into()],
    )?;
    let Some(r) = rows.first() else {
        return Ok((None, None));
    };
    let (survey, account) = (row_uuid(r, 0)?, row_uuid(r, 1)?);
    // The assignment, when it is the device's enumerator's own: an interview naming another
    // enumerator's assignment must not put the incident before that province's coordinator.
    if let Some(a) = i.assignment_id
        && let Some(place) = assignment_place(sql, a)?
        && place.survey_id == survey
        && place.enumerator_id == account
    {
        return Ok((Some(survey), Some(place.province)));
    }
    let provinces: Vec<String> = sql
        .query(
            "SELECT DISTINCT province FROM assignment WHERE survey_id = $1 AND enumerator_id = $2",
            &[survey.to_string().into(), account.to_string().into()],
        )?
        .iter()
        .map(|r| r.text(0))
        .collect::<std::result::Result<_, _>>()?;
    let province = match (provinces.as_slice(), &i.province) {
        ([one], _) => Some(one.clone()),
        (many, Some(hint)) if many.contains(hint) => Some(hint.clone()),
        _ => None,
    };
    Ok((Some(survey), province))
}

fn insert_incident(sql: &mut dyn Sql, i: &Incident) -> Result<()> {
    let (survey_id, province) = place_incident(sql, i)?;
    let text = |u: Option<Uuid>| -> crate::db::Value { u.map(|u| u.to_string()).into() };
    let dup = i.duplicate.as_ref();
    sql.execute(
        "INSERT INTO incident (id, at, kind, device_id, sequence, digest, detail, survey_id, province, \
         assignment_id, counted_interview_id, counted_device_id, duplicate_interview_id, duplicate_device_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
        &[
            Uuid::now_v7().to_string().into(),
            time_text(Utc::now()).into(),
            i.kind.as_str().into(),
            text(i.device_id),
            i.sequence.map(seq).transpose()?.into(),
            i.digest.clone().into(),
            i.detail.as_str().into(),
            text(survey_id),
            province.into(),
            text(i.assignment_id),
            text(dup.map(|d| d.counted_interview_id)),
            text(dup.map(|d| d.counted_device_id)),
            text(dup.map(|d| d.duplicate_interview_id)),
            text(dup.map(|d| d.duplicate_device_id)),
        ],
    )?;
    Ok(())
}

/// The interviews that count today for the batch's assignments: one query per batch, served
/// by the `interview_counted` index.
fn counted_for(
    sql: &mut dyn Sql,
    interviews: &[IngestedInterview],
) -> Result<HashMap<Uuid, Counted>> {
    let ids: BTreeSet<Uuid> = interviews.iter().map(|i| i.assignment_id).collect();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let marks: Vec<String> = (1..=ids.len()).map(|n| format!("${n}")).collect();
    let q = format!(
        "SELECT assignment_id, id, device_id, status FROM interview \
         WHERE duplicate_of IS NULL AND assignment_id IN ({})",
        marks.join(", ")
    );
    let params: Vec<crate::db::Value> = ids.iter().map(|a| a.to_string().into()).collect();
    sql.query(&q, &params)?
        .iter()
        .map(|r| {
            Ok((
                row_uuid(r, 0)?,
                Counted {
                    id: row_uuid(r, 1)?,
                    device_id: row_uuid(r, 2)?,
                    status: r.text(3)?,
                },
            ))
        })
        .collect()
}

/// Decides whether `iv` counts for its assignment, given what counts now (see the module
/// documentation). Returns the `duplicate_of` to store for `iv`, and the incident to record;
/// when `iv` replaces a counted non-response, that row is marked here.
fn judge_duplicate(
    sql: &mut dyn Sql,
    b: &BatchCommit,
    iv: &IngestedInterview,
    counted: &mut HashMap<Uuid, Counted>,
) -> Result<(Option<Uuid>, Option<Incident>)> {
    let arriving = Counted {
        id: iv.id,
        device_id: b.device_id,
        status: iv.status.clone(),
    };
    let Some(prior) = counted.get(&iv.assignment_id).cloned() else {
        counted.insert(iv.assignment_id, arriving);
        return Ok((None, None));
    };
    if prior.id == iv.id {
        // The same interview again: the insert finds its row and refuses the batch.
        return Ok((None, None));
    }
    let replaces = iv.status == COMPLETED && prior.status != COMPLETED;
    let (keep, drop) = if replaces {
        (&arriving, &prior)
    } else {
        (&prior, &arriving)
    };
    let detail = format!(
        "two finished interviews for one assignment: interview {} ({}, device {}) counts; \
         interview {} ({}, device {}) is kept but not counted{}",
        keep.id,
        keep.status,
        keep.device_id,
        drop.id,
        drop.status,
        drop.device_id,
        if replaces {
            "; the completed interview replaced the earlier non-response"
        } else {
            ""
        }
    );
    let incident = Incident {
        kind: DUPLICATE_INTERVIEW.into(),
        device_id: Some(b.device_id),
        sequence: Some(b.sequence),
        digest: Some(b.digest.clone()),
        detail,
        assignment_id: Some(iv.assignment_id),
        province: Some(iv.province.clone()),
        duplicate: Some(DuplicateInterview {
            counted_interview_id: keep.id,
            counted_device_id: keep.device_id,
            duplicate_interview_id: drop.id,
            duplicate_device_id: drop.device_id,
        }),
    };
    if !replaces {
        return Ok((Some(prior.id), Some(incident)));
    }
    // Marked before the new row is inserted, so the unique index never sees two counted rows.
    // Zero rows: another process marked it first; our insert then fails on the index and the
    // commit runs again.
    sql.execute(
        "UPDATE interview SET duplicate_of = $1 WHERE id = $2 AND duplicate_of IS NULL",
        &[iv.id.to_string().into(), prior.id.to_string().into()],
    )?;
    counted.insert(iv.assignment_id, arriving);
    Ok((None, Some(incident)))
}

impl Storage {
    /// The acknowledgement of (device, sequence), if that batch was ingested.
    pub fn acknowledged_batch(&self, device_id: Uuid, sequence: u64) -> Result<Option<BatchAck>> {
        self.read(|sql| find_batch(sql, device_id, sequence))
    }

    pub fn record_incident(&self, incident: &Incident) -> Result<()> {
        self.tx(|sql| insert_incident(sql, incident))
    }

    /// Writes a batch and its interviews, after checking each interview against its
    /// assignment and the survey's questionnaire versions; returns once the write is durable. A
    /// check that fails rolls the batch back and returns [`StorageError::Invalid`].
    ///
    /// On SQLite the batch joins the next group commit (see the `group` module: one
    /// transaction and one fsync for every batch waiting, a savepoint per batch); on
    /// PostgreSQL it commits in its own transaction.
    pub fn commit_batch(&self, b: BatchCommit) -> Result<CommitOutcome> {
        match &self.group {
            Some(g) => g.commit(b),
            None => self.commit_batch_alone(&b),
        }
    }

    fn commit_batch_alone(&self, b: &BatchCommit) -> Result<CommitOutcome> {
        let mut attempt = 1;
        loop {
            match self.tx(|sql| commit_in(sql, b, b.acknowledged_at)) {
                // Another server process (PostgreSQL) committed the same (device, sequence), or
                // a counted interview for one of our assignments, between our checks and our
                // inserts: run again, and the checks now see its rows. Each new attempt means
                // another process committed meanwhile, so a few attempts always suffice.
                Err(StorageError::Db(e)) if e.is_unique_violation() && attempt < 4 => {
                    attempt += 1;
                }
                other => return other,
            }
        }
    }

    /// Several batches in ONE transaction, each inside its own savepoint: a batch that fails is
    /// rolled back to its savepoint and gets its error, the others are kept. `Err` only when
    /// the transaction itself failed (nothing of the group was written).
    pub(super) fn commit_group(
        &self,
        batches: &[&BatchCommit],
    ) -> Result<Vec<Result<CommitOutcome>>> {
        self.tx(|sql| {
            // One time for the group: its batches are acknowledged by one commit. Microseconds,
            // as stored, so a repeated upload gets an identical acknowledgement.
            let at = Utc::now().trunc_subsecs(6);
            let mut out = Vec::with_capacity(batches.len());
            for b in batches {
                sql.batch("SAVEPOINT batch")?;
                match commit_in(sql, b, at) {
                    Ok(outcome) => {
                        sql.batch("RELEASE batch")?;
                        out.push(Ok(outcome));
                    }
                    Err(e) => {
                        sql.batch("ROLLBACK TO batch; RELEASE batch")?;
                        out.push(Err(e));
                    }
                }
            }
            Ok(out)
        })
    }

    /// Interviews by status per group; `province` limits the rows to one province. Each
    /// assignment counts once: interviews marked `duplicate_of` another are left out.
    pub fn progress(&self, by: ProgressBy, province: Option<&str>) -> Result<Progress> {
        let col = match by {
            ProgressBy::Province => "province",
            ProgressBy::Commune => "commune",
            ProgressBy::Stratum => "stratum",
            ProgressBy::Enumerator => "enumerator_id",
        };
        let (filter, params) = match province {
            Some(p) => (
                "WHERE duplicate_of IS NULL AND province = $1",
                vec![p.into()],
            ),
            None => ("WHERE duplicate_of IS NULL", vec![]),
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
                (
                    "interviews_duplicate",
                    "SELECT COUNT(*) FROM interview WHERE duplicate_of IS NOT NULL",
                ),
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

    /// Incidents newest first, as a coordinator or admin reads them.
    pub fn incidents(&self, f: &IncidentFilter) -> Result<Vec<v1::Incident>> {
        let mut conds = Vec::new();
        let mut params: Vec<crate::db::Value> = Vec::new();
        let mut cond = |c: &str, v: crate::db::Value| {
            params.push(v);
            conds.push(format!("{c} ${}", params.len()));
        };
        if let Some(s) = f.survey_id {
            cond("i.survey_id =", s.to_string().into());
        }
        if let Some(t) = f.since {
            cond("i.at >=", time_text(t).into());
        }
        if let Some(p) = &f.province {
            cond("i.province =", p.as_str().into());
        }
        let filter = if conds.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", conds.join(" AND "))
        };
        let q = format!(
            "SELECT i.id, i.at, i.kind, i.survey_id, i.province, i.device_id, i.sequence, a.code, i.detail, \
             i.counted_interview_id, i.counted_device_id, i.duplicate_interview_id, i.duplicate_device_id \
             FROM incident i LEFT JOIN assignment a ON a.id = i.assignment_id {filter} \
             ORDER BY i.at DESC, i.id DESC LIMIT {}",
            f.limit
        );
        let opt_uuid = |r: &Row, i: usize| -> Result<Option<Uuid>> {
            r.opt_text(i)?.map(|s| super::parse_uuid(&s)).transpose()
        };
        self.read(|sql| {
            sql.query(&q, &params)?
                .iter()
                .map(|r| {
                    let duplicate = match (
                        opt_uuid(r, 9)?,
                        opt_uuid(r, 10)?,
                        opt_uuid(r, 11)?,
                        opt_uuid(r, 12)?,
                    ) {
                        (Some(ci), Some(cd), Some(di), Some(dd)) => Some(DuplicateInterview {
                            counted_interview_id: ci,
                            counted_device_id: cd,
                            duplicate_interview_id: di,
                            duplicate_device_id: dd,
                        }),
                        _ => None,
                    };
                    Ok(v1::Incident {
                        id: row_uuid(r, 0)?,
                        at: row_time(r, 1)?,
                        kind: r.text(2)?,
                        survey_id: opt_uuid(r, 3)?,
                        province: r.opt_text(4)?,
                        device_id: opt_uuid(r, 5)?,
                        sequence: match r.0.get(6) {
                            Some(crate::db::Value::Int(n)) => {
                                Some(u64::try_from(*n).map_err(|_| {
                                    StorageError::Corrupt("incident sequence".into())
                                })?)
                            }
                            _ => None,
                        },
                        assignment_code: r.opt_text(7)?,
                        detail: r.text(8)?,
                        duplicate,
                    })
                })
                .collect()
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

/// One batch's writes inside the caller's transaction (see [`Storage::commit_batch`]), stored
/// as acknowledged at `at`.
fn commit_in(sql: &mut dyn Sql, b: &BatchCommit, at: DateTime<Utc>) -> Result<CommitOutcome> {
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
                ..Incident::default()
            },
        )?;
        return Ok(CommitOutcome::Conflict {
            acknowledged_digest: prior.digest,
        });
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
            time_text(at).into(),
        ],
    )?;
    let mut counted = counted_for(sql, &b.interviews)?;
    for (i, iv) in b.interviews.iter().enumerate() {
        check_interview(sql, b, i, iv)?;
        let (duplicate_of, incident) = judge_duplicate(sql, b, iv, &mut counted)?;
        let inserted = sql.execute(
            "INSERT INTO interview (id, survey_id, device_id, sequence, assignment_id, enumerator_id, \
             questionnaire_version, province, commune, stratum, status, started_at, ended_at, answers, \
             duplicate_of) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) ON CONFLICT (id) DO NOTHING",
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
                duplicate_of.map(|d| d.to_string()).into(),
            ],
        )?;
        if inserted == 0 {
            return Err(StorageError::Invalid(format!(
                "interview {} (item {i}) was already received in another batch",
                iv.id
            )));
        }
        if let Some(incident) = incident {
            insert_incident(sql, &incident)?;
        }
    }
    Ok(CommitOutcome::Acked(BatchAck {
        device_id: b.device_id,
        sequence: b.sequence,
        batch_id: b.batch_id,
        digest: b.digest.clone(),
        interviews: b.interviews.len() as u32,
        acknowledged_at: at,
    }))
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
