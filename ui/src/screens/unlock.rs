//! Unlock: the PIN opens the device's data. A wrong PIN keeps what was typed, so a slip of one
//! digit can be corrected rather than retyped.

use crate::app::ctx;
use crate::i18n::Msg;
use crate::ipc;
use crate::screens::common::maybe_error;
use fieldpost_proto::app::CommandError;
use leptos::prelude::*;
use leptos::task::spawn_local;

#[component]
pub fn Unlock() -> impl IntoView {
    let c = ctx();
    let pin = RwSignal::new(String::new());
    let error = RwSignal::new(None::<CommandError>);
    let busy = RwSignal::new(false);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        busy.set(true);
        error.set(None);
        let p = pin.get_untracked();
        spawn_local(async move {
            match ipc::unlock(&p).await {
                Ok(st) => c.arrive(st),
                Err(e) => error.set(Some(e)),
            }
            busy.set(false);
        });
    };
    let who = move || c.status.get().and_then(|s| s.enumerator);
    view! {
        <section class="card narrow">
            <h2>{move || c.t(Msg::UnlockTitle)}</h2>
            {move || who().map(|w| view! { <p class="who">{w}</p> })}
            <p class="muted">{move || c.t(Msg::UnlockIntro)}</p>
            <form on:submit=submit>
                <label class="field">
                    <span>{move || c.t(Msg::Pin)}</span>
                    <input id="unlock-pin" type="password" inputmode="numeric" autocomplete="current-password"
                        autofocus prop:value=pin on:input=move |ev| pin.set(event_target_value(&ev))/>
                </label>
                {move || maybe_error("unlock-error", error.get())}
                <button class="primary wide" id="unlock-submit" type="submit" disabled=busy>
                    {move || c.t(if busy.get() { Msg::Working } else { Msg::UnlockSubmit })}
                </button>
            </form>
        </section>
    }
}
