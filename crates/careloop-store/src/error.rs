//! The store's one error type.

use std::path::PathBuf;

/// Everything that can go wrong in the store. Messages name the file or the item, never a
/// person's data.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot unlock the local cache at {}: wrong key or not a Careloop cache", path.display())]
    Locked { path: PathBuf },
    #[error(
        "the local cache at {} was written by a newer version of Careloop (schema {found}; this version knows up to {known}); update Careloop to open it",
        path.display()
    )]
    SchemaTooNew {
        path: PathBuf,
        found: i64,
        known: i64,
    },
    #[error("key file {}: {reason}", path.display())]
    KeyFile { path: PathBuf, reason: String },
    #[error("no key for the local cache at {} in the OS keyring; if it was made with a key file, pass --key-file", path.display())]
    KeyMissing { path: PathBuf },
    #[error("the OS keyring is not available: {0}")]
    Keyring(String),
    #[error("event {id} is already in the log with different content")]
    EventConflict { id: String },
    #[error("segment {id} version {version} is not newer than the published version {latest}")]
    VersionNotNewer {
        id: String,
        version: u32,
        latest: u32,
    },
    #[error("invalid event: {0}")]
    InvalidEvent(String),
    #[error("migration {name} failed: {source}")]
    Migration {
        name: &'static str,
        source: rusqlite::Error,
    },
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("local cache: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("local cache: {0}")]
    Body(#[from] crate::body::BodyError),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;
