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
        "unsupported database URL {0:?}: {1}; use a file path, sqlite:/abs/path, \
         sqlite:///abs/path or sqlite://relative/path for SQLite, \
         postgres://user@host:port/db for PostgreSQL"
    )]
    Url(String, String),
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

/// Which database a `--db` value names, parsed once so that opening it and placing its data
/// folder beside it agree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DbUrl {
    /// A SQLite file (created when absent).
    Sqlite(std::path::PathBuf),
    /// A `postgres://` or `postgresql://` URL, passed to the driver as written.
    Postgres(String),
}

impl DbUrl {
    /// Reads a database URL as users write them:
    /// - `postgres://...`, `postgresql://...`: PostgreSQL;
    /// - `sqlite:///abs/path`, `sqlite:/abs/path`: an absolute SQLite path (the usual URL forms);
    /// - `sqlite://relative/path`, `sqlite:relative/path`: relative to the working folder;
    /// - a plain path (no `scheme:`): a SQLite file.
    ///
    /// Anything else (another scheme, an empty path, URL options after `?`) is refused with
    /// [`DbError::Url`] rather than taken as a file name: `sqlite:/abs` used to create a folder
    /// named `sqlite:` in the working directory.
    pub fn parse(url: &str) -> Result<Self, DbError> {
        let refuse = |why: &str| DbError::Url(url.to_string(), why.to_string());
        let url_trimmed = url.trim();
        if url_trimmed.is_empty() {
            return Err(refuse("it is empty"));
        }
        if url_trimmed.starts_with("postgres://") || url_trimmed.starts_with("postgresql://") {
            return Ok(Self::Postgres(url_trimmed.to_string()));
        }
        let path = match scheme(url_trimmed) {
            None => url_trimmed,
            Some((name, rest)) if name == "sqlite" => {
                // `sqlite:///abs` keeps its leading slash, `sqlite://rel` and `sqlite:rel` are
                // relative, `sqlite:/abs` is absolute.
                rest.strip_prefix("//").unwrap_or(rest)
            }
            Some((other, _)) => {
                return Err(refuse(&format!(
                    "the scheme {other:?} is not a database this server speaks"
                )));
            }
        };
        if path.is_empty() {
            return Err(refuse("it names no file"));
        }
        if path.contains('?') || path.contains('#') {
            return Err(refuse(
                "URL options (after ? or #) are not supported; give the file path alone",
            ));
        }
        if scheme(path).is_some() {
            return Err(refuse("the path after sqlite: holds another scheme"));
        }
        Ok(Self::Sqlite(std::path::PathBuf::from(path)))
    }
}

/// `Some((scheme, rest))` when `s` starts with a URL scheme (`letters:`, RFC 3986), lower-cased.
/// One letter is a Windows drive (`C:\data`), not a scheme.
fn scheme(s: &str) -> Option<(String, &str)> {
    let colon = s.find(':')?;
    let name = &s[..colon];
    let mut chars = name.chars();
    let first = chars.next()?;
    let valid = first.is_ascii_alphabetic()
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    if !valid || name.len() == 1 {
        return None;
    }
    Some((name.to_ascii_lowercase(), &s[colon + 1..]))
}

/// Opens the database named by `url` (see [`DbUrl::parse`] for the forms accepted); a SQLite
/// file is created when absent.
pub fn connect(url: &str) -> Result<Box<dyn Backend>, DbError> {
    match DbUrl::parse(url)? {
        DbUrl::Postgres(u) => Ok(Box::new(PostgresBackend::connect(&u)?)),
        DbUrl::Sqlite(path) => Ok(Box::new(SqliteBackend::open(&path)?)),
    }
}

#[cfg(test)]
mod url_tests {
    use super::DbUrl;
    use std::path::PathBuf;

    fn sqlite(url: &str) -> PathBuf {
        match DbUrl::parse(url) {
            Ok(DbUrl::Sqlite(p)) => p,
            other => panic!("{url}: expected a SQLite path, got {other:?}"),
        }
    }

    #[test]
    fn sqlite_urls_as_users_write_them() {
        assert_eq!(
            sqlite("sqlite:/srv/fp/server.db"),
            PathBuf::from("/srv/fp/server.db")
        );
        assert_eq!(
            sqlite("sqlite:///srv/fp/server.db"),
            PathBuf::from("/srv/fp/server.db")
        );
        assert_eq!(
            sqlite("sqlite://data/server.db"),
            PathBuf::from("data/server.db")
        );
        assert_eq!(sqlite("sqlite:server.db"), PathBuf::from("server.db"));
        assert_eq!(
            sqlite("SQLite:/srv/server.db"),
            PathBuf::from("/srv/server.db")
        );
        assert_eq!(
            sqlite("/srv/fp/server.db"),
            PathBuf::from("/srv/fp/server.db")
        );
        assert_eq!(sqlite("server.db"), PathBuf::from("server.db"));
        assert_eq!(
            sqlite("./my data/server.db"),
            PathBuf::from("./my data/server.db")
        );
    }

    #[test]
    fn postgres_urls_pass_through() {
        for u in [
            "postgres://fp@db:5432/fp",
            "postgresql://fp@db/fp?sslmode=require",
        ] {
            assert_eq!(DbUrl::parse(u).expect("parses"), DbUrl::Postgres(u.into()));
        }
    }

    #[test]
    fn anything_else_is_refused_with_the_reason() {
        for (url, why) in [
            ("", "empty"),
            ("sqlite:", "names no file"),
            ("sqlite://", "names no file"),
            ("mysql://fp@db/fp", "\"mysql\""),
            ("file:/srv/server.db", "\"file\""),
            ("sqlite://server.db?mode=ro", "options"),
            ("sqlite:postgres://db/fp", "another scheme"),
        ] {
            let e = DbUrl::parse(url).expect_err(url).to_string();
            assert!(e.contains(why), "{url}: {e}");
            assert!(
                e.contains("sqlite:///"),
                "{url}: the message shows the forms: {e}"
            );
        }
    }
}
