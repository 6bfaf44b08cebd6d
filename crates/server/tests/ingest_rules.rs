//! Ingest rules a coordinator relies on, on SQLite and on a real PostgreSQL, through the real
//! HTTP API on loopback with the real seal code: a batch must be encrypted to exactly the
//! survey's recipients; an assignment counts once however many devices finish it; incidents
//! reach the admin and the coordinator of their province, and no other coordinator.

mod common;

use chrono::{Duration, SecondsFormat, Utc};
use common::{Answer, Api, Backend, Device, TestServer, stats};
use fieldpost_proto::v1::*;
use fieldpost_server::demo::DEMO_PASSWORD;
use uuid::Uuid;

type Case = fn(&TestServer, &Backend);

const CASES: &[(&str, Case)] = &[
    (
        "recipients_must_be_exactly_the_surveys",
        recipients_must_be_exactly_the_surveys,
    ),
    (
        "two_devices_complete_one_assignment",
        two_devices_complete_one_assignment,
    ),
    ("non_responses_and_duplicates", non_responses_and_duplicates),
    (
        "a_refused_batch_is_seen_in_its_province",
        a_refused_batch_is_seen_in_its_province,
    ),
    (
        "a_racing_commit_does_not_count_twice",
        a_racing_commit_does_not_count_twice,
    ),
];

fn run_suite(backend: Backend) {
    let dir = tempfile::tempdir().expect("temp dir");
    for (name, case) in CASES {
        let db = backend.fresh_db(dir.path(), name);
        let server = TestServer::start(db, dir.path().join(format!("{name}.data")));
        eprintln!("case {name}");
        case(&server, &backend);
    }
}

#[test]
fn ingest_rules_on_sqlite() {
    run_suite(Backend::Sqlite);
}

#[test]
fn ingest_rules_on_postgres() {
    run_suite(Backend::Postgres(common::postgres::Postgres::start()));
}

/// Seals one interview with `status` for assignment `a` as the device's next batch.
fn seal_one(d: &mut Device, a: &Assignment, status: &str) -> (Vec<u8>, Uuid) {
    let (mut rec, mut sum) = common::interview(a, d.enumerator.id);
    rec.status = status.into();
    sum.status = status.into();
    let id = rec.interview_id;
    let payload = serde_json::to_vec(&BatchPayload {
        interviews: vec![rec],
    })
    .expect("json");
    let sequence = d.next_sequence;
    d.next_sequence += 1;
    let bytes = common::seal_as(d.id, &d.key, sequence, &[sum], &payload, &d.recipients);
    (bytes, id)
}

fn incidents(api: &Api, token: &str, query: &str) -> Vec<Incident> {
    let r: Incidents = api
        .get(&format!("/incidents{query}"), Some(token))
        .expect("incidents");
    r.incidents
}

/// Progress of one province as (status, interviews), summed over its groups.
fn progress_01(api: &Api, admin: &str) -> Vec<(String, u64)> {
    let p: Progress = api
        .get("/progress?by=province&province=01", Some(admin))
        .expect("progress");
    p.rows
        .into_iter()
        .map(|r| (r.status, r.interviews))
        .collect()
}

