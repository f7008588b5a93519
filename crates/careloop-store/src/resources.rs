//! Clinical facts: FHIR resources keyed by (type, id), patients, and engagement signals.
//!
//! Writes go through an [`ImportTx`]: one transaction that the importer commits when a whole
//! file has been read, or drops (rolling everything back) when the file turns out to be bad.

use std::cmp::Ordering;

use rusqlite::{params, OptionalExtension};

use crate::{body, Result, Store};

/// One resource to store. `body` is the resource as compact JSON.
#[derive(Clone, Copy, Debug)]
pub struct ResourceRecord<'a> {
    pub resource_type: &'a str,
    pub id: &'a str,
    pub patient_id: Option<&'a str>,
    pub version_id: Option<&'a str>,
    pub last_updated: Option<&'a str>,
    pub body: &'a str,
}

/// What the patient list shows of a Patient resource, extracted by the importer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PatientSummary {
    pub name: String,
    pub birth_date: Option<String>,
    pub gender: Option<String>,
    pub deceased: bool,
    pub preferred_language: Option<String>,
    /// The system of the best-ranked Patient.telecom: phone, sms or email.
    pub preferred_channel: Option<String>,
}

/// A stored patient, as listed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredPatient {
    pub id: String,
    pub name: String,
    pub birth_date: Option<String>,
    pub gender: Option<String>,
    pub preferred_language: Option<String>,
    pub preferred_channel: Option<String>,
}

/// What [`ImportTx::put_resource`] did with a resource. The number is the stored row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PutOutcome {
    Inserted(i64),
    /// A newer version (or changed content) replaced the stored one.
    Replaced(i64),
    /// The same content was already stored: nothing changed.
    Unchanged(i64),
    /// The stored version is newer: the incoming one was skipped.
    Older(i64),
}

/// A write transaction for importing. Dropping it without [`ImportTx::commit`] rolls back
/// every write made through it.
pub struct ImportTx<'s> {
    tx: rusqlite::Transaction<'s>,
    compress: bool,
}

