//! Upload of the outbox to the collection server: exactly once, whatever the network does.
//!
//! Decide purely, then act: [`plan`] holds every decision (order, retry or give up, backoff,
//! batch size, progress) as functions without I/O, tested on their own; [`client`] runs them
//! against the server (reqwest) and the device store. The invariant both keep: a batch leaves
//! the outbox's pending set only on an acknowledgement for its exact bytes, and nothing is ever
//! deleted here.

pub mod client;
pub mod plan;
pub(crate) mod run;
pub mod simulate;

pub use client::{Outbox, SyncClient, SyncError, SyncReport};
pub use plan::{Backoff, BatchSizer, Queued, SyncProgress, UploadOutcome};
