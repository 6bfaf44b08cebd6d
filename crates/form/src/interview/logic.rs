//! A form's expressions, parsed once, and the dependency graph between its nodes.
//!
//! For every node the graph lists which nodes' relevance, calculation, constraint, required or
//! repeat count read it. Setting an answer then re-evaluates only those, in topological order
//! (rank), instead of the whole form.

use crate::expr::{Expr, PathOrigin, Reference};
use crate::model::{Form, NodeId, NodeKind};
use std::collections::HashMap;

/// Which expression of a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    RepeatCount,
    Calculate,
    Relevant,
    Readonly,
    Required,
    Constraint,
}

pub const KINDS: [Kind; 6] = [
    Kind::RepeatCount,
    Kind::Calculate,
    Kind::Relevant,
    Kind::Readonly,
    Kind::Required,
    Kind::Constraint,
];

/// The parsed expressions of one node.
#[derive(Debug, Default)]
pub struct NodeLogic {
    pub relevant: Option<Expr>,
    pub constraint: Option<Expr>,
    pub required: Option<Expr>,
    pub readonly: Option<Expr>,
    pub calculation: Option<Expr>,
    pub repeat_count: Option<Expr>,
    pub choice_filter: Option<Expr>,
    /// A default that is an expression, evaluated when the node is created.
    pub dynamic_default: Option<Expr>,
    /// Whether an expression calls position() (rows renumber when one is removed).
    pub uses_position: bool,
}

impl NodeLogic {
    pub fn get(&self, k: Kind) -> Option<&Expr> {
        match k {
            Kind::RepeatCount => self.repeat_count.as_ref(),
            Kind::Calculate => self.calculation.as_ref(),
            Kind::Relevant => self.relevant.as_ref(),
            Kind::Readonly => self.readonly.as_ref(),
            Kind::Required => self.required.as_ref(),
            Kind::Constraint => self.constraint.as_ref(),
        }
    }
}

/// A form whose expression could not be parsed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{path}: {what} `{expr}` cannot be used: {message}")]
pub struct LogicError {
    pub path: String,
    pub what: &'static str,
    pub expr: String,
    pub message: String,
}

pub struct Logic {
    pub nodes: Vec<NodeLogic>,
    /// For node R: the (node, expression) pairs that read R.
    pub dependents: Vec<Vec<(NodeId, Kind)>>,
    /// Evaluation order: lower first.
    pub rank: Vec<u32>,
    /// Ancestors of each node, outermost first.
    pub ancestors: Vec<Vec<NodeId>>,
}

/// A default is an expression when it reads something or calls a function (pyxform's rule:
/// such defaults become a `setvalue` on load instead of a fixed initial value).
pub fn default_is_dynamic(text: &str) -> bool {
    text.contains("${") || text.contains('(') || text.contains(" + ") || text.contains(" div ")
}

