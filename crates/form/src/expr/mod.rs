//! The expression language of XLSForm: ODK's subset of XPath 1.0, as pyxform writes it and
//! JavaRosa (ODK Collect) evaluates it.
//!
//! An expression is parsed once, at import ([`Expr::parse`]), and evaluated many times against a
//! [`Context`] that the interview state implements. Parsing refuses, by name, every function
//! FieldPost does not evaluate, so a form never runs with a silently ignored piece of logic.
//!
//! # Grammar
//! ```text
//! Expr      := Or
//! Or        := And ('or' And)*          And := Eq ('and' Eq)*
//! Eq        := Rel (('=' | '!=') Rel)*  Rel := Add (('<' | '<=' | '>' | '>=') Add)*
//! Add       := Mul (('+' | '-') Mul)*   Mul := Unary (('*' | 'div' | 'mod') Unary)*
//! Unary     := '-' Unary | Union        Union := Path ('|' Path)*
//! Path      := '/' Steps? | Steps | Primary Pred* ('/' Steps)?
//! Steps     := Step ('/' Step)*         Step := NAME Pred* | '.' | '..' | child::NAME
//! Pred      := '[' Expr ']'
//! Primary   := '${' NAME '}' | NUMBER | 'string' | "string" | '(' Expr ')' | FUNC '(' args ')'
//! ```
//! `${name}` is a question by name; inside a repeat it means the same row's instance, as pyxform's
//! relative paths and JavaRosa's contextualisation make it. Absolute paths (`/data/g/q`) are
//! contextualised the same way: a step into a repeat that encloses the current node stays in the
//! current row. Secondary instances (`instance('list')/root/item[name = ${x}]/label`) are
//! [`Table`]s. Not supported, each refused with a message: `//`, `@attributes`, `*` steps, other
//! axes, XPath variables, and the functions in [`funcs`]' refusal list (checklist, randomize, ...).
//! Typographic quotes around strings (‘…’, “…”), which spreadsheets insert and pyxform passes,
//! are read as quotes with a warning ([`Expr::warnings`]).
//!
//! # Values
//! XPath 1.0's four types plus ODK's dates: an empty string is NaN as a number; numbers print
//! without `.0` (`string(2.0)` is `2`); `YYYY-MM-DD` strings and date values convert to days since
//! 1970-01-01; select_multiple answers are space-separated choice names. Run-time failures
//! (a pattern that does not compile, a missing attachment column) are [`EvalError`]s.
//!
//! # The context
//! [`Context`] is the evaluator's whole view of the interview: a tree of nodes (groups, repeat
//! rows, questions) with string values, the resolution of `${name}`, the secondary instances, the
//! choice labels, and the clock, random source and id generator, which the caller provides so this
//! crate stays pure (no I/O, no clock, no OS randomness; it compiles for wasm32).

mod ast;
mod call;
mod dates;
mod eval;
pub(crate) mod funcs;
mod lexer;
mod memory;
mod parser;
mod refs;
mod table;
#[cfg(test)]
mod tests;
mod value;

use std::borrow::Cow;
use std::fmt;

use chrono::{DateTime, FixedOffset};

pub use ast::FieldRef;
pub use funcs::supported_functions;
pub use memory::MemoryContext;
pub use refs::{PathOrigin, Reference};
pub use table::{Table, TableError};
pub use value::NodeRef;

/// What an expression can ask of the interview.
///
/// `Node` is the context's own handle for a node of the main instance: the root (`/data`),
/// a group, a repeat row (one node per row, each named like the repeat), or a question. Handles
/// are compared with `==`, so two handles of the same node must be equal.
///
/// Methods take `&self`: the random source and the id generator need interior mutability (a
/// `Cell` holding the generator state) if they are stateful.
pub trait Context {
    /// A node of the main instance.
    type Node: Copy + PartialEq + fmt::Debug;

    /// The main instance's root element, named after the form (what `/data` denotes).
    fn root(&self) -> Self::Node;

    /// A node's element name (the question's or group's `name`; a repeat row has the repeat's).
    fn name(&self, node: Self::Node) -> &str;

    /// The parent of a node; `None` for the root.
    fn parent(&self, node: Self::Node) -> Option<Self::Node>;

    /// Push the children of `node` named `name`, in document order: one for a question or a
    /// group, one per row for a repeat.
    fn children(&self, node: Self::Node, name: &str, out: &mut NodeList<Self::Node>);

    /// The value of a node as ODK stores it in the instance: `""` when unanswered or when the
    /// node is not relevant; numbers as plain decimals, dates `YYYY-MM-DD`, select_multiple as
    /// space-separated choice names, geopoints `lat lon alt acc`.
    fn value(&self, node: Self::Node) -> Cow<'_, str>;

