//! Commands to events: what each operation decides, as pure functions of the current state,
//! the policy, who asks and when. No store, no clock, no randomness of their own: ids come
//! from the caller's `ids` (UUIDv7 from the caller's time), and the caller commits the events
//! with their audit entry. The application API keeps only the boundary around these: the
//! session and its role check, the lookups that need the store (segment → script, the
//! person's language), and the commit.
//!
//! Each function either refuses with an [`OpsError`] that names what and which id (nothing
//! changes), or gives a [`Decision`]: the events in order, the id of what the command created
//! (callback, escalation, referral), and the audit action that records it.

use careloop_scripts::{Answers, Script};
use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use crate::events::{Attempt, NextAction, OpEvent, PartnerRef};
use crate::guards;
use crate::model::{
    CaseStatus, Channel, CloseReason, EscalationKind, Outcome, ReferralStatus, Role, ServiceType,
};
use crate::state::{OpsState, Policy};
use crate::OpsError;

/// Who asks, and when (the caller's clock).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Who<'a> {
    pub user: &'a str,
    pub role: Role,
    pub at: DateTime<Utc>,
}

/// What a command decided: events to commit in one transaction, in order.
#[derive(Clone, Debug, PartialEq)]
pub struct Decision {
    /// The person the events are about.
    pub patient_id: String,
    pub case_id: Uuid,
    pub events: Vec<OpEvent>,
    /// The callback, escalation or referral the command made, if any.
    pub created: Option<Uuid>,
    /// The audit trail's name for what was done (`attempt.record`, `case.claim`, …).
    pub audit_action: &'static str,
}

/// What a coordinator documents about one attempt.
#[derive(Clone, Debug, PartialEq)]
pub struct AttemptInput {
    pub case_id: Uuid,
    pub channel: Channel,
    pub reached: bool,
    pub message_id: Option<String>,
    pub answers: Answers,
    pub outcome: Outcome,
    pub next: NextAction,
    pub contact_limit_override: Option<String>,
    pub note: Option<String>,
}

fn case_of(state: &OpsState, case_id: Uuid) -> Result<&crate::Case, OpsError> {
    state.cases.get(&case_id).ok_or_else(|| OpsError::NotFound {
        what: "case",
        id: case_id.to_string(),
    })
}

fn decision(
    patient_id: &str,
    case_id: Uuid,
    events: Vec<OpEvent>,
    created: Option<Uuid>,
    audit_action: &'static str,
) -> Decision {
    Decision {
        patient_id: patient_id.to_owned(),
        case_id,
        events,
        created,
        audit_action,
    }
}

/// Refuses a new case for someone whose open caseload is at the weekly capacity.
pub fn check_caseload(state: &OpsState, policy: &Policy, user: &str) -> Result<(), OpsError> {
    let open = state
        .cases
        .values()
        .filter(|c| c.status != CaseStatus::Closed && c.owner.as_deref() == Some(user))
        .count() as u32;
    let limit = policy.caseload_per_coordinator;
    if open >= limit {
        return Err(OpsError::Refused(format!(
            "{user} already has {open} open cases (weekly capacity {limit})"
        )));
    }
    Ok(())
}

/// A coordinator takes an unassigned case, within their caseload.
pub fn claim(
    state: &OpsState,
    policy: &Policy,
    who: Who<'_>,
    case_id: Uuid,
) -> Result<Decision, OpsError> {
    let case = case_of(state, case_id)?;
    check_caseload(state, policy, who.user)?;
    let events = vec![OpEvent::CaseClaimed { case_id }];
    Ok(decision(
        &case.patient_id,
        case_id,
        events,
        None,
        "case.claim",
    ))
}

