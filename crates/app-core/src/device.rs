//! Enrolment and what the device keeps from it: the PIN that protects the store, the device's
//! signing key and token (encrypted in the store), the server's address, the survey's
//! questionnaire (compiled here by the form engine), assignments, code lists and the keys
//! batches are encrypted to.

use crate::error;
use crate::server::Server;
use fieldpost_proto::app::{CommandError, EnrolRequest, ErrorCode};
use fieldpost_proto::v1;
use fieldpost_seal::DeviceSigningKey;
use fieldpost_store::{AssignmentKind, NewAssignment, Personal, Store, Unit};
use uuid::Uuid;

/// Setting names (plain: readable while locked; secret: encrypted under the data key).
pub mod keys {
    pub const SERVER_URL: &str = "server_url";
    pub const ENUMERATOR: &str = "enumerator";
    pub const ENUMERATOR_ID: &str = "enumerator_id";
    pub const SURVEY_TITLE: &str = "survey_title";
    pub const FORM_ID: &str = "form_id";
    pub const FORM_VERSION: &str = "form_version";
    pub const RECIPIENTS: &str = "recipients";
    pub const CODELISTS: &str = "codelists";
    pub const LANGUAGE: &str = "language";
    pub const LAST_SYNC_OK: &str = "sync_last_success";
    pub const LAST_SYNC_ERROR: &str = "sync_last_error";
    /// The upload batch size the last sync ended with (see `sync::BatchSizer`).
    pub const BATCH_SIZE: &str = "sync_batch_size";
    /// Days answers stay after the server acknowledged them (`DEFAULT_RETENTION_DAYS`).
    pub const RETENTION_DAYS: &str = "retention_days";
    /// Secrets.
    pub const DEVICE_TOKEN: &str = "device_token";
    pub const SIGNING_KEY: &str = "signing_key";
}

/// Shortest PIN accepted: 6 digits, as phones ask.
pub const MIN_PIN_DIGITS: usize = 6;

pub fn check_pin(pin: &str) -> Result<(), CommandError> {
    if pin.len() < MIN_PIN_DIGITS || !pin.chars().all(|c| c.is_ascii_digit()) {
        return Err(CommandError::new(
            ErrorCode::WeakPin,
            format!("a PIN is at least {MIN_PIN_DIGITS} digits"),
        ));
    }
    Ok(())
}

/// Enrols the device: sets the PIN (first time only), trades the one-time code and the device's
/// public key for a token, then downloads everything an interview needs. The PIN is set before
/// any network call, so a failed enrolment can simply be retried with the same PIN.
pub async fn enrol(store: &mut Store, req: &EnrolRequest) -> Result<(), CommandError> {
    check_pin(&req.pin)?;
    let url = crate::server::normalise_url(&req.server_url)?;
    if store.has_pin().map_err(error::store)? {
        if !store.is_unlocked() {
            store.unlock(&req.pin).map_err(error::store)?;
        }
    } else {
        store.set_up_pin(&req.pin).map_err(error::store)?;
    }
    let key = match store.secret(keys::SIGNING_KEY).map_err(error::store)? {
        Some(pkcs8) => DeviceSigningKey::from_pkcs8(&pkcs8).map_err(error::internal)?,
        None => {
            let key = DeviceSigningKey::generate().map_err(error::internal)?;
            store
                .set_secret(keys::SIGNING_KEY, key.pkcs8())
                .map_err(error::store)?;
            key
        }
    };
    let enrolled = Server::new(&url, None)?
        .enrol(&v1::EnrolRequest {
            code: req.code.trim().to_string(),
            device_id: store.device_id(),
            public_key: key.public_key().to_string(),
        })
        .await?;
    store
        .set_secret(keys::DEVICE_TOKEN, enrolled.device_token.as_bytes())
        .map_err(error::store)?;
    let set = |store: &mut Store, k: &str, v: &str| store.set_setting(k, Some(v));
    (|| {
        set(store, keys::SERVER_URL, &url)?;
        set(store, keys::ENUMERATOR, &enrolled.enumerator.username)?;
        set(
            store,
            keys::ENUMERATOR_ID,
            &enrolled.enumerator.id.to_string(),
        )?;
        set(store, keys::SURVEY_TITLE, &enrolled.survey.title)?;
        let recipients = serde_json::to_string(&enrolled.recipients).unwrap_or_default();
        set(store, keys::RECIPIENTS, &recipients)
    })()
    .map_err(error::store)?;
    refresh(store).await
}

/// The enrolled device's server address and token, or `NotEnrolled`.
pub(crate) fn credentials(store: &Store) -> Result<(String, String), CommandError> {
    let url = store
        .setting(keys::SERVER_URL)
        .map_err(error::store)?
        .ok_or_else(|| CommandError::new(ErrorCode::NotEnrolled, "no server yet"))?;
    let token = store
        .secret(keys::DEVICE_TOKEN)
        .map_err(error::store)?
        .ok_or_else(|| CommandError::new(ErrorCode::NotEnrolled, "no device token"))?;
    Ok((url, String::from_utf8_lossy(&token).into_owned()))
}

