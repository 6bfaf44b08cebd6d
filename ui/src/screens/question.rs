//! One question drawn by its kind. Every change is saved at once through [`Answering::save`]
//! (text on change, i.e. on leaving the field, not on every keystroke), and the widget redraws
//! from the screen the core returns, so skip logic and validation messages are always the core's.

use crate::app::ctx;
use crate::i18n::{Lang, Msg};
use crate::screens::common::rich;
use crate::screens::geopoint::Geopoint;
use fieldpost_proto::app::{ChoiceView, QuestionKind, QuestionView, ScreenView};
use leptos::prelude::*;
use serde_json::Value;

/// What a question needs from its screen: the current screen and the way to save an answer.
#[derive(Clone, Copy)]
pub struct Answering {
    pub screen: RwSignal<ScreenView>,
    pub save: Callback<(String, Value)>,
    /// Ticks or unticks one choice of a select_multiple: (path, choice, on, the whole answer
    /// as the tap saw it). Not just a whole value, because a second tap can come before the
    /// first one's answer is back; the queue applies each tick to the answer as saved by then,
    /// so no tap is lost.
    pub toggle: Callback<(String, String, bool, Value)>,
}

impl Answering {
    /// The question at `path` as the current screen shows it (None once it has left the screen).
    pub fn question(self, path: String) -> Memo<Option<QuestionView>> {
        let screen = self.screen;
        Memo::new(move |_| screen.with(|s| s.questions.iter().find(|q| q.path == path).cloned()))
    }
}

/// The kind as the wire spells it, for `data-kind`.
pub fn kind_tag(k: QuestionKind) -> &'static str {
    match k {
        QuestionKind::Text => "text",
        QuestionKind::Integer => "integer",
        QuestionKind::Decimal => "decimal",
        QuestionKind::Date => "date",
        QuestionKind::Time => "time",
        QuestionKind::SelectOne => "select_one",
        QuestionKind::SelectMultiple => "select_multiple",
        QuestionKind::Note => "note",
        QuestionKind::Geopoint => "geopoint",
        QuestionKind::Other => "other",
    }
}

/// An answer as its input shows it: a decimal with a comma in Vietnamese (as it was typed), a
/// time without zero seconds (the engine keeps `HH:MM:SS`; the time input asks for minutes).
pub fn shown_value(kind: QuestionKind, value: &str, lang: Lang) -> String {
    match kind {
        QuestionKind::Decimal if lang == Lang::Vi => value.replace('.', ","),
        QuestionKind::Time if value.matches(':').count() == 2 => {
            value.strip_suffix(":00").unwrap_or(value).to_string()
        }
        _ => value.to_string(),
    }
}

/// The JSON answer for what was typed: null when cleared, a number for numeric questions (a
/// decimal comma is accepted, as Vietnamese writes it), a string otherwise.
pub fn typed_value(kind: QuestionKind, raw: &str) -> Result<Value, Msg> {
    let t = raw.trim();
    if t.is_empty() {
        return Ok(Value::Null);
    }
    match kind {
        QuestionKind::Integer => t
            .parse::<i64>()
            .map(Value::from)
            .map_err(|_| Msg::NotAWholeNumber),
        QuestionKind::Decimal => t
            .replace(',', ".")
            .parse::<f64>()
            .ok()
            .and_then(|f| serde_json::Number::from_f64(f).map(Value::Number))
            .ok_or(Msg::NotANumber),
        _ => Ok(Value::String(raw.to_string())),
    }
}

/// A select_multiple answer with `choice` ticked or unticked, in the choices' order.
pub fn toggled(current: &str, choices: &[ChoiceView], choice: &str, on: bool) -> Value {
    let picked: Vec<&str> = current.split_whitespace().collect();
    Value::Array(
        choices
            .iter()
            .filter(|c| {
                if c.value == choice {
                    on
                } else {
                    picked.contains(&c.value.as_str())
                }
            })
            .map(|c| Value::String(c.value.clone()))
            .collect(),
    )
}

/// Drop-down rather than radio buttons: when the form asks for it, or the list is long.
fn as_dropdown(q: &QuestionView) -> bool {
    let app = q.appearance.as_deref().unwrap_or("");
    app.contains("minimal") || app.contains("autocomplete") || q.choices.len() > 12
}

