//! Signals: a pure function from one patient's facts and an as-of date D to the typed values
//! that rules compare. No clock: D is a parameter, and anything dated after D is invisible.
//!
//! Besides the care-gap signals, the operational signals of the outreach seeds: social-needs
//! screening answers (the latest answer to each question decides, within 12 months), care
//! signals recorded as observations, crisis contacts, missed reviews and welfare tasks,
//! engagement trends and unplanned returns after a discharge. Code lists a rule may name are
//! value sets; question/answer pairs and the Careloop-local code systems (which value-set
//! files cannot name) are documented constants here.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Days, NaiveDate};

use crate::codes::{Coding, System, ValueSet, ValueSets};
use crate::dates::{age_on, months_before, Window};
use crate::facts::{AnswerFact, DatedFact, EncounterFact, PatientFacts};

/// A signal's value.
#[derive(Clone, Debug, PartialEq)]
pub enum SignalValue {
    Number(f64),
    Text(String),
    Bool(bool),
    Date(NaiveDate),
    /// Not known for this person (no birth date, no HbA1c ever, …): comparisons with it are
    /// false.
    Missing,
}

impl From<SignalValue> for serde_json::Value {
    fn from(v: SignalValue) -> serde_json::Value {
        match v {
            // Counts and ages are whole numbers: show them as such.
            SignalValue::Number(n) if n.fract() == 0.0 && n.abs() < 1e15 => {
                serde_json::json!(n as i64)
            }
            SignalValue::Number(n) => serde_json::json!(n),
            SignalValue::Text(t) => serde_json::Value::String(t),
            SignalValue::Bool(b) => serde_json::Value::Bool(b),
            SignalValue::Date(d) => serde_json::Value::String(d.to_string()),
            SignalValue::Missing => serde_json::Value::Null,
        }
    }
}

