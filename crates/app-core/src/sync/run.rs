//! The app's sync command: seal what is finished, upload, remember the outcome for the sync
//! screen, purge what the server has had long enough, fetch new assignments.

use crate::device::{self, keys};
use crate::{batch, block_on, error};
use fieldpost_proto::app::{CommandError, ErrorCode, HeldInterview, SyncProgress, SyncStatus};
use fieldpost_store::{BatchState, Store};
use std::time::Duration;

pub(crate) fn run(
    store: &mut Store,
    mut progress: impl FnMut(SyncProgress),
) -> Result<(), CommandError> {
    let creds = device::credentials(store)?;
    // The batch size learnt from the last sync's uploads (25 at first: small enough to get
    // through a weak link in one request).
    let size = store
        .setting(keys::BATCH_SIZE)
        .map_err(error::store)?
        .and_then(|s| s.parse().ok())
        .unwrap_or(25);
    let mut client = super::SyncClient::new(&creds.url, &creds.token, creds.server_key)
        .map_err(|e| match e {
            super::SyncError::InsecureServerUrl(u) => crate::server::url_error(u),
            other => CommandError::new(ErrorCode::InvalidServerUrl, other.to_string()),
        })?
        .with_batch_sizer(super::BatchSizer::new(size, 1, 200, Duration::from_secs(5)));
    // The enumerator is waiting with the sync screen open: a few quick tries, then a clear
    // message and a retry button, rather than minutes of silent backoff.
    client.backoff = super::Backoff {
        base: Duration::from_millis(300),
        max: Duration::from_secs(3),
        max_attempts: 3,
    };
    // The keys first, so a key HQ added since the last sync is in the batches sealed now. With
    // no signal the stored (signed, encrypted) list serves: the upload cannot happen anyway.
    match block_on(device::refresh_recipients(store))? {
        Err(e) if e.code == ErrorCode::ServerUnreachable => {}
        other => other?,
    }
    // Interviews held after a refusal go again once the keys or questionnaires have changed.
    let context = device::refusal_context(store)?;
    store.release_held(&context).map_err(error::store)?;
    let sealer = batch::Sealer::from_store(store)?;
    let current_keys = sealer.key_ids();
    // A refused batch of several interviews is split and its interviews sent again at once,
    // each alone; a second round settles which of them the server refuses on their own.
    for _round in 0..3 {
        sealer.seal_pending(store, client.batch_size())?;
        let report = block_on(client.sync(store, |p| {
            progress(SyncProgress {
                batches_done: p.batches_done,
                batches_total: p.batches_total,
                bytes_done: p.bytes_done,
                bytes_total: p.bytes_total,
            })
        }))?
        .map_err(|e| CommandError::new(ErrorCode::Internal, e.to_string()))?;
        store
            .set_setting(keys::BATCH_SIZE, Some(&report.batch_size.to_string()))
            .map_err(error::store)?;
        for (sequence, _code) in &report.rejected {
            settle_refusal(store, *sequence, &current_keys, &context)?;
        }
        if let Some(why) = report.interrupted {
            let code = if why.contains("revoked") {
                ErrorCode::DeviceRevoked
            } else if report.untrusted > 0 {
                ErrorCode::ServerNotTrusted
            } else {
                ErrorCode::ServerUnreachable
            };
            return Err(CommandError::new(code, why));
        }
        if report.rejected.is_empty() {
            break;
        }
    }
    // Personal data leaves the device once the server has had it for the retention window.
    let days = store
        .setting(keys::RETENTION_DAYS)
        .map_err(error::store)?
        .and_then(|d| d.parse().ok())
        .unwrap_or(DEFAULT_RETENTION_DAYS);
    store
        .purge_acknowledged(chrono::Duration::days(days))
        .map_err(error::store)?;
    block_on(device::refresh(store))?
}

/// After the server refused batch `sequence` for good (the store already took it out of the
/// queue): hold its interview, or leave its interviews to be sealed again (see
/// [`super::plan::after_refusal`]).
fn settle_refusal(
    store: &mut Store,
    sequence: u64,
    current_keys: &[String],
    context: &str,
) -> Result<(), CommandError> {
    let Some(batch) = store
        .outbox()
        .map_err(error::store)?
        .into_iter()
        .find(|b| b.sequence == sequence)
    else {
        return Ok(());
    };
    let code = batch.refused.clone().unwrap_or_default();
    let sealed_to_current = store
        .batch_bytes(sequence)
        .ok()
        .and_then(|b| fieldpost_seal::peek_header(&b).ok())
        .map(|h| {
            let mut ids = h.recipients.clone();
            ids.sort();
            ids == current_keys
        })
        .unwrap_or(true);
    if super::plan::after_refusal(batch.interview_ids.len(), sealed_to_current)
        == super::plan::AfterRefusal::Hold
    {
        for id in &batch.interview_ids {
            store
                .hold_interview(*id, &code, context)
                .map_err(error::store)?;
        }
    }
    Ok(())
}

/// Days an acknowledged interview's answers stay on the device (for the enumerator to look
/// back, and for a recheck visit) before they are purged; the `retention_days` setting
/// overrides it.
pub const DEFAULT_RETENTION_DAYS: i64 = 14;

pub(crate) fn status(store: &Store) -> Result<SyncStatus, CommandError> {
    let unbatched = store.unbatched_interviews().map_err(error::store)?.len()
        + store.refused_interviews().map_err(error::store)?.len();
    let held_rows = store.held_interviews().map_err(error::store)?;
    let (mut pending, mut acked) = (unbatched as u32 + held_rows.len() as u32, 0u32);
    for b in store.outbox().map_err(error::store)? {
        if b.refused.is_some() {
            continue;
        }
        let n = b.interview_ids.len() as u32;
        if b.state == BatchState::Acknowledged {
            acked += n;
        } else {
            pending += n;
        }
    }
    Ok(SyncStatus {
        pending_interviews: pending,
        acknowledged_interviews: acked,
        last_success: store
            .setting(keys::LAST_SYNC_OK)
            .map_err(error::store)?
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(&t).ok())
            .map(|t| t.with_timezone(&chrono::Utc)),
        last_error: store
            .setting(keys::LAST_SYNC_ERROR)
            .map_err(error::store)?
            .and_then(|t| serde_json::from_str(&t).ok()),
        server_url: store.setting(keys::SERVER_URL).map_err(error::store)?,
        held: held(store, held_rows)?,
    })
}

/// The held interviews as the sync screen lists them: the household and the server's reason.
fn held(
    store: &Store,
    rows: Vec<fieldpost_store::HeldInterview>,
) -> Result<Vec<HeldInterview>, CommandError> {
    rows.into_iter()
        .map(|h| {
            let iv = store.interview(h.interview_id).map_err(error::store)?;
            let a = store.assignment(iv.assignment_id).map_err(error::store)?;
            Ok(HeldInterview {
                interview_id: h.interview_id,
                assignment_id: iv.assignment_id,
                household: a.personal.name.clone(),
                reason: h.code,
                since: h.since,
            })
        })
        .collect()
}
