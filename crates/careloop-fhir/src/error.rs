//! The importer's one error type. Messages carry the file and position, never data values.

use std::fmt;

/// Where in a file a problem is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Location {
    /// A position in the text.
    Position { line: usize, column: usize },
    /// The n-th entry (0-based) of a Bundle.
    Entry(usize),
    /// A line of an NDJSON file (1-based).
    Line(usize),
    /// The file as a whole (a single resource, or the Bundle's own fields).
    File,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Position { line, column } => write!(f, "line {line}, column {column}"),
            Location::Entry(i) => write!(f, "entry {i}"),
            Location::Line(n) => write!(f, "line {n}"),
            Location::File => f.write_str("top level"),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{file}: malformed JSON at {location}: {reason}")]
    MalformedJson {
        file: String,
        location: Location,
        reason: String,
    },
    #[error("{file}: invalid resource at {location}: {reason}")]
    InvalidResource {
        file: String,
        location: Location,
        reason: String,
    },
    #[error("{file}: unsupported file type (expected .json, .json.gz, .ndjson, .ndjson.gz, .tar.gz or a directory)")]
    Unsupported { file: String },
    #[error("{file}: {source}")]
    Io {
        file: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    Store(#[from] careloop_store::StoreError),
}

impl PartialEq for ImportError {
    fn eq(&self, other: &Self) -> bool {
        self.to_string() == other.to_string()
    }
}

impl Eq for ImportError {}

impl ImportError {
    /// The file the error is about.
    pub fn file(&self) -> Option<&str> {
        match self {
            ImportError::MalformedJson { file, .. }
            | ImportError::InvalidResource { file, .. }
            | ImportError::Unsupported { file }
            | ImportError::Io { file, .. } => Some(file),
            ImportError::Store(_) => None,
        }
    }
}

/// Turns a serde_json error into a location and a reason with no data values in it: serde
/// quotes the offending value in type errors, and that value may be a person's name.
pub(crate) fn describe_json_error(e: &serde_json::Error) -> (Location, String, bool) {
    let full = e.to_string();
    let reason = match full.rfind(" at line ") {
        Some(i) => &full[..i],
        None => full.as_str(),
    };
    let location = if e.line() > 0 {
        Location::Position {
            line: e.line(),
            column: e.column(),
        }
    } else {
        Location::File
    };
    let malformed = matches!(
        e.classify(),
        serde_json::error::Category::Syntax | serde_json::error::Category::Eof
    );
    // Syntax errors quote only JSON punctuation; type errors quote the offending value.
    let reason = if malformed {
        reason.to_owned()
    } else {
        redact_quoted(reason)
    };
    (location, reason, malformed)
}

/// Replaces every quoted or back-ticked run in a message by an ellipsis.
pub(crate) fn redact_quoted(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut open: Option<char> = None;
    for c in message.chars() {
        match open {
            Some(q) if c == q => {
                out.push('…');
                out.push(c);
                open = None;
            }
            Some(_) => {}
            None if c == '"' || c == '`' => {
                out.push(c);
                open = Some(c);
            }
            None => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_values_are_redacted() {
        assert_eq!(
            redact_quoted("invalid type: string \"Adán Pérez\", expected a sequence"),
            "invalid type: string \"…\", expected a sequence"
        );
        assert_eq!(
            redact_quoted("unknown variant `x`, expected one of"),
            "unknown variant `…`, expected one of"
        );
    }
}
