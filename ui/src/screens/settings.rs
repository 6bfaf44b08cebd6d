//! Settings: language, the idle time after which the app locks itself, the server this
//! device enrolled with (fixed), what support staff ask
//! for (device id, data file, schema version), and the app's version.

use crate::app::ctx;
use crate::i18n::{Lang, Msg};
use crate::ipc;
use leptos::prelude::*;
use leptos::task::spawn_local;

#[component]
pub fn Settings() -> impl IntoView {
    let c = ctx();
    let lock = move |_| {
        spawn_local(async move {
            if let Ok(s) = ipc::lock().await {
                c.arrive(s);
            }
        })
    };
    let set_lang = move |l: Lang| {
        c.lang.set(l);
        spawn_local(async move {
            if let Ok(s) = ipc::set_language(l.to_core()).await {
                c.status.set(Some(s));
            }
            c.lang_epoch.update(|e| *e += 1);
        });
    };
    let set_auto_lock = move |minutes: u32| {
        spawn_local(async move {
            if let Ok(s) = ipc::set_auto_lock(minutes).await {
                c.status.set(Some(s));
            }
        });
    };
    view! {
        <section class="settings">
            <h2 class="screen-title">{move || c.t(Msg::NavSettings)}</h2>
            <div class="card">
                <h3>{move || c.t(Msg::LanguageLabel)}</h3>
                <div class="choices" role="radiogroup" aria-label=move || c.t(Msg::LanguageLabel)>
                    {[(Lang::Vi, "Tiếng Việt"), (Lang::En, "English")].into_iter().map(|(l, name)| view! {
                        <label class="choice">
                            <input type="radio" name="settings-lang" id=format!("settings-lang-{}", l.tag())
                                prop:checked=move || c.lang.get() == l on:change=move |_| set_lang(l)/>
                            <span lang=l.tag()>{name}</span>
                        </label>
                    }).collect_view()}
                </div>
            </div>
            <div class="card">
                <h3>{move || c.t(Msg::AutoLockLabel)}</h3>
                <p><small class="muted">{move || c.t(Msg::AutoLockHelp)}</small></p>
                <div class="choices" role="radiogroup" aria-label=move || c.t(Msg::AutoLockLabel)>
                    {[1u32, 2, 5, 10, 15, 30].into_iter().map(|m| view! {
                        <label class="choice">
                            <input type="radio" name="settings-autolock" id=format!("settings-autolock-{m}")
                                prop:checked=move || c.status.get().is_some_and(|s| s.auto_lock_minutes == m)
                                on:change=move |_| set_auto_lock(m)/>
                            <span>{move || c.tf(Msg::AutoLockMinutes, &[&m.to_string()])}</span>
                        </label>
                    }).collect_view()}
                </div>
            </div>
            {move || c.status.get().map(|s| view! {
                <dl class="facts card">
                    <dt>{c.t(Msg::ServerAddress)}</dt>
                    <dd>
                        <span id="settings-server">{s.server_url.clone().unwrap_or_default()}</span>
                        <br/><small class="muted">{c.t(Msg::ServerFixed)}</small>
                    </dd>
                    {s.enumerator.clone().map(|e| view! { <dt>{c.t(Msg::Enumerator)}</dt><dd id="settings-enumerator">{e}</dd> })}
                    {s.survey_title.clone().map(|t| view! { <dt>{c.t(Msg::Survey)}</dt><dd>{t}</dd> })}
                    <dt>{c.t(Msg::DeviceId)}</dt>
                    <dd id="settings-device" class="mono">{s.device_id.to_string()}</dd>
                    <dt>{c.t(Msg::StorePath)}</dt>
                    <dd id="store-path" class="mono">{s.store.path.clone()}</dd>
                    <dt>{c.t(Msg::SchemaVersion)}</dt>
                    <dd id="schema-version">{s.store.schema_version}</dd>
                </dl>
            })}
            <div class="card">
                <h3>{move || c.t(Msg::About)}</h3>
                <p>{move || c.t(Msg::Tagline)}</p>
                <p>{move || c.t(Msg::Version)}": "<span id="app-version">{env!("CARGO_PKG_VERSION")}</span></p>
            </div>
            <button id="lock-now" class="secondary wide" on:click=lock>{move || c.t(Msg::LockNow)}</button>
        </section>
    }
}
