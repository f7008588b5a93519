//! Engagement signals: NDJSON files named `*engagement.ndjson` (or `.ndjson.gz`), one signal a
//! line, in the format of `schema/engagement-signal.schema.json`.

use std::io::BufRead;

use serde::Deserialize;

use crate::bundle::Sink;
use crate::error::{describe_json_error, ImportError, Location};
use crate::resource::id_from_reference;

/// The kinds of signal Careloop reads.
pub const SIGNAL_KINDS: &[&str] = &[
    "checkin_done",
    "checkin_missed",
    "portal_login",
    "portal_message",
];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Signal {
    patient: String,
    kind: String,
    at: String,
    channel: Option<String>,
}

pub(crate) fn read(
    reader: impl BufRead,
    sink: &mut Sink<'_, '_>,
    file: &str,
) -> Result<(), ImportError> {
    for (index, line) in reader.lines().enumerate() {
        let line = line.map_err(|source| ImportError::Io {
            file: file.to_owned(),
            source,
        })?;
        if line.trim().is_empty() {
            continue;
        }
        let invalid = |reason: String| ImportError::InvalidResource {
            file: file.to_owned(),
            location: Location::Line(index + 1),
            reason,
        };
        let signal: Signal = serde_json::from_str(&line).map_err(|e| {
            let (_, reason, malformed) = describe_json_error(&e);
            if malformed {
                ImportError::MalformedJson {
                    file: file.to_owned(),
                    location: Location::Position {
                        line: index + 1,
                        column: e.column(),
                    },
                    reason,
                }
            } else {
                invalid(reason)
            }
        })?;
        if !SIGNAL_KINDS.contains(&signal.kind.as_str()) {
            return Err(invalid(format!(
                "unknown signal kind (expected one of {})",
                SIGNAL_KINDS.join(", ")
            )));
        }
        let valid_time = chrono::NaiveDate::parse_from_str(&signal.at, "%Y-%m-%d").is_ok()
            || chrono::DateTime::parse_from_rfc3339(&signal.at).is_ok();
        if !valid_time {
            return Err(invalid(
                "`at` must be a date (YYYY-MM-DD) or an RFC 3339 date-time".into(),
            ));
        }
        let patient =
            id_from_reference(&signal.patient, Some("Patient")).unwrap_or(&signal.patient);
        if sink.put_signal(patient, &signal.kind, &signal.at, signal.channel.as_deref())? {
            sink.counts.engagement_signals += 1;
        }
    }
    Ok(())
}
