//! What the server stores, as domain operations over the [`Backend`] trait.
//!
//! Written once for both databases (see [`crate::db`]). Every operation is synchronous; the
//! HTTP layer runs them on tokio's blocking pool.

mod accounts;
mod group;
mod ingest;
mod people;
mod survey;

pub use ingest::{
    BatchCommit, CommitOutcome, DUPLICATE_INTERVIEW, Incident, IncidentFilter, IngestedInterview,
};
pub use people::{Device, NewDevice};
pub use survey::NewAssignment;

use crate::db::{self, Backend, DbError, Row, Sql};
use chrono::{DateTime, SecondsFormat, Utc};
use std::sync::Arc;
use thiserror::Error;
use uuid::Uuid;

#[derive(Debug, Error)]
pub enum StorageError {
    #[error("database: {0}")]
    Db(#[from] DbError),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Invalid(String),
    #[error("the database holds a value this server cannot read ({0}); was it edited by hand?")]
    Corrupt(String),
    /// The group commit did not happen (see `group`): nothing of the batch was written.
    #[error("the database commit failed: {0}")]
    CommitFailed(String),
}

pub type Result<T, E = StorageError> = std::result::Result<T, E>;

/// The server's storage: cheap to clone, shared by all requests.
#[derive(Clone)]
pub struct Storage {
    db: Arc<dyn Backend>,
    /// On SQLite, the group committer batches go through (see `group`); `None` on PostgreSQL.
    group: Option<Arc<group::Committer>>,
}

impl Storage {
    /// Opens (see [`db::connect`]) and migrates the database.
    pub fn open(url: &str) -> Result<Self> {
        let db: Arc<dyn Backend> = Arc::from(db::connect(url)?);
        db::schema::migrate(db.as_ref())?;
        let group = match db.dialect() {
            db::Dialect::Sqlite => Some(
                group::Committer::start(Self {
                    db: db.clone(),
                    group: None,
                })
                .map_err(|e| StorageError::CommitFailed(format!("starting the committer: {e}")))?,
            ),
            db::Dialect::Postgres => None,
        };
        Ok(Self { db, group })
    }

    /// Where the data lives, for messages (no password).
    pub fn describe(&self) -> String {
        self.db.describe()
    }

    /// Runs `f` in one transaction and returns what it produced.
    fn tx<T>(&self, mut f: impl FnMut(&mut dyn Sql) -> Result<T>) -> Result<T> {
        let mut out = None;
        let mut failure = None;
        let res = self.db.transaction(&mut |sql| match f(sql) {
            Ok(v) => {
                out = Some(v);
                Ok(())
            }
            Err(StorageError::Db(e)) => Err(e),
            Err(e) => {
                failure = Some(e);
                // Any error rolls the transaction back; the real one is returned below.
                Err(DbError::Column(0, "rolled back".into()))
            }
        });
        if let Some(e) = failure {
            return Err(e);
        }
        res?;
        out.ok_or_else(|| StorageError::Corrupt("transaction produced no result".into()))
    }

    /// Runs read-only `f` and returns what it produced.
    fn read<T>(&self, mut f: impl FnMut(&mut dyn Sql) -> Result<T>) -> Result<T> {
        let mut out = None;
        let mut failure = None;
        let res = self.db.read(&mut |sql| match f(sql) {
            Ok(v) => {
                out = Some(v);
                Ok(())
            }
            Err(StorageError::Db(e)) => Err(e),
            Err(e) => {
                failure = Some(e);
                Ok(())
            }
        });
        if let Some(e) = failure {
            return Err(e);
        }
        res?;
        out.ok_or_else(|| StorageError::Corrupt("read produced no result".into()))
    }
}

/// Times are stored as RFC 3339 UTC with microseconds and a `Z`, so text order is time order.
pub fn time_text(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

fn parse_time(s: &str) -> Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| StorageError::Corrupt(format!("time {s:?}: {e}")))
}

fn parse_uuid(s: &str) -> Result<Uuid> {
    Uuid::parse_str(s).map_err(|e| StorageError::Corrupt(format!("id {s:?}: {e}")))
}

fn row_uuid(r: &Row, i: usize) -> Result<Uuid> {
    parse_uuid(&r.text(i)?)
}

fn row_time(r: &Row, i: usize) -> Result<DateTime<Utc>> {
    parse_time(&r.text(i)?)
}
