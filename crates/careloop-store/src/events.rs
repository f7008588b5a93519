//! The append-only event log of operational changes (attempts, outcomes, assignments,
//! escalations, referrals). Events are appended and read; there is no API to change or remove
//! one, and triggers in the schema refuse it at the SQL level too.

use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::{params, OptionalExtension};
use uuid::Uuid;

use crate::{Result, Store, StoreError};

/// An event as the client makes it. The id is a UUIDv7 made by the client, so that the same
/// event pushed twice (sync retries) is recognised.
#[derive(Clone, Debug, PartialEq)]
pub struct NewEvent {
    pub id: Uuid,
    pub kind: String,
    pub subject: String,
    pub actor: String,
    pub occurred_at: DateTime<Utc>,
    pub payload: serde_json::Value,
    pub payload_version: u32,
}

impl NewEvent {
    /// Whether the event is well formed (a UUIDv7 id; kind, subject and actor given; an
    /// object payload), as the log requires: the error names the event and what is wrong.
    pub fn validate(&self) -> Result<()> {
        validate(self)
    }
}

/// An event in the log, with its local order.
#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    pub seq: i64,
    pub id: Uuid,
    pub kind: String,
    pub subject: String,
    pub actor: String,
    pub occurred_at: DateTime<Utc>,
    pub payload: serde_json::Value,
    pub payload_version: u32,
}

/// What [`Store::append_event`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Appended {
    /// The event is new; it got this local sequence number.
    New(i64),
    /// The same event (same id, same content) was already in the log.
    AlreadyPresent(i64),
}

impl Store {
    /// Appends one event and makes it durable before returning (WAL with `synchronous=FULL`:
    /// an acknowledged append survives power loss).
    ///
    /// Appending an event whose id is already in the log with identical content is a no-op;
    /// with different content it is refused.
    pub fn append_event(&mut self, event: &NewEvent) -> Result<Appended> {
        validate(event)?;
        let tx = self.conn.transaction()?;
        let outcome = append_in(&tx, event)?;
        tx.commit()?;
        Ok(outcome)
    }

    /// Appends several events atomically: all or none.
    pub fn append_events(&mut self, events: &[NewEvent]) -> Result<Vec<Appended>> {
        events.iter().try_for_each(validate)?;
        let tx = self.conn.transaction()?;
        let outcomes = events
            .iter()
            .map(|e| append_in(&tx, e))
            .collect::<Result<Vec<_>>>()?;
        tx.commit()?;
        Ok(outcomes)
    }

    /// Events after local sequence number `after_seq`, in log order, at most `limit`.
    pub fn events_after(&self, after_seq: i64, limit: u32) -> Result<Vec<Event>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT seq, id, kind, subject, actor, occurred_at, payload, payload_version
             FROM event WHERE seq > ?1 ORDER BY seq LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![after_seq, limit], read_event)?;
        rows.map(|r| r?).collect()
    }

    /// Every event about one subject, in log order.
    pub fn events_for_subject(&self, subject: &str) -> Result<Vec<Event>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT seq, id, kind, subject, actor, occurred_at, payload, payload_version
             FROM event WHERE subject = ?1 ORDER BY seq",
        )?;
        let rows = stmt.query_map(params![subject], read_event)?;
        rows.map(|r| r?).collect()
    }

    /// The local sequence number of the last event (0 for an empty log).
    pub fn last_event_seq(&self) -> Result<i64> {
        Ok(self
            .conn
            .query_row("SELECT coalesce(max(seq), 0) FROM event", [], |r| r.get(0))?)
    }

    /// Number of events in the log.
    pub fn event_count(&self) -> Result<u64> {
        Ok(self
            .conn
            .query_row("SELECT count(*) FROM event", [], |r| r.get::<_, i64>(0))? as u64)
    }
}

