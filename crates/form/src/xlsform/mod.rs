//! Reading XLSForm workbooks: cells to text, headers to column paths, rows.

pub mod headers;
pub mod reader;
pub mod rows;
