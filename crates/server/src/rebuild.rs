//! `fieldpost rebuild --from-archive`: the database's ingested data, rebuilt from the archive.
//!
//! Surveys, accounts, assignments and questionnaires are set-up data that the admin loaded (keep
//! a backup of them, or load them again); devices come back from the archive's enrolment
//! records and revocations (so a database restored from a backup older than a revocation does
//! not accept the revoked device again); batches, interviews and incidents are replayed from the archived bytes in arrival
//! order, through the same ingest code as uploads. Replaying gives the same result as the
//! original arrivals: duplicates are no-ops, conflicts and rejections are recorded again.

use crate::ingest::{Ingest, Source};
use crate::storage::{Device, StorageError};
use std::collections::BTreeMap;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum RebuildError {
    #[error(transparent)]
    Archive(#[from] crate::archive::ArchiveError),
    #[error("database: {0}")]
    Storage(#[from] StorageError),
    #[error(
        "device {device} in the archive belongs to survey {survey} or account {account}, which the \
         database lacks; load the survey set-up (surveys, accounts, sample) first, then rebuild"
    )]
    MissingSetup {
        device: uuid::Uuid,
        survey: uuid::Uuid,
        account: uuid::Uuid,
    },
    #[error("archived batch {path}: {source}")]
    Read {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
}

/// What a rebuild did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RebuildReport {
    pub devices: u64,
    /// Revocations found in the archive (each applied unless the database already had it).
    pub revocations: u64,
    pub batches_read: u64,
    pub acknowledged: u64,
    /// Rejections by error code (as they were when the batches first arrived).
    pub rejected: BTreeMap<String, u64>,
}

pub fn rebuild(ingest: &Ingest) -> Result<RebuildReport, RebuildError> {
    let mut report = RebuildReport::default();
    for rec in ingest.archive.devices()? {
        let device = Device {
            id: rec.device_id,
            survey_id: rec.survey_id,
            account_id: rec.account_id,
            public_key: rec.public_key.clone(),
            enrolled_at: rec.enrolled_at,
            revoked_at: None,
        };
        match ingest.storage.restore_device(&device, &rec.token_hash) {
            Ok(()) => report.devices += 1,
            Err(StorageError::Db(e)) if e.to_string().to_lowercase().contains("foreign key") => {
                return Err(RebuildError::MissingSetup {
                    device: rec.device_id,
                    survey: rec.survey_id,
                    account: rec.account_id,
                });
            }
            Err(e) => return Err(e.into()),
        }
    }
    for rec in ingest.archive.revocations()? {
        // Unknown devices (none in the archive's enrolments either) are skipped by the update.
        ingest
            .storage
            .revoke_device(rec.device_id, rec.revoked_at)?;
        report.revocations += 1;
    }
    ingest.storage.reset_ingest()?;
    for path in ingest.archive.batches()? {
        let bytes = std::fs::read(&path).map_err(|source| RebuildError::Read {
            path: path.clone(),
            source,
        })?;
        report.batches_read += 1;
        match ingest.ingest(&bytes, Source::Archive) {
            Ok(_) => report.acknowledged += 1,
            Err(r) => {
                *report
                    .rejected
                    .entry(r.code.as_str().to_string())
                    .or_default() += 1
            }
        }
    }
    Ok(report)
}
