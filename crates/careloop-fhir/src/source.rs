//! The inputs of an import: named files, directories walked in name order, and `.tar.gz`
//! archives read member by member.
//!
//! Each file as the user names it is one transaction (a *unit*): a plain file, or a whole
//! archive, all of it or nothing; with [`ImportConfig::all_or_nothing`] the whole import is
//! one unit. A unit commits only when every file in it was read and every person its
//! resources refer to is in the unit or already in the store.

use std::cell::Cell;
use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::rc::Rc;

use careloop_store::{ImportTx, Store};
use flate2::read::MultiGzDecoder;

use crate::bundle::{self, Sink};
use crate::error::{excerpt, Location};
use crate::{engagement, FileCounts, ImportConfig, ImportError, ImportProgress, ImportSummary};

/// A file no larger than this on disk (a one-person Bundle, gzipped or not) shares a
/// transaction with the small files next to it, each its own savepoint; a larger file or an
/// archive is a transaction of its own.
const SMALL_FILE: u64 = 4 * 1024 * 1024;
/// Small files kept in one transaction before it commits.
const FILES_PER_COMMIT: u32 = 500;
/// Input bytes of small files read in one transaction before it commits.
const BYTES_PER_COMMIT: u64 = 64 * 1024 * 1024;

/// What a file holds, told by its name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Json { gz: bool },
    Ndjson { gz: bool },
    Engagement { gz: bool },
    Archive,
}

fn classify(name: &str) -> Option<Kind> {
    let lower = name.to_ascii_lowercase();
    let (stem, gz) = match lower.strip_suffix(".gz") {
        Some(stem) => (stem, true),
        None => (lower.as_str(), false),
    };
    if lower.ends_with(".tar.gz") || lower.ends_with(".tgz") {
        Some(Kind::Archive)
    } else if stem.ends_with("engagement.ndjson") {
        Some(Kind::Engagement { gz })
    } else if stem.ends_with(".ndjson") {
        Some(Kind::Ndjson { gz })
    } else if stem.ends_with(".json") {
        Some(Kind::Json { gz })
    } else {
        None
    }
}

/// An NDJSON bulk-export file of Patients (`Patient.ndjson`, `Patient.000.ndjson.gz`, …):
/// imported before the other files, so that the resources of `Observation.ndjson` find their
/// people whatever the names sort as.
fn is_patient_file(name: &str) -> bool {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    matches!(classify(base), Some(Kind::Ndjson { .. }))
        && base.to_ascii_lowercase().starts_with("patient")
}

pub(crate) enum Input {
    File { path: PathBuf, kind: Kind },
    Unsupported { path: PathBuf },
}

impl Input {
    fn path(&self) -> &Path {
        match self {
            Input::File { path, .. } | Input::Unsupported { path } => path,
        }
    }
}

/// Lists the files to import: named files as given, directories recursively in name order
/// (files of other types in a directory are passed over), then Patient NDJSON files moved to
/// the front (the order is otherwise kept).
pub(crate) fn expand(paths: &[PathBuf]) -> Result<Vec<Input>, ImportError> {
    let mut inputs = Vec::new();
    let mut visited = HashSet::new();
    for path in paths {
        let metadata = std::fs::metadata(path).map_err(|source| ImportError::Io {
            file: path.display().to_string(),
            source,
        })?;
        if metadata.is_dir() {
            walk(path, &mut inputs, &mut Vec::new(), &mut visited)?;
        } else {
            match classify(&path.to_string_lossy()) {
                Some(kind) => inputs.push(Input::File {
                    path: path.clone(),
                    kind,
                }),
                None => inputs.push(Input::Unsupported { path: path.clone() }),
            }
        }
    }
    inputs.sort_by_key(|i| !is_patient_file(&i.path().to_string_lossy()));
    Ok(inputs)
}

/// Walks `dir`; `ancestors` are the canonical directories above it (one of them again is a
/// cycle, refused), `visited` every canonical directory walked so far (reached again through
/// another link, it is not listed twice).
fn walk(
    dir: &Path,
    inputs: &mut Vec<Input>,
    ancestors: &mut Vec<PathBuf>,
    visited: &mut HashSet<PathBuf>,
) -> Result<(), ImportError> {
    let io = |source| ImportError::Io {
        file: dir.display().to_string(),
        source,
    };
    let canonical = std::fs::canonicalize(dir).map_err(io)?;
    if ancestors.contains(&canonical) {
        return Err(ImportError::DirectoryCycle {
            dir: dir.display().to_string(),
        });
    }
    if !visited.insert(canonical.clone()) {
        return Ok(());
    }
    let mut entries = std::fs::read_dir(dir)
        .map_err(io)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(io)?;
    entries.sort_by_key(|e| e.file_name());
    ancestors.push(canonical);
    for entry in entries {
        let path = entry.path();
        if path.is_dir() {
            walk(&path, inputs, ancestors, visited)?;
        } else if let Some(kind) = classify(&path.to_string_lossy()) {
            inputs.push(Input::File { path, kind });
        }
    }
    ancestors.pop();
    Ok(())
}

