//! Interview behaviour on small real workbooks: relevance, calculations, repeats, validation,
//! replay, navigation.

mod common;
use common::{form, start};
use fieldpost_form::Answer;

fn num(n: f64) -> Option<Answer> {
    Some(Answer::Number(n))
}

#[test]
fn answer_reports_shown_questions_and_recalculated_values() {
    let f = form(
        &[
            &["type", "name", "label", "relevant", "calculation"],
            &["integer", "age", "Age", "", ""],
            &["calculate", "adult", "", "", "${age} >= 18"],
            &["text", "job", "Job", "${age} >= 18", ""],
        ],
        &[],
    );
    let mut iv = start(f);
    assert_eq!(iv.is_relevant("job"), Some(false));
    let ch = iv.set("age", num(20.0).as_ref()).unwrap();
    assert!(ch.shown.contains(&"job".to_string()), "{ch:?}");
    assert!(
        ch.values
            .contains(&("adult".to_string(), "true".to_string())),
        "{ch:?}"
    );
    let ch = iv.set("age", num(10.0).as_ref()).unwrap();
    assert!(ch.hidden.contains(&"job".to_string()));
    assert_eq!(iv.value("adult").as_deref(), Some("false"));
}

#[test]
fn repeat_rows_add_remove_and_aggregate() {
    let f = form(
        &[
            &["type", "name", "label", "calculation"],
            &["begin repeat", "members", "Members", ""],
            &["integer", "age", "Age", ""],
            &["end repeat", "", "", ""],
            &["calculate", "total", "", "sum(${age})"],
            &["calculate", "n", "", "count(${members})"],
        ],
        &[],
    );
    let mut iv = start(f);
    assert_eq!(iv.row_count("members"), Some(1));
    iv.add_row("members").unwrap();
    iv.add_row("members").unwrap();
    iv.set("members[1]/age", num(30.0).as_ref()).unwrap();
    iv.set("members[2]/age", num(5.0).as_ref()).unwrap();
    iv.set("members[3]/age", num(7.0).as_ref()).unwrap();
    assert_eq!(iv.value("total").as_deref(), Some("42"));
    assert_eq!(iv.value("n").as_deref(), Some("3"));
    iv.remove_row("members[2]").unwrap();
    assert_eq!(iv.value("total").as_deref(), Some("37"));
    assert_eq!(iv.value("n").as_deref(), Some("2"));
    assert_eq!(
        iv.value("members[2]/age").as_deref(),
        Some("7"),
        "later rows move up"
    );
    assert!(
        iv.set("members[3]/age", num(1.0).as_ref()).is_err(),
        "row 3 no longer exists"
    );
}

#[test]
fn repeat_count_sets_rows_and_refuses_add_row() {
    let f = form(
        &[
            &["type", "name", "label", "repeat_count"],
            &["integer", "hh_size", "Size", ""],
            &["begin repeat", "person", "Person", "${hh_size}"],
            &["text", "pname", "Name", ""],
            &["end repeat", "", "", ""],
        ],
        &[],
    );
    let mut iv = start(f);
    assert_eq!(iv.row_count("person"), Some(0));
    iv.set("hh_size", num(3.0).as_ref()).unwrap();
    assert_eq!(iv.row_count("person"), Some(3));
    iv.set("hh_size", num(2.0).as_ref()).unwrap();
    assert_eq!(iv.row_count("person"), Some(2));
    assert!(iv.add_row("person").is_err());
}

#[test]
fn completion_checks_required_and_constraints_and_drops_irrelevant_values() {
    let f = form(
        &[
            &[
                "type",
                "name",
                "label",
                "required",
                "constraint",
                "constraint_message",
                "relevant",
            ],
            &[
                "integer",
                "age",
                "Age",
                "yes",
                ". >= 18",
                "Must be an adult",
                "",
            ],
            &["select_one yn", "smoker", "Smoker?", "yes", "", "", ""],
            &[
                "integer",
                "cigs",
                "Per day",
                "yes",
                "",
                "",
                "${smoker} = 'yes'",
            ],
        ],
        &[
            &["list_name", "name", "label"],
            &["yn", "yes", "Yes"],
            &["yn", "no", "No"],
        ],
    );
    let mut iv = start(f);
    let fails = iv.validate();
    assert_eq!(
        fails.iter().map(|f| f.path.as_str()).collect::<Vec<_>>(),
        ["age", "smoker"]
    );
    iv.set("age", num(12.0).as_ref()).unwrap();
    iv.set("smoker", Some(&Answer::Text("yes".into()))).unwrap();
    iv.set("cigs", num(5.0).as_ref()).unwrap();
    let fails = iv.validate();
    assert_eq!(fails.len(), 1);
    assert_eq!(fails[0].message, "Must be an adult");
    iv.set("age", num(40.0).as_ref()).unwrap();
    iv.set("smoker", Some(&Answer::Text("no".into()))).unwrap();
    assert!(iv.validate().is_empty());
    let rec = iv.record();
    let cigs = rec.iter().find(|r| r.1 == "cigs").unwrap();
    assert_eq!(
        (cigs.2, cigs.3.as_str()),
        (false, ""),
        "non-relevant value left out"
    );
    assert!(
        iv.set("smoker", Some(&Answer::Text("maybe".into())))
            .is_err(),
        "unknown choice refused"
    );
}

