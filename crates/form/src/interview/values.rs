//! Answers as the record stores them: checking what a caller gives, formatting what we compute.

use crate::model::{DataType, Form, Node};

/// An answer as given by a caller (the app or a scripted interview).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(untagged)]
pub enum Answer {
    Number(f64),
    Text(String),
    List(Vec<String>),
}

/// Plain decimal: no exponent, no trailing `.0`.
pub fn plain_number(n: f64) -> String {
    if n.is_finite() && n.fract() == 0.0 && n.abs() < 9.0e15 {
        format!("{}", n as i64)
    } else if n.is_finite() {
        format!("{n}")
    } else {
        String::new()
    }
}

fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && s[..4].chars().all(|c| c.is_ascii_digit())
        && s[5..7].parse::<u32>().is_ok_and(|m| (1..=12).contains(&m))
        && s[8..].parse::<u32>().is_ok_and(|d| (1..=31).contains(&d))
}

fn time(s: &str) -> Option<String> {
    let parts: Vec<&str> = s.split(':').collect();
    if !(2..=3).contains(&parts.len()) {
        return None;
    }
    let h: u32 = parts[0].parse().ok().filter(|h| *h < 24)?;
    let m: u32 = parts[1].parse().ok().filter(|m| *m < 60)?;
    let sec: u32 = match parts.get(2) {
        Some(x) => x.parse().ok().filter(|s| *s < 60)?,
        None => 0,
    };
    Some(format!("{h:02}:{m:02}:{sec:02}"))
}

fn choice_exists(form: &Form, node: &Node, name: &str) -> bool {
    match node.choices_from {
        Some(crate::model::ChoiceSource::Choices) => node
            .list_name
            .as_deref()
            .and_then(|l| form.choice_list(l))
            .is_none_or(|l| l.choices.iter().any(|c| c.name == name)),
        _ => true,
    }
}

/// A select_multiple's ticks in the order of its choice list, each once, as ODK stores them
/// (Collect's widget and ODK's web engine keep the list's order, whatever order the boxes were
/// ticked in). The order is data: `selected-at(.., position(..) - 1)` names a repeat row's item
/// by it. Lists from a file keep the order given (their order is the file's, known at run time).
fn in_list_order(form: &Form, node: &Node, names: Vec<String>) -> Vec<String> {
    let mut unique: Vec<String> = Vec::with_capacity(names.len());
    for n in names {
        if !unique.contains(&n) {
            unique.push(n);
        }
    }
    let Some(list) = (match node.choices_from {
        Some(crate::model::ChoiceSource::Choices) => {
            node.list_name.as_deref().and_then(|l| form.choice_list(l))
        }
        _ => None,
    }) else {
        return unique;
    };
    let at = |n: &String| {
        list.choices
            .iter()
            .position(|c| c.name == *n)
            .unwrap_or(usize::MAX)
    };
    unique.sort_by_key(at);
    unique
}

