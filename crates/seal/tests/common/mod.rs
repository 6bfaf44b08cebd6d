//! Shared fixtures: fresh keys and a small batch of interview summaries.
#![allow(dead_code)]

use chrono::{TimeZone, Utc};
use fieldpost_seal::*;
use uuid::Uuid;

pub fn summaries(n: usize) -> Vec<InterviewSummary> {
    (0..n)
        .map(|i| InterviewSummary {
            interview_id: Uuid::now_v7(),
            province: "01".into(),
            commune: format!("{:05}", 4 + i),
            stratum: if i % 2 == 0 {
                "urban".into()
            } else {
                "rural".into()
            },
            status: if i % 5 == 4 {
                "refused".into()
            } else {
                "completed".into()
            },
            enumerator_id: Uuid::now_v7(),
            questionnaire_version: "sipas-2024.1".into(),
        })
        .collect()
}

pub struct Fixture {
    pub device: DeviceSigningKey,
    pub server: Identity,
    pub escrow: Identity,
    pub interviews: Vec<InterviewSummary>,
    pub payload: Vec<u8>,
    pub device_id: Uuid,
}

impl Fixture {
    pub fn new() -> Self {
        let interviews = summaries(3);
        let payload = serde_json::to_vec(&serde_json::json!([
            {"q1": "Rất hài lòng", "q2": 3}, {"q1": "Hài lòng"}, {"q1": "refused"}
        ]))
        .expect("json");
        Self {
            device: DeviceSigningKey::generate().expect("device key"),
            server: Identity::generate(),
            escrow: Identity::generate(),
            interviews,
            payload,
            device_id: Uuid::now_v7(),
        }
    }

    pub fn input(&self) -> SealInput<'_> {
        SealInput {
            batch_id: Uuid::now_v7(),
            device_id: self.device_id,
            sequence: 7,
            created_at: Utc
                .with_ymd_and_hms(2026, 11, 23, 8, 30, 0)
                .single()
                .expect("time"),
            interviews: &self.interviews,
            payload: &self.payload,
        }
    }

    /// The server identity alone.
    pub fn server_only(&self) -> &[Identity] {
        std::slice::from_ref(&self.server)
    }

    pub fn recipients(&self) -> Vec<Recipient> {
        vec![self.server.to_public(), self.escrow.to_public()]
    }

    /// A batch sealed to the server and escrow keys.
    pub fn batch(&self) -> Vec<u8> {
        seal(&self.input(), &self.device, &self.recipients()).expect("seal")
    }
}

/// Offsets of the parts, read from the documented layout.
pub fn layout(batch: &[u8]) -> (usize, usize, usize, usize) {
    let h = u32::from_be_bytes(batch[10..14].try_into().expect("4 bytes")) as usize;
    let header_start = 14;
    let c_start = header_start + h + 8;
    let c = u64::from_be_bytes(
        batch[header_start + h..c_start]
            .try_into()
            .expect("8 bytes"),
    ) as usize;
    (header_start, h, c_start, c)
}
