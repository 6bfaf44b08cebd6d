//! Rows with their cells keyed by header token paths.

use super::headers::{SheetKind, process_headers};
use super::reader::RawSheet;
use crate::error::ImportError;
use crate::model::Translations;
use std::collections::BTreeMap;

/// One cell: the header's token path, the header as written, and the text.
#[derive(Debug, Clone)]
pub struct Cell {
    pub tokens: Vec<String>,
    pub header: String,
    pub value: String,
}

#[derive(Debug, Clone)]
pub struct Row {
    /// Spreadsheet row number (header = 1).
    pub number: u32,
    pub cells: Vec<Cell>,
}

/// A sheet whose headers are understood.
#[derive(Debug, Clone)]
pub struct Sheet {
    pub name: String,
    /// Token paths of the headers present (in column order).
    pub headers: Vec<(Vec<String>, String)>,
    pub rows: Vec<Row>,
}

/// Smart quotes become plain quotes; in the survey sheet a value is trimmed and runs of spaces
/// become one space, as pyxform does (`( )+`). Line breaks stay: a note's title and its text
/// are separate lines on screen.
fn clean(value: &str, collapse: bool) -> String {
    let v: String = value
        .chars()
        .map(|c| match c {
            '\u{2018}' | '\u{2019}' => '\'',
            '\u{201c}' | '\u{201d}' => '"',
            c => c,
        })
        .collect();
    if !collapse {
        return v;
    }
    let mut out = String::with_capacity(v.len());
    let mut after_space = false;
    for c in v.trim().chars() {
        if c == ' ' && after_space {
            continue;
        }
        after_space = c == ' ';
        out.push(c);
    }
    out
}

impl Sheet {
    pub fn from_raw(
        raw: &RawSheet,
        kind: SheetKind,
        collapse_whitespace: bool,
    ) -> Result<Sheet, ImportError> {
        let sheet_name = match kind {
            SheetKind::Survey => "survey",
            SheetKind::Choices => "choices",
            SheetKind::Settings => "settings",
        };
        let tokens = process_headers(&raw.headers, kind, sheet_name)?;
        let headers = raw
            .headers
            .iter()
            .zip(&tokens)
            .filter_map(|(h, t)| Some((t.clone()?, h.clone()?)))
            .collect();
        let rows = raw
            .rows
            .iter()
            .map(|r| Row {
                number: r.number,
                cells: r
                    .cells
                    .iter()
                    .filter_map(|(col, v)| {
                        let t = tokens.get(*col)?.clone()?;
                        let h = raw.headers.get(*col)?.clone()?;
                        Some(Cell {
                            tokens: t,
                            header: h,
                            value: clean(v, collapse_whitespace),
                        })
                    })
                    .collect(),
            })
            .collect();
        Ok(Sheet {
            name: sheet_name.to_string(),
            headers,
            rows,
        })
    }

    pub fn has_column(&self, first: &str) -> bool {
        self.headers.iter().any(|(t, _)| t[0] == first)
    }
}

impl Row {
    /// The value of the column with exactly this token path.
    pub fn get(&self, tokens: &[&str]) -> Option<&str> {
        self.cells
            .iter()
            .find(|c| c.tokens == tokens)
            .map(|c| c.value.as_str())
    }

    /// The header as written for this token path (for error messages).
    pub fn header(&self, tokens: &[&str]) -> String {
        self.cells
            .iter()
            .find(|c| c.tokens == tokens)
            .map(|c| c.header.clone())
            .unwrap_or_else(|| tokens.join("::"))
    }

    pub fn is_empty(&self) -> bool {
        self.cells.is_empty()
    }

    /// Per-language values of a translatable column: `prefix` alone is the default language,
    /// `prefix + [lang]` a named one.
    pub fn translations(&self, prefix: &[&str], default_language: &str) -> Translations {
        let mut out = BTreeMap::new();
        // Suffixed columns win over the unsuffixed one when both name the default language.
        for c in &self.cells {
            if c.tokens.len() == prefix.len() && c.tokens == prefix {
                out.entry(default_language.to_string())
                    .or_insert_with(|| c.value.clone());
            }
        }
        for c in &self.cells {
            if c.tokens.len() == prefix.len() + 1 && c.tokens[..prefix.len()] == *prefix {
                out.insert(c.tokens[prefix.len()].clone(), c.value.clone());
            }
        }
        out
    }

    /// Media columns: kind (`image`...) to per-language file names.
    pub fn media(&self, default_language: &str) -> BTreeMap<String, Translations> {
        let mut out: BTreeMap<String, Translations> = BTreeMap::new();
        for c in &self.cells {
            if c.tokens.first().map(String::as_str) == Some("media") && c.tokens.len() >= 2 {
                let lang = c
                    .tokens
                    .get(2)
                    .cloned()
                    .unwrap_or_else(|| default_language.to_string());
                out.entry(c.tokens[1].clone())
                    .or_default()
                    .insert(lang, c.value.clone());
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::clean;

    #[test]
    fn spaces_collapse_and_line_breaks_stay_as_in_pyxform() {
        assert_eq!(
            clean("  **Title**\n\nText  with   spaces ", true),
            "**Title**\n\nText with spaces"
        );
        assert_eq!(clean("\u{201c}a\u{201d}  b", false), "\"a\"  b");
    }
}
