//! Review and complete: what is unanswered or invalid, each a tap away from its screen; the
//! interview can be completed only when nothing is left.

use crate::app::{Flash, Route, ctx};
use crate::i18n::Msg;
use crate::ipc;
use crate::screens::common::{ErrorBox, maybe_error, rich};
use crate::screens::geopoint::InterviewLocation;
use fieldpost_proto::app::{CommandError, Review};
use leptos::prelude::*;
use leptos::task::spawn_local;
use uuid::Uuid;

#[component]
pub fn ReviewScreen(interview_id: Uuid, index: usize, name: String) -> impl IntoView {
    let c = ctx();
    let review = RwSignal::new(None::<Result<Review, CommandError>>);
    let error = RwSignal::new(None::<CommandError>);
    let busy = RwSignal::new(false);
    let load =
        move || spawn_local(async move { review.set(Some(ipc::review(interview_id).await)) });
    load();
    // Problem messages come from the core in the chosen language.
    Effect::new(move |prev: Option<u32>| {
        let e = c.lang_epoch.get();
        if prev.is_some_and(|p| p != e) {
            load();
        }
        e
    });
    let go_to = move |screen: usize| {
        spawn_local(async move {
            match ipc::show_screen(interview_id, screen).await {
                Ok(v) => c.go(Route::Interview(v)),
                Err(e) => error.set(Some(e)),
            }
        })
    };
    let complete = move |_| {
        busy.set(true);
        let name = name.clone();
        spawn_local(async move {
            match ipc::complete(interview_id).await {
                Ok(_) => {
                    c.flash.set(Some(Flash {
                        id: "flash",
                        msg: Msg::InterviewCompleted,
                        args: vec![name],
                        strong: false,
                    }));
                    c.go(Route::Assignments);
                }
                Err(e) => {
                    error.set(Some(e));
                    load();
                }
            }
            busy.set(false);
        });
    };

    view! {
        <section class="review">
            <h2 class="screen-title">{move || c.t(Msg::ReviewTitle)}</h2>
            {move || match review.get() {
                None => view! { <p class="loading">{c.t(Msg::Loading)}</p> }.into_any(),
                Some(Err(e)) => view! { <ErrorBox id="review-error" error=e/> }.into_any(),
                Some(Ok(r)) => {
                    let n = r.problems.len();
                    view! {
                        <p class="muted">{c.tf(Msg::Answered, &[&r.answered.to_string(), &r.questions_total.to_string()])}</p>
                        {if n == 0 {
                            view! { <p class="status-ok" id="review-ok">{c.t(Msg::ReviewNoProblems)}</p> }.into_any()
                        } else {
                            view! {
                                <p class="status-err" id="review-count">{c.tf(Msg::ReviewProblems, &[&n.to_string()])}</p>
                                <ul class="problems">
                                    {r.problems.into_iter().map(|p| {
                                        let screen = p.screen;
                                        let kind = if p.required { Msg::Missing } else { Msg::Invalid };
                                        view! {
                                            <li>
                                                <button class="problem" data-path=p.path data-screen=screen
                                                    class:required=p.required on:click=move |_| go_to(screen)>
                                                    <span class="p-label">{rich(&p.label)}</span>
                                                    <span class="p-msg">
                                                        <span class="badge">{c.t(kind)}</span>" "{p.message}
                                                    </span>
                                                </button>
                                            </li>
                                        }
                                    }).collect_view()}
                                </ul>
                            }.into_any()
                        }}
                    }.into_any()
                }
            }}
            <InterviewLocation interview_id=interview_id/>
            {move || maybe_error("complete-error", error.get())}
            <div class="iv-nav">
                <button id="review-back" class="secondary" on:click=move |_| go_to(index)>
                    "‹ "{move || c.t(Msg::BackToInterview)}
                </button>
                <button id="complete" class="primary"
                    disabled=move || busy.get() || !matches!(review.get(), Some(Ok(r)) if r.problems.is_empty())
                    on:click=complete>
                    {move || c.t(Msg::Complete)}
                </button>
            </div>
        </section>
    }
}
