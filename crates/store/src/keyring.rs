//! The PIN: set up, unlock, change, lock. The wrapped data key, the key-derivation
//! function with its parameters, and the name of the platform protector (if any) live in
//! the one-row `keyring` table.
//!
//! Upgrades happen at unlock, the one moment the PIN is at hand: a store wrapped with
//! PBKDF2 (before Argon2id) is re-wrapped with [`Kdf::PRODUCTION`], and a store without
//! a platform protector gets one when the app now has one. Answers stored in the layout
//! before schema 4 (one clear row per path) are moved into their encrypted documents at
//! the same moment (see `answers.rs`).

use rusqlite::OptionalExtension;
use std::sync::Arc;

use crate::crypto::{self, Kdf, WrappedKey};
use crate::protector::KeyProtector;
use crate::{Result, Store, StoreError, clock};

/// What the keyring row holds, before the protector is taken off.
struct KeyringRow {
    kdf: Kdf,
    salt: Vec<u8>,
    wrapped: Vec<u8>,
    protector: Option<String>,
}

impl Store {
    /// Open the store at `path` and unlock it with `pin` in one call (what
    /// the app does at start once a PIN exists).
    pub fn open_unlocked(path: &std::path::Path, pin: &str) -> Result<Store> {
        let mut store = Store::open(path)?;
        store.unlock(pin)?;
        Ok(store)
    }

    /// Give the store the platform's key protector (Android Keystore), used from the next
    /// [`Store::set_up_pin`], [`Store::unlock`] or [`Store::change_pin`] on. `None`: the PIN
    /// alone (desktops without a reachable key store, tests).
    pub fn set_key_protector(&mut self, protector: Option<Arc<dyn KeyProtector>>) {
        self.protector = protector;
    }

    /// Whether a PIN was ever set on this store (false right after creation).
    pub fn has_pin(&self) -> Result<bool> {
        Ok(self.keyring_row()?.is_some())
    }

    /// Whether personal data can be read and written now.
    pub fn is_unlocked(&self) -> bool {
        self.key.is_some()
    }

    /// Set the first PIN on a new store: makes a random data key, wraps it
    /// with Argon2id at [`Kdf::PRODUCTION`] (and the platform protector, if the store was
    /// given one), and leaves the store unlocked.
    pub fn set_up_pin(&mut self, pin: &str) -> Result<()> {
        self.set_up_pin_with_kdf(pin, Kdf::PRODUCTION)
    }

    /// Like [`Store::set_up_pin`] with chosen derivation parameters.
    ///
    /// Test-only in spirit: for tests and benchmarks that reopen a store hundreds of times
    /// (the crash test), with [`Kdf::FAST_FOR_TESTS`]. Production code calls
    /// [`Store::set_up_pin`]; cheaper parameters weaken the PIN's protection, and a store
    /// set up with Argon2id keeps its parameters (only PBKDF2 stores are upgraded at unlock).
    pub fn set_up_pin_with_kdf(&mut self, pin: &str, kdf: Kdf) -> Result<()> {
        if self.has_pin()? {
            return Err(StoreError::KeyAlreadySet);
        }
        let (key, wrapped) = crypto::new_data_key(pin, kdf)?;
        self.save_wrapped_key(&wrapped, false)?;
        self.key = Some(Arc::new(key));
        Ok(())
    }

    /// Test-only, the name from before Argon2id: the same as
    /// `set_up_pin_with_kdf(pin, Kdf::FAST_FOR_TESTS)`. New keys never use PBKDF2, so the
    /// count is not used; it stays so the callers that reopen stores many times keep
    /// working. New code says [`Store::set_up_pin_with_kdf`].
    pub fn set_up_pin_with_iterations(&mut self, pin: &str, _iterations: u32) -> Result<()> {
        self.set_up_pin_with_kdf(pin, Kdf::FAST_FOR_TESTS)
    }

    /// Unlock with the enumerator's PIN. A wrong PIN gives
    /// [`StoreError::WrongPin`] and leaves the store locked.
    ///
    /// On success, a PBKDF2 store is re-wrapped with Argon2id, a store without a platform
    /// protector gets the one this store was given, and answers in the layout before
    /// schema 4 are moved into their encrypted documents; each in its own transaction, so
    /// a crash in between leaves a store that still unlocks.
    pub fn unlock(&mut self, pin: &str) -> Result<()> {
        let row = self.keyring_row()?.ok_or(StoreError::NoKey)?;
        let wrapped = self.remove_protector(&row)?;
        let upgrade_kdf = matches!(wrapped.kdf, Kdf::Pbkdf2 { .. });
        let add_protector = row.protector.is_none() && self.protector.is_some();
        let key = if upgrade_kdf || add_protector {
            let kdf = if upgrade_kdf {
                Kdf::PRODUCTION
            } else {
                wrapped.kdf
            };
            let (key, rewrapped) = crypto::unwrap_and_rewrap(pin, &wrapped, kdf)?;
            self.save_wrapped_key(&rewrapped, true)?;
            key
        } else {
            crypto::unwrap_data_key(pin, &wrapped)?
        };
        self.key = Some(Arc::new(key));
        crate::answers::convert_legacy_rows(self)?;
        Ok(())
    }