    /// Resolve `${name}` seen from `current` (the node whose expression is evaluated; for
    /// `indexed-repeat` it is a repeat row). Push the field's nodes as ODK resolves pyxform's
    /// rewrite: when the field is in a repeat that also encloses `current` (a row encloses
    /// itself), the instance in that same row; otherwise every instance, in document order (all
    /// rows of a repeat the current node is not in). Return `false` when no field has that name.
    /// `field.id` is the id given by [`Expr::bind_fields`], or [`FieldRef::UNBOUND`].
    fn field(&self, field: &FieldRef, current: Self::Node, out: &mut NodeList<Self::Node>) -> bool;

    /// 1-based position of a node among its same-named siblings (a repeat row's number).
    /// The default asks the parent for its children; override it when the row number is at hand.
    fn position(&self, node: Self::Node) -> usize {
        let Some(parent) = self.parent(node) else {
            return 1;
        };
        let mut siblings = NodeList::new();
        self.children(parent, self.name(node), &mut siblings);
        siblings
            .as_slice()
            .iter()
            .position(|n| *n == node)
            .map_or(1, |i| i + 1)
    }

    /// A secondary instance by id: a choice list (`instance('list_name')`) or an attachment
    /// (`instance('fruits')` and `pulldata('fruits', ...)` for `fruits.csv`).
    fn instance(&self, id: &str) -> Option<&Table>;

    /// The label, in the interview's current language, of choice `choice` of the list used by
    /// select question `question` (for `jr:choice-name`). `None` when there is no such choice.
    fn choice_label(&self, question: Self::Node, choice: &str) -> Option<Cow<'_, str>>;

    /// The current instant and the device's UTC offset (for `now()` and `today()`).
    fn now(&self) -> DateTime<FixedOffset>;

    /// A uniformly distributed number in `[0, 1)` (for `random()` and `uuid(n)`).
    fn random(&self) -> f64;

    /// A new unique id, as `uuid()` returns it (FieldPost uses UUIDv7).
    fn uuid(&self) -> String;
}

/// Nodes pushed by a [`Context`]. Up to four are stored inline, so resolving a question outside a
/// repeat does not allocate.
#[derive(Debug, Clone, Default)]
pub struct NodeList<N>(smallvec::SmallVec<[N; 4]>);

impl<N> NodeList<N> {
    /// An empty list.
    pub fn new() -> Self {
        NodeList(smallvec::SmallVec::new())
    }
    /// Add a node at the end.
    pub fn push(&mut self, node: N) {
        self.0.push(node);
    }
    /// The nodes, in the order pushed.
    pub fn as_slice(&self) -> &[N] {
        &self.0
    }
    /// Remove every node.
    pub fn clear(&mut self) {
        self.0.clear();
    }
}

impl<N> Extend<N> for NodeList<N> {
    fn extend<I: IntoIterator<Item = N>>(&mut self, iter: I) {
        self.0.extend(iter);
    }
}

/// Why an expression could not be parsed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message} (at character {column} of `{excerpt}`)")]
pub struct ParseError {
    /// What is wrong, in words a form designer can act on.
    pub message: String,
    /// 1-based character position in the expression.
    pub column: usize,
    /// The expression, or the part of it around the error when it is long.
    pub excerpt: String,
}

impl ParseError {
    pub(crate) fn new(src: &str, byte: usize, message: impl Into<String>) -> ParseError {
        let column = lexer::char_column(src, byte);
        let chars: Vec<char> = src.chars().collect();
        let excerpt = if chars.len() <= 80 {
            src.to_string()
        } else {
            let from = column.saturating_sub(40);
            let to = (from + 80).min(chars.len());
            let mut s = String::new();
            if from > 0 {
                s.push('…');
            }
            s.extend(&chars[from..to]);
            if to < chars.len() {
                s.push('…');
            }
            s
        };
        ParseError {
            message: message.into(),
            column,
            excerpt,
        }
    }
}

/// Why an evaluation failed at run time.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct EvalError {
    /// What went wrong, naming the function and quoting the offending part of the expression.
    pub message: String,
}

impl EvalError {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        EvalError {
            message: message.into(),
        }
    }
}

/// The result of an evaluation, for callers that keep the type.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A number (XPath numbers are IEEE doubles).
    Number(f64),
    /// A string; a node-set result arrives here as the string value of its first node.
    String(String),
    /// A boolean.
    Bool(bool),
    /// A date (`today()`, `date(...)`).
    Date(chrono::NaiveDate),
    /// An instant with the offset it is shown in (`now()`, `date-time(...)`).
    DateTime(DateTime<FixedOffset>),
}

impl fmt::Display for Value {
    /// The value as ODK stores it in an instance: what a calculate field records.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Number(n) => f.write_str(&value::format_number(*n)),
            Value::String(s) => f.write_str(s),
            Value::Bool(b) => f.write_str(if *b { "true" } else { "false" }),
            Value::Date(d) => write!(f, "{}", d.format("%Y-%m-%d")),
            Value::DateTime(t) => f.write_str(&dates::format_iso_datetime(
                t.timestamp_millis(),
                t.offset().local_minus_utc(),
            )),
        }
    }
}

/// A parsed expression.
#[derive(Debug)]
pub struct Expr {
    root: ast::Node,
    source: Box<str>,
    warnings: Vec<String>,
}

