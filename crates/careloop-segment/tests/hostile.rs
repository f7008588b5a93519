//! Issue 17: one segment definition must not crash every workstation of a team. A definition
//! with a window, number or date beyond what the engine computes is refused by
//! `check_definition` with a located error (segment, field, line and column, the bound); and
//! whatever it accepts, or even a rule it never saw, evaluates without panicking, at any
//! as-of date.

use std::collections::HashMap;

use careloop_segment::definition::SegmentDefinition;
use careloop_segment::{builtin_catalog, check_definition, engine, PatientFacts, Segment};
use careloop_segment::{Catalog, SharedFacts};
use chrono::NaiveDate;
use proptest::prelude::*;
use serde_json::json;

const DORMANT: &str = include_str!("../../../schema/segments/dormant.json");

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

/// The built-in `dormant` definition with `edit` applied, as pretty JSON text.
fn definition(edit: impl FnOnce(&mut serde_json::Value)) -> String {
    let mut value: serde_json::Value = serde_json::from_str(DORMANT).unwrap();
    edit(&mut value);
    serde_json::to_string_pretty(&value).unwrap()
}

/// The single error of a refused definition, as text.
fn refused(text: &str) -> String {
    let error = check_definition("draft.json", text)
        .expect_err("refused")
        .to_string();
    assert_eq!(error.lines().count(), 1, "{error}");
    error
}

/// (line, column) of the first occurrence of `needle` in `text`, 1-based.
fn position(text: &str, needle: &str) -> (usize, usize) {
    let offset = text.find(needle).unwrap();
    careloop_rules_position(text, offset)
}

fn careloop_rules_position(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().unwrap().chars().count() + 1;
    (line, column)
}

#[test]
fn a_huge_window_in_the_rule_is_refused_at_the_amount_with_the_bound() {
    for (window, message) in [
        ("100000000 days", "\"within 100000000 days\" is too long"),
        ("4000000 months", "\"within 4000000 months\" is too long"),
        ("300000 years", "\"within 300000 years\" is too long"),
    ] {
        let text = definition(|v| {
            v["rule"] = json!(format!(
                "encounters_ever >= 1 and not exists(encounter in WELLNESS_VISIT within {window})"
            ))
        });
        let (line, column) = position(&text, window);
        assert_eq!(
            refused(&text),
            format!(
                "draft.json:{line}:{column}: segment \"dormant\", in rule: {message} \
                 (a window is at most 73000 days, 2400 months or 200 years)"
            )
        );
    }
}

#[test]
fn a_huge_window_in_a_priority_condition_names_the_condition() {
    let text = definition(|v| {
        v["priority"][1]["when"] =
            json!("count(encounter in WELLNESS_VISIT within 4000000 months) == 0")
    });
    let (line, column) = position(&text, "4000000 months");
    assert_eq!(
        refused(&text),
        format!(
            "draft.json:{line}:{column}: segment \"dormant\", in priority[1].when: \
             \"within 4000000 months\" is too long \
             (a window is at most 73000 days, 2400 months or 200 years)"
        )
    );
}

#[test]
fn numbers_and_dates_of_the_definition_are_bounded_too() {
    type Edit = Box<dyn Fn(&mut serde_json::Value)>;
    let cases: Vec<(Edit, &str, &str)> = vec![
        (
            Box::new(|v| v["rule"] = json!("age > 99999999999")),
            "99999999999",
            "in rule: the number 99999999999 is out of range (numbers are between -1000000000 and 1000000000)",
        ),
        (
            Box::new(|v| v["rule"] = json!("last_hba1c_date > \"0001-01-01\"")),
            "\\\"0001",
            "in rule: the date \"0001-01-01\" is out of range (dates are from 1800-01-01 to 2300-12-31)",
        ),
        (
            Box::new(|v| v["priority"][0]["points"] = json!(2_000_000_000)),
            "2000000000",
            "in priority[0].points: 2000000000 is out of range (points are between -10000 and 10000)",
        ),
        (
            Box::new(|v| v["contact_within_working_days"] = json!(4_000_000_000u32)),
            "4000000000",
            "in contact_within_working_days: 4000000000 is out of range (at most 260 working days)",
        ),
        (
            Box::new(|v| v["cooldown_days"] = json!(4_000_000_000u32)),
            "4000000000",
            "in cooldown_days: 4000000000 is out of range (at most 73000 days)",
        ),
        (
            Box::new(|v| v["review_by"] = json!("9999-01-01")),
            "\"9999-01-01\"",
            "in review_by: 9999-01-01 is out of range (dates are from 1800-01-01 to 2300-12-31)",
        ),
    ];
    for (edit, at, message) in cases {
        let text = definition(edit);
        let (line, column) = position(&text, at);
        assert_eq!(
            refused(&text),
            format!("draft.json:{line}:{column}: segment \"dormant\", {message}")
        );
    }
    let many = definition(|v| {
        v["priority"] = json!(vec![
            json!({"when": "age > 1", "points": 10_000, "reason": "r"});
            101
        ])
    });
    assert!(refused(&many).contains("in priority: 101 conditions are too many (at most 100)"));
    // At the limits, accepted.
    let edge = definition(|v| {
        v["rule"] = json!("exists(encounter in WELLNESS_VISIT within 200 years) and age < 1000000000 and last_hba1c_date > '1800-01-01'");
        v["priority"] = json!(vec![
            json!({"when": "age > 1", "points": 10_000, "reason": "r"});
            100
        ]);
        v["contact_within_working_days"] = json!(260);
        v["cooldown_days"] = json!(73_000);
        v["review_by"] = json!("2300-12-31");
    });
    check_definition("draft.json", &edge).unwrap();
}

