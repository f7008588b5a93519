//! The engine beyond membership: explanations (snapshot), capacity, the dormant-first
//! hold-back and the re-contact cooldown, and located errors in definition files.

use std::collections::HashMap;

use careloop_segment::{builtin_catalog, engine, load_catalog, PatientFacts, SharedFacts};
use chrono::NaiveDate;
use serde_json::json;

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
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

fn diabetic(id: &str, last_visit: &str, hba1c: Option<(&str, f64)>) -> PatientFacts {
    let mut resources = vec![
        json!({"resourceType": "Patient", "id": id, "birthDate": "1950-05-05", "gender": "female"}),
        json!({"resourceType": "Condition", "id": format!("{id}-dm"), "onsetDateTime": "2012-02-03",
               "code": {"coding": [{"system": "http://snomed.info/sct", "code": "44054006"}]}}),
        json!({"resourceType": "Encounter", "id": format!("{id}-visit"), "status": "finished", "class": {"code": "AMB"},
               "period": {"start": last_visit, "end": last_visit}}),
    ];
    if let Some((date, value)) = hba1c {
        resources.push(json!({"resourceType": "Observation", "id": format!("{id}-a1c"), "status": "final",
            "code": {"coding": [{"system": "http://loinc.org", "code": "4548-4"}]}, "effectiveDateTime": date,
            "valueQuantity": {"value": value, "unit": "%"}}));
    }
    facts(id, &resources)
}

#[test]
fn a_member_explanation_shows_conditions_signals_evidence_and_points() {
    let catalog = builtin_catalog().unwrap();
    let segment = catalog
        .segments
        .iter()
        .find(|s| s.definition.id == "diabetes_hba1c_gap")
        .unwrap();
    let person = diabetic("p1", "2021-01-10", Some(("2019-11-02", 9.4)));
    let explanation = engine::explain(&catalog, segment, &person, None, d("2021-03-31"));
    assert_eq!(
        explanation.render(),
        "diabetes_hba1c_gap: member
  [x] exists(active condition in DIABETES)
      Condition p1-dm SNOMED 44054006 2012-02-03
  [x] not exists(observation, report in HBA1C within 1 year)
  priority 3
      +3 The last HbA1c was 9% or more: poor control.
"
    );
}

#[test]
fn a_non_member_explanation_names_the_first_failed_condition() {
    let catalog = builtin_catalog().unwrap();
    let segment = catalog
        .segments
        .iter()
        .find(|s| s.definition.id == "diabetes_hba1c_gap")
        .unwrap();
    let person = diabetic("p2", "2021-01-10", Some(("2020-11-02", 6.8)));
    let explanation = engine::explain(&catalog, segment, &person, None, d("2021-03-31"));
    assert_eq!(
        explanation.render(),
        "diabetes_hba1c_gap: not a member
  [x] exists(active condition in DIABETES)
      Condition p2-dm SNOMED 44054006 2012-02-03
  [ ] not exists(observation, report in HBA1C within 1 year)
      Observation p2-a1c LOINC 4548-4 2020-11-02
  why not: failed: not exists(observation, report in HBA1C within 1 year)
"
    );
    let dead = facts(
        "p3",
        &[
            json!({"resourceType": "Patient", "id": "p3", "birthDate": "1950-01-01", "deceasedBoolean": true}),
        ],
    );
    let explanation = engine::explain(&catalog, segment, &dead, None, d("2021-03-31"));
    assert!(explanation
        .why_not
        .unwrap()
        .starts_with("not alive at the as-of date"));
}

#[test]
fn capacity_splits_members_by_priority_and_holds_back_dormant_and_recently_contacted_people() {
    let mut catalog = builtin_catalog().unwrap();
    let segment = catalog
        .segments
        .iter_mut()
        .find(|s| s.definition.id == "diabetes_hba1c_gap")
        .unwrap();
    segment.definition.weekly_capacity = 2;
    catalog
        .segments
        .retain(|s| s.definition.id == "diabetes_hba1c_gap");
    let panel = vec![
        diabetic("a-high", "2021-01-10", Some(("2019-01-01", 10.2))), // priority 3
        diabetic("b-low", "2021-01-10", Some(("2019-01-01", 7.0))),   // priority 0
        diabetic("c-low", "2021-01-10", None),                        // priority 0
        diabetic("d-dormant", "2019-05-05", None),                    // no visit in 12 months
        diabetic("e-contacted", "2021-01-10", Some(("2019-01-01", 11.0))),
    ];
    let contacts = HashMap::from([("e-contacted".to_owned(), d("2021-03-20"))]);
    let [cohort] = engine::run(&catalog, &panel, &contacts, d("2021-03-31"))
        .try_into()
        .unwrap();
    assert_eq!(
        cohort.members,
        ["a-high", "b-low", "c-low", "d-dormant", "e-contacted"],
        "holding back removes no one"
    );
    assert_eq!(
        cohort.worklist,
        ["a-high", "b-low"],
        "capacity 2: the highest priority, then the lowest id"
    );
    assert_eq!(cohort.overflow, ["c-low"], "the rest is overflow, listed");
    assert_eq!(
        cohort.held_back,
        [
            (
                "d-dormant".to_owned(),
                "dormant: re-engagement comes first (dormant_reengagement)".to_owned()
            ),
            (
                "e-contacted".to_owned(),
                "contacted on 2021-03-20, within the 30-day re-contact cooldown".to_owned()
            ),
        ]
    );
    // Out of the cooldown 30 days later.
    let [later] = engine::run(&catalog, &panel, &contacts, d("2021-04-19"))
        .try_into()
        .unwrap();
    assert!(later.held_back.iter().all(|(id, _)| id != "e-contacted"));
}

