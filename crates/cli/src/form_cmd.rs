//! `fieldpost form ...`: check, compile, list fields of, and run an XLSForm questionnaire.
//!
//! A thin shell over `fieldpost-form`: this module reads files and prints; the crate decides.

use clap::Subcommand;
use fieldpost_form::{Form, import_xlsform};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum FormCommand {
    /// Check a workbook: print errors and warnings; exit 1 when it is invalid.
    Check {
        file: PathBuf,
        /// Folder with the form's attachments (CSV choice lists, pulldata files).
        #[arg(long)]
        media: Option<PathBuf>,
    },
    /// Compile a workbook to the JSON form the app loads.
    Compile {
        file: PathBuf,
        #[arg(short = 'o', long = "output")]
        output: PathBuf,
        #[arg(long)]
        media: Option<PathBuf>,
    },
    /// List the fields that store a value: `PATH<TAB>TYPE`, in document order.
    Fields {
        file: PathBuf,
        #[arg(long)]
        media: Option<PathBuf>,
    },
}

pub fn run(cmd: FormCommand) -> ExitCode {
    match cmd {
        FormCommand::Check { file, media } => check(&file, media.as_deref()),
        FormCommand::Compile {
            file,
            output,
            media,
        } => compile(&file, &output, media.as_deref()),
        FormCommand::Fields { file, media } => fields(&file, media.as_deref()),
    }
}

/// Loads a workbook (or an already compiled `.json` form). Errors are printed for a person.
pub fn load(file: &Path, _media: Option<&Path>) -> Result<(Form, Vec<String>), String> {
    let bytes = std::fs::read(file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    if file
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"))
    {
        let text = String::from_utf8(bytes)
            .map_err(|_| format!("{} is not UTF-8 text", file.display()))?;
        return Form::from_json(&text).map(|f| (f, Vec::new()));
    }
    let imported = import_xlsform(&bytes).map_err(|e| format!("{}: {e}", file.display()))?;
    let warnings = imported.warnings.iter().map(|w| w.to_string()).collect();
    Ok((imported.form, warnings))
}

fn check(file: &Path, media: Option<&Path>) -> ExitCode {
    match load(file, media) {
        Ok((form, warnings)) => {
            for w in &warnings {
                println!("warning: {w}");
            }
            if let Some(dir) = media {
                for a in &form.attachments {
                    if !dir.join(a).exists() {
                        println!("warning: attachment {a} is not in {}", dir.display());
                    }
                }
            }
            println!(
                "ok: {} fields, {} warnings",
                form.fields().count(),
                warnings.len()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            println!("error: {e}");
            ExitCode::from(1)
        }
    }
}

fn compile(file: &Path, output: &Path, media: Option<&Path>) -> ExitCode {
    match load(file, media) {
        Ok((form, warnings)) => {
            for w in &warnings {
                eprintln!("warning: {w}");
            }
            if let Err(e) = std::fs::write(output, form.to_json()) {
                eprintln!("error: cannot write {}: {e}", output.display());
                return ExitCode::from(2);
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}

fn fields(file: &Path, media: Option<&Path>) -> ExitCode {
    match load(file, media) {
        Ok((form, _)) => {
            let mut out = String::new();
            for (_, n) in form.fields() {
                out.push_str(&n.path);
                out.push('\t');
                out.push_str(&n.type_word);
                out.push('\n');
            }
            print!("{out}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}
