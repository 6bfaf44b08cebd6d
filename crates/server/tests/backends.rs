//! The server's behaviour, run once on SQLite and once on a real PostgreSQL 15+: the same cases,
//! through the real HTTP API on loopback, with the real seal code on the device side.

mod common;

use common::{Backend, Device, TestServer, stats, tamper_and_resign};
use fieldpost_proto::v1::*;
use fieldpost_server::demo::{DEMO_PASSWORD, DEMO_QUESTIONNAIRE_VERSION};
use fieldpost_server::rebuild::rebuild;
use fieldpost_server::serve::open;

type Case = fn(&TestServer);

const CASES: &[(&str, Case)] = &[
    (
        "every_documented_route_is_served",
        every_documented_route_is_served,
    ),
    ("admin_sets_up_a_survey", admin_sets_up_a_survey),
    (
        "batches_are_ingested_exactly_once",
        batches_are_ingested_exactly_once,
    ),
    (
        "each_bad_batch_is_rejected_with_its_reason",
        each_bad_batch_is_rejected_with_its_reason,
    ),
    (
        "answers_are_checked_against_the_questionnaire",
        answers_are_checked_against_the_questionnaire,
    ),
    (
        "coordinators_see_only_their_province",
        coordinators_see_only_their_province,
    ),
    (
        "the_archive_rebuilds_the_database",
        the_archive_rebuilds_the_database,
    ),
];

fn run_suite(backend: Backend) {
    let dir = tempfile::tempdir().expect("temp dir");
    for (name, case) in CASES {
        let db = backend.fresh_db(dir.path(), name);
        let server = TestServer::start(db, dir.path().join(format!("{name}.data")));
        eprintln!("case {name}");
        case(&server);
    }
}

#[test]
fn suite_on_sqlite() {
    run_suite(Backend::Sqlite);
}

#[test]
fn suite_on_postgres() {
    run_suite(Backend::Postgres(common::postgres::Postgres::start()));
}

fn xlsx() -> Vec<u8> {
    std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../assets/forms/sipas-2024.xlsx"
    ))
    .expect("SIPAS form")
}

/// Each route of the OpenAPI document reaches a handler: never the router's bare 404/405.
fn every_documented_route_is_served(s: &TestServer) {
    let client = reqwest::blocking::Client::new();
    for (method, path) in fieldpost_server::http::ROUTES {
        let path = path
            .replace("{survey_id}", &uuid::Uuid::now_v7().to_string())
            .replace("{device_id}", &uuid::Uuid::now_v7().to_string())
            .replace("{account_id}", &uuid::Uuid::now_v7().to_string())
            .replace("{version}", "v1");
        let url = format!("{}{path}", s.base);
        let req = match *method {
            "get" => client.get(url),
            "post" => client.post(url),
            "put" => client.put(url),
            "delete" => client.delete(url),
            other => panic!("method {other}"),
        };
        let resp = req.send().expect("sends");
        let status = resp.status().as_u16();
        let body = resp.bytes().expect("body");
        assert_ne!(status, 405, "{method} {path}");
        if status == 404 {
            serde_json::from_slice::<ApiError>(&body)
                .unwrap_or_else(|_| panic!("{method} {path} is not routed"));
        }
        if path != "/openapi.json" {
            assert!(
                status >= 400,
                "{method} {path} answered {status} without credentials"
            );
        }
    }
}

