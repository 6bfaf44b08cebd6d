//! Writes the test vectors in `tests/vectors/` (run once per format version; the files are
//! committed and `tests/vectors.rs` checks them). Keys are made fresh here and stored in the
//! vector, so the vectors are fixed from then on.
//!
//! `cargo run -p fieldpost-seal --example make_vectors -- crates/seal/tests/vectors`

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use chrono::{TimeZone, Utc};
use fieldpost_seal::*;
use serde_json::json;
use uuid::Uuid;

fn vector(
    name: &str,
    description: &str,
    ids: &[Identity],
    interviews: &[InterviewSummary],
    payload: &[u8],
) -> Result<serde_json::Value, Box<dyn std::error::Error>> {
    let device = DeviceSigningKey::generate()?;
    let input = SealInput {
        batch_id: Uuid::parse_str("019ab0c4-5e00-7a3b-9c1d-2e3f4a5b6c7d")?,
        device_id: Uuid::parse_str("019ab0c0-0000-7000-8000-0000000000d1")?,
        sequence: 42,
        created_at: Utc
            .with_ymd_and_hms(2026, 11, 23, 8, 30, 15)
            .single()
            .ok_or("time")?,
        interviews,
        payload,
    };
    let recipients: Vec<Recipient> = ids.iter().map(Identity::to_public).collect();
    let batch = seal(&input, &device, &recipients)?;
    let header = peek_header(&batch)?.to_bytes()?;
    Ok(json!({
        "name": name,
        "description": description,
        "device_pkcs8_base64": B64.encode(device.pkcs8()),
        "device_public_key": device.public_key().to_string(),
        "identities": ids.iter().map(Identity::to_secret_string).collect::<Vec<_>>(),
        "recipients": recipients.iter().map(ToString::to_string).collect::<Vec<_>>(),
        "recipient_key_ids": recipients.iter().map(Recipient::key_id).collect::<Vec<_>>(),
        "input": {
            "batch_id": input.batch_id,
            "device_id": input.device_id,
            "sequence": input.sequence,
            "created_at": input.created_at,
            "interviews": interviews,
            "payload_utf8": String::from_utf8(payload.to_vec())?,
        },
        "header_utf8": String::from_utf8(header)?,
        "batch_base64": B64.encode(&batch),
        "batch_sha256": digest(&batch).to_string(),
    }))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::args().nth(1).ok_or("usage: make_vectors DIR")?;
    let interviews = vec![
        InterviewSummary {
            interview_id: Uuid::parse_str("019ab0a1-1111-7111-8111-111111111111")?,
            province: "01".into(),
            commune: "00004".into(),
            stratum: "urban".into(),
            status: "completed".into(),
            enumerator_id: Uuid::parse_str("019ab09e-eeee-7eee-8eee-eeeeeeeeeeee")?,
            questionnaire_version: "sipas-2024.1".into(),
        },
        InterviewSummary {
            interview_id: Uuid::parse_str("019ab0a2-2222-7222-8222-222222222222")?,
            province: "01".into(),
            commune: "00008".into(),
            stratum: "rural".into(),
            status: "refused".into(),
            enumerator_id: Uuid::parse_str("019ab09e-eeee-7eee-8eee-eeeeeeeeeeee")?,
            questionnaire_version: "sipas-2024.1".into(),
        },
    ];
    let payload = r#"{"interviews":[{"interview_id":"019ab0a1-1111-7111-8111-111111111111","status":"completed","answers":{"sex":1,"age_band":3,"b9_01":4,"b16_comments":"Cán bộ nhiệt tình."}},{"interview_id":"019ab0a2-2222-7222-8222-222222222222","status":"refused","answers":{}}]}"#.as_bytes();
    let two = [Identity::generate(), Identity::generate()];
    let vectors = [
        vector(
            "v1-two-recipients",
            "two interviews sealed to a server key and an escrow key",
            &two,
            &interviews,
            payload,
        )?,
        vector(
            "v1-one-recipient-empty",
            "no interviews, empty payload, one recipient",
            &[Identity::generate()],
            &[],
            b"",
        )?,
    ];
    for v in vectors {
        let path = format!("{dir}/{}.json", v["name"].as_str().ok_or("name")?);
        std::fs::write(&path, serde_json::to_string_pretty(&v)? + "\n")?;
        println!("wrote {path}");
    }
    Ok(())
}
