//! The FieldPost app shell: a Tauri window around the Leptos UI.
//!
//! Deliberately thin: it finds the app-data folder, hands it to [`AppCore`], and registers the
//! core's functions as IPC commands. No domain logic lives here (see ARCHITECTURE.md).

// Release builds on Windows must not open a console window next to the app.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

use fieldpost_app_core::AppCore;
use fieldpost_proto::app::{CommandError, StoreInfo};
use tauri::Manager;

/// `FIELDPOST_DATA_DIR` overrides the platform's app-data folder, so tests and demos can run
/// against a throw-away store.
const DATA_DIR_ENV: &str = "FIELDPOST_DATA_DIR";

#[tauri::command(async)]
fn store_info(core: tauri::State<'_, AppCore>) -> Result<StoreInfo, CommandError> {
    core.store_info()
}

fn main() {
    tauri::Builder::default()
        .setup(|app| {
            let data_dir = match std::env::var_os(DATA_DIR_ENV) {
                Some(dir) => dir.into(),
                None => app.path().app_data_dir()?,
            };
            app.manage(AppCore::new(data_dir));
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![store_info])
        .run(tauri::generate_context!())
        .unwrap_or_else(|e| {
            eprintln!("FieldPost could not start: {e}");
            std::process::exit(1);
        });
}
