//! Operational events: the only way anything changes. Each is appended to the log with a
//! client-made UUIDv7, who did it (name and role), when, and which person it is about; the
//! current state of cases, callbacks, escalations and referrals is a fold of them
//! ([`crate::state`]).
//!
//! In the store an event's `kind` is [`OpEvent::kind`] (`case.opened`, `attempt.recorded`,
//! …), its subject the person's id, and its payload the JSON of [`Recorded`] minus the
//! envelope fields the store keeps in columns.

use careloop_scripts::Answers;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::model::{
    Channel, CloseReason, EscalationKind, Outcome, ReferralStatus, Role, ServiceType,
};

/// The directory service a referral goes to, as it was when sent (the event keeps the
/// deadlines, so the fold does not depend on a later change of the directory).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartnerRef {
    /// The partner organisation's id in the directory.
    pub organization: String,
    pub organization_name: String,
    pub service_id: String,
    pub service_name: String,
    /// Accept or decline within this many working days.
    pub respond_within_working_days: u32,
    /// Once accepted, start within this many working days.
    pub start_within_working_days: u32,
    /// The person's consent to share the referral with the partner, as recorded.
    pub consent: String,
}

/// What to do after an attempt.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum NextAction {
    /// Close the case with a reason.
    Close { reason: CloseReason },
    /// Try again (or check in) on a date.
    FollowUp { on: NaiveDate },
    /// Route to a clinician with a deadline.
    ClinicianCallback { reason: String },
    /// Escalate to the kind's owner level.
    Escalate { kind: EscalationKind, note: String },
    /// Refer to a service.
    Refer { service: ServiceType, note: String },
}

/// One outreach attempt as documented.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Attempt {
    pub attempt_id: Uuid,
    pub case_id: Uuid,
    pub channel: Channel,
    pub reached: bool,
    /// The script used and the language its text was given in.
    pub script_id: String,
    pub script_version: u32,
    pub language: String,
    /// The message template sent, for written channels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_id: Option<String>,
    #[serde(default)]
    pub answers: Answers,
    pub outcome: Outcome,
    pub next: NextAction,
    /// A supervisor's written reason for contacting past the over-contact limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact_limit_override: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// The change itself.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum OpEvent {
    /// A person in a segment's worklist becomes a case.
    CaseOpened {
        case_id: Uuid,
        segment_id: String,
        priority: i32,
        /// The first contact is due by then.
        due: DateTime<Utc>,
        /// Why the person is on the list, in a line (no clinical values).
        summary: String,
    },
    /// A coordinator takes an unassigned case.
    CaseClaimed {
        case_id: Uuid,
    },
    /// A supervisor assigns (or reassigns) a case.
    CaseAssigned {
        case_id: Uuid,
        to: String,
    },
    AttemptRecorded(Attempt),
    CallbackRequested {
        callback_id: Uuid,
        case_id: Uuid,
        reason: String,
        due: DateTime<Utc>,
    },
    CallbackDocumented {
        callback_id: Uuid,
        case_id: Uuid,
        clinical_outcome: String,
        next_step: String,
        /// The clinician signs that the decision-support output was reviewed.
        decision_support_reviewed: bool,
    },
    EscalationRaised {
        escalation_id: Uuid,
        case_id: Uuid,
        kind: EscalationKind,
        note: String,
    },
    EscalationAcknowledged {
        escalation_id: Uuid,
        case_id: Uuid,
        note: String,
    },
    EscalationResolved {
        escalation_id: Uuid,
        case_id: Uuid,
        note: String,
    },
    ReferralSent {
        referral_id: Uuid,
        case_id: Uuid,
        service: ServiceType,
        note: String,
        /// A service of the directory: the partner organisation answers the referral itself
        /// through the server's exchange (its deadlines are the service's).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        partner: Option<PartnerRef>,
    },
    /// The service answered, started or finished.
    ReferralUpdated {
        referral_id: Uuid,
        case_id: Uuid,
        status: ReferralStatus,
        /// Declined: the reason; started: the confirmation; completed: the outcome.
        note: String,
        /// Started: the date the service started.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        on: Option<NaiveDate>,
    },
    CaseClosed {
        case_id: Uuid,
        reason: CloseReason,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        note: Option<String>,
    },
    /// A key event in someone's data (an ED visit, a missed appointment…) that someone must
    /// look at. Its id is derived from team, kind and source resource
    /// ([`crate::alert_id`]), so however many workstations raise it, it is one alert.
    AlertRaised {
        alert_id: Uuid,
        /// ed_visit, admission, discharge, missed_appointment or social_risk.
        kind: String,
        /// The resource it comes from (`Encounter/…`).
        source: String,
        /// The event's day.
        occurred: NaiveDate,
        /// To be acknowledged by then.
        due: DateTime<Utc>,
        /// A user (the owner of the person's open case) or `lead` (the team's lead role).
        assignee: String,
        /// What happened, in a line (no clinical values beyond the event's class).
        evidence: String,
    },
    /// Someone holding an alert has looked at it.
    AlertAcknowledged {
        alert_id: Uuid,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        note: Option<String>,
    },
    /// A change to a person's shared care plan (opened from the case `case_id`).
    CarePlan {
        plan_id: Uuid,
        case_id: Uuid,
        change: crate::careplan::PlanChange,
    },
}