/// Counts the bytes read from a file, for progress.
struct Counting<R> {
    inner: R,
    count: Rc<Cell<u64>>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.set(self.count.get() + n as u64);
        Ok(n)
    }
}

const BUFFER: usize = 256 * 1024;

/// Who refers to a person, for the message when that person is unknown.
struct Referrer {
    /// Order of first mention, so that the message names the first one.
    seq: u64,
    file: Rc<str>,
    location: Location,
    what: String,
}

/// What one transaction holds until it commits: counts, and the people its resources refer to.
#[derive(Default)]
pub(crate) struct Unit {
    pub(crate) counts: FileCounts,
    files: u64,
    referenced: HashMap<String, Referrer>,
}

impl Unit {
    /// Notes that `what` (e.g. `Observation.subject`) at `location` of `file` refers to the
    /// person `patient`, checked when the unit ends.
    pub(crate) fn refer(
        &mut self,
        patient: &str,
        file: &Rc<str>,
        location: &Location,
        what: impl FnOnce() -> String,
    ) {
        if self.referenced.contains_key(patient) {
            return;
        }
        let seq = self.referenced.len() as u64;
        self.referenced.insert(
            patient.to_owned(),
            Referrer {
                seq,
                file: file.clone(),
                location: location.clone(),
                what: what(),
            },
        );
    }

    /// Refuses the unit when a person referred to is neither in it nor already stored.
    fn check_references(&self, tx: &mut ImportTx<'_>) -> Result<(), ImportError> {
        let mut unknown: Vec<&Referrer> = Vec::new();
        for (patient, referrer) in &self.referenced {
            if !tx.patient_exists(patient)? {
                unknown.push(referrer);
            }
        }
        let Some(first) = unknown.iter().min_by_key(|r| r.seq) else {
            return Ok(());
        };
        let more = match unknown.len() {
            1 => String::new(),
            n => format!(" ({} other people referred to are unknown too)", n - 1),
        };
        Err(ImportError::InvalidResource {
            file: first.file.to_string(),
            location: first.location.clone(),
            reason: format!(
                "{} refers to a Patient that is neither in this import nor in the cache{more}",
                first.what
            ),
        })
    }
}

/// Whether a source shares a transaction with the small files next to it: a plain or
/// gzipped file (not an archive) of at most [`SMALL_FILE`] bytes.
fn is_small(source: &Source<'_>) -> bool {
    match source {
        Source::Path(Input::File { path, kind }) => {
            !matches!(kind, Kind::Archive)
                && std::fs::metadata(path).is_ok_and(|m| m.len() <= SMALL_FILE)
        }
        Source::Path(Input::Unsupported { .. }) => false,
        Source::Named(_, bytes) => bytes.len() as u64 <= SMALL_FILE,
    }
}

/// Where the inputs of one unit come from.
pub(crate) enum Source<'a> {
    Path(&'a Input),
    Named(&'a str, &'a [u8]),
}

pub(crate) struct Run<'a> {
    config: ImportConfig,
    progress: &'a mut dyn FnMut(&ImportProgress),
    summary: ImportSummary,
    state: ImportProgress,
    bytes_before: u64,
    bytes: Rc<Cell<u64>>,
}

impl<'a> Run<'a> {
    pub(crate) fn new(
        config: ImportConfig,
        progress: &'a mut dyn FnMut(&ImportProgress),
        bytes_total: u64,
    ) -> Self {
        Run {
            config,
            progress,
            summary: ImportSummary::default(),
            state: ImportProgress {
                file: String::new(),
                files_done: 0,
                bytes_done: 0,
                bytes_total,
                resources_done: 0,
            },
            bytes_before: 0,
            bytes: Rc::new(Cell::new(0)),
        }
    }

    pub(crate) fn bytes_total(inputs: &[Input]) -> u64 {
        inputs
            .iter()
            .map(|i| match i {
                Input::File { path, .. } => std::fs::metadata(path).map(|m| m.len()).unwrap_or(0),
                Input::Unsupported { .. } => 0,
            })
            .sum()
    }

