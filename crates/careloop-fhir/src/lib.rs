//! FHIR R4 import: Bundles (`.json`, `.json.gz`), NDJSON bulk-export files (`.ndjson`,
//! `.ndjson.gz`), `.tar.gz` archives of those, and directories of any of them, streamed into
//! the encrypted store.
//!
//! Invariants:
//! - Memory is bounded by the largest resource, not by the file or the archive: Bundle
//!   entries are handled one at a time as the JSON is read.
//! - Each file is one transaction: a file that turns out to be malformed leaves the cache
//!   exactly as it was before that file.
//! - Importing the same data twice changes nothing; a newer `meta.versionId`/`lastUpdated`
//!   replaces the older.
//! - Errors name the file and the line or entry, never a value from the data (it may be PHI).

mod bundle;
mod engagement;
mod error;
mod resource;
mod source;

use std::collections::BTreeMap;
use std::path::PathBuf;

use careloop_store::Store;

pub use error::{ImportError, Location};
pub use resource::{is_stored_type, STORED_TYPES};

/// How to run an import.
#[derive(Clone, Copy, Debug, Default)]
pub struct ImportOptions {
    /// Go on with the other files after one fails (each failed file is still left out whole).
    pub keep_going: bool,
}

/// What an import did, per resource type.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct ImportSummary {
    pub files_ok: u64,
    pub files_failed: Vec<ImportError>,
    /// Resources written (new or replacing an older version), by type.
    pub stored: BTreeMap<String, u64>,
    /// Resources already stored with the same content, by type.
    pub unchanged: BTreeMap<String, u64>,
    /// Resources older than the stored version, by type.
    pub older: BTreeMap<String, u64>,
    /// Resources of types Careloop does not use, counted and not stored, by type.
    pub skipped: BTreeMap<String, u64>,
    /// Bundle entries with `request.method` DELETE, ignored.
    pub deletes_ignored: u64,
    /// Engagement signals written (new).
    pub engagement_signals: u64,
}

impl ImportSummary {
    pub fn stored_total(&self) -> u64 {
        self.stored.values().sum()
    }

    fn add_file(&mut self, file: FileCounts) {
        self.files_ok += 1;
        for (map, counts) in [
            (&mut self.stored, file.stored),
            (&mut self.unchanged, file.unchanged),
            (&mut self.older, file.older),
            (&mut self.skipped, file.skipped),
        ] {
            for (k, v) in counts {
                *map.entry(k).or_default() += v;
            }
        }
        self.deletes_ignored += file.deletes_ignored;
        self.engagement_signals += file.engagement_signals;
    }
}

/// Counts for one file, merged into the summary only when the file commits.
#[derive(Default)]
pub(crate) struct FileCounts {
    stored: BTreeMap<String, u64>,
    unchanged: BTreeMap<String, u64>,
    older: BTreeMap<String, u64>,
    skipped: BTreeMap<String, u64>,
    deletes_ignored: u64,
    engagement_signals: u64,
    resources_seen: u64,
}

/// Where an import is, for progress bars.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportProgress {
    /// The file being read (inside an archive: `archive.tar.gz!member.json`).
    pub file: String,
    pub files_done: u64,
    /// Bytes read of the named inputs so far (compressed bytes for compressed inputs).
    pub bytes_done: u64,
    /// Total bytes of the named inputs.
    pub bytes_total: u64,
    pub resources_done: u64,
}

/// Imports files, directories and archives into the store.
///
/// Returns the summary; failed files are listed in it. Without `keep_going` the run stops at
/// the first failed file (files before it stay imported). An error is returned only when the
/// inputs cannot be listed or the store itself fails.
pub fn import_paths(
    store: &mut Store,
    paths: &[PathBuf],
    options: ImportOptions,
    progress: &mut dyn FnMut(&ImportProgress),
) -> Result<ImportSummary, ImportError> {
    let inputs = source::expand(paths)?;
    let mut run = source::Run::new(store, options, progress, &inputs);
    for input in &inputs {
        if !run.import_input(input)? {
            break;
        }
    }
    Ok(run.finish())
}

/// Imports in-memory inputs, each named like a file (`Patient.ndjson`, `bundle.json.gz`,
/// `engagement.ndjson`, …), through the same path as files: one transaction per input.
pub fn import_named_inputs(
    store: &mut Store,
    inputs: &[(String, Vec<u8>)],
    options: ImportOptions,
    progress: &mut dyn FnMut(&ImportProgress),
) -> Result<ImportSummary, ImportError> {
    let total = inputs.iter().map(|(_, bytes)| bytes.len() as u64).sum();
    let mut run = source::Run::with_total(store, options, progress, total);
    for (name, bytes) in inputs {
        if !run.import_named(name, bytes)? {
            break;
        }
    }
    Ok(run.finish())
}
