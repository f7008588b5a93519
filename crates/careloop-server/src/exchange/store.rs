//! What the referral exchange keeps (migration 0003): the services directory, the partner
//! clients and their tokens, the referral Tasks, and the partner access log. A part of
//! [`crate::storage::Storage`] (its supertrait), so a PostgreSQL backend implements it too.

use careloop_wire::{Directory, PartnerWire, ServiceWire, WireEvent};
use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension, Transaction};
use uuid::Uuid;

use crate::error::{Result, ServerError};
use crate::storage::{parse_time, time, SqliteStorage};

/// A referral as the partner sees it: a FHIR Task, kept by the server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaskRow {
    /// The referral's id (the Task's id).
    pub id: Uuid,
    pub team: String,
    /// The partner organisation that owns the Task.
    pub org: String,
    pub service_id: String,
    pub case_id: Uuid,
    pub patient_id: String,
    /// The FHIR Task status: requested, accepted, rejected, in-progress, completed.
    pub status: String,
    /// The referral's reason, as the coordinator wrote it.
    pub reason: String,
    pub consent: String,
    pub authored_on: DateTime<Utc>,
    pub last_modified: DateTime<Utc>,
    /// Grows with each answer (the Task's `meta.versionId`).
    pub version: i64,
    /// Rejected: why.
    pub status_reason: Option<String>,
    /// In progress: the day the service started (YYYY-MM-DD).
    pub start_date: Option<String>,
    /// Completed: the outcome (or a note given with another answer).
    pub outcome: Option<String>,
    /// The partner client that answered last.
    pub answered_by: Option<String>,
}

/// A partner system allowed to call the exchange (SMART Backend Services).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartnerClient {
    pub client_id: String,
    pub org: String,
    /// Its public keys, a JWKS document (`{"keys": [...]}`).
    pub jwks: String,
    pub disabled: bool,
}

/// A partner access token as stored (its digest, never the token).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartnerToken {
    pub client_id: String,
    pub org: String,
    pub scope: String,
    pub expires_at: DateTime<Utc>,
}

/// One partner read or write: who, what, which Task, what came of it. Never a person's data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartnerAccess {
    pub at: DateTime<Utc>,
    pub client_id: String,
    pub org: String,
    /// `search`, `read`, `answer`, `token`.
    pub action: String,
    pub task_id: Option<String>,
    /// `ok`, `forbidden`, `not_found`, `refused: …` (the error code).
    pub outcome: String,
}

/// The exchange's part of the server's storage.
pub trait ExchangeStorage {
    /// Adds a partner organisation (a taken id is a conflict).
    fn add_partner(&self, id: &str, name: &str) -> Result<()>;
    /// Adds a partner's service, or replaces it (same id, same partner).
    fn put_partner_service(&self, org: &str, service: &ServiceWire) -> Result<()>;
    fn directory(&self) -> Result<Directory>;
    /// A service and the partner that offers it.
    fn partner_service(&self, id: &str) -> Result<Option<(String, ServiceWire)>>;
    fn add_partner_client(&self, client: &PartnerClient) -> Result<()>;
    fn partner_client(&self, client_id: &str) -> Result<Option<PartnerClient>>;
    /// Records a client assertion's id; false when it was used before (a replay). Forgets
    /// the ids whose assertions expired before `now`.
    fn use_assertion(
        &self,
        client_id: &str,
        jti: &str,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<bool>;
    fn insert_partner_token(&self, digest: &str, token: &PartnerToken) -> Result<()>;
    fn partner_token(&self, digest: &str) -> Result<Option<PartnerToken>>;
    fn task(&self, id: Uuid) -> Result<Option<TaskRow>>;
    /// A partner's Tasks, oldest first, of one status or all.
    fn tasks(&self, org: &str, status: Option<&str>) -> Result<Vec<TaskRow>>;
    /// Stores a partner's answer: the Task as answered (if its version is still
    /// `expected_version`) and the event it makes in the team's log, in one transaction.
    /// Returns the event's place in the global order.
    fn answer_task(&self, task: &TaskRow, expected_version: i64, event: &WireEvent) -> Result<i64>;
    fn record_partner_access(&self, access: &PartnerAccess) -> Result<()>;
    /// The partner access log, oldest first.
    fn partner_access_log(&self) -> Result<Vec<PartnerAccess>>;
    /// The Patient resource last published for a team (what a partner's Task shows of
    /// the person is read from it).
    fn patient_json(&self, team: &str, patient_id: &str) -> Result<Option<String>>;
}

fn parse_uuid(text: &str) -> rusqlite::Result<Uuid> {
    Uuid::parse_str(text).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e))
    })
}

