//! What a question looks like right now, in the chosen language: label and hint with
//! `${field}` references filled, the choices its choice filter lets through, the stored value,
//! and the message to show if the answer breaks a constraint.
//!
//! Renderers (the app's UI, a scripted run) need nothing else from the engine to draw a screen,
//! so the rules of what is shown stay here, next to the rules of what is valid.

use super::Interview;
use super::tree::{InstId, ROOT_DEF};
use super::{DEFAULT_CONSTRAINT, StepError};
use crate::model::{DataType, NodeKind, Translations};

/// One question as a renderer draws it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Shown {
    pub path: String,
    /// The XLSForm type word (`select_one`, `integer`, `note`, ...).
    pub type_word: String,
    pub data_type: DataType,
    pub label: String,
    pub hint: Option<String>,
    pub required: bool,
    pub read_only: bool,
    pub appearance: Option<String>,
    pub list_name: Option<String>,
    /// `(value, label)` after the choice filter.
    pub choices: Vec<(String, String)>,
    /// The stored value (empty when unanswered).
    pub value: String,
    /// The constraint message, when an answer is given and breaks the constraint. A missing
    /// required answer is not an error while the enumerator is still on the way; see
    /// [`Interview::validate`] for the check at completion.
    pub error: Option<String>,
}

impl Interview {
    /// The language labels are shown in (one of [`crate::Form::languages`], or `default`).
    pub fn language(&self) -> &str {
        &self.language
    }

    /// Shows labels in the form language matching `tag`: exactly (`English (en)`), or by its
    /// code in parentheses (`en` matches `English (en)`). Returns false, keeping the current
    /// language, when the form has no such language.
    pub fn set_language(&mut self, tag: &str) -> bool {
        let found = self
            .form
            .languages
            .iter()
            .find(|l| *l == tag || l.ends_with(&format!("({tag})")))
            .cloned();
        match found {
            Some(l) => {
                self.language = l;
                true
            }
            None => false,
        }
    }

    fn text(&self, i: InstId, t: &Translations) -> Option<String> {
        let s = t
            .get(&self.language)
            .or_else(|| t.get("default"))
            .or_else(|| t.values().next())?;
        Some(self.fill(i, s.clone()))
    }

    /// The label of the question or group at `path`, in the current language.
    pub fn label(&self, path: &str) -> Option<String> {
        let i = self.find(path).ok()?;
        let def = self.tree.get(i).def;
        if def == ROOT_DEF {
            return self.form.settings.form_title.clone();
        }
        self.text(i, &self.form.nodes[def].label)
    }

    /// The appearance of the question or group at `path`.
    pub fn appearance(&self, path: &str) -> Option<String> {
        let i = self.find(path).ok()?;
        let def = self.tree.get(i).def;
        (def != ROOT_DEF)
            .then(|| self.form.nodes[def].appearance.clone())
            .flatten()
    }

    /// Everything a renderer needs to draw the question at `path`.
    pub fn shown(&self, path: &str) -> Result<Shown, StepError> {
        let i = self.find(path)?;
        let x = self.tree.get(i);
        if x.def == ROOT_DEF || self.form.nodes[x.def].kind != NodeKind::Field {
            return Err(StepError(format!("'{path}' is not a question")));
        }
        let node = &self.form.nodes[x.def];
        let value = if x.relevant {
            x.value.clone()
        } else {
            String::new()
        };
        let error = (x.relevant && !value.is_empty() && !x.constraint_ok).then(|| {
            self.fill(
                i,
                self.message(&node.constraint_message, DEFAULT_CONSTRAINT),
            )
        });
        Ok(Shown {
            path: self.path_of(i),
            type_word: node
                .type_word
                .split_whitespace()
                .next()
                .unwrap_or("")
                .to_string(),
            data_type: node.data_type,
            label: self.text(i, &node.label).unwrap_or_default(),
            hint: self.text(i, &node.hint).filter(|h| !h.is_empty()),
            required: x.required,
            read_only: x.readonly || node.bind.calculation.is_some(),
            appearance: node.appearance.clone(),
            list_name: node.list_name.clone(),
            choices: self.choices_at(i),
            value,
            error,
        })
    }

