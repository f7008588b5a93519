//! Forward-only migrations: the numbered SQL files of `schema/migrations/`, embedded at build
//! time, each applied in its own transaction and recorded with its checksum.

use std::path::Path;

use rusqlite::{Connection, OptionalExtension};
use sha2::{Digest, Sha256};

use crate::{Result, StoreError};

/// (version, name, SQL). Versions are dense and increasing; a file once shipped never changes.
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "0001_initial",
        include_str!("../../../schema/migrations/0001_initial.sql"),
    ),
    (
        2,
        "0002_cohort_history",
        include_str!("../../../schema/migrations/0002_cohort_history.sql"),
    ),
    (
        3,
        "0003_audit",
        include_str!("../../../schema/migrations/0003_audit.sql"),
    ),
    (
        4,
        "0004_local_accounts",
        include_str!("../../../schema/migrations/0004_local_accounts.sql"),
    ),
    (
        5,
        "0005_preferred_channel",
        include_str!("../../../schema/migrations/0005_preferred_channel.sql"),
    ),
    (
        6,
        "0006_sync",
        include_str!("../../../schema/migrations/0006_sync.sql"),
    ),
    (
        7,
        "0007_sign_in_hardening",
        include_str!("../../../schema/migrations/0007_sign_in_hardening.sql"),
    ),
    (
        8,
        "0008_fact_store",
        include_str!("../../../schema/migrations/0008_fact_store.sql"),
    ),
    (
        9,
        "0009_fact_summary",
        include_str!("../../../schema/migrations/0009_fact_summary.sql"),
    ),
    (
        10,
        "0010_live_lists",
        include_str!("../../../schema/migrations/0010_live_lists.sql"),
    ),
    (
        11,
        "0011_alerts",
        include_str!("../../../schema/migrations/0011_alerts.sql"),
    ),
    (
        12,
        "0012_list_generation",
        include_str!("../../../schema/migrations/0012_list_generation.sql"),
    ),
    (
        13,
        "0013_alerts_are_events",
        include_str!("../../../schema/migrations/0013_alerts_are_events.sql"),
    ),
    (
        14,
        "0014_compressed_bodies",
        include_str!("../../../schema/migrations/0014_compressed_bodies.sql"),
    ),
];

/// The newest schema this build knows.
pub const LATEST_SCHEMA_VERSION: i64 = MIGRATIONS[MIGRATIONS.len() - 1].0;

const CREATE_LEDGER: &str = "CREATE TABLE IF NOT EXISTS schema_migration (
    version    INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    sha256     TEXT NOT NULL,
    applied_at TEXT NOT NULL
)";

pub(crate) fn current_version(conn: &Connection) -> Result<i64> {
    let has_ledger: bool = conn
        .query_row(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migration'",
            [],
            |_| Ok(true),
        )
        .optional()?
        .unwrap_or(false);
    if !has_ledger {
        return Ok(0);
    }
    Ok(conn.query_row(
        "SELECT coalesce(max(version), 0) FROM schema_migration",
        [],
        |r| r.get(0),
    )?)
}

/// Refuses, without writing, a cache whose schema is newer than this build's.
pub(crate) fn refuse_newer_schema(conn: &Connection, path: &Path) -> Result<()> {
    let found = current_version(conn)?;
    if found > LATEST_SCHEMA_VERSION {
        return Err(StoreError::SchemaTooNew {
            path: path.to_owned(),
            found,
            known: LATEST_SCHEMA_VERSION,
        });
    }
    Ok(())
}

pub(crate) fn apply_pending(conn: &mut Connection, up_to: i64) -> Result<()> {
    conn.execute_batch(CREATE_LEDGER)?;
    let current = current_version(conn)?;
    for &(version, name, sql) in MIGRATIONS.iter().filter(|m| m.0 > current && m.0 <= up_to) {
        let checksum = hex::encode(Sha256::digest(sql.as_bytes()));
        let applied_at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let tx = conn.transaction()?;
        tx.execute_batch(sql)
            .map_err(|source| StoreError::Migration { name, source })?;
        tx.execute(
            "INSERT INTO schema_migration (version, name, sha256, applied_at) VALUES (?1, ?2, ?3, ?4)",
            rusqlite::params![version, name, checksum, applied_at],
        )?;
        tx.commit()?;
    }
    Ok(())
}
