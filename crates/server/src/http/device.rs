//! Calls made by devices: enrolment, downloads, batch upload.

use super::guard::Caller;
use super::{AppState, DeviceAuth, Failure, blocking};
use crate::archive::DeviceRecord;
use crate::auth;
use crate::ingest::Source;
use crate::storage::NewDevice;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use chrono::Utc;
use fieldpost_proto::v1::{
    Assignments, BatchAck, CodeLists, EnrolRequest, EnrolResponse, ErrorCode, Questionnaires,
    Recipients,
};
use fieldpost_seal::DevicePublicKey;
use std::time::Instant;

pub async fn enrol(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Json(req): Json<EnrolRequest>,
) -> Result<Json<EnrolResponse>, Failure> {
    caller.may_enrol(Instant::now())?;
    let reply = enrol_device(state, req).await;
    if matches!(&reply, Err(f) if f.body.code == ErrorCode::InvalidEnrolmentCode) {
        caller.enrol_failed(Instant::now());
    }
    reply
}

async fn enrol_device(state: AppState, req: EnrolRequest) -> Result<Json<EnrolResponse>, Failure> {
    let key: DevicePublicKey = req
        .public_key
        .parse()
        .map_err(|e: fieldpost_seal::KeyError| {
            Failure::new(ErrorCode::InvalidRequest, e.to_string())
        })?;
    blocking(move || {
        let storage = state.storage();
        let token = auth::new_token(auth::DEVICE_PREFIX).map_err(|e| Failure::new(ErrorCode::Internal, e.to_string()))?;
        let new = NewDevice { id: req.device_id, public_key: key.to_string(), token_hash: auth::token_hash(&token) };
        let code_hash = auth::token_hash(&auth::normalize_code(&req.code));
        let device = storage.enrol(&code_hash, &new, Utc::now())?.ok_or_else(|| {
            Failure::new(
                ErrorCode::InvalidEnrolmentCode,
                "the enrolment code is unknown, already used or expired; ask the coordinator for a new one",
            )
        })?;
        state
            .ingest
            .archive
            .record_device(&DeviceRecord {
                device_id: device.id,
                survey_id: device.survey_id,
                account_id: device.account_id,
                public_key: device.public_key.clone(),
                token_hash: new.token_hash.clone(),
                enrolled_at: device.enrolled_at,
            })
            .map_err(|e| Failure::new(ErrorCode::Internal, e.to_string()))?;
        let survey = storage
            .survey(device.survey_id)?
            .ok_or_else(|| Failure::new(ErrorCode::Internal, "the enrolment code's survey is gone"))?;
        let enumerator = storage
            .account(device.account_id)?
            .ok_or_else(|| Failure::new(ErrorCode::Internal, "the enrolment code's enumerator is gone"))?;
        let recipients = storage.recipients(device.survey_id)?;
        Ok(Json(EnrolResponse { device_id: device.id, device_token: token, survey, enumerator, recipients }))
    })
    .await
}

pub async fn assignments(
    State(state): State<AppState>,
    DeviceAuth(d): DeviceAuth,
) -> Result<Json<Assignments>, Failure> {
    blocking(move || {
        Ok(Json(Assignments {
            assignments: state.storage().assignments_for(d.survey_id, d.account_id)?,
        }))
    })
    .await
}

pub async fn questionnaires(
    State(state): State<AppState>,
    DeviceAuth(d): DeviceAuth,
) -> Result<Json<Questionnaires>, Failure> {
    blocking(move || {
        Ok(Json(Questionnaires {
            versions: state.storage().questionnaires(d.survey_id)?,
        }))
    })
    .await
}

pub async fn questionnaire_file(
    State(state): State<AppState>,
    DeviceAuth(d): DeviceAuth,
    Path(version): Path<String>,
) -> Result<Response, Failure> {
    let bytes = blocking(move || Ok(state.storage().questionnaire_file(d.survey_id, &version)?))
        .await?
        .ok_or_else(|| Failure::new(ErrorCode::NotFound, "no such questionnaire version"))?;
    Ok((
        [(
            axum::http::header::CONTENT_TYPE,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )],
        bytes,
    )
        .into_response())
}

/// The compiled form of a version, as the server's form engine compiled it at upload: devices
/// run exactly what ingest checks answers against, instead of compiling the workbook themselves
/// (where any difference between engine builds would become a refused batch).
pub async fn questionnaire_form(
    State(state): State<AppState>,
    DeviceAuth(d): DeviceAuth,
    Path(version): Path<String>,
) -> Result<Response, Failure> {
    let json = blocking(move || {
        let Some((compiled, xlsform)) = state
            .storage()
            .questionnaire_for_checks(d.survey_id, &version)?
        else {
            return Err(Failure::new(
                ErrorCode::NotFound,
                "no such questionnaire version",
            ));
        };
        match compiled {
            Some(json) => Ok(json),
            // Stored before uploads were compiled: compile now, with the same engine.
            None => crate::questionnaire::compile(&xlsform)
                .map(|(json, _warnings)| json)
                .map_err(|e| Failure::new(ErrorCode::Internal, e.to_string())),
        }
    })
    .await?;
    Ok((
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        json,
    )
        .into_response())
}

pub async fn codelists(
    State(state): State<AppState>,
    _d: DeviceAuth,
) -> Result<Json<CodeLists>, Failure> {
    blocking(move || Ok(Json(state.storage().codelists()?))).await
}

pub async fn recipients(
    State(state): State<AppState>,
    DeviceAuth(d): DeviceAuth,
) -> Result<Json<Recipients>, Failure> {
    blocking(move || {
        Ok(Json(Recipients {
            recipients: state.storage().recipients(d.survey_id)?,
        }))
    })
    .await
}

/// Upload of one sealed batch; answers its acknowledgement, or why it was rejected.
pub async fn upload_batch(
    State(state): State<AppState>,
    DeviceAuth(d): DeviceAuth,
    body: Bytes,
) -> Result<Json<BatchAck>, Failure> {
    blocking(move || {
        state
            .ingest
            .ingest(&body, Source::Upload(&d))
            .map(Json)
            .map_err(|r| {
                if r.code == ErrorCode::Internal {
                    tracing::error!(device = %d.id, error = %r.message, "ingest failed");
                }
                Failure::new(r.code, r.message)
            })
    })
    .await
}
