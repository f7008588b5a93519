//! A supervisor's team view, where the week is balanced: each owner's caseload against the
//! weekly capacity (open, overdue, due today), the unassigned cases by segment, and what
//! waits on the team (alerts, callbacks, escalations). Everything comes from the fold: no
//! store read but the catalogue's titles.

use std::collections::BTreeMap;

use careloop_ops::rbac::Operation;
use careloop_ops::{CallbackStatus, CaseStatus, EscalationStatus};
use serde::Serialize;

use crate::operations::{segment_name, Session};
use crate::{Careloop, ErrorCode, Result};

/// The team at a glance.
#[derive(Clone, Debug, PartialEq, Serialize, ts_rs::TS)]
#[ts(export)]
pub struct TeamView {
    /// Open cases a coordinator may hold (the weekly capacity).
    pub caseload_limit: u32,
    /// One row per owner of an open case, the heaviest load first.
    pub owners: Vec<OwnerLoad>,
    /// The unassigned pool by segment, the most overdue first.
    pub unassigned: Vec<UnassignedRow>,
    pub waiting: TeamWaiting,
}

/// One owner's open cases.
#[derive(Clone, Debug, PartialEq, Serialize, ts_rs::TS)]
#[ts(export)]
pub struct OwnerLoad {
    pub owner: String,
    pub open: u32,
    /// Of the open cases, those past their next contact's due time.
    pub overdue: u32,
    /// Of the open cases, those due before the end of today (overdue ones included).
    pub due_today: u32,
    /// At or over the weekly capacity: no more cases can be assigned to them.
    pub at_capacity: bool,
}

/// Unassigned open cases of one segment.
#[derive(Clone, Debug, PartialEq, Serialize, ts_rs::TS)]
#[ts(export)]
pub struct UnassignedRow {
    pub segment_id: String,
    /// The segment's title.
    pub segment_name: String,
    pub open: u32,
    pub overdue: u32,
    /// The highest priority among them (points).
    pub top_priority: i32,
}

/// What waits on the team now.
#[derive(Clone, Debug, Default, PartialEq, Serialize, ts_rs::TS)]
#[ts(export)]
pub struct TeamWaiting {
    /// Alerts on key events not yet acknowledged, and how many of them are past due.
    pub alerts: u32,
    pub alerts_overdue: u32,
    /// Callbacks waiting for a clinician, and how many are past due.
    pub callbacks: u32,
    pub callbacks_overdue: u32,
    /// Escalations raised and not yet acknowledged, and how many are past their deadline.
    pub escalations: u32,
    pub escalations_overdue: u32,
}

