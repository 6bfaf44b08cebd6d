//! The typed way to open a batch: [`Parsed`] -> [`Verified`] -> [`Opened`].
//!
//! Why types rather than the free functions over bytes: a server that calls `peek_header`, then
//! `verify`, then `open`, then `digest` splits the envelope three times, parses the header three
//! times, checks the signature twice and hashes the batch twice. Here each step consumes the
//! previous one and keeps what it learnt, so the envelope is split once, the header parsed once,
//! the batch hashed once, the signature checked once and the ciphertext decrypted once, by
//! construction; and a [`Verified`] can only exist after its signature was checked.
//!
//! ```
//! use fieldpost_seal::*;
//! let device = DeviceSigningKey::generate().unwrap();
//! let server = Identity::generate();
//! let input = SealInput {
//!     batch_id: uuid::Uuid::now_v7(),
//!     device_id: uuid::Uuid::now_v7(),
//!     sequence: 1,
//!     created_at: chrono::Utc::now(),
//!     interviews: &[],
//!     payload: b"[]",
//! };
//! let batch = seal(&input, &device, &[server.to_public()]).unwrap();
//! let keys = Keyring::new(vec![server]); // once, at start
//! let parsed = Parsed::from_bytes(&batch).unwrap(); // route by parsed.header().device_id
//! let verified = parsed.verify(&device.public_key()).unwrap();
//! let digest = verified.digest();
//! let opened = verified.open(&keys, &Limits::default()).unwrap();
//! assert_eq!(opened.payload, b"[]");
//! assert_eq!(digest, fieldpost_seal::digest(&batch));
//! ```

use crate::envelope::{self, Parts};
use crate::error::OpenError;
use crate::header::Header;
use crate::keys::{DevicePublicKey, Identity};
use crate::{BatchDigest, Limits, Opened};

/// The server's recipient identities with their key ids, derived once (deriving a key id is an
/// X25519 scalar multiplication, too costly to repeat for every batch).
#[derive(Clone, Default)]
pub struct Keyring {
    entries: Vec<(String, Identity)>,
}

impl Keyring {
    pub fn new(identities: Vec<Identity>) -> Self {
        Self {
            entries: identities
                .into_iter()
                .map(|id| (id.to_public().key_id(), id))
                .collect(),
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The key ids, as a batch header lists its recipients.
    pub fn key_ids(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|(k, _)| k.as_str())
    }

    /// Our identities among the batch's recipients.
    pub(crate) fn for_recipients<'k>(&'k self, recipients: &[String]) -> Vec<&'k Identity> {
        self.entries
            .iter()
            .filter(|(k, _)| recipients.contains(k))
            .map(|(_, id)| id)
            .collect()
    }
}

impl std::fmt::Debug for Keyring {
    /// Key ids only: never the private keys.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.key_ids()).finish()
    }
}

/// A batch whose framing and header were read, and whose digest was computed, but NOTHING
/// verified: its header is only good for routing (finding the device key by `device_id`).
pub struct Parsed<'a> {
    parts: Parts<'a>,
    header: Header,
    digest: BatchDigest,
    len: usize,
}

impl<'a> Parsed<'a> {
    /// Splits the envelope (magic, version, lengths), parses the header, hashes the bytes.
    pub fn from_bytes(bytes: &'a [u8]) -> Result<Self, OpenError> {
        let parts = envelope::split(bytes)?;
        let header = Header::parse(parts.header, parts.version)?;
        Ok(Self {
            parts,
            header,
            digest: crate::digest(bytes),
            len: bytes.len(),
        })
    }

    /// The UNVERIFIED header: never trust it before [`Parsed::verify`] succeeds.
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// SHA-256 of the whole batch as transmitted.
    pub fn digest(&self) -> BatchDigest {
        self.digest
    }

    /// Length of the batch in bytes.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Checks the device signature over header and ciphertext: `BadSignature` when it fails.
    pub fn verify(self, device: &DevicePublicKey) -> Result<Verified<'a>, OpenError> {
        if !device.verify(self.parts.signed, self.parts.signature) {
            return Err(OpenError::BadSignature);
        }
        Ok(Verified(self))
    }

    /// Skips the signature: only for offline recovery from the archive when the device keys are
    /// not at hand (see [`crate::open_unverified`]).
    pub fn open_unverified(self, keys: &Keyring, limits: &Limits) -> Result<Opened, OpenError> {
        Verified(self).open(keys, limits)
    }
}

