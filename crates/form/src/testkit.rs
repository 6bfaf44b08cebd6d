//! Test helpers for crates that compile questionnaires in their tests (feature `testkit`).

/// A real .xlsx workbook built in memory: sheets as rows of cells, the header row first; empty
/// cells are left out, as a spreadsheet leaves them.
pub fn workbook(sheets: &[(&str, &[&[&str]])]) -> Vec<u8> {
    let mut wb = rust_xlsxwriter::Workbook::new();
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
