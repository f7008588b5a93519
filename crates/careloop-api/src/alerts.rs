//! Alerts on key events (an ED visit, an admission or discharge, a missed appointment, a new
//! social risk) for anyone in the panel: found by the live lists in the facts of the people
//! whose data changed (`careloop_segment::alerts::key_events`, events of the last
//! `recent_days`), one per source resource (its id derived from team, kind and source), sent
//! to the owner of the person's open case else the team's lead, due within the kind's review
//! time (`schema/alerts.json`). Unacknowledged past the deadline, an alert goes up like an
//! escalation: the supervisor, then (after the same time again) the service lead.

use std::collections::{BTreeMap, BTreeSet};

use careloop_ops::rbac::Operation;
use careloop_segment::alerts::key_events;
use careloop_segment::{Catalog, PatientFacts};
use careloop_store::{Alert, AuditOutcome};
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
        })
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
    /// Raises the alerts of the key events in the facts of `people` (those whose data changed),
    /// dated in the recent window up to `today`. Returns how many were new.
    pub(crate) fn raise_alerts(
        &mut self,
        catalog: &Catalog,
        panel: &[PatientFacts],
        people: &BTreeSet<String>,
        today: NaiveDate,
        at: DateTime<Utc>,
    ) -> Result<u32> {
        if people.is_empty() {
            return Ok(0);
        }
        let settings = AlertSettings::builtin();
        let since = today - Duration::days(i64::from(settings.recent_days));
        let team = self.team()?;
        // The owner of each person's open case (the most recently opened one with an owner).
        let mut owners: BTreeMap<String, (DateTime<Utc>, String)> = BTreeMap::new();
        for case in self.ops()?.state.cases.values() {
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
        let at_text = at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let mut alerts = Vec::new();
        for id in people {
            let Ok(i) = panel.binary_search_by(|p| p.id.as_str().cmp(id)) else {
                continue;
            };
            for event in key_events(&panel[i], &catalog.value_sets, since, today) {
                let kind = event.kind.as_str();
                let source = format!("{}/{}", event.resource_type, event.resource_id);
                let hours = settings.kind(kind).review_within_hours;
                alerts.push(Alert {
                    alert_id: careloop_ops::alert_id(&team, kind, &source).to_string(),
                    kind: kind.to_owned(),
                    patient_id: id.clone(),
                    source,
                    occurred: event.date.to_string(),
                    raised_at: at_text.clone(),
                    due: (at + Duration::hours(i64::from(hours)))
                        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                    assignee: owners
                        .get(id)
                        .map_or_else(|| "lead".to_owned(), |(_, o)| o.clone()),
                    evidence: event.evidence,
                    acknowledged_by: None,
                    acknowledged_at: None,
                    note: None,
                });
            }
        }
        let raised = self.store.raise_alerts(&alerts)?;
        if !raised.is_empty() {
            tracing::info!(raised = raised.len(), "alerts raised");
        }
        Ok(raised.len() as u32)
    }

    /// The alerts, unacknowledged first (all of them with `all`), as of the session's time.
    /// Care roles only; reading names people, so it is audited.
    pub fn alerts(&mut self, session: &Session, all: bool) -> Result<Vec<AlertDto>> {
        self.authorize(session, Operation::HandleAlerts, "read alerts", None, None)?;
        let settings = AlertSettings::builtin();
        let stored = self.store.alerts()?;
        let people = &self.ops()?.people;
        let rows: Vec<AlertDto> = stored
            .into_iter()
            .filter(|a| all || a.acknowledged_at.is_none())
            .map(|a| {
                let name = people.get(&a.patient_id).map(|p| p.name.clone());
                AlertDto {
                    name,
                    ..alert_dto(a, &settings, session.at)
                }
            })
            .collect();
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
    /// supervisor), with an optional note. Audited.
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
        let alert = self
            .store
            .alerts()?
            .into_iter()
            .find(|a| a.alert_id == alert_id)
            .ok_or_else(|| ApiError::new(ErrorCode::NotFound, format!("no alert {alert_id}")))?;
        if alert.acknowledged_at.is_some() {
            return Err(ApiError::new(
                ErrorCode::Conflict,
                format!(
                    "alert {alert_id} was acknowledged by {}",
                    alert.acknowledged_by.as_deref().unwrap_or("someone")
                ),
            ));
        }
        let dto = alert_dto(alert.clone(), &settings, session.at);
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
        let at = session
            .at
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        self.store
            .acknowledge_alert(alert_id, &session.user, &at, note)?;
        self.store.append_audit(&crate::operations::audit_entry(
            session,
            "alert.ack",
            Some(&alert.patient_id),
            Some(alert_id.to_owned()),
            AuditOutcome::Allowed,
        ))?;
        let acknowledged = self
            .store
            .alerts()?
            .into_iter()
            .find(|a| a.alert_id == alert_id)
            .expect("just acknowledged");
        Ok(alert_dto(acknowledged, &settings, session.at))
    }
}

fn alert_dto(a: Alert, settings: &AlertSettings, now: DateTime<Utc>) -> AlertDto {
    let kind = settings.kind(&a.kind);
    let due = DateTime::parse_from_rfc3339(&a.due)
        .map(|d| d.with_timezone(&Utc))
        .unwrap_or(now);
    let open = a.acknowledged_at.is_none();
    let step = Duration::hours(i64::from(kind.review_within_hours));
    let level = if !open || now <= due {
        a.assignee.clone()
    } else if now <= due + step {
        "supervisor".to_owned()
    } else {
        "service_lead".to_owned()
    };
    AlertDto {
        alert_id: a.alert_id,
        kind: a.kind,
        title: kind.title,
        patient_id: a.patient_id,
        name: None,
        occurred: a.occurred,
        due: a.due,
        status: if open { "open" } else { "acknowledged" }.to_owned(),
        assignee: a.assignee,
        level,
        overdue: open && now > due,
        evidence: a.evidence,
        acknowledged_by: a.acknowledged_by,
        note: a.note,
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