/// A batch whose device signature was checked: its header is what the device signed.
pub struct Verified<'a>(Parsed<'a>);

impl Verified<'_> {
    pub fn header(&self) -> &Header {
        &self.0.header
    }

    pub fn digest(&self) -> BatchDigest {
        self.0.digest
    }

    pub fn len(&self) -> usize {
        self.0.len
    }

    pub fn is_empty(&self) -> bool {
        self.0.len == 0
    }

    /// Decrypts with our identities among the recipients, decompresses within `limits` and
    /// checks the payload digest: `NotARecipient`, `Decrypt`, `Decompress`, `PayloadTooLarge`,
    /// `PayloadDigest`.
    pub fn open(self, keys: &Keyring, limits: &Limits) -> Result<Opened, OpenError> {
        let Parsed { parts, header, .. } = self.0;
        let ours = keys.for_recipients(&header.recipients);
        if ours.is_empty() {
            return Err(OpenError::NotARecipient {
                batch: header.recipients.clone(),
                ours: keys.key_ids().map(str::to_string).collect(),
            });
        }
        let packed = crate::decrypt(parts.ciphertext, &ours)?;
        let payload = crate::payload::unpack(&packed, limits.max_payload_bytes)?;
        Ok(Opened { header, payload })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{DeviceSigningKey, SealInput, seal};

    fn batch(device: &DeviceSigningKey, to: &[&Identity]) -> Vec<u8> {
        let input = SealInput {
            batch_id: uuid::Uuid::now_v7(),
            device_id: uuid::Uuid::now_v7(),
            sequence: 7,
            created_at: chrono::Utc::now(),
            interviews: &[],
            payload: b"[1,2,3]",
        };
        let recipients: Vec<_> = to.iter().map(|i| i.to_public()).collect();
        seal(&input, device, &recipients).expect("seals")
    }

    /// The typed path opens to exactly what the free functions give, with the same digest.
    #[test]
    fn typed_path_agrees_with_the_free_functions() {
        let device = DeviceSigningKey::generate().expect("key");
        let (server, escrow) = (Identity::generate(), Identity::generate());
        let bytes = batch(&device, &[&server, &escrow]);
        let parsed = Parsed::from_bytes(&bytes).expect("parses");
        assert_eq!(parsed.header(), &crate::peek_header(&bytes).expect("peeks"));
        assert_eq!(parsed.len(), bytes.len());
        let verified = parsed.verify(&device.public_key()).expect("verifies");
        assert_eq!(verified.digest(), crate::digest(&bytes));
        let opened = verified
            .open(&Keyring::new(vec![server.clone()]), &Limits::default())
            .expect("opens");
        let free = crate::open(&bytes, &device.public_key(), &[server]).expect("opens");
        assert_eq!(opened, free);
        assert_eq!(opened.payload, b"[1,2,3]");
    }

    /// Another device's key gives no `Verified`; a keyring without our recipients names both
    /// sides' key ids.
    #[test]
    fn refusals_keep_their_error() {
        let device = DeviceSigningKey::generate().expect("key");
        let other = DeviceSigningKey::generate().expect("key");
        let server = Identity::generate();
        let bytes = batch(&device, &[&server]);
        let forged = Parsed::from_bytes(&bytes)
            .expect("parses")
            .verify(&other.public_key());
        assert!(matches!(forged, Err(OpenError::BadSignature)));
        let stranger = Keyring::new(vec![Identity::generate()]);
        let not_ours = Parsed::from_bytes(&bytes)
            .expect("parses")
            .verify(&device.public_key())
            .expect("verifies")
            .open(&stranger, &Limits::default());
        match not_ours {
            Err(OpenError::NotARecipient { batch, ours }) => {
                assert_eq!(batch, vec![server.to_public().key_id()]);
                assert_eq!(
                    ours,
                    stranger.key_ids().map(str::to_string).collect::<Vec<_>>()
                );
            }
            other => panic!("expected NotARecipient, got {:?}", other.map(|o| o.header)),
        }
        let mut cut = bytes.clone();
        cut.pop();
        assert!(Parsed::from_bytes(&cut).is_err());
    }
}
