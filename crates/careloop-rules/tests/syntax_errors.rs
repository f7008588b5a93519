//! Every syntax error: its exact line, column and message.

use careloop_rules::{line_column, parse};

/// (rule text, line, column, message). Positions are where the offending text starts; a
/// missing piece at the end of the rule is reported just after the last word.
const CASES: &[(&str, usize, usize, &str)] = &[
    // Empty and unfinished rules.
    ("", 1, 1, "expected a condition, found the end of the rule"),
    ("   # only a comment\n\n", 1, 1, "expected a condition, found the end of the rule"),
    ("not", 1, 4, "expected a condition, found the end of the rule"),
    ("age >= 50 and", 1, 14, "expected a condition, found the end of the rule"),
    ("age > 5 or\n# nothing after\n", 1, 11, "expected a condition, found the end of the rule"),
    ("age >= ", 1, 7, "expected a value, a signal or count(...), found the end of the rule"),
    ("age >= and", 1, 8, "expected a value, a signal or count(...), found \"and\""),
    ("and age > 5", 1, 1, "expected a condition, found \"and\""),
    ("age >= 5 and (sex == \"x\" or)", 1, 28, "expected a condition, found \")\""),
    // Operands without an operator.
    ("age mammography", 1, 5, "expected a comparison operator, found \"mammography\""),
    ("5", 1, 2, "expected a comparison operator, found the end of the rule"),
    ("'female' and x", 1, 10, "expected a comparison operator, found \"and\""),
    ("count(procedure in X)", 1, 22, "expected a comparison operator, found the end of the rule"),
    ("lives_alone 'yes'", 1, 13, "expected a comparison operator, found the text \"yes\""),
    ("exist(procedure in X)", 1, 1, "\"exist\" is not a function (did you mean \"exists\"?)"),
    ("lookup(procedure in X)", 1, 1, "\"lookup\" is not a function (write exists(...) or count(...))"),
    // After a complete condition.
    ("1 < age < 5", 1, 9, "expected \"and\", \"or\" or the end of the rule, found \"<\""),
    ("exists(procedure in X) == true", 1, 24, "expected \"and\", \"or\" or the end of the rule, found \"==\""),
    ("age >= 5)", 1, 9, "found \")\" without a matching \"(\""),
    ("(a == 1 b)", 1, 9, "expected \"and\", \"or\" or \")\", found \"b\""),
    // Parentheses.
    ("(age > 5 and x", 1, 15, "unclosed parenthesis opened at line 1, column 1"),
    ("x and (\n  age > 5\n  and y\n# trailing comment\n", 3, 8, "unclosed parenthesis opened at line 1, column 7"),
    // Lexical errors, reported where they start.
    ("a && b", 1, 3, "unknown keyword or character \"&&\" (write \"and\")"),
    ("a || b", 1, 3, "unknown keyword or character \"||\" (write \"or\")"),
    ("!a", 1, 1, "unknown keyword or character \"!\" (write \"not\")"),
    ("age = 5", 1, 5, "unknown keyword or character \"=\" (write \"==\")"),
    ("age => 5", 1, 5, "unknown keyword or character \"=>\" (write \">=\")"),
    ("age <> 5", 1, 5, "unknown keyword or character \"<>\" (write \"!=\")"),
    ("a AND b", 1, 3, "unknown keyword or character \"AND\" (write \"and\")"),
    ("NOT a", 1, 1, "unknown keyword or character \"NOT\" (write \"not\")"),
    ("a Or b", 1, 3, "unknown keyword or character \"Or\" (write \"or\")"),
    ("Age > 5", 1, 1, "invalid name \"Age\" (signal names are lowercase, value set names uppercase)"),
    ("age > 5 @", 1, 9, "unknown character \"@\""),
    ("x == 12m", 1, 6, "invalid number \"12m\""),
    ("x == 1.", 1, 6, "invalid number \"1.\""),
    ("name == \"abc", 1, 9, "unterminated text literal"),
    ("age >= 50 and\n  name == 'O\\'Brien and x", 2, 11, "unterminated text literal"),
    ("name == \"a\nb\"", 1, 9, "unterminated text literal"),
    ("name == \"a\\qb\"", 1, 11, "unknown escape \"\\q\" in text (write \\\", \\' or \\\\)"),
    ("sex == \u{201C}female\u{201D}", 1, 8, "unknown character \"\u{201C}\" (write straight quotes \" or ')"),
    // The first error wins even when a lexical error comes later.
    ("age >= and @", 1, 8, "expected a value, a signal or count(...), found \"and\""),
    // Numbers.
    ("age > -x", 1, 8, "expected a number after \"-\", found \"x\""),
    ("age > --5", 1, 8, "expected a number after \"-\", found \"-\""),
    // Lists.
    ("sex in \"female\"", 1, 8, "expected \"(\" and a list of values after \"in\", found the text \"female\""),
    (
        "sex in MAMMOGRAPHY",
        1,
        8,
        "expected \"(\" and a list of values after \"in\" (value sets go inside exists(...) or count(...)), found \"MAMMOGRAPHY\"",
    ),
    ("sex in ()", 1, 9, "expected a value (a number, text in quotes, true or false), found \")\""),
    ("age in (1, 2,)", 1, 14, "expected a value (a number, text in quotes, true or false), found \")\""),
    ("sex in ('a' 'b')", 1, 13, "expected \",\" or \")\", found the text \"b\""),
    ("sex in ('a', 'b'", 1, 17, "unclosed parenthesis opened at line 1, column 8"),
    ("sex in (age)", 1, 9, "expected a value (a number, text in quotes, true or false), found \"age\""),
    ("sex not ('a')", 1, 9, "expected \"in\" after \"not\", found \"(\""),
    // Queries.
    ("exists procedure in X", 1, 8, "expected \"(\" after \"exists\", found \"procedure\""),
    ("count procedure in X > 1", 1, 7, "expected \"(\" after \"count\", found \"procedure\""),
    (
        "exists(in X)",
        1,
        8,
        "expected a fact kind (condition, observation, report, procedure, encounter, medication, immunization, imaging, appointment, questionnaire), found \"in\"",
    ),
    ("exists(procedur in X)", 1, 8, "unknown fact kind \"procedur\" (did you mean \"procedure\"?)"),
    ("exists(procedure observation in X)", 1, 18, "expected \",\" between fact kinds, found \"observation\""),
    (
        "exists(encounter klass in X)",
        1,
        18,
        "expected \",\", a field (code, class, type, reason, modality) or \"in\", found \"klass\"",
    ),
    (
        "exists(procedure MAMMOGRAPHY)",
        1,
        18,
        "expected \",\", a field (code, class, type, reason, modality) or \"in\", found \"MAMMOGRAPHY\"",
    ),
    (
        "exists(condition active in X)",
        1,
        18,
        "\"active\" goes before the fact kind, e.g. exists(active condition in DIABETES)",
    ),
    ("exists(encounter class X)", 1, 24, "expected \"in\" and a value set name, found \"X\""),
    (
        "exists(imaging in mammography)",
        1,
        19,
        "expected a value set name in capitals (e.g. MAMMOGRAPHY), found \"mammography\"",
    ),
    ("exists(encounter in X foo)", 1, 23, "expected \"discharged\", \"within\" or \")\", found \"foo\""),
    ("exists(procedure in X foo)", 1, 23, "expected \"within\" or \")\", found \"foo\""),
    ("exists(procedure in X within 2 days foo)", 1, 37, "expected \")\", found \"foo\""),
    ("exists(encounter in X", 1, 22, "unclosed parenthesis opened at line 1, column 7"),
    (
        "exists(encounter in X within 1.5 months)",
        1,
        30,
        "expected a whole number of days, months or years after \"within\", found \"1.5\"",
    ),
    (
        "exists(encounter in X within -1 days)",
        1,
        30,
        "expected a whole number of days, months or years after \"within\", found \"-\"",
    ),
    ("exists(encounter in X within 3)", 1, 31, "expected a unit (days, months or years), found \")\""),
    ("exists(encounter in X within 99999999999 days)", 1, 30, "the window 99999999999 is too large (a window is at most 73000 days, 2400 months or 200 years)"),
    ("exists(encounter in X within 999999999 years)", 1, 30, "the window 999999999 years is too large (a window is at most 73000 days, 2400 months or 200 years)"),
    // Multi-line rules report the line of the error and the column within that line.
    (
        "sex == \"female\"\n  and age >= 50\n  and not exists(procedure in MAMMOGRAPHY within 2 yrs)",
        3,
        52,
        "expected a unit (days, months or years), found \"yrs\"",
    ),
    // Columns count characters, not bytes: "Adán" has a two-byte "á".
    ("name == \"Adán\" && x", 1, 16, "unknown keyword or character \"&&\" (write \"and\")"),
    ("# Pérez, José\nname == 'Zoë' and\n  age >= = 5", 3, 10, "unknown keyword or character \"=\" (write \"==\")"),
];

