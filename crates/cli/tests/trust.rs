//! What leaves the device is trustworthy on a hostile network: a tampering proxy on loopback sits
//! between the app core and a real `fieldpost serve --demo` process and changes what it likes.
//! The device acts only on replies signed by the server key it pinned at enrolment.
//!
//! Also: a key HQ adds after enrolment reaches the device; a batch refused for good neither
//! blocks the others nor is sent again; a lost enrolment reply can be retried.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use fieldpost_app_core::AppCore;
use fieldpost_proto::app::{
    AssignmentItem, EnrolRequest, ErrorCode, NonResponseCode, NonResponseRequest,
};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};

mod common;
use common::{demo_server, free_address, stats};

const PIN: &str = "246810";

/// What the proxy does to the traffic it carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Pass,
    /// Adds its own age key to the recipients in the enrolment reply (keeping the signature).
    AddRecipient,
    /// Forwards the enrolment, then drops the connection before any reply reaches the device.
    DropEnrolReply,
    /// Never forwards an upload: answers it with an acknowledgement of its own.
    ForgeAck,
}

struct Proxy {
    upstream: String,
    mode: Mutex<Mode>,
    http: reqwest::Client,
}

impl Proxy {
    fn mode(&self) -> Mode {
        *self.mode.lock().expect("mode")
    }
}

async fn forward(
    State(p): State<Arc<Proxy>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path_and_query().map(|x| x.as_str()).unwrap_or("/");
    let mode = p.mode();
    if mode == Mode::ForgeAck && path.ends_with("/device/batches") {
        let header = fieldpost_seal::peek_header(&body).expect("a sealed batch");
        let ack = json!({
            "device_id": header.device_id, "sequence": header.sequence,
            "batch_id": header.batch_id, "digest": fieldpost_seal::digest(&body).to_string(),
            "interviews": header.interviews.len(), "acknowledged_at": "2026-12-01T00:00:00Z"
        });
        return (StatusCode::OK, axum::Json(ack)).into_response();
    }
    let mut req = p
        .http
        .request(method, format!("{}{path}", p.upstream))
        .body(body.to_vec());
    for (k, v) in &headers {
        if k != "host" && k != "content-length" {
            req = req.header(k, v);
        }
    }
    let resp = req.send().await.expect("the real server answers");
    let status = resp.status();
    let mut out_headers = resp.headers().clone();
    let mut bytes = resp.bytes().await.expect("body").to_vec();
    if path.ends_with("/enrol") {
        match mode {
            Mode::AddRecipient => {
                let mut v: Value = serde_json::from_slice(&bytes).expect("json");
                let evil = fieldpost_seal::Identity::generate().to_public();
                v["recipients"]
                    .as_array_mut()
                    .expect("recipients")
                    .push(json!({
                        "public_key": evil.to_string(), "key_id": evil.key_id(), "purpose": "escrow"
                    }));
                bytes = serde_json::to_vec(&v).expect("json");
            }
            // The server has spent the code; the device never hears back. Unwinding ends this
            // connection without an answer (resume_unwind: no panic message).
            Mode::DropEnrolReply => std::panic::resume_unwind(Box::new("reply dropped")),
            _ => {}
        }
    }
    out_headers.remove("content-length");
    out_headers.remove("transfer-encoding");
    (status, out_headers, bytes).into_response()
}

/// Starts the proxy in front of `upstream`; returns its address and its control.
fn proxy(upstream: &str) -> (String, Arc<Proxy>, tokio::runtime::Runtime) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let p = Arc::new(Proxy {
        upstream: upstream.to_string(),
        mode: Mutex::new(Mode::Pass),
        http: reqwest::Client::new(),
    });
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("binds");
    let addr = listener.local_addr().expect("address");
    let app = axum::Router::new().fallback(forward).with_state(p.clone());
    rt.spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{addr}"), p, rt)
}

fn items(core: &AppCore) -> Vec<AssignmentItem> {
    core.assignments()
        .expect("assignments")
        .groups
        .into_iter()
        .flat_map(|g| g.assignments)
        .collect()
}

