//! Segment definitions: the files of `schema/segments/` (format: `schema/segment.schema.json`),
//! read, parsed and checked, with errors located by file, line and column.

use std::path::{Path, PathBuf};

use careloop_rules::{Expr, Schema};
use serde::{Deserialize, Serialize};

use crate::codes::ValueSets;
use crate::SegmentError;

/// A segment definition as written.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SegmentDefinition {
    pub id: String,
    pub name: String,
    pub version: u32,
    pub owner: String,
    /// What the outreach prevents.
    pub purpose: String,
    pub outreach_purpose: OutreachPurpose,
    pub signals: Vec<SignalUse>,
    pub rule: String,
    #[serde(default)]
    pub priority: Vec<PriorityPoints>,
    pub weekly_capacity: u32,
    pub cooldown_days: u32,
    /// A case opened from the worklist is due within this many working days (the close of
    /// that day); 0 means the same working day.
    #[serde(default = "default_contact_within")]
    pub contact_within_working_days: u32,
    pub script: String,
    pub channel_policy: ChannelPolicy,
    pub review_by: chrono::NaiveDate,
    /// Members whose engagement tier is dormant are held back: re-engagement comes first.
    #[serde(default)]
    pub hold_back_dormant: bool,
    /// What happens when a person enters: `automatic` opens a case at once, `review` puts
    /// them on the owner's "to review" list. Unset: see [`SegmentDefinition::opening`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opening: Option<Opening>,
}

fn default_contact_within() -> u32 {
    5
}

/// A segment's opening policy (see [`SegmentDefinition::opening`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Opening {
    Automatic,
    Review,
}

