//! A running interview: answers, what is relevant, calculated values, errors, repeat rows.
//!
//! Setting an answer re-evaluates only the expressions that read the changed field (through the
//! dependency graph in [`logic`]), in topological order, and returns what changed. The state is
//! rebuilt from the answers the app saved ([`Interview::replay`]), so it needs no serialisation
//! of its own beyond the list of [`Step`]s.

mod context;
mod engine;
pub mod logic;
pub mod nav;
mod present;
mod tree;
pub mod values;

pub use context::{Environment, FixedEnvironment};
pub use logic::LogicError;
pub use present::Shown;
pub use tree::InstId;
pub use values::Answer;

use crate::expr::{Table, Value};
use crate::model::{DataType, Form, NodeId, NodeKind};
use logic::{Kind, Logic};
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet};
use tree::{ROOT_DEF, Slot, Tree};

/// One thing done to an interview; the app saves these, and replaying them rebuilds the state.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(untagged)]
pub enum Step {
    Set { set: String, value: Option<Answer> },
    AddRow { add_row: String },
    RemoveRow { remove_row: String },
}

/// A step that cannot be applied (unknown path, wrong kind of value, ...).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct StepError(pub String);

/// What one step changed.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Changes {
    /// Fields and groups that became relevant.
    pub shown: Vec<String>,
    /// Fields and groups that stopped being relevant.
    pub hidden: Vec<String>,
    /// Fields whose stored value changed (calculations, and the answer itself).
    pub values: Vec<(String, String)>,
    /// Constraint or required failures on the fields this step touched.
    pub errors: Vec<(String, String)>,
    pub rows_added: Vec<String>,
    pub rows_removed: Vec<String>,
    /// Expressions that failed to evaluate (the field keeps an empty value).
    pub eval_errors: Vec<(String, String)>,
}

#[derive(Default)]
struct Touched {
    shown: Vec<InstId>,
    hidden: Vec<InstId>,
    values: Vec<InstId>,
    checked: Vec<InstId>,
    rows_added: Vec<InstId>,
    eval_errors: Vec<(InstId, String)>,
}

type Item = Reverse<(u32, InstId, Kind, NodeId)>;

pub struct Interview {
    form: Form,
    logic: Logic,
    tree: Tree,
    tables: HashMap<String, Table>,
    env: Box<dyn Environment>,
    language: String,
    heap: BinaryHeap<Item>,
    queued: HashSet<(InstId, Kind, NodeId)>,
    touched: Touched,
    /// Repeats whose rows are set by repeat_count (add_row is refused there).
    steps: Vec<Step>,
}

/// A failed completion check.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Failure {
    pub path: String,
    pub message: String,
    pub required: bool,
}

const DEFAULT_REQUIRED: &str = "Sorry, this response is required!";
const DEFAULT_CONSTRAINT: &str = "Sorry, this response is invalid!";

impl Interview {
    /// Starts an interview. `attachments` are the form's media files by name (`villages.csv`).
    pub fn new(
        form: Form,
        env: Box<dyn Environment>,
        attachments: &HashMap<String, Vec<u8>>,
    ) -> Result<Interview, LogicError> {
        let logic = Logic::compile(&form)?;
        let language = form
            .settings
            .default_language
            .clone()
            .or_else(|| form.languages.first().cloned())
            .unwrap_or_else(|| "default".into());
        let tables = build_tables(&form, &language, attachments);
        let mut iv = Interview {
            form,
            logic,
            tree: Tree::new(),
            tables,
            env,
            language,
            heap: BinaryHeap::new(),
            queued: HashSet::new(),
            touched: Touched::default(),
            steps: Vec::new(),
        };
        let mut created = Vec::new();
        let rows_of = |_: NodeId| 0;
        {
            let form = &iv.form;
            let counted = |d: NodeId| {
                if form.nodes[d].bind.repeat_count.is_some() {
                    0
                } else {
                    1
                }
            };
            let _ = rows_of;
            iv.tree
                .create(form, ROOT_DEF, None, 1, &counted, &mut created);
        }
        iv.init_new(&created);
        iv.run();
        iv.touched = Touched::default();
        Ok(iv)
    }

