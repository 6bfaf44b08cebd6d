//! The app's sync command: seal what is finished, upload, remember the outcome for the sync
//! screen, purge what the server has had long enough, fetch new assignments.

use crate::device::{self, keys};
use crate::{batch, block_on, error};
use fieldpost_proto::app::{CommandError, ErrorCode, SyncProgress, SyncStatus};
use fieldpost_store::{BatchState, Store};
use std::time::Duration;

pub(crate) fn run(
    store: &mut Store,
    mut progress: impl FnMut(SyncProgress),
) -> Result<(), CommandError> {
    let (url, token) = device::credentials(store)?;
    // The batch size learnt from the last sync's uploads (25 at first: small enough to get
    // through a weak link in one request).
    let size = store
        .setting(keys::BATCH_SIZE)
        .map_err(error::store)?
        .and_then(|s| s.parse().ok())
        .unwrap_or(25);
    let mut client = super::SyncClient::new(&url, &token)
        .map_err(|e| CommandError::new(ErrorCode::InvalidServerUrl, e.to_string()))?
        .with_batch_sizer(super::BatchSizer::new(size, 1, 200, Duration::from_secs(5)));
    batch::Sealer::from_store(store)?.seal_pending(store, client.batch_size())?;
    // The enumerator is waiting with the sync screen open: a few quick tries, then a clear
    // message and a retry button, rather than minutes of silent backoff.
    client.backoff = super::Backoff {
        base: Duration::from_millis(300),
        max: Duration::from_secs(3),
        max_attempts: 3,
    };
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
    if let Some(why) = report.interrupted {
        let code = if why.contains("revoked") {
            ErrorCode::DeviceRevoked
        } else {
            ErrorCode::ServerUnreachable
        };
        return Err(CommandError::new(code, why));
    }
    if !report.rejected.is_empty() {
        return Err(CommandError::new(
            ErrorCode::ServerError,
            format!("the server refused batches: {:?}", report.rejected),
        ));
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

/// Days an acknowledged interview's answers stay on the device (for the enumerator to look
/// back, and for a recheck visit) before they are purged; the `retention_days` setting
/// overrides it.
pub const DEFAULT_RETENTION_DAYS: i64 = 14;

pub(crate) fn status(store: &Store) -> Result<SyncStatus, CommandError> {
    let unbatched = store.unbatched_interviews().map_err(error::store)?.len() as u32;
    let (mut pending, mut acked) = (unbatched, 0u32);
    for b in store.outbox().map_err(error::store)? {
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
    })
}
