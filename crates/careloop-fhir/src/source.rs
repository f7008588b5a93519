//! The inputs of an import: named files, directories walked in name order, and `.tar.gz`
//! archives read member by member; each file is imported in its own transaction.

use std::cell::Cell;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::rc::Rc;

use careloop_store::Store;
use flate2::read::MultiGzDecoder;

use crate::bundle::{self, Sink};
use crate::{engagement, ImportError, ImportOptions, ImportProgress, ImportSummary};

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

pub(crate) enum Input {
    File { path: PathBuf, kind: Kind },
    Unsupported { path: PathBuf },
}

/// Lists the files to import: named files as given, directories recursively in name order
/// (files of other types in a directory are passed over).
pub(crate) fn expand(paths: &[PathBuf]) -> Result<Vec<Input>, ImportError> {
    let mut inputs = Vec::new();
    for path in paths {
        let metadata = std::fs::metadata(path).map_err(|source| ImportError::Io {
            file: path.display().to_string(),
            source,
        })?;
        if metadata.is_dir() {
            walk(path, &mut inputs)?;
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
    Ok(inputs)
}

fn walk(dir: &Path, inputs: &mut Vec<Input>) -> Result<(), ImportError> {
    let io = |source| ImportError::Io {
        file: dir.display().to_string(),
        source,
    };
    let mut entries = std::fs::read_dir(dir)
        .map_err(io)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(io)?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = entry.path();
        if path.is_dir() {
            walk(&path, inputs)?;
        } else if let Some(kind) = classify(&path.to_string_lossy()) {
            inputs.push(Input::File { path, kind });
        }
    }
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

pub(crate) struct Run<'a> {
    store: &'a mut Store,
    options: ImportOptions,
    progress: &'a mut dyn FnMut(&ImportProgress),
    summary: ImportSummary,
    state: ImportProgress,
    bytes_before: u64,
    bytes: Rc<Cell<u64>>,
}

impl<'a> Run<'a> {
    pub(crate) fn new(
        store: &'a mut Store,
        options: ImportOptions,
        progress: &'a mut dyn FnMut(&ImportProgress),
        inputs: &[Input],
    ) -> Self {
        let bytes_total = inputs
            .iter()
            .map(|i| match i {
                Input::File { path, .. } => std::fs::metadata(path).map(|m| m.len()).unwrap_or(0),
                Input::Unsupported { .. } => 0,
            })
            .sum();
        Run::with_total(store, options, progress, bytes_total)
    }

    pub(crate) fn with_total(
        store: &'a mut Store,
        options: ImportOptions,
        progress: &'a mut dyn FnMut(&ImportProgress),
        bytes_total: u64,
    ) -> Self {
        Run {
            store,
            options,
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

    pub(crate) fn finish(mut self) -> ImportSummary {
        self.state.bytes_done = self.state.bytes_total;
        (self.progress)(&self.state);
        self.summary
    }

    /// Imports one input; `Ok(false)` when the run must stop (a failure without keep-going).
    pub(crate) fn import_input(&mut self, input: &Input) -> Result<bool, ImportError> {
        let (path, kind) = match input {
            Input::File { path, kind } => (path, *kind),
            Input::Unsupported { path } => {
                return Ok(self.failed(ImportError::Unsupported {
                    file: path.display().to_string(),
                }));
            }
        };
        let name = path.display().to_string();
        let file = File::open(path).map_err(|source| ImportError::Io {
            file: name.clone(),
            source,
        });
        let file = match file {
            Ok(f) => f,
            Err(e) => return Ok(self.failed(e)),
        };
        self.bytes_before = self.state.bytes_done;
        self.bytes.set(0);
        let size = file.metadata().ok().map(|m| m.len());
        let counted = Counting {
            inner: file,
            count: self.bytes.clone(),
        };
        let go_on = match kind {
            Kind::Archive => self.import_archive(&name, counted)?,
            kind => self.import_stream(&name, kind, size, counted)?,
        };
        self.state.bytes_done = self.bytes_before + self.bytes.get();
        Ok(go_on)
    }

    /// Imports a named in-memory input; its name says what it holds, as for a file.
    pub(crate) fn import_named(&mut self, name: &str, bytes: &[u8]) -> Result<bool, ImportError> {
        match classify(name) {
            Some(Kind::Archive) | None => Ok(self.failed(ImportError::Unsupported {
                file: name.to_owned(),
            })),
            Some(kind) => {
                self.bytes_before = self.state.bytes_done;
                self.bytes.set(0);
                let go_on = self.import_stream(
                    name,
                    kind,
                    Some(bytes.len() as u64),
                    Counting {
                        inner: bytes,
                        count: self.bytes.clone(),
                    },
                )?;
                self.state.bytes_done = self.bytes_before + self.bytes.get();
                Ok(go_on)
            }
        }
    }

    fn import_archive(&mut self, name: &str, reader: impl Read) -> Result<bool, ImportError> {
        let mut archive = tar::Archive::new(MultiGzDecoder::new(BufReader::with_capacity(
            BUFFER, reader,
        )));
        let io = |source| ImportError::Io {
            file: name.to_owned(),
            source,
        };
        let entries = match archive.entries() {
            Ok(entries) => entries,
            Err(e) => return Ok(self.failed(io(e))),
        };
        for entry in entries {
            let entry = match entry {
                Ok(entry) => entry,
                Err(e) => return Ok(self.failed(io(e))),
            };
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
            let label = format!("{name}!{member}");
            let size = entry.header().size().ok();
            if !self.import_stream(&label, kind, size, entry)? {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Imports one file's content in one transaction.
    fn import_stream(
        &mut self,
        name: &str,
        kind: Kind,
        size: Option<u64>,
        reader: impl Read,
    ) -> Result<bool, ImportError> {
        self.state.file = name.to_owned();
        self.state.bytes_done = self.bytes_before + self.bytes.get();
        (self.progress)(&self.state);
        let mut tx = self.store.begin_import()?;
        let mut sink = Sink::new(&mut tx, name);
        let result = match kind {
            Kind::Json { gz: false } => {
                bundle::read_json(BufReader::with_capacity(BUFFER, reader), size, &mut sink)
            }
            Kind::Json { gz: true } => bundle::read_json(
                BufReader::with_capacity(BUFFER, MultiGzDecoder::new(reader)),
                None,
                &mut sink,
            ),
            Kind::Ndjson { gz } => bundle::read_ndjson(buffered(reader, gz), &mut sink),
            Kind::Engagement { gz } => engagement::read(buffered(reader, gz), &mut sink, name),
            Kind::Archive => unreachable!("archives are read by import_archive"),
        };
        let counts = std::mem::take(&mut sink.counts);
        match result {
            Ok(()) => {
                tx.commit()?;
                self.state.resources_done += counts.resources_seen;
                self.state.files_done += 1;
                self.summary.add_file(counts);
                Ok(true)
            }
            // The store itself failing (disk full, I/O) ends the run; the transaction rolls back.
            Err(e @ ImportError::Store(_)) => Err(e),
            Err(e) => {
                drop(tx);
                Ok(self.failed(e))
            }
        }
    }

    fn failed(&mut self, error: ImportError) -> bool {
        self.state.files_done += 1;
        self.summary.files_failed.push(error);
        self.options.keep_going
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
