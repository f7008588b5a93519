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
    /// Published definition versions stored here that cannot be evaluated and were passed
    /// over (the previous version or the built-in one ran instead), one sentence each.
    pub warnings: Vec<String>,
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

// ---------------------------------------------------------------------------------------
// The desktop session: sign-in, the idle lock, and the forms of the outreach screens.
// ---------------------------------------------------------------------------------------

/// Mirrors a `careloop_ops` vocabulary enum as a string union for the UI, with conversions
/// both ways (exhaustive, so a new domain variant fails to compile until it is mirrored).
macro_rules! mirror_enum {
    ($(#[$meta:meta])* $name:ident => $domain:ident { $($variant:ident,)* }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
        #[serde(rename_all = "snake_case")]
        #[ts(export)]
        pub enum $name {
            $($variant,)*
        }

        impl From<$name> for careloop_ops::$domain {
            fn from(v: $name) -> careloop_ops::$domain {
                match v {
                    $($name::$variant => careloop_ops::$domain::$variant,)*
                }
            }
        }

        impl From<careloop_ops::$domain> for $name {
            fn from(v: careloop_ops::$domain) -> $name {
                match v {
                    $(careloop_ops::$domain::$variant => $name::$variant,)*
                }
            }
        }
    };
}

mirror_enum! {
    /// A role's stable name.
    RoleName => Role { Coordinator, Clinician, Supervisor, Admin, Partner, }
}
mirror_enum! {
    /// An outreach channel.
    ChannelName => Channel { Phone, Sms, Portal, Email, Letter, HomeVisit, PeerContact, }
}
mirror_enum! {
    /// The outcome of an attempt.
    OutcomeName => Outcome {
        ConfirmedStable, EmergingDeterioration, NeedsDifferentPathway, Declined, Unreachable,
        WrongNumber,
    }
}
mirror_enum! {
    /// Why a case is closed.
    CloseReasonName => CloseReason {
        Stable, ReEngaged, GapClosed, Declined, Unreachable, MovedOrDeceased, NotAppropriate,
        ResolvedByNewData, LeftSegment,
    }
}
mirror_enum! {
    /// A case's state.
    CaseStatusName => CaseStatus {
        Open, Assigned, InProgress, AwaitingCallback, Escalated, Referred, Closed,
    }
}
mirror_enum! {
    /// What an escalation is about.
    EscalationKindName => EscalationKind {
        ClinicalConcern, Safeguarding, SocialCrisis, NoContact, OverdueReferral,
    }
}
mirror_enum! {
    /// A service a person is referred to.
    ServiceTypeName => ServiceType {
        HomeCare, Meals, Transport, FollowUpClinic, Benefits, Housing, BehaviouralHealth,
        EmergencyAssistance,
    }
}
mirror_enum! {
    /// A referral's state.
    ReferralStatusName => ReferralStatus { Sent, Accepted, Declined, Started, Completed, }
}

/// Who is signed in on this desktop, and whether the session is locked.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct SessionInfo {
    /// The signed-in (or, when locked, last signed-in) user.
    pub user: Option<String>,
    pub role: Option<RoleName>,
    /// Nobody is signed in, or the session locked (by the user or after being idle): every
    /// data command answers `session_locked` until someone signs in again.
    pub locked: bool,
    /// The session locks after this many seconds without activity.
    pub idle_lock_seconds: u32,
}

/// A sign-in request (local accounts until central sign-in exists).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, TS)]
#[ts(export)]
pub struct SignInForm {
    pub user: String,
    pub password: String,
}

/// Which worklist rows to return.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, TS)]
#[ts(export)]
pub struct WorklistQuery {
    /// `null`: the signed-in user's cases; `""`: the unassigned pool; a name: that user's.
    pub owner: Option<String>,
    pub segment: Option<String>,
    pub status: Option<CaseStatusName>,
    /// YYYY-MM-DD: only cases due by the end of that day.
    pub due_by: Option<String>,
    #[serde(default)]
    pub include_closed: bool,
    #[serde(default)]
    pub offset: u32,
    pub limit: Option<u32>,
}

