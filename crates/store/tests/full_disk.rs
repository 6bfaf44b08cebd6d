//! A full disk gives `StorageFull` and leaves what was saved intact.
//!
//! As root the test mounts a 1 MiB tmpfs (a real full file system, WAL and
//! all); elsewhere it falls back to SQLite's `max_page_count` quota.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{PIN, VERSION, fixture};
use fieldpost_store::{Store, StoreError};
use serde_json::json;

/// A small mounted tmpfs, unmounted on drop.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(dir: &Path) -> Option<Tmpfs> {
        let at = dir.join("small");
        std::fs::create_dir_all(&at).ok()?;
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=1m", "tmpfs"])
            .arg(&at)
            .status()
            .is_ok_and(|s| s.success());
        ok.then_some(Tmpfs(at))
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

#[test]
fn full_file_system_is_a_clear_error_and_saved_answers_survive() {
    let dir = tempfile::tempdir().unwrap();
    let tmpfs = Tmpfs::mount(dir.path());
    let path = match &tmpfs {
        Some(t) => t.0.join("d.db"),
        None => dir.path().join("d.db"),
    };
    eprintln!(
        "full-disk test on {}",
        if tmpfs.is_some() {
            "a 1 MiB tmpfs"
        } else {
            "max_page_count (mounting a tmpfs needs root)"
        }
    );
    fill_and_check(&path, tmpfs.is_none());
}

#[test]
fn storage_quota_is_a_clear_error_and_saved_answers_survive() {
    let dir = tempfile::tempdir().unwrap();
    fill_and_check(&dir.path().join("d.db"), true);
}

/// Autosave until the store refuses, then check the error and every saved answer.
fn fill_and_check(path: &Path, quota: bool) {
    let mut f = fixture(path);
    if quota {
        f.store.set_max_pages(120).unwrap();
    }
    let i = f
        .store
        .start_or_resume(f.officials[0].id, VERSION, "e")
        .unwrap()
        .id;
    let filler = "x".repeat(2000);
    let mut saved = Vec::new();
    let mut error = None;
    for n in 0..2000 {
        let path = format!("q{n}");
        match f
            .store
            .set_answer(i, &path, &json!(format!("{n}-{filler}")))
        {
            Ok(()) => saved.push((path, n)),
            Err(e) => {
                error = Some(e);
                break;
            }
        }
    }
    let error = error.expect("the disk never filled up");
    assert!(matches!(error, StoreError::StorageFull), "{error}");
    assert!(error.to_string().contains("storage is full"));
    assert!(saved.len() > 10, "some answers fit before the disk filled");

    // Still full: reads work, every saved answer is there.
    let answers = f.store.answers(i).unwrap();
    assert_eq!(answers.len(), saved.len());
    drop(f);
    let mut store = Store::open(path).unwrap();
    store.unlock(PIN).unwrap();
    store.integrity_check().unwrap();
    let answers = store.answers(i).unwrap();
    assert_eq!(
        answers.len(),
        saved.len(),
        "nothing saved was lost after reopening"
    );
    for (path, n) in &saved {
        let a = answers.iter().find(|a| &a.path == path).unwrap();
        assert_eq!(a.value, json!(format!("{n}-{filler}")));
    }
}
