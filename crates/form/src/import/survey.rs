//! The `survey` sheet: rows to nested groups, repeats and fields, in pyxform's way.
//!
//! Besides the rows, pyxform adds nodes of its own and FieldPost adds the same ones so the two
//! agree on the record: `meta/instanceID` (and `meta/instanceName`), `x_other` after an
//! `or_other` select, `r_count` before a repeat whose count is an expression, and the label
//! rows of a `table-list` group.

use super::node::{generated, is_yes, node_from_row};
use super::refs::{is_single_ref, is_xml_tag};
use super::types::{self, parse_begin, parse_end, parse_select, select_data_type};
use crate::error::{ImportError, Location, Warning};
use crate::model::{ChoiceList, ChoiceSource, DataType, Node, NodeId, NodeKind, Settings};
use crate::xlsform::rows::{Row, Sheet};
use std::collections::{HashMap, HashSet};

const SHEET: &str = "survey";

struct Frame {
    kind: &'static str,
    node: Option<NodeId>,
    name: Option<String>,
    row: u32,
    child_names: HashSet<String>,
    child_names_lower: HashSet<String>,
    /// Inside a table-list group: None until its first select, then that select's list.
    table_list: Option<Option<String>>,
}

impl Frame {
    fn new(kind: &'static str, node: Option<NodeId>, name: Option<String>, row: u32) -> Self {
        let mut child_names = HashSet::new();
        child_names.insert("meta".to_string());
        Frame {
            kind,
            node,
            name,
            row,
            child_names,
            child_names_lower: HashSet::new(),
            table_list: None,
        }
    }
}

/// What the survey sheet produced.
pub struct Survey {
    pub nodes: Vec<Node>,
    pub children: Vec<NodeId>,
    /// Every name on the survey sheet with how often it appears (for `${name}` checks).
    pub element_names: HashMap<String, usize>,
    pub attachments: Vec<String>,
}

pub struct Builder<'a> {
    pub default_language: &'a str,
    pub choices: &'a [ChoiceList],
    pub external: &'a [ChoiceList],
    pub has_external_sheet: bool,
    pub has_choices_sheet: bool,
    pub settings: &'a mut Settings,
    pub warnings: &'a mut Vec<Warning>,
    nodes: Vec<Node>,
    top: Vec<NodeId>,
    stack: Vec<Frame>,
    repeat_names: HashSet<String>,
    element_names: HashMap<String, usize>,
    question_names: HashSet<String>,
    /// (question named in a trigger, row of the triggered question, its name).
    triggers: Vec<(String, u32, String)>,
    /// Questions shown without label or hint, refused once every row is read (pyxform finds
    /// them when it writes the XForm, after the row-by-row checks).
    unlabelled: Vec<ImportError>,
    /// Secondary instances the XForm will declare, in document order: (id, kind, source URI,
    /// enclosing section as pyxform names it, row).
    instances: Vec<(String, &'static str, String, String, u32)>,
    meta: Vec<Node>,
    attachments: Vec<String>,
    flat: bool,
}

fn err(row: u32, column: &str, msg: impl Into<String>) -> ImportError {
    ImportError::at(SHEET, row, column, msg)
}

/// A question shown to the enumerator needs a label, a hint or media, as pyxform requires; a
/// guidance hint alone does not count, since it may be hidden on screen. Calculates, `hidden`
/// fields, metadata and calculated or triggered fields without label or hint are not shown.
fn check_label(node: &Node, row: u32) -> Result<(), ImportError> {
    let shown = node.type_word != "calculate"
        && node.type_word != "hidden"
        && node.metadata.is_none()
        && !((node.bind.calculation.is_some() || node.bind.trigger.is_some())
            && node.label.is_empty()
            && node.hint.is_empty());
    if shown && node.label.is_empty() && node.hint.is_empty() && node.media.is_empty() {
        let (column, what) = if node.guidance_hint.is_empty() {
            ("label", "add a label (or a hint)")
        } else {
            (
                "guidance_hint",
                "a guidance hint alone may be hidden on screen: add a label or a hint",
            )
        };
        return Err(err(
            row,
            column,
            format!(
                "The survey element named '{}' has no label or hint: {what}.",
                node.name
            ),
        ));
    }
    Ok(())
}

