//! The one door from the UI to the app core: one typed async function per command.
//!
//! Inside the app, Tauri injects `window.__TAURI__.core.invoke` (with `withGlobalTauri`). In a
//! browser test a stand-in with the same shape forwards calls over HTTP to the same Rust functions.
//! Either way, arguments and results are the serde types of `fieldpost_proto::app`, and argument
//! names are the camelCase ones Tauri expects (see `fieldpost_proto::app::commands`).

use fieldpost_proto::app::commands as cmd;
use fieldpost_proto::app::{
    AppStatus, AssignmentList, CommandError, EnrolRequest, ErrorCode, GpsFix, Language,
    NonResponseRequest, NonResponseResult, Review, ScreenView, SyncProgress, SyncStatus,
};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use uuid::Uuid;
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(catch, js_namespace = ["window", "__TAURI__", "core"], js_name = invoke)]
    async fn tauri_invoke(cmd: &str, args: JsValue) -> Result<JsValue, JsValue>;

    #[wasm_bindgen(catch, js_namespace = ["window", "__TAURI__", "event"], js_name = listen)]
    async fn tauri_listen(
        event: &str,
        handler: &Closure<dyn FnMut(JsValue)>,
    ) -> Result<JsValue, JsValue>;
}

thread_local! {
    /// What to do when the core says it is locked (it may lock itself while the app sleeps).
    static ON_LOCKED: std::cell::RefCell<Option<Box<dyn Fn()>>> = const { std::cell::RefCell::new(None) };
}

/// Sets what happens when any command finds the store locked: the shell routes to the PIN.
pub fn on_locked(f: impl Fn() + 'static) {
    ON_LOCKED.with(|cell| *cell.borrow_mut() = Some(Box::new(f)));
}

/// Calls a core command and decodes its result or its [`CommandError`].
async fn invoke<T: DeserializeOwned>(name: &str, args: Value) -> Result<T, CommandError> {
    let r = invoke_raw(name, args).await;
    if matches!(&r, Err(e) if e.code == ErrorCode::Locked) && name != cmd::UNLOCK {
        ON_LOCKED.with(|cell| {
            if let Some(f) = cell.borrow().as_ref() {
                f();
            }
        });
    }
    r
}

async fn invoke_raw<T: DeserializeOwned>(name: &str, args: Value) -> Result<T, CommandError> {
    // JSON-compatible: objects become plain JS objects (not `Map`), which is what Tauri reads.
    let ser = serde_wasm_bindgen::Serializer::json_compatible();
    let args = args
        .serialize(&ser)
        .map_err(|e| internal(name, e.to_string()))?;
    match tauri_invoke(name, args).await {
        Ok(v) => serde_wasm_bindgen::from_value(v).map_err(|e| internal(name, e.to_string())),
        Err(e) => Err(serde_wasm_bindgen::from_value::<CommandError>(e.clone())
            .unwrap_or_else(|_| internal(name, format!("{e:?}")))),
    }
}

fn internal(name: &str, detail: String) -> CommandError {
    CommandError {
        code: ErrorCode::Internal,
        detail: format!("{name}: {detail}"),
    }
}

fn no_args() -> Value {
    json!({})
}

pub async fn app_status() -> Result<AppStatus, CommandError> {
    invoke(cmd::APP_STATUS, no_args()).await
}

pub async fn enrol(request: &EnrolRequest) -> Result<AppStatus, CommandError> {
    invoke(cmd::ENROL, json!({ "request": request })).await
}

pub async fn unlock(pin: &str) -> Result<AppStatus, CommandError> {
    invoke(cmd::UNLOCK, json!({ "pin": pin })).await
}

pub async fn lock() -> Result<AppStatus, CommandError> {
    invoke(cmd::LOCK, no_args()).await
}

/// Locks the store if the idle time has passed (the core decides); no sign of use.
pub async fn idle_check() -> Result<AppStatus, CommandError> {
    invoke(cmd::IDLE_CHECK, no_args()).await
}

pub async fn set_auto_lock(minutes: u32) -> Result<AppStatus, CommandError> {
    invoke(cmd::SET_AUTO_LOCK, json!({ "minutes": minutes })).await
}

pub async fn set_language(language: Language) -> Result<AppStatus, CommandError> {
    invoke(cmd::SET_LANGUAGE, json!({ "language": language })).await
}

pub async fn assignments() -> Result<AssignmentList, CommandError> {
    invoke(cmd::ASSIGNMENTS, no_args()).await
}

pub async fn open_interview(assignment_id: Uuid) -> Result<ScreenView, CommandError> {
    invoke(
        cmd::OPEN_INTERVIEW,
        json!({ "assignmentId": assignment_id }),
    )
    .await
}

pub async fn show_screen(interview_id: Uuid, index: usize) -> Result<ScreenView, CommandError> {
    invoke(
        cmd::SHOW_SCREEN,
        json!({ "interviewId": interview_id, "index": index }),
    )
    .await
}

/// `value`: a JSON string, a number, an array of strings (select_multiple), or null to clear.
pub async fn set_answer(
    interview_id: Uuid,
    path: &str,
    value: Value,
) -> Result<ScreenView, CommandError> {
    invoke(
        cmd::SET_ANSWER,
        json!({ "interviewId": interview_id, "path": path, "value": value }),
    )
    .await
}

pub async fn add_row(interview_id: Uuid, repeat: &str) -> Result<ScreenView, CommandError> {
    invoke(
        cmd::ADD_ROW,
        json!({ "interviewId": interview_id, "repeat": repeat }),
    )
    .await
}

pub async fn remove_row(interview_id: Uuid, row: &str) -> Result<ScreenView, CommandError> {
    invoke(
        cmd::REMOVE_ROW,
        json!({ "interviewId": interview_id, "row": row }),
    )
    .await
}

pub async fn review(interview_id: Uuid) -> Result<Review, CommandError> {
    invoke(cmd::REVIEW, json!({ "interviewId": interview_id })).await
}

pub async fn complete(interview_id: Uuid) -> Result<AssignmentList, CommandError> {
    invoke(cmd::COMPLETE, json!({ "interviewId": interview_id })).await
}

pub async fn non_response(request: &NonResponseRequest) -> Result<NonResponseResult, CommandError> {
    invoke(cmd::NON_RESPONSE, json!({ "request": request })).await
}

pub async fn record_gps(interview_id: Uuid, fix: GpsFix) -> Result<(), CommandError> {
    invoke(
        cmd::RECORD_GPS,
        json!({ "interviewId": interview_id, "fix": fix }),
    )
    .await
}

pub async fn sync_status() -> Result<SyncStatus, CommandError> {
    invoke(cmd::SYNC_STATUS, no_args()).await
}

pub async fn sync() -> Result<SyncStatus, CommandError> {
    invoke(cmd::SYNC, no_args()).await
}

/// Calls `on_progress` for every `sync-progress` event, for the life of the page. Returns false
/// when there is no Tauri event bus (a plain browser): the bar then only shows start and end.
pub async fn listen_sync_progress(mut on_progress: impl FnMut(SyncProgress) + 'static) -> bool {
    let handler = Closure::<dyn FnMut(JsValue)>::new(move |event: JsValue| {
        let payload = js_sys::Reflect::get(&event, &JsValue::from_str("payload")).ok();
        if let Some(p) = payload.and_then(|v| serde_wasm_bindgen::from_value(v).ok()) {
            on_progress(p);
        }
    });
    let ok = tauri_listen(cmd::SYNC_PROGRESS_EVENT, &handler)
        .await
        .is_ok();
    // The listener lives as long as the page: the closure must too.
    handler.forget();
    ok
}
