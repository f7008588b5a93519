//! Engagement signals: NDJSON files named `*engagement.ndjson` (or `.ndjson.gz`), one signal a
//! line, in the format of `schema/engagement-signal.schema.json`.

use std::io::BufRead;

use serde::Deserialize;

use crate::bundle::Sink;
use crate::error::{describe_field_error, describe_json_error, ImportError, Location};
use crate::resource::{id_from_reference, validate_identity};
use crate::source::Lines;

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

pub(crate) fn read(reader: impl BufRead, sink: &mut Sink<'_, '_>) -> Result<(), ImportError> {
    let file = sink.file.clone();
    let mut lines = Lines::new(reader, sink.limit);
    while let Some((number, line)) = lines.next_line(&file)? {
        if line.trim().is_empty() {
            continue;
        }
        let location = Location::Line(number);
        let invalid = |reason: String| ImportError::InvalidResource {
            file: file.to_string(),
            location: location.clone(),
            reason,
        };
        let mut de = serde_json::Deserializer::from_str(line);
        let signal: Signal = serde_path_to_error::deserialize(&mut de).map_err(|e| {
            let (_, reason, malformed) = describe_json_error(e.inner());
            if malformed {
                ImportError::MalformedJson {
                    file: file.to_string(),
                    location: Location::Position {
                        line: number,
                        column: e.inner().column(),
                    },
                    reason,
                }
            } else {
                invalid(describe_field_error(Some("signal"), &e))
            }
        })?;
        if !SIGNAL_KINDS.contains(&signal.kind.as_str()) {
            return Err(invalid(format!(
                "signal.kind: unknown signal kind (expected one of {})",
                SIGNAL_KINDS.join(", ")
            )));
        }
        let valid_time = chrono::NaiveDate::parse_from_str(&signal.at, "%Y-%m-%d").is_ok()
            || chrono::DateTime::parse_from_rfc3339(&signal.at).is_ok();
        if !valid_time {
            return Err(invalid(
                "signal.at: must be a date (YYYY-MM-DD) or an RFC 3339 date-time".into(),
            ));
        }
        let patient =
            id_from_reference(&signal.patient, Some("Patient")).unwrap_or(&signal.patient);
        if validate_identity(Some("Patient"), Some(patient)).is_err() {
            return Err(invalid(
                "signal.patient: not a Patient id or a Patient/id reference".into(),
            ));
        }
        sink.unit
            .refer(patient, &file, &location, || "signal.patient".to_owned());
        if sink.put_signal(patient, &signal.kind, &signal.at, signal.channel.as_deref())? {
            sink.unit.counts.engagement_signals += 1;
        }
    }
    Ok(())
}
