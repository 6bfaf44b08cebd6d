//! The HTTP API (`/api/v1`): a thin translation between JSON over HTTP and the domain code in
//! [`crate::storage`] and [`crate::ingest`]. Storage calls are synchronous and run on tokio's
//! blocking pool ([`blocking`]).

mod accounts;
mod admin;
pub mod console;
mod device;
mod extract;
pub mod guard;
mod sign;

use crate::ingest::Ingest;
use crate::storage::{Storage, StorageError};
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use fieldpost_proto::v1::{ApiError, ErrorCode, PREFIX};

pub use admin::issue_enrolment_code as admin_issue_enrolment_code;
pub use extract::{DeviceAuth, Person};

/// The OpenAPI document, maintained by hand next to the routes and checked against them by a
/// test (`openapi_lists_exactly_the_routes`). Hand-written rather than generated (utoipa):
/// the API is small, the document reads better, and it costs no proc-macro build time.
pub const OPENAPI_JSON: &str = include_str!("../../openapi.json");

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub ingest: Ingest,
    /// The key every reply is signed with ([`sign`]).
    pub identity: std::sync::Arc<crate::identity::ServerIdentity>,
}

impl AppState {
    pub fn storage(&self) -> &Storage {
        &self.ingest.storage
    }
}

/// Every route, as (method, path template). The router is built from the same handlers; the
/// OpenAPI test compares this list with the document.
pub const ROUTES: &[(&str, &str)] = &[
    ("get", "/openapi.json"),
    ("post", "/sessions"),
    ("delete", "/sessions"),
    ("put", "/account/password"),
    ("get", "/surveys"),
    ("post", "/surveys"),
    ("put", "/surveys/{survey_id}/questionnaires/{version}"),
    ("post", "/surveys/{survey_id}/sample"),
    ("post", "/surveys/{survey_id}/recipients"),
    ("get", "/accounts"),
    ("post", "/accounts"),
    ("put", "/accounts/{account_id}/password"),
    ("post", "/accounts/{account_id}/disable"),
    ("post", "/accounts/{account_id}/enable"),
    ("post", "/enrolment-codes"),
    ("post", "/devices/{device_id}/revoke"),
    ("get", "/progress"),
    ("get", "/incidents"),
    ("post", "/enrol"),
    ("get", "/device/assignments"),
    ("get", "/device/questionnaires"),
    ("get", "/device/questionnaires/{version}"),
    ("get", "/device/questionnaires/{version}/form"),
    ("get", "/device/codelists"),
    ("get", "/device/recipients"),
    ("post", "/device/batches"),
];

/// The API. Every route runs inside [`guard::guard`] (body limits, in-flight limit, timeouts,
/// throttles, the request log); serve it with connect info
/// (`into_make_service_with_connect_info::<SocketAddr>()`) so throttles see peer addresses.
pub fn router(state: AppState) -> Router {
    // Made now, so the first sign-in with an unknown name costs no more than later ones.
    let _ = crate::auth::dummy_hash();
    let guard = std::sync::Arc::new(guard::Guard::default());
    let api = Router::new()
        .route("/openapi.json", get(openapi))
        .route("/sessions", post(accounts::login).delete(accounts::logout))
        .route("/account/password", put(accounts::change_password))
        .route(
            "/surveys",
            get(admin::list_surveys).post(admin::create_survey),
        )
        .route(
            "/surveys/{survey_id}/questionnaires/{version}",
            put(admin::upload_questionnaire),
        )
        .route("/surveys/{survey_id}/sample", post(admin::upload_sample))
        .route(
            "/surveys/{survey_id}/recipients",
            post(admin::add_recipient),
        )
        .route(
            "/accounts",
            get(accounts::list_accounts).post(admin::create_account),
        )
        .route(
            "/accounts/{account_id}/password",
            put(accounts::reset_password),
        )
        .route(
            "/accounts/{account_id}/disable",
            post(accounts::disable_account),
        )
        .route(
            "/accounts/{account_id}/enable",
            post(accounts::enable_account),
        )
        .route("/enrolment-codes", post(admin::create_enrolment_code))
        .route("/devices/{device_id}/revoke", post(admin::revoke_device))
        .route("/progress", get(admin::progress))
        .route("/incidents", get(admin::incidents))
        .route("/enrol", post(device::enrol))
        .route("/device/assignments", get(device::assignments))
        .route("/device/questionnaires", get(device::questionnaires))
        .route(
            "/device/questionnaires/{version}",
            get(device::questionnaire_file),
        )
        .route(
            "/device/questionnaires/{version}/form",
            get(device::questionnaire_form),
        )
        .route("/device/codelists", get(device::codelists))
        .route("/device/recipients", get(device::recipients))
        .route("/device/batches", post(device::upload_batch))
        // Limits are per route, in the guard; axum's own 2 MiB default would cut files short.
        .layer(DefaultBodyLimit::disable())
        .layer(axum::middleware::from_fn_with_state(guard, guard::guard))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            sign::sign_replies,
        ))
        .with_state(state);
    Router::new().nest(PREFIX, api)
}

