//! The seven built-in care-gap segments on fixture patients built for every boundary of
//! CARE_GAP_RULES.md (window edges, deceased after D, abatement, statuses, codes outside the
//! value sets). Expected members are derived by hand from the rule text, case by case.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use careloop_segment::{builtin_catalog, engine, PatientFacts, SharedFacts};
use chrono::NaiveDate;
use serde_json::{json, Value};

const D: &str = "2021-03-31";

fn d() -> NaiveDate {
    NaiveDate::parse_from_str(D, "%Y-%m-%d").unwrap()
}

/// A patient under construction: resources as the store would hold them.
struct Person {
    id: String,
    resources: Vec<(String, String)>,
    next: usize,
}

impl Person {
    fn new(id: &str, birth: &str, gender: &str) -> Person {
        let mut p = Person {
            id: id.to_owned(),
            resources: Vec::new(),
            next: 0,
        };
        p.add(json!({"resourceType": "Patient", "id": id, "birthDate": birth, "gender": gender}));
        p
    }

    fn add(&mut self, mut resource: Value) -> &mut Person {
        if resource.get("id").is_none() {
            self.next += 1;
            resource["id"] = json!(format!("{}-{}", self.id, self.next));
        }
        let kind = resource["resourceType"].as_str().unwrap().to_owned();
        self.resources.push((kind, resource.to_string()));
        self
    }

    fn patch_patient(&mut self, field: &str, value: Value) -> &mut Person {
        let mut patient: Value = serde_json::from_str(&self.resources[0].1).unwrap();
        patient[field] = value;
        self.resources[0].1 = patient.to_string();
        self
    }

    fn encounter(&mut self, class: &str, start: &str, end: Option<&str>) -> &mut Person {
        let mut period = json!({"start": start});
        if let Some(end) = end {
            period["end"] = json!(end);
        }
        self.add(json!({"resourceType": "Encounter", "status": "finished", "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": class}, "period": period}))
    }

    fn wellness(&mut self, start: &str) -> &mut Person {
        self.add(json!({"resourceType": "Encounter", "status": "finished", "class": {"code": "AMB"},
            "type": [{"coding": [{"system": "http://snomed.info/sct", "code": "185349003"}]}], "period": {"start": start, "end": start}}))
    }

    fn condition(&mut self, system: &str, code: &str, onset: &str, extra: Value) -> &mut Person {
        let mut c = json!({"resourceType": "Condition", "code": {"coding": [{"system": system, "code": code}]}, "onsetDateTime": onset});
        for (k, v) in extra.as_object().unwrap() {
            c[k] = v.clone();
        }
        self.add(c)
    }

    fn observation(&mut self, loinc: &str, date: &str) -> &mut Person {
        self.add(json!({"resourceType": "Observation", "status": "final",
            "code": {"coding": [{"system": "http://loinc.org", "code": loinc}]}, "effectiveDateTime": date, "valueQuantity": {"value": 7.1, "unit": "%"}}))
    }

    fn procedure(&mut self, code: &str, date: &str, status: &str) -> &mut Person {
        self.add(json!({"resourceType": "Procedure", "status": status,
            "code": {"coding": [{"system": "http://snomed.info/sct", "code": code}]}, "performedDateTime": date}))
    }

    fn medication(&mut self, rxnorm: &str, status: &str, authored: &str) -> &mut Person {
        self.add(json!({"resourceType": "MedicationRequest", "status": status, "intent": "order", "authoredOn": authored,
            "medicationCodeableConcept": {"coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": rxnorm}]}}))
    }

    fn facts(&self) -> PatientFacts {
        PatientFacts::from_resources(&self.id, &self.resources, &SharedFacts::default())
    }
}

fn members(panel: &[Person]) -> BTreeMap<String, BTreeSet<String>> {
    let catalog = builtin_catalog().expect("the built-in catalogue is valid");
    let facts: Vec<PatientFacts> = panel.iter().map(Person::facts).collect();
    engine::run(&catalog, &facts, &HashMap::new(), d())
        .into_iter()
        .map(|c| (c.segment_id, c.members.into_iter().collect()))
        .collect()
}

fn set(ids: &[&str]) -> BTreeSet<String> {
    ids.iter().map(|s| s.to_string()).collect()
}

