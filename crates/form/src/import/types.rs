//! Question types: every spelling pyxform accepts, mapped to the XLSForm word and data type.

use crate::model::DataType;

/// What a type word means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TypeInfo {
    /// The XLSForm type word FieldPost reports (`integer` for `int`, `image` for `photo`).
    pub word: &'static str,
    pub data_type: DataType,
    /// Metadata the app records itself (start, end, deviceid...), not a question.
    pub metadata: bool,
}

const fn t(word: &'static str, data_type: DataType) -> TypeInfo {
    TypeInfo {
        word,
        data_type,
        metadata: false,
    }
}
const fn m(word: &'static str, data_type: DataType) -> TypeInfo {
    TypeInfo {
        word,
        data_type,
        metadata: true,
    }
}

use DataType as D;

/// Every non-select type word pyxform knows (its question type dictionary), by spelling.
const TYPES: &[(&str, TypeInfo)] = &[
    ("integer", t("integer", D::Int)),
    ("int", t("integer", D::Int)),
    ("q int", t("integer", D::Int)),
    ("add integer prompt", t("integer", D::Int)),
    ("number of days in last month", t("integer", D::Int)),
    ("number of days in last six months", t("integer", D::Int)),
    ("number of days in last year", t("integer", D::Int)),
    ("percentage", t("integer", D::Int)),
    ("decimal", t("decimal", D::Decimal)),
    ("q decimal", t("decimal", D::Decimal)),
    ("add decimal prompt", t("decimal", D::Decimal)),
    ("range", t("range", D::Int)),
    ("text", t("text", D::String)),
    ("string", t("text", D::String)),
    ("q string", t("text", D::String)),
    ("add text prompt", t("text", D::String)),
    ("phone number", t("text", D::String)),
    ("note", t("note", D::String)),
    ("q note", t("note", D::String)),
    ("add note prompt", t("note", D::String)),
    ("calculate", t("calculate", D::String)),
    ("q calculate", t("calculate", D::String)),
    ("add calculate prompt", t("calculate", D::String)),
    ("hidden", t("hidden", D::String)),
    ("acknowledge", t("acknowledge", D::String)),
    ("q acknowledge", t("acknowledge", D::String)),
    ("add acknowledge prompt", t("acknowledge", D::String)),
    ("trigger", t("acknowledge", D::String)),
    ("date", t("date", D::Date)),
    ("q date", t("date", D::Date)),
    ("add date prompt", t("date", D::Date)),
    ("time", t("time", D::Time)),
    ("dateTime", t("dateTime", D::DateTime)),
    ("datetime", t("dateTime", D::DateTime)),
    ("date time", t("dateTime", D::DateTime)),
    ("q date time", t("dateTime", D::DateTime)),
    ("q dateTime", t("dateTime", D::DateTime)),
    ("add date time prompt", t("dateTime", D::DateTime)),
    ("add dateTime prompt", t("dateTime", D::DateTime)),
    ("geopoint", t("geopoint", D::Geopoint)),
    ("q geopoint", t("geopoint", D::Geopoint)),
    ("location", t("geopoint", D::Geopoint)),
    ("q location", t("geopoint", D::Geopoint)),
    ("gps", t("geopoint", D::Geopoint)),
    ("add location prompt", t("geopoint", D::Geopoint)),
    ("geotrace", t("geotrace", D::Geotrace)),
    ("q geotrace", t("geotrace", D::Geotrace)),
    ("geoshape", t("geoshape", D::Geoshape)),
    ("q geoshape", t("geoshape", D::Geoshape)),
    ("image", t("image", D::Binary)),
    ("photo", t("image", D::Binary)),
    ("q image", t("image", D::Binary)),
    ("q picture", t("image", D::Binary)),
    ("add image prompt", t("image", D::Binary)),
    ("add photo prompt", t("image", D::Binary)),
    ("audio", t("audio", D::Binary)),
    ("q audio", t("audio", D::Binary)),
    ("add audio prompt", t("audio", D::Binary)),
    ("video", t("video", D::Binary)),
    ("q video", t("video", D::Binary)),
    ("add video prompt", t("video", D::Binary)),
    ("file", t("file", D::Binary)),
    ("add file prompt", t("file", D::Binary)),
    ("barcode", t("barcode", D::Barcode)),
    ("q barcode", t("barcode", D::Barcode)),
    ("add barcode prompt", t("barcode", D::Barcode)),
    ("start", m("start", D::DateTime)),
    ("start time", m("start", D::DateTime)),
    ("get start time", m("start", D::DateTime)),
    ("end", m("end", D::DateTime)),
    ("end time", m("end", D::DateTime)),
    ("get end time", m("end", D::DateTime)),
    ("today", m("today", D::Date)),
    ("get today", m("today", D::Date)),
    ("deviceid", m("deviceid", D::String)),
    ("imei", m("deviceid", D::String)),
    ("device id", m("deviceid", D::String)),
    ("get device id", m("deviceid", D::String)),
    ("uri:deviceid", m("deviceid", D::String)),
    ("subscriberid", m("subscriberid", D::String)),
    ("subscriber id", m("subscriberid", D::String)),
    ("get subscriber id", m("subscriberid", D::String)),
    ("uri:subscriberid", m("subscriberid", D::String)),
    ("simserial", m("simserial", D::String)),
    ("sim id", m("simserial", D::String)),
    ("get sim id", m("simserial", D::String)),
    ("uri:simserial", m("simserial", D::String)),
    ("phonenumber", m("phonenumber", D::String)),
    ("get phone number", m("phonenumber", D::String)),
    ("uri:phonenumber", m("phonenumber", D::String)),
    ("username", m("username", D::String)),
    ("uri:username", m("username", D::String)),
    ("email", m("email", D::String)),
    ("uri:email", m("email", D::String)),
    ("audit", m("audit", D::Binary)),
    ("start-geopoint", m("start-geopoint", D::Geopoint)),
];

