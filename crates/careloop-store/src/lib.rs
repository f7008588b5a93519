//! The encrypted local cache: one SQLCipher database per data directory.
//!
//! The store knows SQL, keys and files; it knows nothing about FHIR parsing, roles, HTTP or
//! windows. Everything it holds is encrypted at rest with a random 256-bit key that lives in
//! the OS keyring (or, on headless machines, in an explicit key file), never beside the data.
//!
//! Clinical facts are stored per FHIR resource; operational changes are events in an
//! append-only log (see [`events`]); access decisions are entries of the audit trail, a hash
//! chain that [`Store::verify_audit`] checks against heads recorded elsewhere (see [`audit`]).
//! An action and its audit entry are written in one transaction with
//! [`Store::append_events_with_audit`].

pub mod accounts;
pub mod audit;
pub mod body;
pub mod cohorts;
mod error;
pub mod events;
pub mod facts;
pub mod key;
pub mod lists;
mod migrate;
pub mod resources;
pub mod sync;

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags};

pub use accounts::{LocalAccount, SignInFailures};
pub use audit::{AuditEntry, AuditHead, AuditOutcome, AuditProblem, AuditReport, NewAuditEntry};
pub use cohorts::{CohortMember, CohortRun, PublishedDefinition};
pub use error::{Result, StoreError};
pub use events::{Event, NewEvent};
pub use facts::{PersonSources, StoredFacts};
pub use key::{CacheKey, KeySource};
pub use lists::{ListState, ListUpdate, Membership, MembershipChange, ReviewDismissal};
pub use migrate::LATEST_SCHEMA_VERSION;
pub use resources::{
    ImportTx, PatientSummary, PutOutcome, ResourceRecord, StoredPatient, StoredSignal,
};

/// The cache file's name inside the data directory.
pub const CACHE_FILE_NAME: &str = "cache.db";

/// `PRAGMA application_id` of a Careloop cache ("CRLP"): tells our file from other SQLite files.
const APPLICATION_ID: i64 = 0x4352_4c50;

/// Whether the database file is encrypted. Only benchmarks turn encryption off, to measure
/// its cost on the same code path; nothing a user runs can.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Encryption {
    On,
    Off,
}

/// An open local cache.
pub struct Store {
    conn: Connection,
    path: PathBuf,
    /// Whether bodies are written compressed: from schema 14 on. Only a cache held at an
    /// older schema (upgrade tests) writes them as that release did.
    compress_bodies: bool,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.path).finish()
    }
}

impl Store {
    /// Opens the cache in `data_dir` with `key`, creating the directory and an empty cache if
    /// there is none yet, and applies pending migrations.
    ///
    /// A wrong key, a file that is not a Careloop cache, or a cache written by a newer schema
    /// is refused before anything is written.
    pub fn open(data_dir: &Path, key: &CacheKey) -> Result<Store> {
        Store::open_with(data_dir, Some(key), Encryption::On, LATEST_SCHEMA_VERSION)
    }

    /// Opens (or creates) a cache with migrations applied up to `version` only: the cache an
    /// older release made, for upgrade tests.
    #[doc(hidden)]
    pub fn open_at_schema_for_tests(
        data_dir: &Path,
        key: &CacheKey,
        version: i64,
    ) -> Result<Store> {
        Store::open_with(data_dir, Some(key), Encryption::On, version)
    }

    /// Opens an unencrypted cache. For the import benchmark only, which measures the cost of
    /// encryption on the same code path.
    #[doc(hidden)]
    pub fn open_unencrypted_for_benchmark(data_dir: &Path) -> Result<Store> {
        Store::open_with(data_dir, None, Encryption::Off, LATEST_SCHEMA_VERSION)
    }

    /// Whether `data_dir` already holds a cache file.
    pub fn exists(data_dir: &Path) -> bool {
        data_dir.join(CACHE_FILE_NAME).is_file()
    }

