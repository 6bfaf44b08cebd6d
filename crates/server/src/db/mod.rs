//! The storage trait: one small SQL interface with two implementations, SQLite and PostgreSQL.
//!
//! Why a SQL-level trait rather than one method per domain operation implemented twice: the
//! server's queries are plain SQL that both databases accept (`$1` parameters, `ON CONFLICT`,
//! `TEXT` ids and RFC 3339 times), so the domain code in [`crate::storage`] is written once and
//! the same test suite exercises it on both. The dialects differ only in a few column types and
//! in how parameters are bound, which each implementation handles here.
//!
//! The trait is synchronous (rusqlite and the `postgres` crate, with an r2d2 pool) and the HTTP
//! layer calls it through `tokio::task::spawn_blocking`: one code path, no async SQL driver and
//! no compile-time query checking that would need a live database to build.

mod postgres;
pub mod schema;
mod sqlite;

pub use self::postgres::PostgresBackend;
pub use self::sqlite::SqliteBackend;

use thiserror::Error;

/// A value bound to a parameter or read from a column.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Int(i64),
    Text(String),
    Blob(Vec<u8>),
}

impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Int(v)
    }
}
impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::Text(v.to_string())
    }
}
impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::Text(v)
    }
}
impl From<Vec<u8>> for Value {
    fn from(v: Vec<u8>) -> Self {
        Value::Blob(v)
    }
}
impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Self {
        v.map_or(Value::Null, Into::into)
    }
}

/// One result row.
#[derive(Debug, Clone, PartialEq)]
pub struct Row(pub Vec<Value>);

impl Row {
    /// Text column `i`; an error (not a panic) when the schema and the query disagree.
    pub fn text(&self, i: usize) -> Result<String, DbError> {
        match self.0.get(i) {
            Some(Value::Text(s)) => Ok(s.clone()),
            other => Err(DbError::Column(
                i,
                format!("expected text, found {other:?}"),
            )),
        }
    }
    pub fn opt_text(&self, i: usize) -> Result<Option<String>, DbError> {
        match self.0.get(i) {
            Some(Value::Null) => Ok(None),
            _ => self.text(i).map(Some),
        }
    }
    pub fn int(&self, i: usize) -> Result<i64, DbError> {
        match self.0.get(i) {
            Some(Value::Int(v)) => Ok(*v),
            other => Err(DbError::Column(
                i,
                format!("expected integer, found {other:?}"),
            )),
        }
    }
    pub fn blob(&self, i: usize) -> Result<Vec<u8>, DbError> {
        match self.0.get(i) {
            Some(Value::Blob(b)) => Ok(b.clone()),
            other => Err(DbError::Column(
                i,
                format!("expected bytes, found {other:?}"),
            )),
        }
    }
}

#[derive(Debug, Error)]
pub enum DbError {
    #[error("SQLite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("PostgreSQL: {0}")]
    Postgres(#[from] ::postgres::Error),
    #[error("PostgreSQL connection pool: {0}")]
    Pool(#[from] r2d2::Error),
    #[error("PostgreSQL TLS: {0}")]
    PostgresTls(String),
    #[error("column {0}: {1}")]
    Column(usize, String),
    #[error(
        "unsupported database URL {0:?}: use a file path or sqlite://PATH for SQLite, \
         postgres://user@host:port/db for PostgreSQL"
    )]
    Url(String),
    #[error("the database lock was poisoned by a panic in another request; restart the server")]
    Poisoned,
}

impl DbError {
    /// Whether the error is a unique-key violation (someone else inserted the same key first).
    pub fn is_unique_violation(&self) -> bool {
        match self {
            DbError::Sqlite(rusqlite::Error::SqliteFailure(e, _)) => {
                e.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY
                    || e.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
            }
            DbError::Postgres(e) => {
                e.code() == Some(&::postgres::error::SqlState::UNIQUE_VIOLATION)
            }
            _ => false,
        }
    }
}

/// Statements inside one connection or transaction. SQL uses `$1, $2, ...` parameters.
pub trait Sql {
    /// Runs a statement; returns the number of rows changed.
    fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64, DbError>;
    fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>, DbError>;
    /// Runs several statements without parameters (migrations).
    fn batch(&mut self, sql: &str) -> Result<(), DbError>;
}

/// Which SQL dialect a backend speaks, for the few statements that differ (column types).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

/// A database the server stores everything in.
pub trait Backend: Send + Sync + 'static {
    fn dialect(&self) -> Dialect;
    /// Runs `f` in one transaction: committed when `f` returns `Ok`, rolled back otherwise.
    fn transaction(
        &self,
        f: &mut dyn FnMut(&mut dyn Sql) -> Result<(), DbError>,
    ) -> Result<(), DbError>;
    /// Runs read-only work outside an explicit transaction.
    fn read(&self, f: &mut dyn FnMut(&mut dyn Sql) -> Result<(), DbError>) -> Result<(), DbError>;
    /// A URL or path for messages, without the password.
    fn describe(&self) -> String;
}

/// Opens the database named by `url`: `postgres://...` or `postgresql://...` for PostgreSQL,
/// `sqlite://PATH` or a plain path for SQLite (created when absent).
pub fn connect(url: &str) -> Result<Box<dyn Backend>, DbError> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Ok(Box::new(PostgresBackend::connect(url)?));
    }
    let path = url.strip_prefix("sqlite://").unwrap_or(url);
    if path.is_empty() || path.contains("://") {
        return Err(DbError::Url(url.to_string()));
    }
    Ok(Box::new(SqliteBackend::open(std::path::Path::new(path))?))
}
