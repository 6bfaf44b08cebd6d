//! XLSForm workbook to compiled [`Form`].
//!
//! Follows pyxform 4.x (the reference compiler) rule by rule, so a workbook pyxform accepts
//! gives the same fields, paths and logic here, and a workbook it rejects is rejected with a
//! message naming the same problem. Features FieldPost cannot run are refused by name.

mod choices;
pub mod node;
mod params;
pub mod refs;
mod survey;
pub mod types;

use crate::error::{ImportError, Location, Warning};
use crate::model::{Choice, Form, SCHEMA_VERSION, Settings};
use crate::xlsform::headers::SheetKind;
use crate::xlsform::reader::{RawWorkbook, read_workbook};
use crate::xlsform::rows::Sheet;
use std::collections::BTreeMap;

/// A compiled form and what the designer should look at even though it compiled.
#[derive(Debug, Clone)]
pub struct Imported {
    pub form: Form,
    pub warnings: Vec<Warning>,
    /// Expressions FieldPost cannot evaluate: the form compiles but cannot be interviewed.
    pub unreadable: Vec<ImportError>,
}

/// Reads an `.xlsx` or `.xls` XLSForm workbook and compiles it.
pub fn import_xlsform(bytes: &[u8]) -> Result<Imported, ImportError> {
    let raw = read_workbook(bytes)?;
    import_workbook(&raw)
}

/// Sheet names close to `key` (for "did you mean" hints).
fn similar_sheets(raw: &RawWorkbook, key: &str) -> Option<String> {
    let c: Vec<String> = raw
        .sheet_names
        .iter()
        .filter(|n| {
            let l = n.trim().to_lowercase();
            l != key
                && (l.contains(key)
                    || key.contains(l.as_str()) && l.len() > 3
                    || edit_distance(&l, key) <= 2)
        })
        .map(|n| format!("'{n}'"))
        .collect();
    if c.is_empty() {
        None
    } else {
        Some(format!(
            "When looking for a sheet named '{key}', the following sheets with similar names were found: {}.",
            c.join(", ")
        ))
    }
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            cur.push(
                (prev[j + 1] + 1)
                    .min(cur[j] + 1)
                    .min(prev[j] + usize::from(ca != *cb)),
            );
        }
        prev = cur;
    }
    prev[b.len()]
}

fn read_settings(raw: &RawWorkbook) -> Result<Settings, ImportError> {
    let mut s = Settings {
        root_name: "data".into(),
        ..Default::default()
    };
    let Some(rs) = raw.sheet("settings") else {
        return Ok(s);
    };
    let sheet = Sheet::from_raw(rs, SheetKind::Settings, false)?;
    let Some(row) = sheet.rows.iter().find(|r| !r.is_empty()) else {
        return Ok(s);
    };
    for c in &row.cells {
        let key = c.tokens.join("::");
        let v = c.value.clone();
        match key.as_str() {
            "title" => s.form_title = Some(v),
            "id_string" => s.form_id = Some(v),
            "version" => s.version = Some(v),
            "default_language" => s.default_language = Some(v),
            "instance_name" => s.instance_name = Some(v),
            "allow_choice_duplicates" => s.allow_choice_duplicates = node::is_yes(Some(&v)),
            "style" => s.style = Some(v),
            "name" => {
                if !refs::is_xml_tag(&v) {
                    return Err(ImportError::at(
                        "settings",
                        row.number,
                        &c.header,
                        format!(
                            "The '{v}' value is invalid. Names must begin with a letter or underscore. After the first character, names may contain letters, digits, underscores, hyphens, or periods."
                        ),
                    ));
                }
                s.root_name = v
            }
            _ => {
                s.other.insert(key, v);
            }
        }
    }
    Ok(s)
}

