//! The recompute engine: a queue of (node, expression) ordered by the dependency graph's rank.
//!
//! A changed value queues the expressions that read it, for the node instances that see it (the
//! same repeat row, or every row for an expression outside the repeat). Each evaluation that
//! changes something queues its own dependents, so work is proportional to what changed.

use super::context::Ctx;
use super::logic::{self, Kind};
use super::tree::{InstId, ROOT_DEF, Slot, Tree};
use super::{Changes, Interview, value_text, values};
use crate::expr::Value;
use crate::model::{NodeId, NodeKind};
use std::cmp::Reverse;
use std::collections::HashSet;

impl Interview {
    pub(super) fn push_item(&mut self, inst: InstId, kind: Kind, def: NodeId) {
        if self.queued.insert((inst, kind, def)) {
            let rank = if def == ROOT_DEF {
                0
            } else {
                self.logic.rank[def]
            };
            self.heap.push(Reverse((rank, inst, kind, def)));
        }
    }

    pub(super) fn push_checks(&mut self, inst: InstId) {
        let def = self.tree.get(inst).def;
        for k in [Kind::Constraint, Kind::Required] {
            if self.logic.nodes[def].get(k).is_some() {
                self.push_item(inst, k, def);
            }
        }
        self.touched.checked.push(inst);
    }

    /// Instances of form node `target` that an expression on `current` sees for `${target}`:
    /// the one in the same repeat row when they share one, else every instance.
    pub(crate) fn instances_seen_from(
        &self,
        current: InstId,
        target: NodeId,
        out: &mut Vec<InstId>,
    ) {
        let mut cur = Some(current);
        while let Some(i) = cur {
            let x = self.tree.get(i);
            if x.def != ROOT_DEF
                && self.form.nodes[x.def].kind == NodeKind::Repeat
                && (x.def == target || self.logic.inside(target, x.def))
            {
                self.tree
                    .descend(&self.form, &self.logic.ancestors, i, target, out);
                return;
            }
            cur = x.parent;
        }
        self.tree
            .descend(&self.form, &self.logic.ancestors, 0, target, out);
    }

    /// Queues the expressions that read `inst` (or any container holding it).
    pub(super) fn enqueue_dependents(&mut self, inst: InstId) {
        let def = self.tree.get(inst).def;
        if def == ROOT_DEF {
            return;
        }
        let mut sources = vec![def];
        sources.extend(self.logic.ancestors[def].iter().copied());
        let mut targets = Vec::new();
        for s in sources {
            for &(d, k) in &self.logic.dependents[s] {
                targets.push((d, k));
            }
        }
        let mut found = Vec::new();
        for (d, k) in targets {
            found.clear();
            if k == Kind::RepeatCount {
                let owner = self.form.nodes[d].parent.unwrap_or(ROOT_DEF);
                if owner == ROOT_DEF {
                    found.push(0);
                } else {
                    self.instances_seen_from(inst, owner, &mut found);
                }
            } else {
                self.instances_seen_from(inst, d, &mut found);
            }
            for &f in &found {
                self.push_item(f, k, d);
            }
        }
    }

    /// Defaults and first evaluation of newly created nodes.
    pub(super) fn init_new(&mut self, created: &[InstId]) {
        for &i in created {
            let def = self.tree.get(i).def;
            if def == ROOT_DEF {
                continue;
            }
            let node = &self.form.nodes[def];
            if node.kind == NodeKind::Field {
                if let Some(d) = &node.bind.default
                    && !logic::default_is_dynamic(d)
                {
                    let d = d.clone();
                    self.tree.get_mut(i).value = d;
                }
                match node.metadata.as_deref() {
                    Some("instanceID") => {
                        // `uuid:` + a UUID, as ODK writes instance ids (whatever the
                        // environment's ids look like).
                        let id = self.env.uuid();
                        let id = if id.starts_with("uuid:") {
                            id
                        } else {
                            format!("uuid:{id}")
                        };
                        self.tree.get_mut(i).value = id;
                    }
                    // ODK records these when the form opens, so a calculation from the start
                    // time (`format-date-time(${start}, ..)`) has a value from the first screen.
                    // `end` is recorded when the interview is completed, by the app.
                    Some("start") => {
                        let now = Value::DateTime(self.env.now()).to_string();
                        self.tree.get_mut(i).value = now;
                    }
                    Some("today") => {
                        let today = Value::Date(self.env.now().date_naive()).to_string();
                        self.tree.get_mut(i).value = today;
                    }
                    _ => {}
                }
            }
            for k in [
                Kind::Calculate,
                Kind::Relevant,
                Kind::Readonly,
                Kind::Required,
                Kind::Constraint,
            ] {
                if self.logic.nodes[def].get(k).is_some() {
                    self.push_item(i, k, def);
                }
            }
            // Repeats with a count under this container.
            let kids: Vec<NodeId> = Tree::child_defs(&self.form, def).to_vec();
            for c in kids {
                if self.logic.nodes[c].repeat_count.is_some() {
                    self.push_item(i, Kind::RepeatCount, c);
                }
            }
        }
        if created
            .first()
            .is_some_and(|r| self.tree.get(*r).def == ROOT_DEF)
        {
            let kids: Vec<NodeId> = self.form.children.clone();
            for c in kids {
                if self.logic.nodes[c].repeat_count.is_some() {
                    self.push_item(0, Kind::RepeatCount, c);
                }
            }
        }
        for &i in created {
            let def = self.tree.get(i).def;
            if def != ROOT_DEF && self.logic.nodes[def].dynamic_default.is_some() {
                let v = {
                    let ctx = Ctx { iv: self };
                    self.logic.nodes[def]
                        .dynamic_default
                        .as_ref()
                        .map(|e| e.eval(&ctx, i))
                };
                if let Some(Ok(v)) = v {
                    self.tree.get_mut(i).value = value_text(v);
                }
            }
        }
        for &i in created {
            if self.tree.get(i).def != ROOT_DEF {
                self.enqueue_dependents(i);
            }
        }
    }