const SELECT_TASK: &str = "SELECT id, team, org, service_id, case_id, patient_id, status, reason, consent,
    authored_on, last_modified, version, status_reason, start_date, outcome, answered_by FROM referral_task";

fn read_task(r: &rusqlite::Row<'_>) -> rusqlite::Result<TaskRow> {
    Ok(TaskRow {
        id: parse_uuid(&r.get::<_, String>(0)?)?,
        team: r.get(1)?,
        org: r.get(2)?,
        service_id: r.get(3)?,
        case_id: parse_uuid(&r.get::<_, String>(4)?)?,
        patient_id: r.get(5)?,
        status: r.get(6)?,
        reason: r.get(7)?,
        consent: r.get(8)?,
        authored_on: parse_time(&r.get::<_, String>(9)?)?,
        last_modified: parse_time(&r.get::<_, String>(10)?)?,
        version: r.get(11)?,
        status_reason: r.get(12)?,
        start_date: r.get(13)?,
        outcome: r.get(14)?,
        answered_by: r.get(15)?,
    })
}

const SELECT_SERVICE: &str = "SELECT org, id, name, service_type, area, languages, eligibility,
    contact_role, respond_days, start_days FROM partner_service";

fn read_service(r: &rusqlite::Row<'_>) -> rusqlite::Result<(String, ServiceWire)> {
    let languages: String = r.get(5)?;
    Ok((
        r.get(0)?,
        ServiceWire {
            id: r.get(1)?,
            name: r.get(2)?,
            service_type: r.get(3)?,
            area: r.get(4)?,
            languages: languages
                .split(',')
                .filter(|l| !l.is_empty())
                .map(str::to_owned)
                .collect(),
            eligibility: r.get(6)?,
            contact_role: r.get(7)?,
            respond_within_working_days: r.get(8)?,
            start_within_working_days: r.get(9)?,
        },
    ))
}

/// Refuses an organisation the directory does not have.
fn require_partner(conn: &rusqlite::Connection, org: &str) -> Result<()> {
    let known: Option<String> = conn
        .query_row(
            "SELECT id FROM partner_org WHERE id = ?1",
            params![org],
            |r| r.get(0),
        )
        .optional()?;
    match known {
        Some(_) => Ok(()),
        None => Err(ServerError::NotFound(format!(
            "no partner {org}: add it first (careloop admin partner add)"
        ))),
    }
}

/// Adds the Task a pushed event makes (a referral sent to a directory service), inside the
/// push's transaction; a Task already there is kept (a retried push).
pub(crate) fn insert_task(tx: &Transaction<'_>, task: &TaskRow) -> Result<()> {
    tx.prepare_cached(
        "INSERT OR IGNORE INTO referral_task (id, team, org, service_id, case_id, patient_id, status,
             reason, consent, authored_on, last_modified, version)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    )?
    .execute(params![
        task.id.to_string(),
        task.team,
        task.org,
        task.service_id,
        task.case_id.to_string(),
        task.patient_id,
        task.status,
        task.reason,
        task.consent,
        time(task.authored_on),
        time(task.last_modified),
        task.version,
    ])?;
    Ok(())
}

impl ExchangeStorage for SqliteStorage {
    fn add_partner(&self, id: &str, name: &str) -> Result<()> {
        let inserted = self.conn().execute(
            "INSERT INTO partner_org (id, name) VALUES (?1, ?2) ON CONFLICT (id) DO NOTHING",
            params![id, name],
        )?;
        if inserted == 0 {
            return Err(ServerError::Conflict(format!(
                "partner {id} already exists"
            )));
        }
        Ok(())
    }

