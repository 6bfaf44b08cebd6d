//! Sync: what is waiting to be sent, what the server has, when it last worked, and why it did
//! not (in words with what to do); a button that sends now with a progress bar, and retries.

use crate::app::ctx;
use crate::i18n::{Msg, Refusal};
use crate::ipc;
use crate::screens::common::{ErrorBox, local_date};
use fieldpost_proto::app::{CommandError, ErrorCode, SyncProgress, SyncStatus};
use leptos::prelude::*;
use leptos::task::spawn_local;

/// Percent done for the bar: by bytes when known, else by batches.
pub fn percent(p: &SyncProgress) -> u64 {
    let (done, total) = if p.bytes_total > 0 {
        (p.bytes_done, p.bytes_total)
    } else {
        (p.batches_done as u64, p.batches_total as u64)
    };
    (done.min(total) * 100).checked_div(total).unwrap_or(0)
}

#[component]
pub fn Sync() -> impl IntoView {
    let c = ctx();
    let status = RwSignal::new(None::<Result<SyncStatus, CommandError>>);
    let (running, result) = (c.sync_running, c.sync_result);
    let reload = move || {
        spawn_local(async move {
            status.try_set(Some(ipc::sync_status().await));
        })
    };
    // The counts now, and again whenever a sync ends: also one started before the
    // enumerator left this screen and came back.
    Effect::new(move |was_running: Option<bool>| {
        let now = running.get();
        if was_running.is_none() || (was_running == Some(true) && !now) {
            reload();
        }
        now
    });

    let sync_now = move |_| {
        if running.get_untracked() {
            return;
        }
        running.set(true);
        result.set(None);
        c.sync_progress.set(None);
        spawn_local(async move {
            // The enumerator may have left this screen meanwhile (the sync does not hold the
            // others up): the outcome is kept in the context; the screen showing then, this
            // one or a new one, reloads its counts when `running` falls.
            result.set(Some(ipc::sync().await.map(|_| ())));
            running.set(false);
        });
    };
    let pct = move || c.sync_progress.get().map_or(0, |p| percent(&p));
    let failed = move || matches!(result.get(), Some(Err(_)));

    view! {
        <section class="sync">
            <h2 class="screen-title">{move || c.t(Msg::NavSync)}</h2>
            {move || match status.get() {
                None => view! { <p class="loading">{c.t(Msg::Loading)}</p> }.into_any(),
                Some(Err(e)) => view! { <ErrorBox id="sync-error" error=e/> }.into_any(),
                Some(Ok(s)) => {
                    let last = s.last_success.map(|t| local_date(&t, true));
                    // A failure of this attempt is shown below; the stored one only when idle.
                    let stored_error = s.last_error.clone().filter(|_| result.get_untracked().is_none());
                    view! {
                        <dl class="facts card">
                            <dt>{c.t(Msg::SyncPending)}</dt>
                            <dd id="sync-pending" class="big">{s.pending_interviews}</dd>
                            <dt>{c.t(Msg::SyncAcked)}</dt>
                            <dd id="sync-acked">{s.acknowledged_interviews}</dd>
                            <dt>{c.t(Msg::SyncLast)}</dt>
                            <dd id="sync-last">{last.unwrap_or_else(|| c.t(Msg::SyncNever).to_string())}</dd>
                            <dt>{c.t(Msg::ServerAddress)}</dt>
                            <dd>{s.server_url.unwrap_or_default()}</dd>
                        </dl>
                        {(!s.held.is_empty()).then(|| view! {
                            <section id="sync-held" class="card" role="alert">
                                <h3>{c.t(Msg::Error(ErrorCode::InterviewsHeld))}</h3>
                                <ul class="held">
                                    {s.held.iter().map(|h| view! {
                                        <li class="held-item" data-interview=h.interview_id.to_string() data-reason=h.reason.clone()>
                                            <strong>{h.household.clone()}</strong>
                                            <p>{c.t(Msg::Refusal(Refusal::from_code(&h.reason)))}</p>
                                        </li>
                                    }).collect_view()}
                                </ul>
                            </section>
                        })}
                        {stored_error.map(|e| view! {
                            <p class="muted">{c.t(Msg::SyncLastError)}</p>
                            <ErrorBox id="sync-error" error=e/>
                        })}
                    }.into_any()
                }
            }}
            <Show when=move || running.get()>
                <div id="sync-bar" class="meter" role="progressbar" aria-valuemin="0" aria-valuemax="100" aria-valuenow=pct>
                    <div class="fill" class:indeterminate=move || c.sync_progress.get().is_none()
                        style:width=move || format!("{}%", if c.sync_progress.get().is_none() { 100 } else { pct() })></div>
                </div>
                <p class="muted" role="status">
                    {move || c.t(Msg::SyncRunning)}
                    {move || c.sync_progress.get().map(|p| format!(" {}/{}", p.batches_done, p.batches_total))}
                </p>
            </Show>
            {move || result.get().map(|r| match r {
                Ok(()) => view! { <p id="sync-result" class="status-ok" role="status">{c.t(Msg::SyncDone)}</p> }.into_any(),
                Err(e) => view! { <ErrorBox id="sync-error" error=e/> }.into_any(),
            })}
            <button id="sync-now" class="primary wide" disabled=running on:click=sync_now>
                {move || c.t(if running.get() { Msg::SyncRunning } else if failed() { Msg::TryAgain } else { Msg::SyncNow })}
            </button>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_by_bytes_when_known_else_by_batches() {
        let p = |bd, bt, yd, yt| SyncProgress {
            batches_done: bd,
            batches_total: bt,
            bytes_done: yd,
            bytes_total: yt,
        };
        assert_eq!(percent(&p(1, 4, 500, 1000)), 50);
        assert_eq!(percent(&p(1, 4, 0, 0)), 25);
        assert_eq!(percent(&p(0, 0, 0, 0)), 0);
        assert_eq!(percent(&p(5, 4, 0, 0)), 100);
    }
}