#[component]
pub fn Question(a: Answering, path: String, kind: QuestionKind) -> impl IntoView {
    let c = ctx();
    let q = a.question(path.clone());
    let local = RwSignal::new(None::<Msg>);
    let read_only = Memo::new(move |_| {
        a.screen.with(|s| s.read_only) || q.with(|q| q.as_ref().is_some_and(|q| q.read_only))
    });
    let value =
        Memo::new(move |_| q.with(|q| q.as_ref().map(|q| q.value.clone()).unwrap_or_default()));
    let choices =
        Memo::new(move |_| q.with(|q| q.as_ref().map(|q| q.choices.clone()).unwrap_or_default()));
    // Memos of their own, so that saving an answer (a new `value`) does not redraw the choices
    // and take the keyboard focus away from the one just picked.
    let dropdown = Memo::new(move |_| q.with(|q| q.as_ref().is_some_and(as_dropdown)));
    let label_id = format!("l-{}", path.replace(['/', '[', ']'], "-"));
    let p = path.clone();
    let save = move |v: Value| a.save.run((p.clone(), v));

    let p2 = path.clone();
    let on_text = move |raw: String| match typed_value(kind, &raw) {
        Ok(v) => {
            local.set(None);
            a.save.run((p2.clone(), v));
        }
        Err(m) => local.set(Some(m)),
    };

    let widget = match kind {
        QuestionKind::Note => ().into_any(),
        QuestionKind::SelectOne => {
            let name = path.clone();
            let lid = label_id.clone();
            (move || {
                let save = save.clone();
                if dropdown.get() {
                    view! {
                        <div class="clip">
                        <select class="q-select" aria-labelledby=lid.clone() disabled=read_only
                            on:change=move |ev| {
                                let v = event_target_value(&ev);
                                save(if v.is_empty() { Value::Null } else { Value::String(v) })
                            }>
                            <option value="">{c.t(Msg::ChooseOne)}</option>
                            {choices.get().into_iter().map(|ch| {
                                let v = ch.value.clone();
                                view! { <option value=ch.value selected=move || value.get() == v>{ch.label}</option> }
                            }).collect_view()}
                        </select>
                        </div>
                    }.into_any()
                } else {
                    let name = name.clone();
                    view! {
                        <div class="choices" role="radiogroup" aria-labelledby=lid.clone()>
                            {choices.get().into_iter().map(|ch| {
                                let (v, v2) = (ch.value.clone(), ch.value.clone());
                                let save = save.clone();
                                view! {
                                    <label class="choice">
                                        <input type="radio" name=name.clone() value=ch.value disabled=read_only
                                            prop:checked=move || value.get() == v
                                            on:change=move |_| save(Value::String(v2.clone()))/>
                                        <span>{rich(&ch.label)}</span>
                                    </label>
                                }
                            }).collect_view()}
                        </div>
                    }.into_any()
                }
            }).into_any()
        }
        QuestionKind::SelectMultiple => {
            let lid = label_id.clone();
            let p = path.clone();
            (move || {
                let p = p.clone();
                view! {
                    <div class="choices" role="group" aria-labelledby=lid.clone()>
                        {choices.get().into_iter().map(|ch| {
                            let (v, v2) = (ch.value.clone(), ch.value.clone());
                            let p = p.clone();
                            view! {
                                <label class="choice">
                                    <input type="checkbox" value=ch.value disabled=read_only
                                        prop:checked=move || value.get().split_whitespace().any(|x| x == v)
                                        on:change=move |ev| {
                                            let on = event_target_checked(&ev);
                                            let seen = toggled(&value.get_untracked(), &choices.get_untracked(), &v2, on);
                                            a.toggle.run((p.clone(), v2.clone(), on, seen))
                                        }/>
                                    <span>{rich(&ch.label)}</span>
                                </label>
                            }
                        }).collect_view()}
                    </div>
                }
            }).into_any()
        }
        QuestionKind::Geopoint => {
            let interview_id = a.screen.with_untracked(|s| s.interview_id);
            view! { <Geopoint value read_only interview_id save=Callback::new(save)/> }
        }.into_any(),
        QuestionKind::Text | QuestionKind::Other
            if q.with_untracked(|q| q.as_ref().and_then(|q| q.appearance.clone()))
                .is_some_and(|a| a.contains("multiline")) =>
        {
            view! {
                <textarea class="q-input" rows="4" aria-labelledby=label_id.clone() disabled=read_only
                    prop:value=value on:change=move |ev| on_text(event_target_value(&ev))></textarea>
            }.into_any()
        }
        _ => {
            let (ty, mode) = match kind {
                QuestionKind::Integer => ("text", "numeric"),
                QuestionKind::Decimal => ("text", "decimal"),
                QuestionKind::Date => ("date", "none"),
                QuestionKind::Time => ("time", "none"),
                _ => ("text", "text"),
            };
            let shown = move || shown_value(kind, &value.get(), c.lang.get());
            view! {
                <input class="q-input" type=ty inputmode=mode aria-labelledby=label_id.clone()
                    class:numeric=matches!(kind, QuestionKind::Integer | QuestionKind::Decimal)
                    disabled=read_only prop:value=shown
                    on:change=move |ev| on_text(event_target_value(&ev))/>
            }.into_any()
        }
    };

    view! {
        <div class="q" data-path=path class:note=kind == QuestionKind::Note data-kind=kind_tag(kind)
            class:invalid=move || q.with(|q| q.as_ref().is_some_and(|q| q.error.is_some())) || local.get().is_some()>
            <div class="q-label" id=label_id>
                {move || q.get().map(|q| rich(&q.label))}
                {move || q.with(|q| q.as_ref().is_some_and(|q| q.required && q.kind != QuestionKind::Note))
                    .then(|| view! { <span class="req" title=c.t(Msg::Required)>" *"</span> })}
            </div>
            {move || q.get().and_then(|q| q.hint).map(|h| view! { <p class="q-hint">{rich(&h)}</p> })}
            {widget}
            {move || {
                let text = local.get().map(|m| c.t(m).to_string())
                    .or_else(|| q.get().and_then(|q| q.error));
                text.map(|t| view! { <p class="q-error" role="alert">{t}</p> })
            }}
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn numbers_are_sent_as_numbers_and_bad_ones_explained() {
        assert_eq!(
            typed_value(QuestionKind::Integer, " 1975 "),
            Ok(json!(1975))
        );
        assert_eq!(
            typed_value(QuestionKind::Integer, "19,5"),
            Err(Msg::NotAWholeNumber)
        );
        assert_eq!(typed_value(QuestionKind::Decimal, "2,5"), Ok(json!(2.5)));
        assert_eq!(
            typed_value(QuestionKind::Decimal, "abc"),
            Err(Msg::NotANumber)
        );
        assert_eq!(typed_value(QuestionKind::Integer, ""), Ok(Value::Null));
        assert_eq!(typed_value(QuestionKind::Text, "Tày"), Ok(json!("Tày")));
    }

    #[test]
    fn decimals_show_a_comma_in_vietnamese_and_times_drop_zero_seconds() {
        assert_eq!(shown_value(QuestionKind::Decimal, "7.5", Lang::Vi), "7,5");
        assert_eq!(shown_value(QuestionKind::Decimal, "7.5", Lang::En), "7.5");
        assert_eq!(
            shown_value(QuestionKind::Time, "08:30:00", Lang::Vi),
            "08:30"
        );
        assert_eq!(
            shown_value(QuestionKind::Time, "08:30:15", Lang::En),
            "08:30:15"
        );
        assert_eq!(shown_value(QuestionKind::Integer, "1975", Lang::Vi), "1975");
        // What is shown reads back as the same answer.
        assert_eq!(
            typed_value(
                QuestionKind::Decimal,
                &shown_value(QuestionKind::Decimal, "7.5", Lang::Vi)
            ),
            Ok(json!(7.5))
        );
    }

    #[test]
    fn ticking_keeps_the_choices_order() {
        let ch: Vec<ChoiceView> = ["1", "2", "3"]
            .iter()
            .map(|v| ChoiceView {
                value: v.to_string(),
                label: v.to_string(),
            })
            .collect();
        assert_eq!(toggled("3", &ch, "1", true), json!(["1", "3"]));
        assert_eq!(toggled("1 3", &ch, "3", false), json!(["1"]));
        assert_eq!(toggled("", &ch, "2", true), json!(["2"]));
    }
}
