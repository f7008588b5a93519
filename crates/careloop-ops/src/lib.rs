//! Outreach operations: what coordinators, clinicians and supervisors do all day, as events.
//!
//! - [`model`]: the vocabulary (roles, channels, outcomes, statuses, escalation and referral
//!   kinds), each with a stable snake_case name.
//! - [`events`]: every change as an [`events::OpEvent`] with who, when and about whom.
//! - [`state`]: current state as a fold of events; cases, callbacks, escalations and
//!   referrals are state machines that refuse illegal transitions with a clear error.
//! - [`decide`]: what each command decides (command → events), pure and tested; the
//!   application API only checks the session and role, looks up what needs the store and
//!   commits.
//! - [`calendar`]: working-hours deadlines; [`guards`]: the channel rule, the language and
//!   the over-contact guard; [`rbac`]: the role matrix and minimum necessary;
//!   [`suggest`]: when and how to reach a person; [`sync`]: folding a log several
//!   workstations wrote offline (superseded events and conflicts listed, never dropped).
//!
//! Invariants: no clock and no store here (times are passed in; the application API appends
//! the events and keeps the state); a refused event changes nothing; the state kept
//! incrementally equals the state folded from the log; at most one open case per person
//! per segment.

pub mod calendar;
pub mod careplan;
pub mod decide;
pub mod events;
pub mod guards;
pub mod model;
pub mod rbac;
pub mod state;
pub mod suggest;
pub mod sync;

pub use calendar::WorkingCalendar;
pub use events::{Attempt, NextAction, OpEvent, PartnerRef, Recorded};
pub use model::{
    alert_id, case_id, CallbackStatus, CaseStatus, Channel, CloseReason, EscalationKind,
    EscalationStatus, Level, Outcome, ReferralStatus, Role, ServiceType,
};
pub use state::{Alert, Callback, Case, Escalation, OpsState, Policy, Referral};

/// The operations' one error type. Messages name what and which id, never a person's data.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OpsError {
    #[error("unknown {what} {given:?} (expected one of: {expected})")]
    UnknownName {
        what: &'static str,
        given: String,
        expected: String,
    },
    #[error("no {what} {id}")]
    NotFound { what: &'static str, id: String },
    #[error("cannot {action} {what} {id} ({from}): {why}")]
    Transition {
        what: &'static str,
        id: String,
        from: String,
        action: &'static str,
        why: String,
    },
    #[error("the person already has an open case in {segment_id} ({case_id})")]
    DuplicateOpenCase { segment_id: String, case_id: String },
    #[error("{0}")]
    Invalid(String),
    #[error("refused: {0}")]
    Refused(String),
    /// Not the caller's to do (the role may, but not on this item: someone else's case).
    #[error("{0}")]
    Forbidden(String),
}
