//! What keeps the server standing under abuse, as one middleware around every route
//! ([`guard`]): a body limit per route, a limit on requests in flight, a timeout per route, the
//! throttles sign-in and enrolment consult ([`Caller`]), and one log line per request.
//!
//! - **Body limits** ([`policy`]): 16 KiB for JSON calls (sign-in, enrolment, admin calls), 4 MiB
//!   for a sealed batch, 32 MiB for a questionnaire or a sample file. A declared
//!   `Content-Length` over the limit is refused before a byte of the body is read; a chunked
//!   body is counted as it arrives and refused at the first byte past the limit. Either way the
//!   answer is 413 with an [`ApiError`] (`payload_too_large`), and the server never holds more
//!   than the limit of one request's body. The batch figure: a SIPAS batch of 200 interviews
//!   (the sync client's largest) seals to about 213 KiB with paradata (measured by
//!   `tests/abuse.rs`, see `docs/server.md`), so 4 MiB leaves a factor of about 19.
//! - **Requests in flight**: at most [`MAX_IN_FLIGHT`] at once, and at most [`MAX_HEAVY`] of
//!   them uploads (batches and files, which hold a body and a decompressed payload in memory).
//!   One more is answered 503 with `Retry-After` at once rather than queued (tower's
//!   `ConcurrencyLimit` waits instead): the sync client backs off on 503 with jitter, and a
//!   queue would only hold its memory and its socket longer.
//! - **Timeouts** ([`policy`]): 60 s for a batch (a 200-interview batch at 2G speeds, about
//!   50 kbit/s, takes about 35 s), 120 s for a questionnaire or sample upload (compiled on
//!   arrival), 15 s for everything else. The answer is 408 when the body had not fully arrived
//!   (the link is too slow: the sync client then seals smaller batches), 503 otherwise; both
//!   carry `Retry-After`. Work already handed to the blocking pool finishes anyway, and an
//!   upload is idempotent, so the retry gets the same acknowledgement.
//! - **Throttles**: sign-in per peer address and per account name, enrolment per peer address
//!   (see [`crate::throttle`]); the address comes from `ConnectInfo<SocketAddr>`, which the
//!   accept loop provides. Without it (a server built without connect info) every caller
//!   shares one address budget, which fails safe: guessing is still throttled.
//!
//! Header-read timeouts are the accept loop's (`crate::serve`), since they happen before any
//! route is known.

use super::{Failure, PREFIX};
use crate::throttle::{Budget, Throttle, address_key};
use axum::body::{Body, Bytes, HttpBody};
use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use fieldpost_proto::v1::ErrorCode;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

/// Largest body of a JSON call: sign-in, enrolment, admin calls. Real ones are under 1 KiB.
pub const SMALL_BODY_BYTES: usize = 16 << 10;
/// Largest sealed batch. See the module documentation for the measurement behind it.
pub const BATCH_BODY_BYTES: usize = 4 << 20;
/// Largest questionnaire (.xlsx) or sample (CSV) upload. The SIPAS workbook is 136 KiB; a
/// sample of 100,000 households is about 8 MiB of CSV.
pub const FILE_BODY_BYTES: usize = 32 << 20;
/// Requests in flight at once, beyond which the server answers 503.
pub const MAX_IN_FLIGHT: usize = 128;
/// Uploads (batches, files) in flight at once. A real batch holds about 0.2 MiB sealed and
/// 2.7 MiB decompressed; at the 4 MiB body limit and ingest's 16 MiB payload cap, 64 uploads
/// at their worst stay near a gigabyte, and real ones far below.
pub const MAX_HEAVY: usize = 64;
/// `Retry-After` when busy, in seconds (the client adds its own jittered backoff).
const BUSY_RETRY_SECS: u64 = 5;
/// `Retry-After` after a timeout, in seconds.
const TIMEOUT_RETRY_SECS: u64 = 10;

/// Sign-in failures per peer address: 10 in 15 minutes. An office behind one address has room
/// for typing mistakes; a guesser gets 40 tries an hour.
pub const LOGIN_PER_ADDRESS: Budget = Budget {
    max_failures: 10,
    window: Duration::from_secs(15 * 60),
    max_keys: 100_000,
};
/// Sign-in failures per account name, from anywhere: 5 in 15 minutes.
pub const LOGIN_PER_ACCOUNT: Budget = Budget {
    max_failures: 5,
    window: Duration::from_secs(15 * 60),
    max_keys: 100_000,
};
/// Enrolment failures (unknown, used or expired codes) per peer address: 10 in 15 minutes.
/// Codes carry 60 random bits, so this only keeps a guesser from costing us work; there is no
/// account name in an enrolment to throttle on.
pub const ENROL_PER_ADDRESS: Budget = Budget {
    max_failures: 10,
    window: Duration::from_secs(15 * 60),
    max_keys: 100_000,
};