    /// The choices of a select question that its choice filter lets through, in list order.
    fn choices_at(&self, i: InstId) -> Vec<(String, String)> {
        let def = self.tree.get(i).def;
        let node = &self.form.nodes[def];
        let Some(list_name) = node.list_name.as_deref() else {
            return Vec::new();
        };
        let Some(list) = self.form.choice_list(list_name).or_else(|| {
            self.form
                .external_choice_lists
                .iter()
                .find(|l| l.name == list_name)
        }) else {
            return Vec::new();
        };
        let filter = self.logic.nodes[def].choice_filter.as_ref();
        let table = self.tables.get(list_name);
        let ctx = super::context::Ctx { iv: self };
        list.choices
            .iter()
            .enumerate()
            .filter(|(row, _)| match (filter, table) {
                // A filter that fails to evaluate hides the choice rather than offering
                // one the form's author meant to exclude.
                (Some(f), Some(t)) => f.eval_bool_for_item(&ctx, i, t, *row).unwrap_or(false),
                _ => true,
            })
            .map(|(_, c)| {
                let label = c
                    .label
                    .get(&self.language)
                    .or_else(|| c.label.get("default"))
                    .or_else(|| c.label.values().next())
                    .cloned()
                    .unwrap_or_else(|| c.name.clone());
                (c.name.clone(), label)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use crate::interview::{Answer, FixedEnvironment, Interview};
    use std::collections::HashMap;

    fn sipas() -> Interview {
        let bytes = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../assets/forms/sipas-2024.xlsx"
        ))
        .expect("the SIPAS workbook is in assets/forms");
        let imported = crate::import_xlsform(&bytes).expect("SIPAS compiles");
        let env = FixedEnvironment::new(
            chrono::DateTime::parse_from_rfc3339("2024-09-01T09:00:00+07:00").expect("date"),
            7,
        );
        Interview::new(imported.form, Box::new(env), &HashMap::new()).expect("starts")
    }

    #[test]
    fn labels_follow_the_chosen_language() {
        let mut iv = sipas();
        assert!(
            iv.shown("phan_a/tinh")
                .expect("question")
                .label
                .starts_with("A1. Tỉnh")
        );
        assert!(iv.set_language("en"));
        assert!(
            iv.shown("phan_a/tinh")
                .expect("question")
                .label
                .starts_with("A1. Province")
        );
        assert!(!iv.set_language("fr"), "no French in SIPAS");
        assert!(iv.language().ends_with("(en)"));
    }

    #[test]
    fn the_commune_list_is_filtered_by_the_chosen_province() {
        let mut iv = sipas();
        let before = iv.shown("phan_a/xa").expect("question").choices;
        assert!(
            before.is_empty(),
            "no commune is offered before a province is chosen"
        );
        iv.set("phan_a/tinh", Some(&Answer::Text("01".into())))
            .expect("Hà Nội");
        let hanoi = iv.shown("phan_a/xa").expect("question").choices;
        assert!(
            (100..500).contains(&hanoi.len()),
            "Hà Nội has 126 communes, not {}",
            hanoi.len()
        );
        assert!(
            hanoi.iter().any(|(v, _)| v == "00004"),
            "Ba Đình is in Hà Nội"
        );
        iv.set("phan_a/tinh", Some(&Answer::Text("79".into())))
            .expect("HCMC");
        let hcmc = iv.shown("phan_a/xa").expect("question").choices;
        assert!(hcmc.iter().all(|(v, _)| v != "00004"));
    }

    #[test]
    fn a_broken_constraint_shows_its_message_and_an_empty_answer_does_not() {
        let mut iv = sipas();
        assert_eq!(iv.shown("phan_a/nam_sinh").expect("q").error, None);
        iv.set("phan_a/nam_sinh", Some(&Answer::Number(1800.0)))
            .expect("set");
        let shown = iv.shown("phan_a/nam_sinh").expect("q");
        assert_eq!(shown.value, "1800");
        assert!(shown.error.is_some_and(|m| !m.is_empty()));
        iv.set("phan_a/nam_sinh", Some(&Answer::Number(1980.0)))
            .expect("set");
        assert_eq!(iv.shown("phan_a/nam_sinh").expect("q").error, None);
    }
}
