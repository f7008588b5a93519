//! Parsing of every construct, precedence, comments, spans and the canonical text round trip.

mod common;

use careloop_rules::{CmpOp, CodeField, Expr, FactKind, FactQuery, Literal, Operand, Span, Window};
use common::{assert_round_trip, parse_ok, strip};

const NO_SPAN: Span = Span { start: 0, end: 0 };

fn flag(name: &str) -> Expr {
    Expr::Flag {
        name: name.to_string(),
        span: NO_SPAN,
    }
}

fn signal(name: &str) -> Operand {
    Operand::Signal {
        name: name.to_string(),
        span: NO_SPAN,
    }
}

fn number(value: f64) -> Operand {
    Operand::Literal(Literal::Number(value), NO_SPAN)
}

fn text(value: &str) -> Operand {
    Operand::Literal(Literal::Text(value.to_string()), NO_SPAN)
}

fn compare(left: Operand, op: CmpOp, right: Operand) -> Expr {
    Expr::Compare {
        left,
        op,
        right,
        span: NO_SPAN,
    }
}

fn not(inner: Expr) -> Expr {
    Expr::Not(Box::new(inner), NO_SPAN)
}

fn query(kinds: &[FactKind], value_set: &str) -> FactQuery {
    FactQuery {
        kinds: kinds.to_vec(),
        field: CodeField::Code,
        value_set: value_set.to_string(),
        value_set_span: NO_SPAN,
        active: false,
        discharged: false,
        window: None,
    }
}

fn exists(query: FactQuery) -> Expr {
    Expr::Exists {
        query,
        span: NO_SPAN,
    }
}

/// Parses and strips the spans.
fn tree(text: &str) -> Expr {
    strip(&parse_ok(text))
}

#[test]
fn comparisons_with_every_operator_and_operand() {
    let cases = [
        ("age == 5", compare(signal("age"), CmpOp::Eq, number(5.0))),
        ("age != 7.5", compare(signal("age"), CmpOp::Ne, number(7.5))),
        ("age < -3", compare(signal("age"), CmpOp::Lt, number(-3.0))),
        (
            "age <= - 0.25",
            compare(signal("age"), CmpOp::Le, number(-0.25)),
        ),
        (
            "age > ed_visits_12m",
            compare(signal("age"), CmpOp::Gt, signal("ed_visits_12m")),
        ),
        ("50 >= age", compare(number(50.0), CmpOp::Ge, signal("age"))),
        (
            "sex == \"female\"",
            compare(signal("sex"), CmpOp::Eq, text("female")),
        ),
        (
            "sex == 'female'",
            compare(signal("sex"), CmpOp::Eq, text("female")),
        ),
        (
            r#"name == "say \"hi\"""#,
            compare(signal("name"), CmpOp::Eq, text("say \"hi\"")),
        ),
        (
            r"name == 'O\'Brien \\ co'",
            compare(signal("name"), CmpOp::Eq, text("O'Brien \\ co")),
        ),
        (
            "lives_alone == true",
            compare(
                signal("lives_alone"),
                CmpOp::Eq,
                Operand::Literal(Literal::Bool(true), NO_SPAN),
            ),
        ),
        (
            "false != lives_alone",
            compare(
                Operand::Literal(Literal::Bool(false), NO_SPAN),
                CmpOp::Ne,
                signal("lives_alone"),
            ),
        ),
        (
            "count(encounter class in EMERGENCY_CLASS within 12 months) >= 2",
            compare(
                Operand::Count {
                    query: FactQuery {
                        field: CodeField::Class,
                        window: Some(Window::Months(12)),
                        ..query(&[FactKind::Encounter], "EMERGENCY_CLASS")
                    },
                    span: NO_SPAN,
                },
                CmpOp::Ge,
                number(2.0),
            ),
        ),
    ];
    for (text, expected) in cases {
        assert_eq!(tree(text), expected, "{text}");
    }
}

