//! Cohort history (every segmentation run with its members) and published segment definitions
//! (every version, who published it and when).

use rusqlite::{params, OptionalExtension};

use crate::{Result, Store, StoreError};

/// A recorded segmentation run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CohortRun {
    pub id: i64,
    pub as_of: String,
    pub definitions_version: String,
    pub run_at: String,
    pub run_by: String,
}

/// One member of one segment in a run.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct CohortMember {
    pub segment_id: String,
    pub patient_id: String,
    /// worklist, overflow or held_back.
    pub placement: String,
}

/// A published segment definition version.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublishedDefinition {
    pub id: String,
    pub version: u32,
    pub body: String,
    pub published_by: String,
    pub published_at: String,
}

impl Store {
    /// Records a run and its members atomically; returns the run's id.
    pub fn record_cohort_run(
        &mut self,
        as_of: &str,
        definitions_version: &str,
        run_at: &str,
        run_by: &str,
        members: &[CohortMember],
    ) -> Result<i64> {
        let tx = self.conn.transaction()?;
        tx.execute(
            "INSERT INTO cohort_run (as_of, definitions_version, run_at, run_by) VALUES (?1, ?2, ?3, ?4)",
            params![as_of, definitions_version, run_at, run_by],
        )?;
        let run = tx.last_insert_rowid();
        {
            let mut insert = tx.prepare(
                "INSERT INTO cohort_member (run_id, segment_id, patient_id, placement) VALUES (?1, ?2, ?3, ?4)",
            )?;
            for m in members {
                insert.execute(params![run, m.segment_id, m.patient_id, m.placement])?;
            }
        }
        tx.commit()?;
        Ok(run)
    }

    /// Every recorded run, oldest first.
    pub fn cohort_runs(&self) -> Result<Vec<CohortRun>> {
        let mut stmt = self.conn.prepare(
            "SELECT id, as_of, definitions_version, run_at, run_by FROM cohort_run ORDER BY id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(CohortRun {
                id: r.get(0)?,
                as_of: r.get(1)?,
                definitions_version: r.get(2)?,
                run_at: r.get(3)?,
                run_by: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The members of one run, sorted by segment and patient.
    pub fn cohort_members(&self, run: i64) -> Result<Vec<CohortMember>> {
        let mut stmt = self.conn.prepare(
            "SELECT segment_id, patient_id, placement FROM cohort_member WHERE run_id = ?1 ORDER BY segment_id, patient_id",
        )?;
        let rows = stmt.query_map(params![run], |r| {
            Ok(CohortMember {
                segment_id: r.get(0)?,
                patient_id: r.get(1)?,
                placement: r.get(2)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Every run's cohort sizes as (run, segment, members), by run then segment.
    pub fn cohort_sizes(&self) -> Result<Vec<(i64, String, u32)>> {
        let mut stmt = self.conn.prepare(
            "SELECT run_id, segment_id, count(*) FROM cohort_member GROUP BY run_id, segment_id ORDER BY run_id, segment_id",
        )?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Publishes a definition version. Versions of one id only go up.
    pub fn publish_definition(&mut self, definition: &PublishedDefinition) -> Result<()> {
        let tx = self.conn.transaction()?;
        let latest: Option<u32> = tx
            .query_row(
                "SELECT max(version) FROM segment_definition WHERE id = ?1",
                params![definition.id],
                |r| r.get(0),
            )
            .optional()?
            .flatten();
        if let Some(latest) = latest.filter(|l| *l >= definition.version) {
            return Err(StoreError::VersionNotNewer {
                id: definition.id.clone(),
                version: definition.version,
                latest,
            });
        }
        tx.execute(
            "INSERT INTO segment_definition (id, version, body, published_by, published_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![definition.id, definition.version, definition.body, definition.published_by, definition.published_at],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Adds a version published on another workstation (pulled from the server). Unlike
    /// [`Store::publish_definition`] it may be older than the latest here (the team's order
    /// is the server's). Returns false when this id and version is here already (kept as is).
    pub fn import_definition(&mut self, definition: &PublishedDefinition) -> Result<bool> {
        let added = self.conn.execute(
            "INSERT OR IGNORE INTO segment_definition (id, version, body, published_by, published_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![definition.id, definition.version, definition.body, definition.published_by, definition.published_at],
        )?;
        Ok(added == 1)
    }

    /// Every published version, by id then version.
    pub fn published_definitions(&self) -> Result<Vec<PublishedDefinition>> {
        let mut stmt = self.conn.prepare(
            "SELECT id, version, body, published_by, published_at FROM segment_definition ORDER BY id, version",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(PublishedDefinition {
                id: r.get(0)?,
                version: r.get(1)?,
                body: r.get(2)?,
                published_by: r.get(3)?,
                published_at: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}