#[test]
fn a_long_segment_id_is_quoted_short() {
    let id = "x".repeat(5_000);
    let text = definition(|v| {
        v["id"] = json!(id);
        v["rule"] = json!("exists(encounter in WELLNESS_VISIT within 100000000 days)");
    });
    let error = refused(&text);
    assert!(error.len() < 300, "{error}");
    assert!(
        error.contains(&format!("segment \"{}…\"", "x".repeat(40))),
        "{error}"
    );
}

fn facts(id: &str, resources: &[serde_json::Value]) -> PatientFacts {
    let list: Vec<(String, String)> = resources
        .iter()
        .map(|r| {
            (
                r["resourceType"].as_str().unwrap().to_owned(),
                r.to_string(),
            )
        })
        .collect();
    PatientFacts::from_resources(id, &list, &SharedFacts::default())
}

/// A few people with facts of every common kind, some dated at the ends of the calendar.
fn panel() -> Vec<PatientFacts> {
    let coded = |system: &str, code: &str| json!({"coding": [{"system": system, "code": code}]});
    let person = |id: &str, birth: &str, dated: &str| {
        facts(
            id,
            &[
                json!({"resourceType": "Patient", "id": id, "birthDate": birth, "gender": "female"}),
                json!({"resourceType": "Condition", "id": format!("{id}-c"), "onsetDateTime": dated,
                       "code": coded("http://snomed.info/sct", "44054006")}),
                json!({"resourceType": "Encounter", "id": format!("{id}-e"), "status": "finished",
                       "class": {"code": "IMP"}, "period": {"start": dated, "end": dated}}),
                json!({"resourceType": "Procedure", "id": format!("{id}-p"), "status": "completed",
                       "performedDateTime": dated, "code": coded("http://snomed.info/sct", "71651007")}),
                json!({"resourceType": "Observation", "id": format!("{id}-o"), "status": "final",
                       "effectiveDateTime": dated, "code": coded("http://loinc.org", "4548-4"),
                       "valueQuantity": {"value": 9.5, "unit": "%"}}),
            ],
        )
    };
    vec![
        person("p1", "1950-05-05", "2020-01-10"),
        person("p2", "0001-01-01", "0001-01-01"),
        person("p3", "9999-12-31", "9999-12-31"),
        facts("p4", &[json!({"resourceType": "Patient", "id": "p4"})]),
    ]
}

/// As-of dates, ordinary and at the ends of what chrono represents.
fn as_of_dates() -> [NaiveDate; 5] {
    [
        d("2026-12-07"),
        d("1800-01-01"),
        d("9999-12-31"),
        NaiveDate::MIN,
        NaiveDate::MAX,
    ]
}

/// Runs `segments` over the panel and explains every person, at every as-of date.
fn evaluate(segments: Vec<Segment>, panel: &[PatientFacts]) {
    let catalog = Catalog {
        segments,
        ..builtin_catalog().unwrap()
    };
    let contacts: HashMap<String, NaiveDate> = [
        ("p1".to_owned(), d("2026-12-01")),
        ("p2".to_owned(), NaiveDate::MIN),
    ]
    .into();
    for as_of in as_of_dates() {
        let cohorts = engine::run(&catalog, panel, &contacts, as_of);
        assert_eq!(cohorts.len(), catalog.segments.len());
        for segment in &catalog.segments {
            for person in panel {
                let last = contacts.get(&person.id).copied();
                engine::explain(&catalog, segment, person, last, as_of).render();
            }
        }
    }
}

#[test]
fn a_rule_never_checked_evaluates_without_panicking_whatever_its_windows() {
    // What the finding crashed on, and worse: windows no checker would pass, built by hand.
    let template: SegmentDefinition = serde_json::from_str(DORMANT).unwrap();
    let mut segments = Vec::new();
    for rule in [
        "exists(encounter in INPATIENT_CLASS within 100000000 days)",
        "exists(encounter class in INPATIENT_CLASS within 4294967295 days)",
        "not exists(procedure in MAMMOGRAPHY within 4294967295 months)",
        "count(observation in HBA1C within 357913941 years) >= 1",
        "exists(active condition in DIABETES within 4000000 months) and age > 1e308",
        "last_hba1c_date < '0001-01-01' or last_hba1c_date > '9999-12-31'",
    ] {
        let parsed = careloop_rules::parse(rule);
        let Ok(expr) = parsed else { continue };
        segments.push(Segment {
            definition: SegmentDefinition {
                id: format!("hostile_{}", segments.len()),
                ..template.clone()
            },
            priority: vec![(expr.clone(), template.priority[0].clone())],
            rule: expr,
        });
    }
    assert!(segments.len() >= 4, "the hostile rules parse");
    evaluate(segments, &panel());
}