/// What one route may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    pub body_limit: usize,
    pub timeout: Duration,
    /// Counts against [`MAX_HEAVY`] as well as [`MAX_IN_FLIGHT`].
    pub heavy: bool,
}

/// The policy of a route, by method and path template (without the `/api/v1` prefix). Any
/// route not named here gets the small JSON limit, so a new route is safe by default.
pub fn policy(method: &Method, template: &str) -> Policy {
    let small = Policy {
        body_limit: SMALL_BODY_BYTES,
        timeout: Duration::from_secs(15),
        heavy: false,
    };
    match (method.as_str(), template) {
        ("POST", "/device/batches") => Policy {
            body_limit: BATCH_BODY_BYTES,
            timeout: Duration::from_secs(60),
            heavy: true,
        },
        ("PUT", "/surveys/{survey_id}/questionnaires/{version}")
        | ("POST", "/surveys/{survey_id}/sample") => Policy {
            body_limit: FILE_BODY_BYTES,
            timeout: Duration::from_secs(120),
            heavy: true,
        },
        _ => small,
    }
}

/// Shared by every request of one router: the in-flight limits, the password-hashing gate and
/// the throttles.
pub struct Guard {
    in_flight: Arc<Semaphore>,
    heavy: Arc<Semaphore>,
    /// Argon2 runs at most this many at once (19 MiB each): a burst of sign-ins waits its turn
    /// instead of spending a gigabyte.
    pub hashing: Semaphore,
    login_by_address: Mutex<Throttle<IpAddr>>,
    login_by_account: Mutex<Throttle<[u8; 32]>>,
    enrol_by_address: Mutex<Throttle<IpAddr>>,
}

impl Default for Guard {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Self {
            in_flight: Arc::new(Semaphore::new(MAX_IN_FLIGHT)),
            heavy: Arc::new(Semaphore::new(MAX_HEAVY)),
            hashing: Semaphore::new(cores.max(2)),
            login_by_address: Mutex::new(Throttle::new(LOGIN_PER_ADDRESS)),
            login_by_account: Mutex::new(Throttle::new(LOGIN_PER_ACCOUNT)),
            enrol_by_address: Mutex::new(Throttle::new(ENROL_PER_ADDRESS)),
        }
    }
}

/// A throttle's state is a few counters: a panic elsewhere while holding the lock leaves them
/// usable, so a poisoned lock is taken over rather than failing every later sign-in.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Who is calling, as the handlers see it: the shared [`Guard`] and the peer's address key.
#[derive(Clone)]
pub struct Caller {
    pub guard: Arc<Guard>,
    /// The throttling key of the peer address (see [`address_key`]); unspecified when the
    /// server was built without connect info.
    pub address: IpAddr,
}

/// What a refused attempt answers: 429 with `Retry-After`.
pub struct Throttled(pub Duration);

impl From<Throttled> for Failure {
    fn from(t: Throttled) -> Self {
        let secs = t.0.as_secs().max(1);
        Failure::new(
            ErrorCode::TooManyRequests,
            format!("too many failed attempts; try again in {secs} s"),
        )
        .retry_after(secs)
    }
}

impl Caller {
    fn account_key(name: &str) -> [u8; 32] {
        let mut k = [0u8; 32];
        k.copy_from_slice(ring::digest::digest(&ring::digest::SHA256, name.as_bytes()).as_ref());
        k
    }

    /// Whether this address may try to sign in as `name` now.
    pub fn may_sign_in(&self, name: &str, now: Instant) -> Result<(), Throttled> {
        let by_address = lock(&self.guard.login_by_address).check(&self.address, now);
        let by_account = lock(&self.guard.login_by_account).check(&Self::account_key(name), now);
        match (by_address, by_account) {
            (Ok(()), Ok(())) => Ok(()),
            (Err(a), Err(b)) => Err(Throttled(a.max(b))),
            (Err(w), _) | (_, Err(w)) => Err(Throttled(w)),
        }
    }

    pub fn sign_in_failed(&self, name: &str, now: Instant) {
        lock(&self.guard.login_by_address).fail(&self.address, now);
        lock(&self.guard.login_by_account).fail(&Self::account_key(name), now);
    }

    /// A right password frees the account's budget (its owner got in); the address keeps its
    /// count, so one valid account does not buy an address more guesses at others.
    pub fn sign_in_succeeded(&self, name: &str) {
        lock(&self.guard.login_by_account).succeed(&Self::account_key(name));
    }

    pub fn may_enrol(&self, now: Instant) -> Result<(), Throttled> {
        lock(&self.guard.enrol_by_address)
            .check(&self.address, now)
            .map_err(Throttled)
    }

    pub fn enrol_failed(&self, now: Instant) {
        lock(&self.guard.enrol_by_address).fail(&self.address, now);
    }
}

/// What the body wrapper saw, read after the handler returns or times out.
#[derive(Default)]
struct BodySeen {
    exceeded: AtomicBool,
    complete: AtomicBool,
}

