//! The interview commands: the form engine decides (relevance, calculations, validation,
//! screens), the store remembers (every answer in its own durable transaction). The engine's
//! state is rebuilt from the store when an interview is opened, so what the enumerator sees
//! after a crash is exactly what was saved.

use crate::device::keys;
use crate::screen::{self, Meta};
use crate::{error, paths};
use chrono::{FixedOffset, Local};
use fieldpost_form::{Answer, Environment, Form, Interview as Engine};
use fieldpost_proto::app::{CommandError, ErrorCode, Review, ScreenView};
use fieldpost_store::{InterviewStatus, ParadataEvent, Store};
use std::collections::HashMap;
use uuid::Uuid;

/// The device's clock and randomness, for `now()`, `random()` and `uuid()` in forms.
///
/// While the engine is being built (`live` false) the clock reads the interview's start: the
/// engine is rebuilt from the store each time the interview is opened, and what it records "when
/// the form opens" (`start`, `today`, calculations evaluated then) must be the first opening,
/// not the latest. Once built, the clock is live.
struct DeviceEnvironment {
    started_at: chrono::DateTime<chrono::Utc>,
    live: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl Environment for DeviceEnvironment {
    fn now(&self) -> chrono::DateTime<FixedOffset> {
        if self.live.load(std::sync::atomic::Ordering::Relaxed) {
            Local::now().fixed_offset()
        } else {
            self.started_at.with_timezone(&Local).fixed_offset()
        }
    }
    fn random(&self) -> f64 {
        fastrand::f64()
    }
    fn uuid(&self) -> String {
        Uuid::now_v7().to_string()
    }
}

/// An interview open on screen: the engine's state and where the enumerator is.
pub struct Open {
    pub id: Uuid,
    pub assignment_id: Uuid,
    pub assignment_name: String,
    pub read_only: bool,
    pub engine: Engine,
    /// Index of the screen shown; kept across skips by the question it shows.
    pub screen: usize,
}

impl Open {
    pub fn view(&self) -> ScreenView {
        screen::view(
            &self.engine,
            self.screen,
            &Meta {
                interview_id: self.id,
                assignment_id: self.assignment_id,
                assignment_name: &self.assignment_name,
                read_only: self.read_only,
            },
        )
    }

