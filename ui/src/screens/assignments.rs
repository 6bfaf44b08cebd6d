//! The assignment list: households grouped by commune and village, with progress, search,
//! official or reserve, state and revisits due.

use crate::app::{Flash, Route, ctx};
use crate::i18n::Msg;
use crate::ipc;
use crate::screens::common::{ErrorBox, focus_later, local_date, maybe_error};
use crate::screens::nonresponse::NonResponseDialog;
use crate::search;
use fieldpost_proto::app::{
    AssignmentGroup, AssignmentItem, AssignmentList, AssignmentState, CommandError,
    NonResponseResult, ProgressCounts,
};
use leptos::prelude::*;
use leptos::task::spawn_local;

/// The state as the wire spells it, for `data-state` and CSS.
pub fn state_tag(s: AssignmentState) -> &'static str {
    match s {
        AssignmentState::NotStarted => "not_started",
        AssignmentState::InProgress => "in_progress",
        AssignmentState::RevisitScheduled => "revisit_scheduled",
        AssignmentState::Completed => "completed",
        AssignmentState::NonResponse => "non_response",
        AssignmentState::ReserveHeld => "reserve_held",
    }
}

/// A visit can still end without an interview: not done, not ended, not a held reserve.
pub fn can_record_non_response(s: AssignmentState) -> bool {
    matches!(
        s,
        AssignmentState::NotStarted
            | AssignmentState::InProgress
            | AssignmentState::RevisitScheduled
    )
}

/// The groups with only the households matching `query` (empty groups dropped).
pub fn filter_groups(groups: &[AssignmentGroup], query: &str) -> Vec<AssignmentGroup> {
    groups
        .iter()
        .filter_map(|g| {
            let items: Vec<AssignmentItem> = g
                .assignments
                .iter()
                .filter(|a| {
                    search::matches(query, &[&a.name, &a.address, &g.village, &g.commune_name])
                })
                .cloned()
                .collect();
            (!items.is_empty()).then(|| AssignmentGroup {
                assignments: items,
                ..g.clone()
            })
        })
        .collect()
}

