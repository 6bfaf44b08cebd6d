//! Sign-in, sign-out and the account life cycle: passwords changed by their owner or reset by
//! an admin, accounts disabled and enabled.
//!
//! Sign-in does the same work whatever is wrong: an unknown name is verified against a dummy
//! hash with the real parameters ([`auth::verify_login`]), so the time of the answer does not
//! tell which names exist. Failures are throttled per peer address and per account name
//! ([`Caller`]); a throttled attempt is answered 429 before any hashing.
//!
//! Disabling an account ends its sessions and refuses its sign-in. Its devices keep their
//! tokens: a device's outbox holds interviews already done, which must still reach the server;
//! to stop a device as well, revoke it (`POST /devices/{device_id}/revoke`).

use super::guard::Caller;
use super::{AppState, Failure, Person, blocking};
use crate::auth;
use axum::Extension;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use chrono::{Duration, Utc};
use fieldpost_proto::v1::{
    AccountInfo, ErrorCode, LoginRequest, LoginResponse, PasswordChange, PasswordReset, Role,
};
use std::time::Instant;
use uuid::Uuid;

/// How long a sign-in lasts: one working day.
const SESSION_HOURS: i64 = 12;
/// Shortest password accepted (as for new accounts).
pub const MIN_PASSWORD_CHARS: usize = 8;

fn internal(e: impl std::fmt::Display) -> Failure {
    Failure::new(ErrorCode::Internal, e.to_string())
}

fn check_new_password(password: &str) -> Result<(), Failure> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(Failure::new(
            ErrorCode::InvalidRequest,
            format!("the password must have at least {MIN_PASSWORD_CHARS} characters"),
        ));
    }
    Ok(())
}

/// How a sign-in attempt ended, decided on the blocking pool.
enum Outcome {
    Signed(LoginResponse),
    Wrong,
    Disabled,
}

pub async fn login(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Json(req): Json<LoginRequest>,
) -> Result<Json<LoginResponse>, Failure> {
    caller.may_sign_in(&req.username, Instant::now())?;
    let storage = state.storage().clone();
    let username = req.username.clone();
    let _hashing = caller
        .guard
        .hashing
        .acquire()
        .await
        .map_err(|e| internal(format!("the hashing gate is closed: {e}")))?;
    let outcome = blocking(move || {
        let found = storage.account_for_login(&req.username)?;
        let ok = auth::verify_login(&req.password, found.as_ref().map(|(_, h, _)| h.as_str()));
        let Some((account, _, disabled)) = found.filter(|_| ok) else {
            return Ok(Outcome::Wrong);
        };
        if disabled {
            return Ok(Outcome::Disabled);
        }
        let now = Utc::now();
        storage.delete_expired_sessions(now)?;
        let token = auth::new_token(auth::SESSION_PREFIX).map_err(internal)?;
        let expires_at = now + Duration::hours(SESSION_HOURS);
        storage.create_session(&auth::token_hash(&token), account.id, expires_at)?;
        Ok(Outcome::Signed(LoginResponse {
            token,
            expires_at,
            account,
        }))
    })
    .await?;
    match outcome {
        Outcome::Signed(r) => {
            caller.sign_in_succeeded(&username);
            Ok(Json(r))
        }
        Outcome::Wrong => {
            caller.sign_in_failed(&username, Instant::now());
            Err(Failure::new(
                ErrorCode::Unauthenticated,
                "wrong username or password",
            ))
        }
        Outcome::Disabled => Err(Failure::new(
            ErrorCode::Forbidden,
            "this account is disabled; ask an administrator",
        )),
    }
}

/// The bearer token of a request (already checked by [`Person`]).
fn session_token_hash(headers: &HeaderMap) -> Option<String> {
    headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|t| auth::token_hash(t.trim()))
}

/// `DELETE /sessions`: signs out (the caller's session only).
pub async fn logout(
    State(state): State<AppState>,
    _person: Person,
    headers: HeaderMap,
) -> Result<Json<serde_json::Value>, Failure> {
    let hash = session_token_hash(&headers)
        .ok_or_else(|| Failure::new(ErrorCode::Unauthenticated, "no session token"))?;
    let storage = state.storage().clone();
    blocking(move || {
        storage.delete_session(&hash)?;
        Ok(Json(serde_json::json!({ "signed_out": true })))
    })
    .await
}

