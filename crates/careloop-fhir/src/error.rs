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
    /// The n-th member (0-based) of a `.tar.gz` archive.
    Member(usize),
    /// The file as a whole (a single resource, or the Bundle's own fields).
    File,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Position { line, column } => write!(f, "line {line}, column {column}"),
            Location::Entry(i) => write!(f, "entry {i}"),
            Location::Line(n) => write!(f, "line {n}"),
            Location::Member(n) => write!(f, "member {n}"),
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
    /// The content stopped being readable part way (a truncated archive or gzip stream).
    #[error("{file}: cannot be read at {location}: {source}")]
    ReadFailed {
        file: String,
        location: Location,
        source: std::io::Error,
    },
    #[error("{file}: the resource at {location} is larger than the limit of {}", show_bytes(*.limit))]
    TooLarge {
        file: String,
        location: Location,
        limit: u64,
    },
    #[error("{dir}: a symbolic link leads back into a directory that contains it (a cycle); import the directory it points to instead")]
    DirectoryCycle { dir: String },
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
            | ImportError::Io { file, .. }
            | ImportError::ReadFailed { file, .. }
            | ImportError::TooLarge { file, .. } => Some(file),
            ImportError::DirectoryCycle { dir } => Some(dir),
            ImportError::Store(_) => None,
        }
    }
}

/// At most this many characters of a value (an archive member's name, a Bundle's type) are
/// shown in a message, then "…".
pub const EXCERPT_CHARS: usize = 40;

/// The first [`EXCERPT_CHARS`] characters of `text`, then "…" when there was more.
pub(crate) fn excerpt(text: &str) -> String {
    match text.char_indices().nth(EXCERPT_CHARS) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text.to_owned(),
    }
}

/// A byte count for messages: "16 MiB", "512 KiB" or "1000 bytes".
fn show_bytes(n: u64) -> String {
    const MIB: u64 = 1024 * 1024;
    if n >= MIB && n.is_multiple_of(MIB) {
        format!("{} MiB", n / MIB)
    } else if n >= 1024 && n.is_multiple_of(1024) {
        format!("{} KiB", n / 1024)
    } else {
        format!("{n} bytes")
    }
}

/// A serde error about one resource's content, named by the field's path and without the
/// value: `Patient.birthDate: expected a string (found integer)`.
pub(crate) fn describe_field_error(
    resource_type: Option<&str>,
    e: &serde_path_to_error::Error<serde_json::Error>,
) -> String {
    // A path can hold a key from the data (an unknown field's name): shown short.
    let path = excerpt(&e.path().to_string());
    let what = match (resource_type, path.as_str()) {
        (Some(t), ".") => t.to_owned(),
        (Some(t), p) => format!("{t}.{p}"),
        (None, ".") => "the resource".to_owned(),
        (None, p) => p.to_owned(),
    };
    let message = e.inner().to_string();
    let message = match message.rfind(" at line ") {
        Some(i) => &message[..i],
        None => message.as_str(),
    };
    format!("{what}: {}", field_reason(message))
}

/// serde's "invalid type: integer `123`, expected a string" as "expected a string (found
/// integer)", with no value; any other message with its quoted parts redacted.
fn field_reason(message: &str) -> String {
    let found_expected = message
        .strip_prefix("invalid type: ")
        .or_else(|| message.strip_prefix("invalid value: "))
        .and_then(|rest| rest.split_once(", expected "));
    match found_expected {
        Some((found, expected)) => {
            let found = found
                .split(['"', '`'])
                .next()
                .unwrap_or_default()
                .trim_end();
            format!("expected {} (found {found})", redact_quoted(expected))
        }
        None => redact_quoted(message),
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
    fn excerpts_are_short_and_marked() {
        assert_eq!(excerpt("short"), "short");
        let long = "é".repeat(5_000);
        let cut = excerpt(&long);
        assert_eq!(cut.chars().count(), EXCERPT_CHARS + 1);
        assert!(cut.ends_with('…'));
    }

    #[test]
    fn field_errors_name_the_path_and_not_the_value() {
        #[derive(Debug, serde::Deserialize)]
        #[serde(rename_all = "camelCase")]
        #[allow(dead_code)]
        struct P {
            birth_date: Option<String>,
        }
        let mut de = serde_json::Deserializer::from_str(r#"{"birthDate": 19500102}"#);
        let e = serde_path_to_error::deserialize::<_, P>(&mut de).unwrap_err();
        assert_eq!(
            describe_field_error(Some("Patient"), &e),
            "Patient.birthDate: expected a string (found integer)"
        );
        let mut de = serde_json::Deserializer::from_str(r#"{"birthDate": ["Núñez"]}"#);
        let e = serde_path_to_error::deserialize::<_, P>(&mut de).unwrap_err();
        assert_eq!(
            describe_field_error(Some("Patient"), &e),
            "Patient.birthDate: expected a string (found sequence)"
        );
    }

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