fn recipients_must_be_exactly_the_surveys(s: &TestServer, _: &Backend) {
    let api = s.api();
    let admin = api.admin();
    let d = Device::enrol(&api, &api.enrolment_code(&admin, "enum1"));
    assert_eq!(
        d.recipients.len(),
        2,
        "the demo survey has a server and an escrow key"
    );
    let (rec, sum) = common::interview(&d.assignments[0], d.enumerator.id);
    let payload = serde_json::to_vec(&BatchPayload {
        interviews: vec![rec],
    })
    .expect("json");

    // A superset: what a device whose recipient list gained a stranger's key would send.
    let stranger = fieldpost_seal::Identity::generate().to_public();
    let mut more = d.recipients.clone();
    more.push(stranger.clone());
    let superset = common::seal_as(d.id, &d.key, 1, &[sum.clone()], &payload, &more);
    let (status, err) = d.upload(&api, superset).expect_err("a superset is refused");
    assert_eq!((status, err.code), (422, ErrorCode::WrongRecipient));
    assert!(
        err.message.contains(&stranger.key_id()) && err.message.contains("not the survey's"),
        "names the extra key: {}",
        err.message
    );

    // A subset: the escrow key is missing, so the survey owner could not open the archive.
    let escrow = d.recipients[1].key_id();
    let subset = common::seal_as(
        d.id,
        &d.key,
        1,
        &[sum.clone()],
        &payload,
        &d.recipients[..1],
    );
    let (_, err) = d.upload(&api, subset).expect_err("a subset is refused");
    assert_eq!(err.code, ErrorCode::WrongRecipient);
    assert!(
        err.message.contains(&escrow) && !err.message.contains("not the survey's"),
        "names the missing key only: {}",
        err.message
    );

    // Exactly the survey's keys, in another order: acknowledged.
    let mut reversed = d.recipients.clone();
    reversed.reverse();
    let exact = common::seal_as(d.id, &d.key, 1, &[sum], &payload, &reversed);
    d.upload(&api, exact)
        .expect("the survey's own set is accepted");
    let st = stats(&s.db);
    assert_eq!(st["interviews"], 1, "{st:?}");
    assert_eq!(st["incidents_wrong_recipient"], 2, "{st:?}");
}

/// The test: two devices of one enumerator complete the same assignment; progress
/// counts one, an incident names both.
fn two_devices_complete_one_assignment(s: &TestServer, _: &Backend) {
    let api = s.api();
    let admin = api.admin();
    let mut first = Device::enrol(&api, &api.enrolment_code(&admin, "enum1"));
    let mut second = Device::enrol(&api, &api.enrolment_code(&admin, "enum1"));
    let a = first.assignments[0].clone();
    let (b1, id1) = seal_one(&mut first, &a, "completed");
    let (b2, id2) = seal_one(&mut second, &a, "completed");
    first.upload(&api, b1).expect("the first is acknowledged");
    let ack = second
        .upload(&api, b2.clone())
        .expect("the second is acknowledged too, so the device purges it");
    assert_eq!(ack.interviews, 1);
    // A repeat of the second upload (its answer was lost): the same acknowledgement, no new incident.
    assert_eq!(second.upload(&api, b2).expect("repeat"), ack);

    assert_eq!(progress_01(&api, &admin), [("completed".to_string(), 1)]);
    let coord = api.login("coord01", DEMO_PASSWORD);
    let p: Progress = api
        .get("/progress?by=enumerator", Some(&coord))
        .expect("coordinator's progress");
    assert_eq!(p.rows.iter().map(|r| r.interviews).sum::<u64>(), 1, "{p:?}");
    let st = stats(&s.db);
    assert_eq!(
        (st["interviews"], st["interviews_duplicate"]),
        (2, 1),
        "both interviews are kept: {st:?}"
    );
    assert_eq!(st["incidents_duplicate_interview"], 1, "{st:?}");

    let found = incidents(&api, &coord, "");
    assert_eq!(found.len(), 1, "{found:?}");
    let i = &found[0];
    assert_eq!(i.kind, "duplicate_interview");
    assert_eq!(i.province.as_deref(), Some("01"));
    assert_eq!(i.assignment_code.as_deref(), Some(a.code.as_str()));
    assert_eq!((i.device_id, i.sequence), (Some(second.id), Some(1)));
    assert_eq!(
        i.duplicate,
        Some(DuplicateInterview {
            counted_interview_id: id1,
            counted_device_id: first.id,
            duplicate_interview_id: id2,
            duplicate_device_id: second.id,
        })
    );
    for id in [id1, id2, first.id, second.id] {
        assert!(i.detail.contains(&id.to_string()), "{}", i.detail);
    }
    assert_eq!(incidents(&api, &admin, "").len(), 1);
    let other = api.login("coord79", DEMO_PASSWORD);
    assert!(incidents(&api, &other, "").is_empty());
    // Both interviews stay in the archive: a rebuild gives the same counts and incidents.
    let ingest = fieldpost_server::serve::open(&s.db, Some(&s.data_dir), &[]).expect("opens");
    fieldpost_server::rebuild::rebuild(&ingest).expect("rebuilds");
    assert_eq!(stats(&s.db), st);
    assert_eq!(progress_01(&api, &admin), [("completed".to_string(), 1)]);
}