    /// Rebuilds an interview from saved steps (the app's autosave log).
    pub fn replay(
        form: Form,
        env: Box<dyn Environment>,
        attachments: &HashMap<String, Vec<u8>>,
        steps: &[Step],
    ) -> Result<Interview, StepError> {
        let mut iv =
            Interview::new(form, env, attachments).map_err(|e| StepError(e.to_string()))?;
        for s in steps {
            iv.apply(s)?;
        }
        Ok(iv)
    }

    pub fn form(&self) -> &Form {
        &self.form
    }

    /// The steps applied so far (what to save).
    pub fn steps(&self) -> &[Step] {
        &self.steps
    }

    pub fn apply(&mut self, step: &Step) -> Result<Changes, StepError> {
        match step {
            Step::Set { set, value } => self.set(set, value.as_ref()),
            Step::AddRow { add_row } => self.add_row(add_row),
            Step::RemoveRow { remove_row } => self.remove_row(remove_row),
        }
    }

    // ---- paths ----

    /// `members[2]/age` for an instance.
    pub fn path_of(&self, inst: InstId) -> String {
        let mut parts = Vec::new();
        let mut cur = Some(inst);
        while let Some(i) = cur {
            let x = self.tree.get(i);
            if x.def == ROOT_DEF {
                break;
            }
            let n = &self.form.nodes[x.def];
            if n.kind == NodeKind::Repeat {
                parts.push(format!("{}[{}]", n.name, x.row));
            } else {
                parts.push(n.name.clone());
            }
            cur = x.parent;
        }
        parts.reverse();
        parts.join("/")
    }

    /// The instance at a path such as `hh/members[2]/age` (a repeat without index means row 1).
    /// For a repeat segment without index as the last segment, returns the container and the repeat.
    fn find(&self, path: &str) -> Result<InstId, StepError> {
        let mut at: InstId = 0;
        for seg in path.trim_matches('/').split('/') {
            let (name, idx) = match seg.split_once('[') {
                Some((n, rest)) => {
                    let i: u32 = rest.trim_end_matches(']').parse().map_err(|_| {
                        StepError(format!("bad row index in '{seg}' of path '{path}'"))
                    })?;
                    (n, Some(i))
                }
                None => (seg, None),
            };
            let def = self.tree.get(at).def;
            let defs = Tree::child_defs(&self.form, def);
            let si = defs
                .iter()
                .position(|d| self.form.nodes[*d].name == name)
                .ok_or_else(|| StepError(format!("no field '{name}' in path '{path}'")))?;
            at = match &self.tree.get(at).slots[si] {
                Slot::One(c) => *c,
                Slot::Rows(rows) => {
                    let i = idx.unwrap_or(1);
                    *rows.get((i as usize).wrapping_sub(1)).ok_or_else(|| {
                        StepError(format!(
                            "'{path}': repeat '{name}' has {} rows, not row {i}",
                            rows.len()
                        ))
                    })?
                }
            };
        }
        Ok(at)
    }

    // ---- steps ----

    /// Sets (or with `None`, clears) an answer.
    pub fn set(&mut self, path: &str, value: Option<&Answer>) -> Result<Changes, StepError> {
        let inst = self.find(path)?;
        let def = self.tree.get(inst).def;
        let node = &self.form.nodes[def];
        if node.kind != NodeKind::Field {
            return Err(StepError(format!(
                "'{path}' is a {}, not a question",
                node.type_word
            )));
        }
        // A question (not a `calculate`) may carry a calculation: ODK shows it with the computed
        // value, lets the enumerator change it, and computes it again when an input changes.
        if node.type_word == "calculate" {
            return Err(StepError(format!(
                "'{path}' is calculated; it cannot be answered"
            )));
        }
        if node.metadata.is_some() {
            return Err(StepError(format!(
                "'{path}' is metadata ({}) recorded by the app",
                node.type_word
            )));
        }
        if node.type_word == "note" {
            return Err(StepError(format!("'{path}' is a note; it takes no answer")));
        }
        let text = match value {
            None => String::new(),
            Some(a) => values::normalize(&self.form, node, a).map_err(StepError)?,
        };
        self.steps.push(Step::Set {
            set: path.to_string(),
            value: value.cloned(),
        });
        self.touched = Touched::default();
        if self.tree.get(inst).value != text {
            self.tree.get_mut(inst).value = text;
            self.touched.values.push(inst);
            if self.tree.get(inst).relevant {
                self.enqueue_dependents(inst);
            }
        }
        self.push_checks(inst);
        self.run();
        Ok(self.report())
    }