/// The stored text for an answer to `node`, or why it cannot be stored there.
pub fn normalize(form: &Form, node: &Node, answer: &Answer) -> Result<String, String> {
    let text = |a: &Answer| -> Option<String> {
        match a {
            Answer::Text(s) => Some(s.clone()),
            Answer::Number(n) => Some(plain_number(*n)),
            Answer::List(_) => None,
        }
    };
    match node.data_type {
        DataType::Int => match answer {
            Answer::Number(n) if n.fract() == 0.0 && n.abs() < 1e15 => Ok(plain_number(*n)),
            Answer::Text(s) if s.trim().parse::<i64>().is_ok() => Ok(s
                .trim()
                .parse::<i64>()
                .map(|v| v.to_string())
                .unwrap_or_default()),
            _ => Err(format!(
                "{} is an integer question; {answer:?} is not a whole number",
                node.path
            )),
        },
        DataType::Decimal => match answer {
            Answer::Number(n) if n.is_finite() => Ok(plain_number(*n)),
            Answer::Text(s) if s.trim().parse::<f64>().is_ok_and(f64::is_finite) => {
                Ok(plain_number(s.trim().parse::<f64>().unwrap_or(0.0)))
            }
            _ => Err(format!(
                "{} is a decimal question; {answer:?} is not a number",
                node.path
            )),
        },
        DataType::Date => match answer {
            Answer::Text(s) if is_date(s.trim()) => Ok(s.trim().to_string()),
            _ => Err(format!(
                "{} is a date question; give YYYY-MM-DD, not {answer:?}",
                node.path
            )),
        },
        DataType::Time => match answer {
            Answer::Text(s) => time(s.trim()).ok_or_else(|| {
                format!(
                    "{} is a time question; give HH:MM or HH:MM:SS, not {s:?}",
                    node.path
                )
            }),
            _ => Err(format!(
                "{} is a time question; give HH:MM or HH:MM:SS",
                node.path
            )),
        },
        DataType::Geopoint => {
            let s = text(answer)
                .ok_or_else(|| format!("{} is a geopoint; give \"lat lon alt acc\"", node.path))?;
            let nums: Vec<f64> = s
                .split_whitespace()
                .map(|p| p.parse::<f64>())
                .collect::<Result<_, _>>()
                .map_err(|_| {
                    format!(
                        "{} is a geopoint; {s:?} is not \"lat lon alt acc\"",
                        node.path
                    )
                })?;
            if !(2..=4).contains(&nums.len()) || nums[0].abs() > 90.0 || nums[1].abs() > 180.0 {
                return Err(format!(
                    "{} is a geopoint; {s:?} is not \"lat lon alt acc\" with a valid latitude and longitude",
                    node.path
                ));
            }
            let mut parts: Vec<String> = nums.iter().map(|n| plain_number(*n)).collect();
            while parts.len() < 4 {
                parts.push("0".into());
            }
            Ok(parts.join(" "))
        }
        DataType::SelectMultiple | DataType::Rank => {
            let names: Vec<String> = match answer {
                Answer::List(v) => v.clone(),
                Answer::Text(s) => s.split_whitespace().map(String::from).collect(),
                Answer::Number(n) => vec![plain_number(*n)],
            };
            for n in &names {
                if !choice_exists(form, node, n) {
                    return Err(format!(
                        "{}: '{n}' is not a choice of list '{}'",
                        node.path,
                        node.list_name.clone().unwrap_or_default()
                    ));
                }
            }
            if node.data_type == DataType::SelectMultiple {
                Ok(in_list_order(form, node, names).join(" "))
            } else {
                Ok(names.join(" "))
            }
        }
        DataType::SelectOne => {
            let s = text(answer).ok_or_else(|| {
                format!(
                    "{} is a select_one question; give one choice name",
                    node.path
                )
            })?;
            if !choice_exists(form, node, &s) {
                return Err(format!(
                    "{}: '{s}' is not a choice of list '{}'",
                    node.path,
                    node.list_name.clone().unwrap_or_default()
                ));
            }
            Ok(s)
        }
        DataType::Binary => Err(format!(
            "{} is a media question ({}); it cannot be answered in a scripted interview",
            node.path, node.type_word
        )),
        _ => {
            if node.type_word == "acknowledge" {
                return match answer {
                    Answer::Text(s) if s == "OK" => Ok("OK".into()),
                    _ => Err(format!(
                        "{} is an acknowledge question; its only answer is \"OK\"",
                        node.path
                    )),
                };
            }
            text(answer).ok_or_else(|| format!("{} takes text, not a list", node.path))
        }
    }
}

/// A calculated result stored in a typed field, as ODK casts it.
pub fn cast_calculated(dt: DataType, v: String) -> String {
    match dt {
        DataType::Int => match v.trim().parse::<f64>() {
            Ok(n) if n.is_finite() => plain_number(n.trunc()),
            _ => String::new(),
        },
        // A division by zero stores `Infinity` in a decimal, as JavaRosa stores it.
        DataType::Decimal => match v.trim().parse::<f64>() {
            Ok(n) if n.is_finite() => plain_number(n),
            Ok(n) if n.is_infinite() => if n > 0.0 { "Infinity" } else { "-Infinity" }.into(),
            _ => String::new(),
        },
        _ => v,
    }
}
