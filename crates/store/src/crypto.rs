//! Encryption at rest from well-known crates: AES-256-GCM from `ring`, Argon2id from
//! RustCrypto's `argon2` (RFC 9106). Nothing here is a new construction.
//!
//! - A random 256-bit **data key** encrypts personal data with AES-256-GCM.
//!   Every encryption draws a fresh random 96-bit nonce from `SystemRandom`
//!   (stored in front of the ciphertext), and binds the row's identity as
//!   additional authenticated data, so a ciphertext copied into another row
//!   (another interview, another field path) fails to open.
//! - The data key is **wrapped** (AES-256-GCM again) by a key derived from the
//!   enumerator's PIN with Argon2id ([`Kdf::PRODUCTION`]: 64 MiB, 8 passes, one lane)
//!   and a random 16-byte salt; the function and its parameters are stored beside the
//!   wrapped key, so they can be raised later without breaking old stores. Stores made
//!   before Argon2id (PBKDF2-HMAC-SHA256, 600,000 iterations) still unlock, and the
//!   store re-wraps them with Argon2id at that unlock.
//!   Changing the PIN re-wraps the same data key: no data is re-encrypted.
//!
//! Why memory-hard: a 6-digit PIN has 10^6 values, so the only defence against
//! someone holding the file is the cost of one guess. PBKDF2 costs CPU time only,
//! which a GPU runs thousands of times in parallel; each Argon2id guess needs its own
//! 64 MiB written and read in a data-dependent order, which caps how many guesses a
//! GPU's memory (and its memory bandwidth) can run at once. The figures are in the
//! crate README ("What the file alone gives an attacker").

use std::num::NonZeroU32;

use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::pbkdf2;
use ring::rand::{SecureRandom, SystemRandom};

use crate::StoreError;

/// PBKDF2 iterations of stores made before Argon2id (OWASP 2023 figure for
/// PBKDF2-HMAC-SHA256). Such stores still unlock and are re-wrapped.
pub const PBKDF2_LEGACY_ITERATIONS: u32 = 600_000;

/// Name stored for the legacy PBKDF2 wrapping.
pub const PBKDF2_NAME: &str = "pbkdf2-hmac-sha256";

/// Name stored for Argon2id wrapping.
pub const ARGON2ID_NAME: &str = "argon2id";

/// Length of the random salt.
pub const SALT_LEN: usize = 16;

/// Shortest PIN accepted.
pub const MIN_PIN_LEN: usize = 4;

/// AAD of the wrapped data key.
const WRAP_AAD: &[u8] = b"fieldpost-store/v1/data-key";

/// How the key that wraps the data key is derived from the PIN.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kdf {
    /// Argon2id (RFC 9106, version 0x13), what every new or changed PIN uses.
    Argon2id {
        /// Memory per guess, KiB.
        memory_kib: u32,
        /// Passes over that memory.
        passes: u32,
        /// Lanes (1: one thread; the `argon2` crate runs lanes one after the other anyway).
        lanes: u32,
    },
    /// PBKDF2-HMAC-SHA256: stores made before Argon2id. Read, never written by production code.
    Pbkdf2 {
        /// Iteration count.
        iterations: u32,
    },
}

impl Kdf {
    /// The production parameters: 64 MiB, 8 passes, 1 lane.
    ///
    /// Why these: memory is what makes a guess dear on a GPU, and 64 MiB is what a
    /// low-end phone (2 GiB) can give for the moment an unlock takes without the system
    /// killing the app; RFC 9106's memory-constrained option is 64 MiB with 3 passes.
    /// Passes then buy time: on this project's 2-core build machine one derivation takes
    /// about 0.5 s at 8 passes (0.18 s at 3; `BENCH store_pin_guess`,
    /// `FIELDPOST_BENCH_KDF_SWEEP=1` for the neighbours), and a mid-range phone core, about
    /// half as fast on this memory-bound work, unlocks in about a second. More would make
    /// every unlock (after each idle lock) a wait. One lane: the `argon2` crate runs lanes
    /// one after another, so more lanes would cost the phone time without costing an
    /// attacker more.
    pub const PRODUCTION: Kdf = Kdf::Argon2id {
        memory_kib: 64 * 1024,
        passes: 8,
        lanes: 1,
    };

