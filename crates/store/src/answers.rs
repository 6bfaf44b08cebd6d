//! Answers: autosaved one transaction per change, encrypted per row.
//!
//! A field path names one answer, with 0-based repeat row indices:
//! `age`, `members[2]/age`, `members[0]/jobs[1]/title`. The value is the form
//! engine's JSON value; the AAD binds (interview id, path) so a ciphertext
//! moved to another row or interview does not open. A repeat's row count is
//! kept apart from its answers, so an empty row still counts.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use crate::interviews::require_draft;
use crate::paradata::{self, ParadataEvent};
use crate::{Result, Store, StoreError, clock, crypto};

/// Longest field path accepted.
const MAX_PATH_LEN: usize = 512;

/// One stored answer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Answer {
    /// Field path, e.g. `members[2]/age` (0-based rows).
    pub path: String,
    /// The form engine's value.
    pub value: Value,
    /// When it was last saved (UTC).
    pub updated_at: DateTime<Utc>,
}

impl Store {
    /// Save one answer durably (its own transaction, fsynced before this
    /// returns), and record an `answer_changed` paradata event with the old
    /// and new value in the same transaction. `Value::Null` clears the answer.
    /// Only a draft interview can change.
    pub fn set_answer(&mut self, interview_id: Uuid, path: &str, value: &Value) -> Result<()> {
        check_path(path)?;
        let key = self.key.as_deref().ok_or(StoreError::Locked)?;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        require_draft(&tx, interview_id)?;
        let id = interview_id.to_string();
        let aad = crypto::aad("answer", &[&id, path]);
        let old = read_value(&tx, key, &id, path)?;
        if old.as_ref() == Some(value) || (old.is_none() && value.is_null()) {
            return Ok(());
        }
        let now = Utc::now();
        if value.is_null() {
            tx.execute(
                "DELETE FROM answer WHERE interview_id = ?1 AND path = ?2",
                params![id, path],
            )?;
        } else {
            let blob = key.seal(&aad, &serde_json::to_vec(value)?)?;
            tx.execute(
                "INSERT INTO answer (interview_id, path, value, updated_at) VALUES (?1, ?2, ?3, ?4) \
                 ON CONFLICT (interview_id, path) DO UPDATE SET value = ?3, updated_at = ?4",
                params![id, path, blob, clock::fmt(now)],
            )?;
        }
        let event = ParadataEvent::AnswerChanged {
            path: path.to_string(),
            from: old,
            to: (!value.is_null()).then(|| value.clone()),
        };
        paradata::insert(&tx, key, interview_id, now, &event)?;
        tx.commit()?;
        Ok(())
    }

    /// Every answer of an interview, by path: what the form engine needs to
    /// rebuild its state on resume. Empty after purge.
    pub fn answers(&self, interview_id: Uuid) -> Result<Vec<Answer>> {
        let key = self.key()?;
        crate::interviews::find(&self.conn, interview_id)?;
        let id = interview_id.to_string();
        let mut stmt = self.conn.prepare(
            "SELECT path, value, updated_at FROM answer WHERE interview_id = ?1 ORDER BY path",
        )?;
        let rows = stmt.query_map([&id], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, Vec<u8>>(1)?,
                r.get::<_, String>(2)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (path, blob, at) = row?;
            let value = open_value(key, &id, &path, &blob)?;
            out.push(Answer {
                path,
                value,
                updated_at: clock::parse(&at)?,
            });
        }
        Ok(out)
    }

