//! Signals: a pure function from one patient's facts and an as-of date D to the typed values
//! that rules compare. No clock: D is a parameter, and anything dated after D is invisible.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;

use crate::codes::ValueSets;
use crate::dates::{age_on, months_before, Window};
use crate::facts::PatientFacts;

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

/// One person's signals as of D, by name.
#[derive(Clone, Debug, PartialEq)]
pub struct Signals {
    pub as_of: NaiveDate,
    values: BTreeMap<&'static str, SignalValue>,
}

impl Signals {
    pub fn get(&self, name: &str) -> &SignalValue {
        self.values.get(name).unwrap_or(&SignalValue::Missing)
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
    let mut v: BTreeMap<&'static str, SignalValue> = BTreeMap::new();
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
    let ed: BTreeSet<&str> = started
        .iter()
        .filter(|e| e.start.is_some_and(|s| w12.contains(s)))
        .filter(|e| {
            e.class
                .as_deref()
                .is_some_and(|c| emergency.is_some_and(|vs| vs.contains_bare(c)))
        })
        .map(|e| e.id.as_str())
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

    // Latest results on or before D.
    let latest = |code_set: Option<&crate::codes::ValueSet>, codes: &[&str]| {
        facts
            .observations
            .iter()
            .filter(|o| o.date.is_some_and(|dt| dt <= d))
            .filter(|o| {
                o.codes.iter().any(|c| {
                    code_set.is_some_and(|vs| vs.contains(c)) || codes.contains(&c.code.as_str())
                })
            })
            .max_by_key(|o| o.date)
    };
    let hba1c = latest(set("HBA1C"), &[]);
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
        latest(None, &["8480-6"])
            .and_then(|o| o.value)
            .map_or(Missing, Number),
    );
    v.insert(
        "last_diastolic_bp",
        latest(None, &["8462-4"])
            .and_then(|o| o.value)
            .map_or(Missing, Number),
    );

    // Engagement signals from the service.
    let w14 = Window::days(d, 14);
    let w90 = Window::days(d, 90);
    let signals_in = |kinds: &[&str], w: Window| {
        count(
            facts
                .engagement
                .iter()
                .filter(|s| {
                    kinds.contains(&s.kind.as_str()) && s.date.is_some_and(|dt| w.contains(dt))
                })
                .count(),
        )
    };
    v.insert("missed_checkins_14d", signals_in(&["checkin_missed"], w14));
    v.insert("checkins_done_14d", signals_in(&["checkin_done"], w14));
    v.insert(
        "portal_use_90d",
        signals_in(&["portal_login", "portal_message"], w90),
    );

    Signals {
        as_of: d,
        values: v,
    }
}
