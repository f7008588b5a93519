//! The bounds [`crate::check()`] enforces so that whatever it accepts can be evaluated: an
//! evaluator may subtract any accepted window from any date between [`MIN_DATE`] and
//! [`MAX_DATE`] and compare any accepted number without overflow. They are generous: the
//! longest window of a real outreach rule is a few years, a rule is a few lines.

/// The longest rule text, in characters.
pub const MAX_RULE_CHARS: usize = 10_000;

/// The longest window in days (`within 73000 days`, about 200 years).
pub const MAX_WINDOW_DAYS: u32 = 73_000;

/// The longest window in months (`within 2400 months`, or `within 200 years`).
pub const MAX_WINDOW_MONTHS: u32 = 2_400;

/// The largest magnitude of a number written in a rule.
pub const MAX_NUMBER: f64 = 1_000_000_000.0;

/// The earliest year of a date written in a rule (`"1800-01-01"`).
pub const MIN_DATE_YEAR: u32 = 1800;

/// The latest year of a date written in a rule (`"2300-12-31"`).
pub const MAX_DATE_YEAR: u32 = 2300;

/// The earliest date written in a rule, as text.
pub const MIN_DATE: &str = "1800-01-01";

/// The latest date written in a rule, as text.
pub const MAX_DATE: &str = "2300-12-31";

/// How the window bounds read in messages.
pub(crate) fn window_bounds() -> String {
    format!(
        "a window is at most {MAX_WINDOW_DAYS} days, {MAX_WINDOW_MONTHS} months or {} years",
        MAX_WINDOW_MONTHS / 12
    )
}
