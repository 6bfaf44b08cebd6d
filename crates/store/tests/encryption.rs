//! Encryption at rest, checked on the real file bytes.

mod common;

use common::{PIN, VERSION, fixture};
use fieldpost_store::{NonResponse, NonResponseCode, ParadataEvent, Store, StoreError, crypto};
use serde_json::json;

/// Does `needle` occur in the main file or its -wal / -journal companions?
fn found_on_disk(path: &std::path::Path, needle: &str) -> Vec<String> {
    let mut hits = Vec::new();
    for suffix in ["", "-wal", "-journal", "-shm"] {
        let file = format!("{}{suffix}", path.display());
        if let Ok(bytes) = std::fs::read(&file)
            && bytes.windows(needle.len()).any(|w| w == needle.as_bytes())
        {
            hits.push(file);
        }
    }
    hits
}

/// A fixture store with an interview started on the first official household.
fn started(path: &std::path::Path) -> (common::Fixture, uuid::Uuid) {
    let mut f = fixture(path);
    let i = f
        .store
        .start_or_resume(f.officials[0].id, VERSION, "e")
        .unwrap()
        .id;
    (f, i)
}

#[test]
fn no_answer_name_phone_or_note_in_the_raw_files() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("d.db");
    let (mut f, i) = started(&path);
    let secrets = [
        "Chairman Tran takes bribes",
        "Nguyen Thi Secretanswer",
        "gps-secret-marker",
    ];
    f.store
        .set_answer(i, "q10_other", &json!(secrets[0]))
        .unwrap();
    f.store
        .set_answer(i, "members[0]/name", &json!(secrets[1]))
        .unwrap();
    f.store
        .set_answer(i, "members[0]/name", &json!("changed"))
        .unwrap();
    // Which questions and repeats have rows is itself telling (skip logic): none of these
    // paths, nor the paradata kinds, may be readable either.
    f.store.add_repeat_row(i, "pregnancy_history").unwrap();
    f.store
        .set_answer(i, "pregnancy_history[0]/hiv_test_result", &json!("x"))
        .unwrap();
    f.store
        .record_paradata(
            i,
            chrono::Utc::now(),
            &ParadataEvent::QuestionEntered {
                path: secrets[2].into(),
            },
        )
        .unwrap();
    let j = f
        .store
        .start_or_resume(f.officials[1].id, VERSION, "e")
        .unwrap()
        .id;
    f.store
        .record_non_response(
            j,
            &NonResponse {
                code: NonResponseCode::Refused,
                note: Some("Mr Hoang shouted".into()),
                revisit_at: None,
            },
        )
        .unwrap();

    let mut needles: Vec<String> = secrets.iter().map(|s| s.to_string()).collect();
    needles.push("Mr Hoang shouted".into());
    for a in f.officials.iter().chain(&f.reserves) {
        needles.push(a.personal.name.clone());
        needles.push(a.personal.address.clone());
    }
    needles.push("0912 345 678".into());
    for path_or_kind in [
        "q10_other",
        "members[0]/name",
        "pregnancy_history",
        "hiv_test_result",
        "answer_changed",
        "question_entered",
        "repeat_row_added",
    ] {
        needles.push(path_or_kind.into());
    }
    // While open (data in the -wal) and after close (checkpointed into the main file).
    for n in &needles {
        assert_eq!(
            found_on_disk(&path, n),
            Vec::<String>::new(),
            "{n:?} readable on disk while open"
        );
    }
    // The test would be meaningless if clear text could never be found: a
    // non-personal field (the village code) must be visible.
    assert!(
        !found_on_disk(&path, "00004").is_empty(),
        "commune codes are stored in clear"
    );
    drop(f);
    for n in &needles {
        assert_eq!(
            found_on_disk(&path, n),
            Vec::<String>::new(),
            "{n:?} readable on disk after close"
        );
    }
    let mut store = Store::open(&path).unwrap();
    store.unlock(PIN).unwrap();
    assert_eq!(store.answers(i).unwrap()[0].value, json!("changed"));
}