/// Is a `default` an expression (evaluated when the form opens) rather than a fixed value?
/// pyxform's rule, on its lexer's tokens: arithmetic (`+ - * div mod`), a union `|`, brackets,
/// parentheses, braces or a `${name}` make it dynamic. A calculate may stand on such a default
/// alone, never on a fixed one.
fn default_is_dynamic(text: &str) -> bool {
    text.contains(['+', '-', '*', '|', '[', '(', '{'])
        || text
            .split(|c: char| c.is_whitespace())
            .any(|w| w == "div" || w == "mod")
}

/// The question names in a `trigger` cell, as pyxform reads it: one `${name}` or several
/// separated by commas. Text without a reference, a malformed reference, or two references
/// without a comma between them are refused.
fn trigger_names(text: &str, row: u32) -> Result<Vec<String>, ImportError> {
    let not_ref = || {
        err(
            row,
            "trigger",
            "the 'trigger' value is invalid. Reference variables must start with '${', then a question name, and end with '}'.",
        )
    };
    if text.len() <= 2 || !text.contains("${") {
        return Err(not_ref());
    }
    let mut out = Vec::new();
    for piece in text.split(',') {
        let refs = super::refs::pyxform_refs(piece).map_err(|_| not_ref())?;
        if refs.len() > 1 {
            return Err(err(
                row,
                "trigger",
                "the 'trigger' value is invalid. Reference variable lists must have a comma between each variable.",
            ));
        }
        out.extend(refs.into_iter().map(|r| r.name));
    }
    Ok(out)
}

impl<'a> Builder<'a> {
    pub fn new(
        default_language: &'a str,
        choices: &'a [ChoiceList],
        external: &'a [ChoiceList],
        settings: &'a mut Settings,
        warnings: &'a mut Vec<Warning>,
    ) -> Self {
        Builder {
            default_language,
            choices,
            external,
            has_external_sheet: false,
            has_choices_sheet: false,
            settings,
            warnings,
            nodes: Vec::new(),
            top: Vec::new(),
            stack: vec![Frame::new("survey", None, None, 0)],
            repeat_names: HashSet::new(),
            element_names: HashMap::new(),
            question_names: HashSet::new(),
            triggers: Vec::new(),
            unlabelled: Vec::new(),
            instances: Vec::new(),
            meta: Vec::new(),
            attachments: Vec::new(),
            flat: false,
        }
    }

    /// Records a secondary instance (a file or external data) declared at `row`.
    fn note_instance(&mut self, id: &str, kind: &'static str, src: &str, row: u32) {
        let context = match self.stack.last() {
            Some(f) if f.kind != "survey" => format!(
                "[type: {}, name: {}]",
                f.kind,
                f.name.clone().unwrap_or_default()
            ),
            _ => format!("[type: survey, name: {}]", self.settings.root_name),
        };
        self.instances
            .push((id.to_string(), kind, src.to_string(), context, row));
    }

    /// One instance id must not stand for two sources: a file `items.csv` beside `items.xml`,
    /// external data beside a file, or a file beside a choice list of the same name. ODK would
    /// load only one of them.
    fn check_instances(&self) -> Result<(), ImportError> {
        let mut all: Vec<(String, &str, String, String, Option<u32>)> = self
            .instances
            .iter()
            .map(|(i, k, s, c, r)| (i.clone(), *k, s.clone(), c.clone(), Some(*r)))
            .collect();
        all.extend(self.choices.iter().map(|l| {
            (
                l.name.clone(),
                "choice",
                "None".to_string(),
                "survey".to_string(),
                None,
            )
        }));
        let mut seen: HashMap<&str, (&str, &str)> = HashMap::new();
        for (id, kind, src, context, row) in &all {
            match seen.get(id.as_str()) {
                Some((pk, ps)) if ps != src => {
                    let msg = format!(
                        "The same instance id will be generated for different external instance source URIs. Please check the form. Instance name: '{id}', Existing type: '{pk}', Existing URI: '{ps}', Duplicate type: '{kind}', Duplicate URI: '{src}', Duplicate context: '{context}'. Rename the file or the choice list so that each has its own name."
                    );
                    return Err(match row {
                        Some(r) => ImportError::at_row(SHEET, *r, msg),
                        None => ImportError::new(Location::sheet("choices"), msg),
                    });
                }
                Some(_) => {}
                None => {
                    seen.insert(id, (kind, src));
                }
            }
        }
        Ok(())
    }