impl OpEvent {
    /// The event kind in the log.
    pub fn kind(&self) -> &'static str {
        match self {
            OpEvent::CaseOpened { .. } => "case.opened",
            OpEvent::CaseClaimed { .. } => "case.claimed",
            OpEvent::CaseAssigned { .. } => "case.assigned",
            OpEvent::AttemptRecorded(_) => ATTEMPT_KIND,
            OpEvent::CallbackRequested { .. } => "callback.requested",
            OpEvent::CallbackDocumented { .. } => "callback.documented",
            OpEvent::EscalationRaised { .. } => "escalation.raised",
            OpEvent::EscalationAcknowledged { .. } => "escalation.acknowledged",
            OpEvent::EscalationResolved { .. } => "escalation.resolved",
            OpEvent::ReferralSent { .. } => "referral.sent",
            OpEvent::ReferralUpdated { .. } => "referral.updated",
            OpEvent::CaseClosed { .. } => "case.closed",
            OpEvent::AlertRaised { .. } => "alert.raised",
            OpEvent::AlertAcknowledged { .. } => "alert.acknowledged",
            OpEvent::CarePlan { change, .. } => change.kind(),
        }
    }

    /// Whether it is about an alert (not a case).
    pub fn is_alert(&self) -> bool {
        matches!(
            self,
            OpEvent::AlertRaised { .. } | OpEvent::AlertAcknowledged { .. }
        )
    }

    /// The case it belongs to; an alert is a stream of its own, named by the alert's id.
    pub fn case_id(&self) -> Uuid {
        match self {
            OpEvent::CaseOpened { case_id, .. }
            | OpEvent::CaseClaimed { case_id }
            | OpEvent::CaseAssigned { case_id, .. }
            | OpEvent::AttemptRecorded(Attempt { case_id, .. })
            | OpEvent::CallbackRequested { case_id, .. }
            | OpEvent::CallbackDocumented { case_id, .. }
            | OpEvent::EscalationRaised { case_id, .. }
            | OpEvent::EscalationAcknowledged { case_id, .. }
            | OpEvent::EscalationResolved { case_id, .. }
            | OpEvent::ReferralSent { case_id, .. }
            | OpEvent::ReferralUpdated { case_id, .. }
            | OpEvent::CaseClosed { case_id, .. }
            | OpEvent::CarePlan { case_id, .. } => *case_id,
            OpEvent::AlertRaised { alert_id, .. } | OpEvent::AlertAcknowledged { alert_id, .. } => {
                *alert_id
            }
        }
    }
}

/// The log kind of an attempt (the segmentation's re-contact cooldown reads it too).
pub const ATTEMPT_KIND: &str = "attempt.recorded";

/// Every kind [`OpEvent`] writes.
pub const KINDS: &[&str] = &[
    "case.opened",
    "case.claimed",
    "case.assigned",
    ATTEMPT_KIND,
    "callback.requested",
    "callback.documented",
    "escalation.raised",
    "escalation.acknowledged",
    "escalation.resolved",
    "referral.sent",
    "referral.updated",
    "case.closed",
    "alert.raised",
    "alert.acknowledged",
    "care_plan.started",
    "care_plan.domain_set",
    "care_plan.action_added",
    "care_plan.action_closed",
    "care_plan.monitoring_set",
    "care_plan.review_scheduled",
    "care_plan.review_held",
];

/// An event with who, when and about whom.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Recorded {
    pub id: Uuid,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub role: Role,
    pub patient_id: String,
    pub event: OpEvent,
}

/// The payload stored for an event: the role and the event (the rest is in columns), and
/// the case event its author had last seen when recording it (for finding concurrent
/// outcomes after sync: [`crate::sync`]).
#[derive(Serialize, Deserialize)]
pub struct Payload {
    pub role: Role,
    pub event: OpEvent,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<Uuid>,
}

impl Payload {
    /// The event recorded with this payload (the rest comes from the log's columns), and
    /// the case event its author had last seen.
    pub fn recorded(
        self,
        id: Uuid,
        at: DateTime<Utc>,
        actor: &str,
        patient_id: &str,
    ) -> (Recorded, Option<Uuid>) {
        let recorded = Recorded {
            id,
            at,
            actor: actor.to_owned(),
            role: self.role,
            patient_id: patient_id.to_owned(),
            event: self.event,
        };
        (recorded, self.after)
    }
}
