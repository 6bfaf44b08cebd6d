//! Group commit on SQLite: concurrent uploads share one transaction and one fsync.
//!
//! Why: SQLite has one writer, and with `synchronous = FULL` every commit waits for an fsync of
//! the WAL (3-6 ms on the test machine's disk), so committing each batch in its own transaction
//! caps ingest at a few hundred batches a second however many devices upload at once. Here the
//! upload threads hand their verified batch to one committer thread over a channel; it takes
//! every batch that is waiting (up to [`MAX_GROUP`]), writes them in ONE transaction with a
//! SAVEPOINT per batch, commits once, and only then answers each upload. So:
//! - each batch is isolated: one that fails its checks is rolled back to its savepoint and gets
//!   its own error, and the others in the group commit as if it had never been there;
//! - a batch is acknowledged only after the commit that holds it is durable (the archive was
//!   synced by the upload thread before the batch was handed over);
//! - exactly-once holds as before: the batches of a group are written one after the other in
//!   the same transaction, so a batch sees the rows of those before it (a repeat of the same
//!   (device, sequence) in one group gets the first one's acknowledgement);
//! - a failed commit (disk full, I/O error) fails every batch of the group as internal errors:
//!   nothing was acknowledged, the devices keep their batches and retry.
//!
//! With one upload at a time the group is that one batch, committed at once: nothing waits for
//! a group to fill. PostgreSQL does not go through here: its batches commit on their own pooled
//! connections, and PostgreSQL groups concurrent WAL flushes itself.

use super::{BatchCommit, CommitOutcome, Result, Storage, StorageError};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

/// Most batches in one transaction: a bound on the latency a group adds to its first batch
/// (each batch is a few ms of inserts at most) and on the transaction's size.
pub const MAX_GROUP: usize = 64;

/// Uploads waiting for the committer at most; beyond, an upload waits to hand its batch over
/// (back-pressure rather than unbounded memory).
const QUEUE: usize = 1024;

struct Job {
    batch: BatchCommit,
    reply: SyncSender<Result<CommitOutcome>>,
}

/// The handle uploads commit through; dropping the last one stops the committer thread.
pub(crate) struct Committer {
    jobs: SyncSender<Job>,
}

impl Committer {
    /// Starts the committer thread over `storage` (which must not itself group, or its
    /// commits would come back here).
    pub(crate) fn start(storage: Storage) -> std::io::Result<Arc<Self>> {
        let (tx, rx) = sync_channel(QUEUE);
        std::thread::Builder::new()
            .name("sqlite-group-commit".into())
            .spawn(move || run(storage, rx))?;
        Ok(Arc::new(Self { jobs: tx }))
    }

    /// Commits `batch` in the next group; returns once that group's transaction is durable.
    pub(crate) fn commit(&self, batch: BatchCommit) -> Result<CommitOutcome> {
        let (reply, answer) = sync_channel(1);
        self.jobs.send(Job { batch, reply }).map_err(|_| gone())?;
        answer.recv().map_err(|_| gone())?
    }
}

fn gone() -> StorageError {
    StorageError::CommitFailed("the commit thread stopped; restart the server".into())
}

fn run(storage: Storage, rx: Receiver<Job>) {
    // Ends when every sender is gone (the server's storage was dropped).
    while let Ok(first) = rx.recv() {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match rx.try_recv() {
                Ok(j) => group.push(j),
                Err(_) => break,
            }
        }
        let batches: Vec<&BatchCommit> = group.iter().map(|j| &j.batch).collect();
        match storage.commit_group(&batches) {
            Ok(outcomes) => {
                for (job, outcome) in group.iter().zip(outcomes) {
                    // An upload that gave up (its connection closed) is not waiting: fine.
                    let _ = job.reply.send(outcome);
                }
            }
            Err(e) => {
                tracing::error!(batches = group.len(), error = %e, "group commit failed");
                let message = e.to_string();
                for job in &group {
                    let _ = job
                        .reply
                        .send(Err(StorageError::CommitFailed(message.clone())));
                }
            }
        }
    }
}
