//! Field paths in the two numbering conventions that meet here.
//!
//! The form engine speaks XPath, where repeat rows count from 1 (`members[2]/age` is the second
//! row); the device store counts rows from 0 (`members[1]/age`), as its row arithmetic does.
//! The app converts at this one border, so each side keeps its own natural convention.

/// Engine path (1-based rows) to store path (0-based rows).
pub fn to_store(path: &str) -> String {
    shift(path, -1)
}

/// Store path (0-based rows) to engine path (1-based rows).
pub fn to_engine(path: &str) -> String {
    shift(path, 1)
}

fn shift(path: &str, by: i64) -> String {
    let mut out = String::with_capacity(path.len());
    let mut rest = path;
    while let Some(open) = rest.find('[') {
        out.push_str(&rest[..=open]);
        let after = &rest[open + 1..];
        let Some(close) = after.find(']') else {
            out.push_str(after);
            return out;
        };
        match after[..close].parse::<i64>() {
            Ok(n) => out.push_str(&(n + by).max(0).to_string()),
            Err(_) => out.push_str(&after[..close]),
        }
        out.push(']');
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    out
}

/// `members[2]/jobs[1]/title` -> `members/jobs/title`: the form's node path.
pub fn node_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    let mut skipping = false;
    for c in path.chars() {
        match c {
            '[' => skipping = true,
            ']' => skipping = false,
            c if !skipping => out.push(c),
            _ => {}
        }
    }
    out
}

/// The innermost repeat row a path lies in: `(repeat, row path, 1-based row)`, e.g.
/// `hh/members[2]/age` -> `("hh/members", "hh/members[2]", 2)`.
pub fn innermost_row(path: &str) -> Option<(String, String, usize)> {
    let close = path.rfind(']')?;
    let open = path[..close].rfind('[')?;
    let row: usize = path[open + 1..close].parse().ok()?;
    Some((path[..open].to_string(), path[..=close].to_string(), row))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_convert_both_ways_and_plain_paths_stay() {
        assert_eq!(
            to_store("members[2]/jobs[1]/title"),
            "members[1]/jobs[0]/title"
        );
        assert_eq!(
            to_engine("members[1]/jobs[0]/title"),
            "members[2]/jobs[1]/title"
        );
        assert_eq!(to_store("phan_a/tinh"), "phan_a/tinh");
        assert_eq!(to_engine(&to_store("a[7]/b[3]")), "a[7]/b[3]");
    }

    #[test]
    fn node_path_and_innermost_row() {
        assert_eq!(node_path("hh/members[2]/age"), "hh/members/age");
        assert_eq!(
            innermost_row("hh/members[2]/jobs[3]/title"),
            Some((
                "hh/members[2]/jobs".into(),
                "hh/members[2]/jobs[3]".into(),
                3
            ))
        );
        assert_eq!(innermost_row("phan_a/tinh"), None);
    }
}
