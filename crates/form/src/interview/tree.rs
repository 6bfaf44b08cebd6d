//! The instance tree: one node per group, repeat row and field of a running interview.
//!
//! Nodes live in an arena and are never moved; a removed repeat row's nodes are only marked
//! dead. Each container keeps one slot per child of its form node: a single node, or the rows
//! of a repeat, so adding a row is a push and finding a child is an index.

use crate::model::{Form, NodeId, NodeKind};

pub type InstId = u32;

/// The root element has no form node; this marks it.
pub const ROOT_DEF: NodeId = usize::MAX;

#[derive(Debug, Clone)]
pub enum Slot {
    One(InstId),
    Rows(Vec<InstId>),
}

#[derive(Debug, Clone)]
pub struct Inst {
    pub def: NodeId,
    pub parent: Option<InstId>,
    /// Children, one slot per child of the form node (in the form's order).
    pub slots: Vec<Slot>,
    /// 1-based row number for a repeat row, 1 otherwise.
    pub row: u32,
    pub value: String,
    /// The node's own relevant expression.
    pub self_relevant: bool,
    /// Own relevance and every ancestor's.
    pub relevant: bool,
    pub required: bool,
    pub readonly: bool,
    pub constraint_ok: bool,
    pub alive: bool,
}

#[derive(Debug, Clone, Default)]
pub struct Tree {
    pub insts: Vec<Inst>,
}

impl Tree {
    pub fn new() -> Tree {
        Tree { insts: Vec::new() }
    }

    pub fn get(&self, i: InstId) -> &Inst {
        &self.insts[i as usize]
    }

    pub fn get_mut(&mut self, i: InstId) -> &mut Inst {
        &mut self.insts[i as usize]
    }

    /// Children form nodes of a container's form node.
    pub fn child_defs(form: &Form, def: NodeId) -> &[NodeId] {
        if def == ROOT_DEF {
            &form.children
        } else {
            &form.nodes[def].children
        }
    }

    /// Creates a node and (recursively) its children; repeats start with `rows_of(def)` rows.
    pub fn create(
        &mut self,
        form: &Form,
        def: NodeId,
        parent: Option<InstId>,
        row: u32,
        rows_of: &dyn Fn(NodeId) -> u32,
        created: &mut Vec<InstId>,
    ) -> InstId {
        let id = self.insts.len() as InstId;
        let parent_relevant = parent.is_none_or(|p| self.get(p).relevant);
        self.insts.push(Inst {
            def,
            parent,
            slots: Vec::new(),
            row,
            value: String::new(),
            self_relevant: true,
            relevant: parent_relevant,
            required: false,
            readonly: false,
            constraint_ok: true,
            alive: true,
        });
        created.push(id);
        let is_container = def == ROOT_DEF || form.nodes[def].kind != NodeKind::Field;
        if is_container {
            let mut slots = Vec::new();
            for &c in Self::child_defs(form, def) {
                if form.nodes[c].kind == NodeKind::Repeat {
                    let n = rows_of(c);
                    let mut rows = Vec::with_capacity(n as usize);
                    for r in 0..n {
                        rows.push(self.create(form, c, Some(id), r + 1, rows_of, created));
                    }
                    slots.push(Slot::Rows(rows));
                } else {
                    slots.push(Slot::One(self.create(
                        form,
                        c,
                        Some(id),
                        1,
                        rows_of,
                        created,
                    )));
                }
            }
            self.get_mut(id).slots = slots;
        }
        id
    }

    /// The slot index of child form node `child` under a container with form node `def`.
    pub fn slot_index(form: &Form, def: NodeId, child: NodeId) -> Option<usize> {
        Self::child_defs(form, def).iter().position(|c| *c == child)
    }

    /// Pushes the live instances of `target` under `from` (following every row of repeats in between).
    pub fn descend(
        &self,
        form: &Form,
        ancestors: &[Vec<NodeId>],
        from: InstId,
        target: NodeId,
        out: &mut Vec<InstId>,
    ) {
        let from_def = self.get(from).def;
        if from_def == target {
            out.push(from);
            return;
        }
        let chain = &ancestors[target];
        // The form nodes between `from` (exclusive) and `target` (inclusive).
        let start = if from_def == ROOT_DEF {
            0
        } else {
            chain
                .iter()
                .position(|a| *a == from_def)
                .map_or(chain.len(), |p| p + 1)
        };
        if from_def != ROOT_DEF && start == chain.len() && !chain.contains(&from_def) {
            return;
        }
        let mut path: Vec<NodeId> = chain[start..].to_vec();
        path.push(target);
        self.descend_path(form, from, &path, out);
    }

    fn descend_path(&self, form: &Form, at: InstId, path: &[NodeId], out: &mut Vec<InstId>) {
        let Some((&next, rest)) = path.split_first() else {
            out.push(at);
            return;
        };
        let Some(si) = Self::slot_index(form, self.get(at).def, next) else {
            return;
        };
        match self.get(at).slots.get(si) {
            Some(Slot::One(c)) => self.descend_path(form, *c, rest, out),
            Some(Slot::Rows(rows)) => {
                for r in rows {
                    self.descend_path(form, *r, rest, out);
                }
            }
            None => {}
        }
    }

    /// Every live node under `at` (including it), in document order.
    pub fn subtree(&self, at: InstId, out: &mut Vec<InstId>) {
        out.push(at);
        for s in &self.get(at).slots {
            match s {
                Slot::One(c) => self.subtree(*c, out),
                Slot::Rows(rows) => {
                    for r in rows {
                        self.subtree(*r, out);
                    }
                }
            }
        }
    }
}