    fn open_with(
        data_dir: &Path,
        key: Option<&CacheKey>,
        encryption: Encryption,
        schema: i64,
    ) -> Result<Store> {
        let path = data_dir.join(CACHE_FILE_NAME);
        let existed = path.exists();
        if !existed {
            std::fs::create_dir_all(data_dir).map_err(|source| StoreError::Io {
                path: data_dir.to_owned(),
                source,
            })?;
        }
        let flags = if existed {
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX
        } else {
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX
        };
        // Keying sets up SQLCipher's crypto provider (OpenSSL), whose first use from several
        // threads at once has failed spuriously here ("An error occurred with PRAGMA key"
        // while another test thread opened its own cache): one connection is keyed at a
        // time, up to its first read. It costs well under a millisecond per open.
        let keying = KEYING
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let conn = match (encryption, key) {
            (Encryption::On, Some(key)) => open_keyed(&path, flags, key)?,
            _ => {
                let conn = Connection::open_with_flags(&path, flags)?;
                conn.execute_batch("PRAGMA cipher_log_level = NONE;")?;
                conn
            }
        };
        // SQLCipher only notices a wrong key on the first read; read before anything else so
        // that a wrong key or a foreign file is refused without a single write.
        let application_id: i64 = match conn.query_row("PRAGMA application_id", [], |r| r.get(0)) {
            Ok(id) => id,
            Err(e) if is_not_a_database(&e) => return Err(StoreError::Locked { path }),
            Err(e) => return Err(e.into()),
        };
        if let (Encryption::On, Some(key)) = (encryption, key) {
            keep_crypto_provider_up(&path, key);
        }
        drop(keying);
        if existed {
            let tables: i64 =
                conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0))?;
            if application_id != APPLICATION_ID || tables == 0 {
                return Err(StoreError::Locked { path });
            }
            migrate::refuse_newer_schema(&conn, &path)?;
        }
        conn.execute_batch(
            "PRAGMA journal_mode = WAL;
             PRAGMA synchronous = FULL;
             PRAGMA foreign_keys = ON;
             PRAGMA temp_store = MEMORY;
             PRAGMA cache_size = -65536;",
        )?;
        if !existed {
            conn.execute_batch(&format!("PRAGMA application_id = {APPLICATION_ID};"))?;
        }
        let mut store = Store {
            conn,
            path,
            compress_bodies: false,
        };
        migrate::apply_pending(&mut store.conn, schema)?;
        store.compress_bodies = migrate::current_version(&store.conn)? >= body::SCHEMA;
        Ok(store)
    }

    /// The cache file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The schema version this cache is at.
    pub fn schema_version(&self) -> Result<i64> {
        migrate::current_version(&self.conn)
    }

    /// Number of stored resources of each type, sorted by type.
    pub fn resource_counts(&self) -> Result<Vec<(String, u64)>> {
        let mut stmt = self.conn.prepare(
            "SELECT resource_type, count(*) FROM resource GROUP BY resource_type ORDER BY 1",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as u64))
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Runs `f` (an import of many files, a transaction each) with commits not synced one by
    /// one, then syncs everything once, whatever `f` returned, before answering.
    ///
    /// Inside, `synchronous = NORMAL` (WAL): every commit is still atomic and the cache
    /// consistent, but a power cut may lose the last commits; after, `FULL` again and a full
    /// checkpoint, so nothing `f` committed is lost once this returns. A fsync per file was
    /// most of the time of importing 10,000 one-person Bundles.
    pub fn with_deferred_sync<T>(&mut self, f: impl FnOnce(&mut Store) -> T) -> Result<T> {
        self.conn.execute_batch("PRAGMA synchronous = NORMAL;")?;
        let out = f(self);
        let restored = self.conn.execute_batch("PRAGMA synchronous = FULL;");
        let synced = self
            .conn
            .query_row("PRAGMA wal_checkpoint(FULL)", [], |_| Ok(()));
        restored?;
        synced?;
        Ok(out)
    }

    /// The connection's `PRAGMA synchronous` (1 NORMAL, 2 FULL), for durability tests.
    #[doc(hidden)]
    pub fn pragma_synchronous(&self) -> Result<i64> {
        Ok(self
            .conn
            .query_row("PRAGMA synchronous", [], |r| r.get(0))?)
    }

    /// The underlying connection, for tests that tamper with the database behind the store's
    /// back (dropping triggers, editing rows) to show that verification notices.
    #[doc(hidden)]
    pub fn connection_for_tests(&self) -> &Connection {
        &self.conn
    }

    /// Number of stored patients.
    pub fn patient_count(&self) -> Result<u64> {
        Ok(self
            .conn
            .query_row("SELECT count(*) FROM patient", [], |r| r.get::<_, i64>(0))?
            as u64)
    }

    /// Number of stored engagement signals.
    pub fn engagement_signal_count(&self) -> Result<u64> {
        Ok(self
            .conn
            .query_row("SELECT count(*) FROM engagement_signal", [], |r| {
                r.get::<_, i64>(0)
            })? as u64)
    }
}

