//! Live lists (`schema/migrations/0010_live_lists.sql`): every segment's current membership,
//! each entry and exit with its evidence, what the lists are current for, the people whose
//! facts changed since, and supervisors' dismissals of entrants to review.

use rusqlite::{params, OptionalExtension};

use crate::{Result, Store};

/// One person's place in one segment now.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Membership {
    pub segment_id: String,
    pub patient_id: String,
    /// worklist, overflow or held_back.
    pub placement: String,
    pub priority: i32,
    /// The day the person entered: the episode.
    pub since: String,
}

/// An entry into or an exit from a segment, with why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MembershipChange {
    pub seq: i64,
    /// The day evaluated as of (YYYY-MM-DD).
    pub day: String,
    /// When the change was seen (RFC 3339).
    pub at: String,
    pub segment_id: String,
    pub patient_id: String,
    /// entered or exited.
    pub change: String,
    /// `entered`, or why the person left: gap_closed, died, left_panel, no_longer_met,
    /// segment_withdrawn.
    pub reason: String,
    /// The lines of evidence (JSON array of strings).
    pub evidence: String,
    pub definitions_version: String,
}

/// What the memberships are current for.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListState {
    /// The day last evaluated as of (`None`: never).
    pub as_of: Option<String>,
    pub definitions_version: Option<String>,
    /// The last event (local seq) taken in.
    pub event_seq: i64,
}

/// A supervisor's decision not to open a case for an entrant, in that episode.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReviewDismissal {
    pub segment_id: String,
    pub patient_id: String,
    pub since: String,
    pub dismissed_by: String,
    pub dismissed_at: String,
    pub reason: String,
}

/// One evaluation's outcome, written at once: the memberships to set (insert or replace),
/// those to remove, the changes to record, and the state the lists are then current for.
#[derive(Clone, Debug, Default)]
pub struct ListUpdate {
    pub set: Vec<Membership>,
    /// (segment, person).
    pub remove: Vec<(String, String)>,
    /// Recorded in order (`seq` is assigned).
    pub changes: Vec<MembershipChange>,
    pub state: ListState,
    /// The people taken off `list_dirty` (those evaluated).
    pub evaluated: Vec<String>,
    /// Everyone was evaluated: the whole list goes.
    pub evaluated_everyone: bool,
}

impl Store {
    /// What the memberships are current for.
    pub fn list_state(&self) -> Result<ListState> {
        Ok(self.conn.query_row(
            "SELECT as_of, definitions_version, event_seq FROM list_state WHERE id = 1",
            [],
            |r| {
                Ok(ListState {
                    as_of: r.get(0)?,
                    definitions_version: r.get(1)?,
                    event_seq: r.get(2)?,
                })
            },
        )?)
    }