/// An answer to a script question, exactly as `careloop_scripts::Answer` reads and writes it:
/// `{"kind": "yes_no", "value": true}`, `{"kind": "choice", "value": "worse"}`, ...
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
#[ts(export)]
pub enum AnswerDto {
    YesNo(bool),
    Choice(String),
    Choices(Vec<String>),
    Scale(i32),
    /// YYYY-MM-DD.
    Date(String),
    Text(String),
}

/// What to do after an attempt: `{"action": "close", "reason": "stable"}`,
/// `{"action": "follow_up", "on": "2026-01-05"}`, `{"action": "clinician_callback", "reason":
/// ".."}`, `{"action": "escalate", "kind": "..", "note": ".."}`, `{"action": "refer",
/// "service": "..", "note": ".."}`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, TS)]
#[serde(tag = "action", rename_all = "snake_case")]
#[ts(export)]
pub enum NextActionDto {
    Close {
        reason: CloseReasonName,
    },
    FollowUp {
        /// YYYY-MM-DD.
        on: String,
    },
    ClinicianCallback {
        reason: String,
    },
    Escalate {
        kind: EscalationKindName,
        note: String,
    },
    Refer {
        service: ServiceTypeName,
        note: String,
    },
}

/// The attempt form of the case view.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, TS)]
#[ts(export)]
pub struct AttemptForm {
    pub case_id: String,
    pub channel: ChannelName,
    pub reached: bool,
    /// The message template sent, for written channels.
    pub message_id: Option<String>,
    /// Question id to answer; only the questions shown.
    pub answers: BTreeMap<String, AnswerDto>,
    pub outcome: OutcomeName,
    pub next: NextActionDto,
    /// A supervisor's written reason to go past the weekly contact limit.
    pub contact_limit_override: Option<String>,
    pub note: Option<String>,
}

/// Closing a case.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, TS)]
#[ts(export)]
pub struct CloseCaseForm {
    pub case_id: String,
    pub reason: CloseReasonName,
    pub note: Option<String>,
}

/// A clinician's documentation of a callback, with the decision-support sign-off.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, TS)]
#[ts(export)]
pub struct CallbackForm {
    pub callback_id: String,
    pub clinical_outcome: String,
    pub next_step: String,
    pub decision_support_reviewed: bool,
}

/// Acknowledging (or, once acknowledged, resolving) an escalation.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, TS)]
#[ts(export)]
pub struct EscalationStepForm {
    pub escalation_id: String,
    pub resolve: bool,
    pub note: String,
}

/// A referral's answer, start or outcome.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, TS)]
#[ts(export)]
pub struct ReferralUpdateForm {
    pub referral_id: String,
    pub status: ReferralStatusName,
    pub note: String,
    /// YYYY-MM-DD, e.g. when the service starts.
    pub on: Option<String>,
}

/// A service of the directory, as the referral form lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct PartnerServiceDto {
    pub service_id: String,
    pub name: String,
    /// The partner organisation's name.
    pub partner: String,
    pub service_type: String,
    pub area: String,
    pub languages: Vec<String>,
    pub eligibility: String,
    pub respond_within_working_days: u32,
}

/// A referral to a service of the directory (the partner answers it itself).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, TS)]
#[ts(export)]
pub struct PartnerReferralForm {
    pub case_id: String,
    pub service_id: String,
    pub note: String,
    /// The person's consent to share the referral with the partner, as recorded.
    pub consent: String,
}

/// A global search as the user types.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, TS)]
#[ts(export)]
pub struct SearchRequest {
    pub text: String,
    /// At most 200; 20 when not given.
    pub limit: Option<u32>,
    pub segment: Option<String>,
    pub status: Option<String>,
    pub owner: Option<String>,
}

/// A script text in the language it is actually in (the one asked for, or English).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct ScriptTextDto {
    pub text: String,
    pub language: String,
}

impl From<careloop_scripts::RenderedText> for ScriptTextDto {
    fn from(t: careloop_scripts::RenderedText) -> ScriptTextDto {
        ScriptTextDto {
            text: t.text,
            language: t.language,
        }
    }
}