    pub(super) fn add_rows(&mut self, container: InstId, def: NodeId, n: u32) {
        let Some(si) = Tree::slot_index(&self.form, self.tree.get(container).def, def) else {
            return;
        };
        for _ in 0..n {
            let next_row = match &self.tree.get(container).slots[si] {
                Slot::Rows(r) => r.len() as u32 + 1,
                Slot::One(_) => return,
            };
            let mut created = Vec::new();
            // A new row starts with no rows of the repeats inside it, as ODK makes it from the
            // repeat's template (only the form's first instance holds one row of each repeat);
            // repeat_count rows come from their count.
            let none = |_: NodeId| 0;
            let row = self.tree.create(
                &self.form,
                def,
                Some(container),
                next_row,
                &none,
                &mut created,
            );
            if let Slot::Rows(r) = &mut self.tree.get_mut(container).slots[si] {
                r.push(row);
            }
            self.touched.rows_added.push(row);
            self.init_new(&created);
        }
    }

    pub(super) fn remove_rows(&mut self, row: InstId) {
        let Some(container) = self.tree.get(row).parent else {
            return;
        };
        let def = self.tree.get(row).def;
        let Some(si) = Tree::slot_index(&self.form, self.tree.get(container).def, def) else {
            return;
        };
        let mut sub = Vec::new();
        self.tree.subtree(row, &mut sub);
        // Aggregates outside the row read these nodes: queue them before the row disappears.
        for &i in &sub {
            self.enqueue_dependents(i);
        }
        for &i in &sub {
            self.tree.get_mut(i).alive = false;
        }
        let later: Vec<InstId> =
            if let Slot::Rows(rows) = &mut self.tree.get_mut(container).slots[si] {
                let pos = rows.iter().position(|r| *r == row).unwrap_or(rows.len());
                if pos < rows.len() {
                    rows.remove(pos);
                }
                rows[pos.min(rows.len())..].to_vec()
            } else {
                Vec::new()
            };
        for &r in &later {
            self.tree.get_mut(r).row -= 1;
        }
        // Expressions using position() in later rows see new row numbers.
        let positional: Vec<NodeId> = (0..self.form.nodes.len())
            .filter(|d| {
                self.logic.nodes[*d].uses_position && (*d == def || self.logic.inside(*d, def))
            })
            .collect();
        for d in positional {
            for &r in &later {
                let mut found = Vec::new();
                self.tree
                    .descend(&self.form, &self.logic.ancestors, r, d, &mut found);
                for f in found {
                    for k in logic::KINDS {
                        if k != Kind::RepeatCount && self.logic.nodes[d].get(k).is_some() {
                            self.push_item(f, k, d);
                        }
                    }
                }
            }
        }
    }

    /// Evaluates queued expressions until nothing changes.
    pub(super) fn run(&mut self) {
        let mut budget = 200_000usize + self.tree.insts.len() * 50;
        while let Some(Reverse((_, inst, kind, def))) = self.heap.pop() {
            self.queued.remove(&(inst, kind, def));
            if !self.tree.get(inst).alive {
                continue;
            }
            budget = budget.saturating_sub(1);
            if budget == 0 {
                self.touched.eval_errors.push((
                    inst,
                    "the form's logic does not settle (circular dependencies)".into(),
                ));
                self.heap.clear();
                self.queued.clear();
                break;
            }
            self.eval_item(inst, kind, def);
        }
    }

