//! Version 1 of the HTTP API between devices, people and the collection server.
//!
//! Every path is under [`PREFIX`]. Bodies are JSON, except three that carry files as they are:
//! a questionnaire upload (the XLSForm `.xlsx` bytes), a sample upload (CSV text) and a batch
//! upload (the sealed batch bytes, `application/octet-stream`), because re-encoding them as JSON
//! would only add size and a place to get them wrong.
//!
//! Errors always come back as [`ApiError`] with a stable [`ErrorCode`]; a device decides what to
//! do with a rejected batch from the code alone (retry later, or stop and ask for help).
//!
//! Compatibility rule: within `v1`, fields may be added (readers ignore unknown fields) but never
//! renamed, removed or given a new meaning; such a change is `v2`, served next to `v1`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Path prefix of this API version.
pub const PREFIX: &str = "/api/v1";
/// HTTP header that carries a bearer token: `Authorization: Bearer <token>`.
pub const AUTHORIZATION: &str = "authorization";
/// Content type of a sealed batch upload.
pub const BATCH_CONTENT_TYPE: &str = "application/octet-stream";

/// What a person may do. A coordinator and a recheck team work within one province.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// HQ: creates surveys, loads questionnaires and samples, manages accounts and devices.
    Admin,
    /// Watches progress in their province.
    Coordinator,
    /// Revisits a sample of respondents in their province.
    RecheckTeam,
    /// Interviews; works through an enrolled device.
    Enumerator,
}

impl Role {
    /// The name used on the wire and in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Coordinator => "coordinator",
            Role::RecheckTeam => "recheck_team",
            Role::Enumerator => "enumerator",
        }
    }

    /// Parses the wire name; `None` for anything else.
    pub fn parse(s: &str) -> Option<Role> {
        [
            Role::Admin,
            Role::Coordinator,
            Role::RecheckTeam,
            Role::Enumerator,
        ]
        .into_iter()
        .find(|r| r.as_str() == s)
    }

    /// Whether accounts with this role must name the province they work in.
    pub fn needs_province(self) -> bool {
        matches!(self, Role::Coordinator | Role::RecheckTeam)
    }
}

/// `POST /sessions`: a person signs in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

/// A session token for `Authorization: Bearer`, valid until `expires_at`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginResponse {
    pub token: String,
    pub expires_at: DateTime<Utc>,
    pub account: Account,
}

/// `POST /accounts` (admin).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewAccount {
    pub username: String,
    pub password: String,
    pub role: Role,
    /// Province code; required for coordinators and recheck teams, ignored otherwise.
    #[serde(default)]
    pub province: Option<String>,
}

/// A person's account as others may see it (never the password hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    pub id: Uuid,
    pub username: String,
    pub role: Role,
    pub province: Option<String>,
}

/// `GET /accounts` (admin): an account and whether it may sign in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountInfo {
    #[serde(flatten)]
    pub account: Account,
    /// When an admin disabled it; `None`: it may sign in.
    #[serde(default)]
    pub disabled_at: Option<DateTime<Utc>>,
}

/// `PUT /sessions/password`: a signed-in person changes their own password.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasswordChange {
    pub old_password: String,
    pub new_password: String,
}

/// `PUT /accounts/{account_id}/password` (admin): a new password for someone who lost theirs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasswordReset {
    pub new_password: String,
}

/// `POST /surveys` (admin).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewSurvey {
    /// Short stable code, e.g. `sipas-2024`.
    pub code: String,
    pub title: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Survey {
    pub id: Uuid,
    pub code: String,
    pub title: String,
    pub created_at: DateTime<Utc>,
}

/// Answer to `PUT /surveys/{survey}/questionnaires/{version}` (admin; body: the `.xlsx` bytes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuestionnaireVersion {
    pub survey_id: Uuid,
    /// The version name interviews record (e.g. `2024.1`).
    pub version: String,
    /// SHA-256 of the uploaded XLSForm, hex: what a device compares to know it has this version.
    pub sha256: String,
    pub byte_len: u64,
    pub uploaded_at: DateTime<Utc>,
    /// What the form compiler noted in the workbook without refusing it (sheet, row, column
    /// and the problem), in the answer to the upload that compiled it; empty otherwise.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// Answer to `POST /surveys/{survey}/sample` (admin; body: CSV, see [`SAMPLE_CSV_COLUMNS`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SampleUploaded {
    pub official: u64,
    pub reserve: u64,
}