fn moved(core: &AppCore, a: &AssignmentItem) {
    core.non_response(&NonResponseRequest {
        assignment_id: a.id,
        code: NonResponseCode::Moved,
        note: None,
        revisit_at: None,
    })
    .expect("non-response recorded");
}

/// An admin session on the demo server, for HQ's side of the tests.
fn admin(url: &str) -> (reqwest::blocking::Client, String) {
    let http = reqwest::blocking::Client::new();
    let login: Value = http
        .post(format!("{url}/api/v1/sessions"))
        .json(&json!({"username": "admin", "password": "fieldpost-demo-admin"}))
        .send()
        .expect("login")
        .json()
        .expect("json");
    (http, login["token"].as_str().expect("token").to_string())
}

#[test]
fn a_tampering_proxy_changes_nothing_on_the_device() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("server.sqlite");
    let demo = demo_server(&db, "127.0.0.1:0");
    let (via, control, _rt) = proxy(&demo.url);
    let set = |m: Mode| *control.mode.lock().expect("mode") = m;
    let core = AppCore::new(dir.path().join("device"));
    let request = EnrolRequest {
        server_url: via.clone(),
        ..demo.enrol_request(PIN)
    };

    // A key slipped into the enrolment reply: the signature no longer verifies.
    set(Mode::AddRecipient);
    let e = core
        .enrol(&request)
        .expect_err("a tampered reply is refused");
    assert_eq!(e.code, ErrorCode::ServerNotTrusted, "{e}");
    assert!(!core.app_status().expect("status").enrolled);

    // A fingerprint that is not the server's: refused before anything is kept.
    set(Mode::Pass);
    let wrong = EnrolRequest {
        server_fingerprint: "0000-0000-0000-0000-0000".into(),
        ..request.clone()
    };
    let e = core.enrol(&wrong).expect_err("another server's key");
    assert_eq!(e.code, ErrorCode::ServerNotTrusted, "{e}");

    // The reply lost on the way (the server spent the code): the same code again enrols.
    set(Mode::DropEnrolReply);
    let e = core.enrol(&request).expect_err("no reply");
    assert_eq!(e.code, ErrorCode::ServerUnreachable, "{e}");
    set(Mode::Pass);
    let status = core.enrol(&request).expect("a retry enrols");
    assert!(status.enrolled);

    // An acknowledgement the server never sent: the batch stays, nothing is purged.
    let list = items(&core);
    let officials: Vec<_> = list.iter().filter(|a| !a.reserve).collect();
    moved(&core, officials[0]);
    set(Mode::ForgeAck);
    let e = core
        .sync(|_| {})
        .expect_err("a forged acknowledgement is no acknowledgement");
    assert_eq!(e.code, ErrorCode::ServerNotTrusted, "{e}");
    let st = core.sync_status().expect("status");
    assert_eq!((st.pending_interviews, st.acknowledged_interviews), (1, 0));
    assert_eq!(stats(&db).get("interviews").copied().unwrap_or(0), 0);

    // Through an honest link the same batch is acknowledged.
    set(Mode::Pass);
    let st = core.sync(|_| {}).expect("syncs");
    assert_eq!((st.pending_interviews, st.acknowledged_interviews), (0, 1));
}

