//! What [`crate::check()`] validates against: the known signals, their types and values, and the
//! known value sets.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// The type of a signal's value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignalType {
    /// A number, e.g. `age` or `ed_visits_12m`; compared with numbers and `count(...)`.
    Number,
    /// A text, e.g. `sex` or `language`; compared with `==`, `!=` and lists only.
    Text,
    /// True or false, e.g. `lives_alone`; usable on its own as a condition.
    Bool,
    /// A calendar date; compared with other dates or with text written `"YYYY-MM-DD"`.
    Date,
}

impl SignalType {
    /// The type with its article, as used in messages: "a number", "text", ...
    pub(crate) fn described(self) -> &'static str {
        match self {
            SignalType::Number => "a number",
            SignalType::Text => "text",
            SignalType::Bool => "true or false",
            SignalType::Date => "a date",
        }
    }
}

impl fmt::Display for SignalType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SignalType::Number => "number",
            SignalType::Text => "text",
            SignalType::Bool => "bool",
            SignalType::Date => "date",
        })
    }
}

/// The vocabulary a rule may use. Built by the caller from the evaluator's catalogue; this
/// crate only reads it.
#[derive(Clone, Debug, Default)]
pub struct Schema {
    /// Every known signal and its type.
    pub signals: BTreeMap<String, SignalType>,
    /// For text signals with a closed set of values (e.g. sex: female, male, other, unknown).
    pub allowed_values: BTreeMap<String, Vec<String>>,
    /// Every known value set name, e.g. `MAMMOGRAPHY`.
    pub value_sets: BTreeSet<String>,
}
