//! The cleartext header: what the server and coordinators may know without decrypting.
//!
//! It carries routing (device, sequence) and the few fields progress tracking needs per interview,
//! and nothing personal: no names, addresses, answers or GPS. Everything else is in the payload.
//! The header is JSON (readable with any tool), written once by the device; the signature covers
//! those exact bytes, so a reader never needs to re-serialize it.

use crate::error::{OpenError, SealError};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The only format version this build writes and reads.
pub const FORMAT_VERSION: u16 = 1;
/// Largest header accepted, in bytes. About 4,000 interview summaries; far above any real batch.
pub const MAX_HEADER_BYTES: u32 = 1 << 20;
/// Most interviews one batch may carry.
pub const MAX_INTERVIEWS: usize = 1000;
/// Longest text field in an interview summary (codes, stratum, status, version), in bytes.
pub const MAX_FIELD_BYTES: usize = 64;

/// Cleartext header of a sealed batch. Field order here is the order in the JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Header {
    /// Equal to the envelope's version; a header from another version is never parsed as this one.
    pub format: u16,
    /// UUIDv7 made by the device when sealing.
    pub batch_id: Uuid,
    /// The enrolled device that sealed (and signed) the batch.
    pub device_id: Uuid,
    /// Per-device sequence number, 1, 2, 3, ...: with the digest, the key of idempotent upload.
    pub sequence: u64,
    /// When the batch was sealed, UTC.
    pub created_at: DateTime<Utc>,
    /// Number of interviews in the payload; equals `interviews.len()`.
    pub interview_count: u32,
    /// Key ids of the recipients the payload is encrypted to (see `Recipient::key_id`).
    pub recipients: Vec<String>,
    /// One summary per interview, in payload order.
    pub interviews: Vec<InterviewSummary>,
}

/// What progress tracking needs about one interview, and nothing personal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InterviewSummary {
    pub interview_id: Uuid,
    /// Province code (2 digits since the 2025 reform).
    pub province: String,
    /// Commune code (5 digits).
    pub commune: String,
    /// Sampling stratum, as named in the sample.
    pub stratum: String,
    /// Outcome: `completed` or a non-response code.
    pub status: String,
    pub enumerator_id: Uuid,
    pub questionnaire_version: String,
}

impl Header {
    /// The exact header bytes a device writes for this header (compact JSON, fields in
    /// declaration order). `seal` embeds these bytes; the test vectors pin them.
    pub fn to_bytes(&self) -> Result<Vec<u8>, SealError> {
        self.check().map_err(|reason| SealError::InvalidField {
            field: "header",
            reason,
        })?;
        let bytes = serde_json::to_vec(self).map_err(|e| SealError::InvalidField {
            field: "header",
            reason: e.to_string(),
        })?;
        if bytes.len() > MAX_HEADER_BYTES as usize {
            return Err(SealError::HeaderTooLarge {
                found: bytes.len(),
                max: MAX_HEADER_BYTES,
            });
        }
        Ok(bytes)
    }

    /// Parses header bytes from a batch and checks that they are consistent.
    pub(crate) fn parse(bytes: &[u8], envelope_version: u16) -> Result<Self, OpenError> {
        let header: Header =
            serde_json::from_slice(bytes).map_err(|e| OpenError::InvalidHeader(e.to_string()))?;
        if header.format != envelope_version {
            return Err(OpenError::InvalidHeader(format!(
                "header says format {} but the envelope says {envelope_version}",
                header.format
            )));
        }
        header.check().map_err(OpenError::InvalidHeader)?;
        Ok(header)
    }

    /// Rules shared by sealing and opening, so a device cannot seal what a server would refuse.
    fn check(&self) -> Result<(), String> {
        if self.format != FORMAT_VERSION {
            return Err(format!(
                "format must be {FORMAT_VERSION}, found {}",
                self.format
            ));
        }
        if self.batch_id.get_version_num() != 7 {
            return Err("batch_id must be a UUIDv7".into());
        }
        if self.interviews.len() > MAX_INTERVIEWS {
            return Err(format!("more than {MAX_INTERVIEWS} interviews"));
        }
        if self.interview_count as usize != self.interviews.len() {
            return Err(format!(
                "interview_count is {} but {} interviews are listed",
                self.interview_count,
                self.interviews.len()
            ));
        }
        if self.recipients.is_empty() {
            return Err("no recipients".into());
        }
        for (i, id) in self.recipients.iter().enumerate() {
            if id.len() != 16
                || !id
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
            {
                return Err(format!(
                    "recipient key id {i} is not 16 lower-case hex digits"
                ));
            }
            if self.recipients[..i].contains(id) {
                return Err(format!("recipient key id {id} is listed twice"));
            }
        }
        for (i, s) in self.interviews.iter().enumerate() {
            s.check().map_err(|e| format!("interview {i}: {e}"))?;
        }
        Ok(())
    }
}

impl InterviewSummary {
    fn check(&self) -> Result<(), String> {
        let fields = [
            ("province", &self.province),
            ("commune", &self.commune),
            ("stratum", &self.stratum),
            ("status", &self.status),
            ("questionnaire_version", &self.questionnaire_version),
        ];
        for (name, value) in fields {
            if value.is_empty() || value.len() > MAX_FIELD_BYTES {
                return Err(format!("{name} must be 1 to {MAX_FIELD_BYTES} bytes"));
            }
            if value.chars().any(char::is_control) {
                return Err(format!("{name} contains a control character"));
            }
        }
        Ok(())
    }
}