#[test]
fn a_key_added_after_enrolment_reaches_the_device_and_a_refusal_blocks_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("server.sqlite");
    let demo = demo_server(&db, "127.0.0.1:0");
    let data = dir.path().join("device");
    let core = AppCore::new(&data);
    core.enrol(&demo.enrol_request(PIN)).expect("enrols");

    // HQ adds a second escrow key to the survey after the device enrolled.
    let (http, token) = admin(&demo.url);
    let surveys: Value = http
        .get(format!("{}/api/v1/surveys", demo.url))
        .bearer_auth(&token)
        .send()
        .expect("surveys")
        .json()
        .expect("json");
    let survey = surveys.as_array().expect("list")[0]["id"]
        .as_str()
        .expect("id")
        .to_string();
    let added = fieldpost_seal::Identity::generate().to_public();
    let r = http
        .post(format!("{}/api/v1/surveys/{survey}/recipients", demo.url))
        .bearer_auth(&token)
        .json(&json!({"public_key": added.to_string(), "purpose": "escrow"}))
        .send()
        .expect("adds a key");
    assert!(r.status().is_success(), "{}", r.text().unwrap_or_default());

    // Two finished interviews in one batch: one fine, one with an answer to a field the
    // questionnaire does not have (refused for good by the server's answer check).
    let list = items(&core);
    let officials: Vec<_> = list.iter().filter(|a| !a.reserve).collect();
    moved(&core, officials[0]);
    let bad = core.open_interview(officials[1].id).expect("opens");
    {
        let mut store =
            fieldpost_store::Store::open_unlocked(&data.join(fieldpost_app_core::STORE_FILE), PIN)
                .expect("second connection");
        store
            .set_answer(bad.interview_id, "no_such_question", &json!("x"))
            .expect("written behind the engine's back");
        store.complete(bad.interview_id).expect("completed");
    }

    // A new household arrives for enum1 meanwhile.
    let csv = "code,kind,reserve_for,province,commune,village,stratum,enumerator\n\
               NEW-001,official,,01,00004,Thôn 9,urban,enum1\n";
    let r = http
        .post(format!("{}/api/v1/surveys/{survey}/sample", demo.url))
        .bearer_auth(&token)
        .header("content-type", "text/csv")
        .body(csv)
        .send()
        .expect("sample");
    assert!(r.status().is_success(), "{}", r.text().unwrap_or_default());

    let st = core
        .sync(|_| {})
        .expect("the sync goes through the refusal");
    assert_eq!(st.acknowledged_interviews, 1, "the good interview went");
    assert_eq!(st.held.len(), 1, "{:?}", st.held);
    assert_eq!(st.held[0].interview_id, bad.interview_id);
    assert_eq!(st.held[0].reason, "questionnaire_mismatch");
    assert!(
        items(&core).iter().any(|a| a.name == "NEW-001"),
        "assignments were refreshed after the refusal"
    );

    // The good interview's batch was sealed to the key added after enrolment.
    let incidents = |http: &reqwest::blocking::Client| -> Vec<Value> {
        let v: Value = http
            .get(format!("{}/api/v1/incidents", demo.url))
            .bearer_auth(&token)
            .send()
            .expect("incidents")
            .json()
            .expect("json");
        v["incidents"].as_array().cloned().unwrap_or_default()
    };
    let seen = incidents(&http);
    let refusals: Vec<_> = seen
        .iter()
        .filter(|i| i["kind"] == "questionnaire_mismatch")
        .collect();
    assert_eq!(
        refusals.len(),
        2,
        "the batch of two, then the interview alone: {seen:?}"
    );
    assert!(
        !seen.iter().any(|i| i["kind"] == "wrong_recipient"),
        "{seen:?}"
    );

    // The next sync does not send the held interview again (no new incident, no new archive).
    let st = core.sync(|_| {}).expect("syncs");
    assert_eq!(st.held.len(), 1);
    assert_eq!(incidents(&http).len(), seen.len(), "not sent again");
}

