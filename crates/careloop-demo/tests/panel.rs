//! Checks the demo panel from the outside: it generates the 1,000-patient panel of seed 42 as
//! of 2026-06-30 in memory, parses every line back with serde_json and evaluates the built-in
//! segments of CARE_GAP_RULES.md with a small evaluator written from the rule text (not from
//! the generator), then checks the seed-described groups, determinism, dates, references and
//! ids.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::OnceLock;

use careloop_demo::{generate_in_memory, write_to_dir, DemoConfig, DemoError, DemoFile};
use chrono::{Datelike, Months, NaiveDate};
use serde_json::Value;

fn as_of() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 6, 30).expect("valid date")
}

fn config(patients: u32, seed: u64) -> DemoConfig {
    DemoConfig {
        patients,
        seed,
        as_of: as_of(),
    }
}

// ---- The parsed panel ---------------------------------------------------------------------

/// One patient with everything that points at them.
struct Person {
    patient: Value,
    /// Resources by resourceType.
    resources: HashMap<String, Vec<Value>>,
    signals: Vec<Value>,
}

impl Person {
    fn of(&self, resource_type: &str) -> &[Value] {
        self.resources
            .get(resource_type)
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }
}

struct Panel {
    files: Vec<(String, Vec<u8>)>,
    /// Every FHIR resource, by resourceType.
    by_type: HashMap<String, Vec<Value>>,
    signals: Vec<Value>,
    people: Vec<Person>,
}

fn panel() -> &'static Panel {
    static PANEL: OnceLock<Panel> = OnceLock::new();
    PANEL.get_or_init(|| {
        let (files, report) = generate_in_memory(&config(1_000, 42)).expect("the panel generates");
        assert_eq!(report.patients, 1_000);
        parse(files)
    })
}

/// Parses generated files and attaches every resource and signal to its patient.
fn parse(files: Vec<(String, Vec<u8>)>) -> Panel {
    let mut by_type: HashMap<String, Vec<Value>> = HashMap::new();
    let mut signals = Vec::new();
    for (name, bytes) in &files {
        let text = std::str::from_utf8(bytes).expect("UTF-8");
        for line in text.lines() {
            let value: Value =
                serde_json::from_str(line).unwrap_or_else(|e| panic!("{name}: {e}: {line}"));
            if name == "engagement.ndjson" {
                signals.push(value);
            } else {
                let resource_type = value["resourceType"]
                    .as_str()
                    .expect("resourceType")
                    .to_owned();
                by_type.entry(resource_type).or_default().push(value);
            }
        }
    }
    let mut people: Vec<Person> = by_type["Patient"]
        .iter()
        .map(|p| Person {
            patient: p.clone(),
            resources: HashMap::new(),
            signals: Vec::new(),
        })
        .collect();
    let index: HashMap<String, usize> = people
        .iter()
        .enumerate()
        .map(|(i, p)| (p.patient["id"].as_str().expect("id").to_owned(), i))
        .collect();
    for (resource_type, resources) in &by_type {
        if resource_type == "Patient" {
            continue;
        }
        for resource in resources {
            let target =
                patient_of(resource).unwrap_or_else(|| panic!("{resource_type} without patient"));
            let person = index
                .get(target)
                .unwrap_or_else(|| panic!("{resource_type} points at unknown {target}"));
            people[*person]
                .resources
                .entry(resource_type.clone())
                .or_default()
                .push(resource.clone());
        }
    }
    for signal in &signals {
        let person = index[signal["patient"].as_str().expect("patient")];
        people[person].signals.push(signal.clone());
    }
    Panel {
        files,
        by_type,
        signals,
        people,
    }
}

/// The patient id a resource is attached to: subject, patient or beneficiary `Patient/X`, or
/// (Appointment, which has no subject in R4) the participant whose actor is `Patient/X`.
fn patient_of(resource: &Value) -> Option<&str> {
    ["subject", "patient", "beneficiary"]
        .iter()
        .find_map(|key| resource[key]["reference"].as_str())
        .or_else(|| {
            resource["participant"]
                .as_array()?
                .iter()
                .filter_map(|p| p["actor"]["reference"].as_str())
                .find(|r| r.starts_with("Patient/"))
        })
        .and_then(|r| r.strip_prefix("Patient/"))
}

// ---- The evaluator (from CARE_GAP_RULES.md) -------------------------------------------------

/// A FHIR date or dateTime reduced to its calendar date as written.
fn date_of(text: &str) -> Option<NaiveDate> {
    match text.len() {
        4 => NaiveDate::from_ymd_opt(text.parse().ok()?, 1, 1),
        7 => NaiveDate::parse_from_str(&format!("{text}-01"), "%Y-%m-%d").ok(),
        _ => NaiveDate::parse_from_str(text.get(..10)?, "%Y-%m-%d").ok(),
    }
}

fn date_at(value: &Value) -> Option<NaiveDate> {
    value.as_str().and_then(date_of)
}

fn months_before(date: NaiveDate, n: u32) -> NaiveDate {
    date.checked_sub_months(Months::new(n)).expect("in range")
}

fn w12() -> (NaiveDate, NaiveDate) {
    (months_before(as_of(), 12), as_of())
}

fn w27() -> (NaiveDate, NaiveDate) {
    (months_before(as_of(), 27), as_of())
}

fn w30d() -> (NaiveDate, NaiveDate) {
    (as_of() - chrono::Days::new(30), as_of())
}

fn within(date: Option<NaiveDate>, (from, to): (NaiveDate, NaiveDate)) -> bool {
    date.is_some_and(|d| d >= from && d <= to)
}