/// Columns of a sample CSV, in any order, with this header row. `kind` is `official` or
/// `reserve`; a reserve row names in `reserve_for` the `code` of the official assignment it may
/// replace; `enumerator` is the username of the enumerator who receives the assignment.
pub const SAMPLE_CSV_COLUMNS: [&str; 8] = [
    "code",
    "kind",
    "reserve_for",
    "province",
    "commune",
    "village",
    "stratum",
    "enumerator",
];

/// `POST /enrolment-codes` (admin): a one-time code an enumerator's device enrols with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewEnrolmentCode {
    pub survey_id: Uuid,
    /// Username of the enumerator the device will belong to.
    pub enumerator: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrolmentCode {
    /// Shown once; the server keeps only its hash.
    pub code: String,
    pub expires_at: DateTime<Utc>,
    /// The fingerprint of the server's signing key (`3f2a-9c01-...`), printed beside the code:
    /// the device refuses an enrolment reply not signed by a key with this fingerprint.
    #[serde(default)]
    pub server_fingerprint: String,
}

/// `POST /enrol`: a device trades a one-time code and its public key for a device token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrolRequest {
    pub code: String,
    /// The device's id (UUIDv7, made by its store); it signs batches as this device.
    pub device_id: Uuid,
    /// Ed25519 public key, standard base64 of the 32 raw bytes.
    pub public_key: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrolResponse {
    /// Signed like every reply (headers `x-fieldpost-signature`, `x-fieldpost-signer`); the
    /// device checks the signer's fingerprint against the one printed with the code.
    pub device_id: Uuid,
    /// Bearer token for the device's later calls; bound to this device and its key.
    pub device_token: String,
    pub survey: Survey,
    pub enumerator: Account,
    /// Keys every batch must be encrypted to.
    pub recipients: Vec<RecipientKey>,
}

/// A public key batches are encrypted to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecipientKey {
    /// `age1...`
    pub public_key: String,
    /// As written in batch headers (first 8 bytes of SHA-256 of `public_key`, hex).
    pub key_id: String,
    /// `server` (the server holds the private key and decrypts on ingest) or `escrow` (kept
    /// offline by the survey owner, so a lost server key never loses data).
    pub purpose: String,
}

/// `POST /surveys/{survey}/recipients` (admin): add a key batches must be encrypted to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewRecipient {
    /// `age1...`
    pub public_key: String,
    /// `server` or `escrow`.
    pub purpose: String,
}

/// `GET /device/recipients`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recipients {
    pub recipients: Vec<RecipientKey>,
}

/// One sampled respondent or household given to an enumerator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assignment {
    pub id: Uuid,
    pub code: String,
    pub reserve: bool,
    /// For a reserve: the code of the official assignment it may replace.
    pub reserve_for: Option<String>,
    pub province: String,
    pub commune: String,
    pub village: String,
    pub stratum: String,
}

/// `GET /device/assignments`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assignments {
    pub assignments: Vec<Assignment>,
}

/// `GET /device/questionnaires`: the versions a device may interview with. The file itself is at
/// `GET /device/questionnaires/{version}` (the XLSForm bytes as uploaded).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Questionnaires {
    pub versions: Vec<QuestionnaireVersion>,
}

/// `GET /device/codelists`: provinces and communes (codes per Decision 19/2025/QĐ-TTg).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeLists {
    pub provinces: Vec<CodeEntry>,
    pub communes: Vec<CodeEntry>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeEntry {
    pub code: String,
    pub name: String,
    /// For a commune: its province code.
    pub parent: Option<String>,
}

/// What a sealed batch's payload holds once decrypted and decompressed: JSON of this type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatchPayload {
    pub interviews: Vec<InterviewRecord>,
}

/// One finished interview as it travels inside a sealed batch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InterviewRecord {
    pub interview_id: Uuid,
    pub assignment_id: Uuid,
    pub questionnaire_version: String,
    pub enumerator_id: Uuid,
    /// `completed` or a non-response code.
    pub status: String,
    pub started_at: DateTime<Utc>,
    pub ended_at: DateTime<Utc>,
    /// Answers by question name.
    pub answers: serde_json::Map<String, serde_json::Value>,
    /// Per-question timestamps and other paradata, as the device recorded them.
    #[serde(default)]
    pub paradata: serde_json::Value,
}

/// Answer to `POST /device/batches`: the batch is stored for good. The same bytes sent again get
/// the same acknowledgement, so a device that lost the first answer simply retries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchAck {
    pub device_id: Uuid,
    pub sequence: u64,
    pub batch_id: Uuid,
    /// SHA-256 of the batch bytes, hex.
    pub digest: String,
    pub interviews: u32,
    pub acknowledged_at: DateTime<Utc>,
}

