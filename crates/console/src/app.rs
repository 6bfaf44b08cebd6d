//! The console's screens. Each screen reads the API when it opens (and on "Refresh"), shows
//! what it got with the time it was read, and says in the reader's language what went wrong
//! when a call fails. The server decides who may see what; the navigation only hides what a
//! role would be refused anyway.

use crate::api::{self, ApiFailure};
use crate::i18n::{Lang, Msg, fill};
use crate::logic;
use fieldpost_proto::v1::{
    Account, AccountInfo, EnrolmentCode, ErrorCode, Incidents, LoginRequest, LoginResponse,
    NewAccount, NewEnrolmentCode, PasswordReset, Progress, ProgressBy, Role, Survey,
};
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use uuid::Uuid;

const SESSION_KEY: &str = "fieldpost-console-session";
const LANG_KEY: &str = "fieldpost-console-lang";

/// A signed-in person: the bearer token and who it belongs to. Kept in the tab's session
/// storage, so a reload stays signed in and closing the tab forgets it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Session {
    pub token: String,
    pub account: Account,
}

/// The console's screens, each at `#/<slug>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Screen {
    Progress,
    Surveys,
    Accounts,
    Enrol,
    Incidents,
}

impl Screen {
    const ALL: [Screen; 5] = [
        Screen::Progress,
        Screen::Surveys,
        Screen::Accounts,
        Screen::Enrol,
        Screen::Incidents,
    ];

    fn slug(self) -> &'static str {
        match self {
            Screen::Progress => "progress",
            Screen::Surveys => "surveys",
            Screen::Accounts => "accounts",
            Screen::Enrol => "enrol",
            Screen::Incidents => "incidents",
        }
    }

    fn label(self) -> Msg {
        match self {
            Screen::Progress => Msg::NavProgress,
            Screen::Surveys => Msg::NavSurveys,
            Screen::Accounts => Msg::NavAccounts,
            Screen::Enrol => Msg::NavEnrol,
            Screen::Incidents => Msg::NavIncidents,
        }
    }

    /// Whether `role` may open this screen: the same rule the API applies to its routes.
    pub fn allowed(self, role: Role) -> bool {
        match self {
            Screen::Progress | Screen::Surveys => {
                matches!(role, Role::Admin | Role::Coordinator | Role::RecheckTeam)
            }
            Screen::Incidents => matches!(role, Role::Admin | Role::Coordinator),
            Screen::Accounts | Screen::Enrol => role == Role::Admin,
        }
    }
}

/// What every screen reaches through the context.
#[derive(Clone, Copy)]
struct Ctx {
    lang: RwSignal<Lang>,
    session: RwSignal<Option<Session>>,
}

impl Ctx {
    fn t(&self, m: Msg) -> String {
        m.t(self.lang.get())
    }

    fn token(&self) -> String {
        self.session
            .get_untracked()
            .map(|s| s.token)
            .unwrap_or_default()
    }

    /// What a failure means for the reader; an expired session signs out at once.
    fn failure(&self, f: ApiFailure) -> Note {
        if f.is_unauthenticated() && self.session.get_untracked().is_some() {
            set_session(self.session, None);
        }
        Note::Failure(f)
    }

    /// A note in the language chosen now (it follows a later switch of language).
    fn render(&self, n: &Note) -> String {
        let lang = self.lang.get();
        match n {
            Note::Say(m, args) => {
                let args: Vec<&str> = args.iter().map(String::as_str).collect();
                fill(m.text(lang), &args)
            }
            Note::Failure(ApiFailure::Network(_)) => Msg::NetworkError.t(lang),
            Note::Failure(ApiFailure::Refused { body, .. }) => format!(
                "{} ({}: {})",
                Msg::Error(body.code).text(lang),
                Msg::ServerSaid.text(lang),
                body.message
            ),
            Note::Failure(ApiFailure::Decode(e)) => format!("{}: {e}", Msg::ServerSaid.text(lang)),
        }
    }
}

/// A message shown on a screen, kept as what it means rather than as text, so switching the
/// language translates it too.
#[derive(Debug, Clone)]
enum Note {
    Say(Msg, Vec<String>),
    Failure(ApiFailure),
}

impl Note {
    fn say(m: Msg) -> Self {
        Note::Say(m, Vec::new())
    }
}

fn set_session(s: RwSignal<Option<Session>>, v: Option<Session>) {
    let json = v.as_ref().and_then(|v| serde_json::to_string(v).ok());
    api::save(SESSION_KEY, json.as_deref(), true);
    s.set(v);
}

