//! `${name}` references and XML names, checked as pyxform checks them.

/// Can this character start an XML name (NCName)?
fn name_start(c: char) -> bool {
    c == '_'
        || c.is_ascii_alphabetic()
        || (c as u32 >= 0xC0
            && c != '\u{d7}'
            && c != '\u{f7}'
            && !c.is_whitespace()
            && !is_punct(c))
}

fn is_punct(c: char) -> bool {
    matches!(c as u32, 0x2000..=0x206F | 0x3000 | 0xFEFF)
        && !matches!(c as u32, 0x200c | 0x200d | 0x2070..=0x218f)
}

fn name_char(c: char) -> bool {
    name_start(c)
        || c.is_ascii_digit()
        || matches!(c, '-' | '.' | '\u{b7}')
        || matches!(c as u32, 0x300..=0x36f | 0x203f..=0x2040)
}

/// Is this a valid NCName (no prefix)?
pub fn is_ncname(s: &str) -> bool {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) if name_start(c) => chars.all(name_char),
        _ => false,
    }
}

/// Is this a valid XML element name (`name` or `prefix:name`)? Question names must be.
pub fn is_xml_tag(s: &str) -> bool {
    match s.split_once(':') {
        Some((a, b)) => is_ncname(a) && is_ncname(b),
        None => is_ncname(s),
    }
}

/// One `${...}` found in a text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PyxformRef {
    pub name: String,
    pub last_saved: bool,
}

/// A `${` that does not hold a valid name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MalformedRef;

/// All `${name}` references in a text, in order. Errors on `${` followed by something that is
/// not a name (`${a b}`, `${1x}`, an unterminated `${name`).
pub fn pyxform_refs(text: &str) -> Result<Vec<PyxformRef>, MalformedRef> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find("${") {
        let after = &rest[i + 2..];
        match after.find('}') {
            Some(0) => {
                rest = &after[1..];
            }
            Some(j) => {
                let inner = &after[..j];
                let (last_saved, name) = match inner.strip_prefix("last-saved#") {
                    Some(n) => (true, n),
                    None => (false, inner),
                };
                if !is_ncname(name) {
                    return Err(MalformedRef);
                }
                out.push(PyxformRef {
                    name: name.to_string(),
                    last_saved,
                });
                rest = &after[j + 1..];
            }
            None => return Err(MalformedRef),
        }
    }
    Ok(out)
}

/// Is the whole text a single reference (`${count}`)?
pub fn is_single_ref(text: &str) -> bool {
    let t = text;
    t.starts_with("${")
        && t.ends_with('}')
        && matches!(pyxform_refs(t), Ok(v) if v.len() == 1 && t.len() == v[0].name.len() + 3 + if v[0].last_saved { 11 } else { 0 })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(is_xml_tag("hh_size"));
        assert!(is_xml_tag("tên"));
        assert!(is_xml_tag("a.b-c"));
        assert!(!is_xml_tag("1abc"));
        assert!(!is_xml_tag("a b"));
        assert!(!is_xml_tag(""));
    }

    #[test]
    fn refs() {
        let r = pyxform_refs("${a} + ${b_2} > 3").unwrap();
        assert_eq!(
            r.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(),
            ["a", "b_2"]
        );
        assert!(pyxform_refs("${a b}").is_err());
        assert!(pyxform_refs("${abc").is_err());
        assert!(is_single_ref("${count}"));
        assert!(!is_single_ref("${count} + 1"));
    }
}
