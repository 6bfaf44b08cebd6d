//! The `parameters` column checked per question type, as pyxform checks it.
//!
//! A key the question type does not take, or a value ODK Collect cannot use (a range whose step
//! is zero, a geopoint accuracy that is not a number, a seed without `randomize=true`), is
//! refused at import with the sheet, row and column, so the designer hears about it before the
//! form reaches a device, exactly where pyxform would refuse the same workbook.

use crate::error::ImportError;
use std::collections::BTreeMap;

const SHEET: &str = "survey";
const COLUMN: &str = "parameters";

fn err(row: u32, msg: impl Into<String>) -> ImportError {
    ImportError::at(SHEET, row, COLUMN, msg)
}

/// The keys a question type takes, sorted as pyxform lists them; `None` for types whose
/// parameters are not checked here (pyxform does not check them either).
fn accepted(type_word: &str) -> Option<&'static [&'static str]> {
    Some(match type_word {
        "range" => &[
            "end",
            "placeholder",
            "start",
            "step",
            "tick_interval",
            "tick_labelset",
        ],
        "text" => &["rows"],
        "audit" => &[
            "identify-user",
            "location-max-age",
            "location-min-interval",
            "location-priority",
            "track-changes",
            "track-changes-reasons",
        ],
        "image" => &["app", "max-pixels"],
        "audio" => &["quality"],
        "geopoint" => &[
            "allow-mock-accuracy",
            "capture-accuracy",
            "reference-geometry",
            "warning-accuracy",
        ],
        "geotrace" | "geoshape" => &["allow-mock-accuracy", "incremental", "reference-geometry"],
        "select_one_from_file" | "select_multiple_from_file" => {
            &["label", "randomize", "seed", "value"]
        }
        "select_one" | "select_multiple" | "rank" => &["randomize", "seed"],
        _ => return None,
    })
}

/// A number as pyxform reads one (Python `float`/`Decimal`): finite, no NaN.
fn number(v: &str) -> Option<f64> {
    v.trim().parse::<f64>().ok().filter(|x| x.is_finite())
}

