//! A scripted interview through the form engine alone, printing what `fieldpost form run` prints:
//!
//!     cargo run -p fieldpost-form --example form_run -- FORM.xlsx ANSWERS.json
//!
//! `PATH<TAB>RELEVANT<TAB>VALUE` per field instance (meta skipped), then
//! `ERROR<TAB>PATH<TAB>MESSAGE` per failure; exit 0 complete, 1 not, 2 when the form or a step
//! fails. scripts/check_form_engine.py runs it against JavaRosa; it lives here, next to the
//! engine, so that check needs only this crate built (not the CLI and the server behind it).

use fieldpost_form::{FixedEnvironment, Interview, Step, import_xlsform};
use std::collections::HashMap;
use std::process::ExitCode;

fn is_meta(path: &str) -> bool {
    path.split('/')
        .any(|seg| seg.split('[').next() == Some("meta"))
}

fn clean(s: &str) -> String {
    s.replace(['\t', '\n', '\r'], " ")
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [form, answers] = args.as_slice() else {
        eprintln!("usage: form_run FORM.xlsx ANSWERS.json");
        return ExitCode::from(2);
    };
    let loaded = (|| -> Result<_, String> {
        let bytes = std::fs::read(form).map_err(|e| format!("cannot read {form}: {e}"))?;
        let form = import_xlsform(&bytes)
            .map_err(|e| format!("{form}: {e}"))?
            .form;
        let text =
            std::fs::read_to_string(answers).map_err(|e| format!("cannot read {answers}: {e}"))?;
        let steps: Vec<Step> =
            serde_json::from_str(&text).map_err(|e| format!("{answers}: {e}"))?;
        Ok((form, steps))
    })();
    let (form, steps) = match loaded {
        Ok(x) => x,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let since_epoch = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    let Some(now) = chrono::DateTime::from_timestamp_millis(since_epoch) else {
        eprintln!("error: the clock is out of range");
        return ExitCode::from(2);
    };
    let env = FixedEnvironment::new(now.fixed_offset(), since_epoch as u64);
    let mut iv = match Interview::new(form, Box::new(env), &HashMap::new()) {
        Ok(iv) => iv,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    for (i, step) in steps.iter().enumerate() {
        if let Err(e) = iv.apply(step) {
            eprintln!("error: step {} cannot be applied: {e}", i + 1);
            return ExitCode::from(2);
        }
    }
    let mut out = String::new();
    for (_, path, relevant, value) in iv.record() {
        if !is_meta(&path) {
            out.push_str(&format!(
                "{path}\t{}\t{}\n",
                u8::from(relevant),
                clean(&value)
            ));
        }
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