#[test]
fn list_membership() {
    let list = |negated: bool, items: Vec<Literal>| Expr::InList {
        operand: signal("language"),
        negated,
        items,
        span: NO_SPAN,
    };
    assert_eq!(
        tree("language in (\"es\", 'vi')"),
        list(
            false,
            vec![Literal::Text("es".into()), Literal::Text("vi".into())]
        )
    );
    assert_eq!(
        tree("language not in (\"en\")"),
        list(true, vec![Literal::Text("en".into())])
    );
    assert_eq!(
        tree("language in (1, -2.5, true)"),
        list(
            false,
            vec![
                Literal::Number(1.0),
                Literal::Number(-2.5),
                Literal::Bool(true)
            ]
        )
    );
    let counted = tree("count(encounter in INPATIENT_CLASS) in (0, 1)");
    assert!(
        matches!(
            counted,
            Expr::InList {
                operand: Operand::Count { .. },
                ..
            }
        ),
        "{counted:?}"
    );
}

#[test]
fn flags_and_boolean_literals() {
    assert_eq!(tree("lives_alone"), flag("lives_alone"));
    assert_eq!(
        tree("lives_alone and not housing_instability"),
        Expr::And(vec![flag("lives_alone"), not(flag("housing_instability"))])
    );
    assert_eq!(tree("true"), Expr::Literal(true, NO_SPAN));
    assert_eq!(
        tree("false or a"),
        Expr::Or(vec![Expr::Literal(false, NO_SPAN), flag("a")])
    );
}

#[test]
fn fact_queries() {
    let cases = [
        (
            "exists(active condition in DIABETES)",
            FactQuery {
                active: true,
                ..query(&[FactKind::Condition], "DIABETES")
            },
        ),
        (
            "exists(observation, report in HBA1C within 12 months)",
            FactQuery {
                window: Some(Window::Months(12)),
                ..query(&[FactKind::Observation, FactKind::Report], "HBA1C")
            },
        ),
        (
            "exists(encounter class in INPATIENT_CLASS discharged within 30 days)",
            FactQuery {
                field: CodeField::Class,
                discharged: true,
                window: Some(Window::Days(30)),
                ..query(&[FactKind::Encounter], "INPATIENT_CLASS")
            },
        ),
        (
            "exists(encounter type in WELLNESS_VISIT within 1 year)",
            FactQuery {
                field: CodeField::Type,
                window: Some(Window::Months(12)),
                ..query(&[FactKind::Encounter], "WELLNESS_VISIT")
            },
        ),
        (
            "exists(imaging modality in MAMMOGRAPHY within 27 months)",
            FactQuery {
                field: CodeField::Modality,
                window: Some(Window::Months(27)),
                ..query(&[FactKind::Imaging], "MAMMOGRAPHY")
            },
        ),
        (
            "exists(encounter reason in DIABETES within 1 day)",
            FactQuery {
                field: CodeField::Reason,
                window: Some(Window::Days(1)),
                ..query(&[FactKind::Encounter], "DIABETES")
            },
        ),
        (
            "exists(procedure code in MAMMOGRAPHY)",
            query(&[FactKind::Procedure], "MAMMOGRAPHY"),
        ),
        (
            "exists(medication, immunization, appointment, questionnaire in X_2 within 3 years)",
            FactQuery {
                window: Some(Window::Months(36)),
                ..query(
                    &[
                        FactKind::Medication,
                        FactKind::Immunization,
                        FactKind::Appointment,
                        FactKind::Questionnaire,
                    ],
                    "X_2",
                )
            },
        ),
        (
            "exists(procedure in MAMMOGRAPHY within 1 month)",
            FactQuery {
                window: Some(Window::Months(1)),
                ..query(&[FactKind::Procedure], "MAMMOGRAPHY")
            },
        ),
    ];
    for (text, expected) in cases {
        assert_eq!(tree(text), exists(expected), "{text}");
    }
}

