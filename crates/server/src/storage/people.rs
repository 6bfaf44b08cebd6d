//! Accounts, sessions, enrolment codes and devices.

use super::{Result, Storage, StorageError, parse_time, row_time, row_uuid, time_text};
use crate::db::{Row, Value};
use chrono::{DateTime, Utc};
use fieldpost_proto::v1::{Account, Role};
use uuid::Uuid;

/// An enrolled device as the server knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    pub id: Uuid,
    pub survey_id: Uuid,
    pub account_id: Uuid,
    /// Ed25519 public key, base64.
    pub public_key: String,
    pub enrolled_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A device presenting an enrolment code.
#[derive(Debug, Clone)]
pub struct NewDevice {
    pub id: Uuid,
    pub public_key: String,
    pub token_hash: String,
}

pub(super) const ACCOUNT_COLUMNS: &str = "id, username, role, province";
const DEVICE_COLUMNS: &str = "id, survey_id, account_id, public_key, enrolled_at, revoked_at";

pub(super) fn account(r: &Row) -> Result<Account> {
    let role = r.text(2)?;
    Ok(Account {
        id: row_uuid(r, 0)?,
        username: r.text(1)?,
        role: Role::parse(&role).ok_or_else(|| StorageError::Corrupt(format!("role {role:?}")))?,
        province: r.opt_text(3)?,
    })
}

fn device(r: &Row) -> Result<Device> {
    Ok(Device {
        id: row_uuid(r, 0)?,
        survey_id: row_uuid(r, 1)?,
        account_id: row_uuid(r, 2)?,
        public_key: r.text(3)?,
        enrolled_at: row_time(r, 4)?,
        revoked_at: r.opt_text(5)?.map(|t| parse_time(&t)).transpose()?,
    })
}

impl Storage {
    /// Creates an account; `password_hash` is a PHC string (argon2id).
    pub fn create_account(
        &self,
        username: &str,
        password_hash: &str,
        role: Role,
        province: Option<&str>,
    ) -> Result<Account> {
        let id = Uuid::now_v7();
        let res = self.tx(|sql| {
            sql.execute(
                "INSERT INTO account (id, username, password_hash, role, province, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
                &[
                    id.to_string().into(),
                    username.into(),
                    password_hash.into(),
                    role.as_str().into(),
                    province.into(),
                    time_text(Utc::now()).into(),
                ],
            )?;
            Ok(())
        });
        match res {
            Err(StorageError::Db(e)) if e.is_unique_violation() => Err(StorageError::Conflict(
                format!("an account named {username:?} already exists"),
            )),
            other => other.map(|()| Account {
                id,
                username: username.to_string(),
                role,
                province: province.map(str::to_string),
            }),
        }
    }

    /// The account, its password hash and whether it is disabled, for signing in.
    pub fn account_for_login(&self, username: &str) -> Result<Option<(Account, String, bool)>> {
        self.read(|sql| {
            let rows = sql.query(
                &format!(
                    "SELECT {ACCOUNT_COLUMNS}, password_hash, disabled_at FROM account WHERE username = $1"
                ),
                &[username.into()],
            )?;
            rows.first()
                .map(|r| Ok((account(r)?, r.text(4)?, r.opt_text(5)?.is_some())))
                .transpose()
        })
    }

    pub fn account_by_username(&self, username: &str) -> Result<Option<Account>> {
        self.read(|sql| {
            let rows = sql.query(
                &format!("SELECT {ACCOUNT_COLUMNS} FROM account WHERE username = $1"),
                &[username.into()],
            )?;
            rows.first().map(account).transpose()
        })
    }

    pub fn account(&self, id: Uuid) -> Result<Option<Account>> {
        self.read(|sql| {
            let rows = sql.query(
                &format!("SELECT {ACCOUNT_COLUMNS} FROM account WHERE id = $1"),
                &[id.to_string().into()],
            )?;
            rows.first().map(account).transpose()
        })
    }

    pub fn create_session(
        &self,
        token_hash: &str,
        account_id: Uuid,
        expires_at: DateTime<Utc>,
    ) -> Result<()> {
        self.tx(|sql| {
            sql.execute(
                "INSERT INTO session (token_hash, account_id, expires_at) VALUES ($1, $2, $3)",
                &[
                    token_hash.into(),
                    account_id.to_string().into(),
                    time_text(expires_at).into(),
                ],
            )?;
            Ok(())
        })
    }

    /// The account behind a session token hash, if the session has not expired and the account
    /// is not disabled.
    pub fn session_account(&self, token_hash: &str, now: DateTime<Utc>) -> Result<Option<Account>> {
        self.read(|sql| {
            let rows = sql.query(
                "SELECT a.id, a.username, a.role, a.province FROM session s \
                 JOIN account a ON a.id = s.account_id \
                 WHERE s.token_hash = $1 AND s.expires_at > $2 AND a.disabled_at IS NULL",
                &[token_hash.into(), time_text(now).into()],
            )?;
            rows.first().map(account).transpose()
        })
    }

    pub fn create_enrolment_code(
        &self,
        code_hash: &str,
        survey_id: Uuid,
        account_id: Uuid,
        expires_at: DateTime<Utc>,
    ) -> Result<()> {
        self.tx(|sql| {
            sql.execute(
                "INSERT INTO enrolment_code (code_hash, survey_id, account_id, expires_at) VALUES ($1, $2, $3, $4)",
                &[
                    code_hash.into(),
                    survey_id.to_string().into(),
                    account_id.to_string().into(),
                    time_text(expires_at).into(),
                ],
            )?;
            Ok(())
        })
    }

