//! Password hashes in the format Directus writes (node `argon2` defaults: argon2id, m=4096, t=3,
//! p=1, 32-byte hash, PHC string), so existing `directus_users.password` values verify and
//! Directus accepts the hashes Rectus writes.

use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

fn hasher() -> Argon2<'static> {
    let params = Params::new(4096, 3, 1, Some(32)).expect("static argon2 parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

pub fn hash(password: &str) -> String {
    let salt = SaltString::generate(&mut OsRng);
    hasher()
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2 hashing with valid parameters cannot fail")
        .to_string()
}

/// Constant-time verification; the parameters come from the stored hash.
pub fn verify(password: &str, stored: &str) -> bool {
    match PasswordHash::new(stored) {
        Ok(parsed) => Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok(),
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn round_trip_and_format() {
        let h = super::hash("d1r3ctu5");
        assert!(h.starts_with("$argon2id$v=19$m=4096,t=3,p=1$"), "{h}");
        assert!(super::verify("d1r3ctu5", &h));
        assert!(!super::verify("wrong", &h));
        assert!(!super::verify("x", "not-a-hash"));
    }
}
