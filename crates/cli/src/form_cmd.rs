//! `fieldpost form ...`: check, compile, list fields of, and run an XLSForm questionnaire.
//!
//! A thin shell over `fieldpost-form`: this module reads files and prints; the crate decides.

use clap::Subcommand;
use fieldpost_form::{Answer, FixedEnvironment, Form, Interview, Step, import_xlsform};
use std::collections::HashMap;
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
    /// Run a scripted interview; print `PATH<TAB>RELEVANT<TAB>VALUE` per field instance, then
    /// `ERROR<TAB>PATH<TAB>MESSAGE` per failure. Exit 0 when complete, 1 when not, 2 when the
    /// form cannot be loaded or a step cannot be applied.
    Run {
        file: PathBuf,
        /// JSON list of steps: {"set": PATH, "value": V}, {"add_row": PATH}, {"remove_row": ROW_PATH}.
        #[arg(long)]
        answers: PathBuf,
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
        FormCommand::Run {
            file,
            answers,
            media,
        } => run_interview(&file, &answers, media.as_deref()),
    }
}

/// Loads a workbook (or an already compiled `.json` form). Errors are printed for a person.
pub fn load(file: &Path, _media: Option<&Path>) -> Result<(Form, Vec<String>), String> {
    load_checked(file).map(|(f, w, _)| (f, w))
}

/// Like [`load`], also returning the expressions FieldPost cannot evaluate.
fn load_checked(file: &Path) -> Result<(Form, Vec<String>, Vec<String>), String> {
    let bytes = std::fs::read(file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    if file
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"))
    {
        let text = String::from_utf8(bytes)
            .map_err(|_| format!("{} is not UTF-8 text", file.display()))?;
        return Form::from_json(&text).map(|f| (f, Vec::new(), Vec::new()));
    }
    let imported = import_xlsform(&bytes).map_err(|e| format!("{}: {e}", file.display()))?;
    let warnings = imported.warnings.iter().map(|w| w.to_string()).collect();
    let unreadable = imported.unreadable.iter().map(|w| w.to_string()).collect();
    Ok((imported.form, warnings, unreadable))
}

fn check(file: &Path, media: Option<&Path>) -> ExitCode {
    match load_checked(file) {
        Ok((form, warnings, unreadable)) => {
            for w in &warnings {
                println!("warning: {w}");
            }
            for e in &unreadable {
                println!("error: {e}");
            }
            if !unreadable.is_empty() {
                println!(
                    "invalid: {} expressions cannot be evaluated",
                    unreadable.len()
                );
                return ExitCode::from(1);
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

/// Files of the media folder, by name (CSV choice lists, pulldata sources).
fn read_media(dir: Option<&Path>) -> Result<HashMap<String, Vec<u8>>, String> {
    let mut out = HashMap::new();
    let Some(dir) = dir else { return Ok(out) };
    let entries = std::fs::read_dir(dir)
        .map_err(|e| format!("cannot read media folder {}: {e}", dir.display()))?;
    for e in entries.flatten() {
        let p = e.path();
        if p.is_file()
            && let Some(name) = p.file_name().and_then(|n| n.to_str())
        {
            let bytes =
                std::fs::read(&p).map_err(|e| format!("cannot read {}: {e}", p.display()))?;
            out.insert(name.to_string(), bytes);
        }
    }
    Ok(out)
}

/// Steps from the answers file; a malformed step names its position.
fn read_steps(path: &Path) -> Result<Vec<Step>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let json: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("{} is not JSON: {e}", path.display()))?;
    let list = json
        .as_array()
        .ok_or_else(|| format!("{} must hold a JSON list of steps", path.display()))?;
    let mut steps = Vec::new();
    for (i, s) in list.iter().enumerate() {
        let n = i + 1;
        let obj = s
            .as_object()
            .ok_or_else(|| format!("step {n} is not an object"))?;
        let text_of = |k: &str| obj.get(k).and_then(|v| v.as_str()).map(String::from);
        if let Some(p) = text_of("set") {
            let value = match obj.get("value") {
                None | Some(serde_json::Value::Null) => None,
                Some(serde_json::Value::Number(x)) => Some(Answer::Number(
                    x.as_f64()
                        .ok_or_else(|| format!("step {n}: number out of range"))?,
                )),
                Some(serde_json::Value::String(x)) => Some(Answer::Text(x.clone())),
                Some(serde_json::Value::Array(a)) => Some(Answer::List(
                    a.iter()
                        .map(|v| match v {
                            serde_json::Value::String(s) => Ok(s.clone()),
                            serde_json::Value::Number(x) => Ok(x.to_string()),
                            _ => Err(format!(
                                "step {n}: a list value holds choice names (strings)"
                            )),
                        })
                        .collect::<Result<_, _>>()?,
                )),
                Some(other) => {
                    return Err(format!(
                        "step {n}: value {other} is not a number, string, list or null"
                    ));
                }
            };
            steps.push(Step::Set { set: p, value });
        } else if let Some(p) = text_of("add_row") {
            steps.push(Step::AddRow { add_row: p });
        } else if let Some(p) = text_of("remove_row") {
            steps.push(Step::RemoveRow { remove_row: p });
        } else {
            return Err(format!(
                "step {n} has none of \"set\", \"add_row\", \"remove_row\""
            ));
        }
    }
    Ok(steps)
}

fn clean(s: &str) -> String {
    s.replace(['\t', '\n', '\r'], " ")
}

fn is_meta(path: &str) -> bool {
    path.split('/')
        .any(|seg| seg.split('[').next() == Some("meta"))
}

/// A loaded form, its attachments and the steps to apply.
type Prepared = (Form, HashMap<String, Vec<u8>>, Vec<Step>);

fn run_interview(file: &Path, answers: &Path, media: Option<&Path>) -> ExitCode {
    let prepared = (|| -> Result<Prepared, String> {
        let (form, _) = load(file, media)?;
        Ok((form, read_media(media)?, read_steps(answers)?))
    })();
    let (form, attachments, steps) = match prepared {
        Ok(x) => x,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let now = chrono::Utc::now().fixed_offset();
    let seed = now.timestamp_nanos_opt().unwrap_or(1) as u64;
    let mut iv = match Interview::new(
        form,
        Box::new(FixedEnvironment::new(now, seed)),
        &attachments,
    ) {
        Ok(iv) => iv,
        Err(e) => {
            eprintln!("error: {}: {e}", file.display());
            return ExitCode::from(2);
        }
    };
    for (i, step) in steps.iter().enumerate() {
        match iv.apply(step) {
            Ok(changes) => {
                for (path, e) in changes.eval_errors {
                    eprintln!("warning: step {}: {path}: {e}", i + 1);
                }
            }
            Err(e) => {
                eprintln!("error: step {} cannot be applied: {e}", i + 1);
                return ExitCode::from(2);
            }
        }
    }
    let mut out = String::new();
    for (_, path, relevant, value) in iv.record() {
        if is_meta(&path) {
            continue;
        }
        out.push_str(&format!(
            "{path}\t{}\t{}\n",
            if relevant { 1 } else { 0 },
            clean(&value)
        ));
    }
    let failures: Vec<_> = iv
        .validate()
        .into_iter()
        .filter(|f| !is_meta(&f.path))
        .collect();
    for f in &failures {
        out.push_str(&format!("ERROR\t{}\t{}\n", f.path, clean(&f.message)));
    }
    print!("{out}");
    if failures.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
