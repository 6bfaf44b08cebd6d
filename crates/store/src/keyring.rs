//! The PIN: set up, unlock, change, lock. The wrapped data key and its
//! PBKDF2 parameters live in the one-row `keyring` table.

use rusqlite::OptionalExtension;
use std::sync::Arc;

use crate::crypto::{self, DEFAULT_ITERATIONS, KDF_NAME, WrappedKey};
use crate::{Result, Store, StoreError, clock};

impl Store {
    /// Open the store at `path` and unlock it with `pin` in one call (what
    /// the app does at start once a PIN exists).
    pub fn open_unlocked(path: &std::path::Path, pin: &str) -> Result<Store> {
        let mut store = Store::open(path)?;
        store.unlock(pin)?;
        Ok(store)
    }

    /// Whether a PIN was ever set on this store (false right after creation).
    pub fn has_pin(&self) -> Result<bool> {
        Ok(self.wrapped_key()?.is_some())
    }

    /// Whether personal data can be read and written now.
    pub fn is_unlocked(&self) -> bool {
        self.key.is_some()
    }

    /// Set the first PIN on a new store: makes a random data key, wraps it
    /// with [`DEFAULT_ITERATIONS`] PBKDF2 iterations, and leaves the store
    /// unlocked.
    pub fn set_up_pin(&mut self, pin: &str) -> Result<()> {
        self.set_up_pin_with_iterations(pin, DEFAULT_ITERATIONS)
    }

    /// Like [`Store::set_up_pin`] with a chosen iteration count.
    ///
    /// For tests and benchmarks that reopen a store hundreds of times (the
    /// crash test): production code calls [`Store::set_up_pin`]. Counts below
    /// [`DEFAULT_ITERATIONS`] weaken the PIN's protection.
    pub fn set_up_pin_with_iterations(&mut self, pin: &str, iterations: u32) -> Result<()> {
        if self.has_pin()? {
            return Err(StoreError::KeyAlreadySet);
        }
        let (key, wrapped) = crypto::new_data_key(pin, iterations)?;
        self.save_wrapped_key(&wrapped, false)?;
        self.key = Some(Arc::new(key));
        Ok(())
    }

    /// Unlock with the enumerator's PIN. A wrong PIN gives
    /// [`StoreError::WrongPin`] and leaves the store locked.
    pub fn unlock(&mut self, pin: &str) -> Result<()> {
        let wrapped = self.wrapped_key()?.ok_or(StoreError::NoKey)?;
        self.key = Some(Arc::new(crypto::unwrap_data_key(pin, &wrapped)?));
        Ok(())
    }

    /// Change the PIN: the data key is re-wrapped under the new PIN (fresh
    /// salt, [`DEFAULT_ITERATIONS`]); no answer is re-encrypted.
    pub fn change_pin(&mut self, old_pin: &str, new_pin: &str) -> Result<()> {
        let wrapped = self.wrapped_key()?.ok_or(StoreError::NoKey)?;
        let iterations = wrapped.iterations.max(DEFAULT_ITERATIONS);
        let rewrapped = crypto::rewrap(old_pin, new_pin, &wrapped, iterations)?;
        self.save_wrapped_key(&rewrapped, true)?;
        self.key = Some(Arc::new(crypto::unwrap_data_key(new_pin, &rewrapped)?));
        Ok(())
    }

    /// Forget the data key (for example when the app goes to the background).
    pub fn lock(&mut self) {
        self.key = None;
    }

    /// The stored PBKDF2 parameters: (kdf name, iterations, salt length).
    pub fn kdf_parameters(&self) -> Result<Option<(String, u32, usize)>> {
        Ok(self
            .conn
            .query_row(
                "SELECT kdf, iterations, length(salt) FROM keyring WHERE id = 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get::<_, i64>(2)? as usize)),
            )
            .optional()?)
    }

    fn wrapped_key(&self) -> Result<Option<WrappedKey>> {
        let row = self
            .conn
            .query_row(
                "SELECT kdf, iterations, salt, wrapped_key FROM keyring WHERE id = 1",
                [],
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, u32>(1)?,
                        r.get::<_, Vec<u8>>(2)?,
                        r.get::<_, Vec<u8>>(3)?,
                    ))
                },
            )
            .optional()?;
        match row {
            None => Ok(None),
            Some((kdf, _, _, _)) if kdf != KDF_NAME => Err(StoreError::Damaged(format!(
                "unknown key-derivation function {kdf:?}"
            ))),
            Some((_, iterations, salt, wrapped)) => Ok(Some(WrappedKey {
                iterations,
                salt,
                wrapped,
            })),
        }
    }

    fn save_wrapped_key(&self, w: &WrappedKey, replace: bool) -> Result<()> {
        let sql = if replace {
            "UPDATE keyring SET kdf = ?1, iterations = ?2, salt = ?3, wrapped_key = ?4, \
             changed_at = ?5 WHERE id = 1"
        } else {
            "INSERT INTO keyring (id, kdf, iterations, salt, wrapped_key, changed_at) \
             VALUES (1, ?1, ?2, ?3, ?4, ?5)"
        };
        self.conn.execute(
            sql,
            rusqlite::params![
                KDF_NAME,
                w.iterations,
                w.salt,
                w.wrapped,
                clock::fmt(chrono::Utc::now())
            ],
        )?;
        Ok(())
    }
}
