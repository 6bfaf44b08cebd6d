//! `fieldpost form ...` end to end: the real binary on the shipped SIPAS form and on a real-world
//! questionnaire from ../shared/conformance.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn fieldpost(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_fieldpost"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("fieldpost runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn temp_json(name: &str, text: &str) -> PathBuf {
    let p = std::env::temp_dir().join(format!("fieldpost-form-{}-{name}.json", std::process::id()));
    std::fs::write(&p, text).expect("temp file");
    p
}

#[test]
fn fields_lists_paths_and_type_words_in_document_order() {
    let o = fieldpost(&[
        "form",
        "fields",
        "../shared/conformance/real-world/validmeasures__liberiaS3Mforms__liberiaStdForm.xlsx",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = stdout(&o);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 8, "{out}");
    assert_eq!(lines[0], "adminData/id\tinteger");
    assert_eq!(lines[2], "repeat1/guard1/anthroData/weight\tdecimal");
    assert_eq!(lines[7], "meta/instanceID\tcalculate");
}

#[test]
fn sipas_scripted_interview_completes() {
    let o = fieldpost(&[
        "form",
        "run",
        "assets/forms/sipas-2024.xlsx",
        "--answers",
        "assets/forms/sipas/sample-answers.json",
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}{}",
        stdout(&o),
        String::from_utf8_lossy(&o.stderr)
    );
    let out = stdout(&o);
    assert!(!out.contains("ERROR\t"));
    for line in out.lines() {
        let parts: Vec<&str> = line.split('\t').collect();
        assert_eq!(parts.len(), 3, "line {line:?}");
        assert!(parts[1] == "0" || parts[1] == "1");
        assert!(
            !parts[0].split('/').any(|s| s == "meta"),
            "meta paths are not printed"
        );
    }
    assert!(
        out.contains("phan_a/tinh\t1\t04\n"),
        "answers appear as stored"
    );
}

#[test]
fn broken_constraint_exits_1_and_names_the_field() {
    let o = fieldpost(&[
        "form",
        "run",
        "assets/forms/sipas-2024.xlsx",
        "--answers",
        "assets/forms/sipas/sample-answers-invalid.json",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stdout(&o)
            .lines()
            .any(|l| l.starts_with("ERROR\tphan_a/nhom_tuoi\t")),
        "{}",
        stdout(&o)
    );
}

#[test]
fn a_step_that_cannot_be_applied_exits_2() {
    let p = temp_json("bad", r#"[{"set": "phan_a/no_such_question", "value": 1}]"#);
    let o = fieldpost(&[
        "form",
        "run",
        "assets/forms/sipas-2024.xlsx",
        "--answers",
        p.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no_such_question"));
    let p = temp_json(
        "type",
        r#"[{"set": "phan_a/nam_sinh", "value": "nineteen"}]"#,
    );
    let o = fieldpost(&[
        "form",
        "run",
        "assets/forms/sipas-2024.xlsx",
        "--answers",
        p.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn rejected_workbook_check_exits_1_naming_row() {
    let o = fieldpost(&[
        "form",
        "check",
        "../shared/conformance/real-world/medic__cht-core__delivery.xlsx",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    assert!(out.contains("row 292") && out.contains("'meta'"), "{out}");
}
