//! The store's errors: one enum, each variant a sentence a person can act on.
//!
//! Messages never contain personal data (names, answers): they name tables, ids
//! and paths only, so they are safe to log.

use std::path::PathBuf;

/// Everything that can go wrong in the device store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The file exists but is not a FieldPost store (another program's file or
    /// database, or one damaged beyond reading). Nothing was written to it.
    #[error(
        "{path} is not a FieldPost store or is damaged ({reason}); it was left untouched. \
         Move it aside or restore it from a backup, then open again"
    )]
    NotAStore {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },

    /// The store was written by a newer version of FieldPost.
    #[error(
        "{path} was written by a newer FieldPost (schema {found}, this app knows up to \
         {supported}); it was left untouched. Update the app to open it"
    )]
    NewerSchema {
        /// The file.
        path: PathBuf,
        /// Its schema version.
        found: u32,
        /// The newest version this build knows.
        supported: u32,
    },

    /// The database reported damage while it was in use.
    #[error("the store is damaged ({0}); stop using it and contact your coordinator")]
    Damaged(String),

    /// The device ran out of space: the change in progress was not saved,
    /// everything saved before is intact.
    #[error(
        "the device storage is full: the last change was NOT saved (earlier answers are safe). \
         Free some space, then try again"
    )]
    StorageFull,

    /// The PIN does not unwrap the data key.
    #[error("wrong PIN: the store was not unlocked")]
    WrongPin,

    /// An operation that reads or writes personal data ran before `unlock`.
    #[error("the store is locked: unlock it with the enumerator's PIN first")]
    Locked,

    /// The store's data key is also wrapped by a platform key (Android Keystore) that this
    /// app was not given, or that the platform refused to use.
    #[error(
        "the store's key is also held by the device's secure key store ({name}), which is \
         not available ({reason}); open the store on the device it was made on"
    )]
    ProtectorMissing {
        /// The protector named in the keyring row.
        name: String,
        /// Why it could not be used.
        reason: String,
    },

    /// `unlock` or `change_pin` was called before a PIN was ever set.
    #[error("no PIN has been set on this store yet: set one up first")]
    NoKey,

    /// `set_up_pin` was called on a store that already has a key.
    #[error("this store already has a PIN; use change_pin to change it")]
    KeyAlreadySet,

    /// A ciphertext failed authentication: the row was altered, moved to
    /// another row, or damaged on disk.
    #[error("encrypted data failed its integrity check ({0}): the file was altered or damaged")]
    Tampered(String),

    /// A record the caller named does not exist.
    #[error("no {what} with id {id}")]
    NotFound {
        /// The kind of record.
        what: &'static str,
        /// The id asked for.
        id: String,
    },

    /// The operation does not fit the record's current state (for example an
    /// answer for an interview that is already completed).
    #[error("{0}")]
    InvalidState(String),

    /// The caller passed something the store cannot accept.
    #[error("invalid input: {0}")]
    InvalidInput(String),

    /// A batch in the outbox does not match the length and digest recorded
    /// when it was sealed (for example truncated by a disk fault). It was not
    /// changed; it must be sealed again from the interviews.
    #[error(
        "outbox batch {sequence} is damaged ({reason}); it was kept as is and must be sealed again"
    )]
    CorruptBatch {
        /// The batch's sequence number.
        sequence: u64,
        /// What does not match.
        reason: String,
    },

    /// The sealing callback given to `enqueue_batch` failed; nothing was queued.
    #[error("sealing the batch failed: {0}")]
    Seal(String),

    /// A schema migration failed; the store is still at its previous version.
    #[error("upgrading the store failed, it is unchanged: {0}")]
    Migration(rusqlite_migration::Error),

    /// Any other SQLite error.
    #[error("database error: {0}")]
    Database(rusqlite::Error),

    /// A file-system error outside SQLite (reading the file header).
    #[error("file error: {0}")]
    Io(#[from] std::io::Error),
}

impl From<rusqlite::Error> for StoreError {
    /// Sort SQLite's errors into the cases a person handles differently.
    fn from(e: rusqlite::Error) -> Self {
        use rusqlite::ErrorCode;
        match e.sqlite_error_code() {
            Some(ErrorCode::DiskFull) => StoreError::StorageFull,
            Some(ErrorCode::DatabaseCorrupt) | Some(ErrorCode::NotADatabase) => {
                StoreError::Damaged(e.to_string())
            }
            _ => StoreError::Database(e),
        }
    }
}

impl From<rusqlite_migration::Error> for StoreError {
    /// A full disk during an upgrade is still a full disk.
    fn from(e: rusqlite_migration::Error) -> Self {
        match e {
            rusqlite_migration::Error::RusqliteError { err, .. }
                if err.sqlite_error_code() == Some(rusqlite::ErrorCode::DiskFull) =>
            {
                StoreError::StorageFull
            }
            other => StoreError::Migration(other),
        }
    }
}

impl From<serde_json::Error> for StoreError {
    fn from(e: serde_json::Error) -> Self {
        StoreError::Damaged(format!("a stored JSON value does not parse: {e}"))
    }
}

/// Shorthand for results of store operations.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;
