//! Tokens of ODK's XPath subset.
//!
//! XPath's lexical rules are context sensitive: `*`, `and`, `or`, `div` and `mod` are operators only
//! after something that ends an operand (XPath 1.0, section 3.7); elsewhere they are names. The
//! lexer tracks that one bit of state so the parser stays a plain recursive descent.

use super::ParseError;

#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Tok<'s> {
    Num(f64),
    /// A string literal's content, without its quotes.
    Str(&'s str),
    /// `${name}`: the name inside the braces.
    Ref(&'s str),
    /// An NCName or QName (`jr:choice-name`), or `*` when it is a name test.
    Name(&'s str),
    Slash,
    DoubleSlash,
    LParen,
    RParen,
    LBracket,
    RBracket,
    Dot,
    DotDot,
    At,
    Comma,
    Pipe,
    Plus,
    Minus,
    Star,
    Eq,
    Neq,
    Lt,
    Le,
    Gt,
    Ge,
    And,
    Or,
    Div,
    Mod,
    ColonColon,
    Dollar,
    Eof,
}

impl Tok<'_> {
    /// How the token reads in an error message.
    pub(crate) fn describe(&self) -> String {
        match self {
            Tok::Num(n) => format!("number {}", super::value::format_number(*n)),
            Tok::Str(s) => format!("string '{s}'"),
            Tok::Ref(r) => format!("${{{r}}}"),
            Tok::Name(n) => format!("'{n}'"),
            Tok::Eof => "the end of the expression".to_string(),
            other => format!("'{}'", other.symbol()),
        }
    }

    fn symbol(&self) -> &'static str {
        match self {
            Tok::Slash => "/",
            Tok::DoubleSlash => "//",
            Tok::LParen => "(",
            Tok::RParen => ")",
            Tok::LBracket => "[",
            Tok::RBracket => "]",
            Tok::Dot => ".",
            Tok::DotDot => "..",
            Tok::At => "@",
            Tok::Comma => ",",
            Tok::Pipe => "|",
            Tok::Plus => "+",
            Tok::Minus => "-",
            Tok::Star => "*",
            Tok::Eq => "=",
            Tok::Neq => "!=",
            Tok::Lt => "<",
            Tok::Le => "<=",
            Tok::Gt => ">",
            Tok::Ge => ">=",
            Tok::And => "and",
            Tok::Or => "or",
            Tok::Div => "div",
            Tok::Mod => "mod",
            Tok::ColonColon => "::",
            Tok::Dollar => "$",
            _ => "?",
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Token<'s> {
    pub tok: Tok<'s>,
    /// Byte offset of the token's first character in the source.
    pub start: usize,
}

/// A lexer result: the tokens, ending with `Eof`, and warnings about tolerated oddities.
pub(crate) struct Lexed<'s> {
    pub tokens: Vec<Token<'s>>,
    pub warnings: Vec<String>,
}

fn is_name_start(c: char) -> bool {
    c == '_' || c.is_alphabetic()
}

fn is_name_char(c: char) -> bool {
    c == '_' || c == '-' || c == '.' || c.is_alphanumeric() || c == '\u{B7}'
}

/// Whether `s` is a valid XML name as XLSForm requires for question names.
pub(crate) fn is_xml_name(s: &str) -> bool {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) if is_name_start(c) => chars.all(|c| is_name_char(c) || c == ':'),
        _ => false,
    }
}

