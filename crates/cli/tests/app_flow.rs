//! The enumerator's day through the app core, against a real `fieldpost serve --demo` process:
//! enrol with the printed code, take a full SIPAS interview (a skip, a constraint error
//! corrected), complete it, refuse another household and see its reserve released, leave an
//! interview half-way and resume it after a "restart", sync, and find on the server exactly what
//! the device finished. The UI calls the same functions over Tauri IPC (tests/e2e drives that).

use fieldpost_app_core::AppCore;
use fieldpost_proto::app::{
    AssignmentItem, AssignmentList, AssignmentState, EnrolRequest, ErrorCode, NonResponseCode,
    NonResponseRequest, QuestionKind,
};
use serde_json::{Value, json};

mod common;
use common::{demo_server, stats};

const PIN: &str = "246810";

fn items(list: &AssignmentList) -> Vec<AssignmentItem> {
    list.groups
        .iter()
        .flat_map(|g| g.assignments.clone())
        .collect()
}

fn sample_answers() -> Vec<(String, Value)> {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../assets/forms/sipas/sample-answers.json"
    ))
    .expect("sample answers");
    let steps: Vec<Value> = serde_json::from_str(&text).expect("json");
    steps
        .into_iter()
        .filter_map(|s| Some((s["set"].as_str()?.to_string(), s["value"].clone())))
        .collect()
}