    fn put_partner_service(&self, org: &str, s: &ServiceWire) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        require_partner(&tx, org)?;
        let owner: Option<String> = tx
            .query_row(
                "SELECT org FROM partner_service WHERE id = ?1",
                params![s.id],
                |r| r.get(0),
            )
            .optional()?;
        if owner.as_deref().is_some_and(|o| o != org) {
            return Err(ServerError::Conflict(format!(
                "service {} belongs to another partner",
                s.id
            )));
        }
        tx.execute(
            "INSERT INTO partner_service (id, org, name, service_type, area, languages, eligibility,
                 contact_role, respond_days, start_days)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
             ON CONFLICT (id) DO UPDATE SET name = ?3, service_type = ?4, area = ?5,
                 languages = ?6, eligibility = ?7, contact_role = ?8, respond_days = ?9,
                 start_days = ?10",
            params![
                s.id,
                org,
                s.name,
                s.service_type,
                s.area,
                s.languages.join(","),
                s.eligibility,
                s.contact_role,
                s.respond_within_working_days,
                s.start_within_working_days
            ],
        )?;
        tx.commit()?;
        Ok(())
    }

    fn directory(&self) -> Result<Directory> {
        let conn = self.conn();
        let mut partners: Vec<PartnerWire> = conn
            .prepare("SELECT id, name FROM partner_org ORDER BY id")?
            .query_map([], |r| {
                Ok(PartnerWire {
                    id: r.get(0)?,
                    name: r.get(1)?,
                    services: Vec::new(),
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        let services: Vec<(String, ServiceWire)> = conn
            .prepare(&format!("{SELECT_SERVICE} ORDER BY org, id"))?
            .query_map([], read_service)?
            .collect::<rusqlite::Result<_>>()?;
        for (org, service) in services {
            if let Some(p) = partners.iter_mut().find(|p| p.id == org) {
                p.services.push(service);
            }
        }
        Ok(Directory { partners })
    }

    fn partner_service(&self, id: &str) -> Result<Option<(String, ServiceWire)>> {
        Ok(self
            .conn()
            .prepare_cached(&format!("{SELECT_SERVICE} WHERE id = ?1"))?
            .query_row(params![id], read_service)
            .optional()?)
    }

    fn add_partner_client(&self, client: &PartnerClient) -> Result<()> {
        let conn = self.conn();
        require_partner(&conn, &client.org)?;
        let inserted = conn.execute(
            "INSERT INTO partner_client (client_id, org, jwks, disabled) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (client_id) DO NOTHING",
            params![
                client.client_id,
                client.org,
                client.jwks,
                client.disabled as i64
            ],
        )?;
        if inserted == 0 {
            return Err(ServerError::Conflict(format!(
                "client {} already exists",
                client.client_id
            )));
        }
        Ok(())
    }

    fn partner_client(&self, client_id: &str) -> Result<Option<PartnerClient>> {
        Ok(self
            .conn()
            .prepare_cached(
                "SELECT client_id, org, jwks, disabled FROM partner_client WHERE client_id = ?1",
            )?
            .query_row(params![client_id], |r| {
                Ok(PartnerClient {
                    client_id: r.get(0)?,
                    org: r.get(1)?,
                    jwks: r.get(2)?,
                    disabled: r.get::<_, i64>(3)? != 0,
                })
            })
            .optional()?)
    }

    fn use_assertion(
        &self,
        client_id: &str,
        jti: &str,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        tx.execute(
            "DELETE FROM partner_assertion WHERE expires_at < ?1",
            params![time(now)],
        )?;
        let inserted = tx.execute(
            "INSERT INTO partner_assertion (client_id, jti, expires_at) VALUES (?1, ?2, ?3)
             ON CONFLICT DO NOTHING",
            params![client_id, jti, time(expires_at)],
        )?;
        tx.commit()?;
        Ok(inserted == 1)
    }

    fn insert_partner_token(&self, digest: &str, token: &PartnerToken) -> Result<()> {
        let conn = self.conn();
        conn.execute(
            "DELETE FROM partner_token WHERE client_id = ?1 AND expires_at < ?2",
            params![
                token.client_id,
                time(token.expires_at - chrono::Duration::days(1))
            ],
        )?;
        conn.execute(
            "INSERT INTO partner_token (digest, client_id, org, scope, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![digest, token.client_id, token.org, token.scope, time(token.expires_at)],
        )?;
        Ok(())
    }

    fn partner_token(&self, digest: &str) -> Result<Option<PartnerToken>> {
        Ok(self
            .conn()
            .prepare_cached(
                "SELECT client_id, org, scope, expires_at FROM partner_token WHERE digest = ?1",
            )?
            .query_row(params![digest], |r| {
                Ok(PartnerToken {
                    client_id: r.get(0)?,
                    org: r.get(1)?,
                    scope: r.get(2)?,
                    expires_at: parse_time(&r.get::<_, String>(3)?)?,
                })
            })
            .optional()?)
    }

    fn task(&self, id: Uuid) -> Result<Option<TaskRow>> {
        Ok(self
            .conn()
            .prepare_cached(&format!("{SELECT_TASK} WHERE id = ?1"))?
            .query_row(params![id.to_string()], read_task)
            .optional()?)
    }

    fn tasks(&self, org: &str, status: Option<&str>) -> Result<Vec<TaskRow>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(&format!(
            "{SELECT_TASK} WHERE org = ?1 AND (?2 IS NULL OR status = ?2) ORDER BY authored_on, id"
        ))?;
        let rows = stmt
            .query_map(params![org, status], read_task)?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }

    fn answer_task(&self, task: &TaskRow, expected_version: i64, e: &WireEvent) -> Result<i64> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let updated = tx.execute(
            "UPDATE referral_task SET status = ?2, status_reason = ?3, start_date = ?4, outcome = ?5,
                 answered_by = ?6, last_modified = ?7, version = ?8
             WHERE id = ?1 AND version = ?9",
            params![
                task.id.to_string(),
                task.status,
                task.status_reason,
                task.start_date,
                task.outcome,
                task.answered_by,
                time(task.last_modified),
                task.version,
                expected_version
            ],
        )?;
        if updated == 0 {
            return Err(ServerError::Conflict(format!(
                "Task {} changed while this answer was made: read it again",
                task.id
            )));
        }
        let payload = serde_json::to_string(&e.payload)
            .map_err(|err| ServerError::Internal(format!("event {}: {err}", e.id)))?;
        tx.execute(
            "INSERT INTO event (id, team, workstation, kind, subject, actor, occurred_at, payload, payload_version)
             VALUES (?1, ?2, 'partner-exchange', ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                e.id.to_string(),
                task.team,
                e.kind,
                e.subject,
                e.actor,
                time(e.occurred_at),
                payload,
                e.payload_version
            ],
        )?;
        let seq = tx.last_insert_rowid();
        tx.commit()?;
        Ok(seq)
    }

    fn record_partner_access(&self, a: &PartnerAccess) -> Result<()> {
        self.conn().execute(
            "INSERT INTO partner_access (at, client_id, org, action, task_id, outcome) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![time(a.at), a.client_id, a.org, a.action, a.task_id, a.outcome],
        )?;
        Ok(())
    }

    fn partner_access_log(&self) -> Result<Vec<PartnerAccess>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT at, client_id, org, action, task_id, outcome FROM partner_access ORDER BY seq",
        )?;
        let rows = stmt
            .query_map([], |r| {
                Ok(PartnerAccess {
                    at: parse_time(&r.get::<_, String>(0)?)?,
                    client_id: r.get(1)?,
                    org: r.get(2)?,
                    action: r.get(3)?,
                    task_id: r.get(4)?,
                    outcome: r.get(5)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }

    fn patient_json(&self, team: &str, patient_id: &str) -> Result<Option<String>> {
        Ok(self
            .conn()
            .prepare_cached(
                "SELECT json FROM panel_item WHERE team = ?1 AND item_key = ?2 ORDER BY seq DESC LIMIT 1",
            )?
            .query_row(params![team, format!("Patient/{patient_id}")], |r| r.get(0))
            .optional()?)
    }
}