    /// Change the PIN: the data key is re-wrapped under the new PIN (fresh
    /// salt, Argon2id at [`Kdf::PRODUCTION`] or the store's own Argon2id parameters if
    /// they are stronger); no answer is re-encrypted.
    pub fn change_pin(&mut self, old_pin: &str, new_pin: &str) -> Result<()> {
        let row = self.keyring_row()?.ok_or(StoreError::NoKey)?;
        let wrapped = self.remove_protector(&row)?;
        let kdf = stronger_of(wrapped.kdf, Kdf::PRODUCTION);
        let rewrapped = crypto::rewrap(old_pin, new_pin, &wrapped, kdf)?;
        self.save_wrapped_key(&rewrapped, true)?;
        self.key = Some(Arc::new(crypto::unwrap_data_key(new_pin, &rewrapped)?));
        Ok(())
    }

    /// Forget the data key (for example when the app goes to the background, or after
    /// the idle time the app core enforces).
    pub fn lock(&mut self) {
        self.key = None;
    }

    /// The stored PIN parameters: (kdf name, iterations or passes, salt length).
    pub fn kdf_parameters(&self) -> Result<Option<(String, u32, usize)>> {
        Ok(self.keyring_row()?.map(|r| {
            let (iterations, _, _) = r.kdf.columns();
            (r.kdf.name().to_string(), iterations, r.salt.len())
        }))
    }

    /// The stored derivation function with all its parameters, and the name of the
    /// platform protector the data key is also wrapped by (`None`: the PIN alone).
    pub fn key_protection(&self) -> Result<Option<(Kdf, Option<String>)>> {
        Ok(self.keyring_row()?.map(|r| (r.kdf, r.protector)))
    }

    fn keyring_row(&self) -> Result<Option<KeyringRow>> {
        let row = self
            .conn
            .query_row(
                "SELECT kdf, iterations, memory_kib, lanes, salt, wrapped_key, protector \
                 FROM keyring WHERE id = 1",
                [],
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, u32>(1)?,
                        r.get::<_, Option<u32>>(2)?,
                        r.get::<_, Option<u32>>(3)?,
                        r.get::<_, Vec<u8>>(4)?,
                        r.get::<_, Vec<u8>>(5)?,
                        r.get::<_, Option<String>>(6)?,
                    ))
                },
            )
            .optional()?;
        let Some((name, iterations, memory_kib, lanes, salt, wrapped, protector)) = row else {
            return Ok(None);
        };
        Ok(Some(KeyringRow {
            kdf: Kdf::from_columns(&name, iterations, memory_kib, lanes)?,
            salt,
            wrapped,
            protector,
        }))
    }

    /// The PIN-wrapped key of the row, with the platform protector's layer taken off.
    fn remove_protector(&self, row: &KeyringRow) -> Result<WrappedKey> {
        let wrapped = match &row.protector {
            None => row.wrapped.clone(),
            Some(name) => {
                let missing = |reason: String| StoreError::ProtectorMissing {
                    name: name.clone(),
                    reason,
                };
                let protector = self
                    .protector
                    .as_ref()
                    .ok_or_else(|| missing("this app has no secure key store".into()))?;
                if protector.name() != name {
                    return Err(missing(format!("this app has {}", protector.name())));
                }
                protector
                    .unwrap(&row.wrapped)
                    .map_err(|e| missing(e.to_string()))?
            }
        };
        Ok(WrappedKey {
            kdf: row.kdf,
            salt: row.salt.clone(),
            wrapped,
        })
    }

    /// Store `w`, wrapped by the platform protector when the store has one.
    fn save_wrapped_key(&self, w: &WrappedKey, replace: bool) -> Result<()> {
        let (blob, protector) = match &self.protector {
            None => (w.wrapped.clone(), None),
            Some(p) => (
                p.wrap(&w.wrapped)
                    .map_err(|e| StoreError::ProtectorMissing {
                        name: p.name().to_string(),
                        reason: e.to_string(),
                    })?,
                Some(p.name().to_string()),
            ),
        };
        let sql = if replace {
            "UPDATE keyring SET kdf = ?1, iterations = ?2, memory_kib = ?3, lanes = ?4, \
             salt = ?5, wrapped_key = ?6, protector = ?7, changed_at = ?8 WHERE id = 1"
        } else {
            "INSERT INTO keyring (id, kdf, iterations, memory_kib, lanes, salt, wrapped_key, \
             protector, changed_at) VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
        };
        let (iterations, memory_kib, lanes) = w.kdf.columns();
        self.conn.execute(
            sql,
            rusqlite::params![
                w.kdf.name(),
                iterations,
                memory_kib,
                lanes,
                w.salt,
                blob,
                protector,
                clock::fmt(chrono::Utc::now())
            ],
        )?;
        Ok(())
    }
}

/// The stronger of two parameter sets for a new wrapping: always Argon2id; the store's own
/// Argon2id parameters when they ask more memory or passes than `floor`.
fn stronger_of(current: Kdf, floor: Kdf) -> Kdf {
    match (current, floor) {
        (
            Kdf::Argon2id {
                memory_kib: m1,
                passes: t1,
                lanes: l1,
            },
            Kdf::Argon2id {
                memory_kib: m2,
                passes: t2,
                lanes: l2,
            },
        ) => Kdf::Argon2id {
            memory_kib: m1.max(m2),
            passes: t1.max(t2),
            lanes: l1.max(l2),
        },
        _ => floor,
    }
}
