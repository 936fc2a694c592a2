//! Password hashing with argon2id at the OWASP parameters (19 MiB, t=2, p=1). Hashing runs on
//! the blocking pool, never on the async runtime, and at most `concurrency` hashes run at once so
//! a burst of sign-ins cannot exhaust memory.

use crate::{error::AppError, error::internal, validation::Password};
use argon2::{
    password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher as _, PasswordVerifier, SaltString},
    Algorithm, Argon2, Params, Version,
};
use rand::seq::SliceRandom;
use std::sync::{
    atomic::{AtomicU64, Ordering},
    Arc,
};
use tokio::sync::Semaphore;

fn argon2() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).expect("valid argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

#[derive(Clone)]
pub struct PasswordHasher {
    permits: Arc<Semaphore>,
    /// Verified instead of a real hash when the e-mail is unknown, so both cases cost the same.
    dummy_hash: Arc<String>,
    /// How many times a stored hash (not the dummy) was checked: what brute-force limits bound.
    real_verifications: Arc<AtomicU64>,
    /// Every verification, real or dummy, and every new hash: the work a request costs.
    verifications: Arc<AtomicU64>,
    hashes: Arc<AtomicU64>,
}

impl PasswordHasher {
    pub fn new(concurrency: usize) -> Self {
        let salt = SaltString::generate(&mut OsRng);
        let dummy_hash = argon2()
            .hash_password(b"no user has this password", &salt)
            .expect("hash the dummy password")
            .to_string();
        Self {
            permits: Arc::new(Semaphore::new(concurrency.max(1))),
            dummy_hash: Arc::new(dummy_hash),
            real_verifications: Arc::new(AtomicU64::new(0)),
            verifications: Arc::new(AtomicU64::new(0)),
            hashes: Arc::new(AtomicU64::new(0)),
        }
    }

    /// How many verifications ran since start, real or dummy.
    pub fn verifications(&self) -> u64 {
        self.verifications.load(Ordering::Relaxed)
    }

    /// How many new hashes were computed since start.
    pub fn hashes(&self) -> u64 {
        self.hashes.load(Ordering::Relaxed)
    }

    /// How many candidate passwords were checked against a stored hash since start.
    pub fn real_verifications(&self) -> u64 {
        self.real_verifications.load(Ordering::Relaxed)
    }

    pub async fn hash(&self, password: &Password) -> Result<String, AppError> {
        self.hashes.fetch_add(1, Ordering::Relaxed);
        let secret = password.expose().to_owned();
        self.run(move || {
            let salt = SaltString::generate(&mut OsRng);
            argon2().hash_password(secret.as_bytes(), &salt).map(|h| h.to_string())
        })
        .await?
        .map_err(internal)
    }

    /// Whether `candidate` matches `stored`. With no stored hash (unknown user, or a user who
    /// never set a password) a dummy hash is verified and the answer is `false`.
    pub async fn verify(&self, candidate: &str, stored: Option<&str>) -> Result<bool, AppError> {
        let candidate = candidate.to_owned();
        let (hash, real) = match stored {
            Some(hash) => (hash.to_owned(), true),
            None => (self.dummy_hash.as_ref().clone(), false),
        };
        if real {
            self.real_verifications.fetch_add(1, Ordering::Relaxed);
        }
        self.verifications.fetch_add(1, Ordering::Relaxed);
        let matched = self
            .run(move || {
                PasswordHash::new(&hash)
                    .map(|parsed| argon2().verify_password(candidate.as_bytes(), &parsed).is_ok())
                    .unwrap_or(false)
            })
            .await?;
        Ok(real && matched)
    }

    async fn run<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> Result<T, AppError> {
        let _permit = self.permits.acquire().await.map_err(internal)?;
        tokio::task::spawn_blocking(work).await.map_err(internal)
    }
}

/// A strong temporary password (20 characters from an unambiguous alphabet, about 116 bits)
/// that still reads well when copied from an e-mail.
pub fn generate_temporary() -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rngs::OsRng;
    let chars: Vec<char> = (0..20).map(|_| *ALPHABET.choose(&mut rng).expect("non-empty") as char).collect();
    chars.chunks(5).map(|c| c.iter().collect::<String>()).collect::<Vec<_>>().join("-")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_verify_and_use_argon2id_with_owasp_parameters() {
        let hasher = PasswordHasher::new(2);
        let password = Password::parse("violet-kettle-onward", None).unwrap();
        let hash = hasher.hash(&password).await.unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{hash}");
        assert!(hasher.verify("violet-kettle-onward", Some(&hash)).await.unwrap());
        assert!(!hasher.verify("violet-kettle-onwarD", Some(&hash)).await.unwrap());
        assert_eq!(hasher.real_verifications(), 2);
    }

    #[tokio::test]
    async fn unknown_users_never_match_even_with_the_dummy_password() {
        let hasher = PasswordHasher::new(1);
        assert!(!hasher.verify("no user has this password", None).await.unwrap());
        assert_eq!(hasher.real_verifications(), 0, "the dummy hash is not a real verification");
    }

    #[test]
    fn temporary_passwords_pass_the_policy() {
        let temp = generate_temporary();
        assert_eq!(temp.len(), 23);
        assert!(Password::parse(&temp, None).is_ok());
        assert_ne!(temp, generate_temporary());
    }
}
