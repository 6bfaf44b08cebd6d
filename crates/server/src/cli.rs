//! The `serve` command line, shared by `fieldpost serve` and the `fieldpost-server` binary
//! (which the fault tests start as a real process).

use crate::serve::{ServeConfig, serve};
use clap::Args;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args)]
pub struct ServeArgs {
    /// Database: a SQLite file path (created when absent) or postgres://user@host:port/db.
    #[arg(long, default_value = "fieldpost-server.sqlite")]
    pub db: String,
    /// Address to listen on (port 0: any free port, printed at start).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Folder for the batch archive and keys (default for SQLite: <db>.data next to the file).
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Age identity file holding a server recipient key (repeatable); <data-dir>/server-identity.txt
    /// is loaded too when present.
    #[arg(long)]
    pub identity: Vec<PathBuf>,
    /// Seed a demonstration survey (SIPAS questionnaire, two provinces, accounts) and print
    /// its credentials and enrolment codes. Demo passwords are public: never for real data.
    #[arg(long)]
    pub demo: bool,
    /// Folder of the shipped assets (questionnaire, code lists) for --demo.
    #[arg(long)]
    pub assets: Option<PathBuf>,
    /// Serve HTTPS: the server's certificate chain, PEM (with --tls-key). Without both, plain
    /// HTTP: only on loopback or behind a reverse proxy that terminates TLS (docs/server.md).
    #[arg(long, value_name = "CERT.pem")]
    pub tls_cert: Option<PathBuf>,
    /// The certificate's private key, PEM, unencrypted (with --tls-cert).
    #[arg(long, value_name = "KEY.pem")]
    pub tls_key: Option<PathBuf>,
    /// Folder of the built console served at / (default: crates/console/dist of the source
    /// tree; `./dev console` builds it).
    #[arg(long, value_name = "DIR")]
    pub console_dir: Option<PathBuf>,
}

pub fn run_serve(args: ServeArgs) -> ExitCode {
    let tls = match crate::tls::TlsFiles::from_options(args.tls_cert, args.tls_key) {
        Ok(t) => t,
        Err(e) => {
            tracing::error!("fieldpost serve: {e}");
            return ExitCode::from(2);
        }
    };
    let cfg = ServeConfig {
        db: args.db,
        listen: args.listen,
        data_dir: args.data_dir,
        identities: args.identity,
        demo: args.demo,
        assets: args.assets,
        tls,
        console_dir: args.console_dir,
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            tracing::error!("fieldpost serve: cannot start the runtime: {e}");
            return ExitCode::from(2);
        }
    };
    match runtime.block_on(serve(cfg)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("fieldpost serve: {e}");
            ExitCode::from(2)
        }
    }
}
