//! The serializable types that cross to the UI and the CLI's JSON output. Their TypeScript
//! twins in `ui/src/bindings/` are generated from these (`cargo test -p careloop-api
//! export_bindings`); CI fails when the checked-in files differ.

use std::collections::BTreeMap;

use careloop_fhir::ImportProgress;
use careloop_store::StoredPatient;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// One row of the patient list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct PatientRow {
    pub id: String,
    pub name: String,
    pub birth_date: Option<String>,
    pub gender: Option<String>,
    pub preferred_language: Option<String>,
}

impl From<StoredPatient> for PatientRow {
    fn from(p: StoredPatient) -> PatientRow {
        PatientRow {
            id: p.id,
            name: p.name,
            birth_date: p.birth_date,
            gender: p.gender,
            preferred_language: p.preferred_language,
        }
    }
}

/// A request for one page of the patient list.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, TS)]
#[ts(export)]
pub struct PatientQuery {
    /// Part of a name, matched case-insensitively; empty or null lists everyone.
    pub text: Option<String>,
    pub offset: u32,
    pub limit: u32,
}

/// One page of the patient list, sorted by name.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct PatientPage {
    /// How many patients match the query in all.
    pub total: u32,
    pub offset: u32,
    pub rows: Vec<PatientRow>,
}

/// What the desktop app found or did when it opened the cache.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct StartupReport {
    /// The cache did not exist and was created.
    pub created: bool,
    /// A demo panel was generated and imported.
    pub demo_loaded: bool,
    #[ts(type = "number")]
    pub patients: u64,
    #[ts(type = "number")]
    pub events: u64,
}

/// Progress of a long operation (unlock, demo generation, import).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct Progress {
    pub stage: String,
    #[ts(type = "number")]
    pub done: u64,
    /// Unknown for stages that cannot be measured.
    #[ts(type = "number | null")]
    pub total: Option<u64>,
    pub message: String,
}

impl Progress {
    pub(crate) fn stage(stage: &str, message: &str) -> Progress {
        Progress {
            stage: stage.to_owned(),
            done: 0,
            total: None,
            message: message.to_owned(),
        }
    }

    pub(crate) fn from_import(p: &ImportProgress, what: &str) -> Progress {
        Progress {
            stage: "import".to_owned(),
            done: p.bytes_done,
            total: Some(p.bytes_total),
            message: format!("{what}: {} resources", p.resources_done),
        }
    }
}

/// What the cache holds (`careloop stats --format json`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct Stats {
    /// Stored resources by FHIR resource type.
    #[ts(type = "Record<string, number>")]
    pub resources: BTreeMap<String, u64>,
    #[ts(type = "number")]
    pub patients: u64,
    #[ts(type = "number")]
    pub events: u64,
    #[ts(type = "number")]
    pub engagement_signals: u64,
}

/// One segment's cohort as of a date (`careloop segment --format json`). Lists are sorted
/// patient ids; `members` is exactly what the inclusion rule selects, and worklist, overflow
/// and held_back split it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct CohortDto {
    pub count: u32,
    pub members: Vec<String>,
    pub worklist: Vec<String>,
    pub overflow: Vec<String>,
    pub held_back: Vec<HeldBackDto>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct HeldBackDto {
    pub id: String,
    pub reason: String,
}

/// A whole segmentation run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct SegmentRun {
    /// YYYY-MM-DD.
    pub as_of: String,
    pub definitions_version: String,
    pub segments: BTreeMap<String, CohortDto>,
}

/// Why a person is or is not in a segment.
#[derive(Clone, Debug, PartialEq, Serialize, TS)]
#[ts(export)]
pub struct ExplanationDto {
    pub segment_id: String,
    pub member: bool,
    pub rule: String,
    pub conditions: Vec<ConditionDto>,
    /// For a non-member: the first condition that failed.
    pub why_not: Option<String>,
    pub priority: Option<PointsDto>,
    pub held_back: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, TS)]
#[ts(export)]
pub struct ConditionDto {
    pub text: String,
    pub held: bool,
    pub signals: Vec<SignalDto>,
    pub evidence: Vec<EvidenceDto>,
}

#[derive(Clone, Debug, PartialEq, Serialize, TS)]
#[ts(export)]
pub struct SignalDto {
    pub name: String,
    /// A number, text, boolean, date (YYYY-MM-DD) or null when unknown.
    #[ts(type = "number | string | boolean | null")]
    pub value: serde_json::Value,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct EvidenceDto {
    pub resource_type: String,
    pub id: String,
    pub code: String,
    pub date: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct PointsDto {
    pub total: i32,
    pub points: Vec<PointDto>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct PointDto {
    pub points: i32,
    pub reason: String,
}

/// Risk scores of one person as of a date, each with its components. Decision support, never
/// a diagnosis.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct ScoresDto {
    pub patient_id: String,
    pub as_of: String,
    pub charlson: CharlsonDto,
    /// None when there is no inpatient stay ended on or before the date.
    pub lace: Option<LaceDto>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct CharlsonDto {
    /// Categories counted, with their weights.
    pub categories: Vec<PointDto>,
    /// Categories not counted because a more severe one in the same pair is.
    pub superseded: Vec<String>,
    pub count: u32,
    pub weighted: u32,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct LaceDto {
    pub admission_id: String,
    pub admitted: String,
    pub discharged: String,
    pub length_of_stay_days: u32,
    pub emergent: bool,
    pub charlson: u32,
    pub ed_visits_6m: u32,
    pub length_points: u32,
    pub acuity_points: u32,
    pub comorbidity_points: u32,
    pub ed_points: u32,
    pub total: u32,
}

/// A recorded segmentation run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct RunDto {
    #[ts(type = "number")]
    pub id: i64,
    pub as_of: String,
    pub definitions_version: String,
    pub run_at: String,
    pub run_by: String,
}

/// Who entered and who left each segment between two runs (`careloop segment diff`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct DiffDto {
    pub from: RunDto,
    pub to: RunDto,
    pub segments: BTreeMap<String, SegmentDiffDto>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct SegmentDiffDto {
    pub entered: Vec<String>,
    pub left: Vec<String>,
}

/// A draft definition evaluated against the published one, without publishing it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct PreviewDto {
    pub segment_id: String,
    pub as_of: String,
    pub draft_version: u32,
    /// None when the segment is new.
    pub published_version: Option<u32>,
    pub draft_count: u32,
    pub published_count: u32,
    /// Members under the draft who are not members now.
    pub added: Vec<String>,
    /// Members now who would not be under the draft.
    pub removed: Vec<String>,
}

/// A published definition version.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct PublishedDto {
    pub id: String,
    pub version: u32,
    pub published_by: String,
    pub published_at: String,
}
