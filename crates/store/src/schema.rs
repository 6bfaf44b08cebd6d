//! The schema and its migrations, one version per entry.
//!
//! The version lives in SQLite's `user_version` (that is how
//! `rusqlite_migration` tracks it). Rules: a released migration is never
//! edited, only followed by a new one; every version has a fixture in the
//! upgrade test (`tests/migrations.rs`). Personal data columns are BLOBs of
//! AES-GCM ciphertext (see `crypto`); everything else stays in clear so
//! progress counts work without the PIN.

use rusqlite_migration::{M, Migrations};

/// `PRAGMA application_id` of a FieldPost store ("FPST"), so a foreign SQLite
/// database is recognised and left alone.
pub const APPLICATION_ID: i32 = 0x4650_5354;

/// Version 1: questionnaires, assignments, interviews, answers, key, settings.
const V1: &str = r#"
CREATE TABLE setting (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;

-- One row: the data key wrapped by the PIN-derived key, and how it was derived.
CREATE TABLE keyring (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    kdf         TEXT NOT NULL,
    iterations  INTEGER NOT NULL,
    salt        BLOB NOT NULL,
    wrapped_key BLOB NOT NULL,
    changed_at  TEXT NOT NULL
) STRICT;

CREATE TABLE questionnaire (
    form_id       TEXT NOT NULL,
    version       TEXT NOT NULL,
    compiled_json TEXT NOT NULL,
    loaded_at     TEXT NOT NULL,
    PRIMARY KEY (form_id, version)
) STRICT;

CREATE TABLE assignment (
    id            TEXT PRIMARY KEY,
    kind          TEXT NOT NULL CHECK (kind IN ('official', 'reserve')),
    pair_id       TEXT REFERENCES assignment(id) DEFERRABLE INITIALLY DEFERRED,
    unit          TEXT NOT NULL CHECK (unit IN ('person', 'household')),
    province_code TEXT NOT NULL,
    commune_code  TEXT NOT NULL,
    village_code  TEXT NOT NULL,
    stratum       TEXT NOT NULL,
    enumerator    TEXT NOT NULL,
    form_id       TEXT NOT NULL,
    due_date      TEXT,
    personal      BLOB NOT NULL
) STRICT;
CREATE INDEX assignment_place ON assignment(province_code, commune_code, village_code);

CREATE TABLE interview (
    id            TEXT PRIMARY KEY,
    assignment_id TEXT NOT NULL REFERENCES assignment(id),
    form_id       TEXT NOT NULL,
    form_version  TEXT NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('draft', 'completed', 'non_response')),
    started_at    TEXT NOT NULL,
    ended_at      TEXT,
    enumerator    TEXT NOT NULL,
    device        TEXT NOT NULL,
    FOREIGN KEY (form_id, form_version) REFERENCES questionnaire(form_id, version)
) STRICT;
-- One interview per assignment, ever: a retry after a crash resumes, never duplicates.
CREATE UNIQUE INDEX interview_assignment ON interview(assignment_id);

CREATE TABLE answer (
    interview_id TEXT NOT NULL REFERENCES interview(id),
    path         TEXT NOT NULL,
    value        BLOB NOT NULL,
    updated_at   TEXT NOT NULL,
    PRIMARY KEY (interview_id, path)
) STRICT, WITHOUT ROWID;

CREATE TABLE repeat_count (
    interview_id TEXT NOT NULL REFERENCES interview(id),
    repeat_path  TEXT NOT NULL,
    rows         INTEGER NOT NULL CHECK (rows >= 0),
    PRIMARY KEY (interview_id, repeat_path)
) STRICT, WITHOUT ROWID;
"#;