impl Logic {
    pub fn compile(form: &Form) -> Result<Logic, LogicError> {
        let mut by_name: HashMap<&str, NodeId> = HashMap::new();
        for (i, n) in form.nodes.iter().enumerate() {
            by_name.entry(n.name.as_str()).or_insert(i);
        }
        let ancestors: Vec<Vec<NodeId>> = (0..form.nodes.len())
            .map(|i| {
                let mut v = Vec::new();
                let mut p = form.nodes[i].parent;
                while let Some(x) = p {
                    v.push(x);
                    p = form.nodes[x].parent;
                }
                v.reverse();
                v
            })
            .collect();
        let mut nodes = Vec::with_capacity(form.nodes.len());
        let mut dependents: Vec<Vec<(NodeId, Kind)>> = vec![Vec::new(); form.nodes.len()];
        for (id, n) in form.nodes.iter().enumerate() {
            let parse =
                |what: &'static str, text: &Option<String>| -> Result<Option<Expr>, LogicError> {
                    let Some(t) = text else { return Ok(None) };
                    let mut e = Expr::parse(t).map_err(|e| LogicError {
                        path: n.path.clone(),
                        what,
                        expr: t.clone(),
                        message: e.to_string(),
                    })?;
                    e.bind_fields(|name| by_name.get(name).map(|i| *i as u32));
                    Ok(Some(e))
                };
            let mut logic = NodeLogic {
                relevant: parse("relevant", &n.bind.relevant)?,
                constraint: parse("constraint", &n.bind.constraint)?,
                required: match n.bind.required.as_deref() {
                    None | Some("false()") => None,
                    _ => parse("required", &n.bind.required)?,
                },
                readonly: match n.bind.readonly.as_deref() {
                    None | Some("false()") => None,
                    _ => parse("read_only", &n.bind.readonly)?,
                },
                calculation: parse("calculation", &n.bind.calculation)?,
                repeat_count: if n.kind == NodeKind::Repeat {
                    parse("repeat_count", &n.bind.repeat_count)?
                } else {
                    None
                },
                choice_filter: parse("choice_filter", &n.bind.choice_filter)?,
                dynamic_default: match &n.bind.default {
                    Some(d) if default_is_dynamic(d) && n.bind.calculation.is_none() => {
                        parse("default", &n.bind.default)?
                    }
                    _ => None,
                },
                uses_position: false,
            };
            let mut uses_position = false;
            for k in KINDS {
                let Some(e) = logic.get(k) else { continue };
                uses_position |= e
                    .functions()
                    .iter()
                    .any(|f| *f == "position" || *f == "indexed-repeat");
                for r in e.references() {
                    if let Some(target) = resolve(form, &by_name, id, &r)
                        && !dependents[target].contains(&(id, k))
                    {
                        dependents[target].push((id, k));
                    }
                }
            }
            logic.uses_position = uses_position;
            nodes.push(logic);
        }
        let rank = ranks(form.nodes.len(), &dependents);
        Ok(Logic {
            nodes,
            dependents,
            rank,
            ancestors,
        })
    }

    /// Is `node` inside (a descendant of) `container`?
    pub fn inside(&self, node: NodeId, container: NodeId) -> bool {
        self.ancestors[node].contains(&container)
    }
}

/// The node a reference reads, seen from node `from`.
fn resolve(
    form: &Form,
    by_name: &HashMap<&str, NodeId>,
    from: NodeId,
    r: &Reference,
) -> Option<NodeId> {
    match r {
        Reference::Field(name) => by_name.get(name.as_str()).copied(),
        Reference::Instance(_) => None,
        Reference::Path { origin, steps } => {
            // None = the root element; Some(i) = node i.
            let mut at: Option<Option<NodeId>> = match origin {
                PathOrigin::Root => None,
                PathOrigin::Context | PathOrigin::Current => Some(Some(from)),
            };
            let mut steps = steps.iter().peekable();
            if at.is_none() {
                // `/data/...`: the first step names the root element.
                steps.next()?;
                at = Some(None);
            }
            let mut cur = at?;
            for s in steps {
                if s == ".." {
                    cur = form.nodes[cur?].parent;
                    continue;
                }
                let children = match cur {
                    Some(i) => &form.nodes[i].children,
                    None => &form.children,
                };
                cur = Some(*children.iter().find(|c| form.nodes[**c].name == *s)?);
            }
            cur
        }
    }
}

/// Topological order of the dependency graph (Kahn); nodes in a cycle keep document order.
fn ranks(n: usize, dependents: &[Vec<(NodeId, Kind)>]) -> Vec<u32> {
    // Only expressions that change values or relevance order the evaluation; a constraint's
    // `.` (the node itself) is not an edge.
    let counts = |v: NodeId, x: NodeId, k: Kind| {
        x != v && matches!(k, Kind::Calculate | Kind::Relevant | Kind::RepeatCount)
    };
    let mut indeg = vec![0u32; n];
    for (v, d) in dependents.iter().enumerate() {
        for (x, k) in d {
            if counts(v, *x, *k) {
                indeg[*x] += 1;
            }
        }
    }
    let mut rank = vec![u32::MAX; n];
    let mut queue: std::collections::VecDeque<NodeId> = (0..n).filter(|i| indeg[*i] == 0).collect();
    let mut next = 0u32;
    while let Some(v) = queue.pop_front() {
        rank[v] = next;
        next += 1;
        for (x, k) in &dependents[v] {
            if !counts(v, *x, *k) {
                continue;
            }
            indeg[*x] -= 1;
            if indeg[*x] == 0 {
                queue.push_back(*x);
            }
        }
    }
    for r in rank.iter_mut().filter(|r| **r == u32::MAX) {
        *r = next;
        next += 1;
    }
    rank
}
