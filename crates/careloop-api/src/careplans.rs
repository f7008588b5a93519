//! Shared care plans (see `careloop_ops::careplan`): starting one from a case, domains with
//! owners and goals, actions, time-bound monitoring, multidisciplinary case reviews, the
//! work each user owes (the lead coordinator also sees every owner's overdue actions and the
//! alerts of the plan's person), and the plan as FHIR R4 `CarePlan`, `Goal` and `Task`.

use careloop_ops::careplan::{self, ActionStatus, CarePlan, NewAction, PlanChange};
use careloop_ops::rbac::Operation;
use careloop_ops::Role;
use chrono::{NaiveDate, SecondsFormat};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use uuid::Uuid;

use careloop_ops::sync::LogEntry;
use careloop_ops::OpEvent;

use crate::operations::{Done, Session, TimelineEntry};
use crate::{ApiError, Careloop, ErrorCode, Result};

/// A care plan as its screens and the CLI show it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ts_rs::TS)]
#[ts(export)]
pub struct CarePlanDto {
    pub plan_id: String,
    pub case_id: String,
    pub patient_id: String,
    pub name: String,
    pub lead: String,
    /// YYYY-MM-DD.
    pub started_on: String,
    pub domains: Vec<PlanDomainDto>,
    pub actions: Vec<PlanActionDto>,
    pub monitoring: Option<MonitoringDto>,
    pub reviews: Vec<CaseReviewDto>,
    /// The plan's changes, oldest first (who, when, what).
    pub timeline: Vec<TimelineEntry>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, ts_rs::TS)]
#[ts(export)]
pub struct PlanDomainDto {
    pub domain: String,
    pub title: String,
    pub owner: String,
    pub goal: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, ts_rs::TS)]
#[ts(export)]
pub struct PlanActionDto {
    pub action_id: String,
    pub domain: String,
    pub text: String,
    pub owner: String,
    pub due: String,
    /// open, done or cancelled.
    pub status: String,
    pub overdue: bool,
    pub note: String,
    /// The case review whose decision made it.
    pub from_review: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, ts_rs::TS)]
#[ts(export)]
pub struct MonitoringDto {
    pub every_days: u32,
    pub from: String,
    pub until: String,
    pub owner: String,
    /// The next contact the rhythm asks for; none once it has ended.
    pub next_due: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, ts_rs::TS)]
#[ts(export)]
pub struct CaseReviewDto {
    pub review_id: String,
    pub on: String,
    pub participants: Vec<String>,
    pub scheduled_by: String,
    pub held: bool,
    pub decisions: Option<String>,
}

/// Something a user owes on a care plan today.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ts_rs::TS)]
#[ts(export)]
pub struct PlanWorkItem {
    /// `overdue_action` (the lead's view of every owner's), `action_due` (mine, due today or
    /// before), `monitoring_due` (a contact the rhythm asks for), `alert` (an unacknowledged
    /// alert about the plan's person, for the lead), `review_proposed` (an alert of high
    /// concern since the last case review was scheduled: the lead should schedule one).
    pub kind: String,
    pub plan_id: String,
    pub patient_id: String,
    pub name: String,
    pub owner: String,
    pub due: String,
    pub detail: String,
}

/// What a care plan's forms offer: its domains, and who may own a domain or an action.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ts_rs::TS)]
#[ts(export)]
pub struct PlanChoices {
    pub domains: Vec<PlanDomainKind>,
    pub owners: Vec<PlanOwnerChoice>,
}

/// A domain a care plan may have (`schema/care-plan-domains.json`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ts_rs::TS)]
#[ts(export)]
pub struct PlanDomainKind {
    pub domain: String,
    pub title: String,
}

/// An owner as stored (`value`: a user name, or `partner:ID`) and as people read it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ts_rs::TS)]
#[ts(export)]
pub struct PlanOwnerChoice {
    pub value: String,
    pub label: String,
}

/// An action to add through the API.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActionInput {
    pub domain: String,
    pub text: String,
    pub owner: String,
    pub due: NaiveDate,
}

