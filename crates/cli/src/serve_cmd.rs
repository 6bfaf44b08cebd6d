//! `fieldpost serve`: the collection server (arguments and start-up live in `fieldpost-server`).

pub use fieldpost_server::cli::ServeArgs;
use std::process::ExitCode;

pub fn run(args: ServeArgs) -> ExitCode {
    fieldpost_server::cli::run_serve(args)
}
