//! A second lock on the data key, held by the platform: [`KeyProtector`].
//!
//! The PIN alone leaves a 6-digit search to anyone who copies the file: Argon2id makes
//! each guess cost, it cannot make 10^6 guesses impossible. Where the platform keeps a
//! key that cannot be exported (Android Keystore, StrongBox where the phone has one),
//! the PIN-wrapped data key is wrapped once more by that key, so the file alone is not
//! enough: a guess needs the phone itself, whose secure hardware answers one request at
//! a time and never hands the key out.
//!
//! Order: data key -> AES-GCM under the Argon2id(PIN) key -> [`KeyProtector::wrap`] ->
//! the `keyring` row. The protector sees only ciphertext; the PIN never leaves the app.
//!
//! The store knows no platform: the app shell gives it an implementation
//! ([`crate::Store::set_key_protector`]); the Android one is the `fieldpost-keystore`
//! Tauri plugin (`plugins/keystore` in the repository). The keyring row names the
//! protector, so a store protected on a device refuses to unlock without it
//! ([`crate::StoreError::ProtectorMissing`]) instead of giving a misleading "wrong PIN".

/// What went wrong inside the platform's key store (its own message, no personal data).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ProtectorError(pub String);

/// A platform key that wraps and unwraps bytes without ever exposing itself.
///
/// `wrap` and `unwrap` must be inverse and authenticated (an altered blob fails to
/// unwrap); AES-GCM in the Android Keystore is both.
pub trait KeyProtector: Send + Sync {
    /// Stable name stored in the keyring row (`android-keystore`); a store wrapped by one
    /// protector is only unwrapped by a protector of the same name.
    fn name(&self) -> &str;
    /// Encrypt `plain` (the PIN-wrapped data key) under the platform key.
    fn wrap(&self, plain: &[u8]) -> Result<Vec<u8>, ProtectorError>;
    /// Decrypt what [`KeyProtector::wrap`] returned.
    fn unwrap(&self, wrapped: &[u8]) -> Result<Vec<u8>, ProtectorError>;
}