/// A domain's owner and goal, from the desktop.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, ts_rs::TS)]
#[ts(export)]
pub struct PlanDomainForm {
    pub plan_id: String,
    pub domain: String,
    pub owner: String,
    pub goal: String,
}

/// An action, from the desktop (`due`: YYYY-MM-DD).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, ts_rs::TS)]
#[ts(export)]
pub struct PlanActionForm {
    pub domain: String,
    pub text: String,
    pub owner: String,
    pub due: String,
}

impl PlanActionForm {
    pub fn to_input(&self) -> Result<ActionInput> {
        Ok(ActionInput {
            domain: self.domain.clone(),
            text: self.text.clone(),
            owner: self.owner.clone(),
            due: crate::dto::parse_date("the action's due date", &self.due)?,
        })
    }
}

/// An action marked done (or cancelled, `done` false) with a note.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, ts_rs::TS)]
#[ts(export)]
pub struct CloseActionForm {
    pub plan_id: String,
    pub action_id: String,
    pub done: bool,
    pub note: String,
}

/// "Contact every N days until DATE" by `owner`, from today.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, ts_rs::TS)]
#[ts(export)]
pub struct MonitoringForm {
    pub plan_id: String,
    pub every_days: u32,
    pub until: String,
    pub owner: String,
}

/// A multidisciplinary case review to schedule.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, ts_rs::TS)]
#[ts(export)]
pub struct ScheduleReviewForm {
    pub plan_id: String,
    pub on: String,
    pub participants: Vec<String>,
}

/// A case review held: its decisions and the actions they make.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, ts_rs::TS)]
#[ts(export)]
pub struct RecordReviewForm {
    pub plan_id: String,
    pub review_id: String,
    pub decisions: String,
    pub actions: Vec<PlanActionForm>,
}

fn not_found(plan_id: Uuid) -> ApiError {
    ApiError::new(ErrorCode::NotFound, format!("no care plan {plan_id}"))
}

impl Careloop {
    fn plan_change(
        &mut self,
        session: &Session,
        what: &str,
        plan_id: Uuid,
        case_id: Option<Uuid>,
        change: PlanChange,
        created: Option<Uuid>,
    ) -> Result<Done> {
        self.decide(
            session,
            (Operation::ManageCarePlan, what),
            move |state| match case_id {
                Some(case) => state.cases.get(&case).map(|c| (c.patient_id.clone(), case)),
                None => state
                    .care_plans
                    .get(&plan_id)
                    .map(|p| (p.patient_id.clone(), plan_id)),
            },
            move |ops, _, _| {
                let mut decision = careplan::decide(&ops.state, plan_id, case_id, change)?;
                decision.created = created;
                Ok(decision)
            },
        )
    }

    /// Starts the person's shared care plan from one of their cases, led by `lead` (default:
    /// the caller). One plan per person.
    pub fn start_care_plan(
        &mut self,
        session: &Session,
        case_id: Uuid,
        lead: Option<&str>,
    ) -> Result<Done> {
        let plan_id = crate::operations::new_event_id(session.at);
        let lead = lead.unwrap_or(&session.user).trim().to_owned();
        self.plan_change(
            session,
            "start a care plan",
            plan_id,
            Some(case_id),
            PlanChange::Started { lead },
            Some(plan_id),
        )
    }

    /// Sets a domain's owner (a user, or `partner:ID`) and goal.
    pub fn set_care_plan_domain(
        &mut self,
        session: &Session,
        plan_id: Uuid,
        domain: &str,
        owner: &str,
        goal: &str,
    ) -> Result<Done> {
        self.plan_change(
            session,
            "set a care plan domain",
            plan_id,
            None,
            PlanChange::DomainSet {
                domain: domain.trim().to_owned(),
                owner: owner.trim().to_owned(),
                goal: goal.trim().to_owned(),
            },
            None,
        )
    }

