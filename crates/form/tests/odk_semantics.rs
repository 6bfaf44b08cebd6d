//! Values the engine must compute as ODK computes them (issue 13, first part). Each test is a
//! case where FieldPost once stored another value than JavaRosa; scripts/check_form_engine.py
//! runs the same forms (tests/engine/*.json) against JavaRosa itself.

mod common;
use common::{form, start};
use fieldpost_form::Answer;

fn num(n: f64) -> Option<Answer> {
    Some(Answer::Number(n))
}

fn list(v: &[&str]) -> Option<Answer> {
    Some(Answer::List(v.iter().map(|s| s.to_string()).collect()))
}

const CROPS: &[&[&str]] = &[
    &["list_name", "name", "label"],
    &["crops", "maize", "Maize"],
    &["crops", "rice", "Rice"],
    &["crops", "beans", "Beans"],
    &["crops", "cassava", "Cassava"],
];

#[test]
fn ticks_are_kept_in_the_choice_lists_order_so_roster_rows_name_the_same_item() {
    let f = form(
        &[
            &["type", "name", "label", "repeat_count", "calculation"],
            &["select_multiple crops", "crops", "Crops", "", ""],
            &[
                "begin repeat",
                "crop_rep",
                "Crop",
                "count-selected(${crops})",
                "",
            ],
            &[
                "calculate",
                "crop_name",
                "",
                "",
                "selected-at(${crops}, position(..) - 1)",
            ],
            &["integer", "area", "Area", "", ""],
            &["end repeat", "", "", "", ""],
        ],
        CROPS,
    );
    let mut iv = start(f);
    // Tapped cassava first, then beans, then maize (and beans twice).
    iv.set(
        "crops",
        list(&["cassava", "beans", "maize", "beans"]).as_ref(),
    )
    .unwrap();
    assert_eq!(iv.value("crops").as_deref(), Some("maize beans cassava"));
    assert_eq!(iv.row_count("crop_rep"), Some(3));
    assert_eq!(iv.value("crop_rep[1]/crop_name").as_deref(), Some("maize"));
    assert_eq!(
        iv.value("crop_rep[3]/crop_name").as_deref(),
        Some("cassava")
    );
}

#[test]
fn a_total_over_a_half_answered_roster_counts_blank_rows_as_zero() {
    let f = form(
        &[
            &["type", "name", "label", "calculation"],
            &["begin repeat", "members", "Member", ""],
            &["integer", "age", "Age", ""],
            &["end repeat", "", "", ""],
            &["calculate", "total", "", "sum(${age})"],
        ],
        &[],
    );
    let mut iv = start(f);
    iv.set("members[1]/age", num(4.0).as_ref()).unwrap();
    iv.add_row("members").unwrap();
    assert_eq!(iv.value("total").as_deref(), Some("4"));
}

#[test]
fn a_new_outer_row_starts_without_rows_of_its_inner_repeats() {
    let f = form(
        &[
            &["type", "name", "label", "default"],
            &["begin repeat", "hh", "Household", ""],
            &["text", "hname", "Name", ""],
            &["begin repeat", "person", "Person", ""],
            &["integer", "pno", "Number", "position(..)"],
            &["end repeat", "", "", ""],
            &["end repeat", "", "", ""],
        ],
        &[],
    );
    let mut iv = start(f);
    // The form's first instance holds one row at every level, as the XForm's does.
    assert_eq!(iv.row_count("hh[1]/person"), Some(1));
    iv.add_row("hh").unwrap();
    assert_eq!(iv.row_count("hh[2]/person"), Some(0));
    iv.add_row("hh[2]/person").unwrap();
    iv.add_row("hh[2]/person").unwrap();
    assert_eq!(iv.value("hh[2]/person[2]/pno").as_deref(), Some("2"));
}

#[test]
fn a_question_with_a_calculation_can_be_answered_and_is_recomputed_when_an_input_changes() {
    let f = form(
        &[
            &["type", "name", "label", "calculation"],
            &["text", "name", "Name", ""],
            &["text", "greeting", "Greeting", "concat('Hello ', ${name})"],
            &["calculate", "echo", "", "${greeting}"],
        ],
        &[],
    );
    let mut iv = start(f);
    iv.set("name", Some(&Answer::Text("Ana".into()))).unwrap();
    assert_eq!(iv.value("greeting").as_deref(), Some("Hello Ana"));
    iv.set("greeting", Some(&Answer::Text("Hi".into())))
        .expect("ODK lets the enumerator change a calculated question");
    assert_eq!(iv.value("echo").as_deref(), Some("Hi"));
    iv.set("name", Some(&Answer::Text("Bo".into()))).unwrap();
    assert_eq!(iv.value("greeting").as_deref(), Some("Hello Bo"));
    // A `calculate` is no question: it still cannot be answered.
    assert!(iv.set("echo", Some(&Answer::Text("x".into()))).is_err());
}

#[test]
fn start_and_today_are_recorded_when_the_form_opens() {
    let f = form(
        &[
            &["type", "name", "label", "calculation"],
            &["start", "start", "", ""],
            &["today", "today", "", ""],
            &[
                "calculate",
                "start_t",
                "",
                "format-date-time(${start}, '%H:%M')",
            ],
            &["calculate", "year", "", "format-date(${today}, '%Y')"],
        ],
        &[],
    );
    let iv = start(f);
    assert_eq!(
        iv.value("start").as_deref(),
        Some("2026-11-23T10:00:00.000+07:00")
    );
    assert_eq!(iv.value("start_t").as_deref(), Some("10:00"));
    assert_eq!(iv.value("year").as_deref(), Some("2026"));
}

#[test]
fn uuid_is_bare_and_a_division_by_zero_stores_infinity_that_later_sums_read() {
    let f = form(
        &[
            &["type", "name", "label", "calculation"],
            &["calculate", "id", "", "uuid()"],
            &["integer", "n", "N", ""],
            &["decimal", "ratio", "Ratio", "10 div ${n}"],
            &["calculate", "more", "", "${ratio} + 1"],
        ],
        &[],
    );
    let mut iv = start(f);
    let id = iv.value("id").unwrap_or_default();
    assert_eq!(id.len(), 36, "{id}");
    assert!(!id.starts_with("uuid:"), "{id}");
    iv.set("n", num(0.0).as_ref()).unwrap();
    assert_eq!(iv.value("ratio").as_deref(), Some("Infinity"));
    assert_eq!(iv.value("more").as_deref(), Some("Infinity"));
}