#[test]
fn an_enumerators_day_from_enrolment_to_the_server() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("server.sqlite");
    let demo = demo_server(&db, "127.0.0.1:0");
    let url = demo.url.clone();
    let code = demo
        .enum1_code
        .clone()
        .expect("the demo prints enum1's enrolment code");
    let data = dir.path().join("device");
    let core = AppCore::new(&data);

    // Enrol: a wrong code is refused in words the UI can say; the right one works.
    let bad = core
        .enrol(&EnrolRequest {
            server_url: url.clone(),
            code: "not-a-code".into(),
            server_fingerprint: demo.fingerprint.clone(),
            pin: PIN.into(),
        })
        .expect_err("unknown code");
    assert_eq!(bad.code, ErrorCode::EnrolmentRefused);
    let status = core
        .enrol(&EnrolRequest {
            server_url: url.clone(),
            code,
            server_fingerprint: demo.fingerprint.clone(),
            pin: PIN.into(),
        })
        .expect("enrols");
    assert!(status.enrolled && status.unlocked);
    assert_eq!(status.enumerator.as_deref(), Some("enum1"));

    let list = core.assignments().expect("assignments");
    assert!(!list.groups[0].province_name.is_empty());
    assert_ne!(list.groups[0].commune_name, list.groups[0].commune_code);
    let all = items(&list);
    let officials: Vec<_> = all
        .iter()
        .filter(|a| !a.reserve && a.pair_id.is_some())
        .collect();
    assert!(
        officials.len() >= 3,
        "the demo sample pairs officials with reserves"
    );
    assert!(
        all.iter()
            .filter(|a| a.reserve)
            .all(|a| a.state == AssignmentState::ReserveHeld)
    );

    // A full interview, with a constraint error shown and corrected.
    let first = officials[0].id;
    let screen = core.open_interview(first).expect("opens");
    let id = screen.interview_id;
    assert_eq!(screen.index, 0);
    let bad_year = core
        .set_answer(id, "phan_a/nam_sinh", &json!(1850))
        .expect("saved, though invalid");
    let q = bad_year
        .questions
        .iter()
        .find(|q| q.path == "phan_a/nam_sinh")
        .expect("on screen");
    assert!(q.error.is_some(), "the constraint message is shown");
    for (path, value) in sample_answers() {
        core.set_answer(id, &path, &value)
            .unwrap_or_else(|e| panic!("{path}: {e}"));
    }
    // The skip: with no procedure (c8_4 = 2), the 19 service items leave the grid.
    let v = core
        .set_answer(id, "phan_b/c8/c8_4", &json!("2"))
        .expect("answer");
    let grid_index = v
        .sections
        .iter()
        .find(|s| s.label.starts_with("PHẦN B"))
        .map(|s| s.screen)
        .expect("part B");
    let mut grid = None;
    for i in grid_index..v.total {
        let s = core.show_screen(id, i).expect("screen");
        if s.questions.iter().any(|q| q.path == "phan_b/c9/c9_01") {
            grid = Some(s);
            break;
        }
    }
    let grid = grid.expect("the satisfaction grid");
    let items_shown = grid
        .questions
        .iter()
        .filter(|q| q.kind == QuestionKind::SelectOne)
        .count();
    assert_eq!(items_shown, 14);
    let review = core.review(id).expect("review");
    assert!(review.problems.is_empty(), "{:?}", review.problems);
    let after = core.complete(id).expect("completes");
    assert_eq!(after.progress.completed, 1);
    assert_eq!(
        core.set_answer(id, "phan_a/thon", &json!("x"))
            .expect_err("finished")
            .code,
        ErrorCode::ReadOnly
    );

    // A refusal on an official releases its reserve.
    let refused = officials[1];
    let result = core
        .non_response(&NonResponseRequest {
            assignment_id: refused.id,
            code: NonResponseCode::Refused,
            note: Some("không muốn trả lời".into()),
            revisit_at: None,
        })
        .expect("recorded");
    assert!(result.is_final);
    let reserve = result.released_reserve.expect("the reserve is released");
    assert_eq!(Some(reserve.id), refused.pair_id);
    assert_eq!(reserve.state, AssignmentState::NotStarted);

    // Leave an interview half-way; a new app process (same data folder) resumes it.
    let third = officials[2].id;
    let s = core.open_interview(third).expect("opens");
    core.set_answer(s.interview_id, "phan_a/tinh", &json!("01"))
        .expect("a1");
    core.set_answer(s.interview_id, "phan_a/xa", &json!("00004"))
        .expect("a2");
    let at = core.show_screen(s.interview_id, 2).expect("screen 3");
    drop(core);
    let core = AppCore::new(&data);
    assert!(!core.app_status().expect("status").unlocked);
    assert_eq!(
        core.assignments().expect_err("locked").code,
        ErrorCode::Locked
    );
    assert_eq!(
        core.unlock("000000").expect_err("wrong").code,
        ErrorCode::WrongPin
    );
    core.unlock(PIN).expect("unlocks");
    let resumed = core.open_interview(third).expect("resumes");
    assert_eq!(resumed.interview_id, s.interview_id);
    assert_eq!(resumed.index, at.index, "back at the same screen");
    assert_eq!(resumed.questions[0].path, "phan_a/xa");
    assert_eq!(resumed.questions[0].value, "00004", "every answer intact");
    let a1 = core
        .show_screen(s.interview_id, resumed.index - 1)
        .expect("A1");
    assert_eq!(a1.questions[0].value, "01");

    // Sync: both finished interviews reach the server, the draft stays.
    let mut bars = Vec::new();
    let synced = core.sync(|p| bars.push(p)).expect("syncs");
    assert_eq!(synced.pending_interviews, 0);
    assert_eq!(synced.acknowledged_interviews, 2);
    assert!(synced.last_success.is_some() && synced.last_error.is_none());
    assert!(
        bars.last()
            .is_some_and(|p| p.batches_done == p.batches_total)
    );
    let counts = stats(&db);
    assert_eq!(counts["interviews"], 2, "{counts:?}");
    assert_eq!(counts["interviews_completed"], 1, "{counts:?}");
    assert_eq!(counts["incidents"], 0, "{counts:?}");

    // Server down: a clear error, nothing lost; back up: it goes through.
    let addr = url.trim_start_matches("http://").to_string();
    drop(demo);
    let fourth = officials[3].id;
    core.non_response(&NonResponseRequest {
        assignment_id: fourth,
        code: NonResponseCode::Moved,
        note: None,
        revisit_at: None,
    })
    .expect("recorded offline");
    let down = core.sync(|_| {}).expect_err("server down");
    assert_eq!(down.code, ErrorCode::ServerUnreachable);
    let status = core.sync_status().expect("status");
    assert_eq!(status.pending_interviews, 1);
    assert_eq!(
        status.last_error.map(|e| e.code),
        Some(ErrorCode::ServerUnreachable)
    );
    let _back = demo_server(&db, &addr);
    let up = core.sync(|_| {}).expect("syncs once the server is back");
    assert_eq!(up.pending_interviews, 0);
    assert_eq!(up.acknowledged_interviews, 3);
    assert_eq!(stats(&db)["interviews"], 3);

    // Purge: with a retention of 0 days, the next sync removes the acknowledged answers from
    // the device; counts and statuses stay for the enumerator.
    drop(core);
    {
        let path = data.join(fieldpost_app_core::STORE_FILE);
        let mut store = fieldpost_store::Store::open_unlocked(&path, PIN).expect("store");
        assert!(!store.answers(id).expect("answers").is_empty());
        store
            .set_setting("retention_days", Some("0"))
            .expect("setting");
    }
    let core = AppCore::new(&data);
    core.unlock(PIN).expect("unlocks");
    core.sync(|_| {}).expect("syncs");
    let list = core.assignments().expect("assignments");
    assert_eq!(list.progress.completed, 1, "counts stay after the purge");
    drop(core);
    let store =
        fieldpost_store::Store::open_unlocked(&data.join(fieldpost_app_core::STORE_FILE), PIN)
            .expect("store");
    assert!(
        store.answers(id).expect("answers").is_empty(),
        "answers purged"
    );
    assert!(
        !store.answers(s.interview_id).expect("draft").is_empty(),
        "a draft is never purged"
    );
}