#[test]
fn the_mammography_rule_from_the_brief() {
    let rule = "sex == \"female\" and age >= 50 and age <= 74\n  and not exists(procedure, observation, report, imaging in MAMMOGRAPHY within 27 months)";
    let expected = Expr::And(vec![
        compare(signal("sex"), CmpOp::Eq, text("female")),
        compare(signal("age"), CmpOp::Ge, number(50.0)),
        compare(signal("age"), CmpOp::Le, number(74.0)),
        not(exists(FactQuery {
            window: Some(Window::Months(27)),
            ..query(
                &[
                    FactKind::Procedure,
                    FactKind::Observation,
                    FactKind::Report,
                    FactKind::Imaging,
                ],
                "MAMMOGRAPHY",
            )
        })),
    ]);
    assert_eq!(tree(rule), expected);
    assert_eq!(parse_ok(rule).conjuncts().len(), 4);
}

#[test]
fn precedence_and_grouping() {
    let cases = [
        (
            "a or b and c",
            Expr::Or(vec![flag("a"), Expr::And(vec![flag("b"), flag("c")])]),
        ),
        (
            "a and b or c",
            Expr::Or(vec![Expr::And(vec![flag("a"), flag("b")]), flag("c")]),
        ),
        ("not a and b", Expr::And(vec![not(flag("a")), flag("b")])),
        ("not a or b", Expr::Or(vec![not(flag("a")), flag("b")])),
        ("not (a and b)", not(Expr::And(vec![flag("a"), flag("b")]))),
        ("not not a", not(not(flag("a")))),
        (
            "(a or b) and c",
            Expr::And(vec![Expr::Or(vec![flag("a"), flag("b")]), flag("c")]),
        ),
        (
            "a or b or c",
            Expr::Or(vec![flag("a"), flag("b"), flag("c")]),
        ),
        (
            "a and b and c and d",
            Expr::And(vec![flag("a"), flag("b"), flag("c"), flag("d")]),
        ),
        // Parentheses are kept in the tree, so `a or (b or c)` is not flattened.
        (
            "a or (b or c)",
            Expr::Or(vec![flag("a"), Expr::Or(vec![flag("b"), flag("c")])]),
        ),
        ("((a))", flag("a")),
        // `not` negates the whole comparison after it.
        (
            "not age >= 50",
            not(compare(signal("age"), CmpOp::Ge, number(50.0))),
        ),
        (
            "age > 1 and age < 5 or lives_alone",
            Expr::Or(vec![
                Expr::And(vec![
                    compare(signal("age"), CmpOp::Gt, number(1.0)),
                    compare(signal("age"), CmpOp::Lt, number(5.0)),
                ]),
                flag("lives_alone"),
            ]),
        ),
    ];
    for (text, expected) in cases {
        assert_eq!(tree(text), expected, "{text}");
    }
}

#[test]
fn comments_newlines_and_spacing_do_not_matter() {
    let commented = "# Women due for a mammogram\nsex == 'female'   # the sex signal\n\n\tand\n  age>=50#no space\n";
    assert_eq!(tree(commented), tree("sex == \"female\" and age >= 50"));
    assert_eq!(
        tree("exists(\n  procedure ,\n  imaging\n  in MAMMOGRAPHY # any\n  within 2 years\n)"),
        tree("exists(procedure, imaging in MAMMOGRAPHY within 24 months)")
    );
    assert_eq!(
        tree("name == '# not a comment'"),
        compare(signal("name"), CmpOp::Eq, text("# not a comment"))
    );
}