/// An amount for a window: the limits, either side of them, and anything.
fn amount() -> impl Strategy<Value = u64> {
    prop_oneof![
        1 => Just(1u64),
        1 => Just(200),
        1 => Just(2_400),
        1 => Just(2_401),
        1 => Just(73_000),
        1 => Just(73_001),
        1 => Just(100_000_000),
        1 => Just(u64::from(u32::MAX)),
        8 => 1u64..=2_400,
        2 => 0u64..100_000,
        1 => any::<u32>().prop_map(u64::from),
    ]
}

fn number() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => (-1_000_000_000i64..=1_000_000_000).prop_map(|n| n.to_string()),
        2 => (-1_000i64..1_000, 0u32..100).prop_map(|(n, f)| format!("{n}.{f}")),
        1 => any::<i64>().prop_map(|n| n.to_string()),
        1 => any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| format!("{f}")),
    ]
}

/// One condition with extreme values, over signals and value sets that exist.
fn condition() -> impl Strategy<Value = String> {
    let unit = prop_oneof![Just("days"), Just("months"), Just("years")];
    let query = prop_oneof![
        Just("encounter class in INPATIENT_CLASS"),
        Just("encounter class in INPATIENT_CLASS discharged"),
        Just("active condition in DIABETES"),
        Just("observation, report in HBA1C"),
        Just("procedure, imaging in MAMMOGRAPHY"),
    ];
    prop_oneof![
        (query.clone(), amount(), unit.clone())
            .prop_map(|(q, n, u)| format!("exists({q} within {n} {u})")),
        (query.clone(), amount(), unit.clone())
            .prop_map(|(q, n, u)| format!("not exists({q} within {n} {u})")),
        (query, amount(), unit, number())
            .prop_map(|(q, n, u, k)| format!("count({q} within {n} {u}) >= {k}")),
        number().prop_map(|k| format!("age > {k}")),
        number().prop_map(|k| format!("days_since_last_encounter <= {k}")),
        (-1_000_000_000i64..=1_000_000_000).prop_map(|k| format!("age >= {k}")),
        (
            prop_oneof![3 => 1800u32..=2300, 1 => 0u32..10_000],
            1u32..13,
            1u32..29
        )
            .prop_map(|(y, m, d)| format!("last_hba1c_date < '{y:04}-{m:02}-{d:02}'")),
    ]
}

/// Whatever the validator accepts evaluates without panic, at any as-of date; what it
/// refuses is refused with a located error. (Before issue 17, `within 100000000 days` was
/// accepted and panicked here.) A fixed seed keeps the run the same everywhere.
#[test]
fn whatever_check_definition_accepts_evaluates_without_panicking() {
    use proptest::test_runner::{Config, RngSeed, TestRunner};
    let config = Config {
        cases: 256,
        rng_seed: RngSeed::Fixed(17),
        failure_persistence: None,
        ..Config::default()
    };
    let strategy = (
        proptest::collection::vec(condition(), 1..4),
        condition(),
        prop_oneof![9 => -10_000i32..=10_000, 1 => any::<i32>()],
        prop_oneof![9 => 0u32..=260, 1 => any::<u32>()],
        prop_oneof![9 => 0u32..=73_000, 1 => any::<u32>()],
    );
    let panel = panel();
    let (accepted, refused) = (std::cell::Cell::new(0), std::cell::Cell::new(0));
    TestRunner::new(config)
        .run(
            &strategy,
            |(rule, when, points, contact_within, cooldown)| {
                let text = definition(|v| {
                    v["rule"] = json!(rule.join(" and "));
                    v["priority"][0]["when"] = json!(when);
                    v["priority"][0]["points"] = json!(points);
                    v["contact_within_working_days"] = json!(contact_within);
                    v["cooldown_days"] = json!(cooldown);
                });
                match check_definition("draft.json", &text) {
                    Ok(segment) => {
                        accepted.set(accepted.get() + 1);
                        evaluate(vec![segment], &panel);
                    }
                    Err(error) => {
                        refused.set(refused.get() + 1);
                        for line in error.to_string().lines() {
                            prop_assert!(line.starts_with("draft.json:"), "{}", line);
                            prop_assert!(line.contains(": segment \"dormant\", in "), "{}", line);
                        }
                    }
                }
                Ok(())
            },
        )
        .unwrap();
    // Both sides are exercised.
    let (accepted, refused) = (accepted.get(), refused.get());
    assert!(
        accepted >= 30 && refused >= 30,
        "accepted {accepted}, refused {refused}"
    );
}
