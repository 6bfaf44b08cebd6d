//! The interview functions the app calls, against a real store file.

mod common;

use common::{FORM, PIN, VERSION, fixture};
use fieldpost_store::{
    AssignmentStatus, InterviewStatus, NonResponse, NonResponseCode, NonResponseOutcome,
    ParadataEvent, Progress, ReleaseRule, Store, StoreError,
};
use serde_json::json;

#[test]
fn start_twice_resumes_the_same_interview_even_after_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("d.db");
    let mut f = fixture(&path);
    let a = f.officials[0].id;
    let first = f.store.start_or_resume(a, VERSION, "enum-7").unwrap();
    assert_eq!(first.status, InterviewStatus::Draft);
    assert_eq!(first.form_id, FORM);
    assert_eq!(first.device, f.store.device_id());
    assert_eq!(first.id.get_version_num(), 7, "ids are UUIDv7");
    drop(f);
    let mut store = Store::open(&path).unwrap();
    store.unlock(PIN).unwrap();
    let again = store.start_or_resume(a, VERSION, "enum-7").unwrap();
    assert_eq!(again, first);
    assert_eq!(store.interviews().unwrap().len(), 1);
}

#[test]
fn answers_round_trip_clear_and_log_paradata() {
    let dir = tempfile::tempdir().unwrap();
    let mut f = fixture(&dir.path().join("d.db"));
    let i = f
        .store
        .start_or_resume(f.officials[0].id, VERSION, "e")
        .unwrap()
        .id;
    f.store.set_answer(i, "age_band", &json!("35-49")).unwrap();
    f.store.set_answer(i, "q9[3]/score", &json!(4)).unwrap();
    f.store.set_answer(i, "age_band", &json!("50-60")).unwrap();
    let answers = f.store.answers(i).unwrap();
    let pairs: Vec<_> = answers
        .iter()
        .map(|a| (a.path.as_str(), a.value.clone()))
        .collect();
    assert_eq!(
        pairs,
        vec![("age_band", json!("50-60")), ("q9[3]/score", json!(4))]
    );

    f.store
        .set_answer(i, "q9[3]/score", &serde_json::Value::Null)
        .unwrap();
    assert_eq!(
        f.store.answers(i).unwrap().len(),
        1,
        "null clears an answer"
    );

    let changes: Vec<_> = f
        .store
        .paradata(i)
        .unwrap()
        .into_iter()
        .filter_map(|r| match r.event {
            ParadataEvent::AnswerChanged { path, from, to } if path == "age_band" => {
                Some((from, to))
            }
            _ => None,
        })
        .collect();
    assert_eq!(
        changes,
        vec![
            (None, Some(json!("35-49"))),
            (Some(json!("35-49")), Some(json!("50-60")))
        ]
    );

    let at = chrono::Utc::now();
    f.store
        .record_paradata(
            i,
            at,
            &ParadataEvent::GpsFix {
                latitude: 21.03,
                longitude: 105.85,
                accuracy_m: Some(8.0),
            },
        )
        .unwrap();
    assert!(
        f.store
            .paradata(i)
            .unwrap()
            .iter()
            .any(|r| matches!(r.event, ParadataEvent::GpsFix { .. }))
    );
}