    pub(super) fn eval_item(&mut self, inst: InstId, kind: Kind, def: NodeId) {
        let Some(expr) = self.logic.nodes[def].get(kind) else {
            return;
        };
        let ctx = Ctx { iv: self };
        match kind {
            Kind::Calculate => {
                let v = match expr.eval(&ctx, inst) {
                    Ok(v) => value_text(v),
                    Err(e) => {
                        self.touched.eval_errors.push((inst, e.to_string()));
                        String::new()
                    }
                };
                let v = values::cast_calculated(self.form.nodes[def].data_type, v);
                if self.tree.get(inst).value != v {
                    self.tree.get_mut(inst).value = v;
                    self.touched.values.push(inst);
                    if self.tree.get(inst).relevant {
                        self.enqueue_dependents(inst);
                    }
                    self.push_checks(inst);
                }
            }
            Kind::Relevant => {
                let b = match expr.eval_bool(&ctx, inst) {
                    Ok(b) => b,
                    Err(e) => {
                        self.touched.eval_errors.push((inst, e.to_string()));
                        false
                    }
                };
                if self.tree.get(inst).self_relevant != b {
                    self.tree.get_mut(inst).self_relevant = b;
                    self.update_relevance(inst);
                }
            }
            Kind::Readonly => {
                let b = expr.eval_bool(&ctx, inst).unwrap_or(false);
                self.tree.get_mut(inst).readonly = b;
            }
            Kind::Required => {
                let b = expr.eval_bool(&ctx, inst).unwrap_or(false);
                self.tree.get_mut(inst).required = b;
            }
            Kind::Constraint => {
                let ok = if self.tree.get(inst).value.is_empty() {
                    true
                } else {
                    match expr.eval_bool(&ctx, inst) {
                        Ok(b) => b,
                        Err(e) => {
                            self.touched.eval_errors.push((inst, e.to_string()));
                            false
                        }
                    }
                };
                self.tree.get_mut(inst).constraint_ok = ok;
            }
            Kind::RepeatCount => {
                let n = expr.eval_number(&ctx, inst).unwrap_or(f64::NAN);
                let want = if n.is_finite() && n > 0.0 {
                    (n.trunc() as u32).min(10_000)
                } else {
                    0
                };
                let Some(si) = Tree::slot_index(&self.form, self.tree.get(inst).def, def) else {
                    return;
                };
                let have = match &self.tree.get(inst).slots[si] {
                    Slot::Rows(r) => r.len() as u32,
                    Slot::One(_) => return,
                };
                if want > have {
                    self.add_rows(inst, def, want - have);
                } else {
                    for _ in want..have {
                        let last = match &self.tree.get(inst).slots[si] {
                            Slot::Rows(r) => r.last().copied(),
                            Slot::One(_) => None,
                        };
                        if let Some(l) = last {
                            self.remove_rows(l);
                        }
                    }
                }
            }
        }
    }

    /// Recomputes effective relevance under `inst` after its own relevance changed.
    pub(super) fn update_relevance(&mut self, inst: InstId) {
        let mut sub = Vec::new();
        self.tree.subtree(inst, &mut sub);
        for i in sub {
            let x = self.tree.get(i);
            let parent_rel = x.parent.is_none_or(|p| self.tree.get(p).relevant);
            let rel = parent_rel && x.self_relevant;
            if rel != x.relevant {
                let has_value = !x.value.is_empty();
                self.tree.get_mut(i).relevant = rel;
                if rel {
                    self.touched.shown.push(i);
                } else {
                    self.touched.hidden.push(i);
                }
                if has_value || self.form.nodes[self.tree.get(i).def].kind != NodeKind::Field {
                    self.enqueue_dependents(i);
                }
            }
        }
    }

    pub(super) fn report(&mut self) -> Changes {
        let t = std::mem::take(&mut self.touched);
        let mut c = Changes::default();
        let alive = |iv: &Interview, i: &InstId| iv.tree.get(*i).alive;
        c.shown = t
            .shown
            .iter()
            .filter(|i| alive(self, i))
            .map(|i| self.path_of(*i))
            .collect();
        c.hidden = t
            .hidden
            .iter()
            .filter(|i| alive(self, i))
            .map(|i| self.path_of(*i))
            .collect();
        let mut seen = HashSet::new();
        for i in t.values.iter().filter(|i| alive(self, i)) {
            if seen.insert(*i) {
                c.values
                    .push((self.path_of(*i), self.tree.get(*i).value.clone()));
            }
        }
        let mut seen = HashSet::new();
        for i in t.checked.iter().filter(|i| alive(self, i)) {
            if seen.insert(*i)
                && let Some(f) = self.failure(*i)
            {
                c.errors.push((f.path, f.message));
            }
        }
        c.rows_added = t
            .rows_added
            .iter()
            .filter(|i| alive(self, i))
            .map(|i| self.path_of(*i))
            .collect();
        c.eval_errors = t
            .eval_errors
            .iter()
            .map(|(i, e)| (self.path_of(*i), e.clone()))
            .collect();
        c
    }
}
