//! Arbitrary bytes as a batch: every entry point must return an error, never panic or blow up.
#![no_main]

mod keys;

use fieldpost_seal::{Limits, open, open_unverified, peek_header, verify};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let k = keys::keys();
    let _ = peek_header(data);
    let _ = verify(data, &k.public);
    let _ = open(data, &k.public, &k.ids);
    let _ = open_unverified(
        data,
        &k.ids,
        &Limits {
            max_payload_bytes: 1 << 20,
        },
    );
});
