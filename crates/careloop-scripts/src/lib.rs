//! Outreach scripts: what a coordinator says and asks on a contact, as versioned data.
//!
//! A script (`schema/scripts/<id>.json`, described by `schema/script.schema.json`) has an
//! introduction for live contacts, message templates for written channels ([`Message`], each
//! marked sensitive or not) and structured questions ([`Question`]) that branch with `show_if`
//! conditions on earlier answers. Every text is a [`Text`] in several languages with English
//! as the last fallback. Answers ([`Answer`]) are data keyed by question id; callers store them
//! with the script's id and version.
//!
//! Invariants: every [`Script`] this crate hands out ([`builtin_scripts`], [`load_scripts`],
//! [`parse_script`]) has been checked beyond its JSON shape: its id is its file name, its
//! version is at least 1, every text has English and uses no placeholder but `{first_name}`,
//! `{clinic_name}` and `{clinic_phone}`, ids are unique, scales have `min < max`, and a
//! `show_if` refers to an earlier question of a kind it applies to, with values that question
//! can have. Errors about a file name the file and the line/column (shape) or the question
//! (meaning). [`AnswerError`] never carries an answer's text, which may be personal health
//! information. No clock, no store; the only I/O is reading the directory a caller names.
//!
//! API boundary: [`builtin_scripts`], [`load_scripts`], [`parse_script`], [`ScriptLibrary`],
//! the script model ([`Script`], [`Message`], [`Question`], [`QuestionKind`], [`Choice`],
//! [`Condition`], [`Text`]), answers ([`Answer`], [`Answers`], [`Script::visible_questions`],
//! [`Script::validate_answers`], [`AnswerError`]), rendering ([`Script::render`],
//! [`Placeholders`], [`RenderedScript`]) and [`ScriptError`]. The model types serialize to
//! the files' own JSON shape; knows nothing about patients, cases, channels or the store.

mod answer;
mod load;
mod render;
mod script;
mod text;

use std::collections::BTreeMap;
use std::path::Path;

pub use answer::{Answer, AnswerError, Answers};
pub use load::{parse_script, PURPOSES};
pub use render::{RenderedChoice, RenderedQuestion, RenderedQuestionKind, RenderedScript};
pub use script::{Choice, Condition, Message, Question, QuestionKind, Script};
pub use text::{Placeholders, RenderedText, Text, ENGLISH, PLACEHOLDER_NAMES};

mod builtin {
    include!(concat!(env!("OUT_DIR"), "/builtin.rs"));
}

/// The scripts crate's one error type.
#[derive(Debug, thiserror::Error)]
pub enum ScriptError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    /// The file is not JSON, or not shaped like a script (an unknown field, a missing one, a
    /// wrong type); the position is serde_json's.
    #[error("{file}:{line}:{column}: {message}")]
    Json {
        file: String,
        line: usize,
        column: usize,
        message: String,
    },
    /// The file is shaped like a script but breaks a rule the schema cannot express. `at` says
    /// where: `id`, `title`, `message "call_request"`, `question "symptom_change"`,
    /// `question "symptom_change", option "worse", text`, ...
    #[error("{file}: {at}: {message}")]
    Invalid {
        file: String,
        at: String,
        message: String,
    },
    /// More than one of the above, one per line.
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    Several(Vec<ScriptError>),
}

impl ScriptError {
    /// The errors this one stands for: itself, or the list of [`ScriptError::Several`].
    pub fn errors(&self) -> &[ScriptError] {
        match self {
            ScriptError::Several(errors) => errors,
            one => std::slice::from_ref(one),
        }
    }
}

/// A set of checked scripts, by id.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ScriptLibrary {
    scripts: BTreeMap<String, Script>,
}

impl ScriptLibrary {
    /// The script with this id.
    pub fn get(&self, id: &str) -> Option<&Script> {
        self.scripts.get(id)
    }

    /// The scripts in id order.
    pub fn iter(&self) -> impl Iterator<Item = &Script> {
        self.scripts.values()
    }

    pub fn len(&self) -> usize {
        self.scripts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.scripts.is_empty()
    }

    /// Parses and checks every file, reporting every file's problems together.
    fn from_files<'a>(
        files: impl Iterator<Item = (String, &'a str)>,
    ) -> Result<ScriptLibrary, ScriptError> {
        let mut scripts = BTreeMap::new();
        let mut errors = Vec::new();
        for (file, text) in files {
            match parse_script(&file, text) {
                // The id is the file name, so two files of one directory cannot share it.
                Ok(script) => {
                    scripts.insert(script.id.clone(), script);
                }
                Err(ScriptError::Several(several)) => errors.extend(several),
                Err(e) => errors.push(e),
            }
        }
        match errors.len() {
            0 => Ok(ScriptLibrary { scripts }),
            1 => Err(errors.remove(0)),
            _ => Err(ScriptError::Several(errors)),
        }
    }
}

impl<'a> IntoIterator for &'a ScriptLibrary {
    type Item = &'a Script;
    type IntoIter = std::collections::btree_map::Values<'a, String, Script>;

    fn into_iter(self) -> Self::IntoIter {
        self.scripts.values()
    }
}

/// The built-in scripts: the files of `schema/scripts/`, embedded at build time. Errors name
/// the files as `schema/scripts/<id>.json`.
pub fn builtin_scripts() -> Result<ScriptLibrary, ScriptError> {
    ScriptLibrary::from_files(
        builtin::BUILTIN_SCRIPTS
            .iter()
            .map(|(name, text)| (format!("schema/scripts/{name}"), *text)),
    )
}

/// The scripts of the `.json` files directly in `dir` (other files and subdirectories are
/// ignored). Errors name the files by their path.
pub fn load_scripts(dir: &Path) -> Result<ScriptLibrary, ScriptError> {
    let mut files = Vec::new();
    for path in load::json_files(dir)? {
        let text = std::fs::read_to_string(&path).map_err(|source| ScriptError::Io {
            path: path.display().to_string(),
            source,
        })?;
        files.push((path.display().to_string(), text));
    }
    ScriptLibrary::from_files(
        files
            .iter()
            .map(|(file, text)| (file.clone(), text.as_str())),
    )
}