    /// A select using `search()` gets its choices written inline, so its choice list cannot
    /// also feed a select that does not use `search()`.
    fn check_search_lists(&self) -> Result<(), ImportError> {
        let selects: Vec<(&Node, bool)> = self
            .nodes
            .iter()
            .filter(|x| x.kind == NodeKind::Field && x.choices_from == Some(ChoiceSource::Choices))
            .filter(|x| !x.name.starts_with("reserved_name_for_field_list_labels_"))
            .map(|x| {
                let search = x
                    .appearance
                    .as_deref()
                    .is_some_and(|a| a.len() > 7 && a.contains("search(") && a.contains(')'));
                (x, search)
            })
            .collect();
        for (q, _) in selects.iter().filter(|(_, search)| *search) {
            let list = q.list_name.as_deref().unwrap_or_default();
            let others: Vec<String> = selects
                .iter()
                .filter(|(o, search)| !search && o.list_name.as_deref() == Some(list))
                .map(|(o, _)| format!("'{}'", o.name))
                .collect();
            if !others.is_empty() {
                let msg = format!(
                    "Question '{}' uses 'search()', and its select type references the choice list name '{list}'. This choice list name is referenced by at least one other question that is not using 'search()', which will not work: {}. Either 1) use 'search()' for all questions using this choice list name, or 2) use a different choice list name for the question using 'search()'.",
                    q.name,
                    others.join(", ")
                );
                return Err(match q.row {
                    Some(r) => err(r, "appearance", msg),
                    None => ImportError::new(Location::sheet(SHEET), msg),
                });
            }
        }
        Ok(())
    }

    fn warn(&mut self, row: u32, msg: impl Into<String>) {
        self.warnings.push(Warning {
            location: Location::row(SHEET, row),
            message: msg.into(),
        });
    }

    fn push(&mut self, mut node: Node) -> NodeId {
        let id = self.nodes.len();
        let parent = self.stack.last().and_then(|f| f.node);
        node.parent = parent;
        node.path = match parent {
            Some(p) if self.flat => {
                // A `flat` form (setting for ODK Tables) keeps groups out of the record; their
                // relevance is and-ed onto each child, as pyxform does.
                if let Some(pr) = self.nodes[p].bind.relevant.clone() {
                    node.bind.relevant = Some(match node.bind.relevant.take() {
                        Some(own) => format!("{pr} and ({own})"),
                        None => pr,
                    });
                }
                let pp = &self.nodes[p].path;
                let base = pp.rsplit_once('/').map(|(a, _)| a).unwrap_or("");
                if base.is_empty() {
                    node.name.clone()
                } else {
                    format!("{base}/{}", node.name)
                }
            }
            Some(p) => format!("{}/{}", self.nodes[p].path, node.name),
            None => node.name.clone(),
        };
        match parent {
            Some(p) => self.nodes[p].children.push(id),
            None => self.top.push(id),
        }
        self.nodes.push(node);
        id
    }

    fn list(&self, name: &str) -> Option<&ChoiceList> {
        self.choices.iter().find(|l| l.name == name)
    }