fn normalised_system(system: &str) -> &str {
    match system {
        "urn:oid:2.16.840.1.113883.6.96" => "http://snomed.info/sct",
        "urn:oid:2.16.840.1.113883.6.1" => "http://loinc.org",
        "urn:oid:2.16.840.1.113883.6.12" => "http://www.ama-assn.org/go/cpt",
        "http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets"
        | "urn:oid:2.16.840.1.113883.6.285" => {
            "https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets"
        }
        other => other,
    }
}

const SNOMED: &str = "http://snomed.info/sct";
const LOINC: &str = "http://loinc.org";
const CPT: &str = "http://www.ama-assn.org/go/cpt";
const HCPCS: &str = "https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets";

const MAMMOGRAPHY: &[(&str, &str)] = &[
    (SNOMED, "241055006"),
    (SNOMED, "24623002"),
    (SNOMED, "43204002"),
    (SNOMED, "450566007"),
    (SNOMED, "566571000119105"),
    (SNOMED, "572701000119102"),
    (SNOMED, "71651007"),
    (LOINC, "24604-1"),
    (LOINC, "24605-8"),
    (LOINC, "24606-6"),
    (LOINC, "24610-8"),
    (LOINC, "26175-0"),
    (LOINC, "26176-8"),
    (LOINC, "26177-6"),
    (LOINC, "36319-2"),
    (CPT, "77055"),
    (CPT, "77056"),
    (CPT, "77057"),
    (CPT, "77061"),
    (CPT, "77062"),
    (CPT, "77063"),
    (CPT, "77065"),
    (CPT, "77066"),
    (CPT, "77067"),
    (HCPCS, "G0202"),
    (HCPCS, "G0204"),
    (HCPCS, "G0206"),
];

const DIABETES: &[(&str, &str)] = &[
    (SNOMED, "127013003"),
    (SNOMED, "1501000119109"),
    (SNOMED, "1551000119108"),
    (SNOMED, "157141000119108"),
    (SNOMED, "368581000119106"),
    (SNOMED, "422034002"),
    (SNOMED, "44054006"),
    (SNOMED, "46635009"),
    (SNOMED, "60951000119105"),
    (SNOMED, "73211009"),
    (SNOMED, "90781000119102"),
    (SNOMED, "97331000119101"),
];

const HBA1C: &[(&str, &str)] = &[
    (LOINC, "17855-8"),
    (LOINC, "17856-6"),
    (LOINC, "41995-2"),
    (LOINC, "4548-4"),
    (LOINC, "4549-2"),
    (LOINC, "59261-8"),
    (LOINC, "62388-4"),
    (LOINC, "71875-9"),
    (CPT, "83036"),
    (CPT, "83037"),
];

const WELLNESS_VISIT: &[(&str, &str)] = &[
    (SNOMED, "162673000"),
    (SNOMED, "185349003"),
    (SNOMED, "410620009"),
    (SNOMED, "444971000124105"),
    (SNOMED, "456201000124103"),
    (SNOMED, "86013001"),
    (CPT, "99381"),
    (CPT, "99382"),
    (CPT, "99383"),
    (CPT, "99384"),
    (CPT, "99385"),
    (CPT, "99386"),
    (CPT, "99387"),
    (CPT, "99391"),
    (CPT, "99392"),
    (CPT, "99393"),
    (CPT, "99394"),
    (CPT, "99395"),
    (CPT, "99396"),
    (CPT, "99397"),
    (HCPCS, "G0402"),
    (HCPCS, "G0438"),
    (HCPCS, "G0439"),
];

const CRISIS_REASONS: &[(&str, &str)] = &[
    (SNOMED, "225444004"),
    (SNOMED, "6471006"),
    (SNOMED, "225624000"),
    (SNOMED, "69322001"),
];

/// Does this CodeableConcept hold a coding of the value set?
fn concept_in(concept: &Value, set: &[(&str, &str)]) -> bool {
    concept["coding"].as_array().is_some_and(|codings| {
        codings.iter().any(|c| {
            let system = normalised_system(c["system"].as_str().unwrap_or(""));
            let code = c["code"].as_str().unwrap_or("");
            set.iter().any(|(s, k)| *s == system && *k == code)
        })
    })
}

fn diabetes_concept(concept: &Value) -> bool {
    concept_in(concept, DIABETES)
        || concept["coding"].as_array().is_some_and(|codings| {
            codings.iter().any(|c| {
                let system = c["system"].as_str().unwrap_or("");
                let code = c["code"].as_str().unwrap_or("");
                matches!(
                    system,
                    "http://hl7.org/fhir/sid/icd-10-cm" | "http://hl7.org/fhir/sid/icd-10"
                ) && ["E10", "E11", "E13"].iter().any(|p| code.starts_with(p))
            })
        })
}

fn status(resource: &Value) -> &str {
    resource["status"].as_str().unwrap_or("")
}

fn alive(person: &Person) -> bool {
    let d = as_of();
    let patient = &person.patient;
    let in_panel = date_at(&patient["birthDate"]).is_some_and(|b| b <= d);
    let deceased_flag = patient["deceasedBoolean"].as_bool() == Some(true);
    let died = date_at(&patient["deceasedDateTime"]).is_some_and(|x| x <= d);
    in_panel && !deceased_flag && !died
}

fn age(person: &Person) -> u32 {
    let birth = date_at(&person.patient["birthDate"]).expect("birthDate");
    let d = as_of();
    let mut years = d.year() - birth.year();
    if (d.month(), d.day()) < (birth.month(), birth.day()) {
        years -= 1;
    }
    u32::try_from(years).expect("born before D")
}

