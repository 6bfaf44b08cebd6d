//! Times as stored: UTC, RFC 3339 with microseconds and a `Z`, so text order
//! is time order and every row reads the same way.

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};

use crate::StoreError;

/// Format a UTC time for a TEXT column.
pub(crate) fn fmt(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// Parse a TEXT column written by [`fmt`].
pub(crate) fn parse(text: &str) -> Result<DateTime<Utc>, StoreError> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| StoreError::Damaged(format!("stored time {text:?}: {e}")))
}

/// Parse an optional TEXT time column.
pub(crate) fn parse_opt(text: Option<String>) -> Result<Option<DateTime<Utc>>, StoreError> {
    text.as_deref().map(parse).transpose()
}

/// Parse an optional `YYYY-MM-DD` date column.
pub(crate) fn parse_date(text: Option<String>) -> Result<Option<NaiveDate>, StoreError> {
    text.map(|t| {
        NaiveDate::parse_from_str(&t, "%Y-%m-%d")
            .map_err(|e| StoreError::Damaged(format!("stored date {t:?}: {e}")))
    })
    .transpose()
}
