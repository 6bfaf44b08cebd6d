//! # fieldpost-store: the device's store
//!
//! One SQLite file per device holding the enumerator's assignments, interviews,
//! answers, paradata and the outbox of sealed batches. What users trust it for:
//!
//! - **An answer the screen shows as saved survives.** Every answer is its own
//!   transaction in WAL mode with `synchronous = FULL`: in WAL mode `NORMAL`
//!   only syncs the log at checkpoints, so a commit survives a killed process
//!   but may roll back on power loss; `FULL` fsyncs the log on every commit,
//!   which is what "saved" must mean on a phone whose battery can die.
//!   (`BENCH store_autosave_*` measures the price.)
//! - **A lost phone does not give the data away.** Answers, paradata payloads
//!   and the respondent's name, phone and address are AES-256-GCM ciphertext
//!   under a random data key wrapped by a key derived from the enumerator's
//!   PIN (see [`crypto`]). Progress counts and statuses stay readable without
//!   the PIN.
//! - **Bad input never overwrites anything.** A foreign or damaged file, a store
//!   from a newer app and a damaged outbox batch each give a [`StoreError`]
//!   and the file is left as it was.
//!
//! What it is not: the questionnaire engine. Answer values are JSON values; the
//! caller (app-core, with `fieldpost-form`) decides relevance and validity and
//! calls [`Store::set_answer`] and [`Store::complete`]. Batches are opaque
//! bytes sealed by `fieldpost-seal`.
//!
//! ```
//! use fieldpost_store::Store;
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let dir = tempfile::tempdir()?;
//! # let path = dir.path().join("device.db");
//! // First start: create the file and set the enumerator's PIN.
//! let mut store = Store::open(&path)?;
//! store.set_up_pin("2468")?;
//! store.save_questionnaire("sipas", "2025.1", r#"{"fields":[]}"#)?;
//! # let a = fieldpost_store::Assignment {
//! #     id: uuid::Uuid::now_v7(), kind: fieldpost_store::AssignmentKind::Official,
//! #     pair_id: None, unit: fieldpost_store::Unit::Household, province_code: "01".into(),
//! #     commune_code: "00004".into(), village_code: "T01".into(), stratum: "urban".into(),
//! #     enumerator: "e1".into(), form_id: "sipas".into(), due_date: None,
//! #     personal: Default::default() };
//! store.import_assignments(&[a.clone()])?;
//! drop(store);
//!
//! // Every later start: open and unlock, then work.
//! let mut store = Store::open_unlocked(&path, "2468")?;
//! let interview = store.start_or_resume(a.id, "2025.1", "e1")?;
//! store.set_answer(interview.id, "age_band", &serde_json::json!("35-49"))?; // durable now
//! let row = store.add_repeat_row(interview.id, "members")?;
//! store.set_answer(interview.id, &format!("members[{row}]/age"), &serde_json::json!(41))?;
//! // On resume the form engine rebuilds its state from:
//! assert_eq!(store.answers(interview.id)?.len(), 2);
//! // ... the engine validates, then:
//! store.complete(interview.id)?;
//! assert_eq!(store.progress()?.completed, 1);
//! # Ok(()) }
//! ```

#![warn(missing_docs)]

mod answers;
mod assignments;
mod clock;
pub mod crypto;
mod error;
mod interviews;
mod keyring;
mod nonresponse;
mod outbox;
mod paradata;
pub mod protector;
mod purge;
mod refusals;
pub mod schema;
mod settings;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rusqlite::{Connection, OpenFlags, OptionalExtension};
use uuid::Uuid;

pub use answers::Answer;
pub use assignments::{
    Assignment, AssignmentGroup, AssignmentKind, AssignmentStatus, AssignmentView, NewAssignment,
    Personal, Unit,
};
pub use error::{Result, StoreError};
pub use interviews::{Interview, InterviewStatus, Progress};
pub use nonresponse::{
    NonResponse, NonResponseCode, NonResponseOutcome, ReleaseRule, ReserveRelease,
};
pub use outbox::{BatchState, OutboxBatch, SyncLogEntry};
pub use paradata::{ParadataEvent, ParadataRecord};
pub use protector::{KeyProtector, ProtectorError};
pub use purge::PurgeReport;
pub use refusals::HeldInterview;