fn encounters(person: &Person) -> impl Iterator<Item = &Value> {
    person
        .of("Encounter")
        .iter()
        .filter(|e| !matches!(status(e), "cancelled" | "entered-in-error" | "planned"))
}

fn encounter_start(e: &Value) -> Option<NaiveDate> {
    date_at(&e["period"]["start"])
}

fn encounter_end(e: &Value) -> Option<NaiveDate> {
    date_at(&e["period"]["end"])
}

fn class_code(e: &Value) -> &str {
    e["class"]["code"].as_str().unwrap_or("")
}

fn observation_date(o: &Value) -> Option<NaiveDate> {
    date_at(&o["effectiveDateTime"])
        .or_else(|| date_at(&o["effectivePeriod"]["start"]))
        .or_else(|| date_at(&o["effectiveInstant"]))
        .or_else(|| date_at(&o["issued"]))
}

fn report_date(r: &Value) -> Option<NaiveDate> {
    date_at(&r["effectiveDateTime"])
        .or_else(|| date_at(&r["effectivePeriod"]["start"]))
        .or_else(|| date_at(&r["issued"]))
}

/// Observations and DiagnosticReports (status-filtered) with a code of `set` dated in `window`.
fn lab_evidence(person: &Person, set: &[(&str, &str)], window: (NaiveDate, NaiveDate)) -> bool {
    let ok = |r: &&Value| !matches!(status(r), "cancelled" | "entered-in-error");
    person
        .of("Observation")
        .iter()
        .filter(ok)
        .any(|o| concept_in(&o["code"], set) && within(observation_date(o), window))
        || person
            .of("DiagnosticReport")
            .iter()
            .filter(ok)
            .any(|r| concept_in(&r["code"], set) && within(report_date(r), window))
}

fn condition_active(c: &Value, d: NaiveDate) -> bool {
    let verification = c["verificationStatus"]["coding"][0]["code"]
        .as_str()
        .unwrap_or("");
    if matches!(verification, "refuted" | "entered-in-error") {
        return false;
    }
    let onset = date_at(&c["onsetDateTime"])
        .or_else(|| date_at(&c["onsetPeriod"]["start"]))
        .or_else(|| date_at(&c["recordedDate"]));
    if onset.is_none_or(|o| o > d) {
        return false;
    }
    let abatement = date_at(&c["abatementDateTime"])
        .or_else(|| date_at(&c["abatementPeriod"]["end"]))
        .or_else(|| date_at(&c["abatementPeriod"]["start"]));
    match abatement {
        Some(a) => a > d,
        None => {
            let clinical = c["clinicalStatus"]["coding"][0]["code"]
                .as_str()
                .unwrap_or("");
            !matches!(clinical, "resolved" | "inactive" | "remission")
                && c["abatementBoolean"].as_bool() != Some(true)
                && c["abatementString"].is_null()
        }
    }
}

fn mammography_in_w27(person: &Person) -> bool {
    let procedures = person
        .of("Procedure")
        .iter()
        .filter(|p| !matches!(status(p), "entered-in-error" | "not-done"))
        .any(|p| {
            let date = date_at(&p["performedDateTime"])
                .or_else(|| date_at(&p["performedPeriod"]["start"]));
            concept_in(&p["code"], MAMMOGRAPHY) && within(date, w27())
        });
    let imaging = person
        .of("ImagingStudy")
        .iter()
        .filter(|i| !matches!(status(i), "cancelled" | "entered-in-error"))
        .any(|i| {
            let coded = i["procedureCode"]
                .as_array()
                .is_some_and(|codes| codes.iter().any(|c| concept_in(c, MAMMOGRAPHY)));
            let mg = i["series"]
                .as_array()
                .is_some_and(|series| series.iter().any(|s| s["modality"]["code"] == "MG"));
            (coded || mg) && within(date_at(&i["started"]), w27())
        });
    procedures || imaging || lab_evidence(person, MAMMOGRAPHY, w27())
}

fn breast_cancer_screening_eligible(person: &Person) -> bool {
    alive(person) && person.patient["gender"] == "female" && (50..=74).contains(&age(person))
}

fn breast_cancer_screening_gap(person: &Person) -> bool {
    breast_cancer_screening_eligible(person) && !mammography_in_w27(person)
}

fn active_diabetes(person: &Person) -> bool {
    person
        .of("Condition")
        .iter()
        .any(|c| diabetes_concept(&c["code"]) && condition_active(c, as_of()))
}

fn diabetes_hba1c_gap(person: &Person) -> bool {
    alive(person) && active_diabetes(person) && !lab_evidence(person, HBA1C, w12())
}

fn encounters_12m(person: &Person) -> usize {
    let (from, d) = w12();
    encounters(person)
        .filter(|e| {
            let start = encounter_start(e);
            let last = encounter_end(e).or(start);
            start.is_some_and(|s| s <= d) && last.is_some_and(|l| l >= from)
        })
        .count()
}

fn seen_ever(person: &Person) -> bool {
    encounters(person).any(|e| encounter_start(e).is_some_and(|s| s <= as_of()))
}

fn dormant(person: &Person) -> bool {
    alive(person) && seen_ever(person) && encounters_12m(person) == 0
}

fn discharged_in_30_days(person: &Person) -> bool {
    encounters(person).any(|e| {
        matches!(class_code(e), "ACUTE" | "IMP" | "NONAC") && within(encounter_end(e), w30d())
    })
}

fn post_discharge_30d(person: &Person) -> bool {
    alive(person) && discharged_in_30_days(person)
}

fn ed_visits_12m(person: &Person) -> usize {
    encounters(person)
        .filter(|e| class_code(e) == "EMER" && within(encounter_start(e), w12()))
        .count()
}

