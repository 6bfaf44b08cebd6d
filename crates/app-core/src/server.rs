//! The device's side of the server API outside batch upload: enrolment and the downloads that
//! follow it (assignments, questionnaire, code lists). Errors become the UI's codes here, so
//! "no signal" and "the code was already used" read differently on screen.

use fieldpost_proto::app::{CommandError, ErrorCode};
use fieldpost_proto::v1::{self, ApiError, PREFIX};
use serde::de::DeserializeOwned;
use std::time::Duration;

/// A client for one server, optionally authenticated as the device.
pub struct Server {
    http: reqwest::Client,
    base: String,
    token: Option<String>,
}

impl Server {
    pub fn new(base_url: &str, token: Option<&str>) -> Result<Server, CommandError> {
        let base = normalise_url(base_url)?;
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(60))
            .build()
            .map_err(|e| CommandError::new(ErrorCode::Internal, e.to_string()))?;
        Ok(Server {
            http,
            base: format!("{base}{PREFIX}"),
            token: token.map(str::to_string),
        })
    }

    pub async fn enrol(&self, req: &v1::EnrolRequest) -> Result<v1::EnrolResponse, CommandError> {
        let resp = self
            .http
            .post(format!("{}/enrol", self.base))
            .json(req)
            .send()
            .await;
        read(resp).await
    }

    pub async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, CommandError> {
        read(self.request(path).send().await).await
    }

    pub async fn get_bytes(&self, path: &str) -> Result<Vec<u8>, CommandError> {
        let resp = self.request(path).send().await.map_err(unreachable)?;
        let status = resp.status();
        let body = resp.bytes().await.map_err(unreachable)?;
        if !status.is_success() {
            return Err(api_error(status.as_u16(), &body));
        }
        Ok(body.to_vec())
    }

    fn request(&self, path: &str) -> reqwest::RequestBuilder {
        let req = self.http.get(format!("{}{path}", self.base));
        match &self.token {
            Some(t) => req.bearer_auth(t),
            None => req,
        }
    }
}

/// `http(s)://host[:port]` without a trailing slash; anything else is refused before a request.
pub fn normalise_url(url: &str) -> Result<String, CommandError> {
    let u = url.trim().trim_end_matches('/');
    let rest = u
        .strip_prefix("http://")
        .or_else(|| u.strip_prefix("https://"));
    match rest {
        Some(host) if !host.is_empty() && !host.contains(char::is_whitespace) => Ok(u.to_string()),
        _ => Err(CommandError::new(
            ErrorCode::InvalidServerUrl,
            format!("{url:?} is not an http:// or https:// address"),
        )),
    }
}

async fn read<T: DeserializeOwned>(
    resp: Result<reqwest::Response, reqwest::Error>,
) -> Result<T, CommandError> {
    let resp = resp.map_err(unreachable)?;
    let status = resp.status();
    let body = resp.bytes().await.map_err(unreachable)?;
    if !status.is_success() {
        return Err(api_error(status.as_u16(), &body));
    }
    serde_json::from_slice(&body).map_err(|e| {
        CommandError::new(
            ErrorCode::ServerError,
            format!("the server's answer does not parse: {e}"),
        )
    })
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
            normalise_url(" http://10.0.0.5:8080/ ").expect("ok"),
            "http://10.0.0.5:8080"
        );
        for bad in ["", "ftp://x", "10.0.0.5", "http://", "http://a b"] {
            assert_eq!(
                normalise_url(bad).expect_err(bad).code,
                ErrorCode::InvalidServerUrl
            );
        }
    }
}
