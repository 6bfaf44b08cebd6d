//! Values during evaluation and XPath 1.0's conversions between them, with ODK's date extension.

use std::borrow::Cow;

use smallvec::SmallVec;

use super::Context;
use super::dates;
use super::table::Table;

/// A node an expression can reach: a node of the form's main instance (the context's own handle),
/// or a node of a secondary instance (`instance('id')/root/item/column`).
#[derive(Debug, Clone, Copy)]
pub enum NodeRef<'a, N> {
    /// The main instance's document node: what `/` denotes.
    MainDoc,
    /// A node of the main instance.
    Main(N),
    /// `instance('id')`: a secondary instance's document node.
    Doc(&'a Table),
    /// `instance('id')/root`.
    Root(&'a Table),
    /// `instance('id')/root/item`, one per row.
    Item(&'a Table, u32),
    /// `instance('id')/root/item/<column>`.
    Cell(&'a Table, u32, u32),
}

impl<N: PartialEq> PartialEq for NodeRef<'_, N> {
    fn eq(&self, other: &Self) -> bool {
        use NodeRef::*;
        match (self, other) {
            (MainDoc, MainDoc) => true,
            (Main(a), Main(b)) => a == b,
            (Doc(a), Doc(b)) | (Root(a), Root(b)) => std::ptr::eq(*a, *b),
            (Item(a, i), Item(b, j)) => std::ptr::eq(*a, *b) && i == j,
            (Cell(a, i, c), Cell(b, j, d)) => std::ptr::eq(*a, *b) && i == j && c == d,
            _ => false,
        }
    }
}

pub(crate) type NodeSet<'a, N> = SmallVec<[NodeRef<'a, N>; 2]>;

/// An intermediate value.
#[derive(Debug, Clone)]
pub(crate) enum Val<'a, N> {
    Num(f64),
    Bool(bool),
    Str(Cow<'a, str>),
    Nodes(NodeSet<'a, N>),
    /// A date, as days since 1970-01-01.
    Date(i64),
    /// An instant, as milliseconds since the epoch, with the UTC offset to show it in.
    DateTime(i64, i32),
}

/// XPath 1.0 `string(number)`: integers without a decimal point, no exponent, `NaN`,
/// `Infinity`, `-Infinity`.
pub(crate) fn format_number(n: f64) -> String {
    if n.is_nan() {
        "NaN".to_string()
    } else if n.is_infinite() {
        if n > 0.0 { "Infinity" } else { "-Infinity" }.to_string()
    } else if n == 0.0 {
        "0".to_string()
    } else {
        // Rust's Display for f64 prints the shortest exact form and never an exponent.
        format!("{n}")
    }
}

/// XPath 1.0 `number(string)`: optional whitespace, an optional minus, digits with an optional
/// fraction. Anything else is NaN, including the empty string. ODK extension: an ISO date or
/// date-time converts to days since the epoch, as date questions do in JavaRosa.
pub(crate) fn str_to_number(s: &str) -> f64 {
    let t = s.trim_matches(|c: char| c == ' ' || c == '\t' || c == '\n' || c == '\r');
    let body = t.strip_prefix('-').unwrap_or(t);
    // What a division by zero stored reads back as a number, as in JavaRosa (whose numbers are
    // Java doubles): a total over such fields stays Infinity instead of turning blank.
    if body == "Infinity" {
        return if body.len() == t.len() {
            f64::INFINITY
        } else {
            f64::NEG_INFINITY
        };
    }
    let mut digits = 0;
    let mut dots = 0;
    for b in body.bytes() {
        match b {
            b'0'..=b'9' => digits += 1,
            b'.' => dots += 1,
            _ => {
                return dates::parse_date_or_datetime(t).unwrap_or(f64::NAN);
            }
        }
    }
    if digits == 0 || dots > 1 {
        return f64::NAN;
    }
    t.parse::<f64>().unwrap_or(f64::NAN)
}

impl<'a, N: Copy + PartialEq> Val<'a, N> {
    pub(crate) fn to_bool<C: Context<Node = N>>(&self, _ctx: &'a C) -> bool {
        match self {
            Val::Num(n) => *n != 0.0 && !n.is_nan(),
            Val::Bool(b) => *b,
            Val::Str(s) => !s.is_empty(),
            Val::Nodes(ns) => !ns.is_empty(),
            Val::Date(_) | Val::DateTime(..) => true,
        }
    }

    pub(crate) fn to_num<C: Context<Node = N>>(&self, ctx: &'a C) -> f64 {
        match self {
            Val::Num(n) => *n,
            Val::Bool(b) => f64::from(u8::from(*b)),
            Val::Str(s) => str_to_number(s),
            Val::Nodes(ns) => match ns.first() {
                Some(n) => str_to_number(&node_string(ctx, *n)),
                None => f64::NAN,
            },
            Val::Date(d) => *d as f64,
            Val::DateTime(ms, _) => *ms as f64 / dates::MS_PER_DAY,
        }
    }

    pub(crate) fn into_str<C: Context<Node = N>>(self, ctx: &'a C) -> Cow<'a, str> {
        match self {
            Val::Str(s) => s,
            Val::Nodes(ns) => match ns.first() {
                Some(n) => node_string(ctx, *n),
                None => Cow::Borrowed(""),
            },
            Val::Num(n) => Cow::Owned(format_number(n)),
            Val::Bool(b) => Cow::Borrowed(if b { "true" } else { "false" }),
            Val::Date(d) => Cow::Owned(dates::format_iso_date(d)),
            Val::DateTime(ms, off) => Cow::Owned(dates::format_iso_datetime(ms, off)),
        }
    }

    /// XPath 1.0 `=` and `!=` (section 3.4): node-sets compare existentially; otherwise booleans
    /// win, then numbers, then strings. Dates compare as days with numbers and as text with
    /// strings.
    pub(crate) fn equals<C: Context<Node = N>>(
        &self,
        other: &Self,
        ctx: &'a C,
        negate: bool,
    ) -> bool {
        use Val::*;
        match (self, other) {
            (Nodes(a), Nodes(b)) => a.iter().any(|x| {
                let xs = node_string(ctx, *x);
                b.iter().any(|y| (xs == node_string(ctx, *y)) != negate)
            }),
            (Nodes(ns), v) | (v, Nodes(ns)) => match v {
                Bool(b) => (ns.is_empty() != *b) != negate,
                Num(n) => ns
                    .iter()
                    .any(|x| (str_to_number(&node_string(ctx, *x)) == *n) != negate),
                Date(_) | DateTime(..) => {
                    let n = v.to_num(ctx);
                    ns.iter()
                        .any(|x| (str_to_number(&node_string(ctx, *x)) == n) != negate)
                }
                Str(s) => ns.iter().any(|x| (node_string(ctx, *x) == *s) != negate),
                Nodes(_) => false,
            },
            (Bool(_), _) | (_, Bool(_)) => (self.to_bool(ctx) == other.to_bool(ctx)) != negate,
            (Num(_), _) | (_, Num(_)) => (self.to_num(ctx) == other.to_num(ctx)) != negate,
            (Date(_) | DateTime(..), Date(_) | DateTime(..)) => {
                (self.to_num(ctx) == other.to_num(ctx)) != negate
            }
            _ => {
                let a = self.clone().into_str(ctx);
                let b = other.clone().into_str(ctx);
                (a == b) != negate
            }
        }
    }

    /// XPath 1.0 `<`, `<=`, `>`, `>=`: numbers, existentially over node-sets.
    pub(crate) fn relate<C: Context<Node = N>>(
        &self,
        other: &Self,
        ctx: &'a C,
        op: fn(f64, f64) -> bool,
    ) -> bool {
        match (self, other) {
            (Val::Nodes(a), Val::Nodes(b)) => a.iter().any(|x| {
                let xn = str_to_number(&node_string(ctx, *x));
                b.iter()
                    .any(|y| op(xn, str_to_number(&node_string(ctx, *y))))
            }),
            (Val::Nodes(a), v) => {
                let n = v.to_num(ctx);
                a.iter()
                    .any(|x| op(str_to_number(&node_string(ctx, *x)), n))
            }
            (v, Val::Nodes(b)) => {
                let n = v.to_num(ctx);
                b.iter()
                    .any(|y| op(n, str_to_number(&node_string(ctx, *y))))
            }
            _ => op(self.to_num(ctx), other.to_num(ctx)),
        }
    }
}

/// The string value of a node: its answer for a main-instance node, its cell for a secondary
/// instance's column, and the concatenation of the cells for an item (XPath's string-value).
pub(crate) fn node_string<'a, C: Context>(ctx: &'a C, n: NodeRef<'a, C::Node>) -> Cow<'a, str> {
    match n {
        NodeRef::Main(m) => ctx.value(m),
        NodeRef::Cell(t, r, c) => Cow::Borrowed(t.cell(r as usize, c as usize)),
        NodeRef::Item(t, r) => {
            let mut s = String::new();
            for c in 0..t.columns().len() {
                s.push_str(t.cell(r as usize, c));
            }
            Cow::Owned(s)
        }
        NodeRef::MainDoc => ctx.value(ctx.root()),
        NodeRef::Doc(_) | NodeRef::Root(_) => Cow::Borrowed(""),
    }
}