fn frequent_ed(person: &Person) -> bool {
    alive(person) && ed_visits_12m(person) >= 2
}

fn wellness_in_w12(person: &Person) -> bool {
    encounters(person).any(|e| {
        e["type"]
            .as_array()
            .is_some_and(|types| types.iter().any(|t| concept_in(t, WELLNESS_VISIT)))
            && within(encounter_start(e), w12())
    })
}

fn medicare_awv_due(person: &Person) -> bool {
    alive(person) && age(person) >= 65 && !wellness_in_w12(person)
}

fn active_medications(person: &Person) -> usize {
    let mut distinct = HashSet::new();
    for request in person.of("MedicationRequest") {
        let authored_ok = date_at(&request["authoredOn"]).is_none_or(|a| a <= as_of());
        if status(request) != "active" || !authored_ok {
            continue;
        }
        let rxnorm = request["medicationCodeableConcept"]["coding"]
            .as_array()
            .and_then(|codings| {
                codings
                    .iter()
                    .find(|c| c["system"] == "http://www.nlm.nih.gov/research/umls/rxnorm")
                    .and_then(|c| c["code"].as_str())
            });
        let key = rxnorm
            .or_else(|| request["medicationCodeableConcept"]["text"].as_str())
            .or_else(|| request["id"].as_str())
            .unwrap_or("")
            .to_owned();
        distinct.insert(key);
    }
    distinct.len()
}

fn polypharmacy(person: &Person) -> bool {
    alive(person) && active_medications(person) >= 5
}

// ---- Signals of the seed-described groups -------------------------------------------------

/// The latest social-needs screening's answer to `link_id`.
fn latest_answer<'a>(person: &'a Person, link_id: &str) -> Option<&'a Value> {
    let latest = person
        .of("QuestionnaireResponse")
        .iter()
        .filter(|q| status(q) == "completed")
        .max_by_key(|q| q["authored"].as_str().unwrap_or("").to_owned())?;
    latest["item"]
        .as_array()?
        .iter()
        .find(|i| i["linkId"] == link_id)
        .and_then(|i| i["answer"].get(0))
}

fn answered_code(person: &Person, link_id: &str, codes: &[&str]) -> bool {
    latest_answer(person, link_id)
        .and_then(|a| a["valueCoding"]["code"].as_str())
        .is_some_and(|code| codes.contains(&code))
}

fn lives_alone(person: &Person) -> bool {
    latest_answer(person, "63512-8").and_then(|a| a["valueInteger"].as_i64()) == Some(1)
}

fn housing_instability(person: &Person) -> bool {
    answered_code(person, "71802-3", &["LA31994-9", "LA31995-6"])
}

fn eviction_risk(person: &Person) -> bool {
    answered_code(person, "93033-9", &["LA33-6"])
}

fn food_insecurity(person: &Person) -> bool {
    answered_code(person, "88122-7", &["LA28397-0", "LA6729-3"])
        || answered_code(person, "88123-5", &["LA28397-0", "LA6729-3"])
}

fn utility_shut_off(person: &Person) -> bool {
    answered_code(person, "96779-4", &["LA33-6", "LA32002-0"])
}

fn caregiver_strain(person: &Person) -> bool {
    answered_code(person, "careloop-caregiver-strain", &["LA33-6"])
}

/// A medication request of category `discharge` authored on the end date of an inpatient
/// encounter that ended in the last 30 days.
fn medication_change_at_discharge(person: &Person) -> bool {
    let discharges: Vec<NaiveDate> = encounters(person)
        .filter(|e| class_code(e) == "IMP")
        .filter_map(encounter_end)
        .filter(|d| within(Some(*d), w30d()))
        .collect();
    person.of("MedicationRequest").iter().any(|m| {
        let discharge_category = m["category"]
            .as_array()
            .is_some_and(|cats| cats.iter().any(|c| c["coding"][0]["code"] == "discharge"));
        discharge_category && date_at(&m["authoredOn"]).is_some_and(|a| discharges.contains(&a))
    })
}

fn missed_checkins_14_days(person: &Person) -> usize {
    let from = as_of() - chrono::Days::new(13);
    person
        .signals
        .iter()
        .filter(|s| s["kind"] == "checkin_missed" && within(date_at(&s["at"]), (from, as_of())))
        .count()
}

fn crisis_contact(person: &Person) -> bool {
    encounters(person).any(|e| {
        class_code(e) == "EMER"
            && e["reasonCode"]
                .as_array()
                .is_some_and(|reasons| reasons.iter().any(|r| concept_in(r, CRISIS_REASONS)))
    })
}

fn missed_appointment(person: &Person, services: &[&str]) -> bool {
    person.of("Appointment").iter().any(|a| {
        status(a) == "noshow"
            && a["serviceType"].as_array().is_some_and(|types| {
                types
                    .iter()
                    .any(|t| services.iter().any(|s| t["coding"][0]["code"] == *s))
            })
    })
}

fn care_signal(person: &Person, code: &str) -> bool {
    person
        .of("Observation")
        .iter()
        .any(|o| o["code"]["coding"][0]["code"] == code)
}

// ---- Segment coverage ----------------------------------------------------------------------

/// Members and eligible non-members of a segment; both must exist.
fn assert_members_and_non_members(
    name: &str,
    eligible: impl Fn(&Person) -> bool,
    member: impl Fn(&Person) -> bool,
) {
    let people = &panel().people;
    let members = people.iter().filter(|p| eligible(p) && member(p)).count();
    let non_members = people.iter().filter(|p| eligible(p) && !member(p)).count();
    println!("{name}: {members} members, {non_members} eligible non-members");
    assert!(
        members > 0,
        "{name} has no member in the 1,000-patient panel"
    );
    assert!(
        non_members > 0,
        "{name} has no eligible non-member in the 1,000-patient panel"
    );
}

