//! Segmentation through the API: loads the panel's facts from the store, runs the catalogue
//! (built-in or from a directory) as of a date, and returns DTOs.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use careloop_segment::facts::EngagementFact;
use careloop_segment::{builtin_catalog, engine, Catalog, PatientFacts, SharedFacts};
use chrono::NaiveDate;

use crate::dto::{
    CohortDto, ConditionDto, EvidenceDto, ExplanationDto, HeldBackDto, PointsDto, SegmentRun,
    SignalDto,
};
use crate::{ApiError, Careloop, ErrorCode, Result};

/// Event kind of a recorded outreach attempt; its subject is the patient id. The re-contact
/// cooldown reads the latest one per person.
pub const ATTEMPT_EVENT: &str = "attempt.recorded";

impl From<careloop_segment::SegmentError> for ApiError {
    fn from(e: careloop_segment::SegmentError) -> ApiError {
        let code = match e {
            careloop_segment::SegmentError::Io { .. } => ErrorCode::Io,
            _ => ErrorCode::BadInput,
        };
        ApiError::new(code, e.to_string())
    }
}

fn catalog(definitions: Option<&Path>) -> Result<Catalog> {
    Ok(match definitions {
        Some(dir) => careloop_segment::load_catalog(dir)?,
        None => builtin_catalog()?,
    })
}

impl Careloop {
    /// Every stored patient's facts, engagement signals included.
    fn panel_facts(&self) -> Result<Vec<PatientFacts>> {
        let medications = self.store.shared_resources("Medication")?;
        let shared = SharedFacts::from_medications(
            medications
                .iter()
                .map(|(id, body)| (id.as_str(), body.as_str())),
        );
        let mut engagement: HashMap<String, Vec<EngagementFact>> = HashMap::new();
        for (patient, kind, at) in self.store.engagement_signals()? {
            engagement.entry(patient).or_default().push(EngagementFact {
                date: careloop_segment::dates::fhir_date(&at),
                kind,
            });
        }
        let mut panel = Vec::new();
        self.store.for_each_patient(|id, resources| {
            let mut facts = PatientFacts::from_resources(id, resources, &shared);
            facts.engagement = engagement.remove(id).unwrap_or_default();
            panel.push(facts);
            Ok(())
        })?;
        Ok(panel)
    }

    /// The latest recorded attempt per person, from the event log.
    fn last_contacts(&self) -> Result<HashMap<String, NaiveDate>> {
        let mut last: HashMap<String, NaiveDate> = HashMap::new();
        let mut after = 0;
        loop {
            let batch = self.store.events_after(after, 10_000)?;
            let Some(tail) = batch.last() else { break };
            after = tail.seq;
            for event in batch.iter().filter(|e| e.kind == ATTEMPT_EVENT) {
                let day = event.occurred_at.date_naive();
                let entry = last.entry(event.subject.clone()).or_insert(day);
                *entry = (*entry).max(day);
            }
        }
        Ok(last)
    }

    /// Evaluates every segment as of `as_of`.
    pub fn segment(&self, as_of: NaiveDate, definitions: Option<&Path>) -> Result<SegmentRun> {
        let catalog = catalog(definitions)?;
        let panel = self.panel_facts()?;
        let cohorts = engine::run(&catalog, &panel, &self.last_contacts()?, as_of);
        Ok(SegmentRun {
            as_of: as_of.to_string(),
            definitions_version: catalog.version.clone(),
            segments: cohorts
                .into_iter()
                .map(|c| {
                    (
                        c.segment_id.clone(),
                        CohortDto {
                            count: c.members.len() as u32,
                            members: c.members,
                            worklist: c.worklist,
                            overflow: c.overflow,
                            held_back: c
                                .held_back
                                .into_iter()
                                .map(|(id, reason)| HeldBackDto { id, reason })
                                .collect(),
                        },
                    )
                })
                .collect::<BTreeMap<_, _>>(),
        })
    }

