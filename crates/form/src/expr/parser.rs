//! Recursive-descent parser from tokens to [`Node`]s.
//!
//! Binary operators of one precedence level become one flat [`Node::Chain`], and nesting
//! (parentheses, function arguments, predicates, unary minus) is capped at [`MAX_DEPTH`], so no
//! input can make the parser, the evaluator or the tree's destructor recurse deeply.

use super::ParseError;
use super::ast::{Axis, Base, BinOp, Call, CallExtra, FieldRef, Node, Path, Pred, Step};
use super::funcs::{self, Func, Lookup};
use super::lexer::{Tok, Token};

/// Deepest nesting accepted. Real forms stay under 20.
pub(crate) const MAX_DEPTH: u32 = 64;

pub(crate) struct Parser<'s, 't> {
    src: &'s str,
    toks: &'t [Token<'s>],
    pos: usize,
    depth: u32,
    pub warnings: Vec<String>,
}

const LEVELS: &[&[(Tok<'static>, BinOp)]] = &[
    &[(Tok::Or, BinOp::Or)],
    &[(Tok::And, BinOp::And)],
    &[(Tok::Eq, BinOp::Eq), (Tok::Neq, BinOp::Neq)],
    &[
        (Tok::Lt, BinOp::Lt),
        (Tok::Le, BinOp::Le),
        (Tok::Gt, BinOp::Gt),
        (Tok::Ge, BinOp::Ge),
    ],
    &[(Tok::Plus, BinOp::Add), (Tok::Minus, BinOp::Sub)],
    &[
        (Tok::Star, BinOp::Mul),
        (Tok::Div, BinOp::Div),
        (Tok::Mod, BinOp::Mod),
    ],
];

impl<'s, 't> Parser<'s, 't> {
    pub(crate) fn new(src: &'s str, toks: &'t [Token<'s>]) -> Self {
        Parser {
            src,
            toks,
            pos: 0,
            depth: 0,
            warnings: Vec::new(),
        }
    }

    fn peek(&self) -> Tok<'s> {
        self.toks.get(self.pos).map_or(Tok::Eof, |t| t.tok)
    }

    fn peek_at(&self, ahead: usize) -> Tok<'s> {
        self.toks.get(self.pos + ahead).map_or(Tok::Eof, |t| t.tok)
    }

    fn here(&self) -> usize {
        self.toks.get(self.pos).map_or(self.src.len(), |t| t.start)
    }

    fn bump(&mut self) -> Tok<'s> {
        let t = self.peek();
        if self.pos < self.toks.len() {
            self.pos += 1;
        }
        t
    }

    fn err<T>(&self, message: impl Into<String>) -> Result<T, ParseError> {
        Err(ParseError::new(self.src, self.here(), message))
    }

    fn expect(&mut self, tok: Tok<'static>, context: &str) -> Result<(), ParseError> {
        if self.peek() == tok {
            self.bump();
            Ok(())
        } else {
            let found = self.peek().describe();
            self.err(format!(
                "expected {} {context}, found {found}",
                tok.describe()
            ))
        }
    }

    fn enter(&mut self) -> Result<(), ParseError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return self.err(format!(
                "expression nested too deeply (more than {MAX_DEPTH} levels): \
                 split it into several calculate fields"
            ));
        }
        Ok(())
    }

    /// The whole input: one expression, then the end.
    pub(crate) fn parse_all(&mut self) -> Result<Node, ParseError> {
        if self.peek() == Tok::Eof {
            return self.err("the expression is empty");
        }
        let node = self.expr()?;
        match self.peek() {
            Tok::Eof => Ok(node),
            Tok::RParen => self.err("')' without a matching '('"),
            Tok::RBracket => self.err("']' without a matching '['"),
            other => self.err(format!(
                "expected an operator or the end of the expression, found {}",
                other.describe()
            )),
        }
    }

    fn expr(&mut self) -> Result<Node, ParseError> {
        self.enter()?;
        let node = self.level(0);
        self.depth -= 1;
        node
    }

    fn level(&mut self, level: usize) -> Result<Node, ParseError> {
        let Some(ops) = LEVELS.get(level) else {
            return self.unary();
        };
        let first = self.level(level + 1)?;
        let mut rest = Vec::new();
        loop {
            let next = self.peek();
            let Some(&(_, op)) = ops.iter().find(|(t, _)| *t == next) else {
                break;
            };
            let at = self.here();
            self.bump();
            if self.peek() == Tok::Eof {
                return Err(ParseError::new(
                    self.src,
                    at,
                    format!("'{}' needs something after it", op.symbol()),
                ));
            }
            rest.push((op, self.level(level + 1)?));
        }
        Ok(if rest.is_empty() {
            first
        } else {
            Node::Chain(Box::new(first), rest)
        })
    }

    fn unary(&mut self) -> Result<Node, ParseError> {
        if self.peek() == Tok::Minus {
            self.bump();
            self.enter()?;
            let inner = self.unary();
            self.depth -= 1;
            return Ok(Node::Neg(Box::new(inner?)));
        }
        self.union()
    }

    fn union(&mut self) -> Result<Node, ParseError> {
        let first = self.path_expr()?;
        let mut rest = Vec::new();
        while self.peek() == Tok::Pipe {
            self.bump();
            rest.push((BinOp::Union, self.path_expr()?));
        }
        Ok(if rest.is_empty() {
            first
        } else {
            Node::Chain(Box::new(first), rest)
        })
    }

    fn path_expr(&mut self) -> Result<Node, ParseError> {
        match self.peek() {
            Tok::Slash => {
                self.bump();
                let steps = if starts_step(self.peek()) {
                    self.rel_steps()?
                } else {
                    Vec::new()
                };
                Ok(Node::Path(Box::new(Path {
                    base: Base::Root,
                    steps,
                })))
            }
            Tok::DoubleSlash => self.double_slash(),
            Tok::Name(_) if self.peek_at(1) == Tok::LParen => {
                let call = self.call()?;
                self.filter_rest(call)
            }
            t if starts_step(t) => {
                let steps = self.rel_steps()?;
                Ok(Node::Path(Box::new(Path {
                    base: Base::Context,
                    steps,
                })))
            }
            Tok::Num(n) => {
                self.bump();
                self.filter_rest(Node::Num(n))
            }
            Tok::Str(s) => {
                self.bump();
                self.filter_rest(Node::Str(s.into()))
            }
            Tok::Ref(name) => {
                self.bump();
                self.filter_rest(Node::Field(FieldRef {
                    name: name.into(),
                    id: FieldRef::UNBOUND,
                }))
            }
            Tok::LParen => {
                self.bump();
                if self.peek() == Tok::RParen {
                    return self.err("empty parentheses: put an expression inside");
                }
                let inner = self.expr()?;
                self.expect(Tok::RParen, "to close '('")?;
                self.filter_rest(inner)
            }
            Tok::Dollar => self.err(
                "XPath variables ($name) are not supported: write ${name} to refer to a question",
            ),
            Tok::Eof => self.err("expected a value, found the end of the expression"),
            other => self.err(format!("expected a value, found {}", other.describe())),
        }
    }

    fn double_slash<T>(&self) -> Result<T, ParseError> {
        self.err("'//' (search at any depth) is not supported: write the full path")
    }

    /// Predicates and `/steps` after a primary expression.
    fn filter_rest(&mut self, primary: Node) -> Result<Node, ParseError> {
        let preds = self.preds()?;
        let steps = match self.peek() {
            Tok::Slash => {
                self.bump();
                self.rel_steps()?
            }
            Tok::DoubleSlash => return self.double_slash(),
            _ => Vec::new(),
        };
        if preds.is_empty() && steps.is_empty() {
            return Ok(primary);
        }
        Ok(Node::Path(Box::new(Path {
            base: Base::Expr(primary, preds),
            steps,
        })))
    }

    fn rel_steps(&mut self) -> Result<Vec<Step>, ParseError> {
        let mut steps = vec![self.step()?];
        loop {
            match self.peek() {
                Tok::Slash => {
                    self.bump();
                    steps.push(self.step()?);
                }
                Tok::DoubleSlash => return self.double_slash(),
                _ => return Ok(steps),
            }
        }
    }

    fn step(&mut self) -> Result<Step, ParseError> {
        let axis = match self.peek() {
            Tok::Dot => {
                self.bump();
                Axis::SelfNode
            }
            Tok::DotDot => {
                self.bump();
                Axis::Parent
            }
            Tok::At => return self.err("attributes (@name) are not supported in expressions"),
            Tok::Name("*") => {
                return self.err("the wildcard step * is not supported: name the node");
            }
            Tok::Name(axis) if self.peek_at(1) == Tok::ColonColon => {
                self.bump();
                self.bump();
                match (axis, self.peek()) {
                    ("child", Tok::Name(n)) if n != "*" && self.peek_at(1) != Tok::LParen => {
                        self.bump();
                        Axis::Child(n.into())
                    }
                    ("self" | "parent", Tok::Name("node")) if self.peek_at(1) == Tok::LParen => {
                        self.bump();
                        self.expect(Tok::LParen, "after node")?;
                        self.expect(Tok::RParen, "after node(")?;
                        if axis == "self" {
                            Axis::SelfNode
                        } else {
                            Axis::Parent
                        }
                    }
                    _ => {
                        return self.err(format!(
                            "the axis {axis}:: is not supported: use /name, . or .."
                        ));
                    }
                }
            }
            Tok::Name(n) if self.peek_at(1) == Tok::LParen => {
                return self.err(format!(
                    "{n}() cannot be a step of a path (node tests are not supported)"
                ));
            }
            Tok::Name(n) => {
                self.bump();
                Axis::Child(n.into())
            }
            other => {
                return self.err(format!(
                    "expected a node name, '.' or '..' after '/', found {}",
                    other.describe()
                ));
            }
        };
        let preds = if matches!(axis, Axis::Child(_)) {
            self.preds()?
        } else {
            Vec::new()
        };
        Ok(Step { axis, preds })
    }

    fn preds(&mut self) -> Result<Vec<Pred>, ParseError> {
        let mut preds = Vec::new();
        while self.peek() == Tok::LBracket {
            self.bump();
            if self.peek() == Tok::RBracket {
                return self.err("empty predicate []: put a condition or a position inside");
            }
            let expr = self.expr()?;
            self.expect(Tok::RBracket, "to close '['")?;
            let key = key_lookup(&expr);
            preds.push(Pred { expr, key });
        }
        Ok(preds)
    }

    fn call(&mut self) -> Result<Node, ParseError> {
        let start = self.here();
        let Tok::Name(name) = self.bump() else {
            return self.err("expected a function name");
        };
        let (func, min, max) = match funcs::lookup(name) {
            Lookup::Found { func, min, max } => (func, min, max),
            Lookup::Unsupported => {
                return Err(ParseError::new(
                    self.src,
                    start,
                    format!("function {name} is not supported"),
                ));
            }
            Lookup::Unknown => {
                let hint = if name.chars().any(|c| c.is_uppercase())
                    && matches!(funcs::lookup(&name.to_lowercase()), Lookup::Found { .. })
                {
                    format!(" (function names are lower case: {})", name.to_lowercase())
                } else {
                    String::new()
                };
                return Err(ParseError::new(
                    self.src,
                    start,
                    format!("unknown function {name}(){hint}"),
                ));
            }
        };
        self.expect(Tok::LParen, "after the function name")?;
        let mut args = Vec::new();
        if self.peek() != Tok::RParen {
            loop {
                args.push(self.expr()?);
                match self.peek() {
                    Tok::Comma => {
                        self.bump();
                    }
                    Tok::RParen => break,
                    other => {
                        return self.err(format!(
                            "expected ',' or ')' in the arguments of {name}(), found {}",
                            other.describe()
                        ));
                    }
                }
            }
        }
        self.expect(Tok::RParen, "to close the arguments")?;
        let end = self
            .toks
            .get(self.pos.saturating_sub(1))
            .map_or(self.src.len(), |t| t.start + 1);
        if args.len() < min || args.len() > max {
            let want = if min == max {
                format!("{min}")
            } else if max == usize::MAX {
                format!("at least {min}")
            } else {
                format!("{min} to {max}")
            };
            return Err(ParseError::new(
                self.src,
                start,
                format!(
                    "{name}() takes {want} argument{}, but {} {} given",
                    if want == "1" { "" } else { "s" },
                    args.len(),
                    if args.len() == 1 { "was" } else { "were" }
                ),
            ));
        }
        if func == Func::IndexedRepeat && args.len() % 2 == 0 {
            return Err(ParseError::new(
                self.src,
                start,
                "indexed-repeat() takes a field, then pairs of repeat and position",
            ));
        }
        let extra = self.call_extra(func, &args, start)?;
        Ok(Node::Call(Box::new(Call {
            func,
            args,
            span: (start, end),
            extra,
        })))
    }

    fn call_extra(
        &mut self,
        func: Func,
        args: &[Node],
        start: usize,
    ) -> Result<CallExtra, ParseError> {
        match (func, args.get(1)) {
            (Func::Regex, Some(Node::Str(pattern))) => Ok(CallExtra::Regex(
                fancy_regex::Regex::new(pattern)
                    .map(Box::new)
                    .map_err(|e| format!("invalid pattern '{pattern}': {e}")),
            )),
            (Func::ChoiceName, Some(Node::Str(path))) => {
                let lexed = super::lexer::lex(path).map_err(|e| {
                    ParseError::new(
                        self.src,
                        start,
                        format!(
                            "jr:choice-name: '{path}' is not a reference to a question ({})",
                            e.message
                        ),
                    )
                })?;
                let mut inner = Parser::new(path, &lexed.tokens);
                inner.depth = self.depth;
                let node = inner.parse_all().map_err(|e| {
                    ParseError::new(
                        self.src,
                        start,
                        format!(
                            "jr:choice-name: '{path}' is not a reference to a question ({})",
                            e.message
                        ),
                    )
                })?;
                Ok(CallExtra::ChoicePath(Box::new(node)))
            }
            (Func::ChoiceName, _) => Err(ParseError::new(
                self.src,
                start,
                "jr:choice-name needs the question as a quoted reference, like jr:choice-name(${q}, '${q}')",
            )),
            _ => Ok(CallExtra::None),
        }
    }
}