#[component]
pub fn App() -> impl IntoView {
    let lang = RwSignal::new(
        api::load(LANG_KEY, false)
            .and_then(|t| Lang::from_tag(&t))
            .unwrap_or_default(),
    );
    let session = RwSignal::new(
        api::load(SESSION_KEY, true).and_then(|s| serde_json::from_str::<Session>(&s).ok()),
    );
    let c = Ctx { lang, session };
    provide_context(c);
    Effect::new(move |_| {
        let l = lang.get();
        api::set_document_lang(l.tag());
        api::save(LANG_KEY, Some(l.tag()), false);
    });
    view! {
        <header class="top">
            <div class="brand">
                <strong>{move || c.t(Msg::AppName)}</strong>
                <span class="muted small tagline">{move || c.t(Msg::Tagline)}</span>
            </div>
            <div class="top-actions">
                <LangSwitch/>
                {move || {
                    session
                        .get()
                        .map(|s| {
                            let name = s.account.username.clone();
                            view! {
                                <span class="who small" id="who">
                                    {move || fill(&c.t(Msg::SignedInAs), &[&name])}
                                </span>
                                <button id="sign-out" class="secondary" on:click=move |_| sign_out(c)>
                                    {move || c.t(Msg::SignOut)}
                                </button>
                            }
                        })
                }}
            </div>
        </header>
        {move || match session.get() {
            None => view! { <SignIn/> }.into_any(),
            Some(s) => view! { <Signed role=s.account.role province=s.account.province.clone()/> }
                .into_any(),
        }}
    }
}

#[component]
fn LangSwitch() -> impl IntoView {
    let c = expect_context::<Ctx>();
    let pick = move |l: Lang| {
        view! {
            <button
                class="lang"
                id=format!("lang-{}", l.tag())
                aria-pressed=move || (c.lang.get() == l).to_string()
                on:click=move |_| c.lang.set(l)
            >
                {l.tag().to_uppercase()}
            </button>
        }
    };
    view! {
        <span class="langs" role="group" aria-label=move || c.t(Msg::Language)>
            {pick(Lang::Vi)}
            {pick(Lang::En)}
        </span>
    }
}

fn sign_out(c: Ctx) {
    let token = c.token();
    set_session(c.session, None);
    spawn_local(async move {
        // The server forgets the token; the console has already forgotten it either way.
        let _ =
            api::call::<serde_json::Value>("DELETE", "/sessions", Some(&token), None::<&()>).await;
    });
}

#[component]
fn SignIn() -> impl IntoView {
    let c = expect_context::<Ctx>();
    let username = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<Note>);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let req = LoginRequest {
            username: username.get_untracked().trim().to_string(),
            password: password.get_untracked(),
        };
        if req.username.is_empty() || req.password.is_empty() {
            error.set(Some(Note::say(Msg::Required)));
            return;
        }
        busy.set(true);
        error.set(None);
        spawn_local(async move {
            match api::call::<LoginResponse>("POST", "/sessions", None, Some(&req)).await {
                Ok(r) => {
                    password.set(String::new());
                    set_session(
                        c.session,
                        Some(Session {
                            token: r.token,
                            account: r.account,
                        }),
                    );
                }
                Err(f) => error.set(Some(c.failure(f))),
            }
            busy.set(false);
        });
    };
    view! {
        <main class="signin">
            <form class="card" on:submit=submit>
                <h1>{move || c.t(Msg::SignIn)}</h1>
                <label>
                    {move || c.t(Msg::Username)}
                    <input id="username" autocomplete="username" autocapitalize="none"
                        prop:value=move || username.get()
                        on:input=move |ev| username.set(event_target_value(&ev))/>
                </label>
                <label>
                    {move || c.t(Msg::Password)}
                    <input id="password" type="password" autocomplete="current-password"
                        prop:value=move || password.get()
                        on:input=move |ev| password.set(event_target_value(&ev))/>
                </label>
                {move || error.get().map(|e| view! { <p class="error" role="alert">{c.render(&e)}</p> })}
                <button id="sign-in" type="submit" disabled=move || busy.get()>
                    {move || c.t(if busy.get() { Msg::SigningIn } else { Msg::SignIn })}
                </button>
            </form>
        </main>
    }
}