#[test]
fn invalid_definitions_give_file_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let builtin: serde_json::Value =
        serde_json::from_str(include_str!("../../../schema/segments/dormant.json")).unwrap();
    let write = |name: &str, rule: &str| {
        let mut def = builtin.clone();
        def["id"] = json!(name);
        def["rule"] = json!(rule);
        std::fs::write(
            dir.path().join(format!("{name}.json")),
            serde_json::to_string_pretty(&def).unwrap(),
        )
        .unwrap();
    };
    write("a_unknown_signal", "agee >= 65");
    write("b_wrong_type", "age == \"old\"");
    write(
        "c_unknown_value_set",
        "not exists(procedure in MAMOGRAPHY within 2 years)",
    );
    write("d_syntax", "age >= 65 and and");
    let err = load_catalog(dir.path()).unwrap_err().to_string();
    let lines: Vec<&str> = err.lines().collect();
    let rule_line = serde_json::to_string_pretty(&builtin)
        .unwrap()
        .lines()
        .position(|l| l.contains("\"rule\""))
        .unwrap()
        + 1;
    let expect = |file: &str, column: usize, message: &str| {
        let prefix = format!(
            "{}:{rule_line}:{column}: segment \"{}\", in rule: ",
            dir.path().join(file).display(),
            file.trim_end_matches(".json")
        );
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with(&prefix) && l.contains(message)),
            "expected {prefix}…{message} in:\n{err}"
        );
    };
    expect(
        "a_unknown_signal.json",
        12,
        "unknown signal \"agee\" (did you mean \"age\"?)",
    );
    expect("b_wrong_type.json", 12, "age is a number; \"old\" is text");
    expect(
        "c_unknown_value_set.json",
        36,
        "unknown value set \"MAMOGRAPHY\" (did you mean \"MAMMOGRAPHY\"?)",
    );
    expect("d_syntax.json", 26, "expected a condition, found \"and\"");
    assert_eq!(lines.len(), 4, "one error per file: {err}");
}

#[test]
fn charlson_applies_the_hierarchy_and_counts_only_conditions_active_at_d() {
    use careloop_segment::scores;
    let condition = |id: &str, code: &str, extra: serde_json::Value| {
        let mut c = json!({"resourceType": "Condition", "id": id, "onsetDateTime": "2015-01-01",
            "code": {"coding": [{"system": "http://snomed.info/sct", "code": code}]}});
        for (k, v) in extra.as_object().unwrap() {
            c[k] = v.clone();
        }
        c
    };
    let person = facts(
        "c1",
        &[
            json!({"resourceType": "Patient", "id": "c1", "birthDate": "1940-01-01"}),
            condition("dm", "44054006", json!({})), // diabetes, uncomplicated (1)
            condition("dm-ckd", "368581000119106", json!({})), // diabetes, complicated (2)
            condition("copd", "13645005", json!({})), // chronic pulmonary (1)
            condition("mi", "22298006", json!({"abatementDateTime": "2019-01-01"})), // abated: not counted
            condition("htn", "59621000", json!({})), // hypertension: not Charlson
            condition("met", "94260004", json!({})), // metastatic (6)
            condition("ca", "254637007", json!({})), // malignancy (2), superseded
        ],
    );
    let c = scores::charlson(&person, d("2021-03-31"));
    let names: Vec<&str> = c.categories.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "chronic_pulmonary_disease",
            "diabetes_complicated",
            "metastatic_solid_tumor"
        ]
    );
    assert_eq!(c.superseded, ["diabetes_uncomplicated", "malignancy"]);
    assert_eq!((c.count, c.weighted), (3, 1 + 2 + 6));
    // Before the MI abated it counted.
    assert_eq!(scores::charlson(&person, d("2018-06-30")).count, 4);
}