impl Careloop {
    /// The team view as of the session's time (supervisors: the role that assigns).
    pub fn team_view(&mut self, session: &Session) -> Result<TeamView> {
        self.authorize(session, Operation::AssignCase, "view the team", None, None)?;
        let catalog = self.catalog(None)?;
        let ops = self.ops()?;
        let now = session.at;
        let end_of_today = now
            .date_naive()
            .and_hms_opt(23, 59, 59)
            .expect("a valid time")
            .and_utc();
        let limit = ops.policy.caseload_per_coordinator;
        let mut owners: BTreeMap<&str, OwnerLoad> = BTreeMap::new();
        let mut unassigned: BTreeMap<&str, UnassignedRow> = BTreeMap::new();
        for case in ops
            .state
            .cases
            .values()
            .filter(|c| c.status != CaseStatus::Closed)
        {
            let overdue = u32::from(case.overdue(now));
            let due_today = u32::from(case.due <= end_of_today);
            match case.owner.as_deref() {
                Some(owner) => {
                    let row = owners.entry(owner).or_insert_with(|| OwnerLoad {
                        owner: owner.to_owned(),
                        open: 0,
                        overdue: 0,
                        due_today: 0,
                        at_capacity: false,
                    });
                    row.open += 1;
                    row.overdue += overdue;
                    row.due_today += due_today;
                }
                None => {
                    let row = unassigned
                        .entry(case.segment_id.as_str())
                        .or_insert_with(|| UnassignedRow {
                            segment_id: case.segment_id.clone(),
                            segment_name: segment_name(&catalog, &case.segment_id),
                            open: 0,
                            overdue: 0,
                            top_priority: case.priority,
                        });
                    row.open += 1;
                    row.overdue += overdue;
                    row.top_priority = row.top_priority.max(case.priority);
                }
            }
        }
        let mut owners: Vec<OwnerLoad> = owners
            .into_values()
            .map(|mut row| {
                row.at_capacity = row.open >= limit;
                row
            })
            .collect();
        owners.sort_by(|a, b| {
            (b.open, b.overdue)
                .cmp(&(a.open, a.overdue))
                .then_with(|| a.owner.cmp(&b.owner))
        });
        let mut unassigned: Vec<UnassignedRow> = unassigned.into_values().collect();
        unassigned.sort_by(|a, b| {
            (b.overdue, b.open)
                .cmp(&(a.overdue, a.open))
                .then_with(|| a.segment_name.cmp(&b.segment_name))
        });
        let mut waiting = TeamWaiting::default();
        for alert in ops
            .state
            .alerts
            .values()
            .filter(|a| a.acknowledged_at.is_none())
        {
            waiting.alerts += 1;
            waiting.alerts_overdue += u32::from(alert.due < now);
        }
        for callback in ops
            .state
            .callbacks
            .values()
            .filter(|c| c.status == CallbackStatus::Waiting)
        {
            waiting.callbacks += 1;
            waiting.callbacks_overdue += u32::from(callback.due < now);
        }
        let calendar = &ops.policy.calendar;
        for escalation in ops
            .state
            .escalations
            .values()
            .filter(|e| e.status == EscalationStatus::Raised)
        {
            waiting.escalations += 1;
            waiting.escalations_overdue += u32::from(escalation.overdue(now, calendar));
        }
        Ok(TeamView {
            caseload_limit: limit,
            owners,
            unassigned,
            waiting,
        })
    }
}

/// What a bulk assignment did: each case is its own decision (audited), so a full caseload
/// refuses the rest without undoing the ones before.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ts_rs::TS)]
#[ts(export)]
pub struct BulkAssigned {
    pub assigned: u32,
    /// One sentence per case refused (already assigned elsewhere, the caseload full).
    pub refused: Vec<String>,
}

impl Careloop {
    /// Who a supervisor can assign cases to: the coordinators with an account here and anyone
    /// already holding an open case, by name.
    pub fn assignees(&mut self, session: &Session) -> Result<Vec<String>> {
        self.authorize(session, Operation::AssignCase, "list assignees", None, None)?;
        let mut names: std::collections::BTreeSet<String> = self
            .store
            .account_roles()?
            .into_iter()
            .filter(|(_, role)| role == "coordinator")
            .map(|(name, _)| name)
            .collect();
        names.extend(
            self.ops()?
                .state
                .cases
                .values()
                .filter(|c| c.status != CaseStatus::Closed)
                .filter_map(|c| c.owner.clone()),
        );
        Ok(names.into_iter().collect())
    }

    /// Assigns each case to `to`, in the order given, each within the caseload limit; a
    /// refusal is reported and the next case tried. Only an error that is not about one
    /// case (no right to assign, the cache failing) stops it.
    pub fn assign_cases(
        &mut self,
        session: &Session,
        case_ids: &[uuid::Uuid],
        to: &str,
    ) -> Result<BulkAssigned> {
        self.authorize(session, Operation::AssignCase, "assign cases", None, None)?;
        let mut done = BulkAssigned {
            assigned: 0,
            refused: Vec::new(),
        };
        for &case_id in case_ids {
            match self.assign_case(session, case_id, to) {
                Ok(_) => done.assigned += 1,
                Err(e)
                    if matches!(
                        e.code,
                        ErrorCode::Refused
                            | ErrorCode::Conflict
                            | ErrorCode::BadInput
                            | ErrorCode::NotFound
                    ) =>
                {
                    done.refused.push(e.message)
                }
                Err(e) => return Err(e),
            }
        }
        Ok(done)
    }
}
