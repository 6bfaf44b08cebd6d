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
