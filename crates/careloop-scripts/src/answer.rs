//! Answers to a script's questions: their JSON form, branching (which questions are shown
//! given the answers so far) and the check of a set of answers against the script.
//!
//! Errors name the question and the problem, never an answer's content: a free-text answer
//! may be personal health information.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::script::{Condition, Question, QuestionKind, Script};

/// An answer to one question; which variant a question takes depends on its kind.
///
/// JSON (adjacently tagged, stable; this is how answers are stored):
///
/// | question kind     | answer                                              |
/// |-------------------|-----------------------------------------------------|
/// | `yes_no`          | `{"kind": "yes_no", "value": true}`                 |
/// | `single_choice`   | `{"kind": "choice", "value": "worse"}`              |
/// | `multiple_choice` | `{"kind": "choices", "value": ["fever", "other"]}`  |
/// | `scale`           | `{"kind": "scale", "value": 4}`                     |
/// | `date`            | `{"kind": "date", "value": "2025-03-14"}`           |
/// | `free_text`       | `{"kind": "text", "value": "..."}`                  |
///
/// Any other field, or another kind, is refused when reading.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    tag = "kind",
    content = "value",
    rename_all = "snake_case",
    deny_unknown_fields
)]
pub enum Answer {
    YesNo(bool),
    Choice(String),
    Choices(Vec<String>),
    Scale(i64),
    Date(NaiveDate),
    Text(String),
}

impl Answer {
    /// The variant's name in JSON (`yes_no`, `choice`, ...), never its content.
    pub fn kind_name(&self) -> &'static str {
        match self {
            Answer::YesNo(_) => "yes_no",
            Answer::Choice(_) => "choice",
            Answer::Choices(_) => "choices",
            Answer::Scale(_) => "scale",
            Answer::Date(_) => "date",
            Answer::Text(_) => "text",
        }
    }

    /// Whether this is the variant a question of `kind` takes.
    fn fits(&self, kind: &QuestionKind) -> bool {
        matches!(
            (kind, self),
            (QuestionKind::YesNo, Answer::YesNo(_))
                | (QuestionKind::SingleChoice { .. }, Answer::Choice(_))
                | (QuestionKind::MultipleChoice { .. }, Answer::Choices(_))
                | (QuestionKind::Scale { .. }, Answer::Scale(_))
                | (QuestionKind::Date, Answer::Date(_))
                | (QuestionKind::FreeText, Answer::Text(_))
        )
    }
}

/// Answers to a script: question id to answer. A question that is not answered has no entry.
pub type Answers = BTreeMap<String, Answer>;

/// Why a set of answers does not fit a script. Each names the question; none carries an
/// answer's text (an option value or question id is quoted only when it looks like one).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AnswerError {
    #[error("question {question:?}: the script has no such question")]
    UnknownQuestion { question: String },
    #[error("question {question:?}: answered, but not shown (its show_if condition is not met)")]
    Hidden { question: String },
    #[error("question {question:?}: a {found} answer to a {expected} question")]
    WrongType {
        question: String,
        /// The question's kind (`yes_no`, `single_choice`, ...).
        expected: &'static str,
        /// The answer's kind ([`Answer::kind_name`]).
        found: &'static str,
    },
    #[error("question {question:?}: {} is not one of its options", quoted(.value))]
    NotAnOption {
        question: String,
        /// The value, when it looks like an option value; `None` otherwise.
        value: Option<String>,
    },
    #[error("question {question:?}: {} is chosen more than once", quoted(.value))]
    RepeatedOption {
        question: String,
        value: Option<String>,
    },
    #[error("question {question:?}: the answer is outside the scale ({min} to {max})")]
    OutOfRange {
        question: String,
        min: i64,
        max: i64,
    },
    #[error("question {question:?}: required, but not answered")]
    Missing { question: String },
}

impl AnswerError {
    /// The id of the question the error is about.
    pub fn question(&self) -> &str {
        match self {
            AnswerError::UnknownQuestion { question }
            | AnswerError::Hidden { question }
            | AnswerError::WrongType { question, .. }
            | AnswerError::NotAnOption { question, .. }
            | AnswerError::RepeatedOption { question, .. }
            | AnswerError::OutOfRange { question, .. }
            | AnswerError::Missing { question } => question,
        }
    }
}

fn quoted(value: &Option<String>) -> String {
    match value {
        Some(v) => format!("{v:?}"),
        None => "the value given".to_owned(),
    }
}

/// `s` if it looks like an id (what question ids and option values are); anything else a
/// client sends in their place could be answer text, which errors must not carry.
fn id_like(s: &str) -> Option<String> {
    let mut bytes = s.bytes();
    let looks_like_id = s.len() <= 64
        && bytes.next().is_some_and(|b| b.is_ascii_lowercase())
        && bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    looks_like_id.then(|| s.to_owned())
}