/// The request body, cut off at the route's limit.
struct CappedBody {
    inner: Body,
    remaining: usize,
    seen: Arc<BodySeen>,
}

#[derive(Debug, thiserror::Error)]
#[error("the request body is larger than this route accepts")]
struct TooLarge;

impl HttpBody for CappedBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, axum::Error>>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    if data.len() > this.remaining {
                        this.seen.exceeded.store(true, Ordering::Relaxed);
                        return Poll::Ready(Some(Err(axum::Error::new(TooLarge))));
                    }
                    this.remaining -= data.len();
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(None) => {
                this.seen.complete.store(true, Ordering::Relaxed);
                Poll::Ready(None)
            }
            other => other,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

fn too_large(limit: usize) -> Response {
    Failure::new(
        ErrorCode::PayloadTooLarge,
        format!(
            "the request body is larger than this call accepts ({} KiB); \
             for a batch, seal fewer interviews per batch",
            limit >> 10
        ),
    )
    .into_response()
}

fn unavailable(status: StatusCode, retry_secs: u64, message: &str) -> Response {
    let mut f = Failure::new(ErrorCode::Unavailable, message).retry_after(retry_secs);
    f.status = status;
    f.into_response()
}

/// The middleware: see the module documentation.
pub async fn guard(State(guard): State<Arc<Guard>>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().clone();
    let template = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| {
            let p = m.as_str();
            p.strip_prefix(PREFIX).unwrap_or(p).to_string()
        })
        .unwrap_or_else(|| "(no route)".to_string());
    let response = guarded(guard, req, next, &method, &template).await;
    tracing::info!(
        method = %method,
        route = %template,
        status = response.status().as_u16(),
        ms = started.elapsed().as_millis() as u64,
        "request"
    );
    response
}

async fn guarded(
    guard: Arc<Guard>,
    mut req: Request,
    next: Next,
    method: &Method,
    template: &str,
) -> Response {
    let policy = policy(method, template);
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > policy.body_limit as u64) {
        return too_large(policy.body_limit);
    }
    let Ok(_permit) = guard.in_flight.clone().try_acquire_owned() else {
        return unavailable(
            StatusCode::SERVICE_UNAVAILABLE,
            BUSY_RETRY_SECS,
            "the server is busy; retry in a few seconds",
        );
    };
    let _heavy = if policy.heavy {
        match guard.heavy.clone().try_acquire_owned() {
            Ok(p) => Some(p),
            Err(_) => {
                return unavailable(
                    StatusCode::SERVICE_UNAVAILABLE,
                    BUSY_RETRY_SECS,
                    "the server is receiving many uploads; retry in a few seconds",
                );
            }
        }
    } else {
        None
    };
    let address = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |c| address_key(c.0.ip()));
    req.extensions_mut().insert(Caller {
        guard: guard.clone(),
        address,
    });
    let seen = Arc::new(BodySeen::default());
    let has_body = declared.is_some_and(|n| n > 0)
        || (declared.is_none() && req.headers().contains_key(header::TRANSFER_ENCODING));
    if !has_body {
        seen.complete.store(true, Ordering::Relaxed);
    }
    let body = std::mem::take(req.body_mut());
    *req.body_mut() = Body::new(CappedBody {
        inner: body,
        remaining: policy.body_limit,
        seen: seen.clone(),
    });
    match tokio::time::timeout(policy.timeout, next.run(req)).await {
        Ok(_) if seen.exceeded.load(Ordering::Relaxed) => too_large(policy.body_limit),
        Ok(response) => response,
        Err(_) if !seen.complete.load(Ordering::Relaxed) => unavailable(
            StatusCode::REQUEST_TIMEOUT,
            TIMEOUT_RETRY_SECS,
            &format!(
                "the request did not arrive within {} s; on a slow link, send less at once",
                policy.timeout.as_secs()
            ),
        ),
        Err(_) => unavailable(
            StatusCode::SERVICE_UNAVAILABLE,
            TIMEOUT_RETRY_SECS,
            &format!(
                "the server did not finish within {} s; retry later",
                policy.timeout.as_secs()
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uploads_get_room_and_everything_else_is_small() {
        let batch = policy(&Method::POST, "/device/batches");
        assert_eq!(batch.body_limit, BATCH_BODY_BYTES);
        assert!(batch.heavy);
        let xlsx = policy(
            &Method::PUT,
            "/surveys/{survey_id}/questionnaires/{version}",
        );
        assert_eq!(xlsx.body_limit, FILE_BODY_BYTES);
        for (m, p) in [
            (Method::POST, "/sessions"),
            (Method::POST, "/enrol"),
            (Method::POST, "/accounts"),
            (Method::GET, "/device/batches"),
            (Method::POST, "/a/route/added/later"),
        ] {
            assert_eq!(policy(&m, p).body_limit, SMALL_BODY_BYTES, "{m} {p}");
            assert!(!policy(&m, p).heavy);
        }
    }
}
