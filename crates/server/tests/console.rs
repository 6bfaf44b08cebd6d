//! The console's files at `/` of a real server on 127.0.0.1, next to the API: content types a
//! browser accepts (it refuses to compile wasm served as anything but application/wasm),
//! `index.html` for the console's own paths, the API's JSON 404 under /api/, no way out of the
//! folder, and a page saying what to run when the console was never built.

use fieldpost_server::http::console::with_console;
use std::path::Path;

/// Serves `with_console(an API stand-in, dir)` on a free loopback port; returns its base URL.
fn serve(rt: &tokio::runtime::Runtime, dir: &Path) -> String {
    let api = axum::Router::new().route(
        "/api/v1/surveys",
        axum::routing::get(|| async { (axum::http::StatusCode::UNAUTHORIZED, "api") }),
    );
    let app = with_console(api, dir.to_path_buf());
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    rt.spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime")
}

#[test]
fn serves_the_built_console_with_the_right_types_and_index_for_its_paths() {
    let rt = runtime();
    let tmp = tempfile::tempdir().expect("tempdir");
    let dist = tmp.path().join("dist");
    std::fs::create_dir_all(dist.join("fonts")).expect("mkdir");
    std::fs::write(dist.join("index.html"), "<!doctype html>console").expect("write");
    std::fs::write(dist.join("fieldpost-console.js"), "export default 1").expect("write");
    std::fs::write(dist.join("fieldpost-console_bg.wasm"), b"\0asm").expect("write");
    std::fs::write(dist.join("style.css"), "body{}").expect("write");
    std::fs::write(dist.join("fonts/a.woff2"), b"wOF2").expect("write");
    // A file next to the folder, which a traversal would reach.
    std::fs::write(tmp.path().join("secret.txt"), "secret").expect("write");
    let base = serve(&rt, &dist);
    let http = reqwest::blocking::Client::new();
    let get = |p: &str| http.get(format!("{base}{p}")).send().expect("request");
    let kind = |r: &reqwest::blocking::Response| {
        r.headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    };

    for (path, want) in [
        ("/", "text/html"),
        ("/fieldpost-console.js", "text/javascript"),
        ("/fieldpost-console_bg.wasm", "application/wasm"),
        ("/style.css", "text/css"),
        ("/fonts/a.woff2", "font/woff2"),
    ] {
        let r = get(path);
        assert_eq!(r.status(), 200, "{path}");
        assert!(kind(&r).starts_with(want), "{path}: {}", kind(&r));
    }
    let index = get("/");
    assert!(
        index
            .headers()
            .get("content-security-policy")
            .is_some_and(|v| v.to_str().unwrap_or("").contains("frame-ancestors 'none'"))
    );
    assert_eq!(index.text().expect("body"), "<!doctype html>console");

    // A screen's address (a reload, a bookmark) opens the console.
    let r = get("/accounts");
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().expect("body"), "<!doctype html>console");
    // A missing file is a 404, not the page (a browser would try to run HTML as a script).
    assert_eq!(get("/missing.js").status(), 404);
    // The API is untouched; an unknown API path is the API's JSON 404.
    let r = get("/api/v1/surveys");
    assert_eq!(
        (r.status().as_u16(), r.text().expect("body")),
        (401, "api".into())
    );
    let r = get("/api/v1/no-such-route");
    assert_eq!(r.status(), 404);
    let body: serde_json::Value = r.json().expect("JSON error");
    assert_eq!(body["code"], "not_found");
    // No way out of the folder, however the dots are spelt.
    for p in [
        "/%2e%2e/secret.txt",
        "/fonts/%2E%2E/%2e%2e/secret.txt",
        "/.%2e/secret.txt",
    ] {
        let r = get(p);
        assert_eq!(r.status(), 404, "{p}");
        assert!(!r.text().expect("body").contains("secret"), "{p}");
    }
    // Read-only.
    let r = http
        .post(format!("{base}/index.html"))
        .send()
        .expect("request");
    assert_eq!(r.status(), 405);
}

#[test]
fn an_unbuilt_console_says_what_to_run_and_the_api_still_works() {
    let rt = runtime();
    let dir = tempfile::tempdir().expect("tempdir");
    let base = serve(&rt, &dir.path().join("dist"));
    let http = reqwest::blocking::Client::new();
    let r = http.get(format!("{base}/")).send().expect("request");
    assert_eq!(r.status(), 503);
    let text = r.text().expect("body");
    assert!(text.contains("./dev console"), "{text}");
    assert!(text.contains("The console is not built"), "{text}");
    let r = http
        .get(format!("{base}/api/v1/surveys"))
        .send()
        .expect("request");
    assert_eq!(r.status(), 401);
}
