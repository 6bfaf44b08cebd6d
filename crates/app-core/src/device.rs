//! Enrolment and what the device keeps from it: the PIN that protects the store, the device's
//! signing key and token (encrypted in the store), the server's address, the survey's
//! questionnaire (compiled here by the form engine), assignments, code lists and the keys
//! batches are encrypted to.

use crate::error;
use crate::server::{Server, Trust};
use fieldpost_proto::app::{CommandError, EnrolRequest, ErrorCode};
use fieldpost_proto::v1;
use fieldpost_seal::{DeviceSigningKey, ServerPublicKey};
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
    /// The questionnaire versions the server has (one per line), from the last refresh.
    pub const SERVER_VERSIONS: &str = "server_versions";
    /// Legacy plain copy of the recipients (before they became a secret); removed at enrolment.
    pub const RECIPIENTS_PLAIN: &str = "recipients";
    pub const CODELISTS: &str = "codelists";
    pub const LANGUAGE: &str = "language";
    pub const LAST_SYNC_OK: &str = "sync_last_success";
    pub const LAST_SYNC_ERROR: &str = "sync_last_error";
    /// The upload batch size the last sync ended with (see `sync::BatchSizer`).
    pub const BATCH_SIZE: &str = "sync_batch_size";
    /// Days answers stay after the server acknowledged them (`DEFAULT_RETENTION_DAYS`).
    pub const RETENTION_DAYS: &str = "retention_days";
    /// Secrets (encrypted and authenticated under the data key: a change made to the file
    /// outside the app fails to decrypt, so it is detected and never used).
    pub const DEVICE_TOKEN: &str = "device_token";
    pub const SIGNING_KEY: &str = "signing_key";
    /// The server's signing key, pinned at enrolment (base64 of the raw Ed25519 key).
    pub const SERVER_KEY: &str = "server_key";
    /// The keys batches are encrypted to, as the server last sent them (signed).
    pub const RECIPIENTS: &str = "recipients";
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
    if req.server_fingerprint.trim().is_empty() {
        return Err(CommandError::new(
            ErrorCode::ServerNotTrusted,
            "type the server fingerprint printed beside the enrolment code",
        ));
    }
    // The reply must be signed by a key with the fingerprint from the enrolment sheet; that key
    // is then pinned, and every later reply must be signed by it (or by its endorsed successor).
    let server = Server::new(
        &url,
        None,
        Trust::Fingerprint(req.server_fingerprint.clone()),
    )?;
    let enrolled = server
        .enrol(&v1::EnrolRequest {
            code: req.code.trim().to_string(),
            device_id: store.device_id(),
            public_key: key.public_key().to_string(),
        })
        .await?;
    let pinned = server.signer().ok_or_else(|| {
        CommandError::new(
            ErrorCode::ServerNotTrusted,
            "the enrolment reply has no signer",
        )
    })?;
    store
        .set_secret(keys::DEVICE_TOKEN, enrolled.device_token.as_bytes())
        .map_err(error::store)?;
    store
        .set_secret(keys::SERVER_KEY, pinned.to_string().as_bytes())
        .map_err(error::store)?;
    save_recipients(store, &enrolled.recipients)?;
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
        store.set_setting(keys::RECIPIENTS_PLAIN, None)
    })()
    .map_err(error::store)?;
    refresh(store).await
}

/// What the device needs to talk to its server: the address, the device token and the pinned
/// server key.
pub(crate) struct Credentials {
    pub url: String,
    pub token: String,
    pub server_key: ServerPublicKey,
}

/// The enrolled device's credentials, or `NotEnrolled`. A pinned key that does not decrypt (the
/// file was edited outside the app) is an error, never a reason to trust another key.
pub(crate) fn credentials(store: &Store) -> Result<Credentials, CommandError> {
    let url = store
        .setting(keys::SERVER_URL)
        .map_err(error::store)?
        .ok_or_else(|| CommandError::new(ErrorCode::NotEnrolled, "no server yet"))?;
    let token = store
        .secret(keys::DEVICE_TOKEN)
        .map_err(error::store)?
        .ok_or_else(|| CommandError::new(ErrorCode::NotEnrolled, "no device token"))?;
    let server_key = store
        .secret(keys::SERVER_KEY)
        .map_err(error::store)?
        .ok_or_else(|| {
            CommandError::new(
                ErrorCode::NotEnrolled,
                "no pinned server key; enrol the device again",
            )
        })?;
    let server_key = String::from_utf8_lossy(&server_key).parse().map_err(|e| {
        CommandError::new(
            ErrorCode::StoreUnavailable,
            format!("pinned server key: {e}"),
        )
    })?;
    Ok(Credentials {
        url,
        token: String::from_utf8_lossy(&token).into_owned(),
        server_key,
    })
}

/// A client for the enrolled device's server, trusting only the pinned key.
fn server(store: &Store) -> Result<Server, CommandError> {
    let c = credentials(store)?;
    Server::new(&c.url, Some(&c.token), Trust::Pinned(c.server_key))
}

/// Pins the server's successor key when a verified reply was signed by it (a key rotation).
fn pin_rotation(
    store: &mut Store,
    server: &Server,
    pinned: ServerPublicKey,
) -> Result<(), CommandError> {
    if let Some(signer) = server.signer()
        && signer != pinned
    {
        store
            .set_secret(keys::SERVER_KEY, signer.to_string().as_bytes())
            .map_err(error::store)?;
        let _ = store.log_sync("server_key_rotated", None, &signer.fingerprint());
    }
    Ok(())
}

