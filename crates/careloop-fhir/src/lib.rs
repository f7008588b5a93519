//! FHIR R4 import: Bundles (`.json`, `.json.gz`), NDJSON bulk-export files (`.ndjson`,
//! `.ndjson.gz`), `.tar.gz` archives of those, and directories of any of them, streamed into
//! the encrypted store.
//!
//! Invariants:
//! - Memory is bounded by the largest resource, not by the file or the archive: Bundle
//!   entries are handled one at a time as the JSON is read, and a resource (an entry, an
//!   NDJSON line) larger than [`MAX_RESOURCE_BYTES`] is refused before it is held whole.
//! - Each file as the user names it is one transaction, a `.tar.gz` archive included: a file
//!   that turns out to be malformed leaves the cache exactly as it was before that file.
//!   [`ImportConfig::all_or_nothing`] makes the whole import one transaction. The commits are
//!   synced once, when the import ends.
//! - Refused, with the file, the line or entry and the field: a resource id twice in one file
//!   (both places named), a date field the segmentation reads that is not a FHIR date or
//!   dateTime, a reference to a person neither in the same import nor already stored, text
//!   that is not UTF-8 (a BOM at the start is accepted), a directory symlink cycle.
//! - Importing the same data twice changes nothing; a newer `meta.versionId`/`lastUpdated`
//!   replaces the older.
//! - Errors name the file and the line or entry, never a value from the data (it may be PHI);
//!   names taken from the data (archive members) are cut to [`EXCERPT_CHARS`].

#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

mod bundle;
mod dates;
mod engagement;
mod error;
mod resource;
mod source;

use std::collections::BTreeMap;
use std::path::PathBuf;

use careloop_store::Store;

pub use error::{ImportError, Location, EXCERPT_CHARS};
pub use resource::{is_stored_type, read_patient, PatientRecord, STORED_TYPES};

/// The largest resource imported: one Bundle entry, one NDJSON line, or a single-resource
/// file. Larger ones are refused with their file and line or entry, without being read whole.
pub const MAX_RESOURCE_BYTES: u64 = 16 * 1024 * 1024;

/// The deepest nesting of arrays and objects a stored resource may have. FHIR resources nest
/// a dozen levels at most; serde_json, which every later reader of a stored body uses, stops
/// at 128, so a deeper body stored would fail every segmentation run it is part of.
pub const MAX_NESTING: usize = 100;

/// How to run an import.
#[derive(Clone, Copy, Debug, Default)]
pub struct ImportOptions {
    /// Go on with the other files after one fails (each failed file is still left out whole).
    pub keep_going: bool,
}

/// Every setting of an import ([`ImportOptions`] is the common subset).
#[derive(Clone, Copy, Debug)]
pub struct ImportConfig {
    /// Go on with the other files after one fails (each failed file is still left out whole).
    pub keep_going: bool,
    /// One transaction for everything: the first failed file leaves the store as it was
    /// before the import (`keep_going` is then moot).
    pub all_or_nothing: bool,
    /// The largest resource accepted, in bytes (default [`MAX_RESOURCE_BYTES`]).
    pub max_resource_bytes: u64,
    /// Refuse a file that holds the same resource (type and id) twice. Off only for inputs
    /// Careloop made itself, where a later line is a newer version (a server's panel feed).
    pub refuse_duplicates: bool,
}

impl Default for ImportConfig {
    fn default() -> Self {
        ImportConfig {
            keep_going: false,
            all_or_nothing: false,
            max_resource_bytes: MAX_RESOURCE_BYTES,
            refuse_duplicates: true,
        }
    }
}

impl From<ImportOptions> for ImportConfig {
    fn from(options: ImportOptions) -> Self {
        ImportConfig {
            keep_going: options.keep_going,
            ..ImportConfig::default()
        }
    }
}

/// What an import did, per resource type.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct ImportSummary {
    /// Files imported (each member of an archive counts as one).
    pub files_ok: u64,
    /// One error per failed file as the user named it (an archive fails as one file).
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

    fn add_counts(&mut self, file: FileCounts) {
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
/// Returns the summary; failed files are listed in it (an archive is one file: one failure).
/// `files_ok` counts the files read, archive members each. Without `keep_going` the run stops
/// at the first failed file (files before it stay imported). An error is returned only when
/// the inputs cannot be listed (a directory that cannot be read, a symlink cycle) or the store
/// itself fails.
pub fn import_paths(
    store: &mut Store,
    paths: &[PathBuf],
    options: ImportOptions,
    progress: &mut dyn FnMut(&ImportProgress),
) -> Result<ImportSummary, ImportError> {
    import_paths_with(store, paths, options.into(), progress)
}

/// [`import_paths`] with every setting.
pub fn import_paths_with(
    store: &mut Store,
    paths: &[PathBuf],
    config: ImportConfig,
    progress: &mut dyn FnMut(&ImportProgress),
) -> Result<ImportSummary, ImportError> {
    let inputs = source::expand(paths)?;
    let sources: Vec<source::Source<'_>> = inputs.iter().map(source::Source::Path).collect();
    source::Run::new(config, progress, source::Run::bytes_total(&inputs)).run(store, &sources)
}

/// Imports in-memory inputs that Careloop made itself (the demo panel, a server's panel
/// feed), each named like a file (`Patient.ndjson`, `bundle.json.gz`, `engagement.ndjson`,
/// …), through the same path as files: one transaction per input, Patient files first. The
/// same resource twice in one input is a newer version, not an error.
pub fn import_named_inputs(
    store: &mut Store,
    inputs: &[(String, Vec<u8>)],
    options: ImportOptions,
    progress: &mut dyn FnMut(&ImportProgress),
) -> Result<ImportSummary, ImportError> {
    let config = ImportConfig {
        refuse_duplicates: false,
        ..options.into()
    };
    let total = inputs.iter().map(|(_, bytes)| bytes.len() as u64).sum();
    source::Run::new(config, progress, total).run(store, &source::order_named(inputs))
}