#[test]
fn breast_cancer_screening_gap_boundaries() {
    let mut panel = vec![
        Person::new("f60-no-mammo", "1961-01-01", "female"),
        Person::new("f49", "1971-04-01", "female"), // 50th birthday the day after D
        Person::new("f50-today", "1971-03-31", "female"), // turns 50 on D
        Person::new("f74", "1946-04-01", "female"), // 75th birthday the day after D
        Person::new("f75-today", "1946-03-31", "female"), // turns 75 on D
        Person::new("m60", "1961-01-01", "male"),
        Person::new("f-mammo-edge", "1961-01-01", "female"), // mammogram on months_before(D, 27)
        Person::new("f-mammo-before", "1961-01-01", "female"),
        Person::new("f-mammo-after-d", "1961-01-01", "female"),
        Person::new("f-mg-series", "1961-01-01", "female"),
        Person::new("f-not-done", "1961-01-01", "female"),
        Person::new("f-loinc-report", "1961-01-01", "female"),
        Person::new("f-dead", "1961-01-01", "female"),
        Person::new("f-dies-after-d", "1961-01-01", "female"),
        Person::new("f-no-birth-date", "1961-01-01", "female"),
    ];
    panel[6].procedure("71651007", "2018-12-31", "completed");
    panel[7].procedure("71651007", "2018-12-30T23:59:00+00:00", "completed");
    panel[8].procedure("71651007", "2021-04-01", "completed");
    panel[9].add(json!({"resourceType": "ImagingStudy", "status": "available", "started": "2020-06-01T10:00:00Z",
        "series": [{"uid": "1.2", "modality": {"system": "http://dicom.nema.org/resources/ontology/DCM", "code": "MG"}}]}));
    panel[10].procedure("71651007", "2020-06-01", "not-done");
    panel[11].add(json!({"resourceType": "DiagnosticReport", "status": "final", "code": {"coding": [{"system": "urn:oid:2.16.840.1.113883.6.1", "code": "24606-6"}]}, "issued": "2019-06-01T00:00:00Z"}));
    panel[12].patch_patient("deceasedDateTime", json!("2021-03-31T08:00:00Z"));
    panel[13].patch_patient("deceasedDateTime", json!("2021-04-01"));
    panel[14].patch_patient("birthDate", Value::Null);
    let got = members(&panel);
    assert_eq!(
        got["breast_cancer_screening_gap"],
        set(&[
            "f60-no-mammo",
            "f50-today",
            "f74",
            "f-mammo-before",
            "f-mammo-after-d",
            "f-not-done",
            "f-dies-after-d"
        ])
    );
}

#[test]
fn diabetes_hba1c_gap_boundaries() {
    const SNOMED: &str = "http://snomed.info/sct";
    let mut panel: Vec<Person> = [
        "no-test",
        "test-on-edge",
        "test-before-edge",
        "abated-on-d",
        "abated-after-d",
        "resolved",
        "onset-after-d",
        "prediabetes",
        "refuted",
        "icd10",
        "abatement-string",
        "test-after-d",
    ]
    .iter()
    .map(|id| Person::new(id, "1960-05-05", "male"))
    .collect();
    let none = json!({});
    panel[0].condition(SNOMED, "44054006", "2010-01-01", none.clone());
    panel[1]
        .condition(SNOMED, "44054006", "2010-01-01", none.clone())
        .observation("4548-4", "2020-03-31");
    panel[2]
        .condition(SNOMED, "44054006", "2010-01-01", none.clone())
        .observation("4548-4", "2020-03-30");
    panel[3].condition(
        SNOMED,
        "44054006",
        "2010-01-01",
        json!({"abatementDateTime": "2021-03-31"}),
    );
    panel[4].condition(SNOMED, "44054006", "2010-01-01", json!({"abatementDateTime": "2021-04-01", "clinicalStatus": {"coding": [{"code": "resolved"}]}}));
    panel[5].condition(
        SNOMED,
        "44054006",
        "2010-01-01",
        json!({"clinicalStatus": {"coding": [{"code": "resolved"}]}}),
    );
    panel[6].condition(SNOMED, "44054006", "2021-04-01", none.clone());
    panel[7].condition(SNOMED, "15777000", "2010-01-01", none.clone());
    panel[8].condition(
        SNOMED,
        "44054006",
        "2010-01-01",
        json!({"verificationStatus": {"coding": [{"code": "refuted"}]}}),
    );
    panel[9].condition(
        "http://hl7.org/fhir/sid/icd-10-cm",
        "E11.9",
        "2010-01-01",
        none.clone(),
    );
    panel[10].condition(
        SNOMED,
        "44054006",
        "2010-01-01",
        json!({"abatementString": "in childhood"}),
    );
    panel[11]
        .condition(SNOMED, "44054006", "2010-01-01", none)
        .observation("4548-4", "2021-04-01");
    let got = members(&panel);
    assert_eq!(
        got["diabetes_hba1c_gap"],
        set(&[
            "no-test",
            "test-before-edge",
            "abated-after-d",
            "icd10",
            "test-after-d"
        ])
    );
}

