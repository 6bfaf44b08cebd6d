//! Enrol: the server address and one-time code from the supervisor, then a PIN typed twice.

use crate::app::ctx;
use crate::i18n::Msg;
use crate::ipc;
use crate::screens::common::maybe_error;
use fieldpost_proto::app::{CommandError, EnrolRequest};
use leptos::prelude::*;
use leptos::task::spawn_local;

/// The PIN rule the core enforces too (checked here first so the enumerator hears it at once).
pub fn pin_ok(pin: &str) -> bool {
    pin.len() >= 6 && pin.chars().all(|c| c.is_ascii_digit())
}

/// What is wrong with the form before it goes to the core, if anything.
pub fn check(server: &str, code: &str, pin: &str, pin2: &str) -> Option<Msg> {
    if server.trim().is_empty() || code.trim().is_empty() {
        Some(Msg::FieldRequired)
    } else if !pin_ok(pin) {
        Some(Msg::PinTooShort)
    } else if pin != pin2 {
        Some(Msg::PinMismatch)
    } else {
        None
    }
}

#[component]
pub fn Enrol() -> impl IntoView {
    let c = ctx();
    let prefill = c
        .status
        .get_untracked()
        .and_then(|s| s.server_url)
        .unwrap_or_default();
    let server = RwSignal::new(prefill);
    let code = RwSignal::new(String::new());
    let fingerprint = RwSignal::new(String::new());
    let pin = RwSignal::new(String::new());
    let pin2 = RwSignal::new(String::new());
    let problem = RwSignal::new(None::<Msg>);
    let error = RwSignal::new(None::<CommandError>);
    let busy = RwSignal::new(false);

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let (s, k, p, p2) = (server.get(), code.get(), pin.get(), pin2.get());
        let f = fingerprint.get();
        problem.set(
            check(&s, &k, &p, &p2).or_else(|| f.trim().is_empty().then_some(Msg::FieldRequired)),
        );
        error.set(None);
        if problem.get_untracked().is_some() || busy.get_untracked() {
            return;
        }
        busy.set(true);
        spawn_local(async move {
            let req = EnrolRequest {
                server_url: s.trim().to_string(),
                code: k.trim().to_string(),
                server_fingerprint: f.trim().to_string(),
                pin: p,
            };
            match ipc::enrol(&req).await {
                Ok(st) => c.arrive(st),
                Err(e) => error.set(Some(e)),
            }
            busy.set(false);
        });
    };

    view! {
        <section class="card narrow">
            <h2>{move || c.t(Msg::EnrolTitle)}</h2>
            <p class="muted">{move || c.t(Msg::EnrolIntro)}</p>
            <form on:submit=submit novalidate>
                <label class="field">
                    <span>{move || c.t(Msg::ServerAddress)}</span>
                    <input id="enrol-server" type="url" inputmode="url" autocomplete="url"
                        prop:value=server on:input=move |ev| server.set(event_target_value(&ev))/>
                </label>
                <label class="field">
                    <span>{move || c.t(Msg::EnrolCode)}</span>
                    <input id="enrol-code" type="text" autocomplete="one-time-code" autocapitalize="characters"
                        prop:value=code on:input=move |ev| code.set(event_target_value(&ev))/>
                </label>
                <label class="field">
                    <span>{move || c.t(Msg::ServerFingerprint)}</span>
                    <input id="enrol-fingerprint" type="text" autocomplete="off" autocapitalize="none" spellcheck="false"
                        prop:value=fingerprint on:input=move |ev| fingerprint.set(event_target_value(&ev))/>
                    <small class="muted">{move || c.t(Msg::ServerFingerprintHint)}</small>
                </label>
                <p class="muted small">{move || c.t(Msg::PinWhy)}</p>
                <label class="field">
                    <span>{move || c.t(Msg::PinChoose)}</span>
                    <input id="enrol-pin" type="password" inputmode="numeric" autocomplete="new-password"
                        prop:value=pin on:input=move |ev| pin.set(event_target_value(&ev))/>
                </label>
                <label class="field">
                    <span>{move || c.t(Msg::PinAgain)}</span>
                    <input id="enrol-pin2" type="password" inputmode="numeric" autocomplete="new-password"
                        prop:value=pin2 on:input=move |ev| pin2.set(event_target_value(&ev))/>
                </label>
                {move || problem.get().map(|m| view! { <p class="status-err" id="enrol-problem" role="alert">{c.t(m)}</p> })}
                {move || maybe_error("enrol-error", error.get())}
                <button class="primary wide" id="enrol-submit" type="submit" disabled=busy>
                    {move || c.t(if busy.get() { Msg::Working } else { Msg::EnrolSubmit })}
                </button>
            </form>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pin_needs_six_digits_typed_twice_the_same() {
        assert_eq!(check("http://s", "AB12", "123456", "123456"), None);
        assert_eq!(
            check("http://s", "AB12", "12345", "12345"),
            Some(Msg::PinTooShort)
        );
        assert_eq!(
            check("http://s", "AB12", "12345a", "12345a"),
            Some(Msg::PinTooShort)
        );
        assert_eq!(
            check("http://s", "AB12", "123456", "123457"),
            Some(Msg::PinMismatch)
        );
        assert_eq!(
            check(" ", "AB12", "123456", "123456"),
            Some(Msg::FieldRequired)
        );
        assert_eq!(
            check("http://s", "", "123456", "123456"),
            Some(Msg::FieldRequired)
        );
    }
}
