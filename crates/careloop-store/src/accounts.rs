//! Local accounts of this workstation (name, role, password hash), kept inside the encrypted
//! cache: the demo's accounts, and with a central server the account of each user the server
//! signed in here (with the role it gave them), so that their next sign-in works offline.
//!
//! **Scheme:** every password is stored as argon2id with the `argon2` crate's defaults
//! (19 MiB, 2 passes, 1 lane) in PHC string format (`argon2id-v1`), like the server's. Older
//! caches hold `sha256-salted-v1` rows (SHA-256 over a random salt and the password, a fast
//! hash): they are still checked, and [`LocalAccount::needs_rehash`] tells the caller to store
//! the password again with [`Store::rehash_account`] on the next successful sign-in.
//!
//! Failed sign-ins are counted per name as typed ([`Store::sign_in_failures`]), known or not;
//! the policy (delays, the temporary lock) is the caller's, with the time passed in.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension};
use sha2::{Digest, Sha256};

use crate::{Result, Store, StoreError};

/// The interim scheme of older caches: checked, never written (except by
/// [`Store::put_legacy_account`] for tests of the upgrade).
pub const SCHEME_SHA256_SALTED_V1: &str = "sha256-salted-v1";

/// The scheme this build writes: argon2id, the crate's defaults, PHC string.
pub const SCHEME_ARGON2ID_V1: &str = "argon2id-v1";

/// No password is kept: the server refused the last one it was shown (no password verifies).
pub const SCHEME_SERVER_REFUSED: &str = "server-refused";

/// An account made here (the demo's).
pub const ORIGIN_LOCAL: &str = "local";
/// An account the central server signed in on this workstation, with the role it gave.
pub const ORIGIN_SERVER: &str = "server";

/// A stored local account. `Debug` leaves out the salt and hash.
#[derive(Clone, PartialEq, Eq)]
pub struct LocalAccount {
    pub name: String,
    /// The role's stable name (`coordinator`, `clinician`, ...); the store does not interpret it.
    pub role: String,
    /// [`ORIGIN_LOCAL`] or [`ORIGIN_SERVER`].
    pub origin: String,
    scheme: String,
    salt: String,
    password_hash: String,
}

impl std::fmt::Debug for LocalAccount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalAccount")
            .field("name", &self.name)
            .field("role", &self.role)
            .field("origin", &self.origin)
            .field("scheme", &self.scheme)
            .finish_non_exhaustive()
    }
}

fn sha256_digest(salt_hex: &str, password: &str) -> String {
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

fn random_bytes<const N: usize>() -> Result<[u8; N]> {
    let mut bytes = [0u8; N];
    getrandom::getrandom(&mut bytes)
        .map_err(|e| StoreError::Keyring(format!("no random source: {e}")))?;
    Ok(bytes)
}

/// argon2id (19 MiB, t=2, p=1) of `password` under a fresh 16-byte salt, as a PHC string.
fn argon2id_hash(password: &str) -> Result<String> {
    let salt = SaltString::encode_b64(&random_bytes::<16>()?)
        .map_err(|e| StoreError::Keyring(format!("password salt: {e}")))?;
    Ok(Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| StoreError::Keyring(format!("password hashing: {e}")))?
        .to_string())
}

fn argon2id_verify(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc)
        .map(|hash| {
            hash.algorithm == argon2::Algorithm::Argon2id.ident()
                && Argon2::default()
                    .verify_password(password.as_bytes(), &hash)
                    .is_ok()
        })
        .unwrap_or(false)
}

/// Spends the time one argon2id check takes, for a user who has no account here: an unknown
/// name is not answered faster than a wrong password.
pub fn verify_nobody(password: &str) {
    // A fixed salt: nothing is stored or compared, only the work is done.
    if let Ok(salt) = SaltString::from_b64("Y2FyZWxvb3Bub2JvZHk") {
        let _ = Argon2::default().hash_password(password.as_bytes(), &salt);
    }
}

impl LocalAccount {
    /// Whether `password` is this account's password (either scheme).
    pub fn verify(&self, password: &str) -> bool {
        match self.scheme.as_str() {
            SCHEME_ARGON2ID_V1 => argon2id_verify(password, &self.password_hash),
            SCHEME_SHA256_SALTED_V1 => {
                same(&sha256_digest(&self.salt, password), &self.password_hash)
            }
            _ => false,
        }
    }

    /// The stored hash's scheme (`argon2id-v1`, or `sha256-salted-v1` in older caches).
    pub fn scheme(&self) -> &str {
        &self.scheme
    }

    /// The stored hash is not this build's scheme: after a successful check, store the
    /// password again ([`Store::rehash_account`]).
    pub fn needs_rehash(&self) -> bool {
        self.scheme != SCHEME_ARGON2ID_V1
    }

    /// The central server signed this user in here and gave them [`LocalAccount::role`].
    pub fn from_server(&self) -> bool {
        self.origin == ORIGIN_SERVER
    }
}

