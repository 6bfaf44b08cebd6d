//! Credentials: password hashes, session and device tokens, enrolment codes.
//!
//! Passwords are hashed with Argon2id (RustCrypto `argon2`, default parameters of RFC 9106's
//! second recommendation). Tokens are 32 random bytes from `ring`; the database keeps only their
//! SHA-256, so a leaked database copy gives no usable token. Enrolment codes are short enough to
//! type from a printout (12 characters of Crockford base32, 60 bits) because they are one-time
//! and expire.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::rand::{SecureRandom, SystemRandom};

/// Prefix of a person's session token.
pub const SESSION_PREFIX: &str = "fps_";
/// Prefix of a device token.
pub const DEVICE_PREFIX: &str = "fpd_";

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("the system random number generator failed")]
    Random,
    #[error("password hashing failed: {0}")]
    Hash(String),
}

fn random<const N: usize>() -> Result<[u8; N], AuthError> {
    let mut buf = [0u8; N];
    SystemRandom::new()
        .fill(&mut buf)
        .map_err(|_| AuthError::Random)?;
    Ok(buf)
}

/// A new bearer token with the given prefix.
pub fn new_token(prefix: &str) -> Result<String, AuthError> {
    Ok(format!(
        "{prefix}{}",
        URL_SAFE_NO_PAD.encode(random::<32>()?)
    ))
}

/// What the database stores for a token or code: SHA-256, hex.
pub fn token_hash(token: &str) -> String {
    token_hash_bytes(token.as_bytes())
}

/// SHA-256 of bytes, hex (questionnaire files).
pub fn token_hash_bytes(bytes: &[u8]) -> String {
    ring::digest::digest(&ring::digest::SHA256, bytes)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

const CROCKFORD: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// A one-time enrolment code, `XXXX-XXXX-XXXX`.
pub fn new_enrolment_code() -> Result<String, AuthError> {
    let bytes = random::<12>()?;
    let chars: Vec<char> = bytes
        .iter()
        .map(|b| CROCKFORD[(b & 31) as usize] as char)
        .collect();
    Ok(format!(
        "{}-{}-{}",
        chars[..4].iter().collect::<String>(),
        chars[4..8].iter().collect::<String>(),
        chars[8..].iter().collect::<String>()
    ))
}

/// The canonical form of a typed enrolment code: upper case, without dashes or spaces, with the
/// letters people confuse for digits (O, I, L) read as Crockford does.
pub fn normalize_code(code: &str) -> String {
    code.chars()
        .filter(|c| !matches!(c, '-' | ' '))
        .map(|c| match c.to_ascii_uppercase() {
            'O' => '0',
            'I' | 'L' => '1',
            other => other,
        })
        .collect()
}

pub fn hash_password(password: &str) -> Result<String, AuthError> {
    let salt =
        SaltString::encode_b64(&random::<16>()?).map_err(|e| AuthError::Hash(e.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AuthError::Hash(e.to_string()))
}

/// Whether `password` matches the stored hash; a malformed stored hash never matches.
pub fn verify_password(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify_only_with_the_right_password() {
        let h = hash_password("đúng mật khẩu").expect("hashes");
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("đúng mật khẩu", &h));
        assert!(!verify_password("sai", &h));
        assert!(!verify_password("anything", "not a hash"));
    }

    #[test]
    fn codes_survive_the_usual_typing_mistakes() {
        let code = new_enrolment_code().expect("code");
        assert_eq!(code.len(), 14);
        let typed = code.to_lowercase().replace('-', " ");
        assert_eq!(normalize_code(&typed), normalize_code(&code));
        assert_eq!(normalize_code("o1l-I"), "0111");
        assert_ne!(new_enrolment_code().expect("code"), code);
    }

    #[test]
    fn tokens_are_distinct_and_hashes_are_stable() {
        let a = new_token(SESSION_PREFIX).expect("token");
        let b = new_token(SESSION_PREFIX).expect("token");
        assert_ne!(a, b);
        assert!(a.starts_with(SESSION_PREFIX));
        assert_eq!(token_hash(&a), token_hash(&a));
        assert_eq!(token_hash(&a).len(), 64);
    }
}