pub(crate) fn validate(event: &NewEvent) -> Result<()> {
    if event.id.get_version_num() != 7 {
        return Err(StoreError::InvalidEvent(format!(
            "id {} is not a UUIDv7",
            event.id
        )));
    }
    for (field, value) in [
        ("kind", &event.kind),
        ("subject", &event.subject),
        ("actor", &event.actor),
    ] {
        if value.trim().is_empty() {
            return Err(StoreError::InvalidEvent(format!(
                "event {}: {field} is empty",
                event.id
            )));
        }
    }
    if !event.payload.is_object() {
        return Err(StoreError::InvalidEvent(format!(
            "event {}: the payload must be a JSON object",
            event.id
        )));
    }
    Ok(())
}

pub(crate) fn append_in(tx: &rusqlite::Transaction<'_>, event: &NewEvent) -> Result<Appended> {
    let id = event.id.to_string();
    let occurred_at = event
        .occurred_at
        .to_rfc3339_opts(SecondsFormat::Micros, true);
    let payload = serde_json::to_string(&event.payload).expect("a JSON value always serialises");
    let existing: Option<(i64, String, String, String, String, String, u32)> = tx
        .prepare_cached(
            "SELECT seq, kind, subject, actor, occurred_at, payload, payload_version
             FROM event WHERE id = ?1",
        )?
        .query_row(params![id], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
            ))
        })
        .optional()?;
    if let Some((seq, kind, subject, actor, at, stored_payload, version)) = existing {
        let same = kind == event.kind
            && subject == event.subject
            && actor == event.actor
            && at == occurred_at
            && version == event.payload_version
            && serde_json::from_str::<serde_json::Value>(&stored_payload)
                .ok()
                .as_ref()
                == Some(&event.payload);
        return if same {
            Ok(Appended::AlreadyPresent(seq))
        } else {
            Err(StoreError::EventConflict { id })
        };
    }
    tx.prepare_cached(
        "INSERT INTO event (id, kind, subject, actor, occurred_at, payload, payload_version)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![
        id,
        event.kind,
        event.subject,
        event.actor,
        occurred_at,
        payload,
        event.payload_version
    ])?;
    Ok(Appended::New(tx.last_insert_rowid()))
}

pub(crate) fn read_event(row: &rusqlite::Row<'_>) -> rusqlite::Result<Result<Event>> {
    let seq: i64 = row.get(0)?;
    let id: String = row.get(1)?;
    let occurred_at: String = row.get(5)?;
    let payload: String = row.get(6)?;
    let corrupt = |what: &str| StoreError::InvalidEvent(format!("stored event #{seq}: {what}"));
    Ok((|| {
        Ok(Event {
            seq,
            id: Uuid::parse_str(&id).map_err(|_| corrupt("malformed id"))?,
            kind: row.get(2)?,
            subject: row.get(3)?,
            actor: row.get(4)?,
            occurred_at: DateTime::parse_from_rfc3339(&occurred_at)
                .map_err(|_| corrupt("malformed occurred_at"))?
                .with_timezone(&Utc),
            payload: serde_json::from_str(&payload).map_err(|_| corrupt("malformed payload"))?,
            payload_version: row.get(7)?,
        })
    })())
}

// An event as it travels to and from the central server (`careloop-wire`).
use careloop_wire::WireEvent;

impl From<&Event> for WireEvent {
    fn from(e: &Event) -> WireEvent {
        WireEvent {
            id: e.id,
            kind: e.kind.clone(),
            subject: e.subject.clone(),
            actor: e.actor.clone(),
            occurred_at: e.occurred_at,
            payload: e.payload.clone(),
            payload_version: e.payload_version,
        }
    }
}

impl From<WireEvent> for NewEvent {
    fn from(e: WireEvent) -> NewEvent {
        NewEvent {
            id: e.id,
            kind: e.kind,
            subject: e.subject,
            actor: e.actor,
            occurred_at: e.occurred_at,
            payload: e.payload,
            payload_version: e.payload_version,
        }
    }
}