fn save_recipients(store: &mut Store, recipients: &[v1::RecipientKey]) -> Result<(), CommandError> {
    let json = serde_json::to_vec(recipients).map_err(error::internal)?;
    store
        .set_secret(keys::RECIPIENTS, &json)
        .map_err(error::store)
}

/// The recipients as last received from the server. A copy edited outside the app fails to
/// decrypt: it is reported (`StoreTampered`) and never used; [`refresh_recipients`] replaces
/// it with the server's signed list.
pub(crate) fn recipients(store: &Store) -> Result<Vec<v1::RecipientKey>, CommandError> {
    let bytes = store
        .secret(keys::RECIPIENTS)
        .map_err(error::store)?
        .ok_or_else(|| CommandError::new(ErrorCode::NotEnrolled, "no recipients"))?;
    serde_json::from_slice(&bytes).map_err(error::internal)
}

/// Fetches the survey's recipients and questionnaire versions (signed) and keeps them, before
/// anything is sealed: a key HQ added after enrolment reaches the device at its next sync.
pub(crate) async fn refresh_recipients(store: &mut Store) -> Result<(), CommandError> {
    let server = server(store)?;
    let pinned = credentials(store)?.server_key;
    let list: v1::Recipients = server.get("/device/recipients").await?;
    if list.recipients.is_empty() {
        return Err(CommandError::new(
            ErrorCode::ServerError,
            "the server lists no keys to encrypt to",
        ));
    }
    save_recipients(store, &list.recipients)?;
    // The versions the server has, so a held interview refused for a missing questionnaire
    // goes again in this very sync once HQ has loaded it (see `refusal_context`).
    let versions: v1::Questionnaires = server.get("/device/questionnaires").await?;
    let names: Vec<&str> = versions
        .versions
        .iter()
        .map(|v| v.version.as_str())
        .collect();
    store
        .set_setting(keys::SERVER_VERSIONS, Some(&names.join("\n")))
        .map_err(error::store)?;
    pin_rotation(store, &server, pinned)
}

/// Downloads the questionnaire, assignments and code lists again (after enrolment, and at
/// each sync, so new assignments arrive).
pub async fn refresh(store: &mut Store) -> Result<(), CommandError> {
    let server = server(store)?;
    let pinned = credentials(store)?.server_key;

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
    let names: Vec<&str> = versions
        .versions
        .iter()
        .map(|v| v.version.as_str())
        .collect();
    store
        .set_setting(keys::SERVER_VERSIONS, Some(&names.join("\n")))
        .map_err(error::store)?;
    // Versions are immutable on the server: one already here is not downloaded again.
    let have = match store.setting(keys::FORM_ID).map_err(error::store)? {
        Some(id) => store
            .questionnaire(&id, &latest.version)
            .map_err(error::store)?
            .is_some(),
        None => false,
    };
    if !have {
        download_form(store, &server, &latest.version).await?;
    }

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
    let form_id = store
        .setting(keys::FORM_ID)
        .map_err(error::store)?
        .unwrap_or_else(|| "form".into());
    let local = local_assignments(&assignments.assignments, &enumerator, &form_id);
    store.import_assignments(&local).map_err(error::store)?;
    pin_rotation(store, &server, pinned)
}

/// Downloads the server's compiled form of `version`, not the workbook: the device runs exactly
/// what ingest checks answers against. A form this engine cannot run is reported now, at
/// download, not as a refused batch later.
async fn download_form(
    store: &mut Store,
    server: &Server,
    version: &str,
) -> Result<(), CommandError> {
    let bytes = server
        .get_bytes(&format!("/device/questionnaires/{version}/form"))
        .await?;
    let text = String::from_utf8(bytes).map_err(|_| {
        CommandError::new(
            ErrorCode::QuestionnaireUnavailable,
            "the compiled form is not UTF-8",
        )
    })?;
    let form = fieldpost_form::Form::from_json(&text).map_err(|e| {
        CommandError::new(
            ErrorCode::QuestionnaireUnsupported,
            format!("questionnaire version {version}: {e}; update the app"),
        )
    })?;
    let form_id = form
        .settings
        .form_id
        .clone()
        .unwrap_or_else(|| "form".into());
    store
        .save_questionnaire(&form_id, version, &form.to_json())
        .map_err(error::store)?;
    store
        .set_setting(keys::FORM_ID, Some(&form_id))
        .map_err(error::store)?;
    store
        .set_setting(keys::FORM_VERSION, Some(version))
        .map_err(error::store)
}

/// What a refusal depends on besides the interview itself: the keys batches go to and the
/// questionnaire versions the server has. A held interview is tried again when this changes.
pub(crate) fn refusal_context(store: &Store) -> Result<String, CommandError> {
    let mut ids: Vec<String> = recipients(store)?.into_iter().map(|r| r.key_id).collect();
    ids.sort();
    let versions = store
        .setting(keys::SERVER_VERSIONS)
        .map_err(error::store)?
        .unwrap_or_default();
    let text = format!("{}\n--\n{versions}", ids.join("\n"));
    Ok(fieldpost_seal::digest(text.as_bytes()).to_string())
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
