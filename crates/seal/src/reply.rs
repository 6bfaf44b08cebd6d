//! Signed server replies: how a device knows an answer came from its own server.
//!
//! The server has an Ed25519 key (its identity) beside its age key. The device pins that key at
//! enrolment: the enrolment code comes with the key's [`ServerPublicKey::fingerprint`] (typed,
//! read aloud or scanned), and the device refuses an enrolment reply not signed by a key with that
//! fingerprint. From then on every reply the device acts on (acknowledgements, recipient lists,
//! assignments, questionnaires, and errors too: a forged "refused" must not isolate an interview)
//! carries a signature by the pinned key, and a reply without a valid one changes nothing.
//!
//! What is signed ([`ReplyContext::message`]): a domain-separation label, the request's method and
//! path, the hash of the device's bearer token (so a reply to one device cannot be shown to
//! another), a random nonce the device sent with the request (so an old reply cannot be replayed),
//! the HTTP status and the body. Signatures travel in HTTP headers ([`SIGNATURE_HEADER`],
//! [`SIGNER_HEADER`]), so bodies stay plain JSON that curl and older readers parse as before.
//!
//! Rotation: a new server key is endorsed by the old one ([`Endorsement`]); replies signed by the
//! new key carry the chain of endorsements, and a device that pinned an older key follows the
//! chain, link by verified link, to the new key and pins it. Nothing here is new cryptography:
//! Ed25519 signatures (ring) over length-prefixed fields.

use crate::error::KeyError;
use crate::keys::Ed25519Pair;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use ring::digest::{SHA256, digest};
use ring::signature::{ED25519, UnparsedPublicKey};
use std::fmt;
use std::str::FromStr;
use thiserror::Error;

/// Header with the base64 signature over [`ReplyContext::message`].
pub const SIGNATURE_HEADER: &str = "x-fieldpost-signature";
/// Header with the signing key (base64 of its 32 raw bytes).
pub const SIGNER_HEADER: &str = "x-fieldpost-signer";
/// Header with the endorsement chain when the signer is not the first server key
/// (see [`Endorsement::chain_to_header`]).
pub const ENDORSEMENTS_HEADER: &str = "x-fieldpost-endorsements";
/// Request header with the device's random nonce (base64 or hex; at most 64 characters).
pub const NONCE_HEADER: &str = "x-fieldpost-nonce";

const REPLY_LABEL: &[u8] = b"fieldpost-reply-v1";
const ENDORSE_LABEL: &[u8] = b"fieldpost-server-key-endorsement-v1";
/// Longest nonce the server accepts into a signature (it is only echoed, never interpreted).
pub const MAX_NONCE_LEN: usize = 64;

/// Why a reply is not trusted. Each one means "change nothing on the device".
#[derive(Debug, Error, PartialEq, Eq)]
pub enum ReplyError {
    #[error(
        "the reply is not signed by a server (no signature); it may have been altered on the way"
    )]
    Unsigned,
    #[error("the reply's signature or signing key cannot be read")]
    Malformed,
    #[error(
        "the reply is signed by key {found}, not by the server this device enrolled with ({pinned})"
    )]
    UnknownSigner { found: String, pinned: String },
    #[error("the reply's signature does not verify: it was altered on the way or forged")]
    BadSignature,
    #[error(
        "the server's key has fingerprint {found}, not {expected} as on the enrolment sheet; \
         check the address and the fingerprint with your supervisor"
    )]
    FingerprintMismatch { expected: String, found: String },
}

/// The server's signing key (Ed25519), kept as its PKCS#8 document.
pub struct ServerSigningKey(Ed25519Pair);

impl ServerSigningKey {
    pub fn generate() -> Result<Self, KeyError> {
        Ed25519Pair::generate().map(Self)
    }

    pub fn from_pkcs8(pkcs8: &[u8]) -> Result<Self, KeyError> {
        Ed25519Pair::from_pkcs8(pkcs8)
            .map(Self)
            .ok_or(KeyError::ServerSigningKey)
    }

    /// The PKCS#8 document, to keep in the server's data folder (secret).
    pub fn pkcs8(&self) -> &[u8] {
        self.0.pkcs8()
    }

    pub fn public_key(&self) -> ServerPublicKey {
        ServerPublicKey(self.0.public_raw())
    }

    /// Signs one reply; the result goes in [`SIGNATURE_HEADER`].
    pub fn sign_reply(&self, ctx: &ReplyContext<'_>, status: u16, body: &[u8]) -> String {
        B64.encode(self.0.sign(&ctx.message(status, body)))
    }

