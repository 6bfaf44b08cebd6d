//! The device's side of the server API outside batch upload: enrolment and the downloads that
//! follow it (assignments, questionnaire, code lists). Errors become the UI's codes here, so
//! "no signal" and "the code was already used" read differently on screen.

use fieldpost_proto::app::{CommandError, ErrorCode};
use fieldpost_proto::v1::{self, ApiError, PREFIX};
use fieldpost_seal::reply::{
    self, ENDORSEMENTS_HEADER, NONCE_HEADER, ReplyContext, ReplyError, ReplySignature,
    SIGNATURE_HEADER, SIGNER_HEADER, ServerPublicKey,
};
use serde::de::DeserializeOwned;
use std::sync::Mutex;
use std::time::Duration;

/// Whom a reply must come from: before enrolment, a key with the fingerprint printed beside the
/// enrolment code; after it, the key pinned then.
#[derive(Debug, Clone)]
pub enum Trust {
    Fingerprint(String),
    Pinned(ServerPublicKey),
}

/// A client for one server, optionally authenticated as the device. Every reply is checked
/// against [`Trust`] before anything is read from it: a reply that does not verify is
/// `ServerNotTrusted`, and the caller changes nothing.
pub struct Server {
    http: reqwest::Client,
    base: String,
    token: Option<String>,
    trust: Trust,
    /// The key that signed the last verified reply, when it is not the pinned one (the server
    /// rotated its key and the reply carried a verified endorsement): the caller pins it.
    rotated: Mutex<Option<ServerPublicKey>>,
}

/// A verified reply: status and body.
struct Verified {
    status: u16,
    body: Vec<u8>,
}

impl Server {
    pub fn new(base_url: &str, token: Option<&str>, trust: Trust) -> Result<Server, CommandError> {
        let base = normalise_url(base_url)?;
        let http = crate::http::client(Duration::from_secs(60))
            .map_err(|e| CommandError::new(ErrorCode::Internal, e.to_string()))?;
        Ok(Server {
            http,
            base,
            token: token.map(str::to_string),
            trust,
            rotated: Mutex::new(None),
        })
    }

    /// The server's key as verified on the last reply (the key to pin).
    pub fn signer(&self) -> Option<ServerPublicKey> {
        let rotated = *self.rotated.lock().unwrap_or_else(|e| e.into_inner());
        rotated.or(match &self.trust {
            Trust::Pinned(k) => Some(*k),
            Trust::Fingerprint(_) => None,
        })
    }

    pub async fn enrol(&self, req: &v1::EnrolRequest) -> Result<v1::EnrolResponse, CommandError> {
        let body = serde_json::to_vec(req)
            .map_err(|e| CommandError::new(ErrorCode::Internal, e.to_string()))?;
        let v = self
            .send(reqwest::Method::POST, "/enrol", Some(body))
            .await?;
        parse(v)
    }

    pub async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, CommandError> {
        parse(self.send(reqwest::Method::GET, path, None).await?)
    }

    pub async fn get_bytes(&self, path: &str) -> Result<Vec<u8>, CommandError> {
        let v = self.send(reqwest::Method::GET, path, None).await?;
        if !(200..300).contains(&v.status) {
            return Err(api_error(v.status, &v.body));
        }
        Ok(v.body)
    }

    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Vec<u8>>,
    ) -> Result<Verified, CommandError> {
        let full = format!("{PREFIX}{path}");
        let nonce = new_nonce()?;
        let mut req = self
            .http
            .request(method.clone(), format!("{}{full}", self.base))
            .header(NONCE_HEADER, &nonce);
        if let Some(t) = &self.token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(b);
        }
        let resp = req.send().await.map_err(unreachable)?;
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body = resp.bytes().await.map_err(unreachable)?.to_vec();
        let ctx = ReplyContext {
            method: method.as_str(),
            path: &full,
            token: self.token.as_deref().unwrap_or(""),
            nonce: &nonce,
        };
        let signer = verify(&self.trust, &ctx, status, &body, &headers).map_err(untrusted)?;
        if let Trust::Pinned(k) = &self.trust
            && signer != *k
        {
            *self.rotated.lock().unwrap_or_else(|e| e.into_inner()) = Some(signer);
        }
        if matches!(self.trust, Trust::Fingerprint(_)) {
            *self.rotated.lock().unwrap_or_else(|e| e.into_inner()) = Some(signer);
        }
        Ok(Verified { status, body })
    }
}