#[component]
fn Signed(role: Role, province: Option<String>) -> impl IntoView {
    let c = expect_context::<Ctx>();
    let from_hash = Screen::ALL
        .into_iter()
        .find(|s| s.slug() == api::hash() && s.allowed(role));
    let first = Screen::ALL.into_iter().find(|s| s.allowed(role));
    let screen = RwSignal::new(from_hash.or(first));
    let nav = Screen::ALL
        .into_iter()
        .filter(|s| s.allowed(role))
        .map(|s| {
            view! {
                <a
                    href=format!("#/{}", s.slug())
                    id=format!("nav-{}", s.slug())
                    class:active=move || screen.get() == Some(s)
                    on:click=move |ev| {
                        ev.prevent_default();
                        api::set_hash(s.slug());
                        screen.set(Some(s));
                    }
                >
                    {move || c.t(s.label())}
                </a>
            }
        })
        .collect_view();
    view! {
        <nav class="nav">{nav}</nav>
        <main class="content">
            {move || match screen.get() {
                None => view! { <p class="error">{c.t(Msg::Error(ErrorCode::Forbidden))}</p> }
                    .into_any(),
                Some(Screen::Progress) => view! { <ProgressScreen role province=province.clone()/> }
                    .into_any(),
                Some(Screen::Surveys) => view! { <SurveysScreen/> }.into_any(),
                Some(Screen::Accounts) => view! { <AccountsScreen/> }.into_any(),
                Some(Screen::Enrol) => view! { <EnrolScreen/> }.into_any(),
                Some(Screen::Incidents) => view! { <IncidentsScreen/> }.into_any(),
            }}
        </main>
    }
}

/// "Based on N … · as of T" under a table's title.
fn basis(c: Ctx, interviews: u64, groups: usize, as_of: String) -> impl IntoView {
    view! {
        <p class="basis small muted">
            <span class="rests-on">
                {move || fill(&c.t(Msg::RestsOn), &[&interviews.to_string(), &groups.to_string()])}
            </span>
            " · "
            <span class="as-of">{move || fill(&c.t(Msg::AsOf), &[&as_of])}</span>
        </p>
    }
}

fn csv_button(c: Ctx, name: &'static str, make: impl Fn() -> String + 'static) -> impl IntoView {
    view! {
        <button class="secondary csv" on:click=move |_| {
            api::download(name, &make(), "text/csv;charset=utf-8")
        }>
            {move || c.t(Msg::DownloadCsv)}
        </button>
    }
}

fn error_line(c: Ctx, e: RwSignal<Option<Note>>) -> impl IntoView {
    move || {
        e.get()
            .map(|e| view! { <p class="error" role="alert">{c.render(&e)}</p> })
    }
}