#[test]
fn dormant_boundaries() {
    let mut panel: Vec<Person> = [
        "ended-before-w12",
        "ends-on-w12-start",
        "never-seen",
        "only-after-d",
        "planned-only-recent",
        "no-end-old",
        "long-stay-into-w12",
    ]
    .iter()
    .map(|id| Person::new(id, "1950-01-01", "female"))
    .collect();
    panel[0].encounter("AMB", "2020-03-30T09:00:00Z", Some("2020-03-30T10:00:00Z"));
    panel[1].encounter("AMB", "2020-03-01", Some("2020-03-31"));
    panel[3].encounter("AMB", "2021-04-02", Some("2021-04-02"));
    panel[4]
        .encounter("AMB", "2015-01-01", Some("2015-01-01"))
        .add(json!({"resourceType": "Encounter", "status": "planned",
        "class": {"code": "AMB"}, "period": {"start": "2021-03-01"}}));
    panel[5].encounter("AMB", "2019-01-01", None);
    panel[6].encounter("IMP", "2020-01-01", Some("2020-04-15"));
    let got = members(&panel);
    assert_eq!(
        got["dormant"],
        set(&["ended-before-w12", "planned-only-recent", "no-end-old"])
    );
}

#[test]
fn post_discharge_and_frequent_ed_boundaries() {
    let mut panel: Vec<Person> = [
        "out-on-d-minus-30",
        "out-on-d-minus-31",
        "no-end",
        "ambulatory",
        "out-after-d",
        "acute-class",
        "out-on-d",
        "ed-two-edges",
        "ed-one-outside",
        "ed-one-cancelled",
        "ed-three",
    ]
    .iter()
    .map(|id| Person::new(id, "1950-01-01", "male"))
    .collect();
    panel[0].encounter("IMP", "2021-02-25", Some("2021-03-01T12:00:00-08:00"));
    panel[1].encounter("IMP", "2021-02-25", Some("2021-02-28"));
    panel[2].encounter("IMP", "2021-03-20", None);
    panel[3].encounter("AMB", "2021-03-20", Some("2021-03-21"));
    panel[4].encounter("IMP", "2021-03-28", Some("2021-04-01"));
    panel[5].encounter("ACUTE", "2021-03-10", Some("2021-03-12"));
    panel[6].encounter("IMP", "2021-03-29", Some("2021-03-31"));
    panel[7]
        .encounter("EMER", "2020-03-31", Some("2020-03-31"))
        .encounter("EMER", "2021-03-31", Some("2021-03-31"));
    panel[8]
        .encounter("EMER", "2020-03-30", Some("2020-03-31"))
        .encounter("EMER", "2021-01-01", Some("2021-01-01"));
    panel[9]
        .encounter("EMER", "2021-01-01", None)
        .add(json!({"resourceType": "Encounter", "status": "cancelled",
        "class": {"code": "EMER"}, "period": {"start": "2021-02-01"}}));
    panel[10]
        .encounter("EMER", "2020-06-01", None)
        .encounter("EMER", "2020-07-01", None)
        .encounter("EMER", "2021-04-01", None);
    let got = members(&panel);
    assert_eq!(
        got["post_discharge_30d"],
        set(&["out-on-d-minus-30", "acute-class", "out-on-d"])
    );
    assert_eq!(got["frequent_ed"], set(&["ed-two-edges", "ed-three"]));
}

#[test]
fn medicare_awv_and_polypharmacy_boundaries() {
    let mut panel = vec![
        Person::new("65-today", "1956-03-31", "female"),
        Person::new("64", "1956-04-01", "female"),
        Person::new("70-wellness-on-edge", "1951-01-01", "male"),
        Person::new("70-wellness-before-edge", "1951-01-01", "male"),
        Person::new("five-meds", "1990-01-01", "male"),
        Person::new("five-requests-four-meds", "1990-01-01", "male"),
        Person::new("fifth-after-d", "1990-01-01", "male"),
        Person::new("fifth-stopped", "1990-01-01", "male"),
        Person::new("text-only", "1990-01-01", "male"),
    ];
    panel[2].wellness("2020-03-31");
    panel[3].wellness("2020-03-30");
    for code in ["1", "2", "3", "4", "5"] {
        panel[4].medication(code, "active", "2020-01-01");
    }
    for code in ["1", "2", "3", "4", "4"] {
        panel[5].medication(code, "active", "2020-01-01");
    }
    for code in ["1", "2", "3", "4"] {
        panel[6].medication(code, "active", "2020-01-01");
        panel[7].medication(code, "active", "2020-01-01");
        panel[8].medication(code, "active", "2020-01-01");
    }
    panel[6].medication("5", "active", "2021-04-01");
    panel[7].medication("5", "stopped", "2020-01-01");
    panel[8].add(
        json!({"resourceType": "MedicationRequest", "status": "active", "intent": "order",
        "medicationCodeableConcept": {"text": "Home-made remedy"}}),
    );
    let got = members(&panel);
    assert_eq!(
        got["medicare_awv_due"],
        set(&["65-today", "70-wellness-before-edge"])
    );
    assert_eq!(got["polypharmacy"], set(&["five-meds", "text-only"]));
}