/// `GET /progress?by=...&province=...`: interviews by status per group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProgressBy {
    Province,
    Commune,
    Stratum,
    Enumerator,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProgressQuery {
    pub by: ProgressBy,
    /// Only this province (a coordinator is always limited to their own).
    #[serde(default)]
    pub province: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    pub by: ProgressBy,
    pub rows: Vec<ProgressRow>,
}

/// Count of interviews in one group with one status. `province` is always set, so a row can be
/// checked against the reader's province.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProgressRow {
    pub province: String,
    /// The commune, stratum or enumerator id, depending on `by` (the province for `province`).
    pub group: String,
    pub status: String,
    pub interviews: u64,
}

/// `GET /incidents?survey=...&since=...&limit=...`: what went wrong at ingest, newest first.
/// An admin sees every incident; a coordinator those placed in their province.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct IncidentQuery {
    /// Only this survey's incidents (incidents no survey could be found for are then left out).
    #[serde(default)]
    pub survey: Option<Uuid>,
    /// Only incidents recorded at or after this time.
    #[serde(default)]
    pub since: Option<DateTime<Utc>>,
    /// At most this many (default and maximum 1,000).
    #[serde(default)]
    pub limit: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Incidents {
    pub incidents: Vec<Incident>,
}

/// Something a coordinator or HQ should look into. Never holds respondents' data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Incident {
    pub id: Uuid,
    pub at: DateTime<Utc>,
    /// A batch rejection's [`ErrorCode`] wire name (`wrong_recipient`, `sequence_conflict`,
    /// ...), or `duplicate_interview`.
    pub kind: String,
    pub survey_id: Option<Uuid>,
    /// The province it was placed in: the assignment's, else the device's enumerator's when
    /// they work in one province. `None`: only an admin sees it.
    pub province: Option<String>,
    pub device_id: Option<Uuid>,
    pub sequence: Option<u64>,
    /// The assignment concerned, when the server could tell.
    pub assignment_code: Option<String>,
    /// A technical sentence: what happened and what to look at.
    pub detail: String,
    /// For `duplicate_interview`: the interview that counts and the one that does not.
    #[serde(default)]
    pub duplicate: Option<DuplicateInterview>,
}

/// Two finished interviews for one assignment. Both are stored (and archived); only `counted`
/// counts in progress.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DuplicateInterview {
    pub counted_interview_id: Uuid,
    pub counted_device_id: Uuid,
    pub duplicate_interview_id: Uuid,
    pub duplicate_device_id: Uuid,
}

/// Every error answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiError {
    pub code: ErrorCode,
    /// A sentence for the person reading a log; never contains respondents' data.
    pub message: String,
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.message)
    }
}

impl std::error::Error for ApiError {}

/// Stable error codes. The batch rejections each name one cause, because each calls for a
/// different person: a forged batch for security, a wrong recipient for whoever set up the keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// No or unknown credentials (HTTP 401).
    Unauthenticated,
    /// Known caller, not allowed to do this or see that (HTTP 403).
    Forbidden,
    NotFound,
    /// The request is malformed or a field is invalid (HTTP 400).
    InvalidRequest,
    /// The thing already exists (HTTP 409).
    Conflict,
    /// The enrolment code is unknown, used or expired.
    InvalidEnrolmentCode,
    /// Not a sealed batch, or one whose framing or header cannot be read.
    MalformedBatch,
    /// The batch names a device this server never enrolled.
    UnknownDevice,
    /// The device was revoked; its batches are no longer accepted.
    RevokedDevice,
    /// The device signature does not verify: the batch was altered after signing, or forged.
    ForgedSignature,
    /// A valid batch of one device uploaded with another device's credentials.
    ReplayFromAnotherDevice,
    /// The batch is not encrypted to this survey's server key.
    WrongRecipient,
    /// Signed by the device, but the ciphertext does not decrypt or decompress.
    TamperedCiphertext,
    /// The same device and sequence were already acknowledged with different bytes; recorded as
    /// an incident.
    SequenceConflict,
    /// Decrypted, but the content does not match the header or the survey (unknown
    /// questionnaire version, assignment, ...).
    InvalidPayload,
    /// Decrypted, but an interview does not fit its questionnaire version: the version is not
    /// loaded for the survey, an answer names no field of that version's form, or a value does
    /// not fit its field's type. Usually a device running a questionnaire the server does not
    /// have; the batch stays on the device until support has looked at it.
    QuestionnaireMismatch,
    /// The server failed; retrying later is safe.
    Internal,
    /// The request body is larger than this route accepts (HTTP 413); the message says the
    /// limit. A batch that big should be sealed again in smaller batches.
    PayloadTooLarge,
    /// Too many failed attempts (sign-in, enrolment) from this address or for this account
    /// (HTTP 429); the `Retry-After` header says when to try again.
    TooManyRequests,
    /// The server is busy or the request took too long (HTTP 503, or 408 when the request
    /// itself arrived too slowly); retry after `Retry-After` seconds.
    Unavailable,
}

