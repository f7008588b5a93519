//! Validation against a schema: every error kind, positions, and several errors at once.

mod common;

use careloop_rules::{check, line_column, parse, parse_and_check, RuleError, Schema};
use common::{parse_ok, schema};

/// The (line, column, message) of every validation error of `text`, which must parse.
fn errors(text: &str) -> Vec<(usize, usize, String)> {
    let expr = parse_ok(text);
    match check(&expr, text, &schema()) {
        Ok(()) => Vec::new(),
        Err(errors) => {
            for error in &errors {
                assert_eq!(
                    line_column(text, error.span.start),
                    (error.line, error.column),
                    "{text:?}"
                );
                assert!(error.span.end <= text.len(), "{text:?}: {error:?}");
            }
            errors
                .into_iter()
                .map(|error| (error.line, error.column, error.message))
                .collect()
        }
    }
}

/// (rule text, column of the error on line 1, message): rules with exactly one error.
const SINGLE_ERRORS: &[(&str, usize, &str)] = &[
    // Unknown names, with and without a suggestion.
    (
        "agee > 5",
        1,
        "unknown signal \"agee\" (did you mean \"age\"?)",
    ),
    ("age > 5 and zzz", 13, "unknown signal \"zzz\""),
    (
        "lives_alon",
        1,
        "unknown signal \"lives_alon\" (did you mean \"lives_alone\"?)",
    ),
    (
        "language in ('es') or langage == 'vi'",
        23,
        "unknown signal \"langage\" (did you mean \"language\"?)",
    ),
    (
        "exists(procedure in MAMOGRAPHY)",
        21,
        "unknown value set \"MAMOGRAPHY\" (did you mean \"MAMMOGRAPHY\"?)",
    ),
    (
        "count(procedure in NOPE) > 1",
        20,
        "unknown value set \"NOPE\"",
    ),
    // Types in comparisons.
    ("age == \"old\"", 1, "age is a number; \"old\" is text"),
    ("sex == 5", 1, "sex is text; 5 is a number"),
    ("5 == sex", 1, "5 is a number; sex is text"),
    (
        "lives_alone == 1",
        1,
        "lives_alone is true or false; 1 is a number",
    ),
    (
        "age == ed_visits_12m and age == sex",
        26,
        "age is a number; sex is text",
    ),
    (
        "count(encounter class in EMERGENCY_CLASS) >= \"two\"",
        1,
        "count(...) is a number; \"two\" is text",
    ),
    ("birth_date < 5", 1, "birth_date is a date; 5 is a number"),
    ("birth_date < name", 1, "birth_date is a date; name is text"),
    (
        "sex < \"male\"",
        1,
        "\"<\" needs numbers or dates; sex is text (use == or !=)",
    ),
    (
        "lives_alone >= true",
        1,
        "\">=\" needs numbers or dates; lives_alone is true or false (use == or !=)",
    ),
    (
        "birth_date > \"1970-13-01\"",
        14,
        "\"1970-13-01\" is not a date (write it as \"YYYY-MM-DD\", e.g. \"2024-01-31\")",
    ),
    // Non-boolean signals used as conditions.
    ("age and lives_alone", 1, "age is a number, not a condition"),
    (
        "lives_alone and not sex",
        21,
        "sex is text, not a condition",
    ),
    ("birth_date", 1, "birth_date is a date, not a condition"),
    // Values outside a closed set.
    (
        "sex == \"femal\"",
        8,
        "\"femal\" is not a value of sex (expected one of: female, male, other, unknown)",
    ),
    (
        "'Female' != sex",
        1,
        "\"Female\" is not a value of sex (expected one of: female, male, other, unknown)",
    ),
    (
        "sex in (\"female\", \"mal\")",
        19,
        "\"mal\" is not a value of sex (expected one of: female, male, other, unknown)",
    ),
    (
        "language not in ('es', 'fr')",
        24,
        "\"fr\" is not a value of language (expected one of: en, es, vi, zh)",
    ),
    // Types in lists.
    (
        "age in (1, \"two\")",
        12,
        "age is a number; \"two\" is text",
    ),
    (
        "age not in (1, -2, true)",
        20,
        "age is a number; true is true or false",
    ),
    ("sex in ('female', 2)", 19, "sex is text; 2 is a number"),
    (
        "count(procedure in MAMMOGRAPHY) in (0, 'one')",
        40,
        "count(...) is a number; \"one\" is text",
    ),
    (
        "birth_date in ('2024-02-30')",
        16,
        "\"2024-02-30\" is not a date (write it as \"YYYY-MM-DD\", e.g. \"2024-01-31\")",
    ),
    // Query misuse.
    (
        "exists(procedure class in INPATIENT_CLASS)",
        18,
        "\"class\" applies only to encounter, not to procedure",
    ),
    (
        "exists(encounter, procedure reason in DIABETES)",
        29,
        "\"reason\" applies only to encounter, not to procedure",
    ),
    (
        "exists(condition type in DIABETES)",
        18,
        "\"type\" applies only to encounter and appointment, not to condition",
    ),
    (
        "exists(imaging, procedure, report modality in MAMMOGRAPHY)",
        35,
        "\"modality\" applies only to imaging, not to procedure and report",
    ),
    (
        "exists(active observation in HBA1C)",
        8,
        "\"active\" applies only to condition and medication, not to observation",
    ),
    (
        "count(active condition, encounter in DIABETES) > 0",
        7,
        "\"active\" applies only to condition and medication, not to encounter",
    ),
    (
        "exists(procedure in MAMMOGRAPHY discharged)",
        33,
        "\"discharged\" applies only to encounter, not to procedure",
    ),
    (
        "exists(procedure in MAMMOGRAPHY within 0 days)",
        40,
        "\"within 0 days\" is an empty window (use at least 1)",
    ),
    (
        "exists(procedure in MAMMOGRAPHY within 0 years)",
        40,
        "\"within 0 months\" is an empty window (use at least 1)",
    ),
    (
        "exists(procedure, imaging, procedure in MAMMOGRAPHY)",
        28,
        "\"procedure\" is listed twice",
    ),
];

