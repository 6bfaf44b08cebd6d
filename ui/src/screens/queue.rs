//! The interview's action queue. Every action (an answer, back, next, a jump, a repeat row,
//! leaving) runs in order, so "Next" pressed right after typing waits for that answer to be saved
//! and for the skip logic it triggers: the next screen is always computed from every answer.
//!
//! The queue outlives the interview screen: an answer typed just before leaving (its `change`
//! fires as the field loses focus to the "back to list" button or a tab) is still saved after
//! the screen is gone. Results then land nowhere (`try_set` on the dropped screen's signals).

use crate::app::{Ctx, Route};
use crate::ipc;
use crate::screens::question::toggled;
use fieldpost_proto::app::{CommandError, ScreenView};
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde_json::Value;
use std::cell::{Cell, RefCell};
use std::collections::{HashMap, VecDeque};
use uuid::Uuid;

/// One thing the enumerator asked for.
#[derive(Debug, Clone)]
pub enum Op {
    Answer(String, Value),
    /// One choice of a select_multiple ticked or unticked, applied to the answer as it stands
    /// when the op runs (after every earlier tap has been saved), not as it stood at the tap.
    /// `seen` is the whole answer as the tap saw it, saved if the screen is gone by then.
    Toggle {
        path: String,
        choice: String,
        on: bool,
        seen: Value,
    },
    Back,
    Next,
    Goto(usize),
    Reload,
    AddRow(String),
    RemoveRow(String),
    Review,
    Leave,
}

/// An action with the interview screen it came from.
#[derive(Clone, Copy)]
pub struct Target {
    pub c: Ctx,
    pub interview_id: Uuid,
    pub screen: RwSignal<ScreenView>,
    pub error: RwSignal<Option<CommandError>>,
}

thread_local! {
    static QUEUE: RefCell<VecDeque<(Target, Op)>> = const { RefCell::new(VecDeque::new()) };
    static RUNNING: Cell<bool> = const { Cell::new(false) };
    /// The last answer sent per question of the interview being worked on.
    static SENT: RefCell<(Option<Uuid>, HashMap<String, Value>)> = RefCell::new((None, HashMap::new()));
}

fn remember_sent(iid: Uuid, path: &str, value: &Value) {
    SENT.with(|s| {
        let mut s = s.borrow_mut();
        if s.0 != Some(iid) {
            *s = (Some(iid), HashMap::new());
        }
        s.1.insert(path.to_string(), value.clone());
    });
}

fn last_sent(iid: Uuid, path: &str) -> Option<Value> {
    SENT.with(|s| {
        let s = s.borrow();
        (s.0 == Some(iid)).then(|| s.1.get(path).cloned()).flatten()
    })
}

/// `choice` ticked or unticked in a select_multiple answer sent earlier (a JSON array), when
/// the question's choices are no longer at hand: added at the end, or removed.
pub fn toggle_value(sent: &Value, choice: &str, on: bool) -> Value {
    let mut picked: Vec<Value> = sent
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|v| v.as_str() != Some(choice))
                .cloned()
                .collect()
        })
        .unwrap_or_default();
    if on {
        picked.push(Value::String(choice.to_string()));
    }
    Value::Array(picked)
}

/// Where "next" leads from screen `index` of `total`: the following screen, or the review
/// after the last one.
pub fn next_target(index: usize, total: usize) -> Option<usize> {
    (index + 1 < total).then_some(index + 1)
}

/// Queues `op` and starts the worker if it is idle.
pub fn push(t: Target, op: Op) {
    QUEUE.with(|q| q.borrow_mut().push_back((t, op)));
    if RUNNING.with(|r| r.replace(true)) {
        return;
    }
    mark_saving(true);
    spawn_local(async {
        while let Some((t, op)) = QUEUE.with(|q| q.borrow_mut().pop_front()) {
            run(t, op).await;
        }
        RUNNING.with(|r| r.set(false));
        mark_saving(false);
    });
}

