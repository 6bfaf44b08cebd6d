//! The FieldPost app shell: a Tauri window around the Leptos UI.
//!
//! Deliberately thin: it finds the app-data folder, hands it to [`AppCore`], and registers the
//! core's functions as IPC commands, each run on a blocking thread (they touch SQLite and the
//! network). No domain logic lives here (see ARCHITECTURE.md).

// Release builds on Windows must not open a console window next to the app.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

use fieldpost_app_core::AppCore;
use fieldpost_proto::app::{
    AppStatus, AssignmentList, CommandError, EnrolRequest, GpsFix, Language, NonResponseRequest,
    NonResponseResult, Review, ScreenView, StoreInfo, SyncStatus, commands,
};
use tauri::{Emitter, Manager, State};
use uuid::Uuid;

/// `FIELDPOST_DATA_DIR` overrides the platform's app-data folder, so tests and demos can run
/// against a throw-away store.
const DATA_DIR_ENV: &str = "FIELDPOST_DATA_DIR";
/// `FIELDPOST_SERVER_URL` is the server address the enrol screen offers.
const SERVER_URL_ENV: &str = "FIELDPOST_SERVER_URL";

type Reply<T> = Result<T, CommandError>;

/// Runs a core command off the UI thread.
async fn run<T: Send + 'static>(
    core: &State<'_, AppCore>,
    f: impl FnOnce(AppCore) -> Reply<T> + Send + 'static,
) -> Reply<T> {
    let core = core.inner().clone();
    tauri::async_runtime::spawn_blocking(move || f(core))
        .await
        .unwrap_or_else(|e| {
            Err(CommandError::new(
                fieldpost_proto::app::ErrorCode::Internal,
                e.to_string(),
            ))
        })
}

#[tauri::command]
async fn store_info(core: State<'_, AppCore>) -> Reply<StoreInfo> {
    run(&core, |c| c.store_info()).await
}
#[tauri::command]
async fn app_status(core: State<'_, AppCore>) -> Reply<AppStatus> {
    run(&core, |c| c.app_status()).await
}
#[tauri::command]
async fn enrol(core: State<'_, AppCore>, request: EnrolRequest) -> Reply<AppStatus> {
    run(&core, move |c| c.enrol(&request)).await
}
#[tauri::command]
async fn unlock(core: State<'_, AppCore>, pin: String) -> Reply<AppStatus> {
    run(&core, move |c| c.unlock(&pin)).await
}
#[tauri::command]
async fn lock(core: State<'_, AppCore>) -> Reply<AppStatus> {
    run(&core, |c| c.lock_store()).await
}
#[tauri::command]
async fn change_pin(
    core: State<'_, AppCore>,
    old_pin: String,
    new_pin: String,
) -> Reply<AppStatus> {
    run(&core, move |c| c.change_pin(&old_pin, &new_pin)).await
}
#[tauri::command]
async fn idle_check(core: State<'_, AppCore>) -> Reply<AppStatus> {
    run(&core, |c| c.idle_check()).await
}
#[tauri::command]
async fn set_auto_lock(core: State<'_, AppCore>, minutes: u32) -> Reply<AppStatus> {
    run(&core, move |c| c.set_auto_lock_minutes(minutes)).await
}
#[tauri::command]
async fn set_language(core: State<'_, AppCore>, language: Language) -> Reply<AppStatus> {
    run(&core, move |c| c.set_language(language)).await
}
#[tauri::command]
async fn assignments(core: State<'_, AppCore>) -> Reply<AssignmentList> {
    run(&core, |c| c.assignments()).await
}
#[tauri::command]
async fn open_interview(core: State<'_, AppCore>, assignment_id: Uuid) -> Reply<ScreenView> {
    run(&core, move |c| c.open_interview(assignment_id)).await
}
#[tauri::command]
async fn show_screen(
    core: State<'_, AppCore>,
    interview_id: Uuid,
    index: usize,
) -> Reply<ScreenView> {
    run(&core, move |c| c.show_screen(interview_id, index)).await
}
#[tauri::command]
async fn set_answer(
    core: State<'_, AppCore>,
    interview_id: Uuid,
    path: String,
    value: serde_json::Value,
) -> Reply<ScreenView> {
    run(&core, move |c| c.set_answer(interview_id, &path, &value)).await
}
#[tauri::command]
async fn add_row(
    core: State<'_, AppCore>,
    interview_id: Uuid,
    repeat: String,
) -> Reply<ScreenView> {
    run(&core, move |c| c.add_row(interview_id, &repeat)).await
}
#[tauri::command]
async fn remove_row(
    core: State<'_, AppCore>,
    interview_id: Uuid,
    row: String,
) -> Reply<ScreenView> {
    run(&core, move |c| c.remove_row(interview_id, &row)).await
}
#[tauri::command]
async fn review(core: State<'_, AppCore>, interview_id: Uuid) -> Reply<Review> {
    run(&core, move |c| c.review(interview_id)).await
}
#[tauri::command]
async fn complete(core: State<'_, AppCore>, interview_id: Uuid) -> Reply<AssignmentList> {
    run(&core, move |c| c.complete(interview_id)).await
}
#[tauri::command]
async fn non_response(
    core: State<'_, AppCore>,
    request: NonResponseRequest,
) -> Reply<NonResponseResult> {
    run(&core, move |c| c.non_response(&request)).await
}
#[tauri::command]
async fn record_gps(core: State<'_, AppCore>, interview_id: Uuid, fix: GpsFix) -> Reply<()> {
    run(&core, move |c| c.record_gps(interview_id, fix)).await
}
#[tauri::command]
async fn sync_status(core: State<'_, AppCore>) -> Reply<SyncStatus> {
    run(&core, |c| c.sync_status()).await
}
#[tauri::command]
async fn sync(app: tauri::AppHandle, core: State<'_, AppCore>) -> Reply<SyncStatus> {
    run(&core, move |c| {
        c.sync(|p| {
            // A lost progress event only leaves the bar behind; the result still arrives.
            let _ = app.emit(commands::SYNC_PROGRESS_EVENT, p);
        })
    })
    .await
}

fn main() {
    tauri::Builder::default()
        .setup(|app| {
            let data_dir = match std::env::var_os(DATA_DIR_ENV) {
                Some(dir) => dir.into(),
                None => app.path().app_data_dir()?,
            };
            let server = std::env::var(SERVER_URL_ENV).ok();
            app.manage(AppCore::new(data_dir).with_default_server(server));
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![
            store_info,
            app_status,
            enrol,
            unlock,
            lock,
            change_pin,
            idle_check,
            set_auto_lock,
            set_language,
            assignments,
            open_interview,
            show_screen,
            set_answer,
            add_row,
            remove_row,
            review,
            complete,
            non_response,
            record_gps,
            sync_status,
            sync
        ])
        .run(tauri::generate_context!())
        .unwrap_or_else(|e| {
            eprintln!("FieldPost could not start: {e}");
            std::process::exit(1);
        });
}
