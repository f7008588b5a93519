//! What offline-first sync keeps in the cache: the server order of events, the outbox (our
//! events the server has not acknowledged yet), and small named values (`sync_meta`: the
//! server URL, the pinned certificate, pull cursors, the last sync).
//!
//! Invariants:
//! - The event log stays append-only; the server's order lives in `event_sync` beside it.
//! - Pulled events and the cursor that covers them are written in one transaction, so a
//!   crash never skips or repeats what a cursor claims.
//! - The outbox is not a copy: it is the events without a server order, so it survives
//!   crashes by construction and cannot drift from the log.

use rusqlite::{params, OptionalExtension};
use uuid::Uuid;

use crate::events::{append_in, validate, Appended};
use crate::{Event, NewEvent, Result, Store, StoreError};

/// An event in the order sync folds it: the server's order when it has one (`server_seq`),
/// then our not yet acknowledged events in local order.
#[derive(Clone, Debug, PartialEq)]
pub struct SyncedEvent {
    pub event: Event,
    pub server_seq: Option<i64>,
}

/// What [`Store::apply_pulled`] did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Pulled {
    /// Events new to this cache.
    pub new: u32,
    /// Events already here (our own coming back, or a repeated delivery).
    pub known: u32,
}

const SELECT_EVENT: &str =
    "SELECT e.seq, e.id, e.kind, e.subject, e.actor, e.occurred_at, e.payload,
        e.payload_version, s.server_seq
     FROM event e LEFT JOIN event_sync s ON s.event_id = e.id";

impl Store {
    /// Every event in sync order: acknowledged ones by server order, then the outbox by local
    /// order. Calls `f` for each; stops at the first error.
    pub fn for_each_event_in_sync_order(
        &self,
        mut f: impl FnMut(SyncedEvent) -> Result<()>,
    ) -> Result<()> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "{SELECT_EVENT} ORDER BY s.server_seq IS NULL, s.server_seq, e.seq"
        ))?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            let event = crate::events::read_event(row)??;
            let server_seq: Option<i64> = row.get(8)?;
            f(SyncedEvent { event, server_seq })?;
        }
        Ok(())
    }

    /// The outbox: our events the server has not acknowledged, oldest first, at most `limit`.
    pub fn outbox(&self, limit: u32) -> Result<Vec<Event>> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "{SELECT_EVENT} WHERE s.server_seq IS NULL ORDER BY e.seq LIMIT ?1"
        ))?;
        let rows = stmt.query_map(params![limit], crate::events::read_event)?;
        rows.map(|r| r?).collect()
    }

    /// How many events wait in the outbox.
    pub fn outbox_count(&self) -> Result<u64> {
        Ok(self.conn.query_row(
            "SELECT count(*) FROM event e LEFT JOIN event_sync s ON s.event_id = e.id
             WHERE s.server_seq IS NULL",
            [],
            |r| r.get::<_, i64>(0),
        )? as u64)
    }

    /// Records the server's order of our events (its acknowledgement), in one transaction.
    /// Acknowledging an event twice with the same order is a no-op; an event unknown here or
    /// a different order is refused and nothing is written.
    pub fn acknowledge(&mut self, acks: &[(Uuid, i64)]) -> Result<()> {
        let tx = self.conn.transaction()?;
        for (id, server_seq) in acks {
            record_server_seq(&tx, *id, *server_seq)?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Stores a page of pulled events with their server order, and the cursor that covers
    /// them under `cursor_key`, in one transaction: all or nothing. Events already here
    /// (same id, same content) are recognised; the same id with other content is refused.
    pub fn apply_pulled(
        &mut self,
        events: &[(NewEvent, i64)],
        cursor_key: &str,
        cursor: i64,
    ) -> Result<Pulled> {
        events.iter().try_for_each(|(e, _)| validate(e))?;
        let tx = self.conn.transaction()?;
        let mut pulled = Pulled::default();
        for (event, server_seq) in events {
            match append_in(&tx, event)? {
                Appended::New(_) => pulled.new += 1,
                Appended::AlreadyPresent(_) => pulled.known += 1,
            }
            record_server_seq(&tx, event.id, *server_seq)?;
        }
        set_meta_in(&tx, cursor_key, &cursor.to_string())?;
        tx.commit()?;
        Ok(pulled)
    }

    /// A sync value, if set.
    pub fn sync_meta(&self, key: &str) -> Result<Option<String>> {
        Ok(self
            .conn
            .prepare_cached("SELECT value FROM sync_meta WHERE key = ?1")?
            .query_row(params![key], |r| r.get(0))
            .optional()?)
    }

    /// Sets a sync value.
    pub fn set_sync_meta(&mut self, key: &str, value: &str) -> Result<()> {
        set_meta_in(&self.conn, key, value)
    }
}

fn set_meta_in(conn: &rusqlite::Connection, key: &str, value: &str) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO sync_meta (key, value) VALUES (?1, ?2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )?
    .execute(params![key, value])?;
    Ok(())
}

fn record_server_seq(tx: &rusqlite::Transaction<'_>, id: Uuid, server_seq: i64) -> Result<()> {
    let id_text = id.to_string();
    let known: Option<i64> = tx
        .prepare_cached("SELECT server_seq FROM event_sync WHERE event_id = ?1")?
        .query_row(params![id_text], |r| r.get(0))
        .optional()?;
    match known {
        Some(seq) if seq == server_seq => Ok(()),
        Some(seq) => Err(StoreError::InvalidEvent(format!(
            "event {id} already has server order {seq}, not {server_seq}"
        ))),
        None => {
            let exists: bool = tx
                .prepare_cached("SELECT 1 FROM event WHERE id = ?1")?
                .query_row(params![id_text], |_| Ok(true))
                .optional()?
                .unwrap_or(false);
            if !exists {
                return Err(StoreError::InvalidEvent(format!(
                    "event {id} is acknowledged but not in the log"
                )));
            }
            tx.prepare_cached("INSERT INTO event_sync (event_id, server_seq) VALUES (?1, ?2)")?
                .execute(params![id_text, server_seq])
                .map_err(|e| match e {
                    rusqlite::Error::SqliteFailure(f, _)
                        if f.code == rusqlite::ErrorCode::ConstraintViolation =>
                    {
                        StoreError::InvalidEvent(format!(
                            "server order {server_seq} is already given to another event"
                        ))
                    }
                    e => e.into(),
                })?;
            Ok(())
        }
    }
}
