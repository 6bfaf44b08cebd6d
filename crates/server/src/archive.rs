//! The append-only archive of raw batches: what was received, byte for byte, in arrival order.
//!
//! Every batch that passes the device checks is written here and fsynced *before* it is
//! decrypted or written to the database, so the database can always be rebuilt from the archive
//! (`fieldpost rebuild --from-archive`), and a survey owner can open the archive offline with the
//! escrow key. Layout:
//!
//! ```text
//! <root>/batches/<YYYY-MM-DD>/<arrival UUIDv7>.fpb   one sealed batch, exactly as uploaded
//! <root>/devices/<device id>.json                     one enrolment (id, survey, account, key)
//! <root>/revocations/<device id>.json                 one revocation (device, when)
//! ```
//!
//! A revocation is archived before the database records it: a rebuild must never bring a
//! revoked device back to life (its later batches would be accepted again).
//!
//! One file per batch rather than segment files: a torn write can only lose the file being
//! written (written under a temporary name, fsynced, renamed, the folder fsynced), files are
//! never rewritten, and backup is a plain `rsync`. File names are UUIDv7, so name order is
//! arrival order, which rebuild replays.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use thiserror::Error;
use uuid::Uuid;

#[derive(Debug, Error)]
pub enum ArchiveError {
    #[error("archive {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("archive device record {path} is unreadable: {reason}")]
    Record { path: PathBuf, reason: String },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> ArchiveError + '_ {
    move |source| ArchiveError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// An enrolment, kept so that a rebuild knows every device's key even from an empty database.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceRecord {
    pub device_id: Uuid,
    pub survey_id: Uuid,
    pub account_id: Uuid,
    pub public_key: String,
    pub token_hash: String,
    pub enrolled_at: DateTime<Utc>,
}

/// A device revocation: from `revoked_at` on, the device's uploads are refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevocationRecord {
    pub device_id: Uuid,
    pub revoked_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct Archive {
    root: PathBuf,
}