/// `<html data-saving>` while actions wait in the queue: what a test waits on before it reads
/// the screen, so it reads what the core saved, not what a tap drew.
fn mark_saving(on: bool) {
    let Some(root) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.document_element())
    else {
        return;
    };
    let _ = if on {
        root.set_attribute("data-saving", "")
    } else {
        root.remove_attribute("data-saving")
    };
}

async fn run(t: Target, op: Op) {
    let Target {
        c,
        interview_id: iid,
        screen,
        error,
    } = t;
    let op = match op {
        Op::Toggle {
            path,
            choice,
            on,
            seen,
        } => {
            // The answer as saved by now: the screen's, or, once the question has left the
            // screen (a "next" or a tab tapped right after), the one this queue last sent.
            let on_screen = screen
                .try_with_untracked(|s| {
                    let q = s.questions.iter().find(|q| q.path == path)?;
                    Some(toggled(&q.value, &q.choices, &choice, on))
                })
                .flatten();
            let value = on_screen
                .or_else(|| last_sent(iid, &path).map(|v| toggle_value(&v, &choice, on)))
                .unwrap_or(seen);
            Op::Answer(path, value)
        }
        op => op,
    };
    if let Op::Answer(path, value) = &op {
        remember_sent(iid, path, value);
    }
    let Some((index, total, read_only, name)) =
        screen.try_with_untracked(|s| (s.index, s.total, s.read_only, s.assignment_name.clone()))
    else {
        // The screen is gone: only answers still matter (they are the enumerator's work).
        if let Op::Answer(path, value) = op {
            let _ = ipc::set_answer(iid, &path, value).await;
        }
        return;
    };
    let review = Route::Review {
        interview_id: iid,
        index,
        name,
    };
    let r = match op {
        Op::Answer(path, value) => ipc::set_answer(iid, &path, value).await,
        Op::Toggle { .. } => return, // turned into an answer above
        Op::Back if index == 0 => return,
        Op::Back => ipc::show_screen(iid, index - 1).await,
        Op::Next => match next_target(index, total) {
            Some(i) => ipc::show_screen(iid, i).await,
            // An ended interview has nothing to review: the last "next" leaves it.
            None if read_only => return c.go(Route::Assignments),
            None => return c.go(review),
        },
        Op::Goto(i) => ipc::show_screen(iid, i).await,
        Op::Reload => ipc::show_screen(iid, index).await,
        Op::AddRow(repeat) => ipc::add_row(iid, &repeat).await,
        Op::RemoveRow(row) => ipc::remove_row(iid, &row).await,
        Op::Review => return c.go(review),
        Op::Leave => return c.go(Route::Assignments),
    };
    match r {
        Ok(v) => {
            let moved = v.index != index;
            if screen.try_set(v).is_none() && moved {
                scroll_to_top();
            }
            error.try_set(None);
        }
        Err(e) => {
            error.try_set(Some(e));
        }
    }
}

/// After moving to another screen: back to the top, and the keyboard focus on the screen's
/// title so that Tab continues with its first question.
fn scroll_to_top() {
    use wasm_bindgen::JsCast;
    if let Some(w) = web_sys::window() {
        w.scroll_to_with_x_and_y(0.0, 0.0);
        let title = w
            .document()
            .and_then(|d| d.get_element_by_id("screen-title"));
        if let Some(el) = title.and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok()) {
            let _ = el.focus();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tap_after_the_screen_left_builds_on_the_answer_sent_before() {
        use serde_json::json;
        assert_eq!(toggle_value(&json!(["a"]), "b", true), json!(["a", "b"]));
        assert_eq!(toggle_value(&json!(["a", "b"]), "a", false), json!(["b"]));
        assert_eq!(toggle_value(&json!(["a"]), "a", true), json!(["a"]));
        assert_eq!(toggle_value(&Value::Null, "c", true), json!(["c"]));
    }

    #[test]
    fn next_goes_to_the_review_after_the_last_screen() {
        assert_eq!(next_target(0, 3), Some(1));
        assert_eq!(next_target(2, 3), None);
        assert_eq!(next_target(0, 0), None);
    }
}