/// Downloads the questionnaire, assignments and code lists again (after enrolment, and at
/// each sync, so new assignments arrive).
pub async fn refresh(store: &mut Store) -> Result<(), CommandError> {
    let (url, token) = credentials(store)?;
    let server = Server::new(&url, Some(&token))?;

    let versions: v1::Questionnaires = server.get("/device/questionnaires").await?;
    let latest = versions
        .versions
        .iter()
        .max_by_key(|v| v.uploaded_at)
        .ok_or_else(|| {
            CommandError::new(
                ErrorCode::QuestionnaireUnavailable,
                "the survey has no questionnaire yet; ask your supervisor",
            )
        })?;
    let bytes = server
        .get_bytes(&format!("/device/questionnaires/{}", latest.version))
        .await?;
    let form = fieldpost_form::import_xlsform(&bytes)
        .map_err(|e| CommandError::new(ErrorCode::QuestionnaireUnavailable, e.to_string()))?
        .form;
    let form_id = form
        .settings
        .form_id
        .clone()
        .unwrap_or_else(|| "form".into());
    store
        .save_questionnaire(&form_id, &latest.version, &form.to_json())
        .map_err(error::store)?;
    store
        .set_setting(keys::FORM_ID, Some(&form_id))
        .map_err(error::store)?;
    store
        .set_setting(keys::FORM_VERSION, Some(&latest.version))
        .map_err(error::store)?;

    let codelists: v1::CodeLists = server.get("/device/codelists").await?;
    store
        .set_setting(
            keys::CODELISTS,
            Some(&serde_json::to_string(&codelists).map_err(error::internal)?),
        )
        .map_err(error::store)?;

    let assignments: v1::Assignments = server.get("/device/assignments").await?;
    let enumerator = store
        .setting(keys::ENUMERATOR)
        .map_err(error::store)?
        .unwrap_or_default();
    let local = local_assignments(&assignments.assignments, &enumerator, &form_id);
    store.import_assignments(&local).map_err(error::store)?;
    Ok(())
}

/// The server's assignments as the store keeps them, with official and reserve paired by id.
pub fn local_assignments(
    assignments: &[v1::Assignment],
    enumerator: &str,
    form_id: &str,
) -> Vec<NewAssignment> {
    let id_of = |code: &str| assignments.iter().find(|a| a.code == code).map(|a| a.id);
    let reserve_of = |official: &str| -> Option<Uuid> {
        assignments
            .iter()
            .find(|a| a.reserve && a.reserve_for.as_deref() == Some(official))
            .map(|a| a.id)
    };
    assignments
        .iter()
        .map(|a| NewAssignment {
            id: a.id,
            kind: if a.reserve {
                AssignmentKind::Reserve
            } else {
                AssignmentKind::Official
            },
            pair_id: if a.reserve {
                a.reserve_for.as_deref().and_then(id_of)
            } else {
                reserve_of(&a.code)
            },
            unit: Unit::Household,
            province_code: a.province.clone(),
            commune_code: a.commune.clone(),
            village_code: a.village.clone(),
            stratum: a.stratum.clone(),
            enumerator: enumerator.to_string(),
            form_id: form_id.to_string(),
            due_date: None,
            personal: Personal {
                name: a.code.clone(),
                phone: None,
                address: a.village.clone(),
            },
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(code: &str, reserve_for: Option<&str>) -> v1::Assignment {
        v1::Assignment {
            id: Uuid::now_v7(),
            code: code.into(),
            reserve: reserve_for.is_some(),
            reserve_for: reserve_for.map(str::to_string),
            province: "01".into(),
            commune: "00004".into(),
            village: "Thôn 1".into(),
            stratum: "urban".into(),
        }
    }

    #[test]
    fn officials_and_reserves_are_paired_both_ways() {
        let list = vec![a("HN-1", None), a("HN-1R", Some("HN-1")), a("HN-2", None)];
        let local = local_assignments(&list, "enum1", "sipas_household");
        assert_eq!(local[0].pair_id, Some(list[1].id));
        assert_eq!(local[1].pair_id, Some(list[0].id));
        assert_eq!(local[1].kind, AssignmentKind::Reserve);
        assert_eq!(local[2].pair_id, None);
    }

    #[test]
    fn pins_are_six_digits_or_more() {
        assert!(check_pin("123456").is_ok());
        for bad in ["12345", "abcdef", "12 3456", ""] {
            assert_eq!(check_pin(bad).expect_err(bad).code, ErrorCode::WeakPin);
        }
    }
}