#[test]
fn each_validation_error_kind() {
    let mut failures = Vec::new();
    for &(text, column, message) in SINGLE_ERRORS {
        let actual = errors(text);
        if actual != vec![(1, column, message.to_string())] {
            failures.push(format!(
                "{text:?}:\n    expected 1:{column} {message}\n    actual   {actual:?}"
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases differ:\n{}",
        failures.len(),
        SINGLE_ERRORS.len(),
        failures.join("\n")
    );
}

#[test]
fn valid_rules_have_no_errors() {
    let rules = [
        "sex == \"female\" and age >= 50 and age <= 74\n  and not exists(procedure, observation, report, imaging in MAMMOGRAPHY within 27 months)",
        "exists(active condition in DIABETES) and not exists(observation, report in HBA1C within 12 months)",
        "exists(encounter class in INPATIENT_CLASS discharged within 30 days)",
        "count(encounter class in EMERGENCY_CLASS within 12 months) >= 2",
        "not exists(encounter type in WELLNESS_VISIT within 1 year)",
        "exists(imaging modality in MAMMOGRAPHY within 27 months)",
        "exists(appointment type in MEDICATION_REVIEW) or exists(encounter reason in DIABETES)",
        "exists(active medication in MEDICATION_REVIEW) and count(immunization in INFLUENZA_VACCINE) == 0",
        "lives_alone and not housing_instability",
        "lives_alone == true or housing_instability != false",
        "language in ('es', 'vi') and sex not in ('unknown', 'other')",
        "name == 'Adán' and age > ed_visits_12m",
        "birth_date < '1960-01-01' and '2024-02-29' >= birth_date and birth_date != birth_date",
        "birth_date in ('1950-05-05', '1960-06-06')",
        "count(questionnaire in HOUSING_ANSWERS) in (1, 2) and 1 < 2 and true",
        "exists(encounter, appointment type in WELLNESS_VISIT within 365 days)",
    ];
    for rule in rules {
        assert_eq!(errors(rule), Vec::<(usize, usize, String)>::new(), "{rule}");
    }
}

#[test]
fn every_error_is_reported_in_text_order() {
    let text = "agee >= 50 and sex == \"femal\"\n  and not exists(procedure class in MAMOGRAPHY within 0 days)\n  and lives_alone == 1 and age";
    let expected = vec![
        (
            1,
            1,
            "unknown signal \"agee\" (did you mean \"age\"?)".to_string(),
        ),
        (
            1,
            23,
            "\"femal\" is not a value of sex (expected one of: female, male, other, unknown)"
                .to_string(),
        ),
        (
            2,
            28,
            "\"class\" applies only to encounter, not to procedure".to_string(),
        ),
        (
            2,
            37,
            "unknown value set \"MAMOGRAPHY\" (did you mean \"MAMMOGRAPHY\"?)".to_string(),
        ),
        (
            2,
            55,
            "\"within 0 days\" is an empty window (use at least 1)".to_string(),
        ),
        (
            3,
            7,
            "lives_alone is true or false; 1 is a number".to_string(),
        ),
        (3, 28, "age is a number, not a condition".to_string()),
    ];
    assert_eq!(errors(text), expected);
}

#[test]
fn an_unknown_signal_suppresses_the_type_errors_of_its_comparison() {
    assert_eq!(
        errors("agee == 'old'"),
        vec![(
            1,
            1,
            "unknown signal \"agee\" (did you mean \"age\"?)".to_string()
        )]
    );
    assert_eq!(
        errors("zzz in (1, 'x')"),
        vec![(1, 1, "unknown signal \"zzz\"".to_string())]
    );
}

#[test]
fn columns_count_characters_after_non_ascii_text() {
    let text = "name == \"Adán\" and agee > 1";
    let expr = parse_ok(text);
    let errors = check(&expr, text, &schema()).unwrap_err();
    assert_eq!(errors.len(), 1);
    // "agee" starts at byte 20 but at character 20 of the line, i.e. column 20 (1-based):
    // `name == "Adán" and ` is 19 characters and 20 bytes.
    assert_eq!(errors[0].span.start, 20);
    assert_eq!((errors[0].line, errors[0].column), (1, 20));
    assert_eq!(&text[errors[0].span.start..errors[0].span.end], "agee");
    assert_eq!(
        errors[0].to_string(),
        "line 1, column 20: unknown signal \"agee\" (did you mean \"age\"?)"
    );

    let text = "# Núñez\nsex == 'Zoë' and sex == 'Chloé'";
    assert_eq!(
        crate::errors(text),
        vec![
            (
                2,
                8,
                "\"Zoë\" is not a value of sex (expected one of: female, male, other, unknown)"
                    .to_string()
            ),
            (
                2,
                25,
                "\"Chloé\" is not a value of sex (expected one of: female, male, other, unknown)"
                    .to_string()
            ),
        ]
    );
}

#[test]
fn parse_and_check_returns_the_syntax_error_alone_or_every_validation_error() {
    let schema = schema();
    let syntax: Vec<RuleError> = parse_and_check("agee >= 50 &&", &schema).unwrap_err();
    assert_eq!(syntax.len(), 1);
    assert_eq!(
        syntax[0].message,
        "unknown keyword or character \"&&\" (write \"and\")"
    );

    let semantic = parse_and_check("agee >= 50 and sex == 'x'", &schema).unwrap_err();
    assert_eq!(semantic.len(), 2);

    let rule = parse_and_check("age >= 50", &schema).unwrap();
    assert_eq!(rule.to_string(), "age >= 50");
}

#[test]
fn an_empty_schema_rejects_every_name() {
    let text = "age > 1 and exists(procedure in X)";
    let expr = parse(text).unwrap();
    let errors = check(&expr, text, &Schema::default()).unwrap_err();
    let messages: Vec<&str> = errors.iter().map(|error| error.message.as_str()).collect();
    assert_eq!(
        messages,
        ["unknown signal \"age\"", "unknown value set \"X\""]
    );
}

#[test]
fn check_with_mismatched_text_falls_back_to_node_spans_without_panicking() {
    // A tree checked against text it was not parsed from must still not panic.
    let expr = parse_ok("exists(procedure class in MAMMOGRAPHY within 0 days) and sex in ('x', 1)");
    for text in ["", "short", "é", "exists(procedure in MAMMOGRAPHY)"] {
        let errors = check(&expr, text, &schema()).unwrap_err();
        assert_eq!(errors.len(), 4, "{text:?}: {errors:?}");
    }
}
