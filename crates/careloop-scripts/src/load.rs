//! Reading script files: the file's shape (serde, every object closed to unknown fields, errors
//! at a line and column), then what JSON Schema cannot say (ids, references between
//! questions, placeholders), with errors that name the question.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::script::{Choice, Condition, Message, Question, QuestionKind, Script};
use crate::text::{is_language_code, placeholder_problem, Text, ENGLISH};
use crate::ScriptError;

/// The outreach purposes a script may serve (a segment's `outreach_purpose`).
pub const PURPOSES: [&str; 5] = [
    "reassurance",
    "reassessment",
    "navigation",
    "welfare_check",
    "escalation_review",
];

type RawText = BTreeMap<String, String>;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScript {
    id: String,
    version: u32,
    title: RawText,
    purpose: String,
    introduction: RawText,
    messages: Vec<RawMessage>,
    questions: Vec<RawQuestion>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMessage {
    id: String,
    sensitive: bool,
    text: RawText,
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum RawKind {
    YesNo,
    SingleChoice,
    MultipleChoice,
    Scale,
    Date,
    FreeText,
}

/// One question as written: the kind's own fields are optional here and checked against the
/// kind afterwards, so that an unknown field is still reported at its line and column.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawQuestion {
    id: String,
    kind: RawKind,
    required: bool,
    text: RawText,
    options: Option<Vec<RawChoice>>,
    min: Option<i64>,
    max: Option<i64>,
    min_label: Option<RawText>,
    max_label: Option<RawText>,
    show_if: Option<RawCondition>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawChoice {
    value: String,
    text: RawText,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCondition {
    question: String,
    any_of: Option<Vec<String>>,
    at_least: Option<i64>,
    at_most: Option<i64>,
}

/// Parses and checks one script file's text. `file` names the file in errors, and its name
/// without `.json` must be the script's id.
pub fn parse_script(file: &str, text: &str) -> Result<Script, ScriptError> {
    let raw: RawScript = serde_json::from_str(text).map_err(|e| ScriptError::Json {
        file: file.to_owned(),
        line: e.line(),
        column: e.column(),
        message: without_position(&e),
    })?;
    let mut check = Check {
        file,
        errors: Vec::new(),
    };
    let script = check.script(raw);
    match check.errors.len() {
        0 => Ok(script),
        1 => Err(check.errors.remove(0)),
        _ => Err(ScriptError::Several(check.errors)),
    }
}

/// serde_json's message without the " at line L column C" it appends (the error carries the
/// position in its own fields).
fn without_position(e: &serde_json::Error) -> String {
    let message = e.to_string();
    let suffix = format!(" at line {} column {}", e.line(), e.column());
    match message.strip_suffix(&suffix) {
        Some(m) => m.to_owned(),
        None => message,
    }
}

/// The `.json` files directly in `dir`, sorted.
pub(crate) fn json_files(dir: &Path) -> Result<Vec<PathBuf>, ScriptError> {
    let io = |source| ScriptError::Io {
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

/// Whether `s` is an id as the schema defines them: `^[a-z][a-z0-9_]*$`.
pub(crate) fn is_id(s: &str) -> bool {
    let mut bytes = s.bytes();
    bytes.next().is_some_and(|b| b.is_ascii_lowercase())
        && bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// The semantic checks of one file, collecting every problem.
struct Check<'a> {
    file: &'a str,
    errors: Vec<ScriptError>,
}

impl Check<'_> {
    fn fail(&mut self, at: impl Into<String>, message: impl Into<String>) {
        self.errors.push(ScriptError::Invalid {
            file: self.file.to_owned(),
            at: at.into(),
            message: message.into(),
        });
    }

    fn script(&mut self, raw: RawScript) -> Script {
        let stem = Path::new(self.file)
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        if !is_id(&raw.id) {
            self.fail(
                "id",
                format!(
                    "{:?} is not an id (a-z, 0-9 and _, starting with a letter)",
                    raw.id
                ),
            );
        } else if raw.id != stem {
            self.fail(
                "id",
                format!(
                    "{:?} does not match the file name (expected {stem:?})",
                    raw.id
                ),
            );
        }
        if raw.version < 1 {
            self.fail("version", "must be at least 1");
        }
        if !PURPOSES.contains(&raw.purpose.as_str()) {
            self.fail(
                "purpose",
                format!(
                    "{:?} is not one of {}",
                    raw.purpose,
                    PURPOSES.map(|p| format!("{p:?}")).join(", ")
                ),
            );
        }
        let title = self.text("title", raw.title);
        let introduction = self.text("introduction", raw.introduction);

        let mut message_ids = HashSet::new();
        let messages = raw
            .messages
            .into_iter()
            .map(|m| {
                let at = format!("message {:?}", m.id);
                self.id(&at, &m.id);
                if !message_ids.insert(m.id.clone()) {
                    self.fail(&at, "another message has the same id");
                }
                Message {
                    text: self.text(&format!("{at}, text"), m.text),
                    id: m.id,
                    sensitive: m.sensitive,
                }
            })
            .collect();

        if raw.questions.is_empty() {
            self.fail("questions", "a script needs at least one question");
        }
        let all_ids: Vec<String> = raw.questions.iter().map(|q| q.id.clone()).collect();
        let mut questions: Vec<Question> = Vec::with_capacity(raw.questions.len());
        for (index, raw) in raw.questions.into_iter().enumerate() {
            let at = format!("question {:?}", raw.id);
            self.id(&at, &raw.id);
            if all_ids[..index].contains(&raw.id) {
                self.fail(&at, "an earlier question has the same id");
            }
            let kind = self.kind(&at, &raw);
            let show_if = raw
                .show_if
                .and_then(|c| self.condition(&at, &raw.id, c, &questions, &all_ids[index..]));
            questions.push(Question {
                text: self.text(&format!("{at}, text"), raw.text),
                id: raw.id,
                kind,
                required: raw.required,
                show_if,
            });
        }
        Script {
            id: raw.id,
            version: raw.version,
            title,
            purpose: raw.purpose,
            introduction,
            messages,
            questions,
        }
    }

    fn id(&mut self, at: &str, id: &str) {
        if !is_id(id) {
            self.fail(
                at,
                "the id is not an id (a-z, 0-9 and _, starting with a letter)",
            );
        }
    }

    fn text(&mut self, at: &str, raw: RawText) -> Text {
        if !raw.contains_key(ENGLISH) {
            self.fail(at, "has no English (\"en\"), which every text needs");
        }
        for (language, text) in &raw {
            if !is_language_code(language) {
                self.fail(
                    at,
                    format!("{language:?} is not a language code like \"es\" or \"es-MX\""),
                );
            }
            if text.trim().is_empty() {
                self.fail(at, format!("{language:?}: the text is empty"));
            }
            if let Some(problem) = placeholder_problem(text) {
                self.fail(at, format!("{language:?}: {problem}"));
            }
        }
        Text::checked(raw)
    }

    /// The question's kind with its fields; fields of another kind are errors.
    fn kind(&mut self, at: &str, raw: &RawQuestion) -> QuestionKind {
        let choice = matches!(raw.kind, RawKind::SingleChoice | RawKind::MultipleChoice);
        let scale = matches!(raw.kind, RawKind::Scale);
        if raw.options.is_some() && !choice {
            self.fail(
                at,
                "options are only for single_choice and multiple_choice questions",
            );
        }
        let scale_fields = [
            ("min", raw.min.is_some()),
            ("max", raw.max.is_some()),
            ("min_label", raw.min_label.is_some()),
            ("max_label", raw.max_label.is_some()),
        ];
        if !scale {
            for (field, present) in scale_fields {
                if present {
                    self.fail(at, format!("{field} is only for scale questions"));
                }
            }
        }
        let options = |check: &mut Self| -> Vec<Choice> {
            let Some(options) = &raw.options else {
                check.fail(at, "a choice question needs options");
                return Vec::new();
            };
            if options.len() < 2 {
                check.fail(at, "a choice question needs at least two options");
            }
            let mut seen = HashSet::new();
            options
                .iter()
                .map(|o| {
                    let option_at = format!("{at}, option {:?}", o.value);
                    if !is_id(&o.value) {
                        check.fail(
                            &option_at,
                            "the value is not an id (a-z, 0-9 and _, starting with a letter)",
                        );
                    }
                    if !seen.insert(o.value.as_str()) {
                        check.fail(&option_at, "another option has the same value");
                    }
                    Choice {
                        value: o.value.clone(),
                        text: check.text(&format!("{option_at}, text"), o.text.clone()),
                    }
                })
                .collect()
        };
        match raw.kind {
            RawKind::YesNo => QuestionKind::YesNo,
            RawKind::Date => QuestionKind::Date,
            RawKind::FreeText => QuestionKind::FreeText,
            RawKind::SingleChoice => QuestionKind::SingleChoice {
                options: options(self),
            },
            RawKind::MultipleChoice => QuestionKind::MultipleChoice {
                options: options(self),
            },
            RawKind::Scale => {
                let (min, max) = match (raw.min, raw.max) {
                    (Some(min), Some(max)) => {
                        if min >= max {
                            self.fail(
                                at,
                                format!(
                                    "the scale's min ({min}) must be less than its max ({max})"
                                ),
                            );
                        }
                        (min, max)
                    }
                    _ => {
                        self.fail(at, "a scale question needs min and max");
                        (0, 0)
                    }
                };
                QuestionKind::Scale {
                    min,
                    max,
                    min_label: raw
                        .min_label
                        .clone()
                        .map(|t| self.text(&format!("{at}, min_label"), t)),
                    max_label: raw
                        .max_label
                        .clone()
                        .map(|t| self.text(&format!("{at}, max_label"), t)),
                }
            }
        }
    }

    /// A `show_if` of question `id`: it names exactly one test, on an earlier question
    /// (`earlier`) of a kind the test applies to, with values that question can have.
    /// `this_and_later` are the ids from this question on, to say why a reference is wrong.
    fn condition(
        &mut self,
        at: &str,
        id: &str,
        raw: RawCondition,
        earlier: &[Question],
        this_and_later: &[String],
    ) -> Option<Condition> {
        let target = raw.question.as_str();
        let condition = match (raw.any_of, raw.at_least, raw.at_most) {
            (Some(values), None, None) => Condition::AnyOf {
                question: raw.question.clone(),
                values,
            },
            (None, Some(value), None) => Condition::AtLeast {
                question: raw.question.clone(),
                value,
            },
            (None, None, Some(value)) => Condition::AtMost {
                question: raw.question.clone(),
                value,
            },
            _ => {
                self.fail(
                    at,
                    "show_if needs exactly one of any_of, at_least and at_most",
                );
                return None;
            }
        };
        let Some(source) = earlier.iter().find(|q| q.id == target) else {
            let why = if target == id {
                "which is the question itself"
            } else if this_and_later.iter().any(|q| q == target) {
                "which comes later"
            } else {
                "which is not a question of this script"
            };
            self.fail(at, format!("show_if refers to {target:?}, {why}"));
            return None;
        };
        let errors_before = self.errors.len();
        match (&condition, &source.kind) {
            (Condition::AnyOf { values, .. }, kind) => {
                let allowed: Vec<&str> = match kind {
                    QuestionKind::YesNo => vec!["yes", "no"],
                    QuestionKind::SingleChoice { options }
                    | QuestionKind::MultipleChoice { options } => {
                        options.iter().map(|o| o.value.as_str()).collect()
                    }
                    other => {
                        self.fail(
                            at,
                            format!(
                                "show_if any_of needs a yes_no, single_choice or multiple_choice \
                                 question, and {target:?} is a {} question",
                                other.name()
                            ),
                        );
                        return None;
                    }
                };
                if values.is_empty() {
                    self.fail(at, "show_if any_of needs at least one value");
                }
                for (i, value) in values.iter().enumerate() {
                    if !allowed.contains(&value.as_str()) {
                        self.fail(
                            at,
                            format!(
                                "show_if any_of: {value:?} is not an answer of {target:?} \
                                 (its answers are {})",
                                allowed
                                    .iter()
                                    .map(|a| format!("{a:?}"))
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            ),
                        );
                    } else if values[..i].contains(value) {
                        self.fail(at, format!("show_if any_of: {value:?} is listed twice"));
                    }
                }
            }
            (
                Condition::AtLeast { value, .. } | Condition::AtMost { value, .. },
                QuestionKind::Scale { min, max, .. },
            ) => {
                if !(min..=max).contains(&value) {
                    self.fail(
                        at,
                        format!(
                            "show_if: {value} is outside the scale of {target:?} ({min} to {max})"
                        ),
                    );
                }
            }
            (Condition::AtLeast { .. } | Condition::AtMost { .. }, other) => {
                self.fail(
                    at,
                    format!(
                        "show_if at_least and at_most need a scale question, and {target:?} is \
                         a {} question",
                        other.name()
                    ),
                );
            }
        }
        (self.errors.len() == errors_before).then_some(condition)
    }
}