impl Store {
    /// Starts an import transaction.
    pub fn begin_import(&mut self) -> Result<ImportTx<'_>> {
        Ok(ImportTx {
            tx: self.conn.transaction()?,
            compress: self.compress_bodies,
        })
    }

    /// One page of patients ordered by name, optionally filtered by a case-insensitive
    /// substring of the name; with the number of patients matching the filter.
    pub fn patients_page(
        &self,
        name_contains: Option<&str>,
        offset: u64,
        limit: u64,
    ) -> Result<(u64, Vec<StoredPatient>)> {
        let pattern = name_contains
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(|t| {
                format!(
                    "%{}%",
                    t.replace('\\', "\\\\")
                        .replace('%', "\\%")
                        .replace('_', "\\_")
                )
            });
        let total: i64 = self.conn.query_row(
            "SELECT count(*) FROM patient WHERE ?1 IS NULL OR name LIKE ?1 ESCAPE '\\'",
            params![pattern],
            |r| r.get(0),
        )?;
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, name, birth_date, gender, preferred_language, preferred_channel FROM patient
             WHERE ?1 IS NULL OR name LIKE ?1 ESCAPE '\\'
             ORDER BY sort_name, id LIMIT ?2 OFFSET ?3",
        )?;
        let rows = stmt.query_map(
            params![pattern, limit as i64, offset as i64],
            stored_patient,
        )?;
        Ok((total as u64, rows.collect::<rusqlite::Result<_>>()?))
    }

    /// One patient's row, if they are stored.
    pub fn patient(&self, id: &str) -> Result<Option<StoredPatient>> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT id, name, birth_date, gender, preferred_language, preferred_channel
                 FROM patient WHERE id = ?1",
            )?
            .query_row(params![id], stored_patient)
            .optional()?)
    }

    /// Calls `visit` once per patient (in id order) with the patient's own stored resources
    /// as (resource type, body), the Patient resource included. Streams: one patient's
    /// resources are in memory at a time.
    pub fn for_each_patient(
        &self,
        mut visit: impl FnMut(&str, &[(String, String)]) -> Result<()>,
    ) -> Result<()> {
        let mut stmt = self.conn.prepare(
            "SELECT patient_id, resource_type, codec, body FROM resource
             WHERE patient_id IS NOT NULL ORDER BY patient_id, resource_type, id",
        )?;
        let mut rows = stmt.query([])?;
        let mut current: Option<String> = None;
        let mut batch: Vec<(String, String)> = Vec::new();
        while let Some(row) = rows.next()? {
            let patient: String = row.get(0)?;
            if current.as_deref() != Some(patient.as_str()) {
                if let Some(previous) = current.take() {
                    visit(&previous, &batch)?;
                    batch.clear();
                }
                current = Some(patient);
            }
            batch.push((row.get(1)?, body::column(row, 2, 3)?));
        }
        if let Some(previous) = current {
            visit(&previous, &batch)?;
        }
        Ok(())
    }

    /// One patient's stored resources as (resource type, body), the Patient resource included.
    pub fn patient_resources(&self, patient_id: &str) -> Result<Vec<(String, String)>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT resource_type, codec, body FROM resource WHERE patient_id = ?1 ORDER BY resource_type, id",
        )?;
        let rows = stmt.query_map(params![patient_id], |r| {
            Ok((r.get(0)?, body::column(r, 1, 2)?))
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// One patient's engagement signals as (kind, at).
    pub fn patient_engagement_signals(&self, patient_id: &str) -> Result<Vec<(String, String)>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT kind, at FROM engagement_signal WHERE patient_id = ?1 ORDER BY at",
        )?;
        let rows = stmt.query_map(params![patient_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Every stored resource of one type that belongs to no patient (e.g. Medication), as
    /// (id, body).
    pub fn shared_resources(&self, resource_type: &str) -> Result<Vec<(String, String)>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, codec, body FROM resource WHERE resource_type = ?1 AND patient_id IS NULL ORDER BY id",
        )?;
        let rows = stmt.query_map(params![resource_type], |r| {
            Ok((r.get(0)?, body::column(r, 1, 2)?))
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Calls `visit(id, body)` for every stored resource of one type, in id order, one at a
    /// time (streams).
    pub fn for_each_resource(
        &self,
        resource_type: &str,
        mut visit: impl FnMut(&str, &str) -> Result<()>,
    ) -> Result<()> {
        let mut stmt = self
            .conn
            .prepare("SELECT id, codec, body FROM resource WHERE resource_type = ?1 ORDER BY id")?;
        let mut rows = stmt.query(params![resource_type])?;
        while let Some(row) = rows.next()? {
            let id: String = row.get(0)?;
            let body = body::column(row, 1, 2)?;
            visit(&id, &body)?;
        }
        Ok(())
    }

    /// Calls `visit(patient id, body)` for every stored resource of one type that belongs to
    /// a patient, one at a time (streams), by patient.
    pub fn for_each_patient_resource(
        &self,
        resource_type: &str,
        mut visit: impl FnMut(&str, &str) -> Result<()>,
    ) -> Result<()> {
        let mut stmt = self.conn.prepare(
            "SELECT patient_id, codec, body FROM resource WHERE resource_type = ?1 AND patient_id IS NOT NULL ORDER BY patient_id, id",
        )?;
        let mut rows = stmt.query(params![resource_type])?;
        while let Some(row) = rows.next()? {
            let patient: String = row.get(0)?;
            let body = body::column(row, 1, 2)?;
            visit(&patient, &body)?;
        }
        Ok(())
    }

    /// Calls `visit(type, id, patient id, body)` for every stored resource, Patients first
    /// (so that a reader importing them in this order links each resource to its person).
    pub fn for_each_stored_resource(
        &self,
        mut visit: impl FnMut(&str, &str, Option<&str>, &str) -> Result<()>,
    ) -> Result<()> {
        let mut stmt = self.conn.prepare(
            "SELECT resource_type, id, patient_id, codec, body FROM resource
             ORDER BY resource_type <> 'Patient', resource_type, id",
        )?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            let kind: String = row.get(0)?;
            let id: String = row.get(1)?;
            let patient: Option<String> = row.get(2)?;
            let body = body::column(row, 3, 4)?;
            visit(&kind, &id, patient.as_deref(), &body)?;
        }
        Ok(())
    }

    /// Every engagement signal with its channel, ordered by patient and time.
    pub fn engagement_signals_with_channel(&self) -> Result<Vec<StoredSignal>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT patient_id, kind, at, channel FROM engagement_signal ORDER BY patient_id, at",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(StoredSignal {
                patient_id: r.get(0)?,
                kind: r.get(1)?,
                at: r.get(2)?,
                channel: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Every engagement signal as (patient id, kind, at), ordered by patient.
    pub fn engagement_signals(&self) -> Result<Vec<(String, String, String)>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT patient_id, kind, at FROM engagement_signal ORDER BY patient_id, at",
        )?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The stored body of one resource.
    pub fn resource_body(&self, resource_type: &str, id: &str) -> Result<Option<String>> {
        Ok(self
            .conn
            .query_row(
                "SELECT codec, body FROM resource WHERE resource_type = ?1 AND id = ?2",
                params![resource_type, id],
                |r| body::column(r, 0, 1),
            )
            .optional()?)
    }

    /// How many bodies are still stored plain (written before schema 14).
    pub fn plain_body_count(&self) -> Result<u64> {
        Ok(self
            .conn
            .query_row("SELECT count(*) FROM resource WHERE codec = 0", [], |r| {
                r.get::<_, i64>(0)
            })? as u64)
    }

    /// Compresses up to `batch` bodies still stored plain, in one transaction; returns how
    /// many it compressed (fewer than `batch`: none are left). The content does not change, so the facts stay valid: the people the
    /// update trigger lists as stale are taken off the list again unless they were on it
    /// before, and the shared flag is put back. Stopped midway, the rest stay plain (and
    /// readable) until the next call.
    pub fn compress_plain_bodies(&mut self, batch: usize) -> Result<usize> {
        let tx = self.conn.transaction()?;
        let compressed = {
            let rows: Vec<(i64, Option<String>, String)> = tx
                .prepare_cached(
                    "SELECT rowid, patient_id, body FROM resource WHERE codec = 0 LIMIT ?1",
                )?
                .query_map(params![batch as i64], |r| {
                    Ok((r.get(0)?, r.get(1)?, body::column_as(r, body::PLAIN, 2)?))
                })?
                .collect::<rusqlite::Result<_>>()?;
            let shared_dirty: i64 = tx.query_row(
                "SELECT shared_dirty FROM fact_state WHERE id = 1",
                [],
                |r| r.get(0),
            )?;
            let mut listed = tx.prepare_cached("SELECT 1 FROM fact_dirty WHERE patient_id = ?1")?;
            let mut update =
                tx.prepare_cached("UPDATE resource SET codec = ?2, body = ?3 WHERE rowid = ?1")?;
            let mut unlist = tx.prepare_cached("DELETE FROM fact_dirty WHERE patient_id = ?1")?;
            let mut was_listed = std::collections::HashMap::new();
            for (rowid, patient, json) in &rows {
                if let Some(patient) = patient {
                    if !was_listed.contains_key(patient) {
                        let on_list = listed.exists(params![patient])?;
                        was_listed.insert(patient.clone(), on_list);
                    }
                }
                update.execute(params![rowid, body::CURRENT, body::encode(json)?])?;
            }
            for (patient, on_list) in was_listed {
                if !on_list {
                    unlist.execute(params![patient])?;
                }
            }
            tx.execute(
                "UPDATE fact_state SET shared_dirty = ?1 WHERE id = 1",
                params![shared_dirty],
            )?;
            rows.len()
        };
        tx.commit()?;
        Ok(compressed)
    }

    /// The patient a stored resource is attached to.
    pub fn resource_patient(&self, resource_type: &str, id: &str) -> Result<Option<String>> {
        Ok(self
            .conn
            .query_row(
                "SELECT patient_id FROM resource WHERE resource_type = ?1 AND id = ?2",
                params![resource_type, id],
                |r| r.get(0),
            )
            .optional()?
            .flatten())
    }
}

impl ImportTx<'_> {
    /// Stores a resource unless the same or a newer version is already there. A Patient
    /// resource also needs its `patient` summary, which the patient list reads.
    pub fn put_resource(
        &mut self,
        record: &ResourceRecord<'_>,
        patient: Option<&PatientSummary>,
    ) -> Result<PutOutcome> {
        // A cache held at a schema before 14 (upgrade tests) gets rows as that release wrote
        // them: plain text, no codec column.
        let (codec, stored) = if self.compress {
            (body::CURRENT, body::encode(record.body)?)
        } else {
            (body::PLAIN, record.body.as_bytes().to_vec())
        };
        let (insert, select, update) = if self.compress {
            (
                "INSERT INTO resource (resource_type, id, patient_id, version_id, last_updated, codec, body)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (resource_type, id) DO NOTHING",
                "SELECT rowid, version_id, last_updated, codec, body FROM resource
                 WHERE resource_type = ?1 AND id = ?2",
                "UPDATE resource SET patient_id = ?3, version_id = ?4, last_updated = ?5,
                 codec = ?6, body = ?7 WHERE resource_type = ?1 AND id = ?2",
            )
        } else {
            (
                "INSERT INTO resource (resource_type, id, patient_id, version_id, last_updated, body)
                 VALUES (?1, ?2, ?3, ?4, ?5, CAST(?7 AS TEXT)) ON CONFLICT (resource_type, id) DO NOTHING",
                "SELECT rowid, version_id, last_updated, 0, body FROM resource
                 WHERE resource_type = ?1 AND id = ?2",
                "UPDATE resource SET patient_id = ?3, version_id = ?4, last_updated = ?5,
                 body = CAST(?7 AS TEXT) WHERE resource_type = ?1 AND id = ?2 AND ?6 = 0",
            )
        };
        // The insert and the update take the same values.
        let values = params![
            record.resource_type,
            record.id,
            record.patient_id,
            record.version_id,
            record.last_updated,
            codec,
            stored
        ];
        // Insert first: on a new resource (the common case) that is one B-tree walk, not two.
        let inserted = self.tx.prepare_cached(insert)?.execute(values)?;
        let existing: Option<(i64, Option<String>, Option<String>, String)> = if inserted == 1 {
            None
        } else {
            self.tx
                .prepare_cached(select)?
                .query_row(params![record.resource_type, record.id], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, body::column(r, 3, 4)?))
                })
                .optional()?
        };
        let outcome = match existing {
            None => PutOutcome::Inserted(self.tx.last_insert_rowid()),
            Some((rowid, version_id, last_updated, body)) => {
                match compare_versions(
                    (record.version_id, record.last_updated),
                    (version_id.as_deref(), last_updated.as_deref()),
                ) {
                    Ordering::Less => return Ok(PutOutcome::Older(rowid)),
                    _ if body == record.body => return Ok(PutOutcome::Unchanged(rowid)),
                    _ => {
                        self.tx.prepare_cached(update)?.execute(values)?;
                        PutOutcome::Replaced(rowid)
                    }
                }
            }
        };
        if let Some(patient) = patient {
            self.put_patient(record.id, patient)?;
        }
        Ok(outcome)
    }

    fn put_patient(&mut self, id: &str, p: &PatientSummary) -> Result<()> {
        self.tx
            .prepare_cached(
                "INSERT INTO patient (id, name, sort_name, birth_date, gender, deceased, preferred_language,
                   preferred_channel)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                 ON CONFLICT (id) DO UPDATE SET name = excluded.name, sort_name = excluded.sort_name,
                   birth_date = excluded.birth_date, gender = excluded.gender,
                   deceased = excluded.deceased, preferred_language = excluded.preferred_language,
                   preferred_channel = excluded.preferred_channel",
            )?
            .execute(params![
                id,
                p.name,
                p.name.to_lowercase(),
                p.birth_date,
                p.gender,
                p.deceased,
                p.preferred_language,
                p.preferred_channel
            ])?;
        Ok(())
    }

    /// Attaches a row stored in this transaction to a patient, once the reference could be
    /// resolved (at the end of a Bundle).
    pub fn set_patient_of(&mut self, rowid: i64, patient_id: Option<&str>) -> Result<()> {
        self.tx
            .prepare_cached("UPDATE resource SET patient_id = ?2 WHERE rowid = ?1")?
            .execute(params![rowid, patient_id])?;
        Ok(())
    }

    /// Stores one engagement signal; `false` when the same signal was already stored.
    pub fn put_engagement_signal(
        &mut self,
        patient_id: &str,
        kind: &str,
        at: &str,
        channel: Option<&str>,
    ) -> Result<bool> {
        let changed = self
            .tx
            .prepare_cached(
                "INSERT INTO engagement_signal (patient_id, kind, at, channel) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT DO NOTHING",
            )?
            .execute(params![patient_id, kind, at, channel])?;
        Ok(changed == 1)
    }

    /// Whether a Patient with this id is stored, counting what this transaction wrote: the
    /// importer checks that the people a file refers to are in the same import or already here.
    pub fn patient_exists(&mut self, id: &str) -> Result<bool> {
        Ok(self
            .tx
            .prepare_cached("SELECT 1 FROM patient WHERE id = ?1")?
            .query_row(params![id], |_| Ok(()))
            .optional()?
            .is_some())
    }

    /// Marks the start of one file in a transaction that holds several small ones: what it
    /// writes is kept with [`ImportTx::keep_file`] or undone alone with
    /// [`ImportTx::undo_file`]. Only for small files: SQLite's statement savepoints nested in
    /// a long-lived savepoint cost more with every row written under it.
    pub fn begin_file(&mut self) -> Result<()> {
        self.tx.execute_batch("SAVEPOINT import_file")?;
        Ok(())
    }

    /// Keeps what the file wrote: it commits with the transaction.
    pub fn keep_file(&mut self) -> Result<()> {
        self.tx.execute_batch("RELEASE import_file")?;
        Ok(())
    }

    /// Undoes everything written since [`ImportTx::begin_file`]; the files before stay.
    pub fn undo_file(&mut self) -> Result<()> {
        self.tx
            .execute_batch("ROLLBACK TO import_file; RELEASE import_file")?;
        Ok(())
    }

    /// Commits every write of this transaction.
    pub fn commit(self) -> Result<()> {
        self.tx.commit()?;
        Ok(())
    }
}