    /// Imports the sources: each in its own transaction, or all in one when the config says
    /// all or nothing.
    pub(crate) fn run(
        mut self,
        store: &mut Store,
        sources: &[Source<'_>],
    ) -> Result<ImportSummary, ImportError> {
        if self.config.all_or_nothing {
            let mut tx = store.begin_import()?;
            let mut unit = Unit::default();
            let mut result = Ok(());
            for source in sources {
                result = self.read_source(&mut tx, &mut unit, source);
                if result.is_err() {
                    break;
                }
            }
            self.settle(tx, unit, result)?;
        } else {
            // A large file or an archive is a transaction of its own. Small files (one-person
            // Bundles) share one, each a savepoint kept or undone alone, committed every few
            // hundred files or tens of megabytes: a commit per small file wrote again every
            // index page it touched (about 4 MB for 300 resources). Synced once at the end.
            store.with_deferred_sync(|store| -> Result<(), ImportError> {
                let mut sources = sources.iter().peekable();
                while let Some(source) = sources.next() {
                    let mut tx = store.begin_import()?;
                    if !is_small(source) {
                        let mut unit = Unit::default();
                        let result = self.read_source(&mut tx, &mut unit, source);
                        if !self.settle(tx, unit, result)? {
                            break;
                        }
                        continue;
                    }
                    let (mut files, bytes_at_start) = (0, self.state.bytes_done);
                    let mut next = Some(source);
                    let mut go_on = true;
                    while let Some(source) = next {
                        tx.begin_file()?;
                        let mut unit = Unit::default();
                        let result = self.read_source(&mut tx, &mut unit, source);
                        if !self.settle_file(&mut tx, unit, result)? {
                            go_on = false;
                            break;
                        }
                        files += 1;
                        if files >= FILES_PER_COMMIT
                            || self.state.bytes_done - bytes_at_start >= BYTES_PER_COMMIT
                        {
                            break;
                        }
                        next = sources.next_if(|s| is_small(s));
                    }
                    tx.commit()?;
                    if !go_on {
                        break;
                    }
                }
                Ok(())
            })??;
        }
        self.state.bytes_done = self.state.bytes_total;
        (self.progress)(&self.state);
        Ok(self.summary)
    }

    /// Counts a unit kept in the store.
    fn count(&mut self, unit: Unit) {
        self.state.resources_done += unit.counts.resources_seen;
        self.summary.files_ok += unit.files;
        self.summary.add_counts(unit.counts);
    }

    /// Keeps a small file that was read whole and whose references resolve (its savepoint
    /// released into the transaction); otherwise undoes it and lists the failure. `Ok(false)`
    /// when the run must stop.
    fn settle_file(
        &mut self,
        tx: &mut ImportTx<'_>,
        unit: Unit,
        result: Result<(), ImportError>,
    ) -> Result<bool, ImportError> {
        let result = result.and_then(|()| unit.check_references(tx));
        match result {
            Ok(()) => {
                tx.keep_file()?;
                self.count(unit);
                Ok(true)
            }
            // The store itself failing (disk full, I/O) ends the run; the transaction rolls back.
            Err(e @ ImportError::Store(_)) => Err(e),
            Err(e) => {
                tx.undo_file()?;
                self.summary.files_failed.push(e);
                Ok(self.config.keep_going)
            }
        }
    }

    /// Commits a unit that was read whole and whose references resolve; otherwise rolls it
    /// back and lists the failure. `Ok(false)` when the run must stop.
    fn settle(
        &mut self,
        mut tx: ImportTx<'_>,
        unit: Unit,
        result: Result<(), ImportError>,
    ) -> Result<bool, ImportError> {
        let result = result.and_then(|()| unit.check_references(&mut tx));
        match result {
            Ok(()) => {
                tx.commit()?;
                self.count(unit);
                Ok(true)
            }
            // The store itself failing (disk full, I/O) ends the run; the transaction rolls back.
            Err(e @ ImportError::Store(_)) => Err(e),
            Err(e) => {
                drop(tx);
                self.summary.files_failed.push(e);
                Ok(self.config.keep_going && !self.config.all_or_nothing)
            }
        }
    }

    fn read_source(
        &mut self,
        tx: &mut ImportTx<'_>,
        unit: &mut Unit,
        source: &Source<'_>,
    ) -> Result<(), ImportError> {
        self.bytes_before = self.state.bytes_done;
        self.bytes.set(0);
        let result = match source {
            Source::Path(input) => self.read_input(tx, unit, input),
            Source::Named(name, bytes) => match classify(name) {
                Some(Kind::Archive) | None => Err(ImportError::Unsupported {
                    file: (*name).to_owned(),
                }),
                Some(kind) => {
                    let reader = Counting {
                        inner: *bytes,
                        count: self.bytes.clone(),
                    };
                    self.read_file(tx, unit, name, kind, Some(bytes.len() as u64), reader)
                }
            },
        };
        self.state.bytes_done = self.bytes_before + self.bytes.get();
        result
    }

    fn read_input(
        &mut self,
        tx: &mut ImportTx<'_>,
        unit: &mut Unit,
        input: &Input,
    ) -> Result<(), ImportError> {
        let (path, kind) = match input {
            Input::File { path, kind } => (path, *kind),
            Input::Unsupported { path } => {
                self.state.files_done += 1;
                return Err(ImportError::Unsupported {
                    file: path.display().to_string(),
                });
            }
        };
        let name = path.display().to_string();
        let file = File::open(path).map_err(|source| ImportError::Io {
            file: name.clone(),
            source,
        });
        let file = match file {
            Ok(f) => f,
            Err(e) => {
                self.state.files_done += 1;
                return Err(e);
            }
        };
        let size = file.metadata().ok().map(|m| m.len());
        let counted = Counting {
            inner: file,
            count: self.bytes.clone(),
        };
        match kind {
            Kind::Archive => self.read_archive(tx, unit, &name, counted),
            kind => self.read_file(tx, unit, &name, kind, size, counted),
        }
    }

    /// Reads every member of an archive into the one transaction of the archive.
    fn read_archive(
        &mut self,
        tx: &mut ImportTx<'_>,
        unit: &mut Unit,
        name: &str,
        reader: impl Read,
    ) -> Result<(), ImportError> {
        let mut archive = tar::Archive::new(MultiGzDecoder::new(BufReader::with_capacity(
            BUFFER, reader,
        )));
        let broken = |member: usize, source| ImportError::ReadFailed {
            file: name.to_owned(),
            location: Location::Member(member),
            source,
        };
        let entries = archive.entries().map_err(|e| broken(0, e))?;
        for (index, entry) in entries.enumerate() {
            let entry = entry.map_err(|e| broken(index, e))?;
            if !entry.header().entry_type().is_file() {
                continue;
            }
            let member = entry
                .path()
                .map(|p| p.to_string_lossy().into_owned())
                .unwrap_or_default();
            let Some(kind) = classify(&member) else {
                continue;
            };
            if kind == Kind::Archive {
                continue;
            }
            let label = format!("{name}!{}", excerpt(&member));
            let size = entry.header().size().ok();
            self.read_file(tx, unit, &label, kind, size, entry)?;
        }
        Ok(())
    }

    /// Reads one file's content into the unit's transaction.
    fn read_file(
        &mut self,
        tx: &mut ImportTx<'_>,
        unit: &mut Unit,
        name: &str,
        kind: Kind,
        size: Option<u64>,
        reader: impl Read,
    ) -> Result<(), ImportError> {
        self.state.file = name.to_owned();
        self.state.bytes_done = self.bytes_before + self.bytes.get();
        (self.progress)(&self.state);
        self.state.files_done += 1;
        let mut sink = Sink::new(tx, unit, name, &self.config);
        match kind {
            Kind::Json { gz: false } => {
                bundle::read_json(BufReader::with_capacity(BUFFER, reader), size, &mut sink)?
            }
            Kind::Json { gz: true } => bundle::read_json(
                BufReader::with_capacity(BUFFER, MultiGzDecoder::new(reader)),
                None,
                &mut sink,
            )?,
            Kind::Ndjson { gz } => bundle::read_ndjson(buffered(reader, gz), &mut sink)?,
            Kind::Engagement { gz } => engagement::read(buffered(reader, gz), &mut sink)?,
            Kind::Archive => {
                return Err(ImportError::Unsupported {
                    file: name.to_owned(),
                })
            }
        }
        unit.files += 1;
        Ok(())
    }
}

fn buffered<'r>(reader: impl Read + 'r, gz: bool) -> Box<dyn BufRead + 'r> {
    if gz {
        Box::new(BufReader::with_capacity(
            BUFFER,
            MultiGzDecoder::new(reader),
        ))
    } else {
        Box::new(BufReader::with_capacity(BUFFER, reader))
    }
}

