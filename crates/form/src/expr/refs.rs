//! What an expression reads: the importer's input for the dependency graph, cycle detection, and
//! the comparison with pyxform's output (which rewrites `${x}` into paths).

use std::fmt;

use super::ast::{Axis, Base, CallExtra, Node, Path, Pred, Step};
use super::funcs::Func;

/// Where a path starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PathOrigin {
    /// `/data/...`: the main instance's document node.
    Root,
    /// `../x`, `x`, `.`: the node the expression belongs to.
    Context,
    /// `current()/../x`: the node the expression belongs to, even inside predicates.
    Current,
}

/// One thing an expression reads.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Reference {
    /// `${name}`.
    Field(String),
    /// A path into the main instance. `steps` are element names and `..`; `.` steps are
    /// dropped, so `.` itself is an empty list with origin [`PathOrigin::Context`]. A relative
    /// path inside a predicate of a main-instance path is joined to that path
    /// (`/data/rep[age > 5]` reads `/data/rep/age`).
    Path {
        /// Where the steps start.
        origin: PathOrigin,
        /// Element names and `..`.
        steps: Vec<String>,
    },
    /// `instance('id')` or `pulldata('id', ...)` with a literal id: a choice list or attachment.
    Instance(String),
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reference::Field(n) => write!(f, "${{{n}}}"),
            Reference::Instance(id) => write!(f, "instance('{id}')"),
            Reference::Path { origin, steps } => {
                let body = steps.join("/");
                match origin {
                    PathOrigin::Root => write!(f, "/{body}"),
                    PathOrigin::Context if body.is_empty() => f.write_str("."),
                    PathOrigin::Context => f.write_str(&body),
                    PathOrigin::Current if body.is_empty() => f.write_str("current()"),
                    PathOrigin::Current => write!(f, "current()/{body}"),
                }
            }
        }
    }
}

/// The main-instance path that relative paths inside a predicate are relative to; `None` inside
/// a secondary instance's predicate, where relative paths read the instance, not the form.
type PredBase = Option<(PathOrigin, Vec<String>)>;

pub(crate) fn collect(root: &Node) -> Vec<Reference> {
    let mut out = Vec::new();
    walk(root, &Some((PathOrigin::Context, Vec::new())), &mut out);
    out
}

fn push(out: &mut Vec<Reference>, r: Reference) {
    if !out.contains(&r) {
        out.push(r);
    }
}

fn walk(node: &Node, base: &PredBase, out: &mut Vec<Reference>) {
    match node {
        Node::Num(_) | Node::Str(_) => {}
        Node::Field(f) => push(out, Reference::Field(f.name.to_string())),
        Node::Neg(e) => walk(e, base, out),
        Node::Chain(first, rest) => {
            walk(first, base, out);
            for (_, n) in rest {
                walk(n, base, out);
            }
        }
        Node::Call(c) => {
            if let (Func::Instance | Func::Pulldata, Some(Node::Str(id))) = (c.func, c.args.first())
            {
                push(out, Reference::Instance(id.to_string()));
            }
            if c.func == Func::Current {
                push(
                    out,
                    Reference::Path {
                        origin: PathOrigin::Current,
                        steps: Vec::new(),
                    },
                );
            }
            for a in &c.args {
                walk(a, base, out);
            }
            if let CallExtra::ChoicePath(p) = &c.extra {
                walk(p, base, out);
            }
        }
        Node::Path(p) => walk_path(p, base, out),
    }
}

fn walk_path(p: &Path, base: &PredBase, out: &mut Vec<Reference>) {
    // Where the steps start, if it is a main-instance node we can name.
    let start: PredBase = match &p.base {
        Base::Root => Some((PathOrigin::Root, Vec::new())),
        Base::Context => base.clone(),
        Base::Expr(e, preds) => {
            let start = match e {
                Node::Call(c) if c.func == Func::Current => Some((PathOrigin::Current, Vec::new())),
                _ => None,
            };
            if start.is_none() {
                walk(e, base, out);
            }
            walk_preds(preds, &start, out);
            start
        }
    };
    let Some((origin, mut steps)) = start else {
        // Steps below a secondary instance or a computed node-set: only predicates can read
        // the form (through ${...} or current()).
        for s in &p.steps {
            walk_preds(&s.preds, &None, out);
        }
        return;
    };
    for s in &p.steps {
        apply_step(&mut steps, s);
        walk_preds(&s.preds, &Some((origin, steps.clone())), out);
    }
    push(out, Reference::Path { origin, steps });
}

