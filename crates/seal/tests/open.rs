//! Every way a batch can fail to open gives its own error; good batches open for each recipient.

mod common;

use common::{Fixture, layout};
use fieldpost_seal::*;
use ring::signature::Ed25519KeyPair;

/// Re-signs a (modified) batch with the device's real key, as a buggy or compromised device would.
fn resign(batch: &mut Vec<u8>, device: &DeviceSigningKey) {
    let end = batch.len() - 64;
    batch.truncate(end);
    let pair = Ed25519KeyPair::from_pkcs8(device.pkcs8()).expect("our own key");
    let sig = pair.sign(batch);
    batch.extend_from_slice(sig.as_ref());
}

#[test]
fn one_recipient_round_trip() {
    let f = Fixture::new();
    let input = f.input();
    let batch = seal(&input, &f.device, &[f.server.to_public()]).expect("seal");
    let opened = open(&batch, &f.device.public_key(), f.server_only()).expect("open");
    assert_eq!(opened.payload, f.payload);
    let h = opened.header;
    assert_eq!(
        (h.batch_id, h.device_id, h.sequence),
        (input.batch_id, f.device_id, 7)
    );
    assert_eq!(h.created_at, input.created_at);
    assert_eq!(h.interview_count, 3);
    assert_eq!(h.interviews, f.interviews);
    assert_eq!(h.recipients, vec![f.server.to_public().key_id()]);
    // The escrow key was not a recipient of this batch.
    assert!(matches!(
        open(
            &batch,
            &f.device.public_key(),
            std::slice::from_ref(&f.escrow)
        ),
        Err(OpenError::NotARecipient { .. })
    ));
}

#[test]
fn each_of_two_recipients_opens_alone() {
    let f = Fixture::new();
    let batch = f.batch();
    for id in [&f.server, &f.escrow] {
        let opened = open(&batch, &f.device.public_key(), std::slice::from_ref(id)).expect("open");
        assert_eq!(opened.payload, f.payload);
    }
    let h = peek_header(&batch).expect("peek");
    assert_eq!(
        h.recipients,
        vec![f.server.to_public().key_id(), f.escrow.to_public().key_id()]
    );
    // Holding an unrelated key as well does no harm.
    let opened = open(
        &batch,
        &f.device.public_key(),
        &[Identity::generate(), f.escrow.clone()],
    );
    assert_eq!(opened.expect("open").payload, f.payload);
}

#[test]
fn wrong_recipient_is_refused_before_decrypting() {
    let f = Fixture::new();
    let stranger = Identity::generate();
    match open(
        &f.batch(),
        &f.device.public_key(),
        std::slice::from_ref(&stranger),
    ) {
        Err(OpenError::NotARecipient { batch, ours }) => {
            assert_eq!(batch.len(), 2);
            assert_eq!(ours, vec![stranger.to_public().key_id()]);
        }
        other => panic!("expected NotARecipient, got {other:?}"),
    }
    assert!(matches!(
        open(&f.batch(), &f.device.public_key(), &[]),
        Err(OpenError::NotARecipient { .. })
    ));
}

#[test]
fn forged_signature_is_refused() {
    let f = Fixture::new();
    let mut batch = f.batch();
    let last = batch.len() - 1;
    batch[last] ^= 0x01;
    let err = open(&batch, &f.device.public_key(), f.server_only()).unwrap_err();
    assert!(matches!(err, OpenError::BadSignature), "{err:?}");
    assert!(matches!(
        verify(&batch, &f.device.public_key()),
        Err(OpenError::BadSignature)
    ));
}

#[test]
fn tampered_header_is_refused_though_peek_shows_it() {
    let f = Fixture::new();
    let mut batch = f.batch();
    let (start, len, _, _) = layout(&batch);
    let header = &mut batch[start..start + len];
    let pos = header
        .windows(12)
        .position(|w| w == b"\"sequence\":7")
        .expect("sequence field");
    header[pos + 11] = b'8';
    // peek_header does not verify: it reads the forged value, which is why it is only for routing.
    assert_eq!(peek_header(&batch).expect("still parses").sequence, 8);
    let err = open(&batch, &f.device.public_key(), f.server_only()).unwrap_err();
    assert!(matches!(err, OpenError::BadSignature), "{err:?}");
}

#[test]
fn tampered_ciphertext_is_refused() {
    let f = Fixture::new();
    let mut batch = f.batch();
    let (_, _, c_start, c) = layout(&batch);
    batch[c_start + c - 5] ^= 0x40;
    let err = open(&batch, &f.device.public_key(), f.server_only()).unwrap_err();
    assert!(matches!(err, OpenError::BadSignature), "{err:?}");
    // Even re-signed by the device itself, age's authentication catches the change.
    resign(&mut batch, &f.device);
    let err = open(&batch, &f.device.public_key(), f.server_only()).unwrap_err();
    assert!(matches!(err, OpenError::Decrypt(_)), "{err:?}");
}

