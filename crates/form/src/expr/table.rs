//! Secondary instances: choice lists and CSV attachments as flat tables.
//!
//! ODK exposes both as `instance('id')/root/item/<column>`; pulldata reads the same tables. A
//! table keeps a hash index per column, built the first time a lookup needs it, so
//! `instance('communes')/root/item[province = ${p}]` over 3,321 communes is a hash lookup.

use std::collections::HashMap;
use std::sync::OnceLock;

/// A secondary instance: named columns, rows of strings.
#[derive(Debug, Default)]
pub struct Table {
    columns: Vec<Box<str>>,
    rows: Vec<Box<[Box<str>]>>,
    index: Vec<OnceLock<HashMap<Box<str>, Vec<u32>>>>,
}

/// Why a table could not be built from the given data.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum TableError {
    #[error("the CSV file is empty: it needs a header row naming its columns")]
    Empty,
    #[error("the CSV file is not valid UTF-8 text (save it as CSV UTF-8)")]
    NotUtf8,
    #[error("CSV row {row}: {message}")]
    Csv { row: u64, message: String },
    #[error("column '{0}' appears twice in the header")]
    DuplicateColumn(String),
    #[error("row {row} has {found} cells but the header names {expected} columns")]
    RowLength {
        row: usize,
        found: usize,
        expected: usize,
    },
    #[error("a table has at most {} rows", u32::MAX)]
    TooManyRows,
}

impl Table {
    /// An empty table with these columns (`name`, `label`, filter columns, ...).
    pub fn new<S: Into<Box<str>>>(
        columns: impl IntoIterator<Item = S>,
    ) -> Result<Table, TableError> {
        let columns: Vec<Box<str>> = columns.into_iter().map(Into::into).collect();
        for (i, c) in columns.iter().enumerate() {
            if columns[..i].contains(c) {
                return Err(TableError::DuplicateColumn(c.to_string()));
            }
        }
        let index = columns.iter().map(|_| OnceLock::new()).collect();
        Ok(Table {
            columns,
            rows: Vec::new(),
            index,
        })
    }

    /// Append a row; it must have one cell per column.
    pub fn push_row<S: Into<Box<str>>>(
        &mut self,
        cells: impl IntoIterator<Item = S>,
    ) -> Result<(), TableError> {
        let cells: Box<[Box<str>]> = cells.into_iter().map(Into::into).collect();
        if cells.len() != self.columns.len() {
            return Err(TableError::RowLength {
                row: self.rows.len() + 1,
                found: cells.len(),
                expected: self.columns.len(),
            });
        }
        if self.rows.len() >= u32::MAX as usize {
            return Err(TableError::TooManyRows);
        }
        self.rows.push(cells);
        // Indexes built earlier no longer cover every row.
        for slot in &mut self.index {
            slot.take();
        }
        Ok(())
    }

    /// Read a CSV attachment (first row is the header), as ODK reads pulldata and
    /// select_one_from_file files. A UTF-8 byte-order mark is skipped; short rows are padded
    /// with empty cells, as spreadsheet exports often drop trailing empty cells.
    pub fn from_csv(bytes: &[u8]) -> Result<Table, TableError> {
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        if std::str::from_utf8(bytes).is_err() {
            return Err(TableError::NotUtf8);
        }
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(bytes);
        let mut records = reader.records();
        let header = match records.next() {
            None => return Err(TableError::Empty),
            Some(r) => r.map_err(csv_error)?,
        };
        let mut table = Table::new(header.iter().map(str::trim))?;
        let width = table.columns.len();
        for record in records {
            let record = record.map_err(csv_error)?;
            if record.iter().all(str::is_empty) {
                continue;
            }
            if record.len() > width {
                return Err(TableError::RowLength {
                    row: table.rows.len() + 2,
                    found: record.len(),
                    expected: width,
                });
            }
            let cells = record
                .iter()
                .map(Box::<str>::from)
                .chain(std::iter::repeat_with(|| Box::<str>::from("")))
                .take(width);
            table.push_row(cells)?;
        }
        Ok(table)
    }

    /// Column names, in order.
    pub fn columns(&self) -> &[Box<str>] {
        &self.columns
    }

    /// Position of a column.
    pub fn column(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| &**c == name)
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether the table has no rows.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// A cell; empty when out of range.
    pub fn cell(&self, row: usize, col: usize) -> &str {
        self.rows
            .get(row)
            .and_then(|r| r.get(col))
            .map_or("", |c| c)
    }

    /// Rows whose `col` equals `value`, in row order.
    pub fn rows_where(&self, col: usize, value: &str) -> &[u32] {
        let Some(slot) = self.index.get(col) else {
            return &[];
        };
        let index = slot.get_or_init(|| {
            let mut map: HashMap<Box<str>, Vec<u32>> = HashMap::new();
            for (i, row) in self.rows.iter().enumerate() {
                if let Some(cell) = row.get(col) {
                    // Row count is capped at u32::MAX by push_row.
                    map.entry(cell.clone()).or_default().push(i as u32);
                }
            }
            map
        });
        index.get(value).map_or(&[], Vec::as_slice)
    }
}

fn csv_error(e: csv::Error) -> TableError {
    let row = e.position().map_or(0, |p| p.line());
    TableError::Csv {
        row,
        message: e.to_string(),
    }
}