fn admin_sets_up_a_survey(s: &TestServer) {
    let api = s.api();
    let admin = api.admin();
    let survey: Survey = api
        .post(
            "/surveys",
            Some(&admin),
            &NewSurvey {
                code: "pilot-2025".into(),
                title: "Pilot".into(),
            },
        )
        .expect("creates");
    let dup: Answer<Survey> = api.post(
        "/surveys",
        Some(&admin),
        &NewSurvey {
            code: "pilot-2025".into(),
            title: "Again".into(),
        },
    );
    assert_eq!(dup.expect_err("duplicate code").1.code, ErrorCode::Conflict);

    let path = format!("/surveys/{}/questionnaires/2025.1", survey.id);
    let q: QuestionnaireVersion = api
        .send_bytes("PUT", &path, Some(&admin), xlsx())
        .expect("uploads");
    assert_eq!(q.byte_len, xlsx().len() as u64);
    let again: QuestionnaireVersion = api
        .send_bytes("PUT", &path, Some(&admin), xlsx())
        .expect("same bytes: no-op");
    assert_eq!(again.sha256, q.sha256);
    let mut other = xlsx();
    other.push(0);
    let changed: Answer<QuestionnaireVersion> = api.send_bytes("PUT", &path, Some(&admin), other);
    assert_eq!(
        changed.expect_err("versions are immutable").1.code,
        ErrorCode::Conflict
    );
    let not_xlsx: Answer<QuestionnaireVersion> = api.send_bytes(
        "PUT",
        &format!("/surveys/{}/questionnaires/x", survey.id),
        Some(&admin),
        b"a,b".to_vec(),
    );
    assert_eq!(not_xlsx.expect_err("not a form").0, 400);
    // A workbook that does not compile: refused with the problem and its place, not stored.
    let broken = workbook(&[(
        "survey",
        &[
            &["type", "name", "label"],
            &["text", "ten", "Name"],
            &["integr", "tuoi", "Age"],
        ],
    )]);
    let refused: Answer<QuestionnaireVersion> = api.send_bytes(
        "PUT",
        &format!("/surveys/{}/questionnaires/2025.2", survey.id),
        Some(&admin),
        broken,
    );
    let (status, err) = refused.expect_err("does not compile");
    assert_eq!((status, err.code), (400, ErrorCode::InvalidRequest));
    assert!(
        err.message.contains("row 3") && err.message.contains("integr"),
        "names the row and the problem: {}",
        err.message
    );
    let stored = fieldpost_server::storage::Storage::open(&s.db)
        .expect("opens")
        .questionnaires(survey.id)
        .expect("lists");
    assert_eq!(
        stored
            .iter()
            .map(|q| q.version.as_str())
            .collect::<Vec<_>>(),
        ["2025.1"],
        "nothing stored for the refused workbook"
    );

    let acc: Account = api
        .post(
            "/accounts",
            Some(&admin),
            &NewAccount {
                username: "pilot-enum".into(),
                password: "long enough".into(),
                role: Role::Enumerator,
                province: None,
            },
        )
        .expect("creates an enumerator");
    assert_eq!(acc.role, Role::Enumerator);
    let no_province: Answer<Account> = api.post(
        "/accounts",
        Some(&admin),
        &NewAccount {
            username: "coordX".into(),
            password: "long enough".into(),
            role: Role::Coordinator,
            province: None,
        },
    );
    assert_eq!(
        no_province.expect_err("a coordinator needs a province").0,
        400
    );

    let csv = "code,kind,reserve_for,province,commune,village,stratum,enumerator\n\
               P1,official,,01,00004,T1,urban,pilot-enum\nP1R,reserve,P1,01,00004,T1,urban,pilot-enum\n";
    let sample_path = format!("/surveys/{}/sample", survey.id);
    let up: SampleUploaded = api
        .send_bytes("POST", &sample_path, Some(&admin), csv.into())
        .expect("sample loads");
    assert_eq!((up.official, up.reserve), (1, 1));
    let unknown = "code,kind,reserve_for,province,commune,village,stratum,enumerator\nP2,official,,01,00004,T1,urban,nobody\n";
    let bad: Answer<SampleUploaded> =
        api.send_bytes("POST", &sample_path, Some(&admin), unknown.into());
    let (status, err) = bad.expect_err("unknown enumerator");
    assert_eq!(status, 400);
    assert!(err.message.contains("nobody"), "{}", err.message);

    let code: EnrolmentCode = api
        .post(
            "/enrolment-codes",
            Some(&admin),
            &NewEnrolmentCode {
                survey_id: survey.id,
                enumerator: "pilot-enum".into(),
            },
        )
        .expect("code");
    let device = Device::enrol(&api, &code.code.to_lowercase());
    assert_eq!(
        device.assignments.len(),
        1,
        "the official assignment (the reserve is filtered by the helper)"
    );
    let all: Assignments = api
        .get("/device/assignments", Some(&device.token))
        .expect("assignments");
    let reserve = all
        .assignments
        .iter()
        .find(|a| a.reserve)
        .expect("reserve downloaded");
    assert_eq!(reserve.reserve_for.as_deref(), Some("P1"));
    let versions: Questionnaires = api
        .get("/device/questionnaires", Some(&device.token))
        .expect("versions");
    assert_eq!(versions.versions.len(), 1);
    let reused = api.post::<_, EnrolResponse>(
        "/enrol",
        None,
        &EnrolRequest {
            code: code.code.clone(),
            device_id: uuid::Uuid::now_v7(),
            public_key: fieldpost_seal::DeviceSigningKey::generate()
                .expect("key")
                .public_key()
                .to_string(),
        },
    );
    assert_eq!(
        reused.expect_err("one-time code").1.code,
        ErrorCode::InvalidEnrolmentCode
    );

    // People's calls refuse device tokens and the other way round; nothing without a token.
    assert_eq!(
        api.get::<Vec<Survey>>("/surveys", None)
            .expect_err("no token")
            .0,
        401
    );
    assert_eq!(
        api.get::<Vec<Survey>>("/surveys", Some(&device.token))
            .expect_err("device token")
            .0,
        401
    );
    assert_eq!(
        api.get::<Assignments>("/device/assignments", Some(&admin))
            .expect_err("session token")
            .0,
        401
    );
    let enum_session = api.login("enum1", DEMO_PASSWORD);
    let forbidden: Answer<Survey> = api.post(
        "/surveys",
        Some(&enum_session),
        &NewSurvey {
            code: "x".into(),
            title: "x".into(),
        },
    );
    assert_eq!(
        forbidden.expect_err("enumerators cannot create surveys").0,
        403
    );
    let wrong = api.post::<_, LoginResponse>(
        "/sessions",
        None,
        &LoginRequest {
            username: "admin".into(),
            password: "wrong".into(),
        },
    );
    assert_eq!(wrong.expect_err("wrong password").0, 401);

    // The demo device side: code lists and recipients.
    let codelists: CodeLists = api
        .get("/device/codelists", Some(&device.token))
        .expect("code lists");
    assert_eq!(codelists.provinces.len(), 34);
    assert_eq!(codelists.communes.len(), 3321);
}

