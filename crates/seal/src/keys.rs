//! The two kinds of keys a batch involves.
//!
//! - The device signing key (Ed25519, `ring`): made on the device at enrolment, its public half
//!   registered with the server, so the server knows which enrolled device sent a batch.
//! - Recipient keys (age X25519): the server's key and the offline escrow key. Their text forms are
//!   the standard age ones (`age1...`, `AGE-SECRET-KEY-1...`), so `age-keygen` makes compatible
//!   keys and `age -d` opens the archive without FieldPost.

use crate::error::KeyError;
use age::secrecy::ExposeSecret;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use ring::digest::{SHA256, digest};
use ring::rand::SystemRandom;
use ring::signature::{ED25519, Ed25519KeyPair, KeyPair, UnparsedPublicKey};
use std::fmt;
use std::str::FromStr;

/// Short, stable name of a public key: the first 8 bytes of SHA-256 of its canonical text form,
/// in hex (16 characters). For a recipient, anyone can compute it with
/// `printf %s age1... | sha256sum | cut -c1-16`.
fn fingerprint(canonical: &[u8]) -> String {
    let d = digest(&SHA256, canonical);
    d.as_ref()[..8].iter().map(|b| format!("{b:02x}")).collect()
}

/// An Ed25519 key pair with the PKCS#8 document it was read from (so its owner can persist it):
/// what the device signing key and the server signing key (`crate::reply`) are made of.
pub(crate) struct Ed25519Pair {
    pkcs8: Vec<u8>,
    pair: Ed25519KeyPair,
}

impl Ed25519Pair {
    pub(crate) fn generate() -> Result<Self, KeyError> {
        let doc =
            Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).map_err(|_| KeyError::Random)?;
        Self::from_pkcs8(doc.as_ref()).ok_or(KeyError::Random)
    }

    /// Reads a PKCS#8 document (v2 as `ring` writes it, or v1 as `openssl genpkey` writes it).
    pub(crate) fn from_pkcs8(pkcs8: &[u8]) -> Option<Self> {
        let pair = Ed25519KeyPair::from_pkcs8_maybe_unchecked(pkcs8).ok()?;
        Some(Self {
            pkcs8: pkcs8.to_vec(),
            pair,
        })
    }

    pub(crate) fn pkcs8(&self) -> &[u8] {
        &self.pkcs8
    }

    pub(crate) fn public_raw(&self) -> [u8; 32] {
        let mut raw = [0u8; 32];
        raw.copy_from_slice(self.pair.public_key().as_ref());
        raw
    }

    pub(crate) fn sign(&self, message: &[u8]) -> [u8; 64] {
        let mut sig = [0u8; 64];
        sig.copy_from_slice(self.pair.sign(message).as_ref());
        sig
    }
}

/// The device's Ed25519 signing key. Kept as its PKCS#8 document so the store can persist it.
pub struct DeviceSigningKey(Ed25519Pair);

impl DeviceSigningKey {
    /// Makes a new key from the system random number generator.
    pub fn generate() -> Result<Self, KeyError> {
        Ed25519Pair::generate().map(Self)
    }

    /// Reads a PKCS#8 document (v2 as `ring` writes it, or v1 as `openssl genpkey` writes it).
    pub fn from_pkcs8(pkcs8: &[u8]) -> Result<Self, KeyError> {
        Ed25519Pair::from_pkcs8(pkcs8)
            .map(Self)
            .ok_or(KeyError::DeviceSigningKey)
    }

    /// The PKCS#8 document, to store (it is secret: keep it encrypted at rest).
    pub fn pkcs8(&self) -> &[u8] {
        self.0.pkcs8()
    }

    /// The public half, which the device registers with the server at enrolment.
    pub fn public_key(&self) -> DevicePublicKey {
        DevicePublicKey(self.0.public_raw())
    }

    pub(crate) fn sign(&self, message: &[u8]) -> [u8; 64] {
        self.0.sign(message)
    }
}

