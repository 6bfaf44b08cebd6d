//! `fieldpost keys ...`: make recipient key pairs (server, escrow) and device signing keys.
//!
//! A thin shell over `fieldpost-seal`'s key types. Private keys are written with mode 0600 and
//! never over an existing file: overwriting an escrow key would lose every archive sealed to it.

use clap::Subcommand;
use fieldpost_seal::{DeviceSigningKey, Identity};
use std::fs::OpenOptions;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum KeysCommand {
    /// Make a recipient key pair (age X25519) for the server or the offline escrow holder.
    /// Prints the public key (`age1...`); the private key goes to --out (mode 0600), or to
    /// standard output when --out is not given.
    New {
        /// File to write the private key to; refused if it already exists.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Make a device signing key (Ed25519, PKCS#8 DER) for tests and tools; prints the public
    /// key (base64) that the server registers. Devices normally make their own at enrolment.
    DeviceNew {
        /// File to write the PKCS#8 private key to; refused if it already exists.
        #[arg(long)]
        out: PathBuf,
    },
    /// Print the fingerprint of the server's signing key (what enrolment sheets print beside
    /// each code), making the key if the data folder has none yet.
    ServerFingerprint {
        /// The server's data folder (`--data-dir` of `fieldpost serve`).
        #[arg(long)]
        data_dir: PathBuf,
    },
    /// Replace the server's signing key by a new one endorsed by the current key. Enrolled
    /// devices follow the endorsement at their next sync; new enrolment sheets must print the
    /// new fingerprint. Restart every server process sharing the data folder afterwards.
    RotateServer {
        /// The server's data folder (`--data-dir` of `fieldpost serve`).
        #[arg(long)]
        data_dir: PathBuf,
    },
}

pub fn run(cmd: KeysCommand) -> ExitCode {
    let result = match cmd {
        KeysCommand::New { out } => new_recipient(out.as_deref()),
        KeysCommand::DeviceNew { out } => new_device(&out),
        KeysCommand::ServerFingerprint { data_dir } => {
            fieldpost_server::identity::ServerIdentity::load_or_create(&data_dir)
                .map(|id| println!("{}", id.fingerprint()))
                .map_err(|e| e.to_string())
        }
        KeysCommand::RotateServer { data_dir } => rotate_server(&data_dir),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("fieldpost keys: {message}");
            ExitCode::from(2)
        }
    }
}

fn new_recipient(out: Option<&Path>) -> Result<(), String> {
    let identity = Identity::generate();
    let public = identity.to_public();
    // The same layout as `age-keygen`, so `age -d -i FILE` reads it as is.
    let text = format!(
        "# created: {}\n# public key: {public}\n{}\n",
        chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ"),
        identity.to_secret_string()
    );
    match out {
        Some(path) => {
            write_private(path, text.as_bytes())?;
            eprintln!(
                "wrote the private key to {} (mode 0600); keep it safe, it opens every batch",
                path.display()
            );
            println!("{public}");
        }
        None => {
            eprintln!("Public key: {public}");
            print!("{text}");
        }
    }
    Ok(())
}

fn rotate_server(data_dir: &Path) -> Result<(), String> {
    let before = fieldpost_server::identity::ServerIdentity::load_or_create(data_dir)
        .map_err(|e| e.to_string())?
        .fingerprint();
    let after = fieldpost_server::identity::rotate(data_dir).map_err(|e| e.to_string())?;
    eprintln!(
        "the server key {before} is replaced by {} (endorsed by the old one); restart the server",
        after.fingerprint()
    );
    println!("{}", after.fingerprint());
    Ok(())
}

fn new_device(out: &Path) -> Result<(), String> {
    let key = DeviceSigningKey::generate().map_err(|e| e.to_string())?;
    write_private(out, key.pkcs8())?;
    eprintln!(
        "wrote the device signing key to {} (mode 0600)",
        out.display()
    );
    println!("{}", key.public_key());
    Ok(())
}

/// Creates `path` with mode 0600, refusing to replace anything.
fn write_private(path: &Path, bytes: &[u8]) -> Result<(), String> {
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::AlreadyExists => {
                format!(
                    "{} already exists; refusing to overwrite a key (choose another --out)",
                    path.display()
                )
            }
            _ => format!("cannot create {}: {e}", path.display()),
        })?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(|e| format!("cannot write {}: {e}", path.display()))
}