fn batches_are_ingested_exactly_once(s: &TestServer) {
    let api = s.api();
    let admin = api.admin();
    let mut d = Device::enrol(&api, &api.enrolment_code(&admin, "enum1"));
    let (b1, _) = d.batch(3);
    let ack = d.upload(&api, b1.clone()).expect("acknowledged");
    assert_eq!((ack.sequence, ack.interviews), (1, 3));
    assert_eq!(ack.digest, fieldpost_seal::digest(&b1).to_string());
    // The same bytes again (the first answer was lost): the same acknowledgement.
    assert_eq!(
        d.upload(&api, b1.clone()).expect("duplicate acknowledged"),
        ack
    );
    // Later batches, delivered out of order.
    let (b2, _) = d.batch(2);
    let (b3, _) = d.batch(4);
    assert_eq!(d.upload(&api, b3).expect("3 before 2").sequence, 3);
    assert_eq!(d.upload(&api, b2).expect("2 after 3").sequence, 2);
    // Sequence 1 again with other content: rejected and recorded.
    d.next_sequence = 1;
    let (other, _) = d.batch(1);
    let (status, err) = d.upload(&api, other).expect_err("conflict");
    assert_eq!((status, err.code), (409, ErrorCode::SequenceConflict));
    let st = stats(&s.db);
    assert_eq!(st["interviews"], 9);
    assert_eq!(st["interviews_completed"], 9);
    assert_eq!(st["batches"], 3);
    assert_eq!(st["incidents_sequence_conflict"], 1);
    assert!(!st.contains_key("incidents_forged_signature"));
}