    /// Endorses `next` as this server's successor key.
    pub fn endorse(&self, next: &ServerPublicKey) -> Endorsement {
        Endorsement {
            key: *next,
            signature: self.0.sign(&endorse_message(next)),
        }
    }
}

impl fmt::Debug for ServerSigningKey {
    /// Never prints the secret.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ServerSigningKey({})", self.public_key().fingerprint())
    }
}

/// The server's public signing key. Text form: standard base64 of the 32 raw bytes.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ServerPublicKey([u8; 32]);

impl ServerPublicKey {
    pub fn from_bytes(raw: &[u8]) -> Result<Self, KeyError> {
        raw.try_into()
            .map(Self)
            .map_err(|_| KeyError::ServerPublicKey)
    }

    /// What the enrolment sheet prints and a person reads aloud: the first 10 bytes of SHA-256
    /// of the raw key, as 20 hex digits in five groups of four (`3f2a-9c01-…`). 80 bits: finding
    /// another key with the same fingerprint costs about 2^80 key generations.
    pub fn fingerprint(&self) -> String {
        let d = digest(&SHA256, &self.0);
        let hex: String = d.as_ref()[..10]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        hex.as_bytes()
            .chunks(4)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect::<Vec<_>>()
            .join("-")
    }

    fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        UnparsedPublicKey::new(&ED25519, &self.0)
            .verify(message, signature)
            .is_ok()
    }
}

/// Compares fingerprints as a person types them: case, spaces and dashes do not matter.
pub fn same_fingerprint(typed: &str, actual: &str) -> bool {
    let norm = |s: &str| -> String {
        s.chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .map(|c| c.to_ascii_lowercase())
            .collect()
    };
    let t = norm(typed);
    !t.is_empty() && t == norm(actual)
}

impl fmt::Display for ServerPublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&B64.encode(self.0))
    }
}

impl fmt::Debug for ServerPublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ServerPublicKey({})", self.fingerprint())
    }
}

impl FromStr for ServerPublicKey {
    type Err = KeyError;
    fn from_str(s: &str) -> Result<Self, KeyError> {
        let raw = B64
            .decode(s.trim())
            .map_err(|_| KeyError::ServerPublicKey)?;
        Self::from_bytes(&raw)
    }
}

/// What a reply is bound to besides its status and body.
#[derive(Debug, Clone, Copy)]
pub struct ReplyContext<'a> {
    /// `GET`, `POST`, ... (upper case).
    pub method: &'a str,
    /// The request path with its query, as sent (`/api/v1/device/batches`).
    pub path: &'a str,
    /// The bearer token the request carried (empty for enrolment). Only its hash is signed.
    pub token: &'a str,
    /// The nonce the device sent in [`NONCE_HEADER`] (empty if none).
    pub nonce: &'a str,
}

impl ReplyContext<'_> {
    /// The signed bytes: each field length-prefixed (u32 big-endian), so no two different
    /// replies give the same message.
    pub fn message(&self, status: u16, body: &[u8]) -> Vec<u8> {
        let token_hash = digest(&SHA256, self.token.as_bytes());
        let status = status.to_string();
        let fields: [&[u8]; 7] = [
            REPLY_LABEL,
            self.method.as_bytes(),
            self.path.as_bytes(),
            token_hash.as_ref(),
            self.nonce.as_bytes(),
            status.as_bytes(),
            body,
        ];
        let mut out = Vec::with_capacity(body.len() + 128);
        for f in fields {
            out.extend_from_slice(&(f.len() as u32).to_be_bytes());
            out.extend_from_slice(f);
        }
        out
    }
}

/// A server key signed by its predecessor: one link of a rotation chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Endorsement {
    pub key: ServerPublicKey,
    signature: [u8; 64],
}

fn endorse_message(next: &ServerPublicKey) -> Vec<u8> {
    let mut m = ENDORSE_LABEL.to_vec();
    m.extend_from_slice(&next.0);
    m
}

impl Endorsement {
    /// `key.signature` in base64, links separated by commas, oldest first.
    pub fn chain_to_header(chain: &[Endorsement]) -> String {
        chain
            .iter()
            .map(|e| format!("{}.{}", e.key, B64.encode(e.signature)))
            .collect::<Vec<_>>()
            .join(",")
    }

    pub fn chain_from_header(text: &str) -> Result<Vec<Endorsement>, ReplyError> {
        text.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|link| {
                let (k, s) = link.split_once('.').ok_or(ReplyError::Malformed)?;
                let key: ServerPublicKey = k.parse().map_err(|_| ReplyError::Malformed)?;
                let raw = B64.decode(s).map_err(|_| ReplyError::Malformed)?;
                let signature: [u8; 64] = raw.try_into().map_err(|_| ReplyError::Malformed)?;
                Ok(Endorsement { key, signature })
            })
            .collect()
    }
}

