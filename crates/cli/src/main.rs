//! `fieldpost`: the one binary for HQ and engineers.
//!
//! Each subcommand lives in its own module and is a thin shell over a library crate: parse the
//! arguments, call the crate, print the result. Exit codes: 0 success, 1 "checked and found wanting"
//! (an invalid form, an interview that cannot be completed), 2 usage or load errors.

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "fieldpost", version, about = "FieldPost: offline field surveys")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {}
}