#[test]
fn breast_cancer_screening_gap_has_members_and_screened_women() {
    assert_members_and_non_members(
        "breast_cancer_screening_gap",
        breast_cancer_screening_eligible,
        breast_cancer_screening_gap,
    );
}

#[test]
fn diabetes_hba1c_gap_has_members_and_monitored_diabetics() {
    assert_members_and_non_members(
        "diabetes_hba1c_gap",
        |p| alive(p) && active_diabetes(p),
        diabetes_hba1c_gap,
    );
}

#[test]
fn dormant_has_members_and_recently_seen_patients() {
    assert_members_and_non_members("dormant", |p| alive(p) && seen_ever(p), dormant);
}

#[test]
fn post_discharge_30d_has_members_and_earlier_discharges() {
    let ever_admitted = |p: &Person| {
        alive(p) && encounters(p).any(|e| class_code(e) == "IMP" && encounter_end(e).is_some())
    };
    assert_members_and_non_members("post_discharge_30d", ever_admitted, post_discharge_30d);
}

#[test]
fn frequent_ed_has_members_and_single_visits() {
    assert_members_and_non_members(
        "frequent_ed",
        |p| alive(p) && ed_visits_12m(p) >= 1,
        frequent_ed,
    );
}

#[test]
fn medicare_awv_due_has_members_and_recent_wellness_visits() {
    assert_members_and_non_members(
        "medicare_awv_due",
        |p| alive(p) && age(p) >= 65,
        medicare_awv_due,
    );
}

#[test]
fn polypharmacy_has_members_and_fewer_medicines() {
    assert_members_and_non_members(
        "polypharmacy",
        |p| alive(p) && active_medications(p) >= 1,
        polypharmacy,
    );
}

#[test]
fn window_edges_are_exercised() {
    let people = &panel().people;
    let on_edge = |date: Option<NaiveDate>, edge: NaiveDate| {
        date.is_some_and(|d| d == edge || d.succ_opt() == Some(edge))
    };
    let w12_start = w12().0;
    let hba1c_edge = people.iter().any(|p| {
        p.of("Observation")
            .iter()
            .any(|o| concept_in(&o["code"], HBA1C) && on_edge(observation_date(o), w12_start))
    });
    let discharge_edge = people.iter().any(|p| {
        encounters(p).any(|e| {
            class_code(e) == "IMP"
                && encounter_end(e).is_some_and(|d| d == w30d().0 || d.succ_opt() == Some(w30d().0))
        })
    });
    let mammography_edge = people.iter().any(|p| {
        p.of("Procedure")
            .iter()
            .chain(p.of("ImagingStudy"))
            .any(|r| {
                let date = date_at(&r["performedDateTime"]).or_else(|| date_at(&r["started"]));
                on_edge(date, w27().0)
            })
    });
    assert!(
        hba1c_edge,
        "an HbA1c on or just before the first day of the 12-month window"
    );
    assert!(
        discharge_edge,
        "a discharge 30 or 31 days before the as-of date"
    );
    assert!(
        mammography_edge,
        "a mammogram on or just before the first day of the 27-month window"
    );
}

// ---- Seed-described groups -----------------------------------------------------------------

#[test]
fn recent_discharges_living_alone_with_medication_changes_and_missed_checkins_exist() {
    let people = &panel().people;
    let group = people
        .iter()
        .filter(|p| {
            post_discharge_30d(p)
                && medication_change_at_discharge(p)
                && lives_alone(p)
                && missed_checkins_14_days(p) > 0
        })
        .count();
    println!("discharged in 30 days + discharge medication change + lives alone + missed check-ins: {group}");
    assert!(group > 0);
    let assisted = people
        .iter()
        .filter(|p| post_discharge_30d(p) && care_signal(p, "assisted-setup-needed"))
        .count();
    assert!(
        assisted > 0,
        "some recently discharged people need assisted setup"
    );
}

#[test]
fn crisis_contacts_with_housing_instability_exist() {
    let people = &panel().people;
    let group = people
        .iter()
        .filter(|p| alive(p) && crisis_contact(p) && housing_instability(p))
        .count();
    let missed_reviews = people
        .iter()
        .filter(|p| crisis_contact(p) && missed_appointment(p, &["behavioural-health-review"]))
        .count();
    println!(
        "crisis contact + housing instability: {group}; with missed reviews: {missed_reviews}"
    );
    assert!(group > 0);
    assert!(missed_reviews > 0);
}

#[test]
fn long_term_support_signals_exist() {
    let people = &panel().people;
    let strain = people
        .iter()
        .filter(|p| alive(p) && caregiver_strain(p))
        .count();
    let welfare = people
        .iter()
        .filter(|p| missed_appointment(p, &["welfare-visit", "welfare-call"]))
        .count();
    let incidents = people
        .iter()
        .filter(|p| care_signal(p, "incident-reported"))
        .count();
    println!(
        "caregiver strain: {strain}, missed welfare tasks: {welfare}, prior incidents: {incidents}"
    );
    assert!(strain > 0 && welfare > 0 && incidents > 0);
}

#[test]
fn social_risks_exist() {
    let people = &panel().people;
    let eviction = people.iter().filter(|p| eviction_risk(p)).count();
    let food = people.iter().filter(|p| food_insecurity(p)).count();
    let utilities = people.iter().filter(|p| utility_shut_off(p)).count();
    let all_three = people
        .iter()
        .filter(|p| eviction_risk(p) && food_insecurity(p) && utility_shut_off(p))
        .count();
    println!("eviction risk: {eviction}, food insecurity: {food}, utility shut-off: {utilities}, all three: {all_three}");
    assert!(eviction > 0 && food > 0 && utilities > 0 && all_three > 0);
}