/// The rules for non-responses (see the storage module): a completed interview replaces a
/// final non-response; anything after a completed interview, and a second non-response, does
/// not count. Also two interviews for one assignment in one batch.
fn non_responses_and_duplicates(s: &TestServer, _: &Backend) {
    let api = s.api();
    let admin = api.admin();
    let mut da = Device::enrol(&api, &api.enrolment_code(&admin, "enum1"));
    let mut db = Device::enrol(&api, &api.enrolment_code(&admin, "enum1"));
    let (b, c, e) = (
        da.assignments[1].clone(),
        da.assignments[2].clone(),
        da.assignments[3].clone(),
    );
    // B: refused on one device, then completed on the other: the completed one counts.
    let (x, refused_b) = seal_one(&mut da, &b, "refused");
    da.upload(&api, x).expect("acked");
    assert_eq!(progress_01(&api, &admin), [("refused".to_string(), 1)]);
    let (x, completed_b) = seal_one(&mut db, &b, "completed");
    db.upload(&api, x).expect("acked");
    assert_eq!(progress_01(&api, &admin), [("completed".to_string(), 1)]);
    // ... and a later non-response on the same device does not count.
    let (x, _) = seal_one(&mut da, &b, "nobody_home");
    da.upload(&api, x).expect("acked");
    // C: refused, then moved on the other device: the first non-response counts.
    let (x, _) = seal_one(&mut db, &c, "refused");
    db.upload(&api, x).expect("acked");
    let (x, _) = seal_one(&mut da, &c, "moved");
    da.upload(&api, x).expect("acked");
    // E: two completed interviews of one assignment in one batch: the first counts.
    da.assignments = vec![e.clone()];
    da.next_assignment = 0;
    let (x, ids) = da.batch(2);
    assert_eq!(da.upload(&api, x).expect("acked").interviews, 2);

    let mut p = progress_01(&api, &admin);
    p.sort();
    assert_eq!(
        p,
        [("completed".to_string(), 2), ("refused".to_string(), 1)],
        "B completed, C refused, E completed"
    );
    let st = stats(&s.db);
    assert_eq!(
        (st["interviews"], st["interviews_duplicate"]),
        (7, 4),
        "{st:?}"
    );
    let found = incidents(&api, &admin, "");
    assert_eq!(found.len(), 4, "{found:?}");
    assert!(found.iter().all(|i| i.kind == "duplicate_interview"));
    // Newest first: E's incident, then C's, then B's two.
    let codes: Vec<_> = found.iter().map(|i| i.assignment_code.clone()).collect();
    assert_eq!(
        codes,
        [
            Some(e.code.clone()),
            Some(c.code.clone()),
            Some(b.code.clone()),
            Some(b.code.clone())
        ]
    );
    let replaced = found[3].duplicate.as_ref().expect("names both");
    assert_eq!(
        (
            replaced.counted_interview_id,
            replaced.duplicate_interview_id
        ),
        (completed_b, refused_b),
        "the completed interview counts, the non-response is kept"
    );
    assert!(
        found[3]
            .detail
            .contains("replaced the earlier non-response")
    );
    let in_batch = found[0].duplicate.as_ref().expect("names both");
    assert_eq!(
        (
            in_batch.counted_interview_id,
            in_batch.duplicate_interview_id
        ),
        (ids[0], ids[1])
    );
}

