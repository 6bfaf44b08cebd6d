//! Byte framing of a batch (big-endian lengths):
//!
//! ```text
//! magic (8) | version u16 | header length u32 | header | ciphertext length u64 | ciphertext | signature (64)
//! ```
//!
//! The signature covers every byte before it, exactly as transmitted. Lengths are checked against
//! what is actually there before anything is sliced, so no input can make us read out of bounds or
//! allocate from a length field.

use crate::error::OpenError;
use crate::header::{FORMAT_VERSION, MAX_HEADER_BYTES};
use crate::keys::DeviceSigningKey;

/// `\x89FPSB\r\n\x1a`: a non-ASCII first byte (never a text message, so no other protocol signing
/// with the device key can produce it) and the CR LF / Ctrl-Z that reveal text-mode mangling.
pub const MAGIC: [u8; 8] = *b"\x89FPSB\r\n\x1a";
pub(crate) const SIGNATURE_LEN: usize = 64;

/// The parts of a batch, borrowed from its bytes.
pub(crate) struct Parts<'a> {
    pub version: u16,
    pub header: &'a [u8],
    pub ciphertext: &'a [u8],
    /// Everything the signature covers.
    pub signed: &'a [u8],
    pub signature: &'a [u8],
}

/// Builds and signs a batch.
pub(crate) fn join(header: &[u8], ciphertext: &[u8], key: &DeviceSigningKey) -> Vec<u8> {
    let mut out =
        Vec::with_capacity(8 + 2 + 4 + header.len() + 8 + ciphertext.len() + SIGNATURE_LEN);
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&FORMAT_VERSION.to_be_bytes());
    out.extend_from_slice(&(header.len() as u32).to_be_bytes());
    out.extend_from_slice(header);
    out.extend_from_slice(&(ciphertext.len() as u64).to_be_bytes());
    out.extend_from_slice(ciphertext);
    let signature = key.sign(&out);
    out.extend_from_slice(&signature);
    out
}

/// A cursor that refuses to read past the end.
struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: u64, what: &'static str) -> Result<&'a [u8], OpenError> {
        let left = (self.bytes.len() - self.pos) as u64;
        if n > left {
            return Err(OpenError::Malformed(what));
        }
        let n = n as usize;
        let slice = &self.bytes[self.pos..self.pos + n];
        self.pos += n;
        Ok(slice)
    }

    fn array<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N], OpenError> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N as u64, what)?);
        Ok(a)
    }
}

/// Splits a batch into its parts, checking magic, version and every length.
pub(crate) fn split(bytes: &[u8]) -> Result<Parts<'_>, OpenError> {
    let n = bytes.len().min(MAGIC.len());
    if bytes[..n] != MAGIC[..n] {
        return Err(OpenError::NotABatch);
    }
    let mut r = Reader { bytes, pos: 0 };
    r.take(MAGIC.len() as u64, "shorter than the magic bytes")?;
    let version = u16::from_be_bytes(r.array("no format version")?);
    if version != FORMAT_VERSION {
        return Err(OpenError::UnsupportedVersion {
            found: version,
            supported: FORMAT_VERSION,
        });
    }
    let header_len = u32::from_be_bytes(r.array("no header length")?);
    if header_len > MAX_HEADER_BYTES {
        return Err(OpenError::HeaderTooLarge {
            found: header_len.into(),
            max: MAX_HEADER_BYTES,
        });
    }
    let header = r.take(header_len.into(), "the header is cut short")?;
    let cipher_len = u64::from_be_bytes(r.array("no ciphertext length")?);
    let ciphertext = r.take(cipher_len, "the ciphertext is cut short")?;
    let signed_end = r.pos;
    let signature = r.take(
        SIGNATURE_LEN as u64,
        "the signature is missing or cut short",
    )?;
    if r.pos != bytes.len() {
        return Err(OpenError::Malformed("unexpected bytes after the signature"));
    }
    Ok(Parts {
        version,
        header,
        ciphertext,
        signed: &bytes[..signed_end],
        signature,
    })
}
