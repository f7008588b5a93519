//! Alerts on key events (an ED visit, an admission or discharge, a missed appointment, a new
//! social risk) for anyone in the panel: found by the live lists in the facts of the people
//! whose data changed (`careloop_segment::alerts::key_events`, events of the last
//! `recent_days`), one per source resource (its id derived from team, kind and source), sent
//! to the owner of the person's open case else the team's lead, due within the kind's review
//! time (`schema/alerts.json`). Unacknowledged past the deadline, an alert goes up like an
//! escalation: the supervisor, then (after the same time again) the service lead.
//!
//! Alerts are events in the log (`alert.raised`, `alert.acknowledged`: careloop-ops folds
//! them into `OpsState::alerts`), so they sync like the rest of the work: two workstations
//! that raise the same alert make one, and an acknowledgement made anywhere holds
//! everywhere (a second one is superseded, "already acknowledged by …").

use std::collections::{BTreeMap, BTreeSet};

use careloop_ops::rbac::Operation;
use careloop_ops::{OpEvent, Recorded};
use careloop_segment::alerts::key_events;
use careloop_segment::{Catalog, PatientFacts};
use careloop_store::AuditOutcome;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::operations::Session;
use crate::{ApiError, Careloop, ErrorCode, Result};

/// `schema/alerts.json`.
#[derive(Clone, Debug, Deserialize)]
pub struct AlertSettings {
    pub recent_days: u32,
    /// The role an alert goes to when the person has no case owner.
    pub lead: String,
    pub kinds: BTreeMap<String, AlertKindSettings>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct AlertKindSettings {
    pub title: String,
    pub review_within_hours: u32,
    /// For a person with a shared care plan, proposes a case review to the plan's lead.
    #[serde(default)]
    pub high_concern: bool,
}

impl AlertSettings {
    /// The shipped settings.
    pub fn builtin() -> AlertSettings {
        serde_json::from_str(include_str!("../../../schema/alerts.json"))
            .expect("schema/alerts.json is checked by the tests")
    }

    fn kind(&self, kind: &str) -> AlertKindSettings {
        self.kinds.get(kind).cloned().unwrap_or(AlertKindSettings {
            title: kind.replace('_', " "),
            review_within_hours: 24,
            high_concern: false,
        })
    }

    /// Whether an alert of this kind is of high concern.
    pub fn high_concern(&self, kind: &str) -> bool {
        self.kinds.get(kind).is_some_and(|k| k.high_concern)
    }
}

/// An alert as the screens and the CLI show it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ts_rs::TS)]
#[ts(export)]
pub struct AlertDto {
    pub alert_id: String,
    /// ed_visit, admission, discharge, missed_appointment or social_risk.
    pub kind: String,
    pub title: String,
    pub patient_id: String,
    /// The person's name, when the panel has it.
    pub name: Option<String>,
    /// The event's day (YYYY-MM-DD).
    pub occurred: String,
    /// The review deadline (RFC 3339).
    pub due: String,
    /// open or acknowledged.
    pub status: String,
    /// Who it went to: a user, or the lead role.
    pub assignee: String,
    /// Who holds it now: the assignee, else (past the deadline) supervisor, then service_lead.
    pub level: String,
    pub overdue: bool,
    pub evidence: String,
    pub acknowledged_by: Option<String>,
    pub note: Option<String>,
}

impl Careloop {
    /// Raises, as `session`'s user, the alerts of the key events in the facts of `people`
    /// (those whose data changed), dated in the recent window up to `today`: `alert.raised`
    /// events (one transaction, one audit entry), for the alerts the log does not hold yet.
    /// Returns how many were new.
    pub(crate) fn raise_alerts(
        &mut self,
        session: &Session,
        catalog: &Catalog,
        panel: &[PatientFacts],
        people: &BTreeSet<String>,
        today: NaiveDate,
    ) -> Result<u32> {
        if people.is_empty() {
            return Ok(0);
        }
        let at = session.at;
        let settings = AlertSettings::builtin();
        let since = today - Duration::days(i64::from(settings.recent_days));
        let team = self.team()?;
        let state = &self.ops()?.state;
        // The owner of each person's open case (the most recently opened one with an owner).
        let mut owners: BTreeMap<String, (DateTime<Utc>, String)> = BTreeMap::new();
        for case in state.cases.values() {
            if case.status == careloop_ops::CaseStatus::Closed || !people.contains(&case.patient_id)
            {
                continue;
            }
            if let Some(owner) = &case.owner {
                let entry = owners
                    .entry(case.patient_id.clone())
                    .or_insert((case.opened_at, owner.clone()));
                if case.opened_at > entry.0 {
                    *entry = (case.opened_at, owner.clone());
                }
            }
        }
        let mut raised: BTreeSet<uuid::Uuid> = BTreeSet::new();
        let mut recorded = Vec::new();
        for id in people {
            let Ok(i) = panel.binary_search_by(|p| p.id.as_str().cmp(id)) else {
                continue;
            };
            for event in key_events(&panel[i], &catalog.value_sets, since, today) {
                let kind = event.kind.as_str();
                let source = format!("{}/{}", event.resource_type, event.resource_id);
                let alert_id = careloop_ops::alert_id(&team, kind, &source);
                if state.alerts.contains_key(&alert_id) || !raised.insert(alert_id) {
                    continue;
                }
                let hours = settings.kind(kind).review_within_hours;
                recorded.push(Recorded {
                    id: crate::operations::new_event_id(at),
                    at,
                    actor: session.user.clone(),
                    role: session.role,
                    patient_id: id.clone(),
                    event: OpEvent::AlertRaised {
                        alert_id,
                        kind: kind.to_owned(),
                        source,
                        occurred: event.date,
                        due: at + Duration::hours(i64::from(hours)),
                        assignee: owners
                            .get(id)
                            .map_or_else(|| "lead".to_owned(), |(_, o)| o.clone()),
                        evidence: event.evidence,
                    },
                });
            }
        }
        let count = recorded.len() as u32;
        if count > 0 {
            let entry = crate::operations::audit_entry(
                session,
                "alert.raise",
                None,
                Some(format!("{count} alerts")),
                AuditOutcome::Allowed,
            );
            self.commit_recorded(recorded, entry)?;
            tracing::info!(raised = count, "alerts raised");
        }
        Ok(count)
    }