/// Every signal the rule language knows, with its type: the schema rules are checked against.
pub const SIGNALS: &[(&str, careloop_rules::SignalType, &str)] = {
    use careloop_rules::SignalType::{Bool, Date, Number, Text};
    &[
        ("age", Number, "completed years at the as-of date"),
        ("sex", Text, "administrative gender: female, male, other, unknown"),
        ("preferred_language", Text, "BCP 47 code of the preferred language"),
        ("payer", Text, "the payer of the active coverage"),
        ("alive", Bool, "in the panel (birth date on or before D) and not deceased at D"),
        ("active_conditions", Number, "conditions active at D"),
        ("active_diabetes", Bool, "a DIABETES condition active at D"),
        ("active_medications", Number, "distinct medications active at D"),
        ("encounters_ever", Number, "encounters started on or before D"),
        ("encounters_12m", Number, "encounters overlapping the 12 months up to D"),
        ("ed_visits_12m", Number, "distinct EMERGENCY_CLASS encounters started in the 12 months up to D"),
        ("days_since_last_encounter", Number, "days from the latest encounter start to D"),
        ("discharged_30d", Bool, "an INPATIENT_CLASS encounter ended in the 30 days up to D"),
        ("length_of_stay", Number, "days of the latest such stay"),
        ("medication_change_at_discharge", Bool, "a medication request authored at that discharge"),
        ("last_hba1c", Number, "the latest HBA1C result on or before D"),
        ("last_hba1c_date", Date, "its date"),
        ("last_systolic_bp", Number, "the latest systolic blood pressure on or before D"),
        ("last_diastolic_bp", Number, "the latest diastolic blood pressure on or before D"),
        ("missed_checkins_14d", Number, "digital check-ins missed in the 14 days up to D"),
        ("checkins_done_14d", Number, "digital check-ins done in the 14 days up to D"),
        ("portal_use_90d", Number, "portal log-ins and messages in the 90 days up to D"),
        ("engagement_tier", Text, "high (3+ encounters in 12 months), moderate (1-2), dormant (none in 12 months, some ever), none"),
        // Operational signals of the outreach seeds. Screening signals: the latest answer to
        // the question dated on or before D decides, and only if it is dated in the 12 months
        // up to D (see SCREENING).
        ("lives_alone", Bool, "latest household-size answer (63512-8) in the 12 months up to D is 1"),
        ("housing_instability", Bool, "latest living-situation answer (71802-3) in the 12 months up to D is LA31994-9 worried about losing it or LA31995-6 no steady place"),
        ("eviction_risk", Bool, "latest worried-about-losing-housing answer (93033-9) in the 12 months up to D is LA33-6 yes"),
        ("food_insecurity", Bool, "latest answer to 88122-7 or to 88123-5 in the 12 months up to D is LA28397-0 often or LA6729-3 sometimes true"),
        ("transport_barrier", Bool, "latest transportation answer (93030-5) in the 12 months up to D is LA33-6 yes"),
        ("utility_shutoff", Bool, "latest utilities answer (96779-4) in the 12 months up to D is LA33-6 threatened or LA32002-0 already shut off"),
        ("social_isolation", Bool, "latest loneliness answer (93159-1) in the 12 months up to D is LA10044-8 often or LA9933-8 always"),
        ("caregiver_strain", Bool, "latest careloop-caregiver-strain answer in the 12 months up to D is LA33-6 yes"),
        ("assisted_setup_needed", Bool, "a care-signal assisted-setup-needed observation dated on or before D"),
        ("prior_crisis_contacts_12m", Number, "distinct EMERGENCY_CLASS encounters started in the 12 months up to D with a CRISIS_REASON reason"),
        ("missed_reviews_90d", Number, "noshow appointments of a review service type (REVIEW_SERVICES) dated in the 90 days up to D"),
        ("missed_welfare_tasks_90d", Number, "noshow appointments of a welfare service type (WELFARE_SERVICES) dated in the 90 days up to D"),
        ("incidents_90d", Number, "care-signal incident-reported observations dated in the 90 days up to D"),
        ("checkins_done_prior_14d", Number, "digital check-ins done from D-28 to D-15 (the two weeks before the last 14 days)"),
        ("checkins_missed_prior_14d", Number, "digital check-ins missed from D-28 to D-15 (the two weeks before the last 14 days)"),
        ("missed_checkins_after_discharge", Number, "check-ins missed from the latest discharge of the 30 days up to D to 14 days after it (none: missing)"),
        ("falling_engagement", Bool, "check-ins done fell by 2+ from D-28..D-15 to D-14..D, or to under half from D-56..D-29 (3+) to D-28..D; or no portal use in D-30..D after 2+ in D-120..D-31"),
        ("prior_unplanned_followup", Bool, "an EMERGENCY_CLASS encounter started 0-30 days, or an INPATIENT_CLASS one 1-30 days, after an earlier INPATIENT_CLASS discharge, both in the 12 months up to D"),
    ]
};

/// Allowed values of the closed text signals.
pub fn allowed_values() -> BTreeMap<String, Vec<String>> {
    let list = |values: &[&str]| values.iter().map(|v| v.to_string()).collect();
    BTreeMap::from([
        (
            "sex".to_owned(),
            list(&["female", "male", "other", "unknown"]),
        ),
        (
            "engagement_tier".to_owned(),
            list(&["high", "moderate", "dormant", "none"]),
        ),
    ])
}

/// Careloop-local code system of operational facts recorded as Observations (assisted setup,
/// incidents). Value-set files cannot name a local system, so the codes live here.
pub const CARE_SIGNAL_SYSTEM: &str = "https://careloop.example/fhir/CodeSystem/care-signal";
/// Observation code: the person needs someone to set up digital check-ins with them.
pub const ASSISTED_SETUP_NEEDED: &str = "assisted-setup-needed";
/// Observation code: an incident (fall, found wandering, missed doses, kitchen fire) was
/// reported; what happened is the value and does not matter for counting.
pub const INCIDENT_REPORTED: &str = "incident-reported";

/// Careloop-local code system of `Appointment.serviceType` for reviews and welfare tasks.
pub const OUTREACH_SERVICE_SYSTEM: &str =
    "https://careloop.example/fhir/CodeSystem/outreach-service";
