//! The plaintext inside the age file: a zstd skippable frame carrying the payload's length and
//! SHA-256, then one ordinary zstd frame with the payload.
//!
//! The digest sits inside the encryption (not in the cleartext header) so the header reveals
//! nothing that could confirm a guess about respondents' answers; it sits in a *skippable* frame
//! so `age -d ... | zstd -d` still gives the payload with standard tools alone.

use crate::error::{OpenError, SealError};
use ring::digest::{SHA256, digest};
use std::io::Read;

/// zstd skippable frame magic (0x184D2A50, little-endian), then its content size (40).
const DIGEST_FRAME_HEAD: [u8; 8] = [0x50, 0x2A, 0x4D, 0x18, 40, 0, 0, 0];
const DIGEST_FRAME_LEN: usize = DIGEST_FRAME_HEAD.len() + 40;
/// zstd level: see docs/sealed-batch.md for the measurements behind this choice.
const LEVEL: i32 = 9;
/// Largest back-reference window the decoder accepts (2^24 = 16 MiB), so a hostile frame cannot
/// make it allocate a huge window; level 9 uses at most 2^22.
const WINDOW_LOG_MAX: u32 = 24;

/// Compresses `payload` and prefixes the digest frame.
pub(crate) fn pack(payload: &[u8]) -> Result<Vec<u8>, SealError> {
    let mut out = Vec::with_capacity(DIGEST_FRAME_LEN + payload.len() / 4 + 64);
    out.extend_from_slice(&DIGEST_FRAME_HEAD);
    out.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    out.extend_from_slice(digest(&SHA256, payload).as_ref());
    let compressed = zstd::bulk::compress(payload, LEVEL).map_err(SealError::Compress)?;
    out.extend_from_slice(&compressed);
    Ok(out)
}

/// Reverses [`pack`], never producing more than `max` bytes, and checks length and digest.
pub(crate) fn unpack(packed: &[u8], max: u64) -> Result<Vec<u8>, OpenError> {
    if packed.len() < DIGEST_FRAME_LEN || packed[..8] != DIGEST_FRAME_HEAD {
        return Err(OpenError::Decompress(
            "the payload digest frame is missing".into(),
        ));
    }
    let mut len = [0u8; 8];
    len.copy_from_slice(&packed[8..16]);
    let declared = u64::from_le_bytes(len);
    let expected_digest = &packed[16..DIGEST_FRAME_LEN];
    if declared > max {
        return Err(OpenError::PayloadTooLarge { max });
    }
    let mut decoder = zstd::stream::read::Decoder::new(&packed[DIGEST_FRAME_LEN..])
        .map_err(|e| OpenError::Decompress(e.to_string()))?;
    decoder
        .window_log_max(WINDOW_LOG_MAX)
        .map_err(|e| OpenError::Decompress(e.to_string()))?;
    let mut payload = Vec::with_capacity(declared.min(1 << 20) as usize);
    decoder
        .take(max.saturating_add(1))
        .read_to_end(&mut payload)
        .map_err(|e| OpenError::Decompress(e.to_string()))?;
    if payload.len() as u64 > max {
        return Err(OpenError::PayloadTooLarge { max });
    }
    if payload.len() as u64 != declared || digest(&SHA256, &payload).as_ref() != expected_digest {
        return Err(OpenError::PayloadDigest);
    }
    Ok(payload)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A frame whose digest frame understates the size: the bounded reader, not the declared
    /// length, is what stops the bomb.
    #[test]
    fn lying_length_still_stops_at_the_limit() {
        let big = vec![7u8; 4 << 20];
        let mut packed = pack(&big).expect("pack");
        packed[8..16].copy_from_slice(&10u64.to_le_bytes());
        assert!(
            matches!(unpack(&packed, 1 << 20), Err(OpenError::PayloadTooLarge { max })
            if max == 1 << 20)
        );
        // Within the limit, the lie is caught by the length and digest check.
        assert!(matches!(
            unpack(&packed, 8 << 20),
            Err(OpenError::PayloadDigest)
        ));
    }

    #[test]
    fn round_trip_and_corruption() {
        let data = b"{\"interviews\":[]}".repeat(100);
        let packed = pack(&data).expect("pack");
        assert_eq!(unpack(&packed, 1 << 20).expect("unpack"), data);
        let mut bad = packed.clone();
        bad[20] ^= 1; // inside the stored digest
        assert!(matches!(
            unpack(&bad, 1 << 20),
            Err(OpenError::PayloadDigest)
        ));
        let mut bad = packed.clone();
        let last = bad.len() - 1;
        bad[last] ^= 0xff; // inside the zstd frame
        assert!(unpack(&bad, 1 << 20).is_err());
        assert!(matches!(
            unpack(&packed[..20], 1 << 20),
            Err(OpenError::Decompress(_))
        ));
    }
}
