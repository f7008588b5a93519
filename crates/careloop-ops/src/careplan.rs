//! Shared care plans: for a person (opened from one of their cases), domains (health,
//! behavioural health, housing, …: `schema/care-plan-domains.json`) each with an owner (a
//! user, or a partner organisation as `partner:ID`) and a goal; actions with an owner, a due
//! date and a status; time-bound monitoring ("contact every N days until DATE", which puts the
//! person on the owner's list on that rhythm and ends by itself); multidisciplinary case
//! reviews, whose decisions become actions. Every change is one event
//! ([`crate::OpEvent::CarePlan`]), so plans sync, are audited and show as a timeline.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::decide::Decision;
use crate::events::{OpEvent, Recorded};
use crate::{OpsError, OpsState};

/// The longest goal, action, note or decision text.
pub const MAX_TEXT: usize = 2_000;

/// A domain of a care plan, as `schema/care-plan-domains.json` lists it.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct DomainKind {
    pub id: String,
    pub title: String,
}

/// The domains a care plan may have (data: `schema/care-plan-domains.json`).
pub fn domains() -> &'static [DomainKind] {
    static DOMAINS: std::sync::OnceLock<Vec<DomainKind>> = std::sync::OnceLock::new();
    DOMAINS.get_or_init(|| {
        serde_json::from_str(include_str!("../../../schema/care-plan-domains.json"))
            .expect("schema/care-plan-domains.json is a list of {id, title} (checked by a test)")
    })
}

/// An action to add: what, in which domain, who does it and by when.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewAction {
    pub action_id: Uuid,
    pub domain: String,
    pub text: String,
    pub owner: String,
    pub due: NaiveDate,
}

/// How an action ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionStatus {
    Open,
    Done,
    Cancelled,
}

impl ActionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ActionStatus::Open => "open",
            ActionStatus::Done => "done",
            ActionStatus::Cancelled => "cancelled",
        }
    }
}

/// One change to a care plan.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum PlanChange {
    /// The plan starts, led by a user (the lead coordinator).
    Started {
        lead: String,
    },
    /// A domain gets (or changes) its owner and goal.
    DomainSet {
        domain: String,
        owner: String,
        goal: String,
    },
    ActionAdded {
        action: NewAction,
    },
    ActionClosed {
        action_id: Uuid,
        status: ActionStatus,
        note: String,
    },
    /// Contact every `every_days` from `from` until `until`, by `owner`.
    MonitoringSet {
        every_days: u32,
        from: NaiveDate,
        until: NaiveDate,
        owner: String,
    },
    ReviewScheduled {
        review_id: Uuid,
        on: NaiveDate,
        participants: Vec<String>,
    },
    /// The review took place: its decisions, and the actions they make.
    ReviewHeld {
        review_id: Uuid,
        decisions: String,
        actions: Vec<NewAction>,
    },
}

impl PlanChange {
    pub fn kind(&self) -> &'static str {
        match self {
            PlanChange::Started { .. } => "care_plan.started",
            PlanChange::DomainSet { .. } => "care_plan.domain_set",
            PlanChange::ActionAdded { .. } => "care_plan.action_added",
            PlanChange::ActionClosed { .. } => "care_plan.action_closed",
            PlanChange::MonitoringSet { .. } => "care_plan.monitoring_set",
            PlanChange::ReviewScheduled { .. } => "care_plan.review_scheduled",
            PlanChange::ReviewHeld { .. } => "care_plan.review_held",
        }
    }

    /// A line for the timeline.
    pub fn describe(&self) -> String {
        match self {
            PlanChange::Started { lead } => format!("care plan started, led by {lead}"),
            PlanChange::DomainSet {
                domain,
                owner,
                goal,
            } => format!("{} owned by {owner}: {goal}", title(domain)),
            PlanChange::ActionAdded { action } => format!(
                "action for {} by {}: {}",
                action.owner, action.due, action.text
            ),
            PlanChange::ActionClosed { status, note, .. } => {
                if note.is_empty() {
                    format!("action {}", status.as_str())
                } else {
                    format!("action {}: {note}", status.as_str())
                }
            }
            PlanChange::MonitoringSet {
                every_days,
                until,
                owner,
                ..
            } => format!("{owner} contacts every {every_days} days until {until}"),
            PlanChange::ReviewScheduled {
                on, participants, ..
            } => format!(
                "case review scheduled for {on} with {}",
                participants.join(", ")
            ),
            PlanChange::ReviewHeld {
                decisions, actions, ..
            } => format!(
                "case review held: {decisions} ({} new actions)",
                actions.len()
            ),
        }
    }
}