/// Orders two (versionId, lastUpdated) pairs: lastUpdated when both have it, else a numeric
/// versionId when both have one; otherwise they count as equal (so changed content replaces).
fn compare_versions(
    incoming: (Option<&str>, Option<&str>),
    stored: (Option<&str>, Option<&str>),
) -> Ordering {
    if let (Some(a), Some(b)) = (incoming.1, stored.1) {
        let parse = |s: &str| chrono::DateTime::parse_from_rfc3339(s).ok();
        let ordering = match (parse(a), parse(b)) {
            (Some(a), Some(b)) => a.cmp(&b),
            _ => a.cmp(b),
        };
        if ordering != Ordering::Equal {
            return ordering;
        }
    }
    if let (Some(a), Some(b)) = (incoming.0, stored.0) {
        if let (Ok(a), Ok(b)) = (a.parse::<u64>(), b.parse::<u64>()) {
            return a.cmp(&b);
        }
    }
    Ordering::Equal
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn later_last_updated_wins_whatever_the_offset() {
        let a = (None, Some("2024-01-01T10:00:00+02:00"));
        let b = (None, Some("2024-01-01T09:00:00Z"));
        assert_eq!(
            compare_versions(a, b),
            Ordering::Less,
            "08:00Z is before 09:00Z"
        );
        assert_eq!(
            compare_versions((Some("10"), None), (Some("9"), None)),
            Ordering::Greater
        );
        assert_eq!(
            compare_versions((None, None), (Some("3"), None)),
            Ordering::Equal
        );
    }
}

/// One stored engagement signal, as a server publishes it to a team.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSignal {
    pub patient_id: String,
    pub kind: String,
    pub at: String,
    pub channel: Option<String>,
}

/// A `patient` row selected as (id, name, birth_date, gender, preferred_language,
/// preferred_channel).
fn stored_patient(r: &rusqlite::Row<'_>) -> rusqlite::Result<StoredPatient> {
    Ok(StoredPatient {
        id: r.get(0)?,
        name: r.get(1)?,
        birth_date: r.get(2)?,
        gender: r.get(3)?,
        preferred_language: r.get(4)?,
        preferred_channel: r.get(5)?,
    })
}