impl SegmentDefinition {
    /// The opening policy in force: the definition's, else `review` for sensitive segments
    /// (behavioural health and other sensitive outreach) and escalation reviews (social
    /// risk), `automatic` for the rest.
    pub fn opening(&self) -> Opening {
        self.opening.unwrap_or(
            if self.channel_policy.sensitive
                || self.outreach_purpose == OutreachPurpose::EscalationReview
            {
                Opening::Review
            } else {
                Opening::Automatic
            },
        )
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutreachPurpose {
    Reassurance,
    Reassessment,
    Navigation,
    WelfareCheck,
    EscalationReview,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignalUse {
    pub name: String,
    pub rationale: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PriorityPoints {
    /// A condition in the rule language.
    pub when: String,
    pub points: i32,
    pub reason: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChannelPolicy {
    /// Channels in order of preference.
    pub channels: Vec<String>,
    /// Whether messages of this segment reveal health information (portal only).
    pub sensitive: bool,
}

/// A definition with its rules parsed and checked.
#[derive(Clone, Debug)]
pub struct Segment {
    pub definition: SegmentDefinition,
    pub rule: Expr,
    pub priority: Vec<(Expr, PriorityPoints)>,
}

/// The `*.json` files of a directory, in name order.
pub(crate) fn json_files(dir: &Path) -> Result<Vec<PathBuf>, SegmentError> {
    let io = |source| SegmentError::Io {
        path: dir.display().to_string(),
        source,
    };
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(io)?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()
        .map_err(io)?;
    files.retain(|p| p.extension().is_some_and(|e| e == "json") && p.is_file());
    files.sort();
    Ok(files)
}

pub(crate) fn read(path: &Path) -> Result<String, SegmentError> {
    std::fs::read_to_string(path).map_err(|source| SegmentError::Io {
        path: path.display().to_string(),
        source,
    })
}

/// The most priority conditions a definition may have.
pub const MAX_PRIORITY_CONDITIONS: usize = 100;
/// The largest magnitude of a priority condition's points (with at most
/// [`MAX_PRIORITY_CONDITIONS`] of them, a total always fits).
pub const MAX_POINTS: i32 = 10_000;
/// The longest `contact_within_working_days`: about a year of working days.
pub const MAX_CONTACT_WITHIN_WORKING_DAYS: u32 = 260;
/// The longest `cooldown_days`, the same as the longest window of a rule.
pub const MAX_COOLDOWN_DAYS: u32 = careloop_rules::limits::MAX_WINDOW_DAYS;

/// Parses and checks one definition file's text: its rules against `schema` and the limits
/// of the rule language (see `careloop_rules::limits`), and its numbers and dates against the
/// limits above, so that whatever passes can be evaluated. Every error names the file, the
/// line and column, the segment and the field (`in rule`, `in priority[2].when`, …).
pub fn parse_definition(
    file: &str,
    text: &str,
    schema: &Schema,
) -> Result<Segment, Vec<SegmentError>> {
    let definition: SegmentDefinition = serde_json::from_str(text).map_err(|e| {
        vec![SegmentError::Definition {
            file: file.to_owned(),
            line: e.line(),
            column: e.column(),
            message: e.to_string(),
        }]
    })?;
    let segment = format!("segment \"{}\"", careloop_rules::excerpt(&definition.id));
    let mut errors = Vec::new();
    let mut check = |field: &str, key: &str, nth: usize, rule: &str| -> Option<Expr> {
        match careloop_rules::parse_and_check(rule, schema) {
            Ok(expr) => Some(expr),
            Err(rule_errors) => {
                let start = string_value_offset(text, key, nth);
                for e in rule_errors {
                    let (line, column) = match start.and_then(|s| raw_offset(text, s, e.span.start))
                    {
                        Some(offset) => careloop_rules::line_column(text, offset),
                        None => (e.line, e.column),
                    };
                    errors.push(SegmentError::Definition {
                        file: file.to_owned(),
                        line,
                        column,
                        message: format!("{segment}, in {field}: {}", e.message),
                    });
                }
                None
            }
        }
    };
    let rule = check("rule", "rule", 0, &definition.rule);
    let priority: Vec<_> = definition
        .priority
        .iter()
        .enumerate()
        .filter_map(|(i, p)| {
            check(&format!("priority[{i}].when"), "when", i, &p.when).map(|e| (e, p.clone()))
        })
        .collect();
    let mut limit = |key: &str, nth: usize, field: &str, message: String| {
        let (line, column) = key_value_offset(text, key, nth)
            .map_or((1, 1), |offset| careloop_rules::line_column(text, offset));
        errors.push(SegmentError::Definition {
            file: file.to_owned(),
            line,
            column,
            message: format!("{segment}, in {field}: {message}"),
        });
    };
    if definition.priority.len() > MAX_PRIORITY_CONDITIONS {
        limit(
            "priority",
            0,
            "priority",
            format!(
                "{} conditions are too many (at most {MAX_PRIORITY_CONDITIONS})",
                definition.priority.len()
            ),
        );
    }
    for (i, p) in definition.priority.iter().enumerate() {
        if p.points.unsigned_abs() > MAX_POINTS.unsigned_abs() {
            limit(
                "points",
                i,
                &format!("priority[{i}].points"),
                format!(
                    "{} is out of range (points are between -{MAX_POINTS} and {MAX_POINTS})",
                    p.points
                ),
            );
        }
    }
    if definition.contact_within_working_days > MAX_CONTACT_WITHIN_WORKING_DAYS {
        limit(
            "contact_within_working_days",
            0,
            "contact_within_working_days",
            format!(
                "{} is out of range (at most {MAX_CONTACT_WITHIN_WORKING_DAYS} working days)",
                definition.contact_within_working_days
            ),
        );
    }
    if definition.cooldown_days > MAX_COOLDOWN_DAYS {
        limit(
            "cooldown_days",
            0,
            "cooldown_days",
            format!(
                "{} is out of range (at most {MAX_COOLDOWN_DAYS} days)",
                definition.cooldown_days
            ),
        );
    }
    let year = chrono::Datelike::year(&definition.review_by);
    let years = careloop_rules::limits::MIN_DATE_YEAR..=careloop_rules::limits::MAX_DATE_YEAR;
    if !u32::try_from(year).is_ok_and(|year| years.contains(&year)) {
        limit(
            "review_by",
            0,
            "review_by",
            format!(
                "{} is out of range (dates are from {} to {})",
                definition.review_by,
                careloop_rules::limits::MIN_DATE,
                careloop_rules::limits::MAX_DATE
            ),
        );
    }
    for signal in &definition.signals {
        if !schema.signals.contains_key(&signal.name) {
            errors.push(SegmentError::Definition {
                file: file.to_owned(),
                line: 1,
                column: 1,
                message: format!(
                    "{segment}, in signals: unknown signal \"{}\"",
                    careloop_rules::excerpt(&signal.name)
                ),
            });
        }
    }
    match (rule, errors.is_empty()) {
        (Some(rule), true) => Ok(Segment {
            definition,
            rule,
            priority,
        }),
        _ => Err(errors),
    }
}

/// The schema rules are checked against: every signal, and the value sets that exist.
pub fn schema(value_sets: &ValueSets) -> Schema {
    Schema {
        signals: crate::signals::SIGNALS
            .iter()
            .map(|(name, t, _)| (name.to_string(), *t))
            .collect(),
        allowed_values: crate::signals::allowed_values(),
        value_sets: value_sets.keys().cloned().collect(),
    }
}

/// Byte offset of the first character of the `nth` string value of `"key":` in a JSON text.
fn string_value_offset(text: &str, key: &str, nth: usize) -> Option<usize> {
    let needle = format!("\"{key}\"");
    let mut from = 0;
    let mut seen = 0;
    while let Some(found) = text[from..].find(&needle) {
        let after_key = from + found + needle.len();
        let rest = &text[after_key..];
        let colon = rest.find(|c: char| !c.is_whitespace())?;
        if rest[colon..].starts_with(':') {
            let value = &rest[colon + 1..];
            let quote = value.find(|c: char| !c.is_whitespace())?;
            if value[quote..].starts_with('"') {
                if seen == nth {
                    return Some(after_key + colon + 1 + quote + 1);
                }
                seen += 1;
            }
        }
        from = after_key;
    }
    None
}

/// Byte offset of the first character of the `nth` value (of any type) of `"key":`.
fn key_value_offset(text: &str, key: &str, nth: usize) -> Option<usize> {
    let needle = format!("\"{key}\"");
    let mut from = 0;
    let mut seen = 0;
    while let Some(found) = text.get(from..)?.find(&needle) {
        let after_key = from + found + needle.len();
        let rest = text.get(after_key..)?;
        let colon = rest.find(|c: char| !c.is_whitespace())?;
        if rest.get(colon..)?.starts_with(':') {
            let value = rest.get(colon + 1..)?;
            let start = value.find(|c: char| !c.is_whitespace())?;
            if seen == nth {
                return Some(after_key + colon + 1 + start);
            }
            seen += 1;
        }
        from = after_key;
    }
    None
}

/// Maps a byte offset in a decoded JSON string to the byte offset of the same character in
/// the raw file text, whose string starts at `start` (escapes take more room in the file).
fn raw_offset(text: &str, start: usize, decoded_target: usize) -> Option<usize> {
    let raw = &text[start..];
    let mut decoded = 0usize;
    let mut chars = raw.char_indices();
    while let Some((i, c)) = chars.next() {
        if decoded >= decoded_target {
            return Some(start + i);
        }
        match c {
            '"' => return None,
            '\\' => {
                let (_, escaped) = chars.next()?;
                decoded += match escaped {
                    'u' => {
                        let hex: String = (0..4)
                            .filter_map(|_| chars.next().map(|(_, c)| c))
                            .collect();
                        char::from_u32(u32::from_str_radix(&hex, 16).ok()?)
                            .map_or(1, char::len_utf8)
                    }
                    _ => 1,
                };
            }
            c => decoded += c.len_utf8(),
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_in_the_rule_map_back_to_the_file_through_escapes() {
        let text = "{\n  \"id\": \"x\",\n  \"rule\": \"sex == \\\"female\\\" and agee > 3\"\n}";
        let start = string_value_offset(text, "rule", 0).unwrap();
        let rule = "sex == \"female\" and agee > 3";
        let target = rule.find("agee").unwrap();
        let raw = raw_offset(text, start, target).unwrap();
        assert!(text[raw..].starts_with("agee"));
        assert_eq!(careloop_rules::line_column(text, raw), (3, 34));
    }
}
