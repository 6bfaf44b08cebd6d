//! The `choices` and `external_choices` sheets.

use crate::error::{ImportError, Location, Warning};
use crate::model::{Choice, ChoiceList};
use crate::xlsform::rows::Sheet;
use std::collections::{BTreeMap, HashSet};

/// Groups rows by `list_name`, checks names (present, unique within a list unless
/// `allow_choice_duplicates`), warns about missing labels.
pub fn read_choices(
    sheet: &Sheet,
    default_language: &str,
    allow_duplicates: bool,
    validate: bool,
    warnings: &mut Vec<Warning>,
) -> Result<Vec<ChoiceList>, ImportError> {
    let sheet_name = sheet.name.clone();
    if validate && !sheet.rows.iter().all(|r| r.is_empty()) && !sheet.has_column("name") {
        return Err(ImportError::new(
            Location::sheet(&sheet_name),
            format!(
                "Invalid headers provided for sheet: '{sheet_name}'. One or more required column headers were not found: 'name'."
            ),
        ));
    }
    // Extra columns with spaces in their header are not usable (pyxform drops them too).
    let mut bad_headers = HashSet::new();
    if validate {
        for (tokens, header) in &sheet.headers {
            if tokens[0] != "list name" && (tokens[0].contains(' ') || tokens[0].is_empty()) {
                warnings.push(Warning {
                    location: Location::cell(&sheet_name, 1, header),
                    message: format!(
                        "the '{}' value is invalid. Column headers must not be empty and must not contain spaces.",
                        tokens[0]
                    ),
                });
                bad_headers.insert(header.clone());
            }
        }
    }
    let mut lists: Vec<ChoiceList> = Vec::new();
    let mut rows_of: Vec<Vec<u32>> = Vec::new();
    for row in &sheet.rows {
        let Some(list) = row.get(&["list name"]) else {
            continue;
        };
        let idx = match lists.iter().position(|l| l.name == list) {
            Some(i) => i,
            None => {
                lists.push(ChoiceList {
                    name: list.to_string(),
                    choices: Vec::new(),
                });
                rows_of.push(Vec::new());
                lists.len() - 1
            }
        };
        let name = row.get(&["name"]);
        if validate && name.is_none() {
            return Err(ImportError::at(
                &sheet_name,
                row.number,
                "name",
                "the 'name' value is invalid. Choices must have a name.",
            ));
        }
        let label = row.translations(&["label"], default_language);
        if validate && label.is_empty() {
            warnings.push(Warning {
                location: Location::cell(&sheet_name, row.number, "label"),
                message: "the 'label' value is invalid. Choices should have a label.".into(),
            });
        }
        let mut columns = BTreeMap::new();
        for c in &row.cells {
            let known = matches!(
                c.tokens[0].as_str(),
                "list name" | "name" | "label" | "media"
            );
            if !known && !bad_headers.contains(&c.header) {
                columns.insert(c.header.clone(), c.value.clone());
            }
        }
        lists[idx].choices.push(Choice {
            name: name.unwrap_or_default().to_string(),
            label,
            media: row.media(default_language),
            columns,
        });
        rows_of[idx].push(row.number);
    }
    if validate && !allow_duplicates {
        for (list, rows) in lists.iter().zip(&rows_of) {
            let mut seen = HashSet::new();
            let dups: Vec<u32> = list
                .choices
                .iter()
                .zip(rows)
                .filter(|(c, _)| !seen.insert(c.name.clone()))
                .map(|(_, r)| *r)
                .collect();
            if let Some(first) = dups.first() {
                let rows_text = dups
                    .iter()
                    .map(u32::to_string)
                    .collect::<Vec<_>>()
                    .join(", ");
                return Err(ImportError::at(
                    &sheet_name,
                    *first,
                    "name",
                    format!(
                        "the 'name' value is invalid. Choice names must be unique for each choice list \
                         (list '{}', rows {rows_text}). If this is intentional, use the setting 'allow_choice_duplicates'.",
                        list.name
                    ),
                ));
            }
        }
    }
    Ok(lists)
}
