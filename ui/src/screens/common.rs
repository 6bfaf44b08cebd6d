//! Pieces several screens draw: error boxes, labels with the questionnaire's markup, dates.

use crate::app::ctx;
use crate::i18n::Msg;
use crate::markup;
use chrono::{DateTime, Utc};
use fieldpost_proto::app::CommandError;
use leptos::prelude::*;

/// A core error as a sentence in the user's language (what happened, what to do), with the
/// technical detail underneath in small print for support staff.
#[component]
pub fn ErrorBox(#[prop(into)] id: String, error: CommandError) -> impl IntoView {
    let c = ctx();
    let code = error.code;
    view! {
        <div class="error-box" id=id role="alert" data-code=format!("{code:?}")>
            <p class="status-err">{move || c.t(Msg::Error(code))}</p>
            <p class="detail"><small>{move || c.t(Msg::ErrorDetail)}": "{error.detail.clone()}</small></p>
        </div>
    }
}

/// An optional error, drawn only when present.
pub fn maybe_error(id: &'static str, e: Option<CommandError>) -> impl IntoView {
    e.map(|error| view! { <ErrorBox id=id error/> })
}

/// A questionnaire label with its `**bold**` and `*italic*` runs.
pub fn rich(label: &str) -> impl IntoView + use<> {
    markup::spans(label)
        .into_iter()
        .map(|s| match (s.bold, s.italic) {
            (true, true) => view! { <strong><em>{s.text}</em></strong> }.into_any(),
            (true, false) => view! { <strong>{s.text}</strong> }.into_any(),
            (false, true) => view! { <em>{s.text}</em> }.into_any(),
            (false, false) => s.text.into_any(),
        })
        .collect_view()
}

/// A date the core sent, shown in the device's time zone and the user's language.
pub fn local_date(at: &DateTime<Utc>, with_time: bool) -> String {
    let d = js_sys::Date::new(&wasm_bindgen::JsValue::from_str(&at.to_rfc3339()));
    let tag = ctx().lang.get().tag();
    let opts = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&opts, &"dateStyle".into(), &"medium".into());
    if with_time {
        let _ = js_sys::Reflect::set(&opts, &"timeStyle".into(), &"short".into());
    }
    d.to_locale_string(tag, &opts).into()
}

/// Moves the keyboard focus to the first element matching one of `selectors`, once the screen
/// has been redrawn (so that a dialog closing hands the focus back to where it came from).
pub fn focus_later(selectors: Vec<String>) {
    request_animation_frame(move || {
        use wasm_bindgen::JsCast;
        let Some(doc) = web_sys::window().and_then(|w| w.document()) else {
            return;
        };
        let found = selectors
            .iter()
            .find_map(|s| doc.query_selector(s).ok().flatten());
        if let Some(el) = found.and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok()) {
            let _ = el.focus();
        }
    });
}