/// Service types of a planned review whose no-show counts as a missed review.
pub const REVIEW_SERVICES: &[&str] = &[
    "behavioural-health-review",
    "medication-review",
    "care-plan-review",
];
/// Service types of a welfare task whose no-show counts as a missed welfare task.
pub const WELFARE_SERVICES: &[&str] = &["welfare-visit", "welfare-call"];

/// What makes an answer to a screening question positive.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Positive {
    /// The answer's code is one of these (LOINC answer codes).
    Codes(&'static [&'static str]),
    /// The answer is this number (valueInteger or valueDecimal).
    Number(f64),
}

impl Positive {
    pub fn matches(self, answer: &AnswerFact) -> bool {
        match self {
            Positive::Codes(codes) => answer
                .answer_code
                .as_deref()
                .is_some_and(|c| codes.contains(&c)),
            Positive::Number(n) => answer.answer_number == Some(n),
        }
    }
}

// LOINC answer codes. "Yes" (LA33-6) answers several questions, which is why positives are
// listed per question rather than as one value set of positive answers.
const YES: &str = "LA33-6";
const HOUSING_AT_RISK: &str = "LA31994-9";
const NO_STEADY_HOUSING: &str = "LA31995-6";
const OFTEN_TRUE: &str = "LA28397-0";
const SOMETIMES_TRUE: &str = "LA6729-3";
const ALREADY_SHUT_OFF: &str = "LA32002-0";
const OFTEN: &str = "LA10044-8";
const ALWAYS: &str = "LA9933-8";

/// The screening signals: for each, the questions (QuestionnaireResponse item linkIds, AHC
/// HRSN LOINC codes where one exists) and what makes each one's answer positive. A signal
/// holds when, for any of its questions, the latest answer dated on or before D is dated in
/// the 12 months up to D and is positive; a later negative answer clears an earlier positive.
/// Answers of the same (latest) day count as one answer, positive if any of them is: a
/// conflicting same-day record is resolved towards looking at the person.
pub const SCREENING: &[(&str, &[(&str, Positive)])] = &[
    ("lives_alone", &[("63512-8", Positive::Number(1.0))]),
    (
        "housing_instability",
        &[(
            "71802-3",
            Positive::Codes(&[HOUSING_AT_RISK, NO_STEADY_HOUSING]),
        )],
    ),
    ("eviction_risk", &[("93033-9", Positive::Codes(&[YES]))]),
    (
        "food_insecurity",
        &[
            ("88122-7", Positive::Codes(&[OFTEN_TRUE, SOMETIMES_TRUE])),
            ("88123-5", Positive::Codes(&[OFTEN_TRUE, SOMETIMES_TRUE])),
        ],
    ),
    ("transport_barrier", &[("93030-5", Positive::Codes(&[YES]))]),
    (
        "utility_shutoff",
        &[("96779-4", Positive::Codes(&[YES, ALREADY_SHUT_OFF]))],
    ),
    (
        "social_isolation",
        &[("93159-1", Positive::Codes(&[OFTEN, ALWAYS]))],
    ),
    (
        "caregiver_strain",
        &[("careloop-caregiver-strain", Positive::Codes(&[YES]))],
    ),
];

/// Whether the latest answer to `link_id` dated on or before D is dated inside `recent` and
/// positive.
fn latest_answer_positive(
    answers: &[AnswerFact],
    link_id: &str,
    positive: Positive,
    d: NaiveDate,
    recent: Window,
) -> bool {
    let asked: Vec<&AnswerFact> = answers
        .iter()
        .filter(|a| a.link_id == link_id && a.date.is_some_and(|dt| dt <= d))
        .collect();
    let Some(latest) = asked.iter().filter_map(|a| a.date).max() else {
        return false;
    };
    recent.contains(latest)
        && asked
            .iter()
            .filter(|a| a.date == Some(latest))
            .any(|a| positive.matches(a))
}