#[test]
fn engagement_tiers_are_a_realistic_mix() {
    let people: Vec<&Person> = panel().people.iter().filter(|p| alive(p)).collect();
    let high = people.iter().filter(|p| encounters_12m(p) >= 3).count();
    let moderate = people
        .iter()
        .filter(|p| (1..=2).contains(&encounters_12m(p)))
        .count();
    let dormant = people
        .iter()
        .filter(|p| encounters_12m(p) == 0 && seen_ever(p))
        .count();
    let never = people.len() - high - moderate - dormant;
    println!("tiers of {} alive: high {high}, moderate {moderate}, dormant {dormant}, never seen {never}", people.len());
    for (tier, count) in [("high", high), ("moderate", moderate), ("dormant", dormant)] {
        assert!(
            count * 10 >= people.len(),
            "the {tier} tier holds at least 10% of the panel ({count})"
        );
    }
    assert!(
        never * 10 < people.len(),
        "few patients were never seen ({never})"
    );
}

#[test]
fn digital_engagement_patterns_exist() {
    let people = &panel().people;
    let checked_in_recently = people
        .iter()
        .filter(|p| {
            p.signals.iter().any(|s| {
                s["kind"] == "checkin_done"
                    && within(
                        date_at(&s["at"]),
                        (as_of() - chrono::Days::new(13), as_of()),
                    )
            })
        })
        .count();
    let missed_recently = people
        .iter()
        .filter(|p| missed_checkins_14_days(p) > 0)
        .count();
    // Falling engagement: the share of check-ins done in the first half of a person's
    // schedule is well above the share in the second half.
    let falling = people
        .iter()
        .filter(|p| {
            let checkins: Vec<&Value> = p
                .signals
                .iter()
                .filter(|s| s["kind"].as_str().is_some_and(|k| k.starts_with("checkin")))
                .collect();
            if checkins.len() < 10 {
                return false;
            }
            let (first, second) = checkins.split_at(checkins.len() / 2);
            let rate = |half: &[&Value]| {
                half.iter().filter(|s| s["kind"] == "checkin_done").count() as f64
                    / half.len() as f64
            };
            rate(first) - rate(second) > 0.4
        })
        .count();
    let portal = people
        .iter()
        .filter(|p| p.signals.iter().any(|s| s["kind"] == "portal_login"))
        .count();
    let messages = people
        .iter()
        .filter(|p| p.signals.iter().any(|s| s["kind"] == "portal_message"))
        .count();
    println!("check-ins done in 14 days: {checked_in_recently}, missed: {missed_recently}, falling: {falling}, portal users: {portal}, messaging: {messages}");
    assert!(
        checked_in_recently > 0 && missed_recently > 0 && falling > 0 && portal > 0 && messages > 0
    );
}

#[test]
fn the_exemplars_show_every_seed_group_in_a_tiny_panel() {
    for seed in [1, 2, 3] {
        let (files, _) = generate_in_memory(&config(4, seed)).expect("generates");
        let people = parse(files).people;
        let has = |what: &str, test: &dyn Fn(&Person) -> bool| {
            assert!(
                people.iter().any(test),
                "seed {seed}: no {what} among the exemplars"
            );
        };
        has(
            "recent discharge living alone with discharge medication change and missed check-ins",
            &|p| {
                post_discharge_30d(p)
                    && medication_change_at_discharge(p)
                    && lives_alone(p)
                    && missed_checkins_14_days(p) > 0
            },
        );
        has("assisted setup", &|p| {
            care_signal(p, "assisted-setup-needed")
        });
        has("crisis contact with housing instability", &|p| {
            crisis_contact(p) && housing_instability(p)
        });
        has("frequent ED user", &frequent_ed);
        has("missed behavioural-health review", &|p| {
            missed_appointment(p, &["behavioural-health-review"])
        });
        has("caregiver strain", &caregiver_strain);
        has("missed welfare task", &|p| {
            missed_appointment(p, &["welfare-visit", "welfare-call"])
        });
        has("prior incident", &|p| care_signal(p, "incident-reported"));
        has(
            "eviction risk, food insecurity and utility shut-off",
            &|p| eviction_risk(p) && food_insecurity(p) && utility_shut_off(p),
        );
    }
}

// ---- Demographics ----------------------------------------------------------------------

