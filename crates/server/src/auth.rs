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

/// A hash of a random password nobody knows, with the parameters of [`hash_password`]: what
/// sign-in verifies against when the user name is unknown, so an unknown name costs the same
/// Argon2 work as a wrong password and the answer's timing does not tell which names exist.
/// Made once per process (the first call pays one hash; [`crate::http::router`] makes that call).
pub fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| {
        // A random password: even a failure of the random source leaves no known password,
        // since a hash of the fixed fallback below is never stored for any account.
        let secret = random::<32>()
            .map(|b| URL_SAFE_NO_PAD.encode(b))
            .unwrap_or_else(|_| "fieldpost: no account has this password".to_string());
        hash_password(&secret).unwrap_or_else(|_| {
            // Salt or hashing failure: a valid PHC string with the same parameters.
            "$argon2id$v=19$m=19456,t=2,p=1$ZmllbGRwb3N0LWR1bW15$\
             uVvmc9dnMY4FJRI0DY0VdUw8AE2dPIB2lXyDYV7H8mg"
                .to_string()
        })
    })
}

/// Sign-in's check: verifies against the account's hash, or against [`dummy_hash`] when there
/// is no such account (and then never matches), so both cases do the same work.
pub fn verify_login(password: &str, stored: Option<&str>) -> bool {
    match stored {
        Some(hash) => verify_password(password, hash),
        None => {
            let _ = verify_password(password, dummy_hash());
            false
        }
    }
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

    /// The dummy hash has exactly the parameters real hashes get, so verifying against it costs
    /// the same; it matches no password.
    #[test]
    fn the_dummy_hash_costs_what_a_real_one_costs() {
        let real = hash_password("mật khẩu thật").expect("hashes");
        let params = |h: &str| {
            let parsed = PasswordHash::new(h).expect("PHC string");
            (
                parsed.algorithm.to_string(),
                parsed.version,
                argon2::Params::try_from(&parsed).expect("argon2 params"),
            )
        };
        assert_eq!(params(dummy_hash()), params(&real));
        assert!(!verify_login("mật khẩu thật", None));
        assert!(verify_login("mật khẩu thật", Some(&real)));
        assert!(!verify_login("sai", Some(&real)));
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