/// Checks a reply's signature headers against `trust`; returns the key that signed it.
pub(crate) fn verify(
    trust: &Trust,
    ctx: &ReplyContext<'_>,
    status: u16,
    body: &[u8],
    headers: &reqwest::header::HeaderMap,
) -> Result<ServerPublicKey, ReplyError> {
    let h = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let sig = ReplySignature {
        signature: h(SIGNATURE_HEADER),
        signer: h(SIGNER_HEADER),
        endorsements: h(ENDORSEMENTS_HEADER),
    };
    match trust {
        Trust::Pinned(k) => reply::verify_reply(k, ctx, status, body, &sig),
        Trust::Fingerprint(f) => reply::verify_enrolment_reply(f, ctx, status, body, &sig),
    }
}

/// 16 random bytes, hex: binds a reply to this request, so an old reply cannot be replayed.
pub(crate) fn new_nonce() -> Result<String, CommandError> {
    let mut raw = [0u8; 16];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut raw)
        .map_err(|_| CommandError::new(ErrorCode::Internal, "no random numbers"))?;
    Ok(raw.iter().map(|b| format!("{b:02x}")).collect())
}

fn untrusted(e: ReplyError) -> CommandError {
    CommandError::new(ErrorCode::ServerNotTrusted, e.to_string())
}

fn parse<T: DeserializeOwned>(v: Verified) -> Result<T, CommandError> {
    if !(200..300).contains(&v.status) {
        return Err(api_error(v.status, &v.body));
    }
    serde_json::from_slice(&v.body).map_err(|e| {
        CommandError::new(
            ErrorCode::ServerError,
            format!("the server's answer does not parse: {e}"),
        )
    })
}

/// `http(s)://host[:port]` without a trailing slash; anything else is refused before a request.
pub fn normalise_url(url: &str) -> Result<String, CommandError> {
    crate::http::check_server_url(url).map_err(url_error)
}

/// The UI's code for a refused server address: plain `http://` to another machine has its own
/// sentence (use the https:// address), distinct from a malformed address.
pub(crate) fn url_error(e: crate::http::UrlError) -> CommandError {
    let code = match e {
        crate::http::UrlError::Invalid(_) => ErrorCode::InvalidServerUrl,
        crate::http::UrlError::Insecure(_) => ErrorCode::InsecureServerUrl,
    };
    CommandError::new(code, e.to_string())
}

fn unreachable(e: reqwest::Error) -> CommandError {
    CommandError::new(ErrorCode::ServerUnreachable, e.to_string())
}

fn api_error(status: u16, body: &[u8]) -> CommandError {
    match serde_json::from_slice::<ApiError>(body) {
        Ok(e) => CommandError::new(
            match e.code {
                v1::ErrorCode::InvalidEnrolmentCode => ErrorCode::EnrolmentRefused,
                v1::ErrorCode::RevokedDevice => ErrorCode::DeviceRevoked,
                _ => ErrorCode::ServerError,
            },
            format!("HTTP {status}: {e}"),
        ),
        Err(_) => CommandError::new(ErrorCode::ServerError, format!("HTTP {status}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_addresses_are_checked_before_any_request() {
        assert_eq!(
            normalise_url(" https://10.0.0.5:8443/ ").expect("ok"),
            "https://10.0.0.5:8443"
        );
        assert_eq!(
            normalise_url("http://127.0.0.1:8080/").expect("loopback"),
            "http://127.0.0.1:8080"
        );
        for bad in ["", "ftp://x", "10.0.0.5", "http://", "http://a b"] {
            assert_eq!(
                normalise_url(bad).expect_err(bad).code,
                ErrorCode::InvalidServerUrl
            );
        }
        // Plain http:// to another machine: its own code, so the UI says what to do.
        let e = normalise_url("http://192.0.2.1:8080").expect_err("plain http to a LAN host");
        assert_eq!(e.code, ErrorCode::InsecureServerUrl);
        assert!(e.detail.contains("https://"), "{}", e.detail);
    }
}
