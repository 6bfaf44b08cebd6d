//! Screens: one question per screen, or a whole `field-list` group on one screen.
//!
//! Screens are derived from the current state each time they are asked for, so a question that
//! becomes relevant appears in its place and one that is hidden is skipped, without any
//! bookkeeping of its own.

use super::Interview;
use super::tree::{InstId, ROOT_DEF};
use crate::model::NodeKind;

/// What the UI shows at once.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Screen {
    /// The field-list group shown as one screen, if any.
    pub group: Option<String>,
    /// The questions on the screen, by path (`members[2]/age`).
    pub questions: Vec<String>,
}

/// Where the enumerator is: screen `index` of `total` relevant screens.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Progress {
    pub index: usize,
    pub total: usize,
}

impl Progress {
    /// Share done, from 0 to 1.
    pub fn fraction(&self) -> f64 {
        if self.total == 0 {
            1.0
        } else {
            self.index as f64 / self.total as f64
        }
    }
}

impl Interview {
    fn shown_on_screen(&self, i: InstId) -> bool {
        let x = self.tree.get(i);
        if x.def == ROOT_DEF || !x.relevant {
            return false;
        }
        let n = &self.form.nodes[x.def];
        n.kind == NodeKind::Field
            && n.metadata.is_none()
            && !matches!(n.type_word.as_str(), "calculate" | "hidden")
    }

    fn is_field_list(&self, i: InstId) -> bool {
        let d = self.tree.get(i).def;
        d != ROOT_DEF
            && self.form.nodes[d].kind != NodeKind::Field
            && self.form.nodes[d]
                .appearance
                .as_deref()
                // table-list is a field-list drawn as a grid (ODK).
                .is_some_and(|a| {
                    a.split_whitespace()
                        .any(|w| w == "field-list" || w == "table-list")
                })
    }

    fn collect_screens(&self, at: InstId, out: &mut Vec<Screen>) {
        let x = self.tree.get(at);
        if !x.relevant {
            return;
        }
        if at != 0 && self.is_field_list(at) {
            let mut all = Vec::new();
            self.tree.subtree(at, &mut all);
            let questions: Vec<String> = all
                .into_iter()
                .filter(|i| self.shown_on_screen(*i))
                .map(|i| self.path_of(i))
                .collect();
            if !questions.is_empty() {
                out.push(Screen {
                    group: Some(self.path_of(at)),
                    questions,
                });
            }
            return;
        }
        if self.shown_on_screen(at) {
            out.push(Screen {
                group: None,
                questions: vec![self.path_of(at)],
            });
        }
        for s in &x.slots {
            match s {
                super::tree::Slot::One(c) => self.collect_screens(*c, out),
                super::tree::Slot::Rows(rows) => {
                    for r in rows {
                        self.collect_screens(*r, out);
                    }
                }
            }
        }
    }

    /// The relevant screens in order.
    pub fn screens(&self) -> Vec<Screen> {
        let mut out = Vec::new();
        self.collect_screens(0, &mut out);
        out
    }

    /// Progress of the screen showing `path` (the first screen when the path is on none).
    pub fn progress_at(&self, path: &str) -> Progress {
        let screens = self.screens();
        let index = screens
            .iter()
            .position(|s| s.questions.iter().any(|q| q == path))
            .unwrap_or(0);
        Progress {
            index: index + 1,
            total: screens.len(),
        }
    }
}