fn starts_step(t: Tok<'_>) -> bool {
    matches!(t, Tok::Name(_) | Tok::Dot | Tok::DotDot | Tok::At)
}

/// Recognise `column = value` (or `value = column`) where `value` does not depend on the node
/// the predicate tests, so a secondary instance can use an index.
fn key_lookup(expr: &Node) -> Option<(Box<str>, Node)> {
    let Node::Chain(first, rest) = expr else {
        return None;
    };
    let [(BinOp::Eq, second)] = rest.as_slice() else {
        return None;
    };
    let (col, value) = if let Some(col) = child_name(first) {
        (col, second)
    } else {
        (child_name(second)?, &**first)
    };
    if context_free(value) {
        Some((col.into(), clone_shallow(value)?))
    } else {
        None
    }
}

fn child_name(node: &Node) -> Option<&str> {
    match node {
        Node::Path(p) => match (&p.base, p.steps.as_slice()) {
            (
                Base::Context,
                [
                    Step {
                        axis: Axis::Child(n),
                        preds,
                    },
                ],
            ) if preds.is_empty() => Some(n),
            _ => None,
        },
        _ => None,
    }
}

/// Whether a node's value is the same for every context node (it may still depend on current()).
pub(crate) fn context_free(node: &Node) -> bool {
    match node {
        Node::Num(_) | Node::Str(_) | Node::Field(_) => true,
        Node::Path(p) => match &p.base {
            Base::Root => true,
            Base::Context => false,
            Base::Expr(e, _) => context_free(e),
        },
        Node::Neg(e) => context_free(e),
        Node::Chain(first, rest) => {
            context_free(first) && rest.iter().all(|(_, n)| context_free(n))
        }
        Node::Call(c) => match c.func {
            Func::Position | Func::Last => false,
            Func::String | Func::Number | Func::StringLength | Func::NormalizeSpace
                if c.args.is_empty() =>
            {
                false
            }
            _ => c.args.iter().all(context_free),
        },
    }
}

