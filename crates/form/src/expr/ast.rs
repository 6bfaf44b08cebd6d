//! The parsed form of an expression. Built once at import, evaluated many times.

use super::funcs::Func;

/// A `${name}` reference. `id` is a slot the importer may fill with [`super::Expr::bind_fields`]
/// so the context can resolve the field without hashing its name on every evaluation.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldRef {
    /// The question name between the braces.
    pub name: Box<str>,
    /// The caller's id for this field, or [`FieldRef::UNBOUND`].
    pub id: u32,
}

impl FieldRef {
    /// `id` of a reference the caller has not bound.
    pub const UNBOUND: u32 = u32::MAX;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BinOp {
    Or,
    And,
    Eq,
    Neq,
    Lt,
    Le,
    Gt,
    Ge,
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Union,
}

impl BinOp {
    pub(crate) fn symbol(self) -> &'static str {
        match self {
            BinOp::Or => "or",
            BinOp::And => "and",
            BinOp::Eq => "=",
            BinOp::Neq => "!=",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "div",
            BinOp::Mod => "mod",
            BinOp::Union => "|",
        }
    }
}

#[derive(Debug)]
pub(crate) enum Node {
    Num(f64),
    Str(Box<str>),
    Field(FieldRef),
    Path(Box<Path>),
    Neg(Box<Node>),
    /// A left-associative chain `first op1 e1 op2 e2 ...` of one precedence level, kept flat so
    /// that `a or b or c ...` with hundreds of terms makes a shallow tree (no deep recursion).
    Chain(Box<Node>, Vec<(BinOp, Node)>),
    Call(Box<Call>),
}

#[derive(Debug)]
pub(crate) enum Base {
    /// `/...`: from the main instance's document node.
    Root,
    /// A relative path: from the context node.
    Context,
    /// A filter expression (`instance('x')`, `current()`, `${q}`, `(...)`) with its predicates.
    Expr(Node, Vec<Pred>),
}

#[derive(Debug)]
pub(crate) struct Path {
    pub base: Base,
    pub steps: Vec<Step>,
}

#[derive(Debug)]
pub(crate) enum Axis {
    Child(Box<str>),
    Parent,
    SelfNode,
}

#[derive(Debug)]
pub(crate) struct Step {
    pub axis: Axis,
    pub preds: Vec<Pred>,
}

/// A predicate. When it has the shape `column = value` and `value` does not depend on the item
/// being tested, `key` holds both so a secondary instance can answer from a hash index instead of
/// testing every row (cascading selects over thousands of communes).
#[derive(Debug)]
pub(crate) struct Pred {
    pub expr: Node,
    pub key: Option<(Box<str>, Node)>,
}

#[derive(Debug)]
pub(crate) struct Call {
    pub func: Func,
    pub args: Vec<Node>,
    /// Byte span of the call in the source, to quote it in run-time errors.
    pub span: (usize, usize),
    pub extra: CallExtra,
}

/// Work done once at parse time for some functions.
#[derive(Debug)]
pub(crate) enum CallExtra {
    None,
    /// `regex(s, 'literal')`: the compiled pattern, or why it does not compile.
    Regex(Result<Box<fancy_regex::Regex>, String>),
    /// `jr:choice-name(v, '${q}')`: the path in the string literal, parsed.
    ChoicePath(Box<Node>),
}