impl Expr {
    /// Parse an expression as written in an XLSForm cell (with `${name}` references).
    pub fn parse(source: &str) -> Result<Expr, ParseError> {
        let lexed = lexer::lex(source)?;
        let mut parser = parser::Parser::new(source, &lexed.tokens);
        let root = parser.parse_all()?;
        let mut warnings = lexed.warnings;
        warnings.append(&mut parser.warnings);
        Ok(Expr {
            root,
            source: source.into(),
            warnings,
        })
    }

    /// The text the expression was parsed from.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Things that parsed but deserve the form designer's attention (typographic quotes).
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// Every `${name}`, path and secondary instance the expression reads, each once, in order of
    /// first appearance. See [`Reference`] for what paths are relative to.
    pub fn references(&self) -> Vec<Reference> {
        refs::collect(&self.root)
    }

    /// The names of the `${name}` references, each once.
    pub fn field_names(&self) -> Vec<&str> {
        let mut out = Vec::new();
        refs::field_names(&self.root, &mut out);
        out
    }

    /// The functions called, each once (for reports and feature checks).
    pub fn functions(&self) -> Vec<&'static str> {
        let mut out = Vec::new();
        refs::functions(&self.root, &mut out);
        out
    }

    /// Whether the value can change while no field changes (now, today, random, uuid): the
    /// interview state recomputes such expressions on its own schedule (ODK: on form load).
    pub fn is_volatile(&self) -> bool {
        let mut out = Vec::new();
        refs::functions_raw(&self.root, &mut out);
        out.iter().any(|f| f.is_volatile())
    }

    /// Give each `${name}` the caller's id for that field, so [`Context::field`] can index instead
    /// of hashing names. Returns the names `id_of` did not know (unknown questions).
    pub fn bind_fields(&mut self, mut id_of: impl FnMut(&str) -> Option<u32>) -> Vec<String> {
        let mut unknown = Vec::new();
        refs::bind(&mut self.root, &mut id_of, &mut unknown);
        unknown
    }

    /// Evaluate with `current` as the context node (the question whose relevant, constraint or
    /// calculation this is; `.` and `current()` both denote it).
    pub fn eval<C: Context>(&self, ctx: &C, current: C::Node) -> Result<Value, EvalError> {
        let ev = eval::Ev::new(ctx, current, &self.source);
        let v = ev.eval_top(&self.root)?;
        Ok(ev.to_value(v))
    }

    /// Evaluate as a boolean (relevant, constraint, required): XPath's `boolean()` of the result,
    /// so a node-set is true when not empty and a string when not empty.
    pub fn eval_bool<C: Context>(&self, ctx: &C, current: C::Node) -> Result<bool, EvalError> {
        let ev = eval::Ev::new(ctx, current, &self.source);
        let v = ev.eval_top(&self.root)?;
        Ok(v.to_bool(ctx))
    }

    /// Evaluate as a string (calculation, default, labels' output): XPath's `string()`.
    pub fn eval_string<C: Context>(&self, ctx: &C, current: C::Node) -> Result<String, EvalError> {
        let ev = eval::Ev::new(ctx, current, &self.source);
        let v = ev.eval_top(&self.root)?;
        Ok(v.into_str(ctx).into_owned())
    }

    /// Evaluate as a number (repeat_count): XPath's `number()`; NaN when not a number.
    pub fn eval_number<C: Context>(&self, ctx: &C, current: C::Node) -> Result<f64, EvalError> {
        let ev = eval::Ev::new(ctx, current, &self.source);
        let v = ev.eval_top(&self.root)?;
        Ok(v.to_num(ctx))
    }

    /// Evaluate to a node-set (an itemset such as `instance('communes')/root/item[...]`).
    /// A result that is not a node-set is an error.
    pub fn eval_nodes<'a, C: Context>(
        &'a self,
        ctx: &'a C,
        current: C::Node,
    ) -> Result<Vec<NodeRef<'a, C::Node>>, EvalError> {
        let ev = eval::Ev::new(ctx, current, &self.source);
        match ev.eval_top(&self.root)? {
            value::Val::Nodes(ns) => Ok(ns.into_vec()),
            _ => Err(EvalError::new(format!(
                "`{}` does not select nodes (it must be a path such as instance('list')/root/item)",
                self.source
            ))),
        }
    }

    /// Evaluate a choice filter for one row of a secondary instance: the row is the context node
    /// (`name`, `province` are its columns) and `current()` and `${...}` are seen from `current`,
    /// the select question. This is `instance('list')/root/item[FILTER]` one item at a time.
    pub fn eval_bool_for_item<C: Context>(
        &self,
        ctx: &C,
        current: C::Node,
        table: &Table,
        row: usize,
    ) -> Result<bool, EvalError> {
        let row = u32::try_from(row).map_err(|_| EvalError::new("row number out of range"))?;
        let ev = eval::Ev::new(ctx, current, &self.source);
        let v = ev.eval_at(&self.root, NodeRef::Item(table, row))?;
        Ok(v.to_bool(ctx))
    }
}
