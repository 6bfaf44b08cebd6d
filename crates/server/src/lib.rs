//! fieldpost-server: the collection server.
//!
//! Devices enrol with a one-time code and their Ed25519 key, download their assignments, the
//! questionnaire and the recipients' keys, and upload sealed batches; the server verifies each
//! batch, archives it durably, decrypts, checks and stores its interviews exactly once, and
//! acknowledges. People sign in with roles (admin, coordinator of a province, recheck team,
//! enumerator). Storage is SQLite (one file, the default) or PostgreSQL behind one trait.
//!
//! Not here: the HTTP client (the app core's `sync` module), the batch format (`fieldpost-seal`).

pub mod answers;
pub mod archive;
pub mod auth;
pub mod cli;
pub mod db;
pub mod demo;
pub mod http;
pub mod identity;
pub mod ingest;
pub mod logging;
pub mod questionnaire;
pub mod rebuild;
pub mod sample;
pub mod serve;
pub mod storage;
pub mod throttle;
pub mod tls;
