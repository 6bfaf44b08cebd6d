//! Calls made by people: sign-in, survey set-up (admin) and progress (coordinators).

use super::{AppState, Failure, Person, blocking};
use crate::archive::RevocationRecord;
use crate::auth;
use crate::questionnaire::{QuestionnaireError, load_questionnaire};
use crate::sample::parse_sample;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use chrono::{Duration, Utc};
use fieldpost_proto::v1::{
    Account, EnrolmentCode, ErrorCode, NewAccount, NewEnrolmentCode, NewRecipient, NewSurvey,
    Progress, ProgressQuery, QuestionnaireVersion, RecipientKey, Role, SampleUploaded, Survey,
};
use fieldpost_seal::Recipient;
use uuid::Uuid;

/// How long an enrolment code stays usable: the training-to-field window.
const ENROLMENT_CODE_DAYS: i64 = 14;

fn invalid(message: impl Into<String>) -> Failure {
    Failure::new(ErrorCode::InvalidRequest, message)
}

/// A code or name a person types: 1 to 64 characters of letters, digits, `-`, `_`, `.`.
fn check_name(field: &str, value: &str) -> Result<(), Failure> {
    let ok = !value.is_empty()
        && value.len() <= 64
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(invalid(format!(
            "{field} must be 1 to 64 letters, digits, '-', '_' or '.'"
        )))
    }
}

pub async fn list_surveys(
    State(state): State<AppState>,
    person: Person,
) -> Result<Json<Vec<Survey>>, Failure> {
    person.require(&[Role::Admin, Role::Coordinator, Role::RecheckTeam])?;
    let storage = state.storage().clone();
    blocking(move || Ok(Json(storage.surveys()?))).await
}

pub async fn create_survey(
    State(state): State<AppState>,
    person: Person,
    Json(req): Json<NewSurvey>,
) -> Result<Json<Survey>, Failure> {
    person.require(&[Role::Admin])?;
    check_name("code", &req.code)?;
    if req.title.trim().is_empty() {
        return Err(invalid("title must not be empty"));
    }
    let storage = state.storage().clone();
    blocking(move || Ok(Json(storage.create_survey(&req.code, req.title.trim())?))).await
}

fn survey_exists(storage: &crate::storage::Storage, id: Uuid) -> Result<(), Failure> {
    match storage.survey(id)? {
        Some(_) => Ok(()),
        None => Err(Failure::new(ErrorCode::NotFound, format!("no survey {id}"))),
    }
}

pub async fn upload_questionnaire(
    State(state): State<AppState>,
    person: Person,
    Path((survey_id, version)): Path<(Uuid, String)>,
    body: Bytes,
) -> Result<Json<QuestionnaireVersion>, Failure> {
    person.require(&[Role::Admin])?;
    check_name("version", &version)?;
    // An .xlsx file is a ZIP archive: refuse anything else early, with a message that helps.
    if !body.starts_with(b"PK\x03\x04") {
        return Err(invalid(
            "the questionnaire must be an XLSForm .xlsx file (sent as the request body)",
        ));
    }
    let storage = state.storage().clone();
    blocking(move || {
        survey_exists(&storage, survey_id)?;
        match load_questionnaire(&storage, survey_id, &version, &body) {
            Ok(stored) => Ok(Json(stored)),
            Err(QuestionnaireError::Invalid(m)) => Err(invalid(m)),
            Err(QuestionnaireError::Storage(e)) => Err(e.into()),
        }
    })
    .await
}

pub async fn upload_sample(
    State(state): State<AppState>,
    person: Person,
    Path(survey_id): Path<Uuid>,
    body: Bytes,
) -> Result<Json<SampleUploaded>, Failure> {
    person.require(&[Role::Admin])?;
    let rows = parse_sample(&body).map_err(|e| invalid(e.to_string()))?;
    let storage = state.storage().clone();
    blocking(move || {
        survey_exists(&storage, survey_id)?;
        let (official, reserve) = storage.insert_assignments(survey_id, &rows)?;
        Ok(Json(SampleUploaded { official, reserve }))
    })
    .await
}

pub async fn add_recipient(
    State(state): State<AppState>,
    person: Person,
    Path(survey_id): Path<Uuid>,
    Json(req): Json<NewRecipient>,
) -> Result<Json<RecipientKey>, Failure> {
    person.require(&[Role::Admin])?;
    let recipient: Recipient = req
        .public_key
        .parse()
        .map_err(|e: fieldpost_seal::KeyError| invalid(e.to_string()))?;
    if !matches!(req.purpose.as_str(), "server" | "escrow") {
        return Err(invalid("purpose must be server or escrow"));
    }
    let key = RecipientKey {
        public_key: recipient.to_string(),
        key_id: recipient.key_id(),
        purpose: req.purpose,
    };
    let storage = state.storage().clone();
    blocking(move || {
        survey_exists(&storage, survey_id)?;
        storage.set_recipient(survey_id, &key)?;
        Ok(Json(key))
    })
    .await
}

pub async fn create_account(
    State(state): State<AppState>,
    person: Person,
    Json(req): Json<NewAccount>,
) -> Result<Json<Account>, Failure> {
    person.require(&[Role::Admin])?;
    check_name("username", &req.username)?;
    if req.password.chars().count() < 8 {
        return Err(invalid("the password must have at least 8 characters"));
    }
    let province = if req.role.needs_province() {
        let p = req
            .province
            .clone()
            .ok_or_else(|| invalid("coordinators and recheck teams need a province"))?;
        check_name("province", &p)?;
        Some(p)
    } else {
        None
    };
    let storage = state.storage().clone();
    blocking(move || {
        let hash = auth::hash_password(&req.password)
            .map_err(|e| Failure::new(ErrorCode::Internal, e.to_string()))?;
        Ok(Json(storage.create_account(
            &req.username,
            &hash,
            req.role,
            province.as_deref(),
        )?))
    })
    .await
}