    pub fn build(mut self, sheet: &Sheet) -> Result<Survey, ImportError> {
        if !sheet.has_column("type") {
            return Err(ImportError::new(
                Location::sheet(SHEET),
                "Invalid headers provided for sheet: 'survey'. One or more required column headers were not found: 'type'.",
            ));
        }
        self.flat = is_yes(self.settings.other.get("flat").map(String::as_str));
        for row in &sheet.rows {
            self.row(row)?;
        }
        self.flat = false;
        if self.stack.len() > 1 {
            let f = self.stack.last().expect("stack has a frame");
            return Err(err(
                f.row,
                "type",
                format!(
                    "Unmatched 'begin_{}'. No matching 'end_{}' was found for the name '{}'.",
                    f.kind,
                    f.kind,
                    f.name.clone().unwrap_or_default()
                ),
            ));
        }
        let triggers = std::mem::take(&mut self.triggers);
        for (name, row, _) in &triggers {
            if !self.question_names.contains(name) {
                return Err(err(
                    *row,
                    "trigger",
                    format!(
                        "the 'trigger' value is invalid. Reference variables must contain a name from the 'survey' sheet. Could not find the name '{name}'."
                    ),
                ));
            }
        }
        if let Some(e) = self.unlabelled.drain(..).next() {
            return Err(e);
        }
        self.check_instances()?;
        self.check_search_lists()?;
        // A trigger fires when its question changes on screen: a question the enumerator never
        // sees (a calculate, or a calculated or triggered field without label or hint) never
        // changes that way, so pyxform refuses it as a trigger.
        for (name, row, source) in &triggers {
            if let Some(hidden) = self.nodes.iter().find(|x| {
                x.kind == NodeKind::Field
                    && &x.name == name
                    && (x.type_word == "calculate"
                        || ((x.bind.calculation.is_some() || x.bind.trigger.is_some())
                            && x.label.is_empty()
                            && x.hint.is_empty()))
            }) {
                return Err(err(
                    *row,
                    "trigger",
                    format!(
                        "The question ${{{}}} is not user-visible so it can't be used as a calculation trigger for question ${{{source}}}. Name in the trigger a question the enumerator answers, or give '{}' a label.",
                        hidden.name, hidden.name
                    ),
                ));
            }
        }
        self.finish_meta();
        Ok(Survey {
            nodes: self.nodes,
            children: self.top,
            element_names: self.element_names,
            attachments: self.attachments,
        })
    }

    fn finish_meta(&mut self) {
        let omit = is_yes(
            self.settings
                .other
                .get("omit_instanceID")
                .map(String::as_str),
        );
        if !omit {
            let mut n = generated("instanceID", "calculate", DataType::String);
            n.bind.readonly = Some("true()".into());
            n.metadata = Some("instanceID".into());
            self.meta.insert(self.meta.len(), n);
            *self.element_names.entry("instanceID".into()).or_default() += 1;
        }
        if let Some(expr) = self.settings.instance_name.clone() {
            let mut n = generated("instanceName", "calculate", DataType::String);
            n.bind.calculation = Some(expr);
            self.meta.push(n);
        }
        if self.meta.is_empty() {
            return;
        }
        let mut group = generated("meta", "begin_group", DataType::None);
        group.kind = NodeKind::Group;
        let gid = self.push(group);
        self.stack
            .push(Frame::new("group", Some(gid), Some("meta".into()), 0));
        for n in std::mem::take(&mut self.meta) {
            self.push(n);
        }
        self.stack.pop();
    }

