//! The console (crates/console) at `/`: its built files served from a folder, next to the API
//! under `/api/v1`.
//!
//! Read from disk at each request rather than embedded in the binary, so `./dev console`
//! rebuilds it without restarting the server, and the server builds without the wasm
//! toolchain. The folder holds a handful of files (index.html, the wasm and its JS glue, CSS,
//! fonts), so a small handler with a fixed table of content types does what a static-file
//! crate would, with no extra dependency. Any path that is not a file gets `index.html`, so a
//! reload on `/#/accounts` or a bookmarked `/progress` opens the console; a path that names a
//! file with an extension and is missing is a plain 404 (a stale cache, not a screen).

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use fieldpost_proto::v1::{ErrorCode, PREFIX};
use std::path::{Path, PathBuf};

/// Where the built console is: as given (`--console-dir`), `$FIELDPOST_CONSOLE_DIR`,
/// `./crates/console/dist` when the server runs from the workspace (as `./dev run` does), or
/// the source tree's copy (found like the demo's assets, `demo::assets_dir`).
pub fn console_dir(given: Option<&Path>) -> PathBuf {
    if let Some(g) = given {
        return g.to_path_buf();
    }
    if let Ok(env) = std::env::var("FIELDPOST_CONSOLE_DIR") {
        return PathBuf::from(env);
    }
    let local = PathBuf::from("crates/console/dist");
    if local.join("index.html").is_file() {
        return local;
    }
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../console/dist"))
}

/// `api` with the console answering every path the API does not (see the module doc). An
/// unknown path under `/api/` stays a JSON `not_found`, never the console's page.
pub fn with_console(api: Router, dir: PathBuf) -> Router {
    api.fallback(move |method: Method, uri: Uri| {
        let dir = dir.clone();
        async move { answer(&dir, &method, &uri).await }
    })
}

/// What the browser may load and run: only this origin's files, wasm compiled from them, no
/// inline script, no framing (the console holds an admin's session).
const CSP: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; \
                   style-src 'self' 'unsafe-inline'; img-src 'self' data:; \
                   connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

async fn answer(dir: &Path, method: &Method, uri: &Uri) -> Response {
    let path = uri.path();
    if path == PREFIX || path.starts_with(&format!("{PREFIX}/")) || path.starts_with("/api/") {
        return super::Failure::new(
            ErrorCode::NotFound,
            format!("no API route {method} {path}; see {PREFIX}/openapi.json"),
        )
        .into_response();
    }
    if method != Method::GET && method != Method::HEAD {
        return (
            StatusCode::METHOD_NOT_ALLOWED,
            [(header::ALLOW, "GET, HEAD")],
            "the console's files are read-only\n",
        )
            .into_response();
    }
    let Some(rel) = safe_relative(path) else {
        return (StatusCode::NOT_FOUND, "no such file\n").into_response();
    };
    let dir = dir.to_path_buf();
    let head = method == Method::HEAD;
    let found = tokio::task::spawn_blocking(move || find(&dir, &rel))
        .await
        .unwrap_or(Found::NotBuilt);
    let (name, bytes) = match found {
        Found::File(name, bytes) => (name, bytes),
        Found::Missing => return (StatusCode::NOT_FOUND, "no such file\n").into_response(),
        Found::NotBuilt => return not_built(),
    };
    let mut r = if head {
        Response::new(Body::empty())
    } else {
        Response::new(Body::from(bytes))
    };
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(content_type(&name)),
    );
    // File names carry no content hash: the browser must revalidate, or it would keep a stale
    // wasm after an upgrade.
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    if name.ends_with(".html") {
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        );
        h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    }
    r
}

enum Found {
    /// The file's name (for its content type) and bytes.
    File(String, Vec<u8>),
    /// A file-like path (it has an extension) that is not there.
    Missing,
    /// No `index.html` in the folder: the console was never built here.
    NotBuilt,
}

fn find(dir: &Path, rel: &[String]) -> Found {
    if !rel.is_empty() {
        let p = rel.iter().fold(dir.to_path_buf(), |p, c| p.join(c));
        if p.is_file()
            && let Ok(bytes) = std::fs::read(&p)
        {
            return Found::File(rel[rel.len() - 1].clone(), bytes);
        }
        if rel[rel.len() - 1].contains('.') {
            return if dir.join("index.html").is_file() {
                Found::Missing
            } else {
                Found::NotBuilt
            };
        }
    }
    match std::fs::read(dir.join("index.html")) {
        Ok(bytes) => Found::File("index.html".into(), bytes),
        Err(_) => Found::NotBuilt,
    }
}

/// The request path as folder components, or `None` when it could leave the folder: every
/// component must be a plain name (no `..`, no hidden files, no backslash or NUL), after
/// percent-decoding (so `%2e%2e` is caught too).
fn safe_relative(path: &str) -> Option<Vec<String>> {
    let decoded = percent_encoding::percent_decode_str(path)
        .decode_utf8()
        .ok()?;
    let mut out = Vec::new();
    for c in decoded.split('/') {
        if c.is_empty() {
            continue;
        }
        if c.starts_with('.') || c.contains(['\\', '\0', ':']) {
            return None;
        }
        out.push(c.to_string());
    }
    Some(out)
}

fn content_type(name: &str) -> &'static str {
    let ext = name.rsplit_once('.').map(|(_, e)| e).unwrap_or("");
    match ext {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "wasm" => "application/wasm",
        "css" => "text/css; charset=utf-8",
        "woff2" => "font/woff2",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "json" => "application/json",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// The page a browser gets when the console was not built: what to run, in both languages.
fn not_built() -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        "<!doctype html><html lang=\"vi\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>FieldPost</title></head><body style=\"font-family:sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem\">\
         <h1>Bảng điều hành chưa được dựng</h1>\
         <p>Chạy <code>./dev console</code> trong thư mục mã nguồn, rồi tải lại trang. \
         API vẫn hoạt động tại <code>/api/v1</code>.</p>\
         <h1 lang=\"en\">The console is not built</h1>\
         <p lang=\"en\">Run <code>./dev console</code> in the source folder, then reload this page \
         (or start the server with <code>--console-dir</code> naming the built files). \
         The API works as usual under <code>/api/v1</code>.</p></body></html>",
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_that_could_leave_the_folder_are_refused() {
        assert_eq!(safe_relative("/"), Some(vec![]));
        assert_eq!(
            safe_relative("/fonts/a.woff2"),
            Some(vec!["fonts".into(), "a.woff2".into()])
        );
        for bad in [
            "/../x",
            "/%2e%2e/x",
            "/a/%2E%2E/b",
            "/.git/config",
            "/a%5cb",
            "/c:x",
        ] {
            assert_eq!(safe_relative(bad), None, "{bad}");
        }
    }
}