    pub fn add_care_plan_action(
        &mut self,
        session: &Session,
        plan_id: Uuid,
        action: &ActionInput,
    ) -> Result<Done> {
        let action_id = crate::operations::new_event_id(session.at);
        self.plan_change(
            session,
            "add a care plan action",
            plan_id,
            None,
            PlanChange::ActionAdded {
                action: NewAction {
                    action_id,
                    domain: action.domain.trim().to_owned(),
                    text: action.text.trim().to_owned(),
                    owner: action.owner.trim().to_owned(),
                    due: action.due,
                },
            },
            Some(action_id),
        )
    }

    /// Marks an action done (or cancelled), with a note.
    pub fn close_care_plan_action(
        &mut self,
        session: &Session,
        plan_id: Uuid,
        action_id: Uuid,
        done: bool,
        note: &str,
    ) -> Result<Done> {
        self.plan_change(
            session,
            "close a care plan action",
            plan_id,
            None,
            PlanChange::ActionClosed {
                action_id,
                status: if done {
                    ActionStatus::Done
                } else {
                    ActionStatus::Cancelled
                },
                note: note.trim().to_owned(),
            },
            None,
        )
    }

    /// "Contact every N days until DATE", from the caller's today, by `owner`.
    pub fn set_care_plan_monitoring(
        &mut self,
        session: &Session,
        plan_id: Uuid,
        every_days: u32,
        until: NaiveDate,
        owner: &str,
    ) -> Result<Done> {
        self.plan_change(
            session,
            "set monitoring",
            plan_id,
            None,
            PlanChange::MonitoringSet {
                every_days,
                from: session.at.date_naive(),
                until,
                owner: owner.trim().to_owned(),
            },
            None,
        )
    }

    /// Only a supervisor or the plan's lead schedules and records case reviews.
    fn check_review_rights(&mut self, session: &Session, plan_id: Uuid) -> Result<()> {
        let lead = self
            .ops()?
            .state
            .care_plans
            .get(&plan_id)
            .map(|p| p.lead.clone())
            .ok_or_else(|| not_found(plan_id))?;
        if session.role == Role::Supervisor || session.user == lead {
            Ok(())
        } else {
            Err(ApiError::new(
                ErrorCode::Forbidden,
                format!("a case review is scheduled and recorded by a supervisor or the plan's lead ({lead})"),
            ))
        }
    }

    /// Schedules a multidisciplinary case review (the plan is its agenda).
    pub fn schedule_case_review(
        &mut self,
        session: &Session,
        plan_id: Uuid,
        on: NaiveDate,
        participants: &[String],
    ) -> Result<Done> {
        self.check_review_rights(session, plan_id)?;
        let review_id = crate::operations::new_event_id(session.at);
        self.plan_change(
            session,
            "schedule a case review",
            plan_id,
            None,
            PlanChange::ReviewScheduled {
                review_id,
                on,
                participants: participants
                    .iter()
                    .map(|p| p.trim().to_owned())
                    .filter(|p| !p.is_empty())
                    .collect(),
            },
            Some(review_id),
        )
    }

    /// Records a case review: its decisions, and the actions they make.
    pub fn record_case_review(
        &mut self,
        session: &Session,
        plan_id: Uuid,
        review_id: Uuid,
        decisions: &str,
        actions: &[ActionInput],
    ) -> Result<Done> {
        self.check_review_rights(session, plan_id)?;
        let mut ids = Vec::new();
        let actions = actions
            .iter()
            .map(|a| {
                let mut id = crate::operations::new_event_id(session.at);
                while ids.contains(&id) {
                    id = crate::operations::new_event_id(session.at);
                }
                ids.push(id);
                NewAction {
                    action_id: id,
                    domain: a.domain.trim().to_owned(),
                    text: a.text.trim().to_owned(),
                    owner: a.owner.trim().to_owned(),
                    due: a.due,
                }
            })
            .collect();
        self.plan_change(
            session,
            "record a case review",
            plan_id,
            None,
            PlanChange::ReviewHeld {
                review_id,
                decisions: decisions.trim().to_owned(),
                actions,
            },
            None,
        )
    }