/// The device store: an open SQLite file, locked until [`Store::unlock`].
pub struct Store {
    conn: Connection,
    path: PathBuf,
    device_id: Uuid,
    /// Shared with the handles [`Store::try_clone`] makes, so a sync on its own connection
    /// needs no PIN of its own.
    key: Option<Arc<crypto::DataKey>>,
    /// The platform key that also wraps the data key (Android Keystore), if the app has one.
    protector: Option<Arc<dyn KeyProtector>>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("path", &self.path)
            .field("device_id", &self.device_id)
            .field("unlocked", &self.key.is_some())
            .finish()
    }
}

/// The 16 bytes every SQLite database file starts with.
const SQLITE_HEADER: &[u8; 16] = b"SQLite format 3\0";

impl Store {
    /// Open the store at `path`, creating the file and its schema when absent
    /// and upgrading an older schema in place.
    ///
    /// The store starts locked: reading or writing personal data needs
    /// [`Store::unlock`] (or [`Store::set_up_pin`] on a new store). A file that
    /// is not a FieldPost store, is damaged, or comes from a newer app is
    /// refused with an error and not written to.
    pub fn open(path: &Path) -> Result<Store> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)?;
        }
        check_header(path)?;
        let not_a_store = |reason: String| StoreError::NotAStore {
            path: path.to_path_buf(),
            reason,
        };
        let mut conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;

        // Look before writing anything: these reads fail on a damaged file.
        let probe = |conn: &Connection| -> rusqlite::Result<(i32, u32, i64)> {
            let app: i32 = conn.pragma_query_value(None, "application_id", |r| r.get(0))?;
            let version: u32 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
            let tables: i64 =
                conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0))?;
            Ok((app, version, tables))
        };
        let (app_id, version, tables) = probe(&conn).map_err(|e| not_a_store(e.to_string()))?;
        let fresh = app_id == 0 && version == 0 && tables == 0;
        if !fresh && app_id != schema::APPLICATION_ID {
            return Err(not_a_store(
                "it is an SQLite database of another program".into(),
            ));
        }
        if version > schema::LATEST_VERSION {
            return Err(StoreError::NewerSchema {
                path: path.to_path_buf(),
                found: version,
                supported: schema::LATEST_VERSION,
            });
        }
        if !fresh {
            let check: String = conn
                .query_row("PRAGMA quick_check", [], |r| r.get(0))
                .map_err(|e| not_a_store(e.to_string()))?;
            if check != "ok" {
                return Err(not_a_store(format!("integrity check: {check}")));
            }
        }

        let mode: String =
            conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::InvalidState(format!(
                "the file system refused write-ahead logging (journal mode {mode})"
            )));
        }
        per_connection_pragmas(&conn)?;
        // Schema 4 drops clear columns (paradata kinds) and the answers' clear paths leave at
        // the next unlock: zero the space they leave behind, and empty the log after.
        let drops_clear_columns = !fresh && version < 4;
        if drops_clear_columns {
            conn.pragma_update(None, "secure_delete", true)?;
        }
        schema::migrations().to_latest(&mut conn)?;
        if drops_clear_columns {
            conn.pragma_update(None, "secure_delete", false)?;
            conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        }
        if fresh {
            conn.pragma_update(None, "application_id", schema::APPLICATION_ID)?;
        }
        let device_id = ensure_device_id(&conn)?;
        Ok(Store {
            conn,
            path: path.to_path_buf(),
            device_id,
            key: None,
            protector: None,
        })
    }

    /// A second handle on the same file with its own SQLite connection, unlocked if this one
    /// is. A sync runs on one so that the screens, on the first, keep answering while an
    /// upload crawls over a weak link; WAL lets the two read at once, and SQLite takes their
    /// writes in turn (each waits up to the busy timeout). Locking this handle does not lock
    /// the clone: it lives as long as the sync that holds it.
    ///
    /// Light: the file was checked and migrated when this handle opened it, so the clone only
    /// connects and sets the same pragmas (a full [`Store::open`] would run `quick_check` over
    /// the whole file while the caller holds the screens' lock).
    pub fn try_clone(&self) -> Result<Store> {
        let conn = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        per_connection_pragmas(&conn)?;
        Ok(Store {
            conn,
            path: self.path.clone(),
            device_id: self.device_id,
            key: self.key.clone(),
            protector: self.protector.clone(),
        })
    }

    /// The schema version of the open file (after upgrade: the latest).
    pub fn schema_version(&self) -> Result<u32> {
        Ok(self
            .conn
            .pragma_query_value(None, "user_version", |r| r.get(0))?)
    }

    /// Where the store lives on disk.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// This device's id (UUIDv7), made when the store was created. It goes into
    /// every interview and names the device in the outbox sequence.
    pub fn device_id(&self) -> Uuid {
        self.device_id
    }

    /// Run SQLite's full integrity check; `Ok(())` when the file is sound.
    pub fn integrity_check(&self) -> Result<()> {
        let check: String = self
            .conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
        if check == "ok" {
            Ok(())
        } else {
            Err(StoreError::Damaged(format!("integrity check: {check}")))
        }
    }

    /// Copy the write-ahead log into the main file and truncate it (SQLite
    /// also does this by itself every 1,000 pages). Useful before measuring
    /// the file or backing it up.
    pub fn checkpoint(&self) -> Result<()> {
        self.conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        Ok(())
    }

    /// Cap the file at `pages` database pages (for this connection), as a
    /// storage quota; writes past it fail with [`StoreError::StorageFull`].
    pub fn set_max_pages(&self, pages: u32) -> Result<()> {
        self.conn.pragma_update(None, "max_page_count", pages)?;
        Ok(())
    }

    /// The data key, or [`StoreError::Locked`].
    fn key(&self) -> Result<&crypto::DataKey> {
        self.key.as_deref().ok_or(StoreError::Locked)
    }
}

