//! `fieldpost rebuild --from-archive`: replays the batch archive into the database.

use clap::Args;
use fieldpost_server::rebuild::rebuild;
use fieldpost_server::serve::open;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args)]
pub struct RebuildArgs {
    /// Database to rebuild (its set-up data stays; ingested data is replaced).
    #[arg(long)]
    db: String,
    /// Rebuild from the archive (the only source there is; the flag says what happens).
    #[arg(long, required = true)]
    from_archive: bool,
    /// The server's data folder (holds archive/); default for SQLite: <db>.data.
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Age identity file holding the server key (repeatable), as for `serve`.
    #[arg(long)]
    identity: Vec<PathBuf>,
}

pub fn run(args: RebuildArgs) -> ExitCode {
    let ingest = match open(&args.db, args.data_dir.as_deref(), &args.identity) {
        Ok(i) => i,
        Err(e) => {
            eprintln!("fieldpost rebuild: {e}");
            return ExitCode::from(2);
        }
    };
    match rebuild(&ingest) {
        Ok(r) => {
            println!("rebuild devices {}", r.devices);
            println!("rebuild revocations {}", r.revocations);
            println!("rebuild batches_read {}", r.batches_read);
            println!("rebuild batches_acknowledged {}", r.acknowledged);
            for (code, n) in &r.rejected {
                println!("rebuild batches_rejected_{code} {n}");
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("fieldpost rebuild: {e}");
            ExitCode::from(2)
        }
    }
}