#[test]
fn each_syntax_error_has_its_line_column_and_message() {
    let mut failures = Vec::new();
    for &(text, line, column, message) in CASES {
        match parse(text) {
            Ok(expr) => failures.push(format!("{text:?}: parsed as {expr}")),
            Err(error) => {
                let actual = (error.line, error.column, error.message.as_str());
                if actual != (line, column, message) {
                    failures.push(format!(
                        "{text:?}:\n    expected {line}:{column} {message}\n    actual   {}:{} {}",
                        actual.0, actual.1, actual.2
                    ));
                }
                // The line and column always agree with the span.
                assert_eq!(
                    line_column(text, error.span.start),
                    (error.line, error.column),
                    "{text:?}"
                );
                assert!(
                    error.span.start <= error.span.end && error.span.end <= text.len(),
                    "{text:?}"
                );
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases differ:\n{}",
        failures.len(),
        CASES.len(),
        failures.join("\n")
    );
}

#[test]
fn error_display_names_the_position() {
    let error = parse("age >= 50 and\n  agee = 5").unwrap_err();
    assert_eq!(
        error.to_string(),
        "line 2, column 8: unknown keyword or character \"=\" (write \"==\")"
    );
}

#[test]
fn spans_cover_the_offending_text() {
    let text = "name == \"Adán\" && x";
    let error = parse(text).unwrap_err();
    assert_eq!(&text[error.span.start..error.span.end], "&&");
    let text = "age >= 5 and\n  sex == 'unterminated";
    let error = parse(text).unwrap_err();
    assert_eq!(&text[error.span.start..error.span.end], "'unterminated");
}

#[test]
fn nesting_is_limited_without_overflowing_the_stack() {
    let nested = |depth: usize| format!("{}a{}", "(".repeat(depth), ")".repeat(depth));
    assert!(parse(&nested(64)).is_ok());
    let error = parse(&nested(65)).unwrap_err();
    assert_eq!((error.line, error.column), (1, 65));
    assert_eq!(
        error.message,
        "the rule is nested too deeply (more than 64 levels of parentheses or \"not\")"
    );
    assert!(parse(&nested(100_000)).is_err());
    assert!(parse(&"not ".repeat(100_000)).is_err());
    assert!(parse(&format!("{}a", "not ".repeat(64))).is_ok());
}
