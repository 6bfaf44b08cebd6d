//! Starting the server: open the database and the archive, load keys, seed the demo, listen.

use crate::archive::{Archive, ArchiveError};
use crate::demo;
use crate::http::{AppState, router};
use crate::ingest::Ingest;
use crate::storage::{Storage, StorageError};
use fieldpost_seal::Identity;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use thiserror::Error;

/// What `fieldpost serve` needs.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// Database URL: a SQLite path (or `sqlite://PATH`), or `postgres://...`.
    pub db: String,
    pub listen: SocketAddr,
    /// Folder for the archive and keys; see [`data_dir_for`].
    pub data_dir: Option<PathBuf>,
    /// Age identity files (server recipient keys) to decrypt batches with.
    pub identities: Vec<PathBuf>,
    /// Seed a demonstration survey (SIPAS questionnaire, two provinces, accounts) when absent.
    pub demo: bool,
    /// Where the shipped assets are (questionnaire, code lists), for `--demo`.
    pub assets: Option<PathBuf>,
}

#[derive(Debug, Error)]
pub enum ServeError {
    #[error("database: {0}")]
    Storage(#[from] StorageError),
    #[error(transparent)]
    Archive(#[from] ArchiveError),
    #[error("a PostgreSQL server needs --data-dir (where the batch archive and keys live)")]
    NoDataDir,
    #[error("identity file {path}: {reason}")]
    Identity { path: PathBuf, reason: String },
    #[error("demo seeding: {0}")]
    Demo(String),
    #[error("cannot listen on {addr}: {source}; is another server using the port?")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("the server stopped: {0}")]
    Io(#[from] std::io::Error),
}

/// The data folder: as given, or for SQLite `<db file>.data` next to the database file.
pub fn data_dir_for(db: &str, given: Option<&Path>) -> Result<PathBuf, ServeError> {
    if let Some(d) = given {
        return Ok(d.to_path_buf());
    }
    if db.starts_with("postgres://") || db.starts_with("postgresql://") {
        return Err(ServeError::NoDataDir);
    }
    let path = db.strip_prefix("sqlite://").unwrap_or(db);
    Ok(PathBuf::from(format!("{path}.data")))
}

/// The archive folder inside a data folder.
pub fn archive_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("archive")
}

/// The server identity file `--demo` writes, loaded automatically when present.
pub fn server_identity_path(data_dir: &Path) -> PathBuf {
    data_dir.join("server-identity.txt")
}

pub fn load_identities(files: &[PathBuf], data_dir: &Path) -> Result<Vec<Identity>, ServeError> {
    let mut paths: Vec<PathBuf> = files.to_vec();
    let default = server_identity_path(data_dir);
    if default.is_file() && !paths.contains(&default) {
        paths.push(default);
    }
    paths
        .iter()
        .map(|p| {
            let text = std::fs::read_to_string(p).map_err(|e| ServeError::Identity {
                path: p.clone(),
                reason: e.to_string(),
            })?;
            Identity::from_file_text(&text).map_err(|e| ServeError::Identity {
                path: p.clone(),
                reason: e.to_string(),
            })
        })
        .collect()
}

/// Opens everything the server needs, without listening (also used by `rebuild`).
pub fn open(
    db: &str,
    data_dir: Option<&Path>,
    identities: &[PathBuf],
) -> Result<Ingest, ServeError> {
    let data_dir = data_dir_for(db, data_dir)?;
    std::fs::create_dir_all(&data_dir)?;
    let storage = Storage::open(db)?;
    let archive = Archive::open(&archive_dir(&data_dir))?;
    let identities = load_identities(identities, &data_dir)?;
    Ok(Ingest {
        storage,
        archive,
        identities,
        forms: Default::default(),
    })
}

/// Runs the server until Ctrl-C or SIGTERM. Prints `fieldpost serve: listening on http://ADDR`
/// once it accepts connections (tests read the port from that line when listening on port 0).
pub async fn serve(cfg: ServeConfig) -> Result<(), ServeError> {
    let c = cfg.clone();
    let ingest = tokio::task::spawn_blocking(move || -> Result<Ingest, ServeError> {
        let data_dir = data_dir_for(&c.db, c.data_dir.as_deref())?;
        let mut ingest = open(&c.db, Some(&data_dir), &c.identities)?;
        if c.demo {
            let report = demo::seed(&ingest.storage, &data_dir, c.assets.as_deref())
                .map_err(ServeError::Demo)?;
            ingest.identities = load_identities(&c.identities, &data_dir)?;
            println!("{report}");
        }
        Ok(ingest)
    })
    .await
    .map_err(|e| ServeError::Demo(e.to_string()))??;
    eprintln!(
        "fieldpost serve: database {}, archive {}, {} server key(s) loaded",
        ingest.storage.describe(),
        ingest.archive.root().display(),
        ingest.identities.len()
    );
    let listener = tokio::net::TcpListener::bind(cfg.listen)
        .await
        .map_err(|source| ServeError::Listen {
            addr: cfg.listen,
            source,
        })?;
    let addr = listener.local_addr()?;
    println!("fieldpost serve: listening on http://{addr}");
    axum::serve(listener, router(AppState { ingest }))
        .with_graceful_shutdown(shutdown())
        .await?;
    Ok(())
}

async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}