/// The key value of an indexed predicate is kept twice (once in the predicate, once in the key).
/// Only the common, cheap shapes are copied: literals, `${field}` and `current()/...` paths.
fn clone_shallow(node: &Node) -> Option<Node> {
    match node {
        Node::Num(n) => Some(Node::Num(*n)),
        Node::Str(s) => Some(Node::Str(s.clone())),
        Node::Field(f) => Some(Node::Field(f.clone())),
        Node::Path(p) => {
            let base = match &p.base {
                Base::Root => Base::Root,
                Base::Expr(Node::Call(c), preds) if c.func == Func::Current && preds.is_empty() => {
                    Base::Expr(
                        Node::Call(Box::new(Call {
                            func: Func::Current,
                            args: Vec::new(),
                            span: c.span,
                            extra: CallExtra::None,
                        })),
                        Vec::new(),
                    )
                }
                Base::Expr(Node::Field(f), preds) if preds.is_empty() => {
                    Base::Expr(Node::Field(f.clone()), Vec::new())
                }
                _ => return None,
            };
            let mut steps = Vec::with_capacity(p.steps.len());
            for s in &p.steps {
                if !s.preds.is_empty() {
                    return None;
                }
                let axis = match &s.axis {
                    Axis::Child(n) => Axis::Child(n.clone()),
                    Axis::Parent => Axis::Parent,
                    Axis::SelfNode => Axis::SelfNode,
                };
                steps.push(Step {
                    axis,
                    preds: Vec::new(),
                });
            }
            Some(Node::Path(Box::new(Path { base, steps })))
        }
        Node::Call(c) if c.func == Func::Current => Some(Node::Call(Box::new(Call {
            func: Func::Current,
            args: Vec::new(),
            span: c.span,
            extra: CallExtra::None,
        }))),
        _ => None,
    }
}
