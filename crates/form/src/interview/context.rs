//! The expression evaluator's view of a running interview.

use super::Interview;
use super::tree::{InstId, ROOT_DEF, Slot, Tree};
use crate::expr::{Context, FieldRef, NodeList, Table};
use crate::model::NodeKind;
use chrono::{DateTime, FixedOffset};
use std::borrow::Cow;

/// What the caller provides so the crate stays pure: the clock, randomness and ids.
/// `Send` so a running interview can live in an app's shared state between commands.
pub trait Environment: Send {
    /// The current instant with the device's UTC offset.
    fn now(&self) -> DateTime<FixedOffset>;
    /// A uniformly distributed number in [0, 1).
    fn random(&self) -> f64;
    /// A new unique id (FieldPost uses UUIDv7).
    fn uuid(&self) -> String;
}

/// A deterministic environment: a fixed instant and a seeded generator (tests, scripted runs,
/// benchmarks). The app passes its own, backed by the device clock and OS randomness.
#[derive(Debug)]
pub struct FixedEnvironment {
    pub now: DateTime<FixedOffset>,
    state: std::cell::Cell<u64>,
}

impl FixedEnvironment {
    pub fn new(now: DateTime<FixedOffset>, seed: u64) -> Self {
        FixedEnvironment {
            now,
            state: std::cell::Cell::new(seed | 1),
        }
    }
    fn next(&self) -> u64 {
        // xorshift64*: enough for random() in forms; not for secrets.
        let mut x = self.state.get();
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.state.set(x);
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

impl Environment for FixedEnvironment {
    fn now(&self) -> DateTime<FixedOffset> {
        self.now
    }
    fn random(&self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn uuid(&self) -> String {
        let (a, b) = (self.next(), self.next());
        format!(
            "uuid:{:08x}-{:04x}-7{:03x}-{:04x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xfff,
            0x8000 | (b >> 48) & 0x3fff,
            b & 0xffff_ffff_ffff
        )
    }
}

pub struct Ctx<'a> {
    pub iv: &'a Interview,
}

impl Ctx<'_> {
    fn tree(&self) -> &Tree {
        &self.iv.tree
    }
}

impl Context for Ctx<'_> {
    type Node = InstId;

    fn root(&self) -> InstId {
        0
    }

    fn name(&self, node: InstId) -> &str {
        let def = self.tree().get(node).def;
        if def == ROOT_DEF {
            &self.iv.form.settings.root_name
        } else {
            &self.iv.form.nodes[def].name
        }
    }

    fn parent(&self, node: InstId) -> Option<InstId> {
        self.tree().get(node).parent
    }

    fn children(&self, node: InstId, name: &str, out: &mut NodeList<InstId>) {
        let inst = self.tree().get(node);
        let defs = Tree::child_defs(&self.iv.form, inst.def);
        let Some(si) = defs
            .iter()
            .position(|d| self.iv.form.nodes[*d].name == name)
        else {
            return;
        };
        match inst.slots.get(si) {
            Some(Slot::One(c)) => out.push(*c),
            Some(Slot::Rows(rows)) => out.extend(rows.iter().copied()),
            None => {}
        }
    }

    fn value(&self, node: InstId) -> Cow<'_, str> {
        let inst = self.tree().get(node);
        if !inst.relevant || !inst.alive {
            return Cow::Borrowed("");
        }
        if inst.def != ROOT_DEF && self.iv.form.nodes[inst.def].kind == NodeKind::Field {
            return Cow::Borrowed(&inst.value);
        }
        // A container's string value is its descendants' text, as XPath defines it.
        let mut all = Vec::new();
        self.tree().subtree(node, &mut all);
        let mut s = String::new();
        for i in all {
            let x = self.tree().get(i);
            if x.relevant && x.def != ROOT_DEF && self.iv.form.nodes[x.def].kind == NodeKind::Field
            {
                s.push_str(&x.value);
            }
        }
        Cow::Owned(s)
    }

    fn field(&self, field: &FieldRef, current: InstId, out: &mut NodeList<InstId>) -> bool {
        let target = if field.id == FieldRef::UNBOUND {
            match self
                .iv
                .form
                .nodes
                .iter()
                .position(|n| *n.name == *field.name)
            {
                Some(t) => t,
                None => return false,
            }
        } else {
            field.id as usize
        };
        let mut v = Vec::new();
        self.iv.instances_seen_from(current, target, &mut v);
        out.extend(v);
        true
    }

    fn position(&self, node: InstId) -> usize {
        self.tree().get(node).row as usize
    }

    fn instance(&self, id: &str) -> Option<&Table> {
        self.iv.tables.get(id)
    }

    fn choice_label(&self, question: InstId, choice: &str) -> Option<Cow<'_, str>> {
        let def = self.tree().get(question).def;
        let node = self.iv.form.nodes.get(def)?;
        let list = self.iv.form.choice_list(node.list_name.as_deref()?)?;
        let c = list.choices.iter().find(|c| c.name == choice)?;
        let label = c
            .label
            .get(&self.iv.language)
            .or_else(|| c.label.values().next())?;
        Some(Cow::Borrowed(label))
    }

    fn now(&self) -> DateTime<FixedOffset> {
        self.iv.env.now()
    }

    fn random(&self) -> f64 {
        self.iv.env.random()
    }

    fn uuid(&self) -> String {
        self.iv.env.uuid()
    }
}
