//! A platform key on top of the PIN ([`KeyProtector`]): with one, the file and the PIN
//! together are not enough; the platform's key is needed too. The protector here is a
//! stand-in for the Android Keystore: AES-256-GCM (ring) under a key only it holds.

mod common;

use std::sync::Arc;

use common::{PIN, TEST_KDF, VERSION, fixture};
use fieldpost_store::{KeyProtector, ProtectorError, Store, StoreError, crypto};
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};
use serde_json::json;

/// What the Keystore does: authenticated encryption under a key that never leaves it.
struct FakeKeystore {
    key: LessSafeKey,
}

impl FakeKeystore {
    fn new() -> Arc<Self> {
        let mut raw = [0u8; 32];
        SystemRandom::new().fill(&mut raw).unwrap();
        Arc::new(Self {
            key: LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &raw).unwrap()),
        })
    }
}

impl KeyProtector for FakeKeystore {
    fn name(&self) -> &str {
        "android-keystore"
    }
    fn wrap(&self, plain: &[u8]) -> Result<Vec<u8>, ProtectorError> {
        let mut nonce = [0u8; NONCE_LEN];
        SystemRandom::new()
            .fill(&mut nonce)
            .map_err(|_| ProtectorError("rng".into()))?;
        let mut body = plain.to_vec();
        self.key
            .seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::empty(), &mut body)
            .map_err(|_| ProtectorError("seal".into()))?;
        Ok([nonce.as_slice(), &body].concat())
    }
    fn unwrap(&self, wrapped: &[u8]) -> Result<Vec<u8>, ProtectorError> {
        if wrapped.len() < NONCE_LEN {
            return Err(ProtectorError("short".into()));
        }
        let (nonce, body) = wrapped.split_at(NONCE_LEN);
        let mut body = body.to_vec();
        let nonce =
            Nonce::try_assume_unique_for_key(nonce).map_err(|_| ProtectorError("nonce".into()))?;
        let plain = self
            .key
            .open_in_place(nonce, Aad::empty(), &mut body)
            .map_err(|_| ProtectorError("this is not the key that wrapped it".into()))?;
        Ok(plain.to_vec())
    }
}

/// The keyring row as someone holding the file reads it.
fn raw_keyring(path: &std::path::Path) -> (Vec<u8>, Vec<u8>, Option<String>) {
    let c = rusqlite::Connection::open(path).unwrap();
    c.query_row(
        "SELECT salt, wrapped_key, protector FROM keyring",
        [],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )
    .unwrap()
}

#[test]
fn a_protected_store_needs_the_platform_key_as_well_as_the_pin() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("d.db");
    let keystore = FakeKeystore::new();
    {
        let mut store = Store::open(&path).unwrap();
        store.set_key_protector(Some(keystore.clone()));
        store.set_up_pin_with_kdf(PIN, TEST_KDF).unwrap();
        assert_eq!(
            store.key_protection().unwrap().unwrap().1.as_deref(),
            Some("android-keystore")
        );
    }

    // The file and the PIN alone: the stored bytes are not a PIN-wrapped key.
    let (salt, wrapped, protector) = raw_keyring(&path);
    assert_eq!(protector.as_deref(), Some("android-keystore"));
    let offline = crypto::WrappedKey {
        kdf: TEST_KDF,
        salt,
        wrapped,
    };
    assert!(
        crypto::unwrap_data_key(PIN, &offline).is_err(),
        "the right PIN must not open the file without the platform key"
    );

    // The app without the platform key: a clear error, not "wrong PIN".
    let mut store = Store::open(&path).unwrap();
    let err = store.unlock(PIN).unwrap_err();
    assert!(matches!(err, StoreError::ProtectorMissing { .. }), "{err}");
    // Another phone's key store: refused too.
    store.set_key_protector(Some(FakeKeystore::new()));
    let err = store.unlock(PIN).unwrap_err();
    assert!(matches!(err, StoreError::ProtectorMissing { .. }), "{err}");
    // This phone's: the PIN opens it, and a wrong PIN is still a wrong PIN.
    store.set_key_protector(Some(keystore.clone()));
    assert!(matches!(store.unlock("9999"), Err(StoreError::WrongPin)));
    store.unlock(PIN).unwrap();
    // A changed PIN stays protected.
    store.change_pin(PIN, "135790").unwrap();
    drop(store);
    let mut store = Store::open(&path).unwrap();
    store.set_key_protector(Some(keystore));
    store.unlock("135790").unwrap();
    assert_eq!(raw_keyring(&path).2.as_deref(), Some("android-keystore"));
}

#[test]
fn a_store_made_without_the_platform_key_gets_it_at_the_next_unlock() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("d.db");
    let mut f = fixture(&path);
    let i = f
        .store
        .start_or_resume(f.officials[0].id, VERSION, "e")
        .unwrap()
        .id;
    f.store.set_answer(i, "age", &json!(41)).unwrap();
    drop(f);
    assert_eq!(raw_keyring(&path).2, None);

    let keystore = FakeKeystore::new();
    let mut store = Store::open(&path).unwrap();
    store.set_key_protector(Some(keystore.clone()));
    store.unlock(PIN).unwrap();
    drop(store);
    assert_eq!(raw_keyring(&path).2.as_deref(), Some("android-keystore"));

    let mut store = Store::open(&path).unwrap();
    assert!(matches!(
        store.unlock(PIN),
        Err(StoreError::ProtectorMissing { .. })
    ));
    store.set_key_protector(Some(keystore));
    store.unlock(PIN).unwrap();
    assert_eq!(store.answers(i).unwrap()[0].value, json!(41));
}
