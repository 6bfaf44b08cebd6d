//! Import errors and warnings.
//!
//! Every problem found while reading a workbook says where it is (sheet, row, column) and what
//! is wrong, so the survey designer can open Excel and fix that cell. The wording follows
//! pyxform's where pyxform has a message for the same problem, because designers already know it.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Where in the workbook a problem is. Rows are spreadsheet row numbers (the header is row 1).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Location {
    pub sheet: Option<String>,
    pub row: Option<u32>,
    pub column: Option<String>,
}

impl Location {
    pub fn sheet(sheet: &str) -> Self {
        Location {
            sheet: Some(sheet.to_string()),
            row: None,
            column: None,
        }
    }
    pub fn cell(sheet: &str, row: u32, column: &str) -> Self {
        Location {
            sheet: Some(sheet.to_string()),
            row: Some(row),
            column: Some(column.to_string()),
        }
    }
    pub fn row(sheet: &str, row: u32) -> Self {
        Location {
            sheet: Some(sheet.to_string()),
            row: Some(row),
            column: None,
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        if let Some(s) = &self.sheet {
            parts.push(format!("sheet '{s}'"));
        }
        if let Some(r) = self.row {
            parts.push(format!("row {r}"));
        }
        if let Some(c) = &self.column {
            parts.push(format!("column '{c}'"));
        }
        write!(f, "{}", parts.join(", "))
    }
}

/// A workbook FieldPost cannot turn into a form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub struct ImportError {
    pub location: Location,
    pub message: String,
}

impl fmt::Display for ImportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let loc = self.location.to_string();
        if loc.is_empty() {
            write!(f, "{}", self.message)
        } else {
            write!(f, "{loc}: {}", self.message)
        }
    }
}

impl ImportError {
    pub fn new(location: Location, message: impl Into<String>) -> Self {
        ImportError {
            location,
            message: message.into(),
        }
    }
    pub fn at(sheet: &str, row: u32, column: &str, message: impl Into<String>) -> Self {
        Self::new(Location::cell(sheet, row, column), message)
    }
    pub fn at_row(sheet: &str, row: u32, message: impl Into<String>) -> Self {
        Self::new(Location::row(sheet, row), message)
    }
    pub fn workbook(message: impl Into<String>) -> Self {
        Self::new(Location::default(), message)
    }
}

/// Something odd that does not stop the import (pyxform prints these as warnings too).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Warning {
    pub location: Location,
    pub message: String,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let loc = self.location.to_string();
        if loc.is_empty() {
            write!(f, "{}", self.message)
        } else {
            write!(f, "{loc}: {}", self.message)
        }
    }
}