    /// Appends a row to a repeat (`members` or `hh/members`).
    pub fn add_row(&mut self, path: &str) -> Result<Changes, StepError> {
        let (container, def) = self.repeat_at(path)?;
        if self.form.nodes[def].bind.repeat_count.is_some() {
            return Err(StepError(format!(
                "'{path}' has its rows set by repeat_count; rows cannot be added"
            )));
        }
        self.steps.push(Step::AddRow {
            add_row: path.to_string(),
        });
        self.touched = Touched::default();
        self.add_rows(container, def, 1);
        self.run();
        Ok(self.report())
    }

    /// Removes a repeat row (`members[2]`); later rows move up.
    pub fn remove_row(&mut self, path: &str) -> Result<Changes, StepError> {
        let row = self.find(path)?;
        let def = self.tree.get(row).def;
        if def == ROOT_DEF || self.form.nodes[def].kind != NodeKind::Repeat {
            return Err(StepError(format!("'{path}' is not a repeat row")));
        }
        if self.form.nodes[def].bind.repeat_count.is_some() {
            return Err(StepError(format!(
                "'{path}' belongs to a repeat whose rows are set by repeat_count"
            )));
        }
        self.steps.push(Step::RemoveRow {
            remove_row: path.to_string(),
        });
        self.touched = Touched::default();
        let removed = self.path_of(row);
        self.remove_rows(row);
        self.run();
        let mut r = self.report();
        r.rows_removed.push(removed);
        Ok(r)
    }

    fn repeat_at(&self, path: &str) -> Result<(InstId, NodeId), StepError> {
        let p = path.trim_matches('/');
        let (parent, last) = match p.rsplit_once('/') {
            Some((a, b)) => (self.find(a)?, b),
            None => (0, p),
        };
        let name = last.split('[').next().unwrap_or(last);
        let defs = Tree::child_defs(&self.form, self.tree.get(parent).def);
        let def = *defs
            .iter()
            .find(|d| self.form.nodes[**d].name == name)
            .ok_or_else(|| StepError(format!("no repeat '{name}' in '{path}'")))?;
        if self.form.nodes[def].kind != NodeKind::Repeat {
            return Err(StepError(format!("'{path}' is not a repeat")));
        }
        Ok((parent, def))
    }

    // ---- reading ----

    fn message(&self, t: &crate::model::Translations, default: &str) -> String {
        t.get(&self.language)
            .or_else(|| t.get("default"))
            .or_else(|| t.values().next())
            .cloned()
            .unwrap_or_else(|| default.to_string())
    }

    /// A message with its `${name}` references replaced by the values the field sees, as ODK
    /// shows `<output>`s in constraint messages.
    fn fill(&self, i: InstId, msg: String) -> String {
        if !msg.contains("${") {
            return msg;
        }
        let mut out = String::new();
        let mut rest = msg.as_str();
        while let Some(a) = rest.find("${") {
            out.push_str(&rest[..a]);
            let after = &rest[a + 2..];
            let Some(b) = after.find('}') else {
                out.push_str(&rest[a..]);
                return out;
            };
            let name = &after[..b];
            match self.form.nodes.iter().position(|n| n.name == name) {
                Some(def) => {
                    let mut found = Vec::new();
                    self.instances_seen_from(i, def, &mut found);
                    if let Some(f) = found.first() {
                        let x = self.tree.get(*f);
                        if x.relevant {
                            out.push_str(&x.value);
                        }
                    }
                }
                None => out.push_str(&rest[a..a + b + 3]),
            }
            rest = &after[b + 1..];
        }
        out.push_str(rest);
        out
    }

