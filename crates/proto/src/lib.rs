//! Wire types shared by FieldPost's parts.
//!
//! Two wires cross this crate: the app's own IPC (UI <-> app core, see [`app`]) and, later, the
//! HTTP API between devices and the collection server. Both sides depend on the same definitions, so
//! a renamed field is a compile error rather than a silent `null`. Everything here is plain serde
//! data with no I/O, so it compiles for the WebAssembly UI as well as for native code.

pub mod app;
pub mod v1;