/// A supervisor assigns or reassigns a case, within the assignee's caseload.
pub fn assign(
    state: &OpsState,
    policy: &Policy,
    case_id: Uuid,
    to: &str,
) -> Result<Decision, OpsError> {
    let case = case_of(state, case_id)?;
    check_caseload(state, policy, to)?;
    let events = vec![OpEvent::CaseAssigned {
        case_id,
        to: to.to_owned(),
    }];
    Ok(decision(
        &case.patient_id,
        case_id,
        events,
        None,
        "case.assign",
    ))
}

/// Closes a case with a reason.
pub fn close(
    state: &OpsState,
    case_id: Uuid,
    reason: CloseReason,
    note: Option<String>,
) -> Result<Decision, OpsError> {
    let case = case_of(state, case_id)?;
    let events = vec![OpEvent::CaseClosed {
        case_id,
        reason,
        note,
    }];
    Ok(decision(
        &case.patient_id,
        case_id,
        events,
        None,
        "case.close",
    ))
}

/// Documents an attempt: only the case's owner (or a supervisor) may; the channel rule, the
/// over-contact guard and (when the person was reached) the script's answers are enforced;
/// the script is given in `preferred_language` when it has it. The next action's own event
/// lands with it: a callback due the same working day for emerging deterioration, else the
/// next; an escalation; a referral; or the closing.
pub fn attempt(
    state: &OpsState,
    policy: &Policy,
    who: Who<'_>,
    input: AttemptInput,
    script: &Script,
    preferred_language: Option<&str>,
    ids: &mut dyn FnMut() -> Uuid,
) -> Result<Decision, OpsError> {
    let case_id = input.case_id;
    let case = case_of(state, case_id)?;
    if who.role != Role::Supervisor && case.owner.as_deref() != Some(who.user) {
        return Err(OpsError::Forbidden(format!(
            "case {case_id} is {}; only its owner or a supervisor documents attempts on it",
            case.owner
                .as_deref()
                .map_or("unassigned".to_owned(), |o| format!("owned by {o}"))
        )));
    }
    let message = match &input.message_id {
        Some(id) => Some(script.message(id).ok_or_else(|| {
            OpsError::Invalid(format!("script {} has no message {id:?}", script.id))
        })?),
        None => None,
    };
    guards::check_channel(input.channel, message)?;
    let language = guards::script_language(script, preferred_language);
    let in_week = state.contacts_in_week(&case.patient_id, who.at);
    guards::check_contact_limit(
        in_week,
        policy.max_contacts_per_week,
        who.role,
        input.contact_limit_override.as_deref(),
    )?;
    if input.reached {
        script
            .validate_answers(&input.answers)
            .map_err(|e| OpsError::Invalid(format!("script {}: {e}", script.id)))?;
    }
    let audit_action =
        if input.contact_limit_override.is_some() && in_week >= policy.max_contacts_per_week {
            "attempt.record_with_contact_limit_override"
        } else {
            "attempt.record"
        };
    let calendar = &policy.calendar;
    let attempt_id = ids();
    let follow_on = ids();
    let (follow, created) = match &input.next {
        NextAction::Close { reason } => (
            Some(OpEvent::CaseClosed {
                case_id,
                reason: *reason,
                note: input.note.clone(),
            }),
            None,
        ),
        NextAction::FollowUp { .. } => (None, None),
        NextAction::ClinicianCallback { reason } => {
            // Emerging deterioration: the same working day; otherwise the next one.
            let due = if input.outcome == Outcome::EmergingDeterioration {
                calendar.end_of_working_day(who.at)
            } else {
                calendar.add_working_days(who.at, 1)
            };
            let event = OpEvent::CallbackRequested {
                callback_id: follow_on,
                case_id,
                reason: reason.clone(),
                due,
            };
            (Some(event), Some(follow_on))
        }
        NextAction::Escalate { kind, note } => {
            let event = OpEvent::EscalationRaised {
                escalation_id: follow_on,
                case_id,
                kind: *kind,
                note: note.clone(),
            };
            (Some(event), Some(follow_on))
        }
        NextAction::Refer { service, note } => {
            let event = OpEvent::ReferralSent {
                referral_id: follow_on,
                case_id,
                service: *service,
                note: note.clone(),
                partner: None,
            };
            (Some(event), Some(follow_on))
        }
    };
    let mut events = vec![OpEvent::AttemptRecorded(Attempt {
        attempt_id,
        case_id,
        channel: input.channel,
        reached: input.reached,
        script_id: script.id.clone(),
        script_version: script.version,
        language,
        message_id: input.message_id,
        answers: input.answers,
        outcome: input.outcome,
        next: input.next,
        contact_limit_override: input.contact_limit_override,
        note: input.note,
    })];
    events.extend(follow);
    Ok(decision(
        &case.patient_id,
        case_id,
        events,
        created,
        audit_action,
    ))
}

