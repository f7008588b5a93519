//! The panel's facts in the store's fact store: derived again for the people on its stale
//! list (kept by triggers in the database, in the transaction of each change), a batch per
//! transaction, and read back decoded.

use careloop_segment::facts::{self, EngagementFact};
use careloop_segment::{PatientFacts, SharedFacts};
use careloop_store::{PersonSources, Store, StoredFacts};
use rayon::prelude::*;

use crate::{ListsError, Result};

/// People derived again per transaction of [`refresh`] (and decoded per parallel step when
/// the panel is loaded).
pub const FACT_BATCH: usize = 2_000;

/// What [`refresh`] did.
#[derive(Debug, Default)]
pub struct Refreshed {
    /// The people derived again, with their new facts (`None`: no data left).
    pub changed: Vec<(String, Option<PatientFacts>)>,
    /// Transactions written (each moves the store's fact generation by one).
    pub writes: i64,
}

/// Medication ids to their keys, for the medication requests that name them.
pub fn shared(store: &Store) -> Result<SharedFacts> {
    let medications = store.shared_resources("Medication")?;
    Ok(SharedFacts::from_medications(
        medications
            .iter()
            .map(|(id, body)| (id.as_str(), body.as_str())),
    ))
}

/// One person's facts from their stored resources and engagement signals (`None`: nothing
/// stored).
pub fn derive(sources: &PersonSources, shared: &SharedFacts) -> Option<PatientFacts> {
    if sources.resources.is_empty() {
        return None;
    }
    let mut facts = PatientFacts::from_resources(&sources.patient_id, &sources.resources, shared);
    facts.engagement = sources
        .signals
        .iter()
        .map(|(kind, at)| EngagementFact {
            date: careloop_segment::dates::fhir_date(at),
            kind: kind.as_str().into(),
        })
        .collect();
    Some(facts)
}

/// Derives the facts of everyone on the fact store's stale list (after an import, a panel
/// page from the server, or a build with another fact encoding: then everyone), writes them
/// and takes them off the list, a batch per transaction; reports (done, total).
pub fn refresh(store: &mut Store, progress: &mut dyn FnMut(u64, u64)) -> Result<Refreshed> {
    let total = store.prepare_facts(facts::FACTS_SCHEMA)?;
    let mut refreshed = Refreshed::default();
    if total == 0 {
        return Ok(refreshed);
    }
    let shared = shared(store)?;
    let mut done = 0;
    loop {
        let batch = store.stale_fact_sources(FACT_BATCH)?;
        if batch.is_empty() {
            break;
        }
        let derived: Vec<(String, Option<PatientFacts>, Option<StoredFacts>)> = batch
            .par_iter()
            .map(|sources| {
                let facts = derive(sources, &shared);
                let stored = facts
                    .as_ref()
                    .map(|f| -> Result<StoredFacts> {
                        Ok(StoredFacts {
                            facts: facts::encode(f)?,
                            summary: facts::encode(&f.summary())?,
                        })
                    })
                    .transpose()?;
                Ok((sources.patient_id.clone(), facts, stored))
            })
            .collect::<Result<_>>()?;
        let mut writes = Vec::with_capacity(derived.len());
        for (id, facts, stored) in derived {
            writes.push((id.clone(), stored));
            refreshed.changed.push((id, facts));
        }
        store.put_facts(&writes)?;
        refreshed.writes += 1;
        done += batch.len() as u64;
        progress(done.min(total), total);
    }
    Ok(refreshed)
}

/// Reads and decodes every stored person's facts (in id order): this thread reads the rows
/// while another decodes the previous batch (on the rayon pool), so reading and decoding
/// overlap.
pub fn load(store: &Store) -> Result<Vec<PatientFacts>> {
    let (send, receive) = std::sync::mpsc::sync_channel::<Vec<Vec<u8>>>(2);
    std::thread::scope(|scope| {
        let decoder = scope.spawn(move || -> Result<Vec<PatientFacts>> {
            let mut panel = Vec::new();
            for chunk in receive {
                let decoded: Vec<PatientFacts> = chunk
                    .par_iter()
                    .map(|blob| facts::decode(blob).map_err(ListsError::from))
                    .collect::<Result<_>>()?;
                panel.extend(decoded);
            }
            Ok(panel)
        });
        let mut chunk: Vec<Vec<u8>> = Vec::with_capacity(FACT_BATCH);
        let read = store.for_each_fact(|_, blob| {
            chunk.push(blob.to_vec());
            if chunk.len() == FACT_BATCH {
                let full = std::mem::replace(&mut chunk, Vec::with_capacity(FACT_BATCH));
                // A closed channel means the decoder stopped on an error: it reports it.
                let _ = send.send(full);
            }
            Ok(())
        });
        if !chunk.is_empty() {
            let _ = send.send(chunk);
        }
        drop(send);
        let decoded = decoder.join().map_err(|_| ListsError::DecoderStopped)?;
        read?;
        decoded
    })
}