async fn openapi() -> Response {
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        OPENAPI_JSON,
    )
        .into_response()
}

/// An error answer: a status and an [`ApiError`] body.
#[derive(Debug)]
pub struct Failure {
    pub status: StatusCode,
    pub body: ApiError,
    /// Seconds for a `Retry-After` header (429, 503).
    pub retry_after: Option<u64>,
}

impl Failure {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        let status = match code {
            ErrorCode::Unauthenticated => StatusCode::UNAUTHORIZED,
            ErrorCode::Forbidden | ErrorCode::RevokedDevice => StatusCode::FORBIDDEN,
            ErrorCode::NotFound => StatusCode::NOT_FOUND,
            ErrorCode::Conflict | ErrorCode::SequenceConflict => StatusCode::CONFLICT,
            ErrorCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::UnknownDevice
            | ErrorCode::ForgedSignature
            | ErrorCode::ReplayFromAnotherDevice => StatusCode::FORBIDDEN,
            _ => StatusCode::UNPROCESSABLE_ENTITY,
        };
        let status = if code == ErrorCode::InvalidRequest {
            StatusCode::BAD_REQUEST
        } else {
            status
        };
        Self {
            status,
            body: ApiError {
                code,
                message: message.into(),
            },
            retry_after: None,
        }
    }

    /// Adds `Retry-After: secs` to the answer.
    pub fn retry_after(mut self, secs: u64) -> Self {
        self.retry_after = Some(secs.max(1));
        self
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        let mut r = (self.status, axum::Json(self.body)).into_response();
        if let Some(secs) = self.retry_after {
            r.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from(secs),
            );
        }
        r
    }
}

impl From<StorageError> for Failure {
    fn from(e: StorageError) -> Self {
        match e {
            StorageError::Conflict(m) => Failure::new(ErrorCode::Conflict, m),
            StorageError::NotFound(m) => Failure::new(ErrorCode::NotFound, m),
            StorageError::Invalid(m) => Failure::new(ErrorCode::InvalidRequest, m),
            other => {
                tracing::error!(error = %other, "storage error");
                Failure::new(
                    ErrorCode::Internal,
                    "the server's database failed; retry later",
                )
            }
        }
    }
}

/// Runs blocking work (database, hashing, decryption) off the async threads.
pub async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, Failure> + Send + 'static,
) -> Result<T, Failure> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Failure::new(ErrorCode::Internal, format!("a server task failed: {e}")))?
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    /// The OpenAPI document and the route table list the same (method, path) pairs; the
    /// integration suite checks that the router serves each of them.
    #[test]
    fn openapi_lists_exactly_the_routes() {
        let doc: serde_json::Value = serde_json::from_str(OPENAPI_JSON).expect("valid JSON");
        assert_eq!(doc["openapi"], "3.1.0");
        let mut documented = BTreeSet::new();
        for (path, item) in doc["paths"].as_object().expect("paths") {
            for method in item.as_object().expect("path item").keys() {
                documented.insert((method.clone(), path.clone()));
            }
        }
        let served: BTreeSet<(String, String)> = ROUTES
            .iter()
            .map(|(m, p)| (m.to_string(), p.to_string()))
            .collect();
        assert_eq!(documented, served);
    }
}
