//! The segment rule language of Careloop: the small boolean language a care supervisor reads
//! and writes to define an outreach cohort.
//!
//! ```text
//! sex == "female" and age >= 50 and age <= 74
//!   and not exists(procedure, observation, report, imaging in MAMMOGRAPHY within 27 months)
//! ```
//!
//! This crate parses rule text into a tree ([`Expr`]), validates the tree against a
//! [`Schema`] (the known signals with their types and values, and the known value sets), and
//! prints a tree back as canonical text. Every error carries the 1-based line and column of
//! the offending text and a message that says what was expected or what is wrong. The crate
//! knows nothing about FHIR or patients: the evaluator lives elsewhere and consumes the tree.
//!
//! ```
//! use careloop_rules::{parse_and_check, Schema, SignalType};
//!
//! let mut schema = Schema::default();
//! schema.signals.insert("age".into(), SignalType::Number);
//! schema.value_sets.insert("DIABETES".into());
//!
//! let rule = parse_and_check("age >= 18 and exists(active condition in DIABETES)", &schema).unwrap();
//! assert_eq!(rule.conjuncts().len(), 2);
//!
//! let errors = parse_and_check("agee >= 18", &schema).unwrap_err();
//! assert_eq!(errors[0].to_string(), "line 1, column 1: unknown signal \"agee\" (did you mean \"age\"?)");
//! ```
//!
//! # Syntax
//!
//! * Keywords (lowercase): `and`, `or`, `not`, `true`, `false`, `exists`, `count`, `in`,
//!   `within`, `active`, `discharged`. `not` binds tightest, then comparisons, then `and`,
//!   then `or`; parentheses group. `not` applies to the whole condition after it, so
//!   `not age >= 50` means `not (age >= 50)`. Spaces and newlines do not matter; `#` starts a
//!   comment that runs to the end of the line.
//! * Literals: numbers (`5`, `7.5`, `-2`), text in double or single quotes with the escapes
//!   `\"`, `\'` and `\\` (on one line), `true` and `false`.
//! * Signals: `[a-z][a-z0-9_]*`, e.g. `age`, `ed_visits_12m`, `lives_alone`.
//! * Conditions: `a == b` (also `!=`, `<`, `<=`, `>`, `>=`) where each side is a signal, a
//!   literal or `count(...)`; `signal in ("es", "vi")` and `signal not in (...)`; a bare
//!   boolean signal; `exists(...)`; `true` / `false`.
//! * Fact queries, inside `exists(...)` and `count(...)`:
//!   `['active'] KIND {',' KIND} [FIELD] 'in' VALUESET ['discharged'] ['within' NUMBER UNIT]`
//!   with the kinds `condition`, `observation`, `report`, `procedure`, `encounter`,
//!   `medication`, `immunization`, `imaging`, `appointment`, `questionnaire`; the fields
//!   `code` (default), `class`, `type`, `reason`, `modality`; value sets written
//!   `[A-Z][A-Z0-9_]*`; units `day(s)`, `month(s)`, `year(s)` (years are stored as months).
//!
//! # Validation
//!
//! [`check()`] reports, in text order: unknown signals and value sets (with the closest known
//! name), comparisons between different types, `<`-style operators on text or true/false,
//! non-boolean signals used as conditions, text values outside a signal's allowed values,
//! fields and `active` / `discharged` used with kinds they do not apply to, a kind listed
//! twice, and empty windows (`within 0 days`).
//!
//! Date signals compare with other dates or with text written `"YYYY-MM-DD"`.
//!
//! # Limits
//!
//! [`check()`] also refuses what an evaluator could not compute safely, with the bound in the
//! message (see [`limits`]): rules longer than 10,000 characters, windows longer than
//! 73,000 days, 2,400 months or 200 years (about two centuries, whichever unit), numbers
//! beyond ±1,000,000,000, and dates before 1800-01-01 or after 2300-12-31. Error messages
//! quote at most 40 characters of the rule text.

#![warn(missing_docs)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

mod ast;
mod check;
mod error;
mod lexer;
pub mod limits;
mod parser;
mod schema;
mod suggest;

pub use ast::{CmpOp, CodeField, Expr, FactKind, FactQuery, Literal, Operand, Window};
pub use error::{excerpt, line_column, RuleError, Span, EXCERPT_CHARS};
pub use schema::{Schema, SignalType};

/// Parses rule text into a tree, or returns the first syntax error in the text.
///
/// Never panics, whatever the input; nesting deeper than 64 levels of parentheses or `not`
/// is reported as an error.
pub fn parse(text: &str) -> Result<Expr, RuleError> {
    parser::parse(text)
}

/// Validates a tree parsed from `text` against `schema`, returning every error in text order.
///
/// `text` must be the text `expr` was parsed from: it is used for line and column numbers and
/// to point at words inside queries and lists that the tree has no span for.
pub fn check(expr: &Expr, text: &str, schema: &Schema) -> Result<(), Vec<RuleError>> {
    check::check(expr, text, schema)
}

/// Parses and validates in one step: the syntax error alone if the text does not parse,
/// otherwise every validation error.
pub fn parse_and_check(text: &str, schema: &Schema) -> Result<Expr, Vec<RuleError>> {
    let expr = parse(text).map_err(|error| vec![error])?;
    check(&expr, text, schema)?;
    Ok(expr)
}
