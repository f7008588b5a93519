//! Helpers shared by the integration tests: a realistic schema and span-free comparison.

#![allow(dead_code)]

use careloop_rules::{Expr, FactQuery, Operand, Schema, SignalType, Span};

/// The signals and value sets of the built-in care-gap segments, plus one of each type.
pub fn schema() -> Schema {
    let mut schema = Schema::default();
    for (name, signal_type) in [
        ("age", SignalType::Number),
        ("ed_visits_12m", SignalType::Number),
        ("sex", SignalType::Text),
        ("language", SignalType::Text),
        ("name", SignalType::Text),
        ("lives_alone", SignalType::Bool),
        ("housing_instability", SignalType::Bool),
        ("birth_date", SignalType::Date),
    ] {
        schema.signals.insert(name.to_string(), signal_type);
    }
    schema.allowed_values.insert(
        "sex".to_string(),
        ["female", "male", "other", "unknown"]
            .map(String::from)
            .to_vec(),
    );
    schema.allowed_values.insert(
        "language".to_string(),
        ["en", "es", "vi", "zh"].map(String::from).to_vec(),
    );
    for value_set in [
        "MAMMOGRAPHY",
        "DIABETES",
        "HBA1C",
        "INPATIENT_CLASS",
        "EMERGENCY_CLASS",
        "WELLNESS_VISIT",
        "MEDICATION_REVIEW",
        "INFLUENZA_VACCINE",
        "HOUSING_ANSWERS",
    ] {
        schema.value_sets.insert(value_set.to_string());
    }
    schema
}

const NO_SPAN: Span = Span { start: 0, end: 0 };

/// The tree with every span zeroed, to compare trees "modulo spans".
pub fn strip(expr: &Expr) -> Expr {
    match expr {
        Expr::Or(items) => Expr::Or(items.iter().map(strip).collect()),
        Expr::And(items) => Expr::And(items.iter().map(strip).collect()),
        Expr::Not(inner, _) => Expr::Not(Box::new(strip(inner)), NO_SPAN),
        Expr::Compare {
            left, op, right, ..
        } => Expr::Compare {
            left: strip_operand(left),
            op: *op,
            right: strip_operand(right),
            span: NO_SPAN,
        },
        Expr::InList {
            operand,
            negated,
            items,
            ..
        } => Expr::InList {
            operand: strip_operand(operand),
            negated: *negated,
            items: items.clone(),
            span: NO_SPAN,
        },
        Expr::Flag { name, .. } => Expr::Flag {
            name: name.clone(),
            span: NO_SPAN,
        },
        Expr::Exists { query, .. } => Expr::Exists {
            query: strip_query(query),
            span: NO_SPAN,
        },
        Expr::Literal(value, _) => Expr::Literal(*value, NO_SPAN),
    }
}

fn strip_operand(operand: &Operand) -> Operand {
    match operand {
        Operand::Signal { name, .. } => Operand::Signal {
            name: name.clone(),
            span: NO_SPAN,
        },
        Operand::Literal(literal, _) => Operand::Literal(literal.clone(), NO_SPAN),
        Operand::Count { query, .. } => Operand::Count {
            query: strip_query(query),
            span: NO_SPAN,
        },
    }
}

fn strip_query(query: &FactQuery) -> FactQuery {
    FactQuery {
        value_set_span: NO_SPAN,
        ..query.clone()
    }
}

/// Parses `text`, failing the test with the error if it does not parse.
pub fn parse_ok(text: &str) -> Expr {
    match careloop_rules::parse(text) {
        Ok(expr) => expr,
        Err(error) => panic!("{text:?} should parse: {error}"),
    }
}

/// Asserts that printing `expr` and parsing the result gives `expr` back (modulo spans) and
/// that the canonical text is a fixed point.
pub fn assert_round_trip(expr: &Expr) {
    let printed = expr.to_string();
    let reparsed = match careloop_rules::parse(&printed) {
        Ok(reparsed) => reparsed,
        Err(error) => panic!("canonical text {printed:?} does not parse: {error}"),
    };
    assert_eq!(
        strip(&reparsed),
        strip(expr),
        "round trip through {printed:?}"
    );
    assert_eq!(
        reparsed.to_string(),
        printed,
        "canonical text is not a fixed point"
    );
}
