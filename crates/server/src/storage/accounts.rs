//! Account life cycle: sessions ended or expired, passwords changed, accounts disabled.
//!
//! A disabled account keeps its row (its id is referenced by assignments, devices and
//! interviews) and its sessions are deleted; sign-in refuses it and
//! [`Storage::session_account`] ignores any session it might still have.

use super::people::{ACCOUNT_COLUMNS, account};
use super::{Result, Storage, parse_time, time_text};
use crate::db::Value;
use chrono::{DateTime, Utc};
use fieldpost_proto::v1::AccountInfo;
use uuid::Uuid;

impl Storage {
    /// Ends one session (sign-out). Returns whether it existed.
    pub fn delete_session(&self, token_hash: &str) -> Result<bool> {
        self.tx(|sql| {
            Ok(sql.execute(
                "DELETE FROM session WHERE token_hash = $1",
                &[token_hash.into()],
            )? > 0)
        })
    }

    /// Deletes the sessions that expired at or before `now`; returns how many. Run at every
    /// sign-in, so the table holds only live sessions plus those of the last quiet spell.
    pub fn delete_expired_sessions(&self, now: DateTime<Utc>) -> Result<u64> {
        self.tx(|sql| {
            Ok(sql.execute(
                "DELETE FROM session WHERE expires_at <= $1",
                &[time_text(now).into()],
            )?)
        })
    }

    /// Deletes an account's sessions, except `keep` (the caller's own, after a password
    /// change). Returns how many were deleted.
    pub fn delete_sessions_of(&self, account_id: Uuid, keep: Option<&str>) -> Result<u64> {
        self.tx(|sql| {
            Ok(sql.execute(
                "DELETE FROM session WHERE account_id = $1 AND token_hash <> $2",
                &[account_id.to_string().into(), keep.unwrap_or("").into()],
            )?)
        })
    }

    /// How many sessions an account has (live or not yet removed).
    pub fn session_count(&self, account_id: Uuid) -> Result<i64> {
        self.read(|sql| {
            let rows = sql.query(
                "SELECT COUNT(*) FROM session WHERE account_id = $1",
                &[account_id.to_string().into()],
            )?;
            Ok(rows.first().map(|r| r.int(0)).transpose()?.unwrap_or(0))
        })
    }

    /// All sessions, live or expired but not yet removed.
    pub fn session_total(&self) -> Result<i64> {
        self.read(|sql| {
            let rows = sql.query("SELECT COUNT(*) FROM session", &[])?;
            Ok(rows.first().map(|r| r.int(0)).transpose()?.unwrap_or(0))
        })
    }

    /// The stored password hash of an account (for a change that must check the old password).
    pub fn password_hash(&self, account_id: Uuid) -> Result<Option<String>> {
        self.read(|sql| {
            let rows = sql.query(
                "SELECT password_hash FROM account WHERE id = $1",
                &[account_id.to_string().into()],
            )?;
            rows.first()
                .map(|r| r.text(0))
                .transpose()
                .map_err(Into::into)
        })
    }

    /// Replaces an account's password hash. Returns false when there is no such account.
    pub fn set_password_hash(&self, account_id: Uuid, hash: &str) -> Result<bool> {
        self.tx(|sql| {
            Ok(sql.execute(
                "UPDATE account SET password_hash = $1 WHERE id = $2",
                &[hash.into(), account_id.to_string().into()],
            )? > 0)
        })
    }

    /// Disables (`Some(at)`) or enables (`None`) an account; disabling also deletes its
    /// sessions, in the same transaction. Returns false when there is no such account.
    /// Disabling again keeps the first time.
    pub fn set_account_disabled(
        &self,
        account_id: Uuid,
        disabled_at: Option<DateTime<Utc>>,
    ) -> Result<bool> {
        let id = account_id.to_string();
        self.tx(|sql| {
            let n = match disabled_at {
                Some(at) => sql.execute(
                    "UPDATE account SET disabled_at = COALESCE(disabled_at, $1) WHERE id = $2",
                    &[time_text(at).into(), id.as_str().into()],
                )?,
                None => sql.execute(
                    "UPDATE account SET disabled_at = NULL WHERE id = $1",
                    &[id.as_str().into()],
                )?,
            };
            if n > 0 && disabled_at.is_some() {
                sql.execute(
                    "DELETE FROM session WHERE account_id = $1",
                    &[id.as_str().into()],
                )?;
            }
            Ok(n > 0)
        })
    }

    /// Every account, by user name, with when it was disabled.
    pub fn accounts(&self) -> Result<Vec<AccountInfo>> {
        self.account_infos("ORDER BY username", &[])
    }

    /// One account with its state.
    pub fn account_info(&self, account_id: Uuid) -> Result<Option<AccountInfo>> {
        Ok(self
            .account_infos("WHERE id = $1", &[account_id.to_string().into()])?
            .into_iter()
            .next())
    }

    fn account_infos(&self, tail: &str, params: &[Value]) -> Result<Vec<AccountInfo>> {
        self.read(|sql| {
            let rows = sql.query(
                &format!("SELECT {ACCOUNT_COLUMNS}, disabled_at FROM account {tail}"),
                params,
            )?;
            rows.iter()
                .map(|r| {
                    Ok(AccountInfo {
                        account: account(r)?,
                        disabled_at: r.opt_text(4)?.map(|t| parse_time(&t)).transpose()?,
                    })
                })
                .collect()
        })
    }
}