/// A clinician documents a callback: the clinical outcome, the next step, and the sign-off
/// that the decision-support output was reviewed.
pub fn document_callback(
    state: &OpsState,
    callback_id: Uuid,
    clinical_outcome: &str,
    next_step: &str,
    decision_support_reviewed: bool,
) -> Result<Decision, OpsError> {
    let callback = state
        .callbacks
        .get(&callback_id)
        .ok_or_else(|| OpsError::NotFound {
            what: "callback",
            id: callback_id.to_string(),
        })?;
    let case_id = callback.case_id;
    let events = vec![OpEvent::CallbackDocumented {
        callback_id,
        case_id,
        clinical_outcome: clinical_outcome.to_owned(),
        next_step: next_step.to_owned(),
        decision_support_reviewed,
    }];
    Ok(decision(
        &callback.patient_id,
        case_id,
        events,
        None,
        "callback.document",
    ))
}

/// Raises an escalation on a case (outside an attempt).
pub fn raise_escalation(
    state: &OpsState,
    case_id: Uuid,
    kind: EscalationKind,
    note: &str,
    ids: &mut dyn FnMut() -> Uuid,
) -> Result<Decision, OpsError> {
    let case = case_of(state, case_id)?;
    let escalation_id = ids();
    let events = vec![OpEvent::EscalationRaised {
        escalation_id,
        case_id,
        kind,
        note: note.to_owned(),
    }];
    Ok(decision(
        &case.patient_id,
        case_id,
        events,
        Some(escalation_id),
        "escalation.raise",
    ))
}

/// Acknowledges (or, with `resolve`, resolves) an escalation. Acknowledging is for the role of
/// the level that holds it now (a supervisor may always).
pub fn escalation_step(
    state: &OpsState,
    policy: &Policy,
    who: Who<'_>,
    escalation_id: Uuid,
    resolve: bool,
    note: &str,
) -> Result<Decision, OpsError> {
    let escalation = state
        .escalations
        .get(&escalation_id)
        .ok_or_else(|| OpsError::NotFound {
            what: "escalation",
            id: escalation_id.to_string(),
        })?;
    let case_id = escalation.case_id;
    let note = note.to_owned();
    let (event, audit_action) = if resolve {
        let event = OpEvent::EscalationResolved {
            escalation_id,
            case_id,
            note,
        };
        (event, "escalation.resolve")
    } else {
        let level = escalation
            .steps(who.at, &policy.calendar)
            .last()
            .map(|s| s.level)
            .unwrap_or(escalation.kind.policy().first_level);
        if who.role != Role::Supervisor && who.role != level.role() {
            return Err(OpsError::Refused(format!(
                "escalation {escalation_id} is with the {level} now; a {} may not acknowledge it",
                who.role
            )));
        }
        let event = OpEvent::EscalationAcknowledged {
            escalation_id,
            case_id,
            note,
        };
        (event, "escalation.acknowledge")
    };
    Ok(decision(
        &escalation.patient_id,
        case_id,
        vec![event],
        None,
        audit_action,
    ))
}