/// Checks `params` (already split by [`super::node::parse_parameters`]) for a question of
/// `type_word` on survey row `row`.
pub fn check(
    type_word: &str,
    params: &BTreeMap<String, String>,
    row: u32,
) -> Result<(), ImportError> {
    let Some(keys) = accepted(type_word) else {
        return Ok(());
    };
    let mut rejected: Vec<&str> = params
        .keys()
        .map(String::as_str)
        .filter(|k| !keys.contains(k))
        .collect();
    if !rejected.is_empty() {
        rejected.sort_unstable();
        return Err(err(
            row,
            format!(
                "the 'parameters' value is invalid. The accepted parameter keys for this question type are '{}'. The following are invalid parameter key(s): '{}'.",
                keys.join(", "),
                rejected.join(", ")
            ),
        ));
    }
    let get = |k: &str| params.get(k).map(String::as_str);
    match type_word {
        "range" => check_range(params, row)?,
        "audit" => check_audit(params, row)?,
        "text" => {
            if let Some(v) = get("rows")
                && v.trim().parse::<i64>().is_err()
            {
                return Err(err(
                    row,
                    format!("Parameter rows must have an integer value, not '{v}'."),
                ));
            }
        }
        "image" => {
            if let Some(v) = get("max-pixels")
                && v.trim().parse::<i64>().is_err()
            {
                return Err(err(
                    row,
                    format!(
                        "Parameter max-pixels must have an integer value, not '{v}': write a whole number of pixels, e.g. max-pixels=1024."
                    ),
                ));
            }
        }
        "audio" => {
            if let Some(v) = get("quality")
                && !["voice-only", "low", "normal", "external"].contains(&v)
            {
                return Err(err(
                    row,
                    format!(
                        "Invalid value for quality: '{v}'. Use one of voice-only, low, normal or external."
                    ),
                ));
            }
        }
        "geopoint" | "geotrace" | "geoshape" => {
            for (k, what) in [
                ("capture-accuracy", "capture-accuracy"),
                ("warning-accuracy", "warning-accuracy"),
            ] {
                if let Some(v) = get(k)
                    && number(v).is_none()
                {
                    return Err(err(
                        row,
                        format!(
                            "the 'parameters' value is invalid. The '{what}' parameter must be a number, not '{v}'."
                        ),
                    ));
                }
            }
            if let Some(v) = get("allow-mock-accuracy")
                && v != "true"
                && v != "false"
            {
                return Err(err(
                    row,
                    format!(
                        "the 'parameters' value is invalid. The 'allow-mock-accuracy' parameter must be 'true' or 'false', not '{v}'."
                    ),
                ));
            }
            if let Some(v) = get("incremental")
                && !["true", "yes", "1", "true()"].contains(&v)
            {
                return Err(err(
                    row,
                    "the 'parameters' value is invalid. For geoshape and geotrace questions, the 'incremental' parameter may either be 'true' or not included.",
                ));
            }
        }
        _ => {
            // A select from a file names the file's value and label columns: they go into an
            // XPath, so they must be names.
            for key in ["value", "label"] {
                if let Some(v) = get(key)
                    && !super::refs::is_xml_tag(v)
                {
                    return Err(err(
                        row,
                        format!(
                            "the 'parameters ({key})' value is invalid. Names must begin with a letter or underscore. After the first character, names may contain letters, digits, underscores, hyphens, or periods. '{v}' is not a column name of the file."
                        ),
                    ));
                }
            }
            // Selects: randomize and its seed.
            match get("randomize") {
                Some(v) if v != "true" && v != "false" => {
                    return Err(err(
                        row,
                        format!(
                            "randomize must be set to true or false: '{v}' is an invalid value"
                        ),
                    ));
                }
                Some(_) => {
                    if let Some(seed) = get("seed")
                        && !super::refs::is_single_ref(seed)
                        && number(seed).is_none()
                    {
                        return Err(err(
                            row,
                            format!(
                                "seed value must be a number or a reference to another field, not '{seed}'."
                            ),
                        ));
                    }
                }
                None if get("seed").is_some() => {
                    return Err(err(
                        row,
                        "Parameters must include randomize=true to use a seed.",
                    ));
                }
                None => {}
            }
        }
    }
    Ok(())
}

/// The audit log's options: switches are `true`/`false`; location needs all three of priority,
/// minimum interval and maximum age (whole seconds, the age not below the interval).
fn check_audit(params: &BTreeMap<String, String>, row: u32) -> Result<(), ImportError> {
    for key in ["track-changes", "identify-user"] {
        if let Some(v) = params.get(key)
            && v != "true"
            && v != "false"
        {
            return Err(err(
                row,
                format!("{key} must be set to true or false: '{v}' is an invalid value."),
            ));
        }
    }
    if let Some(v) = params.get("track-changes-reasons")
        && v != "on-form-edit"
    {
        return Err(err(
            row,
            format!("track-changes-reasons must be set to on-form-edit, not '{v}'."),
        ));
    }
    let location = [
        "location-priority",
        "location-min-interval",
        "location-max-age",
    ];
    if !location.iter().any(|k| params.contains_key(*k)) {
        return Ok(());
    }
    let (Some(priority), Some(min), Some(max)) = (
        params.get("location-priority"),
        params.get("location-min-interval"),
        params.get("location-max-age"),
    ) else {
        return Err(err(
            row,
            "To include location information in the audit, 'location-priority', 'location-min-interval', and 'location-max-age' are required parameters.",
        ));
    };
    if !["no-power", "low-power", "balanced", "high-accuracy"].contains(&priority.as_str()) {
        return Err(err(
            row,
            format!(
                "Parameter location-priority must be set to no-power, low-power, balanced, or high-accuracy:'{priority}' is an invalid value"
            ),
        ));
    }
    let seconds = |key: &str, v: &str| -> Result<i64, ImportError> {
        let n: i64 = v.trim().parse().map_err(|_| {
            err(
                row,
                format!("Parameter {key} must have an integer value (seconds)."),
            )
        })?;
        if n < 0 {
            return Err(err(
                row,
                format!("Parameter {key} must be greater than or equal to zero."),
            ));
        }
        Ok(n)
    };
    let min = seconds("location-min-interval", min)?;
    let max = seconds("location-max-age", max)?;
    if max < min {
        return Err(err(
            row,
            "Parameter location-max-age must be greater than or equal to location-min-interval.",
        ));
    }
    Ok(())
}