    /// The first question of the current screen (for paradata and resuming).
    fn anchor(&self) -> Option<String> {
        let screens = self.engine.screens();
        let s = screens.get(self.screen)?;
        s.questions.first().cloned()
    }
}

/// Starts or resumes the interview of an assignment and opens it at the screen the enumerator
/// last entered.
pub fn open(store: &mut Store, assignment_id: Uuid, language: &str) -> Result<Open, CommandError> {
    let assignment = store.assignment(assignment_id).map_err(error::store)?;
    let enumerator = store
        .setting(keys::ENUMERATOR)
        .map_err(error::store)?
        .unwrap_or_else(|| assignment.enumerator.clone());
    let (version, _) = store
        .latest_questionnaire(&assignment.form_id)
        .map_err(error::store)?
        .ok_or_else(|| {
            CommandError::new(
                ErrorCode::QuestionnaireUnavailable,
                format!("no questionnaire {} on this device", assignment.form_id),
            )
        })?;
    let iv = store
        .start_or_resume(assignment_id, &version, &enumerator)
        .map_err(error::store)?;
    let json = store
        .questionnaire(&iv.form_id, &iv.form_version)
        .map_err(error::store)?
        .ok_or_else(|| {
            CommandError::new(
                ErrorCode::QuestionnaireUnavailable,
                format!(
                    "questionnaire {} {} is missing",
                    iv.form_id, iv.form_version
                ),
            )
        })?;
    let form = Form::from_json(&json)
        .map_err(|e| CommandError::new(ErrorCode::QuestionnaireUnavailable, e))?;
    let mut engine = rebuild(store, iv.id, form)?;
    engine.set_language(language);
    let mut open = Open {
        id: iv.id,
        assignment_id,
        assignment_name: assignment.personal.name.clone(),
        read_only: iv.status != InterviewStatus::Draft,
        engine,
        screen: 0,
    };
    if let Some(path) = last_entered(store, iv.id)? {
        open.screen = screen::index_of(&open.engine.screens(), &path).unwrap_or(0);
    }
    if !open.read_only {
        enter(store, &open)?;
    }
    Ok(open)
}

/// The engine's state from what the store holds: repeat rows first (outer before inner), then
/// every answer.
fn rebuild(store: &Store, id: Uuid, form: Form) -> Result<Engine, CommandError> {
    let live = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let env = DeviceEnvironment {
        started_at: store.interview(id).map_err(error::store)?.started_at,
        live: live.clone(),
    };
    let mut engine = Engine::new(form, Box::new(env), &HashMap::new())
        .map_err(|e| CommandError::new(ErrorCode::QuestionnaireUnavailable, e.to_string()))?;
    let mut rows: Vec<(String, u32)> = store
        .repeat_rows(id)
        .map_err(error::store)?
        .into_iter()
        .collect();
    rows.sort_by_key(|(p, _)| p.matches('/').count());
    for (repeat, count) in rows {
        let repeat = paths::to_engine(&repeat);
        while engine.row_count(&repeat).unwrap_or(usize::MAX) < count as usize {
            engine.add_row(&repeat).map_err(error::internal)?;
        }
    }
    for a in store.answers(id).map_err(error::store)? {
        let Some(answer) = to_answer(&a.value) else {
            continue;
        };
        // An answer the engine no longer takes (a field removed by a form fix) stays in the
        // store and travels to the server; the screen simply does not show it.
        let _ = engine.set(&paths::to_engine(&a.path), answer.as_ref());
    }
    live.store(true, std::sync::atomic::Ordering::Relaxed);
    Ok(engine)
}

/// The path of the question the enumerator last arrived at, from the paradata.
fn last_entered(store: &Store, id: Uuid) -> Result<Option<String>, CommandError> {
    Ok(store
        .paradata(id)
        .map_err(error::store)?
        .into_iter()
        .rev()
        .find_map(|r| match r.event {
            ParadataEvent::QuestionEntered { path } => Some(paths::to_engine(&path)),
            _ => None,
        }))
}

fn enter(store: &mut Store, open: &Open) -> Result<(), CommandError> {
    mark(store, open, |path| ParadataEvent::QuestionEntered { path })
}

fn leave(store: &mut Store, open: &Open) -> Result<(), CommandError> {
    mark(store, open, |path| ParadataEvent::QuestionLeft { path })
}

/// Records `event` for the question the screen is anchored on (none on an empty screen).
fn mark(
    store: &mut Store,
    open: &Open,
    event: fn(String) -> ParadataEvent,
) -> Result<(), CommandError> {
    if let Some(path) = open.anchor() {
        store
            .record_paradata(open.id, chrono::Utc::now(), &event(paths::to_store(&path)))
            .map_err(error::store)?;
    }
    Ok(())
}

/// Records leaving screen `from` and entering the current one.
fn moved(store: &mut Store, open: &mut Open, from: usize) -> Result<(), CommandError> {
    let to = open.screen;
    open.screen = from;
    leave(store, open)?;
    open.screen = to;
    enter(store, open)
}

/// Moves to screen `index` (back, next, or a jump), recording the question timings.
pub fn show(store: &mut Store, open: &mut Open, index: usize) -> Result<ScreenView, CommandError> {
    let total = open.engine.screens().len();
    if index >= total {
        return Err(error::not_found(format!(
            "screen {index} (the interview has {total} screens now)"
        )));
    }
    let from = open.screen;
    open.screen = index;
    if !open.read_only && index != from {
        moved(store, open, from)?;
    }
    Ok(open.view())
}

/// A JSON value from the UI as the engine's answer: `None` clears.
fn to_answer(value: &serde_json::Value) -> Option<Option<Answer>> {
    use serde_json::Value;
    match value {
        Value::Null => Some(None),
        Value::String(s) if s.is_empty() => Some(None),
        Value::String(s) => Some(Some(Answer::Text(s.clone()))),
        Value::Number(n) => n.as_f64().map(|f| Some(Answer::Number(f))),
        Value::Array(items) => {
            let list: Option<Vec<String>> = items
                .iter()
                .map(|v| v.as_str().map(str::to_string))
                .collect();
            list.map(|l| {
                if l.is_empty() {
                    None
                } else {
                    Some(Answer::List(l))
                }
            })
        }
        Value::Bool(_) | Value::Object(_) => None,
    }
}

fn writable(open: &Open) -> Result<(), CommandError> {
    if open.read_only {
        return Err(CommandError::new(
            ErrorCode::ReadOnly,
            "this interview is finished and cannot change",
        ));
    }
    Ok(())
}

/// Saves one answer: checked by the engine, then written durably; the screen is redrawn with
/// what it changed (skips, calculations, errors). If the write fails (a full disk), the engine is
/// rebuilt from the store, so the screen never shows an answer that was not saved.
pub fn set_answer(
    store: &mut Store,
    open: &mut Open,
    path: &str,
    value: &serde_json::Value,
) -> Result<ScreenView, CommandError> {
    writable(open)?;
    let answer = to_answer(value).ok_or_else(|| {
        CommandError::new(
            ErrorCode::InvalidAnswer,
            format!("{path}: an answer is text, a number or a list of choices"),
        )
    })?;
    let anchor = open.anchor();
    open.engine
        .set(path, answer.as_ref())
        .map_err(|e| CommandError::new(ErrorCode::InvalidAnswer, e.to_string()))?;
    let stored = match &answer {
        None => serde_json::Value::Null,
        Some(_) => value.clone(),
    };
    if let Err(e) = store.set_answer(open.id, &paths::to_store(path), &stored) {
        reload(store, open)?;
        return Err(error::store(e));
    }
    // Stay on (or go to) the screen with the question answered; if the answer hid it, stay
    // with the screen's first question.
    let before = open.screen;
    if !keep_place(open, path) {
        keep_place(open, anchor.as_deref().unwrap_or(path));
    }
    if open.screen != before {
        moved(store, open, before)?;
    }
    Ok(open.view())
}

/// After a change, stay on the screen showing the same question.
fn keep_place(open: &mut Open, path: &str) -> bool {
    match screen::index_of(&open.engine.screens(), path) {
        Some(i) => {
            open.screen = i;
            true
        }
        None => false,
    }
}

fn reload(store: &Store, open: &mut Open) -> Result<(), CommandError> {
    let form = open.engine.form().clone();
    let language = open.engine.language().to_string();
    open.engine = rebuild(store, open.id, form)?;
    open.engine.set_language(&language);
    Ok(())
}

/// Adds a row to a repeat (`members`) and shows its first screen.
pub fn add_row(
    store: &mut Store,
    open: &mut Open,
    repeat: &str,
) -> Result<ScreenView, CommandError> {
    writable(open)?;
    let before = open.engine.row_count(repeat).unwrap_or(0) as u32;
    let changes = open
        .engine
        .add_row(repeat)
        .map_err(|e| CommandError::new(ErrorCode::InvalidAnswer, e.to_string()))?;
    let saved = store
        .set_repeat_rows(open.id, &paths::to_store(repeat), before)
        .and_then(|_| store.add_repeat_row(open.id, &paths::to_store(repeat)));
    if let Err(e) = saved {
        reload(store, open)?;
        return Err(error::store(e));
    }
    if let Some(row) = changes.rows_added.first() {
        let screens = open.engine.screens();
        if let Some(i) = screens
            .iter()
            .position(|s| s.questions.iter().any(|q| q.starts_with(row.as_str())))
        {
            open.screen = i;
        }
    }
    Ok(open.view())
}

/// Removes a repeat row (`members[2]`) with its answers; later rows move up.
pub fn remove_row(
    store: &mut Store,
    open: &mut Open,
    row: &str,
) -> Result<ScreenView, CommandError> {
    writable(open)?;
    let (repeat, _, number) = paths::innermost_row(row)
        .filter(|(_, r, _)| r == row)
        .ok_or_else(|| error::not_found(format!("'{row}' is not a repeat row")))?;
    let count = open.engine.row_count(&repeat).unwrap_or(0) as u32;
    open.engine
        .remove_row(row)
        .map_err(|e| CommandError::new(ErrorCode::InvalidAnswer, e.to_string()))?;
    let repeat_store = paths::to_store(&repeat);
    let saved = store
        .set_repeat_rows(open.id, &repeat_store, count)
        .and_then(|_| store.remove_repeat_row(open.id, &repeat_store, number as u32 - 1));
    if let Err(e) = saved {
        reload(store, open)?;
        return Err(error::store(e));
    }
    let last = open.engine.screens().len().saturating_sub(1);
    open.screen = open.screen.min(last);
    Ok(open.view())
}

pub fn review(open: &Open) -> Review {
    let (answered, questions_total) = screen::counts(&open.engine);
    Review {
        interview_id: open.id,
        problems: screen::review(&open.engine),
        answered,
        questions_total,
    }
}

/// Completes the interview if the engine finds nothing missing or invalid.
pub fn complete(store: &mut Store, open: &mut Open) -> Result<(), CommandError> {
    writable(open)?;
    let problems = screen::review(&open.engine);
    if !problems.is_empty() {
        return Err(CommandError::new(
            ErrorCode::Incomplete,
            format!(
                "{} answers missing or invalid, first: {}",
                problems.len(),
                problems[0].path
            ),
        ));
    }
    leave(store, open)?;
    store.complete(open.id).map_err(error::store)?;
    open.read_only = true;
    Ok(())
}

#[cfg(test)]
mod repeat_tests {
    use super::*;
    use fieldpost_store::{AssignmentKind, NewAssignment, Personal, Unit};

