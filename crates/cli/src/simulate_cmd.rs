//! `fieldpost simulate`: enumerators' devices in bulk against a `--demo` server.

use clap::Args;
use fieldpost_app_core::sync::simulate::{SimConfig, simulate};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args)]
pub struct SimulateArgs {
    /// The server's base address (started with --demo): https://HOST:PORT, or plain http:// only
    /// to this machine (e.g. http://127.0.0.1:8080). A test CA: FIELDPOST_CA_CERT=ca.pem.
    #[arg(long)]
    server: String,
    /// Number of devices (each its own enumerator, store file and key).
    #[arg(long, default_value_t = 2)]
    devices: usize,
    /// Interviews each device completes.
    #[arg(long, default_value_t = 10)]
    interviews: usize,
    /// Seed of the random answers.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Folder for the devices' store files (default: a new folder in /dev/shm, or the temp folder).
    #[arg(long)]
    work_dir: Option<PathBuf>,
    /// Folder of the SIPAS form sources (choices.csv, survey.csv, sample-answers.json).
    #[arg(long)]
    form_dir: Option<PathBuf>,
    /// Also print BENCH lines (ingest throughput, sealed bytes per interview) named with this
    /// label, e.g. `--bench sqlite` prints `BENCH ingest_sqlite ... interviews/s`.
    #[arg(long)]
    bench: Option<String>,
}

pub fn run(args: SimulateArgs) -> ExitCode {
    let base = if std::path::Path::new("/dev/shm").is_dir() {
        PathBuf::from("/dev/shm")
    } else {
        std::env::temp_dir()
    };
    let work_dir = args.work_dir.unwrap_or_else(|| {
        base.join(format!(
            "fieldpost-simulate-{}",
            uuid::Uuid::now_v7().simple()
        ))
    });
    let form_dir = args.form_dir.unwrap_or_else(|| {
        let local = PathBuf::from("assets/forms/sipas");
        if local.is_dir() {
            local
        } else {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../assets/forms/sipas"
            ))
        }
    });
    let cfg = SimConfig {
        server: args.server,
        devices: args.devices,
        interviews: args.interviews,
        seed: args.seed,
        work_dir: work_dir.clone(),
        form_dir,
        upload_server: None,
        backoff: None,
    };
    let result = simulate(&cfg);
    // The device stores are scratch data of made-up respondents.
    let _ = std::fs::remove_dir_all(&work_dir);
    match result {
        Ok(r) => {
            if let Some(label) = &args.bench {
                println!(
                    "BENCH ingest_{label} {:.0} interviews/s",
                    r.interviews_per_second()
                );
                println!(
                    "BENCH sealed_bytes_per_interview_{label} {:.0} bytes",
                    r.sealed_bytes_per_interview()
                );
            }
            println!(
                "simulate: devices={} completed={} acked={} seconds={:.1}",
                r.devices, r.completed, r.acked, r.seconds
            );
            if r.acked == r.completed {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Err(e) => {
            eprintln!("fieldpost simulate: {e}");
            ExitCode::from(2)
        }
    }
}
