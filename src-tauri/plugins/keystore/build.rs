//! Links the Kotlin library in `android/` into the app's Gradle project (Tauri's plugin build
//! step). The plugin has no commands for the webview: only the app core calls it, from Rust.

const COMMANDS: &[&str] = &[];

fn main() {
    tauri_plugin::Builder::new(COMMANDS)
        .android_path("android")
        .build();
}