/// A reply's signature headers, as received.
#[derive(Debug, Clone, Default)]
pub struct ReplySignature<'a> {
    pub signature: Option<&'a str>,
    pub signer: Option<&'a str>,
    pub endorsements: Option<&'a str>,
}

/// Checks a reply against the pinned server key. Returns the key that signed it: the pinned one,
/// or its successor reached through verified endorsements (the device then pins that one).
pub fn verify_reply(
    pinned: &ServerPublicKey,
    ctx: &ReplyContext<'_>,
    status: u16,
    body: &[u8],
    sig: &ReplySignature<'_>,
) -> Result<ServerPublicKey, ReplyError> {
    let signer = signer_of(sig)?;
    if signer != *pinned {
        let chain = Endorsement::chain_from_header(sig.endorsements.unwrap_or(""))?;
        follow_chain(pinned, &chain, &signer)?;
    }
    check_signature(&signer, ctx, status, body, sig)?;
    Ok(signer)
}

/// Checks an enrolment reply, before anything is pinned: its signer must have the fingerprint
/// the enumerator typed (from the enrolment sheet). Returns the key to pin.
pub fn verify_enrolment_reply(
    fingerprint: &str,
    ctx: &ReplyContext<'_>,
    status: u16,
    body: &[u8],
    sig: &ReplySignature<'_>,
) -> Result<ServerPublicKey, ReplyError> {
    let signer = signer_of(sig)?;
    if !same_fingerprint(fingerprint, &signer.fingerprint()) {
        return Err(ReplyError::FingerprintMismatch {
            expected: fingerprint.trim().to_string(),
            found: signer.fingerprint(),
        });
    }
    check_signature(&signer, ctx, status, body, sig)?;
    Ok(signer)
}

fn signer_of(sig: &ReplySignature<'_>) -> Result<ServerPublicKey, ReplyError> {
    sig.signer
        .ok_or(ReplyError::Unsigned)?
        .parse()
        .map_err(|_| ReplyError::Malformed)
}

fn check_signature(
    signer: &ServerPublicKey,
    ctx: &ReplyContext<'_>,
    status: u16,
    body: &[u8],
    sig: &ReplySignature<'_>,
) -> Result<(), ReplyError> {
    let raw = B64
        .decode(sig.signature.ok_or(ReplyError::Unsigned)?.trim())
        .map_err(|_| ReplyError::Malformed)?;
    if signer.verify(&ctx.message(status, body), &raw) {
        Ok(())
    } else {
        Err(ReplyError::BadSignature)
    }
}

