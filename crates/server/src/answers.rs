//! Checking a decrypted interview's answers against its questionnaire version, at ingest.
//!
//! What is checked is what the server can check without replaying the interview: every answer
//! names a field of the form (paths like `phan_a/tinh`, repeat rows as `members[2]/age`), and
//! its value has the shape the field stores (a whole number for an integer, a choice of the list
//! for a select, a date, ...), by the same rules the form engine applies on the device
//! ([`fieldpost_form::interview::values::normalize`]). Relevance and constraints are the
//! device's job: they were checked when the answer was given, with the data the device had.
//!
//! Ingest must stay fast (thousands of interviews a second), so each version's compiled form is
//! parsed once and kept, with an index from field path to node ([`FormChecks`]).
//!
//! Messages name the item, the path and the field's type, never the value: incidents are read
//! by operators and must not hold respondents' data.

use crate::storage::{Storage, StorageError};
use fieldpost_form::interview::values::normalize;
use fieldpost_form::model::{DataType, NodeKind};
use fieldpost_form::{Answer, Form, NodeId};
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use uuid::Uuid;

/// One questionnaire version, ready to check answers against.
pub struct AnswerChecker {
    form: Form,
    /// Field path (repeat rows without index) to node.
    fields: HashMap<String, NodeId>,
}

impl AnswerChecker {
    pub fn new(form: Form) -> Self {
        let fields = form
            .nodes
            .iter()
            .enumerate()
            .filter(|(_, n)| n.kind == NodeKind::Field)
            .map(|(i, n)| (n.path.clone(), i))
            .collect();
        Self { form, fields }
    }

    /// Checks one interview's answers; the error says which answer and why, without its value.
    pub fn check(&self, answers: &Map<String, Value>) -> Result<(), String> {
        for (path, value) in answers {
            let id = self
                .field(path)
                .ok_or_else(|| format!("answer {path:?} names no field of the questionnaire"))?;
            let node = &self.form.nodes[id];
            if !self.fits(id, value) {
                let list = node
                    .list_name
                    .as_deref()
                    .map(|l| format!(" of list {l:?}"))
                    .unwrap_or_default();
                return Err(format!(
                    "answer {path:?} does not fit its field ({}{list})",
                    node.type_word
                ));
            }
        }
        Ok(())
    }

    /// The field an answer path names: each segment may carry a repeat row index (`[n]`).
    fn field(&self, path: &str) -> Option<NodeId> {
        if !path.contains('[') {
            return self.fields.get(path).copied();
        }
        let mut plain = String::with_capacity(path.len());
        for (i, seg) in path.split('/').enumerate() {
            let name = match seg.split_once('[') {
                Some((name, rest)) => {
                    let index = rest.strip_suffix(']')?;
                    if index.is_empty() || !index.bytes().all(|b| b.is_ascii_digit()) {
                        return None;
                    }
                    name
                }
                None => seg,
            };
            if i > 0 {
                plain.push('/');
            }
            plain.push_str(name);
        }
        self.fields.get(&plain).copied()
    }

    fn fits(&self, id: NodeId, value: &Value) -> bool {
        let node = &self.form.nodes[id];
        let answer = match value {
            // Cleared, or never answered (not relevant).
            Value::Null => return true,
            Value::Number(n) => match n.as_f64() {
                Some(f) => Answer::Number(f),
                None => return false,
            },
            Value::String(s) => Answer::Text(s.clone()),
            Value::Array(items) => {
                let mut names = Vec::with_capacity(items.len());
                for item in items {
                    match item {
                        Value::String(s) => names.push(s.clone()),
                        _ => return false,
                    }
                }
                Answer::List(names)
            }
            Value::Bool(_) | Value::Object(_) => return false,
        };
        match node.data_type {
            // A photo, recording or file travels as its file name; the engine refuses media in
            // scripted interviews, so the file name is accepted here.
            DataType::Binary => matches!(answer, Answer::Text(_)),
            _ => normalize(&self.form, node, &answer).is_ok(),
        }
    }
}