/// `PUT /account/password`: the signed-in person changes their password, giving the old one.
/// Their other sessions end; this one stays.
pub async fn change_password(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    person: Person,
    headers: HeaderMap,
    Json(req): Json<PasswordChange>,
) -> Result<Json<serde_json::Value>, Failure> {
    check_new_password(&req.new_password)?;
    let name = person.0.username.clone();
    // A stolen session must not become a password-guessing oracle: same budget as sign-in.
    caller.may_sign_in(&name, Instant::now())?;
    let keep = session_token_hash(&headers);
    let storage = state.storage().clone();
    let id = person.0.id;
    let _hashing = caller
        .guard
        .hashing
        .acquire()
        .await
        .map_err(|e| internal(format!("the hashing gate is closed: {e}")))?;
    let changed = blocking(move || {
        let stored = storage.password_hash(id)?;
        if !auth::verify_login(&req.old_password, stored.as_deref()) {
            return Ok(false);
        }
        let hash = auth::hash_password(&req.new_password).map_err(internal)?;
        storage.set_password_hash(id, &hash)?;
        storage.delete_sessions_of(id, keep.as_deref())?;
        Ok(true)
    })
    .await?;
    if !changed {
        caller.sign_in_failed(&name, Instant::now());
        return Err(Failure::new(
            ErrorCode::Unauthenticated,
            "the old password is wrong",
        ));
    }
    Ok(Json(serde_json::json!({ "password_changed": true })))
}

/// `GET /accounts` (admin).
pub async fn list_accounts(
    State(state): State<AppState>,
    person: Person,
) -> Result<Json<Vec<AccountInfo>>, Failure> {
    person.require(&[Role::Admin])?;
    let storage = state.storage().clone();
    blocking(move || Ok(Json(storage.accounts()?))).await
}

fn no_account(id: Uuid) -> Failure {
    Failure::new(ErrorCode::NotFound, format!("no account {id}"))
}

/// `PUT /accounts/{account_id}/password` (admin): sets a new password and ends the account's
/// sessions.
pub async fn reset_password(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    person: Person,
    Path(account_id): Path<Uuid>,
    Json(req): Json<PasswordReset>,
) -> Result<Json<AccountInfo>, Failure> {
    person.require(&[Role::Admin])?;
    check_new_password(&req.new_password)?;
    let storage = state.storage().clone();
    let _hashing = caller
        .guard
        .hashing
        .acquire()
        .await
        .map_err(|e| internal(format!("the hashing gate is closed: {e}")))?;
    blocking(move || {
        let hash = auth::hash_password(&req.new_password).map_err(internal)?;
        if !storage.set_password_hash(account_id, &hash)? {
            return Err(no_account(account_id));
        }
        storage.delete_sessions_of(account_id, None)?;
        storage
            .account_info(account_id)?
            .map(Json)
            .ok_or_else(|| no_account(account_id))
    })
    .await
}

async fn set_disabled(
    state: AppState,
    person: Person,
    account_id: Uuid,
    disable: bool,
) -> Result<Json<AccountInfo>, Failure> {
    person.require(&[Role::Admin])?;
    if disable && person.0.id == account_id {
        return Err(Failure::new(
            ErrorCode::Conflict,
            "an admin cannot disable their own account; ask another admin",
        ));
    }
    let storage = state.storage().clone();
    blocking(move || {
        let at = disable.then(Utc::now);
        if !storage.set_account_disabled(account_id, at)? {
            return Err(no_account(account_id));
        }
        storage
            .account_info(account_id)?
            .map(Json)
            .ok_or_else(|| no_account(account_id))
    })
    .await
}

/// `POST /accounts/{account_id}/disable` (admin): refuses its sign-in and ends its sessions.
pub async fn disable_account(
    State(state): State<AppState>,
    person: Person,
    Path(account_id): Path<Uuid>,
) -> Result<Json<AccountInfo>, Failure> {
    set_disabled(state, person, account_id, true).await
}

/// `POST /accounts/{account_id}/enable` (admin).
pub async fn enable_account(
    State(state): State<AppState>,
    person: Person,
    Path(account_id): Path<Uuid>,
) -> Result<Json<AccountInfo>, Failure> {
    set_disabled(state, person, account_id, false).await
}