/// Orders named in-memory inputs as files are ordered: Patient NDJSON first.
pub(crate) fn order_named(inputs: &[(String, Vec<u8>)]) -> Vec<Source<'_>> {
    let mut sources: Vec<(bool, Source<'_>)> = inputs
        .iter()
        .map(|(name, bytes)| {
            (
                !is_patient_file(name),
                Source::Named(name.as_str(), bytes.as_slice()),
            )
        })
        .collect();
    sources.sort_by_key(|(later, _)| *later);
    sources.into_iter().map(|(_, s)| s).collect()
}

/// Splits NDJSON into lines with a bound on each line's length, a line number for every
/// problem, a UTF-8 BOM at the start accepted, and non-UTF-8 text refused with its place.
pub(crate) struct Lines<R> {
    reader: R,
    buf: Vec<u8>,
    number: usize,
    limit: u64,
}

impl<R: BufRead> Lines<R> {
    pub(crate) fn new(reader: R, limit: u64) -> Self {
        Lines {
            reader,
            buf: Vec::new(),
            number: 0,
            limit,
        }
    }

    /// The next line (1-based number, text without the line end), or `None` at the end.
    pub(crate) fn next_line(&mut self, file: &str) -> Result<Option<(usize, &str)>, ImportError> {
        self.buf.clear();
        self.number += 1;
        let number = self.number;
        let mut ended = false;
        loop {
            let available = match self.reader.fill_buf() {
                Ok(b) => b,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(source) => {
                    return Err(ImportError::ReadFailed {
                        file: file.to_owned(),
                        location: Location::Line(number),
                        source,
                    })
                }
            };
            if available.is_empty() {
                break;
            }
            let (take, newline) = match available.iter().position(|&b| b == b'\n') {
                Some(i) => (i + 1, true),
                None => (available.len(), false),
            };
            if (self.buf.len() + take) as u64 > self.limit.saturating_add(5) {
                return Err(ImportError::TooLarge {
                    file: file.to_owned(),
                    location: Location::Line(number),
                    limit: self.limit,
                });
            }
            self.buf.extend_from_slice(&available[..take]);
            self.reader.consume(take);
            if newline {
                ended = true;
                break;
            }
        }
        if self.buf.is_empty() && !ended {
            return Ok(None);
        }
        let mut line = self.buf.as_slice();
        if let Some(rest) = line.strip_suffix(b"\n") {
            line = rest;
        }
        if let Some(rest) = line.strip_suffix(b"\r") {
            line = rest;
        }
        if number == 1 {
            if let Some(rest) = line.strip_prefix(b"\xEF\xBB\xBF") {
                line = rest;
            }
        }
        if line.len() as u64 > self.limit {
            return Err(ImportError::TooLarge {
                file: file.to_owned(),
                location: Location::Line(number),
                limit: self.limit,
            });
        }
        match std::str::from_utf8(line) {
            Ok(text) => Ok(Some((number, text))),
            Err(e) => Err(ImportError::InvalidResource {
                file: file.to_owned(),
                location: Location::Position {
                    line: number,
                    column: e.valid_up_to() + 1,
                },
                reason: "the text is not valid UTF-8 (FHIR files must be UTF-8)".to_owned(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &[u8], limit: u64) -> Result<Vec<(usize, String)>, ImportError> {
        let mut lines = Lines::new(text, limit);
        let mut out = Vec::new();
        while let Some((n, line)) = lines.next_line("f.ndjson")? {
            out.push((n, line.to_owned()));
        }
        Ok(out)
    }

    #[test]
    fn lines_are_numbered_bounded_and_checked() {
        assert_eq!(
            lines(b"\xEF\xBB\xBFa\r\n\nb", 10).unwrap(),
            vec![(1, "a".into()), (2, String::new()), (3, "b".into())]
        );
        let e = lines(b"ok\nfine\n0123456789A\n", 10).unwrap_err();
        assert_eq!(
            e.to_string(),
            "f.ndjson: the resource at line 3 is larger than the limit of 10 bytes"
        );
        let e = lines(b"ok\n\"caf\xE9\"\n", 100).unwrap_err();
        assert_eq!(
            e.to_string(),
            "f.ndjson: invalid resource at line 2, column 5: the text is not valid UTF-8 (FHIR files must be UTF-8)"
        );
    }

    #[test]
    fn patient_files_are_told_by_name() {
        assert!(is_patient_file("export/Patient.ndjson"));
        assert!(is_patient_file("Patient.000.ndjson.gz"));
        assert!(!is_patient_file("Observation.ndjson"));
        assert!(!is_patient_file("Patient.json"));
        assert!(!is_patient_file("engagement.ndjson"));
    }
}
