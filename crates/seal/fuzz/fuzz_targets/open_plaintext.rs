//! Arbitrary bytes as the decrypted content of a correctly signed batch (what a buggy or hostile
//! enrolled device could send): decompression and the digest check must fail cleanly or succeed.
#![no_main]

mod keys;

use fieldpost_seal::{Limits, OpenError, open_with_limits};
use libfuzzer_sys::fuzz_target;
use ring::signature::Ed25519KeyPair;

fuzz_target!(|data: &[u8]| {
    let k = keys::keys();
    let recipient = k.ids[0]
        .to_public()
        .to_string()
        .parse::<age::x25519::Recipient>()
        .expect("recipient");
    let Ok(ciphertext) = age::encrypt(&recipient, data) else {
        return;
    };
    let mut batch = Vec::new();
    batch.extend_from_slice(&fieldpost_seal::MAGIC);
    batch.extend_from_slice(&1u16.to_be_bytes());
    batch.extend_from_slice(&(k.header.len() as u32).to_be_bytes());
    batch.extend_from_slice(&k.header);
    batch.extend_from_slice(&(ciphertext.len() as u64).to_be_bytes());
    batch.extend_from_slice(&ciphertext);
    let pair = Ed25519KeyPair::from_pkcs8_maybe_unchecked(k.device.pkcs8()).expect("key");
    batch.extend_from_slice(pair.sign(&batch).as_ref());
    match open_with_limits(
        &batch,
        &k.public,
        &k.ids[..1],
        &Limits {
            max_payload_bytes: 1 << 20,
        },
    ) {
        Ok(opened) => assert!(opened.payload.len() <= 1 << 20),
        Err(
            OpenError::Decompress(_) | OpenError::PayloadDigest | OpenError::PayloadTooLarge { .. },
        ) => {}
        Err(other) => panic!("a well-signed batch failed before decompression: {other}"),
    }
});