    /// Parameters cheap enough for tests that unlock hundreds of times (the crash
    /// test): 64 KiB, 1 pass. Only through the explicit test constructors
    /// ([`crate::Store::set_up_pin_with_kdf`]); never what a device uses.
    pub const FAST_FOR_TESTS: Kdf = Kdf::Argon2id {
        memory_kib: 64,
        passes: 1,
        lanes: 1,
    };

    /// The name stored in the keyring row.
    pub fn name(&self) -> &'static str {
        match self {
            Kdf::Argon2id { .. } => ARGON2ID_NAME,
            Kdf::Pbkdf2 { .. } => PBKDF2_NAME,
        }
    }

    /// Rebuild from the keyring row's columns (`memory_kib` and `lanes` are NULL for PBKDF2).
    pub fn from_columns(
        name: &str,
        iterations: u32,
        memory_kib: Option<u32>,
        lanes: Option<u32>,
    ) -> Result<Kdf, StoreError> {
        match (name, memory_kib, lanes) {
            (PBKDF2_NAME, _, _) => Ok(Kdf::Pbkdf2 { iterations }),
            (ARGON2ID_NAME, Some(memory_kib), Some(lanes)) => Ok(Kdf::Argon2id {
                memory_kib,
                passes: iterations,
                lanes,
            }),
            (ARGON2ID_NAME, _, _) => Err(StoreError::Damaged(
                "the stored Argon2id parameters are incomplete".into(),
            )),
            (other, _, _) => Err(StoreError::Damaged(format!(
                "unknown key-derivation function {other:?}"
            ))),
        }
    }

    /// (iterations or passes, memory in KiB, lanes), as the keyring row stores them.
    pub fn columns(&self) -> (u32, Option<u32>, Option<u32>) {
        match *self {
            Kdf::Argon2id {
                memory_kib,
                passes,
                lanes,
            } => (passes, Some(memory_kib), Some(lanes)),
            Kdf::Pbkdf2 { iterations } => (iterations, None, None),
        }
    }

    /// Memory one derivation needs, in bytes (PBKDF2: a few hundred bytes, counted as 0).
    pub fn memory_bytes(&self) -> u64 {
        match *self {
            Kdf::Argon2id { memory_kib, .. } => u64::from(memory_kib) * 1024,
            Kdf::Pbkdf2 { .. } => 0,
        }
    }

    /// Derive the 32-byte wrapping key from `pin` and `salt`: one PIN guess.
    pub fn derive(&self, pin: &str, salt: &[u8]) -> Result<[u8; 32], StoreError> {
        let mut raw = [0u8; 32];
        match *self {
            Kdf::Argon2id {
                memory_kib,
                passes,
                lanes,
            } => {
                let params = argon2::Params::new(memory_kib, passes, lanes, Some(32))
                    .map_err(|e| StoreError::Damaged(format!("stored Argon2id parameters: {e}")))?;
                argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params)
                    .hash_password_into(pin.as_bytes(), salt, &mut raw)
                    .map_err(|e| StoreError::Damaged(format!("Argon2id refused its input: {e}")))?;
            }
            Kdf::Pbkdf2 { iterations } => {
                let rounds = NonZeroU32::new(iterations).ok_or_else(|| {
                    StoreError::Damaged("stored PBKDF2 iteration count is zero".into())
                })?;
                pbkdf2::derive(
                    pbkdf2::PBKDF2_HMAC_SHA256,
                    rounds,
                    salt,
                    pin.as_bytes(),
                    &mut raw,
                );
            }
        }
        Ok(raw)
    }
}

/// The data key wrapped under a PIN, with the parameters to derive the PIN's key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WrappedKey {
    /// How the PIN's key is derived.
    pub kdf: Kdf,
    /// Random salt.
    pub salt: Vec<u8>,
    /// Nonce, ciphertext and tag of the 32-byte data key.
    pub wrapped: Vec<u8>,
}

/// The unwrapped data key. Lives only in memory while the store is unlocked.
pub struct DataKey {
    key: LessSafeKey,
}

