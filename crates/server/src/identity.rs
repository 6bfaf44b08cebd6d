//! The server's identity: the Ed25519 key that signs every reply (see `fieldpost_seal::reply`),
//! kept in the data folder beside the age key, and the chain of endorsements a rotation leaves.
//!
//! Files in the data folder:
//! - `server-signing-key.pk8`: the current key (PKCS#8, 0600). Made at first start.
//! - `server-signing-endorsements.txt`: one line per rotation, oldest first, each the new key
//!   signed by the one before (`fieldpost keys rotate-server`). Public; sent with every reply so a
//!   device that pinned an older key can follow the chain to the current one.
//!
//! Several server processes behind one load balancer share the data folder (or copies of these
//! two files), so they sign with the same key.

use fieldpost_seal::reply::{Endorsement, ServerPublicKey, ServerSigningKey};
use std::io::Write;
use std::path::{Path, PathBuf};
use thiserror::Error;

#[derive(Debug, Error)]
pub enum IdentityError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {reason}")]
    Invalid { path: PathBuf, reason: String },
}

/// The key replies are signed with, and how it descends from the first one.
#[derive(Debug)]
pub struct ServerIdentity {
    pub key: ServerSigningKey,
    /// Endorsements from the first key to `key`, oldest first (empty before any rotation).
    pub chain: Vec<Endorsement>,
}

pub fn key_path(data_dir: &Path) -> PathBuf {
    data_dir.join("server-signing-key.pk8")
}

pub fn chain_path(data_dir: &Path) -> PathBuf {
    data_dir.join("server-signing-endorsements.txt")
}

impl ServerIdentity {
    /// Loads the identity from the data folder, making a key on first start.
    pub fn load_or_create(data_dir: &Path) -> Result<Self, IdentityError> {
        let path = key_path(data_dir);
        let key = match std::fs::read(&path) {
            Ok(pkcs8) => ServerSigningKey::from_pkcs8(&pkcs8).map_err(|e| invalid(&path, e))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let key = ServerSigningKey::generate().map_err(|e| invalid(&path, e))?;
                write_new(&path, key.pkcs8(), true)?;
                key
            }
            Err(source) => return Err(IdentityError::Io { path, source }),
        };
        let chain = read_chain(data_dir)?;
        if let Some(last) = chain.last()
            && last.key != key.public_key()
        {
            return Err(IdentityError::Invalid {
                path: chain_path(data_dir),
                reason: format!(
                    "the last endorsement is for key {}, but the signing key is {}; \
                     restore the key file that matches",
                    last.key.fingerprint(),
                    key.public_key().fingerprint()
                ),
            });
        }
        Ok(Self { key, chain })
    }

    pub fn public_key(&self) -> ServerPublicKey {
        self.key.public_key()
    }

    /// What enrolment sheets print beside each code.
    pub fn fingerprint(&self) -> String {
        self.public_key().fingerprint()
    }

    /// The value of the endorsements header, if any rotation happened.
    pub fn endorsements_header(&self) -> Option<String> {
        (!self.chain.is_empty()).then(|| Endorsement::chain_to_header(&self.chain))
    }
}

/// Replaces the signing key by a new one endorsed by the current key; returns the new
/// fingerprint. The old private key is deleted: devices still pinned to it follow the
/// endorsement to the new key at their next sync. Restart the server(s) afterwards.
pub fn rotate(data_dir: &Path) -> Result<ServerIdentity, IdentityError> {
    let current = ServerIdentity::load_or_create(data_dir)?;
    let path = key_path(data_dir);
    let next = ServerSigningKey::generate().map_err(|e| invalid(&path, e))?;
    let link = current.key.endorse(&next.public_key());
    let mut chain = current.chain;
    chain.push(link);
    // Both files are written in full beside their targets, then renamed. A stop between the two
    // renames leaves a key the chain does not end in: `load_or_create` then refuses to start and
    // names the file, and renaming the left-over `.new` chain file into place finishes the job.
    let chain_file = chain_path(data_dir);
    let chain_text: String = chain
        .iter()
        .map(|e| Endorsement::chain_to_header(std::slice::from_ref(e)) + "\n")
        .collect();
    let tmp_key = data_dir.join("server-signing-key.pk8.new");
    let tmp_chain = data_dir.join("server-signing-endorsements.txt.new");
    let _ = std::fs::remove_file(&tmp_key);
    let _ = std::fs::remove_file(&tmp_chain);
    write_new(&tmp_key, next.pkcs8(), true)?;
    write_new(&tmp_chain, chain_text.as_bytes(), false)?;
    rename(&tmp_key, &path)?;
    rename(&tmp_chain, &chain_file)?;
    Ok(ServerIdentity { key: next, chain })
}

fn read_chain(data_dir: &Path) -> Result<Vec<Endorsement>, IdentityError> {
    let path = chain_path(data_dir);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => return Err(IdentityError::Io { path, source }),
    };
    Endorsement::chain_from_header(&text.lines().collect::<Vec<_>>().join(","))
        .map_err(|e| invalid(&path, e))
}

fn invalid(path: &Path, e: impl std::fmt::Display) -> IdentityError {
    IdentityError::Invalid {
        path: path.to_path_buf(),
        reason: e.to_string(),
    }
}

fn rename(from: &Path, to: &Path) -> Result<(), IdentityError> {
    std::fs::rename(from, to).map_err(|source| IdentityError::Io {
        path: to.to_path_buf(),
        source,
    })
}

/// Writes a new file (0600 when secret) and syncs it to disk.
fn write_new(path: &Path, bytes: &[u8], secret: bool) -> Result<(), IdentityError> {
    let io = |source| IdentityError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    if secret {
        std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    }
    #[cfg(not(unix))]
    let _ = secret;
    let mut f = opts.open(path).map_err(io)?;
    f.write_all(bytes).and_then(|()| f.sync_all()).map_err(io)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_made_once_and_kept() {
        let dir = tempfile::tempdir().expect("dir");
        let a = ServerIdentity::load_or_create(dir.path()).expect("first");
        let b = ServerIdentity::load_or_create(dir.path()).expect("second");
        assert_eq!(a.public_key(), b.public_key());
        assert!(a.endorsements_header().is_none());
    }

    #[test]
    fn rotation_endorses_the_new_key_with_the_old_one() {
        let dir = tempfile::tempdir().expect("dir");
        let first = ServerIdentity::load_or_create(dir.path()).expect("first");
        let second = rotate(dir.path()).expect("rotate");
        let third = rotate(dir.path()).expect("rotate again");
        let loaded = ServerIdentity::load_or_create(dir.path()).expect("load");
        assert_eq!(loaded.public_key(), third.public_key());
        assert_eq!(loaded.chain.len(), 2);
        assert_eq!(loaded.chain[0].key, second.public_key());
        assert_ne!(first.public_key(), second.public_key());
    }
}