/// Sends a referral from a case (outside an attempt).
pub fn send_referral(
    state: &OpsState,
    case_id: Uuid,
    service: ServiceType,
    note: &str,
    partner: Option<PartnerRef>,
    ids: &mut dyn FnMut() -> Uuid,
) -> Result<Decision, OpsError> {
    let case = case_of(state, case_id)?;
    if let Some(p) = &partner {
        if p.consent.trim().is_empty() {
            return Err(OpsError::Invalid(format!(
                "a referral to {} needs the person's consent to share it, as recorded",
                p.organization_name
            )));
        }
    }
    let referral_id = ids();
    let events = vec![OpEvent::ReferralSent {
        referral_id,
        case_id,
        service,
        note: note.to_owned(),
        partner,
    }];
    Ok(decision(
        &case.patient_id,
        case_id,
        events,
        Some(referral_id),
        "referral.send",
    ))
}

/// Records the service's answer, the start or the outcome of a referral.
pub fn update_referral(
    state: &OpsState,
    referral_id: Uuid,
    status: ReferralStatus,
    note: &str,
    on: Option<NaiveDate>,
) -> Result<Decision, OpsError> {
    let referral = state
        .referrals
        .get(&referral_id)
        .ok_or_else(|| OpsError::NotFound {
            what: "referral",
            id: referral_id.to_string(),
        })?;
    if let Some(p) = &referral.partner {
        return Err(OpsError::Invalid(format!(
            "referral {referral_id} went to {} through the exchange: the partner answers it itself",
            p.organization_name
        )));
    }
    let case_id = referral.case_id;
    let events = vec![OpEvent::ReferralUpdated {
        referral_id,
        case_id,
        status,
        note: note.to_owned(),
        on,
    }];
    Ok(decision(
        &referral.patient_id,
        case_id,
        events,
        None,
        "referral.update",
    ))
}

/// One segment's worklist from a segmentation run: who, their priority and the line that
/// says why.
#[derive(Clone, Debug, PartialEq)]
pub struct SegmentWorklist {
    pub segment_id: String,
    /// The first contact is due within this many working days of the run.
    pub contact_within_working_days: u32,
    /// (person, priority, summary), in worklist order.
    pub rows: Vec<(String, i32, String)>,
}

/// Cases to open from a segmentation run: one per worklist member with no open case in that
/// segment, due by the segment's contact deadline counted in working days from `at`.
#[derive(Clone, Debug, PartialEq)]
pub struct Openings {
    /// (person, `CaseOpened`) in worklist order.
    pub events: Vec<(String, OpEvent)>,
    /// Worklist members who already had an open case in the segment.
    pub already_open: u32,
}

/// Decides which cases a run opens (see [`Openings`]). Each case's id is
/// [`crate::case_id`] of (team, person, segment, next episode): two workstations (or a
/// workstation and the server) opening the same case make one case.
pub fn open_cases(
    state: &OpsState,
    policy: &Policy,
    at: DateTime<Utc>,
    team: &str,
    worklists: &[SegmentWorklist],
) -> Openings {
    let mut events = Vec::new();
    let mut already_open = 0;
    for worklist in worklists {
        let due = policy
            .calendar
            .add_working_days(at, worklist.contact_within_working_days);
        for (patient_id, priority, summary) in &worklist.rows {
            if state.open_case(patient_id, &worklist.segment_id).is_some() {
                already_open += 1;
                continue;
            }
            events.push((
                patient_id.clone(),
                OpEvent::CaseOpened {
                    case_id: crate::case_id(
                        team,
                        patient_id,
                        &worklist.segment_id,
                        state.episodes(patient_id, &worklist.segment_id) + 1,
                    ),
                    segment_id: worklist.segment_id.clone(),
                    priority: *priority,
                    due,
                    summary: summary.clone(),
                },
            ));
        }
    }
    Openings {
        events,
        already_open,
    }
}