/// Failed sign-ins under one name since its last success.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SignInFailures {
    pub failures: u32,
    pub last_failure_at: DateTime<Utc>,
}

fn rfc3339(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

impl Store {
    /// Creates or replaces the account `name` made here (the demo's), with `role` and an
    /// argon2id hash of `password`.
    pub fn put_account(
        &mut self,
        name: &str,
        role: &str,
        password: &str,
        created_at: DateTime<Utc>,
    ) -> Result<()> {
        self.put_argon2id_account(name, role, ORIGIN_LOCAL, password, created_at)
    }

    /// Creates or replaces the account of a user the central server has just signed in here,
    /// with the role the server gave them and an argon2id hash of the password it accepted
    /// (so that their next sign-in works offline).
    pub fn put_server_account(
        &mut self,
        name: &str,
        role: &str,
        password: &str,
        created_at: DateTime<Utc>,
    ) -> Result<()> {
        self.put_argon2id_account(name, role, ORIGIN_SERVER, password, created_at)
    }

    fn put_argon2id_account(
        &mut self,
        name: &str,
        role: &str,
        origin: &str,
        password: &str,
        created_at: DateTime<Utc>,
    ) -> Result<()> {
        let hash = argon2id_hash(password)?;
        self.upsert_account(
            name,
            role,
            origin,
            SCHEME_ARGON2ID_V1,
            "",
            &hash,
            created_at,
        )
    }

    /// The server refused this user's password (disabled, revoked or changed there): the
    /// offline copy of it is dropped, so the next sign-in here must go to the server again.
    /// Returns whether there was one. Accounts of local origin are not touched.
    pub fn forget_server_password(&mut self, name: &str) -> Result<bool> {
        let changed = self.conn.execute(
            "UPDATE local_account SET password_hash = '', salt = '', scheme = ?2
             WHERE name = ?1 AND origin = ?3 AND scheme <> ?2",
            rusqlite::params![name, SCHEME_SERVER_REFUSED, ORIGIN_SERVER],
        )?;
        Ok(changed > 0)
    }

    /// Stores an account under the old `sha256-salted-v1` scheme, as caches made before
    /// argon2id hold them. Only for tests of the upgrade on sign-in.
    #[doc(hidden)]
    pub fn put_legacy_account(
        &mut self,
        name: &str,
        role: &str,
        password: &str,
        created_at: DateTime<Utc>,
    ) -> Result<()> {
        let salt = hex::encode(random_bytes::<16>()?);
        let hash = sha256_digest(&salt, password);
        self.upsert_account(
            name,
            role,
            ORIGIN_LOCAL,
            SCHEME_SHA256_SALTED_V1,
            &salt,
            &hash,
            created_at,
        )
    }

    /// Stores `password` again under this build's scheme (argon2id), keeping the account's
    /// role and origin: the upgrade of an old hash after a successful sign-in. Returns
    /// whether the account exists.
    pub fn rehash_account(&mut self, name: &str, password: &str) -> Result<bool> {
        let hash = argon2id_hash(password)?;
        let changed = self.conn.execute(
            "UPDATE local_account SET scheme = ?2, salt = '', password_hash = ?3 WHERE name = ?1",
            params![name, SCHEME_ARGON2ID_V1, hash],
        )?;
        Ok(changed > 0)
    }

    #[allow(clippy::too_many_arguments)]
    fn upsert_account(
        &mut self,
        name: &str,
        role: &str,
        origin: &str,
        scheme: &str,
        salt: &str,
        hash: &str,
        created_at: DateTime<Utc>,
    ) -> Result<()> {
        self.conn.execute(
            "INSERT INTO local_account (name, role, origin, scheme, salt, password_hash, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
             ON CONFLICT (name) DO UPDATE SET role = excluded.role, origin = excluded.origin,
                 scheme = excluded.scheme, salt = excluded.salt,
                 password_hash = excluded.password_hash",
            params![
                name,
                role,
                origin,
                scheme,
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
                "SELECT name, role, origin, scheme, salt, password_hash FROM local_account
                 WHERE name = ?1",
                [name],
                |r| {
                    Ok(LocalAccount {
                        name: r.get(0)?,
                        role: r.get(1)?,
                        origin: r.get(2)?,
                        scheme: r.get(3)?,
                        salt: r.get(4)?,
                        password_hash: r.get(5)?,
                    })
                },
            )
            .optional()?)
    }

    /// Every account's name with its role, by name (no credentials).
    pub fn account_roles(&self) -> Result<Vec<(String, String)>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT name, role FROM local_account ORDER BY name")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// How many local accounts exist.
    pub fn account_count(&self) -> Result<u64> {
        Ok(self
            .conn
            .query_row("SELECT count(*) FROM local_account", [], |r| {
                r.get::<_, i64>(0)
            })? as u64)
    }

    /// The failed sign-ins under `name` (as typed) since its last success, if any.
    pub fn sign_in_failures(&self, name: &str) -> Result<Option<SignInFailures>> {
        let row: Option<(i64, String)> = self
            .conn
            .query_row(
                "SELECT failures, last_failure_at FROM sign_in_failure WHERE name = ?1",
                [name],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        Ok(row.and_then(|(failures, at)| {
            // A row this build cannot read counts as one recent failure, not as none.
            let last_failure_at = DateTime::parse_from_rfc3339(&at)
                .map(|t| t.with_timezone(&Utc))
                .ok()?;
            Some(SignInFailures {
                failures: u32::try_from(failures).unwrap_or(u32::MAX),
                last_failure_at,
            })
        }))
    }

    /// Records the failed sign-ins under `name`: `failures` so far, the last at `at`.
    pub fn set_sign_in_failures(&mut self, name: &str, failures: SignInFailures) -> Result<()> {
        self.conn.execute(
            "INSERT INTO sign_in_failure (name, failures, last_failure_at) VALUES (?1, ?2, ?3)
             ON CONFLICT (name) DO UPDATE SET failures = excluded.failures,
                 last_failure_at = excluded.last_failure_at",
            params![name, failures.failures, rfc3339(failures.last_failure_at)],
        )?;
        Ok(())
    }

    /// Forgets the failed sign-ins under `name` (after a successful one).
    pub fn clear_sign_in_failures(&mut self, name: &str) -> Result<()> {
        self.conn
            .execute("DELETE FROM sign_in_failure WHERE name = ?1", [name])?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn open() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let key = crate::CacheKey::generate().unwrap();
        let store = Store::open(dir.path(), &key).unwrap();
        (dir, store)
    }

    fn stored_row(store: &Store, name: &str) -> (String, String, String) {
        store
            .conn
            .query_row(
                "SELECT scheme, salt, password_hash FROM local_account WHERE name = ?1",
                [name],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .unwrap()
    }

    #[test]
    fn accounts_are_stored_as_argon2id_and_verify_their_password_only() {
        let (_dir, mut store) = open();
        let at = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        store.put_account("ana", "coordinator", "demo", at).unwrap();
        store.put_account("cleo", "clinician", "demo", at).unwrap();
        let ana = store.account("ana").unwrap().expect("ana was stored");
        let cleo = store.account("cleo").unwrap().expect("cleo was stored");
        assert_eq!(ana.role, "coordinator");
        assert_eq!(ana.origin, ORIGIN_LOCAL);
        assert!(!ana.from_server());
        assert_eq!(ana.scheme(), SCHEME_ARGON2ID_V1);
        assert!(!ana.needs_rehash());
        let (scheme, salt, phc) = stored_row(&store, "ana");
        assert_eq!(scheme, "argon2id-v1");
        assert_eq!(salt, "", "the salt is inside the PHC string");
        assert!(
            phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "argon2id with the crate's defaults: {phc}"
        );
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

        store
            .put_server_account("ben", "supervisor", "s3cret-pass", at)
            .unwrap();
        let ben = store.account("ben").unwrap().unwrap();
        assert!(ben.from_server() && ben.verify("s3cret-pass"));
        assert_eq!(
            (ben.role.as_str(), ben.scheme()),
            ("supervisor", "argon2id-v1")
        );
    }

    #[test]
    fn an_old_sha256_hash_still_verifies_and_is_rehashed_as_argon2id() {
        let (_dir, mut store) = open();
        let at = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        store
            .put_legacy_account("sue", "supervisor", "demo", at)
            .unwrap();
        let sue = store.account("sue").unwrap().unwrap();
        assert_eq!(stored_row(&store, "sue").0, "sha256-salted-v1");
        assert!(sue.needs_rehash());
        assert!(sue.verify("demo") && !sue.verify("demo "));
        assert!(store.rehash_account("sue", "demo").unwrap());
        let sue = store.account("sue").unwrap().unwrap();
        let (scheme, salt, phc) = stored_row(&store, "sue");
        assert_eq!((scheme.as_str(), salt.as_str()), ("argon2id-v1", ""));
        assert!(phc.starts_with("$argon2id$"), "{phc}");
        assert_eq!(sue.role, "supervisor", "the role is kept");
        assert!(sue.verify("demo") && !sue.verify("Demo"));
        assert!(!store.rehash_account("nobody", "demo").unwrap());
    }

    #[test]
    fn sign_in_failures_are_kept_per_name_until_cleared() {
        let (_dir, mut store) = open();
        let at = DateTime::from_timestamp(1_700_000_000, 123_456_000).unwrap();
        assert_eq!(store.sign_in_failures("ana").unwrap(), None);
        let failures = SignInFailures {
            failures: 3,
            last_failure_at: at,
        };
        store.set_sign_in_failures("ana", failures).unwrap();
        assert_eq!(store.sign_in_failures("ana").unwrap(), Some(failures));
        assert_eq!(store.sign_in_failures("Ana").unwrap(), None);
        store.clear_sign_in_failures("ana").unwrap();
        assert_eq!(store.sign_in_failures("ana").unwrap(), None);
    }
}
