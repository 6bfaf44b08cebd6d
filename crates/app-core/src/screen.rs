//! Drawing instructions for the UI, derived from the form engine's state: the screen at an
//! index, the sections to jump to, the review list. Pure functions of the engine, so they are
//! tested without a store or a window.

use crate::paths;
use fieldpost_form::Interview as Engine;
use fieldpost_form::interview::nav::Screen;
use fieldpost_form::model::{DataType, NodeKind};
use fieldpost_proto::app::{
    ChoiceView, QuestionKind, QuestionView, RepeatView, ReviewItem, ScreenView, SectionView,
};
use uuid::Uuid;

/// What the screen needs besides the engine.
pub struct Meta<'a> {
    pub interview_id: Uuid,
    pub assignment_id: Uuid,
    pub assignment_name: &'a str,
    pub read_only: bool,
}

/// The screen at `index` (clamped to the screens that exist now).
pub fn view(engine: &Engine, index: usize, meta: &Meta) -> ScreenView {
    let screens = engine.screens();
    let index = index.min(screens.len().saturating_sub(1));
    let screen = screens.get(index);
    let questions: Vec<QuestionView> = screen
        .map(|s| {
            s.questions
                .iter()
                .filter_map(|p| engine.shown(p).ok())
                .map(|q| question(q, meta.read_only))
                .collect()
        })
        .unwrap_or_default();
    let first = screen.and_then(|s| s.group.clone().or_else(|| s.questions.first().cloned()));
    let (answered, questions_total) = counts(engine);
    ScreenView {
        interview_id: meta.interview_id,
        assignment_id: meta.assignment_id,
        assignment_name: meta.assignment_name.to_string(),
        form_title: engine
            .form()
            .settings
            .form_title
            .clone()
            .unwrap_or_default(),
        index,
        total: screens.len(),
        section: first.as_deref().and_then(|p| section_label(engine, p)),
        group_label: screen
            .and_then(|s| s.group.as_deref())
            .and_then(|g| engine.label(g)),
        group_appearance: screen
            .and_then(|s| s.group.as_deref())
            .and_then(|g| engine.appearance(g)),
        repeat: first.as_deref().and_then(|p| repeat(engine, p)),
        sections: sections(engine, &screens),
        questions,
        read_only: meta.read_only,
        answered,
        questions_total,
    }
}

/// The screen that shows `path` (a question, or a field-list group).
pub fn index_of(screens: &[Screen], path: &str) -> Option<usize> {
    screens
        .iter()
        .position(|s| s.group.as_deref() == Some(path) || s.questions.iter().any(|q| q == path))
}

fn question(q: fieldpost_form::Shown, read_only: bool) -> QuestionView {
    let kind = match (q.type_word.as_str(), q.data_type) {
        ("note", _) => QuestionKind::Note,
        ("select_one" | "select_one_from_file", _) => QuestionKind::SelectOne,
        ("select_multiple" | "select_multiple_from_file", _) => QuestionKind::SelectMultiple,
        (_, DataType::Int) => QuestionKind::Integer,
        (_, DataType::Decimal) => QuestionKind::Decimal,
        (_, DataType::Date) => QuestionKind::Date,
        (_, DataType::Time) => QuestionKind::Time,
        (_, DataType::Geopoint) => QuestionKind::Geopoint,
        (_, DataType::String) => QuestionKind::Text,
        _ => QuestionKind::Other,
    };
    QuestionView {
        path: q.path,
        kind,
        label: q.label,
        hint: q.hint,
        required: q.required,
        read_only: read_only || q.read_only,
        appearance: q.appearance,
        list_name: q.list_name,
        choices: q
            .choices
            .into_iter()
            .map(|(value, label)| ChoiceView { value, label })
            .collect(),
        value: q.value,
        error: q.error,
    }
}

/// The label of the top-level group a path lies in.
fn section_label(engine: &Engine, path: &str) -> Option<String> {
    let top = path.split('/').next()?;
    if top == path {
        return None;
    }
    engine.label(top)
}

fn sections(engine: &Engine, screens: &[Screen]) -> Vec<SectionView> {
    let mut out: Vec<SectionView> = Vec::new();
    let mut last_top: Option<String> = None;
    for (i, s) in screens.iter().enumerate() {
        let Some(p) = s.group.as_ref().or_else(|| s.questions.first()) else {
            continue;
        };
        let top = p.split('/').next().unwrap_or(p).to_string();
        if last_top.as_deref() == Some(top.as_str()) {
            continue;
        }
        last_top = Some(top.clone());
        // The top-level group's label, or the question's when the screen is a lone question.
        // (A field-list group at the top is its own screen: `p` is then the group itself.)
        let label = engine
            .label(&top)
            .filter(|l| !l.trim().is_empty())
            .or_else(|| engine.shown(p).ok().map(|q| q.label))
            .unwrap_or(top);
        out.push(SectionView {
            label: first_line(&label),
            screen: i,
        });
    }
    out
}

fn first_line(s: &str) -> String {
    s.lines()
        .next()
        .unwrap_or("")
        .trim_matches('*')
        .trim()
        .to_string()
}

fn repeat(engine: &Engine, path: &str) -> Option<RepeatView> {
    let (repeat, row, index) = paths::innermost_row(path)?;
    let node = engine
        .form()
        .node_by_path(&paths::node_path(&repeat))
        .map(|id| &engine.form().nodes[id])?;
    Some(RepeatView {
        count: engine.row_count(&repeat).unwrap_or(index),
        fixed: node.bind.repeat_count.is_some(),
        label: engine.label(&row).unwrap_or_default(),
        repeat,
        row,
        index: index.saturating_sub(1),
    })
}

