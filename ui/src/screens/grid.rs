//! Grids: questions of one screen that share a choice list (the 33-row satisfaction scale of
//! Câu 9, the interest scale of Câu 1, ...) drawn as one compact table instead of 33 radio lists.
//!
//! At 360 px each row is its label on a full-width line, then one 44 px tap cell per choice
//! showing the choice's number, with the scale spelled out once above. From 720 px the label sits
//! left of the cells and a sticky header names each column.

use crate::app::ctx;
use crate::i18n::Msg;
use crate::screens::common::rich;
use crate::screens::question::Answering;
use fieldpost_proto::app::{ChoiceView, QuestionKind, QuestionView};
use leptos::prelude::*;
use serde_json::Value;

/// A piece of a screen: one question on its own, or a run of grid rows (notes between rows
/// become sub-headings).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    One(String, QuestionKind),
    Grid {
        list: String,
        rows: Vec<(String, QuestionKind)>,
    },
}

/// Splits a screen into single questions and grids. A grid is two or more select_one questions
/// in a row with the same choice list, with any notes between them (and notes just before the
/// first row, which head the grid).
pub fn segments(questions: &[QuestionView]) -> Vec<Segment> {
    let mut out = Vec::new();
    let mut run: Option<(String, Vec<(String, QuestionKind)>)> = None;
    let mut notes: Vec<(String, QuestionKind)> = Vec::new();

    fn close(out: &mut Vec<Segment>, run: Option<(String, Vec<(String, QuestionKind)>)>) {
        let Some((list, rows)) = run else { return };
        let answers = rows.iter().filter(|r| r.1 != QuestionKind::Note).count();
        if answers >= 2 {
            out.push(Segment::Grid { list, rows });
        } else {
            out.extend(rows.into_iter().map(|(p, k)| Segment::One(p, k)));
        }
    }

    for q in questions {
        let key = (q.path.clone(), q.kind);
        match (q.kind, &q.list_name) {
            (QuestionKind::Note, _) => notes.push(key),
            (QuestionKind::SelectOne, Some(list)) => match &mut run {
                Some((l, rows)) if l == list => {
                    rows.append(&mut notes);
                    rows.push(key);
                }
                _ => {
                    close(&mut out, run.take());
                    let mut rows = std::mem::take(&mut notes);
                    rows.push(key);
                    run = Some((list.clone(), rows));
                }
            },
            _ => {
                close(&mut out, run.take());
                out.extend(notes.drain(..).map(|(p, k)| Segment::One(p, k)));
                out.push(Segment::One(key.0, key.1));
            }
        }
    }
    close(&mut out, run);
    out.extend(notes.into_iter().map(|(p, k)| Segment::One(p, k)));
    out
}

/// What a grid cell shows: the choice's own code when it is short (the numbers the paper form
/// prints), else its position.
pub fn cell_text(i: usize, ch: &ChoiceView) -> String {
    if ch.value.chars().count() <= 2 {
        ch.value.clone()
    } else {
        (i + 1).to_string()
    }
}

#[component]
pub fn Grid(a: Answering, list: String, rows: Vec<(String, QuestionKind)>) -> impl IntoView {
    let c = ctx();
    let first = rows
        .iter()
        .find(|r| r.1 == QuestionKind::SelectOne)
        .map(|r| r.0.clone())
        .unwrap_or_default();
    let scale = Memo::new(move |_| {
        a.screen.with(|s| {
            s.questions
                .iter()
                .find(|q| q.path == first)
                .map(|q| q.choices.clone())
                .unwrap_or_default()
        })
    });
    view! {
        <div class="grid" data-list=list>
            <div class="grid-legend">
                <span class="muted small">{move || c.t(Msg::GridScale)}": "</span>
                {move || scale.get().iter().enumerate().map(|(i, ch)| view! {
                    <span class="legend-item"><b>{cell_text(i, ch)}</b>" "{ch.label.clone()}</span>
                }).collect_view()}
            </div>
            <div class="grid-head" aria-hidden="true">
                <span class="gh-label"></span>
                <span class="gh-cells">
                    {move || scale.get().iter().enumerate().map(|(i, ch)| view! {
                        <span class="gh-cell"><b>{cell_text(i, ch)}</b><small>{ch.label.clone()}</small></span>
                    }).collect_view()}
                </span>
            </div>
            {rows.into_iter().map(|(path, kind)| {
                if kind == QuestionKind::Note {
                    let q = a.question(path.clone());
                    view! { <h4 class="grid-sub q note" data-path=path data-kind="note">{move || q.get().map(|q| rich(&q.label))}</h4> }.into_any()
                } else {
                    view! { <GridRow a path/> }.into_any()
                }
            }).collect_view()}
        </div>
    }
}