/// Part 4's "the coordinator sees the incident": a permanently refused batch.
fn a_refused_batch_is_seen_in_its_province(s: &TestServer, _: &Backend) {
    let api = s.api();
    let admin = api.admin();
    let d1 = Device::enrol(&api, &api.enrolment_code(&admin, "enum1"));
    let d2 = Device::enrol(&api, &api.enrolment_code(&admin, "enum2"));
    let before = Utc::now();
    // Refused before decryption: the recipients are not the survey's.
    let a = d1.assignments[0].clone();
    let (rec, sum) = common::interview(&a, d1.enumerator.id);
    let payload = serde_json::to_vec(&BatchPayload {
        interviews: vec![rec],
    })
    .expect("json");
    let wrong = common::seal_as(d1.id, &d1.key, 1, &[sum], &payload, &d1.recipients[..1]);
    d1.upload(&api, wrong).expect_err("refused");
    // Refused after decryption, one interview: an answer the questionnaire does not have.
    let (mut rec, sum) = common::interview(&d2.assignments[0], d2.enumerator.id);
    rec.answers
        .insert("phan_a/no_such_question".into(), serde_json::json!(1));
    let payload = serde_json::to_vec(&BatchPayload {
        interviews: vec![rec],
    })
    .expect("json");
    let mismatch = common::seal_as(d2.id, &d2.key, 1, &[sum], &payload, &d2.recipients);
    let (_, err) = d2.upload(&api, mismatch).expect_err("refused");
    assert_eq!(err.code, ErrorCode::QuestionnaireMismatch);
    // Not a batch at all: the device that uploaded it is named, so its coordinator sees it.
    d1.upload(&api, b"hello".to_vec()).expect_err("malformed");
    // A device this server never enrolled: no survey, no province; the admin's alone.
    let stranger_key = fieldpost_seal::DeviceSigningKey::generate().expect("key");
    let (rec, sum) = common::interview(&a, d1.enumerator.id);
    let payload = serde_json::to_vec(&BatchPayload {
        interviews: vec![rec],
    })
    .expect("json");
    let stranger = common::seal_as(
        Uuid::now_v7(),
        &stranger_key,
        1,
        &[sum],
        &payload,
        &d1.recipients,
    );
    d1.upload(&api, stranger).expect_err("unknown device");

    let all = incidents(&api, &admin, "");
    let kinds: Vec<_> = all.iter().map(|i| i.kind.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "unknown_device",
            "malformed_batch",
            "questionnaire_mismatch",
            "wrong_recipient"
        ],
        "newest first"
    );
    assert_eq!((all[0].province.as_deref(), all[0].survey_id), (None, None));
    assert_eq!(
        (all[1].device_id, all[1].province.as_deref()),
        (Some(d1.id), Some("01"))
    );
    let survey = api.survey_id(&admin);
    let wrong = &all[3];
    assert_eq!(
        (
            wrong.device_id,
            wrong.sequence,
            wrong.province.as_deref(),
            wrong.survey_id
        ),
        (Some(d1.id), Some(1), Some("01"), Some(survey))
    );
    assert!(
        wrong.detail.contains("not encrypted to the survey's keys"),
        "{}",
        wrong.detail
    );
    let mismatch = &all[2];
    assert_eq!(mismatch.province.as_deref(), Some("79"));
    assert_eq!(
        mismatch.assignment_code.as_deref(),
        Some(d2.assignments[0].code.as_str())
    );
    assert!(
        !mismatch.detail.contains("1962"),
        "no answer values in an incident: {}",
        mismatch.detail
    );

    let coord01 = api.login("coord01", DEMO_PASSWORD);
    let seen: Vec<_> = incidents(&api, &coord01, "")
        .into_iter()
        .map(|i| i.kind)
        .collect();
    assert_eq!(seen, ["malformed_batch", "wrong_recipient"]);
    let coord79 = api.login("coord79", DEMO_PASSWORD);
    let seen: Vec<_> = incidents(&api, &coord79, "")
        .into_iter()
        .map(|i| i.kind)
        .collect();
    assert_eq!(seen, ["questionnaire_mismatch"]);

    // Filters: the survey leaves out what no survey was found for; `since` and `limit`.
    let of_survey = incidents(&api, &admin, &format!("?survey={survey}"));
    assert_eq!(of_survey.len(), 3);
    let since = |t: chrono::DateTime<Utc>| t.to_rfc3339_opts(SecondsFormat::Micros, true);
    assert_eq!(
        incidents(&api, &admin, &format!("?since={}", since(before))).len(),
        4
    );
    assert!(
        incidents(
            &api,
            &admin,
            &format!("?since={}", since(Utc::now() + Duration::hours(1)))
        )
        .is_empty()
    );
    let newest = incidents(&api, &admin, "?limit=1");
    assert_eq!(
        (newest.len(), newest[0].kind.as_str()),
        (1, "unknown_device")
    );
    let enumerator = api.login("enum1", DEMO_PASSWORD);
    let refused: Answer<Incidents> = api.get("/incidents", Some(&enumerator));
    assert_eq!(refused.expect_err("enumerators may not").0, 403);
    let recheck = api.login("recheck01", DEMO_PASSWORD);
    let refused: Answer<Incidents> = api.get("/incidents", Some(&recheck));
    assert_eq!(refused.expect_err("recheck teams may not").0, 403);
}

