//! The shell every screen sits in: routing from the core's [`AppStatus`], the header with the
//! language switch, the navigation tabs, and the shared state screens reach through [`Ctx`].
//!
//! Stable selectors for the end-to-end tests (keep them when restyling):
//! - shell: `#lang-vi`, `#lang-en`, `#nav-assignments`, `#nav-sync` (`aria-busy="true"` while a
//!   sync runs), `#nav-settings`, `#flash`
//!   (confirmation banner), `#fatal-error` + `#retry-start` (the core could not start)
//! - enrol: `#enrol-server`, `#enrol-code`, `#enrol-pin`, `#enrol-pin2`, `#enrol-submit`, `#enrol-error`
//! - unlock: `#unlock-pin`, `#unlock-submit`, `#unlock-error`
//! - assignments: `#search`, `#progress`, `.assignment[data-id=<uuid>][data-state=<state>]`
//!   (`.assignment-open` button inside opens it), `.nr-open` (per assignment), `#notice`
//! - non-response dialog: `#nr-code` (select: refused, nobody_home, moved, ineligible, other),
//!   `#nr-note`, `#nr-revisit` (date, shown for nobody_home), `#nr-rule` (whether it is final),
//!   `#nr-submit`, `#nr-cancel`, `#nr-error`; afterwards `#nr-released` (banner naming the
//!   released reserve) or `#flash`. No `#nr-final`: finality is the survey's rule (proto::app).
//! - interview: `#interview[data-index=<i>]`, `#screen-title`, `#progress-bar`, `#jump-section`
//!   (select of first-screen indexes), `.q[data-path=<path>][data-kind=<kind>]` holding the inputs
//!   (radio/checkbox inputs have value=<choice value>; selects `.q-select`; text `.q-input`;
//!   geopoint `.q-lat`, `.q-lon`, `.q-gps`), `.q-error`, `.grid[data-list=<list>]` for grids,
//!   `#row-add`, `#row-remove`, `#back`, `#next` (on the last screen it opens the review),
//!   `#review` (open the review from any screen), `#leave`, `#screen-error`; `html[data-saving]`
//!   while answers and moves wait to reach the core
//! - review: `.problem[data-path=<path>]` (button: go to its screen), `#complete`, `#review-back`
//! - sync: `#sync-pending`, `#sync-acked`, `#sync-last`, `#sync-error`, `#sync-now`, `#sync-bar`,
//!   `#sync-result`
//! - settings: `#settings-server`, `#settings-device`, `#store-path`, `#schema-version`,
//!   `#app-version`, `#lock-now`, `#settings-autolock-<minutes>` (radio: 1, 2, 5, 10, 15, 30)

use crate::i18n::{Lang, Msg, fill};
use crate::ipc;
use crate::screens;
use fieldpost_proto::app::{AppStatus, CommandError, ScreenView, SyncProgress};
use leptos::prelude::*;
use leptos::task::spawn_local;
use uuid::Uuid;

const LANG_KEY: &str = "fieldpost.lang";

/// Which screen is showing.
#[derive(Debug, Clone, PartialEq)]
pub enum Route {
    Loading,
    /// The core could not tell where the app stands (store unavailable, ...).
    Failed(CommandError),
    Enrol,
    Unlock,
    Assignments,
    /// An interview, opened at this screen.
    Interview(ScreenView),
    /// The review of an interview; `index` is the screen to go back to.
    Review {
        interview_id: Uuid,
        index: usize,
        /// The household's name, for the confirmation once completed.
        name: String,
    },
    Sync,
    Settings,
}

/// A banner on the assignment list confirming what just happened (kept as a message, not as
/// text, so it follows a language switch).
#[derive(Debug, Clone, PartialEq)]
pub struct Flash {
    pub id: &'static str,
    pub msg: Msg,
    pub args: Vec<String>,
    /// Draws attention (a released reserve) rather than confirming.
    pub strong: bool,
}

