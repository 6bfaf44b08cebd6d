//! Who is calling: a person with a session token, or an enrolled device with its device token.

use super::{AppState, Failure, blocking};
use crate::auth::{DEVICE_PREFIX, SESSION_PREFIX, token_hash};
use crate::storage::Device;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use chrono::Utc;
use fieldpost_proto::v1::{Account, ErrorCode, Role};

fn bearer<'a>(parts: &'a Parts, prefix: &str) -> Result<&'a str, Failure> {
    let value = parts
        .headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .ok_or_else(|| {
            Failure::new(
                ErrorCode::Unauthenticated,
                "sign in: send Authorization: Bearer <token>",
            )
        })?;
    if !value.starts_with(prefix) {
        return Err(Failure::new(
            ErrorCode::Unauthenticated,
            if prefix == DEVICE_PREFIX {
                "this call is for enrolled devices: use the device token from enrolment"
            } else {
                "this call is for people: sign in with POST /api/v1/sessions"
            },
        ));
    }
    Ok(value)
}

/// A signed-in person.
#[derive(Debug, Clone)]
pub struct Person(pub Account);

impl Person {
    /// Refuses unless the person has one of `roles`.
    pub fn require(&self, roles: &[Role]) -> Result<(), Failure> {
        if roles.contains(&self.0.role) {
            Ok(())
        } else {
            Err(Failure::new(
                ErrorCode::Forbidden,
                format!("the role {} may not do this", self.0.role.as_str()),
            ))
        }
    }
}

impl FromRequestParts<AppState> for Person {
    type Rejection = Failure;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Failure> {
        let hash = token_hash(bearer(parts, SESSION_PREFIX)?);
        let storage = state.storage().clone();
        let account = blocking(move || Ok(storage.session_account(&hash, Utc::now())?)).await?;
        account.map(Person).ok_or_else(|| {
            Failure::new(
                ErrorCode::Unauthenticated,
                "the session is unknown or expired; sign in again",
            )
        })
    }
}

/// An enrolled device, authenticated by the token it received at enrolment (bound to its key:
/// its batches must also verify under that key).
#[derive(Debug, Clone)]
pub struct DeviceAuth(pub Device);

impl FromRequestParts<AppState> for DeviceAuth {
    type Rejection = Failure;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Failure> {
        let hash = token_hash(bearer(parts, DEVICE_PREFIX)?);
        let storage = state.storage().clone();
        let device = blocking(move || Ok(storage.device_by_token(&hash)?))
            .await?
            .ok_or_else(|| {
                Failure::new(
                    ErrorCode::Unauthenticated,
                    "unknown device token; enrol the device again",
                )
            })?;
        if device.revoked_at.is_some() {
            return Err(Failure::new(
                ErrorCode::RevokedDevice,
                "this device was revoked; ask the coordinator (its outbox is kept on the device)",
            ));
        }
        Ok(DeviceAuth(device))
    }
}
