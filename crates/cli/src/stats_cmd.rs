//! `fieldpost stats`: counts by status, one `<key> <value>` line each.

use clap::Args;
use fieldpost_server::storage::Storage;
use std::process::ExitCode;

#[derive(Args)]
pub struct StatsArgs {
    /// Database: a SQLite file path or postgres://user@host:port/db.
    #[arg(long)]
    db: String,
}

pub fn run(args: StatsArgs) -> ExitCode {
    if !args.db.contains("://") && !std::path::Path::new(&args.db).is_file() {
        eprintln!(
            "fieldpost stats: no database at {} (give the file `fieldpost serve --db` uses)",
            args.db
        );
        return ExitCode::from(2);
    }
    let stats = Storage::open(&args.db).and_then(|s| s.stats());
    match stats {
        Ok(lines) => {
            for (key, value) in lines {
                println!("{key} {value}");
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("fieldpost stats: {e}");
            ExitCode::from(2)
        }
    }
}
