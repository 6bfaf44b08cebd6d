//! The start screen: the app's name, a language switch, and the state of the local store.

use crate::i18n::{Lang, Msg};
use crate::ipc;
use fieldpost_proto::app::{CommandError, StoreInfo};
use leptos::prelude::*;
use leptos::task::spawn_local;

const LANG_KEY: &str = "fieldpost.lang";

fn saved_lang() -> Lang {
    web_sys::window()
        .and_then(|w| w.local_storage().ok().flatten())
        .and_then(|s| s.get_item(LANG_KEY).ok().flatten())
        .and_then(|t| Lang::from_tag(&t))
        .unwrap_or_default()
}

fn remember_lang(lang: Lang) {
    if let Some(w) = web_sys::window() {
        if let Ok(Some(s)) = w.local_storage() {
            // Losing the preference is harmless: the next start shows Vietnamese.
            let _ = s.set_item(LANG_KEY, lang.tag());
        }
        if let Some(el) = w.document().and_then(|d| d.document_element()) {
            let _ = el.set_attribute("lang", lang.tag());
        }
    }
}

#[component]
pub fn App() -> impl IntoView {
    let (lang, set_lang) = signal(saved_lang());
    Effect::new(move |_| remember_lang(lang.get()));
    let t = move |m: Msg| m.text(lang.get());

    let (store, set_store) = signal(None::<Result<StoreInfo, CommandError>>);
    let check = move || {
        set_store.set(None);
        spawn_local(async move { set_store.set(Some(ipc::store_info().await)) });
    };
    check();

    let lang_button = move |l: Lang, label: &'static str| {
        view! {
            <button
                id=format!("lang-{}", l.tag())
                aria-pressed=move || (lang.get() == l).to_string()
                on:click=move |_| set_lang.set(l)
            >
                {label}
            </button>
        }
    };

    view! {
        <header class="bar">
            <h1>"FieldPost"</h1>
            <div class="lang-switch" role="group" aria-label=move || t(Msg::LanguageLabel)>
                {lang_button(Lang::Vi, "Tiếng Việt")}
                {lang_button(Lang::En, "English")}
            </div>
        </header>
        <main>
            <p class="tagline" id="tagline">{move || t(Msg::Tagline)}</p>
            <section class="card" id="store-card">
                <h2>{move || t(Msg::StoreHeading)}</h2>
                {move || match store.get() {
                    None => view! { <p id="store-status">{t(Msg::StoreChecking)}</p> }.into_any(),
                    Some(Ok(info)) => view! {
                        <p id="store-status" class="status-ok">{t(Msg::StoreReady)}</p>
                        <dl class="facts">
                            <dt>{t(Msg::SchemaVersion)}</dt>
                            <dd id="schema-version">{info.schema_version}</dd>
                            <dt>{t(Msg::StorePath)}</dt>
                            <dd id="store-path">{info.path}</dd>
                        </dl>
                    }.into_any(),
                    Some(Err(e)) => view! {
                        <p id="store-status" class="status-err" role="alert">{t(Msg::Error(e.code))}</p>
                        <p><small>{t(Msg::ErrorDetail)}": "{e.detail}</small></p>
                    }.into_any(),
                }}
                <button class="primary" id="check-store" on:click=move |_| check()>
                    {move || t(Msg::CheckAgain)}
                </button>
            </section>
        </main>
    }
}