#[component]
pub fn Assignments() -> impl IntoView {
    let c = ctx();
    let list = RwSignal::new(None::<Result<AssignmentList, CommandError>>);
    let query = RwSignal::new(String::new());
    let notice = RwSignal::new(None::<(Msg, String)>);
    let open_error = RwSignal::new(None::<CommandError>);
    let nr_for = RwSignal::new(None::<AssignmentItem>);
    let load = move || spawn_local(async move { list.set(Some(ipc::assignments().await)) });
    load();

    let open = move |a: AssignmentItem| {
        notice.set(None);
        open_error.set(None);
        match a.state {
            AssignmentState::ReserveHeld => notice.set(Some((Msg::ReserveNotReleased, a.name))),
            AssignmentState::NonResponse => notice.set(Some((Msg::AssignmentEnded, a.name))),
            _ => spawn_local(async move {
                match ipc::open_interview(a.id).await {
                    Ok(v) => c.go(Route::Interview(v)),
                    Err(e) => open_error.set(Some(e)),
                }
            }),
        }
    };
    let refocus = move |id: uuid::Uuid| {
        let row = format!(".assignment[data-id=\"{id}\"]");
        focus_later(vec![
            format!("{row} .nr-open"),
            format!("{row} .assignment-open"),
        ]);
    };
    let done = move |r: NonResponseResult, item: AssignmentItem| {
        nr_for.set(None);
        refocus(item.id);
        list.set(Some(Ok(r.list)));
        c.flash.set(Some(match r.released_reserve {
            Some(res) => Flash {
                id: "nr-released",
                msg: Msg::NrReleased,
                args: vec![res.name, res.address],
                strong: true,
            },
            None => Flash {
                id: "flash",
                msg: if r.is_final {
                    Msg::NrFinalSaved
                } else {
                    Msg::NrRevisitSaved
                },
                args: vec![item.name],
                strong: false,
            },
        }));
    };

    let item_view = move |a: AssignmentItem| {
        let badge_kind = if a.reserve {
            Msg::Reserve
        } else {
            Msg::Official
        };
        let state = a.state;
        let revisit = a.revisit_at.map(|at| local_date(&at, false));
        let nr_item = a.clone();
        let open_item = a.clone();
        view! {
            <li class="assignment" data-id=a.id.to_string() data-state=state_tag(state)
                class:due=a.revisit_due class:reserve=a.reserve>
                <button class="assignment-open" on:click=move |_| open(open_item.clone())>
                    <span class="a-name">{a.name.clone()}</span>
                    <span class="a-addr">{a.address.clone()}</span>
                    <span class="badges">
                        <span class=if a.reserve { "badge reserve" } else { "badge official" }>{move || c.t(badge_kind)}</span>
                        <span class=format!("badge state {}", state_tag(state))>{move || c.t(Msg::State(state))}</span>
                        {a.revisit_due.then(|| view! { <span class="badge due">{move || c.t(Msg::RevisitDue)}</span> })}
                    </span>
                    {revisit.map(|d| view! { <span class="a-revisit">{move || c.tf(Msg::RevisitOn, &[&d])}</span> })}
                    {(a.visits > 0).then(|| {
                        let n = a.visits.to_string();
                        view! { <span class="a-visits muted small">{move || c.tf(Msg::Visits, &[&n])}</span> }
                    })}
                </button>
                {can_record_non_response(state).then(|| view! {
                    <button class="nr-open secondary" on:click=move |_| nr_for.set(Some(nr_item.clone()))>
                        {move || c.t(Msg::CouldNotInterview)}
                    </button>
                })}
            </li>
        }
    };

    let groups_view = move |groups: Vec<AssignmentGroup>| {
        let mut last_commune = None::<String>;
        groups
            .into_iter()
            .map(|g| {
                let commune = (last_commune.as_deref() != Some(&g.commune_code)).then(|| {
                    last_commune = Some(g.commune_code.clone());
                    view! { <h3 class="commune">{g.commune_name.clone()}" · "{g.province_name.clone()}</h3> }
                });
                view! {
                    {commune}
                    <section class="village">
                        <h4>{g.village.clone()}</h4>
                        <ul class="assignments">{g.assignments.into_iter().map(item_view).collect_view()}</ul>
                    </section>
                }
            })
            .collect_view()
    };

    view! {
        <FlashBanner/>
        <h2 class="screen-title">{move || c.t(Msg::AssignmentsTitle)}</h2>
        {move || match list.get() {
            None => view! { <p class="loading">{c.t(Msg::Loading)}</p> }.into_any(),
            Some(Err(e)) => view! {
                <ErrorBox id="assignments-error" error=e/>
                <button class="primary" on:click=move |_| load()>{move || c.t(Msg::TryAgain)}</button>
            }.into_any(),
            Some(Ok(l)) => {
                let empty = l.groups.is_empty();
                let groups = l.groups.clone();
                let shown = move || filter_groups(&groups, &query.get());
                view! {
                    <Progress p=l.progress/>
                    <input id="search" class="search" type="search" prop:value=query
                        placeholder=move || c.t(Msg::Search) aria-label=move || c.t(Msg::Search)
                        on:input=move |ev| query.set(event_target_value(&ev))/>
                    {move || notice.get().map(|(m, name)| view! {
                        <p id="notice" class="notice" role="alert">{c.tf(m, &[&name])}</p>
                    })}
                    {move || maybe_error("open-error", open_error.get())}
                    {empty.then(|| view! { <p class="empty">{move || c.t(Msg::NoAssignments)}</p> })}
                    {move || {
                        let g = shown();
                        if g.is_empty() && !empty {
                            view! { <p class="empty">{c.t(Msg::NoMatches)}</p> }.into_any()
                        } else {
                            groups_view(g).into_any()
                        }
                    }}
                }.into_any()
            }
        }}
        {move || nr_for.get().map(|item| {
            let it = item.clone();
            let it2 = item.clone();
            view! {
                <NonResponseDialog item
                    on_close=Callback::new(move |_| {
                        nr_for.set(None);
                        refocus(it.id);
                    })
                    on_done=Callback::new(move |r| done(r, it2.clone()))/>
            }
        })}
    }
}

