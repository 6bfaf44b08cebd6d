//! The server's tables and their migrations, shared by both backends.
//!
//! Ids are UUID text and times RFC 3339 UTC text in both databases: the same SQL then runs on
//! both, and the values read the same in `sqlite3` and `psql`. Only binary columns differ
//! (`BLOB` / `BYTEA`), written `{blob}` below.

use super::{Backend, DbError, Dialect, Sql, Value};

/// Migrations in order; the database records how many ran. Never edit one that shipped: add one.
const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE survey (
    id         TEXT PRIMARY KEY,
    code       TEXT NOT NULL UNIQUE,
    title      TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE account (
    id            TEXT PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL,
    province      TEXT,
    created_at    TEXT NOT NULL
);
CREATE TABLE session (
    token_hash TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES account(id),
    expires_at TEXT NOT NULL
);
CREATE TABLE questionnaire (
    survey_id   TEXT NOT NULL REFERENCES survey(id),
    version     TEXT NOT NULL,
    xlsform     {blob} NOT NULL,
    sha256      TEXT NOT NULL,
    compiled    TEXT,
    uploaded_at TEXT NOT NULL,
    PRIMARY KEY (survey_id, version)
);
CREATE TABLE assignment (
    id            TEXT PRIMARY KEY,
    survey_id     TEXT NOT NULL REFERENCES survey(id),
    code          TEXT NOT NULL,
    reserve       BIGINT NOT NULL,
    reserve_for   TEXT,
    province      TEXT NOT NULL,
    commune       TEXT NOT NULL,
    village       TEXT NOT NULL,
    stratum       TEXT NOT NULL,
    enumerator_id TEXT NOT NULL REFERENCES account(id),
    UNIQUE (survey_id, code)
);
CREATE INDEX assignment_enumerator ON assignment (enumerator_id);
CREATE TABLE recipient (
    survey_id  TEXT NOT NULL REFERENCES survey(id),
    key_id     TEXT NOT NULL,
    public_key TEXT NOT NULL,
    purpose    TEXT NOT NULL,
    PRIMARY KEY (survey_id, key_id)
);
CREATE TABLE enrolment_code (
    code_hash  TEXT PRIMARY KEY,
    survey_id  TEXT NOT NULL REFERENCES survey(id),
    account_id TEXT NOT NULL REFERENCES account(id),
    expires_at TEXT NOT NULL,
    used_at    TEXT
);
CREATE TABLE device (
    id          TEXT PRIMARY KEY,
    survey_id   TEXT NOT NULL REFERENCES survey(id),
    account_id  TEXT NOT NULL REFERENCES account(id),
    public_key  TEXT NOT NULL,
    token_hash  TEXT NOT NULL UNIQUE,
    enrolled_at TEXT NOT NULL,
    revoked_at  TEXT
);
CREATE TABLE batch (
    device_id       TEXT NOT NULL REFERENCES device(id),
    sequence        BIGINT NOT NULL,
    digest          TEXT NOT NULL,
    batch_id        TEXT NOT NULL,
    interviews      BIGINT NOT NULL,
    byte_len        BIGINT NOT NULL,
    acknowledged_at TEXT NOT NULL,
    PRIMARY KEY (device_id, sequence)
);
CREATE TABLE interview (
    id                    TEXT PRIMARY KEY,
    survey_id             TEXT NOT NULL REFERENCES survey(id),
    device_id             TEXT NOT NULL,
    sequence              BIGINT NOT NULL,
    assignment_id         TEXT NOT NULL REFERENCES assignment(id),
    enumerator_id         TEXT NOT NULL,
    questionnaire_version TEXT NOT NULL,
    province              TEXT NOT NULL,
    commune               TEXT NOT NULL,
    stratum               TEXT NOT NULL,
    status                TEXT NOT NULL,
    started_at            TEXT,
    ended_at              TEXT,
    answers               TEXT,
    FOREIGN KEY (device_id, sequence) REFERENCES batch (device_id, sequence)
);
CREATE INDEX interview_progress ON interview (province, status);
CREATE TABLE incident (
    id        TEXT PRIMARY KEY,
    at        TEXT NOT NULL,
    kind      TEXT NOT NULL,
    device_id TEXT,
    sequence  BIGINT,
    digest    TEXT,
    detail    TEXT NOT NULL
);
CREATE TABLE codelist (
    list   TEXT NOT NULL,
    code   TEXT NOT NULL,
    name   TEXT NOT NULL,
    parent TEXT,
    PRIMARY KEY (list, code)
);
"#,
    // Accounts can be disabled (sign-in refused, sessions ignored and deleted); expired
    // sessions are deleted at sign-in, and an account's sessions when its password changes.
    r#"
ALTER TABLE account ADD COLUMN disabled_at TEXT;
CREATE INDEX session_expiry ON session (expires_at);
CREATE INDEX session_account ON session (account_id);
"#,
    // One interview counts per assignment (see crate::storage's ingest module): the others keep
    // their row, marked with the id of the interview that counts. The unique partial index is
    // what holds the rule when several server processes commit at once (PostgreSQL): the second
    // insert of a counted row for the same assignment fails, and the commit runs again. Rows
    // already there: a completed interview counts before a non-response, then the earliest
    // acknowledged. Incidents get the place a coordinator filters on.
    r#"
ALTER TABLE interview ADD COLUMN duplicate_of TEXT;
UPDATE interview SET duplicate_of = (
    SELECT f.id FROM interview f JOIN batch b ON b.device_id = f.device_id AND b.sequence = f.sequence
    WHERE f.assignment_id = interview.assignment_id
    ORDER BY CASE WHEN f.status = 'completed' THEN 0 ELSE 1 END, b.acknowledged_at, f.id LIMIT 1
) WHERE id <> (
    SELECT f.id FROM interview f JOIN batch b ON b.device_id = f.device_id AND b.sequence = f.sequence
    WHERE f.assignment_id = interview.assignment_id
    ORDER BY CASE WHEN f.status = 'completed' THEN 0 ELSE 1 END, b.acknowledged_at, f.id LIMIT 1
);
CREATE UNIQUE INDEX interview_counted ON interview (assignment_id) WHERE duplicate_of IS NULL;
ALTER TABLE incident ADD COLUMN survey_id TEXT;
ALTER TABLE incident ADD COLUMN province TEXT;
ALTER TABLE incident ADD COLUMN assignment_id TEXT;
ALTER TABLE incident ADD COLUMN counted_interview_id TEXT;
ALTER TABLE incident ADD COLUMN counted_device_id TEXT;
ALTER TABLE incident ADD COLUMN duplicate_interview_id TEXT;
ALTER TABLE incident ADD COLUMN duplicate_device_id TEXT;
CREATE INDEX incident_at ON incident (at);
"#,
];

