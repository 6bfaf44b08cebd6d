//! Assignments: who to interview, where, and whether they are an official
//! sample member or a reserve. The respondent's name, phone and address are
//! one encrypted blob per assignment; codes, stratum and dates stay in clear
//! so progress can be counted without the PIN.

use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::{OptionalExtension, Row, params};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::nonresponse::NonResponseCode;
use crate::{Result, Store, StoreError, clock, crypto};

/// Official sample member or reserve (used only when its official pair is released).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AssignmentKind {
    /// Part of the drawn sample: interviewed first.
    Official,
    /// Replacement, released when its official pair is a final non-response.
    Reserve,
}

/// What is sampled: one person, or one household.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    /// One person (the 2017-2021 service-user design).
    Person,
    /// One household (2022 onward).
    Household,
}

/// The personal fields of an assignment: encrypted at rest.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Personal {
    /// Respondent or household head.
    pub name: String,
    /// Contact phone, if the sample frame has one.
    pub phone: Option<String>,
    /// Where to find the respondent.
    pub address: String,
}

/// One sampled respondent or household given to one enumerator.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assignment {
    /// Id given by the server (UUIDv7).
    pub id: Uuid,
    /// Official or reserve.
    pub kind: AssignmentKind,
    /// For an official assignment its reserve, for a reserve its official.
    pub pair_id: Option<Uuid>,
    /// Person or household.
    pub unit: Unit,
    /// 2-digit province code.
    pub province_code: String,
    /// 5-digit commune code.
    pub commune_code: String,
    /// Village (thôn, tổ dân phố) code.
    pub village_code: String,
    /// Sampling stratum (quota cell).
    pub stratum: String,
    /// Enumerator the assignment is given to.
    pub enumerator: String,
    /// The questionnaire (form id) this assignment is interviewed with.
    pub form_id: String,
    /// Date the interview is due, if set.
    pub due_date: Option<NaiveDate>,
    /// Name, phone, address (encrypted at rest).
    pub personal: Personal,
}

/// Input of [`Store::import_assignments`]: the same fields.
pub type NewAssignment = Assignment;

/// Where an assignment stands, for the enumerator's list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum AssignmentStatus {
    /// Not visited yet.
    NotStarted,
    /// An interview is in progress (draft).
    InProgress {
        /// The draft interview.
        interview_id: Uuid,
    },
    /// Nobody was home; a revisit is due (the interview is still a draft).
    RevisitScheduled {
        /// The draft interview.
        interview_id: Uuid,
        /// Non-response visits so far.
        visits: u32,
        /// When the enumerator planned to come back.
        revisit_at: Option<DateTime<Utc>>,
    },
    /// Interviewed.
    Completed {
        /// The completed interview.
        interview_id: Uuid,
    },
    /// Ended without an interview.
    NonResponse {
        /// The interview that recorded it.
        interview_id: Uuid,
        /// Why.
        code: NonResponseCode,
    },
    /// A reserve whose official pair has not been released: do not visit.
    ReserveHeld,
}

/// An assignment with its status.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssignmentView {
    /// The assignment, personal fields decrypted.
    pub assignment: Assignment,
    /// Where it stands.
    pub status: AssignmentStatus,
}

/// Assignments of one village, as the list screen groups them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssignmentGroup {
    /// Province code.
    pub province_code: String,
    /// Commune code.
    pub commune_code: String,
    /// Village code.
    pub village_code: String,
    /// The village's assignments.
    pub assignments: Vec<AssignmentView>,
}

const COLUMNS: &str = "a.id, a.kind, a.pair_id, a.unit, a.province_code, a.commune_code, \
     a.village_code, a.stratum, a.enumerator, a.form_id, a.due_date, a.personal";

