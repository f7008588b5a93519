//! Current state as a fold of the event log: cases, callbacks, escalations and referrals,
//! each a small state machine. [`OpsState::apply`] checks an event against the state first
//! and changes nothing when it is refused, so the state kept incrementally and the state
//! rebuilt from the log ([`OpsState::from_log`]) are always the same.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use uuid::Uuid;

use crate::calendar::WorkingCalendar;
use crate::events::{Attempt, OpEvent, Recorded};
use crate::model::{
    CallbackStatus, CaseStatus, Channel, CloseReason, EscalationKind, EscalationStatus, Level,
    Outcome, ReferralStatus, ServiceType,
};
use crate::OpsError;

/// The rules the state machines apply that a service may set.
#[derive(Clone, Debug, PartialEq)]
pub struct Policy {
    pub calendar: WorkingCalendar,
    /// "Unreachable" closes a case only after this many attempts.
    pub unreachable_after: u32,
    /// Outbound contacts a person may get in 7 days before a supervisor must override.
    pub max_contacts_per_week: u32,
    /// Open cases one coordinator may hold (their weekly capacity): claiming or being
    /// assigned another is refused. A guard of the API, not of the fold.
    pub caseload_per_coordinator: u32,
}

impl Default for Policy {
    fn default() -> Policy {
        Policy {
            calendar: WorkingCalendar::default(),
            unreachable_after: 3,
            max_contacts_per_week: 3,
            caseload_per_coordinator: 40,
        }
    }
}

/// One person's outreach episode in a segment.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Case {
    pub case_id: Uuid,
    pub patient_id: String,
    pub segment_id: String,
    pub priority: i32,
    pub summary: String,
    pub opened_at: DateTime<Utc>,
    /// The next contact is due by then: first the segment's first-contact deadline, then the
    /// end of the follow-up day each attempt sets.
    pub due: DateTime<Utc>,
    pub status: CaseStatus,
    pub owner: Option<String>,
    pub attempts: u32,
    pub reached: u32,
    pub last_attempt_at: Option<DateTime<Utc>>,
    pub last_channel: Option<Channel>,
    pub last_outcome: Option<Outcome>,
    pub follow_up_on: Option<NaiveDate>,
    pub callbacks: Vec<Uuid>,
    pub escalations: Vec<Uuid>,
    pub referrals: Vec<Uuid>,
    pub closed_reason: Option<CloseReason>,
    pub closed_at: Option<DateTime<Utc>>,
}

impl Case {
    /// Past due at `now`: not closed, and its next contact (the first, or the follow-up its
    /// last attempt set) was due before `now`.
    pub fn overdue(&self, now: DateTime<Utc>) -> bool {
        self.status != CaseStatus::Closed && self.due < now
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Callback {
    pub callback_id: Uuid,
    pub case_id: Uuid,
    pub patient_id: String,
    pub reason: String,
    pub requested_at: DateTime<Utc>,
    pub requested_by: String,
    pub due: DateTime<Utc>,
    pub status: CallbackStatus,
    pub documented_at: Option<DateTime<Utc>>,
    pub documented_by: Option<String>,
    pub clinical_outcome: Option<String>,
    pub next_step: Option<String>,
}

/// One timestamped step of an escalation: who owned it from when, until when.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct EscalationStep {
    pub level: Level,
    pub from: DateTime<Utc>,
    pub deadline: DateTime<Utc>,
}

/// An alert on a key event, and whether someone has looked at it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Alert {
    pub alert_id: Uuid,
    pub kind: String,
    pub patient_id: String,
    pub source: String,
    pub occurred: NaiveDate,
    pub raised_at: DateTime<Utc>,
    pub raised_by: String,
    pub due: DateTime<Utc>,
    pub assignee: String,
    pub evidence: String,
    pub acknowledged_at: Option<DateTime<Utc>>,
    pub acknowledged_by: Option<String>,
    pub note: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Escalation {
    pub escalation_id: Uuid,
    pub case_id: Uuid,
    pub patient_id: String,
    pub kind: EscalationKind,
    pub note: String,
    pub raised_at: DateTime<Utc>,
    pub raised_by: String,
    pub status: EscalationStatus,
    pub acknowledged_at: Option<DateTime<Utc>>,
    pub acknowledged_by: Option<String>,
    pub resolved_at: Option<DateTime<Utc>>,
}

impl Escalation {
    /// The levels it has climbed by `now` (or by its acknowledgement), each with its
    /// deadline: a level that does not acknowledge within the kind's working hours hands it
    /// to the next one up; the top level keeps it, overdue. Pure: `now` is passed in.
    pub fn steps(&self, now: DateTime<Utc>, calendar: &WorkingCalendar) -> Vec<EscalationStep> {
        let policy = self.kind.policy();
        let until = self.acknowledged_at.map_or(now, |a| a.min(now));
        let mut level = policy.first_level;
        let mut from = self.raised_at;
        let mut steps = Vec::new();
        loop {
            let deadline = calendar.add_working_hours(from, policy.ack_working_hours);
            steps.push(EscalationStep {
                level,
                from,
                deadline,
            });
            match level.next() {
                Some(next) if until > deadline => {
                    level = next;
                    from = deadline;
                }
                _ => return steps,
            }
        }
    }

