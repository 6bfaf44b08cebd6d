//! Finished interviews into sealed batches in the outbox: the header's progress summaries (no
//! personal data) and the encrypted payload with every answer and the paradata.

use crate::device::keys;
use crate::{error, paths};
use chrono::Utc;
use fieldpost_proto::app::{CommandError, ErrorCode};
use fieldpost_proto::v1::{BatchPayload, InterviewRecord, RecipientKey};
use fieldpost_seal::{DeviceSigningKey, InterviewSummary, Recipient, SealInput};
use fieldpost_store::{InterviewStatus, Store};
use uuid::Uuid;

/// Who seals: the device's signing key, the keys batches are encrypted to, and the
/// enumerator the server knows.
pub struct Sealer {
    pub key: DeviceSigningKey,
    pub recipients: Vec<Recipient>,
    pub enumerator_id: Uuid,
}

impl Sealer {
    /// The sealer of an enrolled device, from its store (needs the store unlocked).
    pub fn from_store(store: &Store) -> Result<Sealer, CommandError> {
        let not_enrolled = |what: &str| CommandError::new(ErrorCode::NotEnrolled, what.to_string());
        let key = DeviceSigningKey::from_pkcs8(
            &store
                .secret(keys::SIGNING_KEY)
                .map_err(error::store)?
                .ok_or_else(|| not_enrolled("no signing key"))?,
        )
        .map_err(error::internal)?;
        let recipients: Vec<RecipientKey> = crate::device::recipients(store)?;
        let recipients = recipients
            .iter()
            .map(|r| r.public_key.parse())
            .collect::<Result<_, _>>()
            .map_err(error::internal)?;
        let enumerator_id = store
            .setting(keys::ENUMERATOR_ID)
            .map_err(error::store)?
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| not_enrolled("no enumerator id"))?;
        Ok(Sealer {
            key,
            recipients,
            enumerator_id,
        })
    }

    /// The recipients' key ids, as batch headers list them.
    pub fn key_ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = self.recipients.iter().map(|r| r.key_id()).collect();
        ids.sort();
        ids
    }

    /// Seals every finished interview not yet in a batch, `batch_size` per batch, into the
    /// outbox, and every interview whose batch the server refused (and that is not held), one
    /// per batch; returns the sealed bytes' total length.
    pub fn seal_pending(&self, store: &mut Store, batch_size: usize) -> Result<u64, CommandError> {
        let pending = store.unbatched_interviews().map_err(error::store)?;
        let refused = store.refused_interviews().map_err(error::store)?;
        let chunks = pending.chunks(batch_size.max(1)).chain(refused.chunks(1));
        let mut sealed_bytes = 0;
        for chunk in chunks {
            let (summaries, payload) = content(store, chunk, self.enumerator_id)?;
            let device_id = store.device_id();
            store
                .enqueue_batch(chunk, |sequence| {
                    let bytes = fieldpost_seal::seal(
                        &SealInput {
                            batch_id: Uuid::now_v7(),
                            device_id,
                            sequence,
                            created_at: Utc::now(),
                            interviews: &summaries,
                            payload: &payload,
                        },
                        &self.key,
                        &self.recipients,
                    )?;
                    sealed_bytes += bytes.len() as u64;
                    Ok::<_, fieldpost_seal::SealError>(bytes)
                })
                .map_err(error::store)?;
        }
        Ok(sealed_bytes)
    }
}

/// The header summaries and the payload JSON of a batch of interviews.
fn content(
    store: &Store,
    ids: &[Uuid],
    enumerator_id: Uuid,
) -> Result<(Vec<InterviewSummary>, Vec<u8>), CommandError> {
    let mut summaries = Vec::with_capacity(ids.len());
    let mut records = Vec::with_capacity(ids.len());
    for id in ids {
        let iv = store.interview(*id).map_err(error::store)?;
        let a = store.assignment(iv.assignment_id).map_err(error::store)?;
        let status = match (iv.status, iv.non_response_code) {
            (InterviewStatus::Completed, _) => "completed".to_string(),
            (_, Some(code)) => serde_json::to_value(code)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_else(|| "non_response".into()),
            _ => "non_response".into(),
        };
        let answers = store
            .answers(*id)
            .map_err(error::store)?
            .into_iter()
            .map(|a| (paths::to_engine(&a.path), a.value))
            .collect();
        let paradata = serde_json::to_value(store.paradata(*id).map_err(error::store)?)
            .map_err(error::internal)?;
        summaries.push(InterviewSummary {
            interview_id: iv.id,
            province: a.province_code.clone(),
            commune: a.commune_code.clone(),
            stratum: a.stratum.clone(),
            status: status.clone(),
            enumerator_id,
            questionnaire_version: iv.form_version.clone(),
        });
        records.push(InterviewRecord {
            interview_id: iv.id,
            assignment_id: iv.assignment_id,
            questionnaire_version: iv.form_version,
            enumerator_id,
            status,
            started_at: iv.started_at,
            ended_at: iv.ended_at.unwrap_or(iv.started_at),
            answers,
            paradata,
        });
    }
    let payload = serde_json::to_vec(&BatchPayload {
        interviews: records,
    })
    .map_err(error::internal)?;
    Ok((summaries, payload))
}
