//! Builds small XLSForm workbooks in memory for tests (real .xlsx bytes through calamine).
#![allow(dead_code)]

use rust_xlsxwriter::Workbook;

/// Sheets as rows of cells; the first row of each sheet is its header.
pub fn workbook(sheets: &[(&str, &[&[&str]])]) -> Vec<u8> {
    let mut wb = Workbook::new();
    for (name, rows) in sheets {
        let ws = wb.add_worksheet();
        ws.set_name(*name).expect("sheet name");
        for (r, row) in rows.iter().enumerate() {
            for (c, cell) in row.iter().enumerate() {
                if !cell.is_empty() {
                    ws.write_string(r as u32, c as u16, *cell).expect("cell");
                }
            }
        }
    }
    wb.save_to_buffer().expect("xlsx bytes")
}

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