    fn plan_of(&mut self, session: &Session, plan_id: Uuid) -> Result<CarePlan> {
        let plan = self
            .ops()?
            .state
            .care_plans
            .get(&plan_id)
            .cloned()
            .ok_or_else(|| not_found(plan_id))?;
        self.authorize(
            session,
            Operation::ViewCase,
            "view a care plan",
            Some(&plan.patient_id),
            Some(plan_id.to_string()),
        )?;
        Ok(plan)
    }

    fn last_contact(&mut self, patient: &str) -> Result<Option<NaiveDate>> {
        Ok(self
            .ops()?
            .state
            .contacts
            .get(patient)
            .and_then(|t| t.iter().max())
            .map(|t| t.date_naive()))
    }

    fn name_of(&mut self, patient: &str) -> Result<String> {
        Ok(self
            .ops()?
            .people
            .get(patient)
            .map_or_else(String::new, |p| p.name.clone()))
    }

    /// A care plan, by its id.
    pub fn care_plan(&mut self, session: &Session, plan_id: Uuid) -> Result<CarePlanDto> {
        let plan = self.plan_of(session, plan_id)?;
        let today = session.at.date_naive();
        let last = self.last_contact(&plan.patient_id)?;
        let name = self.name_of(&plan.patient_id)?;
        let timeline = self
            .ops()?
            .log
            .iter()
            .filter_map(LogEntry::recorded)
            .filter_map(|r| match &r.event {
                OpEvent::CarePlan {
                    plan_id: p, change, ..
                } if *p == plan_id => Some(TimelineEntry {
                    at: r.at.to_rfc3339_opts(SecondsFormat::Secs, true),
                    actor: r.actor.clone(),
                    role: r.role.to_string(),
                    kind: r.event.kind().to_owned(),
                    detail: change.describe(),
                }),
                _ => None,
            })
            .collect();
        Ok(CarePlanDto {
            plan_id: plan.plan_id.to_string(),
            case_id: plan.case_id.to_string(),
            patient_id: plan.patient_id.clone(),
            name,
            lead: plan.lead.clone(),
            started_on: plan.started_at.date_naive().to_string(),
            domains: plan
                .domains
                .iter()
                .map(|(id, d)| PlanDomainDto {
                    domain: id.clone(),
                    title: careplan::title(id),
                    owner: d.owner.clone(),
                    goal: d.goal.clone(),
                })
                .collect(),
            actions: plan
                .actions
                .values()
                .map(|a| PlanActionDto {
                    action_id: a.action_id.to_string(),
                    domain: a.domain.clone(),
                    text: a.text.clone(),
                    owner: a.owner.clone(),
                    due: a.due.to_string(),
                    status: a.status.as_str().to_owned(),
                    overdue: a.overdue(today),
                    note: a.note.clone(),
                    from_review: a.from_review.map(|r| r.to_string()),
                })
                .collect(),
            monitoring: plan.monitoring.as_ref().map(|m| MonitoringDto {
                every_days: m.every_days,
                from: m.from.to_string(),
                until: m.until.to_string(),
                owner: m.owner.clone(),
                next_due: m.next_due(last).map(|d| d.to_string()),
            }),
            reviews: plan
                .reviews
                .values()
                .map(|r| CaseReviewDto {
                    review_id: r.review_id.to_string(),
                    on: r.on.to_string(),
                    participants: r.participants.clone(),
                    scheduled_by: r.scheduled_by.clone(),
                    held: r.held_at.is_some(),
                    decisions: r.decisions.clone(),
                })
                .collect(),
            timeline,
        })
    }

    /// The domains a plan may have and who may own them: the accounts that work cases
    /// (coordinators, clinicians, supervisors) and the directory's partner organisations.
    pub fn care_plan_choices(&mut self, session: &Session) -> Result<PlanChoices> {
        self.authorize(
            session,
            Operation::ViewWorklist,
            "list care plan owners",
            None,
            None,
        )?;
        let domains = careplan::domains()
            .iter()
            .map(|d| PlanDomainKind {
                domain: d.id.clone(),
                title: d.title.clone(),
            })
            .collect();
        let mut owners: Vec<PlanOwnerChoice> = self
            .store
            .account_roles()?
            .into_iter()
            .filter(|(_, role)| matches!(role.as_str(), "coordinator" | "clinician" | "supervisor"))
            .map(|(name, role)| PlanOwnerChoice {
                label: format!("{name} ({role})"),
                value: name,
            })
            .collect();
        owners.extend(
            self.directory()?
                .partners
                .into_iter()
                .map(|p| PlanOwnerChoice {
                    value: format!("partner:{}", p.id),
                    label: format!("{} (partner)", p.name),
                }),
        );
        Ok(PlanChoices { domains, owners })
    }

