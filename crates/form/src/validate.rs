//! Whole-form checks after import: circular logic.
//!
//! A calculation or relevance condition that depends on itself, directly or through other
//! fields, can never settle; ODK refuses such forms when they are opened on a device, which is
//! far too late. FieldPost refuses them at import and names the fields in the cycle.

use crate::error::{ImportError, Location};
use crate::import::refs::pyxform_refs;
use crate::model::{Form, NodeId};
use std::collections::HashMap;

/// Names referenced with `${name}` in an expression (unknown or malformed ones are skipped;
/// they were reported by the reference check already).
pub fn referenced_names(expr: &str) -> Vec<String> {
    pyxform_refs(expr)
        .unwrap_or_default()
        .into_iter()
        .filter(|r| !r.last_saved)
        .map(|r| r.name)
        .collect()
}

/// Names of the fields an expression reads: `${name}` references and the relative paths
/// (`../name`, `current()/../name`) pyxform writes for references inside repeats.
pub fn expression_field_names(expr: &str) -> Vec<String> {
    let mut out = referenced_names(expr);
    // Blank out string literals so quoted text is not read as a path.
    let mut text = String::with_capacity(expr.len());
    let mut quote = None;
    for c in expr.chars() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '\'' || c == '"' => quote = Some(c),
            None => text.push(c),
        }
    }
    let mut rest = text.as_str();
    while let Some(i) = rest.find("../") {
        let mut after = &rest[i..];
        while let Some(a) = after.strip_prefix("../") {
            after = a;
        }
        let path: String = after
            .chars()
            .take_while(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | '/' | ':'))
            .collect();
        if let Some(last) = path.trim_end_matches('/').rsplit('/').next()
            && !last.is_empty()
            && !out.iter().any(|n| n == last)
        {
            out.push(last.to_string());
        }
        rest = &after[path.len().min(after.len())..];
    }
    out
}

/// Field names an expression reads, as FieldPost's parser sees them: `${name}` and the last
/// name of each main-instance path (`../name`, `/data/g/name`).
pub fn parsed_field_names(expr: &crate::expr::Expr) -> Vec<String> {
    use crate::expr::Reference;
    let mut out: Vec<String> = Vec::new();
    for r in expr.references() {
        let name = match r {
            Reference::Field(n) => Some(n),
            Reference::Path { steps, .. } => steps.iter().rev().find(|s| *s != "..").cloned(),
            Reference::Instance(_) => None,
        };
        if let Some(n) = name
            && !out.contains(&n)
        {
            out.push(n);
        }
    }
    out
}

/// Expressions FieldPost cannot read, each naming its cell. pyxform passes expressions through
/// unread, so such a form still compiles (and lists its fields); it cannot be interviewed, and
/// `fieldpost form check` reports it as invalid.
pub fn unreadable_expressions(form: &Form) -> Vec<ImportError> {
    let mut out = Vec::new();
    for n in &form.nodes {
        let b = &n.bind;
        let dynamic_default = b
            .default
            .as_ref()
            .filter(|d| crate::interview::logic::default_is_dynamic(d));
        for (col, e) in [
            ("relevant", &b.relevant),
            ("constraint", &b.constraint),
            ("required", &b.required),
            ("calculation", &b.calculation),
            ("read_only", &b.readonly),
            ("choice_filter", &b.choice_filter),
            ("repeat_count", &b.repeat_count),
            ("default", &dynamic_default.cloned()),
        ] {
            let Some(text) = e else { continue };
            if let Err(err) = crate::expr::Expr::parse(text) {
                out.push(ImportError::new(
                    Location {
                        sheet: Some("survey".into()),
                        row: n.row,
                        column: Some(col.to_string()),
                    },
                    format!("the {col} of '{}' cannot be read: {err}", n.name),
                ));
            }
        }
    }
    out
}

pub fn check_form(form: &Form) -> Result<(), ImportError> {
    let mut by_name: HashMap<&str, NodeId> = HashMap::new();
    for (i, n) in form.nodes.iter().enumerate() {
        by_name.entry(n.name.as_str()).or_insert(i);
    }
    for (what, pick) in [
        (
            "calculation",
            (|n: &crate::model::Node| n.bind.calculation.as_deref())
                as fn(&crate::model::Node) -> Option<&str>,
        ),
        ("relevant", |n: &crate::model::Node| {
            n.bind.relevant.as_deref()
        }),
    ] {
        let edges: Vec<Vec<NodeId>> = form
            .nodes
            .iter()
            .map(|n| {
                pick(n)
                    .map(|e| {
                        referenced_names(e)
                            .iter()
                            .filter_map(|r| by_name.get(r.as_str()).copied())
                            .collect()
                    })
                    .unwrap_or_default()
            })
            .collect();
        if let Some(cycle) = find_cycle(&edges) {
            let names: Vec<String> = cycle.iter().map(|i| form.nodes[*i].name.clone()).collect();
            let first = &form.nodes[cycle[0]];
            return Err(ImportError::new(
                Location {
                    sheet: Some("survey".into()),
                    row: first.row,
                    column: Some(what.to_string()),
                },
                format!(
                    "circular reference: the {what} of {} depends on itself ({} -> {})",
                    names[0],
                    names.join(" -> "),
                    names[0]
                ),
            ));
        }
    }
    Ok(())
}

/// A cycle in a directed graph, as the list of its nodes, found by iterative depth-first search.
pub fn find_cycle(edges: &[Vec<NodeId>]) -> Option<Vec<NodeId>> {
    let n = edges.len();
    let mut state = vec![0u8; n]; // 0 new, 1 on stack, 2 done
    for start in 0..n {
        if state[start] != 0 {
            continue;
        }
        let mut stack: Vec<(NodeId, usize)> = vec![(start, 0)];
        state[start] = 1;
        while let Some(&mut (v, ref mut i)) = stack.last_mut() {
            if let Some(&w) = edges[v].get(*i) {
                *i += 1;
                match state[w] {
                    0 => {
                        state[w] = 1;
                        stack.push((w, 0));
                    }
                    1 => {
                        let pos = stack.iter().position(|(x, _)| *x == w).unwrap_or(0);
                        return Some(stack[pos..].iter().map(|(x, _)| *x).collect());
                    }
                    _ => {}
                }
            } else {
                state[v] = 2;
                stack.pop();
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cycles() {
        assert_eq!(
            find_cycle(&[vec![1], vec![2], vec![0]]),
            Some(vec![0, 1, 2])
        );
        assert_eq!(find_cycle(&[vec![1], vec![2], vec![]]), None);
        assert_eq!(find_cycle(&[vec![0]]), Some(vec![0]));
    }
}