#[test]
fn demographics_look_like_a_community_panel() {
    let people = &panel().people;
    let total = people.len();
    let language = |p: &Person| {
        p.patient["communication"]
            .as_array()
            .and_then(|c| c.iter().find(|x| x["preferred"] == true))
            .and_then(|c| c["language"]["coding"][0]["code"].as_str())
            .unwrap_or("")
            .to_owned()
    };
    let english = people.iter().filter(|p| language(p) == "en").count();
    let spanish = people.iter().filter(|p| language(p) == "es").count();
    assert!(
        (600..=800).contains(&english),
        "about 70% prefer English ({english})"
    );
    assert!(
        (130..=270).contains(&spanish),
        "about 20% prefer Spanish ({spanish})"
    );
    let accented = people
        .iter()
        .filter(|p| {
            let name = &p.patient["name"][0];
            let family = name["family"].as_str().unwrap_or("");
            let given = name["given"][0].as_str().unwrap_or("");
            !family.is_ascii() || !given.is_ascii()
        })
        .count();
    assert!(accented >= 50, "accented names for search ({accented})");
    let adults_50_80 = people
        .iter()
        .filter(|p| (50..=80).contains(&age(p)))
        .count();
    assert!(
        adults_50_80 * 100 >= total * 35,
        "many people of 50-80 ({adults_50_80})"
    );
    assert!(people.iter().all(|p| age(p) <= 100));
    let deceased: Vec<NaiveDate> = people
        .iter()
        .filter_map(|p| date_at(&p.patient["deceasedDateTime"]))
        .collect();
    assert!(
        !deceased.is_empty() && deceased.len() * 20 < total,
        "a few deceased ({})",
        deceased.len()
    );
    assert!(deceased.iter().all(|d| *d < as_of()));
    for extension in ["us-core-race", "us-core-ethnicity"] {
        assert!(people
            .iter()
            .all(|p| p.patient["extension"].as_array().is_some_and(|e| e
                .iter()
                .any(|x| x["url"].as_str().is_some_and(|u| u.ends_with(extension))))));
    }
    let seniors: Vec<&Person> = people.iter().filter(|p| age(p) >= 65).collect();
    let medicare = seniors
        .iter()
        .filter(|p| {
            p.of("Coverage")
                .iter()
                .any(|c| c["type"]["coding"][0]["code"] == "1")
        })
        .count();
    assert!(
        medicare * 10 >= seniors.len() * 8,
        "Medicare for most people of 65+ ({medicare} of {})",
        seniors.len()
    );
    let payer_types: HashSet<&str> = panel().by_type["Coverage"]
        .iter()
        .filter_map(|c| c["type"]["coding"][0]["code"].as_str())
        .collect();
    assert_eq!(payer_types, HashSet::from(["1", "2", "5", "81"]));
}

// ---- Structure -----------------------------------------------------------------------------

#[test]
fn every_line_is_compact_json_with_type_and_id() {
    for (name, bytes) in &panel().files {
        let text = std::str::from_utf8(bytes).expect("UTF-8");
        assert!(
            text.is_empty() || text.ends_with('\n'),
            "{name} ends with a newline"
        );
        for line in text.lines() {
            let value: Value = serde_json::from_str(line).expect("valid JSON");
            let reserialised = serde_json::to_string(&value).expect("serialises");
            assert_eq!(
                line.len(),
                reserialised.len(),
                "{name}: not compact: {line}"
            );
            if name == "engagement.ndjson" {
                continue;
            }
            let resource_type = value["resourceType"].as_str().expect("resourceType");
            assert_eq!(format!("{resource_type}.ndjson"), *name);
            let id = value["id"].as_str().expect("id");
            assert!(
                !id.is_empty()
                    && id.len() <= 64
                    && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            );
            assert!(
                value["meta"]["lastUpdated"].is_string(),
                "{name}: meta.lastUpdated"
            );
        }
    }
}

#[test]
fn ids_are_unique_per_type() {
    for (resource_type, resources) in &panel().by_type {
        let mut seen = HashSet::new();
        for resource in resources {
            let id = resource["id"].as_str().expect("id");
            assert!(seen.insert(id), "duplicate {resource_type}/{id}");
        }
    }
}

fn visit_references<'a>(value: &'a Value, found: &mut Vec<&'a str>) {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                if key == "reference" {
                    found.push(child.as_str().expect("a reference is a string"));
                } else {
                    visit_references(child, found);
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|i| visit_references(i, found)),
        _ => {}
    }
}

#[test]
fn every_reference_resolves_and_every_resource_has_its_patient() {
    let panel = panel();
    let ids: HashMap<&str, HashSet<&str>> = panel
        .by_type
        .iter()
        .map(|(t, rs)| {
            (
                t.as_str(),
                rs.iter().map(|r| r["id"].as_str().expect("id")).collect(),
            )
        })
        .collect();
    let mut checked = 0;
    for (resource_type, resources) in &panel.by_type {
        for resource in resources {
            if resource_type != "Patient" {
                let patient = patient_of(resource)
                    .unwrap_or_else(|| panic!("{resource_type} has no patient"));
                assert!(ids["Patient"].contains(patient));
            }
            let mut references = Vec::new();
            visit_references(resource, &mut references);
            for reference in references {
                let (target_type, target_id) = reference.split_once('/').expect("Type/id");
                assert!(
                    ids.get(target_type)
                        .is_some_and(|set| set.contains(target_id)),
                    "{resource_type} {} points at missing {reference}",
                    resource["id"]
                );
                checked += 1;
            }
        }
    }
    for signal in &panel.signals {
        assert!(ids["Patient"].contains(signal["patient"].as_str().expect("patient")));
    }
    assert!(checked > 10_000);
}

fn visit_strings<'a>(value: &'a Value, found: &mut Vec<&'a str>) {
    match value {
        Value::String(text) => found.push(text),
        Value::Object(map) => map.values().for_each(|v| visit_strings(v, found)),
        Value::Array(items) => items.iter().for_each(|i| visit_strings(i, found)),
        _ => {}
    }
}

fn looks_like_date(text: &str) -> bool {
    let b = text.as_bytes();
    b.len() >= 10
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4] == b'-'
        && b[5..7].iter().all(u8::is_ascii_digit)
        && b[7] == b'-'
        && b[8..10].iter().all(u8::is_ascii_digit)
}

#[test]
fn nothing_is_dated_after_the_as_of_date() {
    let panel = panel();
    let mut dates = 0;
    for value in panel.by_type.values().flatten().chain(&panel.signals) {
        let mut strings = Vec::new();
        visit_strings(value, &mut strings);
        for text in strings.into_iter().filter(|t| looks_like_date(t)) {
            let date = date_of(text).unwrap_or_else(|| panic!("not a date: {text}"));
            assert!(date <= as_of(), "{text} is after the as-of date in {value}");
            dates += 1;
        }
    }
    assert!(dates > 50_000, "dates checked: {dates}");
}

