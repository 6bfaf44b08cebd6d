//! The console's way to the server: the browser's own `fetch` on `/api/v1` of the origin that
//! served the page (so no address is configured and no CORS is needed), JSON both ways, the
//! session token as a bearer header. Also the browser chores: local storage, CSV downloads,
//! the clock.

use fieldpost_proto::v1::{ApiError, ErrorCode, PREFIX};
use serde::Serialize;
use serde::de::DeserializeOwned;
use thiserror::Error;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// Why a call gave no answer the console can use.
#[derive(Debug, Clone, Error)]
pub enum ApiFailure {
    /// The request never got an HTTP answer (server down, network gone).
    #[error("network: {0}")]
    Network(String),
    /// The server answered with an error ([`ApiError`], with its stable code).
    #[error("HTTP {status}: {}", .body.message)]
    Refused { status: u16, body: ApiError },
    /// The answer was not what this version of the console expects.
    #[error("unexpected answer: {0}")]
    Decode(String),
}

impl ApiFailure {
    /// The server no longer knows the session (expired, signed out elsewhere, password reset).
    pub fn is_unauthenticated(&self) -> bool {
        matches!(self, ApiFailure::Refused { body, .. } if body.code == ErrorCode::Unauthenticated)
    }
}

fn js_text(v: JsValue) -> String {
    v.as_string()
        .or_else(|| {
            v.dyn_ref::<js_sys::Error>()
                .map(|e| String::from(e.message()))
        })
        .unwrap_or_else(|| format!("{v:?}"))
}

/// One API call: `method` on `PREFIX + path`, an optional JSON body, the answer decoded as `T`.
pub async fn call<T: DeserializeOwned>(
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&impl Serialize>,
) -> Result<T, ApiFailure> {
    let window = web_sys::window().ok_or_else(|| ApiFailure::Network("no window".into()))?;
    let init = web_sys::RequestInit::new();
    init.set_method(method);
    let headers = web_sys::Headers::new().map_err(|e| ApiFailure::Network(js_text(e)))?;
    headers
        .set("accept", "application/json")
        .map_err(|e| ApiFailure::Network(js_text(e)))?;
    if let Some(t) = token {
        headers
            .set("authorization", &format!("Bearer {t}"))
            .map_err(|e| ApiFailure::Network(js_text(e)))?;
    }
    if let Some(b) = body {
        let json = serde_json::to_string(b).map_err(|e| ApiFailure::Decode(e.to_string()))?;
        headers
            .set("content-type", "application/json")
            .map_err(|e| ApiFailure::Network(js_text(e)))?;
        init.set_body(&JsValue::from_str(&json));
    }
    init.set_headers(&headers);
    let url = format!("{PREFIX}{path}");
    let request = web_sys::Request::new_with_str_and_init(&url, &init)
        .map_err(|e| ApiFailure::Network(js_text(e)))?;
    let response: web_sys::Response = JsFuture::from(window.fetch_with_request(&request))
        .await
        .map_err(|e| ApiFailure::Network(js_text(e)))?
        .dyn_into()
        .map_err(|e| ApiFailure::Network(js_text(e)))?;
    let status = response.status();
    let text = JsFuture::from(
        response
            .text()
            .map_err(|e| ApiFailure::Network(js_text(e)))?,
    )
    .await
    .map_err(|e| ApiFailure::Network(js_text(e)))?
    .as_string()
    .unwrap_or_default();
    if (200..300).contains(&status) {
        serde_json::from_str(&text).map_err(|e| ApiFailure::Decode(e.to_string()))
    } else {
        let body = serde_json::from_str::<ApiError>(&text).unwrap_or(ApiError {
            code: ErrorCode::Internal,
            message: format!("HTTP {status}"),
        });
        Err(ApiFailure::Refused { status, body })
    }
}

/// A call without a body.
pub async fn get<T: DeserializeOwned>(path: &str, token: &str) -> Result<T, ApiFailure> {
    call::<T>("GET", path, Some(token), None::<&()>).await
}

fn storage(session: bool) -> Option<web_sys::Storage> {
    let w = web_sys::window()?;
    if session {
        w.session_storage().ok()?
    } else {
        w.local_storage().ok()?
    }
}

/// Reads a stored value: `session` for the sign-in (gone when the tab closes), otherwise the
/// browser's local storage (the language).
pub fn load(key: &str, session: bool) -> Option<String> {
    storage(session)?.get_item(key).ok()?
}

pub fn save(key: &str, value: Option<&str>, session: bool) {
    if let Some(s) = storage(session) {
        let _ = match value {
            Some(v) => s.set_item(key, v),
            None => s.remove_item(key),
        };
    }
}

/// Offers `text` as a file download named `name` (a Blob URL clicked through a hidden link).
pub fn download(name: &str, text: &str, mime: &str) {
    let Some(doc) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    let parts = js_sys::Array::of1(&JsValue::from_str(text));
    let bag = web_sys::BlobPropertyBag::new();
    bag.set_type(mime);
    let Ok(blob) = web_sys::Blob::new_with_str_sequence_and_options(&parts, &bag) else {
        return;
    };
    let Ok(url) = web_sys::Url::create_object_url_with_blob(&blob) else {
        return;
    };
    if let Ok(a) = doc
        .create_element("a")
        .map(|e| e.unchecked_into::<web_sys::HtmlAnchorElement>())
    {
        a.set_href(&url);
        a.set_download(name);
        a.click();
    }
    let _ = web_sys::Url::revoke_object_url(&url);
}

/// The local time now, `YYYY-MM-DD HH:MM:SS`, for "as of" lines.
pub fn now_local() -> String {
    let d = js_sys::Date::new_0();
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
        d.get_full_year(),
        d.get_month() + 1,
        d.get_date(),
        d.get_hours(),
        d.get_minutes(),
        d.get_seconds()
    )
}

/// The page's own origin (`http://127.0.0.1:8080`): the address devices enrol with.
pub fn origin() -> String {
    web_sys::window()
        .and_then(|w| w.location().origin().ok())
        .unwrap_or_default()
}

/// The screen named in the address (`#/accounts` → `accounts`).
pub fn hash() -> String {
    web_sys::window()
        .and_then(|w| w.location().hash().ok())
        .unwrap_or_default()
        .trim_start_matches('#')
        .trim_start_matches('/')
        .to_string()
}

pub fn set_hash(h: &str) {
    if let Some(w) = web_sys::window() {
        let _ = w.location().set_hash(&format!("/{h}"));
    }
}

/// `<html lang>`, so screen readers and hyphenation follow the chosen language.
pub fn set_document_lang(tag: &str) {
    if let Some(el) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.document_element())
    {
        let _ = el.set_attribute("lang", tag);
    }
}
