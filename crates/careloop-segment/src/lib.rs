//! Segmentation: turns a panel into explainable cohorts as of a date, locally.
//!
//! Facts ([`facts`]) are read from stored FHIR bodies; signals ([`signals`]) are a pure
//! function of facts and the as-of date D; segment definitions ([`definition`]) are data whose
//! rules are written in the rule language of `careloop-rules` and refer to value sets
//! ([`codes`]) by name; the [`engine`] evaluates them into cohorts.
//!
//! Invariants: no clock anywhere (D is a parameter); anything dated after D is invisible;
//! every cohort holds only people alive at D; capacity, cooldown and the dormant-first
//! hold-back only split a cohort's members, never remove anyone from them.
//!
//! Evaluation never panics: [`check_definition`] refuses windows, numbers and dates beyond
//! the limits of `careloop_rules::limits` (and the definition's own limits, see
//! [`definition`]), date arithmetic is checked (a window reaching past the calendar's start
//! holds everything), and the lints below keep `unwrap`/`expect` out of the library.

#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod alerts;
pub mod codes;
pub mod dates;
pub mod definition;
pub mod engine;
pub mod eval;
pub mod facts;
pub mod scores;
pub mod signals;

use std::path::Path;

use sha2::{Digest, Sha256};

pub use careloop_rules::excerpt;
pub use definition::{Segment, SegmentDefinition};
pub use engine::{Catalog, Cohort, Explanation, Priority};
pub use facts::{PatientFacts, SharedFacts};

mod builtin {
    include!(concat!(env!("OUT_DIR"), "/builtin.rs"));
}

/// The segmentation's one error type.
#[derive(Debug, thiserror::Error)]
pub enum SegmentError {
    /// A definition or value-set file is wrong; the position is in that file.
    #[error("{file}:{line}:{column}: {message}")]
    Definition {
        file: String,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{0}")]
    Several(String),
    /// Stored facts that cannot be read (written by another build, or damaged).
    #[error("stored facts cannot be read: {0}")]
    Facts(String),
}

fn several(errors: Vec<SegmentError>) -> SegmentError {
    match <[SegmentError; 1]>::try_from(errors) {
        Ok([one]) => one,
        Err(errors) => SegmentError::Several(
            errors
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("\n"),
        ),
    }
}

/// The built-in catalogue: the segment definitions and value sets shipped in `schema/`.
pub fn builtin_catalog() -> Result<Catalog, SegmentError> {
    let value_sets = codes::parse_value_sets(
        builtin::BUILTIN_VALUE_SETS
            .iter()
            .map(|(n, t)| (format!("schema/valuesets/{n}"), *t)),
    )?;
    let files: Vec<(String, &str)> = builtin::BUILTIN_SEGMENTS
        .iter()
        .map(|(n, t)| (format!("schema/segments/{n}"), *t))
        .collect();
    catalog(
        value_sets,
        files.iter().map(|(n, t)| (n.clone(), *t)),
        builtin::BUILTIN_VALUE_SETS.iter().map(|(_, t)| *t),
    )
}

/// The built-in catalogue with `published` definitions (file label, text) in place of the
/// built-in ones of the same id, and added where the id is new.
pub fn builtin_catalog_with(published: &[(String, String)]) -> Result<Catalog, SegmentError> {
    let value_sets = codes::parse_value_sets(
        builtin::BUILTIN_VALUE_SETS
            .iter()
            .map(|(n, t)| (format!("schema/valuesets/{n}"), *t)),
    )?;
    let id_of = |text: &str| {
        serde_json::from_str::<serde_json::Value>(text)
            .ok()
            .and_then(|v| v["id"].as_str().map(str::to_owned))
    };
    let replaced: Vec<String> = published.iter().filter_map(|(_, t)| id_of(t)).collect();
    let mut files: Vec<(String, &str)> = builtin::BUILTIN_SEGMENTS
        .iter()
        .filter(|(_, t)| id_of(t).is_none_or(|id| !replaced.contains(&id)))
        .map(|(n, t)| (format!("schema/segments/{n}"), *t))
        .collect();
    files.extend(published.iter().map(|(n, t)| (n.clone(), t.as_str())));
    catalog(
        value_sets,
        files.into_iter(),
        builtin::BUILTIN_VALUE_SETS.iter().map(|(_, t)| *t),
    )
}

/// Parses and checks one definition against the built-in value sets (for publishing and
/// previewing a draft, for the server's `POST /segments`, and for choosing which stored
/// version is in force). Whatever it accepts the engine evaluates without panicking: windows,
/// numbers and dates are bounded (`careloop_rules::limits`), and so are the definition's
/// points, cooldown, contact deadline and review date ([`definition`]). Errors name the
/// file, line and column, the segment and the field, and the bound.
pub fn check_definition(file: &str, text: &str) -> Result<Segment, SegmentError> {
    let value_sets = codes::parse_value_sets(
        builtin::BUILTIN_VALUE_SETS
            .iter()
            .map(|(n, t)| (format!("schema/valuesets/{n}"), *t)),
    )?;
    definition::parse_definition(file, text, &definition::schema(&value_sets)).map_err(several)
}

/// A catalogue from a directory of segment definition files, with the built-in value sets
/// plus any in `DIR/valuesets/`.
pub fn load_catalog(dir: &Path) -> Result<Catalog, SegmentError> {
    let mut value_set_texts: Vec<(String, String)> = builtin::BUILTIN_VALUE_SETS
        .iter()
        .map(|(n, t)| (format!("schema/valuesets/{n}"), t.to_string()))
        .collect();
    let extra = dir.join("valuesets");
    if extra.is_dir() {
        for path in definition::json_files(&extra)? {
            value_set_texts.push((path.display().to_string(), definition::read(&path)?));
        }
    }
    let value_sets =
        codes::parse_value_sets(value_set_texts.iter().map(|(n, t)| (n.clone(), t.as_str())))?;
    let mut files = Vec::new();
    for path in definition::json_files(dir)? {
        files.push((path.display().to_string(), definition::read(&path)?));
    }
    catalog(
        value_sets,
        files.iter().map(|(n, t)| (n.clone(), t.as_str())),
        value_set_texts.iter().map(|(_, t)| t.as_str()),
    )
}

fn catalog<'a>(
    value_sets: codes::ValueSets,
    files: impl Iterator<Item = (String, &'a str)>,
    value_set_texts: impl Iterator<Item = &'a str>,
) -> Result<Catalog, SegmentError> {
    let schema = definition::schema(&value_sets);
    let mut digest = Sha256::new();
    let mut segments = Vec::new();
    let mut errors = Vec::new();
    for (file, text) in files {
        digest.update(text.as_bytes());
        match definition::parse_definition(&file, text, &schema) {
            Ok(segment) => segments.push((file, segment)),
            Err(e) => errors.extend(e),
        }
    }
    for text in value_set_texts {
        digest.update(text.as_bytes());
    }
    segments.sort_by(|a, b| a.1.definition.id.cmp(&b.1.definition.id));
    for pair in segments.windows(2) {
        if pair[0].1.definition.id == pair[1].1.definition.id {
            errors.push(SegmentError::Definition {
                file: pair[1].0.clone(),
                line: 1,
                column: 1,
                message: format!(
                    "segment id {:?} is also defined in {}",
                    pair[1].1.definition.id, pair[0].0
                ),
            });
        }
    }
    if !errors.is_empty() {
        return Err(several(errors));
    }
    Ok(Catalog {
        value_sets,
        segments: segments.into_iter().map(|(_, s)| s).collect(),
        version: format!("sha256:{}", &hex::encode(digest.finalize())[..16]),
    })
}
