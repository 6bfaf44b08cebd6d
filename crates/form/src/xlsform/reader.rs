//! Workbook bytes to plain text cells.
//!
//! calamine reads `.xlsx` (inline and shared strings) and legacy `.xls`. Cell values become the
//! strings pyxform would see: whole floats print without `.0`, booleans as `TRUE`/`FALSE`, dates
//! as `YYYY-MM-DD HH:MM:SS`, non-breaking spaces as spaces, surrounding whitespace trimmed. Like
//! pyxform, a run of 20 empty header cells ends the columns and a run of 60 empty rows ends the
//! data, so stray formatting far below a form does not matter.

use crate::error::ImportError;
use calamine::{Data, Reader};
use std::io::Cursor;

/// Sheets XLSForm knows; other sheets are ignored (unless the workbook has only one sheet).
pub const KNOWN_SHEETS: [&str; 6] = [
    "survey",
    "choices",
    "settings",
    "external_choices",
    "osm",
    "entities",
];

/// One sheet as text: a header row and the data rows below it.
#[derive(Debug, Clone, Default)]
pub struct RawSheet {
    /// The sheet's name as the workbook spells it.
    pub name: String,
    /// Header cells by column (None for an empty header cell), whitespace collapsed.
    pub headers: Vec<Option<String>>,
    /// Data rows: spreadsheet row number (header = 1) and the non-empty cells by column index.
    pub rows: Vec<RawRow>,
}

#[derive(Debug, Clone, Default)]
pub struct RawRow {
    pub number: u32,
    pub cells: Vec<(usize, String)>,
}

/// The sheets of a workbook, keyed by lower-case XLSForm sheet name.
#[derive(Debug, Clone, Default)]
pub struct RawWorkbook {
    /// Every sheet name in the workbook, as written (for spelling hints).
    pub sheet_names: Vec<String>,
    pub sheets: Vec<(String, RawSheet)>,
}

impl RawWorkbook {
    pub fn sheet(&self, key: &str) -> Option<&RawSheet> {
        self.sheets.iter().find(|(k, _)| k == key).map(|(_, s)| s)
    }
}

const MAX_ADJACENT_EMPTY_COLUMNS: usize = 20;
const MAX_ADJACENT_EMPTY_ROWS: usize = 60;

/// Reads an `.xlsx` or `.xls` workbook from memory.
pub fn read_workbook(bytes: &[u8]) -> Result<RawWorkbook, ImportError> {
    let mut book = calamine::open_workbook_auto_from_rs(Cursor::new(bytes)).map_err(|e| {
        ImportError::workbook(format!(
            "the file is not a readable .xlsx or .xls workbook ({e})"
        ))
    })?;
    let names = book.sheet_names();
    let mut out = RawWorkbook {
        sheet_names: names.clone(),
        sheets: Vec::new(),
    };
    for name in &names {
        let lower = name.trim().to_lowercase();
        let key = if KNOWN_SHEETS.contains(&lower.as_str()) {
            lower
        } else if names.len() == 1 {
            "survey".to_string()
        } else {
            continue;
        };
        if out.sheet(&key).is_some() {
            continue;
        }
        let range = book
            .worksheet_range(name)
            .map_err(|e| ImportError::workbook(format!("sheet '{name}' cannot be read ({e})")))?;
        out.sheets.push((key, sheet_from_range(name, &range)?));
    }
    Ok(out)
}