/// Key rotation: the server's key is replaced by one the old key endorsed; an enrolled device
/// follows the endorsement and goes on syncing. A key that nobody endorsed is refused.
#[test]
fn a_rotated_server_key_is_followed_and_an_unendorsed_one_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("server.sqlite");
    let data_dir = dir.path().join("server.sqlite.data");
    let listen = free_address();
    let demo = demo_server(&db, &listen);
    let core = AppCore::new(dir.path().join("device"));
    core.enrol(&demo.enrol_request(PIN)).expect("enrols");
    drop(demo);

    let rotate = std::process::Command::new(env!("CARGO_BIN_EXE_fieldpost"))
        .args(["keys", "rotate-server", "--data-dir"])
        .arg(&data_dir)
        .output()
        .expect("runs");
    assert!(
        rotate.status.success(),
        "{}",
        String::from_utf8_lossy(&rotate.stderr)
    );
    let new_fingerprint = String::from_utf8_lossy(&rotate.stdout).trim().to_string();
    let demo = demo_server(&db, &listen);
    assert_eq!(
        demo.fingerprint, new_fingerprint,
        "new sheets print the new key"
    );

    let officials: Vec<_> = items(&core).into_iter().filter(|a| !a.reserve).collect();
    moved(&core, &officials[0]);
    let st = core
        .sync(|_| {})
        .expect("the device follows the endorsed key");
    assert_eq!(st.acknowledged_interviews, 1);
    drop(demo);

    // A key with no endorsement (the key file replaced, the chain gone): nothing is trusted.
    std::fs::remove_file(data_dir.join("server-signing-key.pk8")).expect("key file");
    std::fs::remove_file(data_dir.join("server-signing-endorsements.txt")).expect("chain");
    let _demo = demo_server(&db, &listen);
    moved(&core, &officials[1]);
    let e = core.sync(|_| {}).expect_err("an unknown key");
    assert_eq!(e.code, ErrorCode::ServerNotTrusted, "{e}");
    assert_eq!(core.sync_status().expect("status").pending_interviews, 1);
}

/// The recipients a device keeps are a store secret (AES-GCM under the data key, the name as
/// associated data): a copy edited outside the app is detected and never sealed to; with a
/// connection, the server's signed list replaces it.
#[test]
fn an_edited_recipient_list_is_detected_and_never_used() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("server.sqlite");
    let listen = free_address();
    let demo = demo_server(&db, &listen);
    let data = dir.path().join("device");
    let core = AppCore::new(&data);
    core.enrol(&demo.enrol_request(PIN)).expect("enrols");
    let officials: Vec<_> = items(&core).into_iter().filter(|a| !a.reserve).collect();
    moved(&core, &officials[0]);

    // Someone with the file swaps the recipients row for one of their own making.
    let file = data.join(fieldpost_app_core::STORE_FILE);
    {
        let mut store = fieldpost_store::Store::open(&file).expect("opens");
        let forged = "00".repeat(80);
        store
            .set_setting("secret.recipients", Some(&forged))
            .expect("the row is edited");
    }
    // Offline, nothing can be sealed: the edited list is refused, not used.
    drop(demo);
    let e = core.sync(|_| {}).expect_err("the edited list is detected");
    assert_eq!(e.code, ErrorCode::StoreTampered, "{e}");
    let store = fieldpost_store::Store::open_unlocked(&file, PIN).expect("opens");
    assert!(
        store.outbox().expect("outbox").is_empty(),
        "nothing was sealed"
    );
    drop(store);

    // Online, the server's signed list replaces it and the interview goes.
    let _demo = demo_server(&db, &listen);
    let st = core.sync(|_| {}).expect("syncs with the server's list");
    assert_eq!(st.acknowledged_interviews, 1);
}

/// One engine, one compiled form: the device runs the server's compiled form, and a form its
/// engine cannot run (a newer compiled-form schema) is refused at download, in words that say
/// "update the app", not later as a refused batch.
#[test]
fn a_compiled_form_the_app_cannot_run_is_refused_at_download() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("server.sqlite");
    let listen = free_address();
    let demo = demo_server(&db, &listen);
    drop(demo);
    {
        let con = rusqlite::Connection::open(&db).expect("server database");
        let changed = con
            .execute(
                "UPDATE questionnaire SET compiled = replace(compiled, '\"schema_version\": 1,', '\"schema_version\": 99,')",
                [],
            )
            .expect("edits the compiled form");
        assert_eq!(changed, 1);
    }
    let demo = demo_server(&db, &listen);
    let core = AppCore::new(dir.path().join("device"));
    let e = core
        .enrol(&demo.enrol_request(PIN))
        .expect_err("the app cannot run schema 99");
    assert_eq!(e.code, ErrorCode::QuestionnaireUnsupported, "{e}");
    assert!(e.detail.contains("update the app"), "{e}");
}