#[test]
fn removing_a_repeat_row_shifts_later_rows_and_their_nested_repeats() {
    let dir = tempfile::tempdir().unwrap();
    let mut f = fixture(&dir.path().join("d.db"));
    let i = f
        .store
        .start_or_resume(f.officials[0].id, VERSION, "e")
        .unwrap()
        .id;
    for name in ["An", "Binh", "Chi"] {
        let row = f.store.add_repeat_row(i, "members").unwrap();
        f.store
            .set_answer(i, &format!("members[{row}]/name"), &json!(name))
            .unwrap();
    }
    let job = f.store.add_repeat_row(i, "members[2]/jobs").unwrap();
    f.store
        .set_answer(
            i,
            &format!("members[2]/jobs[{job}]/title"),
            &json!("farmer"),
        )
        .unwrap();

    f.store.remove_repeat_row(i, "members", 1).unwrap();

    let answers: Vec<_> = f
        .store
        .answers(i)
        .unwrap()
        .into_iter()
        .map(|a| (a.path, a.value))
        .collect();
    assert_eq!(
        answers,
        vec![
            ("members[0]/name".to_string(), json!("An")),
            ("members[1]/jobs[0]/title".to_string(), json!("farmer")),
            ("members[1]/name".to_string(), json!("Chi")),
        ]
    );
    let rows = f.store.repeat_rows(i).unwrap();
    assert_eq!(rows.get("members"), Some(&2));
    assert_eq!(rows.get("members[1]/jobs"), Some(&1));
    assert_eq!(rows.get("members[2]/jobs"), None);
    assert!(matches!(
        f.store.remove_repeat_row(i, "members", 5),
        Err(StoreError::InvalidInput(_))
    ));
}

#[test]
fn completed_interview_cannot_change_and_progress_counts_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut f = fixture(&dir.path().join("d.db"));
    let i = f
        .store
        .start_or_resume(f.officials[0].id, VERSION, "e")
        .unwrap()
        .id;
    f.store.set_answer(i, "sex", &json!("f")).unwrap();
    let done = f.store.complete(i).unwrap();
    assert_eq!(done.status, InterviewStatus::Completed);
    assert!(done.ended_at.is_some());
    assert!(matches!(
        f.store.set_answer(i, "sex", &json!("m")),
        Err(StoreError::InvalidState(_))
    ));
    assert!(matches!(
        f.store.complete(i),
        Err(StoreError::InvalidState(_))
    ));
    f.store
        .start_or_resume(f.officials[1].id, VERSION, "e")
        .unwrap();

    f.store.lock();
    assert_eq!(
        f.store.progress().unwrap(),
        Progress {
            not_started: 0,
            in_progress: 1,
            completed: 1,
            non_response: 0,
            reserve_held: 2
        },
        "progress is readable while locked"
    );
    assert!(matches!(f.store.answers(i), Err(StoreError::Locked)));
    assert!(matches!(
        f.store.list_assignments(),
        Err(StoreError::Locked)
    ));
}

#[test]
fn list_groups_by_village_and_holds_reserves() {
    let dir = tempfile::tempdir().unwrap();
    let mut f = fixture(&dir.path().join("d.db"));
    let groups = f.store.list_assignments().unwrap();
    assert_eq!(
        groups
            .iter()
            .map(|g| g.village_code.as_str())
            .collect::<Vec<_>>(),
        ["T01", "T02"]
    );
    let t01 = &groups[0].assignments;
    assert_eq!(t01.len(), 2);
    assert_eq!(
        t01[0].assignment, f.officials[0],
        "personal fields decrypt to what was imported"
    );
    assert_eq!(t01[0].status, AssignmentStatus::NotStarted);
    assert_eq!(t01[1].status, AssignmentStatus::ReserveHeld);
    let err = f
        .store
        .start_or_resume(f.reserves[0].id, VERSION, "e")
        .unwrap_err();
    assert!(matches!(err, StoreError::InvalidState(_)), "{err}");
}

