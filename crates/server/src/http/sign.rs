//! Every API reply leaves signed by the server's key (see `fieldpost_seal::reply`): devices act
//! only on replies that verify against the key they pinned at enrolment, so a man in the middle
//! can neither forge an acknowledgement (which would make a device purge data the server never
//! had) nor slip his own key into a recipient list.
//!
//! A middleware rather than a step in each handler, so no route can forget it; it signs errors
//! too (a forged "refused for good" must not make a device set an interview aside).

use super::AppState;
use axum::body::Body;
use axum::extract::{OriginalUri, Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use fieldpost_seal::reply::{
    ENDORSEMENTS_HEADER, MAX_NONCE_LEN, NONCE_HEADER, ReplyContext, SIGNATURE_HEADER, SIGNER_HEADER,
};

/// Largest reply body signed (a compiled questionnaire with its code lists is a few MiB).
const MAX_REPLY_BYTES: usize = 64 << 20;

pub async fn sign_replies(State(state): State<AppState>, req: Request, next: Next) -> Response {
    // Read what is signed before the request moves on (a borrow of it must not live across
    // the await: the body is not `Sync`).
    let (method, path, token, nonce) = {
        let header = |name: &str| {
            req.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        // Nested routers see the path without the /api/v1 prefix; the device signs what it sent.
        let path = req
            .extensions()
            .get::<OriginalUri>()
            .map(|u| &u.0)
            .unwrap_or(req.uri())
            .path_and_query()
            .map(|p| p.as_str().to_string())
            .unwrap_or_default();
        let token = header(fieldpost_proto::v1::AUTHORIZATION)
            .and_then(|v| v.strip_prefix("Bearer ").map(|t| t.trim().to_string()))
            .unwrap_or_default();
        let nonce = header(NONCE_HEADER)
            .filter(|n| n.len() <= MAX_NONCE_LEN)
            .unwrap_or_default();
        (req.method().as_str().to_string(), path, token, nonce)
    };
    let (mut parts, body) = next.run(req).await.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_REPLY_BYTES).await else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let ctx = ReplyContext {
        method: &method,
        path: &path,
        token: &token,
        nonce: &nonce,
    };
    let identity = &state.identity;
    let signature = identity.key.sign_reply(&ctx, parts.status.as_u16(), &bytes);
    let mut put = |name: &'static str, value: String| {
        if let Ok(v) = HeaderValue::from_str(&value) {
            parts.headers.insert(name, v);
        }
    };
    put(SIGNATURE_HEADER, signature);
    put(SIGNER_HEADER, identity.public_key().to_string());
    if let Some(chain) = identity.endorsements_header() {
        put(ENDORSEMENTS_HEADER, chain);
    }
    Response::from_parts(parts, Body::from(bytes))
}
