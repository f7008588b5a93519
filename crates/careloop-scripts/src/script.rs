//! The script model: a script's messages and questions, question kinds, choices and the
//! `show_if` conditions that branch between questions.
//!
//! The types serialize to the shape of the script files (`schema/script.schema.json`), so a
//! loaded script serialized again is its file's JSON.

use serde::Serialize;

use crate::text::Text;

/// A versioned outreach script (`schema/scripts/<id>.json`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Script {
    /// Equals the file name without `.json`; segments refer to scripts by it.
    pub id: String,
    /// At least 1. A change to the questions or their answer values is a new version, and
    /// answers are stored with the id and version they answer.
    pub version: u32,
    pub title: Text,
    /// The outreach purpose the script serves: `reassurance`, `reassessment`, `navigation`,
    /// `welfare_check` or `escalation_review`.
    pub purpose: String,
    /// What the coordinator says first on a live contact; it names nothing clinical because
    /// whoever answers may hear it.
    pub introduction: Text,
    /// Templates for written channels.
    pub messages: Vec<Message>,
    /// Asked in this order; a `show_if` refers only to an earlier question.
    pub questions: Vec<Question>,
}

/// A template for a written channel (SMS, portal, letter).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Message {
    pub id: String,
    /// `true`: the text reveals something clinical and may go only through the patient
    /// portal. `false`: it may go by SMS or letter and be read by anyone.
    pub sensitive: bool,
    pub text: Text,
}

/// One question.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Question {
    pub id: String,
    /// The kind decides the answer ([`crate::Answer`]) it takes.
    #[serde(flatten)]
    pub kind: QuestionKind,
    /// Applies only when the question is shown.
    pub required: bool,
    pub text: Text,
    /// The question is shown only when this condition on an earlier question's answer holds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub show_if: Option<Condition>,
}

/// What kind of answer a question takes, with what the kind needs.
///
/// Serialized as in the files: a `kind` field (`yes_no`, `single_choice`, ...) beside the
/// kind's own fields.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum QuestionKind {
    /// Answered with [`crate::Answer::YesNo`]; conditions name its answers `"yes"`/`"no"`.
    YesNo,
    /// Answered with [`crate::Answer::Choice`], one option value.
    SingleChoice { options: Vec<Choice> },
    /// Answered with [`crate::Answer::Choices`], option values, each at most once.
    MultipleChoice { options: Vec<Choice> },
    /// Answered with [`crate::Answer::Scale`], an integer in `min..=max` (`min < max`).
    Scale {
        min: i64,
        max: i64,
        #[serde(skip_serializing_if = "Option::is_none")]
        min_label: Option<Text>,
        #[serde(skip_serializing_if = "Option::is_none")]
        max_label: Option<Text>,
    },
    /// Answered with [`crate::Answer::Date`].
    Date,
    /// Answered with [`crate::Answer::Text`].
    FreeText,
}

impl QuestionKind {
    /// The kind's name in the files: `yes_no`, `single_choice`, ...
    pub fn name(&self) -> &'static str {
        match self {
            QuestionKind::YesNo => "yes_no",
            QuestionKind::SingleChoice { .. } => "single_choice",
            QuestionKind::MultipleChoice { .. } => "multiple_choice",
            QuestionKind::Scale { .. } => "scale",
            QuestionKind::Date => "date",
            QuestionKind::FreeText => "free_text",
        }
    }

    /// The options of a choice question; empty for the other kinds.
    pub fn options(&self) -> &[Choice] {
        match self {
            QuestionKind::SingleChoice { options } | QuestionKind::MultipleChoice { options } => {
                options
            }
            _ => &[],
        }
    }
}

/// One option of a choice question.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Choice {
    /// The stored answer; unique within the question.
    pub value: String,
    pub text: Text,
}

/// A `show_if` condition on an earlier question's answer.
///
/// Serialized as in the files: `{"question": .., "any_of": [..]}`, `{"question": ..,
/// "at_least": n}` or `{"question": .., "at_most": n}`.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Condition {
    /// For yes_no (`"yes"`/`"no"`) and choice questions (option values); for multiple_choice,
    /// met when any selected value is in the list.
    AnyOf {
        question: String,
        #[serde(rename = "any_of")]
        values: Vec<String>,
    },
    /// For scale questions: the answer is at least `value`.
    AtLeast {
        question: String,
        #[serde(rename = "at_least")]
        value: i64,
    },
    /// For scale questions: the answer is at most `value`.
    AtMost {
        question: String,
        #[serde(rename = "at_most")]
        value: i64,
    },
}

impl Condition {
    /// The id of the question the condition looks at.
    pub fn question(&self) -> &str {
        match self {
            Condition::AnyOf { question, .. }
            | Condition::AtLeast { question, .. }
            | Condition::AtMost { question, .. } => question,
        }
    }
}

impl Script {
    /// The message template with this id.
    pub fn message(&self, id: &str) -> Option<&Message> {
        self.messages.iter().find(|m| m.id == id)
    }

    /// The question with this id.
    pub fn question(&self, id: &str) -> Option<&Question> {
        self.questions.iter().find(|q| q.id == id)
    }
}