/// Another server process commits a counted interview for the same assignment while this
/// server's commit is under way: held open here in a transaction of our own. On PostgreSQL the
/// server's insert waits on that transaction, fails on the unique partial index when it
/// commits, and the commit runs again (the race two server processes can have); on SQLite the
/// server's write transaction waits for ours (one writer).
fn a_racing_commit_does_not_count_twice(s: &TestServer, backend: &Backend) {
    let api = s.api();
    let admin = api.admin();
    let survey = api.survey_id(&admin);
    let other = Device::enrol(&api, &api.enrolment_code(&admin, "enum1"));
    let mut d = Device::enrol(&api, &api.enrolment_code(&admin, "enum1"));
    let a = d.assignments[0].clone();
    let (bytes, late) = seal_one(&mut d, &a, "completed");
    let early = Uuid::now_v7();
    let (held_tx, held_rx) = std::sync::mpsc::channel::<()>();
    let db = s.db.clone();
    let pg_port = match backend {
        Backend::Postgres(pg) => Some(pg.port),
        Backend::Sqlite => None,
    };
    let enumerator = other.enumerator.id;
    let other_id = other.id;
    let holder = std::thread::spawn(move || {
        let conn = fieldpost_server::db::connect(&db).expect("connects");
        conn.transaction(&mut |sql| {
            sql.execute(
                "INSERT INTO batch (device_id, sequence, digest, batch_id, interviews, byte_len, acknowledged_at) \
                 VALUES ($1, 1, 'held', $2, 1, 1, $3)",
                &[
                    other_id.to_string().into(),
                    Uuid::now_v7().to_string().into(),
                    fieldpost_server::storage::time_text(Utc::now()).into(),
                ],
            )?;
            sql.execute(
                "INSERT INTO interview (id, survey_id, device_id, sequence, assignment_id, enumerator_id, \
                 questionnaire_version, province, commune, stratum, status) \
                 VALUES ($1, $2, $3, 1, $4, $5, '2024.1', $6, $7, $8, 'completed')",
                &[
                    early.to_string().into(),
                    survey.to_string().into(),
                    other_id.to_string().into(),
                    a.id.to_string().into(),
                    enumerator.to_string().into(),
                    a.province.as_str().into(),
                    a.commune.as_str().into(),
                    a.stratum.as_str().into(),
                ],
            )?;
            let _ = held_tx.send(());
            match pg_port {
                // Commit once the server's insert waits on this transaction.
                Some(port) => wait_for_a_blocked_insert(port, &db),
                None => std::thread::sleep(std::time::Duration::from_millis(1500)),
            }
            Ok(())
        })
        .expect("the other commit")
    });
    held_rx.recv().expect("the other transaction holds its row");
    let ack = d.upload(&api, bytes).expect("acknowledged after the race");
    holder.join().expect("holder");
    assert_eq!(ack.interviews, 1);
    assert_eq!(progress_01(&api, &admin), [("completed".to_string(), 1)]);
    let st = stats(&s.db);
    assert_eq!(
        (st["interviews"], st["interviews_duplicate"]),
        (2, 1),
        "{st:?}"
    );
    let found = incidents(&api, &admin, "");
    assert_eq!(found.len(), 1, "{found:?}");
    let dup = found[0].duplicate.as_ref().expect("names both");
    assert_eq!(
        (dup.counted_interview_id, dup.duplicate_interview_id),
        (early, late)
    );
}

/// Polls PostgreSQL until some backend waits for a lock (the server's insert on the index).
fn wait_for_a_blocked_insert(port: u16, db_url: &str) {
    let dbname = db_url.rsplit('/').next().expect("db name");
    let mut client = postgres::Client::connect(
        &format!("host=127.0.0.1 port={port} user=postgres dbname={dbname}"),
        postgres::NoTls,
    )
    .expect("connects");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let row = client
            .query_one("SELECT COUNT(*) FROM pg_locks WHERE NOT granted", &[])
            .expect("pg_locks");
        if row.get::<_, i64>(0) > 0 {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the server's commit never waited on the other transaction"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}