fn sheet_from_range(name: &str, range: &calamine::Range<Data>) -> Result<RawSheet, ImportError> {
    let mut sheet = RawSheet {
        name: name.to_string(),
        ..Default::default()
    };
    let Some((start_row, start_col)) = range.start() else {
        return Ok(sheet);
    };
    let (start_row, start_col) = (start_row as usize, start_col as usize);
    let mut rows = range.rows();
    // Spreadsheet row 1 is the header. If the used range starts lower, the header row is empty.
    let header_cells: Vec<Option<String>> = if start_row == 0 {
        match rows.next() {
            Some(r) => {
                let mut v = vec![None; start_col];
                v.extend(r.iter().map(cell_text));
                v
            }
            None => Vec::new(),
        }
    } else {
        Vec::new()
    };
    sheet.headers = headers(&header_cells, name)?;
    let ncols = sheet.headers.len();
    let mut empty_run = 0usize;
    let first_data_row = if start_row == 0 { 1 } else { start_row };
    for (i, row) in rows.enumerate() {
        let row_index = first_data_row + i; // 0-based spreadsheet row
        let mut cells = Vec::new();
        // Only cells under a header matter; a range widened by formatting can be very wide.
        for (j, cell) in row.iter().take(ncols.saturating_sub(start_col)).enumerate() {
            let col = start_col + j;
            if col >= ncols || sheet.headers[col].is_none() {
                continue;
            }
            if let Some(text) = cell_text(cell) {
                cells.push((col, text));
            }
        }
        if cells.is_empty() {
            if empty_run == MAX_ADJACENT_EMPTY_ROWS {
                break;
            }
            empty_run += 1;
        } else {
            empty_run = 0;
        }
        sheet.rows.push(RawRow {
            number: row_index as u32 + 1,
            cells,
        });
    }
    Ok(sheet)
}

fn headers(cells: &[Option<String>], sheet: &str) -> Result<Vec<Option<String>>, ImportError> {
    let mut out: Vec<Option<String>> = Vec::new();
    let mut empty_run = 0usize;
    for (col, cell) in cells.iter().enumerate() {
        match cell {
            None => {
                out.push(None);
                if empty_run == MAX_ADJACENT_EMPTY_COLUMNS {
                    break;
                }
                empty_run += 1;
            }
            Some(h) => {
                empty_run = 0;
                let clean = h.split_whitespace().collect::<Vec<_>>().join(" ");
                if out.iter().flatten().any(|o| *o == clean) {
                    return Err(ImportError::at(
                        sheet,
                        1,
                        &clean,
                        format!("Duplicate column header: {clean} (column {})", col + 1),
                    ));
                }
                out.push(Some(clean));
            }
        }
    }
    let trailing = out.iter().rev().take_while(|h| h.is_none()).count();
    out.truncate(out.len() - trailing);
    Ok(out)
}

/// The text pyxform would see for a cell, or None when the cell is empty.
fn cell_text(cell: &Data) -> Option<String> {
    let s = match cell {
        Data::Empty | Data::Error(_) => return None,
        Data::String(s) => s.trim().replace('\u{a0}', " "),
        Data::Int(i) => i.to_string(),
        Data::Float(f) => float_text(*f),
        Data::Bool(b) => if *b { "TRUE" } else { "FALSE" }.to_string(),
        Data::DateTime(d) => excel_date_text(d.as_f64(), d.is_duration()),
        Data::DateTimeIso(s) | Data::DurationIso(s) => s.replace('T', " "),
    };
    if s.is_empty() { None } else { Some(s) }
}

/// Python's `str(float)` for the values a spreadsheet holds: whole numbers without `.0`.
pub fn float_text(f: f64) -> String {
    if f.is_finite() && f.fract() == 0.0 && f.abs() < 1e16 {
        format!("{}", f as i64)
    } else {
        let s = format!("{f}");
        if s.contains('e') || s.contains('.') {
            s
        } else {
            format!("{s}.0")
        }
    }
}

fn excel_date_text(serial: f64, duration: bool) -> String {
    let total_secs = (serial * 86400.0).round() as i64;
    let (days, secs) = (total_secs.div_euclid(86400), total_secs.rem_euclid(86400));
    let time = format!(
        "{:02}:{:02}:{:02}",
        secs / 3600,
        (secs / 60) % 60,
        secs % 60
    );
    if days == 0 || duration {
        return time;
    }
    // Excel's 1900 system counts a non-existent 29 Feb 1900; serials from 61 on are off by one.
    let epoch_offset = if days >= 61 { 25569 } else { 25568 };
    let (y, m, d) = civil_from_days(days - epoch_offset);
    format!("{y:04}-{m:02}-{d:02} {time}")
}

/// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's algorithm).
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719468;
    let era = z.div_euclid(146097);
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_print_like_pyxform() {
        assert_eq!(float_text(1.0), "1");
        assert_eq!(float_text(2.5), "2.5");
        assert_eq!(float_text(-3.0), "-3");
    }

    #[test]
    fn excel_dates() {
        assert_eq!(excel_date_text(44927.0, false), "2023-01-01 00:00:00");
        assert_eq!(excel_date_text(0.5, false), "12:00:00");
    }
}
