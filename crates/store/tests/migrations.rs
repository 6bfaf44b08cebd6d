//! Schema upgrades from every earlier version, and files the store must refuse
//! without writing to them.

mod common;

use fieldpost_store::{InterviewStatus, Store, StoreError, crypto, schema};
use rusqlite::{Connection, params};
use serde_json::json;
use uuid::Uuid;

const PIN: &str = "2468";
const NOW: &str = "2026-11-20T08:00:00.000000Z";
/// The answer path of the old stores: distinctive, so the raw files can be searched for it.
const OLD_PATH: &str = "q_pregnant_now";

/// Write, with plain SQL, what an older app would have left at `version`:
/// a key, a questionnaire, an assignment, a draft interview with one answer,
/// and from version 2 on a queued batch.
fn old_store(path: &std::path::Path, version: usize) -> (Uuid, Uuid) {
    let mut c = Connection::open(path).unwrap();
    c.pragma_update(None, "journal_mode", "WAL").unwrap();
    schema::migrations().to_version(&mut c, version).unwrap();
    let (assignment, interview) = (Uuid::now_v7(), Uuid::now_v7());
    if version == 0 {
        return (assignment, interview);
    }
    c.pragma_update(None, "application_id", schema::APPLICATION_ID)
        .unwrap();
    // Before schema 4 every key was PBKDF2-wrapped.
    let (key, wrapped) =
        crypto::new_data_key(PIN, crypto::Kdf::Pbkdf2 { iterations: 1_000 }).unwrap();
    let (a, i) = (assignment.to_string(), interview.to_string());
    let personal = key
        .seal(
            &crypto::aad("assignment", &[&a]),
            br#"{"name":"Le Van Old","phone":null,"address":"x"}"#,
        )
        .unwrap();
    let answer = key
        .seal(&crypto::aad("answer", &[&i, OLD_PATH]), b"57")
        .unwrap();
    c.execute_batch(&format!(
        "INSERT INTO setting VALUES ('device_id', '{}');
         INSERT INTO questionnaire VALUES ('sipas', '2024.1', '{{}}', '{NOW}');",
        Uuid::now_v7()
    ))
    .unwrap();
    c.execute(
        "INSERT INTO keyring (id, kdf, iterations, salt, wrapped_key, changed_at) \
         VALUES (1, ?1, ?2, ?3, ?4, ?5)",
        params![
            crypto::PBKDF2_NAME,
            1_000,
            wrapped.salt,
            wrapped.wrapped,
            NOW
        ],
    )
    .unwrap();
    c.execute(
        "INSERT INTO assignment VALUES (?1, 'official', NULL, 'household', '01', '00004', 'T01', \
         'rural', 'enum-1', 'sipas', NULL, ?2)",
        params![a, personal],
    )
    .unwrap();
    c.execute(
        "INSERT INTO interview (id, assignment_id, form_id, form_version, status, started_at, \
         enumerator, device) VALUES (?1, ?2, 'sipas', '2024.1', 'draft', ?3, 'enum-1', ?4)",
        params![i, a, NOW, Uuid::now_v7().to_string()],
    )
    .unwrap();
    c.execute(
        "INSERT INTO answer VALUES (?1, ?2, ?3, ?4)",
        params![i, OLD_PATH, answer, NOW],
    )
    .unwrap();
    c.execute(
        "INSERT INTO repeat_count VALUES (?1, 'members', 2)",
        params![i],
    )
    .unwrap();
    if (2..4).contains(&version) {
        // Schemas 2 and 3 kept the paradata kind in clear.
        let payload = key
            .seal(
                &crypto::aad("paradata", &[&i, "1"]),
                br#"{"kind":"question_entered","path":"q_pregnant_now"}"#,
            )
            .unwrap();
        c.execute(
            "INSERT INTO paradata (seq, interview_id, kind, at, payload) \
             VALUES (1, ?1, 'question_entered', ?2, ?3)",
            params![i, NOW, payload],
        )
        .unwrap();
    }
    if version >= 2 {
        c.execute(
            "INSERT INTO outbox (sequence, state, bytes, byte_len, sha256, created_at) \
             VALUES (1, 'acknowledged', NULL, 10, x'00', ?1)",
            [NOW],
        )
        .unwrap();
    }
    (assignment, interview)
}