/// Types pyxform knows that FieldPost refuses, with the reason given to the designer.
const UNSUPPORTED: &[(&str, &str)] = &[
    ("osm", "OpenStreetMap questions need an OSM editor app"),
    (
        "background-audio",
        "background recording is not available in the FieldPost app",
    ),
    (
        "background-geopoint",
        "background location capture on value change is not available",
    ),
];

pub fn lookup(word: &str) -> Option<TypeInfo> {
    TYPES.iter().find(|(k, _)| *k == word).map(|(_, v)| *v)
}

/// Why FieldPost refuses this (known to pyxform) type, if it does.
pub fn unsupported(word: &str) -> Option<&'static str> {
    let first = word.split_whitespace().next().unwrap_or(word);
    UNSUPPORTED
        .iter()
        .find(|(k, _)| *k == word || *k == first)
        .map(|(_, v)| *v)
}

/// Select commands, in pyxform's matching order, with the XLSForm word they mean.
pub const SELECTS: &[(&str, &str)] = &[
    ("add select one prompt using", "select_one"),
    ("add select multiple prompt using", "select_multiple"),
    ("select all that apply from", "select_multiple"),
    ("select one from", "select_one"),
    ("select1", "select_one"),
    ("select_one", "select_one"),
    ("select one", "select_one"),
    ("select_multiple", "select_multiple"),
    ("select all that apply", "select_multiple"),
    ("select_one_external", "select_one_external"),
    ("select_one_from_file", "select_one_from_file"),
    ("select_multiple_from_file", "select_multiple_from_file"),
    ("select one from file", "select_one_from_file"),
    ("select multiple from file", "select_multiple_from_file"),
    ("rank", "rank"),
];

/// A parsed select type: `select_one yes_no or_other`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SelectType {
    /// The command as written (`select one from file`).
    pub command: &'static str,
    /// The XLSForm word (`select_one_from_file`).
    pub word: &'static str,
    pub list_name: String,
    pub or_other: bool,
}

pub fn parse_select(type_text: &str) -> Option<SelectType> {
    for (command, word) in SELECTS {
        let Some(rest) = type_text
            .strip_prefix(command)
            .and_then(|r| r.strip_prefix(' '))
        else {
            continue;
        };
        let mut parts = rest.splitn(2, ' ');
        let list = parts.next().unwrap_or("");
        if list.is_empty() || list.chars().any(char::is_whitespace) {
            continue;
        }
        let or_other = match parts.next() {
            None => false,
            Some("or specify other" | "or_other" | "or other") => true,
            Some(_) => continue,
        };
        return Some(SelectType {
            command,
            word,
            list_name: list.to_string(),
            or_other,
        });
    }
    None
}

pub fn select_data_type(word: &str) -> DataType {
    match word {
        "select_multiple" | "select_multiple_from_file" => DataType::SelectMultiple,
        "rank" => DataType::Rank,
        _ => DataType::SelectOne,
    }
}

/// `begin group`, `begin_repeat`, `begin repeat over list`: the control word, or None.
pub fn parse_begin(type_text: &str) -> Option<(&'static str, Option<String>)> {
    let rest = type_text.strip_prefix("begin")?;
    let rest = rest.strip_prefix(' ').or_else(|| rest.strip_prefix('_'))?;
    for (k, v) in CONTROLS {
        if let Some(after) = rest.strip_prefix(k) {
            if after.is_empty() {
                return Some((v, None));
            }
            let after = after.strip_prefix(' ')?;
            let list = after.strip_prefix("over ").unwrap_or(after);
            if !list.is_empty() && !list.contains(' ') {
                return Some((v, Some(list.to_string())));
            }
        }
    }
    None
}

pub fn parse_end(type_text: &str) -> Option<&'static str> {
    let rest = type_text.strip_prefix("end")?;
    let rest = rest.strip_prefix(' ').or_else(|| rest.strip_prefix('_'))?;
    CONTROLS.iter().find(|(k, _)| *k == rest).map(|(_, v)| *v)
}

const CONTROLS: &[(&str, &str)] = &[
    ("looped group", "repeat"),
    ("lgroup", "repeat"),
    ("group", "group"),
    ("repeat", "repeat"),
    ("loop", "loop"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selects() {
        let s = parse_select("select_one yes_no or_other").unwrap();
        assert_eq!(
            (s.word, s.list_name.as_str(), s.or_other),
            ("select_one", "yes_no", true)
        );
        let s = parse_select("select_one_from_file villages.csv").unwrap();
        assert_eq!(s.word, "select_one_from_file");
        let s = parse_select("select one from file villages.csv").unwrap();
        assert_eq!(s.word, "select_one_from_file");
        assert!(parse_select("select_one").is_none());
        assert!(parse_select("select_one a b").is_none());
    }

    #[test]
    fn controls() {
        assert_eq!(parse_begin("begin group"), Some(("group", None)));
        assert_eq!(parse_begin("begin_repeat"), Some(("repeat", None)));
        assert_eq!(parse_end("end repeat"), Some("repeat"));
        assert_eq!(
            parse_begin("begin loop over fruits"),
            Some(("loop", Some("fruits".into())))
        );
        assert_eq!(parse_begin("begin groups"), None);
    }
}
