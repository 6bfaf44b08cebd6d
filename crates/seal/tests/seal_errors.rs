//! The device cannot seal what a server would refuse; keys parse and print in their standard forms.

mod common;

use common::{Fixture, summaries};
use fieldpost_seal::*;

#[test]
fn sealing_needs_distinct_recipients() {
    let f = Fixture::new();
    assert!(matches!(
        seal(&f.input(), &f.device, &[]),
        Err(SealError::NoRecipients)
    ));
    let twice = [f.server.to_public(), f.server.to_public()];
    assert!(matches!(
        seal(&f.input(), &f.device, &twice),
        Err(SealError::DuplicateRecipient(_))
    ));
}

#[test]
fn sealing_checks_header_fields() {
    let f = Fixture::new();
    let r = f.recipients();
    let many = summaries(MAX_INTERVIEWS + 1);
    let input = SealInput {
        interviews: &many,
        ..f.input()
    };
    assert!(matches!(
        seal(&input, &f.device, &r),
        Err(SealError::TooManyInterviews { .. })
    ));

    let input = SealInput {
        batch_id: uuid::Uuid::from_u128(0x1234_5678_9abc_4def_8123_4567_89ab_cdef),
        ..f.input()
    };
    let err = seal(&input, &f.device, &r).unwrap_err();
    assert!(err.to_string().contains("UUIDv7"), "{err}");

    let mut bad = summaries(1);
    bad[0].province = String::new();
    let input = SealInput {
        interviews: &bad,
        ..f.input()
    };
    let err = seal(&input, &f.device, &r).unwrap_err();
    assert!(err.to_string().contains("province"), "{err}");

    bad[0].province = "01".into();
    bad[0].stratum = "x".repeat(MAX_FIELD_BYTES + 1);
    let input = SealInput {
        interviews: &bad,
        ..f.input()
    };
    assert!(
        seal(&input, &f.device, &r)
            .unwrap_err()
            .to_string()
            .contains("stratum")
    );
}

#[test]
fn keys_round_trip_through_their_text_forms() {
    let id = Identity::generate();
    let secret = id.to_secret_string();
    assert!(secret.starts_with("AGE-SECRET-KEY-1"));
    let file = format!(
        "# created: 2026-11-23\n# public key: {}\n{secret}\n",
        id.to_public()
    );
    let back = Identity::from_file_text(&file).expect("identity file");
    assert_eq!(back.to_public(), id.to_public());
    assert!(matches!(
        Identity::from_file_text("# only comments\n"),
        Err(KeyError::Identity)
    ));
    assert!(matches!(
        id.to_public().to_string().parse::<Identity>(),
        Err(KeyError::Identity)
    ));

    let public = id.to_public().to_string();
    assert!(public.starts_with("age1"));
    let upper: Recipient = public
        .to_uppercase()
        .parse()
        .expect("bech32 is case-insensitive");
    assert_eq!(
        upper.key_id(),
        id.to_public().key_id(),
        "key ids use the canonical form"
    );
    assert!(matches!(
        "age1nope".parse::<Recipient>(),
        Err(KeyError::Recipient(_))
    ));
    assert!(
        !format!("{id:?}").contains("SECRET"),
        "Debug never prints the secret"
    );

    let device = DeviceSigningKey::generate().expect("device");
    let again = DeviceSigningKey::from_pkcs8(device.pkcs8()).expect("pkcs8");
    assert_eq!(again.public_key(), device.public_key());
    let text = device.public_key().to_string();
    assert_eq!(text.len(), 44);
    assert_eq!(
        text.parse::<DevicePublicKey>().expect("base64"),
        device.public_key()
    );
    assert!(DeviceSigningKey::from_pkcs8(b"not a key").is_err());
    assert!("AAAA".parse::<DevicePublicKey>().is_err());
}
