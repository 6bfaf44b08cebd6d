//! Column headers: case, aliases and `::` groups, as pyxform reads them.
//!
//! A header becomes a token path: `label::Tiếng Việt (vi)` is `["label", "Tiếng Việt (vi)"]`,
//! `relevance` is `["bind", "relevant"]`, `image::English` is `["media", "image", "English"]`.
//! Headers are matched case-insensitively (`Label`, `LABEL`) with spaces read as underscores
//! (`repeat count`). Unknown headers are kept as written, because choice filters refer to
//! choice-sheet columns by their exact names.

use crate::error::ImportError;

/// Which sheet a header belongs to; each has its own columns and aliases.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SheetKind {
    Survey,
    Choices,
    Settings,
}

const SURVEY_COLUMNS: &[&str] = &[
    "type",
    "name",
    "label",
    "hint",
    "guidance_hint",
    "media",
    "bind",
    "control",
    "instance",
    "choice_filter",
    "default",
    "parameters",
    "trigger",
    "list_name",
    "query",
    "itemset",
    "choices",
    "sms_field",
    "actions",
    "extra_data",
];

const SURVEY_ALIASES: &[(&str, &[&str])] = &[
    ("read_only", &["bind", "readonly"]),
    ("readonly", &["bind", "readonly"]),
    ("relevant", &["bind", "relevant"]),
    ("relevance", &["bind", "relevant"]),
    ("caption", &["label"]),
    ("appearance", &["control", "appearance"]),
    ("required", &["bind", "required"]),
    ("constraint", &["bind", "constraint"]),
    ("constraining_message", &["bind", "jr:constraintMsg"]),
    ("constraint_message", &["bind", "jr:constraintMsg"]),
    ("calculation", &["bind", "calculate"]),
    ("calculate", &["bind", "calculate"]),
    ("command", &["type"]),
    ("tag", &["name"]),
    ("value", &["name"]),
    ("image", &["media", "image"]),
    ("big-image", &["media", "big-image"]),
    ("audio", &["media", "audio"]),
    ("video", &["media", "video"]),
    ("count", &["control", "jr:count"]),
    ("repeat_count", &["control", "jr:count"]),
    ("jr:count", &["control", "jr:count"]),
    ("autoplay", &["control", "autoplay"]),
    ("rows", &["control", "rows"]),
    ("noapperrorstring", &["bind", "jr:noAppErrorString"]),
    ("no_app_error_string", &["bind", "jr:noAppErrorString"]),
    ("requiredmsg", &["bind", "jr:requiredMsg"]),
    ("required_message", &["bind", "jr:requiredMsg"]),
    ("body", &["control"]),
    ("save_to", &["bind", "entities:saveto"]),
    ("compact_tag", &["instance", "odk:tag"]),
];

const CHOICE_COLUMNS: &[&str] = &["label", "media", "name", "extra_data", "sms_option"];

const CHOICE_ALIASES: &[(&str, &[&str])] = &[
    ("caption", &["label"]),
    ("list_name", &["list name"]),
    ("value", &["name"]),
    ("image", &["media", "image"]),
    ("big-image", &["media", "big-image"]),
    ("audio", &["media", "audio"]),
    ("video", &["media", "video"]),
];

const SETTINGS_COLUMNS: &[&str] = &[
    "add_none_option",
    "allow_choice_duplicates",
    "attribute",
    "auto_delete",
    "auto_send",
    "bind",
    "clean_text_values",
    "client_editable",
    "control",
    "default_language",
    "delimiter",
    "entity_version",
    "file_name",
    "flat",
    "hint",
    "id_string",
    "instance",
    "instance_name",
    "instance_xmlns",
    "label",
    "media",
    "name",
    "namespaces",
    "omit_instanceID",
    "prefix",
    "public_key",
    "sms_allow_media",
    "sms_date_format",
    "sms_datetime_format",
    "sms_field",
    "sms_keyword",
    "sms_response",
    "sms_separator",
    "style",
    "submission_url",
    "title",
    "type",
    "version",
];

const SETTINGS_ALIASES: &[(&str, &[&str])] = &[
    ("form_title", &["title"]),
    ("set_form_title", &["title"]),
    ("form_id", &["id_string"]),
    ("set_form_id", &["id_string"]),
    ("prefix", &["compact_prefix"]),
];

fn tables(
    kind: SheetKind,
) -> (
    &'static [&'static str],
    &'static [(&'static str, &'static [&'static str])],
) {
    match kind {
        SheetKind::Survey => (SURVEY_COLUMNS, SURVEY_ALIASES),
        SheetKind::Choices => (CHOICE_COLUMNS, CHOICE_ALIASES),
        SheetKind::Settings => (SETTINGS_COLUMNS, SETTINGS_ALIASES),
    }
}

