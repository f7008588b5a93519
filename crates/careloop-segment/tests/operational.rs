//! The operational signals (social-needs screening, care signals, crisis contacts, missed
//! reviews and welfare tasks, engagement trends, unplanned follow-up after a transition) and
//! the five operational segments built on them, on fixture patients placed at every window
//! edge; then the whole built-in catalogue on the 1,000-patient demo panel. Expected values
//! are derived by hand from the signal definitions in `signals::SIGNALS` and the rule texts.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use careloop_segment::facts::EngagementFact;
use careloop_segment::signals::{self, SignalValue};
use careloop_segment::{builtin_catalog, engine, Catalog, PatientFacts, SharedFacts};
use chrono::NaiveDate;
use serde_json::{json, Value};

/// The as-of date of every fixture. W12 starts 2025-06-30; D-14 is 06-16, D-15 06-15, D-28
/// 06-02, D-30 05-31, D-31 05-30, D-90 04-01, D-91 03-31, D-120 03-02, D-121 03-01.
const D: &str = "2026-06-30";

const CARE_SIGNAL: &str = "https://careloop.example/fhir/CodeSystem/care-signal";
const OUTREACH_SERVICE: &str = "https://careloop.example/fhir/CodeSystem/outreach-service";
const SNOMED: &str = "http://snomed.info/sct";
const LOINC: &str = "http://loinc.org";

fn date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn d() -> NaiveDate {
    date(D)
}

fn catalog() -> Catalog {
    builtin_catalog().expect("the built-in catalogue is valid")
}

/// A patient under construction: resources as the store would hold them, plus engagement.
struct Person {
    id: String,
    resources: Vec<(String, String)>,
    engagement: Vec<EngagementFact>,
    next: usize,
}

impl Person {
    fn new(id: &str) -> Person {
        Person::born(id, "1960-01-01", "female")
    }

