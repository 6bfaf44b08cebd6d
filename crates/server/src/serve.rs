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

use crate::tls::{TlsError, TlsFiles};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

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
    /// Serve HTTPS with this certificate and key (`--tls-cert`, `--tls-key`); `None`: plain
    /// HTTP, for loopback or behind a reverse proxy that terminates TLS.
    pub tls: Option<TlsFiles>,
    /// The built console served at `/` (`--console-dir`); `None`: found by
    /// [`crate::http::console::console_dir`].
    pub console_dir: Option<PathBuf>,
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
    #[error("server signing key: {0}")]
    ServerKey(#[from] crate::identity::IdentityError),
    #[error("demo seeding: {0}")]
    Demo(String),
    #[error("cannot listen on {addr}: {source}; is another server using the port?")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error(transparent)]
    Tls(#[from] TlsError),
    #[error("the server stopped: {0}")]
    Io(#[from] std::io::Error),
}

/// The data folder: as given, or for SQLite `<db file>.data` next to the database file.
///
/// The URL is read by [`crate::db::DbUrl::parse`] first, so a URL the server would refuse is
/// refused here too, before any folder is created.
pub fn data_dir_for(db: &str, given: Option<&Path>) -> Result<PathBuf, ServeError> {
    let url = crate::db::DbUrl::parse(db).map_err(StorageError::from)?;
    if let Some(d) = given {
        return Ok(d.to_path_buf());
    }
    match url {
        crate::db::DbUrl::Postgres(_) => Err(ServeError::NoDataDir),
        crate::db::DbUrl::Sqlite(path) => {
            let mut name = path.into_os_string();
            name.push(".data");
            Ok(PathBuf::from(name))
        }
    }
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
    let identities = fieldpost_seal::Keyring::new(load_identities(identities, &data_dir)?);
    Ok(Ingest {
        storage,
        archive,
        identities,
        forms: Default::default(),
    })
}

/// Runs the server until Ctrl-C or SIGTERM. Prints `fieldpost serve: listening on http://ADDR`
/// (`https://` with TLS) once it accepts connections (tests read the port from that line when
/// listening on port 0).
pub async fn serve(cfg: ServeConfig) -> Result<(), ServeError> {
    // The certificate first: a wrong file is reported before the database is touched.
    let tls = cfg.tls.as_ref().map(TlsFiles::server_config).transpose()?;
    let c = cfg.clone();
    let (ingest, identity) = tokio::task::spawn_blocking(move || -> Result<_, ServeError> {
        let data_dir = data_dir_for(&c.db, c.data_dir.as_deref())?;
        let mut ingest = open(&c.db, Some(&data_dir), &c.identities)?;
        if c.demo {
            let report = demo::seed(&ingest.storage, &data_dir, c.assets.as_deref())
                .map_err(ServeError::Demo)?;
            ingest.identities =
                fieldpost_seal::Keyring::new(load_identities(&c.identities, &data_dir)?);
            println!("{report}");
        }
        let identity = crate::identity::ServerIdentity::load_or_create(&data_dir)?;
        println!(
            "fieldpost serve: server key fingerprint {} (devices check it at enrolment)",
            identity.fingerprint()
        );
        Ok((ingest, std::sync::Arc::new(identity)))
    })
    .await
    .map_err(|e| ServeError::Demo(e.to_string()))??;
    tracing::info!(
        database = %ingest.storage.describe(),
        archive = %ingest.archive.root().display(),
        server_keys = ingest.identities.len(),
        "storage opened"
    );
    let listener = TcpListener::bind(cfg.listen)
        .await
        .map_err(|source| ServeError::Listen {
            addr: cfg.listen,
            source,
        })?;
    let addr = listener.local_addr()?;
    let scheme = if tls.is_some() { "https" } else { "http" };
    println!("fieldpost serve: listening on {scheme}://{addr}");
    tracing::info!(%addr, tls = tls.is_some(), "listening");
    run_http(
        listener,
        tls,
        crate::http::console::with_console(
            router(AppState { ingest, identity }),
            crate::http::console::console_dir(cfg.console_dir.as_deref()),
        ),
        shutdown(),
    )
    .await?;
    tracing::info!("stopped");
    Ok(())
}

/// How long a client may take to send a request's head (request line and headers), and on
/// HTTPS to finish the TLS handshake. A slow-loris client that trickles bytes is cut off after
/// this, so it cannot hold connections; it also closes keep-alive connections idle for as
/// long (the app core's client drops its idle connections sooner, see app-core's `http`).
/// Bodies are not covered: a batch over a weak link may take minutes (the router's request
/// timeouts bound those).
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a graceful stop waits for requests in flight before it drops them.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

/// The accept loop of every server this crate starts (`serve` and [`crate::demo::serve_in`]):
/// plain HTTP/1.1 or, with `tls`, HTTPS, until `shutdown` completes; then it stops accepting
/// and gives requests in flight [`SHUTDOWN_GRACE`] to finish.
///
/// Each connection's handlers can read the peer's address as
/// `axum::extract::ConnectInfo<SocketAddr>` (login throttling keys on it). Each connection has
/// [`HEADER_READ_TIMEOUT`] to send its request head (and finish its TLS handshake).
///
/// Hand-written on hyper's connection API rather than `axum::serve`, which can neither do TLS
/// nor set a header-read timeout.
pub async fn run_http(
    listener: TcpListener,
    tls: Option<Arc<rustls::ServerConfig>>,
    app: axum::Router,
    shutdown: impl Future<Output = ()> + Send,
) -> std::io::Result<()> {
    use hyper_util::rt::{TokioIo, TokioTimer};
    use tower_service::Service;

    let acceptor = tls.map(tokio_rustls::TlsAcceptor::from);
    let mut make_service = app.into_make_service_with_connect_info::<SocketAddr>();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT);
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(s) => s,
                Err(e) => {
                    // Out of file descriptors and the like: wait instead of spinning; the
                    // connections already open go on.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        // The make-service is ready at once and cannot fail (its error type is Infallible).
        let service = match make_service.call(peer).await {
            Ok(s) => s,
            Err(never) => match never {},
        };
        let service = hyper_util::service::TowerToHyperService::new(service);
        let http = http.clone();
        let acceptor = acceptor.clone();
        let watcher = graceful.watcher();
        tokio::spawn(async move {
            let served = match acceptor {
                None => {
                    watcher
                        .watch(http.serve_connection(TokioIo::new(stream), service))
                        .await
                }
                Some(acceptor) => {
                    let tls = tokio::time::timeout(HEADER_READ_TIMEOUT, acceptor.accept(stream));
                    match tls.await {
                        Ok(Ok(tls)) => {
                            watcher
                                .watch(http.serve_connection(TokioIo::new(tls), service))
                                .await
                        }
                        Ok(Err(e)) => {
                            tracing::debug!(error = %e, "TLS handshake failed");
                            return;
                        }
                        Err(_) => {
                            tracing::debug!("TLS handshake timed out");
                            return;
                        }
                    }
                }
            };
            if let Err(e) = served {
                // Clients that hang up or time out: routine, not worth more than debug.
                tracing::debug!(error = %e, "connection ended with an error");
            }
        });
    }
    drop(listener);
    if tokio::time::timeout(SHUTDOWN_GRACE, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(
            "requests still running after {} s were dropped at shutdown",
            SHUTDOWN_GRACE.as_secs()
        );
    }
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

#[cfg(test)]
mod data_dir_tests {
    use super::*;

    /// The data folder sits beside the SQLite file whatever URL form names it; a refused URL
    /// is refused before any folder is made (`sqlite:/abs` used to give `./sqlite:/abs.data`).
    #[test]
    fn data_dir_follows_the_database_file() {
        for db in [
            "sqlite:/srv/fp/server.db",
            "sqlite:///srv/fp/server.db",
            "/srv/fp/server.db",
        ] {
            assert_eq!(
                data_dir_for(db, None).expect(db),
                PathBuf::from("/srv/fp/server.db.data"),
                "{db}"
            );
        }
        assert_eq!(
            data_dir_for("sqlite://rel/server.db", None).expect("relative"),
            PathBuf::from("rel/server.db.data")
        );
        assert!(matches!(
            data_dir_for("postgres://fp@db/fp", None),
            Err(ServeError::NoDataDir)
        ));
        let refused = data_dir_for("mysql://fp@db/fp", Some(Path::new("/tmp/x")))
            .expect_err("another scheme");
        assert!(refused.to_string().contains("mysql"), "{refused}");
    }

    /// A real server opened with `sqlite:/ABS` creates its file at ABS and nothing in the
    /// working folder.
    #[test]
    fn sqlite_colon_slash_opens_the_absolute_file() {
        let dir = tempfile::tempdir().expect("temp dir");
        let file = dir.path().join("server.db");
        let url = format!("sqlite:{}", file.display());
        let ingest = open(&url, None, &[]).expect("opens");
        assert!(file.is_file(), "the database is at the absolute path");
        assert!(dir.path().join("server.db.data").join("archive").is_dir());
        assert!(!Path::new("sqlite:").exists(), "no folder named sqlite:");
        drop(ingest);
    }
}