    /// The alerts, unacknowledged first (all of them with `all`), as of the session's time.
    /// Care roles only; reading names people, so it is audited.
    pub fn alerts(&mut self, session: &Session, all: bool) -> Result<Vec<AlertDto>> {
        self.authorize(session, Operation::HandleAlerts, "read alerts", None, None)?;
        let settings = AlertSettings::builtin();
        let ops = self.ops()?;
        let mut rows: Vec<AlertDto> = ops
            .state
            .alerts
            .values()
            .filter(|a| all || a.acknowledged_at.is_none())
            .map(|a| AlertDto {
                name: ops.people.get(&a.patient_id).map(|p| p.name.clone()),
                ..alert_dto(a, &settings, session.at)
            })
            .collect();
        // Open first, then by deadline.
        rows.sort_by(|a, b| {
            (a.status != "open", &a.due, &a.alert_id).cmp(&(
                b.status != "open",
                &b.due,
                &b.alert_id,
            ))
        });
        self.store.append_audit(&crate::operations::audit_entry(
            session,
            "alert.list",
            None,
            Some(format!("{} alerts", rows.len())),
            AuditOutcome::Allowed,
        ))?;
        Ok(rows)
    }

    /// Acknowledges an alert (its assignee, anyone holding it after it went up, or a
    /// supervisor), with an optional note: an `alert.acknowledged` event, audited.
    pub fn acknowledge_alert(
        &mut self,
        session: &Session,
        alert_id: &str,
        note: Option<&str>,
    ) -> Result<AlertDto> {
        self.authorize(
            session,
            Operation::HandleAlerts,
            "acknowledge an alert",
            None,
            Some(alert_id.to_owned()),
        )?;
        let settings = AlertSettings::builtin();
        let id = crate::dto::parse_id("alert", alert_id)?;
        let alert =
            self.ops()?.state.alerts.get(&id).cloned().ok_or_else(|| {
                ApiError::new(ErrorCode::NotFound, format!("no alert {alert_id}"))
            })?;
        if let Some(by) = &alert.acknowledged_by {
            return Err(ApiError::new(
                ErrorCode::Conflict,
                format!("alert {alert_id} was acknowledged by {by}"),
            ));
        }
        let dto = alert_dto(&alert, &settings, session.at);
        let role = session.role.to_string();
        let holds = dto.assignee == session.user
            || (dto.assignee == "lead" && role == settings.lead)
            || dto.level == role
            || session.role == careloop_ops::Role::Supervisor;
        if !holds {
            self.store.append_audit(&crate::operations::audit_entry(
                session,
                "alert.ack",
                Some(&alert.patient_id),
                Some(alert_id.to_owned()),
                AuditOutcome::Denied,
            ))?;
            return Err(ApiError::new(
                ErrorCode::Forbidden,
                format!(
                    "alert {alert_id} is for {}; {} may not acknowledge it",
                    dto.assignee, session.user
                ),
            ));
        }
        let note = note
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(str::to_owned);
        self.commit(
            session,
            "alert.ack",
            vec![OpEvent::AlertAcknowledged { alert_id: id, note }],
            &alert.patient_id,
            Some(alert_id.to_owned()),
        )?;
        let ops = self.ops()?;
        let acknowledged = &ops.state.alerts[&id];
        Ok(AlertDto {
            name: ops
                .people
                .get(&acknowledged.patient_id)
                .map(|p| p.name.clone()),
            ..alert_dto(acknowledged, &settings, session.at)
        })
    }
}

fn alert_dto(a: &careloop_ops::Alert, settings: &AlertSettings, now: DateTime<Utc>) -> AlertDto {
    let kind = settings.kind(&a.kind);
    let open = a.acknowledged_at.is_none();
    let step = Duration::hours(i64::from(kind.review_within_hours));
    let level = if !open || now <= a.due {
        a.assignee.clone()
    } else if now <= a.due + step {
        "supervisor".to_owned()
    } else {
        "service_lead".to_owned()
    };
    AlertDto {
        alert_id: a.alert_id.to_string(),
        kind: a.kind.clone(),
        title: kind.title,
        patient_id: a.patient_id.clone(),
        name: None,
        occurred: a.occurred.to_string(),
        due: a.due.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        status: if open { "open" } else { "acknowledged" }.to_owned(),
        assignee: a.assignee.clone(),
        level,
        overdue: open && now > a.due,
        evidence: a.evidence.clone(),
        acknowledged_by: a.acknowledged_by.clone(),
        note: a.note.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use careloop_segment::alerts::AlertKind;

    #[test]
    fn the_shipped_settings_name_every_kind() {
        let settings = AlertSettings::builtin();
        for kind in AlertKind::ALL {
            let k = &settings.kinds[kind.as_str()];
            assert!(k.review_within_hours > 0 && !k.title.is_empty());
        }
        assert!(settings.recent_days > 0);
    }
}
