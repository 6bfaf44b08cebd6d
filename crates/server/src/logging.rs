//! The log output of the server binaries: one line per event on stderr, `RUST_LOG` filtering
//! (default `info`: one line per request, warnings and errors).
//!
//! What goes into events is chosen where they are made: method, route template (never the
//! path with its ids), status, duration, error kinds. Never request bodies, user names,
//! tokens, enrolment codes or answers; `tracing` makes that a matter of which fields each
//! event names, which is why it replaced `eprintln!` with its free-form strings.

use tracing_subscriber::EnvFilter;

/// Installs the subscriber; a second call (tests, a library user with its own) is a no-op.
pub fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}
