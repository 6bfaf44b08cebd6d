//! Encryption at rest, all from `ring`: nothing here is a new construction.
//!
//! - A random 256-bit **data key** encrypts personal data with AES-256-GCM.
//!   Every encryption draws a fresh random 96-bit nonce from `SystemRandom`
//!   (stored in front of the ciphertext), and binds the row's identity as
//!   additional authenticated data, so a ciphertext copied into another row
//!   (another interview, another field path) fails to open.
//! - The data key is **wrapped** (AES-256-GCM again) by a key derived from the
//!   enumerator's PIN with PBKDF2-HMAC-SHA256, [`DEFAULT_ITERATIONS`]
//!   iterations and a random 16-byte salt; the parameters are stored beside the
//!   wrapped key so they can be raised later without breaking old stores.
//!   Changing the PIN re-wraps the same data key: no data is re-encrypted.
//!
//! Limit worth knowing: a short numeric PIN has few possibilities, so someone
//! holding the file can try them all offline (600,000 iterations make each
//! guess cost, not impossible). A hardware-backed key (Android Keystore) to
//! wrap the data key as well is the next step on phones.

use std::num::NonZeroU32;

use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::pbkdf2;
use ring::rand::{SecureRandom, SystemRandom};

use crate::StoreError;

/// PBKDF2 iterations for a new or re-wrapped key (OWASP 2023 figure for
/// PBKDF2-HMAC-SHA256).
pub const DEFAULT_ITERATIONS: u32 = 600_000;

/// Name of the key-derivation function, stored with its parameters.
pub const KDF_NAME: &str = "pbkdf2-hmac-sha256";

/// Length of the random salt.
pub const SALT_LEN: usize = 16;

/// Shortest PIN accepted.
pub const MIN_PIN_LEN: usize = 4;

/// AAD of the wrapped data key.
const WRAP_AAD: &[u8] = b"fieldpost-store/v1/data-key";

/// The data key wrapped under a PIN, with the parameters to derive the PIN's key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WrappedKey {
    /// PBKDF2 iteration count.
    pub iterations: u32,
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
pub fn new_data_key(pin: &str, iterations: u32) -> Result<(DataKey, WrappedKey), StoreError> {
    let mut raw = [0u8; 32];
    fill_random(&mut raw)?;
    let wrapped = wrap(&raw, pin, iterations)?;
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

/// Re-wrap the same data key under `new_pin` with a fresh salt.
pub fn rewrap(
    old_pin: &str,
    new_pin: &str,
    wrapped: &WrappedKey,
    iterations: u32,
) -> Result<WrappedKey, StoreError> {
    let mut raw = unwrap_raw(old_pin, wrapped)?;
    let out = wrap(&raw, new_pin, iterations);
    raw.fill(0);
    out
}

fn unwrap_raw(pin: &str, wrapped: &WrappedKey) -> Result<[u8; 32], StoreError> {
    let kek = derive(pin, &wrapped.salt, wrapped.iterations)?;
    let plain = open_with(&kek, WRAP_AAD, &wrapped.wrapped).ok_or(StoreError::WrongPin)?;
    <[u8; 32]>::try_from(plain.as_slice())
        .map_err(|_| StoreError::Damaged("the wrapped data key has the wrong length".into()))
}

fn wrap(raw: &[u8; 32], pin: &str, iterations: u32) -> Result<WrappedKey, StoreError> {
    check_pin(pin)?;
    let mut salt = vec![0u8; SALT_LEN];
    fill_random(&mut salt)?;
    let kek = derive(pin, &salt, iterations)?;
    let wrapped = seal_with(&kek, WRAP_AAD, raw)?;
    Ok(WrappedKey {
        iterations,
        salt,
        wrapped,
    })
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

fn derive(pin: &str, salt: &[u8], iterations: u32) -> Result<LessSafeKey, StoreError> {
    let rounds = NonZeroU32::new(iterations)
        .ok_or_else(|| StoreError::Damaged("stored PBKDF2 iteration count is zero".into()))?;
    let mut raw = [0u8; 32];
    pbkdf2::derive(
        pbkdf2::PBKDF2_HMAC_SHA256,
        rounds,
        salt,
        pin.as_bytes(),
        &mut raw,
    );
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

    const FAST: u32 = 1_000;

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