fn apply_step(steps: &mut Vec<String>, s: &Step) {
    match &s.axis {
        Axis::SelfNode => {}
        Axis::Parent => {
            // `a/..` is `.`; `..` at the start stays.
            if steps.last().is_some_and(|l| l != "..") {
                steps.pop();
            } else {
                steps.push("..".to_string());
            }
        }
        Axis::Child(n) => steps.push(n.to_string()),
    }
}

fn walk_preds(preds: &[Pred], base: &PredBase, out: &mut Vec<Reference>) {
    for p in preds {
        walk(&p.expr, base, out);
    }
}

pub(crate) fn field_names<'a>(node: &'a Node, out: &mut Vec<&'a str>) {
    visit(node, &mut |n| {
        if let Node::Field(f) = n
            && !out.contains(&&*f.name)
        {
            out.push(&f.name);
        }
    });
}

pub(crate) fn functions(node: &Node, out: &mut Vec<&'static str>) {
    let mut funcs = Vec::new();
    functions_raw(node, &mut funcs);
    for f in funcs {
        let name = f.name();
        if !out.contains(&name) {
            out.push(name);
        }
    }
}

pub(crate) fn functions_raw(node: &Node, out: &mut Vec<Func>) {
    visit(node, &mut |n| {
        if let Node::Call(c) = n {
            out.push(c.func);
        }
    });
}

/// Call `f` on every node, including predicates and parsed string arguments.
fn visit<'a>(node: &'a Node, f: &mut impl FnMut(&'a Node)) {
    f(node);
    match node {
        Node::Num(_) | Node::Str(_) | Node::Field(_) => {}
        Node::Neg(e) => visit(e, f),
        Node::Chain(first, rest) => {
            visit(first, f);
            for (_, n) in rest {
                visit(n, f);
            }
        }
        Node::Call(c) => {
            for a in &c.args {
                visit(a, f);
            }
            if let CallExtra::ChoicePath(p) = &c.extra {
                visit(p, f);
            }
        }
        Node::Path(p) => {
            if let Base::Expr(e, preds) = &p.base {
                visit(e, f);
                for pr in preds {
                    visit(&pr.expr, f);
                }
            }
            for s in &p.steps {
                for pr in &s.preds {
                    visit(&pr.expr, f);
                }
            }
        }
    }
}

pub(crate) fn bind(
    node: &mut Node,
    id_of: &mut impl FnMut(&str) -> Option<u32>,
    unknown: &mut Vec<String>,
) {
    match node {
        Node::Num(_) | Node::Str(_) => {}
        Node::Field(f) => match id_of(&f.name) {
            Some(id) => f.id = id,
            None => {
                if !unknown.iter().any(|u| **u == *f.name) {
                    unknown.push(f.name.to_string());
                }
            }
        },
        Node::Neg(e) => bind(e, id_of, unknown),
        Node::Chain(first, rest) => {
            bind(first, id_of, unknown);
            for (_, n) in rest {
                bind(n, id_of, unknown);
            }
        }
        Node::Call(c) => {
            for a in &mut c.args {
                bind(a, id_of, unknown);
            }
            if let CallExtra::ChoicePath(p) = &mut c.extra {
                bind(p, id_of, unknown);
            }
        }
        Node::Path(p) => {
            if let Base::Expr(e, preds) = &mut p.base {
                bind(e, id_of, unknown);
                bind_preds(preds, id_of, unknown);
            }
            for s in &mut p.steps {
                bind_preds(&mut s.preds, id_of, unknown);
            }
        }
    }
}

fn bind_preds(
    preds: &mut [Pred],
    id_of: &mut impl FnMut(&str) -> Option<u32>,
    unknown: &mut Vec<String>,
) {
    for p in preds {
        bind(&mut p.expr, id_of, unknown);
        if let Some((_, key)) = &mut p.key {
            bind(key, id_of, unknown);
        }
    }
}