impl DataKey {
    /// Encrypt `plain` bound to `aad`; the result is nonce || ciphertext || tag.
    pub fn seal(&self, aad: &[u8], plain: &[u8]) -> Result<Vec<u8>, StoreError> {
        seal_with(&self.key, aad, plain)
    }

    /// Decrypt a blob made by [`DataKey::seal`] with the same `aad`.
    /// `what` names the row in the error (no personal data).
    pub fn open(&self, aad: &[u8], blob: &[u8], what: &str) -> Result<Vec<u8>, StoreError> {
        open_with(&self.key, aad, blob).ok_or_else(|| StoreError::Tampered(what.to_string()))
    }
}

/// Build the AAD that names a row: a kind and its key parts, each
/// length-prefixed so no two different rows share an AAD.
pub fn aad(kind: &str, parts: &[&str]) -> Vec<u8> {
    let mut out = b"fieldpost-store/v1/".to_vec();
    for part in std::iter::once(kind).chain(parts.iter().copied()) {
        out.extend_from_slice(&(part.len() as u32).to_be_bytes());
        out.extend_from_slice(part.as_bytes());
    }
    out
}

/// Make a new random data key and wrap it under `pin`.
pub fn new_data_key(pin: &str, kdf: Kdf) -> Result<(DataKey, WrappedKey), StoreError> {
    let mut raw = [0u8; 32];
    fill_random(&mut raw)?;
    let wrapped = wrap(&raw, pin, kdf)?;
    let key = data_key_from(&raw)?;
    raw.fill(0);
    Ok((key, wrapped))
}

/// Unwrap the data key with `pin`; a wrong PIN gives [`StoreError::WrongPin`].
pub fn unwrap_data_key(pin: &str, wrapped: &WrappedKey) -> Result<DataKey, StoreError> {
    let mut raw = unwrap_raw(pin, wrapped)?;
    let key = data_key_from(&raw);
    raw.fill(0);
    key
}

/// Re-wrap the same data key under `new_pin` with a fresh salt and `kdf`.
pub fn rewrap(
    old_pin: &str,
    new_pin: &str,
    wrapped: &WrappedKey,
    kdf: Kdf,
) -> Result<WrappedKey, StoreError> {
    let mut raw = unwrap_raw(old_pin, wrapped)?;
    let out = wrap(&raw, new_pin, kdf);
    raw.fill(0);
    out
}

/// Unwrap with `pin` and, in the same step, wrap again under the same PIN with `kdf`:
/// the upgrade of a PBKDF2 store at its unlock. Returns the key and the new wrapping.
pub fn unwrap_and_rewrap(
    pin: &str,
    wrapped: &WrappedKey,
    kdf: Kdf,
) -> Result<(DataKey, WrappedKey), StoreError> {
    let mut raw = unwrap_raw(pin, wrapped)?;
    let out = wrap(&raw, pin, kdf).and_then(|w| Ok((data_key_from(&raw)?, w)));
    raw.fill(0);
    out
}

fn unwrap_raw(pin: &str, wrapped: &WrappedKey) -> Result<[u8; 32], StoreError> {
    let kek = derive(pin, &wrapped.salt, &wrapped.kdf)?;
    let plain = open_with(&kek, WRAP_AAD, &wrapped.wrapped).ok_or(StoreError::WrongPin)?;
    <[u8; 32]>::try_from(plain.as_slice())
        .map_err(|_| StoreError::Damaged("the wrapped data key has the wrong length".into()))
}

fn wrap(raw: &[u8; 32], pin: &str, kdf: Kdf) -> Result<WrappedKey, StoreError> {
    check_pin(pin)?;
    let mut salt = vec![0u8; SALT_LEN];
    fill_random(&mut salt)?;
    let kek = derive(pin, &salt, &kdf)?;
    let wrapped = seal_with(&kek, WRAP_AAD, raw)?;
    Ok(WrappedKey { kdf, salt, wrapped })
}

