//! Conformance with pyxform, the reference XLSForm compiler.
//!
//! Installs pyxform from PyPI into a venv (once, under ~/.cache/fieldpost/pyxform-venv), converts
//! every workbook in `../shared/conformance/pyxform/` and `../shared/conformance/real-world/` with
//! it (tests/conformance/pyxform_reference.py), imports the same workbooks with FieldPost, and
//! checks that both agree: the same fields in the same order with the same paths and data types,
//! the same fields referenced by each relevant, constraint and calculation, and rejection of what
//! pyxform rejects with a message naming the same things (row, sheet, quoted names). The
//! per-workbook result is printed and written to `<target>/conformance-results.tsv`.

use fieldpost_form::expr::Expr;
use fieldpost_form::model::{DataType, Form, NodeKind};
use fieldpost_form::validate::parsed_field_names;
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

const PYXFORM_VERSION: &str = "4.5.0";

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("repository root")
}

/// A python with pyxform, installing it on first use.
fn pyxform_python() -> PathBuf {
    let home = std::env::var("HOME").unwrap_or_else(|_| "/root".into());
    let venv = Path::new(&home).join(".cache/fieldpost/pyxform-venv");
    let python = venv.join("bin/python");
    let ok = python.exists()
        && Command::new(&python)
            .args(["-c", &format!("import pyxform,sys; sys.exit(0 if pyxform.__version__=='{PYXFORM_VERSION}' else 1)")])
            .status()
            .is_ok_and(|s| s.success());
    if !ok {
        let st = Command::new("python3")
            .args(["-m", "venv"])
            .arg(&venv)
            .status()
            .expect("python3 must be installed");
        assert!(st.success(), "python3 -m venv failed");
        let st = Command::new(venv.join("bin/pip"))
            .args(["install", "-q", &format!("pyxform=={PYXFORM_VERSION}")])
            .status()
            .expect("pip runs");
        assert!(
            st.success(),
            "pip install pyxform failed (needs PyPI access)"
        );
    }
    python
}

fn workbooks(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for dir in [
        "../shared/conformance/pyxform",
        "../shared/conformance/real-world",
    ] {
        let d = root.join(dir);
        let mut files: Vec<PathBuf> = std::fs::read_dir(&d)
            .unwrap_or_else(|e| panic!("{} must exist: {e}", d.display()))
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "xlsx" || x == "xls"))
            .collect();
        files.sort();
        out.extend(files);
    }
    out
}

/// The workbooks written here for the rules pyxform applies (tests/conformance/cases.json: each
/// case names its sheets as rows of cells, header row first), built as real .xlsx files under
/// `<target>/conformance-cases/` so pyxform reads exactly what FieldPost reads.
fn case_workbooks(root: &Path) -> Vec<PathBuf> {
    let text = std::fs::read_to_string(root.join("tests/conformance/cases.json"))
        .expect("tests/conformance/cases.json readable");
    let cases: Value = serde_json::from_str(&text).expect("cases.json is JSON");
    let target = std::env::var("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| root.join("target"));
    let dir = target.join("conformance-cases");
    std::fs::create_dir_all(&dir).expect("cases folder");
    let mut out = Vec::new();
    for case in cases.as_array().expect("a list of cases") {
        let name = case["name"].as_str().expect("case name");
        let mut wb = rust_xlsxwriter::Workbook::new();
        for sheet in case["sheets"].as_array().expect("sheets") {
            let ws = wb.add_worksheet();
            ws.set_name(sheet[0].as_str().expect("sheet name"))
                .expect("valid sheet name");
            for (r, row) in sheet[1].as_array().expect("rows").iter().enumerate() {
                for (c, cell) in row.as_array().expect("cells").iter().enumerate() {
                    let v = cell.as_str().expect("cells are text");
                    if !v.is_empty() {
                        ws.write_string(r as u32, c as u16, v).expect("cell");
                    }
                }
            }
        }
        let path = dir.join(format!("{name}.xlsx"));
        wb.save(&path).expect("case workbook written");
        out.push(path);
    }
    out
}

/// The XForm bind type of a FieldPost data type.
fn xform_type(t: DataType) -> &'static str {
    match t {
        DataType::Int => "int",
        DataType::Decimal => "decimal",
        DataType::Date => "date",
        DataType::Time => "time",
        DataType::DateTime => "dateTime",
        DataType::Geopoint => "geopoint",
        DataType::Geotrace => "geotrace",
        DataType::Geoshape => "geoshape",
        DataType::Binary => "binary",
        DataType::Barcode => "barcode",
        DataType::Rank => "odk:rank",
        _ => "string",
    }
}

fn names(v: &Value) -> BTreeSet<String> {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s.as_str().map(String::from))
        .collect()
}

fn refs(form: &Form, e: &Option<String>) -> BTreeSet<String> {
    let _ = form;
    match e.as_deref().map(Expr::parse) {
        Some(Ok(x)) => parsed_field_names(&x).into_iter().collect(),
        // pyxform passes text it cannot read through; FieldPost reports such an expression as
        // unreadable at import (`Imported::unreadable`) and its references are the `${name}`s.
        Some(Err(_)) => e
            .as_deref()
            .map(|t| {
                fieldpost_form::validate::expression_field_names(t)
                    .into_iter()
                    .collect()
            })
            .unwrap_or_default(),
        None => BTreeSet::new(),
    }
}

