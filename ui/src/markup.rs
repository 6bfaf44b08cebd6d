//! The questionnaire's light markup: `**bold**` and `*italic*` inside labels and notes.
//!
//! Parsed into spans rather than injected as HTML, so a label can never carry markup the form
//! author did not mean (or script) into the page.

/// A run of label text with its emphasis.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Span {
    pub text: String,
    pub bold: bool,
    pub italic: bool,
}

/// Splits a label into spans at `**` (bold) and single `*` (italic) markers. An unmatched marker
/// simply toggles emphasis to the end, which is what ODK-style renderers do too.
pub fn spans(label: &str) -> Vec<Span> {
    let mut out = Vec::new();
    let (mut bold, mut italic) = (false, false);
    let mut cur = String::new();
    let mut chars = label.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '*' {
            cur.push(c);
            continue;
        }
        if !cur.is_empty() {
            out.push(Span {
                text: std::mem::take(&mut cur),
                bold,
                italic,
            });
        }
        if chars.peek() == Some(&'*') {
            chars.next();
            bold = !bold;
        } else {
            italic = !italic;
        }
    }
    if !cur.is_empty() {
        out.push(Span {
            text: cur,
            bold,
            italic,
        });
    }
    out
}

/// The label without markers, for places that take plain text (options, aria labels).
pub fn plain(label: &str) -> String {
    spans(label).into_iter().map(|s| s.text).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(text: &str, bold: bool, italic: bool) -> Span {
        Span {
            text: text.into(),
            bold,
            italic,
        }
    }

    #[test]
    fn bold_and_italic_runs() {
        assert_eq!(
            spans("**I. VỀ CHÍNH SÁCH** và *Trách nhiệm*"),
            vec![
                s("I. VỀ CHÍNH SÁCH", true, false),
                s(" và ", false, false),
                s("Trách nhiệm", false, true)
            ]
        );
    }

    #[test]
    fn plain_text_is_one_span_and_plain_strips_markers() {
        assert_eq!(spans("9.1. Cơ quan"), vec![s("9.1. Cơ quan", false, false)]);
        assert_eq!(plain("**Xin cảm ơn!**"), "Xin cảm ơn!");
        assert!(spans("").is_empty());
    }
}
