//! The published test vectors (tests/vectors/*.json, described in docs/sealed-batch.md).
//!
//! age encryption is randomized, so a vector cannot pin the ciphertext for given inputs. What it
//! pins: the exact header bytes for given inputs, and a stored batch that must keep opening to the
//! expected payload, with a verifying signature and the expected digest, in every future build.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use fieldpost_seal::*;
use serde_json::Value;

fn vectors() -> Vec<Value> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vectors");
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .expect("vectors dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    paths.sort();
    assert!(paths.len() >= 2, "expected the committed vectors in {dir}");
    paths
        .iter()
        .map(|p| serde_json::from_str(&std::fs::read_to_string(p).expect("read")).expect("json"))
        .collect()
}

fn s<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key].as_str().unwrap_or_else(|| panic!("{key} missing"))
}

#[test]
fn header_bytes_are_exact_for_given_inputs() {
    for v in vectors() {
        let input = &v["input"];
        let header = Header {
            format: 1,
            batch_id: s(input, "batch_id").parse().expect("uuid"),
            device_id: s(input, "device_id").parse().expect("uuid"),
            sequence: input["sequence"].as_u64().expect("sequence"),
            created_at: s(input, "created_at").parse().expect("time"),
            interview_count: input["interviews"].as_array().expect("list").len() as u32,
            recipients: v["recipients"]
                .as_array()
                .expect("recipients")
                .iter()
                .map(|r| {
                    r.as_str()
                        .expect("str")
                        .parse::<Recipient>()
                        .expect("recipient")
                        .key_id()
                })
                .collect(),
            interviews: serde_json::from_value(input["interviews"].clone()).expect("summaries"),
        };
        let expected = s(&v, "header_utf8").as_bytes();
        assert_eq!(
            header.to_bytes().expect("encode"),
            expected,
            "{}",
            s(&v, "name")
        );
        // And the stored batch carries exactly those bytes at the documented place.
        let batch = B64.decode(s(&v, "batch_base64")).expect("base64");
        let len = u32::from_be_bytes(batch[10..14].try_into().expect("4")) as usize;
        assert_eq!(&batch[14..14 + len], expected);
        assert_eq!(peek_header(&batch).expect("peek"), header);
    }
}

#[test]
fn stored_batches_open_to_the_expected_payload() {
    for v in vectors() {
        let name = s(&v, "name");
        let batch = B64.decode(s(&v, "batch_base64")).expect("base64");
        assert_eq!(&batch[..8], &MAGIC);
        assert_eq!(digest(&batch).to_string(), s(&v, "batch_sha256"), "{name}");
        let device =
            DeviceSigningKey::from_pkcs8(&B64.decode(s(&v, "device_pkcs8_base64")).expect("b64"))
                .expect("pkcs8");
        let public: DevicePublicKey = s(&v, "device_public_key").parse().expect("public key");
        assert_eq!(device.public_key(), public);
        let expected_payload = s(&v["input"], "payload_utf8").as_bytes();
        let ids: Vec<Identity> = v["identities"]
            .as_array()
            .expect("ids")
            .iter()
            .map(|i| i.as_str().expect("str").parse().expect("id"))
            .collect();
        for (id, recipient) in ids
            .iter()
            .zip(v["recipients"].as_array().expect("recipients"))
        {
            assert_eq!(id.to_public().to_string(), recipient.as_str().expect("str"));
            let opened = open(&batch, &public, std::slice::from_ref(id)).expect(name);
            assert_eq!(opened.payload, expected_payload, "{name}");
        }
        let key_ids: Vec<String> = v["recipient_key_ids"]
            .as_array()
            .expect("ids")
            .iter()
            .map(|i| i.as_str().expect("s").into())
            .collect();
        assert_eq!(verify(&batch, &public).expect("verify").recipients, key_ids);
        // Another device's key does not verify it.
        let stranger = DeviceSigningKey::generate().expect("key").public_key();
        assert!(matches!(
            verify(&batch, &stranger),
            Err(OpenError::BadSignature)
        ));
    }
}

#[test]
fn recipient_key_id_is_the_documented_sha256_prefix() {
    // `printf %s age1... | sha256sum | cut -c1-16`, computed independently with coreutils.
    let r: Recipient = "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p"
        .parse()
        .expect("age1");
    assert_eq!(r.key_id(), KNOWN_KEY_ID);
}

const KNOWN_KEY_ID: &str = include_str!("vectors/key-id.txt").trim_ascii();
