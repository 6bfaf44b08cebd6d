//! Group commit on SQLite, through the real HTTP API on loopback: concurrent uploads share one
//! transaction, a bad batch among them is refused alone (its savepoint rolled back, nothing of
//! it stored), and every valid batch is acknowledged and stored exactly once, also when all of
//! them are uploaded again.

mod common;

use common::{Device, TestServer, interview, seal_as, stats};
use fieldpost_proto::v1::*;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;
use uuid::Uuid;

const DEVICES: usize = 8;
/// The device whose batch names an assignment the server does not know (second interview):
/// refused inside the commit, after its first interview was written in the same group.
const BAD: usize = 3;

#[test]
fn concurrent_uploads_commit_as_a_group_and_a_bad_batch_fails_alone() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("group.sqlite").display().to_string();
    let server = TestServer::start(db.clone(), dir.path().join("group.data"));
    let api = server.api();
    let admin = api.admin();
    let mut devices: Vec<Device> = (0..DEVICES)
        .map(|i| {
            let enumerator = if i % 2 == 0 { "enum1" } else { "enum2" };
            let mut d = Device::enrol(&api, &api.enrolment_code(&admin, enumerator));
            // Disjoint assignments per device of one enumerator: every interview counts.
            d.next_assignment = (i / 2) * 2;
            d
        })
        .collect();
    let mut expected: BTreeSet<Uuid> = BTreeSet::new();
    // One upload first, so the server has parsed the compiled form (once per process) and the
    // uploads below reach the committer together rather than one by one.
    let mut warm = Device::enrol(&api, &api.enrolment_code(&admin, "enum1"));
    warm.next_assignment = 30;
    let (first, ids) = warm.batch(1);
    warm.upload(&api, first)
        .expect("the first upload is acknowledged");
    expected.extend(ids);
    let mut batches = Vec::new();
    let mut bad_ids = Vec::new();
    for (i, d) in devices.iter_mut().enumerate() {
        if i == BAD {
            let good = d.assignments[d.next_assignment].clone();
            let mut unknown = good.clone();
            unknown.id = Uuid::now_v7();
            let (r1, s1) = interview(&good, d.enumerator.id);
            let (r2, s2) = interview(&unknown, d.enumerator.id);
            bad_ids = vec![r1.interview_id, r2.interview_id];
            let payload = serde_json::to_vec(&BatchPayload {
                interviews: vec![r1, r2],
            })
            .expect("payload");
            batches.push(seal_as(d.id, &d.key, 1, &[s1, s2], &payload, &d.recipients));
        } else {
            let (bytes, ids) = d.batch(2);
            expected.extend(ids);
            batches.push(bytes);
        }
    }

    // Hold SQLite's write lock from another connection, so the uploads pile up behind it the
    // way they do when they arrive faster than one fsync: the committer must take them as
    // one group when the lock is released.
    let blocker = rusqlite::Connection::open(&db).expect("opens");
    blocker
        .execute_batch("BEGIN IMMEDIATE")
        .expect("takes the write lock");
    let answers = std::thread::scope(|s| {
        let uploads: Vec<_> = devices
            .iter()
            .zip(&batches)
            .map(|(d, b)| {
                let api = &api;
                s.spawn(move || d.upload(api, b.clone()))
            })
            .collect();
        std::thread::sleep(Duration::from_millis(4000));
        blocker.execute_batch("COMMIT").expect("releases the lock");
        uploads
            .into_iter()
            .map(|u| u.join().expect("upload thread"))
            .collect::<Vec<_>>()
    });

    let mut acks = BTreeMap::new();
    for (i, a) in answers.into_iter().enumerate() {
        if i == BAD {
            let (_, e) = a.expect_err("the bad batch is refused");
            assert_eq!(e.code, ErrorCode::InvalidPayload, "{e:?}");
            assert!(e.message.contains("unknown"), "{}", e.message);
        } else {
            let ack = a.expect("a valid batch is acknowledged");
            assert_eq!(ack.interviews, 2);
            acks.insert(i, ack);
        }
    }
    // One commit for the batches that waited together: they carry its one time.
    let mut per_time: BTreeMap<_, usize> = BTreeMap::new();
    for ack in acks.values() {
        *per_time.entry(ack.acknowledged_at).or_default() += 1;
    }
    // Without group commit each batch has its own time (7 times); the committer may take the
    // first upload alone before the rest arrive, and a slow upload may come after a group.
    let largest = per_time.values().copied().max().unwrap_or(0);
    assert!(
        largest >= 3 && per_time.len() <= 4,
        "the waiting uploads shared a commit: {per_time:?}"
    );

    let stored = || -> Vec<Uuid> {
        let conn = rusqlite::Connection::open(&db).expect("opens");
        let mut q = conn.prepare("SELECT id FROM interview").expect("query");
        q.query_map([], |r| r.get::<_, String>(0))
            .expect("rows")
            .map(|id| Uuid::parse_str(&id.expect("id")).expect("uuid"))
            .collect()
    };
    let check_exactly_once = || {
        let ids = stored();
        let unique: BTreeSet<Uuid> = ids.iter().copied().collect();
        assert_eq!(ids.len(), unique.len(), "no interview stored twice");
        assert_eq!(unique, expected, "exactly the valid batches' interviews");
        assert!(
            bad_ids.iter().all(|b| !unique.contains(b)),
            "nothing of the bad batch"
        );
        let s = stats(&db);
        assert_eq!(
            s["batches"], DEVICES as i64,
            "the warm-up and 7 valid: {s:?}"
        );
    };
    check_exactly_once();

    // Every batch again, all at once: the same acknowledgements, nothing stored twice.
    let again = std::thread::scope(|s| {
        let uploads: Vec<_> = devices
            .iter()
            .zip(&batches)
            .map(|(d, b)| {
                let api = &api;
                s.spawn(move || d.upload(api, b.clone()))
            })
            .collect();
        uploads
            .into_iter()
            .map(|u| u.join().expect("upload thread"))
            .collect::<Vec<_>>()
    });
    for (i, a) in again.into_iter().enumerate() {
        match acks.get(&i) {
            Some(first) => assert_eq!(&a.expect("acknowledged again"), first),
            None => assert!(a.is_err(), "the bad batch is refused again"),
        }
    }
    check_exactly_once();
}
