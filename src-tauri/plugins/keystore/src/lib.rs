//! The Android Keystore as a [`KeyProtector`] for the FieldPost store.
//!
//! The Kotlin half (`android/`, `KeystorePlugin.kt`) keeps one AES-256-GCM key in the
//! Android Keystore under the alias `fieldpost-store-key`, generated on the device, marked
//! non-exportable by the Keystore itself, and inside StrongBox (a separate secure chip)
//! when the phone has `PackageManager.FEATURE_STRONGBOX_KEYSTORE`, else in the TEE. It
//! wraps and unwraps the bytes it is given; the key never reaches the app's memory.
//!
//! What the store hands it is already the data key wrapped under the Argon2id(PIN) key, so
//! the Keystore never sees anything usable on its own, and a copy of the store file without
//! the phone cannot even start a PIN search.
//!
//! Wiring (Android only; see the store's README, "Android"):
//! ```ignore
//! .plugin(tauri_plugin_fieldpost_keystore::init())
//! .setup(|app| {
//!     let protector = app.state::<tauri_plugin_fieldpost_keystore::Keystore<tauri::Wry>>();
//!     let core = AppCore::new(dir).with_key_protector(std::sync::Arc::new(protector.inner().clone()));
//!     ...
//! })
//! ```

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use fieldpost_store::{KeyProtector, ProtectorError};
use serde::{Deserialize, Serialize};
#[cfg(target_os = "android")]
use tauri::Manager;
use tauri::Runtime;
use tauri::plugin::{Builder, TauriPlugin};

/// The name the store records in its keyring row for this protector.
pub const PROTECTOR_NAME: &str = "android-keystore";

/// The Kotlin class's package (Gradle namespace) and name.
#[cfg(target_os = "android")]
const PLUGIN_IDENTIFIER: &str = "org.fieldpost.keystore";
#[cfg(target_os = "android")]
const PLUGIN_CLASS: &str = "KeystorePlugin";

/// Bytes across the bridge: base64 text (what Jackson reads into a `ByteArray`).
#[derive(Serialize, Deserialize)]
struct Bytes {
    data: String,
}

/// The plugin's handle, managed by the app on Android: clone it into the app core.
pub struct Keystore<R: Runtime> {
    #[cfg(target_os = "android")]
    handle: tauri::plugin::PluginHandle<R>,
    #[cfg(not(target_os = "android"))]
    _runtime: std::marker::PhantomData<fn() -> R>,
}

impl<R: Runtime> Clone for Keystore<R> {
    fn clone(&self) -> Self {
        Self {
            #[cfg(target_os = "android")]
            handle: self.handle.clone(),
            #[cfg(not(target_os = "android"))]
            _runtime: std::marker::PhantomData,
        }
    }
}

impl<R: Runtime> Keystore<R> {
    fn call(&self, command: &str, input: &[u8]) -> Result<Vec<u8>, ProtectorError> {
        let request = Bytes {
            data: B64.encode(input),
        };
        #[cfg(target_os = "android")]
        {
            let reply: Bytes = self
                .handle
                .run_mobile_plugin(command, request)
                .map_err(|e| ProtectorError(format!("Android Keystore {command}: {e}")))?;
            B64.decode(reply.data.as_bytes())
                .map_err(|e| ProtectorError(format!("Android Keystore {command} reply: {e}")))
        }
        #[cfg(not(target_os = "android"))]
        {
            let _ = request;
            Err(ProtectorError(format!(
                "{command}: the Android Keystore exists only on Android"
            )))
        }
    }
}

impl<R: Runtime> KeyProtector for Keystore<R> {
    fn name(&self) -> &str {
        PROTECTOR_NAME
    }
    fn wrap(&self, plain: &[u8]) -> Result<Vec<u8>, ProtectorError> {
        self.call("wrap", plain)
    }
    fn unwrap(&self, wrapped: &[u8]) -> Result<Vec<u8>, ProtectorError> {
        self.call("unwrap", wrapped)
    }
}

/// The plugin: registers the Kotlin class on Android and manages a [`Keystore`] handle.
/// Elsewhere it manages nothing, so `app.try_state::<Keystore<_>>()` is `None` and the
/// store works with the PIN alone.
pub fn init<R: Runtime>() -> TauriPlugin<R> {
    Builder::new("fieldpost-keystore")
        .setup(|app, api| {
            #[cfg(target_os = "android")]
            {
                let handle = api.register_android_plugin(PLUGIN_IDENTIFIER, PLUGIN_CLASS)?;
                app.manage(Keystore { handle });
            }
            #[cfg(not(target_os = "android"))]
            let _ = (app, api);
            Ok(())
        })
        .build()
}
