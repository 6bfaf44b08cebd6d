//! One survey row to the parts of a [`Node`]: labels per language, logic, attributes.

use crate::error::ImportError;
use crate::model::{Bind, DataType, Node, NodeKind};
use crate::xlsform::rows::Row;
use std::collections::BTreeMap;

/// pyxform writes `yes`/`true` in bind columns as `true()` (and `no` as `false()`).
pub fn binding(v: Option<&str>) -> Option<String> {
    let v = v?;
    Some(match v {
        "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" => "true()".to_string(),
        "no" | "No" | "NO" | "false" | "False" | "FALSE" => "false()".to_string(),
        other => other.to_string(),
    })
}

pub fn is_yes(v: Option<&str>) -> bool {
    matches!(
        v,
        Some("yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "true()")
    )
}

/// `key=value` pairs separated by spaces, commas or semicolons; keys lower-cased, values too
/// except `label` and `value` (they name columns of a user file).
pub fn parse_parameters(
    raw: Option<&str>,
    row: u32,
) -> Result<BTreeMap<String, String>, ImportError> {
    let mut out = BTreeMap::new();
    let Some(raw) = raw else { return Ok(out) };
    let spaced: String = raw
        .chars()
        .map(|c| if c == ',' || c == ';' { ' ' } else { c })
        .collect();
    // Allow `key = value` by gluing the `=` to its neighbours first.
    let glued = spaced
        .split('=')
        .map(str::trim)
        .collect::<Vec<_>>()
        .join("=");
    for pair in glued.split_whitespace() {
        let Some((k, v)) = pair.split_once('=') else {
            return Err(ImportError::at(
                "survey",
                row,
                "parameters",
                "the 'parameters' value is invalid. Parameters must be in the form of 'key1=value1 key2=value2'.",
            ));
        };
        if k.is_empty() || v.is_empty() || v.contains('=') {
            return Err(ImportError::at(
                "survey",
                row,
                "parameters",
                "the 'parameters' value is invalid. Parameters must be in the form of 'key1=value1 key2=value2'.",
            ));
        }
        let key = k.to_lowercase();
        let value = if key == "label" || key == "value" {
            v.to_string()
        } else {
            v.to_lowercase()
        };
        out.insert(key, value);
    }
    Ok(out)
}

/// A node with the row's labels, logic and attributes filled in.
pub fn node_from_row(
    row: &Row,
    kind: NodeKind,
    name: &str,
    type_word: &str,
    data_type: DataType,
    default_language: &str,
) -> Result<Node, ImportError> {
    let parameters = parse_parameters(row.get(&["parameters"]), row.number)?;
    super::params::check(type_word, &parameters, row.number)?;
    let b = |attr: &str| binding(row.get(&["bind", attr]));
    let bind = Bind {
        relevant: b("relevant"),
        constraint: b("constraint"),
        required: b("required"),
        calculation: b("calculate"),
        readonly: b("readonly"),
        default: row.get(&["default"]).map(str::to_string),
        choice_filter: row.get(&["choice_filter"]).map(str::to_string),
        repeat_count: row.get(&["control", "jr:count"]).map(str::to_string),
        trigger: row.get(&["trigger"]).map(str::to_string),
    };
    let mut attributes = BTreeMap::new();
    const KNOWN_BIND: [&str; 8] = [
        "relevant",
        "constraint",
        "required",
        "calculate",
        "readonly",
        "jr:constraintMsg",
        "jr:requiredMsg",
        "jr:noAppErrorString",
    ];
    for c in &row.cells {
        let prefix = match c.tokens[0].as_str() {
            "bind" if c.tokens.len() == 2 && !KNOWN_BIND.contains(&c.tokens[1].as_str()) => "bind",
            "control"
                if c.tokens.len() == 2
                    && !["appearance", "jr:count"].contains(&c.tokens[1].as_str()) =>
            {
                "body"
            }
            "instance" if c.tokens.len() == 2 => "instance",
            _ => continue,
        };
        attributes.insert(format!("{prefix}::{}", c.tokens[1]), c.value.clone());
    }
    Ok(Node {
        kind,
        name: name.to_string(),
        path: String::new(),
        parent: None,
        children: Vec::new(),
        type_word: type_word.to_string(),
        data_type,
        row: Some(row.number),
        list_name: None,
        choices_from: None,
        metadata: None,
        label: row.translations(&["label"], default_language),
        hint: row.translations(&["hint"], default_language),
        guidance_hint: row.translations(&["guidance_hint"], default_language),
        constraint_message: row.translations(&["bind", "jr:constraintMsg"], default_language),
        required_message: row.translations(&["bind", "jr:requiredMsg"], default_language),
        media: row.media(default_language),
        bind,
        appearance: row.get(&["control", "appearance"]).map(str::to_string),
        parameters,
        attributes,
    })
}

/// A node pyxform adds on its own (no row in the sheet).
pub fn generated(name: &str, type_word: &str, data_type: DataType) -> Node {
    Node {
        kind: NodeKind::Field,
        name: name.to_string(),
        path: String::new(),
        parent: None,
        children: Vec::new(),
        type_word: type_word.to_string(),
        data_type,
        row: None,
        list_name: None,
        choices_from: None,
        metadata: None,
        label: BTreeMap::new(),
        hint: BTreeMap::new(),
        guidance_hint: BTreeMap::new(),
        constraint_message: BTreeMap::new(),
        required_message: BTreeMap::new(),
        media: BTreeMap::new(),
        bind: Bind::default(),
        appearance: None,
        parameters: BTreeMap::new(),
        attributes: BTreeMap::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters() {
        let p = parse_parameters(Some("start=1 end=10, step=1"), 2).unwrap();
        assert_eq!(p.get("end").map(String::as_str), Some("10"));
        let p = parse_parameters(Some("value=Code label = Name"), 2).unwrap();
        assert_eq!(p.get("label").map(String::as_str), Some("Name"));
        assert!(parse_parameters(Some("start"), 2).is_err());
    }
}