/// Refuse PINs too short to mean anything.
pub fn check_pin(pin: &str) -> Result<(), StoreError> {
    if pin.chars().count() < MIN_PIN_LEN {
        return Err(StoreError::InvalidInput(format!(
            "the PIN must have at least {MIN_PIN_LEN} characters"
        )));
    }
    Ok(())
}

fn derive(pin: &str, salt: &[u8], kdf: &Kdf) -> Result<LessSafeKey, StoreError> {
    let mut raw = kdf.derive(pin, salt)?;
    let key = data_key_from(&raw).map(|k| k.key);
    raw.fill(0);
    key
}

fn data_key_from(raw: &[u8; 32]) -> Result<DataKey, StoreError> {
    let unbound = UnboundKey::new(&AES_256_GCM, raw)
        .map_err(|_| StoreError::Damaged("AES-256-GCM refused the key".into()))?;
    Ok(DataKey {
        key: LessSafeKey::new(unbound),
    })
}

fn fill_random(buf: &mut [u8]) -> Result<(), StoreError> {
    SystemRandom::new()
        .fill(buf)
        .map_err(|_| StoreError::InvalidState("the system random generator failed".into()))
}

fn seal_with(key: &LessSafeKey, aad: &[u8], plain: &[u8]) -> Result<Vec<u8>, StoreError> {
    let mut nonce = [0u8; NONCE_LEN];
    fill_random(&mut nonce)?;
    let mut out = Vec::with_capacity(NONCE_LEN + plain.len() + AES_256_GCM.tag_len());
    out.extend_from_slice(&nonce);
    let mut body = plain.to_vec();
    key.seal_in_place_append_tag(
        Nonce::assume_unique_for_key(nonce),
        Aad::from(aad),
        &mut body,
    )
    .map_err(|_| StoreError::InvalidState("AES-256-GCM refused to encrypt".into()))?;
    out.extend_from_slice(&body);
    Ok(out)
}

fn open_with(key: &LessSafeKey, aad: &[u8], blob: &[u8]) -> Option<Vec<u8>> {
    if blob.len() < NONCE_LEN + AES_256_GCM.tag_len() {
        return None;
    }
    let (nonce, body) = blob.split_at(NONCE_LEN);
    let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
    let mut body = body.to_vec();
    let plain = key.open_in_place(nonce, Aad::from(aad), &mut body).ok()?;
    Some(plain.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    const FAST: Kdf = Kdf::FAST_FOR_TESTS;

    #[test]
    fn seal_open_round_trip_and_aad_binds_the_row() {
        let (key, _) = new_data_key("2468", FAST).unwrap();
        let a = aad("answer", &["i1", "members[0]/name"]);
        let blob = key.seal(&a, b"Nguyen Van A").unwrap();
        assert_eq!(key.open(&a, &blob, "t").unwrap(), b"Nguyen Van A");
        let other = aad("answer", &["i1", "members[1]/name"]);
        assert!(matches!(
            key.open(&other, &blob, "t"),
            Err(StoreError::Tampered(_))
        ));
        // Same plaintext twice: different nonces, different bytes.
        assert_ne!(blob, key.seal(&a, b"Nguyen Van A").unwrap());
    }

    #[test]
    fn aad_parts_cannot_be_shifted() {
        assert_ne!(aad("answer", &["ab", "c"]), aad("answer", &["a", "bc"]));
    }

    #[test]
    fn wrong_pin_and_rewrap() {
        let (key, wrapped) = new_data_key("1234", FAST).unwrap();
        let blob = key.seal(b"x", b"secret").unwrap();
        assert!(matches!(
            unwrap_data_key("9999", &wrapped),
            Err(StoreError::WrongPin)
        ));
        let rewrapped = rewrap("1234", "5678", &wrapped, FAST).unwrap();
        assert_ne!(rewrapped.salt, wrapped.salt);
        let again = unwrap_data_key("5678", &rewrapped).unwrap();
        assert_eq!(again.open(b"x", &blob, "t").unwrap(), b"secret");
        assert!(matches!(
            unwrap_data_key("1234", &rewrapped),
            Err(StoreError::WrongPin)
        ));
        assert!(matches!(
            new_data_key("12", FAST),
            Err(StoreError::InvalidInput(_))
        ));
    }
}
