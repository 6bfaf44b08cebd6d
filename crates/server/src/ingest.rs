//! Ingest: from uploaded bytes to acknowledged rows, in the order the invariants require.
//!
//! 1. Read the header (routing only) and find the device: unknown or revoked devices stop here.
//! 2. Verify the device signature over header and ciphertext.
//! 3. Check the uploader is the device that signed (else: a replay from another device).
//! 4. A batch already acknowledged with the same bytes gets its acknowledgement again, without
//!    being archived a second time (its bytes are already in the archive).
//! 5. Check the recipients, then append the raw batch to the archive and fsync.
//! 6. Decrypt with the server's key, parse, check the payload against the header, and each
//!    interview's answers against its questionnaire version's compiled form ([`crate::answers`]).
//! 7. In one transaction: idempotency on (device, sequence, digest), checks against the
//!    assignments and questionnaire versions, batch and interview rows. Then acknowledge.
//!
//! Every rejection carries its own [`ErrorCode`] and is recorded as an incident (without any
//! respondent data). Rebuild runs the same steps on archived bytes, minus 3 and 5.

use crate::answers::{ChecksError, FormChecks};
use crate::archive::{Archive, ArchiveError};
use crate::storage::{
    BatchCommit, CommitOutcome, Device, Incident, IngestedInterview, Storage, StorageError,
};
use chrono::{SubsecRound, Utc};
use fieldpost_proto::v1::{BatchAck, BatchPayload, ErrorCode, InterviewRecord};
use fieldpost_seal::{DevicePublicKey, Header, Identity, OpenError};

/// Why a batch was not acknowledged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    pub code: ErrorCode,
    pub message: String,
}

impl Rejection {
    fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
/// Largest decompressed payload ingest opens: 16 MiB. A batch holds at most 200 interviews
/// (the sync client's largest batch); a SIPAS interview with its paradata is about 3.5 KiB of
/// JSON (`docs/server.md`), so 200 of them are under 1 MiB and the cap leaves a factor of about
/// 20 for long interviews, while a compression bomb stops at 16 MiB instead of the seal
/// crate's general 64 MiB.
pub const MAX_PAYLOAD_BYTES: u64 = 16 << 20;

            message: message.into(),
        }
    }
}

impl From<StorageError> for Rejection {
    fn from(e: StorageError) -> Self {
        match e {
            StorageError::Invalid(m) => Rejection::new(ErrorCode::InvalidPayload, m),
            other => Rejection::new(ErrorCode::Internal, other.to_string()),
        }
    }
}

impl From<ArchiveError> for Rejection {
    fn from(e: ArchiveError) -> Self {
        Rejection::new(
            ErrorCode::Internal,
            format!("the batch could not be archived: {e}"),
        )
    }
}

/// Where a batch comes from.
#[derive(Debug, Clone, Copy)]
pub enum Source<'a> {
    /// Uploaded now by this (authenticated) device.
    Upload(&'a Device),
    /// Replayed from the archive by a rebuild: it passed the upload checks when it arrived,
    /// and the device may have been revoked since.
    Archive,
}

/// The ingest pipeline with what it needs: the database, the archive, the server's keys.
#[derive(Clone)]
pub struct Ingest {
    pub storage: Storage,
    pub archive: Archive,
    pub identities: Vec<Identity>,
    /// Compiled questionnaire versions, parsed once, to check answers against.
    pub forms: FormChecks,
}

fn open_error(e: OpenError) -> Rejection {
    let code = match &e {
        OpenError::BadSignature => ErrorCode::ForgedSignature,
        OpenError::NotARecipient { .. } => ErrorCode::WrongRecipient,
        // A payload that decompresses past the cap: a bomb, or a batch far larger than any
        // device seals; permanent either way.
        OpenError::PayloadTooLarge { .. } => ErrorCode::PayloadTooLarge,
        OpenError::Decrypt(_) | OpenError::Decompress(_) | OpenError::PayloadDigest => {
            ErrorCode::TamperedCiphertext
        }
        _ => ErrorCode::MalformedBatch,
    };
    Rejection::new(code, e.to_string())
}