#[component]
fn ProgressScreen(role: Role, province: Option<String>) -> impl IntoView {
    let c = expect_context::<Ctx>();
    // HQ starts with the country by province; a coordinator's one province is one line, so
    // they start by commune.
    let by = RwSignal::new(if role == Role::Admin {
        ProgressBy::Province
    } else {
        ProgressBy::Commune
    });
    let wanted = RwSignal::new(String::new());
    let known = RwSignal::new(Vec::<String>::new());
    let data = RwSignal::new(None::<(Progress, String)>);
    let error = RwSignal::new(None::<Note>);
    let names = RwSignal::new(HashMap::<String, String>::new());
    let load = move || {
        let b = by.get_untracked();
        let p = wanted.get_untracked();
        let by_tag = match b {
            ProgressBy::Province => "province",
            ProgressBy::Commune => "commune",
            ProgressBy::Stratum => "stratum",
            ProgressBy::Enumerator => "enumerator",
        };
        let mut path = format!("/progress?by={by_tag}");
        if !p.is_empty() {
            path.push_str(&format!("&province={}", logic::percent_encode(&p)));
        }
        spawn_local(async move {
            match api::get::<Progress>(&path, &c.token()).await {
                Ok(pr) => {
                    let mut seen = known.get_untracked();
                    for r in &pr.rows {
                        if !seen.contains(&r.province) {
                            seen.push(r.province.clone());
                        }
                    }
                    seen.sort();
                    known.set(seen);
                    error.set(None);
                    data.set(Some((pr, api::now_local())));
                }
                Err(f) => error.set(Some(c.failure(f))),
            }
        });
    };
    load();
    if role == Role::Admin {
        // Enumerators are grouped by account id; HQ may read the names.
        spawn_local(async move {
            if let Ok(list) = api::get::<Vec<AccountInfo>>("/accounts", &c.token()).await {
                names.set(
                    list.into_iter()
                        .map(|a| (a.account.id.to_string(), a.account.username))
                        .collect(),
                );
            }
        });
    }
    let table = move || {
        let (pr, as_of) = data.get()?;
        let lines = logic::pivot(&pr.rows);
        let names = names.get();
        let label = move |g: &str| names.get(g).cloned().unwrap_or_else(|| g.to_string());
        let completed: u64 = lines.iter().map(|l| l.completed).sum();
        let non_response: u64 = lines.iter().map(|l| l.non_response).sum();
        let groups = lines.len();
        let csv_lines = lines.clone();
        let csv_label = label.clone();
        let lang = c.lang.get();
        let by_now = pr.by;
        // By province the group is the province itself: one column, not two alike.
        let grouped = by_now != ProgressBy::Province;
        let make_csv = move || {
            let mut header = vec![Msg::Province.text(lang)];
            if grouped {
                header.push(Msg::By(by_now).text(lang));
            }
            header.extend([
                Msg::Completed.text(lang),
                Msg::NonResponse.text(lang),
                Msg::Total.text(lang),
            ]);
            logic::csv(
                &header,
                &csv_lines
                    .iter()
                    .map(|l| {
                        let mut row = vec![l.province.clone()];
                        if grouped {
                            row.push(csv_label(&l.group));
                        }
                        row.extend([
                            l.completed.to_string(),
                            l.non_response.to_string(),
                            l.total().to_string(),
                        ]);
                        row
                    })
                    .collect::<Vec<_>>(),
            )
        };
        let body = lines
            .iter()
            .map(|l| {
                view! {
                    <tr>
                        <td>{l.province.clone()}</td>
                        {grouped.then(|| view! { <td class="group">{label(&l.group)}</td> })}
                        <td class="num completed">{l.completed}</td>
                        <td class="num non-response">{l.non_response}</td>
                        <td class="num">{l.total()}</td>
                    </tr>
                }
            })
            .collect_view();
        Some(view! {
            {basis(c, completed + non_response, groups, as_of)}
            {if lines.is_empty() {
                Some(view! { <p class="muted">{c.t(Msg::NoInterviewsYet)}</p> })
            } else {
                None
            }}
            <div class="table-wrap" class:empty=lines.is_empty()>
                <table id="progress-table">
                    <thead>
                        <tr>
                            <th>{c.t(Msg::Province)}</th>
                            {grouped.then(|| view! { <th>{c.t(Msg::By(by_now))}</th> })}
                            <th class="num">{c.t(Msg::Completed)}</th>
                            <th class="num">{c.t(Msg::NonResponse)}</th>
                            <th class="num">{c.t(Msg::Total)}</th>
                        </tr>
                    </thead>
                    <tbody>{body}</tbody>
                    <tfoot>
                        <tr>
                            <th colspan=if grouped { "2" } else { "1" }>{c.t(Msg::Total)}</th>
                            <th class="num" id="total-completed">{completed}</th>
                            <th class="num" id="total-non-response">{non_response}</th>
                            <th class="num" id="total-all">{completed + non_response}</th>
                        </tr>
                    </tfoot>
                </table>
            </div>
            {csv_button(c, "tien-do.csv", make_csv)}
        })
    };
    let bys = [
        ProgressBy::Province,
        ProgressBy::Commune,
        ProgressBy::Stratum,
        ProgressBy::Enumerator,
    ];
    view! {
        <section class="screen" id="screen-progress">
            <h2>{move || c.t(Msg::ProgressTitle)}</h2>
            <p class="muted">{move || c.t(Msg::ProgressIntro)}</p>
            {province.map(|p| {
                view! { <p class="note" id="own-province">{move || fill(&c.t(Msg::OwnProvinceOnly), &[&p])}</p> }
            })}
            <div class="filters">
                <div class="tabs" role="group" aria-label=move || c.t(Msg::GroupBy)>
                    {bys
                        .into_iter()
                        .map(|b| {
                            view! {
                                <button
                                    class="tab"
                                    id=format!("by-{}", format!("{b:?}").to_lowercase())
                                    aria-pressed=move || (by.get() == b).to_string()
                                    on:click=move |_| {
                                        by.set(b);
                                        load();
                                    }
                                >
                                    {move || c.t(Msg::By(b))}
                                </button>
                            }
                        })
                        .collect_view()}
                </div>
                {(role == Role::Admin).then(|| view! {
                    <label class="inline">
                        {move || c.t(Msg::Province)}
                        <select id="province-filter" on:change=move |ev| {
                            wanted.set(event_target_value(&ev));
                            load();
                        }>
                            <option value="">{move || c.t(Msg::AllProvinces)}</option>
                            {move || known.get().into_iter().map(|p| {
                                let sel = wanted.get_untracked() == p;
                                view! { <option value=p.clone() selected=sel>{p.clone()}</option> }
                            }).collect_view()}
                        </select>
                    </label>
                })}
                <button id="refresh" class="secondary" on:click=move |_| load()>{move || c.t(Msg::Refresh)}</button>
            </div>
            {error_line(c, error)}
            {move || if data.with(|d| d.is_none()) && error.get().is_none() {
                Some(view! { <p class="muted">{c.t(Msg::Loading)}</p> })
            } else {
                None
            }}
            {table}
        </section>
    }
}