    fn row(&mut self, row: &Row) -> Result<(), ImportError> {
        if let Some(disabled) = row.get(&["disabled"]) {
            self.warn(row.number, "The 'disabled' column header is not part of the current spec. We recommend using relevant instead.");
            if is_yes(Some(disabled)) {
                return Ok(());
            }
        }
        if row.is_empty() {
            return Ok(());
        }
        let Some(type_text) = row.get(&["type"]) else {
            if row.get(&["name"]).is_none() && row.translations(&["label"], "default").is_empty() {
                self.warn(
                    row.number,
                    "Row without name, text, or label is being skipped.",
                );
                return Ok(());
            }
            return Err(err(row.number, "type", "Question with no type."));
        };
        let type_text = type_text.to_string();
        let n = row.number;

        if let Some(t) = row.get(&["trigger"]) {
            let source = row.get(&["name"]).unwrap_or_default().to_string();
            for name in trigger_names(t, n)? {
                self.triggers.push((name, n, source.clone()));
            }
        }

        if type_text == "audit" {
            if let Some(name) = row.get(&["name"])
                && name != "audit"
            {
                return Err(err(
                    n,
                    "name",
                    "Audits must always be named 'audit.' The name column should be left blank.",
                ));
            }
            let mut node = node_from_row(
                row,
                NodeKind::Field,
                "audit",
                "audit",
                DataType::Binary,
                self.default_language,
            )?;
            node.metadata = Some("audit".into());
            self.meta.push(node);
            return Ok(());
        }

        if let Some(info) = types::lookup(&type_text)
            && info.word == "calculate"
            && row.get(&["bind", "calculate"]).is_none()
            && !row.get(&["default"]).is_some_and(default_is_dynamic)
        {
            return Err(err(n, "calculation", "Missing calculation."));
        }

        let setting = match type_text.as_str() {
            "form_title" | "set_form_title" => Some("title"),
            "form_id" | "set_form_id" => Some("id"),
            "prefix" => Some("prefix"),
            _ => None,
        };
        if let Some(s) = setting {
            let v = row.get(&["name"]).map(str::to_string);
            match s {
                "title" => self.settings.form_title = v,
                "id" => self.settings.form_id = v,
                _ => {
                    self.settings
                        .other
                        .insert("prefix".into(), v.unwrap_or_default());
                }
            }
            return Ok(());
        }

        let begin = parse_begin(&type_text);
        let end = parse_end(&type_text);

        let mut name: Option<String> = None;
        if end.is_none() {
            let nm = match row.get(&["name"]) {
                Some(v) => v.to_string(),
                None if type_text == "note" => format!("generated_note_name_{n}"),
                None => return Err(err(n, "name", "Question or group with no name.")),
            };
            if !is_xml_tag(&nm) {
                return Err(err(
                    n,
                    "name",
                    format!(
                        "the 'name' value '{nm}' is invalid. Names must begin with a letter or underscore. After the first character, names may contain letters, digits, underscores, hyphens, or periods."
                    ),
                ));
            }
            *self.element_names.entry(nm.clone()).or_default() += 1;
            let frame = self.stack.last_mut().expect("stack has a frame");
            if frame.child_names.contains(&nm) {
                return Err(if nm == "meta" {
                    err(
                        n,
                        "name",
                        "the 'name' value 'meta' is invalid. The name 'meta' is reserved for form metadata.",
                    )
                } else {
                    err(
                        n,
                        "name",
                        format!(
                            "the 'name' value '{nm}' is invalid. Questions, groups, and repeats must be unique within their nearest parent group or repeat, or the survey if not inside a group or repeat."
                        ),
                    )
                });
            }
            frame.child_names.insert(nm.clone());
            if !frame.child_names_lower.insert(nm.to_lowercase()) {
                self.warn(n, format!("the 'name' value '{nm}' is problematic. The name is a case-insensitive match to another name."));
            }
            name = Some(nm);
        }

        if let Some(kind) = end {
            let top = self.stack.last().expect("stack has a frame");
            if top.kind != kind || self.stack.len() == 1 {
                return Err(err(
                    n,
                    "type",
                    format!(
                        "Unmatched 'end_{kind}'. No matching 'begin_{kind}' was found for the name '{}'.",
                        row.get(&["name"]).unwrap_or("unknown")
                    ),
                ));
            }
            self.stack.pop();
            return Ok(());
        }

        let name = name.unwrap_or_default();
        if let Some((kind, _list)) = begin {
            return self.begin(row, kind, &name);
        }

        self.question_names.insert(name.clone());
        if let Some(sel) = parse_select(&type_text) {
            return self.select(row, sel, &name);
        }
        if type_text == "xml-external" || type_text == "csv-external" {
            let ext = if type_text == "xml-external" {
                "xml"
            } else {
                "csv"
            };
            self.attachments.push(format!("{name}.{ext}"));
            let src = if ext == "csv" {
                format!("jr://file-csv/{name}.csv")
            } else {
                format!("jr://file/{name}.xml")
            };
            self.note_instance(&name, "external", &src, n);
            return Ok(());
        }
        if let Some(why) = types::unsupported(&type_text) {
            return Err(err(
                n,
                "type",
                format!("the question type '{type_text}' is not supported by FieldPost: {why}."),
            ));
        }
        let Some(info) = types::lookup(&type_text) else {
            return Err(err(
                n,
                "type",
                format!("Unknown question type '{type_text}'."),
            ));
        };
        let mut data_type = info.data_type;
        if info.word == "range" {
            let p = super::node::parse_parameters(row.get(&["parameters"]), n)?;
            if ["start", "end", "step"]
                .iter()
                .any(|k| p.get(*k).is_some_and(|v| v.contains('.')))
            {
                data_type = DataType::Decimal;
            }
        }
        let mut node = node_from_row(
            row,
            NodeKind::Field,
            &name,
            info.word,
            data_type,
            self.default_language,
        )?;
        if info.metadata {
            node.metadata = Some(info.word.to_string());
        }
        if let Err(e) = check_label(&node, n) {
            self.unlabelled.push(e);
        }
        self.push(node);
        Ok(())
    }