fn dialect_sql(sql: &str, dialect: Dialect) -> String {
    let blob = match dialect {
        Dialect::Sqlite => "BLOB",
        Dialect::Postgres => "BYTEA",
    };
    sql.replace("{blob}", blob)
}

/// Brings the database to the latest schema. Safe to run at every start and from several
/// server processes at once (PostgreSQL: the bookkeeping row is locked for the duration).
pub fn migrate(db: &dyn Backend) -> Result<u32, DbError> {
    let dialect = db.dialect();
    let mut version = 0u32;
    db.transaction(&mut |tx: &mut dyn Sql| {
        tx.batch("CREATE TABLE IF NOT EXISTS schema_version (id BIGINT PRIMARY KEY, version BIGINT NOT NULL)")?;
        tx.execute("INSERT INTO schema_version (id, version) VALUES (1, 0) ON CONFLICT (id) DO NOTHING", &[])?;
        let lock = match dialect {
            Dialect::Postgres => " FOR UPDATE",
            Dialect::Sqlite => "",
        };
        let rows = tx.query(&format!("SELECT version FROM schema_version WHERE id = 1{lock}"), &[])?;
        let current = rows.first().map(|r| r.int(0)).transpose()?.unwrap_or(0);
        for (i, m) in MIGRATIONS.iter().enumerate().skip(current.max(0) as usize) {
            tx.batch(&dialect_sql(m, dialect))?;
            tx.execute("UPDATE schema_version SET version = $1 WHERE id = 1", &[Value::Int(i as i64 + 1)])?;
        }
        version = MIGRATIONS.len() as u32;
        Ok(())
    })?;
    Ok(version)
}