impl ErrorCode {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::Unauthenticated => "unauthenticated",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::NotFound => "not_found",
            ErrorCode::InvalidRequest => "invalid_request",
            ErrorCode::Conflict => "conflict",
            ErrorCode::InvalidEnrolmentCode => "invalid_enrolment_code",
            ErrorCode::MalformedBatch => "malformed_batch",
            ErrorCode::UnknownDevice => "unknown_device",
            ErrorCode::RevokedDevice => "revoked_device",
            ErrorCode::ForgedSignature => "forged_signature",
            ErrorCode::ReplayFromAnotherDevice => "replay_from_another_device",
            ErrorCode::WrongRecipient => "wrong_recipient",
            ErrorCode::TamperedCiphertext => "tampered_ciphertext",
            ErrorCode::SequenceConflict => "sequence_conflict",
            ErrorCode::InvalidPayload => "invalid_payload",
            ErrorCode::QuestionnaireMismatch => "questionnaire_mismatch",
            ErrorCode::Internal => "internal",
            ErrorCode::PayloadTooLarge => "payload_too_large",
            ErrorCode::TooManyRequests => "too_many_requests",
            ErrorCode::Unavailable => "unavailable",
        }
    }

    /// Whether sending the same request again later can succeed. A device keeps a batch that
    /// failed with a permanent error in its outbox (never deletes it) and reports it instead of
    /// retrying forever.
    pub fn is_retryable(self) -> bool {
        matches!(
            self,
            ErrorCode::Internal | ErrorCode::TooManyRequests | ErrorCode::Unavailable
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Devices match on these strings; a renamed variant must fail here first.
    #[test]
    fn error_codes_on_the_wire_are_their_names() {
        let all = [
            ErrorCode::Unauthenticated,
            ErrorCode::Forbidden,
            ErrorCode::NotFound,
            ErrorCode::InvalidRequest,
            ErrorCode::Conflict,
            ErrorCode::InvalidEnrolmentCode,
            ErrorCode::MalformedBatch,
            ErrorCode::UnknownDevice,
            ErrorCode::RevokedDevice,
            ErrorCode::ForgedSignature,
            ErrorCode::ReplayFromAnotherDevice,
            ErrorCode::WrongRecipient,
            ErrorCode::TamperedCiphertext,
            ErrorCode::SequenceConflict,
            ErrorCode::InvalidPayload,
            ErrorCode::QuestionnaireMismatch,
            ErrorCode::Internal,
            ErrorCode::PayloadTooLarge,
            ErrorCode::TooManyRequests,
            ErrorCode::Unavailable,
        ];
        for code in all {
            let json = serde_json::to_string(&code).expect("serializes");
            assert_eq!(json, format!("\"{}\"", code.as_str()));
            assert_eq!(
                serde_json::from_str::<ErrorCode>(&json).expect("parses"),
                code
            );
        }
        assert!(ErrorCode::Internal.is_retryable());
        assert!(!ErrorCode::ForgedSignature.is_retryable());
        assert!(ErrorCode::Unavailable.is_retryable());
        assert!(ErrorCode::TooManyRequests.is_retryable());
        assert!(!ErrorCode::PayloadTooLarge.is_retryable());
    }

    #[test]
    fn roles_round_trip_and_province_roles_are_the_provincial_ones() {
        for role in [
            Role::Admin,
            Role::Coordinator,
            Role::RecheckTeam,
            Role::Enumerator,
        ] {
            assert_eq!(Role::parse(role.as_str()), Some(role));
            let json = serde_json::to_string(&role).expect("serializes");
            assert_eq!(json, format!("\"{}\"", role.as_str()));
        }
        assert_eq!(Role::parse("root"), None);
        assert!(Role::Coordinator.needs_province());
        assert!(!Role::Admin.needs_province());
    }

    /// A newer server may add fields; an older reader must still parse the answer.
    #[test]
    fn readers_ignore_fields_added_later() {
        let json = r#"{"device_id":"0190b0a0-0000-7000-8000-000000000001","sequence":3,
            "batch_id":"0190b0a0-0000-7000-8000-000000000002","digest":"ab","interviews":2,
            "acknowledged_at":"2026-01-02T03:04:05Z","new_field":true}"#;
        let ack: BatchAck = serde_json::from_str(json).expect("parses");
        assert_eq!(ack.sequence, 3);
        assert_eq!(ack.interviews, 2);
    }
}