impl fmt::Debug for DeviceSigningKey {
    /// Never prints the secret.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DeviceSigningKey({})", self.public_key().fingerprint())
    }
}

/// A device's Ed25519 public key. Text form: standard base64 of the 32 raw bytes.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct DevicePublicKey([u8; 32]);

impl DevicePublicKey {
    pub fn from_bytes(raw: &[u8]) -> Result<Self, KeyError> {
        raw.try_into()
            .map(Self)
            .map_err(|_| KeyError::DevicePublicKey)
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Short name for logs and messages (first 8 bytes of SHA-256 of the raw key, hex).
    pub fn fingerprint(&self) -> String {
        fingerprint(&self.0)
    }

    pub(crate) fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        UnparsedPublicKey::new(&ED25519, &self.0)
            .verify(message, signature)
            .is_ok()
    }
}

impl fmt::Display for DevicePublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&B64.encode(self.0))
    }
}

impl fmt::Debug for DevicePublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DevicePublicKey({self})")
    }
}

impl FromStr for DevicePublicKey {
    type Err = KeyError;
    fn from_str(s: &str) -> Result<Self, KeyError> {
        let raw = B64
            .decode(s.trim())
            .map_err(|_| KeyError::DevicePublicKey)?;
        Self::from_bytes(&raw)
    }
}

/// A public key batches are encrypted to (`age1...`).
#[derive(Clone)]
pub struct Recipient {
    inner: age::x25519::Recipient,
    text: String,
}

impl Recipient {
    /// The recipient key id written in batch headers (see [`fingerprint`]).
    pub fn key_id(&self) -> String {
        fingerprint(self.text.as_bytes())
    }

    pub(crate) fn age(&self) -> &age::x25519::Recipient {
        &self.inner
    }
}

impl FromStr for Recipient {
    type Err = KeyError;
    fn from_str(s: &str) -> Result<Self, KeyError> {
        let s = s.trim();
        let inner =
            age::x25519::Recipient::from_str(s).map_err(|_| KeyError::Recipient(s.into()))?;
        // Canonical text (bech32 is case-insensitive; age writes lower case), so key ids agree.
        let text = inner.to_string();
        Ok(Self { inner, text })
    }
}

impl fmt::Display for Recipient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Debug for Recipient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Recipient({})", self.text)
    }
}

impl PartialEq for Recipient {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

/// A private key that opens batches (`AGE-SECRET-KEY-1...`): the server's, or the escrow key.
#[derive(Clone)]
pub struct Identity {
    inner: age::x25519::Identity,
}

impl Identity {
    pub fn generate() -> Self {
        Self {
            inner: age::x25519::Identity::generate(),
        }
    }

    /// Reads an identity file as `age-keygen` and `fieldpost keys new` write it: `#` comment lines
    /// and blank lines are skipped, and the first remaining line must be the key.
    pub fn from_file_text(text: &str) -> Result<Self, KeyError> {
        let line = text
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty() && !l.starts_with('#'))
            .ok_or(KeyError::Identity)?;
        line.parse()
    }

    /// The secret text form, `AGE-SECRET-KEY-1...`. Handle with care.
    pub fn to_secret_string(&self) -> String {
        self.inner.to_string().expose_secret().to_string()
    }

    /// The matching recipient (public key).
    pub fn to_public(&self) -> Recipient {
        let inner = self.inner.to_public();
        let text = inner.to_string();
        Recipient { inner, text }
    }

    pub(crate) fn age(&self) -> &age::x25519::Identity {
        &self.inner
    }
}

impl FromStr for Identity {
    type Err = KeyError;
    fn from_str(s: &str) -> Result<Self, KeyError> {
        let inner = age::x25519::Identity::from_str(s.trim()).map_err(|_| KeyError::Identity)?;
        Ok(Self { inner })
    }
}

impl fmt::Debug for Identity {
    /// Never prints the secret, only the key id of the public half.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Identity({})", self.to_public().key_id())
    }
}