    /// The person's care plan, if they have one.
    pub fn care_plan_of(
        &mut self,
        session: &Session,
        patient_id: &str,
    ) -> Result<Option<CarePlanDto>> {
        let plan_id = self
            .ops()?
            .state
            .care_plan_of(patient_id)
            .map(|p| p.plan_id);
        plan_id.map(|id| self.care_plan(session, id)).transpose()
    }

    /// What the caller owes on care plans as of the session's day: their own actions due,
    /// the monitoring contacts their rhythms ask for, and, for a plan's lead, every owner's
    /// overdue actions and the unacknowledged alerts about the plan's person. Overdue first.
    pub fn care_plan_work(&mut self, session: &Session) -> Result<Vec<PlanWorkItem>> {
        self.authorize(
            session,
            Operation::ViewWorklist,
            "view care plan work",
            None,
            None,
        )?;
        let today = session.at.date_naive();
        let plans: Vec<CarePlan> = self.ops()?.state.care_plans.values().cloned().collect();
        let settings = crate::alerts::AlertSettings::builtin();
        let mut items = Vec::new();
        for plan in plans {
            let lead = plan.lead == session.user;
            let name = self.name_of(&plan.patient_id)?;
            let item = |kind: &str, owner: &str, due: String, detail: String| PlanWorkItem {
                kind: kind.to_owned(),
                plan_id: plan.plan_id.to_string(),
                patient_id: plan.patient_id.clone(),
                name: name.clone(),
                owner: owner.to_owned(),
                due,
                detail,
            };
            for a in plan
                .actions
                .values()
                .filter(|a| a.status == ActionStatus::Open)
            {
                if lead && a.overdue(today) {
                    items.push(item(
                        "overdue_action",
                        &a.owner,
                        a.due.to_string(),
                        format!("{}: {}", careplan::title(&a.domain), a.text),
                    ));
                } else if a.owner == session.user && a.due <= today {
                    items.push(item(
                        "action_due",
                        &a.owner,
                        a.due.to_string(),
                        format!("{}: {}", careplan::title(&a.domain), a.text),
                    ));
                }
            }
            if let Some(m) = plan.monitoring.as_ref().filter(|m| m.owner == session.user) {
                let last = self.last_contact(&plan.patient_id)?;
                if let Some(due) = m.next_due(last).filter(|d| *d <= today) {
                    items.push(item(
                        "monitoring_due",
                        &m.owner,
                        due.to_string(),
                        format!("contact every {} days until {}", m.every_days, m.until),
                    ));
                }
            }
            if lead {
                let alerts: Vec<careloop_ops::Alert> = self
                    .ops()?
                    .state
                    .alerts
                    .values()
                    .filter(|a| a.patient_id == plan.patient_id)
                    .cloned()
                    .collect();
                for a in alerts.iter().filter(|a| a.acknowledged_by.is_none()) {
                    items.push(item(
                        "alert",
                        &a.assignee,
                        a.due.to_rfc3339_opts(SecondsFormat::Secs, true),
                        format!(
                            "alert: {}",
                            settings
                                .kinds
                                .get(&a.kind)
                                .map_or(a.kind.as_str(), |k| k.title.as_str())
                        ),
                    ));
                }
                // A high-concern event after the last scheduled review proposes another.
                let last_review = plan.reviews.values().map(|r| r.on).max();
                if let Some(a) = alerts
                    .iter()
                    .filter(|a| settings.high_concern(&a.kind))
                    .filter(|a| last_review.is_none_or(|on| on < a.occurred))
                    .max_by_key(|a| a.occurred)
                {
                    items.push(item(
                        "review_proposed",
                        &plan.lead,
                        a.occurred.to_string(),
                        format!(
                            "{} on {}: schedule a multidisciplinary case review",
                            settings
                                .kinds
                                .get(&a.kind)
                                .map_or(a.kind.as_str(), |k| k.title.as_str()),
                            a.occurred
                        ),
                    ));
                }
            }
        }
        items.sort_by(|a, b| a.due.cmp(&b.due).then_with(|| a.plan_id.cmp(&b.plan_id)));
        Ok(items)
    }