/// A weak link: the server accepts the upload and then says nothing. The enumerator must still
/// be able to move around and answer while the sync waits (before, the sync held the core for
/// its whole length, and every screen froze until the request timed out).
#[test]
fn the_screens_keep_working_while_a_sync_waits_on_a_silent_server() {
    use std::net::TcpListener;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, mpsc};
    use std::time::Duration;

    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("server.sqlite");
    let demo = demo_server(&db, "127.0.0.1:0");
    let core = AppCore::new(dir.path().join("device"));
    core.enrol(&demo.enrol_request(PIN)).expect("enrols");
    let officials: Vec<_> = items(&core.assignments().expect("assignments"))
        .into_iter()
        .filter(|a| !a.reserve)
        .collect();
    core.non_response(&NonResponseRequest {
        assignment_id: officials[0].id,
        code: NonResponseCode::Moved,
        note: None,
        revisit_at: None,
    })
    .expect("something to send");

    // The same address, now a server that accepts connections and never answers.
    let addr = demo.url.trim_start_matches("http://").to_string();
    drop(demo);
    let silent = TcpListener::bind(&addr).expect("the address is free again");
    silent.set_nonblocking(true).expect("nonblocking");
    let stop = Arc::new(AtomicBool::new(false));
    let (reached, reached_rx) = mpsc::channel();
    let holder = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut held = Vec::new();
            while !stop.load(Ordering::SeqCst) {
                match silent.accept() {
                    Ok((conn, _)) => {
                        held.push(conn);
                        let _ = reached.send(());
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(10)),
                }
            }
        })
    };

    let syncing = {
        let core = core.clone();
        std::thread::spawn(move || core.sync(|_| {}))
    };
    reached_rx
        .recv_timeout(Duration::from_secs(60))
        .expect("the sync reaches the server");
    let list = core.assignments().expect("the list, while syncing");
    assert_eq!(list.progress.non_response, 1);
    let s = core
        .open_interview(officials[1].id)
        .expect("an interview opens while syncing");
    let v = core
        .set_answer(s.interview_id, "phan_a/tinh", &json!("01"))
        .expect("an answer is saved while syncing");
    assert!(v.questions.iter().any(|q| q.value == "01"));
    assert!(
        !syncing.is_finished(),
        "the sync was still waiting on the server all along"
    );

    // The link drops: the sync fails in plain words and keeps the interview for next time.
    stop.store(true, Ordering::SeqCst);
    holder.join().expect("holder");
    let err = syncing
        .join()
        .expect("sync thread")
        .expect_err("the server never answered");
    assert_eq!(err.code, ErrorCode::ServerUnreachable);
    let status = core.sync_status().expect("status");
    assert_eq!(status.pending_interviews, 1);
    assert_eq!(
        core.show_screen(s.interview_id, v.index)
            .expect("still there")
            .questions
            .iter()
            .find(|q| q.path == "phan_a/tinh")
            .map(|q| q.value.clone()),
        Some("01".to_string())
    );
}