    /// Row counts of every repeat of an interview (`"members" -> 3`).
    pub fn repeat_rows(&self, interview_id: Uuid) -> Result<BTreeMap<String, u32>> {
        let mut stmt = self
            .conn
            .prepare("SELECT repeat_path, rows FROM repeat_count WHERE interview_id = ?1")?;
        let rows = stmt.query_map([interview_id.to_string()], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Add a row at the end of a repeat (`"members"` or, nested,
    /// `"members[0]/jobs"`); returns its 0-based index.
    pub fn add_repeat_row(&mut self, interview_id: Uuid, repeat: &str) -> Result<u32> {
        check_path(repeat)?;
        let key = self.key.as_deref().ok_or(StoreError::Locked)?;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        require_draft(&tx, interview_id)?;
        let index = row_count(&tx, interview_id, repeat)?;
        set_row_count(&tx, interview_id, repeat, index + 1)?;
        let event = ParadataEvent::RepeatRowAdded {
            repeat: repeat.to_string(),
            index,
        };
        paradata::insert(&tx, key, interview_id, Utc::now(), &event)?;
        tx.commit()?;
        Ok(index)
    }

    /// Record that a repeat has `rows` rows, for rows the form engine made itself (a repeat
    /// starts with one row, as in ODK). Only grows: rows go away through
    /// [`Store::remove_repeat_row`], which also removes their answers.
    pub fn set_repeat_rows(&mut self, interview_id: Uuid, repeat: &str, rows: u32) -> Result<()> {
        check_path(repeat)?;
        self.key()?;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        require_draft(&tx, interview_id)?;
        let current = row_count(&tx, interview_id, repeat)?;
        if rows < current {
            return Err(StoreError::InvalidInput(format!(
                "{repeat} has {current} rows; remove rows one by one, not by count"
            )));
        }
        set_row_count(&tx, interview_id, repeat, rows)?;
        tx.commit()?;
        Ok(())
    }

    /// Remove row `index` of a repeat with its answers (and nested repeats);
    /// later rows move up one place, their answers re-encrypted under their
    /// new paths. One transaction: all or nothing.
    pub fn remove_repeat_row(
        &mut self,
        interview_id: Uuid,
        repeat: &str,
        index: u32,
    ) -> Result<()> {
        check_path(repeat)?;
        let key = self.key.as_deref().ok_or(StoreError::Locked)?;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        require_draft(&tx, interview_id)?;
        let rows = row_count(&tx, interview_id, repeat)?;
        if index >= rows {
            return Err(StoreError::InvalidInput(format!(
                "{repeat} has {rows} rows, there is no row {index}"
            )));
        }
        let id = interview_id.to_string();
        let prefix = format!("{repeat}[");
        let moved = load_under(&tx, key, &id, &prefix)?;
        tx.execute(
            "DELETE FROM answer WHERE interview_id = ?1 AND substr(path, 1, length(?2)) = ?2",
            params![id, prefix],
        )?;
        let now = clock::fmt(Utc::now());
        for (path, value) in moved {
            let Some(new_path) = shift_path(&path, &prefix, index) else {
                continue;
            };
            let blob = key.seal(
                &crypto::aad("answer", &[&id, &new_path]),
                &serde_json::to_vec(&value)?,
            )?;
            tx.execute(
                "INSERT INTO answer (interview_id, path, value, updated_at) VALUES (?1, ?2, ?3, ?4)",
                params![id, new_path, blob, now],
            )?;
        }
        shift_nested_counts(&tx, &id, &prefix, index)?;
        set_row_count(&tx, interview_id, repeat, rows - 1)?;
        let event = ParadataEvent::RepeatRowRemoved {
            repeat: repeat.to_string(),
            index,
        };
        paradata::insert(&tx, key, interview_id, Utc::now(), &event)?;
        tx.commit()?;
        Ok(())
    }
}

/// Paths are text the form engine made; refuse what cannot be one.
fn check_path(path: &str) -> Result<()> {
    if path.is_empty() || path.len() > MAX_PATH_LEN || path.chars().any(char::is_control) {
        return Err(StoreError::InvalidInput(format!(
            "a field path must be 1 to {MAX_PATH_LEN} printable characters"
        )));
    }
    Ok(())
}

fn open_value(key: &crypto::DataKey, id: &str, path: &str, blob: &[u8]) -> Result<Value> {
    let plain = key.open(
        &crypto::aad("answer", &[id, path]),
        blob,
        &format!("answer {path} of interview {id}"),
    )?;
    Ok(serde_json::from_slice(&plain)?)
}

fn read_value(
    conn: &Connection,
    key: &crypto::DataKey,
    id: &str,
    path: &str,
) -> Result<Option<Value>> {
    let blob: Option<Vec<u8>> = conn
        .query_row(
            "SELECT value FROM answer WHERE interview_id = ?1 AND path = ?2",
            [id, path],
            |r| r.get(0),
        )
        .optional()?;
    blob.map(|b| open_value(key, id, path, &b)).transpose()
}

fn load_under(
    conn: &Connection,
    key: &crypto::DataKey,
    id: &str,
    prefix: &str,
) -> Result<Vec<(String, Value)>> {
    let mut stmt = conn.prepare(
        "SELECT path, value FROM answer WHERE interview_id = ?1 AND substr(path, 1, length(?2)) = ?2",
    )?;
    let rows = stmt.query_map(params![id, prefix], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, Vec<u8>>(1)?))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (path, blob) = row?;
        let value = open_value(key, id, &path, &blob)?;
        out.push((path, value));
    }
    Ok(out)
}

/// Where a path under `prefix` (`members[`) goes when row `removed` goes:
/// `None` for the removed row, one index lower after it, unchanged before.
fn shift_path(path: &str, prefix: &str, removed: u32) -> Option<String> {
    let rest = path.strip_prefix(prefix)?;
    let close = rest.find(']')?;
    let row: u32 = rest[..close].parse().ok()?;
    let tail = &rest[close..];
    match row.cmp(&removed) {
        std::cmp::Ordering::Less => Some(path.to_string()),
        std::cmp::Ordering::Equal => None,
        std::cmp::Ordering::Greater => Some(format!("{prefix}{}{tail}", row - 1)),
    }
}

/// Move or drop the row counts of repeats nested in the shifted rows.
fn shift_nested_counts(conn: &Connection, id: &str, prefix: &str, removed: u32) -> Result<()> {
    let mut stmt = conn.prepare(
        "SELECT repeat_path, rows FROM repeat_count WHERE interview_id = ?1 \
         AND substr(repeat_path, 1, length(?2)) = ?2",
    )?;
    let nested: Vec<(String, u32)> = stmt
        .query_map(params![id, prefix], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    conn.execute(
        "DELETE FROM repeat_count WHERE interview_id = ?1 AND substr(repeat_path, 1, length(?2)) = ?2",
        params![id, prefix],
    )?;
    for (path, rows) in nested {
        if let Some(new_path) = shift_path(&path, prefix, removed) {
            conn.execute(
                "INSERT INTO repeat_count (interview_id, repeat_path, rows) VALUES (?1, ?2, ?3)",
                params![id, new_path, rows],
            )?;
        }
    }
    Ok(())
}

fn row_count(conn: &Connection, interview_id: Uuid, repeat: &str) -> Result<u32> {
    Ok(conn
        .query_row(
            "SELECT rows FROM repeat_count WHERE interview_id = ?1 AND repeat_path = ?2",
            params![interview_id.to_string(), repeat],
            |r| r.get(0),
        )
        .optional()?
        .unwrap_or(0))
}

fn set_row_count(conn: &Connection, interview_id: Uuid, repeat: &str, rows: u32) -> Result<()> {
    conn.execute(
        "INSERT INTO repeat_count (interview_id, repeat_path, rows) VALUES (?1, ?2, ?3) \
         ON CONFLICT (interview_id, repeat_path) DO UPDATE SET rows = ?3",
        params![interview_id.to_string(), repeat, rows],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::shift_path;

    #[test]
    fn shift_path_moves_later_rows_only() {
        assert_eq!(shift_path("m[0]/age", "m[", 1), Some("m[0]/age".into()));
        assert_eq!(shift_path("m[1]/age", "m[", 1), None);
        assert_eq!(
            shift_path("m[12]/j[3]/t", "m[", 1),
            Some("m[11]/j[3]/t".into())
        );
        assert_eq!(shift_path("mx[2]/age", "m[", 1), None);
    }
}
