//! The enumerator app's core: every command the UI can call, as an ordinary Rust function.
//!
//! The Tauri shell (`src-tauri`) registers these functions as IPC commands and does nothing else;
//! tests call them directly; a browser test reaches them through an HTTP bridge. Keeping the
//! commands here, not in the shell, is what lets all three exercise the same code.
//!
//! Commands return [`CommandError`] (a stable code plus technical detail) so the UI can show a
//! sentence in the user's language instead of a Rust error string.

pub mod sync;

use fieldpost_proto::app::{CommandError, ErrorCode, StoreInfo};
use std::path::{Path, PathBuf};

/// File name of the device store inside the app's data folder.
pub const STORE_FILE: &str = "fieldpost.sqlite";

/// State shared by all commands of one running app.
#[derive(Debug, Clone)]
pub struct AppCore {
    data_dir: PathBuf,
}

impl AppCore {
    /// `data_dir` is the platform's app-data folder (Tauri's `app_data_dir`), or a test folder.
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        Self {
            data_dir: data_dir.into(),
        }
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// Opens the device store (creating the folder and file, and migrating, when needed) and
    /// reports its schema version and location.
    pub fn store_info(&self) -> Result<StoreInfo, CommandError> {
        std::fs::create_dir_all(&self.data_dir).map_err(|e| CommandError {
            code: ErrorCode::DataDirUnavailable,
            detail: format!("{}: {e}", self.data_dir.display()),
        })?;
        let path = self.data_dir.join(STORE_FILE);
        let store = fieldpost_store::Store::open(&path).map_err(store_error)?;
        Ok(StoreInfo {
            schema_version: store.schema_version().map_err(store_error)?,
            path: store.path().display().to_string(),
        })
    }
}

fn store_error(e: fieldpost_store::StoreError) -> CommandError {
    CommandError {
        code: ErrorCode::StoreUnavailable,
        detail: e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_info_creates_the_store_in_the_data_folder() {
        let dir = tempfile::tempdir().expect("temp dir");
        let core = AppCore::new(dir.path().join("nested").join("app"));
        let info = core.store_info().expect("store opens");
        assert!(info.schema_version >= 1);
        assert!(info.path.ends_with(STORE_FILE));
        assert!(
            Path::new(&info.path).is_file(),
            "the SQLite file exists on disk"
        );
        // Opening again is idempotent: same version, same file.
        assert_eq!(core.store_info().expect("reopens"), info);
    }

    #[test]
    fn an_unusable_data_folder_is_a_clear_error() {
        let dir = tempfile::tempdir().expect("temp dir");
        let file = dir.path().join("not-a-folder");
        std::fs::write(&file, b"x").expect("write");
        let err = AppCore::new(&file)
            .store_info()
            .expect_err("a file is not a folder");
        assert_eq!(err.code, ErrorCode::DataDirUnavailable);
    }

    #[test]
    fn a_foreign_file_in_place_of_the_store_is_reported_not_overwritten() {
        let dir = tempfile::tempdir().expect("temp dir");
        let junk = b"this is not a SQLite database, and it must survive".repeat(100);
        std::fs::write(dir.path().join(STORE_FILE), &junk).expect("write");
        let err = AppCore::new(dir.path())
            .store_info()
            .expect_err("not a store");
        assert_eq!(err.code, ErrorCode::StoreUnavailable);
        assert_eq!(
            std::fs::read(dir.path().join(STORE_FILE)).expect("read"),
            junk
        );
    }
}
