//! Function implementations.

use std::borrow::Cow;

use smallvec::smallvec;

use super::ast::{Call, CallExtra};
use super::eval::{Ev, Here, R};
use super::funcs::Func;
use super::value::{NodeRef, NodeSet, Val, node_string, str_to_number};
use super::{Context, EvalError, dates};

impl<'a, C: Context> Ev<'a, C> {
    fn arg(&self, c: &'a Call, i: usize, here: Here<'a, C::Node>) -> R<'a, C::Node> {
        match c.args.get(i) {
            Some(a) => self.eval(a, here),
            None => Err(self.fail(c, "missing argument")),
        }
    }

    fn s(&self, c: &'a Call, i: usize, here: Here<'a, C::Node>) -> Result<Cow<'a, str>, EvalError> {
        Ok(self.arg(c, i, here)?.into_str(self.ctx))
    }

    fn n(&self, c: &'a Call, i: usize, here: Here<'a, C::Node>) -> Result<f64, EvalError> {
        Ok(self.arg(c, i, here)?.to_num(self.ctx))
    }

    fn b(&self, c: &'a Call, i: usize, here: Here<'a, C::Node>) -> Result<bool, EvalError> {
        Ok(self.arg(c, i, here)?.to_bool(self.ctx))
    }

    /// An optional argument, defaulting to the context node (`string()`, `string-length()`, ...).
    fn s_or_here(&self, c: &'a Call, here: Here<'a, C::Node>) -> Result<Cow<'a, str>, EvalError> {
        if c.args.is_empty() {
            Ok(node_string(self.ctx, here.node))
        } else {
            self.s(c, 0, here)
        }
    }

    fn nodes(
        &self,
        c: &'a Call,
        i: usize,
        here: Here<'a, C::Node>,
    ) -> Result<NodeSet<'a, C::Node>, EvalError> {
        match self.arg(c, i, here)? {
            Val::Nodes(ns) => Ok(ns),
            _ => Err(self.fail(
                c,
                "needs a node-set (a question reference or a path) as its argument",
            )),
        }
    }

    /// An error naming the function and quoting the call.
    pub(crate) fn fail(&self, c: &Call, msg: impl std::fmt::Display) -> EvalError {
        let text = self.src.get(c.span.0..c.span.1).unwrap_or(self.src);
        EvalError::new(format!("{}: {msg} (in `{text}`)", c.func.name()))
    }

    pub(crate) fn call(&self, c: &'a Call, here: Here<'a, C::Node>) -> R<'a, C::Node> {
        let ctx = self.ctx;
        let num = |x: f64| Ok(Val::Num(x));
        let st = |x: String| Ok(Val::Str(Cow::Owned(x)));
        match c.func {
            Func::If => {
                if self.b(c, 0, here)? {
                    self.arg(c, 1, here)
                } else {
                    self.arg(c, 2, here)
                }
            }
            Func::Coalesce => {
                let first = self.s(c, 0, here)?;
                if first.is_empty() {
                    Ok(Val::Str(self.s(c, 1, here)?))
                } else {
                    Ok(Val::Str(first))
                }
            }
            Func::Once => {
                let now = ctx.value(self.current);
                if now.is_empty() {
                    self.arg(c, 0, here)
                } else {
                    Ok(Val::Str(now))
                }
            }
            Func::Selected | Func::IsSelected => {
                let list = self.s(c, 0, here)?;
                let choice = self.s(c, 1, here)?;
                let choice = choice.trim();
                Ok(Val::Bool(list.split_whitespace().any(|t| t == choice)))
            }
            Func::SelectedAt => {
                let list = self.s(c, 0, here)?;
                let i = self.n(c, 1, here)?;
                let picked = if i.is_finite() && i >= 0.0 {
                    list.split_whitespace().nth(i as usize).unwrap_or("")
                } else {
                    ""
                };
                st(picked.to_string())
            }
            Func::CountSelected => num(self.s(c, 0, here)?.split_whitespace().count() as f64),
            Func::ChoiceName => self.choice_name(c, here),
            Func::Concat => {
                let mut out = String::new();
                for a in &c.args {
                    self.append_all(&mut out, self.eval(a, here)?, None);
                }
                st(out)
            }
            Func::Join => {
                let sep = self.s(c, 0, here)?;
                let mut out = String::new();
                let mut first = true;
                for a in &c.args[1..] {
                    let v = self.eval(a, here)?;
                    self.append_all(&mut out, v, Some((&sep, &mut first)));
                }
                st(out)
            }
            Func::Substr => {
                let s = self.s(c, 0, here)?;
                let chars: Vec<char> = s.chars().collect();
                let len = chars.len() as i64;
                let start = to_index(self.n(c, 1, here)?, len);
                let end = if c.args.len() > 2 {
                    to_index(self.n(c, 2, here)?, len)
                } else {
                    len
                };
                let start = start.clamp(0, len);
                let end = end.clamp(0, len);
                if start >= end {
                    st(String::new())
                } else {
                    st(chars[start as usize..end as usize].iter().collect())
                }
            }
            Func::Substring => {
                // XPath 1.0: 1-based, rounded, NaN-aware (section 4.2).
                let s = self.s(c, 0, here)?;
                let start = xpath_round(self.n(c, 1, here)?);
                let end = if c.args.len() > 2 {
                    start + xpath_round(self.n(c, 2, here)?)
                } else {
                    f64::INFINITY
                };
                st(s.chars()
                    .enumerate()
                    .filter(|(i, _)| {
                        let p = (*i + 1) as f64;
                        p >= start && p < end
                    })
                    .map(|(_, ch)| ch)
                    .collect())
            }
            Func::SubstringBefore => {
                let s = self.s(c, 0, here)?;
                let t = self.s(c, 1, here)?;
                st(s.find(&*t).map_or("", |i| &s[..i]).to_string())
            }
            Func::SubstringAfter => {
                let s = self.s(c, 0, here)?;
                let t = self.s(c, 1, here)?;
                st(s.find(&*t).map_or("", |i| &s[i + t.len()..]).to_string())
            }
            Func::Translate => {
                let s = self.s(c, 0, here)?;
                let from: Vec<char> = self.s(c, 1, here)?.chars().collect();
                let to: Vec<char> = self.s(c, 2, here)?.chars().collect();
                st(s.chars()
                    .filter_map(|ch| match from.iter().position(|f| *f == ch) {
                        Some(i) => to.get(i).copied(),
                        None => Some(ch),
                    })
                    .collect())
            }
            Func::Contains => Ok(Val::Bool(
                self.s(c, 0, here)?.contains(&*self.s(c, 1, here)?),
            )),
            Func::StartsWith => Ok(Val::Bool(
                self.s(c, 0, here)?.starts_with(&*self.s(c, 1, here)?),
            )),
            Func::EndsWith => Ok(Val::Bool(
                self.s(c, 0, here)?.ends_with(&*self.s(c, 1, here)?),
            )),
            Func::StringLength => num(self.s_or_here(c, here)?.chars().count() as f64),
            Func::NormalizeSpace => {
                let s = self.s_or_here(c, here)?;
                let words: Vec<&str> = s
                    .split([' ', '\t', '\n', '\r'])
                    .filter(|w| !w.is_empty())
                    .collect();
                st(words.join(" "))
            }
            Func::Regex => self.regex(c, here),
            Func::Int => {
                let x = self.n(c, 0, here)?;
                num(if x.is_finite() { x.trunc() } else { x })
            }
            Func::Round => {
                let x = self.n(c, 0, here)?;
                if c.args.len() == 1 {
                    num(xpath_round(x))
                } else {
                    num(round_half_up(x, self.n(c, 1, here)?))
                }
            }
            Func::Number => {
                if c.args.is_empty() {
                    num(str_to_number(&node_string(ctx, here.node)))
                } else {
                    num(self.n(c, 0, here)?)
                }
            }
            Func::Boolean => Ok(Val::Bool(self.b(c, 0, here)?)),
            Func::BooleanFromString => {
                let s = self.s(c, 0, here)?;
                Ok(Val::Bool(matches!(s.trim(), "true" | "1")))
            }
            Func::String => Ok(Val::Str(self.s_or_here(c, here)?)),
            Func::Sum => {
                // ODK adds up the answered nodes: an empty one (a row not answered yet, or not
                // relevant) counts as 0, not as NaN as XPath 1.0 would have it, so a total
                // over a half-filled roster is a number (JavaRosa and ODK's web engine agree).
                let ns = self.nodes(c, 0, here)?;
                num(ns
                    .iter()
                    .map(|n| node_string(ctx, *n))
                    .filter(|s| !s.trim().is_empty())
                    .map(|s| str_to_number(&s))
                    .sum())
            }
            Func::Count => num(self.nodes(c, 0, here)?.len() as f64),
            Func::CountNonEmpty => num(self
                .nodes(c, 0, here)?
                .iter()
                .filter(|n| !node_string(ctx, **n).is_empty())
                .count() as f64),
            Func::Min | Func::Max => {
                let mut acc: Option<f64> = None;
                for a in &c.args {
                    let mut take = |x: f64| {
                        acc = Some(match acc {
                            _ if x.is_nan() => f64::NAN,
                            None => x,
                            Some(a) if a.is_nan() => a,
                            Some(a) if c.func == Func::Min => a.min(x),
                            Some(a) => a.max(x),
                        })
                    };
                    match self.eval(a, here)? {
                        Val::Nodes(ns) => {
                            for n in ns {
                                take(str_to_number(&node_string(ctx, n)));
                            }
                        }
                        v => take(v.to_num(ctx)),
                    }
                }
                num(acc.unwrap_or(f64::NAN))
            }
            Func::Position => {
                if c.args.is_empty() {
                    if here.pos > 0 {
                        return num(here.pos as f64);
                    }
                    return num(self.position_of(here.node) as f64);
                }
                match self.nodes(c, 0, here)?.first() {
                    Some(n) => num(self.position_of(*n) as f64),
                    None => Err(self.fail(c, "the path selects no node")),
                }
            }
            Func::Last => num(if here.size > 0 { here.size as f64 } else { 1.0 }),
            Func::IndexedRepeat => self.indexed_repeat(c, here),
            Func::Pulldata => self.pulldata(c, here),
            Func::Instance => {
                let id = self.s(c, 0, here)?;
                match ctx.instance(&id) {
                    Some(t) => Ok(Val::Nodes(smallvec![NodeRef::Doc(t)])),
                    None => Err(self.fail(
                        c,
                        format!("there is no choice list or attachment named '{id}'"),
                    )),
                }
            }
            Func::Current => Ok(Val::Nodes(smallvec![NodeRef::Main(self.current)])),
            Func::Today => {
                let now = ctx.now();
                let (ms, off) = (now.timestamp_millis(), now.offset().local_minus_utc());
                match dates::local(ms, off) {
                    Some(t) => Ok(Val::Date(dates::days_of(t.date()))),
                    None => Err(self.fail(c, "the clock is out of range")),
                }
            }
            Func::Now => {
                let now = ctx.now();
                Ok(Val::DateTime(
                    now.timestamp_millis(),
                    now.offset().local_minus_utc(),
                ))
            }
            Func::Date => self.date(c, here),
            Func::DateTime => match self.instant(c, 0, here, true)? {
                Some((ms, off)) => Ok(Val::DateTime(ms, off)),
                None => st(String::new()),
            },
            Func::FormatDate | Func::FormatDateTime => {
                let fmt = self.s(c, 1, here)?;
                match self.instant(c, 0, here, false)? {
                    Some((ms, off)) => match dates::local(ms, off) {
                        Some(t) => st(dates::format_odk(&fmt, t)),
                        None => st(String::new()),
                    },
                    None => st(String::new()),
                }
            }
            // Dates count whole days; date-times count from the epoch's instant (UTC).
            Func::DecimalDateTime => num(self.n(c, 0, here)?),
            Func::DecimalTime => {
                let s = self.s(c, 0, here)?;
                let time = s.split_once('T').map_or(&*s, |(_, t)| t);
                match dates::parse_time(time) {
                    Some((t, _)) => {
                        use chrono::Timelike;
                        let secs = f64::from(t.num_seconds_from_midnight())
                            + f64::from(t.nanosecond() / 1_000_000) / 1000.0;
                        num(secs / 86_400.0)
                    }
                    None => num(f64::NAN),
                }
            }
            Func::Uuid => {
                if c.args.is_empty() {
                    // ODK's uuid() is the bare UUID; only meta/instanceID carries `uuid:`.
                    let id = ctx.uuid();
                    return st(id.strip_prefix("uuid:").map(str::to_string).unwrap_or(id));
                }
                let n = self.n(c, 0, here)?;
                if !(0.0..=10_000.0).contains(&n) {
                    return Err(self.fail(c, "the length must be between 0 and 10000"));
                }
                const ALPHABET: &[u8] =
                    b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
                let s = (0..n as usize)
                    .map(|_| {
                        let i = (ctx.random() * ALPHABET.len() as f64) as usize;
                        char::from(ALPHABET[i.min(ALPHABET.len() - 1)])
                    })
                    .collect();
                st(s)
            }
            Func::Random => num(ctx.random()),
            Func::Digest => self.digest(c, here),
            Func::Area | Func::Distance => self.geo(c, here),
            Func::True => Ok(Val::Bool(true)),
            Func::False => Ok(Val::Bool(false)),
            Func::Not => Ok(Val::Bool(!self.b(c, 0, here)?)),
            Func::Floor => num(self.n(c, 0, here)?.floor()),
            Func::Ceiling => num(self.n(c, 0, here)?.ceil()),
            Func::Abs => num(self.n(c, 0, here)?.abs()),
            Func::Pow => num(self.n(c, 0, here)?.powf(self.n(c, 1, here)?)),
            Func::Log => num(self.n(c, 0, here)?.ln()),
            Func::Log10 => num(self.n(c, 0, here)?.log10()),
            Func::Exp => num(self.n(c, 0, here)?.exp()),
            Func::Exp10 => num(10f64.powf(self.n(c, 0, here)?)),
            Func::Sqrt => num(self.n(c, 0, here)?.sqrt()),
            Func::Sin => num(self.n(c, 0, here)?.sin()),
            Func::Cos => num(self.n(c, 0, here)?.cos()),
            Func::Tan => num(self.n(c, 0, here)?.tan()),
            Func::Asin => num(self.n(c, 0, here)?.asin()),
            Func::Acos => num(self.n(c, 0, here)?.acos()),
            Func::Atan => num(self.n(c, 0, here)?.atan()),
            Func::Atan2 => num(self.n(c, 0, here)?.atan2(self.n(c, 1, here)?)),
            Func::Pi => num(std::f64::consts::PI),
        }
    }

    /// Append a value to `out`; a node-set contributes every node (JavaRosa's concat and join).
    fn append_all(
        &self,
        out: &mut String,
        v: Val<'a, C::Node>,
        mut sep: Option<(&str, &mut bool)>,
    ) {
        let mut push = |s: &str, out: &mut String| {
            if let Some((sep, first)) = sep.as_mut() {
                if !**first {
                    out.push_str(sep);
                }
                **first = false;
            }
            out.push_str(s);
        };
        match v {
            Val::Nodes(ns) => {
                for n in ns {
                    push(&node_string(self.ctx, n), out);
                }
            }
            v => push(&v.into_str(self.ctx), out),
        }
    }

    fn position_of(&self, n: NodeRef<'a, C::Node>) -> usize {
        match n {
            NodeRef::Main(m) => self.ctx.position(m),
            NodeRef::Item(_, r) => r as usize + 1,
            _ => 1,
        }
    }

    fn choice_name(&self, c: &'a Call, here: Here<'a, C::Node>) -> R<'a, C::Node> {
        let value = self.s(c, 0, here)?;
        if value.is_empty() {
            return Ok(Val::Str(Cow::Borrowed("")));
        }
        let CallExtra::ChoicePath(path) = &c.extra else {
            return Err(self.fail(c, "the second argument must name a select question"));
        };
        let question = match self.eval(path, here)? {
            Val::Nodes(ns) => ns.into_iter().find_map(|n| match n {
                NodeRef::Main(m) => Some(m),
                _ => None,
            }),
            _ => None,
        };
        let Some(q) = question else {
            return Err(self.fail(c, "the second argument does not name a question"));
        };
        let value = value.trim();
        Ok(Val::Str(match self.ctx.choice_label(q, value) {
            Some(label) => Cow::Owned(label.into_owned()),
            None => Cow::Borrowed(""),
        }))
    }

    fn regex(&self, c: &'a Call, here: Here<'a, C::Node>) -> R<'a, C::Node> {
        let s = self.s(c, 0, here)?;
        let compiled;
        let re = match &c.extra {
            CallExtra::Regex(Ok(re)) => &**re,
            CallExtra::Regex(Err(msg)) => return Err(self.fail(c, msg)),
            _ => {
                let pattern = self.s(c, 1, here)?;
                compiled = fancy_regex::Regex::new(&pattern)
                    .map_err(|e| self.fail(c, format!("invalid pattern '{pattern}': {e}")))?;
                &compiled
            }
        };
        // JavaRosa uses Matcher.find(): the pattern may match anywhere unless anchored.
        re.is_match(&*s)
            .map(Val::Bool)
            .map_err(|e| self.fail(c, format!("the pattern could not be applied: {e}")))
    }

    fn indexed_repeat(&self, c: &'a Call, here: Here<'a, C::Node>) -> R<'a, C::Node> {
        let mut anchor = self.current;
        for pair in c.args[1..].chunks(2) {
            let [repeat, index] = pair else {
                return Err(self.fail(c, "a repeat needs a position after it"));
            };
            let i = self.eval(index, here)?.to_num(self.ctx);
            let inner = Ev::new(self.ctx, anchor, self.src);
            let rows = match inner.eval_top(repeat)? {
                Val::Nodes(ns) => ns,
                _ => return Err(self.fail(c, "the repeat argument is not a repeat reference")),
            };
            // Seen from inside the repeat, the reference resolves to the current row only;
            // indexed-repeat means every row of that repeat, so take the row's siblings.
            let rows = match rows.first() {
                Some(&NodeRef::Main(row)) => match self.ctx.parent(row) {
                    Some(parent) => {
                        let mut all = super::NodeList::new();
                        self.ctx.children(parent, self.ctx.name(row), &mut all);
                        all.as_slice().iter().map(|n| NodeRef::Main(*n)).collect()
                    }
                    None => rows,
                },
                _ => rows,
            };
            let picked = if i.is_finite() && i >= 1.0 {
                rows.get(i as usize - 1).copied()
            } else {
                None
            };
            match picked {
                Some(NodeRef::Main(row)) => anchor = row,
                _ => return Ok(Val::Nodes(smallvec![])),
            }
        }
        let inner = Ev::new(self.ctx, anchor, self.src);
        inner.eval_top(&c.args[0])
    }

    fn pulldata(&self, c: &'a Call, here: Here<'a, C::Node>) -> R<'a, C::Node> {
        let file = self.s(c, 0, here)?;
        let want = self.s(c, 1, here)?;
        let key_col = self.s(c, 2, here)?;
        let key = self.s(c, 3, here)?;
        let Some(table) = self.ctx.instance(&file) else {
            return Err(self.fail(
                c,
                format!("no attachment '{file}.csv' is loaded with the form"),
            ));
        };
        let Some(kc) = table.column(&key_col) else {
            return Err(self.fail(c, format!("'{file}.csv' has no column '{key_col}'")));
        };
        let Some(wc) = table.column(&want) else {
            return Err(self.fail(c, format!("'{file}.csv' has no column '{want}'")));
        };
        Ok(Val::Str(match table.rows_where(kc, &key).first() {
            Some(&r) => Cow::Borrowed(table.cell(r as usize, wc)),
            None => Cow::Borrowed(""),
        }))
    }

    fn date(&self, c: &'a Call, here: Here<'a, C::Node>) -> R<'a, C::Node> {
        match self.arg(c, 0, here)? {
            Val::Date(d) => Ok(Val::Date(d)),
            Val::DateTime(ms, off) => Ok(dates::local(ms, off)
                .map_or(Val::Str(Cow::Borrowed("")), |t| {
                    Val::Date(dates::days_of(t.date()))
                })),
            Val::Num(n) => Ok(days_val(n)),
            v => {
                let s = v.into_str(self.ctx);
                let s = s.trim();
                if s.is_empty() {
                    return Ok(Val::Str(Cow::Borrowed("")));
                }
                if let Some(d) = dates::parse_date(s) {
                    return Ok(Val::Date(dates::days_of(d)));
                }
                if let Some((ms, off)) = dates::parse_datetime(s) {
                    return Ok(
                        dates::local(ms, off).map_or(Val::Str(Cow::Borrowed("")), |t| {
                            Val::Date(dates::days_of(t.date()))
                        }),
                    );
                }
                let n = str_to_number(s);
                if n.is_nan() {
                    return Err(self.fail(c, format!("'{s}' is not a date (write YYYY-MM-DD)")));
                }
                Ok(days_val(n))
            }
        }
    }

    /// An argument as an instant shown at an offset: date-times keep their offset; dates and
    /// strings without an offset are wall-clock time at the device. A number counts days since
    /// the epoch: as an instant when `numbers_are_utc` (date-time(), the inverse of
    /// decimal-date-time()), else as the device's calendar days (format-date(19723)).
    /// `None` when empty or NaN.
    fn instant(
        &self,
        c: &'a Call,
        i: usize,
        here: Here<'a, C::Node>,
        numbers_are_utc: bool,
    ) -> Result<Option<(i64, i32)>, EvalError> {
        let device = self.ctx.now().offset().local_minus_utc();
        let from_days = |d: f64, utc: bool| -> Option<(i64, i32)> {
            if !d.is_finite() || d.abs() > 1e8 {
                return None;
            }
            let shift = if utc { 0 } else { i64::from(device) * 1000 };
            Some(((d * dates::MS_PER_DAY) as i64 - shift, device))
        };
        Ok(match self.arg(c, i, here)? {
            Val::DateTime(ms, off) => Some((ms, off)),
            Val::Date(d) => from_days(d as f64, false),
            Val::Num(n) => from_days(n, numbers_are_utc),
            v => {
                let s = v.into_str(self.ctx);
                let s = s.trim();
                if s.is_empty() {
                    return Ok(None);
                }
                if let Some(d) = dates::parse_date(s) {
                    return Ok(from_days(dates::days_of(d) as f64, false));
                }
                if let Some((date, time)) = s.split_once('T')
                    && let (Some(d), Some((t, off))) =
                        (dates::parse_date(date), dates::parse_time(time))
                {
                    let local = chrono::NaiveDateTime::new(d, t)
                        .and_utc()
                        .timestamp_millis();
                    let off = off.unwrap_or(device);
                    return Ok(Some((local - i64::from(off) * 1000, off)));
                }
                let n = str_to_number(s);
                if n.is_nan() {
                    return Err(self.fail(c, format!("'{s}' is not a date or date-time")));
                }
                from_days(n, numbers_are_utc)
            }
        })
    }

    fn digest(&self, c: &'a Call, here: Here<'a, C::Node>) -> R<'a, C::Node> {
        use base64::Engine;
        use sha2::Digest;
        let data = self.s(c, 0, here)?;
        let alg = self.s(c, 1, here)?;
        let encoding = if c.args.len() > 2 {
            self.s(c, 2, here)?
        } else {
            Cow::Borrowed("base64")
        };
        let bytes = data.as_bytes();
        let hash: Vec<u8> = match alg.to_ascii_uppercase().as_str() {
            "MD5" => md5::Md5::digest(bytes).to_vec(),
            "SHA-1" => sha1::Sha1::digest(bytes).to_vec(),
            "SHA-256" => sha2::Sha256::digest(bytes).to_vec(),
            "SHA-384" => sha2::Sha384::digest(bytes).to_vec(),
            "SHA-512" => sha2::Sha512::digest(bytes).to_vec(),
            _ => {
                return Err(self.fail(
                    c,
                    format!(
                        "unknown algorithm '{alg}' (use MD5, SHA-1, SHA-256, SHA-384 or SHA-512)"
                    ),
                ));
            }
        };
        let text = match encoding.to_ascii_lowercase().as_str() {
            "base64" => base64::engine::general_purpose::STANDARD.encode(&hash),
            "hex" => hash.iter().map(|b| format!("{b:02x}")).collect(),
            _ => {
                return Err(self.fail(
                    c,
                    format!("unknown encoding '{encoding}' (use base64 or hex)"),
                ));
            }
        };
        Ok(Val::Str(Cow::Owned(text)))
    }

    /// area() and distance() on the WGS84 ellipsoid (geographiclib), as JavaRosa computes them.
    fn geo(&self, c: &'a Call, here: Here<'a, C::Node>) -> R<'a, C::Node> {
        let mut points: Vec<(f64, f64)> = Vec::new();
        for a in &c.args {
            let texts: Vec<Cow<'a, str>> = match self.eval(a, here)? {
                Val::Nodes(ns) => ns.into_iter().map(|n| node_string(self.ctx, n)).collect(),
                v => vec![v.into_str(self.ctx)],
            };
            for t in texts {
                for p in t.split(';') {
                    let p = p.trim();
                    if p.is_empty() {
                        continue;
                    }
                    points.push(parse_point(p).ok_or_else(|| {
                        self.fail(
                            c,
                            format!(
                                "'{p}' is not a point (latitude longitude [altitude accuracy])"
                            ),
                        )
                    })?);
                }
            }
        }
        let g = geographiclib_rs::Geodesic::wgs84();
        if c.func == Func::Area {
            if points.len() < 3 {
                return Ok(Val::Num(0.0));
            }
            let mut poly =
                geographiclib_rs::PolygonArea::new(&g, geographiclib_rs::Winding::CounterClockwise);
            for (lat, lon) in &points {
                poly.add_point(*lat, *lon);
            }
            let (_, area, _) = poly.compute(false);
            Ok(Val::Num(area.abs()))
        } else {
            use geographiclib_rs::InverseGeodesic;
            let mut total = 0.0;
            for w in points.windows(2) {
                let s12: f64 = g.inverse(w[0].0, w[0].1, w[1].0, w[1].1);
                total += s12;
            }
            Ok(Val::Num(total))
        }
    }
}

