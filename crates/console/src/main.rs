//! FieldPost's console: HQ and provincial coordinators in a browser. Leptos, client-side
//! rendered to WebAssembly, served by `fieldpost serve` at `/` next to the API at `/api/v1`.
//!
//! The console only reads and asks: every rule (who sees which province, what a valid account
//! is) is the server's, so a console bug can show too little but never let anyone do more.

mod api;
mod app;
mod i18n;
mod logic;

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(app::App);
}