    fn born(id: &str, birth: &str, gender: &str) -> Person {
        let mut p = Person {
            id: id.to_owned(),
            resources: Vec::new(),
            engagement: Vec::new(),
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

    /// A completed screening with one item per (linkId, answer value).
    fn screening(&mut self, authored: &str, items: &[(&str, Value)]) -> &mut Person {
        self.screening_with_status(authored, "completed", items)
    }

    fn screening_with_status(
        &mut self,
        authored: &str,
        status: &str,
        items: &[(&str, Value)],
    ) -> &mut Person {
        let items: Vec<Value> = items
            .iter()
            .map(|(link_id, answer)| json!({"linkId": link_id, "answer": [answer]}))
            .collect();
        self.add(
            json!({"resourceType": "QuestionnaireResponse", "status": status,
            "authored": authored, "item": items}),
        )
    }

    fn care_signal(&mut self, system: &str, code: &str, date: &str) -> &mut Person {
        self.add(json!({"resourceType": "Observation", "status": "final",
            "code": {"coding": [{"system": system, "code": code}]},
            "effectiveDateTime": date, "valueBoolean": true}))
    }

    fn encounter(
        &mut self,
        id: &str,
        class: &str,
        start: &str,
        end: &str,
        reason: Option<&str>,
    ) -> &mut Person {
        let mut e = json!({"resourceType": "Encounter", "id": format!("{}-{id}", self.id), "status": "finished",
            "class": {"code": class}, "period": {"start": start, "end": end}});
        if let Some(reason) = reason {
            e["reasonCode"] = json!([{"coding": [{"system": SNOMED, "code": reason}]}]);
        }
        self.add(e)
    }

    fn appointment(
        &mut self,
        status: &str,
        system: &str,
        service: &str,
        start: &str,
    ) -> &mut Person {
        self.add(json!({"resourceType": "Appointment", "status": status,
            "serviceType": [{"coding": [{"system": system, "code": service}]}], "start": start}))
    }

    fn discharge_medication(&mut self, authored: &str) -> &mut Person {
        self.add(json!({"resourceType": "MedicationRequest", "status": "active", "intent": "order",
            "authoredOn": authored, "category": [{"coding": [{"code": "discharge"}]}],
            "medicationCodeableConcept": {"coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "197361"}]}}))
    }

    fn engage(&mut self, kind: &str, dates: &[&str]) -> &mut Person {
        for at in dates {
            self.engagement.push(EngagementFact {
                kind: kind.into(),
                date: Some(date(at)),
            });
        }
        self
    }

    fn facts(&self) -> PatientFacts {
        let mut facts =
            PatientFacts::from_resources(&self.id, &self.resources, &SharedFacts::default());
        facts.engagement = self.engagement.clone();
        facts
    }
}

fn coded(code: &str) -> Value {
    json!({"valueCoding": {"system": LOINC, "code": code}})
}

fn integer(n: i64) -> Value {
    json!({"valueInteger": n})
}

/// One signal of one person as of a date.
fn signal(person: &Person, name: &str, on: NaiveDate) -> SignalValue {
    signals::derive(&person.facts(), &catalog().value_sets, on)
        .get(name)
        .clone()
}

fn flag(person: &Person, name: &str) -> bool {
    match signal(person, name, d()) {
        SignalValue::Bool(b) => b,
        other => panic!("{}: {name} is {other:?}, not a boolean", person.id),
    }
}

fn number(person: &Person, name: &str) -> f64 {
    match signal(person, name, d()) {
        SignalValue::Number(n) => n,
        other => panic!("{}: {name} is {other:?}, not a number", person.id),
    }
}

/// For each person, which of `names` hold as of D.
fn flags_holding(panel: &[Person], names: &[&str]) -> BTreeMap<String, BTreeSet<String>> {
    panel
        .iter()
        .map(|p| {
            let holding = names
                .iter()
                .filter(|n| flag(p, n))
                .map(|n| n.to_string())
                .collect();
            (p.id.clone(), holding)
        })
        .collect()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

fn members(panel: &[Person]) -> BTreeMap<String, BTreeSet<String>> {
    let facts: Vec<PatientFacts> = panel.iter().map(Person::facts).collect();
    engine::run(&catalog(), &facts, &HashMap::new(), d())
        .into_iter()
        .map(|c| (c.segment_id, c.members.into_iter().collect()))
        .collect()
}

const SCREENING_SIGNALS: [&str; 8] = [
    "lives_alone",
    "housing_instability",
    "eviction_risk",
    "food_insecurity",
    "transport_barrier",
    "utility_shutoff",
    "social_isolation",
    "caregiver_strain",
];

#[test]
fn screening_signals_take_the_latest_answer_within_12_months() {
    let mut panel: Vec<Person> = [
        "housing-on-w12-edge",
        "housing-day-before-edge",
        "housing-latest-negative",
        "housing-latest-positive",
        "housing-negative-then-positive-after-d",
        "housing-only-after-d",
        "housing-same-day-conflict",
        "housing-newer-entered-in-error",
        "no-steady-place",
        "yes-to-transport-only",
        "yes-to-eviction-only",
        "food-second-question",
        "food-never",
        "utilities-shut-off",
        "utilities-no",
        "lonely-often",
        "lonely-sometimes",
        "household-of-one",
        "household-of-two-after-one",
        "carer-strained",
        "undated-answer",
    ]
    .iter()
    .map(|id| Person::new(id))
    .collect();
    let at_risk = || coded("LA31994-9");
    let steady = || coded("LA31993-1");
    panel[0].screening("2025-06-30T09:00:00Z", &[("71802-3", at_risk())]);
    panel[1].screening("2025-06-29T23:59:00Z", &[("71802-3", at_risk())]);
    panel[2]
        .screening("2026-01-10", &[("71802-3", at_risk())])
        .screening("2026-03-01", &[("71802-3", steady())]);
    panel[3]
        .screening("2025-09-01", &[("71802-3", steady())])
        .screening("2026-03-01", &[("71802-3", at_risk())]);
    panel[4]
        .screening("2026-01-10", &[("71802-3", steady())])
        .screening("2026-07-01", &[("71802-3", at_risk())]);
    panel[5].screening("2026-07-01", &[("71802-3", at_risk())]);
    panel[6]
        .screening("2026-02-02T09:00:00Z", &[("71802-3", steady())])
        .screening("2026-02-02T15:00:00Z", &[("71802-3", at_risk())]);
    panel[7]
        .screening("2026-01-10", &[("71802-3", at_risk())])
        .screening_with_status("2026-03-01", "entered-in-error", &[("71802-3", steady())]);
    panel[8].screening("2026-05-05", &[("71802-3", coded("LA31995-6"))]);
    // "Yes" (LA33-6) answers several questions: it counts only for the question it answers.
    panel[9].screening(
        "2026-05-05",
        &[("93030-5", coded("LA33-6")), ("93033-9", coded("LA32-8"))],
    );
    panel[10].screening(
        "2026-05-05",
        &[("93030-5", coded("LA32-8")), ("93033-9", coded("LA33-6"))],
    );
    panel[11].screening(
        "2026-05-05",
        &[
            ("88122-7", coded("LA28398-8")),
            ("88123-5", coded("LA6729-3")),
        ],
    );
    panel[12].screening(
        "2026-05-05",
        &[
            ("88122-7", coded("LA28398-8")),
            ("88123-5", coded("LA28398-8")),
        ],
    );
    panel[13].screening("2026-05-05", &[("96779-4", coded("LA32002-0"))]);
    panel[14].screening("2026-05-05", &[("96779-4", coded("LA32-8"))]);
    panel[15].screening("2026-05-05", &[("93159-1", coded("LA10044-8"))]);
    panel[16].screening("2026-05-05", &[("93159-1", coded("LA10082-8"))]);
    panel[17].screening("2026-05-05", &[("63512-8", integer(1))]);
    panel[18]
        .screening("2025-12-01", &[("63512-8", integer(1))])
        .screening("2026-05-05", &[("63512-8", integer(2))]);
    panel[19].screening(
        "2026-05-05",
        &[("careloop-caregiver-strain", coded("LA33-6"))],
    );
    panel[20].add(
        json!({"resourceType": "QuestionnaireResponse", "status": "completed",
        "item": [{"linkId": "71802-3", "answer": [{"valueCoding": {"code": "LA31994-9"}}]}]}),
    );

    let got = flags_holding(&panel, &SCREENING_SIGNALS);
    let expected: BTreeMap<String, BTreeSet<String>> = [
        ("housing-on-w12-edge", &["housing_instability"][..]),
        ("housing-day-before-edge", &[]),
        ("housing-latest-negative", &[]),
        ("housing-latest-positive", &["housing_instability"]),
        ("housing-negative-then-positive-after-d", &[]),
        ("housing-only-after-d", &[]),
        ("housing-same-day-conflict", &["housing_instability"]),
        ("housing-newer-entered-in-error", &["housing_instability"]),
        ("no-steady-place", &["housing_instability"]),
        ("yes-to-transport-only", &["transport_barrier"]),
        ("yes-to-eviction-only", &["eviction_risk"]),
        ("food-second-question", &["food_insecurity"]),
        ("food-never", &[]),
        ("utilities-shut-off", &["utility_shutoff"]),
        ("utilities-no", &[]),
        ("lonely-often", &["social_isolation"]),
        ("lonely-sometimes", &[]),
        ("household-of-one", &["lives_alone"]),
        ("household-of-two-after-one", &[]),
        ("carer-strained", &["caregiver_strain"]),
        ("undated-answer", &[]),
    ]
    .into_iter()
    .map(|(id, names)| (id.to_owned(), set(names)))
    .collect();
    assert_eq!(got, expected);

    // What is after D becomes visible once D reaches it.
    assert_eq!(
        signal(&panel[5], "housing_instability", date("2026-07-01")),
        SignalValue::Bool(true)
    );
    // The edge moves with D: one day later the answer of 2025-06-30 is out of the window.
    assert_eq!(
        signal(&panel[0], "housing_instability", date("2026-07-01")),
        SignalValue::Bool(false)
    );
}

#[test]
fn care_signals_count_by_date_and_local_code() {
    let mut setup_on_d = Person::new("setup-on-d");
    setup_on_d.care_signal(CARE_SIGNAL, "assisted-setup-needed", "2026-06-30T23:00:00Z");
    let mut setup_after_d = Person::new("setup-after-d");
    setup_after_d.care_signal(CARE_SIGNAL, "assisted-setup-needed", "2026-07-01");
    let mut setup_long_ago = Person::new("setup-long-ago");
    setup_long_ago.care_signal(CARE_SIGNAL, "assisted-setup-needed", "2019-03-01");
    let mut setup_other_system = Person::new("setup-other-system");
    setup_other_system.care_signal(LOINC, "assisted-setup-needed", "2026-06-01");
    assert!(flag(&setup_on_d, "assisted_setup_needed"));
    assert!(!flag(&setup_after_d, "assisted_setup_needed"));
    assert!(
        flag(&setup_long_ago, "assisted_setup_needed"),
        "no window: the need persists until recorded otherwise"
    );
    assert!(!flag(&setup_other_system, "assisted_setup_needed"));

    let mut incidents = Person::new("incidents");
    incidents
        .care_signal(CARE_SIGNAL, "incident-reported", "2026-04-01") // D-90: inside
        .care_signal(CARE_SIGNAL, "incident-reported", "2026-03-31") // D-91: outside
        .care_signal(CARE_SIGNAL, "incident-reported", "2026-06-30") // D: inside
        .care_signal(CARE_SIGNAL, "incident-reported", "2026-07-01") // after D
        .care_signal(CARE_SIGNAL, "assisted-setup-needed", "2026-06-01") // another signal
        .add(
            json!({"resourceType": "Observation", "status": "entered-in-error",
            "code": {"coding": [{"system": CARE_SIGNAL, "code": "incident-reported"}]},
            "effectiveDateTime": "2026-06-01"}),
        );
    assert_eq!(number(&incidents, "incidents_90d"), 2.0);
}

#[test]
fn crisis_contacts_are_emergency_visits_of_w12_with_a_crisis_reason() {
    let mut p = Person::new("crisis");
    p.encounter(
        "edge",
        "EMER",
        "2025-06-30T22:00:00Z",
        "2025-07-01",
        Some("6471006"),
    )
    .encounter(
        "before-edge",
        "EMER",
        "2025-06-29",
        "2025-06-29",
        Some("225444004"),
    )
    .encounter(
        "panic",
        "EMER",
        "2026-06-30",
        "2026-06-30",
        Some("225624000"),
    )
    .encounter(
        "chest-pain",
        "EMER",
        "2026-02-01",
        "2026-02-01",
        Some("29857009"),
    )
    .encounter(
        "clinic",
        "AMB",
        "2026-03-01",
        "2026-03-01",
        Some("69322001"),
    )
    .encounter(
        "after-d",
        "EMER",
        "2026-07-01",
        "2026-07-01",
        Some("69322001"),
    );
    assert_eq!(number(&p, "prior_crisis_contacts_12m"), 2.0);
    assert_eq!(
        number(&p, "ed_visits_12m"),
        3.0,
        "crisis contacts are a subset of the emergency visits"
    );
}

#[test]
fn missed_reviews_and_welfare_tasks_are_no_shows_of_the_last_90_days_by_service_type() {
    let mut p = Person::new("no-shows");
    p.appointment(
        "noshow",
        OUTREACH_SERVICE,
        "medication-review",
        "2026-04-01T09:00:00Z",
    ) // D-90
    .appointment(
        "noshow",
        OUTREACH_SERVICE,
        "care-plan-review",
        "2026-03-31T09:00:00Z",
    ) // D-91
    .appointment(
        "noshow",
        OUTREACH_SERVICE,
        "behavioural-health-review",
        "2026-06-30T16:00:00Z",
    )
    .appointment(
        "fulfilled",
        OUTREACH_SERVICE,
        "medication-review",
        "2026-05-01",
    )
    .appointment(
        "noshow",
        OUTREACH_SERVICE,
        "medication-review",
        "2026-07-01",
    ) // after D
    .appointment("noshow", SNOMED, "medication-review", "2026-05-01") // another system
    .appointment("noshow", OUTREACH_SERVICE, "clinic-visit", "2026-05-01")
    .appointment("noshow", OUTREACH_SERVICE, "welfare-call", "2026-05-02")
    .appointment("noshow", OUTREACH_SERVICE, "welfare-visit", "2026-06-02")
    .appointment("cancelled", OUTREACH_SERVICE, "welfare-visit", "2026-06-03");
    assert_eq!(number(&p, "missed_reviews_90d"), 2.0);
    assert_eq!(number(&p, "missed_welfare_tasks_90d"), 2.0);
}

#[test]
fn engagement_trends_compare_the_last_two_fortnights_and_portal_months() {
    // Three done in D-28..D-15 against one in D-14..D: fell by two.
    let mut fell = Person::new("fell-by-two");
    fell.engage(
        "checkin_done",
        &["2026-06-02", "2026-06-09", "2026-06-15", "2026-06-16"],
    )
    .engage(
        "checkin_missed",
        &["2026-06-23", "2026-06-30", "2026-06-01"],
    );
    // The D-29 check-in is outside the earlier fortnight: two against one is a drop of one.
    let mut fell_by_one = Person::new("fell-by-one");
    fell_by_one.engage(
        "checkin_done",
        &["2026-06-01", "2026-06-02", "2026-06-15", "2026-06-16"],
    );
    // A check-in done after D does not rescue the last fortnight.
    let mut after_d = Person::new("done-after-d");
    after_d.engage(
        "checkin_done",
        &["2026-06-03", "2026-06-10", "2026-07-01", "2026-07-02"],
    );
    // Portal: two uses in D-120..D-31 and none since.
    let mut portal_stopped = Person::new("portal-stopped");
    portal_stopped.engage("portal_login", &["2026-03-02", "2026-05-30"]);
    let mut portal_on_d30 = Person::new("portal-on-d-minus-30");
    portal_on_d30.engage("portal_login", &["2026-03-02", "2026-05-30", "2026-05-31"]);
    let mut portal_once = Person::new("portal-once-before");
    portal_once.engage("portal_login", &["2026-03-01", "2026-05-30"]);
    let mut portal_message = Person::new("portal-message-then-silence");
    portal_message
        .engage("portal_message", &["2026-04-10"])
        .engage("portal_login", &["2026-04-10"]);
    // A gradual decline: 3 done in D-56..D-29, 1 in D-28..D (under half), no sudden drop.
    let mut halved = Person::new("halved-month-on-month");
    halved.engage(
        "checkin_done",
        &["2026-05-05", "2026-05-12", "2026-06-01", "2026-06-20"],
    );
    // 4 then 2 is exactly half, not under it.
    let mut half = Person::new("exactly-half");
    half.engage(
        "checkin_done",
        &[
            "2026-05-05",
            "2026-05-12",
            "2026-05-19",
            "2026-05-26",
            "2026-06-08",
            "2026-06-22",
        ],
    );
    let panel = [
        fell,
        fell_by_one,
        halved,
        half,
        after_d,
        portal_stopped,
        portal_on_d30,
        portal_once,
        portal_message,
    ];
    assert_eq!(
        flags_holding(&panel, &["falling_engagement"]),
        [
            ("fell-by-two", true),
            ("fell-by-one", false),
            ("halved-month-on-month", true),
            ("exactly-half", false),
            ("done-after-d", true),
            ("portal-stopped", true),
            ("portal-on-d-minus-30", false),
            ("portal-once-before", false),
            ("portal-message-then-silence", true),
        ]
        .into_iter()
        .map(|(id, falls)| (
            id.to_owned(),
            if falls {
                set(&["falling_engagement"])
            } else {
                set(&[])
            }
        ))
        .collect()
    );
    assert_eq!(number(&panel[0], "checkins_done_prior_14d"), 3.0);
    assert_eq!(number(&panel[0], "checkins_done_14d"), 1.0);
    assert_eq!(
        number(&panel[0], "checkins_missed_prior_14d"),
        0.0,
        "06-01 is D-29"
    );
    assert_eq!(number(&panel[0], "missed_checkins_14d"), 2.0);
    assert_eq!(number(&panel[1], "checkins_done_prior_14d"), 2.0);
}

#[test]
fn missed_checkins_after_discharge_count_the_first_two_weeks_at_home() {
    let mut p = Person::new("discharged");
    p.encounter("stay", "IMP", "2026-06-01", "2026-06-10T11:00:00Z", None)
        .engage(
            "checkin_missed",
            &["2026-06-09", "2026-06-11", "2026-06-24", "2026-06-25"],
        )
        .engage("checkin_done", &["2026-06-12"]);
    // 06-11 and 06-24 (discharge + 14) count; 06-09 is before the discharge, 06-25 too late.
    assert_eq!(number(&p, "missed_checkins_after_discharge"), 2.0);
    // Before the 14 days are over, only what has happened counts.
    assert_eq!(
        signal(&p, "missed_checkins_after_discharge", date("2026-06-20")),
        SignalValue::Number(1.0)
    );
    let mut never = Person::new("never-admitted");
    never.engage("checkin_missed", &["2026-06-20"]);
    assert_eq!(
        signal(&never, "missed_checkins_after_discharge", d()),
        SignalValue::Missing
    );
}

#[test]
fn prior_unplanned_followup_is_a_return_within_30_days_of_a_discharge_in_w12() {
    let mut panel: Vec<Person> = [
        "ed-30-days-after",
        "ed-31-days-after",
        "ed-same-day",
        "admitted-same-day",
        "admitted-next-day",
        "discharge-before-w12",
        "return-after-d",
        "clinic-follow-up",
        "ed-before-admission",
    ]
    .iter()
    .map(|id| Person::new(id))
    .collect();
    let stay = |p: &mut Person, end: &str| {
        p.encounter("stay", "IMP", "2026-01-02", end, None);
    };
    stay(&mut panel[0], "2026-01-10");
    panel[0].encounter("back", "EMER", "2026-02-09", "2026-02-09", None);
    stay(&mut panel[1], "2026-01-10");
    panel[1].encounter("back", "EMER", "2026-02-10", "2026-02-10", None);
    stay(&mut panel[2], "2026-01-10T10:00:00Z");
    panel[2].encounter(
        "back",
        "EMER",
        "2026-01-10T20:00:00Z",
        "2026-01-10T23:00:00Z",
        None,
    );
    stay(&mut panel[3], "2026-01-10");
    panel[3].encounter("transfer", "IMP", "2026-01-10", "2026-01-20", None);
    stay(&mut panel[4], "2026-01-10");
    panel[4].encounter("back", "ACUTE", "2026-01-11", "2026-01-15", None);
    panel[5]
        .encounter("stay", "IMP", "2025-06-20", "2025-06-29", None)
        .encounter("back", "EMER", "2025-07-05", "2025-07-05", None);
    panel[6]
        .encounter("stay", "IMP", "2026-06-20", "2026-06-25", None)
        .encounter("back", "EMER", "2026-07-02", "2026-07-02", None);
    stay(&mut panel[7], "2026-01-10");
    panel[7].encounter("review", "AMB", "2026-01-15", "2026-01-15", None);
    panel[8]
        .encounter("ed", "EMER", "2026-01-01", "2026-01-02", None)
        .encounter("stay", "IMP", "2026-01-02", "2026-01-10", None);
    let got = flags_holding(&panel, &["prior_unplanned_followup"]);
    let holding: BTreeSet<String> = got
        .into_iter()
        .filter(|(_, s)| !s.is_empty())
        .map(|(id, _)| id)
        .collect();
    assert_eq!(
        holding,
        set(&["ed-30-days-after", "ed-same-day", "admitted-next-day"])
    );
    // The return after D becomes visible once D reaches it.
    assert_eq!(
        signal(&panel[6], "prior_unplanned_followup", date("2026-07-02")),
        SignalValue::Bool(true)
    );
}

#[test]
fn post_discharge_followup_needs_a_discharge_and_one_risk() {
    let mut panel: Vec<Person> = [
        "lives-alone",
        "med-change",
        "missed-early-checkin",
        "assisted-setup",
        "prior-bounce",
        "no-risk",
        "risk-but-discharged-31-days-ago",
        "risk-without-discharge",
    ]
    .iter()
    .map(|id| Person::born(id, "1950-01-01", "male"))
    .collect();
    for (i, p) in panel.iter_mut().enumerate() {
        match i {
            6 => p.encounter("stay", "IMP", "2026-05-20", "2026-05-30", None),
            7 => p,
            _ => p.encounter("stay", "IMP", "2026-06-10", "2026-06-15", None),
        };
    }
    panel[0].screening("2026-06-16", &[("63512-8", integer(1))]);
    panel[1].discharge_medication("2026-06-15T10:00:00Z");
    panel[2].engage("checkin_missed", &["2026-06-17"]);
    panel[3].care_signal(CARE_SIGNAL, "assisted-setup-needed", "2026-06-15");
    panel[4]
        .encounter("earlier", "IMP", "2026-01-01", "2026-01-05", None)
        .encounter("bounce", "EMER", "2026-01-20", "2026-01-20", None);
    panel[5].engage("checkin_done", &["2026-06-17"]);
    panel[6].screening("2026-06-01", &[("63512-8", integer(1))]);
    panel[7].screening("2026-06-01", &[("63512-8", integer(1))]);
    let got = members(&panel);
    assert_eq!(
        got["post_discharge_followup"],
        set(&[
            "lives-alone",
            "med-change",
            "missed-early-checkin",
            "assisted-setup",
            "prior-bounce"
        ])
    );
    // Priority: missed early check-in 3, prior bounce 3, medicines 2, alone 2, setup 2.
    let facts: Vec<PatientFacts> = panel.iter().map(Person::facts).collect();
    let cohorts = engine::run(&catalog(), &facts, &HashMap::new(), d());
    let cohort = cohorts
        .iter()
        .find(|c| c.segment_id == "post_discharge_followup")
        .unwrap();
    let totals: BTreeMap<&str, i32> = cohort
        .priority
        .iter()
        .map(|(id, p)| (id.as_str(), p.total))
        .collect();
    assert_eq!(
        totals,
        BTreeMap::from([
            ("assisted-setup", 2),
            ("lives-alone", 2),
            ("med-change", 2),
            ("missed-early-checkin", 3),
            ("prior-bounce", 3),
        ])
    );
}

#[test]
fn bh_continuity_risk_needs_a_behavioural_health_context_and_a_continuity_sign() {
    let depression = |p: &mut Person| {
        p.add(
            json!({"resourceType": "Condition", "onsetDateTime": "2020-01-01",
            "code": {"coding": [{"system": SNOMED, "code": "370143000"}]}}),
        );
    };
    let mut panel: Vec<Person> = [
        "crisis-only",
        "depression-housing",
        "depression-missed-review",
        "depression-falling",
        "depression-stable",
        "housing-no-bh",
        "icd10-anxiety-housing",
        "depression-resolved-housing",
    ]
    .iter()
    .map(|id| Person::born(id, "1985-01-01", "female"))
    .collect();
    panel[0].encounter(
        "crisis",
        "EMER",
        "2026-05-01",
        "2026-05-01",
        Some("6471006"),
    );
    depression(&mut panel[1]);
    panel[1].screening("2026-04-01", &[("71802-3", coded("LA31995-6"))]);
    depression(&mut panel[2]);
    panel[2].appointment(
        "noshow",
        OUTREACH_SERVICE,
        "behavioural-health-review",
        "2026-06-01",
    );
    depression(&mut panel[3]);
    panel[3].engage("portal_login", &["2026-04-01", "2026-04-15"]);
    depression(&mut panel[4]);
    panel[4]
        .screening("2026-04-01", &[("71802-3", coded("LA31993-1"))])
        .engage("checkin_done", &["2026-06-10", "2026-06-20"]);
    panel[5].screening("2026-04-01", &[("71802-3", coded("LA31994-9"))]);
    panel[6]
        .add(json!({"resourceType": "Condition", "onsetDateTime": "2021-01-01",
            "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "F41.1"}]}}))
        .screening("2026-04-01", &[("71802-3", coded("LA31994-9"))]);
    panel[7]
        .add(json!({"resourceType": "Condition", "onsetDateTime": "2020-01-01", "abatementDateTime": "2022-01-01",
            "code": {"coding": [{"system": SNOMED, "code": "370143000"}]}}))
        .screening("2026-04-01", &[("71802-3", coded("LA31994-9"))]);
    let got = members(&panel);
    assert_eq!(
        got["bh_continuity_risk"],
        set(&[
            "crisis-only",
            "depression-housing",
            "depression-missed-review",
            "depression-falling",
            "icd10-anxiety-housing"
        ])
    );
}

#[test]
fn longterm_support_fragility_and_social_risk_escalation_membership() {
    let mut panel: Vec<Person> = [
        "welfare-missed",
        "welfare-missed-long-ago",
        "carer-strained",
        "incident",
        "falling-only",
        "eviction",
        "food",
        "utilities",
        "transport-only",
        "housing-only",
        "eviction-answered-no-later",
        "eviction-screened-91-days-ago",
        "eviction-screened-90-days-ago",
    ]
    .iter()
    .map(|id| Person::born(id, "1940-01-01", "female"))
    .collect();
    panel[0].appointment("noshow", OUTREACH_SERVICE, "welfare-visit", "2026-05-01");
    panel[1].appointment("noshow", OUTREACH_SERVICE, "welfare-visit", "2026-03-31");
    panel[2].screening(
        "2026-02-01",
        &[("careloop-caregiver-strain", coded("LA33-6"))],
    );
    panel[3].care_signal(CARE_SIGNAL, "incident-reported", "2026-06-01");
    panel[4].engage("checkin_done", &["2026-06-03", "2026-06-10"]);
    panel[5].screening("2026-06-01", &[("93033-9", coded("LA33-6"))]);
    panel[6].screening("2026-06-01", &[("88122-7", coded("LA28397-0"))]);
    panel[7].screening("2026-06-01", &[("96779-4", coded("LA33-6"))]);
    panel[8].screening("2026-06-01", &[("93030-5", coded("LA33-6"))]);
    panel[9].screening("2026-06-01", &[("71802-3", coded("LA31995-6"))]);
    panel[10]
        .screening("2026-01-01", &[("93033-9", coded("LA33-6"))])
        .screening("2026-06-01", &[("93033-9", coded("LA32-8"))]);
    panel[11].screening("2026-03-31", &[("93033-9", coded("LA33-6"))]);
    panel[12].screening("2026-04-01", &[("93033-9", coded("LA33-6"))]);
    let got = members(&panel);
    assert_eq!(
        got["longterm_support_fragility"],
        set(&["welfare-missed", "carer-strained", "incident"])
    );
    assert_eq!(
        got["social_risk_escalation"],
        set(&[
            "eviction",
            "food",
            "utilities",
            "eviction-screened-90-days-ago"
        ]),
        "a need counts for escalation only from a screening of the last 90 days"
    );
}

#[test]
fn social_risk_priority_weighs_each_need_several_needs_and_recency() {
    let mut both_recent = Person::born("eviction-and-utilities-recent", "1980-01-01", "male");
    both_recent.screening(
        "2026-06-20",
        &[
            ("93033-9", coded("LA33-6")),
            ("96779-4", coded("LA32002-0")),
        ],
    );
    let mut food_old = Person::born("food-two-months-ago", "1980-01-01", "male");
    food_old.screening("2026-05-01", &[("88123-5", coded("LA6729-3"))]);
    let facts = vec![both_recent.facts(), food_old.facts()];
    let cohorts = engine::run(&catalog(), &facts, &HashMap::new(), d());
    let cohort = cohorts
        .iter()
        .find(|c| c.segment_id == "social_risk_escalation")
        .unwrap();
    // 3 utilities + 3 eviction + 2 several needs + 2 screened within 30 days.
    assert_eq!(cohort.priority["eviction-and-utilities-recent"].total, 10);
    assert_eq!(cohort.priority["food-two-months-ago"].total, 2);
}

#[test]
fn dormant_reengagement_comes_before_held_back_care_gaps() {
    let mut dormant = Person::born("dormant-diabetic", "1955-01-01", "female");
    dormant
        .encounter("old", "AMB", "2024-01-10", "2024-01-10", None)
        .add(
            json!({"resourceType": "Condition", "onsetDateTime": "2015-01-01",
            "code": {"coding": [{"system": SNOMED, "code": "44054006"}]}}),
        );
    let mut active = Person::born("seen-this-year", "1955-01-01", "female");
    active.encounter("recent", "AMB", "2026-01-10", "2026-01-10", None);
    let mut never = Person::born("never-seen", "1955-01-01", "female");
    never.engage("portal_login", &["2026-06-01"]);
    let facts = vec![dormant.facts(), active.facts(), never.facts()];
    let cohorts = engine::run(&catalog(), &facts, &HashMap::new(), d());
    let by_id: BTreeMap<&str, &engine::Cohort> =
        cohorts.iter().map(|c| (c.segment_id.as_str(), c)).collect();
    let reengagement = by_id["dormant_reengagement"];
    assert_eq!(reengagement.members, ["dormant-diabetic"]);
    assert_eq!(
        reengagement.worklist,
        ["dormant-diabetic"],
        "not held back here"
    );
    // 2 diabetes gap + 1 aged 65+ (71) + 1 mammography gap + 1 last seen 902 days ago; one
    // active condition only, so no points for two or more.
    assert_eq!(reengagement.priority["dormant-diabetic"].total, 5);
    for gap in [
        "diabetes_hba1c_gap",
        "medicare_awv_due",
        "breast_cancer_screening_gap",
    ] {
        assert_eq!(
            by_id[gap].held_back,
            [(
                "dormant-diabetic".to_owned(),
                "dormant: re-engagement comes first (dormant_reengagement)".to_owned()
            )],
            "{gap}"
        );
    }
}

// ---- The demo panel -------------------------------------------------------------------------

/// The patient a demo resource belongs to, from its R4 reference element.
fn patient_of(resource: &Value) -> Option<String> {
    let reference = ["subject", "patient", "beneficiary"]
        .iter()
        .find_map(|k| resource[*k]["reference"].as_str())
        .or_else(|| {
            resource["participant"]
                .as_array()?
                .iter()
                .find_map(|p| p["actor"]["reference"].as_str())
        })?;
    Some(bare_id(reference))
}

fn bare_id(reference: &str) -> String {
    let id = reference.strip_prefix("urn:uuid:").unwrap_or(reference);
    id.rsplit('/').next().unwrap_or(id).to_owned()
}

/// Generates the 1,000-patient demo panel of seed 42 as of D and reads it into facts, in
/// patient order (the first four are the generator's exemplars).
fn demo_panel() -> Vec<PatientFacts> {
    let config = careloop_demo::DemoConfig {
        patients: 1_000,
        seed: 42,
        as_of: d(),
    };
    let (files, report) = careloop_demo::generate_in_memory(&config).expect("the panel generates");
    assert_eq!(report.patients, 1_000);
    let mut order = Vec::new();
    let mut resources: HashMap<String, Vec<(String, String)>> = HashMap::new();
    let mut engagement: HashMap<String, Vec<EngagementFact>> = HashMap::new();
    for (name, bytes) in &files {
        let text = std::str::from_utf8(bytes).expect("UTF-8");
        for line in text.lines() {
            let value: Value =
                serde_json::from_str(line).unwrap_or_else(|e| panic!("{name}: {e}: {line}"));
            if name == "engagement.ndjson" {
                let patient = bare_id(value["patient"].as_str().expect("patient"));
                engagement.entry(patient).or_default().push(EngagementFact {
                    kind: value["kind"].as_str().expect("kind").into(),
                    date: value["at"]
                        .as_str()
                        .and_then(careloop_segment::dates::fhir_date),
                });
                continue;
            }
            let resource_type = value["resourceType"].as_str().expect("resourceType");
            let patient = if resource_type == "Patient" {
                let id = value["id"].as_str().expect("id").to_owned();
                order.push(id.clone());
                id
            } else {
                patient_of(&value).unwrap_or_else(|| panic!("{name}: no patient: {line}"))
            };
            resources
                .entry(patient)
                .or_default()
                .push((resource_type.to_owned(), line.to_owned()));
        }
    }
    order
        .iter()
        .map(|id| {
            let mut facts = PatientFacts::from_resources(
                id,
                resources.get(id).map_or(&[][..], Vec::as_slice),
                &SharedFacts::default(),
            );
            facts.engagement = engagement.remove(id).unwrap_or_default();
            facts
        })
        .collect()
}

#[test]
fn every_builtin_segment_has_members_on_the_demo_panel() {
    let catalog = catalog();
    let panel = demo_panel();
    let cohorts = engine::run(&catalog, &panel, &HashMap::new(), d());
    let sizes: BTreeMap<&str, usize> = cohorts
        .iter()
        .map(|c| (c.segment_id.as_str(), c.members.len()))
        .collect();
    let expected_ids = [
        "bh_continuity_risk",
        "breast_cancer_screening_gap",
        "diabetes_hba1c_gap",
        "dormant",
        "dormant_reengagement",
        "frequent_ed",
        "longterm_support_fragility",
        "medicare_awv_due",
        "polypharmacy",
        "post_discharge_30d",
        "post_discharge_followup",
        "social_risk_escalation",
    ];
    assert_eq!(sizes.keys().copied().collect::<Vec<_>>(), expected_ids);
    eprintln!("cohort sizes on the demo panel: {sizes:?}");
    for (id, size) in &sizes {
        assert!(*size > 0, "{id} has no members: {sizes:?}");
    }
    // No operational list selects more than a tenth of the panel: each must stay reviewable.
    for id in [
        "bh_continuity_risk",
        "longterm_support_fragility",
        "post_discharge_followup",
        "social_risk_escalation",
    ] {
        assert!(sizes[id] <= 100, "{id} selects {} of 1,000", sizes[id]);
    }
    // The generator's first four patients each live one seed situation with all its signals.
    let member = |segment: &str, index: usize| {
        cohorts
            .iter()
            .find(|c| c.segment_id == segment)
            .is_some_and(|c| c.members.contains(&panel[index].id))
    };
    assert!(
        member("post_discharge_followup", 0),
        "exemplar 0: discharge"
    );
    assert!(
        member("bh_continuity_risk", 1),
        "exemplar 1: behavioural health"
    );
    assert!(
        member("longterm_support_fragility", 2),
        "exemplar 2: support"
    );
    assert!(
        member("social_risk_escalation", 3),
        "exemplar 3: social risk"
    );
    // Every signal of the exemplar's situation is present, as the generator documents.
    let exemplar = |index: usize| signals::derive(&panel[index], &catalog.value_sets, d());
    let discharge = exemplar(0);
    for name in [
        "assisted_setup_needed",
        "medication_change_at_discharge",
        "lives_alone",
        "prior_unplanned_followup",
    ] {
        assert_eq!(
            discharge.get(name),
            &SignalValue::Bool(true),
            "exemplar 0 {name}"
        );
    }
    assert!(
        matches!(discharge.get("missed_checkins_after_discharge"), SignalValue::Number(n) if *n >= 3.0),
        "the exemplar misses at least its first three check-ins"
    );
    let bh = exemplar(1);
    assert_eq!(
        bh.get("prior_crisis_contacts_12m"),
        &SignalValue::Number(2.0)
    );
    assert_eq!(bh.get("housing_instability"), &SignalValue::Bool(true));
    let support = exemplar(2);
    assert_eq!(support.get("caregiver_strain"), &SignalValue::Bool(true));
    assert_eq!(
        support.get("missed_welfare_tasks_90d"),
        &SignalValue::Number(2.0)
    );
    assert!(matches!(support.get("incidents_90d"), SignalValue::Number(n) if *n >= 1.0));
    assert_eq!(support.get("falling_engagement"), &SignalValue::Bool(true));
    let social = exemplar(3);
    for name in ["eviction_risk", "food_insecurity", "utility_shutoff"] {
        assert_eq!(
            social.get(name),
            &SignalValue::Bool(true),
            "exemplar 3 {name}"
        );
    }
}

#[test]
fn an_operational_explanation_names_the_discharge_the_risks_and_the_points() {
    let catalog = catalog();
    let segment = catalog
        .segments
        .iter()
        .find(|s| s.definition.id == "post_discharge_followup")
        .unwrap();
    let mut p = Person::born("x1", "1950-01-01", "male");
    p.encounter("stay", "IMP", "2026-06-10", "2026-06-15", None)
        .screening("2026-06-16", &[("63512-8", integer(1))])
        .engage("checkin_missed", &["2026-06-17"]);
    let explanation = engine::explain(&catalog, segment, &p.facts(), None, d());
    assert_eq!(
        explanation.render(),
        "post_discharge_followup: member
  [x] exists(encounter class in INPATIENT_CLASS discharged within 30 days)
      Encounter x1-stay class IMP 2026-06-15
  [x] assisted_setup_needed or missed_checkins_after_discharge >= 1 or medication_change_at_discharge or lives_alone or prior_unplanned_followup
      assisted_setup_needed = Bool(false)
      lives_alone = Bool(true)
      medication_change_at_discharge = Bool(false)
      missed_checkins_after_discharge = Number(1.0)
      prior_unplanned_followup = Bool(false)
  priority 5
      +3 Missed a check-in in the first two weeks at home: without a call nobody will hear of deterioration until it is urgent.
      +2 Lives alone: no one at home to notice a decline or to help with medicines.
"
    );
}
