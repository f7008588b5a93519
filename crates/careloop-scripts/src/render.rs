//! A script in one language with its placeholders filled in, as a coordinator's screen shows
//! it; each text carries the language it is actually in.

use serde::Serialize;

use crate::script::{Condition, QuestionKind, Script};
use crate::text::{Placeholders, RenderedText};

/// A script rendered in one language ([`Script::render`]).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RenderedScript {
    pub id: String,
    pub version: u32,
    /// The language the introduction is in: the one asked for, or its fallback. Each text
    /// reports its own language too, since a script may translate some texts and not others.
    pub language: String,
    pub title: RenderedText,
    pub introduction: RenderedText,
    /// All the questions, in order, with their conditions: which are shown depends on the
    /// answers ([`Script::visible_questions`]).
    pub questions: Vec<RenderedQuestion>,
}

/// One question of a [`RenderedScript`].
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RenderedQuestion {
    pub id: String,
    #[serde(flatten)]
    pub kind: RenderedQuestionKind,
    pub required: bool,
    pub text: RenderedText,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub show_if: Option<Condition>,
}

/// [`QuestionKind`] with its texts rendered.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RenderedQuestionKind {
    YesNo,
    SingleChoice {
        options: Vec<RenderedChoice>,
    },
    MultipleChoice {
        options: Vec<RenderedChoice>,
    },
    Scale {
        min: i64,
        max: i64,
        #[serde(skip_serializing_if = "Option::is_none")]
        min_label: Option<RenderedText>,
        #[serde(skip_serializing_if = "Option::is_none")]
        max_label: Option<RenderedText>,
    },
    Date,
    FreeText,
}

/// One option of a rendered choice question.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RenderedChoice {
    pub value: String,
    pub text: RenderedText,
}

impl Script {
    /// The title, introduction and questions (with their options and scale labels) in
    /// `language`, falling back as [`crate::Text::get`] does, with the placeholders filled in.
    pub fn render(&self, language: &str, placeholders: &Placeholders) -> RenderedScript {
        let render = |text: &crate::Text| text.render(language, placeholders);
        let options = |options: &[crate::Choice]| {
            options
                .iter()
                .map(|o| RenderedChoice {
                    value: o.value.clone(),
                    text: render(&o.text),
                })
                .collect()
        };
        let introduction = render(&self.introduction);
        RenderedScript {
            id: self.id.clone(),
            version: self.version,
            language: introduction.language.clone(),
            title: render(&self.title),
            introduction,
            questions: self
                .questions
                .iter()
                .map(|q| RenderedQuestion {
                    id: q.id.clone(),
                    kind: match &q.kind {
                        QuestionKind::YesNo => RenderedQuestionKind::YesNo,
                        QuestionKind::SingleChoice { options: o } => {
                            RenderedQuestionKind::SingleChoice {
                                options: options(o),
                            }
                        }
                        QuestionKind::MultipleChoice { options: o } => {
                            RenderedQuestionKind::MultipleChoice {
                                options: options(o),
                            }
                        }
                        QuestionKind::Scale {
                            min,
                            max,
                            min_label,
                            max_label,
                        } => RenderedQuestionKind::Scale {
                            min: *min,
                            max: *max,
                            min_label: min_label.as_ref().map(render),
                            max_label: max_label.as_ref().map(render),
                        },
                        QuestionKind::Date => RenderedQuestionKind::Date,
                        QuestionKind::FreeText => RenderedQuestionKind::FreeText,
                    },
                    required: q.required,
                    text: render(&q.text),
                    show_if: q.show_if.clone(),
                })
                .collect(),
        }
    }
}
