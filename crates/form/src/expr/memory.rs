//! [`MemoryContext`]: a plain in-memory instance tree implementing [`Context`].
//!
//! It is the reference for what a context must do (the interview state has its own, faster
//! one), and what the expression tests, the benchmark and the fuzz targets evaluate against.

use std::borrow::Cow;
use std::cell::Cell;
use std::collections::HashMap;

use chrono::{DateTime, FixedOffset};

use super::{Context, FieldRef, NodeList, Table};

#[derive(Debug, Clone)]
struct MemNode {
    name: Box<str>,
    parent: Option<usize>,
    value: String,
    children: Vec<usize>,
    /// A repeat row (one of possibly many same-named siblings).
    row: bool,
}

/// An in-memory main instance with secondary instances, choice labels, a fixed clock and a
/// seeded random source. Node 0 is the root.
#[derive(Debug)]
pub struct MemoryContext {
    nodes: Vec<MemNode>,
    by_name: HashMap<Box<str>, Vec<usize>>,
    instances: HashMap<String, Table>,
    labels: HashMap<(String, String), String>,
    now: DateTime<FixedOffset>,
    seed: Cell<u64>,
}

impl MemoryContext {
    /// A tree with only its root, named like the form (`data`). The clock reads
    /// 2024-01-31T10:20:30.000+07:00 until [`MemoryContext::set_now`].
    pub fn new(root: &str) -> Self {
        let now = DateTime::parse_from_rfc3339("2024-01-31T10:20:30+07:00")
            .unwrap_or_else(|_| DateTime::<FixedOffset>::default());
        MemoryContext {
            nodes: vec![MemNode {
                name: root.into(),
                parent: None,
                value: String::new(),
                children: Vec::new(),
                row: false,
            }],
            by_name: HashMap::new(),
            instances: HashMap::new(),
            labels: HashMap::new(),
            now,
            seed: Cell::new(0x9E37_79B9_7F4A_7C15),
        }
    }

    /// The root node.
    pub fn root_node(&self) -> usize {
        0
    }

    fn push(&mut self, parent: usize, name: &str, value: &str, row: bool) -> usize {
        let id = self.nodes.len();
        self.nodes.push(MemNode {
            name: name.into(),
            parent: Some(parent),
            value: value.to_string(),
            children: Vec::new(),
            row,
        });
        if let Some(p) = self.nodes.get_mut(parent) {
            p.children.push(id);
        }
        self.by_name.entry(name.into()).or_default().push(id);
        id
    }

    /// Add a question or group under `parent`, with a value (`""` for unanswered or a group).
    pub fn add(&mut self, parent: usize, name: &str, value: &str) -> usize {
        self.push(parent, name, value, false)
    }

    /// Add a row of repeat `name` under `parent`.
    pub fn add_row(&mut self, parent: usize, name: &str) -> usize {
        self.push(parent, name, "", true)
    }

    /// Change a node's value.
    pub fn set(&mut self, node: usize, value: &str) {
        if let Some(n) = self.nodes.get_mut(node) {
            n.value.clear();
            n.value.push_str(value);
        }
    }

    /// Register a secondary instance (choice list or CSV attachment) under `id`.
    pub fn add_instance(&mut self, id: &str, table: Table) {
        self.instances.insert(id.to_string(), table);
    }

    /// The label of `choice` for the select question named `question`.
    pub fn add_label(&mut self, question: &str, choice: &str, label: &str) {
        self.labels.insert(
            (question.to_string(), choice.to_string()),
            label.to_string(),
        );
    }

    /// Set what `now()` returns.
    pub fn set_now(&mut self, now: DateTime<FixedOffset>) {
        self.now = now;
    }

    fn ancestors_or_self(&self, mut n: usize) -> impl Iterator<Item = usize> + '_ {
        let mut first = true;
        std::iter::from_fn(move || {
            if first {
                first = false;
                return Some(n);
            }
            n = self.nodes.get(n)?.parent?;
            Some(n)
        })
    }

    /// Whether `candidate` is visible from `current` under ODK's rule: every repeat row enclosing
    /// `candidate` whose repeat also encloses `current` must be `current`'s own row.
    fn visible(&self, candidate: usize, current: usize) -> bool {
        for a in self.ancestors_or_self(candidate) {
            let Some(node) = self.nodes.get(a) else {
                return false;
            };
            if !node.row {
                continue;
            }
            // Does current sit in some row of the same repeat (same parent, same name)?
            let same_repeat_row = self.ancestors_or_self(current).find(|&c| {
                self.nodes
                    .get(c)
                    .is_some_and(|cn| cn.row && cn.parent == node.parent && cn.name == node.name)
            });
            if let Some(row) = same_repeat_row
                && row != a
            {
                return false;
            }
        }
        true
    }

    fn next_random(&self) -> u64 {
        // xorshift64*: deterministic, for tests and benchmarks only.
        let mut x = self.seed.get();
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.seed.set(x);
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

impl Context for MemoryContext {
    type Node = usize;

    fn root(&self) -> usize {
        0
    }

    fn name(&self, node: usize) -> &str {
        self.nodes.get(node).map_or("", |n| &n.name)
    }

    fn parent(&self, node: usize) -> Option<usize> {
        self.nodes.get(node)?.parent
    }

    fn children(&self, node: usize, name: &str, out: &mut NodeList<usize>) {
        if let Some(n) = self.nodes.get(node) {
            out.extend(
                n.children
                    .iter()
                    .copied()
                    .filter(|c| self.nodes.get(*c).is_some_and(|cn| &*cn.name == name)),
            );
        }
    }

    fn value(&self, node: usize) -> Cow<'_, str> {
        Cow::Borrowed(self.nodes.get(node).map_or("", |n| &n.value))
    }

    fn field(&self, field: &FieldRef, current: usize, out: &mut NodeList<usize>) -> bool {
        let Some(candidates) = self.by_name.get(&*field.name) else {
            return false;
        };
        out.extend(
            candidates
                .iter()
                .copied()
                .filter(|&c| self.visible(c, current)),
        );
        true
    }

    fn instance(&self, id: &str) -> Option<&Table> {
        self.instances.get(id)
    }

    fn choice_label(&self, question: usize, choice: &str) -> Option<Cow<'_, str>> {
        let q = self.nodes.get(question)?;
        self.labels
            .get(&(q.name.to_string(), choice.to_string()))
            .map(|s| Cow::Borrowed(s.as_str()))
    }

    fn now(&self) -> DateTime<FixedOffset> {
        self.now
    }

    fn random(&self) -> f64 {
        (self.next_random() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn uuid(&self) -> String {
        let a = self.next_random();
        let b = self.next_random();
        format!(
            "{:08x}-{:04x}-7{:03x}-{:04x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xfff,
            0x8000 | (b >> 48) & 0x3fff,
            b & 0xffff_ffff_ffff
        )
    }
}
