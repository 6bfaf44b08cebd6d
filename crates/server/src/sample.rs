//! Reading a sample CSV (assignments, official and reserve) into rows to load.

use crate::storage::NewAssignment;
use fieldpost_proto::v1::SAMPLE_CSV_COLUMNS;
use std::collections::HashSet;
use thiserror::Error;

#[derive(Debug, Error, PartialEq, Eq)]
pub enum SampleError {
    #[error("the sample CSV lacks the column {0:?} (needed: {cols})", cols = SAMPLE_CSV_COLUMNS.join(","))]
    MissingColumn(&'static str),
    #[error("sample CSV line {line}: {reason}")]
    Row { line: u64, reason: String },
    #[error("the sample CSV has no assignments")]
    Empty,
}

/// Parses and checks a sample: every column present, `kind` official or reserve, a reserve
/// names its official, codes unique. Whether the enumerators exist is checked when loading.
pub fn parse_sample(bytes: &[u8]) -> Result<Vec<NewAssignment>, SampleError> {
    let mut rdr = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(bytes);
    let headers = rdr
        .headers()
        .map_err(|e| SampleError::Row {
            line: 1,
            reason: e.to_string(),
        })?
        .clone();
    let mut idx = [0usize; 8];
    for (i, name) in SAMPLE_CSV_COLUMNS.iter().enumerate() {
        idx[i] = headers
            .iter()
            .position(|h| h == *name)
            .ok_or(SampleError::MissingColumn(name))?;
    }
    let mut out = Vec::new();
    let mut codes = HashSet::new();
    for rec in rdr.records() {
        let rec = rec.map_err(|e| SampleError::Row {
            line: e.position().map_or(0, |p| p.line()),
            reason: e.to_string(),
        })?;
        let line = rec.position().map_or(0, |p| p.line());
        let field = |i: usize| rec.get(idx[i]).unwrap_or("").to_string();
        let bad = |reason: String| SampleError::Row { line, reason };
        let code = field(0);
        for (i, name) in SAMPLE_CSV_COLUMNS.iter().enumerate() {
            if i != 2 && field(i).is_empty() {
                return Err(bad(format!("{name} is empty")));
            }
        }
        let reserve = match field(1).as_str() {
            "official" => false,
            "reserve" => true,
            other => {
                return Err(bad(format!(
                    "kind must be official or reserve, found {other:?}"
                )));
            }
        };
        let reserve_for = Some(field(2)).filter(|s| !s.is_empty());
        if reserve != reserve_for.is_some() {
            return Err(bad("a reserve names in reserve_for the official code it replaces; an official leaves it empty".into()));
        }
        if !codes.insert(code.clone()) {
            return Err(bad(format!("assignment code {code:?} appears twice")));
        }
        out.push(NewAssignment {
            code,
            reserve,
            reserve_for,
            province: field(3),
            commune: field(4),
            village: field(5),
            stratum: field(6),
            enumerator: field(7),
        });
    }
    if out.is_empty() {
        return Err(SampleError::Empty);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEAD: &str = "code,kind,reserve_for,province,commune,village,stratum,enumerator\n";

    #[test]
    fn officials_and_reserves_are_read_with_their_pairing() {
        let csv = format!(
            "{HEAD}A1,official,,01,00004,T1,urban,enum1\nR1,reserve,A1,01,00004,T1,urban,enum1\n"
        );
        let rows = parse_sample(csv.as_bytes()).expect("parses");
        assert_eq!(rows.len(), 2);
        assert!(!rows[0].reserve);
        assert_eq!(rows[1].reserve_for.as_deref(), Some("A1"));
    }

    #[test]
    fn each_mistake_names_its_line_and_cause() {
        let missing = "code,kind\nA1,official\n";
        assert_eq!(
            parse_sample(missing.as_bytes()),
            Err(SampleError::MissingColumn("reserve_for"))
        );
        let kind = format!("{HEAD}A1,spare,,01,00004,T1,urban,enum1\n");
        assert!(matches!(
            parse_sample(kind.as_bytes()),
            Err(SampleError::Row { line: 2, .. })
        ));
        let dup = format!("{HEAD}A1,official,,01,00004,T1,u,e\nA1,official,,01,00004,T1,u,e\n");
        let err = parse_sample(dup.as_bytes()).expect_err("duplicate");
        assert!(err.to_string().contains("line 3"), "{err}");
        let orphan = format!("{HEAD}R1,reserve,,01,00004,T1,u,e\n");
        assert!(parse_sample(orphan.as_bytes()).is_err());
        assert_eq!(parse_sample(HEAD.as_bytes()), Err(SampleError::Empty));
    }
}