/// `n` days before `date`, or the earliest date there is (a window reaching before it simply
/// starts there).
fn days_before(date: NaiveDate, n: u64) -> NaiveDate {
    date.checked_sub_days(Days::new(n))
        .unwrap_or(NaiveDate::MIN)
}

/// Whether any of `codings` is one of `codes` in the local code system `system`.
fn has_local_code(codings: &[Coding], system: &str, codes: &[&str]) -> bool {
    codings.iter().any(|c| {
        matches!(&c.system, System::Other(uri) if uri == system) && codes.contains(&c.code.as_str())
    })
}

/// One person's signals as of D, by name.
#[derive(Clone, Debug, PartialEq)]
pub struct Signals {
    pub as_of: NaiveDate,
    /// Sorted by name, each name once.
    values: Vec<(&'static str, SignalValue)>,
}

/// The signals of one person as [`derive`] sets them, in any order; a name set twice keeps
/// its last value.
struct Building(Vec<(&'static str, SignalValue)>);

impl Building {
    fn insert(&mut self, name: &'static str, value: SignalValue) {
        self.0.push((name, value));
    }

    fn finish(mut self) -> Vec<(&'static str, SignalValue)> {
        // Stable: of a name set twice, the last value comes last and is the one kept.
        self.0.sort_by(|a, b| a.0.cmp(b.0));
        let mut values: Vec<(&'static str, SignalValue)> = Vec::with_capacity(self.0.len());
        for (name, value) in self.0 {
            match values.last_mut() {
                Some(last) if last.0 == name => last.1 = value,
                _ => values.push((name, value)),
            }
        }
        values
    }
}

impl Signals {
    /// No signals (for evaluating fact queries alone).
    pub(crate) fn none(as_of: NaiveDate) -> Signals {
        Signals {
            as_of,
            values: Vec::new(),
        }
    }

    pub fn get(&self, name: &str) -> &SignalValue {
        match self.values.binary_search_by(|(k, _)| (*k).cmp(name)) {
            Ok(i) => &self.values[i].1,
            Err(_) => &SignalValue::Missing,
        }
    }

    pub fn alive(&self) -> bool {
        self.get("alive") == &SignalValue::Bool(true)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &SignalValue)> {
        self.values.iter().map(|(k, v)| (*k, v))
    }
}

/// Derives the signals of one patient as of `d`.
pub fn derive(facts: &PatientFacts, value_sets: &ValueSets, d: NaiveDate) -> Signals {
    use SignalValue::{Bool, Date, Missing, Number, Text};
    let mut v = Building(Vec::with_capacity(48));
    let count = |n: usize| Number(n as f64);
    let set = |name: &str| value_sets.get(name);

    let in_panel = facts.birth_date.is_some_and(|b| b <= d);
    let deceased = facts.deceased_boolean || facts.deceased_date.is_some_and(|dd| dd <= d);
    v.insert("alive", Bool(in_panel && !deceased));
    v.insert(
        "age",
        facts
            .birth_date
            .filter(|b| *b <= d)
            .map_or(Missing, |b| Number(age_on(b, d) as f64)),
    );
    v.insert(
        "sex",
        Text(facts.gender.clone().unwrap_or_else(|| "unknown".to_owned())),
    );
    v.insert(
        "preferred_language",
        facts.language.clone().map_or(Missing, Text),
    );
    v.insert("payer", facts.payer.clone().map_or(Missing, Text));

    v.insert(
        "active_conditions",
        count(facts.conditions.iter().filter(|c| c.active_at(d)).count()),
    );
    let diabetes = set("DIABETES");
    v.insert(
        "active_diabetes",
        Bool(diabetes.is_some_and(|vs| {
            facts
                .conditions
                .iter()
                .any(|c| c.active_at(d) && c.codes.iter().any(|k| vs.contains(k)))
        })),
    );
    let active_meds: BTreeSet<&str> = facts
        .medications
        .iter()
        .filter(|m| m.active_at(d))
        .map(|m| m.key.as_str())
        .collect();
    v.insert("active_medications", count(active_meds.len()));

    // Encounters: ever (start on or before D), overlapping W12, ED visits started in W12.
    let w12 = Window::months(d, 12);
    let w12_start = months_before(d, 12);
    let started: Vec<_> = facts
        .encounters
        .iter()
        .filter(|e| e.start.is_some_and(|s| s <= d))
        .collect();
    v.insert("encounters_ever", count(started.len()));
    let overlapping = started
        .iter()
        .filter(|e| e.end.or(e.start).is_some_and(|end| end >= w12_start))
        .count();
    v.insert("encounters_12m", count(overlapping));
    let emergency = set("EMERGENCY_CLASS");
    let ed: BTreeSet<&crate::facts::ResourceId> = started
        .iter()
        .filter(|e| e.start.is_some_and(|s| w12.contains(s)))
        .filter(|e| {
            e.class
                .as_deref()
                .is_some_and(|c| emergency.is_some_and(|vs| vs.contains_bare(c)))
        })
        .map(|e| &e.id)
        .collect();
    v.insert("ed_visits_12m", count(ed.len()));
    v.insert(
        "days_since_last_encounter",
        started
            .iter()
            .filter_map(|e| e.start)
            .max()
            .map_or(Missing, |s| Number((d - s).num_days() as f64)),
    );
    v.insert(
        "engagement_tier",
        Text(
            match (overlapping, started.len()) {
                (3.., _) => "high",
                (1..=2, _) => "moderate",
                (0, 1..) => "dormant",
                _ => "none",
            }
            .to_owned(),
        ),
    );

    // The latest inpatient discharge in W30d.
    let inpatient = set("INPATIENT_CLASS");
    let w30 = Window::days(d, 30);
    let discharge = facts
        .encounters
        .iter()
        .filter(|e| {
            e.class
                .as_deref()
                .is_some_and(|c| inpatient.is_some_and(|vs| vs.contains_bare(c)))
        })
        .filter(|e| e.end.is_some_and(|end| w30.contains(end)))
        .max_by_key(|e| e.end);
    v.insert("discharged_30d", Bool(discharge.is_some()));
    v.insert(
        "length_of_stay",
        discharge
            .and_then(|e| Some(Number((e.end? - e.start?).num_days() as f64)))
            .unwrap_or(Missing),
    );
    v.insert(
        "medication_change_at_discharge",
        Bool(discharge.and_then(|e| e.end).is_some_and(|end| {
            facts.medications.iter().any(|m| {
                m.authored == Some(end)
                    || (m.at_discharge && m.authored.is_some_and(|a| w30.contains(a)))
            })
        })),
    );

    // Latest results on or before D, in one pass over the observations (the longest list).
    let hba1c_set = set("HBA1C");
    let (mut hba1c, mut systolic, mut diastolic): (
        Option<&DatedFact>,
        Option<&DatedFact>,
        Option<&DatedFact>,
    ) = (None, None, None);
    for o in facts
        .observations
        .iter()
        .filter(|o| o.date.is_some_and(|dt| dt <= d))
    {
        // The last of equal dates wins (as `max_by_key` would have it).
        let newer = |slot: Option<&DatedFact>| slot.is_none_or(|s| o.date >= s.date);
        if hba1c_set.is_some_and(|vs| o.codes.iter().any(|c| vs.contains(c))) && newer(hba1c) {
            hba1c = Some(o);
        }
        if o.codes.iter().any(|c| c.code == "8480-6") && newer(systolic) {
            systolic = Some(o);
        }
        if o.codes.iter().any(|c| c.code == "8462-4") && newer(diastolic) {
            diastolic = Some(o);
        }
    }
    v.insert(
        "last_hba1c",
        hba1c.and_then(|o| o.value).map_or(Missing, Number),
    );
    v.insert(
        "last_hba1c_date",
        hba1c.and_then(|o| o.date).map_or(Missing, Date),
    );
    v.insert(
        "last_systolic_bp",
        systolic.and_then(|o| o.value).map_or(Missing, Number),
    );
    v.insert(
        "last_diastolic_bp",
        diastolic.and_then(|o| o.value).map_or(Missing, Number),
    );

    // Engagement signals from the service.
    let w14 = Window::days(d, 14);
    let w90 = Window::days(d, 90);
    let engagement_in = |kinds: &[&str], w: Window| {
        facts
            .engagement
            .iter()
            .filter(|s| kinds.contains(&s.kind.as_str()) && s.date.is_some_and(|dt| w.contains(dt)))
            .count()
    };
    const PORTAL: [&str; 2] = ["portal_login", "portal_message"];
    let done_14d = engagement_in(&["checkin_done"], w14);
    v.insert(
        "missed_checkins_14d",
        count(engagement_in(&["checkin_missed"], w14)),
    );
    v.insert("checkins_done_14d", count(done_14d));
    v.insert("portal_use_90d", count(engagement_in(&PORTAL, w90)));

    // The two weeks before the last 14 days, for a trend: D-28 to D-15, so that it meets the
    // [D-14, D] window of the signals above without overlapping it.
    let prior_14d = Window {
        start: days_before(d, 28),
        end: days_before(d, 15),
    };
    let done_prior_14d = engagement_in(&["checkin_done"], prior_14d);
    v.insert("checkins_done_prior_14d", count(done_prior_14d));
    v.insert(
        "checkins_missed_prior_14d",
        count(engagement_in(&["checkin_missed"], prior_14d)),
    );
    // Missed "early" check-ins: those due in the first two weeks at home after the discharge
    // that `discharged_30d` found; a miss later than that is routine, not early.
    v.insert(
        "missed_checkins_after_discharge",
        discharge.and_then(|e| e.end).map_or(Missing, |end| {
            let first_two_weeks = Window {
                start: end,
                end: end.checked_add_days(Days::new(14)).map_or(d, |e| e.min(d)),
            };
            count(engagement_in(&["checkin_missed"], first_two_weeks))
        }),
    );
    // Falling engagement, the quiet first sign of losing contact that the seeds describe (a
    // one-off missed check-in is not): check-ins done dropped by two or more from one
    // fortnight to the next (a sudden drop); or fell to under half month on month, from three
    // or more (a gradual decline, which two fortnights barely show: by the time it is clear,
    // both may be near zero); or portal use stopped for a month after some use (2+) in the
    // three months before.
    let done_28d = engagement_in(
        &["checkin_done"],
        Window {
            start: days_before(d, 28),
            end: d,
        },
    );
    let done_prior_28d = engagement_in(
        &["checkin_done"],
        Window {
            start: days_before(d, 56),
            end: days_before(d, 29),
        },
    );
    let checkins_fell =
        done_prior_14d >= done_14d + 2 || (done_prior_28d >= 3 && 2 * done_28d < done_prior_28d);
    let portal_last_30d = engagement_in(&PORTAL, Window::days(d, 30));
    let portal_before = engagement_in(
        &PORTAL,
        Window {
            start: days_before(d, 120),
            end: days_before(d, 31),
        },
    );
    let portal_stopped = portal_last_30d == 0 && portal_before >= 2;
    v.insert("falling_engagement", Bool(checkins_fell || portal_stopped));

    // Screening answers.
    for (name, questions) in SCREENING {
        let positive = questions.iter().any(|(link_id, positive)| {
            latest_answer_positive(&facts.answers, link_id, *positive, d, w12)
        });
        v.insert(name, Bool(positive));
    }

    // Care signals recorded as observations. Facts do not carry Observation.valueBoolean, so
    // an assisted-setup observation counts by its presence (the demo generator records only
    // `true`); once facts carry it, the latest one on or before D should decide.
    let care_signals = |code: &'static str| {
        facts.observations.iter().filter(move |o| {
            o.date.is_some_and(|dt| dt <= d)
                && has_local_code(&o.codes, CARE_SIGNAL_SYSTEM, &[code])
        })
    };
    v.insert(
        "assisted_setup_needed",
        Bool(care_signals(ASSISTED_SETUP_NEEDED).next().is_some()),
    );
    v.insert(
        "incidents_90d",
        count(
            care_signals(INCIDENT_REPORTED)
                .filter(|o| o.date.is_some_and(|dt| w90.contains(dt)))
                .count(),
        ),
    );

    // Crisis contacts: the emergency visits that ed_visits_12m counts, for a crisis reason.
    let crisis = set("CRISIS_REASON");
    let in_class = |e: &EncounterFact, vs: Option<&ValueSet>| {
        e.class
            .as_deref()
            .is_some_and(|c| vs.is_some_and(|vs| vs.contains_bare(c)))
    };
    let crisis_contacts: BTreeSet<&crate::facts::ResourceId> = started
        .iter()
        .filter(|e| in_class(e, emergency) && e.start.is_some_and(|s| w12.contains(s)))
        .filter(|e| crisis.is_some_and(|vs| e.reasons.iter().any(|r| vs.contains(r))))
        .map(|e| &e.id)
        .collect();
    v.insert("prior_crisis_contacts_12m", count(crisis_contacts.len()));

    // Missed reviews and welfare tasks: no-shows of the last 90 days by service type.
    let no_shows = |services: &[&str]| {
        count(
            facts
                .appointments
                .iter()
                .filter(|a| a.status.as_deref() == Some("noshow"))
                .filter(|a| a.date.is_some_and(|dt| w90.contains(dt)))
                .filter(|a| has_local_code(&a.service_types, OUTREACH_SERVICE_SYSTEM, services))
                .count(),
        )
    };
    v.insert("missed_reviews_90d", no_shows(REVIEW_SERVICES));
    v.insert("missed_welfare_tasks_90d", no_shows(WELFARE_SERVICES));

    v.insert(
        "prior_unplanned_followup",
        Bool(prior_unplanned_followup(
            &facts.encounters,
            |e| in_class(e, inpatient),
            |e| in_class(e, emergency),
            w12,
        )),
    );

    Signals {
        as_of: d,
        values: v.finish(),
    }
}

/// An unplanned return after a transition of care: an emergency encounter starting on the day
/// of, or up to 30 days after, an earlier inpatient discharge, or an inpatient one starting 1
/// to 30 days after it (an admission on the discharge day is a transfer, not a return). The
/// discharge and the start are both in `w12` (which ends at D).
fn prior_unplanned_followup(
    encounters: &[EncounterFact],
    inpatient: impl Fn(&EncounterFact) -> bool,
    emergency: impl Fn(&EncounterFact) -> bool,
    w12: Window,
) -> bool {
    let discharges: Vec<(&EncounterFact, NaiveDate)> = encounters
        .iter()
        .filter(|e| inpatient(e))
        .filter_map(|e| Some((e, e.end?)))
        .filter(|(_, end)| w12.contains(*end))
        .collect();
    encounters.iter().any(|next| {
        let Some(start) = next.start.filter(|s| w12.contains(*s)) else {
            return false;
        };
        let earliest_day = if emergency(next) {
            0
        } else if inpatient(next) {
            1
        } else {
            return false;
        };
        discharges.iter().any(|(stay, end)| {
            let days = (start - *end).num_days();
            !std::ptr::eq(*stay, next) && (earliest_day..=30).contains(&days)
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_listed_signal_is_derived_and_every_derived_signal_is_listed() {
        let d = NaiveDate::from_ymd_opt(2026, 6, 30).expect("a valid date");
        let signals = derive(&PatientFacts::default(), &ValueSets::new(), d);
        let derived: BTreeSet<&str> = signals.iter().map(|(name, _)| name).collect();
        let listed: BTreeSet<&str> = SIGNALS.iter().map(|(name, _, _)| *name).collect();
        assert_eq!(derived, listed);
    }

    #[test]
    fn screening_signals_are_listed_as_booleans() {
        for (name, questions) in SCREENING {
            assert!(!questions.is_empty(), "{name} has questions");
            assert!(
                SIGNALS
                    .iter()
                    .any(|(n, t, _)| n == name && *t == careloop_rules::SignalType::Bool),
                "{name} is a Bool in SIGNALS"
            );
        }
    }
}
