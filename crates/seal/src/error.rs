//! Typed errors. Each way a batch can fail to open is its own variant, because the server records
//! the reason with the rejected batch (a forged batch and a key mix-up call for different people).

use thiserror::Error;

/// Why a key could not be read or made.
#[derive(Debug, Error)]
pub enum KeyError {
    #[error(
        "the device signing key is not a valid Ed25519 PKCS#8 document; \
         make a new one with `fieldpost keys device-new`"
    )]
    DeviceSigningKey,
    #[error(
        "the device public key must be 32 bytes of Ed25519 public key in base64 (44 characters)"
    )]
    DevicePublicKey,
    #[error("not an age X25519 recipient (expected a string starting with `age1`): {0}")]
    Recipient(String),
    #[error(
        "not an age X25519 identity (expected a line starting with `AGE-SECRET-KEY-1`); \
         check that the file is the private key, not the public one"
    )]
    Identity,
    #[error("the system random number generator failed")]
    Random,
    #[error(
        "the server signing key is not a valid Ed25519 PKCS#8 document; \
         make a new one by removing it (a new one is made at start) and re-enrolling devices, \
         or rotate with `fieldpost keys rotate-server`"
    )]
    ServerSigningKey,
    #[error("a server public key must be 32 bytes of Ed25519 public key in base64 (44 characters)")]
    ServerPublicKey,
}

/// Why a batch could not be sealed. These are caller mistakes or resource limits, never
/// properties of respondents' data.
#[derive(Debug, Error)]
pub enum SealError {
    #[error("a batch needs at least one recipient (normally the server key and the escrow key)")]
    NoRecipients,
    #[error("the same recipient key {0} is listed twice")]
    DuplicateRecipient(String),
    #[error("a batch holds at most {max} interviews, this one has {found}; split it")]
    TooManyInterviews { found: usize, max: usize },
    #[error("the payload is {found} bytes, more than the {max} bytes a batch may carry; split it")]
    PayloadTooLarge { found: usize, max: u64 },
    #[error("the header would be {found} bytes, more than the {max} allowed; use fewer interviews")]
    HeaderTooLarge { found: usize, max: u32 },
    #[error("header field {field} is invalid: {reason}")]
    InvalidField { field: &'static str, reason: String },
    #[error("compression failed: {0}")]
    Compress(std::io::Error),
    #[error("age encryption failed: {0}")]
    Encrypt(String),
}

/// Why a batch could not be opened (or its header read). Checked in this order: framing,
/// version, signature, recipient, decryption, decompression, payload digest.
#[derive(Debug, Error)]
pub enum OpenError {
    #[error("not a FieldPost sealed batch (the first bytes are not the batch magic)")]
    NotABatch,
    #[error(
        "sealed batch format version {found} is not supported (this build reads version {supported}); \
         update FieldPost"
    )]
    UnsupportedVersion { found: u16, supported: u16 },
    #[error("the batch is truncated or malformed: {0}")]
    Malformed(&'static str),
    #[error("the batch header is {found} bytes, more than the {max} allowed")]
    HeaderTooLarge { found: u64, max: u32 },
    #[error("the batch header is not valid: {0}")]
    InvalidHeader(String),
    #[error(
        "the device signature does not verify: the batch was altered, forged, or sent by another \
         device than the one whose key was given"
    )]
    BadSignature,
    #[error(
        "none of the given identities is a recipient of this batch (batch recipients: {batch:?}; \
         identities given: {ours:?}); use the server key or the escrow key"
    )]
    NotARecipient {
        batch: Vec<String>,
        ours: Vec<String>,
    },
    #[error("decryption failed although the recipient key matches: {0}")]
    Decrypt(String),
    #[error("the decrypted payload is not valid compressed data: {0}")]
    Decompress(String),
    #[error(
        "the payload decompresses to more than {max} bytes; refusing (possible compression bomb)"
    )]
    PayloadTooLarge { max: u64 },
    #[error("the payload digest does not match: the sealed content is corrupt")]
    PayloadDigest,
}
