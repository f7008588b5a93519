//! The fact store: each person's clinical facts as one encoded blob (the encoding is
//! careloop-segment's; the store only keeps bytes), and the list of people whose facts are
//! stale (`fact_dirty`, kept by triggers in the same transaction as the change; see
//! `schema/migrations/0008_fact_store.sql`).

use rusqlite::{params, OptionalExtension};

use crate::{Result, Store};

/// What the fact store holds for one person, to derive again.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PersonSources {
    pub patient_id: String,
    /// (resource type, body), in the order facts are derived from them.
    pub resources: Vec<(String, String)>,
    /// Engagement signals as (kind, at).
    pub signals: Vec<(String, String)>,
}

/// One person's facts as written: the facts, and the summary the review reads (both in the
/// caller's encoding).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredFacts {
    pub facts: Vec<u8>,
    pub summary: Vec<u8>,
}

impl Store {
    /// The encoding the stored facts were written with (0: none yet).
    pub fn fact_schema(&self) -> Result<i64> {
        Ok(self
            .conn
            .query_row("SELECT fact_schema FROM fact_state WHERE id = 1", [], |r| {
                r.get(0)
            })?)
    }

    /// Lists everyone again when the stored facts were written with another encoding than
    /// `schema` (or when a shared Medication changed), in one transaction. Returns how many
    /// people are now waiting.
    pub fn prepare_facts(&mut self, schema: i64) -> Result<u64> {
        let tx = self.conn.transaction()?;
        let (stored, shared_dirty): (i64, bool) = tx.query_row(
            "SELECT fact_schema, shared_dirty FROM fact_state WHERE id = 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        if stored != schema || shared_dirty {
            tx.execute(
                "INSERT OR IGNORE INTO fact_dirty (patient_id)
                 SELECT DISTINCT patient_id FROM resource WHERE patient_id IS NOT NULL",
                [],
            )?;
            tx.execute(
                "INSERT OR IGNORE INTO fact_dirty (patient_id)
                 SELECT DISTINCT patient_id FROM engagement_signal",
                [],
            )?;
            tx.execute(
                "UPDATE fact_state SET fact_schema = ?1, shared_dirty = 0 WHERE id = 1",
                params![schema],
            )?;
        }
        let waiting: i64 = tx.query_row("SELECT count(*) FROM fact_dirty", [], |r| r.get(0))?;
        tx.commit()?;
        Ok(waiting as u64)
    }

    /// Up to `limit` people whose facts are stale, in id order, with what their facts are
    /// derived from.
    pub fn stale_fact_sources(&self, limit: usize) -> Result<Vec<PersonSources>> {
        let ids: Vec<String> = self
            .conn
            .prepare_cached("SELECT patient_id FROM fact_dirty ORDER BY patient_id LIMIT ?1")?
            .query_map(params![limit as i64], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        ids.into_iter()
            .map(|patient_id| {
                Ok(PersonSources {
                    resources: self.patient_resources(&patient_id)?,
                    signals: self.patient_engagement_signals(&patient_id)?,
                    patient_id,
                })
            })
            .collect()
    }

    /// Writes derived facts with their summaries (`None`: the person has no data left, their
    /// facts go) and takes the people off the stale list, in one transaction.
    pub fn put_facts(&mut self, facts: &[(String, Option<StoredFacts>)]) -> Result<()> {
        let tx = self.conn.transaction()?;
        {
            let mut put = tx.prepare_cached(
                "INSERT INTO fact (patient_id, facts) VALUES (?1, ?2)
                 ON CONFLICT (patient_id) DO UPDATE SET facts = excluded.facts",
            )?;
            let mut put_summary = tx.prepare_cached(
                "INSERT INTO fact_summary (patient_id, summary) VALUES (?1, ?2)
                 ON CONFLICT (patient_id) DO UPDATE SET summary = excluded.summary",
            )?;
            let mut remove = tx.prepare_cached("DELETE FROM fact WHERE patient_id = ?1")?;
            let mut remove_summary =
                tx.prepare_cached("DELETE FROM fact_summary WHERE patient_id = ?1")?;
            let mut fresh = tx.prepare_cached("DELETE FROM fact_dirty WHERE patient_id = ?1")?;
            for (patient_id, stored) in facts {
                match stored {
                    Some(stored) => {
                        put.execute(params![patient_id, stored.facts])?;
                        put_summary.execute(params![patient_id, stored.summary])?;
                    }
                    None => {
                        remove.execute(params![patient_id])?;
                        remove_summary.execute(params![patient_id])?;
                    }
                };
                fresh.execute(params![patient_id])?;
            }
        }
        tx.execute(
            "UPDATE fact_state SET generation = generation + 1 WHERE id = 1",
            [],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Counts the writes of facts: a copy of them read at one generation is current while
    /// the generation is the same (and the stale list empty).
    pub fn fact_generation(&self) -> Result<i64> {
        Ok(self
            .conn
            .query_row("SELECT generation FROM fact_state WHERE id = 1", [], |r| {
                r.get(0)
            })?)
    }

    /// Whether one person's stored facts are stale (or missing while they have data).
    pub fn facts_stale(&self, patient_id: &str) -> Result<bool> {
        let stale: Option<i64> = self
            .conn
            .prepare_cached("SELECT 1 FROM fact_dirty WHERE patient_id = ?1")?
            .query_row(params![patient_id], |r| r.get(0))
            .optional()?;
        Ok(stale.is_some())
    }

    /// How many people's facts are stale.
    pub fn stale_fact_count(&self) -> Result<u64> {
        let n: i64 = self
            .conn
            .query_row("SELECT count(*) FROM fact_dirty", [], |r| r.get(0))?;
        Ok(n as u64)
    }

    /// Calls `visit(patient_id, blob)` for every stored person's facts, in id order (a
    /// sequential read).
    pub fn for_each_fact(&self, visit: impl FnMut(&str, &[u8]) -> Result<()>) -> Result<()> {
        self.scan_blobs(
            "SELECT patient_id, facts FROM fact ORDER BY patient_id",
            visit,
        )
    }

    /// Calls `visit(patient_id, summary)` for every stored person's summary, in id order.
    pub fn for_each_fact_summary(
        &self,
        visit: impl FnMut(&str, &[u8]) -> Result<()>,
    ) -> Result<()> {
        self.scan_blobs(
            "SELECT patient_id, summary FROM fact_summary ORDER BY patient_id",
            visit,
        )
    }

    /// Calls `visit(id, blob)` for each row of a `SELECT id, blob …` query, borrowing both
    /// from the row (no copy).
    fn scan_blobs(
        &self,
        sql: &str,
        mut visit: impl FnMut(&str, &[u8]) -> Result<()>,
    ) -> Result<()> {
        let mut stmt = self.conn.prepare(sql)?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            let id = row.get_ref(0)?.as_str().map_err(rusqlite::Error::from)?;
            let blob = row.get_ref(1)?.as_blob().map_err(rusqlite::Error::from)?;
            visit(id, blob)?;
        }
        Ok(())
    }

    /// One person's stored facts.
    pub fn fact_of(&self, patient_id: &str) -> Result<Option<Vec<u8>>> {
        Ok(self
            .conn
            .prepare_cached("SELECT facts FROM fact WHERE patient_id = ?1")?
            .query_row(params![patient_id], |r| r.get(0))
            .optional()?)
    }
}