#[test]
fn engagement_lines_follow_the_import_format() {
    let allowed: HashSet<&str> = HashSet::from(["patient", "kind", "at", "channel"]);
    let mut unique = HashSet::new();
    for signal in &panel().signals {
        let object = signal.as_object().expect("an object");
        assert!(
            object.keys().all(|k| allowed.contains(k.as_str())),
            "unknown field in {signal}"
        );
        let kind = signal["kind"].as_str().expect("kind");
        assert!([
            "checkin_done",
            "checkin_missed",
            "portal_login",
            "portal_message"
        ]
        .contains(&kind));
        let at = signal["at"].as_str().expect("at");
        let valid = NaiveDate::parse_from_str(at, "%Y-%m-%d").is_ok()
            || chrono::DateTime::parse_from_rfc3339(at).is_ok();
        assert!(valid, "bad at: {at}");
        if let Some(channel) = signal.get("channel") {
            assert!(["app", "portal", "sms"].contains(&channel.as_str().expect("channel")));
        }
        // The store keys signals by (patient, kind, at): none may collapse.
        assert!(
            unique.insert((signal["patient"].as_str(), kind, at)),
            "duplicate signal {signal}"
        );
    }
}

#[test]
fn report_counts_what_was_written() {
    let panel = panel();
    let (_, report) = generate_in_memory(&config(1_000, 42)).expect("generates");
    let counted: BTreeMap<String, u64> = panel
        .by_type
        .iter()
        .map(|(t, rs)| (t.clone(), rs.len() as u64))
        .collect();
    assert_eq!(report.resources, counted);
    assert_eq!(report.engagement_signals, panel.signals.len() as u64);
    assert_eq!(panel.files.len(), DemoFile::ALL.len());
    for ((name, _), file) in panel.files.iter().zip(DemoFile::ALL) {
        assert_eq!(name, file.file_name());
    }
}

// ---- Determinism and output -----------------------------------------------------------------

#[test]
fn the_same_settings_give_the_same_bytes() {
    let (again, _) = generate_in_memory(&config(1_000, 42)).expect("generates");
    assert!(again == panel().files, "same config, same bytes");
    let (other, _) = generate_in_memory(&config(1_000, 43)).expect("generates");
    for ((name, a), (_, b)) in panel().files.iter().zip(&other) {
        assert_ne!(a, b, "{name} differs with another seed");
    }
    let (later, _) = generate_in_memory(&DemoConfig {
        as_of: as_of().succ_opt().expect("date"),
        ..config(1_000, 42)
    })
    .expect("generates");
    assert!(
        later != panel().files,
        "another as-of date gives another panel"
    );
}

#[test]
fn patients_do_not_depend_on_the_panel_size() {
    let (small, _) = generate_in_memory(&config(50, 42)).expect("generates");
    for ((name, small), (_, large)) in small.iter().zip(&panel().files) {
        assert!(
            large.starts_with(small),
            "{name}: the first 50 patients of 1,000 are the 50-patient panel"
        );
    }
}

#[test]
fn writing_to_a_directory_gives_the_same_files() {
    let dir = tempfile::tempdir().expect("temp dir");
    let target = dir.path().join("panel");
    let report = write_to_dir(&config(120, 9), &target).expect("writes");
    let (files, in_memory) = generate_in_memory(&config(120, 9)).expect("generates");
    assert_eq!(report, in_memory);
    for (name, bytes) in files {
        let written = std::fs::read(target.join(&name)).expect("file exists");
        assert!(written == bytes, "{name} on disk equals the in-memory file");
    }
}

#[test]
fn invalid_settings_are_refused() {
    assert!(matches!(
        generate_in_memory(&config(0, 1)),
        Err(DemoError::Invalid(_))
    ));
    let ancient = DemoConfig {
        patients: 1,
        seed: 1,
        as_of: NaiveDate::from_ymd_opt(1800, 1, 1).expect("date"),
    };
    assert!(matches!(
        generate_in_memory(&ancient),
        Err(DemoError::Invalid(_))
    ));
    let blocked = tempfile::NamedTempFile::new().expect("temp file");
    let error = write_to_dir(&config(1, 1), &blocked.path().join("under-a-file"))
        .expect_err("not a directory");
    assert!(matches!(error, DemoError::Io { .. }), "{error}");
}

#[test]
fn small_and_other_panels_generate() {
    for (patients, seed, year) in [
        (1, 0, 2026),
        (20, 7, 2026),
        (200, 123, 2021),
        (100, 5, 2010),
    ] {
        let as_of = NaiveDate::from_ymd_opt(year, 2, 28).expect("date");
        let (files, report) = generate_in_memory(&DemoConfig {
            patients,
            seed,
            as_of,
        })
        .expect("generates");
        assert_eq!(report.patients, u64::from(patients));
        let text = std::str::from_utf8(&files[0].1).expect("UTF-8");
        assert_eq!(text.lines().count(), patients as usize);
        for (_, bytes) in &files {
            let text = std::str::from_utf8(bytes).expect("UTF-8");
            for line in text.lines() {
                let value: Value = serde_json::from_str(line).expect("JSON");
                let mut strings = Vec::new();
                visit_strings(&value, &mut strings);
                for date in strings
                    .into_iter()
                    .filter(|t| looks_like_date(t))
                    .filter_map(date_of)
                {
                    assert!(date <= as_of, "{date} after {as_of}");
                }
            }
        }
    }
}
