//! Role-based access and minimum necessary: which operation each role may call, and which
//! fields of a person's record each role sees. The application API checks every call
//! against [`allowed`] and filters every person view through [`visible`]; the UI only
//! mirrors it.
//!
//! | operation \ role            | coordinator | clinician | supervisor | admin |
//! |-----------------------------|:-----------:|:---------:|:----------:|:-----:|
//! | view worklist               | ✓ | ✓ | ✓ |   |
//! | view case / person          | ✓ | ✓ | ✓ |   |
//! | claim case                  | ✓ |   | ✓ |   |
//! | assign / reassign case      |   |   | ✓ |   |
//! | record attempt              | ✓ |   | ✓ |   |
//! | override contact limit      |   |   | ✓ |   |
//! | close case                  | ✓ |   | ✓ |   |
//! | view callbacks              |   | ✓ | ✓ |   |
//! | document callback           |   | ✓ |   |   |
//! | raise escalation            | ✓ | ✓ | ✓ |   |
//! | acknowledge / resolve esc.  | ✓ | ✓ | ✓ |   |
//! | send / update referral      | ✓ |   | ✓ |   |
//! | run segmentation            | ✓ |   | ✓ |   |
//! | publish segment             |   |   | ✓ |   |
//! | weekly review               |   |   | ✓ |   |
//! | verify audit                |   |   | ✓ | ✓ |
//! | import / open cases         |   |   | ✓ | ✓ |
//! | resolve a sync conflict     | ✓ |   | ✓ |   |
//! | review entrants (open/dismiss) |   |   | ✓ |   |
//! | refresh the lists now       |   |   | ✓ |   |
//! | read / acknowledge alerts   | ✓ | ✓ | ✓ |   |
//! | manage a shared care plan   | ✓ | ✓ | ✓ |   |
//!
//! Acknowledging an escalation is further limited to its current level's role (see
//! [`crate::state::Escalation::steps`]); the API checks that too.
//!
//! | field \ role                         | coordinator | clinician | supervisor | admin |
//! |--------------------------------------|:-----------:|:---------:|:----------:|:-----:|
//! | name, date of birth, sex             | ✓ | ✓ | ✓ |   |
//! | contact details, language, channel  | ✓ | ✓ | ✓ |   |
//! | outreach facts (why on the list)     | ✓ | ✓ | ✓ |   |
//! | script answers, attempt notes        | ✓ | ✓ | ✓ |   |
//! | clinical history (conditions, meds, results) |   | ✓ | ✓ |   |
//! | callback clinical documentation      |   | ✓ | ✓ |   |
//! | race and ethnicity                   |   |   | ✓ |   |
//!
//! An admin runs the installation (accounts, imports, audit) and sees no person's record.
//! A partner (another organisation answering the referrals sent to it, on the server's
//! exchange only) may call none of these operations; of the people referred to it, it sees
//! name, date of birth, contact details and language, the referral's reason and consent.

use serde::{Deserialize, Serialize};

use crate::model::Role;

/// What a caller can ask the application to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Operation {
    ViewWorklist,
    ViewCase,
    ClaimCase,
    AssignCase,
    RecordAttempt,
    OverrideContactLimit,
    CloseCase,
    ViewCallbacks,
    DocumentCallback,
    RaiseEscalation,
    AcknowledgeEscalation,
    SendReferral,
    RunSegmentation,
    PublishSegment,
    WeeklyReview,
    VerifyAudit,
    Administer,
    /// Decide which of two outcomes recorded offline for one case step stands.
    ResolveConflict,
    /// Open cases for, or dismiss, the entrants of a review segment.
    ReviewEntrants,
    /// Read and acknowledge alerts on key events.
    HandleAlerts,
    /// Evaluate everyone in the lists again now ("Refresh lists now").
    RefreshLists,
    /// Start a shared care plan, set its domains, actions and monitoring, close actions
    /// (case reviews: a supervisor or the plan's lead, which the API checks).
    ManageCarePlan,
}

impl Operation {
    pub const ALL: &'static [Operation] = &[
        Operation::ViewWorklist,
        Operation::ViewCase,
        Operation::ClaimCase,
        Operation::AssignCase,
        Operation::RecordAttempt,
        Operation::OverrideContactLimit,
        Operation::CloseCase,
        Operation::ViewCallbacks,
        Operation::DocumentCallback,
        Operation::RaiseEscalation,
        Operation::AcknowledgeEscalation,
        Operation::SendReferral,
        Operation::RunSegmentation,
        Operation::PublishSegment,
        Operation::WeeklyReview,
        Operation::VerifyAudit,
        Operation::Administer,
        Operation::ResolveConflict,
        Operation::ReviewEntrants,
        Operation::HandleAlerts,
        Operation::RefreshLists,
        Operation::ManageCarePlan,
    ];
}

/// Whether `role` may call `operation` (the first table of the module docs).
pub fn allowed(role: Role, operation: Operation) -> bool {
    use Operation::*;
    use Role::*;
    match operation {
        ViewWorklist
        | ViewCase
        | RaiseEscalation
        | AcknowledgeEscalation
        | HandleAlerts
        | ManageCarePlan => {
            matches!(role, Coordinator | Clinician | Supervisor)
        }
        ClaimCase | RecordAttempt | CloseCase | SendReferral | RunSegmentation
        | ResolveConflict => {
            matches!(role, Coordinator | Supervisor)
        }
        AssignCase | OverrideContactLimit | PublishSegment | WeeklyReview | ReviewEntrants
        | RefreshLists => role == Supervisor,
        ViewCallbacks => matches!(role, Clinician | Supervisor),
        DocumentCallback => role == Clinician,
        VerifyAudit | Administer => matches!(role, Supervisor | Admin),
    }
}

/// Parts of a person's record, for minimum necessary.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    Identity,
    Contact,
    OutreachFacts,
    OutreachRecord,
    ClinicalHistory,
    CallbackDocumentation,
    RaceEthnicity,
}

impl Field {
    pub const ALL: &'static [Field] = &[
        Field::Identity,
        Field::Contact,
        Field::OutreachFacts,
        Field::OutreachRecord,
        Field::ClinicalHistory,
        Field::CallbackDocumentation,
        Field::RaceEthnicity,
    ];
}

/// Whether `role` sees `field` (the second table of the module docs).
pub fn visible(role: Role, field: Field) -> bool {
    use Field::*;
    use Role::*;
    match field {
        // A partner sees who was referred to it and how to reach them, nothing else.
        Identity | Contact => matches!(role, Coordinator | Clinician | Supervisor | Partner),
        OutreachFacts | OutreachRecord => matches!(role, Coordinator | Clinician | Supervisor),
        ClinicalHistory | CallbackDocumentation => matches!(role, Clinician | Supervisor),
        RaceEthnicity => role == Supervisor,
    }
}