impl Condition {
    /// Whether `answer`, given to `source` (the question the condition looks at), meets the
    /// condition. An answer of the wrong kind for `source` meets nothing.
    pub(crate) fn is_met(&self, source: &Question, answer: &Answer) -> bool {
        if !answer.fits(&source.kind) {
            return false;
        }
        match (self, answer) {
            (Condition::AnyOf { values, .. }, Answer::YesNo(yes)) => {
                values.iter().any(|v| v == if *yes { "yes" } else { "no" })
            }
            (Condition::AnyOf { values, .. }, Answer::Choice(chosen)) => values.contains(chosen),
            (Condition::AnyOf { values, .. }, Answer::Choices(chosen)) => {
                chosen.iter().any(|c| values.contains(c))
            }
            (Condition::AtLeast { value, .. }, Answer::Scale(n)) => n >= value,
            (Condition::AtMost { value, .. }, Answer::Scale(n)) => n <= value,
            _ => false,
        }
    }
}

impl Script {
    /// The questions shown given `answers`, in order. A question with a `show_if` is shown
    /// only when the question it refers to is itself shown, is answered, and its answer meets
    /// the condition; so hiding a question hides the questions that depend on it.
    pub fn visible_questions(&self, answers: &Answers) -> Vec<&Question> {
        let mut visible: Vec<&Question> = Vec::with_capacity(self.questions.len());
        for question in &self.questions {
            let shown = match &question.show_if {
                None => true,
                Some(condition) => {
                    let source = visible.iter().find(|q| q.id == condition.question());
                    match (source, answers.get(condition.question())) {
                        (Some(source), Some(answer)) => condition.is_met(source, answer),
                        _ => false,
                    }
                }
            };
            if shown {
                visible.push(question);
            }
        }
        visible
    }

    /// Checks `answers` against the script: every answer is to a question of the script that
    /// is shown, of the kind's type, with known option values (each at most once) or a scale
    /// value in range; every shown required question is answered (a blank free text or an
    /// empty list of choices counts as not answered). Reports the first problem in question
    /// order, after any answer to an unknown question.
    pub fn validate_answers(&self, answers: &Answers) -> Result<(), AnswerError> {
        if let Some(unknown) = answers.keys().find(|id| self.question(id).is_none()) {
            return Err(AnswerError::UnknownQuestion {
                question: id_like(unknown).unwrap_or_else(|| "(not a question id)".to_owned()),
            });
        }
        let visible = self.visible_questions(answers);
        for question in &self.questions {
            let shown = visible.iter().any(|q| std::ptr::eq(*q, question));
            match (shown, answers.get(&question.id)) {
                (false, None) => {}
                (false, Some(_)) => {
                    return Err(AnswerError::Hidden {
                        question: question.id.clone(),
                    })
                }
                (true, None) if question.required => {
                    return Err(AnswerError::Missing {
                        question: question.id.clone(),
                    })
                }
                (true, None) => {}
                (true, Some(answer)) => check_answer(question, answer)?,
            }
        }
        Ok(())
    }
}

/// Checks one answer to a shown question.
fn check_answer(question: &Question, answer: &Answer) -> Result<(), AnswerError> {
    let id = || question.id.clone();
    if !answer.fits(&question.kind) {
        return Err(AnswerError::WrongType {
            question: id(),
            expected: question.kind.name(),
            found: answer.kind_name(),
        });
    }
    let is_option = |v: &String| question.kind.options().iter().any(|o| &o.value == v);
    match (&question.kind, answer) {
        (_, Answer::Choice(value)) if !is_option(value) => Err(AnswerError::NotAnOption {
            question: id(),
            value: id_like(value),
        }),
        (_, Answer::Choices(values)) => {
            for (i, value) in values.iter().enumerate() {
                if !is_option(value) {
                    return Err(AnswerError::NotAnOption {
                        question: id(),
                        value: id_like(value),
                    });
                }
                if values[..i].contains(value) {
                    return Err(AnswerError::RepeatedOption {
                        question: id(),
                        value: id_like(value),
                    });
                }
            }
            if values.is_empty() && question.required {
                return Err(AnswerError::Missing { question: id() });
            }
            Ok(())
        }
        (QuestionKind::Scale { min, max, .. }, Answer::Scale(n)) if !(min..=max).contains(&n) => {
            Err(AnswerError::OutOfRange {
                question: id(),
                min: *min,
                max: *max,
            })
        }
        (_, Answer::Text(text)) if question.required && text.trim().is_empty() => {
            Err(AnswerError::Missing { question: id() })
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_quoted_and_anything_else_is_not() {
        assert_eq!(id_like("chest_pain"), Some("chest_pain".into()));
        assert_eq!(id_like("a1"), Some("a1".into()));
        assert_eq!(id_like("I feel awful"), None);
        assert_eq!(id_like(""), None);
        assert_eq!(id_like("1abc"), None);
        assert_eq!(id_like(&"a".repeat(65)), None);
    }
}
