//! Hostile input (issue 17): windows, numbers and dates beyond what an evaluator can compute,
//! deep nesting, very long text and non-ASCII. Each is refused with a located error that
//! quotes at most a short excerpt of the input; values at the limits are accepted; nothing
//! panics, whatever the text (a property test feeds the parser and the checker arbitrary
//! strings and generated rules with extreme values).

mod common;

use careloop_rules::limits::{MAX_RULE_CHARS, MAX_WINDOW_DAYS, MAX_WINDOW_MONTHS};
use careloop_rules::{check, line_column, parse, parse_and_check, RuleError, EXCERPT_CHARS};
use common::schema;
use proptest::prelude::*;

const WINDOW_BOUNDS: &str = "a window is at most 73000 days, 2400 months or 200 years";

/// Every error of `text`, which must be refused, each checked to lie inside the text, to
/// agree with [`line_column`] and to quote at most a short excerpt of the input.
fn refused(text: &str) -> Vec<RuleError> {
    let errors = parse_and_check(text, &schema()).expect_err(text);
    for error in &errors {
        assert!(
            error.span.start <= error.span.end && error.span.end <= text.len(),
            "{error:?}"
        );
        assert!(
            text.is_char_boundary(error.span.start) && text.is_char_boundary(error.span.end),
            "{error:?}"
        );
        assert_eq!(
            line_column(text, error.span.start),
            (error.line, error.column)
        );
        assert_short_quote(text, &error.message);
    }
    errors
}

/// The message does not repeat any run of more than [`EXCERPT_CHARS`] characters of the
/// input, give or take the quotes around an excerpt.
fn assert_short_quote(text: &str, message: &str) {
    let chars: Vec<char> = text.chars().collect();
    let longest = EXCERPT_CHARS + 2;
    if chars.len() <= longest {
        return;
    }
    for start in 0..chars.len() - longest {
        let run: String = chars[start..=start + longest].iter().collect();
        assert!(
            !message.contains(&run),
            "the message quotes more than {EXCERPT_CHARS} characters: {message}"
        );
    }
    assert!(message.chars().count() < 400, "{message}");
}

/// (rule, line, column, part of the message) of rules with exactly one error.
const HOSTILE: &[(&str, usize, usize, &str)] = &[
    // The finding: huge windows, in every unit.
    (
        "exists(encounter class in INPATIENT_CLASS within 100000000 days)",
        1,
        50,
        "\"within 100000000 days\" is too long (a window is at most 73000 days, 2400 months or 200 years)",
    ),
    (
        "not exists(procedure in MAMMOGRAPHY within 4000000 months)",
        1,
        44,
        "\"within 4000000 months\" is too long",
    ),
    (
        "count(encounter in WELLNESS_VISIT within 300000 years) >= 1",
        1,
        42,
        "\"within 300000 years\" is too long",
    ),
    // Just past each limit.
    (
        "exists(encounter in WELLNESS_VISIT within 73001 days)",
        1,
        43,
        "\"within 73001 days\" is too long",
    ),
    (
        "exists(encounter in WELLNESS_VISIT within 2401 months)",
        1,
        43,
        "\"within 2401 months\" is too long",
    ),
    (
        "exists(encounter in WELLNESS_VISIT within 201 years)",
        1,
        43,
        "\"within 201 years\" is too long",
    ),
    // Beyond what the parser reads at all.
    (
        "exists(encounter in WELLNESS_VISIT within 4294967296 days)",
        1,
        43,
        "the window 4294967296 is too large",
    ),
    (
        "exists(encounter in WELLNESS_VISIT within 357913942 years)",
        1,
        43,
        "the window 357913942 years is too large",
    ),
    // On the second line, deep in a rule.
    (
        "age >= 50\n  and (lives_alone or count(encounter in EMERGENCY_CLASS within 99999999 days) > 2)",
        2,
        65,
        "\"within 99999999 days\" is too long",
    ),
    // Huge numbers, alone and in lists, and negative.
    (
        "age > 10000000000",
        1,
        7,
        "the number 10000000000 is out of range (numbers are between -1000000000 and 1000000000)",
    ),
    ("age < -1000000001", 1, 7, "the number -1000000001 is out of range"),
    ("age in (1, 99999999999.5)", 1, 12, "the number 99999999999.5 is out of range"),
    (
        "count(encounter in WELLNESS_VISIT) >= 1000000000000",
        1,
        39,
        "the number 1000000000000 is out of range",
    ),
    // A number longer than an f64 holds: a syntax error, quoted short.
    (
        "age > 99999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999",
        1,
        7,
        "is too large",
    ),
    // Far dates.
    (
        "birth_date < \"0001-01-01\"",
        1,
        14,
        "the date \"0001-01-01\" is out of range (dates are from 1800-01-01 to 2300-12-31)",
    ),
    ("birth_date > '9999-12-31'", 1, 14, "the date \"9999-12-31\" is out of range"),
    ("\"1799-12-31\" < birth_date", 1, 1, "the date \"1799-12-31\" is out of range"),
    (
        "birth_date in ('1990-01-01', '2301-01-01')",
        1,
        30,
        "the date \"2301-01-01\" is out of range",
    ),
    // Deep nesting.
    (
        "((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((age > 1))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))",
        1,
        65,
        "nested too deeply",
    ),
    // Non-ASCII: accents, full-width digits, a right-to-left override, emoji.
    ("âge > 5", 1, 1, "unknown character"),
    (
        "birth_date < \"２０２４-01-01\"",
        1,
        14,
        "is not a date",
    ),
    ("sex == \"fémininé\"", 1, 8, "\"fémininé\" is not a value of sex"),
    ("sex == \"female\u{202E}\"", 1, 8, "is not a value of sex"),
    ("language == \"🙂\"", 1, 13, "\"🙂\" is not a value of language"),
    ("age > 5 and \u{0}", 1, 13, "unknown character"),
];