#[component]
fn GridRow(a: Answering, path: String) -> impl IntoView {
    let c = ctx();
    let q = a.question(path.clone());
    let value =
        Memo::new(move |_| q.with(|q| q.as_ref().map(|q| q.value.clone()).unwrap_or_default()));
    let choices =
        Memo::new(move |_| q.with(|q| q.as_ref().map(|q| q.choices.clone()).unwrap_or_default()));
    let read_only = Memo::new(move |_| {
        a.screen.with(|s| s.read_only) || q.with(|q| q.as_ref().is_some_and(|q| q.read_only))
    });
    let label_id = format!("l-{}", path.replace(['/', '[', ']'], "-"));
    let name = path.clone();
    let p = path.clone();
    view! {
        <div class="q grid-row" data-path=path data-kind="select_one"
            class:answered=move || !value.get().is_empty()
            class:invalid=move || q.with(|q| q.as_ref().is_some_and(|q| q.error.is_some()))>
            <div class="gr-label" id=label_id.clone()>
                {move || q.get().map(|q| rich(&q.label))}
                {move || q.with(|q| q.as_ref().is_some_and(|q| q.required))
                    .then(|| view! { <span class="req" title=c.t(Msg::Required)>" *"</span> })}
            </div>
            <div class="gr-cells" role="radiogroup" aria-labelledby=label_id>
                {move || choices.get().into_iter().enumerate().map(|(i, ch)| {
                    let (v, v2) = (ch.value.clone(), ch.value.clone());
                    let p = p.clone();
                    view! {
                        <label class="cell" title=ch.label.clone()>
                            <input type="radio" name=name.clone() value=ch.value.clone() disabled=read_only
                                aria-label=ch.label.clone()
                                prop:checked=move || value.get() == v
                                on:change=move |_| a.save.run((p.clone(), Value::String(v2.clone())))/>
                            <span>{cell_text(i, &ch)}</span>
                        </label>
                    }
                }).collect_view()}
            </div>
            {move || q.get().and_then(|q| q.error).map(|e| view! { <p class="q-error" role="alert">{e}</p> })}
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(path: &str, kind: QuestionKind, list: Option<&str>) -> QuestionView {
        QuestionView {
            path: path.into(),
            kind,
            label: path.into(),
            hint: None,
            required: true,
            read_only: false,
            appearance: None,
            list_name: list.map(Into::into),
            choices: vec![],
            value: String::new(),
            error: None,
        }
    }

    use QuestionKind::{Note, SelectOne, Text};

    #[test]
    fn the_satisfaction_grid_is_one_grid_with_its_notes_as_sub_headings() {
        let mut qs = vec![
            q("c9/c9_chinh_sach", Note, None),
            q("c9/c9_cs_1", Note, None),
        ];
        for i in 1..=33 {
            if i == 15 {
                qs.push(q("c9/c9_dich_vu/c9_dv_1", Note, None));
            }
            qs.push(q(&format!("c9/c9_{i:02}"), SelectOne, Some("hai_long")));
        }
        let seg = segments(&qs);
        assert_eq!(seg.len(), 1);
        let Segment::Grid { list, rows } = &seg[0] else {
            panic!("not a grid: {seg:?}")
        };
        assert_eq!(list, "hai_long");
        assert_eq!(rows.len(), 36);
        assert_eq!(rows[0].0, "c9/c9_chinh_sach");
    }

    #[test]
    fn a_lone_select_or_mixed_lists_are_not_grids() {
        let seg = segments(&[
            q("a/sex", SelectOne, Some("gioi_tinh")),
            q("a/thon", Text, None),
        ]);
        assert_eq!(
            seg,
            vec![
                Segment::One("a/sex".into(), SelectOne),
                Segment::One("a/thon".into(), Text)
            ]
        );
        let seg = segments(&[
            q("c10/1", SelectOne, Some("uu_tien")),
            q("c10/2", SelectOne, Some("uu_tien")),
            q("c10a", Text, None),
            q("x", SelectOne, Some("other")),
        ]);
        assert_eq!(seg.len(), 3);
        assert!(matches!(&seg[0], Segment::Grid { rows, .. } if rows.len() == 2));
    }

    #[test]
    fn cells_show_short_codes_or_positions() {
        let ch = |v: &str| ChoiceView {
            value: v.into(),
            label: "x".into(),
        };
        assert_eq!(cell_text(0, &ch("5")), "5");
        assert_eq!(cell_text(2, &ch("very_much")), "3");
    }
}