/// The kind of a script question (which [`AnswerDto`] it takes: yes_no → yes_no,
/// single_choice → choice, multiple_choice → choices, scale → scale, date → date,
/// free_text → text).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum QuestionKindName {
    YesNo,
    SingleChoice,
    MultipleChoice,
    Scale,
    Date,
    FreeText,
}

/// One option of a choice question.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct ChoiceDto {
    pub value: String,
    pub text: ScriptTextDto,
}

/// When a question is shown: the earlier question's answer is one of `any_of` (`"yes"`/`"no"`
/// for yes/no questions; for multiple choice, any selected value), or at least / at most a
/// number on a scale. Exactly one of the three is set.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct ShowIfDto {
    pub question: String,
    pub any_of: Option<Vec<String>>,
    pub at_least: Option<i32>,
    pub at_most: Option<i32>,
}

/// One question of a rendered script.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct QuestionDto {
    pub id: String,
    pub kind: QuestionKindName,
    /// Applies only when the question is shown.
    pub required: bool,
    pub text: ScriptTextDto,
    /// Choice questions only.
    pub options: Vec<ChoiceDto>,
    /// Scale questions only.
    pub min: Option<i32>,
    pub max: Option<i32>,
    pub min_label: Option<ScriptTextDto>,
    pub max_label: Option<ScriptTextDto>,
    pub show_if: Option<ShowIfDto>,
}

/// A message template of a script, rendered.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct MessageDto {
    pub id: String,
    /// Reveals something clinical: only the patient portal may carry it.
    pub sensitive: bool,
    pub text: ScriptTextDto,
}

/// A case's script in the person's language, for the script runner.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct ScriptDto {
    pub id: String,
    pub version: u32,
    /// The language the script is given in (the person's, else English).
    pub language: String,
    pub title: ScriptTextDto,
    pub introduction: ScriptTextDto,
    pub questions: Vec<QuestionDto>,
    pub messages: Vec<MessageDto>,
}

/// One of a person's cases (opening a search result about the person).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct PersonCase {
    pub case_id: String,
    pub segment_id: String,
    /// The segment's title.
    pub segment_name: String,
    pub status: String,
    pub owner: Option<String>,
    pub due: String,
    pub overdue: bool,
}

/// A segment definition in the editor: the one in force, as JSON text, with its published
/// versions.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct SegmentDefinitionDto {
    pub id: String,
    pub name: String,
    pub version: u32,
    /// Built in (shipped in `schema/segments/`) or published on this workstation.
    pub published: bool,
    /// The definition's JSON (format `schema/segment.schema.json`).
    pub text: String,
    /// Every published version, oldest first.
    pub history: Vec<PublishedDto>,
    /// Published versions of this segment that cannot be evaluated here and are not in
    /// force (e.g. received through sync), one sentence each; usually empty.
    pub problems: Vec<String>,
}

/// A draft definition from the segment editor.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, TS)]
#[ts(export)]
pub struct SegmentDraft {
    pub text: String,
}

fn bad_input(message: String) -> crate::ApiError {
    crate::ApiError::new(crate::ErrorCode::BadInput, message)
}

/// Parses an id sent by the UI.
pub(crate) fn parse_id(what: &str, id: &str) -> crate::Result<uuid::Uuid> {
    id.parse()
        .map_err(|_| bad_input(format!("{what} {id:?} is not a valid id")))
}

/// Parses a YYYY-MM-DD date sent by the UI.
pub(crate) fn parse_date(what: &str, date: &str) -> crate::Result<chrono::NaiveDate> {
    chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d")
        .map_err(|_| bad_input(format!("{what} must be a date as YYYY-MM-DD")))
}