    /// Whether it waits for acknowledgement past the current level's deadline at `now`.
    pub fn overdue(&self, now: DateTime<Utc>, calendar: &WorkingCalendar) -> bool {
        self.status == EscalationStatus::Raised
            && self
                .steps(now, calendar)
                .last()
                .is_some_and(|s| now > s.deadline)
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ReferralStep {
    pub status: ReferralStatus,
    pub at: DateTime<Utc>,
    pub by: String,
    pub note: String,
    pub on: Option<NaiveDate>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Referral {
    pub referral_id: Uuid,
    pub case_id: Uuid,
    pub patient_id: String,
    pub service: ServiceType,
    pub sent_at: DateTime<Utc>,
    pub status: ReferralStatus,
    pub history: Vec<ReferralStep>,
    /// Accept or decline by then.
    pub response_deadline: DateTime<Utc>,
    /// Once accepted: the service should have started by then.
    pub start_deadline: Option<DateTime<Utc>>,
    /// Sent to a directory service through the exchange: the partner answers.
    pub partner: Option<crate::events::PartnerRef>,
}

impl Referral {
    /// Why it is unresolved past a deadline at `now`, if it is.
    pub fn overdue(&self, now: DateTime<Utc>) -> Option<String> {
        match self.status {
            ReferralStatus::Sent if now > self.response_deadline => Some(format!(
                "no answer from {} since {}; due by {}",
                self.partner
                    .as_ref()
                    .map_or(self.service.as_str(), |p| p.organization_name.as_str()),
                self.sent_at.format("%Y-%m-%d"),
                self.response_deadline.format("%Y-%m-%d %H:%M")
            )),
            ReferralStatus::Accepted
                if self.start_deadline.is_some_and(|deadline| now > deadline) =>
            {
                Some(format!(
                    "accepted but not started; due by {}",
                    self.start_deadline
                        .expect("checked above")
                        .format("%Y-%m-%d %H:%M")
                ))
            }
            _ => None,
        }
    }

    fn is_awaiting(&self) -> bool {
        matches!(self.status, ReferralStatus::Sent | ReferralStatus::Accepted)
    }
}

/// Everything the log says now.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct OpsState {
    pub cases: BTreeMap<Uuid, Case>,
    pub callbacks: BTreeMap<Uuid, Callback>,
    pub escalations: BTreeMap<Uuid, Escalation>,
    pub referrals: BTreeMap<Uuid, Referral>,
    pub alerts: BTreeMap<Uuid, Alert>,
    pub care_plans: BTreeMap<Uuid, crate::careplan::CarePlan>,
    /// (person, segment) -> their open case.
    open_cases: BTreeMap<(String, String), Uuid>,
    /// Attempt ids seen, and each person's attempt times (the over-contact guard reads them).
    attempt_ids: BTreeSet<Uuid>,
    pub contacts: BTreeMap<String, Vec<DateTime<Utc>>>,
}

impl OpsState {
    /// Folds a log from the start. An event the machines refuse is an error naming it: a log
    /// written through [`OpsState::apply`] never holds one.
    pub fn from_log<'a>(
        log: impl IntoIterator<Item = &'a Recorded>,
        policy: &Policy,
    ) -> Result<OpsState, OpsError> {
        let mut state = OpsState::default();
        for recorded in log {
            state.apply(recorded, policy)?;
        }
        Ok(state)
    }

    /// The open case of a person in a segment.
    pub fn open_case(&self, patient_id: &str, segment_id: &str) -> Option<&Case> {
        self.open_cases
            .get(&(patient_id.to_owned(), segment_id.to_owned()))
            .and_then(|id| self.cases.get(id))
    }

    /// The person's shared care plan, if they have one.
    pub fn care_plan_of(&self, patient_id: &str) -> Option<&crate::careplan::CarePlan> {
        self.care_plans
            .values()
            .find(|p| p.patient_id == patient_id)
    }

    /// How many cases the person has had in the segment (open or closed): the episode a new
    /// case would open is the next one.
    pub fn episodes(&self, patient_id: &str, segment_id: &str) -> u32 {
        self.cases
            .values()
            .filter(|c| c.patient_id == patient_id && c.segment_id == segment_id)
            .count() as u32
    }

    /// Outbound contacts of a person in the 7 days up to `at`.
    pub fn contacts_in_week(&self, patient_id: &str, at: DateTime<Utc>) -> u32 {
        let since = at - chrono::Duration::days(7);
        self.contacts.get(patient_id).map_or(0, |times| {
            times.iter().filter(|t| **t > since && **t <= at).count() as u32
        })
    }

    fn case(&self, case_id: Uuid) -> Result<&Case, OpsError> {
        self.cases.get(&case_id).ok_or(OpsError::NotFound {
            what: "case",
            id: case_id.to_string(),
        })
    }

    fn open(&self, case_id: Uuid, action: &'static str) -> Result<&Case, OpsError> {
        let case = self.case(case_id)?;
        if case.status == CaseStatus::Closed {
            return Err(OpsError::Transition {
                what: "case",
                id: case_id.to_string(),
                from: CaseStatus::Closed.to_string(),
                action,
                why: "the case is closed".into(),
            });
        }
        Ok(case)
    }

    /// Checks `recorded` against the state and applies it; when refused, nothing changes.
    pub fn apply(&mut self, recorded: &Recorded, policy: &Policy) -> Result<(), OpsError> {
        self.check(recorded, policy)?;
        self.apply_checked(recorded, policy);
        Ok(())
    }

    /// Why `recorded` cannot be applied, if it cannot.
    pub fn check(&self, recorded: &Recorded, policy: &Policy) -> Result<(), OpsError> {
        let transition = |what: &'static str, id: Uuid, from: String, action, why: String| {
            Err(OpsError::Transition {
                what,
                id: id.to_string(),
                from,
                action,
                why,
            })
        };
        let case_id = recorded.event.case_id();
        if !matches!(recorded.event, OpEvent::CaseOpened { .. }) && !recorded.event.is_alert() {
            let case = self.case(case_id)?;
            if case.patient_id != recorded.patient_id {
                return Err(OpsError::Invalid(format!(
                    "case {case_id} is not about the person the event names"
                )));
            }
        }
        match &recorded.event {
            OpEvent::CarePlan {
                plan_id, change, ..
            } => crate::careplan::check(self, recorded, *plan_id, change)?,
            OpEvent::AlertRaised { alert_id, .. } => {
                if self.alerts.contains_key(alert_id) {
                    return Err(OpsError::Invalid(format!(
                        "alert {alert_id} already exists"
                    )));
                }
            }
            OpEvent::AlertAcknowledged { alert_id, .. } => {
                let alert = self.alerts.get(alert_id).ok_or(OpsError::NotFound {
                    what: "alert",
                    id: alert_id.to_string(),
                })?;
                if alert.patient_id != recorded.patient_id {
                    return Err(OpsError::Invalid(format!(
                        "alert {alert_id} is not about the person the event names"
                    )));
                }
                if let Some(by) = &alert.acknowledged_by {
                    return transition(
                        "alert",
                        *alert_id,
                        "acknowledged".to_owned(),
                        "acknowledge",
                        format!("already acknowledged by {by}"),
                    );
                }
            }
            OpEvent::CaseOpened { segment_id, .. } => {
                if self.cases.contains_key(&case_id) {
                    return Err(OpsError::Invalid(format!("case {case_id} already exists")));
                }
                if let Some(open) = self.open_case(&recorded.patient_id, segment_id) {
                    return Err(OpsError::DuplicateOpenCase {
                        segment_id: segment_id.clone(),
                        case_id: open.case_id.to_string(),
                    });
                }
            }
            OpEvent::CaseClaimed { .. } => {
                let case = self.open(case_id, "claim")?;
                if let Some(owner) = &case.owner {
                    return transition(
                        "case",
                        case_id,
                        case.status.to_string(),
                        "claim",
                        format!("already claimed by {owner}"),
                    );
                }
            }
            OpEvent::CaseAssigned { to, .. } => {
                self.open(case_id, "assign")?;
                if to.trim().is_empty() {
                    return Err(OpsError::Invalid(
                        "assign to whom? the name is empty".into(),
                    ));
                }
            }
            OpEvent::AttemptRecorded(attempt) => {
                let case = self.open(case_id, "record an attempt")?;
                if case.owner.is_none() {
                    return transition(
                        "case",
                        case_id,
                        case.status.to_string(),
                        "record an attempt",
                        "nobody owns it yet: claim or assign it first".into(),
                    );
                }
                if self.attempt_ids.contains(&attempt.attempt_id) {
                    return Err(OpsError::Invalid(format!(
                        "attempt {} is already recorded",
                        attempt.attempt_id
                    )));
                }
                check_attempt(attempt)?;
            }
            OpEvent::CallbackRequested { callback_id, .. } => {
                self.open(case_id, "request a callback")?;
                new_id(&self.callbacks, callback_id, "callback")?;
            }
            OpEvent::CallbackDocumented {
                callback_id,
                clinical_outcome,
                next_step,
                decision_support_reviewed,
                ..
            } => {
                self.open(case_id, "document a callback")?;
                let callback = self.callbacks.get(callback_id).ok_or(OpsError::NotFound {
                    what: "callback",
                    id: callback_id.to_string(),
                })?;
                if callback.case_id != case_id {
                    return Err(OpsError::Invalid(format!(
                        "callback {callback_id} belongs to another case"
                    )));
                }
                if callback.status != CallbackStatus::Waiting {
                    return transition(
                        "callback",
                        *callback_id,
                        callback.status.to_string(),
                        "document",
                        "it is already documented".into(),
                    );
                }
                if clinical_outcome.trim().is_empty() || next_step.trim().is_empty() {
                    return Err(OpsError::Invalid(
                        "a callback needs its clinical outcome and the next step".into(),
                    ));
                }
                if !decision_support_reviewed {
                    return Err(OpsError::Invalid(
                        "sign that the decision-support output was reviewed".into(),
                    ));
                }
            }
            OpEvent::EscalationRaised { escalation_id, .. } => {
                self.open(case_id, "escalate")?;
                new_id(&self.escalations, escalation_id, "escalation")?;
            }
            OpEvent::EscalationAcknowledged { escalation_id, .. }
            | OpEvent::EscalationResolved { escalation_id, .. } => {
                let acknowledging =
                    matches!(recorded.event, OpEvent::EscalationAcknowledged { .. });
                let action = if acknowledging {
                    "acknowledge"
                } else {
                    "resolve"
                };
                self.open(case_id, action)?;
                let escalation = self
                    .escalations
                    .get(escalation_id)
                    .ok_or(OpsError::NotFound {
                        what: "escalation",
                        id: escalation_id.to_string(),
                    })?;
                if escalation.case_id != case_id {
                    return Err(OpsError::Invalid(format!(
                        "escalation {escalation_id} belongs to another case"
                    )));
                }
                let expected = if acknowledging {
                    EscalationStatus::Raised
                } else {
                    EscalationStatus::Acknowledged
                };
                if escalation.status != expected {
                    let why = match escalation.status {
                        EscalationStatus::Raised => "acknowledge it first",
                        EscalationStatus::Acknowledged => "it is already acknowledged",
                        EscalationStatus::Resolved => "it is resolved",
                    };
                    return transition(
                        "escalation",
                        *escalation_id,
                        escalation.status.to_string(),
                        action,
                        why.into(),
                    );
                }
            }
            OpEvent::ReferralSent { referral_id, .. } => {
                self.open(case_id, "refer")?;
                new_id(&self.referrals, referral_id, "referral")?;
            }
            OpEvent::ReferralUpdated {
                referral_id,
                status,
                note,
                on,
                ..
            } => {
                let referral = self.referrals.get(referral_id).ok_or(OpsError::NotFound {
                    what: "referral",
                    id: referral_id.to_string(),
                })?;
                if referral.case_id != case_id {
                    return Err(OpsError::Invalid(format!(
                        "referral {referral_id} belongs to another case"
                    )));
                }
                use ReferralStatus::*;
                let allowed = matches!(
                    (referral.status, status),
                    (Sent, Accepted)
                        | (Sent, Declined)
                        | (Accepted, Started)
                        | (Started, Completed)
                );
                if !allowed {
                    return transition(
                        "referral",
                        *referral_id,
                        referral.status.to_string(),
                        status.as_str(),
                        format!(
                            "a referral goes sent → accepted or declined → started → completed, not {} → {}",
                            referral.status, status
                        ),
                    );
                }
                if *status == Declined && note.trim().is_empty() {
                    return Err(OpsError::Invalid(
                        "a declined referral needs the reason".into(),
                    ));
                }
                if *status == Started && on.is_none() {
                    return Err(OpsError::Invalid(
                        "a started referral needs the date the service started".into(),
                    ));
                }
                if *status == Completed && note.trim().is_empty() {
                    return Err(OpsError::Invalid(
                        "a completed referral needs its outcome".into(),
                    ));
                }
            }
            OpEvent::CaseClosed { reason, .. } => {
                let case = self.open(case_id, "close")?;
                let from = case.status.to_string();
                if let Some(waiting) = case
                    .callbacks
                    .iter()
                    .find(|c| self.callbacks[c].status == CallbackStatus::Waiting)
                {
                    return transition(
                        "case",
                        case_id,
                        from,
                        "close",
                        format!("callback {waiting} is still waiting for a clinician"),
                    );
                }
                if let Some(open) = case
                    .escalations
                    .iter()
                    .find(|e| self.escalations[e].status != EscalationStatus::Resolved)
                {
                    return transition(
                        "case",
                        case_id,
                        from,
                        "close",
                        format!("escalation {open} is not resolved"),
                    );
                }
                if let Some(open) = case
                    .referrals
                    .iter()
                    .find(|r| self.referrals[r].status == ReferralStatus::Sent)
                {
                    return transition(
                        "case",
                        case_id,
                        from,
                        "close",
                        format!("referral {open} is still waiting for the service's answer"),
                    );
                }
                if *reason == CloseReason::Unreachable && case.attempts < policy.unreachable_after {
                    return transition(
                        "case",
                        case_id,
                        from,
                        "close",
                        format!(
                            "\"unreachable\" needs {} attempts; {} so far",
                            policy.unreachable_after, case.attempts
                        ),
                    );
                }
            }
        }
        Ok(())
    }

