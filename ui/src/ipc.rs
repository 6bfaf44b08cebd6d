//! The one door from the UI to the app core.
//!
//! Inside the app, Tauri injects `window.__TAURI__.core.invoke` (with `withGlobalTauri`). In a
//! browser test a stand-in with the same shape forwards calls over HTTP to the same Rust functions.
//! Either way, arguments and results are the serde types of `fieldpost_proto::app`.

use fieldpost_proto::app::{CommandError, ErrorCode, StoreInfo};
use serde::de::DeserializeOwned;
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(catch, js_namespace = ["window", "__TAURI__", "core"], js_name = invoke)]
    async fn tauri_invoke(cmd: &str, args: JsValue) -> Result<JsValue, JsValue>;
}

/// Calls a core command and decodes its result or its [`CommandError`].
async fn invoke<T: DeserializeOwned>(cmd: &str, args: JsValue) -> Result<T, CommandError> {
    match tauri_invoke(cmd, args).await {
        Ok(v) => serde_wasm_bindgen::from_value(v).map_err(|e| internal(cmd, e.to_string())),
        Err(e) => Err(serde_wasm_bindgen::from_value::<CommandError>(e.clone())
            .unwrap_or_else(|_| internal(cmd, format!("{e:?}")))),
    }
}

fn internal(cmd: &str, detail: String) -> CommandError {
    CommandError {
        code: ErrorCode::Internal,
        detail: format!("{cmd}: {detail}"),
    }
}

/// Opens (creating and migrating when needed) the device store and reports what it found.
pub async fn store_info() -> Result<StoreInfo, CommandError> {
    invoke("store_info", JsValue::UNDEFINED).await
}