#[test]
fn replaying_saved_steps_rebuilds_the_same_state() {
    let survey: &[&[&str]] = &[
        &["type", "name", "label", "calculation"],
        &["begin repeat", "kids", "Kids", ""],
        &["text", "kname", "Name", ""],
        &["end repeat", "", "", ""],
        &["calculate", "names", "", "join(', ', ${kname})"],
    ];
    let mut iv = start(form(survey, &[]));
    iv.set("kids[1]/kname", Some(&Answer::Text("An".into())))
        .unwrap();
    iv.add_row("kids").unwrap();
    iv.set("kids[2]/kname", Some(&Answer::Text("Binh".into())))
        .unwrap();
    let saved = serde_json::to_string(iv.steps()).unwrap();
    let steps: Vec<fieldpost_form::Step> = serde_json::from_str(&saved).unwrap();
    let mut again = start(form(survey, &[]));
    for s in &steps {
        again.apply(s).unwrap();
    }
    assert_eq!(again.record(), iv.record());
    assert_eq!(again.value("names").as_deref(), Some("An, Binh"));
}

#[test]
fn field_list_group_is_one_screen_and_hidden_questions_are_skipped() {
    let f = form(
        &[
            &["type", "name", "label", "appearance", "relevant"],
            &["text", "a", "A", "", ""],
            &["begin group", "g", "G", "field-list", ""],
            &["text", "b", "B", "", ""],
            &["text", "c", "C", "", ""],
            &["end group", "", "", "", ""],
            &["text", "d", "D", "", "${a} = 'x'"],
        ],
        &[],
    );
    let mut iv = start(f);
    let screens = iv.screens();
    assert_eq!(screens.len(), 2);
    assert_eq!(screens[1].questions, ["g/b", "g/c"]);
    iv.set("a", Some(&Answer::Text("x".into()))).unwrap();
    assert_eq!(iv.screens().len(), 3);
    let p = iv.progress_at("d");
    assert_eq!((p.index, p.total), (3, 3));
}

#[test]
fn import_errors_name_sheet_row_and_column() {
    let bytes = common::workbook(&[(
        "survey",
        &[
            &["type", "name", "label"],
            &["text", "a", "A"],
            &["text", "a", "Again"],
        ],
    )]);
    let e = fieldpost_form::import_xlsform(&bytes).unwrap_err();
    assert_eq!(
        (
            e.location.sheet.as_deref(),
            e.location.row,
            e.location.column.as_deref()
        ),
        (Some("survey"), Some(3), Some("name"))
    );
    let bytes = common::workbook(&[(
        "survey",
        &[&["type", "name", "label"], &["texte", "a", "A"]],
    )]);
    let e = fieldpost_form::import_xlsform(&bytes).unwrap_err();
    assert!(
        e.to_string().contains("Unknown question type 'texte'"),
        "{e}"
    );
    let bytes = common::workbook(&[(
        "survey",
        &[
            &["type", "name", "calculation"],
            &["calculate", "x", "${y} + 1"],
            &["calculate", "y", "${x} + 1"],
        ],
    )]);
    let e = fieldpost_form::import_xlsform(&bytes).unwrap_err();
    assert!(e.to_string().contains("circular"), "{e}");
    let bytes = common::workbook(&[(
        "survey",
        &[
            &["type", "name", "label", "relevant"],
            &["text", "x", "X", "${nope} = 1"],
        ],
    )]);
    let e = fieldpost_form::import_xlsform(&bytes).unwrap_err();
    assert!(
        e.to_string().contains("'nope'") && e.location.row == Some(2),
        "{e}"
    );
}

#[test]
fn multi_language_labels_and_settings() {
    let bytes = common::workbook(&[
        (
            "survey",
            &[
                &[
                    "type",
                    "name",
                    "label::Tiếng Việt (vi)",
                    "label::English (en)",
                ],
                &["text", "ten", "Tên", "Name"],
            ],
        ),
        (
            "settings",
            &[
                &["form_title", "form_id", "version", "default_language"],
                &["Khảo sát", "sipas", "2024.1", "Tiếng Việt (vi)"],
            ],
        ),
    ]);
    let f = fieldpost_form::import_xlsform(&bytes).unwrap().form;
    assert_eq!(f.settings.form_id.as_deref(), Some("sipas"));
    assert_eq!(f.settings.version.as_deref(), Some("2024.1"));
    let n = &f.nodes[f.node_by_path("ten").unwrap()];
    assert_eq!(
        n.label.get("English (en)").map(String::as_str),
        Some("Name")
    );
    assert_eq!(
        n.label.get("Tiếng Việt (vi)").map(String::as_str),
        Some("Tên")
    );
    let back = fieldpost_form::Form::from_json(&f.to_json()).unwrap();
    assert_eq!(back, f);
}