#[test]
fn spans_point_at_the_source() {
    let source = "sex == \"Adán\"\n  and not exists(procedure in MAMMOGRAPHY)";
    let expr = parse_ok(source);
    let Expr::And(items) = &expr else {
        panic!("expected And, got {expr:?}")
    };
    let Expr::Compare {
        left, right, span, ..
    } = &items[0]
    else {
        panic!("expected Compare")
    };
    assert_eq!(&source[span.start..span.end], "sex == \"Adán\"");
    assert!(matches!(left, Operand::Signal { span, .. } if &source[span.start..span.end] == "sex"));
    assert!(
        matches!(right, Operand::Literal(_, span) if &source[span.start..span.end] == "\"Adán\"")
    );
    let Expr::Not(inner, not_span) = &items[1] else {
        panic!("expected Not")
    };
    assert_eq!(
        &source[not_span.start..not_span.end],
        "not exists(procedure in MAMMOGRAPHY)"
    );
    let Expr::Exists { query, span } = inner.as_ref() else {
        panic!("expected Exists")
    };
    assert_eq!(
        &source[span.start..span.end],
        "exists(procedure in MAMMOGRAPHY)"
    );
    assert_eq!(
        &source[query.value_set_span.start..query.value_set_span.end],
        "MAMMOGRAPHY"
    );

    let source = "age > - 5 and language not in ('es', \"vi\")";
    let Expr::And(items) = parse_ok(source) else {
        panic!("expected And")
    };
    let Expr::Compare {
        right: Operand::Literal(_, minus),
        ..
    } = &items[0]
    else {
        panic!("expected Compare")
    };
    assert_eq!(&source[minus.start..minus.end], "- 5");
    let Expr::InList { span, .. } = &items[1] else {
        panic!("expected InList")
    };
    assert_eq!(
        &source[span.start..span.end],
        "language not in ('es', \"vi\")"
    );
}

/// Rules covering every construct, written the way people write them (any quotes, extra
/// parentheses, years, comments).
const CORPUS: &[&str] = &[
    "sex == \"female\" and age >= 50 and age <= 74\n  and not exists(procedure, observation, report, imaging in MAMMOGRAPHY within 27 months)",
    "exists(active condition in DIABETES) and not exists(observation, report in HBA1C within 12 months)",
    "exists(encounter class in INPATIENT_CLASS discharged within 30 days)",
    "count(encounter class in EMERGENCY_CLASS within 12 months) >= 2",
    "not exists(encounter type in WELLNESS_VISIT within 1 year)",
    "exists(imaging modality in MAMMOGRAPHY within 27 months)",
    "lives_alone and not housing_instability",
    "language in ('es', 'vi') or language not in (\"en\")",
    "a or b and c",
    "(a or b) and c",
    "a and (b or c) and not (d or e)",
    "not (a and b) or not not c",
    "a or (b or c)",
    "(a and b) and c",
    "((a and b)) or ((c))",
    "age > -1.5 and age < 100.25 and 0 < age",
    "name == 'it\\'s \"quoted\" \\\\ here' # comment",
    "true and false or true",
    "lives_alone == true and housing_instability != false",
    "count(active medication in MEDICATION_REVIEW) > count(immunization in INFLUENZA_VACCINE within 2 years)",
    "count(questionnaire in HOUSING_ANSWERS) in (0, 1, 2)",
    "exists(appointment type in MEDICATION_REVIEW within 90 days)",
    "exists(encounter reason in DIABETES within 1 day) or exists(procedure code in MAMMOGRAPHY within 1 month)",
    "ed_visits_12m >= 1000000000000000000000 or age == 0.1",
    "not age >= 50",
    "x in (true, false, -3)",
];

#[test]
fn canonical_text_round_trips_over_the_corpus() {
    for rule in CORPUS {
        assert_round_trip(&parse_ok(rule));
    }
}

#[test]
fn canonical_text_is_normalised() {
    let cases = [
        ("sex=='female'", "sex == \"female\""),
        (
            "exists(encounter code in X within 24 months)",
            "exists(encounter in X within 2 years)",
        ),
        (
            "exists(procedure in X within 1 days)",
            "exists(procedure in X within 1 day)",
        ),
        ("((a)) and (b and c)", "a and (b and c)"),
        ("a or b and c", "a or b and c"),
        ("(a or b) and c", "(a or b) and c"),
        ("not (a or b)", "not (a or b)"),
        ("age > - 5", "age > -5"),
        ("x == 7.50", "x == 7.5"),
        ("x == 'a\\\\b'", "x == \"a\\\\b\""),
    ];
    for (text, canonical) in cases {
        assert_eq!(parse_ok(text).to_string(), canonical, "{text}");
    }
}