#[test]
fn every_truncation_is_an_error_not_a_panic() {
    let f = Fixture::new();
    let batch = f.batch();
    let key = f.device.public_key();
    for cut in 0..batch.len() {
        let err = open(&batch[..cut], &key, f.server_only()).unwrap_err();
        assert!(
            matches!(err, OpenError::Malformed(_)),
            "cut at {cut}: {err:?}"
        );
        assert!(peek_header(&batch[..cut]).is_err(), "cut at {cut}");
    }
    let mut longer = batch.clone();
    longer.push(0);
    assert!(matches!(
        open(&longer, &key, f.server_only()),
        Err(OpenError::Malformed(_))
    ));
}

#[test]
fn batch_from_another_device_is_refused() {
    let f = Fixture::new();
    let other = DeviceSigningKey::generate().expect("key");
    // Same device id in the header, but signed by a different key: a replay under a false name.
    let batch = seal(&f.input(), &other, &f.recipients()).expect("seal");
    assert_eq!(peek_header(&batch).expect("peek").device_id, f.device_id);
    let err = open(&batch, &f.device.public_key(), f.server_only()).unwrap_err();
    assert!(matches!(err, OpenError::BadSignature), "{err:?}");
    assert!(open(&batch, &other.public_key(), f.server_only()).is_ok());
}

#[test]
fn compression_bomb_is_refused_at_the_default_limit() {
    let f = Fixture::new();
    // 80 MiB of zeros compresses to a few kilobytes: more than the 64 MiB default allows out.
    let zeros = vec![0u8; 80 << 20];
    let input = SealInput {
        payload: &zeros,
        ..f.input()
    };
    let big = Limits {
        max_payload_bytes: 128 << 20,
    };
    let batch = seal_with_limits(&input, &f.device, &f.recipients(), &big).expect("seal");
    assert!(batch.len() < 64 << 10, "bomb is {} bytes", batch.len());
    let err = open(&batch, &f.device.public_key(), f.server_only()).unwrap_err();
    assert!(
        matches!(
            err,
            OpenError::PayloadTooLarge {
                max: DEFAULT_MAX_PAYLOAD_BYTES
            }
        ),
        "{err:?}"
    );
    // The device side refuses to make such a batch with the default limit.
    assert!(matches!(
        seal(&input, &f.device, &f.recipients()),
        Err(SealError::PayloadTooLarge { .. })
    ));
    // And a caller may set a tighter limit.
    let small = Limits {
        max_payload_bytes: 10,
    };
    let err =
        open_with_limits(&f.batch(), &f.device.public_key(), f.server_only(), &small).unwrap_err();
    assert!(
        matches!(err, OpenError::PayloadTooLarge { max: 10 }),
        "{err:?}"
    );
}

#[test]
fn future_format_version_is_refused_by_name() {
    let f = Fixture::new();
    let mut batch = f.batch();
    batch[8..10].copy_from_slice(&2u16.to_be_bytes());
    let err = open(&batch, &f.device.public_key(), f.server_only()).unwrap_err();
    assert!(
        matches!(
            err,
            OpenError::UnsupportedVersion {
                found: 2,
                supported: 1
            }
        ),
        "{err:?}"
    );
    assert!(matches!(
        peek_header(&batch),
        Err(OpenError::UnsupportedVersion { found: 2, .. })
    ));
    assert!(err.to_string().contains("update FieldPost"));
}

#[test]
fn other_files_are_not_batches() {
    let f = Fixture::new();
    for bytes in [&b"age-encryption.org/v1\n"[..], b"{}", b"\x89PNG\r\n\x1a\n"] {
        let err = open(bytes, &f.device.public_key(), f.server_only()).unwrap_err();
        assert!(matches!(err, OpenError::NotABatch), "{err:?}");
    }
}

#[test]
fn oversized_header_length_is_refused_without_reading() {
    let f = Fixture::new();
    let mut batch = f.batch();
    batch[10..14].copy_from_slice(&u32::MAX.to_be_bytes());
    let err = peek_header(&batch).unwrap_err();
    assert!(matches!(err, OpenError::HeaderTooLarge { .. }), "{err:?}");
}

#[test]
fn signed_but_inconsistent_header_is_refused() {
    let f = Fixture::new();
    let mut batch = f.batch();
    let (start, len, _, _) = layout(&batch);
    let header = &mut batch[start..start + len];
    let pos = header
        .windows(19)
        .position(|w| w == b"\"interview_count\":3")
        .expect("count");
    header[pos + 18] = b'4';
    resign(&mut batch, &f.device);
    let err = open(&batch, &f.device.public_key(), f.server_only()).unwrap_err();
    assert!(
        matches!(err, OpenError::InvalidHeader(ref m) if m.contains("interview_count")),
        "{err:?}"
    );
}

#[test]
fn verify_checks_the_signature_without_any_identity() {
    let f = Fixture::new();
    let batch = f.batch();
    let h = verify(&batch, &f.device.public_key()).expect("verify");
    assert_eq!(h, peek_header(&batch).expect("peek"));
}

#[test]
fn digest_is_sha256_of_the_batch() {
    assert_eq!(
        digest(b"abc").to_string(),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
    let f = Fixture::new();
    let a = f.batch();
    let b = f.batch();
    assert_eq!(digest(&a), digest(&a.clone()));
    assert_ne!(
        digest(&a),
        digest(&b),
        "a fresh batch id and fresh encryption give new bytes"
    );
}