    fn apply_checked(&mut self, r: &Recorded, policy: &Policy) {
        let case_id = r.event.case_id();
        match &r.event {
            OpEvent::CarePlan {
                plan_id, change, ..
            } => crate::careplan::apply(self, r, *plan_id, case_id, change),
            OpEvent::AlertRaised {
                alert_id,
                kind,
                source,
                occurred,
                due,
                assignee,
                evidence,
            } => {
                self.alerts.insert(
                    *alert_id,
                    Alert {
                        alert_id: *alert_id,
                        kind: kind.clone(),
                        patient_id: r.patient_id.clone(),
                        source: source.clone(),
                        occurred: *occurred,
                        raised_at: r.at,
                        raised_by: r.actor.clone(),
                        due: *due,
                        assignee: assignee.clone(),
                        evidence: evidence.clone(),
                        acknowledged_at: None,
                        acknowledged_by: None,
                        note: None,
                    },
                );
            }
            OpEvent::AlertAcknowledged { alert_id, note } => {
                let a = self.alerts.get_mut(alert_id).expect("checked");
                a.acknowledged_at = Some(r.at);
                a.acknowledged_by = Some(r.actor.clone());
                a.note = note.clone();
            }
            OpEvent::CaseOpened {
                segment_id,
                priority,
                due,
                summary,
                ..
            } => {
                self.open_cases
                    .insert((r.patient_id.clone(), segment_id.clone()), case_id);
                self.cases.insert(
                    case_id,
                    Case {
                        case_id,
                        patient_id: r.patient_id.clone(),
                        segment_id: segment_id.clone(),
                        priority: *priority,
                        summary: summary.clone(),
                        opened_at: r.at,
                        due: *due,
                        status: CaseStatus::Open,
                        owner: None,
                        attempts: 0,
                        reached: 0,
                        last_attempt_at: None,
                        last_channel: None,
                        last_outcome: None,
                        follow_up_on: None,
                        callbacks: Vec::new(),
                        escalations: Vec::new(),
                        referrals: Vec::new(),
                        closed_reason: None,
                        closed_at: None,
                    },
                );
            }
            OpEvent::CaseClaimed { .. } => {
                self.case_mut(case_id).owner = Some(r.actor.clone());
            }
            OpEvent::CaseAssigned { to, .. } => {
                self.case_mut(case_id).owner = Some(to.clone());
            }
            OpEvent::AttemptRecorded(attempt) => {
                self.attempt_ids.insert(attempt.attempt_id);
                self.contacts
                    .entry(r.patient_id.clone())
                    .or_default()
                    .push(r.at);
                let case = self.case_mut(case_id);
                case.attempts += 1;
                case.reached += attempt.reached as u32;
                case.last_attempt_at = Some(r.at);
                case.last_channel = Some(attempt.channel);
                case.last_outcome = Some(attempt.outcome);
                if let crate::events::NextAction::FollowUp { on } = attempt.next {
                    case.follow_up_on = Some(on);
                    case.due = policy.calendar.end_of_working_day(
                        on.and_hms_opt(12, 0, 0).expect("noon exists").and_utc(),
                    );
                }
            }
            OpEvent::CallbackRequested {
                callback_id,
                reason,
                due,
                ..
            } => {
                self.case_mut(case_id).callbacks.push(*callback_id);
                self.callbacks.insert(
                    *callback_id,
                    Callback {
                        callback_id: *callback_id,
                        case_id,
                        patient_id: r.patient_id.clone(),
                        reason: reason.clone(),
                        requested_at: r.at,
                        requested_by: r.actor.clone(),
                        due: *due,
                        status: CallbackStatus::Waiting,
                        documented_at: None,
                        documented_by: None,
                        clinical_outcome: None,
                        next_step: None,
                    },
                );
            }
            OpEvent::CallbackDocumented {
                callback_id,
                clinical_outcome,
                next_step,
                ..
            } => {
                let callback = self.callbacks.get_mut(callback_id).expect("checked");
                callback.status = CallbackStatus::Documented;
                callback.documented_at = Some(r.at);
                callback.documented_by = Some(r.actor.clone());
                callback.clinical_outcome = Some(clinical_outcome.clone());
                callback.next_step = Some(next_step.clone());
            }
            OpEvent::EscalationRaised {
                escalation_id,
                kind,
                note,
                ..
            } => {
                self.case_mut(case_id).escalations.push(*escalation_id);
                self.escalations.insert(
                    *escalation_id,
                    Escalation {
                        escalation_id: *escalation_id,
                        case_id,
                        patient_id: r.patient_id.clone(),
                        kind: *kind,
                        note: note.clone(),
                        raised_at: r.at,
                        raised_by: r.actor.clone(),
                        status: EscalationStatus::Raised,
                        acknowledged_at: None,
                        acknowledged_by: None,
                        resolved_at: None,
                    },
                );
            }
            OpEvent::EscalationAcknowledged { escalation_id, .. } => {
                let e = self.escalations.get_mut(escalation_id).expect("checked");
                e.status = EscalationStatus::Acknowledged;
                e.acknowledged_at = Some(r.at);
                e.acknowledged_by = Some(r.actor.clone());
            }
            OpEvent::EscalationResolved { escalation_id, .. } => {
                let e = self.escalations.get_mut(escalation_id).expect("checked");
                e.status = EscalationStatus::Resolved;
                e.resolved_at = Some(r.at);
            }
            OpEvent::ReferralSent {
                referral_id,
                service,
                note,
                partner,
                ..
            } => {
                let respond = partner
                    .as_ref()
                    .map_or(service.response_working_days(), |p| {
                        p.respond_within_working_days
                    });
                self.case_mut(case_id).referrals.push(*referral_id);
                self.referrals.insert(
                    *referral_id,
                    Referral {
                        referral_id: *referral_id,
                        case_id,
                        patient_id: r.patient_id.clone(),
                        service: *service,
                        sent_at: r.at,
                        status: ReferralStatus::Sent,
                        history: vec![ReferralStep {
                            status: ReferralStatus::Sent,
                            at: r.at,
                            by: r.actor.clone(),
                            note: note.clone(),
                            on: None,
                        }],
                        response_deadline: policy.calendar.add_working_days(r.at, respond),
                        start_deadline: None,
                        partner: partner.clone(),
                    },
                );
            }
            OpEvent::ReferralUpdated {
                referral_id,
                status,
                note,
                on,
                ..
            } => {
                let referral = self.referrals.get_mut(referral_id).expect("checked");
                referral.status = *status;
                if *status == ReferralStatus::Accepted {
                    let start = referral
                        .partner
                        .as_ref()
                        .map_or(referral.service.start_working_days(), |p| {
                            p.start_within_working_days
                        });
                    referral.start_deadline = Some(policy.calendar.add_working_days(r.at, start));
                }
                referral.history.push(ReferralStep {
                    status: *status,
                    at: r.at,
                    by: r.actor.clone(),
                    note: note.clone(),
                    on: *on,
                });
            }
            OpEvent::CaseClosed { reason, .. } => {
                let case = self.case_mut(case_id);
                case.closed_reason = Some(*reason);
                case.closed_at = Some(r.at);
                let key = (case.patient_id.clone(), case.segment_id.clone());
                self.open_cases.remove(&key);
            }
        }
        if !r.event.is_alert() {
            self.refresh_status(case_id);
        }
    }