#[test]
fn lace_scores_the_latest_stay_with_its_components() {
    use careloop_segment::scores;
    let encounter = |id: &str, class: &str, start: &str, end: &str| json!({"resourceType": "Encounter", "id": id, "status": "finished", "class": {"code": class}, "period": {"start": start, "end": end}});
    let person = facts(
        "l1",
        &[
            json!({"resourceType": "Patient", "id": "l1", "birthDate": "1940-01-01"}),
            json!({"resourceType": "Condition", "id": "chf", "onsetDateTime": "2015-01-01",
                   "code": {"coding": [{"system": "http://snomed.info/sct", "code": "88805009"}]}}),
            encounter("ed-1", "EMER", "2020-10-01", "2020-10-01"),
            encounter("ed-2", "EMER", "2021-01-15", "2021-01-15"),
            encounter("ed-index", "EMER", "2021-03-09", "2021-03-10"),
            encounter("stay", "IMP", "2021-03-10", "2021-03-18"),
            encounter("old-stay", "IMP", "2019-01-01", "2019-01-03"),
            encounter("future-stay", "IMP", "2021-04-02", "2021-04-05"),
        ],
    );
    let is = |code: &'static str| move |c: &str| c == code;
    let l = scores::lace(&person, d("2021-03-31"), is("IMP"), is("EMER")).unwrap();
    assert_eq!(l.admission_id, "stay");
    assert_eq!(l.length_of_stay_days, 8);
    assert!(l.emergent, "an emergency visit the day before admission");
    assert_eq!(
        (l.charlson, l.ed_visits_6m),
        (1, 2),
        "the visit that led to the admission is not counted"
    );
    assert_eq!(l.points, (5, 3, 1, 2));
    assert_eq!(l.total, 11);
    assert!(scores::lace(&person, d("2018-12-31"), is("IMP"), is("EMER")).is_none());
}

#[test]
fn care_gaps_name_their_closing_evidence_and_others_have_none() {
    use careloop_segment::eval::{closing_evidence, closing_queries};
    let catalog = builtin_catalog().unwrap();
    let rule = |id: &str| {
        &catalog
            .segments
            .iter()
            .find(|s| s.definition.id == id)
            .unwrap()
            .rule
    };
    for gap in [
        "diabetes_hba1c_gap",
        "breast_cancer_screening_gap",
        "medicare_awv_due",
    ] {
        assert_eq!(closing_queries(rule(gap)).len(), 1, "{gap}");
    }
    for other in [
        "dormant",
        "frequent_ed",
        "polypharmacy",
        "post_discharge_30d",
    ] {
        assert!(closing_queries(rule(other)).is_empty(), "{other}");
    }
    // HbA1c results at any distance (the rule's 12-month window is dropped), up to the date.
    let mut person = diabetic("p1", "2021-01-10", Some(("2019-11-02", 9.4)));
    let later = diabetic("p1", "2021-01-10", Some(("2021-05-01", 7.1)));
    person.observations.extend(later.observations);
    let queries = closing_queries(rule("diabetes_hba1c_gap"));
    assert_eq!(
        closing_evidence(&queries, &person, &catalog.value_sets, d("2021-06-30")),
        [d("2019-11-02"), d("2021-05-01")]
    );
    assert_eq!(
        closing_evidence(&queries, &person, &catalog.value_sets, d("2021-04-30")),
        [d("2019-11-02")]
    );
}

#[test]
fn race_and_ethnicity_come_from_the_us_core_extensions() {
    let with_text = facts(
        "p1",
        &[json!({"resourceType": "Patient", "id": "p1", "extension": [
            {"url": "http://hl7.org/fhir/us/core/StructureDefinition/us-core-race", "extension": [
                {"url": "ombCategory", "valueCoding": {"code": "2106-3", "display": "White"}},
                {"url": "text", "valueString": "White and Asian"}]},
            {"url": "http://hl7.org/fhir/us/core/StructureDefinition/us-core-ethnicity", "extension": [
                {"url": "ombCategory", "valueCoding": {"code": "2135-2", "display": "Hispanic or Latino"}}]}
        ]})],
    );
    assert_eq!(with_text.race.as_deref(), Some("White and Asian"));
    assert_eq!(with_text.ethnicity.as_deref(), Some("Hispanic or Latino"));
    let none = facts("p2", &[json!({"resourceType": "Patient", "id": "p2"})]);
    assert_eq!((none.race, none.ethnicity), (None, None));
}