/// Version 2: paradata, the outbox of sealed batches, the sync log.
const V2: &str = r#"
-- seq (the rowid) orders events as they were recorded, whatever the clock did;
-- no UUID per event: paradata is two thirds of the file, each byte counts.
CREATE TABLE paradata (
    seq          INTEGER PRIMARY KEY,
    interview_id TEXT NOT NULL REFERENCES interview(id),
    kind         TEXT NOT NULL,
    at           TEXT NOT NULL,
    payload      BLOB NOT NULL
) STRICT;
CREATE INDEX paradata_interview ON paradata(interview_id);

CREATE TABLE outbox (
    sequence        INTEGER PRIMARY KEY CHECK (sequence > 0),
    state           TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'acknowledged')),
    bytes           BLOB,
    byte_len        INTEGER NOT NULL,
    sha256          BLOB NOT NULL,
    created_at      TEXT NOT NULL,
    sent_at         TEXT,
    acknowledged_at TEXT
) STRICT;

CREATE TABLE outbox_interview (
    sequence     INTEGER NOT NULL REFERENCES outbox(sequence),
    interview_id TEXT NOT NULL REFERENCES interview(id),
    PRIMARY KEY (sequence, interview_id)
) STRICT, WITHOUT ROWID;

CREATE TABLE sync_log (
    id       INTEGER PRIMARY KEY,
    at       TEXT NOT NULL,
    kind     TEXT NOT NULL,
    sequence INTEGER,
    message  TEXT NOT NULL
) STRICT;
"#;

/// Version 3: non-response visits, reserve releases, answer purge marks.
const V3: &str = r#"
ALTER TABLE interview ADD COLUMN non_response_code TEXT;
ALTER TABLE interview ADD COLUMN purged_at TEXT;

CREATE TABLE visit (
    id           TEXT PRIMARY KEY,
    interview_id TEXT NOT NULL REFERENCES interview(id),
    at           TEXT NOT NULL,
    code         TEXT NOT NULL,
    final        INTEGER NOT NULL CHECK (final IN (0, 1)),
    revisit_at   TEXT,
    note         BLOB
) STRICT;
CREATE INDEX visit_interview ON visit(interview_id, at);

CREATE TABLE reserve_release (
    reserve_id   TEXT PRIMARY KEY REFERENCES assignment(id),
    official_id  TEXT NOT NULL REFERENCES assignment(id),
    interview_id TEXT NOT NULL REFERENCES interview(id),
    code         TEXT NOT NULL,
    released_at  TEXT NOT NULL
) STRICT;
"#;

/// Version 4: nothing in clear that tells which questions were answered.
/// - `keyring` gains the Argon2id parameters (`iterations` holds its passes) and the name
///   of the platform protector that also wraps the key (NULL: the PIN alone);
/// - `answer_doc`: one AES-GCM document per interview holding all its answers and repeat
///   row counts (paths inside the ciphertext, padded to whole KiB), replacing the clear
///   `(interview_id, path)` rows of `answer` and `repeat_count`. Those rows need the data
///   key to move, so the store moves them at the next unlock (`answers::convert_legacy_rows`)
///   and the two tables stay, empty, for that;
/// - `paradata.kind` goes: the kind is inside the encrypted payload already.
const V4: &str = r#"
ALTER TABLE keyring ADD COLUMN memory_kib INTEGER;
ALTER TABLE keyring ADD COLUMN lanes INTEGER;
ALTER TABLE keyring ADD COLUMN protector TEXT;

CREATE TABLE answer_doc (
    interview_id TEXT PRIMARY KEY REFERENCES interview(id),
    doc          BLOB NOT NULL
) STRICT;

ALTER TABLE paradata DROP COLUMN kind;
"#;

/// All migrations, oldest first. Index `i` takes the schema to version `i + 1`.
pub fn migrations() -> Migrations<'static> {
    Migrations::new(vec![
        M::up(V1),
        M::up(V2),
        M::up(V3),
        M::up(V4),
        M::up(crate::refusals::SCHEMA),
    ])
}

/// The newest schema version this build knows.
pub const LATEST_VERSION: u32 = 5;
