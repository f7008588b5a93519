//! Local accounts of this workstation (name, role, salted password hash), kept inside the
//! encrypted cache until central sign-in exists.
//!
//! **Interim scheme:** the hash is SHA-256 over a random 16-byte salt and the password
//! (`sha256-salted-v1`). It is not a slow password hash; it is acceptable only because the
//! table is inside the SQLCipher file, whose key is in the OS keyring, so an attacker needs the
//! key before they can try passwords. Central sign-in brings argon2id; the `scheme` column lets
//! both live side by side during that change.

use rusqlite::{params, OptionalExtension};
use sha2::{Digest, Sha256};

use crate::{Result, Store, StoreError};

/// The only scheme this build writes and checks.
pub const SCHEME_SHA256_SALTED_V1: &str = "sha256-salted-v1";

/// A stored local account. `Debug` leaves out the salt and hash.
#[derive(Clone, PartialEq, Eq)]
pub struct LocalAccount {
    pub name: String,
    /// The role's stable name (`coordinator`, `clinician`, ...); the store does not interpret it.
    pub role: String,
    scheme: String,
    salt: String,
    password_hash: String,
}

impl std::fmt::Debug for LocalAccount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalAccount")
            .field("name", &self.name)
            .field("role", &self.role)
            .field("scheme", &self.scheme)
            .finish_non_exhaustive()
    }
}

fn digest(salt_hex: &str, password: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(salt_hex.as_bytes());
    hasher.update([0u8]);
    hasher.update(password.as_bytes());
    hex::encode(hasher.finalize())
}

/// Compares without stopping at the first difference.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

impl LocalAccount {
    /// Whether `password` is this account's password.
    pub fn verify(&self, password: &str) -> bool {
        self.scheme == SCHEME_SHA256_SALTED_V1
            && same(&digest(&self.salt, password), &self.password_hash)
    }
}

impl Store {
    /// Creates or replaces the account `name` with `role` and a fresh salted hash of
    /// `password`.
    pub fn put_account(
        &mut self,
        name: &str,
        role: &str,
        password: &str,
        created_at: chrono::DateTime<chrono::Utc>,
    ) -> Result<()> {
        let mut salt = [0u8; 16];
        getrandom::getrandom(&mut salt)
            .map_err(|e| StoreError::Keyring(format!("no random source: {e}")))?;
        let salt = hex::encode(salt);
        let hash = digest(&salt, password);
        self.conn.execute(
            "INSERT INTO local_account (name, role, scheme, salt, password_hash, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (name) DO UPDATE SET role = excluded.role, scheme = excluded.scheme,
                 salt = excluded.salt, password_hash = excluded.password_hash",
            params![
                name,
                role,
                SCHEME_SHA256_SALTED_V1,
                salt,
                hash,
                created_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            ],
        )?;
        Ok(())
    }

    /// The account `name`, if there is one.
    pub fn account(&self, name: &str) -> Result<Option<LocalAccount>> {
        Ok(self
            .conn
            .query_row(
                "SELECT name, role, scheme, salt, password_hash FROM local_account WHERE name = ?1",
                [name],
                |r| {
                    Ok(LocalAccount {
                        name: r.get(0)?,
                        role: r.get(1)?,
                        scheme: r.get(2)?,
                        salt: r.get(3)?,
                        password_hash: r.get(4)?,
                    })
                },
            )
            .optional()?)
    }

    /// How many local accounts exist.
    pub fn account_count(&self) -> Result<u64> {
        Ok(self
            .conn
            .query_row("SELECT count(*) FROM local_account", [], |r| {
                r.get::<_, i64>(0)
            })? as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accounts_verify_their_password_only_and_are_salted() {
        let dir = tempfile::tempdir().unwrap();
        let key = crate::CacheKey::generate().unwrap();
        let mut store = Store::open(dir.path(), &key).unwrap();
        let at = chrono::DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        store.put_account("ana", "coordinator", "demo", at).unwrap();
        store.put_account("cleo", "clinician", "demo", at).unwrap();
        let ana = store.account("ana").unwrap().expect("ana was stored");
        let cleo = store.account("cleo").unwrap().expect("cleo was stored");
        assert_eq!(ana.role, "coordinator");
        assert!(ana.verify("demo"), "the right password is accepted");
        assert!(!ana.verify("Demo"), "a wrong password is refused");
        assert!(!ana.verify(""), "an empty password is refused");
        assert_ne!(
            ana.password_hash, cleo.password_hash,
            "the same password hashes differently under different salts"
        );
        assert!(!format!("{ana:?}").contains(&ana.password_hash));
        assert_eq!(store.account("nobody").unwrap(), None);
        assert_eq!(store.account_count().unwrap(), 2);
    }
}
