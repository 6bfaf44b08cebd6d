//! FieldPost's user interface: Leptos, client-side rendered, compiled to WebAssembly.
//!
//! The UI only translates and displays. Every decision lives in the Rust crates behind the
//! [`ipc`] boundary (the app core, reached through Tauri's IPC, or an HTTP bridge in browser tests),
//! so that tests can call the same functions without a screen.

mod app;
mod i18n;
mod ipc;
mod markup;
mod screens;
mod search;

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(app::App);
}