#[test]
fn each_hostile_rule_is_refused_with_a_located_error() {
    let mut failures = Vec::new();
    for (text, line, column, message) in HOSTILE {
        let errors = refused(text);
        let found: Vec<_> = errors
            .iter()
            .map(|e| (e.line, e.column, e.message.as_str()))
            .collect();
        let ok = errors.len() == 1
            && errors[0].line == *line
            && errors[0].column == *column
            && errors[0].message.contains(message);
        if !ok {
            failures.push(format!(
                "{text:?}:\n    expected {line}:{column} …{message}…\n    found    {found:?}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn windows_numbers_and_dates_at_the_limits_are_accepted() {
    for text in [
        "exists(encounter in WELLNESS_VISIT within 73000 days)",
        "exists(encounter in WELLNESS_VISIT within 2400 months)",
        "exists(encounter in WELLNESS_VISIT within 200 years)",
        "exists(encounter in WELLNESS_VISIT within 1 day)",
        "age > 1000000000 or age < -1000000000 or age in (0.5, -999999999.9)",
        "birth_date >= '1800-01-01' and birth_date <= \"2300-12-31\"",
    ] {
        if let Err(errors) = parse_and_check(text, &schema()) {
            panic!("{text:?} refused: {errors:?}");
        }
    }
    assert_eq!(MAX_WINDOW_DAYS, 73_000);
    assert_eq!(MAX_WINDOW_MONTHS, 2_400);
}

#[test]
fn a_very_long_rule_is_refused_at_the_limit_in_one_error() {
    let long = format!("{}age > 1", "age > 1 and ".repeat(2_000));
    let errors = refused(&long);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(
        errors[0].span.start, MAX_RULE_CHARS,
        "the error points at the first character past the limit"
    );
    assert_eq!(
        errors[0].message,
        format!(
            "the rule is too long ({} characters; a rule is at most 10000)",
            long.len()
        )
    );
    // Multi-byte characters count as one.
    let accented = format!("sex == \"{}\"", "é".repeat(MAX_RULE_CHARS));
    let errors = refused(&accented);
    assert_eq!((errors[0].line, errors[0].column), (1, MAX_RULE_CHARS + 1));
    // Just under the limit the rule is checked as usual.
    let fits = format!("{}age > 1", "age > 1 and ".repeat(800));
    assert!(fits.len() < MAX_RULE_CHARS);
    parse_and_check(&fits, &schema()).unwrap();
}

#[test]
fn long_names_and_texts_are_quoted_short() {
    let name = "a".repeat(5_000);
    let errors = refused(&format!("{name} > 1"));
    assert!(errors[0].message.starts_with("unknown signal \"aaaa"));
    assert!(errors[0].message.contains("…\""), "{}", errors[0].message);
    let text = "x".repeat(3_000);
    refused(&format!("sex == \"{text}\""));
    refused(&format!("birth_date < \"{text}\""));
    refused(&format!("age == \"{text}\""));
    refused(&format!("exists(encounter in {})", "A".repeat(3_000)));
    refused(&format!("age > 1 {}", "Q".repeat(3_000)));
    refused(&"1".repeat(3_000));
    refused(&format!("exists({} in X)", "z".repeat(3_000)));
    refused(&format!("{}(1)", "e".repeat(3_000)));
}

#[test]
fn huge_windows_are_refused_in_every_query_position() {
    for query in [
        "exists(active condition in DIABETES within 100000000 days)",
        "not exists(procedure, observation in MAMMOGRAPHY within 4000000 months)",
        "count(encounter class in INPATIENT_CLASS discharged within 300000 years) > 0",
        "age > 1 or (lives_alone and not exists(encounter type in WELLNESS_VISIT within 99999 years))",
    ] {
        let errors = refused(query);
        assert_eq!(errors.len(), 1, "{query}: {errors:?}");
        assert!(
            errors[0].message.ends_with(&format!("is too long ({WINDOW_BOUNDS})")),
            "{query}: {errors:?}"
        );
        // The error points at the amount, which the message quotes with its unit.
        let quoted = &query[errors[0].span.start..errors[0].span.end];
        assert!(errors[0].message.contains(&format!("\"within {quoted}\"")));
    }
}

/// An amount for a window: the limits, either side of them, and anything.
fn amount() -> impl Strategy<Value = u64> {
    prop_oneof![
        Just(0u64),
        Just(1),
        Just(200),
        Just(201),
        Just(2_400),
        Just(2_401),
        Just(73_000),
        Just(73_001),
        Just(357_913_941),
        Just(357_913_942),
        Just(u64::from(u32::MAX)),
        Just(u64::from(u32::MAX) + 1),
        any::<u64>(),
        0u64..100_000,
    ]
}

/// A number as written in a rule.
fn number() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<i64>().prop_map(|n| n.to_string()),
        (-2_000_000_000i64..2_000_000_000).prop_map(|n| n.to_string()),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| format!("{f}")),
        "[0-9]{1,400}(\\.[0-9]{1,20})?",
    ]
}

/// A date as written in a rule, valid or not.
fn date() -> impl Strategy<Value = String> {
    (0u32..10_000, 0u32..14, 0u32..33).prop_map(|(y, m, d)| format!("\"{y:04}-{m:02}-{d:02}\""))
}

/// One condition with extreme values.
fn condition() -> impl Strategy<Value = String> {
    let unit = prop_oneof![Just("day"), Just("days"), Just("months"), Just("years")];
    prop_oneof![
        (amount(), unit.clone())
            .prop_map(|(n, u)| format!("exists(encounter in WELLNESS_VISIT within {n} {u})")),
        (amount(), unit, number())
            .prop_map(|(n, u, k)| format!("count(procedure in MAMMOGRAPHY within {n} {u}) >= {k}")),
        number().prop_map(|k| format!("age > {k}")),
        (number(), number()).prop_map(|(a, b)| format!("age in ({a}, -{b})")),
        date().prop_map(|d| format!("birth_date < {d}")),
    ]
}

proptest! {
    // A fixed seed keeps the run the same everywhere.
    #![proptest_config(ProptestConfig {
        cases: 256,
        rng_seed: proptest::test_runner::RngSeed::Fixed(17),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn arbitrary_text_never_panics(text in any::<String>()) {
        if let Ok(expr) = parse(&text) {
            let _ = check(&expr, &text, &schema());
        }
    }

    #[test]
    fn rule_like_text_never_panics(
        text in "[a-z_ ()!=<>,.0-9\"'A-Z\\-]{0,200}|(exists|count|not|within|and|or|[0-9]+|days|years|\\(|\\)| )*",
    ) {
        if let Ok(expr) = parse(&text) {
            let _ = check(&expr, &text, &schema());
        }
    }

    /// Generated rules with extreme values: either refused with errors inside the text, or
    /// accepted with every window, number and date within the limits.
    #[test]
    fn extreme_values_are_refused_or_within_the_limits(
        conditions in proptest::collection::vec(condition(), 1..4),
    ) {
        let text = conditions.join(" and ");
        match parse_and_check(&text, &schema()) {
            Ok(expr) => {
                let canonical = expr.to_string();
                // Whatever is accepted prints back within the limits.
                for word in canonical.split(|c: char| !c.is_ascii_digit() && c != '.') {
                    if let Ok(value) = word.parse::<f64>() {
                        prop_assert!(value <= 1e9, "{canonical}");
                    }
                }
            }
            Err(errors) => {
                for error in &errors {
                    prop_assert!(error.span.end <= text.len());
                    prop_assert_eq!(line_column(&text, error.span.start), (error.line, error.column));
                }
            }
        }
    }
}
