//! The compiled form: what the app loads instead of the workbook.
//!
//! A flat list of nodes in document order (groups, repeats and fields), each knowing its parent,
//! its path and its row in the workbook. Expressions stay as text (with `${name}` references
//! already checked); the interview parses them once when it starts. The JSON form of this model
//! is versioned by [`SCHEMA_VERSION`] and documented in `docs/compiled-form.md`.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Bumped whenever a field changes meaning or a required field is added.
pub const SCHEMA_VERSION: u32 = 1;

/// Index of a node in [`Form::nodes`].
pub type NodeId = usize;

/// Text per language. The key `default` holds columns without a language suffix.
pub type Translations = BTreeMap<String, String>;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Form {
    pub schema_version: u32,
    pub settings: Settings,
    /// Languages used by labels, hints and messages, in order of first appearance
    /// (`default` for columns without a suffix).
    pub languages: Vec<String>,
    /// All nodes in document order. A node's children follow it.
    pub nodes: Vec<Node>,
    /// Top-level nodes.
    pub children: Vec<NodeId>,
    /// Choice lists from the `choices` sheet, in sheet order.
    pub choice_lists: Vec<ChoiceList>,
    /// Lists from the `external_choices` sheet (for `select_one_external`).
    pub external_choice_lists: Vec<ChoiceList>,
    /// Files the form needs next to it: CSV/XML choice lists and `pulldata` sources.
    pub attachments: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Settings {
    pub form_title: Option<String>,
    pub form_id: Option<String>,
    pub version: Option<String>,
    pub default_language: Option<String>,
    pub instance_name: Option<String>,
    pub allow_choice_duplicates: bool,
    pub style: Option<String>,
    /// Name of the root element (`data` unless the `name` setting says otherwise).
    pub root_name: String,
    /// Every other setting, as written.
    pub other: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NodeKind {
    Group,
    Repeat,
    Field,
}

/// The XForms data type a field stores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DataType {
    String,
    Int,
    Decimal,
    Date,
    Time,
    DateTime,
    Geopoint,
    Geotrace,
    Geoshape,
    Binary,
    Barcode,
    /// A single choice name.
    SelectOne,
    /// Space-separated choice names.
    SelectMultiple,
    /// Space-separated choice names in the respondent's order.
    Rank,
    /// No value (a group or repeat).
    None,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Node {
    pub kind: NodeKind,
    pub name: String,
    /// Names from the top joined by `/` (no root element, no row indexes).
    pub path: String,
    pub parent: Option<NodeId>,
    pub children: Vec<NodeId>,
    /// The XLSForm type word without list name (`select_one`, `integer`, `begin_group`...).
    pub type_word: String,
    pub data_type: DataType,
    /// Survey-sheet row, or None for nodes pyxform adds itself (meta/instanceID, `x_other`).
    pub row: Option<u32>,
    /// Choice list (or attachment file name for `*_from_file`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub list_name: Option<String>,
    /// Where the choices come from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub choices_from: Option<ChoiceSource>,
    /// Metadata recorded by the app rather than asked (start, end, deviceid...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub label: Translations,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub hint: Translations,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub guidance_hint: Translations,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub constraint_message: Translations,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub required_message: Translations,
    /// Media per kind (`image`, `audio`, `video`, `big-image`) per language.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub media: BTreeMap<String, Translations>,
    pub bind: Bind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub appearance: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub parameters: BTreeMap<String, String>,
    /// `bind::`, `body::` and `instance::` attribute columns and other extra columns.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub attributes: BTreeMap<String, String>,
}

/// Logic of a node, as XPath text with `${name}` references.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Bind {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relevant: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub constraint: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub required: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calculation: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub readonly: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub choice_filter: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repeat_count: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trigger: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChoiceSource {
    /// A list on the `choices` sheet.
    Choices,
    /// A list on the `external_choices` sheet.
    External,
    /// An attached CSV, XML or GeoJSON file.
    File,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChoiceList {
    pub name: String,
    pub choices: Vec<Choice>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Choice {
    pub name: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub label: Translations,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub media: BTreeMap<String, Translations>,
    /// Other columns (used by choice filters), by header as written.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub columns: BTreeMap<String, String>,
}

impl Form {
    /// Node by path (`hh/members/age`).
    pub fn node_by_path(&self, path: &str) -> Option<NodeId> {
        self.nodes.iter().position(|n| n.path == path)
    }

    /// Fields that store a value, in document order (what `fieldpost form fields` prints).
    pub fn fields(&self) -> impl Iterator<Item = (NodeId, &Node)> {
        self.nodes
            .iter()
            .enumerate()
            .filter(|(_, n)| n.kind == NodeKind::Field)
    }

    pub fn choice_list(&self, name: &str) -> Option<&ChoiceList> {
        self.choice_lists.iter().find(|l| l.name == name)
    }

    /// The nearest enclosing repeat of a node (not the node itself).
    pub fn enclosing_repeat(&self, id: NodeId) -> Option<NodeId> {
        let mut p = self.nodes[id].parent;
        while let Some(i) = p {
            if self.nodes[i].kind == NodeKind::Repeat {
                return Some(i);
            }
            p = self.nodes[i].parent;
        }
        None
    }

    /// Serialises to the versioned JSON the app loads.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// Loads a compiled form, refusing a schema version this build does not know.
    pub fn from_json(text: &str) -> Result<Form, String> {
        let form: Form =
            serde_json::from_str(text).map_err(|e| format!("not a compiled form: {e}"))?;
        if form.schema_version != SCHEMA_VERSION {
            return Err(format!(
                "compiled form schema version {} is not supported (this build reads {SCHEMA_VERSION})",
                form.schema_version
            ));
        }
        Ok(form)
    }
}
