//! Key events that alert the team (the seeds: "an ED visit, missed appointment, housing
//! instability"): found in one person's facts, dated in a recent window up to D. Pure, like
//! the rest of this crate: the caller decides who is told and by when (`schema/alerts.json`)
//! and keeps one alert per source resource.

use chrono::NaiveDate;

use crate::codes::ValueSets;
use crate::facts::PatientFacts;
use crate::signals::SCREENING;

/// What happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AlertKind {
    EdVisit,
    Admission,
    Discharge,
    MissedAppointment,
    SocialRisk,
}

impl AlertKind {
    pub const ALL: [AlertKind; 5] = [
        AlertKind::EdVisit,
        AlertKind::Admission,
        AlertKind::Discharge,
        AlertKind::MissedAppointment,
        AlertKind::SocialRisk,
    ];

    /// The stable name (`ed_visit`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            AlertKind::EdVisit => "ed_visit",
            AlertKind::Admission => "admission",
            AlertKind::Discharge => "discharge",
            AlertKind::MissedAppointment => "missed_appointment",
            AlertKind::SocialRisk => "social_risk",
        }
    }
}

/// One key event and the resource it comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyEvent {
    pub kind: AlertKind,
    pub resource_type: &'static str,
    /// The source resource's id (one alert per source however often it is imported).
    pub resource_id: String,
    pub date: NaiveDate,
    /// What happened, in words, with the code that makes it so.
    pub evidence: String,
}

/// The social-risk screening signals whose positive answer alerts.
const ALERTING_SCREENS: &[&str] = &[
    "housing_instability",
    "eviction_risk",
    "food_insecurity",
    "utility_shutoff",
];

/// The key events in `facts` dated in `[since, d]` (nothing after D has happened yet): an
/// emergency encounter (EMERGENCY_CLASS), an inpatient admission (its start) and discharge
/// (its end; INPATIENT_CLASS), an appointment with status `noshow`, a positive answer to an
/// urgent social-risk screening question, and a housing-instability condition
/// (HOUSING_INSTABILITY), by date then kind.
pub fn key_events(
    facts: &PatientFacts,
    value_sets: &ValueSets,
    since: NaiveDate,
    d: NaiveDate,
) -> Vec<KeyEvent> {
    let recent = |date: Option<NaiveDate>| date.filter(|x| *x >= since && *x <= d);
    let class_in = |class: Option<&str>, set: &str| {
        class.is_some_and(|c| value_sets.get(set).is_some_and(|vs| vs.contains_bare(c)))
    };
    let mut events = Vec::new();
    for e in &facts.encounters {
        let class = e.class.as_deref();
        let id = e.id.to_string();
        if class_in(class, "EMERGENCY_CLASS") {
            if let Some(date) = recent(e.start) {
                events.push(KeyEvent {
                    kind: AlertKind::EdVisit,
                    resource_type: "Encounter",
                    resource_id: id.clone(),
                    date,
                    evidence: format!("emergency department visit on {date} (class EMER)"),
                });
            }
        }
        if class_in(class, "INPATIENT_CLASS") {
            let class = class.unwrap_or_default();
            if let Some(date) = recent(e.start) {
                events.push(KeyEvent {
                    kind: AlertKind::Admission,
                    resource_type: "Encounter",
                    resource_id: id.clone(),
                    date,
                    evidence: format!("admitted on {date} (class {class})"),
                });
            }
            if let Some(date) = recent(e.end) {
                events.push(KeyEvent {
                    kind: AlertKind::Discharge,
                    resource_type: "Encounter",
                    resource_id: id.clone(),
                    date,
                    evidence: format!("discharged on {date} (class {class})"),
                });
            }
        }
    }
    for a in &facts.appointments {
        if a.status.as_deref() == Some("noshow") {
            if let Some(date) = recent(a.date) {
                events.push(KeyEvent {
                    kind: AlertKind::MissedAppointment,
                    resource_type: "Appointment",
                    resource_id: a.id.to_string(),
                    date,
                    evidence: format!("did not attend the appointment of {date}"),
                });
            }
        }
    }
    for (signal, questions) in SCREENING
        .iter()
        .filter(|(name, _)| ALERTING_SCREENS.contains(name))
    {
        for answer in &facts.answers {
            let positive = questions
                .iter()
                .any(|(link_id, positive)| answer.link_id == *link_id && positive.matches(answer));
            if let (true, Some(date)) = (positive, recent(answer.date)) {
                events.push(KeyEvent {
                    kind: AlertKind::SocialRisk,
                    resource_type: "QuestionnaireResponse",
                    // One alert per response and question.
                    resource_id: format!("{}#{}", answer.id, answer.link_id),
                    date,
                    evidence: format!(
                        "screening on {date}: {} (LOINC {} answered {})",
                        signal.replace('_', " "),
                        answer.link_id,
                        answer.answer_code.as_deref().unwrap_or("yes")
                    ),
                });
            }
        }
    }
    if let Some(housing) = value_sets.get("HOUSING_INSTABILITY") {
        for c in &facts.conditions {
            if let (Some(code), Some(date)) = (
                c.codes.iter().find(|code| housing.contains(code)),
                recent(c.onset),
            ) {
                events.push(KeyEvent {
                    kind: AlertKind::SocialRisk,
                    resource_type: "Condition",
                    resource_id: c.id.to_string(),
                    date,
                    evidence: format!("recorded on {date}: SNOMED {}", code.code),
                });
            }
        }
    }
    events.sort_by(|a, b| (a.date, a.kind, &a.resource_id).cmp(&(b.date, b.kind, &b.resource_id)));
    events.dedup_by(|a, b| a.kind == b.kind && a.resource_id == b.resource_id);
    events
}