    /// The plan as a FHIR R4 Bundle (collection): the CarePlan, a Goal per domain (its owner
    /// as `expressedBy`), and a Task per action (intent `plan`, based on the CarePlan).
    pub fn care_plan_fhir(&mut self, session: &Session, plan_id: Uuid) -> Result<Value> {
        let plan = self.plan_of(session, plan_id)?;
        let name = self.name_of(&plan.patient_id)?;
        let subject = json!({"reference": format!("Patient/{}", plan.patient_id), "display": name});
        let goal_id = |domain: &str| format!("{}-{}", plan.plan_id, domain.replace('_', "-"));
        let goals: Vec<Value> = plan
            .domains
            .iter()
            .map(|(domain, d)| {
                json!({
                    "resourceType": "Goal",
                    "id": goal_id(domain),
                    "lifecycleStatus": "active",
                    "category": [{"coding": [{"system": "urn:careloop:care-plan-domain", "code": domain}], "text": careplan::title(domain)}],
                    "description": {"text": d.goal},
                    "subject": subject,
                    "expressedBy": {"display": d.owner},
                })
            })
            .collect();
        let tasks: Vec<Value> = plan
            .actions
            .values()
            .map(|a| {
                let mut task = json!({
                    "resourceType": "Task",
                    "id": a.action_id.to_string(),
                    "status": match a.status {
                        ActionStatus::Open => "requested",
                        ActionStatus::Done => "completed",
                        ActionStatus::Cancelled => "cancelled",
                    },
                    "intent": "plan",
                    "basedOn": [{"reference": format!("CarePlan/{}", plan.plan_id)}],
                    "description": a.text,
                    "for": subject,
                    "authoredOn": a.added_at.to_rfc3339_opts(SecondsFormat::Secs, true),
                    "requester": {"display": a.added_by},
                    "owner": {"display": a.owner},
                    "restriction": {"period": {"end": a.due.to_string()}},
                    "reasonReference": {"reference": format!("Goal/{}", goal_id(&a.domain))},
                });
                if !a.note.is_empty() {
                    task["note"] = json!([{"text": a.note}]);
                }
                task
            })
            .collect();
        let mut care_plan = json!({
            "resourceType": "CarePlan",
            "id": plan.plan_id.to_string(),
            "status": "active",
            "intent": "plan",
            "title": "Shared care plan",
            "category": [{"text": "shared care plan"}],
            "subject": subject,
            "created": plan.started_at.to_rfc3339_opts(SecondsFormat::Secs, true),
            "author": {"display": plan.lead},
            "goal": goals.iter().map(|g| json!({"reference": format!("Goal/{}", g["id"].as_str().unwrap_or(""))})).collect::<Vec<_>>(),
            "activity": tasks.iter().map(|t| json!({"reference": {"reference": format!("Task/{}", t["id"].as_str().unwrap_or(""))}})).collect::<Vec<_>>(),
        });
        if let Some(m) = &plan.monitoring {
            care_plan["note"] = json!([{"text": format!(
                "{} contacts the person every {} days from {} until {}",
                m.owner, m.every_days, m.from, m.until
            )}]);
        }
        let entries: Vec<Value> = std::iter::once(care_plan)
            .chain(goals)
            .chain(tasks)
            .map(|resource| json!({"resource": resource}))
            .collect();
        Ok(json!({"resourceType": "Bundle", "type": "collection", "entry": entries}))
    }
}
