//! Paradata: how the interview happened (questions entered and left, answers
//! changed, GPS fixes). Only the interview and the time stay in clear; the whole
//! event (its kind, paths, old and new values, coordinates) is encrypted. The kind was
//! a clear column before schema 4: "three `answer_changed` then `repeat_row_added`"
//! already says something about a household, so it went inside the ciphertext.
//! What remains visible is the number of events per interview and their times.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, params};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use crate::{Result, Store, clock, crypto};

/// One thing that happened during an interview.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ParadataEvent {
    /// The enumerator arrived at a question.
    QuestionEntered {
        /// The question's field path.
        path: String,
    },
    /// The enumerator moved on from a question.
    QuestionLeft {
        /// The question's field path.
        path: String,
    },
    /// Written by [`Store::set_answer`] itself, in the same transaction.
    AnswerChanged {
        /// The answer's field path.
        path: String,
        /// The value before (None: unanswered).
        from: Option<Value>,
        /// The value after (None: cleared).
        to: Option<Value>,
    },
    /// A repeat row was added.
    RepeatRowAdded {
        /// The repeat's path.
        repeat: String,
        /// The new row's index.
        index: u32,
    },
    /// A repeat row was removed.
    RepeatRowRemoved {
        /// The repeat's path.
        repeat: String,
        /// The removed row's index.
        index: u32,
    },
    /// Only where the enumerator allowed location.
    GpsFix {
        /// Degrees north.
        latitude: f64,
        /// Degrees east.
        longitude: f64,
        /// Accuracy radius in metres, if known.
        accuracy_m: Option<f64>,
    },
}

impl ParadataEvent {
    /// The kind's name (inside the encrypted payload, as its `kind` tag).
    pub fn kind(&self) -> &'static str {
        match self {
            ParadataEvent::QuestionEntered { .. } => "question_entered",
            ParadataEvent::QuestionLeft { .. } => "question_left",
            ParadataEvent::AnswerChanged { .. } => "answer_changed",
            ParadataEvent::RepeatRowAdded { .. } => "repeat_row_added",
            ParadataEvent::RepeatRowRemoved { .. } => "repeat_row_removed",
            ParadataEvent::GpsFix { .. } => "gps_fix",
        }
    }
}

/// A stored event with its number and UTC time.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ParadataRecord {
    /// Recording order on this device (increasing).
    pub seq: u64,
    /// When it happened (UTC).
    pub at: DateTime<Utc>,
    /// What happened.
    pub event: ParadataEvent,
}

impl Store {
    /// Record a paradata event of a (not purged) interview at time `at`.
    pub fn record_paradata(
        &mut self,
        interview_id: Uuid,
        at: DateTime<Utc>,
        event: &ParadataEvent,
    ) -> Result<u64> {
        let key = self.key()?;
        let interview = crate::interviews::find(&self.conn, interview_id)?;
        if interview.purged_at.is_some() {
            return Err(crate::StoreError::InvalidState(format!(
                "interview {interview_id} was sent and purged; it takes no more paradata"
            )));
        }
        insert(&self.conn, key, interview_id, at, event)
    }

    /// All paradata of an interview, in the order it was recorded.
    pub fn paradata(&self, interview_id: Uuid) -> Result<Vec<ParadataRecord>> {
        let key = self.key()?;
        let mut stmt = self.conn.prepare(
            "SELECT seq, at, payload FROM paradata WHERE interview_id = ?1 ORDER BY seq",
        )?;
        let interview = interview_id.to_string();
        let rows = stmt.query_map([&interview], |r| {
            Ok((
                r.get::<_, u64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Vec<u8>>(2)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (seq, at, payload) = row?;
            let plain = key.open(
                &crypto::aad("paradata", &[&interview, &seq.to_string()]),
                &payload,
                &format!("paradata {seq} of interview {interview}"),
            )?;
            out.push(ParadataRecord {
                seq,
                at: clock::parse(&at)?,
                event: serde_json::from_slice(&plain)?,
            });
        }
        Ok(out)
    }
}

/// Insert one event (inside the caller's transaction, if any). The number
/// is chosen before encrypting because the AAD binds it.
pub(crate) fn insert(
    conn: &Connection,
    key: &crypto::DataKey,
    interview_id: Uuid,
    at: DateTime<Utc>,
    event: &ParadataEvent,
) -> Result<u64> {
    let seq: u64 = conn.query_row("SELECT coalesce(max(seq), 0) + 1 FROM paradata", [], |r| {
        r.get(0)
    })?;
    let interview = interview_id.to_string();
    let payload = key.seal(
        &crypto::aad("paradata", &[&interview, &seq.to_string()]),
        &serde_json::to_vec(event)?,
    )?;
    conn.execute(
        "INSERT INTO paradata (seq, interview_id, at, payload) VALUES (?1, ?2, ?3, ?4)",
        params![seq, interview, clock::fmt(at), payload],
    )?;
    Ok(seq)
}