impl Store {
    /// A SHA-256 digest of everything stored (resources, patients, engagement signals,
    /// events) in a fixed order: equal digests mean equal content. Tests use it to show that
    /// a failed import left the cache exactly as it was.
    pub fn content_digest(&self) -> Result<String> {
        use sha2::{Digest, Sha256};
        let mut hasher = Sha256::new();
        for sql in [
            "SELECT resource_type, id, patient_id, version_id, last_updated, body FROM resource ORDER BY resource_type, id",
            "SELECT id, name, sort_name, birth_date, gender, deceased, preferred_language FROM patient ORDER BY id",
            "SELECT patient_id, kind, at, channel FROM engagement_signal ORDER BY 1, 2, 3",
            "SELECT seq, id, kind, subject, actor, occurred_at, payload, payload_version FROM event ORDER BY seq",
        ] {
            let mut stmt = self.conn.prepare(sql)?;
            let columns = stmt.column_count();
            let mut rows = stmt.query([])?;
            while let Some(row) = rows.next()? {
                for i in 0..columns {
                    let value: rusqlite::types::Value = row.get(i)?;
                    hasher.update(format!("{value:?}").as_bytes());
                    hasher.update([0u8]);
                }
                hasher.update([1u8]);
            }
            hasher.update([2u8]);
        }
        Ok(hex::encode(hasher.finalize()))
    }
}

/// One connection is keyed at a time in this process (see [`Store::open`]).
static KEYING: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Opens (creating) the SQLCipher database at `path`, keyed with `key`, and reads it once so
/// that a wrong key or a foreign file is found here. For the server's own database, which
/// shares the cache's keying (and its retry) but not its schema.
pub fn open_keyed_connection(path: &Path, key: &CacheKey) -> Result<Connection> {
    let _keying = KEYING
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = open_keyed(path, flags, key)?;
    match conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
        r.get::<_, i64>(0)
    }) {
        Ok(_) => Ok(conn),
        Err(e) if is_not_a_database(&e) => Err(StoreError::Locked {
            path: path.to_owned(),
        }),
        Err(e) => Err(e.into()),
    }
}

/// Opens a connection to `path` and keys it with `key`.
///
/// SQLCipher has still refused a valid raw key now and then ("An error occurred with PRAGMA
/// key or rekey": setting up the codec context failed, not the key) while other threads of
/// the same process worked on other caches, even with keying serialised. Keying reads and
/// writes nothing, so a refused keying is retried on a fresh connection a few times, a
/// little later each time; a wrong key is not detected here but at the first read.
fn open_keyed(path: &Path, flags: OpenFlags, key: &CacheKey) -> Result<Connection> {
    const ATTEMPTS: u32 = 5;
    let mut attempt = 1;
    loop {
        let conn = Connection::open_with_flags(path, flags)?;
        // SQLCipher would print its own line on stderr for a wrong key; we report it ourselves.
        conn.execute_batch("PRAGMA cipher_log_level = NONE;")?;
        // A raw key: no passphrase derivation (0.2 ms instead of ~175 ms per open).
        match conn.execute_batch(&format!("PRAGMA key = \"x'{}'\";", key.to_hex())) {
            Ok(()) => {}
            Err(e) if attempt < ATTEMPTS && is_keying_refused(&e) => {
                drop(conn);
                std::thread::sleep(std::time::Duration::from_millis(10 * u64::from(attempt)));
                attempt += 1;
                continue;
            }
            Err(e) => return Err(e.into()),
        }
        // Wiping every freed allocation costs a third of the import time; the data is in
        // this process's memory anyway while it works on it.
        conn.execute_batch("PRAGMA cipher_memory_security = OFF;")?;
        return Ok(conn);
    }
}

fn is_keying_refused(e: &rusqlite::Error) -> bool {
    matches!(
        e,
        rusqlite::Error::SqliteFailure(f, Some(message))
            if f.code == rusqlite::ErrorCode::Unknown && message.contains("PRAGMA key")
    )
}

fn is_not_a_database(e: &rusqlite::Error) -> bool {
    matches!(
        e,
        rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::NotADatabase
    )
}

/// SQLCipher sets up its crypto provider (OpenSSL) when the first keyed connection of the
/// process opens, and tears it down when the last one closes. A cache opened on one thread
/// while the last connection closed on another has failed spuriously ("An error occurred
/// with PRAGMA key") under the parallel tests, where caches open and close all the time; the
/// keying lock does not cover closing. One keyed connection kept for the life of the process
/// (to the first cache opened, keyed under the keying lock; it holds no transaction and so
/// does not stand in the way of checkpoints) means the provider is never torn down.
fn keep_crypto_provider_up(path: &Path, key: &CacheKey) {
    static KEPT: std::sync::Mutex<bool> = std::sync::Mutex::new(false);
    let mut kept = KEPT
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if *kept {
        return;
    }
    let Ok(conn) = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    ) else {
        return;
    };
    let keyed = conn
        .execute_batch("PRAGMA cipher_log_level = NONE;")
        .and_then(|()| conn.execute_batch(&format!("PRAGMA key = \"x'{}'\";", key.to_hex())))
        .and_then(|()| conn.query_row("PRAGMA application_id", [], |r| r.get::<_, i64>(0)));
    if keyed.is_ok() {
        std::mem::forget(conn);
        *kept = true;
    }
}