fn each_bad_batch_is_rejected_with_its_reason(s: &TestServer) {
    let api = s.api();
    let admin = api.admin();
    let mut d1 = Device::enrol(&api, &api.enrolment_code(&admin, "enum1"));
    let mut d2 = Device::enrol(&api, &api.enrolment_code(&admin, "enum2"));
    let reject = |d: &Device, bytes: Vec<u8>| d.upload(&api, bytes).expect_err("rejected").1.code;

    // Forged: a byte changed after signing.
    let (mut forged, _) = d1.batch(1);
    let n = forged.len();
    forged[n - 100] ^= 1;
    assert_eq!(reject(&d1, forged), ErrorCode::ForgedSignature);
    // Tampered ciphertext, signed again by the device itself.
    let (good, _) = d1.batch(1);
    assert_eq!(
        reject(&d1, tamper_and_resign(&good, &d1.key)),
        ErrorCode::TamperedCiphertext
    );
    // A valid batch of device 1 uploaded by device 2.
    let (replayed, _) = d1.batch(1);
    assert_eq!(
        reject(&d2, replayed.clone()),
        ErrorCode::ReplayFromAnotherDevice
    );
    // A device the server never enrolled (signing its own batches).
    let stranger_key = fieldpost_seal::DeviceSigningKey::generate().expect("key");
    let (rec, sum) = common::interview(&d1.assignments[0], d1.enumerator.id);
    let payload = serde_json::to_vec(&BatchPayload {
        interviews: vec![rec],
    })
    .expect("json");
    let stranger = common::seal_as(
        uuid::Uuid::now_v7(),
        &stranger_key,
        1,
        &[sum],
        &payload,
        &d1.recipients,
    );
    assert_eq!(reject(&d1, stranger), ErrorCode::UnknownDevice);
    // Wrong recipient: encrypted to a key that is not the survey's.
    let (rec, sum) = common::interview(&d1.assignments[0], d1.enumerator.id);
    let payload = serde_json::to_vec(&BatchPayload {
        interviews: vec![rec],
    })
    .expect("json");
    let elsewhere = fieldpost_seal::Identity::generate().to_public();
    let wrong = common::seal_as(d1.id, &d1.key, 90, &[sum], &payload, &[elsewhere]);
    assert_eq!(reject(&d1, wrong), ErrorCode::WrongRecipient);
    // Not a batch at all.
    assert_eq!(reject(&d1, b"hello".to_vec()), ErrorCode::MalformedBatch);
    // An assignment of another enumerator: decrypts, but does not belong to this device.
    d2.assignments = d1.assignments.clone();
    let (foreign, _) = d2.batch(1);
    assert_eq!(reject(&d2, foreign), ErrorCode::InvalidPayload);
    // The genuine replayed batch is still accepted from its own device.
    d1.upload(&api, replayed).expect("accepted from its device");
    // Revoked: the device's uploads stop, with their own reason.
    let _: serde_json::Value = api
        .post(
            &format!("/devices/{}/revoke", d1.id),
            Some(&admin),
            &serde_json::json!({}),
        )
        .expect("revokes");
    let (late, _) = d1.batch(1);
    let (status, err) = d1.upload(&api, late).expect_err("revoked");
    assert_eq!((status, err.code), (403, ErrorCode::RevokedDevice));

    let st = stats(&s.db);
    assert_eq!(st["interviews"], 1, "only the genuine batch: {st:?}");
    for kind in [
        "forged_signature",
        "tampered_ciphertext",
        "replay_from_another_device",
        "unknown_device",
        "wrong_recipient",
        "malformed_batch",
        "invalid_payload",
    ] {
        assert_eq!(
            st.get(&format!("incidents_{kind}")),
            Some(&1),
            "{kind}: {st:?}"
        );
    }
}