#[component]
fn SurveysScreen() -> impl IntoView {
    let c = expect_context::<Ctx>();
    let data = RwSignal::new(None::<(Vec<Survey>, String)>);
    let error = RwSignal::new(None::<Note>);
    spawn_local(async move {
        match api::get::<Vec<Survey>>("/surveys", &c.token()).await {
            Ok(s) => data.set(Some((s, api::now_local()))),
            Err(f) => error.set(Some(c.failure(f))),
        }
    });
    let table = move || {
        let (list, as_of) = data.get()?;
        let lang = c.lang.get();
        let rows: Vec<Vec<String>> = list
            .iter()
            .map(|s| {
                vec![
                    s.code.clone(),
                    s.title.clone(),
                    s.created_at.format("%Y-%m-%d").to_string(),
                    s.id.to_string(),
                ]
            })
            .collect();
        let csv_rows = rows.clone();
        let make = move || {
            logic::csv(
                &[
                    Msg::Code.text(lang),
                    Msg::Title.text(lang),
                    Msg::Created.text(lang),
                    Msg::Id.text(lang),
                ],
                &csv_rows,
            )
        };
        Some(view! {
            <p class="basis small muted">{fill(&c.t(Msg::AsOf), &[&as_of])}</p>
            {list.is_empty().then(|| view! { <p class="muted">{c.t(Msg::NoSurveys)}</p> })}
            <div class="table-wrap" class:empty=list.is_empty()>
                <table id="surveys-table">
                    <thead><tr>
                        <th>{c.t(Msg::Code)}</th><th>{c.t(Msg::Title)}</th>
                        <th>{c.t(Msg::Created)}</th><th>{c.t(Msg::Id)}</th>
                    </tr></thead>
                    <tbody>
                        {rows.into_iter().map(|r| view! {
                            <tr>
                                <td class="mono">{r[0].clone()}</td><td>{r[1].clone()}</td>
                                <td>{r[2].clone()}</td><td class="mono small">{r[3].clone()}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
            {csv_button(c, "cuoc-dieu-tra.csv", make)}
        })
    };
    view! {
        <section class="screen" id="screen-surveys">
            <h2>{move || c.t(Msg::SurveysTitle)}</h2>
            {error_line(c, error)}
            {table}
        </section>
    }
}

#[component]
fn AccountsScreen() -> impl IntoView {
    let c = expect_context::<Ctx>();
    let data = RwSignal::new(None::<(Vec<AccountInfo>, String)>);
    let error = RwSignal::new(None::<Note>);
    let notice = RwSignal::new(None::<Note>);
    let resetting = RwSignal::new(None::<Uuid>);
    let new_password = RwSignal::new(String::new());
    let load = move || {
        spawn_local(async move {
            match api::get::<Vec<AccountInfo>>("/accounts", &c.token()).await {
                Ok(s) => data.set(Some((s, api::now_local()))),
                Err(f) => error.set(Some(c.failure(f))),
            }
        });
    };
    load();
    // The create form.
    let username = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let role = RwSignal::new(Role::Enumerator);
    let province = RwSignal::new(String::new());
    let create = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let r = role.get_untracked();
        let p = province.get_untracked().trim().to_string();
        let req = NewAccount {
            username: username.get_untracked().trim().to_string(),
            password: password.get_untracked(),
            role: r,
            province: (!p.is_empty()).then_some(p),
        };
        if req.username.is_empty() || req.password.is_empty() {
            error.set(Some(Note::say(Msg::Required)));
            return;
        }
        spawn_local(async move {
            match api::call::<Account>("POST", "/accounts", Some(&c.token()), Some(&req)).await {
                Ok(a) => {
                    error.set(None);
                    notice.set(Some(Note::Say(Msg::AccountCreated, vec![a.username])));
                    username.set(String::new());
                    password.set(String::new());
                    load();
                }
                Err(f) => error.set(Some(c.failure(f))),
            }
        });
    };
    let act = move |id: Uuid, what: &'static str| {
        spawn_local(async move {
            let path = format!("/accounts/{id}/{what}");
            match api::call::<AccountInfo>("POST", &path, Some(&c.token()), None::<&()>).await {
                Ok(_) => {
                    error.set(None);
                    load();
                }
                Err(f) => error.set(Some(c.failure(f))),
            }
        });
    };
    let save_password = move |id: Uuid, name: String| {
        let req = PasswordReset {
            new_password: new_password.get_untracked(),
        };
        spawn_local(async move {
            let path = format!("/accounts/{id}/password");
            match api::call::<AccountInfo>("PUT", &path, Some(&c.token()), Some(&req)).await {
                Ok(_) => {
                    error.set(None);
                    resetting.set(None);
                    new_password.set(String::new());
                    notice.set(Some(Note::Say(Msg::PasswordWasReset, vec![name])));
                }
                Err(f) => error.set(Some(c.failure(f))),
            }
        });
    };
    let roles = [
        Role::Enumerator,
        Role::Coordinator,
        Role::RecheckTeam,
        Role::Admin,
    ];
    let table = move || {
        let (list, as_of) = data.get()?;
        let lang = c.lang.get();
        let csv_list = list.clone();
        let make = move || {
            logic::csv(
                &[
                    Msg::Username.text(lang),
                    Msg::RoleCol.text(lang),
                    Msg::Province.text(lang),
                    Msg::State.text(lang),
                ],
                &csv_list
                    .iter()
                    .map(|a| {
                        vec![
                            a.account.username.clone(),
                            Msg::Role(a.account.role).t(lang),
                            a.account.province.clone().unwrap_or_default(),
                            if a.disabled_at.is_some() {
                                Msg::Disabled.t(lang)
                            } else {
                                Msg::Active.t(lang)
                            },
                        ]
                    })
                    .collect::<Vec<_>>(),
            )
        };
        let n = list.len();
        Some(view! {
            <p class="basis small muted">
                {fill(&c.t(Msg::AccountsCount), &[&n.to_string()])}
                " · "
                {fill(&c.t(Msg::AsOf), &[&as_of])}
            </p>
            <div class="table-wrap">
                <table id="accounts-table">
                    <thead><tr>
                        <th>{c.t(Msg::Username)}</th><th>{c.t(Msg::RoleCol)}</th>
                        <th>{c.t(Msg::Province)}</th><th>{c.t(Msg::State)}</th>
                        <th>{c.t(Msg::Actions)}</th>
                    </tr></thead>
                    <tbody>
                        {list.into_iter().map(|a| {
                            let id = a.account.id;
                            let name = a.account.username.clone();
                            let disabled = a.disabled_at.is_some();
                            // The server refuses an admin disabling themself; offer nothing then.
                            let own = c.session.get_untracked().is_some_and(|s| s.account.id == id);
                            let reset_name = name.clone();
                            view! {
                                <tr data-username=name.clone()>
                                    <td class="mono">{name.clone()}</td>
                                    <td>{c.t(Msg::Role(a.account.role))}</td>
                                    <td>{a.account.province.clone().unwrap_or_default()}</td>
                                    <td class:disabled=disabled>
                                        {c.t(if disabled { Msg::Disabled } else { Msg::Active })}
                                    </td>
                                    <td class="actions">
                                        {if own {
                                            ().into_any()
                                        } else if disabled {
                                            view! { <button class="secondary small-btn enable" on:click=move |_| act(id, "enable")>{c.t(Msg::Enable)}</button> }.into_any()
                                        } else {
                                            view! { <button class="secondary small-btn disable" on:click=move |_| act(id, "disable")>{c.t(Msg::Disable)}</button> }.into_any()
                                        }}
                                        {move || if resetting.get() == Some(id) {
                                            let name = reset_name.clone();
                                            view! {
                                                <span class="reset">
                                                    <input type="password" class="new-password" autocomplete="new-password"
                                                        aria-label=c.t(Msg::NewPassword) placeholder=c.t(Msg::NewPassword)
                                                        prop:value=move || new_password.get()
                                                        on:input=move |ev| new_password.set(event_target_value(&ev))/>
                                                    <button class="small-btn" on:click=move |_| save_password(id, name.clone())>{c.t(Msg::Save)}</button>
                                                    <button class="secondary small-btn" on:click=move |_| resetting.set(None)>{c.t(Msg::Cancel)}</button>
                                                </span>
                                            }.into_any()
                                        } else {
                                            view! { <button class="secondary small-btn reset-password" on:click=move |_| { new_password.set(String::new()); resetting.set(Some(id)) }>{c.t(Msg::ResetPassword)}</button> }.into_any()
                                        }}
                                    </td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
            {csv_button(c, "tai-khoan.csv", make)}
        })
    };
    view! {
        <section class="screen" id="screen-accounts">
            <h2>{move || c.t(Msg::AccountsTitle)}</h2>
            {error_line(c, error)}
            {move || notice.get().map(|n| view! { <p class="ok" role="status">{c.render(&n)}</p> })}
            <form class="card create" id="create-account" on:submit=create>
                <h3>{move || c.t(Msg::CreateAccount)}</h3>
                <div class="grid">
                    <label>{move || c.t(Msg::Username)}
                        <input id="new-username" autocapitalize="none" prop:value=move || username.get()
                            on:input=move |ev| username.set(event_target_value(&ev))/>
                    </label>
                    <label>{move || c.t(Msg::Password)}
                        <input id="new-password" type="password" autocomplete="new-password" prop:value=move || password.get()
                            on:input=move |ev| password.set(event_target_value(&ev))/>
                    </label>
                    <label>{move || c.t(Msg::RoleCol)}
                        <select id="new-role" on:change=move |ev| {
                            if let Some(r) = Role::parse(&event_target_value(&ev)) { role.set(r) }
                        }>
                            {roles.into_iter().map(|r| view! {
                                <option value=r.as_str() selected=move || role.get() == r>{move || c.t(Msg::Role(r))}</option>
                            }).collect_view()}
                        </select>
                    </label>
                    <label>{move || c.t(Msg::ProvinceCode)}
                        <input id="new-province" inputmode="numeric" prop:value=move || province.get()
                            on:input=move |ev| province.set(event_target_value(&ev))/>
                    </label>
                </div>
                <button id="create-account-submit" type="submit">{move || c.t(Msg::Create)}</button>
            </form>
            {table}
        </section>
    }
}

#[component]
fn EnrolScreen() -> impl IntoView {
    let c = expect_context::<Ctx>();
    let surveys = RwSignal::new(Vec::<Survey>::new());
    let enumerators = RwSignal::new(Vec::<String>::new());
    let survey = RwSignal::new(None::<Uuid>);
    let enumerator = RwSignal::new(String::new());
    let issued = RwSignal::new(None::<(EnrolmentCode, String)>);
    let error = RwSignal::new(None::<Note>);
    spawn_local(async move {
        match api::get::<Vec<Survey>>("/surveys", &c.token()).await {
            Ok(s) => {
                survey.set(s.first().map(|s| s.id));
                surveys.set(s);
            }
            Err(f) => error.set(Some(c.failure(f))),
        }
        match api::get::<Vec<AccountInfo>>("/accounts", &c.token()).await {
            Ok(list) => {
                let names: Vec<String> = list
                    .into_iter()
                    .filter(|a| a.account.role == Role::Enumerator && a.disabled_at.is_none())
                    .map(|a| a.account.username)
                    .collect();
                enumerator.set(names.first().cloned().unwrap_or_default());
                enumerators.set(names);
            }
            Err(f) => error.set(Some(c.failure(f))),
        }
    });
    let make = move |_| {
        let (Some(survey_id), name) = (survey.get_untracked(), enumerator.get_untracked()) else {
            error.set(Some(Note::say(Msg::Required)));
            return;
        };
        if name.is_empty() {
            error.set(Some(Note::say(Msg::Required)));
            return;
        }
        let req = NewEnrolmentCode {
            survey_id,
            enumerator: name,
        };
        spawn_local(async move {
            match api::call::<EnrolmentCode>(
                "POST",
                "/enrolment-codes",
                Some(&c.token()),
                Some(&req),
            )
            .await
            {
                Ok(code) => {
                    error.set(None);
                    issued.set(Some((code, req.enumerator)));
                }
                Err(f) => error.set(Some(c.failure(f))),
            }
        });
    };
    view! {
        <section class="screen" id="screen-enrol">
            <h2>{move || c.t(Msg::EnrolTitle)}</h2>
            <p class="muted">{move || c.t(Msg::EnrolIntro)}</p>
            <div class="card">
                <div class="grid">
                    <label>{move || c.t(Msg::Survey)}
                        <select id="enrol-survey" on:change=move |ev| survey.set(event_target_value(&ev).parse().ok())>
                            {move || surveys.get().into_iter().map(|s| {
                                let id = s.id;
                                view! { <option value=id.to_string() selected=move || survey.get() == Some(id)>{format!("{} — {}", s.code, s.title)}</option> }
                            }).collect_view()}
                        </select>
                    </label>
                    <label>{move || c.t(Msg::Enumerator)}
                        <select id="enrol-enumerator" on:change=move |ev| enumerator.set(event_target_value(&ev))>
                            {move || enumerators.get().into_iter().map(|n| {
                                let sel = n.clone();
                                view! { <option value=n.clone() selected=move || enumerator.get() == sel>{n.clone()}</option> }
                            }).collect_view()}
                        </select>
                    </label>
                </div>
                {move || enumerators.with(|e| e.is_empty()).then(|| view! { <p class="muted small">{c.t(Msg::NoEnumerators)}</p> })}
                <button id="make-code" on:click=make>{move || c.t(Msg::MakeCode)}</button>
            </div>
            {error_line(c, error)}
            {move || issued.get().map(|(code, who)| {
                let server = api::origin();
                let link = logic::enrol_link(&server, &code.code, &code.server_fingerprint);
                let svg = logic::qr_svg(&link).unwrap_or_default();
                view! {
                    <div class="card issued" id="issued">
                        <div class="qr" id="qr" role="img" aria-label=c.t(Msg::ScanWithApp) inner_html=svg></div>
                        <dl class="code-facts">
                            <dt>{c.t(Msg::Enumerator)}</dt><dd>{who}</dd>
                            <dt>{c.t(Msg::TypedCode)}</dt><dd class="typed-code" id="typed-code">{code.code.clone()}</dd>
                            <dt>{c.t(Msg::ServerFingerprint)}</dt><dd class="mono fingerprint" id="fingerprint">{code.server_fingerprint.clone()}</dd>
                            <dt>{c.t(Msg::ServerAddress)}</dt><dd class="mono">{server.clone()}</dd>
                            <dt>{c.t(Msg::Expires)}</dt><dd>{code.expires_at.format("%Y-%m-%d %H:%M UTC").to_string()}</dd>
                        </dl>
                        <p class="small muted link mono" id="enrol-link">{link}</p>
                    </div>
                }
            })}
        </section>
    }
}

#[component]
fn IncidentsScreen() -> impl IntoView {
    let c = expect_context::<Ctx>();
    let data = RwSignal::new(None::<(Incidents, String)>);
    let error = RwSignal::new(None::<Note>);
    spawn_local(async move {
        match api::get::<Incidents>("/incidents", &c.token()).await {
            Ok(s) => data.set(Some((s, api::now_local()))),
            Err(f) => error.set(Some(c.failure(f))),
        }
    });
    let table = move || {
        let (list, as_of) = data.get()?;
        let lang = c.lang.get();
        let rows: Vec<Vec<String>> = list
            .incidents
            .iter()
            .map(|i| {
                vec![
                    i.at.format("%Y-%m-%d %H:%M:%S").to_string(),
                    i.kind.clone(),
                    i.province.clone().unwrap_or_default(),
                    i.assignment_code.clone().unwrap_or_default(),
                    i.detail.clone(),
                ]
            })
            .collect();
        let csv_rows = rows.clone();
        let empty = rows.is_empty();
        let make = move || {
            logic::csv(
                &[
                    Msg::When.text(lang),
                    Msg::Kind.text(lang),
                    Msg::Province.text(lang),
                    Msg::Assignment.text(lang),
                    Msg::Detail.text(lang),
                ],
                &csv_rows,
            )
        };
        Some(view! {
            <p class="basis small muted">{fill(&c.t(Msg::AsOf), &[&as_of])}</p>
            {empty.then(|| view! { <p class="muted" id="no-incidents">{c.t(Msg::NoIncidents)}</p> })}
            <div class="table-wrap" class:empty=empty>
                <table id="incidents-table">
                    <thead><tr>
                        <th>{c.t(Msg::When)}</th><th>{c.t(Msg::Kind)}</th><th>{c.t(Msg::Province)}</th>
                        <th>{c.t(Msg::Assignment)}</th><th>{c.t(Msg::Detail)}</th>
                    </tr></thead>
                    <tbody>
                        {rows.into_iter().map(|r| view! {
                            <tr>{r.into_iter().map(|f| view! { <td>{f}</td> }).collect_view()}</tr>
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
            {csv_button(c, "su-co.csv", make)}
        })
    };
    view! {
        <section class="screen" id="screen-incidents">
            <h2>{move || c.t(Msg::IncidentsTitle)}</h2>
            {error_line(c, error)}
            {table}
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The navigation offers a role exactly the screens whose API calls it may make (the
    /// server's `person.require` lists): HQ everything, a coordinator progress, surveys and
    /// incidents, a recheck team progress and surveys, an enumerator nothing.
    #[test]
    fn each_role_sees_the_screens_the_api_lets_it_use() {
        let seen = |r: Role| -> Vec<&str> {
            Screen::ALL
                .into_iter()
                .filter(|s| s.allowed(r))
                .map(Screen::slug)
                .collect()
        };
        assert_eq!(
            seen(Role::Admin),
            ["progress", "surveys", "accounts", "enrol", "incidents"]
        );
        assert_eq!(
            seen(Role::Coordinator),
            ["progress", "surveys", "incidents"]
        );
        assert_eq!(seen(Role::RecheckTeam), ["progress", "surveys"]);
        assert!(seen(Role::Enumerator).is_empty());
    }
}
