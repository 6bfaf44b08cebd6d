//! The outbox (sequence numbers, states, damaged batches) and purge.

mod common;

use common::{PIN, VERSION, fixture};
use fieldpost_store::{BatchState, InterviewStatus, Store, StoreError};
use serde_json::json;

fn two_finished(f: &mut common::Fixture) -> (uuid::Uuid, uuid::Uuid) {
    let i = f
        .store
        .start_or_resume(f.officials[0].id, VERSION, "e")
        .unwrap()
        .id;
    f.store.set_answer(i, "age", &json!(33)).unwrap();
    f.store.complete(i).unwrap();
    let j = f
        .store
        .start_or_resume(f.officials[1].id, VERSION, "e")
        .unwrap()
        .id;
    f.store.set_answer(j, "age", &json!(61)).unwrap();
    f.store.complete(j).unwrap();
    (i, j)
}

#[test]
fn sequences_increase_and_a_failed_seal_queues_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut f = fixture(&dir.path().join("d.db"));
    let draft = f
        .store
        .start_or_resume(f.officials[0].id, VERSION, "e")
        .unwrap()
        .id;
    assert!(
        matches!(
            f.store
                .enqueue_batch(&[draft], |_| Ok::<_, String>(vec![1])),
            Err(StoreError::InvalidState(_))
        ),
        "a draft cannot be sent"
    );
    f.store.complete(draft).unwrap();
    let j = f
        .store
        .start_or_resume(f.officials[1].id, VERSION, "e")
        .unwrap()
        .id;
    f.store.complete(j).unwrap();

    let err = f
        .store
        .enqueue_batch(&[draft], |_| Err("recipient key missing"))
        .unwrap_err();
    assert!(matches!(err, StoreError::Seal(_)), "{err}");
    assert!(f.store.outbox().unwrap().is_empty());

    let mut seen = Vec::new();
    let s1 = f
        .store
        .enqueue_batch(&[draft], |seq| {
            seen.push(seq);
            Ok::<_, String>(b"batch-one".to_vec())
        })
        .unwrap();
    let s2 = f
        .store
        .enqueue_batch(&[j], |seq| {
            Ok::<_, String>(format!("batch-{seq}").into_bytes())
        })
        .unwrap();
    assert_eq!(
        (s1, s2, seen),
        (1, 2, vec![1]),
        "the failed seal did not use up a number"
    );
    assert!(
        matches!(
            f.store.enqueue_batch(&[j], |_| Ok::<_, String>(vec![])),
            Err(StoreError::InvalidState(_))
        ),
        "no interview in two batches"
    );
    assert_eq!(f.store.batch_bytes(2).unwrap(), b"batch-2");
    assert!(f.store.unbatched_interviews().unwrap().is_empty());

    f.store.mark_sent(1).unwrap();
    f.store.mark_acknowledged(1).unwrap();
    f.store.mark_sent(1).unwrap(); // late "sent" does not move it back
    let outbox = f.store.outbox().unwrap();
    assert_eq!(outbox[0].state, BatchState::Acknowledged);
    assert_eq!(outbox[0].interview_ids, vec![draft]);
    assert_eq!(outbox[1].state, BatchState::Pending);
    let log = f.store.sync_log(10).unwrap();
    assert_eq!(
        log.iter().map(|l| l.kind.as_str()).collect::<Vec<_>>(),
        ["acknowledged", "sent", "queued", "queued"]
    );
}

#[test]
fn truncated_batch_is_reported_and_left_as_is() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("d.db");
    let mut f = fixture(&path);
    let (i, _) = two_finished(&mut f);
    let sealed: Vec<u8> = (0..4000u32).map(|n| (n % 251) as u8).collect();
    let seq = f
        .store
        .enqueue_batch(&[i], |_| Ok::<_, String>(sealed.clone()))
        .unwrap();
    drop(f);
    let c = rusqlite::Connection::open(&path).unwrap();
    c.execute(
        "UPDATE outbox SET bytes = substr(bytes, 1, 1000) WHERE sequence = ?1",
        [seq],
    )
    .unwrap();
    drop(c);
    let mut store = Store::open(&path).unwrap();
    store.unlock(PIN).unwrap();
    let err = store.batch_bytes(seq).unwrap_err();
    assert!(
        matches!(err, StoreError::CorruptBatch { sequence, .. } if sequence == seq),
        "{err}"
    );
    assert_eq!(
        store.outbox().unwrap()[0].state,
        BatchState::Pending,
        "still queued"
    );
    let c = rusqlite::Connection::open(&path).unwrap();
    let len: i64 = c
        .query_row("SELECT length(bytes) FROM outbox", [], |r| r.get(0))
        .unwrap();
    assert_eq!(len, 1000, "the damaged bytes were not overwritten");
}

#[test]
fn purge_removes_acknowledged_answers_after_the_window_and_keeps_progress() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("d.db");
    let mut f = fixture(&path);
    let (i, j) = two_finished(&mut f);
    let s1 = f
        .store
        .enqueue_batch(&[i], |_| Ok::<_, String>(b"sealed-1".to_vec()))
        .unwrap();
    f.store
        .enqueue_batch(&[j], |_| Ok::<_, String>(b"sealed-2".to_vec()))
        .unwrap();
    f.store.mark_acknowledged(s1).unwrap();
    let progress = f.store.progress().unwrap();

    let week = chrono::Duration::days(7);
    assert_eq!(
        f.store.purge_acknowledged(week).unwrap().interviews,
        0,
        "inside the window"
    );
    assert_eq!(f.store.answers(i).unwrap().len(), 1);

    let report = f
        .store
        .purge_acknowledged(chrono::Duration::zero())
        .unwrap();
    assert_eq!(
        (report.interviews, report.answers, report.batches),
        (1, 1, 1)
    );
    assert!(f.store.answers(i).unwrap().is_empty());
    assert!(f.store.paradata(i).unwrap().is_empty());
    assert_eq!(
        f.store.answers(j).unwrap().len(),
        1,
        "unacknowledged batch keeps its answers"
    );
    let interview = f.store.interview(i).unwrap();
    assert_eq!(interview.status, InterviewStatus::Completed);
    assert!(interview.purged_at.is_some());
    assert_eq!(f.store.progress().unwrap(), progress, "counts stay");
    assert!(matches!(
        f.store.batch_bytes(s1),
        Err(StoreError::InvalidState(_))
    ));
    assert_eq!(
        f.store
            .purge_acknowledged(chrono::Duration::zero())
            .unwrap()
            .interviews,
        0
    );
    f.store.integrity_check().unwrap();
}
