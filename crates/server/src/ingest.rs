//! Ingest: from uploaded bytes to acknowledged rows, in the order the invariants require.
//!
//! 1. Read the header (routing only) and find the device: unknown or revoked devices stop here.
//! 2. Verify the device signature over header and ciphertext.
//! 3. Check the uploader is the device that signed (else: a replay from another device).
//! 4. A batch already acknowledged with the same bytes gets its acknowledgement again, without
//!    being archived a second time (its bytes are already in the archive).
//! 5. Check the recipients (exactly the survey's set: a key added on the way, say by a
//!    man-in-the-middle at enrolment, would read every batch), then append the raw batch to the
//!    archive and fsync.
//! 6. Decrypt with the server's key, parse, check the payload against the header, and each
//!    interview's answers against its questionnaire version's compiled form ([`crate::answers`]).
//! 7. In one transaction: idempotency on (device, sequence, digest), checks against the
//!    assignments and questionnaire versions, batch and interview rows (a second interview for
//!    an assignment is stored but not counted, and recorded as an incident: see
//!    [`crate::storage`]'s ingest module). Then acknowledge.
//!
//! Every rejection carries its own [`ErrorCode`] and is recorded as an incident (without any
//! respondent data), placed in the province of its assignment or of the device's enumerator
//! so that coordinator sees it. Rebuild runs the same steps on archived bytes, minus 3 and 5
//! (an archived batch passed the recipient check when it arrived; the survey's keys may have
//! changed since).
//!
//! Each batch is split, parsed and hashed once, verified once and decrypted once: the steps go
//! through `fieldpost_seal::Parsed` -> `Verified` -> `Opened`, each consuming the one before.
//!
//! Hot path, per batch: the device, the acknowledged batch, the recipients, then in the commit
//! one query for the versions, one for the interviews that already count for the batch's
//! assignments, and per interview its assignment and its insert.

use crate::answers::{ChecksError, FormChecks};
use crate::archive::{Archive, ArchiveError};
use crate::storage::{
    BatchCommit, CommitOutcome, Device, Incident, IngestedInterview, Storage, StorageError,
};
use chrono::{SubsecRound, Utc};
use fieldpost_proto::v1::{BatchAck, BatchPayload, ErrorCode, InterviewRecord};
use fieldpost_seal::{DevicePublicKey, Header, Keyring, OpenError, Parsed, Verified};

/// Largest decompressed payload ingest opens: 16 MiB. A batch holds at most 200 interviews
/// (the sync client's largest batch); a SIPAS interview with its paradata, as the app records
/// it, is at most about 13.9 KB of JSON (measured by `tests/abuse.rs`, see `docs/server.md`),
/// so 200 of them are about 2.7 MiB and the cap leaves a factor of about 6 for longer
/// interviews, while a compression bomb stops at 16 MiB instead of the seal crate's general
/// 64 MiB.
pub const MAX_PAYLOAD_BYTES: u64 = 16 << 20;

/// Why a batch was not acknowledged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    pub code: ErrorCode,
    pub message: String,
    /// The assignment of the interview that caused it, when the server could tell (the
    /// incident then names it and is placed in its province).
    pub assignment_id: Option<uuid::Uuid>,
}

impl Rejection {
    fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            assignment_id: None,
        }
    }

    fn at(mut self, assignment_id: uuid::Uuid) -> Self {
        self.assignment_id = Some(assignment_id);
        self
    }
}

