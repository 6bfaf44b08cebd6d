//! Answers: autosaved one transaction per change, in one encrypted document per interview.
//!
//! A field path names one answer, with 0-based repeat row indices:
//! `age`, `members[2]/age`, `members[0]/jobs[1]/title`. The value is the form
//! engine's JSON value. A repeat's row count is kept apart from its answers, so an empty
//! row still counts.
//!
//! Why one document, not a row per path: a clear `(interview_id, path)` key tells anyone
//! holding the file which questions were relevant, and from skip logic that can give an
//! answer away ("has `pregnancy/*` rows" means a woman of child-bearing age) without the
//! key. So every answer and repeat count of an interview sits in one AES-256-GCM document
//! (`answer_doc`, AAD: the interview id, so a document moved to another interview does not
//! open), padded to whole KiB so its length tells only roughly how much was answered. Each
//! change decrypts, edits and re-encrypts the document in the same single transaction as
//! before: a few KiB of AES-GCM and JSON, microseconds beside the fsync (`BENCH
//! store_autosave_*`).

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

/// Documents are padded (with JSON whitespace) to a multiple of this many bytes.
const DOC_PADDING: usize = 1024;

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

/// The plaintext of an interview's `answer_doc`: short keys, every byte is re-encrypted
/// on each autosave.
#[derive(Default, Serialize, Deserialize)]
struct Doc {
    /// Path -> (value, saved at in microseconds since 1970 UTC).
    #[serde(rename = "a", default)]
    answers: BTreeMap<String, (Value, i64)>,
    /// Repeat path -> row count.
    #[serde(rename = "r", default)]
    repeats: BTreeMap<String, u32>,
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
        let mut doc = load_doc(&tx, key, &id)?;
        let old = doc.answers.get(path).map(|(v, _)| v.clone());
        if old.as_ref() == Some(value) || (old.is_none() && value.is_null()) {
            return Ok(());
        }
        let now = Utc::now();
        if value.is_null() {
            doc.answers.remove(path);
        } else {
            doc.answers
                .insert(path.to_string(), (value.clone(), now.timestamp_micros()));
        }
        save_doc(&tx, key, &id, &doc)?;
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
        let doc = load_doc(&self.conn, key, &interview_id.to_string())?;
        doc.answers
            .into_iter()
            .map(|(path, (value, at))| {
                let updated_at = DateTime::from_timestamp_micros(at).ok_or_else(|| {
                    StoreError::Damaged(format!("answer {path} has an impossible time"))
                })?;
                Ok(Answer {
                    path,
                    value,
                    updated_at,
                })
            })
            .collect()
    }

    /// Row counts of every repeat of an interview (`"members" -> 3`). Needs the store
    /// unlocked: which repeats have rows is as telling as the answers.
    pub fn repeat_rows(&self, interview_id: Uuid) -> Result<BTreeMap<String, u32>> {
        let key = self.key()?;
        Ok(load_doc(&self.conn, key, &interview_id.to_string())?.repeats)
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
        let id = interview_id.to_string();
        let mut doc = load_doc(&tx, key, &id)?;
        let index = doc.repeats.get(repeat).copied().unwrap_or(0);
        doc.repeats.insert(repeat.to_string(), index + 1);
        save_doc(&tx, key, &id, &doc)?;
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
        let key = self.key.as_deref().ok_or(StoreError::Locked)?;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        require_draft(&tx, interview_id)?;
        let id = interview_id.to_string();
        let mut doc = load_doc(&tx, key, &id)?;
        let current = doc.repeats.get(repeat).copied().unwrap_or(0);
        if rows < current {
            return Err(StoreError::InvalidInput(format!(
                "{repeat} has {current} rows; remove rows one by one, not by count"
            )));
        }
        if rows == current {
            return Ok(());
        }
        doc.repeats.insert(repeat.to_string(), rows);
        save_doc(&tx, key, &id, &doc)?;
        tx.commit()?;
        Ok(())
    }

    /// Remove row `index` of a repeat with its answers (and nested repeats);
    /// later rows move up one place. One transaction: all or nothing.
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
        let id = interview_id.to_string();
        let mut doc = load_doc(&tx, key, &id)?;
        let rows = doc.repeats.get(repeat).copied().unwrap_or(0);
        if index >= rows {
            return Err(StoreError::InvalidInput(format!(
                "{repeat} has {rows} rows, there is no row {index}"
            )));
        }
        let prefix = format!("{repeat}[");
        let now = Utc::now().timestamp_micros();
        let answers = std::mem::take(&mut doc.answers);
        for (path, (value, at)) in answers {
            if !path.starts_with(&prefix) {
                doc.answers.insert(path, (value, at));
            } else if let Some(new_path) = shift_path(&path, &prefix, index) {
                let at = if new_path == path { at } else { now };
                doc.answers.insert(new_path, (value, at));
            }
        }
        let repeats = std::mem::take(&mut doc.repeats);
        for (path, n) in repeats {
            if !path.starts_with(&prefix) {
                doc.repeats.insert(path, n);
            } else if let Some(new_path) = shift_path(&path, &prefix, index) {
                doc.repeats.insert(new_path, n);
            }
        }
        doc.repeats.insert(repeat.to_string(), rows - 1);
        save_doc(&tx, key, &id, &doc)?;
        let event = ParadataEvent::RepeatRowRemoved {
            repeat: repeat.to_string(),
            index,
        };
        paradata::insert(&tx, key, interview_id, Utc::now(), &event)?;
        tx.commit()?;
        Ok(())
    }
}