    fn begin(&mut self, row: &Row, kind: &'static str, name: &str) -> Result<(), ImportError> {
        let n = row.number;
        if kind == "loop" {
            return Err(err(
                n,
                "type",
                "'begin loop' (a repeat over a choice list) is not supported by FieldPost; use a repeat with repeat_count instead.",
            ));
        }
        if kind == "repeat" {
            if name == self.settings.root_name {
                return Err(err(
                    n,
                    "name",
                    format!(
                        "the 'name' value '{name}' is invalid. Repeat names must not be the same as the survey root (which defaults to 'data')."
                    ),
                ));
            }
            if !self.repeat_names.insert(name.to_string()) {
                return Err(err(
                    n,
                    "name",
                    format!(
                        "the 'name' value '{name}' is invalid. Repeat names must unique anywhere in the survey, at all levels of group or repeat nesting."
                    ),
                ));
            }
            if row.translations(&["label"], "default").is_empty() && row.media("default").is_empty()
            {
                self.warn(n, format!("Repeat has no label: {name}"));
            }
        }
        let (node_kind, word) = if kind == "repeat" {
            (NodeKind::Repeat, "begin_repeat")
        } else {
            (NodeKind::Group, "begin_group")
        };
        let mut node = node_from_row(
            row,
            node_kind,
            name,
            word,
            DataType::None,
            self.default_language,
        )?;
        if let Some(count) = node.bind.repeat_count.clone()
            && kind == "repeat"
            && !is_single_ref(&count)
        {
            let cname = format!("{name}_count");
            let mut c = generated(&cname, "calculate", DataType::String);
            c.bind.readonly = Some("true()".into());
            c.bind.calculation = Some(count);
            self.push(c);
            node.bind.repeat_count = Some(format!("${{{cname}}}"));
        }
        let mut table_list = None;
        let mut label_note = None;
        if let Some(app) = node.appearance.clone()
            && app.split_whitespace().any(|w| w == "table-list")
        {
            table_list = Some(None);
            let mut s = String::from("field-list");
            for w in app.split_whitespace().filter(|w| *w != "table-list") {
                s.push(' ');
                s.push_str(w);
            }
            node.appearance = Some(s);
            if !node.label.is_empty() || !node.hint.is_empty() {
                let mut note = generated(
                    &format!("generated_table_list_label_{n}"),
                    "note",
                    DataType::String,
                );
                note.row = Some(n);
                note.label = std::mem::take(&mut node.label);
                note.hint = std::mem::take(&mut node.hint);
                label_note = Some(note);
            }
        }
        let id = self.push(node);
        let mut frame = Frame::new(kind, Some(id), Some(name.to_string()), n);
        frame.table_list = table_list;
        self.stack.push(frame);
        if let Some(note) = label_note {
            self.push(note);
        }
        Ok(())
    }