    /// Charlson and LACE for one patient as of a date.
    pub fn scores(&self, patient_id: &str, as_of: NaiveDate) -> Result<crate::dto::ScoresDto> {
        use careloop_segment::scores;
        let catalog = builtin_catalog()?;
        let facts = self.patient_facts(patient_id)?;
        let charlson = scores::charlson(&facts, as_of);
        let in_set = |name: &str, code: &str| {
            catalog
                .value_sets
                .get(name)
                .is_some_and(|vs| vs.contains_bare(code))
        };
        let lace = scores::lace(
            &facts,
            as_of,
            |c| in_set("INPATIENT_CLASS", c),
            |c| in_set("EMERGENCY_CLASS", c),
        );
        Ok(crate::dto::ScoresDto {
            patient_id: patient_id.to_owned(),
            as_of: as_of.to_string(),
            charlson: crate::dto::CharlsonDto {
                categories: charlson
                    .categories
                    .into_iter()
                    .map(|(reason, weight)| crate::dto::PointDto {
                        points: weight as i32,
                        reason,
                    })
                    .collect(),
                superseded: charlson.superseded,
                count: charlson.count,
                weighted: charlson.weighted,
            },
            lace: lace.map(|l| crate::dto::LaceDto {
                admission_id: l.admission_id,
                admitted: l.admitted.to_string(),
                discharged: l.discharged.to_string(),
                length_of_stay_days: l.length_of_stay_days.max(0) as u32,
                emergent: l.emergent,
                charlson: l.charlson,
                ed_visits_6m: l.ed_visits_6m,
                length_points: l.points.0,
                acuity_points: l.points.1,
                comorbidity_points: l.points.2,
                ed_points: l.points.3,
                total: l.total,
            }),
        })
    }

    fn patient_facts(&self, patient_id: &str) -> Result<PatientFacts> {
        self.panel_facts()?
            .into_iter()
            .find(|p| p.id == patient_id)
            .ok_or_else(|| {
                ApiError::new(
                    ErrorCode::NotFound,
                    format!("no patient with id {patient_id:?}"),
                )
            })
    }

    /// Why one patient is or is not in each segment (or in one).
    pub fn explain(
        &self,
        patient_id: &str,
        as_of: NaiveDate,
        segment: Option<&str>,
        definitions: Option<&Path>,
    ) -> Result<Vec<ExplanationDto>> {
        let catalog = catalog(definitions)?;
        let facts = self
            .panel_facts()?
            .into_iter()
            .find(|p| p.id == patient_id)
            .ok_or_else(|| {
                ApiError::new(
                    ErrorCode::NotFound,
                    format!("no patient with id {patient_id:?}"),
                )
            })?;
        let segments: Vec<_> = catalog
            .segments
            .iter()
            .filter(|s| segment.is_none_or(|id| s.definition.id == id))
            .collect();
        if segments.is_empty() {
            return Err(ApiError::new(
                ErrorCode::NotFound,
                format!("no segment with id {:?}", segment.unwrap_or_default()),
            ));
        }
        let last_contact = self.last_contacts()?.get(patient_id).copied();
        Ok(segments
            .into_iter()
            .map(|s| {
                let e = engine::explain(&catalog, s, &facts, last_contact, as_of);
                ExplanationDto {
                    segment_id: e.segment_id,
                    member: e.member,
                    rule: e.rule,
                    conditions: e
                        .conditions
                        .into_iter()
                        .map(|c| ConditionDto {
                            text: c.text,
                            held: c.held,
                            signals: c
                                .signals
                                .into_iter()
                                .map(|(name, value)| SignalDto {
                                    name,
                                    value: value.into(),
                                })
                                .collect(),
                            evidence: c
                                .evidence
                                .into_iter()
                                .map(|ev| EvidenceDto {
                                    resource_type: ev.resource_type.to_owned(),
                                    id: ev.id,
                                    code: ev.code,
                                    date: ev.date.map(|d| d.to_string()),
                                })
                                .collect(),
                        })
                        .collect(),
                    why_not: e.why_not,
                    priority: e.priority.map(|p| PointsDto {
                        total: p.total,
                        points: p
                            .points
                            .into_iter()
                            .map(|(points, reason)| crate::dto::PointDto { points, reason })
                            .collect(),
                    }),
                    held_back: e.held_back,
                }
            })
            .collect())
    }
}