/// State shared by every screen.
#[derive(Clone, Copy)]
pub struct Ctx {
    pub lang: RwSignal<Lang>,
    pub route: RwSignal<Route>,
    pub status: RwSignal<Option<AppStatus>>,
    pub flash: RwSignal<Option<Flash>>,
    /// The last `sync-progress` event of the sync running now.
    pub sync_progress: RwSignal<Option<SyncProgress>>,
    /// A sync is on its way. Here, not on the sync screen: the enumerator may go on working
    /// while it runs, and find it still running (or its outcome) on coming back.
    pub sync_running: RwSignal<bool>,
    /// How the last sync started from this screen ended, until the next one starts.
    pub sync_result: RwSignal<Option<Result<(), CommandError>>>,
    /// Bumped once the core has switched language: screens holding questionnaire text from
    /// the core fetch it again.
    pub lang_epoch: RwSignal<u32>,
}

impl Ctx {
    /// The message in the current language (reactive: call it inside a closure).
    pub fn t(&self, m: Msg) -> &'static str {
        m.text(self.lang.get())
    }

    /// The message with its blanks filled.
    pub fn tf(&self, m: Msg, args: &[&str]) -> String {
        fill(self.t(m), args)
    }

    pub fn go(&self, r: Route) {
        self.route.set(r);
    }

    /// Applies a status the core returned and goes where it says.
    pub fn arrive(&self, s: AppStatus) {
        let r = route_for(&s);
        self.status.set(Some(s));
        self.route.set(r);
    }
}

pub fn ctx() -> Ctx {
    expect_context::<Ctx>()
}

/// Not enrolled: enrol. Enrolled but locked: unlock. Otherwise the assignment list.
pub fn route_for(s: &AppStatus) -> Route {
    if !s.enrolled {
        Route::Enrol
    } else if !s.unlocked {
        Route::Unlock
    } else {
        Route::Assignments
    }
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window().and_then(|w| w.local_storage().ok().flatten())
}

fn saved_lang() -> Option<Lang> {
    storage()
        .and_then(|s| s.get_item(LANG_KEY).ok().flatten())
        .and_then(|t| Lang::from_tag(&t))
}

fn remember_lang(lang: Lang) {
    if let Some(s) = storage() {
        // Losing the preference is harmless: the core keeps it too.
        let _ = s.set_item(LANG_KEY, lang.tag());
    }
    if let Some(el) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.document_element())
    {
        let _ = el.set_attribute("lang", lang.tag());
    }
}

/// How often the UI asks the core whether the idle time has passed.
const IDLE_CHECK_MS: i32 = 20_000;

/// Every [`IDLE_CHECK_MS`], asks the core whether the store locked itself for lack of use
/// (the asking is no use: the core decides, see app-core's `idle`), and if it did, shows the
/// unlock screen, so nothing personal stays on a screen nobody touches.
fn watch_idle(c: Ctx) {
    use wasm_bindgen::JsCast;
    use wasm_bindgen::prelude::Closure;
    let tick = Closure::<dyn FnMut()>::new(move || {
        let here = c.route.get_untracked();
        if matches!(
            here,
            Route::Loading | Route::Failed(_) | Route::Enrol | Route::Unlock
        ) {
            return;
        }
        spawn_local(async move {
            if let Ok(s) = ipc::idle_check().await
                && s.enrolled
                && !s.unlocked
            {
                c.status.set(Some(s));
                c.go(Route::Unlock);
            }
        });
    });
    if let Some(w) = web_sys::window() {
        let _ = w.set_interval_with_callback_and_timeout_and_arguments_0(
            tick.as_ref().unchecked_ref(),
            IDLE_CHECK_MS,
        );
    }
    // The timer lives as long as the page: the closure must too.
    tick.forget();
}

/// Asks the core where the app stands and routes there. The local language choice wins over
/// the core's (the user may have switched before enrolling), and the core is told about it.
fn start(c: Ctx) {
    c.route.set(Route::Loading);
    spawn_local(async move {
        match ipc::app_status().await {
            Ok(s) => {
                let local = saved_lang();
                match local {
                    Some(l) if l.to_core() != s.language => {
                        let _ = ipc::set_language(l.to_core()).await;
                    }
                    Some(_) => {}
                    None => c.lang.set(Lang::from_core(s.language)),
                }
                c.arrive(s);
            }
            Err(e) => c.go(Route::Failed(e)),
        }
    });
}

