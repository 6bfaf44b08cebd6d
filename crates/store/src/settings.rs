//! Device settings: plain ones (server address, language) readable while locked, and secret
//! ones (the device's signing key and token) encrypted under the data key like answers.
//!
//! Keys starting with `store.` are reserved for the store itself (device id, outbox sequence,
//! release rule) and refused here, so an app setting can never overwrite them.

use rusqlite::{OptionalExtension, params};

use crate::{Result, Store, StoreError, crypto};

/// Names the store keeps for itself in the same table.
const RESERVED: [&str; 3] = ["device_id", "release_rule", "outbox_last_sequence"];

fn check_key(key: &str) -> Result<()> {
    if key.is_empty() || key.len() > 64 || RESERVED.contains(&key) || key.starts_with("store.") {
        return Err(StoreError::InvalidInput(format!(
            "'{key}' cannot be used as a setting name"
        )));
    }
    Ok(())
}

impl Store {
    /// A plain setting, if set. Readable while locked: only non-personal values belong here.
    pub fn setting(&self, key: &str) -> Result<Option<String>> {
        check_key(key)?;
        Ok(self
            .conn
            .query_row("SELECT value FROM setting WHERE key = ?1", [key], |r| {
                r.get(0)
            })
            .optional()?)
    }

    /// Sets (or with `None`, removes) a plain setting.
    pub fn set_setting(&mut self, key: &str, value: Option<&str>) -> Result<()> {
        check_key(key)?;
        match value {
            Some(v) => self.conn.execute(
                "INSERT INTO setting (key, value) VALUES (?1, ?2) \
                 ON CONFLICT (key) DO UPDATE SET value = ?2",
                params![key, v],
            )?,
            None => self
                .conn
                .execute("DELETE FROM setting WHERE key = ?1", [key])?,
        };
        Ok(())
    }

    /// A secret setting, decrypted. Needs the store unlocked.
    pub fn secret(&self, key: &str) -> Result<Option<Vec<u8>>> {
        let data_key = self.key()?;
        let Some(hex) = self.setting(&format!("secret.{key}"))? else {
            return Ok(None);
        };
        let blob = from_hex(&hex)
            .ok_or_else(|| StoreError::Damaged(format!("secret setting {key} is not hex")))?;
        data_key
            .open(&crypto::aad("secret", &[key]), &blob, key)
            .map(Some)
    }

    /// Stores a secret setting encrypted under the data key. Needs the store unlocked.
    pub fn set_secret(&mut self, key: &str, value: &[u8]) -> Result<()> {
        let blob = self.key()?.seal(&crypto::aad("secret", &[key]), value)?;
        self.set_setting(&format!("secret.{key}"), Some(&to_hex(&blob)))
    }
}

fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn from_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use crate::{Store, StoreError};

    #[test]
    fn secrets_are_encrypted_and_need_the_pin() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("s.sqlite");
        let mut store = Store::open(&path).expect("open");
        store
            .set_up_pin_with_iterations("135790", 1_000)
            .expect("pin");
        store
            .set_setting("server_url", Some("http://x"))
            .expect("set");
        store
            .set_secret("device_token", b"tok-SECRET-123")
            .expect("secret");
        assert_eq!(
            store.secret("device_token").expect("read").as_deref(),
            Some(&b"tok-SECRET-123"[..])
        );
        store.checkpoint().expect("checkpoint");
        let raw = std::fs::read(&path).expect("raw file");
        assert!(!raw.windows(14).any(|w| w == b"tok-SECRET-123"));
        drop(store);
        let locked = Store::open(&path).expect("reopen");
        assert_eq!(
            locked.setting("server_url").expect("plain").as_deref(),
            Some("http://x")
        );
        assert!(matches!(
            locked.secret("device_token"),
            Err(StoreError::Locked)
        ));
    }

    #[test]
    fn the_store_own_settings_cannot_be_overwritten() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut store = Store::open(&dir.path().join("s.sqlite")).expect("open");
        let id = store.device_id();
        assert!(store.set_setting("device_id", Some("x")).is_err());
        assert_eq!(store.device_id(), id);
    }
}