impl Store {
    /// Add or update assignments (as delivered at enrolment or sync), all in
    /// one transaction: either all are saved or none. Needs the store unlocked.
    pub fn import_assignments(&mut self, assignments: &[NewAssignment]) -> Result<usize> {
        let key = self.key.as_deref().ok_or(StoreError::Locked)?;
        let tx = self.conn.transaction()?;
        for a in assignments {
            if a.pair_id == Some(a.id) {
                return Err(StoreError::InvalidInput(format!(
                    "assignment {} is paired with itself",
                    a.id
                )));
            }
            let id = a.id.to_string();
            let personal = key.seal(
                &crypto::aad("assignment", &[&id]),
                &serde_json::to_vec(&a.personal)?,
            )?;
            tx.execute(
                "INSERT INTO assignment (id, kind, pair_id, unit, province_code, commune_code, \
                 village_code, stratum, enumerator, form_id, due_date, personal) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12) \
                 ON CONFLICT (id) DO UPDATE SET kind = ?2, pair_id = ?3, unit = ?4, \
                 province_code = ?5, commune_code = ?6, village_code = ?7, stratum = ?8, \
                 enumerator = ?9, form_id = ?10, due_date = ?11, personal = ?12",
                params![
                    id,
                    enum_text(&a.kind)?,
                    a.pair_id.map(|p| p.to_string()),
                    enum_text(&a.unit)?,
                    a.province_code,
                    a.commune_code,
                    a.village_code,
                    a.stratum,
                    a.enumerator,
                    a.form_id,
                    a.due_date.map(|d| d.format("%Y-%m-%d").to_string()),
                    personal,
                ],
            )?;
        }
        tx.commit().map_err(|e| match StoreError::from(e) {
            StoreError::Database(e) => StoreError::InvalidInput(format!(
                "an assignment's pair is not among the assignments ({e})"
            )),
            other => other,
        })?;
        Ok(assignments.len())
    }

    /// One assignment with its personal fields decrypted.
    pub fn assignment(&self, id: Uuid) -> Result<Assignment> {
        let key = self.key()?;
        let sql = format!("SELECT {COLUMNS} FROM assignment a WHERE a.id = ?1");
        let raw = self
            .conn
            .query_row(&sql, [id.to_string()], RawAssignment::read)
            .optional()?
            .ok_or_else(|| StoreError::NotFound {
                what: "assignment",
                id: id.to_string(),
            })?;
        raw.decrypt(key)
    }

    /// Every assignment with its status, grouped by province, commune and
    /// village (in code order; officials before reserves within a village).
    pub fn list_assignments(&self) -> Result<Vec<AssignmentGroup>> {
        let key = self.key()?;
        let sql = format!(
            "SELECT {COLUMNS}, i.id, i.status, i.non_response_code, \
               (SELECT count(*) FROM visit v WHERE v.interview_id = i.id), \
               (SELECT v.revisit_at FROM visit v WHERE v.interview_id = i.id \
                  ORDER BY v.at DESC LIMIT 1), \
               EXISTS (SELECT 1 FROM reserve_release r WHERE r.reserve_id = a.id) \
             FROM assignment a LEFT JOIN interview i ON i.assignment_id = a.id \
             ORDER BY a.province_code, a.commune_code, a.village_code, a.kind, a.id"
        );
        let mut stmt = self.conn.prepare(&sql)?;
        let rows = stmt.query_map([], |r| {
            let raw = RawAssignment::read(r)?;
            let status = RawStatus {
                interview_id: r.get(12)?,
                status: r.get(13)?,
                code: r.get(14)?,
                visits: r.get(15)?,
                revisit_at: r.get(16)?,
                released: r.get(17)?,
            };
            Ok((raw, status))
        })?;
        let mut groups: Vec<AssignmentGroup> = Vec::new();
        for row in rows {
            let (raw, status) = row?;
            let assignment = raw.decrypt(key)?;
            let status = status.into_status(assignment.kind)?;
            let same_place = groups.last().is_some_and(|g| {
                g.province_code == assignment.province_code
                    && g.commune_code == assignment.commune_code
                    && g.village_code == assignment.village_code
            });
            if !same_place {
                groups.push(AssignmentGroup {
                    province_code: assignment.province_code.clone(),
                    commune_code: assignment.commune_code.clone(),
                    village_code: assignment.village_code.clone(),
                    assignments: Vec::new(),
                });
            }
            if let Some(group) = groups.last_mut() {
                group
                    .assignments
                    .push(AssignmentView { assignment, status });
            }
        }
        Ok(groups)
    }
}

