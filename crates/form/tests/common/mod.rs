//! Builds small XLSForm workbooks in memory for tests (real .xlsx bytes through calamine).
#![allow(dead_code)]

// The same builder other crates get with the `testkit` feature (a dev-dependency here).
#[path = "../../src/testkit.rs"]
mod testkit;
pub use testkit::workbook;

pub fn form(survey: &[&[&str]], choices: &[&[&str]]) -> fieldpost_form::Form {
    let mut sheets: Vec<(&str, &[&[&str]])> = vec![("survey", survey)];
    if !choices.is_empty() {
        sheets.push(("choices", choices));
    }
    fieldpost_form::import_xlsform(&workbook(&sheets))
        .expect("form imports")
        .form
}

pub fn start(form: fieldpost_form::Form) -> fieldpost_form::Interview {
    use chrono::TimeZone;
    let now = chrono::FixedOffset::east_opt(7 * 3600)
        .expect("offset")
        .with_ymd_and_hms(2026, 11, 23, 10, 0, 0)
        .single()
        .expect("time");
    fieldpost_form::Interview::new(
        form,
        Box::new(fieldpost_form::FixedEnvironment::new(now, 42)),
        &Default::default(),
    )
    .expect("interview starts")
}