pub async fn create_enrolment_code(
    State(state): State<AppState>,
    person: Person,
    Json(req): Json<NewEnrolmentCode>,
) -> Result<Json<EnrolmentCode>, Failure> {
    person.require(&[Role::Admin])?;
    let storage = state.storage().clone();
    blocking(move || {
        Ok(Json(issue_enrolment_code(
            &storage,
            req.survey_id,
            &req.enumerator,
            &state.identity.fingerprint(),
        )?))
    })
    .await
}

/// Makes a one-time enrolment code for an enumerator's device (also used by `--demo`).
pub fn issue_enrolment_code(
    storage: &crate::storage::Storage,
    survey_id: Uuid,
    enumerator: &str,
    server_fingerprint: &str,
) -> Result<EnrolmentCode, Failure> {
    survey_exists(storage, survey_id)?;
    let account = storage
        .account_by_username(enumerator)?
        .filter(|a| a.role == Role::Enumerator)
        .ok_or_else(|| {
            Failure::new(
                ErrorCode::NotFound,
                format!("no enumerator named {enumerator:?}"),
            )
        })?;
    // A disabled enumerator gets no new device (the devices they have keep uploading).
    if storage
        .account_info(account.id)?
        .is_some_and(|a| a.disabled_at.is_some())
    {
        return Err(Failure::new(
            ErrorCode::Conflict,
            format!("the account {enumerator:?} is disabled; enable it first"),
        ));
    }
    let code =
        auth::new_enrolment_code().map_err(|e| Failure::new(ErrorCode::Internal, e.to_string()))?;
    let expires_at = Utc::now() + Duration::days(ENROLMENT_CODE_DAYS);
    storage.create_enrolment_code(
        &auth::token_hash(&auth::normalize_code(&code)),
        survey_id,
        account.id,
        expires_at,
    )?;
    Ok(EnrolmentCode {
        code,
        expires_at,
        server_fingerprint: server_fingerprint.to_string(),
    })
}

pub async fn revoke_device(
    State(state): State<AppState>,
    person: Person,
    Path(device_id): Path<Uuid>,
) -> Result<Json<serde_json::Value>, Failure> {
    person.require(&[Role::Admin])?;
    let storage = state.storage().clone();
    let archive = state.ingest.archive.clone();
    blocking(move || {
        let Some(device) = storage.device(device_id)? else {
            return Err(Failure::new(
                ErrorCode::NotFound,
                format!("no device {device_id}"),
            ));
        };
        // Archived first (fsynced), so a rebuild can never forget it; a repeat keeps the first.
        let revoked_at = device.revoked_at.unwrap_or_else(Utc::now);
        archive
            .record_revocation(&RevocationRecord {
                device_id,
                revoked_at,
            })
            .map_err(|e| {
                Failure::new(
                    ErrorCode::Internal,
                    format!("the revocation could not be archived: {e}"),
                )
            })?;
        if storage.revoke_device(device_id, revoked_at)? {
            Ok(Json(
                serde_json::json!({ "device_id": device_id, "revoked": true }),
            ))
        } else {
            Err(Failure::new(
                ErrorCode::NotFound,
                format!("no device {device_id}"),
            ))
        }
    })
    .await
}

/// Progress by status; a coordinator or recheck team sees only their own province.
pub async fn progress(
    State(state): State<AppState>,
    person: Person,
    Query(q): Query<ProgressQuery>,
) -> Result<Json<Progress>, Failure> {
    person.require(&[Role::Admin, Role::Coordinator, Role::RecheckTeam])?;
    let province = match (person.0.role, &person.0.province, q.province) {
        (Role::Admin, _, asked) => asked,
        (_, Some(own), Some(asked)) if *own != asked => {
            return Err(Failure::new(
                ErrorCode::Forbidden,
                format!("you may only see province {own}"),
            ));
        }
        (_, Some(own), _) => Some(own.clone()),
        (_, None, _) => {
            return Err(Failure::new(
                ErrorCode::Forbidden,
                "this account has no province",
            ));
        }
    };
    let storage = state.storage().clone();
    blocking(move || Ok(Json(storage.progress(q.by, province.as_deref())?))).await
}

/// Most incidents one answer carries; `since` pages further back.
const MAX_INCIDENTS: u32 = 1000;

/// Incidents newest first: an admin sees all of them, a coordinator those placed in their
/// province (incidents no province could be found for are the admin's alone).
pub async fn incidents(
    State(state): State<AppState>,
    person: Person,
    Query(q): Query<fieldpost_proto::v1::IncidentQuery>,
) -> Result<Json<fieldpost_proto::v1::Incidents>, Failure> {
    person.require(&[Role::Admin, Role::Coordinator])?;
    let province = match (person.0.role, &person.0.province) {
        (Role::Admin, _) => None,
        (_, Some(own)) => Some(own.clone()),
        (_, None) => {
            return Err(Failure::new(
                ErrorCode::Forbidden,
                "this account has no province",
            ));
        }
    };
    let filter = crate::storage::IncidentFilter {
        survey_id: q.survey,
        since: q.since,
        province,
        limit: q.limit.unwrap_or(MAX_INCIDENTS).clamp(1, MAX_INCIDENTS),
    };
    let storage = state.storage().clone();
    blocking(move || {
        Ok(Json(fieldpost_proto::v1::Incidents {
            incidents: storage.incidents(&filter)?,
        }))
    })
    .await
}