/// The enumerator's progress: counts by state and a bar of households finished.
#[component]
fn Progress(p: ProgressCounts) -> impl IntoView {
    let c = ctx();
    let active = p.not_started + p.in_progress + p.completed + p.non_response;
    let finished = p.completed + p.non_response;
    let pct = (finished * 100).checked_div(active).unwrap_or(0);
    let chip = move |class: &'static str, m: Msg, n: u32| {
        view! { <li class=format!("chip {class}")><strong>{n}</strong>" "{move || c.t(m)}</li> }
    };
    view! {
        <div id="progress" class="progress-block" data-completed=p.completed data-total=active>
            <div class="meter" role="progressbar" aria-valuemin="0" aria-valuemax="100" aria-valuenow=pct>
                <div class="fill" style:width=format!("{pct}%")></div>
            </div>
            <ul class="chips">
                {chip("completed", Msg::ProgressCompleted, p.completed)}
                {chip("in_progress", Msg::ProgressInProgress, p.in_progress)}
                {chip("not_started", Msg::ProgressNotStarted, p.not_started)}
                {chip("non_response", Msg::ProgressNonResponse, p.non_response)}
                {chip("reserve_held", Msg::ProgressReserveHeld, p.reserve_held)}
            </ul>
        </div>
    }
}

/// The confirmation left by the last action (completion, non-response, released reserve).
#[component]
fn FlashBanner() -> impl IntoView {
    let c = ctx();
    move || {
        c.flash.get().map(|f| {
            let args: Vec<&str> = f.args.iter().map(String::as_str).collect();
            let text = c.tf(f.msg, &args);
            view! {
                <div id=f.id class="flash" class:strong=f.strong role="status">
                    <p>{text}</p>
                    <button class="icon" aria-label=c.t(Msg::Close) on:click=move |_| c.flash.set(None)>"×"</button>
                </div>
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    fn item(name: &str, address: &str) -> AssignmentItem {
        AssignmentItem {
            id: Uuid::nil(),
            name: name.into(),
            address: address.into(),
            reserve: false,
            pair_id: None,
            stratum: "urban".into(),
            state: AssignmentState::NotStarted,
            interview_id: None,
            visits: 0,
            revisit_at: None,
            revisit_due: false,
            non_response: None,
            due_date: None,
        }
    }

    fn group(village: &str, items: Vec<AssignmentItem>) -> AssignmentGroup {
        AssignmentGroup {
            province_code: "01".into(),
            province_name: "Hà Nội".into(),
            commune_code: "00001".into(),
            commune_name: "Phường Ba Đình".into(),
            village: village.into(),
            assignments: items,
        }
    }

    #[test]
    fn search_keeps_matching_households_and_drops_empty_villages() {
        let groups = vec![
            group(
                "Tổ 1",
                vec![
                    item("Nguyễn Văn An", "1 Hoè Nhai"),
                    item("Lê Thị Bình", "3 Hàng Bún"),
                ],
            ),
            group("Tổ 2", vec![item("Trần Đức", "9 Phó Đức Chính")]),
        ];
        let r = filter_groups(&groups, "hang bun");
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].assignments.len(), 1);
        assert_eq!(r[0].assignments[0].name, "Lê Thị Bình");
        assert_eq!(filter_groups(&groups, "to 2")[0].village, "Tổ 2");
        assert_eq!(filter_groups(&groups, "").len(), 2);
    }

    #[test]
    fn non_response_only_while_a_visit_can_still_happen() {
        assert!(can_record_non_response(AssignmentState::NotStarted));
        assert!(can_record_non_response(AssignmentState::RevisitScheduled));
        assert!(!can_record_non_response(AssignmentState::Completed));
        assert!(!can_record_non_response(AssignmentState::ReserveHeld));
    }
}
