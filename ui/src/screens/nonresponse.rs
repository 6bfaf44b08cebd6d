//! The non-response dialog: why the visit ended without an interview and when to come back.
//! Whether the outcome is final is the survey's rule, applied by the core (refusals and the
//! like at once, nobody home after the rule's number of visits); the dialog says which applies.

use crate::app::ctx;
use crate::i18n::Msg;
use crate::ipc;
use crate::screens::common::maybe_error;
use chrono::{DateTime, NaiveDate, Utc};
use fieldpost_proto::app::{
    AssignmentItem, CommandError, NonResponseCode, NonResponseRequest, NonResponseResult,
};
use leptos::prelude::*;
use leptos::task::spawn_local;

const CODES: [(NonResponseCode, &str); 5] = [
    (NonResponseCode::Refused, "refused"),
    (NonResponseCode::NobodyHome, "nobody_home"),
    (NonResponseCode::Moved, "moved"),
    (NonResponseCode::Ineligible, "ineligible"),
    (NonResponseCode::Other, "other"),
];

fn code_from(tag: &str) -> NonResponseCode {
    CODES
        .iter()
        .find(|(_, t)| *t == tag)
        .map_or(NonResponseCode::Other, |(c, _)| *c)
}

/// The revisit as an instant: 08:00 on the chosen day in the device's time zone (the start of a
/// working day, so "due" turns on that morning).
fn revisit_instant(date: &str) -> Option<DateTime<Utc>> {
    use chrono::Datelike;
    let d = NaiveDate::parse_from_str(date, "%Y-%m-%d").ok()?;
    let js = js_sys::Date::new_with_year_month_day_hr_min(
        d.year() as u32,
        d.month0() as i32,
        d.day() as i32,
        8,
        0,
    );
    let iso: String = js.to_iso_string().into();
    DateTime::parse_from_rfc3339(&iso)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

#[component]
pub fn NonResponseDialog(
    item: AssignmentItem,
    on_close: Callback<()>,
    on_done: Callback<NonResponseResult>,
) -> impl IntoView {
    let c = ctx();
    let code = RwSignal::new(NonResponseCode::Refused);
    let note = RwSignal::new(String::new());
    let revisit = RwSignal::new(String::new());
    let error = RwSignal::new(None::<CommandError>);
    let busy = RwSignal::new(false);
    // Keyboard: focus starts on the first field and Tab cycles inside the dialog (the list gives
    // the focus back to the household when it closes).
    let first = NodeRef::<leptos::html::Select>::new();
    let last = NodeRef::<leptos::html::Button>::new();
    Effect::new(move |_| {
        if let Some(el) = first.get() {
            let _ = el.focus();
        }
    });
    let to_first = move |_| {
        if let Some(el) = first.get() {
            let _ = el.focus();
        }
    };
    let to_last = move |_| {
        if let Some(el) = last.get() {
            let _ = el.focus();
        }
    };
    let id = item.id;

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        let (k, r) = (code.get_untracked(), revisit.get_untracked());
        let n = note.get_untracked();
        let req = NonResponseRequest {
            assignment_id: id,
            code: k,
            note: (!n.trim().is_empty()).then(|| n.trim().to_string()),
            revisit_at: if k == NonResponseCode::NobodyHome {
                revisit_instant(&r)
            } else {
                None
            },
        };
        busy.set(true);
        error.set(None);
        spawn_local(async move {
            match ipc::non_response(&req).await {
                Ok(res) => on_done.run(res),
                Err(e) => error.set(Some(e)),
            }
            busy.set(false);
        });
    };
    let on_key = move |ev: leptos::ev::KeyboardEvent| {
        if ev.key() == "Escape" {
            on_close.run(());
        }
    };

    view! {
        <div class="overlay" on:keydown=on_key>
            <span tabindex="0" class="sentinel" on:focus=to_last></span>
            <div class="dialog card" role="dialog" aria-modal="true" aria-labelledby="nr-title">
                <h2 id="nr-title">{move || c.t(Msg::CouldNotInterview)}</h2>
                <p class="who">{item.name.clone()}<br/><small class="muted">{item.address.clone()}</small></p>
                <form on:submit=submit>
                    <label class="field">
                        <span>{move || c.t(Msg::NrReason)}</span>
                        <select id="nr-code" node_ref=first
                            on:change=move |ev| code.set(code_from(&event_target_value(&ev)))>
                            {CODES.iter().map(|(k, tag)| {
                                let k = *k;
                                view! { <option value=*tag selected=move || code.get() == k>{move || c.t(Msg::Nr(k))}</option> }
                            }).collect_view()}
                        </select>
                    </label>
                    <Show when=move || code.get() == NonResponseCode::NobodyHome>
                        <label class="field">
                            <span>{move || c.t(Msg::NrRevisit)}</span>
                            <input id="nr-revisit" type="date" prop:value=revisit
                                on:change=move |ev| revisit.set(event_target_value(&ev))/>
                        </label>
                    </Show>
                    <label class="field">
                        <span>{move || c.t(Msg::NrNote)}</span>
                        <textarea id="nr-note" rows="2" prop:value=note
                            on:change=move |ev| note.set(event_target_value(&ev))></textarea>
                    </label>
                    <p class="muted small" id="nr-rule">
                        {move || c.t(if code.get() == NonResponseCode::NobodyHome { Msg::NrRevisitHint } else { Msg::NrFinalNow })}
                    </p>
                    {move || maybe_error("nr-error", error.get())}
                    <div class="actions">
                        <button type="button" class="secondary" id="nr-cancel" on:click=move |_| on_close.run(())>
                            {move || c.t(Msg::Cancel)}
                        </button>
                        <button type="submit" class="primary" id="nr-submit" disabled=busy node_ref=last>
                            {move || c.t(if busy.get() { Msg::Working } else { Msg::NrSubmit })}
                        </button>
                    </div>
                </form>
            </div>
            <span tabindex="0" class="sentinel" on:focus=to_first></span>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_tags_match_the_wire_names() {
        for (k, tag) in CODES {
            assert_eq!(serde_json::to_value(k).unwrap(), serde_json::json!(tag));
            assert_eq!(code_from(tag), k);
        }
    }
}