    fn case_mut(&mut self, case_id: Uuid) -> &mut Case {
        self.cases.get_mut(&case_id).expect("checked")
    }

    /// A case's status follows from what is pending on it: closed; else a waiting callback;
    /// else an unresolved escalation; else a referral in flight; else in progress once
    /// attempted; else assigned once owned; else open.
    fn refresh_status(&mut self, case_id: Uuid) {
        let case = &self.cases[&case_id];
        let status = if case.closed_reason.is_some() {
            CaseStatus::Closed
        } else if case
            .callbacks
            .iter()
            .any(|c| self.callbacks[c].status == CallbackStatus::Waiting)
        {
            CaseStatus::AwaitingCallback
        } else if case
            .escalations
            .iter()
            .any(|e| self.escalations[e].status != EscalationStatus::Resolved)
        {
            CaseStatus::Escalated
        } else if case
            .referrals
            .iter()
            .any(|r| self.referrals[r].is_awaiting())
        {
            CaseStatus::Referred
        } else if case.attempts > 0 {
            CaseStatus::InProgress
        } else if case.owner.is_some() {
            CaseStatus::Assigned
        } else {
            CaseStatus::Open
        };
        self.case_mut(case_id).status = status;
    }
}

/// Refuses a creating event whose id is already taken.
fn new_id<T>(existing: &BTreeMap<Uuid, T>, id: &Uuid, what: &str) -> Result<(), OpsError> {
    if existing.contains_key(id) {
        return Err(OpsError::Invalid(format!("{what} {id} already exists")));
    }
    Ok(())
}

/// An attempt must be consistent in itself: not reached means unreachable or a wrong
/// number, and reached means neither.
fn check_attempt(attempt: &Attempt) -> Result<(), OpsError> {
    let not_reached_outcome =
        matches!(attempt.outcome, Outcome::Unreachable | Outcome::WrongNumber);
    if attempt.reached == not_reached_outcome {
        return Err(OpsError::Invalid(if attempt.reached {
            format!(
                "the person was reached, so the outcome cannot be {}",
                attempt.outcome
            )
        } else {
            format!(
                "the person was not reached, so the outcome is unreachable or wrong_number, not {}",
                attempt.outcome
            )
        }));
    }
    if !attempt.reached && !attempt.answers.is_empty() {
        return Err(OpsError::Invalid(
            "script answers need the person to have been reached".into(),
        ));
    }
    Ok(())
}
