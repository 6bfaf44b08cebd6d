//! Opening a store: create, reopen, refuse foreign or newer files untouched.

use fieldpost_store::{Store, StoreError, schema};

#[test]
fn open_creates_and_reopens_at_latest_schema() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("device.db");
    let store = Store::open(&path).unwrap();
    assert_eq!(store.schema_version().unwrap(), schema::LATEST_VERSION);
    assert_eq!(store.path(), path.as_path());
    let device = store.device_id();
    drop(store);
    let again = Store::open(&path).unwrap();
    assert_eq!(again.device_id(), device, "device id must persist");
    again.integrity_check().unwrap();
}

#[test]
fn foreign_file_is_refused_and_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes.db");
    let bytes = b"these are someone's notes, not a database".repeat(100);
    std::fs::write(&path, &bytes).unwrap();
    let err = Store::open(&path).unwrap_err();
    assert!(matches!(err, StoreError::NotAStore { .. }), "{err}");
    assert_eq!(std::fs::read(&path).unwrap(), bytes);
}