fn alias(
    aliases: &[(&str, &'static [&'static str])],
    key: &str,
) -> Option<&'static [&'static str]> {
    aliases.iter().find(|(k, _)| *k == key).map(|(_, v)| *v)
}

/// `"Repeat  Count"` to `"repeat_count"`.
pub fn to_snake_case(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join("_")
        .to_lowercase()
}

/// The token path of one header. `double_colon` is true when any header of the sheet uses `::`
/// (then a single `:` is part of a name, as in `jr:count`).
pub fn process_header(header: &str, double_colon: bool, kind: SheetKind) -> Vec<String> {
    let (columns, aliases) = tables(kind);
    if columns.contains(&header) && alias(aliases, header).is_none() {
        return vec![header.to_string()];
    }
    let normal = to_snake_case(header);
    if columns.contains(&normal.as_str()) && alias(aliases, &normal).is_none() {
        return vec![normal];
    }
    let mut tokens: Vec<String> = if double_colon || header.contains("::") {
        header.split("::").map(|t| t.trim().to_string()).collect()
    } else {
        let mut t: Vec<String> = header.split(':').map(|t| t.trim().to_string()).collect();
        if let Some(i) = t.iter().position(|x| x == "jr")
            && i + 1 < t.len()
        {
            let joined = format!("jr:{}", t[i + 1]);
            t.splice(i..i + 2, [joined]);
        }
        t
    };
    let first = to_snake_case(&tokens[0]);
    if let Some(target) = alias(aliases, &first) {
        let mut out: Vec<String> = target.iter().map(|s| s.to_string()).collect();
        out.extend(tokens.drain(1..));
        out
    } else if columns.contains(&first.as_str()) {
        tokens[0] = first;
        tokens
    } else if tokens.len() == 1 {
        vec![header.to_string()]
    } else {
        tokens
    }
}

/// Token paths for every header of a sheet. Two headers meaning the same column (`image` and
/// `media::image`) are refused, as pyxform refuses them, except on the settings sheet.
pub fn process_headers(
    headers: &[Option<String>],
    kind: SheetKind,
    sheet: &str,
) -> Result<Vec<Option<Vec<String>>>, ImportError> {
    let double_colon = headers.iter().flatten().any(|h| h.contains("::"));
    let mut seen: Vec<(Vec<String>, String)> = Vec::new();
    let mut out = Vec::with_capacity(headers.len());
    for h in headers {
        let Some(h) = h else {
            out.push(None);
            continue;
        };
        let tokens = process_header(h, double_colon, kind);
        // pyxform refuses two names for one column on the survey and choices sheets only; on
        // the settings sheet (`form_id` beside `id_string`) the later column wins.
        if kind != SheetKind::Settings
            && let Some((_, other)) = seen.iter().find(|(t, _)| *t == tokens)
        {
            return Err(ImportError::at(
                sheet,
                1,
                h,
                format!(
                    "Invalid headers provided for sheet: '{sheet}'. Headers that are different names \
                     for the same column were found: '{other}', '{h}'. Rename or remove one of these columns."
                ),
            ));
        }
        seen.push((tokens.clone(), h.clone()));
        out.push(Some(tokens));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(h: &str) -> Vec<String> {
        process_header(h, h.contains("::"), SheetKind::Survey)
    }

    #[test]
    fn aliases_and_languages() {
        assert_eq!(p("label::Tiếng Việt (vi)"), ["label", "Tiếng Việt (vi)"]);
        assert_eq!(p("Relevance"), ["bind", "relevant"]);
        assert_eq!(p("image::English"), ["media", "image", "English"]);
        assert_eq!(p("repeat count"), ["control", "jr:count"]);
        assert_eq!(p("bind::odk:length"), ["bind", "odk:length"]);
        assert_eq!(
            p("constraint_message::English (en)"),
            ["bind", "jr:constraintMsg", "English (en)"]
        );
        assert_eq!(p("Label"), ["label"]);
        assert_eq!(p("label:English"), ["label", "English"]);
        assert_eq!(p("my_column"), ["my_column"]);
    }

    #[test]
    fn duplicate_alias_refused() {
        let h = vec![Some("image".to_string()), Some("media::image".to_string())];
        let e = process_headers(&h, SheetKind::Survey, "survey").unwrap_err();
        assert!(e.message.contains("'image', 'media::image'"), "{e}");
    }
}
