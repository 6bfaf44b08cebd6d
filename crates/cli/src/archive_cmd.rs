//! `fieldpost archive open`: decrypt archived sealed batches offline, with the server key or the
//! escrow key (see docs/escrow.md). A thin shell over `fieldpost-seal`.
//!
//! Without `--device-key` the signature is not checked, and the command says so for every batch:
//! the escrow holder may have the archive but not the device keys, and must still get the data.

use clap::Subcommand;
use fieldpost_seal::{DevicePublicKey, Identity, Limits, Opened};
use std::fs::OpenOptions;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum ArchiveCommand {
    /// Decrypt sealed batches. Payloads go to standard output (one per line), or with --out to
    /// DIR/<batch id>.payload plus DIR/<batch id>.header.json (mode 0600: they hold personal data).
    Open {
        /// Private key file (`AGE-SECRET-KEY-1...`, as `fieldpost keys new` or `age-keygen` write
        /// it). Repeat to try several keys.
        #[arg(long, required = true)]
        identity: Vec<PathBuf>,
        /// The sending device's public key (base64), or a file holding it: verify the signature.
        #[arg(long)]
        device_key: Option<String>,
        /// Folder to write the opened batches to (created if missing; files are never replaced).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Sealed batch files.
        #[arg(required = true)]
        batches: Vec<PathBuf>,
    },
}

pub fn run(cmd: ArchiveCommand) -> ExitCode {
    let ArchiveCommand::Open {
        identity,
        device_key,
        out,
        batches,
    } = cmd;
    let setup = load_identities(&identity).and_then(|ids| {
        let key = device_key.as_deref().map(load_device_key).transpose()?;
        if let Some(dir) = &out {
            std::fs::create_dir_all(dir)
                .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        }
        Ok((ids, key))
    });
    let (ids, key) = match setup {
        Ok(v) => v,
        Err(message) => {
            eprintln!("fieldpost archive open: {message}");
            return ExitCode::from(2);
        }
    };
    let mut failed = 0;
    for path in &batches {
        match open_one(path, &ids, key.as_ref(), out.as_deref()) {
            Ok(note) => eprintln!("{}: {note}", path.display()),
            Err(message) => {
                failed += 1;
                eprintln!("{}: NOT opened: {message}", path.display());
            }
        }
    }
    if failed > 0 {
        eprintln!(
            "fieldpost archive open: {failed} of {} batches could not be opened",
            batches.len()
        );
        return ExitCode::from(1);
    }
    ExitCode::SUCCESS
}

fn load_identities(paths: &[PathBuf]) -> Result<Vec<Identity>, String> {
    paths
        .iter()
        .map(|p| {
            let text = std::fs::read_to_string(p)
                .map_err(|e| format!("cannot read identity {}: {e}", p.display()))?;
            Identity::from_file_text(&text).map_err(|e| format!("{}: {e}", p.display()))
        })
        .collect()
}

fn load_device_key(arg: &str) -> Result<DevicePublicKey, String> {
    if let Ok(key) = arg.parse() {
        return Ok(key);
    }
    let text = std::fs::read_to_string(arg).map_err(|e| {
        format!("--device-key is neither a base64 public key nor a readable file ({e})")
    })?;
    text.parse().map_err(|e| format!("{arg}: {e}"))
}

/// Opens one batch and writes its payload; returns the line to report (no personal data).
fn open_one(
    path: &Path,
    ids: &[Identity],
    key: Option<&DevicePublicKey>,
    out: Option<&Path>,
) -> Result<String, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read: {e}"))?;
    let limits = Limits::default();
    let (opened, checked): (Opened, String) = match key {
        Some(k) => (
            fieldpost_seal::open_with_limits(&bytes, k, ids, &limits).map_err(|e| e.to_string())?,
            format!("signature verified (device key {})", k.fingerprint()),
        ),
        None => (
            fieldpost_seal::open_unverified(&bytes, ids, &limits).map_err(|e| e.to_string())?,
            "signature NOT checked (no --device-key given)".into(),
        ),
    };
    let h = &opened.header;
    match out {
        Some(dir) => {
            let header = serde_json::to_vec_pretty(h).map_err(|e| e.to_string())?;
            write_new(&dir.join(format!("{}.header.json", h.batch_id)), &header)?;
            write_new(
                &dir.join(format!("{}.payload", h.batch_id)),
                &opened.payload,
            )?;
        }
        None => {
            let mut stdout = std::io::stdout().lock();
            stdout
                .write_all(&opened.payload)
                .and_then(|()| stdout.write_all(b"\n"))
                .map_err(|e| format!("cannot write to standard output: {e}"))?;
        }
    }
    Ok(format!(
        "batch {} from device {}, sequence {}, {} interviews; {checked}",
        h.batch_id, h.device_id, h.sequence, h.interview_count
    ))
}

fn write_new(path: &Path, bytes: &[u8]) -> Result<(), String> {
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| {
            format!(
                "cannot create {} (files are never replaced): {e}",
                path.display()
            )
        })?;
    f.write_all(bytes)
        .map_err(|e| format!("cannot write {}: {e}", path.display()))
}