/// The number of answers in the interviews' documents (for the purge report).
pub(crate) fn count_answers(conn: &Connection, key: &crypto::DataKey, id: &str) -> Result<usize> {
    Ok(load_doc(conn, key, id)?.answers.len())
}

/// Move answers and repeat counts stored before schema 4 (clear `(interview_id, path)`
/// rows, each value encrypted on its own) into the interviews' documents, in one
/// transaction with `secure_delete` on, then empty the log, so the clear paths leave the
/// file. Runs at unlock (it needs the data key); nothing to do on a store made at schema
/// 4 or already converted.
pub(crate) fn convert_legacy_rows(store: &mut Store) -> Result<()> {
    let legacy: bool = store.conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM answer) OR EXISTS (SELECT 1 FROM repeat_count)",
        [],
        |r| r.get(0),
    )?;
    if !legacy {
        return Ok(());
    }
    let key = store.key.clone().ok_or(StoreError::Locked)?;
    store.conn.pragma_update(None, "secure_delete", true)?;
    let moved = move_legacy_rows(&mut store.conn, &key);
    store.conn.pragma_update(None, "secure_delete", false)?;
    moved?;
    match store
        .conn
        .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
    {
        Err(rusqlite::Error::SqliteFailure(e, _))
            if e.code == rusqlite::ErrorCode::DatabaseBusy => {}
        other => other?,
    }
    Ok(())
}

fn move_legacy_rows(conn: &mut Connection, key: &crypto::DataKey) -> Result<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let ids: Vec<String> = tx
        .prepare("SELECT interview_id FROM answer UNION SELECT interview_id FROM repeat_count")?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    for id in ids {
        let mut doc = load_doc(&tx, key, &id)?;
        let rows: Vec<(String, Vec<u8>, String)> = tx
            .prepare("SELECT path, value, updated_at FROM answer WHERE interview_id = ?1")?
            .query_map([&id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<rusqlite::Result<_>>()?;
        for (path, blob, at) in rows {
            let plain = key.open(
                &crypto::aad("answer", &[&id, &path]),
                &blob,
                &format!("answer {path} of interview {id}"),
            )?;
            let value: Value = serde_json::from_slice(&plain)?;
            let at = clock::parse(&at)?.timestamp_micros();
            doc.answers.insert(path, (value, at));
        }
        let counts: Vec<(String, u32)> = tx
            .prepare("SELECT repeat_path, rows FROM repeat_count WHERE interview_id = ?1")?
            .query_map([&id], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        doc.repeats.extend(counts);
        save_doc(&tx, key, &id, &doc)?;
    }
    tx.execute_batch("DELETE FROM answer; DELETE FROM repeat_count;")?;
    tx.commit()?;
    Ok(())
}

fn doc_aad(id: &str) -> Vec<u8> {
    crypto::aad("answer_doc", &[id])
}

/// The interview's document, or an empty one when it has none yet.
fn load_doc(conn: &Connection, key: &crypto::DataKey, id: &str) -> Result<Doc> {
    let blob: Option<Vec<u8>> = conn
        .query_row(
            "SELECT doc FROM answer_doc WHERE interview_id = ?1",
            [id],
            |r| r.get(0),
        )
        .optional()?;
    let Some(blob) = blob else {
        return Ok(Doc::default());
    };
    let plain = key.open(&doc_aad(id), &blob, &format!("answers of interview {id}"))?;
    Ok(serde_json::from_slice(&plain)?)
}

fn save_doc(conn: &Connection, key: &crypto::DataKey, id: &str, doc: &Doc) -> Result<()> {
    let mut plain = serde_json::to_vec(doc)?;
    let padded = plain.len().div_ceil(DOC_PADDING).max(1) * DOC_PADDING;
    plain.resize(padded, b' ');
    let blob = key.seal(&doc_aad(id), &plain)?;
    conn.execute(
        "INSERT INTO answer_doc (interview_id, doc) VALUES (?1, ?2)          ON CONFLICT (interview_id) DO UPDATE SET doc = ?2",
        params![id, blob],
    )?;
    Ok(())
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