    fn select(&mut self, row: &Row, sel: types::SelectType, name: &str) -> Result<(), ImportError> {
        let n = row.number;
        let list = sel.list_name.clone();
        let ext = list.rsplit_once('.').map(|(_, e)| e.to_string());
        let is_file_ext = matches!(ext.as_deref(), Some("csv" | "xml" | "geojson"));
        let from_file = sel.word.ends_with("_from_file");
        if from_file && (!is_file_ext || list.matches('.').count() != 1) {
            return Err(err(
                n,
                "type",
                format!(
                    "File name for '{} {list}' should end with one of the supported file extensions: '.csv', '.xml', '.geojson'",
                    sel.command
                ),
            ));
        }
        let source;
        if sel.word == "select_one_external" {
            if row.get(&["choice_filter"]).is_none() {
                self.warn(n, "select one external is only meant for filtered selects.");
            }
            if !self.has_external_sheet {
                return Err(err(
                    n,
                    "type",
                    "There should be an external_choices sheet in this xlsform. Please ensure that the external_choices sheet has columns 'list name', and 'name'.",
                ));
            }
            if !self.external.iter().any(|l| l.name == list) {
                return Err(err(
                    n,
                    "type",
                    format!("List name not in external choices sheet: {list}"),
                ));
            }
            source = ChoiceSource::External;
        } else if is_file_ext {
            self.attachments.push(list.clone());
            let stem = list.rsplit_once('.').map(|(a, _)| a).unwrap_or(&list);
            let src = if ext.as_deref() == Some("csv") {
                format!("jr://file-csv/{list}")
            } else {
                format!("jr://file/{list}")
            };
            self.note_instance(stem, "file", &src, n);
            source = ChoiceSource::File;
        } else if list.contains("${") {
            return Err(err(
                n,
                "type",
                format!(
                    "a choice list named by a reference ('{list}') is not supported by FieldPost."
                ),
            ));
        } else {
            if self.list(&list).is_none() {
                if !self.has_choices_sheet {
                    return Err(err(
                        n,
                        "type",
                        "There should be a choices sheet in this xlsform. Please ensure that the choices sheet has the mandatory columns 'list_name', 'name', and 'label'.",
                    ));
                }
                return Err(err(
                    n,
                    "type",
                    format!("List name not in choices sheet: {list}"),
                ));
            }
            source = ChoiceSource::Choices;
        }
        if sel.word == "select_multiple"
            && let Some(l) = self.list(&list)
            && let Some(c) = l.choices.iter().find(|c| c.name.contains(' '))
        {
            return Err(err(
                n,
                "type",
                format!(
                    "Choice names with spaces cannot be added to multiple choice selects. See [{}] in [{list}]",
                    c.name
                ),
            ));
        }
        let mut other = None;
        if sel.or_other {
            if row.get(&["choice_filter"]).is_some() {
                return Err(err(
                    n,
                    "choice_filter",
                    "Choice filter not supported with or_other.",
                ));
            }
            if self.list(&list).is_none_or(|l| l.choices.is_empty()) {
                return Err(err(
                    n,
                    "type",
                    "Please specify choices for this 'or other' question.",
                ));
            }
            let mut o = generated(&format!("{name}_other"), "text", DataType::String);
            o.label
                .insert(self.default_language.to_string(), "Specify other.".into());
            o.bind.relevant = Some(format!("selected(../{name}, 'other')"));
            other = Some(o);
        }
        let mut node = node_from_row(
            row,
            NodeKind::Field,
            name,
            sel.word,
            select_data_type(sel.word),
            self.default_language,
        )?;
        node.list_name = Some(list.clone());
        node.choices_from = Some(source);
        if sel.or_other {
            node.attributes
                .insert("fieldpost::or_other".into(), "true".into());
        }
        if let Some(tl) = self.stack.last().and_then(|f| f.table_list.clone()) {
            match tl {
                None => {
                    if row.get(&["choice_filter"]).is_some() {
                        return Err(err(
                            n,
                            "choice_filter",
                            "Choice filter not supported for table-list appearance.",
                        ));
                    }
                    let mut header = generated(
                        &format!("reserved_name_for_field_list_labels_{n}"),
                        sel.word,
                        select_data_type(sel.word),
                    );
                    header.row = Some(n);
                    header.appearance = Some("label".into());
                    header.list_name = Some(list.clone());
                    header.choices_from = Some(ChoiceSource::Choices);
                    self.push(header);
                    if let Some(f) = self.stack.last_mut() {
                        f.table_list = Some(Some(list.clone()));
                    }
                }
                Some(first) if first != list => {
                    return Err(err(
                        n,
                        "type",
                        format!(
                            "Badly formatted table list, list names don't match: {first} vs. {list}"
                        ),
                    ));
                }
                Some(_) => {}
            }
            node.appearance = Some("list-nolabel".into());
        }
        if from_file
            && let Some(a) = node.appearance.as_deref()
            && a.len() > 7
            && a.contains("search(")
            && a[a.find("search(").unwrap_or(0)..].contains(')')
        {
            return Err(err(
                n,
                "appearance",
                format!(
                    "Question '{name}' is a select from file type, using 'search()'. This combination is not supported. Remove the 'search()' usage, or change the select type (select_one {list} with the file as an external choice list)."
                ),
            ));
        }
        self.push(node);
        if let Some(o) = other {
            self.push(o);
        }
        Ok(())
    }
}