impl AnswerDto {
    /// The domain answer (a bad date names the question, never the value).
    pub fn into_answer(self, question: &str) -> crate::Result<careloop_scripts::Answer> {
        use careloop_scripts::Answer;
        Ok(match self {
            AnswerDto::YesNo(v) => Answer::YesNo(v),
            AnswerDto::Choice(v) => Answer::Choice(v),
            AnswerDto::Choices(v) => Answer::Choices(v),
            AnswerDto::Scale(v) => Answer::Scale(i64::from(v)),
            AnswerDto::Date(v) => {
                Answer::Date(parse_date(&format!("the answer to {question:?}"), &v)?)
            }
            AnswerDto::Text(v) => Answer::Text(v),
        })
    }
}

impl NextActionDto {
    pub fn into_next_action(self) -> crate::Result<careloop_ops::NextAction> {
        use careloop_ops::NextAction;
        Ok(match self {
            NextActionDto::Close { reason } => NextAction::Close {
                reason: reason.into(),
            },
            NextActionDto::FollowUp { on } => NextAction::FollowUp {
                on: parse_date("the follow-up date", &on)?,
            },
            NextActionDto::ClinicianCallback { reason } => NextAction::ClinicianCallback { reason },
            NextActionDto::Escalate { kind, note } => NextAction::Escalate {
                kind: kind.into(),
                note,
            },
            NextActionDto::Refer { service, note } => NextAction::Refer {
                service: service.into(),
                note,
            },
        })
    }
}

fn non_empty(text: Option<String>) -> Option<String> {
    text.filter(|t| !t.trim().is_empty())
}

impl AttemptForm {
    /// The API's attempt input.
    pub fn into_input(self) -> crate::Result<crate::AttemptInput> {
        let answers = self
            .answers
            .into_iter()
            .map(|(question, answer)| {
                let answer = answer.into_answer(&question)?;
                Ok((question, answer))
            })
            .collect::<crate::Result<careloop_scripts::Answers>>()?;
        Ok(crate::AttemptInput {
            case_id: parse_id("case", &self.case_id)?,
            channel: self.channel.into(),
            reached: self.reached,
            message_id: non_empty(self.message_id),
            answers,
            outcome: self.outcome.into(),
            next: self.next.into_next_action()?,
            contact_limit_override: non_empty(self.contact_limit_override),
            note: non_empty(self.note),
        })
    }
}

impl WorklistQuery {
    /// The API's worklist filter.
    pub fn to_filter(&self) -> crate::Result<crate::WorklistFilter> {
        Ok(crate::WorklistFilter {
            owner: self.owner.clone(),
            segment: self.segment.clone().filter(|s| !s.is_empty()),
            status: self.status.map(Into::into),
            due_by: self
                .due_by
                .as_deref()
                .filter(|d| !d.is_empty())
                .map(|d| parse_date("due_by", d))
                .transpose()?,
            include_closed: self.include_closed,
            offset: self.offset as usize,
            limit: self.limit.map(|l| l as usize),
        })
    }
}