/// What ingest learnt about a batch before it was refused, to place the incident.
#[derive(Default)]
struct Trace {
    /// Device and sequence the header names (unverified until `province` is set).
    routed: Option<(uuid::Uuid, u64)>,
    /// The batch's digest, once computed (it is computed once, when the batch is parsed).
    digest: Option<String>,
    /// The one province the signed header's summaries name, once the signature verified.
    province: Option<String>,
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
    /// The server's recipient identities, their key ids derived once at start.
    pub identities: Keyring,
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
        let mut trace = Trace::default();
        let result = self.run(bytes, source, &mut trace);
        if let Err(r) = &result {
            // Internal failures are ours, not the batch's; they are logged, not recorded as
            // incidents against the device.
            if r.code != ErrorCode::Internal {
                // The device the batch names; for a batch too broken to name one, the device
                // that uploaded it (so its coordinator hears of it).
                let uploader = match source {
                    Source::Upload(d) => Some(d.id),
                    Source::Archive => None,
                };
                let digest = trace
                    .digest
                    .take()
                    .unwrap_or_else(|| fieldpost_seal::digest(bytes).to_string());
                let incident = Incident {
                    kind: r.code.as_str().to_string(),
                    device_id: trace.routed.map(|(d, _)| d).or(uploader),
                    sequence: trace.routed.map(|(_, s)| s),
                    digest: Some(digest),
                    detail: r.message.clone(),
                    assignment_id: r.assignment_id,
                    // A province the signed header names, when it names one: checked against
                    // the enumerator's assignments when the incident is placed.
                    province: trace.province.take(),
                    duplicate: None,
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
        trace: &mut Trace,
    ) -> Result<BatchAck, Rejection> {
        // Split, header and digest once; see `fieldpost_seal::Parsed`.
        let parsed = Parsed::from_bytes(bytes).map_err(open_error)?;
        let routed = parsed.header();
        trace.routed = Some((routed.device_id, routed.sequence));
        trace.digest = Some(parsed.digest().to_string());
        let Some(device) = self.storage.device(routed.device_id)? else {
            return Err(Rejection::new(
                ErrorCode::UnknownDevice,
                format!("device {} is not enrolled on this server", routed.device_id),
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
        let verified: Verified<'_> = parsed.verify(&key).map_err(open_error)?;
        let header = verified.header();
        trace.province = single_province(header);
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
        let digest = verified.digest().to_string();
        if let Source::Upload(_) = source
            && let Some(ack) = self
                .storage
                .acknowledged_batch(device.id, header.sequence)?
            && ack.digest == digest
        {
            return Ok(ack);
        }
        if let Source::Upload(_) = source {
            let expected = self.storage.recipients(device.survey_id)?;
            check_recipients(
                &header.recipients,
                expected.iter().map(|r| r.key_id.as_str()),
            )?;
            self.archive.append_batch(bytes)?;
        }
        let opened = verified
            .open(
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
        let header = &opened.header;
        let payload: BatchPayload = serde_json::from_slice(&opened.payload).map_err(|e| {
            Rejection::new(
                ErrorCode::InvalidPayload,
                format!("the payload is not valid JSON: {e}"),
            )
        })?;
        let interviews = match_payload(header, payload, |i, rec| {
            self.check_answers(device.survey_id, i, rec)
        })?;
        // A batch of one interview (as a device re-seals a refused one): any refusal from here
        // on is about that interview's assignment.
        let only = match interviews.as_slice() {
            [one] => Some(one.assignment_id),
            _ => None,
        };
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
        let outcome = self.storage.commit_batch(commit).map_err(|e| {
            let r = Rejection::from(e);
            match only {
                Some(a) if r.code != ErrorCode::Internal => r.at(a),
                _ => r,
            }
        })?;
        match outcome {
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

/// The one province a (verified) header's summaries name, if they name exactly one.
fn single_province(h: &Header) -> Option<String> {
    let provinces: std::collections::BTreeSet<&str> =
        h.interviews.iter().map(|s| s.province.as_str()).collect();
    match provinces.into_iter().collect::<Vec<_>>().as_slice() {
        [one] => Some(one.to_string()),
        _ => None,
    }
}

/// The batch must be encrypted to exactly the survey's recipients. Fewer: a key holder (the
/// escrow, say) could not open it. More: someone who slipped a key into the device's list (a
/// man-in-the-middle at enrolment) could read it. Either way the device must download the
/// survey's recipients again and seal again; the message names what differs.
fn check_recipients<'a>(
    batch: &[String],
    survey: impl Iterator<Item = &'a str>,
) -> Result<(), Rejection> {
    use std::collections::BTreeSet;
    let survey: BTreeSet<&str> = survey.collect();
    let batch: BTreeSet<&str> = batch.iter().map(String::as_str).collect();
    if batch == survey {
        return Ok(());
    }
    let missing: Vec<&str> = survey.difference(&batch).copied().collect();
    let extra: Vec<&str> = batch.difference(&survey).copied().collect();
    let mut parts = Vec::new();
    if !missing.is_empty() {
        parts.push(format!(
            "it is not encrypted to the survey's keys {missing:?}"
        ));
    }
    if !extra.is_empty() {
        parts.push(format!(
            "it is also encrypted to keys {extra:?} that are not the survey's"
        ));
    }
    Err(Rejection::new(
        ErrorCode::WrongRecipient,
        format!(
            "the batch's recipients are not exactly the survey's: {}; download the survey's \
             recipients again and seal the batch again",
            parts.join(", and ")
        ),
    ))
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
            )
            .at(rec.assignment_id));
        }
        if rec.interview_id.get_version_num() != 7 {
            return Err(Rejection::new(
                ErrorCode::InvalidPayload,
                format!("item {i}: interview id is not a UUIDv7"),
            )
            .at(rec.assignment_id));
        }
        check(i, &rec).map_err(|r| r.at(rec.assignment_id))?;
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

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    /// Exactly the survey's set, in any order; a superset and a subset are refused, and the
    /// message names what differs.
    #[test]
    fn recipients_must_be_exactly_the_surveys() {
        let survey = ["srv", "esc"];
        assert!(check_recipients(&ids(&["esc", "srv"]), survey.into_iter()).is_ok());
        let more = check_recipients(&ids(&["srv", "esc", "mitm"]), survey.into_iter())
            .expect_err("superset");
        assert_eq!(more.code, ErrorCode::WrongRecipient);
        assert!(more.message.contains("\"mitm\""), "{}", more.message);
        assert!(!more.message.contains("not encrypted"), "{}", more.message);
        let fewer = check_recipients(&ids(&["srv"]), survey.into_iter()).expect_err("subset");
        assert!(fewer.message.contains("[\"esc\"]"), "{}", fewer.message);
        let swapped =
            check_recipients(&ids(&["srv", "mitm"]), survey.into_iter()).expect_err("one swapped");
        assert!(
            swapped.message.contains("\"esc\"") && swapped.message.contains("\"mitm\""),
            "{}",
            swapped.message
        );
    }
}