/// Seals one interview on the device's next assignment, with its answers and version changed.
fn batch_with(d: &mut Device, version: &str, answers: serde_json::Value) -> Vec<u8> {
    let a = d.assignments[d.next_assignment % d.assignments.len()].clone();
    d.next_assignment += 1;
    let (mut rec, mut sum) = common::interview(&a, d.enumerator.id);
    rec.answers = answers.as_object().expect("object").clone();
    rec.questionnaire_version = version.into();
    sum.questionnaire_version = version.into();
    let payload = serde_json::to_vec(&BatchPayload {
        interviews: vec![rec],
    })
    .expect("json");
    let sequence = d.next_sequence;
    d.next_sequence += 1;
    common::seal_as(d.id, &d.key, sequence, &[sum], &payload, &d.recipients)
}

fn answers_are_checked_against_the_questionnaire(s: &TestServer) {
    let api = s.api();
    let admin = api.admin();
    let mut d = Device::enrol(&api, &api.enrolment_code(&admin, "enum1"));
    let v = DEMO_QUESTIONNAIRE_VERSION;
    let refused = |d: &Device, bytes: Vec<u8>| {
        let (status, err) = d.upload(&api, bytes).expect_err("refused");
        assert_eq!(
            (status, err.code),
            (422, ErrorCode::QuestionnaireMismatch),
            "{}",
            err.message
        );
        err.message
    };
    // A path that names no field of SIPAS 2024.1.
    let bogus = batch_with(
        &mut d,
        v,
        serde_json::json!({"phan_a/khong_co_cau_nay": "x"}),
    );
    let msg = refused(&d, bogus);
    assert!(msg.contains("phan_a/khong_co_cau_nay"), "{msg}");
    // A value that does not fit its field: text in the year-of-birth integer; the message
    // names the field, never the value (incidents must hold no respondent data).
    let misfit = batch_with(
        &mut d,
        v,
        serde_json::json!({"phan_a/nam_sinh": "Nguyễn Thị B"}),
    );
    let msg = refused(&d, misfit);
    assert!(
        msg.contains("phan_a/nam_sinh") && !msg.contains("Nguyễn"),
        "{msg}"
    );
    // A questionnaire version the server never loaded.
    let unknown = batch_with(
        &mut d,
        "1999.9",
        serde_json::json!({"phan_a/gioi_tinh": "nam"}),
    );
    let msg = refused(&d, unknown);
    assert!(msg.contains("1999.9"), "{msg}");
    // A valid batch after them still ingests.
    let (good, _) = d.batch(3);
    assert_eq!(d.upload(&api, good).expect("valid").interviews, 3);
    let st = stats(&s.db);
    assert_eq!(
        st["interviews"], 3,
        "nothing of the refused batches: {st:?}"
    );
    assert_eq!(st["incidents_questionnaire_mismatch"], 3, "{st:?}");
}

