//! The evaluator: paths, predicates, operators. Functions are in `call.rs`.

use std::borrow::Cow;
use std::cell::OnceCell;

use smallvec::{SmallVec, smallvec};

use super::ast::{Axis, Base, BinOp, Node, Path, Pred};
use super::table::Table;
use super::value::{NodeRef, NodeSet, Val, node_string};
use super::{Context, EvalError, NodeList, Value, dates};

pub(crate) struct Ev<'a, C: Context> {
    pub ctx: &'a C,
    pub current: C::Node,
    pub src: &'a str,
    /// Ancestors of `current`, root first, computed when an absolute path meets a repeat.
    chain: OnceCell<SmallVec<[C::Node; 8]>>,
}

/// Where an expression is evaluated: the context node, and inside a predicate its position and
/// the size of the node-set being filtered (`position()`, `last()`); 0 outside predicates.
#[derive(Clone, Copy)]
pub(crate) struct Here<'a, N> {
    pub node: NodeRef<'a, N>,
    pub pos: usize,
    pub size: usize,
}

pub(crate) type R<'a, N> = Result<Val<'a, N>, EvalError>;

impl<'a, C: Context> Ev<'a, C> {
    pub(crate) fn new(ctx: &'a C, current: C::Node, src: &'a str) -> Self {
        Ev {
            ctx,
            current,
            src,
            chain: OnceCell::new(),
        }
    }

    pub(crate) fn eval_top(&self, node: &'a Node) -> R<'a, C::Node> {
        self.eval_at(node, NodeRef::Main(self.current))
    }

    pub(crate) fn eval_at(&self, node: &'a Node, at: NodeRef<'a, C::Node>) -> R<'a, C::Node> {
        self.eval(
            node,
            Here {
                node: at,
                pos: 0,
                size: 0,
            },
        )
    }

    pub(crate) fn to_value(&self, v: Val<'a, C::Node>) -> Value {
        match v {
            Val::Num(n) => Value::Number(n),
            Val::Bool(b) => Value::Bool(b),
            Val::Date(d) => match dates::date_of_days(d) {
                Some(d) => Value::Date(d),
                None => Value::String(String::new()),
            },
            Val::DateTime(ms, off) => {
                let t = chrono::FixedOffset::east_opt(off).and_then(|o| {
                    chrono::DateTime::from_timestamp_millis(ms).map(|t| t.with_timezone(&o))
                });
                match t {
                    Some(t) => Value::DateTime(t),
                    None => Value::String(String::new()),
                }
            }
            other => Value::String(other.into_str(self.ctx).into_owned()),
        }
    }

