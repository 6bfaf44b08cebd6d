//! fieldpost-seal: the sealed-batch format, how finished interviews leave a device.
//!
//! A batch is a cleartext header (routing and progress fields, nothing personal), the payload
//! compressed with zstd and encrypted to one or more age X25519 recipients (normally the server's
//! key and an offline escrow key), and an Ed25519 signature by the device over both. The format
//! is written up, with test vectors, in `docs/sealed-batch.md`.
//!
//! This crate is pure: bytes in, bytes out, no files, no network, no clock (the caller gives the
//! creation time). It does not know what an interview looks like: the payload is opaque bytes (the
//! store serializes interviews; the server parses them). It never invents cryptography: the
//! encryption is the age format (crate `age`), signatures and digests are `ring`.
//!
//! ```
//! use fieldpost_seal::*;
//! let device = DeviceSigningKey::generate().unwrap();
//! let server = Identity::generate();
//! let escrow = Identity::generate();
//! let input = SealInput {
//!     batch_id: uuid::Uuid::now_v7(),
//!     device_id: uuid::Uuid::now_v7(),
//!     sequence: 1,
//!     created_at: chrono::Utc::now(),
//!     interviews: &[],
//!     payload: b"[]",
//! };
//! let batch = seal(&input, &device, &[server.to_public(), escrow.to_public()]).unwrap();
//! let routed = peek_header(&batch).unwrap(); // find the device's key by routed.device_id
//! let opened = open(&batch, &device.public_key(), &[escrow]).unwrap();
//! assert_eq!(opened.payload, b"[]");
//! assert_eq!(opened.header, routed);
//! ```

mod envelope;
mod error;
mod header;
mod keys;
mod parsed;
mod payload;
pub mod reply;

pub use envelope::MAGIC;
pub use error::{KeyError, OpenError, SealError};
pub use header::{
    FORMAT_VERSION, Header, InterviewSummary, MAX_FIELD_BYTES, MAX_HEADER_BYTES, MAX_INTERVIEWS,
};
pub use keys::{DevicePublicKey, DeviceSigningKey, Identity, Recipient};
pub use parsed::{Keyring, Parsed, Verified};
pub use reply::{ServerPublicKey, ServerSigningKey};

use chrono::{DateTime, Utc};
use std::fmt;
use std::io::{Read, Write};
use uuid::Uuid;

/// Largest payload (uncompressed) a batch may carry by default: 64 MiB, about 20,000 SIPAS
/// interviews. Opening refuses anything that decompresses to more.
pub const DEFAULT_MAX_PAYLOAD_BYTES: u64 = 64 << 20;

/// What the device seals. The header is built from these fields and the recipients' key ids.
#[derive(Debug, Clone)]
pub struct SealInput<'a> {
    /// A fresh UUIDv7 (`Uuid::now_v7()`).
    pub batch_id: Uuid,
    pub device_id: Uuid,
    /// This device's next sequence number; never reuse one for different content.
    pub sequence: u64,
    pub created_at: DateTime<Utc>,
    /// One summary per interview in the payload, in the same order.
    pub interviews: &'a [InterviewSummary],
    /// The serialized interviews (opaque to this crate).
    pub payload: &'a [u8],
}

/// An opened batch: the verified header and the decrypted, checked payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opened {
    pub header: Header,
    pub payload: Vec<u8>,
}

/// Limits applied when opening untrusted bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest decompressed payload accepted; beyond it opening fails with `PayloadTooLarge`.
    pub max_payload_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_payload_bytes: DEFAULT_MAX_PAYLOAD_BYTES,
        }
    }
}

/// SHA-256 of a whole batch as transmitted: with (device, sequence), the idempotency key.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct BatchDigest(pub [u8; 32]);

impl fmt::Display for BatchDigest {
    /// Lower-case hex, as `sha256sum` prints it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

impl fmt::Debug for BatchDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BatchDigest({self})")
    }
}

/// SHA-256 of the batch bytes.
pub fn digest(batch: &[u8]) -> BatchDigest {
    let mut out = [0u8; 32];
    out.copy_from_slice(ring::digest::digest(&ring::digest::SHA256, batch).as_ref());
    BatchDigest(out)
}

/// Seals a batch with the default payload limit.
pub fn seal(
    input: &SealInput<'_>,
    device: &DeviceSigningKey,
    recipients: &[Recipient],
) -> Result<Vec<u8>, SealError> {
    seal_with_limits(input, device, recipients, &Limits::default())
}