fn coordinators_see_only_their_province(s: &TestServer) {
    let api = s.api();
    let admin = api.admin();
    let mut d1 = Device::enrol(&api, &api.enrolment_code(&admin, "enum1"));
    let mut d2 = Device::enrol(&api, &api.enrolment_code(&admin, "enum2"));
    let (b, _) = d1.batch(5);
    d1.upload(&api, b).expect("province 01");
    let (b, _) = d2.batch(3);
    d2.upload(&api, b).expect("province 79");

    let coord = api.login("coord01", DEMO_PASSWORD);
    let p: Progress = api
        .get("/progress?by=commune", Some(&coord))
        .expect("own province");
    assert!(!p.rows.is_empty());
    assert!(p.rows.iter().all(|r| r.province == "01"), "{p:?}");
    assert_eq!(p.rows.iter().map(|r| r.interviews).sum::<u64>(), 5);
    let other = api.get::<Progress>("/progress?by=commune&province=79", Some(&coord));
    assert_eq!(other.expect_err("another province").0, 403);
    let all: Progress = api
        .get("/progress?by=province", Some(&admin))
        .expect("admin sees all");
    let total: u64 = all.rows.iter().map(|r| r.interviews).sum();
    assert_eq!(total, 8);
    let by_enum: Progress = api
        .get("/progress?by=enumerator&province=79", Some(&admin))
        .expect("by enumerator");
    assert_eq!(by_enum.rows.len(), 1);
    assert_eq!(by_enum.rows[0].group, d2.enumerator.id.to_string());
    let enumerator = api.login("enum1", DEMO_PASSWORD);
    assert_eq!(
        api.get::<Progress>("/progress?by=province", Some(&enumerator))
            .expect_err("enumerator")
            .0,
        403
    );
    assert_eq!(DEMO_QUESTIONNAIRE_VERSION, "2024.1");
}

fn the_archive_rebuilds_the_database(s: &TestServer) {
    let api = s.api();
    let admin = api.admin();
    let mut d = Device::enrol(&api, &api.enrolment_code(&admin, "enum1"));
    for n in [4, 2, 7] {
        let (b, _) = d.batch(n);
        d.upload(&api, b.clone()).expect("acked");
        d.upload(&api, b).expect("duplicate acked");
    }
    let (good, _) = d.batch(1);
    d.upload(&api, tamper_and_resign(&good, &d.key))
        .expect_err("tampered");
    // A second device uploads, then is revoked.
    let mut gone = Device::enrol(&api, &api.enrolment_code(&admin, "enum2"));
    let (b, _) = gone.batch(2);
    gone.upload(&api, b).expect("acked before the revocation");
    let _: serde_json::Value = api
        .post(
            &format!("/devices/{}/revoke", gone.id),
            Some(&admin),
            &serde_json::json!({}),
        )
        .expect("revokes");
    let before = stats(&s.db);
    assert_eq!(before["interviews"], 15);
    assert_eq!(before["devices_revoked"], 1);

    let ingest = open(&s.db, Some(&s.data_dir), &[]).expect("opens");
    ingest
        .storage
        .reset_ingest()
        .expect("the ingested data is lost");
    // The database comes back from a backup taken before the revocation.
    unrevoke_all(&s.db);
    assert_eq!(stats(&s.db)["interviews"], 0);
    assert_eq!(stats(&s.db)["devices_revoked"], 0);
    let report = rebuild(&ingest).expect("rebuilds");
    assert_eq!(report.acknowledged, 4, "{report:?}");
    assert_eq!(report.revocations, 1, "{report:?}");
    assert_eq!(report.rejected.get("tampered_ciphertext"), Some(&1));
    assert_eq!(stats(&s.db), before);
    // The device's next upload after the rebuild: a retry of batch 3 gets its acknowledgement.
    let (b4, _) = d.batch(2);
    assert_eq!(d.upload(&api, b4).expect("acked after rebuild").sequence, 5);
    // The revoked device stays revoked.
    let (late, _) = gone.batch(1);
    let (status, err) = gone.upload(&api, late).expect_err("still revoked");
    assert_eq!((status, err.code), (403, ErrorCode::RevokedDevice));
}

/// What a database restored from an older backup looks like: no device revoked.
fn unrevoke_all(db: &str) {
    let backend = fieldpost_server::db::connect(db).expect("connects");
    backend
        .transaction(&mut |sql| {
            sql.execute("UPDATE device SET revoked_at = NULL", &[])?;
            Ok(())
        })
        .expect("updates");
}

use fieldpost_form::testkit::workbook;

use common::Answer;
