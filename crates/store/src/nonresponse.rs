//! Non-response: visits that found nobody, refusals, and the release of a
//! reserve when an official assignment ends without an interview.
//!
//! Every attempt is a `visit` row. "Nobody home" is final only after the
//! rule's number of visits; until then the interview stays a draft with a
//! revisit scheduled. Any other code is final at once. A final non-response
//! on an official assignment releases its paired reserve when the rule lists
//! the code, and the release is recorded (`reserve_release`).

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, TransactionBehavior, params};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::assignments::{enum_parse, enum_text, parse_uuid};
use crate::interviews::require_draft;
use crate::{Result, Store, StoreError, clock, crypto};

/// Why an interview did not happen.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NonResponseCode {
    /// The respondent refused.
    Refused,
    /// Nobody at home (final after the rule's number of visits).
    NobodyHome,
    /// The respondent moved away.
    Moved,
    /// Not eligible (e.g. under 18, not in the frame).
    Ineligible,
    /// Anything else (say what in the note).
    Other,
}

/// One non-response visit as the enumerator records it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NonResponse {
    /// Why there was no interview this time.
    pub code: NonResponseCode,
    /// Free text; may name people, so it is encrypted.
    pub note: Option<String>,
    /// When to come back (meaningful for "nobody home").
    pub revisit_at: Option<DateTime<Utc>>,
}

/// The survey's rule for non-response (configurable per survey).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReleaseRule {
    /// "Nobody home" becomes final at this visit (SIPAS practice: 3).
    pub nobody_home_visits: u32,
    /// Final codes that release the official assignment's reserve.
    pub release_on: Vec<NonResponseCode>,
}

impl Default for ReleaseRule {
    fn default() -> Self {
        ReleaseRule {
            nobody_home_visits: 3,
            release_on: vec![
                NonResponseCode::Refused,
                NonResponseCode::NobodyHome,
                NonResponseCode::Moved,
                NonResponseCode::Ineligible,
                NonResponseCode::Other,
            ],
        }
    }
}

/// What a recorded non-response led to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum NonResponseOutcome {
    /// Not final yet: the interview stays a draft, come back later.
    RevisitScheduled {
        /// Visits so far, this one included.
        visits: u32,
        /// When to come back.
        revisit_at: Option<DateTime<Utc>>,
    },
    /// The interview ended as a non-response; maybe a reserve was released.
    /// The interview ended as a non-response.
    Final {
        /// The reserve this released, if the rule and the pairing allowed.
        released_reserve: Option<Uuid>,
    },
}

/// A recorded reserve release.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReserveRelease {
    /// The reserve now open for interview.
    pub reserve_id: Uuid,
    /// The official assignment that was not interviewed.
    pub official_id: Uuid,
    /// Its non-response interview.
    pub interview_id: Uuid,
    /// The final code that released the reserve.
    pub code: NonResponseCode,
    /// When (UTC).
    pub released_at: DateTime<Utc>,
}

impl Store {
    /// Store the survey's non-response rule.
    pub fn set_release_rule(&mut self, rule: &ReleaseRule) -> Result<()> {
        if rule.nobody_home_visits == 0 {
            return Err(StoreError::InvalidInput(
                "nobody_home_visits must be at least 1".into(),
            ));
        }
        self.conn.execute(
            "INSERT INTO setting (key, value) VALUES ('release_rule', ?1) \
             ON CONFLICT (key) DO UPDATE SET value = ?1",
            [serde_json::to_string(rule)?],
        )?;
        Ok(())
    }

    /// The stored non-response rule, or the default.
    pub fn release_rule(&self) -> Result<ReleaseRule> {
        let text: Option<String> = self
            .conn
            .query_row(
                "SELECT value FROM setting WHERE key = 'release_rule'",
                [],
                |r| r.get(0),
            )
            .optional()?;
        Ok(match text {
            Some(t) => serde_json::from_str(&t)?,
            None => ReleaseRule::default(),
        })
    }

    /// Record a non-response visit on a draft interview, in one transaction:
    /// the visit, and when final the interview's status and the reserve release.
    pub fn record_non_response(
        &mut self,
        interview_id: Uuid,
        nr: &NonResponse,
    ) -> Result<NonResponseOutcome> {
        let rule = self.release_rule()?;
        let key = self.key.as_ref().ok_or(StoreError::Locked)?;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let interview = require_draft(&tx, interview_id)?;
        let now = Utc::now();
        let visit_id = Uuid::now_v7().to_string();
        let note = nr
            .note
            .as_ref()
            .map(|n| key.seal(&crypto::aad("visit", &[&visit_id]), n.as_bytes()))
            .transpose()?;
        let visits: u32 = tx.query_row(
            "SELECT count(*) + 1 FROM visit WHERE interview_id = ?1",
            [interview_id.to_string()],
            |r| r.get(0),
        )?;
        let is_final = nr.code != NonResponseCode::NobodyHome || visits >= rule.nobody_home_visits;
        tx.execute(
            "INSERT INTO visit (id, interview_id, at, code, final, revisit_at, note) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                visit_id,
                interview_id.to_string(),
                clock::fmt(now),
                enum_text(&nr.code)?,
                is_final,
                nr.revisit_at.map(clock::fmt),
                note
            ],
        )?;
        if !is_final {
            tx.commit()?;
            return Ok(NonResponseOutcome::RevisitScheduled {
                visits,
                revisit_at: nr.revisit_at,
            });
        }
        tx.execute(
            "UPDATE interview SET status = 'non_response', non_response_code = ?2, ended_at = ?3 \
             WHERE id = ?1",
            params![
                interview_id.to_string(),
                enum_text(&nr.code)?,
                clock::fmt(now)
            ],
        )?;
        let mut released_reserve = None;
        if rule.release_on.contains(&nr.code) {
            let reserve: Option<String> = tx
                .query_row(
                    "SELECT r.id FROM assignment o JOIN assignment r ON r.id = o.pair_id \
                     WHERE o.id = ?1 AND o.kind = 'official' AND r.kind = 'reserve' \
                     AND NOT EXISTS (SELECT 1 FROM reserve_release x WHERE x.reserve_id = r.id)",
                    [interview.assignment_id.to_string()],
                    |r| r.get(0),
                )
                .optional()?;
            if let Some(reserve) = reserve {
                tx.execute(
                    "INSERT INTO reserve_release (reserve_id, official_id, interview_id, code, \
                     released_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                    params![
                        reserve,
                        interview.assignment_id.to_string(),
                        interview_id.to_string(),
                        enum_text(&nr.code)?,
                        clock::fmt(now)
                    ],
                )?;
                released_reserve = Some(parse_uuid(&reserve)?);
            }
        }
        tx.commit()?;
        Ok(NonResponseOutcome::Final { released_reserve })
    }

    /// Every reserve release, oldest first (reported to the server at sync).
    pub fn reserve_releases(&self) -> Result<Vec<ReserveRelease>> {
        let mut stmt = self.conn.prepare(
            "SELECT reserve_id, official_id, interview_id, code, released_at \
             FROM reserve_release ORDER BY released_at",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok([r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?])
        })?;
        let mut out = Vec::new();
        for row in rows {
            let [reserve, official, interview, code, at]: [String; 5] = row?;
            out.push(ReserveRelease {
                reserve_id: parse_uuid(&reserve)?,
                official_id: parse_uuid(&official)?,
                interview_id: parse_uuid(&interview)?,
                code: enum_parse(&code)?,
                released_at: clock::parse(&at)?,
            });
        }
        Ok(out)
    }
}