#[test]
fn wrong_pin_is_refused_and_change_pin_rewraps_without_reencrypting() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("d.db");
    let (mut f, i) = started(&path);
    f.store.set_answer(i, "age", &json!(41)).unwrap();
    drop(f);

    let answer_blob = || -> Vec<u8> {
        let c = rusqlite::Connection::open(&path).unwrap();
        c.query_row("SELECT doc FROM answer_doc", [], |r| r.get(0))
            .unwrap()
    };
    let before = answer_blob();

    let mut store = Store::open(&path).unwrap();
    assert!(matches!(store.unlock("0000"), Err(StoreError::WrongPin)));
    assert!(!store.is_unlocked());
    assert!(matches!(
        store.change_pin("0000", "1357"),
        Err(StoreError::WrongPin)
    ));
    store.change_pin(PIN, "1357").unwrap();
    drop(store);
    assert_eq!(
        answer_blob(),
        before,
        "changing the PIN must not re-encrypt answers"
    );

    let mut store = Store::open(&path).unwrap();
    assert!(
        matches!(store.unlock(PIN), Err(StoreError::WrongPin)),
        "old PIN no longer works"
    );
    store.unlock("1357").unwrap();
    assert_eq!(store.answers(i).unwrap()[0].value, json!(41));
    let (kdf, _, salt) = store.kdf_parameters().unwrap().unwrap();
    assert_eq!(
        (kdf.as_str(), salt),
        (crypto::ARGON2ID_NAME, crypto::SALT_LEN)
    );
    assert_eq!(
        store.key_protection().unwrap().unwrap().0,
        crypto::Kdf::PRODUCTION,
        "a changed PIN uses production strength, though the store was set up with test parameters"
    );
}

#[test]
fn production_pin_setup_uses_argon2id_with_64_mib() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("d.db")).unwrap();
    assert!(!store.has_pin().unwrap());
    assert!(matches!(store.unlock(PIN), Err(StoreError::NoKey)));
    store.set_up_pin(PIN).unwrap();
    assert_eq!(
        crypto::Kdf::PRODUCTION,
        crypto::Kdf::Argon2id {
            memory_kib: 65_536,
            passes: 8,
            lanes: 1
        }
    );
    let (kdf, protector) = store.key_protection().unwrap().unwrap();
    assert_eq!((kdf, protector), (crypto::Kdf::PRODUCTION, None));
    assert!(matches!(
        store.set_up_pin("9999"),
        Err(StoreError::KeyAlreadySet)
    ));
}

#[test]
fn ciphertext_moved_to_another_row_or_interview_does_not_open() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("d.db");
    let (mut f, i) = started(&path);
    let j = f
        .store
        .start_or_resume(f.officials[1].id, VERSION, "e")
        .unwrap()
        .id;
    f.store.set_answer(i, "satisfied", &json!("very")).unwrap();
    f.store
        .set_answer(i, "refused_topic", &json!("no"))
        .unwrap();
    f.store
        .set_answer(j, "satisfied", &json!("not at all"))
        .unwrap();
    drop(f);
    let c = rusqlite::Connection::open(&path).unwrap();
    // Give the second interview the first one's answers.
    c.execute_batch(&format!(
        "UPDATE answer_doc SET doc = (SELECT doc FROM answer_doc WHERE interview_id = '{i}') \
         WHERE interview_id = '{j}';"
    ))
    .unwrap();
    drop(c);
    let mut store = Store::open(&path).unwrap();
    store.unlock(PIN).unwrap();
    let err = store.answers(j).unwrap_err();
    assert!(matches!(err, StoreError::Tampered(_)), "{err}");
    assert_eq!(
        store.answers(i).unwrap().len(),
        2,
        "the untouched interview still reads"
    );
}

#[test]
fn a_second_handle_shares_the_key_and_both_write_in_turn() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("d.db");
    let (mut f, i) = started(&path);
    let mut sync = f.store.try_clone().unwrap();
    assert!(sync.is_unlocked(), "the clone needs no PIN");

    // Interleaved writes through both connections all land, and each sees the other's.
    for n in 0..20 {
        f.store.set_answer(i, "age", &json!(n)).unwrap();
        sync.set_answer(i, "name", &json!(format!("Nguyễn {n}")))
            .unwrap();
    }
    let seen = |s: &Store| {
        let mut a: Vec<_> = s
            .answers(i)
            .unwrap()
            .into_iter()
            .map(|a| (a.path, a.value))
            .collect();
        a.sort_by(|x, y| x.0.cmp(&y.0));
        a
    };
    let want = vec![
        ("age".to_string(), json!(19)),
        ("name".to_string(), json!("Nguyễn 19")),
    ];
    assert_eq!(seen(&f.store), want);
    assert_eq!(seen(&sync), want);

    // Locking the screens' handle leaves a running sync able to finish.
    f.store.lock();
    assert!(matches!(f.store.answers(i), Err(StoreError::Locked)));
    assert_eq!(seen(&sync), want);
    drop(sync);
    assert!(!f.store.is_unlocked());
}