/// pyxform's range rules: start, end, step (default 1, 10, 1) are numbers; the step is neither
/// zero nor wider than the range.
fn check_range(params: &BTreeMap<String, String>, row: u32) -> Result<(), ImportError> {
    let read = |name: &str, default: Option<f64>| -> Result<Option<f64>, ImportError> {
        match params.get(name) {
            None => Ok(default),
            Some(v) => number(v).map(Some).ok_or_else(|| {
                err(
                    row,
                    format!("the 'parameters' value is invalid. For the 'range' question type, the parameter '{name}' must be a number."),
                )
            }),
        }
    };
    let start = read("start", Some(1.0))?.unwrap_or(1.0);
    let end = read("end", Some(10.0))?.unwrap_or(10.0);
    let step = read("step", Some(1.0))?.unwrap_or(1.0);
    let tick = read("tick_interval", None)?;
    read("placeholder", None)?;
    let width = (end - start).abs();
    for (name, v) in [("step", Some(step)), ("tick_interval", tick)] {
        let Some(v) = v else { continue };
        if v == 0.0 {
            return Err(err(
                row,
                format!(
                    "the 'parameters' value is invalid. For the 'range' question type, the parameter '{name}' must not be '0' (zero)."
                ),
            ));
        }
        if v > width {
            return Err(err(
                row,
                format!(
                    "the 'parameters' value is invalid. For the 'range' question type, the parameter '{name}' must not be larger than the range (the difference between 'start' and 'end')."
                ),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn range() {
        assert!(check("range", &p(&[("start", "0"), ("end", "5")]), 3).is_ok());
        let e = check("range", &p(&[("step", "0")]), 3).unwrap_err();
        assert!(e.to_string().contains("'step' must not be '0'"), "{e}");
        assert!(check("range", &p(&[("start", "a")]), 3).is_err());
        assert!(check("range", &p(&[("step", "20")]), 3).is_err());
        let e = check("range", &p(&[("foo", "1")]), 3).unwrap_err();
        assert!(e.to_string().contains("row 3"), "{e}");
        assert!(e.to_string().contains("'foo'"), "{e}");
    }

    #[test]
    fn selects_and_media() {
        assert!(check("select_one", &p(&[("seed", "1")]), 2).is_err());
        assert!(check("select_one", &p(&[("randomize", "yes")]), 2).is_err());
        assert!(check("select_one", &p(&[("randomize", "true"), ("seed", "x")]), 2).is_err());
        assert!(
            check(
                "select_one",
                &p(&[("randomize", "true"), ("seed", "${s}")]),
                2
            )
            .is_ok()
        );
        assert!(check("image", &p(&[("max-pixels", "big")]), 2).is_err());
        assert!(check("audio", &p(&[("quality", "best")]), 2).is_err());
        assert!(check("geopoint", &p(&[("capture-accuracy", "a")]), 2).is_err());
        assert!(check("geotrace", &p(&[("allow-mock-accuracy", "maybe")]), 2).is_err());
        assert!(check("geopoint", &p(&[("capture-accuracy", "5")]), 2).is_ok());
    }
}