    /// The people whose facts were written since the lists last evaluated them.
    pub fn list_dirty(&self) -> Result<Vec<String>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT patient_id FROM list_dirty ORDER BY patient_id")?;
        let rows = stmt.query_map([], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// How many people are on `list_dirty`.
    pub fn list_dirty_count(&self) -> Result<u64> {
        let n: i64 = self
            .conn
            .query_row("SELECT count(*) FROM list_dirty", [], |r| r.get(0))?;
        Ok(n as u64)
    }

    /// How many memberships there are now.
    /// Counts the writes of the lists ([`Store::apply_list_update`]): memberships read at
    /// one generation are current while it stays the same.
    pub fn list_generation(&self) -> Result<i64> {
        Ok(self
            .conn
            .query_row("SELECT generation FROM list_state WHERE id = 1", [], |r| {
                r.get(0)
            })?)
    }

    pub fn membership_count(&self) -> Result<u64> {
        let n: i64 = self
            .conn
            .query_row("SELECT count(*) FROM membership", [], |r| r.get(0))?;
        Ok(n as u64)
    }

    /// Every current membership, by segment and person.
    pub fn memberships(&self) -> Result<Vec<Membership>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT segment_id, patient_id, placement, priority, since FROM membership
             ORDER BY segment_id, patient_id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(Membership {
                segment_id: r.get(0)?,
                patient_id: r.get(1)?,
                placement: r.get(2)?,
                priority: r.get(3)?,
                since: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Recorded entries and exits with `seq` above `after`, oldest first (at most `limit`).
    pub fn membership_changes(&self, after: i64, limit: u32) -> Result<Vec<MembershipChange>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT seq, day, at, segment_id, patient_id, change, reason, evidence,
                    definitions_version
             FROM membership_change WHERE seq > ?1 ORDER BY seq LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![after, limit], change_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The `seq` of the latest recorded change (0: none).
    pub fn last_membership_seq(&self) -> Result<i64> {
        Ok(self.conn.query_row(
            "SELECT coalesce(max(seq), 0) FROM membership_change",
            [],
            |r| r.get(0),
        )?)
    }

    /// Since when the lists keep a record of entries and exits: the earliest day a current
    /// member has been in a segment or a change was recorded (`None`: never evaluated with
    /// anyone in a segment).
    pub fn lists_kept_since(&self) -> Result<Option<String>> {
        Ok(self
            .conn
            .query_row(
                "SELECT min(day) FROM (SELECT min(since) AS day FROM membership
                                       UNION ALL SELECT min(day) FROM membership_change)",
                [],
                |r| r.get(0),
            )
            .optional()?
            .flatten())
    }

    /// The changes recorded as of one day.
    pub fn membership_changes_of_day(&self, day: &str) -> Result<Vec<MembershipChange>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT seq, day, at, segment_id, patient_id, change, reason, evidence,
                    definitions_version
             FROM membership_change WHERE day = ?1 ORDER BY seq",
        )?;
        let rows = stmt.query_map(params![day], change_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The latest recorded change of one person in one segment.
    pub fn last_membership_change(
        &self,
        segment_id: &str,
        patient_id: &str,
    ) -> Result<Option<MembershipChange>> {
        use rusqlite::OptionalExtension;
        Ok(self
            .conn
            .prepare_cached(
                "SELECT seq, day, at, segment_id, patient_id, change, reason, evidence,
                        definitions_version
                 FROM membership_change WHERE patient_id = ?1 AND segment_id = ?2
                 ORDER BY seq DESC LIMIT 1",
            )?
            .query_row(params![patient_id, segment_id], change_row)
            .optional()?)
    }

    /// Writes one evaluation's outcome in one transaction.
    pub fn apply_list_update(&mut self, update: &ListUpdate) -> Result<()> {
        let tx = self.conn.transaction()?;
        {
            let mut set = tx.prepare_cached(
                "INSERT INTO membership (segment_id, patient_id, placement, priority, since)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (segment_id, patient_id) DO UPDATE
                 SET placement = excluded.placement, priority = excluded.priority,
                     since = excluded.since",
            )?;
            for m in &update.set {
                set.execute(params![
                    m.segment_id,
                    m.patient_id,
                    m.placement,
                    m.priority,
                    m.since
                ])?;
            }
            let mut remove = tx.prepare_cached(
                "DELETE FROM membership WHERE segment_id = ?1 AND patient_id = ?2",
            )?;
            for (segment, patient) in &update.remove {
                remove.execute(params![segment, patient])?;
            }
            let mut record = tx.prepare_cached(
                "INSERT INTO membership_change
                 (day, at, segment_id, patient_id, change, reason, evidence, definitions_version)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?;
            for c in &update.changes {
                record.execute(params![
                    c.day,
                    c.at,
                    c.segment_id,
                    c.patient_id,
                    c.change,
                    c.reason,
                    c.evidence,
                    c.definitions_version
                ])?;
            }
            if update.evaluated_everyone {
                tx.execute("DELETE FROM list_dirty", [])?;
            } else {
                let mut clean =
                    tx.prepare_cached("DELETE FROM list_dirty WHERE patient_id = ?1")?;
                for patient in &update.evaluated {
                    clean.execute(params![patient])?;
                }
            }
        }
        tx.execute(
            "UPDATE list_state SET as_of = ?1, definitions_version = ?2, event_seq = ?3,
                 generation = generation + 1
             WHERE id = 1",
            params![
                update.state.as_of,
                update.state.definitions_version,
                update.state.event_seq
            ],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Records a dismissal (once per episode: a second one for the same episode is ignored).
    pub fn dismiss_entrant(&mut self, dismissal: &ReviewDismissal) -> Result<bool> {
        let n = self.conn.execute(
            "INSERT OR IGNORE INTO review_dismissal
             (segment_id, patient_id, since, dismissed_by, dismissed_at, reason)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                dismissal.segment_id,
                dismissal.patient_id,
                dismissal.since,
                dismissal.dismissed_by,
                dismissal.dismissed_at,
                dismissal.reason
            ],
        )?;
        Ok(n == 1)
    }

    /// Every dismissal, as (segment, person, episode).
    pub fn dismissals(&self) -> Result<Vec<(String, String, String)>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT segment_id, patient_id, since FROM review_dismissal")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

fn change_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<MembershipChange> {
    Ok(MembershipChange {
        seq: r.get(0)?,
        day: r.get(1)?,
        at: r.get(2)?,
        segment_id: r.get(3)?,
        patient_id: r.get(4)?,
        change: r.get(5)?,
        reason: r.get(6)?,
        evidence: r.get(7)?,
        definitions_version: r.get(8)?,
    })
}