#[component]
pub fn App() -> impl IntoView {
    let c = Ctx {
        lang: RwSignal::new(saved_lang().unwrap_or_default()),
        route: RwSignal::new(Route::Loading),
        status: RwSignal::new(None),
        flash: RwSignal::new(None),
        sync_progress: RwSignal::new(None),
        sync_running: RwSignal::new(false),
        sync_result: RwSignal::new(None),
        lang_epoch: RwSignal::new(0),
    };
    provide_context(c);
    Effect::new(move |_| remember_lang(c.lang.get()));
    ipc::on_locked(move || {
        c.status.update(|s| {
            if let Some(s) = s {
                s.unlocked = false;
            }
        });
        c.go(Route::Unlock);
    });
    spawn_local(async move {
        ipc::listen_sync_progress(move |p| c.sync_progress.set(Some(p))).await;
    });
    start(c);
    watch_idle(c);

    view! {
        <Header/>
        <main id="main">
            {move || match c.route.get() {
                Route::Loading => view! { <p class="loading" aria-busy="true">{c.t(Msg::Loading)}</p> }.into_any(),
                Route::Failed(e) => view! {
                    <section class="card">
                        <screens::common::ErrorBox id="fatal-error" error=e/>
                        <button class="primary" id="retry-start" on:click=move |_| start(c)>
                            {move || c.t(Msg::TryAgain)}
                        </button>
                    </section>
                }.into_any(),
                Route::Enrol => view! { <screens::enrol::Enrol/> }.into_any(),
                Route::Unlock => view! { <screens::unlock::Unlock/> }.into_any(),
                Route::Assignments => view! { <screens::assignments::Assignments/> }.into_any(),
                Route::Interview(v) => view! { <screens::interview::Interview initial=v/> }.into_any(),
                Route::Review { interview_id, index, name } => {
                    view! { <screens::review::ReviewScreen interview_id index name/> }.into_any()
                }
                Route::Sync => view! { <screens::sync::Sync/> }.into_any(),
                Route::Settings => view! { <screens::settings::Settings/> }.into_any(),
            }}
        </main>
    }
}

/// The red bar: app name, language switch, and (once unlocked) the navigation tabs.
#[component]
fn Header() -> impl IntoView {
    let c = ctx();
    let switch = move |l: Lang| {
        if c.lang.get_untracked() == l {
            return;
        }
        c.lang.set(l);
        spawn_local(async move {
            // The local choice stands even if the core cannot store it now (e.g. still locked).
            if let Ok(s) = ipc::set_language(l.to_core()).await {
                c.status.set(Some(s));
            }
            c.lang_epoch.update(|e| *e += 1);
        });
    };
    let lang_button = move |l: Lang, label: &'static str| {
        view! {
            <button
                id=format!("lang-{}", l.tag())
                lang=l.tag()
                aria-pressed=move || (c.lang.get() == l).to_string()
                on:click=move |_| switch(l)
            >
                {label}
            </button>
        }
    };
    let unlocked = move || c.status.get().is_some_and(|s| s.enrolled && s.unlocked);
    let tab = move |id: &'static str, m: Msg, r: Route| {
        let target = r.clone();
        let current = move || {
            let now = c.route.get();
            match (&target, &now) {
                (Route::Assignments, Route::Interview(_) | Route::Review { .. }) => true,
                _ => std::mem::discriminant(&target) == std::mem::discriminant(&now),
            }
        };
        let busy = move || id == "nav-sync" && c.sync_running.get();
        view! {
            <button
                id=id
                class="tab"
                aria-current=move || if current() { "page" } else { "false" }
                aria-busy=move || if busy() { "true" } else { "false" }
                on:click=move |_| c.go(r.clone())
            >
                {move || c.t(m)}
                <Show when=busy><span class="tab-busy" aria-hidden="true"></span></Show>
            </button>
        }
    };
    view! {
        <header class="bar">
            <h1>"FieldPost"</h1>
            <div class="lang-switch" role="group" aria-label=move || c.t(Msg::LanguageLabel)>
                {lang_button(Lang::Vi, "Tiếng Việt")}
                {lang_button(Lang::En, "English")}
            </div>
        </header>
        <Show when=unlocked>
            <nav class="tabs" aria-label=move || c.t(Msg::Menu)>
                {tab("nav-assignments", Msg::NavAssignments, Route::Assignments)}
                {tab("nav-sync", Msg::NavSync, Route::Sync)}
                {tab("nav-settings", Msg::NavSettings, Route::Settings)}
            </nav>
        </Show>
    }
}