/// The settings SQLite keeps per connection, not in the file (WAL mode is in the file).
fn per_connection_pragmas(conn: &Connection) -> Result<()> {
    // FULL, not NORMAL: see the crate documentation (power loss).
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", true)?;
    Ok(())
}

/// Refuse a non-empty file that does not start like an SQLite database,
/// before SQLite gets a chance to touch it.
fn check_header(path: &Path) -> Result<()> {
    let mut file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    if !file.metadata()?.is_file() {
        return Err(StoreError::NotAStore {
            path: path.to_path_buf(),
            reason: "it is not a regular file".into(),
        });
    }
    let mut head = Vec::with_capacity(16);
    file.by_ref().take(16).read_to_end(&mut head)?;
    if head.is_empty() || head.as_slice() == SQLITE_HEADER {
        return Ok(());
    }
    Err(StoreError::NotAStore {
        path: path.to_path_buf(),
        reason: "it does not start with the SQLite header".into(),
    })
}

/// Read the device id, making one on first open.
fn ensure_device_id(conn: &Connection) -> Result<Uuid> {
    let stored: Option<String> = conn
        .query_row(
            "SELECT value FROM setting WHERE key = 'device_id'",
            [],
            |r| r.get(0),
        )
        .optional()?;
    if let Some(text) = stored {
        return Uuid::parse_str(&text)
            .map_err(|e| StoreError::Damaged(format!("stored device id: {e}")));
    }
    let id = Uuid::now_v7();
    conn.execute(
        "INSERT INTO setting (key, value) VALUES ('device_id', ?1)",
        [id.to_string()],
    )?;
    Ok(id)
}