impl Archive {
    /// Opens (creating when absent) the archive folder.
    pub fn open(root: &Path) -> Result<Self, ArchiveError> {
        for sub in ["batches", "devices", "revocations"] {
            let p = root.join(sub);
            fs::create_dir_all(&p).map_err(io(&p))?;
        }
        Ok(Self {
            root: root.to_path_buf(),
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Appends one batch durably; returns its path.
    pub fn append_batch(&self, bytes: &[u8]) -> Result<PathBuf, ArchiveError> {
        let now = Utc::now();
        let day = self
            .root
            .join("batches")
            .join(now.format("%Y-%m-%d").to_string());
        if !day.is_dir() {
            fs::create_dir_all(&day).map_err(io(&day))?;
            sync_dir(day.parent().unwrap_or(&self.root))?;
        }
        let path = day.join(format!("{}.fpb", Uuid::now_v7()));
        write_durably(&path, bytes)?;
        Ok(path)
    }

    pub fn record_device(&self, rec: &DeviceRecord) -> Result<(), ArchiveError> {
        let path = self
            .root
            .join("devices")
            .join(format!("{}.json", rec.device_id));
        let json = serde_json::to_vec_pretty(rec).map_err(|e| ArchiveError::Record {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        write_durably(&path, &json)
    }

    pub fn devices(&self) -> Result<Vec<DeviceRecord>, ArchiveError> {
        read_records(&self.root.join("devices"))
    }

    /// Records a revocation durably. A device is revoked once: a second record for the same
    /// device is not written (the first time stands), so the file is never rewritten.
    pub fn record_revocation(&self, rec: &RevocationRecord) -> Result<(), ArchiveError> {
        let path = self
            .root
            .join("revocations")
            .join(format!("{}.json", rec.device_id));
        if path.exists() {
            return Ok(());
        }
        let json = serde_json::to_vec_pretty(rec).map_err(|e| ArchiveError::Record {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        write_durably(&path, &json)
    }

    pub fn revocations(&self) -> Result<Vec<RevocationRecord>, ArchiveError> {
        read_records(&self.root.join("revocations"))
    }

    /// Every archived batch file, in arrival order.
    pub fn batches(&self) -> Result<Vec<PathBuf>, ArchiveError> {
        let dir = self.root.join("batches");
        let mut days = Vec::new();
        for entry in fs::read_dir(&dir).map_err(io(&dir))? {
            let entry = entry.map_err(io(&dir))?;
            if entry.path().is_dir() {
                days.push(entry.path());
            }
        }
        days.sort();
        let mut out = Vec::new();
        for day in days {
            out.extend(sorted_files(&day, "fpb")?);
        }
        Ok(out)
    }
}

fn read_records<T: serde::de::DeserializeOwned>(dir: &Path) -> Result<Vec<T>, ArchiveError> {
    // An archive made before this kind of record existed has no folder for it: no records.
    if !dir.is_dir() {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    for path in sorted_files(dir, "json")? {
        let bytes = fs::read(&path).map_err(io(&path))?;
        let rec = serde_json::from_slice(&bytes).map_err(|e| ArchiveError::Record {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        out.push(rec);
    }
    Ok(out)
}

fn sorted_files(dir: &Path, ext: &str) -> Result<Vec<PathBuf>, ArchiveError> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).map_err(io(dir))? {
        let path = entry.map_err(io(dir))?.path();
        if path.extension().is_some_and(|e| e == ext) {
            out.push(path);
        }
    }
    out.sort();
    Ok(out)
}

/// Temporary name, write, fsync, rename, fsync the folder: after this returns, the file is
/// complete on disk under its final name, or (after a crash during the call) absent.
fn write_durably(path: &Path, bytes: &[u8]) -> Result<(), ArchiveError> {
    let tmp = path.with_extension("partial");
    let mut f = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(&tmp)
        .map_err(io(&tmp))?;
    f.write_all(bytes).map_err(io(&tmp))?;
    f.sync_all().map_err(io(&tmp))?;
    drop(f);
    fs::rename(&tmp, path).map_err(io(path))?;
    sync_dir(path.parent().unwrap_or(Path::new(".")))
}

fn sync_dir(dir: &Path) -> Result<(), ArchiveError> {
    File::open(dir).and_then(|d| d.sync_all()).map_err(io(dir))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_come_back_in_arrival_order_and_byte_for_byte() {
        let dir = tempfile::tempdir().expect("temp dir");
        let a = Archive::open(dir.path()).expect("opens");
        let bodies: Vec<Vec<u8>> = (0..20u8).map(|i| vec![i; 10 + i as usize]).collect();
        for b in &bodies {
            a.append_batch(b).expect("appends");
        }
        let files = Archive::open(dir.path())
            .expect("reopens")
            .batches()
            .expect("lists");
        let read: Vec<Vec<u8>> = files.iter().map(|p| fs::read(p).expect("reads")).collect();
        assert_eq!(read, bodies);
    }

    #[test]
    fn a_revocation_is_kept_once_with_its_first_time() {
        let dir = tempfile::tempdir().expect("temp dir");
        let a = Archive::open(dir.path()).expect("opens");
        let first = RevocationRecord {
            device_id: Uuid::now_v7(),
            revoked_at: Utc::now(),
        };
        a.record_revocation(&first).expect("records");
        let later = RevocationRecord {
            revoked_at: first.revoked_at + chrono::Duration::hours(1),
            ..first.clone()
        };
        a.record_revocation(&later).expect("a repeat is accepted");
        assert_eq!(a.revocations().expect("lists"), vec![first]);
    }

    #[test]
    fn a_partial_file_from_a_crash_is_not_listed() {
        let dir = tempfile::tempdir().expect("temp dir");
        let a = Archive::open(dir.path()).expect("opens");
        a.append_batch(b"whole").expect("appends");
        let day = a.batches().expect("lists")[0]
            .parent()
            .expect("day")
            .to_path_buf();
        fs::write(day.join("crashed.partial"), b"half").expect("writes");
        assert_eq!(a.batches().expect("lists").len(), 1);
    }
}