/// Walks the chain from the pinned key: each link must be signed by the key before it.
fn follow_chain(
    pinned: &ServerPublicKey,
    chain: &[Endorsement],
    signer: &ServerPublicKey,
) -> Result<(), ReplyError> {
    let unknown = || ReplyError::UnknownSigner {
        found: signer.fingerprint(),
        pinned: pinned.fingerprint(),
    };
    // Start after the link that introduced the pinned key (or at the start, for the first key).
    let start = chain
        .iter()
        .position(|e| e.key == *pinned)
        .map_or(0, |i| i + 1);
    let mut current = *pinned;
    for link in &chain[start..] {
        if !current.verify(&endorse_message(&link.key), &link.signature) {
            return Err(unknown());
        }
        current = link.key;
        if current == *signer {
            return Ok(());
        }
    }
    Err(unknown())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx<'a>(nonce: &'a str) -> ReplyContext<'a> {
        ReplyContext {
            method: "POST",
            path: "/api/v1/device/batches",
            token: "fpd_token",
            nonce,
        }
    }

    fn signed<'a>(key: &ServerSigningKey, sig: &'a str, signer: &'a str) -> ReplySignature<'a> {
        let _ = key;
        ReplySignature {
            signature: Some(sig),
            signer: Some(signer),
            endorsements: None,
        }
    }

    #[test]
    fn a_signed_reply_verifies_and_any_change_does_not() {
        let key = ServerSigningKey::generate().expect("key");
        let pinned = key.public_key();
        let s = key.sign_reply(&ctx("n1"), 200, b"{\"ok\":1}");
        let signer = pinned.to_string();
        let h = signed(&key, &s, &signer);
        assert_eq!(
            verify_reply(&pinned, &ctx("n1"), 200, b"{\"ok\":1}", &h),
            Ok(pinned)
        );
        // Another body, status, nonce (a replay), path or token: refused.
        let bad = [
            verify_reply(&pinned, &ctx("n1"), 200, b"{\"ok\":2}", &h),
            verify_reply(&pinned, &ctx("n1"), 201, b"{\"ok\":1}", &h),
            verify_reply(&pinned, &ctx("n2"), 200, b"{\"ok\":1}", &h),
            verify_reply(
                &pinned,
                &ReplyContext {
                    path: "/api/v1/device/recipients",
                    ..ctx("n1")
                },
                200,
                b"{\"ok\":1}",
                &h,
            ),
            verify_reply(
                &pinned,
                &ReplyContext {
                    token: "fpd_other",
                    ..ctx("n1")
                },
                200,
                b"{\"ok\":1}",
                &h,
            ),
        ];
        for r in bad {
            assert_eq!(r, Err(ReplyError::BadSignature));
        }
        let none = ReplySignature::default();
        assert_eq!(
            verify_reply(&pinned, &ctx("n1"), 200, b"", &none),
            Err(ReplyError::Unsigned)
        );
    }

    #[test]
    fn a_reply_signed_by_another_key_is_refused() {
        let ours = ServerSigningKey::generate().expect("key");
        let theirs = ServerSigningKey::generate().expect("key");
        let s = theirs.sign_reply(&ctx("n"), 200, b"x");
        let signer = theirs.public_key().to_string();
        let r = verify_reply(
            &ours.public_key(),
            &ctx("n"),
            200,
            b"x",
            &signed(&theirs, &s, &signer),
        );
        assert!(matches!(r, Err(ReplyError::UnknownSigner { .. })), "{r:?}");
    }

    #[test]
    fn enrolment_replies_are_checked_against_the_typed_fingerprint() {
        let key = ServerSigningKey::generate().expect("key");
        let fp = key.public_key().fingerprint();
        assert_eq!(fp.len(), 24, "20 hex digits and 4 dashes: {fp}");
        let s = key.sign_reply(&ctx(""), 200, b"{}");
        let signer = key.public_key().to_string();
        let h = signed(&key, &s, &signer);
        let typed = fp.to_uppercase().replace('-', " ");
        assert_eq!(
            verify_enrolment_reply(&typed, &ctx(""), 200, b"{}", &h),
            Ok(key.public_key())
        );
        let other = ServerSigningKey::generate().expect("key").public_key();
        assert!(matches!(
            verify_enrolment_reply(&other.fingerprint(), &ctx(""), 200, b"{}", &h),
            Err(ReplyError::FingerprintMismatch { .. })
        ));
        assert!(!same_fingerprint("", &fp));
    }

    /// Rotation: k1 -> k2 -> k3. A device that pinned k1 accepts k3's replies through the
    /// chain; a chain with a link k1 did not sign is refused.
    #[test]
    fn rotated_keys_are_followed_through_verified_endorsements_only() {
        let k1 = ServerSigningKey::generate().expect("key");
        let k2 = ServerSigningKey::generate().expect("key");
        let k3 = ServerSigningKey::generate().expect("key");
        let chain = [k1.endorse(&k2.public_key()), k2.endorse(&k3.public_key())];
        let header = Endorsement::chain_to_header(&chain);
        assert_eq!(
            Endorsement::chain_from_header(&header).expect("parses"),
            chain
        );
        let s = k3.sign_reply(&ctx("n"), 200, b"b");
        let signer = k3.public_key().to_string();
        let h = ReplySignature {
            signature: Some(&s),
            signer: Some(&signer),
            endorsements: Some(&header),
        };
        assert_eq!(
            verify_reply(&k1.public_key(), &ctx("n"), 200, b"b", &h),
            Ok(k3.public_key())
        );
        assert_eq!(
            verify_reply(&k2.public_key(), &ctx("n"), 200, b"b", &h),
            Ok(k3.public_key())
        );
        // An attacker's key endorsed by itself, not by k1.
        let evil = ServerSigningKey::generate().expect("key");
        let forged = Endorsement::chain_to_header(&[evil.endorse(&evil.public_key())]);
        let s = evil.sign_reply(&ctx("n"), 200, b"b");
        let signer = evil.public_key().to_string();
        let h = ReplySignature {
            signature: Some(&s),
            signer: Some(&signer),
            endorsements: Some(&forged),
        };
        assert!(matches!(
            verify_reply(&k1.public_key(), &ctx("n"), 200, b"b", &h),
            Err(ReplyError::UnknownSigner { .. })
        ));
    }
}