impl ScriptDto {
    /// A rendered script with its message templates rendered in the same language.
    pub(crate) fn new(
        script: &careloop_scripts::Script,
        language: &str,
        placeholders: &careloop_scripts::Placeholders,
    ) -> ScriptDto {
        use careloop_scripts::{Condition, RenderedQuestionKind};
        let rendered = script.render(language, placeholders);
        let choices = |options: Vec<careloop_scripts::RenderedChoice>| {
            options
                .into_iter()
                .map(|o| ChoiceDto {
                    value: o.value,
                    text: o.text.into(),
                })
                .collect()
        };
        let clamp = |v: i64| v.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32;
        ScriptDto {
            id: rendered.id,
            version: rendered.version,
            language: rendered.language,
            title: rendered.title.into(),
            introduction: rendered.introduction.into(),
            questions: rendered
                .questions
                .into_iter()
                .map(|q| {
                    let mut dto = QuestionDto {
                        id: q.id,
                        kind: QuestionKindName::YesNo,
                        required: q.required,
                        text: q.text.into(),
                        options: Vec::new(),
                        min: None,
                        max: None,
                        min_label: None,
                        max_label: None,
                        show_if: q.show_if.map(|c| match c {
                            Condition::AnyOf { question, values } => ShowIfDto {
                                question,
                                any_of: Some(values),
                                at_least: None,
                                at_most: None,
                            },
                            Condition::AtLeast { question, value } => ShowIfDto {
                                question,
                                any_of: None,
                                at_least: Some(clamp(value)),
                                at_most: None,
                            },
                            Condition::AtMost { question, value } => ShowIfDto {
                                question,
                                any_of: None,
                                at_least: None,
                                at_most: Some(clamp(value)),
                            },
                        }),
                    };
                    match q.kind {
                        RenderedQuestionKind::YesNo => {}
                        RenderedQuestionKind::SingleChoice { options } => {
                            dto.kind = QuestionKindName::SingleChoice;
                            dto.options = choices(options);
                        }
                        RenderedQuestionKind::MultipleChoice { options } => {
                            dto.kind = QuestionKindName::MultipleChoice;
                            dto.options = choices(options);
                        }
                        RenderedQuestionKind::Scale {
                            min,
                            max,
                            min_label,
                            max_label,
                        } => {
                            dto.kind = QuestionKindName::Scale;
                            dto.min = Some(clamp(min));
                            dto.max = Some(clamp(max));
                            dto.min_label = min_label.map(Into::into);
                            dto.max_label = max_label.map(Into::into);
                        }
                        RenderedQuestionKind::Date => dto.kind = QuestionKindName::Date,
                        RenderedQuestionKind::FreeText => dto.kind = QuestionKindName::FreeText,
                    }
                    dto
                })
                .collect(),
            messages: script
                .messages
                .iter()
                .map(|m| MessageDto {
                    id: m.id.clone(),
                    sensitive: m.sensitive,
                    text: m.text.render(language, placeholders).into(),
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The UI's names are the domain's stable names, variant by variant.
    #[test]
    fn mirrored_enums_serialize_as_the_domain_names() {
        fn check<D: Copy + std::fmt::Display, M: From<D> + Serialize>(all: &[D]) {
            for d in all {
                let json = serde_json::to_value(M::from(*d)).unwrap();
                assert_eq!(json, serde_json::json!(d.to_string()), "mirror of {d}");
            }
        }
        check::<careloop_ops::Role, RoleName>(careloop_ops::Role::ALL);
        check::<careloop_ops::Channel, ChannelName>(careloop_ops::Channel::ALL);
        check::<careloop_ops::Outcome, OutcomeName>(careloop_ops::Outcome::ALL);
        check::<careloop_ops::CloseReason, CloseReasonName>(careloop_ops::CloseReason::ALL);
        check::<careloop_ops::CaseStatus, CaseStatusName>(careloop_ops::CaseStatus::ALL);
        check::<careloop_ops::EscalationKind, EscalationKindName>(
            careloop_ops::EscalationKind::ALL,
        );
        check::<careloop_ops::ServiceType, ServiceTypeName>(careloop_ops::ServiceType::ALL);
        check::<careloop_ops::ReferralStatus, ReferralStatusName>(
            careloop_ops::ReferralStatus::ALL,
        );
    }

    /// An answer from the UI reads as the stored answer's JSON does.
    #[test]
    fn answer_dto_has_the_json_of_the_stored_answer() {
        let cases = [
            r#"{"kind":"yes_no","value":true}"#,
            r#"{"kind":"choice","value":"worse"}"#,
            r#"{"kind":"choices","value":["fever","other"]}"#,
            r#"{"kind":"scale","value":4}"#,
            r#"{"kind":"date","value":"2025-03-14"}"#,
            r#"{"kind":"text","value":"fine"}"#,
        ];
        for json in cases {
            let dto: AnswerDto = serde_json::from_str(json).unwrap();
            let answer = dto.into_answer("q").unwrap();
            let stored: careloop_scripts::Answer = serde_json::from_str(json).unwrap();
            assert_eq!(answer, stored, "{json}");
        }
        let err = AnswerDto::Date("14/03/2025".into())
            .into_answer("when")
            .unwrap_err();
        assert!(
            !err.message.contains("14/03"),
            "no answer value in errors: {err}"
        );
    }
}