fn parse_point(p: &str) -> Option<(f64, f64)> {
    let mut it = p.split_whitespace();
    let lat: f64 = it.next()?.parse().ok()?;
    let lon: f64 = it.next()?.parse().ok()?;
    if !(-90.0..=90.0).contains(&lat) || !(-180.0..=180.0).contains(&lon) {
        return None;
    }
    Some((lat, lon))
}

fn days_val<'a, N>(n: f64) -> Val<'a, N> {
    if n.is_finite() && n.abs() < 1e8 {
        Val::Date(n.floor() as i64)
    } else {
        Val::Str(Cow::Borrowed(""))
    }
}

/// substr()'s index: 0-based, negative counts from the end, truncated toward zero.
fn to_index(x: f64, len: i64) -> i64 {
    if x.is_nan() {
        return 0;
    }
    let i = x.trunc().clamp(-1e15, 1e15) as i64;
    if i < 0 { len + i } else { i }
}

/// XPath 1.0 round(): the closest integer, halves toward positive infinity.
pub(crate) fn xpath_round(x: f64) -> f64 {
    if !x.is_finite() || x == 0.0 {
        return x;
    }
    (x + 0.5).floor()
}

/// round(x, digits): halves away from zero on the decimal digits as written (JavaRosa uses
/// BigDecimal HALF_UP), so round(1.005, 2) is 1.01.
pub(crate) fn round_half_up(x: f64, digits: f64) -> f64 {
    if !x.is_finite() || digits.is_nan() {
        return if digits.is_nan() { f64::NAN } else { x };
    }
    let d = digits.trunc().clamp(-300.0, 300.0) as i64;
    let text = super::value::format_number(x.abs());
    let (int, frac) = text.split_once('.').unwrap_or((&text, ""));
    let all: Vec<u8> = int.bytes().chain(frac.bytes()).collect();
    // Number of leading digits kept.
    let keep = int.len() as i64 + d;
    if keep >= all.len() as i64 {
        return x;
    }
    if keep < 0 {
        return 0.0;
    }
    let keep = keep as usize;
    let mut kept: Vec<u8> = all[..keep].to_vec();
    if all[keep] >= b'5' {
        // Add one to the kept digits, carrying.
        let mut i = kept.len();
        loop {
            if i == 0 {
                kept.insert(0, b'1');
                break;
            }
            i -= 1;
            if kept[i] == b'9' {
                kept[i] = b'0';
            } else {
                kept[i] += 1;
                break;
            }
        }
    }
    if kept.is_empty() {
        return 0.0;
    }
    let mantissa = String::from_utf8_lossy(&kept);
    let v: f64 = format!("{mantissa}e{}", -d).parse().unwrap_or(f64::NAN);
    if x < 0.0 { -v } else { v }
}