/// Seals a batch: builds the header, compresses and encrypts the payload, signs both.
pub fn seal_with_limits(
    input: &SealInput<'_>,
    device: &DeviceSigningKey,
    recipients: &[Recipient],
    limits: &Limits,
) -> Result<Vec<u8>, SealError> {
    if recipients.is_empty() {
        return Err(SealError::NoRecipients);
    }
    for (i, r) in recipients.iter().enumerate() {
        if recipients[..i].contains(r) {
            return Err(SealError::DuplicateRecipient(r.to_string()));
        }
    }
    if input.interviews.len() > MAX_INTERVIEWS {
        return Err(SealError::TooManyInterviews {
            found: input.interviews.len(),
            max: MAX_INTERVIEWS,
        });
    }
    if input.payload.len() as u64 > limits.max_payload_bytes {
        return Err(SealError::PayloadTooLarge {
            found: input.payload.len(),
            max: limits.max_payload_bytes,
        });
    }
    let header = Header {
        format: FORMAT_VERSION,
        batch_id: input.batch_id,
        device_id: input.device_id,
        sequence: input.sequence,
        created_at: input.created_at,
        interview_count: input.interviews.len() as u32,
        recipients: recipients.iter().map(Recipient::key_id).collect(),
        interviews: input.interviews.to_vec(),
    };
    let header_bytes = header.to_bytes()?;
    let packed = payload::pack(input.payload)?;
    let ciphertext = encrypt(&packed, recipients)?;
    Ok(envelope::join(&header_bytes, &ciphertext, device))
}

fn encrypt(plaintext: &[u8], recipients: &[Recipient]) -> Result<Vec<u8>, SealError> {
    let enc =
        age::Encryptor::with_recipients(recipients.iter().map(|r| r.age() as &dyn age::Recipient))
            .map_err(|e| SealError::Encrypt(e.to_string()))?;
    let mut out = Vec::with_capacity(plaintext.len() + 256 + 200 * recipients.len());
    let io = |e: std::io::Error| SealError::Encrypt(e.to_string());
    let mut w = enc.wrap_output(&mut out).map_err(io)?;
    w.write_all(plaintext).map_err(io)?;
    w.finish().map_err(io)?;
    Ok(out)
}

/// Parses the header WITHOUT verifying anything: only for routing (finding which device's key to
/// verify with). Never trust its contents before [`verify`] or [`open`] succeeds.
///
/// The free functions here each start from the bytes again; code that goes on to verify and
/// open the same batch (a server's ingest) should use [`Parsed`] instead, which does each step
/// once.
pub fn peek_header(batch: &[u8]) -> Result<Header, OpenError> {
    let parts = envelope::split(batch)?;
    Header::parse(parts.header, parts.version)
}

/// Checks the device signature and returns the header, without decrypting: what a server that
/// does not hold a recipient key (or has not decrypted yet) can know for sure.
pub fn verify(batch: &[u8], device: &DevicePublicKey) -> Result<Header, OpenError> {
    let parts = envelope::split(batch)?;
    if !device.verify(parts.signed, parts.signature) {
        return Err(OpenError::BadSignature);
    }
    Header::parse(parts.header, parts.version)
}

/// Opens a batch with the default limits.
pub fn open(
    batch: &[u8],
    device: &DevicePublicKey,
    identities: &[Identity],
) -> Result<Opened, OpenError> {
    open_with_limits(batch, device, identities, &Limits::default())
}

/// Opens a batch: signature, then recipient, then decryption, decompression and payload digest,
/// each failure its own [`OpenError`] variant.
pub fn open_with_limits(
    batch: &[u8],
    device: &DevicePublicKey,
    identities: &[Identity],
    limits: &Limits,
) -> Result<Opened, OpenError> {
    let header = verify(batch, device)?;
    decrypt_checked(batch, header, identities, limits)
}

/// Opens a batch WITHOUT checking the device signature: only for offline recovery from the
/// archive when the device keys are not at hand (the escrow procedure). The payload is authentic
/// to the recipients' keys only, not to any device: anyone who knows the public recipient keys
/// could have made it. Prefer [`open`] whenever the device key is known.
pub fn open_unverified(
    batch: &[u8],
    identities: &[Identity],
    limits: &Limits,
) -> Result<Opened, OpenError> {
    let header = peek_header(batch)?;
    decrypt_checked(batch, header, identities, limits)
}

fn decrypt_checked(
    batch: &[u8],
    header: Header,
    identities: &[Identity],
    limits: &Limits,
) -> Result<Opened, OpenError> {
    let ours: Vec<&Identity> = identities
        .iter()
        .filter(|id| header.recipients.contains(&id.to_public().key_id()))
        .collect();
    if ours.is_empty() {
        return Err(OpenError::NotARecipient {
            batch: header.recipients.clone(),
            ours: identities
                .iter()
                .map(|id| id.to_public().key_id())
                .collect(),
        });
    }
    let ciphertext = envelope::split(batch)?.ciphertext;
    let packed = decrypt(ciphertext, &ours)?;
    let payload = payload::unpack(&packed, limits.max_payload_bytes)?;
    Ok(Opened { header, payload })
}

fn decrypt(ciphertext: &[u8], identities: &[&Identity]) -> Result<Vec<u8>, OpenError> {
    let fail = |e: &dyn fmt::Display| OpenError::Decrypt(e.to_string());
    let dec = age::Decryptor::new(ciphertext).map_err(|e| fail(&e))?;
    let mut reader = dec
        .decrypt(identities.iter().map(|id| id.age() as &dyn age::Identity))
        .map_err(|e| fail(&e))?;
    // The plaintext is never longer than the ciphertext, which is already in memory.
    let mut out = Vec::with_capacity(ciphertext.len());
    reader.read_to_end(&mut out).map_err(|e| fail(&e))?;
    Ok(out)
}