impl Ingest {
    /// Ingests one batch; on rejection, records an incident and returns why.
    pub fn ingest(&self, bytes: &[u8], source: Source<'_>) -> Result<BatchAck, Rejection> {
        let mut routed: Option<Header> = None;
        let result = self.run(bytes, source, &mut routed);
        if let Err(r) = &result {
            // Internal failures are ours, not the batch's; they are logged, not recorded as
            // incidents against the device.
            if r.code != ErrorCode::Internal {
                let incident = Incident {
                    kind: r.code.as_str().to_string(),
                    device_id: routed.as_ref().map(|h| h.device_id),
                    sequence: routed.as_ref().map(|h| h.sequence),
                    digest: Some(fieldpost_seal::digest(bytes).to_string()),
                    detail: r.message.clone(),
                };
                // A sequence conflict was recorded inside the commit transaction already.
                if r.code != ErrorCode::SequenceConflict
                    && let Err(e) = self.storage.record_incident(&incident)
                {
                    tracing::error!(
                        kind = %incident.kind,
                        error = %e,
                        "could not record an incident"
                    );
                }
            }
        }
        result
    }

    fn run(
        &self,
        bytes: &[u8],
        source: Source<'_>,
        routed: &mut Option<Header>,
    ) -> Result<BatchAck, Rejection> {
        let header = fieldpost_seal::peek_header(bytes).map_err(open_error)?;
        *routed = Some(header.clone());
        let Some(device) = self.storage.device(header.device_id)? else {
            return Err(Rejection::new(
                ErrorCode::UnknownDevice,
                format!("device {} is not enrolled on this server", header.device_id),
            ));
        };
        if let (Source::Upload(_), Some(at)) = (source, device.revoked_at) {
            return Err(Rejection::new(
                ErrorCode::RevokedDevice,
                format!("device {} was revoked at {at}", device.id),
            ));
        }
        let key: DevicePublicKey = device.public_key.parse().map_err(|e| {
            Rejection::new(
                ErrorCode::Internal,
                format!("stored key of device {}: {e}", device.id),
            )
        })?;
        let header = fieldpost_seal::verify(bytes, &key).map_err(open_error)?;
        if let Source::Upload(uploader) = source
            && uploader.id != header.device_id
        {
            return Err(Rejection::new(
                ErrorCode::ReplayFromAnotherDevice,
                format!(
                    "a batch of device {} was uploaded by device {}",
                    header.device_id, uploader.id
                ),
            ));
        }
        let digest = fieldpost_seal::digest(bytes).to_string();
        if let Source::Upload(_) = source
            && let Some(ack) = self
                .storage
                .acknowledged_batch(device.id, header.sequence)?
            && ack.digest == digest
        {
            return Ok(ack);
        }
        let expected = self.storage.recipients(device.survey_id)?;
        let missing: Vec<&str> = expected
            .iter()
            .filter(|r| !header.recipients.contains(&r.key_id))
            .map(|r| r.key_id.as_str())
            .collect();
        if !missing.is_empty() {
            return Err(Rejection::new(
                ErrorCode::WrongRecipient,
                format!(
                    "the batch is not encrypted to the survey's keys {missing:?}; download the recipients again"
                ),
            ));
        }
        if let Source::Upload(_) = source {
            self.archive.append_batch(bytes)?;
        }
        let opened = fieldpost_seal::open_with_limits(
            bytes,
            &key,
            &self.identities,
            &fieldpost_seal::Limits {
                max_payload_bytes: MAX_PAYLOAD_BYTES,
            },
        )
        .map_err(|e| match e {
            // The batch names the survey's keys, but this server process does not hold the
            // server key: an operator problem, so the device keeps the batch and retries.
            OpenError::NotARecipient { .. } => Rejection::new(
                ErrorCode::Internal,
                "this server does not hold the survey's server key; start it with --identity",
            ),
            other => open_error(other),
        })?;
        let payload: BatchPayload = serde_json::from_slice(&opened.payload).map_err(|e| {
            Rejection::new(
                ErrorCode::InvalidPayload,
                format!("the payload is not valid JSON: {e}"),
            )
        })?;
        let interviews = match_payload(&header, payload, |i, rec| {
            self.check_answers(device.survey_id, i, rec)
        })?;
        let commit = BatchCommit {
            survey_id: device.survey_id,
            device_id: device.id,
            enumerator_id: device.account_id,
            sequence: header.sequence,
            digest: digest.clone(),
            batch_id: header.batch_id,
            byte_len: bytes.len() as u64,
            interviews,
            // Microseconds, as stored: a repeated upload must get an identical acknowledgement.
            acknowledged_at: Utc::now().trunc_subsecs(6),
        };
        match self.storage.commit_batch(&commit)? {
            CommitOutcome::Acked(ack) | CommitOutcome::Duplicate(ack) => Ok(ack),
            CommitOutcome::Conflict {
                acknowledged_digest,
            } => Err(Rejection::new(
                ErrorCode::SequenceConflict,
                format!(
                    "sequence {} of device {} was already acknowledged with other content \
                     (digest {acknowledged_digest}); this was recorded as an incident",
                    header.sequence, device.id
                ),
            )),
        }
    }
}