    pub(crate) fn eval(&self, node: &'a Node, here: Here<'a, C::Node>) -> R<'a, C::Node> {
        match node {
            Node::Num(n) => Ok(Val::Num(*n)),
            Node::Str(s) => Ok(Val::Str(Cow::Borrowed(s))),
            Node::Field(f) => {
                let mut list = NodeList::new();
                if !self.ctx.field(f, self.current, &mut list) {
                    return Err(EvalError::new(format!(
                        "${{{}}} does not name a question of this form",
                        f.name
                    )));
                }
                Ok(Val::Nodes(
                    list.as_slice().iter().map(|n| NodeRef::Main(*n)).collect(),
                ))
            }
            Node::Path(p) => Ok(Val::Nodes(self.path(p, here)?)),
            Node::Neg(e) => Ok(Val::Num(-self.eval(e, here)?.to_num(self.ctx))),
            Node::Chain(first, rest) => {
                let mut acc = self.eval(first, here)?;
                for (op, rhs) in rest {
                    acc = self.binary(*op, acc, rhs, here)?;
                }
                Ok(acc)
            }
            Node::Call(c) => self.call(c, here),
        }
    }

    fn binary(
        &self,
        op: BinOp,
        lhs: Val<'a, C::Node>,
        rhs: &'a Node,
        here: Here<'a, C::Node>,
    ) -> R<'a, C::Node> {
        let ctx = self.ctx;
        // `and` and `or` do not evaluate their right side when the left decides.
        match op {
            BinOp::Or => {
                return Ok(Val::Bool(
                    lhs.to_bool(ctx) || self.eval(rhs, here)?.to_bool(ctx),
                ));
            }
            BinOp::And => {
                return Ok(Val::Bool(
                    lhs.to_bool(ctx) && self.eval(rhs, here)?.to_bool(ctx),
                ));
            }
            _ => {}
        }
        let r = self.eval(rhs, here)?;
        Ok(match op {
            BinOp::Eq => Val::Bool(lhs.equals(&r, ctx, false)),
            BinOp::Neq => Val::Bool(lhs.equals(&r, ctx, true)),
            BinOp::Lt => Val::Bool(lhs.relate(&r, ctx, |a, b| a < b)),
            BinOp::Le => Val::Bool(lhs.relate(&r, ctx, |a, b| a <= b)),
            BinOp::Gt => Val::Bool(lhs.relate(&r, ctx, |a, b| a > b)),
            BinOp::Ge => Val::Bool(lhs.relate(&r, ctx, |a, b| a >= b)),
            BinOp::Add => Val::Num(lhs.to_num(ctx) + r.to_num(ctx)),
            BinOp::Sub => Val::Num(lhs.to_num(ctx) - r.to_num(ctx)),
            BinOp::Mul => Val::Num(lhs.to_num(ctx) * r.to_num(ctx)),
            BinOp::Div => Val::Num(lhs.to_num(ctx) / r.to_num(ctx)),
            BinOp::Mod => Val::Num(lhs.to_num(ctx) % r.to_num(ctx)),
            BinOp::Union => match (lhs, r) {
                (Val::Nodes(mut a), Val::Nodes(b)) => {
                    for n in b {
                        if !a.contains(&n) {
                            a.push(n);
                        }
                    }
                    Val::Nodes(a)
                }
                _ => {
                    return Err(EvalError::new(
                        "'|' joins node-sets (paths); one side of it is a plain value",
                    ));
                }
            },
            BinOp::Or | BinOp::And => Val::Bool(false),
        })
    }

    fn path(
        &self,
        p: &'a Path,
        here: Here<'a, C::Node>,
    ) -> Result<NodeSet<'a, C::Node>, EvalError> {
        let mut set: NodeSet<'a, C::Node> = match &p.base {
            Base::Root => smallvec![NodeRef::MainDoc],
            Base::Context => smallvec![here.node],
            Base::Expr(e, preds) => {
                let mut set = match self.eval(e, here)? {
                    Val::Nodes(ns) => ns,
                    _ => {
                        return Err(EvalError::new(format!(
                            "a path or [predicate] follows a value that is not a node-set in `{}`",
                            self.src
                        )));
                    }
                };
                for pred in preds {
                    set = self.filter(set, pred)?;
                }
                set
            }
        };
        let absolute = matches!(p.base, Base::Root);
        let mut kids: NodeSet<'a, C::Node> = SmallVec::new();
        for step in &p.steps {
            let mut next: NodeSet<'a, C::Node> = SmallVec::new();
            match &step.axis {
                Axis::SelfNode => next = set,
                Axis::Parent => {
                    for n in set {
                        if let Some(parent) = self.parent(n)
                            && !next.contains(&parent)
                        {
                            next.push(parent);
                        }
                    }
                }
                Axis::Child(name) => {
                    let single = set.len() == 1;
                    for n in set {
                        // `root/item[column = value]...`: go straight to the table's index
                        // instead of listing every row first.
                        if let (NodeRef::Root(t), "item", Some(first)) =
                            (n, &**name, step.preds.first())
                            && let Some(rows) = self.index_rows(t, first)?
                        {
                            let mut filtered: NodeSet<'a, C::Node> =
                                rows.into_iter().map(|r| NodeRef::Item(t, r)).collect();
                            for pred in &step.preds[1..] {
                                filtered = self.filter(filtered, pred)?;
                            }
                            next.extend(filtered);
                            continue;
                        }
                        kids.clear();
                        self.children(n, name, &mut kids);
                        if absolute
                            && single
                            && kids.len() > 1
                            && step.preds.is_empty()
                            && let Some(c) = self.contextualise(n, name)
                        {
                            kids.clear();
                            kids.push(c);
                        }
                        if step.preds.is_empty() {
                            next.extend(kids.drain(..));
                        } else {
                            let mut filtered = std::mem::take(&mut kids);
                            for pred in &step.preds {
                                filtered = self.filter(filtered, pred)?;
                            }
                            next.extend(filtered);
                        }
                    }
                }
            }
            set = next;
        }
        Ok(set)
    }

    /// JavaRosa's contextualisation of absolute paths: `/data/rep/q` seen from inside row 2 of
    /// `rep` means row 2's `q`. When `parent` is an ancestor of the current node and its child on
    /// the way down to the current node is named `name`, that child is the answer.
    fn contextualise(
        &self,
        parent: NodeRef<'a, C::Node>,
        name: &str,
    ) -> Option<NodeRef<'a, C::Node>> {
        let NodeRef::Main(p) = parent else {
            return None;
        };
        let chain = self.chain.get_or_init(|| {
            let mut chain: SmallVec<[C::Node; 8]> = SmallVec::new();
            let mut n = Some(self.current);
            // A malformed context could loop; no real form is 10,000 levels deep.
            while let Some(x) = n {
                if chain.len() > 10_000 {
                    break;
                }
                chain.push(x);
                n = self.ctx.parent(x);
            }
            chain.reverse();
            chain
        });
        let i = chain.iter().position(|x| *x == p)?;
        let child = *chain.get(i + 1)?;
        (self.ctx.name(child) == name).then_some(NodeRef::Main(child))
    }

    pub(crate) fn parent(&self, n: NodeRef<'a, C::Node>) -> Option<NodeRef<'a, C::Node>> {
        match n {
            NodeRef::MainDoc | NodeRef::Doc(_) => None,
            NodeRef::Main(m) => Some(match self.ctx.parent(m) {
                Some(p) => NodeRef::Main(p),
                None => NodeRef::MainDoc,
            }),
            NodeRef::Root(t) => Some(NodeRef::Doc(t)),
            NodeRef::Item(t, _) => Some(NodeRef::Root(t)),
            NodeRef::Cell(t, r, _) => Some(NodeRef::Item(t, r)),
        }
    }

    fn children(&self, n: NodeRef<'a, C::Node>, name: &str, out: &mut NodeSet<'a, C::Node>) {
        match n {
            NodeRef::MainDoc => {
                let root = self.ctx.root();
                if self.ctx.name(root) == name {
                    out.push(NodeRef::Main(root));
                }
            }
            NodeRef::Main(m) => {
                let mut list = NodeList::new();
                self.ctx.children(m, name, &mut list);
                out.extend(list.as_slice().iter().map(|c| NodeRef::Main(*c)));
            }
            NodeRef::Doc(t) => {
                if name == "root" {
                    out.push(NodeRef::Root(t));
                }
            }
            NodeRef::Root(t) => {
                if name == "item" {
                    // Table::push_row caps rows at u32::MAX.
                    out.extend((0..t.len() as u32).map(|r| NodeRef::Item(t, r)));
                }
            }
            NodeRef::Item(t, r) => {
                if let Some(c) = t.column(name) {
                    out.push(NodeRef::Cell(t, r, c as u32));
                }
            }
            NodeRef::Cell(..) => {}
        }
    }

    fn filter(
        &self,
        set: NodeSet<'a, C::Node>,
        pred: &'a Pred,
    ) -> Result<NodeSet<'a, C::Node>, EvalError> {
        if let Some(fast) = self.indexed_filter(&set, pred)? {
            return Ok(fast);
        }
        let size = set.len();
        let mut out = SmallVec::new();
        for (i, n) in set.into_iter().enumerate() {
            let here = Here {
                node: n,
                pos: i + 1,
                size,
            };
            let keep = match self.eval(&pred.expr, here)? {
                Val::Num(k) => k == (i + 1) as f64,
                v => v.to_bool(self.ctx),
            };
            if keep {
                out.push(n);
            }
        }
        Ok(out)
    }

    /// `item[column = value]` over all rows of a table, answered from the table's index.
    fn indexed_filter(
        &self,
        set: &NodeSet<'a, C::Node>,
        pred: &'a Pred,
    ) -> Result<Option<NodeSet<'a, C::Node>>, EvalError> {
        if pred.key.is_none() {
            return Ok(None);
        }
        let Some(&NodeRef::Item(table, 0)) = set.first() else {
            return Ok(None);
        };
        if set.len() != table.len()
            || !matches!(set.last(), Some(&NodeRef::Item(t, r)) if std::ptr::eq(t, table) && r as usize + 1 == table.len())
        {
            return Ok(None);
        }
        Ok(self
            .index_rows(table, pred)?
            .map(|rows| rows.into_iter().map(|r| NodeRef::Item(table, r)).collect()))
    }

    /// The rows of `table` that satisfy a `column = value` predicate, from the table's index;
    /// `None` when the predicate is not of that shape or the value is not text.
    fn index_rows(&self, table: &'a Table, pred: &'a Pred) -> Result<Option<Vec<u32>>, EvalError> {
        let Some((col, key)) = &pred.key else {
            return Ok(None);
        };
        let Some(c) = table.column(col) else {
            return Ok(Some(Vec::new()));
        };
        let here = Here {
            node: NodeRef::Root(table),
            pos: 0,
            size: 0,
        };
        Ok(Some(match self.eval(key, here)? {
            Val::Str(s) => table.rows_where(c, &s).to_vec(),
            Val::Nodes(ns) if ns.len() == 1 => {
                table.rows_where(c, &node_string(self.ctx, ns[0])).to_vec()
            }
            Val::Nodes(ns) => {
                let mut rows = Vec::new();
                for n in ns {
                    rows.extend_from_slice(table.rows_where(c, &node_string(self.ctx, n)));
                }
                rows.sort_unstable();
                rows.dedup();
                rows
            }
            // Numbers, booleans and dates compare by value, not text: test every row.
            _ => return Ok(None),
        }))
    }
}