/// A domain's title ("Behavioural health"), or its id when the data does not name it.
pub fn title(domain: &str) -> String {
    domains()
        .iter()
        .find(|d| d.id == domain)
        .map_or_else(|| domain.to_owned(), |d| d.title.clone())
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PlanDomain {
    pub owner: String,
    pub goal: String,
    pub updated_at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PlanAction {
    pub action_id: Uuid,
    pub domain: String,
    pub text: String,
    pub owner: String,
    pub due: NaiveDate,
    pub status: ActionStatus,
    pub added_at: DateTime<Utc>,
    pub added_by: String,
    pub closed_at: Option<DateTime<Utc>>,
    pub note: String,
    /// The case review whose decision made it.
    pub from_review: Option<Uuid>,
}

impl PlanAction {
    /// Open past its due day.
    pub fn overdue(&self, today: NaiveDate) -> bool {
        self.status == ActionStatus::Open && self.due < today
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Monitoring {
    pub every_days: u32,
    pub from: NaiveDate,
    pub until: NaiveDate,
    pub owner: String,
}

impl Monitoring {
    /// The next contact the rhythm asks for, given the person's last contact: `every_days`
    /// after the last contact on or after `from` (else after `from`); none once past `until`.
    pub fn next_due(&self, last_contact: Option<NaiveDate>) -> Option<NaiveDate> {
        let base = last_contact
            .filter(|d| *d >= self.from)
            .unwrap_or(self.from);
        let next = base + chrono::Days::new(self.every_days as u64);
        (next <= self.until).then_some(next)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CaseReview {
    pub review_id: Uuid,
    pub on: NaiveDate,
    pub participants: Vec<String>,
    pub scheduled_by: String,
    pub held_at: Option<DateTime<Utc>>,
    pub decisions: Option<String>,
}

/// A person's shared care plan, as its events say.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CarePlan {
    pub plan_id: Uuid,
    /// The case it was opened from.
    pub case_id: Uuid,
    pub patient_id: String,
    pub lead: String,
    pub started_at: DateTime<Utc>,
    pub domains: BTreeMap<String, PlanDomain>,
    pub actions: BTreeMap<Uuid, PlanAction>,
    pub monitoring: Option<Monitoring>,
    pub reviews: BTreeMap<Uuid, CaseReview>,
}

fn text(what: &str, t: &str) -> Result<(), OpsError> {
    if t.trim().is_empty() {
        return Err(OpsError::Invalid(format!("{what} is empty")));
    }
    if t.chars().count() > MAX_TEXT {
        return Err(OpsError::Invalid(format!(
            "{what} is {} characters; at most {MAX_TEXT}",
            t.chars().count()
        )));
    }
    Ok(())
}

fn check_action(plan: &CarePlan, a: &NewAction) -> Result<(), OpsError> {
    if !plan.domains.contains_key(&a.domain) {
        return Err(OpsError::Invalid(format!(
            "the plan has no {} domain yet: set its owner and goal first",
            title(&a.domain)
        )));
    }
    if plan.actions.contains_key(&a.action_id) {
        return Err(OpsError::Invalid(format!(
            "action {} already exists",
            a.action_id
        )));
    }
    text("the action", &a.text)?;
    text("the action's owner", &a.owner)
}

/// Why a change cannot apply to the plans as they are, if it cannot.
pub(crate) fn check(
    state: &OpsState,
    r: &Recorded,
    plan_id: Uuid,
    change: &PlanChange,
) -> Result<(), OpsError> {
    if let PlanChange::Started { lead } = change {
        if state.care_plans.contains_key(&plan_id) {
            return Err(OpsError::Invalid(format!(
                "care plan {plan_id} already exists"
            )));
        }
        if let Some(other) = state.care_plan_of(&r.patient_id) {
            return Err(OpsError::Invalid(format!(
                "the person already has care plan {}: one shared plan per person",
                other.plan_id
            )));
        }
        return text("the lead", lead);
    }
    let plan = state
        .care_plans
        .get(&plan_id)
        .ok_or_else(|| OpsError::NotFound {
            what: "care plan",
            id: plan_id.to_string(),
        })?;
    if plan.patient_id != r.patient_id {
        return Err(OpsError::Invalid(format!(
            "care plan {plan_id} is not about the person the event names"
        )));
    }
    match change {
        PlanChange::Started { .. } => unreachable!("handled above"),
        PlanChange::DomainSet {
            domain,
            owner,
            goal,
        } => {
            if !domains().iter().any(|d| &d.id == domain) {
                return Err(OpsError::UnknownName {
                    what: "care plan domain",
                    given: domain.clone(),
                    expected: domains()
                        .iter()
                        .map(|d| d.id.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                });
            }
            text("the owner", owner)?;
            text("the goal", goal)
        }
        PlanChange::ActionAdded { action } => check_action(plan, action),
        PlanChange::ActionClosed {
            action_id, note, ..
        } => {
            let action = plan
                .actions
                .get(action_id)
                .ok_or_else(|| OpsError::NotFound {
                    what: "care plan action",
                    id: action_id.to_string(),
                })?;
            if action.status != ActionStatus::Open {
                return Err(OpsError::Invalid(format!(
                    "action {action_id} is already {}",
                    action.status.as_str()
                )));
            }
            if note.chars().count() > MAX_TEXT {
                return Err(OpsError::Invalid(format!(
                    "the note is over {MAX_TEXT} characters"
                )));
            }
            Ok(())
        }
        PlanChange::MonitoringSet {
            every_days,
            from,
            until,
            owner,
        } => {
            if !(1..=90).contains(every_days) {
                return Err(OpsError::Invalid(format!(
                    "monitoring every {every_days} days: 1 to 90"
                )));
            }
            if until <= from {
                return Err(OpsError::Invalid(format!(
                    "monitoring until {until} must end after it starts ({from})"
                )));
            }
            text("the monitoring's owner", owner)
        }
        PlanChange::ReviewScheduled {
            review_id,
            participants,
            ..
        } => {
            if plan.reviews.contains_key(review_id) {
                return Err(OpsError::Invalid(format!(
                    "review {review_id} already exists"
                )));
            }
            if participants.iter().all(|p| p.trim().is_empty()) {
                return Err(OpsError::Invalid(
                    "a case review needs its participants".into(),
                ));
            }
            Ok(())
        }
        PlanChange::ReviewHeld {
            review_id,
            decisions,
            actions,
        } => {
            let review = plan
                .reviews
                .get(review_id)
                .ok_or_else(|| OpsError::NotFound {
                    what: "case review",
                    id: review_id.to_string(),
                })?;
            if review.held_at.is_some() {
                return Err(OpsError::Invalid(format!(
                    "case review {review_id} was already recorded"
                )));
            }
            text("the decisions", decisions)?;
            let mut ids = std::collections::BTreeSet::new();
            for a in actions {
                check_action(plan, a)?;
                if !ids.insert(a.action_id) {
                    return Err(OpsError::Invalid(format!(
                        "action {} twice in one review",
                        a.action_id
                    )));
                }
            }
            Ok(())
        }
    }
}

fn add_action(plan: &mut CarePlan, a: &NewAction, r: &Recorded, from_review: Option<Uuid>) {
    plan.actions.insert(
        a.action_id,
        PlanAction {
            action_id: a.action_id,
            domain: a.domain.clone(),
            text: a.text.clone(),
            owner: a.owner.clone(),
            due: a.due,
            status: ActionStatus::Open,
            added_at: r.at,
            added_by: r.actor.clone(),
            closed_at: None,
            note: String::new(),
            from_review,
        },
    );
}

/// Applies a checked change.
pub(crate) fn apply(
    state: &mut OpsState,
    r: &Recorded,
    plan_id: Uuid,
    case_id: Uuid,
    change: &PlanChange,
) {
    if let PlanChange::Started { lead } = change {
        state.care_plans.insert(
            plan_id,
            CarePlan {
                plan_id,
                case_id,
                patient_id: r.patient_id.clone(),
                lead: lead.clone(),
                started_at: r.at,
                domains: BTreeMap::new(),
                actions: BTreeMap::new(),
                monitoring: None,
                reviews: BTreeMap::new(),
            },
        );
        return;
    }
    let plan = state.care_plans.get_mut(&plan_id).expect("checked");
    match change {
        PlanChange::Started { .. } => {}
        PlanChange::DomainSet {
            domain,
            owner,
            goal,
        } => {
            plan.domains.insert(
                domain.clone(),
                PlanDomain {
                    owner: owner.clone(),
                    goal: goal.clone(),
                    updated_at: r.at,
                },
            );
        }
        PlanChange::ActionAdded { action } => add_action(plan, action, r, None),
        PlanChange::ActionClosed {
            action_id,
            status,
            note,
        } => {
            let action = plan.actions.get_mut(action_id).expect("checked");
            action.status = *status;
            action.closed_at = Some(r.at);
            action.note = note.clone();
        }
        PlanChange::MonitoringSet {
            every_days,
            from,
            until,
            owner,
        } => {
            plan.monitoring = Some(Monitoring {
                every_days: *every_days,
                from: *from,
                until: *until,
                owner: owner.clone(),
            });
        }
        PlanChange::ReviewScheduled {
            review_id,
            on,
            participants,
        } => {
            plan.reviews.insert(
                *review_id,
                CaseReview {
                    review_id: *review_id,
                    on: *on,
                    participants: participants.clone(),
                    scheduled_by: r.actor.clone(),
                    held_at: None,
                    decisions: None,
                },
            );
        }
        PlanChange::ReviewHeld {
            review_id,
            decisions,
            actions,
        } => {
            let review = plan.reviews.get_mut(review_id).expect("checked");
            review.held_at = Some(r.at);
            review.decisions = Some(decisions.clone());
            for a in actions {
                add_action(plan, a, r, Some(*review_id));
            }
        }
    }
}

/// A change to make: the events to record for it.
pub fn decide(
    state: &OpsState,
    plan_id: Uuid,
    case_id: Option<Uuid>,
    change: PlanChange,
) -> Result<Decision, OpsError> {
    let (patient_id, case_id) = match (&change, state.care_plans.get(&plan_id)) {
        (PlanChange::Started { .. }, _) => {
            let case_id = case_id.ok_or_else(|| {
                OpsError::Invalid("a care plan is opened from one of the person's cases".into())
            })?;
            let case = state
                .cases
                .get(&case_id)
                .ok_or_else(|| OpsError::NotFound {
                    what: "case",
                    id: case_id.to_string(),
                })?;
            (case.patient_id.clone(), case_id)
        }
        (_, Some(plan)) => (plan.patient_id.clone(), plan.case_id),
        (_, None) => {
            return Err(OpsError::NotFound {
                what: "care plan",
                id: plan_id.to_string(),
            })
        }
    };
    let audit_action = change.kind();
    Ok(Decision {
        patient_id,
        case_id,
        events: vec![OpEvent::CarePlan {
            plan_id,
            case_id,
            change,
        }],
        created: None,
        audit_action,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_domains_come_from_data() {
        let ids: Vec<&str> = domains().iter().map(|d| d.id.as_str()).collect();
        for expected in [
            "health",
            "behavioural_health",
            "housing",
            "social_services",
            "caregiver_support",
        ] {
            assert!(ids.contains(&expected), "{ids:?}");
        }
        assert_eq!(title("behavioural_health"), "Behavioural health");
    }

    #[test]
    fn monitoring_asks_every_n_days_after_the_last_contact_and_ends_by_itself() {
        let d = |m, day| NaiveDate::from_ymd_opt(2026, m, day).unwrap();
        let m = Monitoring {
            every_days: 7,
            from: d(11, 2),
            until: d(11, 30),
            owner: "ana".into(),
        };
        assert_eq!(m.next_due(None), Some(d(11, 9)));
        // A contact before the monitoring started does not count.
        assert_eq!(m.next_due(Some(d(10, 30))), Some(d(11, 9)));
        assert_eq!(m.next_due(Some(d(11, 10))), Some(d(11, 17)));
        assert_eq!(m.next_due(Some(d(11, 23))), Some(d(11, 30)));
        assert_eq!(m.next_due(Some(d(11, 24))), None, "past the end date");
    }
}
