//! `fieldpost-server`: the same as `fieldpost serve`, as its own small binary.

use clap::Parser;
use fieldpost_server::cli::{ServeArgs, run_serve};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "fieldpost-server",
    version,
    about = "FieldPost collection server"
)]
struct Cli {
    #[command(flatten)]
    serve: ServeArgs,
}

fn main() -> ExitCode {
    fieldpost_server::logging::init();
    run_serve(Cli::parse().serve)
}