/// An assignment row before decryption.
struct RawAssignment {
    cols: [String; 9],
    pair_id: Option<String>,
    due_date: Option<String>,
    personal: Vec<u8>,
}

impl RawAssignment {
    fn read(r: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(RawAssignment {
            cols: [
                r.get(0)?,
                r.get(1)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
                r.get(7)?,
                r.get(8)?,
                r.get(9)?,
            ],
            pair_id: r.get(2)?,
            due_date: r.get(10)?,
            personal: r.get(11)?,
        })
    }

    fn decrypt(self, key: &crypto::DataKey) -> Result<Assignment> {
        let [
            id,
            kind,
            unit,
            province,
            commune,
            village,
            stratum,
            enumerator,
            form_id,
        ] = self.cols;
        let plain = key.open(
            &crypto::aad("assignment", &[&id]),
            &self.personal,
            &format!("assignment {id}"),
        )?;
        Ok(Assignment {
            id: parse_uuid(&id)?,
            kind: enum_parse(&kind)?,
            pair_id: self.pair_id.as_deref().map(parse_uuid).transpose()?,
            unit: enum_parse(&unit)?,
            province_code: province,
            commune_code: commune,
            village_code: village,
            stratum,
            enumerator,
            form_id,
            due_date: clock::parse_date(self.due_date)?,
            personal: serde_json::from_slice(&plain)?,
        })
    }
}

/// The interview columns joined to an assignment.
struct RawStatus {
    interview_id: Option<String>,
    status: Option<String>,
    code: Option<String>,
    visits: u32,
    revisit_at: Option<String>,
    released: bool,
}

impl RawStatus {
    fn into_status(self, kind: AssignmentKind) -> Result<AssignmentStatus> {
        let Some(id) = self.interview_id else {
            return Ok(if kind == AssignmentKind::Reserve && !self.released {
                AssignmentStatus::ReserveHeld
            } else {
                AssignmentStatus::NotStarted
            });
        };
        let interview_id = parse_uuid(&id)?;
        Ok(match (self.status.as_deref(), self.code) {
            (Some("completed"), _) => AssignmentStatus::Completed { interview_id },
            (Some("non_response"), Some(code)) => AssignmentStatus::NonResponse {
                interview_id,
                code: enum_parse(&code)?,
            },
            (Some("draft"), _) if self.visits > 0 => AssignmentStatus::RevisitScheduled {
                interview_id,
                visits: self.visits,
                revisit_at: clock::parse_opt(self.revisit_at)?,
            },
            (Some("draft"), _) => AssignmentStatus::InProgress { interview_id },
            (other, _) => {
                return Err(StoreError::Damaged(format!(
                    "interview {id} has status {other:?}"
                )));
            }
        })
    }
}

/// A serde enum's text form (`"official"`), as stored in TEXT columns.
pub(crate) fn enum_text<T: Serialize>(value: &T) -> Result<String> {
    match serde_json::to_value(value)? {
        serde_json::Value::String(s) => Ok(s),
        other => Err(StoreError::InvalidInput(format!(
            "expected a plain name, got {other}"
        ))),
    }
}

/// Parse a TEXT column written by [`enum_text`].
pub(crate) fn enum_parse<T: serde::de::DeserializeOwned>(text: &str) -> Result<T> {
    serde_json::from_value(serde_json::Value::String(text.to_string()))
        .map_err(|e| StoreError::Damaged(format!("stored name {text:?}: {e}")))
}

/// Parse a stored UUID.
pub(crate) fn parse_uuid(text: &str) -> Result<Uuid> {
    Uuid::parse_str(text).map_err(|e| StoreError::Damaged(format!("stored id {text:?}: {e}")))
}