    use fieldpost_form::testkit::workbook;

    /// A household roster: a repeat of members, rebuilt from the store after every change.
    #[test]
    fn repeat_rows_added_and_removed_survive_a_reopen() {
        let survey: &[&[&str]] = &[
            &["type", "name", "label"],
            &["begin repeat", "members", "Member"],
            &["text", "name", "Name"],
            &["end repeat", "members", ""],
        ];
        let settings: &[&[&str]] = &[&["form_id", "version"], &["roster", "1"]];
        let form = fieldpost_form::import_xlsform(&workbook(&[
            ("survey", survey),
            ("settings", settings),
        ]))
        .expect("compiles")
        .form;
        let dir = tempfile::tempdir().expect("temp dir");
        let mut store = Store::open(&dir.path().join("s.sqlite")).expect("store");
        store
            .set_up_pin_with_iterations("246810", 1_000)
            .expect("pin");
        store
            .save_questionnaire("roster", "1", &form.to_json())
            .expect("form");
        let assignment = Uuid::now_v7();
        store
            .import_assignments(&[NewAssignment {
                id: assignment,
                kind: AssignmentKind::Official,
                pair_id: None,
                unit: Unit::Household,
                province_code: "01".into(),
                commune_code: "00004".into(),
                village_code: "Thôn 1".into(),
                stratum: "urban".into(),
                enumerator: "enum1".into(),
                form_id: "roster".into(),
                due_date: None,
                personal: Personal {
                    name: "HN-1".into(),
                    phone: None,
                    address: "Thôn 1".into(),
                },
            }])
            .expect("assignment");

        let mut open = open(&mut store, assignment, "vi").expect("opens");
        set_answer(
            &mut store,
            &mut open,
            "members[1]/name",
            &serde_json::json!("An"),
        )
        .expect("row 1");
        let v = add_row(&mut store, &mut open, "members").expect("row 2");
        assert_eq!(
            v.questions[0].path, "members[2]/name",
            "the new row is shown"
        );
        assert_eq!(v.repeat.as_ref().map(|r| (r.index, r.count)), Some((1, 2)));
        set_answer(
            &mut store,
            &mut open,
            "members[2]/name",
            &serde_json::json!("Bình"),
        )
        .expect("2");
        add_row(&mut store, &mut open, "members").expect("row 3");
        set_answer(
            &mut store,
            &mut open,
            "members[3]/name",
            &serde_json::json!("Chi"),
        )
        .expect("3");
        remove_row(&mut store, &mut open, "members[2]").expect("removes Bình");

        let id = open.id;
        let reopened = super::open(&mut store, assignment, "vi").expect("reopens");
        assert_eq!(reopened.id, id);
        assert_eq!(reopened.engine.row_count("members"), Some(2));
        assert_eq!(
            reopened.engine.value("members[1]/name").as_deref(),
            Some("An")
        );
        assert_eq!(
            reopened.engine.value("members[2]/name").as_deref(),
            Some("Chi")
        );
        let stored: Vec<(String, serde_json::Value)> = store
            .answers(id)
            .expect("answers")
            .into_iter()
            .map(|a| (a.path, a.value))
            .collect();
        assert_eq!(
            stored,
            vec![
                ("members[0]/name".to_string(), serde_json::json!("An")),
                ("members[1]/name".to_string(), serde_json::json!("Chi")),
            ],
            "the store counts rows from 0"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::to_answer;
    use fieldpost_form::Answer;
    use serde_json::json;

    #[test]
    fn ui_values_map_to_engine_answers() {
        assert_eq!(to_answer(&json!(null)), Some(None));
        assert_eq!(to_answer(&json!("")), Some(None));
        assert_eq!(
            to_answer(&json!("01")),
            Some(Some(Answer::Text("01".into())))
        );
        assert_eq!(to_answer(&json!(1980)), Some(Some(Answer::Number(1980.0))));
        assert_eq!(
            to_answer(&json!(["a", "b"])),
            Some(Some(Answer::List(vec!["a".into(), "b".into()])))
        );
        assert_eq!(to_answer(&json!([1])), None);
        assert_eq!(to_answer(&json!({"x": 1})), None);
    }
}