pub(crate) fn lex(src: &str) -> Result<Lexed<'_>, ParseError> {
    let bytes = src.as_bytes();
    let mut tokens = Vec::with_capacity(src.len() / 3 + 2);
    let mut warnings = Vec::new();
    let mut i = 0;
    // True when the previous token ends an operand, which makes `*`, `and`, ... operators.
    let mut after_operand = false;
    while i < src.len() {
        let c = match src[i..].chars().next() {
            Some(c) => c,
            None => break,
        };
        let start = i;
        if c == ' ' || c == '\t' || c == '\n' || c == '\r' {
            i += 1;
            continue;
        }
        // Spreadsheets paste no-break spaces; pyxform passes them through. Read them as spaces.
        if c == '\u{A0}' {
            warnings.push(format!(
                "no-break space (U+00A0) at character {} read as an ordinary space",
                char_column(src, start)
            ));
            i += c.len_utf8();
            continue;
        }
        let tok = match c {
            '(' => {
                i += 1;
                Tok::LParen
            }
            ')' => {
                i += 1;
                Tok::RParen
            }
            '[' => {
                i += 1;
                Tok::LBracket
            }
            ']' => {
                i += 1;
                Tok::RBracket
            }
            ',' => {
                i += 1;
                Tok::Comma
            }
            '|' => {
                i += 1;
                Tok::Pipe
            }
            '+' => {
                i += 1;
                Tok::Plus
            }
            '-' => {
                i += 1;
                Tok::Minus
            }
            '@' => {
                i += 1;
                Tok::At
            }
            '=' => {
                i += 1;
                Tok::Eq
            }
            '!' => {
                if bytes.get(i + 1) == Some(&b'=') {
                    i += 2;
                    Tok::Neq
                } else {
                    return Err(ParseError::new(
                        src,
                        start,
                        "'!' must be followed by '=' (use not(...) for negation)",
                    ));
                }
            }
            '<' => {
                if bytes.get(i + 1) == Some(&b'=') {
                    i += 2;
                    Tok::Le
                } else {
                    i += 1;
                    Tok::Lt
                }
            }
            '>' => {
                if bytes.get(i + 1) == Some(&b'=') {
                    i += 2;
                    Tok::Ge
                } else {
                    i += 1;
                    Tok::Gt
                }
            }
            '/' => {
                if bytes.get(i + 1) == Some(&b'/') {
                    i += 2;
                    Tok::DoubleSlash
                } else {
                    i += 1;
                    Tok::Slash
                }
            }
            ':' => {
                if bytes.get(i + 1) == Some(&b':') {
                    i += 2;
                    Tok::ColonColon
                } else {
                    return Err(ParseError::new(src, start, "unexpected ':'"));
                }
            }
            '*' => {
                i += 1;
                if after_operand {
                    Tok::Star
                } else {
                    Tok::Name("*")
                }
            }
            '.' => {
                if bytes.get(i + 1).is_some_and(|b| b.is_ascii_digit()) {
                    let (n, end) = lex_number(src, i);
                    i = end;
                    Tok::Num(n)
                } else if bytes.get(i + 1) == Some(&b'.') {
                    i += 2;
                    Tok::DotDot
                } else {
                    i += 1;
                    Tok::Dot
                }
            }
            '0'..='9' => {
                let (n, end) = lex_number(src, i);
                i = end;
                Tok::Num(n)
            }
            '\'' | '"' => {
                let body = i + 1;
                match src[body..].find(c) {
                    Some(len) => {
                        i = body + len + 1;
                        Tok::Str(&src[body..body + len])
                    }
                    None => {
                        return Err(ParseError::new(
                            src,
                            start,
                            format!("string starting here is never closed: add the closing {c}"),
                        ));
                    }
                }
            }
            // Spreadsheet programs turn straight quotes into typographic ones. pyxform passes
            // them through; we read them as quotes, and warn, because the intent is plain.
            '\u{2018}' | '\u{2019}' | '\u{201C}' | '\u{201D}' => {
                // A typographic opening quote may be closed by either typographic quote or by
                // the straight quote of the same kind (`‘other'` occurs in real forms).
                let closers: &[char] = if c == '\u{2018}' || c == '\u{2019}' {
                    &['\u{2018}', '\u{2019}', '\'']
                } else {
                    &['\u{201C}', '\u{201D}', '"']
                };
                let body = i + c.len_utf8();
                match src[body..].find(closers) {
                    Some(len) => {
                        let close = src[body + len..].chars().next().map_or(1, char::len_utf8);
                        i = body + len + close;
                        warnings.push(format!(
                            "typographic quote {c} used around a string at character {}: \
                             write straight quotes ' or \"",
                            char_column(src, start)
                        ));
                        Tok::Str(&src[body..body + len])
                    }
                    None => {
                        return Err(ParseError::new(
                            src,
                            start,
                            format!(
                                "typographic quote {c} is not a string delimiter: \
                                 write straight quotes ' or \""
                            ),
                        ));
                    }
                }
            }
            '$' => {
                if bytes.get(i + 1) == Some(&b'{') {
                    let body = i + 2;
                    match src[body..].find('}') {
                        Some(len) => {
                            let name = &src[body..body + len];
                            if name.is_empty() {
                                return Err(ParseError::new(
                                    src,
                                    start,
                                    "empty reference ${}: put a question name between the braces",
                                ));
                            }
                            if name.starts_with("last-saved#") {
                                return Err(ParseError::new(
                                    src,
                                    start,
                                    format!("last-saved references are not supported: ${{{name}}}"),
                                ));
                            }
                            if !is_xml_name(name) {
                                return Err(ParseError::new(
                                    src,
                                    start,
                                    format!(
                                        "'{name}' in ${{{name}}} is not a valid question name \
                                         (no spaces; starts with a letter or _)"
                                    ),
                                ));
                            }
                            i = body + len + 1;
                            Tok::Ref(name)
                        }
                        None => {
                            return Err(ParseError::new(
                                src,
                                start,
                                "reference ${ is never closed: add the closing }",
                            ));
                        }
                    }
                } else {
                    i += 1;
                    Tok::Dollar
                }
            }
            c if is_name_start(c) => {
                let mut end = i + c.len_utf8();
                end = scan_ncname(src, end);
                // QName: prefix:local, but not the axis separator `::`.
                if src[end..].starts_with(':')
                    && !src[end..].starts_with("::")
                    && src[end + 1..].chars().next().is_some_and(is_name_start)
                {
                    end = scan_ncname(src, end + 1);
                }
                let name = &src[i..end];
                i = end;
                if after_operand {
                    match name {
                        "and" => Tok::And,
                        "or" => Tok::Or,
                        "div" => Tok::Div,
                        "mod" => Tok::Mod,
                        _ => Tok::Name(name),
                    }
                } else {
                    Tok::Name(name)
                }
            }
            other => {
                let what = match other {
                    '\u{200B}' => "a zero-width space (U+200B); delete it".to_string(),
                    c if c.is_control() => format!("control character U+{:04X}", c as u32),
                    c => format!("'{c}'"),
                };
                return Err(ParseError::new(
                    src,
                    start,
                    format!("unexpected character: {what}"),
                ));
            }
        };
        after_operand = matches!(
            tok,
            Tok::Num(_)
                | Tok::Str(_)
                | Tok::Ref(_)
                | Tok::Name(_)
                | Tok::RParen
                | Tok::RBracket
                | Tok::Dot
                | Tok::DotDot
        );
        tokens.push(Token { tok, start });
    }
    tokens.push(Token {
        tok: Tok::Eof,
        start: src.len(),
    });
    Ok(Lexed { tokens, warnings })
}

fn scan_ncname(src: &str, mut end: usize) -> usize {
    for ch in src[end..].chars() {
        if is_name_char(ch) {
            end += ch.len_utf8();
        } else {
            break;
        }
    }
    end
}

/// XPath numbers: digits with an optional fraction, no sign, no exponent.
fn lex_number(src: &str, start: usize) -> (f64, usize) {
    let bytes = src.as_bytes();
    let mut end = start;
    while end < bytes.len() && bytes[end].is_ascii_digit() {
        end += 1;
    }
    if end < bytes.len() && bytes[end] == b'.' {
        end += 1;
        while end < bytes.len() && bytes[end].is_ascii_digit() {
            end += 1;
        }
    }
    // Only ASCII digits and one dot: parse cannot fail, but never panic on it.
    let text = &src[start..end];
    let text = text.strip_suffix('.').unwrap_or(text);
    (text.parse::<f64>().unwrap_or(f64::NAN), end)
}

/// 1-based character column of a byte offset, for people reading error messages.
pub(crate) fn char_column(src: &str, byte: usize) -> usize {
    let byte = byte.min(src.len());
    let mut b = byte;
    while b > 0 && !src.is_char_boundary(b) {
        b -= 1;
    }
    src[..b].chars().count() + 1
}