    fn failure(&self, i: InstId) -> Option<Failure> {
        let x = self.tree.get(i);
        if !x.alive || !x.relevant || x.def == ROOT_DEF {
            return None;
        }
        let node = &self.form.nodes[x.def];
        if node.kind != NodeKind::Field {
            return None;
        }
        if x.value.is_empty() {
            if x.required && node.metadata.is_none() {
                return Some(Failure {
                    path: self.path_of(i),
                    message: self.fill(i, self.message(&node.required_message, DEFAULT_REQUIRED)),
                    required: true,
                });
            }
        } else if !x.constraint_ok {
            return Some(Failure {
                path: self.path_of(i),
                message: self.fill(
                    i,
                    self.message(&node.constraint_message, DEFAULT_CONSTRAINT),
                ),
                required: false,
            });
        }
        None
    }

    /// Every field instance in document order: (instance, path, relevant, stored value).
    pub fn record(&self) -> Vec<(InstId, String, bool, String)> {
        let mut all = Vec::new();
        self.tree.subtree(0, &mut all);
        all.into_iter()
            .filter(|i| {
                let d = self.tree.get(*i).def;
                d != ROOT_DEF && self.form.nodes[d].kind == NodeKind::Field
            })
            .map(|i| {
                let x = self.tree.get(i);
                let v = if x.relevant {
                    x.value.clone()
                } else {
                    String::new()
                };
                (i, self.path_of(i), x.relevant, v)
            })
            .collect()
    }

    /// Required answers missing and constraints broken, over every relevant field, in document order.
    pub fn validate(&self) -> Vec<Failure> {
        let mut all = Vec::new();
        self.tree.subtree(0, &mut all);
        all.into_iter().filter_map(|i| self.failure(i)).collect()
    }

    /// The stored value at a path (empty when not relevant or unanswered).
    pub fn value(&self, path: &str) -> Option<String> {
        let i = self.find(path).ok()?;
        let x = self.tree.get(i);
        Some(if x.relevant {
            x.value.clone()
        } else {
            String::new()
        })
    }

    pub fn is_relevant(&self, path: &str) -> Option<bool> {
        self.find(path).ok().map(|i| self.tree.get(i).relevant)
    }

    /// Number of rows of a repeat (`members`, `hh/members`).
    pub fn row_count(&self, path: &str) -> Option<usize> {
        let (c, def) = self.repeat_at(path).ok()?;
        let si = Tree::slot_index(&self.form, self.tree.get(c).def, def)?;
        match &self.tree.get(c).slots[si] {
            Slot::Rows(r) => Some(r.len()),
            Slot::One(_) => None,
        }
    }

    pub fn data_type(&self, inst: InstId) -> DataType {
        self.form.nodes[self.tree.get(inst).def].data_type
    }
}

/// A computed value as a calculate field stores it (NaN stores nothing, as in ODK).
fn value_text(v: Value) -> String {
    match v {
        Value::Number(n) if n.is_nan() => String::new(),
        v => v.to_string(),
    }
}

/// Choice lists and CSV attachments as secondary instances (`instance('list')`, pulldata).
fn build_tables(
    form: &Form,
    language: &str,
    attachments: &HashMap<String, Vec<u8>>,
) -> HashMap<String, Table> {
    let mut out = HashMap::new();
    for list in form.choice_lists.iter().chain(&form.external_choice_lists) {
        let mut extra: Vec<String> = Vec::new();
        for c in &list.choices {
            for k in c.columns.keys() {
                if !extra.contains(k) && k != "name" && k != "label" {
                    extra.push(k.clone());
                }
            }
        }
        let mut cols = vec!["name".to_string(), "label".to_string()];
        cols.extend(extra.iter().cloned());
        let Ok(mut t) = Table::new(cols) else {
            continue;
        };
        for c in &list.choices {
            let label = c
                .label
                .get(language)
                .or_else(|| c.label.get("default"))
                .or_else(|| c.label.values().next())
                .cloned()
                .unwrap_or_default();
            let mut row = vec![c.name.clone(), label];
            row.extend(
                extra
                    .iter()
                    .map(|k| c.columns.get(k).cloned().unwrap_or_default()),
            );
            let _ = t.push_row(row);
        }
        out.insert(list.name.clone(), t);
    }
    for (name, bytes) in attachments {
        if let Some(stem) = name.strip_suffix(".csv")
            && let Ok(t) = Table::from_csv(bytes)
        {
            out.insert(stem.to_string(), t);
        }
    }
    out
}