    /// Spends a one-time code and registers the device, in one transaction: a code enrols one
    /// device, even when two devices race with it. `Ok(None)` when the code is unknown, expired,
    /// or used by another device.
    ///
    /// A device whose enrolment reply was lost on the way can try again, with the same code
    /// (while it has not expired) or with a new one: when the device id is already enrolled
    /// with the same public key, for the same survey and enumerator, and not revoked, it gets a
    /// new token (the old one stops working) and the same reply. The code is spent by then,
    /// so nobody else can use it.
    pub fn enrol(
        &self,
        code_hash: &str,
        new: &NewDevice,
        now: DateTime<Utc>,
    ) -> Result<Option<Device>> {
        let res = self.tx(|sql| {
            let spent = sql.execute(
                "UPDATE enrolment_code SET used_at = $1 WHERE code_hash = $2 AND used_at IS NULL AND expires_at > $1",
                &[time_text(now).into(), code_hash.into()],
            )?;
            let rows = sql.query(
                "SELECT survey_id, account_id, expires_at FROM enrolment_code WHERE code_hash = $1",
                &[code_hash.into()],
            )?;
            let Some(r) = rows.first() else { return Ok(None) };
            let (survey_id, account_id) = (r.text(0)?, r.text(1)?);
            if parse_time(&r.text(2)?)? <= now {
                return Ok(None);
            }
            let id = new.id.to_string();
            let existing = sql.query(
                &format!("SELECT {DEVICE_COLUMNS} FROM device WHERE id = $1"),
                &[id.as_str().into()],
            )?;
            if let Some(row) = existing.first() {
                let d = device(row)?;
                let same = d.public_key == new.public_key
                    && d.survey_id.to_string() == survey_id
                    && d.account_id.to_string() == account_id
                    && d.revoked_at.is_none();
                if !same {
                    return Err(StorageError::Conflict(format!(
                        "device {} is already enrolled with another key or for another enumerator; \
                         a device enrols once",
                        new.id
                    )));
                }
                sql.execute(
                    "UPDATE device SET token_hash = $1 WHERE id = $2",
                    &[new.token_hash.as_str().into(), id.as_str().into()],
                )?;
                return Ok(Some(d));
            }
            if spent == 0 {
                return Ok(None);
            }
            sql.execute(
                "INSERT INTO device (id, survey_id, account_id, public_key, token_hash, enrolled_at) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
                &[
                    id.as_str().into(),
                    survey_id.into(),
                    account_id.into(),
                    new.public_key.as_str().into(),
                    new.token_hash.as_str().into(),
                    time_text(now).into(),
                ],
            )?;
            let rows = sql.query(
                &format!("SELECT {DEVICE_COLUMNS} FROM device WHERE id = $1"),
                &[id.as_str().into()],
            )?;
            rows.first().map(device).transpose()
        });
        match res {
            Err(StorageError::Db(e)) if e.is_unique_violation() => {
                Err(StorageError::Conflict(format!(
                    "device {} is already enrolled; a device enrols once",
                    new.id
                )))
            }
            other => other,
        }
    }

    /// Registers a device known from the archive (rebuild). A device that enrolled again after a
    /// lost reply appears twice in the archive; the later record's token is the one it holds.
    pub fn restore_device(&self, d: &Device, token_hash: &str) -> Result<()> {
        self.tx(|sql| {
            sql.execute(
                "INSERT INTO device (id, survey_id, account_id, public_key, token_hash, enrolled_at) \
                 VALUES ($1, $2, $3, $4, $5, $6) \
                 ON CONFLICT (id) DO UPDATE SET token_hash = excluded.token_hash",
                &[
                    d.id.to_string().into(),
                    d.survey_id.to_string().into(),
                    d.account_id.to_string().into(),
                    d.public_key.as_str().into(),
                    token_hash.into(),
                    time_text(d.enrolled_at).into(),
                ],
            )?;
            Ok(())
        })
    }

    pub fn device(&self, id: Uuid) -> Result<Option<Device>> {
        self.read(|sql| {
            let rows = sql.query(
                &format!("SELECT {DEVICE_COLUMNS} FROM device WHERE id = $1"),
                &[id.to_string().into()],
            )?;
            rows.first().map(device).transpose()
        })
    }

    pub fn device_by_token(&self, token_hash: &str) -> Result<Option<Device>> {
        self.read(|sql| {
            let rows = sql.query(
                &format!("SELECT {DEVICE_COLUMNS} FROM device WHERE token_hash = $1"),
                &[token_hash.into()],
            )?;
            rows.first().map(device).transpose()
        })
    }

    /// Revokes a device: its later uploads are refused. Returns false when it is unknown.
    pub fn revoke_device(&self, id: Uuid, at: DateTime<Utc>) -> Result<bool> {
        self.tx(|sql| {
            let n = sql.execute(
                "UPDATE device SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL",
                &[time_text(at).into(), id.to_string().into()],
            )?;
            if n > 0 {
                return Ok(true);
            }
            let rows = sql.query(
                "SELECT id FROM device WHERE id = $1",
                &[Value::Text(id.to_string())],
            )?;
            Ok(!rows.is_empty())
        })
    }
}