#[test]
fn upgrades_from_every_earlier_schema_keeping_data() {
    for version in 0..schema::LATEST_VERSION as usize {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.db");
        let (assignment, interview) = old_store(&path, version);
        let mut store = Store::open(&path).unwrap_or_else(|e| panic!("from v{version}: {e}"));
        assert_eq!(store.schema_version().unwrap(), schema::LATEST_VERSION);
        store.integrity_check().unwrap();
        if version == 0 {
            assert!(!store.has_pin().unwrap());
            continue;
        }
        store.unlock(PIN).unwrap();
        // The unlock re-wrapped the PBKDF2 key with Argon2id and moved the clear-keyed
        // answer rows into the interview's encrypted document.
        assert_eq!(
            store.key_protection().unwrap().unwrap().0,
            crypto::Kdf::PRODUCTION,
            "from v{version}"
        );
        assert!(
            !file_contains(&path, b"question_entered"),
            "from v{version}: a paradata kind is still readable in the file"
        );
        if (2..4).contains(&version) {
            assert_eq!(
                store.paradata(interview).unwrap().len(),
                1,
                "from v{version}"
            );
        }
        assert!(
            !file_contains(&path, OLD_PATH.as_bytes()),
            "from v{version}: the answer path is still readable in the file"
        );
        assert_eq!(
            store.repeat_rows(interview).unwrap().get("members"),
            Some(&2)
        );
        assert_eq!(
            store.assignment(assignment).unwrap().personal.name,
            "Le Van Old"
        );
        let i = store.interview(interview).unwrap();
        assert_eq!(
            (i.status, i.non_response_code, i.purged_at),
            (InterviewStatus::Draft, None, None)
        );
        let answers = store.answers(interview).unwrap();
        assert_eq!(
            (answers[0].path.as_str(), &answers[0].value),
            (OLD_PATH, &json!(57))
        );
        assert_eq!(
            answers[0].updated_at.to_rfc3339(),
            "2026-11-20T08:00:00+00:00"
        );
        // The upgraded store works: a new answer and, on v1 stores, a first batch number.
        store.set_answer(interview, "sex", &json!("m")).unwrap();
        store.complete(interview).unwrap();
        let seq = store
            .enqueue_batch(&[interview], |_| Ok::<_, String>(vec![1, 2, 3]))
            .unwrap();
        assert_eq!(
            seq,
            if version >= 2 { 2 } else { 1 },
            "sequence continues after the old batches"
        );
        // The re-wrapped key is the same data key: the store opens again with the same PIN.
        drop(store);
        let store = Store::open_unlocked(&path, PIN).unwrap();
        assert_eq!(
            store.answers(interview).unwrap().len(),
            2,
            "from v{version}"
        );
    }
}

/// Does `needle` occur in the store's main file or its log?
fn file_contains(path: &std::path::Path, needle: &[u8]) -> bool {
    ["", "-wal"].iter().any(|suffix| {
        std::fs::read(format!("{}{suffix}", path.display()))
            .is_ok_and(|bytes| bytes.windows(needle.len()).any(|w| w == needle))
    })
}

fn file_digest(path: &std::path::Path) -> Vec<u8> {
    ring::digest::digest(&ring::digest::SHA256, &std::fs::read(path).unwrap())
        .as_ref()
        .to_vec()
}

#[test]
fn newer_schema_is_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("new.db");
    drop(Store::open(&path).unwrap());
    let c = Connection::open(&path).unwrap();
    c.pragma_update(None, "user_version", schema::LATEST_VERSION + 1)
        .unwrap();
    c.pragma_update(None, "journal_mode", "DELETE").unwrap();
    drop(c);
    let before = file_digest(&path);
    let err = Store::open(&path).unwrap_err();
    assert!(
        matches!(err, StoreError::NewerSchema { found, .. } if found == schema::LATEST_VERSION + 1),
        "{err}"
    );
    assert_eq!(file_digest(&path), before);
}

#[test]
fn another_programs_sqlite_database_is_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("contacts.db");
    let c = Connection::open(&path).unwrap();
    c.execute_batch("CREATE TABLE contact (name TEXT); INSERT INTO contact VALUES ('x');")
        .unwrap();
    drop(c);
    let before = file_digest(&path);
    let err = Store::open(&path).unwrap_err();
    assert!(matches!(err, StoreError::NotAStore { .. }), "{err}");
    assert_eq!(file_digest(&path), before);
}

#[test]
fn damaged_store_is_refused_untouched() {
    // Damage the schema page, then (separately) the data pages.
    for (from, what) in [(100usize, "schema page"), (4096 * 3, "data pages")] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.db");
        let mut f = common::fixture(&path);
        let i = f
            .store
            .start_or_resume(f.officials[0].id, common::VERSION, "e")
            .unwrap()
            .id;
        for n in 0..300 {
            f.store.set_answer(i, &format!("q{n}"), &json!(n)).unwrap();
        }
        drop(f);
        let mut bytes = std::fs::read(&path).unwrap();
        assert!(
            bytes.len() > from + 4096 * 2,
            "fixture too small to damage {what}"
        );
        for b in &mut bytes[from..from + 4096 * 2] {
            *b = 0xA5;
        }
        std::fs::write(&path, &bytes).unwrap();
        let err = Store::open(&path).unwrap_err();
        assert!(matches!(err, StoreError::NotAStore { .. }), "{what}: {err}");
        assert_eq!(std::fs::read(&path).unwrap(), bytes, "{what}: file changed");
    }
}