impl Ingest {
    /// Checks item `i` against its questionnaire version (see [`crate::answers`]).
    fn check_answers(
        &self,
        survey_id: uuid::Uuid,
        i: usize,
        rec: &InterviewRecord,
    ) -> Result<(), Rejection> {
        let mismatch = |m: String| Rejection::new(ErrorCode::QuestionnaireMismatch, m);
        let checker = self
            .forms
            .get(&self.storage, survey_id, &rec.questionnaire_version)
            .map_err(|e| match e {
                ChecksError::UnknownVersion(_) => mismatch(format!("item {i}: {e}")),
                ChecksError::Unreadable { .. } => {
                    Rejection::new(ErrorCode::Internal, e.to_string())
                }
                ChecksError::Storage(s) => Rejection::from(s),
            })?;
        checker
            .check(&rec.answers)
            .map_err(|m| mismatch(format!("item {i}: {m}")))
    }
}

/// Pairs the decrypted interviews with the signed header summaries: same count, same order,
/// same ids, statuses, enumerators and versions. The header is what progress is computed from
/// before decryption, so the two must never disagree. `check` then judges each interview's
/// content.
fn match_payload(
    header: &Header,
    payload: BatchPayload,
    check: impl Fn(usize, &InterviewRecord) -> Result<(), Rejection>,
) -> Result<Vec<IngestedInterview>, Rejection> {
    if payload.interviews.len() != header.interviews.len() {
        return Err(Rejection::new(
            ErrorCode::InvalidPayload,
            format!(
                "the header lists {} interviews but the payload holds {}",
                header.interviews.len(),
                payload.interviews.len()
            ),
        ));
    }
    let mut out = Vec::with_capacity(payload.interviews.len());
    for (i, (s, rec)) in header.interviews.iter().zip(payload.interviews).enumerate() {
        let same = s.interview_id == rec.interview_id
            && s.status == rec.status
            && s.enumerator_id == rec.enumerator_id
            && s.questionnaire_version == rec.questionnaire_version;
        if !same {
            return Err(Rejection::new(
                ErrorCode::InvalidPayload,
                format!("item {i}: the payload does not match the header summary"),
            ));
        }
        if rec.interview_id.get_version_num() != 7 {
            return Err(Rejection::new(
                ErrorCode::InvalidPayload,
                format!("item {i}: interview id is not a UUIDv7"),
            ));
        }
        check(i, &rec)?;
        let answers = serde_json::to_string(&rec.answers).map_err(|e| {
            Rejection::new(ErrorCode::Internal, format!("re-encoding answers: {e}"))
        })?;
        out.push(IngestedInterview {
            id: rec.interview_id,
            assignment_id: rec.assignment_id,
            enumerator_id: rec.enumerator_id,
            questionnaire_version: rec.questionnaire_version,
            province: s.province.clone(),
            commune: s.commune.clone(),
            stratum: s.stratum.clone(),
            status: rec.status,
            started_at: Some(rec.started_at),
            ended_at: Some(rec.ended_at),
            answers: Some(answers),
        });
    }
    Ok(out)
}