/// Compares one accepted workbook; returns the differences.
fn compare_fields(form: &Form, reference: &[Value]) -> Vec<String> {
    let mut diffs = Vec::new();
    let ours: Vec<_> = form
        .nodes
        .iter()
        .filter(|n| n.kind == NodeKind::Field)
        .collect();
    let ours_paths: Vec<&str> = ours.iter().map(|n| n.path.as_str()).collect();
    let theirs_paths: Vec<&str> = reference
        .iter()
        .filter_map(|f| f["path"].as_str())
        .collect();
    if ours_paths != theirs_paths {
        let a: BTreeSet<_> = ours_paths.iter().collect();
        let b: BTreeSet<_> = theirs_paths.iter().collect();
        let only_ours: Vec<_> = a.difference(&b).take(5).collect();
        let only_theirs: Vec<_> = b.difference(&a).take(5).collect();
        diffs.push(format!("fields differ: only FieldPost {only_ours:?}, only pyxform {only_theirs:?} (order differs: {})", only_ours.is_empty() && only_theirs.is_empty()));
        return diffs;
    }
    for (n, f) in ours.iter().zip(reference) {
        let t = f["type"].as_str().unwrap_or("string");
        if xform_type(n.data_type) != t {
            diffs.push(format!(
                "{}: type {} vs pyxform {t}",
                n.path,
                xform_type(n.data_type)
            ));
        }
        for (what, expr) in [
            ("relevant", &n.bind.relevant),
            ("constraint", &n.bind.constraint),
            ("calculate", &n.bind.calculation),
        ] {
            let a = refs(form, expr);
            let b = names(&f[what]);
            if a != b {
                diffs.push(format!("{}: {what} refers to {a:?}, pyxform {b:?}", n.path));
            }
        }
    }
    diffs
}

/// pyxform's error names things in quotes and a row as `[row : N]`; ours must name them too.
fn compare_rejection(ours: &str, theirs: &str) -> Vec<String> {
    let mut diffs = Vec::new();
    if let Some(i) = theirs.find("[row : ") {
        let row: String = theirs[i + 7..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        if !ours.contains(&format!("row {row}")) {
            diffs.push(format!("message does not name row {row}"));
        }
    }
    // An apostrophe inside a word ("can't") is not a quote.
    let chars: Vec<char> = theirs.lines().next().unwrap_or("").chars().collect();
    let first_line: String = chars
        .iter()
        .enumerate()
        .map(|(i, &c)| {
            let between_letters = i > 0
                && chars[i - 1].is_alphabetic()
                && chars.get(i + 1).is_some_and(|n| n.is_alphabetic());
            if c == '\'' && between_letters {
                '\u{2019}'
            } else {
                c
            }
        })
        .collect();
    for (i, part) in first_line.split('\'').enumerate() {
        if i % 2 == 1
            && !part.is_empty()
            && !part.contains("https")
            && !ours.contains(&format!("'{part}'"))
        {
            diffs.push(format!("message does not name '{part}'"));
        }
    }
    diffs
}

#[test]
fn fieldpost_agrees_with_pyxform() {
    let root = repo_root();
    let books = workbooks(&root);
    assert!(
        books.len() >= 40,
        "expected the shared conformance workbooks, found {}",
        books.len()
    );
    let mut books = books;
    books.extend(case_workbooks(&root));
    let python = pyxform_python();
    let out = Command::new(&python)
        .arg(root.join("tests/conformance/pyxform_reference.py"))
        .args(&books)
        .output()
        .expect("pyxform reference script runs");
    assert!(
        out.status.success(),
        "reference script failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let reference: Value = serde_json::from_slice(&out.stdout).expect("reference JSON");

    let mut report = String::from("workbook\tpyxform\tfieldpost\tagree\tnote\n");
    let mut failures = Vec::new();
    for book in &books {
        let key = book.to_string_lossy().to_string();
        let r = &reference[&key];
        let name = book
            .file_name()
            .map(|f| f.to_string_lossy().to_string())
            .unwrap_or_default();
        let bytes = std::fs::read(book).expect("workbook readable");
        let ours = fieldpost_form::import_xlsform(&bytes);
        let theirs_ok = r["ok"].as_bool().unwrap_or(false);
        let (ours_text, diffs) = match (&ours, theirs_ok) {
            (Ok(imp), true) => (
                "ok".to_string(),
                compare_fields(
                    &imp.form,
                    r["fields"].as_array().map(Vec::as_slice).unwrap_or(&[]),
                ),
            ),
            (Err(e), false) => (
                format!("rejected: {e}"),
                compare_rejection(&e.to_string(), r["error"].as_str().unwrap_or("")),
            ),
            (Ok(_), false) => (
                "ok".into(),
                vec![format!("pyxform rejects it: {}", r["error"])],
            ),
            // A feature FieldPost does not run (ODK Entities, OSM, loops over a list) must be
            // refused by name, never half-imported.
            (Err(e), true) if e.to_string().contains("not supported by FieldPost") => {
                (format!("refused by name: {e}"), Vec::new())
            }
            (Err(e), true) => (format!("rejected: {e}"), vec!["pyxform accepts it".into()]),
        };
        let theirs_text = if theirs_ok {
            "ok".to_string()
        } else {
            format!(
                "rejected: {}",
                r["error"]
                    .as_str()
                    .unwrap_or("")
                    .lines()
                    .next()
                    .unwrap_or("")
            )
        };
        let agree = diffs.is_empty();
        report.push_str(&format!(
            "{name}\t{}\t{}\t{}\t{}\n",
            theirs_text.replace('\t', " "),
            ours_text.replace(['\t', '\n'], " "),
            if agree { "yes" } else { "NO" },
            diffs.join("; ").replace('\t', " ")
        ));
        if !agree {
            failures.push(format!("{name}: {}", diffs.join("; ")));
        }
    }
    println!("{report}");
    let target = std::env::var("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| root.join("target"));
    let _ = std::fs::create_dir_all(&target);
    let _ = std::fs::write(target.join("conformance-results.tsv"), &report);
    assert!(
        failures.is_empty(),
        "FieldPost disagrees with pyxform on {} workbooks:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