/// Why a version cannot be checked against.
#[derive(Debug, thiserror::Error)]
pub enum ChecksError {
    /// The version was never loaded for this survey.
    #[error("questionnaire version {0:?} is not loaded for this survey")]
    UnknownVersion(String),
    /// The stored form cannot be read (edited by hand, or a newer schema).
    #[error("questionnaire version {version:?} cannot be read: {reason}")]
    Unreadable { version: String, reason: String },
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// The checkers of the versions seen so far, shared by all ingest threads. Versions are
/// immutable (see `Storage::put_questionnaire`), so an entry never goes stale.
#[derive(Clone, Default)]
pub struct FormChecks {
    loaded: Arc<Mutex<Loaded>>,
}

/// Checkers by (survey, questionnaire version).
type Loaded = HashMap<(Uuid, String), Arc<AnswerChecker>>;

impl FormChecks {
    /// The checker of a survey's questionnaire version, loaded and parsed on first use.
    pub fn get(
        &self,
        storage: &Storage,
        survey_id: Uuid,
        version: &str,
    ) -> Result<Arc<AnswerChecker>, ChecksError> {
        let key = (survey_id, version.to_string());
        if let Some(c) = self.lock().get(&key) {
            return Ok(c.clone());
        }
        // Loaded outside the lock: two threads may both parse a new version once; the second
        // insert replaces an identical checker.
        let Some((compiled, xlsform)) = storage.questionnaire_for_checks(survey_id, version)?
        else {
            return Err(ChecksError::UnknownVersion(version.to_string()));
        };
        let unreadable = |reason: String| ChecksError::Unreadable {
            version: version.to_string(),
            reason,
        };
        let form = match compiled {
            Some(json) => Form::from_json(&json).map_err(unreadable)?,
            // Stored before uploads were compiled: compile the workbook now.
            None => {
                fieldpost_form::import_xlsform(&xlsform)
                    .map_err(|e| unreadable(e.to_string()))?
                    .form
            }
        };
        let checker = Arc::new(AnswerChecker::new(form));
        self.lock().insert(key, checker.clone());
        Ok(checker)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Loaded> {
        // A panic elsewhere while holding the lock leaves a map that is still consistent.
        self.loaded.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sipas() -> AnswerChecker {
        let bytes = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../assets/forms/sipas-2024.xlsx"
        ))
        .expect("SIPAS workbook");
        AnswerChecker::new(
            fieldpost_form::import_xlsform(&bytes)
                .expect("compiles")
                .form,
        )
    }

    fn answers(v: Value) -> Map<String, Value> {
        v.as_object().expect("object").clone()
    }

    /// The shipped valid interview passes: every path and value a real device sends.
    #[test]
    fn the_sample_interview_fits_the_sipas_form() {
        let steps: Vec<Value> = serde_json::from_str(
            &std::fs::read_to_string(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../assets/forms/sipas/sample-answers.json"
            ))
            .expect("sample answers"),
        )
        .expect("JSON");
        let mut map = Map::new();
        for s in steps {
            if let (Some(p), Some(v)) = (s.get("set").and_then(Value::as_str), s.get("value")) {
                map.insert(p.to_string(), v.clone());
            }
        }
        assert!(map.len() > 50);
        sipas().check(&map).expect("valid");
    }

    #[test]
    fn unknown_paths_and_misfit_values_are_named_without_the_value() {
        let c = sipas();
        let err = c
            .check(&answers(json!({"gioi_tinh": "nam"})))
            .expect_err("top-level path does not exist");
        assert!(err.contains("\"gioi_tinh\" names no field"), "{err}");
        let err = c
            .check(&answers(json!({"phan_a/nam_sinh": "Nguyễn Văn A"})))
            .expect_err("text in an integer field");
        assert!(
            err.contains("phan_a/nam_sinh") && err.contains("integer"),
            "{err}"
        );
        assert!(
            !err.contains("Nguyễn"),
            "no respondent data in messages: {err}"
        );
        let err = c
            .check(&answers(json!({"phan_a/gioi_tinh": "khong_phai_lua_chon"})))
            .expect_err("not a choice");
        assert!(err.contains("gioi_tinh"), "{err}");
        assert!(
            c.check(&answers(json!({"phan_a/gioi_tinh": true})))
                .is_err()
        );
        assert!(c.check(&answers(json!({"phan_a/gioi_tinh": null}))).is_ok());
        assert!(
            c.check(&answers(json!({"phan_a": "x"}))).is_err(),
            "a group is no field"
        );
    }

    use fieldpost_form::testkit::workbook;

    #[test]
    fn repeat_rows_are_addressed_by_index() {
        let xlsx = workbook(&[(
            "survey",
            &[
                &["type", "name", "label"],
                &["begin_repeat", "members", "Members"],
                &["integer", "age", "Age"],
                &["end_repeat", "", ""],
            ],
        )]);
        let c = AnswerChecker::new(
            fieldpost_form::import_xlsform(&xlsx)
                .expect("compiles")
                .form,
        );
        for ok in [
            "members[1]/age",
            "members[0]/age",
            "members[12]/age",
            "members/age",
        ] {
            assert!(c.check(&answers(json!({ ok: 41 }))).is_ok(), "{ok}");
        }
        for bad in [
            "members[x]/age",
            "members[]/age",
            "members[1/age",
            "members[1]/name",
        ] {
            let err = c.check(&answers(json!({ bad: 41 }))).expect_err(bad);
            assert!(err.contains("names no field"), "{err}");
        }
        assert!(c.check(&answers(json!({"members[2]/age": 4.5}))).is_err());
    }
}