#[test]
fn nobody_home_three_times_releases_the_reserve_and_records_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut f = fixture(&dir.path().join("d.db"));
    let official = f.officials[0].id;
    let reserve = f.reserves[0].id;
    let i = f.store.start_or_resume(official, VERSION, "e").unwrap().id;
    let nobody = NonResponse {
        code: NonResponseCode::NobodyHome,
        note: Some("neighbour says they work in town".into()),
        revisit_at: Some(chrono::Utc::now() + chrono::Duration::days(1)),
    };
    for visit in 1..=2 {
        let out = f.store.record_non_response(i, &nobody).unwrap();
        assert!(
            matches!(out, NonResponseOutcome::RevisitScheduled { visits, .. } if visits == visit)
        );
    }
    let view = &f.store.list_assignments().unwrap()[0].assignments[0];
    assert!(matches!(
        view.status,
        AssignmentStatus::RevisitScheduled { visits: 2, .. }
    ));
    assert!(f.store.reserve_releases().unwrap().is_empty());

    let out = f.store.record_non_response(i, &nobody).unwrap();
    assert_eq!(
        out,
        NonResponseOutcome::Final {
            released_reserve: Some(reserve)
        }
    );
    let interview = f.store.interview(i).unwrap();
    assert_eq!(interview.status, InterviewStatus::NonResponse);
    assert_eq!(
        interview.non_response_code,
        Some(NonResponseCode::NobodyHome)
    );
    let releases = f.store.reserve_releases().unwrap();
    assert_eq!(releases.len(), 1);
    assert_eq!(
        (releases[0].reserve_id, releases[0].official_id),
        (reserve, official)
    );

    let r = f.store.start_or_resume(reserve, VERSION, "e").unwrap();
    assert_eq!(
        r.status,
        InterviewStatus::Draft,
        "a released reserve can be interviewed"
    );
    let p = f.store.progress().unwrap();
    assert_eq!((p.non_response, p.in_progress, p.reserve_held), (1, 1, 1));
}

#[test]
fn release_rule_is_configurable() {
    let dir = tempfile::tempdir().unwrap();
    let mut f = fixture(&dir.path().join("d.db"));
    f.store
        .set_release_rule(&ReleaseRule {
            nobody_home_visits: 1,
            release_on: vec![NonResponseCode::Moved],
        })
        .unwrap();
    let refused = NonResponse {
        code: NonResponseCode::Refused,
        note: None,
        revisit_at: None,
    };
    let i = f
        .store
        .start_or_resume(f.officials[0].id, VERSION, "e")
        .unwrap()
        .id;
    assert_eq!(
        f.store.record_non_response(i, &refused).unwrap(),
        NonResponseOutcome::Final {
            released_reserve: None
        },
        "refusal is not in release_on"
    );
    let moved = NonResponse {
        code: NonResponseCode::Moved,
        ..refused
    };
    let j = f
        .store
        .start_or_resume(f.officials[1].id, VERSION, "e")
        .unwrap()
        .id;
    assert_eq!(
        f.store.record_non_response(j, &moved).unwrap(),
        NonResponseOutcome::Final {
            released_reserve: Some(f.reserves[1].id)
        }
    );
    assert!(matches!(
        f.store.record_non_response(j, &moved),
        Err(StoreError::InvalidState(_))
    ));
}

#[test]
fn a_reserve_whose_pair_is_missing_is_refused_whole() {
    let dir = tempfile::tempdir().unwrap();
    let mut f = fixture(&dir.path().join("d.db"));
    let before = f.store.progress().unwrap();
    let orphan = common::assignment(
        fieldpost_store::AssignmentKind::Reserve,
        Some(uuid::Uuid::now_v7()),
        "T09",
        "Nobody",
    );
    let fine = common::assignment(
        fieldpost_store::AssignmentKind::Official,
        None,
        "T09",
        "Somebody",
    );
    let err = f.store.import_assignments(&[fine, orphan]).unwrap_err();
    assert!(matches!(err, StoreError::InvalidInput(_)), "{err}");
    assert_eq!(
        f.store.progress().unwrap(),
        before,
        "nothing of the batch was imported"
    );
}

#[test]
fn the_store_can_move_to_another_thread() {
    fn send<T: Send>(_: &T) {}
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("d.db")).unwrap();
    send(&store);
    let path = std::thread::spawn(move || store.path().to_path_buf())
        .join()
        .unwrap();
    assert!(path.ends_with("d.db"));
}
