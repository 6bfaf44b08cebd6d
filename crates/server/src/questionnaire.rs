//! Loading a questionnaire version: the uploaded XLSForm is compiled by `fieldpost-form` before
//! it is stored, so a workbook devices could not run never reaches them, and ingest has the
//! compiled form to check answers against ([`crate::answers`]). The admin upload and
//! `serve --demo` both go through [`load_questionnaire`].

use crate::auth;
use crate::storage::{Storage, StorageError};
use fieldpost_proto::v1::QuestionnaireVersion;
use thiserror::Error;
use uuid::Uuid;

/// At most this many problems are listed in a refusal: enough to fix a workbook in rounds,
/// short enough to read.
const LISTED_PROBLEMS: usize = 5;

#[derive(Debug, Error)]
pub enum QuestionnaireError {
    /// The workbook does not compile, or compiles into a form FieldPost cannot run. The message
    /// names the sheet, row and column when the compiler knows them.
    #[error("the questionnaire was not loaded: {0}")]
    Invalid(String),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// Compiles an XLSForm workbook into the compiled-form JSON devices and ingest use, with the
/// compiler's warnings (which do not stop the upload).
pub fn compile(xlsform: &[u8]) -> Result<(String, Vec<String>), QuestionnaireError> {
    let imported = fieldpost_form::import_xlsform(xlsform)
        .map_err(|e| QuestionnaireError::Invalid(format!("the XLSForm does not compile: {e}")))?;
    if !imported.unreadable.is_empty() {
        let listed: Vec<String> = imported
            .unreadable
            .iter()
            .take(LISTED_PROBLEMS)
            .map(ToString::to_string)
            .collect();
        let more = imported.unreadable.len().saturating_sub(LISTED_PROBLEMS);
        let tail = if more > 0 {
            format!(" (and {more} more)")
        } else {
            String::new()
        };
        return Err(QuestionnaireError::Invalid(format!(
            "the XLSForm compiles, but devices could not evaluate these expressions: {}{tail}",
            listed.join("; ")
        )));
    }
    let warnings = imported.warnings.iter().map(ToString::to_string).collect();
    Ok((imported.form.to_json(), warnings))
}

/// Stores `xlsform` as `version` of a survey, compiled. Versions are immutable, and that is
/// checked first: the same bytes again are a no-op (not compiled again), other bytes under an
/// existing version are a conflict whatever they contain. Only a new version is compiled; one
/// that does not compile is refused and nothing is stored.
pub fn load_questionnaire(
    storage: &Storage,
    survey_id: Uuid,
    version: &str,
    xlsform: &[u8],
) -> Result<QuestionnaireVersion, QuestionnaireError> {
    let sha256 = auth::token_hash_bytes(xlsform);
    let compiled = match storage.questionnaire_sha(survey_id, version)? {
        // put_questionnaire answers both cases (no-op or conflict) inside its transaction.
        Some(_) => None,
        None => Some(compile(xlsform)?),
    };
    let (json, warnings) = match compiled {
        Some((json, warnings)) => (Some(json), warnings),
        None => (None, Vec::new()),
    };
    let mut stored =
        storage.put_questionnaire(survey_id, version, xlsform, &sha256, json.as_deref())?;
    stored.warnings = warnings;
    Ok(stored)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sipas() -> Vec<u8> {
        std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../assets/forms/sipas-2024.xlsx"
        ))
        .expect("SIPAS workbook")
    }

    #[test]
    fn the_sipas_workbook_compiles_into_a_form() {
        let (json, _) = compile(&sipas()).expect("compiles");
        let form = fieldpost_form::Form::from_json(&json).expect("reads back");
        assert!(form.node_by_path("phan_a/tinh").is_some());
    }

    #[test]
    fn a_workbook_that_is_not_a_form_is_refused_with_a_reason() {
        let err = compile(b"PK\x03\x04 not really a zip").expect_err("refused");
        let QuestionnaireError::Invalid(msg) = err else {
            panic!("{err:?}")
        };
        assert!(msg.contains("does not compile"), "{msg}");
    }
}
