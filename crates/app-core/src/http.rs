//! The one place the device decides which server addresses it talks to, and how its HTTP client
//! is built (enrolment and downloads in `server`, uploads in `sync::client`, the simulator).
//!
//! Plain `http://` is refused except to this machine (127.0.0.0/8, ::1, `localhost`): over a
//! plain link anyone in between could add their own key to the recipients at enrolment, or
//! answer an upload with an acknowledgement after which the device purges what the server never
//! received. Loopback stays allowed for tests, the demo and a server behind a local proxy.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;
use thiserror::Error;

/// Environment variable naming a PEM file of extra CA certificates the device trusts besides
/// the public web roots: a test server's own CA, or a survey's private CA.
pub const CA_CERT_ENV: &str = "FIELDPOST_CA_CERT";

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum UrlError {
    #[error("{0:?} is not an http:// or https:// address")]
    Invalid(String),
    #[error(
        "{0:?} is plain http:// to another machine, which anyone on the way could read and \
         change: use the https:// address your supervisor gave you (plain http:// is only for \
         127.0.0.1, ::1 or localhost)"
    )]
    Insecure(String),
}

/// Checks a server's base address and returns it trimmed, without a trailing slash:
/// `https://host[:port][/path]`, or `http://` to a loopback host. Nothing is contacted.
pub fn check_server_url(url: &str) -> Result<String, UrlError> {
    let trimmed = url.trim().trim_end_matches('/');
    let invalid = || UrlError::Invalid(url.to_string());
    if trimmed.contains(char::is_whitespace) {
        return Err(invalid());
    }
    let parsed = reqwest::Url::parse(trimmed).map_err(|_| invalid())?;
    // A query or fragment would end up in the middle of every request path.
    if parsed.query().is_some() || parsed.fragment().is_some() || !parsed.username().is_empty() {
        return Err(invalid());
    }
    let host = match parsed.host_str() {
        Some(h) if !h.is_empty() => h,
        _ => return Err(invalid()),
    };
    match parsed.scheme() {
        "https" => Ok(trimmed.to_string()),
        "http" if is_loopback(host) => Ok(trimmed.to_string()),
        "http" => Err(UrlError::Insecure(trimmed.to_string())),
        _ => Err(invalid()),
    }
}

/// `host` as the URL parser wrote it: IPv4 normalised (`127.1` is `127.0.0.1`), IPv6 in
/// brackets, names lower-cased.
fn is_loopback(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    match bare.parse::<IpAddr>() {
        Ok(ip) => ip.to_canonical().is_loopback(),
        Err(_) => bare.eq_ignore_ascii_case("localhost"),
    }
}

#[derive(Debug, Error)]
pub enum ClientError {
    #[error("{CA_CERT_ENV}={path}: {reason}")]
    CaCert { path: PathBuf, reason: String },
    #[error("the HTTP client could not be set up: {0}")]
    Build(String),
}

/// The device's HTTP client: rustls (ring) with the public web roots, plus the CA certificates
/// of [`CA_CERT_ENV`] when it names a file. `timeout` bounds a whole request.
///
/// Idle connections are dropped after 5 s, before the server's header-read timeout (10 s)
/// closes them, so a request never starts on a connection the server is closing.
pub fn client(timeout: Duration) -> Result<reqwest::Client, ClientError> {
    let mut builder = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .timeout(timeout)
        .pool_idle_timeout(Duration::from_secs(5));
    if let Some(path) = std::env::var_os(CA_CERT_ENV).filter(|p| !p.is_empty()) {
        let path = PathBuf::from(path);
        let err = |reason: String| ClientError::CaCert {
            path: path.clone(),
            reason,
        };
        let pem = std::fs::read(&path).map_err(|e| err(e.to_string()))?;
        let certs = reqwest::Certificate::from_pem_bundle(&pem)
            .map_err(|e| err(format!("not a PEM certificate file ({e})")))?;
        if certs.is_empty() {
            return Err(err("holds no \"BEGIN CERTIFICATE\" block".into()));
        }
        for cert in certs {
            builder = builder.add_root_certificate(cert);
        }
    }
    builder
        .build()
        .map_err(|e| ClientError::Build(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_anywhere_and_plain_http_only_to_this_machine() {
        for ok in [
            "https://survey.example.org",
            "https://10.0.0.5:8443/",
            "https://example.org/fieldpost",
            "http://127.0.0.1:8080",
            "http://127.1.2.3",
            "http://localhost:8080/",
            "http://LOCALHOST",
            "http://[::1]:8080",
        ] {
            assert!(check_server_url(ok).is_ok(), "{ok}");
        }
        assert_eq!(
            check_server_url(" https://10.0.0.5:8443/ ").expect("ok"),
            "https://10.0.0.5:8443"
        );
        for insecure in [
            "http://192.0.2.1:8080",
            "http://10.0.0.5",
            "http://example.org",
            "http://localhost.example.org",
            "http://127.0.0.1.example.org",
            "http://[::ffff:192.0.2.1]",
        ] {
            assert!(
                matches!(check_server_url(insecure), Err(UrlError::Insecure(_))),
                "{insecure}"
            );
        }
        for bad in [
            "",
            "ftp://x",
            "10.0.0.5",
            "http://",
            "http://a b",
            "https://x/?a=b",
            // The host is evil.example, whatever the user name looks like.
            "http://127.0.0.1@evil.example",
        ] {
            assert!(
                matches!(check_server_url(bad), Err(UrlError::Invalid(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn the_message_says_what_to_do() {
        let e = check_server_url("http://192.0.2.1:8080").expect_err("insecure");
        assert!(
            e.to_string()
                .contains("use the https:// address your supervisor gave you"),
            "{e}"
        );
    }
}