pub fn import_workbook(raw: &RawWorkbook) -> Result<Imported, ImportError> {
    let mut warnings = Vec::new();
    let Some(survey_raw) = raw.sheet("survey") else {
        let mut msg = "You must have a sheet named 'survey'.".to_string();
        if let Some(s) = similar_sheets(raw, "survey") {
            msg = format!("{msg} {s}");
        }
        return Err(ImportError::workbook(msg));
    };
    if let Some(e) = raw.sheet("entities")
        && !e.rows.iter().all(|r| r.cells.is_empty())
    {
        return Err(ImportError::new(
            Location::sheet("entities"),
            "the 'entities' sheet (ODK Entities) is not supported by FieldPost.",
        ));
    }
    let mut settings = read_settings(raw)?;
    let clean_text = settings
        .other
        .get("clean_text_values")
        .is_none_or(|v| node::is_yes(Some(v)));
    let default_language = settings
        .default_language
        .clone()
        .unwrap_or_else(|| "default".into());

    let external = match raw.sheet("external_choices") {
        Some(rs) => {
            let sheet = Sheet::from_raw(rs, SheetKind::Choices, false)?;
            choices::read_choices(&sheet, &default_language, true, false, &mut warnings)?
        }
        None => Vec::new(),
    };
    let mut choice_lists = match raw.sheet("choices") {
        Some(rs) => {
            let mut sheet = Sheet::from_raw(rs, SheetKind::Choices, false)?;
            sheet.name = "choices".into();
            choices::read_choices(
                &sheet,
                &default_language,
                settings.allow_choice_duplicates,
                true,
                &mut warnings,
            )?
        }
        None => Vec::new(),
    };
    let survey_sheet = Sheet::from_raw(survey_raw, SheetKind::Survey, clean_text)?;
    let mut builder = survey::Builder::new(
        &default_language,
        &choice_lists,
        &external,
        &mut settings,
        &mut warnings,
    );
    builder.has_external_sheet = raw.sheet("external_choices").is_some();
    builder.has_choices_sheet = !choice_lists.is_empty();
    let built = builder.build(&survey_sheet)?;

    check_references(raw, &survey_sheet, &built.element_names)?;

    // pyxform adds an `other` choice to lists used with or_other.
    for n in &built.nodes {
        if n.attributes.contains_key("fieldpost::or_other")
            && let Some(list) = n.list_name.as_ref()
            && let Some(l) = choice_lists.iter_mut().find(|l| &l.name == list)
            && !l.choices.iter().any(|c| c.name == "other")
        {
            let mut label = BTreeMap::new();
            let langs: Vec<String> = l
                .choices
                .iter()
                .flat_map(|c| c.label.keys().cloned())
                .collect();
            if langs.is_empty() {
                label.insert(default_language.clone(), "Other".to_string());
            }
            for lang in langs {
                label.insert(lang, "Other".to_string());
            }
            l.choices.push(Choice {
                name: "other".into(),
                label,
                media: BTreeMap::new(),
                columns: BTreeMap::new(),
            });
        }
    }

    let mut languages: Vec<String> = Vec::new();
    let mut note_lang = |t: &BTreeMap<String, String>| {
        for k in t.keys() {
            if !languages.contains(k) {
                languages.push(k.clone());
            }
        }
    };
    for n in &built.nodes {
        note_lang(&n.label);
        note_lang(&n.hint);
    }
    for l in &choice_lists {
        for c in &l.choices {
            note_lang(&c.label);
        }
    }

    let mut attachments = built.attachments.clone();
    collect_pulldata_files(&built.nodes, &mut attachments);
    attachments.dedup();

    let form = Form {
        schema_version: SCHEMA_VERSION,
        settings,
        languages,
        nodes: built.nodes,
        children: built.children,
        choice_lists,
        external_choice_lists: external,
        attachments,
    };
    crate::validate::check_form(&form)?;
    let unreadable = crate::validate::unreadable_expressions(&form);
    Ok(Imported {
        form,
        warnings,
        unreadable,
    })
}

/// `pulldata('file', ...)` names a CSV attachment.
fn collect_pulldata_files(nodes: &[crate::model::Node], out: &mut Vec<String>) {
    for n in nodes {
        for e in [
            &n.bind.calculation,
            &n.bind.relevant,
            &n.bind.constraint,
            &n.bind.default,
        ]
        .into_iter()
        .flatten()
        {
            let mut rest = e.as_str();
            while let Some(i) = rest.find("pulldata(") {
                rest = &rest[i + 9..];
                let t = rest.trim_start();
                if let Some(q) = t.chars().next().filter(|c| *c == '\'' || *c == '"')
                    && let Some(end) = t[1..].find(q)
                {
                    let f = format!("{}.csv", &t[1..1 + end]);
                    if !out.contains(&f) {
                        out.push(f);
                    }
                }
            }
        }
    }
}

/// Every `${name}` must name exactly one question, group or repeat (pyxform's rule), in the
/// survey sheet (except type, name, trigger), the settings sheet and choice labels.
fn check_references(
    raw: &RawWorkbook,
    survey: &Sheet,
    names: &std::collections::HashMap<String, usize>,
) -> Result<(), ImportError> {
    let check = |sheet: &str, row: u32, header: &str, value: &str| -> Result<(), ImportError> {
        let found = refs::pyxform_refs(value).map_err(|_| {
            ImportError::at(sheet, row, header, format!("the '{header}' value is invalid. Reference variables must start with '${{', then a question name, and end with '}}'."))
        })?;
        for r in found {
            match names.get(&r.name) {
                None => {
                    return Err(ImportError::at(
                        sheet,
                        row,
                        header,
                        format!(
                            "the '{header}' value is invalid. Reference variables must contain a name from the 'survey' sheet. Could not find the name '{}'.",
                            r.name
                        ),
                    ));
                }
                Some(1) => {}
                Some(_) => {
                    return Err(ImportError::at(
                        sheet,
                        row,
                        header,
                        format!(
                            "the '{header}' value is invalid. Reference variables names must be unique anywhere in the 'survey'. The name '{}' appears more than once.",
                            r.name
                        ),
                    ));
                }
            }
        }
        Ok(())
    };
    if let Some(rs) = raw.sheet("settings") {
        for r in &rs.rows {
            for (col, v) in &r.cells {
                let h = rs.headers.get(*col).cloned().flatten().unwrap_or_default();
                check("settings", r.number, &h, v)?;
            }
        }
    }
    for r in &survey.rows {
        for c in &r.cells {
            if matches!(c.tokens[0].as_str(), "type" | "name" | "trigger") {
                continue;
            }
            check("survey", r.number, &c.header, &c.value)?;
        }
    }
    if let Some(rs) = raw.sheet("choices") {
        let sheet = Sheet::from_raw(rs, SheetKind::Choices, false)?;
        for r in &sheet.rows {
            for c in &r.cells {
                if matches!(c.tokens[0].as_str(), "label" | "media") {
                    check("choices", r.number, &c.header, &c.value)?;
                }
            }
        }
    }
    Ok(())
}
