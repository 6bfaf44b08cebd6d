//! `fieldpost`: the one binary for HQ and engineers.
//!
//! Each subcommand lives in its own module and is a thin shell over a library crate: parse the
//! arguments, call the crate, print the result. Exit codes: 0 success, 1 "checked and found wanting"
//! (an invalid form, an interview that cannot be completed), 2 usage or load errors.

mod archive_cmd;
mod form_cmd;
mod keys_cmd;
mod rebuild_cmd;
mod serve_cmd;
mod simulate_cmd;
mod stats_cmd;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "fieldpost",
    version,
    about = "FieldPost: offline field surveys"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Questionnaires: check, compile, list fields, run a scripted interview.
    #[command(subcommand)]
    Form(form_cmd::FormCommand),
    /// Run the collection server (SQLite file or PostgreSQL; --demo seeds a try-out survey).
    Serve(serve_cmd::ServeArgs),
    /// Print the server database's counts by status as `<key> <value>` lines.
    Stats(stats_cmd::StatsArgs),
    /// Rebuild the server database's ingested data from the batch archive.
    Rebuild(rebuild_cmd::RebuildArgs),
    /// Simulate enumerators' devices against a `serve --demo` server.
    Simulate(simulate_cmd::SimulateArgs),
    /// Keys: recipient key pairs (server, escrow) and device signing keys.
    #[command(subcommand)]
    Keys(keys_cmd::KeysCommand),
    /// The batch archive: open sealed batches offline with the server or escrow key.
    #[command(subcommand)]
    Archive(archive_cmd::ArchiveCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Structured logs on stderr (RUST_LOG, default info): the server's one line per request.
    fieldpost_server::logging::init();
    match cli.command {
        Command::Form(cmd) => form_cmd::run(cmd),
        Command::Serve(args) => serve_cmd::run(args),
        Command::Stats(args) => stats_cmd::run(args),
        Command::Rebuild(args) => rebuild_cmd::run(args),
        Command::Simulate(args) => simulate_cmd::run(args),
        Command::Keys(cmd) => keys_cmd::run(cmd),
        Command::Archive(cmd) => archive_cmd::run(cmd),
    }
}