/// (answered, total) over the relevant questions an enumerator answers (no notes,
/// calculations or metadata).
pub fn counts(engine: &Engine) -> (usize, usize) {
    let form = engine.form();
    let mut answered = 0;
    let mut total = 0;
    for (_, path, relevant, value) in engine.record() {
        let Some(node) = form
            .node_by_path(&paths::node_path(&path))
            .map(|i| &form.nodes[i])
        else {
            continue;
        };
        let asked = node.kind == NodeKind::Field
            && node.metadata.is_none()
            && node.bind.calculation.is_none()
            && !matches!(node.type_word.as_str(), "note" | "calculate" | "hidden");
        if relevant && asked {
            total += 1;
            if !value.is_empty() {
                answered += 1;
            }
        }
    }
    (answered, total)
}

/// What stops completion, each with the screen to fix it on.
pub fn review(engine: &Engine) -> Vec<ReviewItem> {
    let screens = engine.screens();
    engine
        .validate()
        .into_iter()
        .map(|f| ReviewItem {
            label: engine
                .shown(&f.path)
                .map(|q| first_line(&q.label))
                .unwrap_or_else(|_| f.path.clone()),
            screen: index_of(&screens, &f.path).unwrap_or(0),
            path: f.path,
            message: f.message,
            required: f.required,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use fieldpost_form::{Answer, FixedEnvironment};
    use std::collections::HashMap;

    pub(crate) fn sipas() -> Engine {
        let bytes = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../assets/forms/sipas-2024.xlsx"
        ))
        .expect("the SIPAS workbook");
        let form = fieldpost_form::import_xlsform(&bytes)
            .expect("compiles")
            .form;
        let env = FixedEnvironment::new(
            chrono::DateTime::parse_from_rfc3339("2024-09-01T09:00:00+07:00").expect("date"),
            1,
        );
        Engine::new(form, Box::new(env), &HashMap::new()).expect("starts")
    }

    fn meta() -> Meta<'static> {
        Meta {
            interview_id: Uuid::nil(),
            assignment_id: Uuid::nil(),
            assignment_name: "HN-0001",
            read_only: false,
        }
    }

    #[test]
    fn the_satisfaction_grid_is_one_screen_of_select_questions_on_one_scale() {
        let engine = sipas();
        let screens = engine.screens();
        let i = index_of(&screens, "phan_b/c9").expect("c9 is a field-list screen");
        let v = view(&engine, i, &meta());
        let items: Vec<_> = v
            .questions
            .iter()
            .filter(|q| q.kind == QuestionKind::SelectOne)
            .collect();
        // 14 policy items; the 19 service items show only after a procedure (c8_4 = 1).
        assert_eq!(items.len(), 14);
        assert!(
            items
                .iter()
                .all(|q| q.list_name.as_deref() == Some("hai_long"))
        );
        assert!(
            items
                .iter()
                .all(|q| q.choices.len() == items[0].choices.len())
        );
        assert_eq!(
            v.section.as_deref().map(|s| s.starts_with("PHẦN B")),
            Some(true)
        );
    }

    #[test]
    fn a_skip_changes_the_screens_and_the_grid_grows_to_33_items() {
        let mut engine = sipas();
        let before = engine.screens().len();
        engine
            .set("phan_b/c8/c8_4", Some(&Answer::Text("1".into())))
            .expect("answer");
        let screens = engine.screens();
        let i = index_of(&screens, "phan_b/c9").expect("grid");
        let v = view(&engine, i, &meta());
        let items = v
            .questions
            .iter()
            .filter(|q| q.kind == QuestionKind::SelectOne)
            .count();
        assert_eq!(items, 33);
        assert_eq!(
            screens.len(),
            before,
            "the service block joins the grid's screen"
        );
    }

    #[test]
    fn top_level_field_lists_and_repeats_name_their_sections() {
        let survey: &[&[&str]] = &[
            &["type", "name", "label", "appearance"],
            &["begin group", "intro", "Introduction", "field-list"],
            &["text", "name", "Name", ""],
            &["end group", "intro", "", ""],
            &["begin repeat", "members", "Household member", "field-list"],
            &["text", "member", "Member's name", ""],
            &["end repeat", "members", "", ""],
            &["integer", "age", "Age", ""],
        ];
        let settings: &[&[&str]] = &[&["form_id", "version"], &["sections", "1"]];
        let form = fieldpost_form::import_xlsform(&fieldpost_form::testkit::workbook(&[
            ("survey", survey),
            ("settings", settings),
        ]))
        .expect("compiles")
        .form;
        let env = FixedEnvironment::new(
            chrono::DateTime::parse_from_rfc3339("2024-09-01T09:00:00+07:00").expect("date"),
            1,
        );
        let engine = Engine::new(form, Box::new(env), &HashMap::new()).expect("starts");
        let labels: Vec<String> = view(&engine, 0, &meta())
            .sections
            .into_iter()
            .map(|s| s.label)
            .collect();
        assert_eq!(labels, ["Introduction", "Household member", "Age"]);
    }

    #[test]
    fn sections_start_at_their_first_screen_and_review_names_the_screen() {
        let engine = sipas();
        let v = view(&engine, 0, &meta());
        assert!(v.sections.len() >= 3, "{:?}", v.sections);
        assert!(v.sections.windows(2).all(|w| w[0].screen < w[1].screen));
        let problems = review(&engine);
        assert!(!problems.is_empty(), "a new interview is incomplete");
        let tinh = problems
            .iter()
            .find(|p| p.path == "phan_a/tinh")
            .expect("A1 is required");
        assert!(tinh.required);
        let screens = engine.screens();
        assert_eq!(
            screens[tinh.screen].questions,
            vec!["phan_a/tinh".to_string()]
        );
    }
}
