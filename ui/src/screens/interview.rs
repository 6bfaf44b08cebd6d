//! The interview: one screen of the questionnaire at a time, as the core lays it out. Every
//! action goes through the ordered queue of [`crate::screens::queue`].

use crate::app::ctx;
use crate::i18n::Msg;
use crate::screens::common::{maybe_error, rich};
use crate::screens::grid::{Grid, Segment, segments};
use crate::screens::question::{Answering, Question};
use crate::screens::queue::{Op, Target, next_target, push};
use fieldpost_proto::app::{CommandError, ScreenView};
use leptos::prelude::*;

/// A section title short enough for the jump menu (the form's first "section" can be its whole
/// title page).
pub fn short(label: &str) -> String {
    const MAX: usize = 48;
    if label.chars().count() <= MAX {
        return label.to_string();
    }
    let cut: String = label.chars().take(MAX).collect();
    let at_word = cut
        .rfind(' ')
        .filter(|&i| i > MAX / 2)
        .map_or(cut.as_str(), |i| &cut[..i]);
    format!("{}…", at_word.trim_end_matches([',', ' ', '.']))
}

#[component]
pub fn Interview(initial: ScreenView) -> impl IntoView {
    let c = ctx();
    let iid = initial.interview_id;
    let screen = RwSignal::new(initial);
    let error = RwSignal::new(None::<CommandError>);
    let target = Target {
        c,
        interview_id: iid,
        screen,
        error,
    };
    let push = move |op: Op| push(target, op);
    // Labels come from the core in the chosen language: redraw once the core has switched.
    Effect::new(move |prev: Option<u32>| {
        let epoch = c.lang_epoch.get();
        if prev.is_some_and(|p| p != epoch) {
            push(Op::Reload);
        }
        epoch
    });

    let a = Answering {
        screen,
        save: Callback::new(move |(path, value)| push(Op::Answer(path, value))),
        toggle: Callback::new(move |(path, choice, on, seen)| {
            push(Op::Toggle {
                path,
                choice,
                on,
                seen,
            })
        }),
    };
    let segs = Memo::new(move |_| screen.with(|s| segments(&s.questions)));
    // Reads one field without cloning the whole screen (its questions) on every redraw.
    let f = move |get: fn(&ScreenView) -> String| screen.with(get);
    let index = Memo::new(move |_| screen.with(|s| s.index));
    let read_only = Memo::new(move |_| screen.with(|s| s.read_only));
    let sections = Memo::new(move |_| screen.with(|s| s.sections.clone()));
    let repeat = Memo::new(move |_| screen.with(|s| s.repeat.clone()));
    let pct = move || screen.with(|s| ((s.index + 1) * 100).checked_div(s.total).unwrap_or(0));
    let last = move || screen.with(|s| next_target(s.index, s.total).is_none());
    let current_section = move || {
        screen.with(|s| {
            s.sections
                .iter()
                .rposition(|x| x.screen <= s.index)
                .unwrap_or(0)
        })
    };

    view! {
        <section id="interview" class="interview" data-index=index>
            <div class="iv-head">
                <div class="iv-who">
                    <strong>{move || f(|s| s.assignment_name.clone())}</strong>
                    <span class="muted">" · "{move || f(|s| s.form_title.clone())}</span>
                </div>
                <div class="iv-tools">
                    <div class="clip jump">
                    <select id="jump-section" aria-label=move || c.t(Msg::JumpToSection)
                        on:change=move |ev| {
                            if let Ok(i) = event_target_value(&ev).parse::<usize>() { push(Op::Goto(i)) }
                        }>
                        {move || {
                            let cur = current_section();
                            sections.get().into_iter().enumerate().map(|(k, sec)| view! {
                                <option value=sec.screen.to_string() selected=k == cur>{short(&crate::markup::plain(&sec.label))}</option>
                            }).collect_view()
                        }}
                    </select>
                    </div>
                    <Show when=move || !read_only.get()>
                        <button id="review" class="secondary" on:click=move |_| push(Op::Review)>{move || c.t(Msg::ReviewButton)}</button>
                    </Show>
                    <button id="leave" class="secondary" on:click=move |_| push(Op::Leave)>{move || c.t(Msg::Leave)}</button>
                </div>
                {move || screen.with(|s| s.group_label.as_ref().and(s.section.clone()))
                    .map(|sec| view! { <p class="iv-section">{rich(&sec)}</p> })}
                <h2 id="screen-title" tabindex="-1">
                    {move || {
                        rich(&f(|v| v.group_label.clone().or(v.section.clone()).unwrap_or(v.form_title.clone())))
                    }}
                </h2>
                <div id="progress-bar" class="meter" role="progressbar" aria-valuemin="0" aria-valuemax="100" aria-valuenow=pct>
                    <div class="fill" style:width=move || format!("{}%", pct())></div>
                </div>
                <p class="muted small iv-count">
                    {move || c.tf(Msg::ScreenOf, &[&f(|s| (s.index + 1).to_string()), &f(|s| s.total.to_string())])}
                    " · "
                    {move || c.tf(Msg::Answered, &[&f(|s| s.answered.to_string()), &f(|s| s.questions_total.to_string())])}
                </p>
            </div>
            <Show when=move || read_only.get()>
                <p class="notice">{move || c.t(Msg::ReadOnlyInterview)}</p>
            </Show>
            {move || maybe_error("screen-error", error.get())}
            {move || repeat.get().map(|r| {
                let (repeat, row) = (r.repeat.clone(), r.row.clone());
                let ro = read_only.get();
                view! {
                    <div class="repeat-bar">
                        <span>{rich(&r.label)}" · "{c.tf(Msg::RowOf, &[&(r.index + 1).to_string(), &r.count.to_string()])}</span>
                        {(!r.fixed && !ro).then(|| view! {
                            <button id="row-add" class="secondary" on:click=move |_| push(Op::AddRow(repeat.clone()))>{c.t(Msg::AddRow)}</button>
                            <button id="row-remove" class="secondary" on:click=move |_| push(Op::RemoveRow(row.clone()))>{c.t(Msg::RemoveRow)}</button>
                        })}
                    </div>
                }
            })}
            <div class="questions">
                <For each=move || segs.get() key=|seg| format!("{seg:?}") let:seg>
                    {match seg {
                        Segment::One(path, kind) => view! { <Question a path kind/> }.into_any(),
                        Segment::Grid { list, rows } => view! { <Grid a list rows/> }.into_any(),
                    }}
                </For>
            </div>
            <div class="iv-nav">
                <button id="back" class="secondary" disabled=move || index.get() == 0 on:click=move |_| push(Op::Back)>
                    "‹ "{move || c.t(Msg::Back)}
                </button>
                <button id="next" class="primary" on:click=move |_| push(Op::Next)>
                    {move || c.t(match (last(), read_only.get()) {
                        (false, _) => Msg::Next,
                        (true, false) => Msg::ReviewButton,
                        (true, true) => Msg::Leave,
                    })}" ›"
                </button>
            </div>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_section_titles_are_cut_at_a_word() {
        assert_eq!(short("PHẦN A. THÔNG TIN"), "PHẦN A. THÔNG TIN");
        let long = "PHIẾU KHẢO SÁT Ý KIẾN NGƯỜI DÂN VỀ SỰ PHỤC VỤ CỦA CƠ QUAN HÀNH CHÍNH NHÀ NƯỚC NĂM 2024";
        let s = short(long);
        assert!(s.ends_with('…') && s.chars().count() <= 49, "{s}");
        assert!(long.starts_with(s.trim_end_matches('…')));
    }
}
