//! Alerts on key events (`schema/migrations/0011_alerts.sql`): one row per alert id, raised
//! once however often its source is seen, acknowledged once.

use rusqlite::params;

use crate::{Result, Store};

/// One alert.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Alert {
    pub alert_id: String,
    /// ed_visit, admission, discharge, missed_appointment or social_risk.
    pub kind: String,
    pub patient_id: String,
    /// "ResourceType/id" of the source resource.
    pub source: String,
    /// The event's day (YYYY-MM-DD).
    pub occurred: String,
    pub raised_at: String,
    pub due: String,
    /// A user, or "lead" (the team's lead role).
    pub assignee: String,
    pub evidence: String,
    pub acknowledged_by: Option<String>,
    pub acknowledged_at: Option<String>,
    pub note: Option<String>,
}

impl Store {
    /// Stores the alerts not stored yet (by id), in one transaction; returns those that
    /// were new.
    pub fn raise_alerts(&mut self, alerts: &[Alert]) -> Result<Vec<String>> {
        let tx = self.conn.transaction()?;
        let mut raised = Vec::new();
        {
            let mut insert = tx.prepare_cached(
                "INSERT INTO alert (alert_id, kind, patient_id, source, occurred, raised_at, due,
                                    assignee, evidence)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
                 ON CONFLICT (alert_id) DO NOTHING",
            )?;
            for a in alerts {
                let n = insert.execute(params![
                    a.alert_id,
                    a.kind,
                    a.patient_id,
                    a.source,
                    a.occurred,
                    a.raised_at,
                    a.due,
                    a.assignee,
                    a.evidence
                ])?;
                if n == 1 {
                    raised.push(a.alert_id.clone());
                }
            }
        }
        tx.commit()?;
        Ok(raised)
    }

    /// Every alert, unacknowledged first, then by deadline.
    pub fn alerts(&self) -> Result<Vec<Alert>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT alert_id, kind, patient_id, source, occurred, raised_at, due, assignee,
                    evidence, acknowledged_by, acknowledged_at, note
             FROM alert ORDER BY acknowledged_at IS NOT NULL, due, alert_id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(Alert {
                alert_id: r.get(0)?,
                kind: r.get(1)?,
                patient_id: r.get(2)?,
                source: r.get(3)?,
                occurred: r.get(4)?,
                raised_at: r.get(5)?,
                due: r.get(6)?,
                assignee: r.get(7)?,
                evidence: r.get(8)?,
                acknowledged_by: r.get(9)?,
                acknowledged_at: r.get(10)?,
                note: r.get(11)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Acknowledges an unacknowledged alert; false when there is no such alert or it was
    /// acknowledged already.
    pub fn acknowledge_alert(
        &mut self,
        alert_id: &str,
        by: &str,
        at: &str,
        note: Option<&str>,
    ) -> Result<bool> {
        let n = self.conn.execute(
            "UPDATE alert SET acknowledged_by = ?2, acknowledged_at = ?3, note = ?4
             WHERE alert_id = ?1 AND acknowledged_at IS NULL",
            params![alert_id, by, at, note],
        )?;
        Ok(n == 1)
    }
}
