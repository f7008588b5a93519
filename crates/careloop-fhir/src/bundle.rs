//! Reading FHIR JSON: a Bundle streamed entry by entry (or a single resource), and NDJSON
//! line by line, handing each resource to the [`Sink`] that writes it.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::io::BufRead;

use careloop_store::{ImportTx, PutOutcome, ResourceRecord};
use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::error::{describe_json_error, ImportError, Location};
use crate::resource::{self, Head};
use crate::FileCounts;

/// Bundle types imported; the issue and FHIR name these as carrying resources to load.
const BUNDLE_TYPES: &[&str] = &["batch", "collection", "searchset", "transaction"];

/// Writes the resources of one file into its transaction and keeps the file's counts.
pub(crate) struct Sink<'t, 's> {
    tx: &'t mut ImportTx<'s>,
    file: &'t str,
    pub(crate) counts: FileCounts,
    compact: String,
    /// Set when a Bundle's handler failed inside serde; taken after deserialisation.
    failure: Option<ImportError>,
}

/// What one Bundle needs to attach resources to patients once all its entries are read.
#[derive(Default)]
struct BundleState {
    patient_by_full_url: HashMap<String, String>,
    other_full_urls: HashSet<String>,
    patients: Vec<String>,
    /// Rows whose reference might name a Patient entry not seen yet: (row, reference, id used).
    pending: Vec<(i64, String, Option<String>)>,
    /// Rows with no resolvable patient reference.
    orphans: Vec<i64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Entry {
    full_url: Option<String>,
    resource: Option<Box<RawValue>>,
    request: Option<Request>,
}

#[derive(Deserialize)]
struct Request {
    method: Option<String>,
}

impl<'t, 's> Sink<'t, 's> {
    pub(crate) fn new(tx: &'t mut ImportTx<'s>, file: &'t str) -> Self {
        Sink {
            tx,
            file,
            counts: FileCounts::default(),
            compact: String::new(),
            failure: None,
        }
    }

    fn invalid(&self, location: Location, reason: impl Into<String>) -> ImportError {
        ImportError::InvalidResource {
            file: self.file.to_owned(),
            location,
            reason: reason.into(),
        }
    }

    fn json_error(&self, e: &serde_json::Error, fallback: Location) -> ImportError {
        let (location, reason, malformed) = describe_json_error(e);
        let location = if location == Location::File {
            fallback
        } else {
            location
        };
        let file = self.file.to_owned();
        if malformed {
            ImportError::MalformedJson {
                file,
                location,
                reason,
            }
        } else {
            ImportError::InvalidResource {
                file,
                location,
                reason,
            }
        }
    }

    /// Stores one resource. `full_url` gives the id when the resource has none; `bundle` is
    /// the context that resolves `urn:uuid` references between entries.
    fn put(
        &mut self,
        raw: &str,
        full_url: Option<&str>,
        mut bundle: Option<&mut BundleState>,
        location: Location,
    ) -> Result<(), ImportError> {
        let head: Head = serde_json::from_str(raw).map_err(|e| match location {
            // Inside a Bundle the entry's own line numbers mean nothing; name the entry.
            Location::Entry(_) => {
                let (_, reason, _) = describe_json_error(&e);
                self.invalid(location.clone(), reason)
            }
            _ => self.json_error(&e, location.clone()),
        })?;
        let fallback_id = full_url.and_then(|u| resource::id_from_reference(u, None));
        let (resource_type, id) = resource::validate_identity(
            head.resource_type.as_deref(),
            head.id.as_deref().or(fallback_id),
        )
        .map_err(|reason| self.invalid(location.clone(), reason))?;
        self.counts.resources_seen += 1;

        if let (Some(bundle), Some(url)) = (bundle.as_deref_mut(), full_url) {
            if resource_type == "Patient" {
                bundle
                    .patient_by_full_url
                    .insert(url.to_owned(), id.to_owned());
            } else {
                bundle.other_full_urls.insert(url.to_owned());
            }
        }
        if resource_type == "Patient" {
            if let Some(bundle) = bundle.as_deref_mut() {
                bundle.patients.push(id.to_owned());
            }
        }
        if !resource::is_stored_type(resource_type) {
            *self
                .counts
                .skipped
                .entry(resource_type.to_owned())
                .or_default() += 1;
            return Ok(());
        }

        // Which patient the resource belongs to, as far as can be told now.
        enum Later {
            Nothing,
            Pending(String, Option<String>),
            Orphan,
        }
        let (patient_id, later): (Option<String>, Later) = match resource_type {
            "Patient" => (Some(id.to_owned()), Later::Nothing),
            "Medication" => (None, Later::Nothing),
            _ => match head.patient_reference() {
                Some(reference) => {
                    let known = bundle
                        .as_deref()
                        .and_then(|b| b.patient_by_full_url.get(reference));
                    let other = bundle
                        .as_deref()
                        .is_some_and(|b| b.other_full_urls.contains(reference));
                    match (known, other) {
                        (Some(pid), _) => (Some(pid.clone()), Later::Nothing),
                        (None, true) => (None, Later::Orphan),
                        (None, false) => {
                            let parsed = resource::id_from_reference(reference, Some("Patient"))
                                .map(str::to_owned);
                            let may_be_full_url =
                                reference.starts_with("urn:") || reference.contains("://");
                            if may_be_full_url {
                                (parsed.clone(), Later::Pending(reference.to_owned(), parsed))
                            } else if parsed.is_some() {
                                (parsed, Later::Nothing)
                            } else {
                                (None, Later::Orphan)
                            }
                        }
                    }
                }
                None => (None, Later::Orphan),
            },
        };

        let summary = if resource_type == "Patient" {
            Some(resource::patient_summary(raw).map_err(|e| {
                let (_, reason, _) = describe_json_error(&e);
                self.invalid(location.clone(), reason)
            })?)
        } else {
            None
        };
        resource::compact_json(raw, &mut self.compact);
        let meta = head.meta.as_ref();
        let record = ResourceRecord {
            resource_type,
            id,
            patient_id: patient_id.as_deref(),
            version_id: meta.and_then(|m| m.version_id.as_deref()),
            last_updated: meta.and_then(|m| m.last_updated.as_deref()),
            body: &self.compact,
        };
        let outcome = self.tx.put_resource(&record, summary.as_ref())?;
        let (map, written) = match outcome {
            PutOutcome::Inserted(row) | PutOutcome::Replaced(row) => {
                (&mut self.counts.stored, Some(row))
            }
            PutOutcome::Unchanged(_) => (&mut self.counts.unchanged, None),
            PutOutcome::Older(_) => (&mut self.counts.older, None),
        };
        *map.entry(resource_type.to_owned()).or_default() += 1;
        if let (Some(row), Some(bundle)) = (written, bundle) {
            match later {
                Later::Nothing => {}
                Later::Pending(reference, used) => bundle.pending.push((row, reference, used)),
                Later::Orphan => bundle.orphans.push(row),
            }
        }
        Ok(())
    }

    /// Stores one engagement signal; `false` when it was already stored.
    pub(crate) fn put_signal(
        &mut self,
        patient_id: &str,
        kind: &str,
        at: &str,
        channel: Option<&str>,
    ) -> Result<bool, ImportError> {
        Ok(self
            .tx
            .put_engagement_signal(patient_id, kind, at, channel)?)
    }

    /// Attaches the rows that waited for the whole Bundle to be read.
    fn finish_bundle(&mut self, bundle: BundleState) -> Result<(), ImportError> {
        let only_patient = match bundle.patients.as_slice() {
            [one] => Some(one.as_str()),
            _ => None,
        };
        for (row, reference, used) in &bundle.pending {
            if let Some(pid) = bundle.patient_by_full_url.get(reference) {
                if used.as_deref() != Some(pid.as_str()) {
                    self.tx.set_patient_of(*row, Some(pid))?;
                }
            } else if bundle.other_full_urls.contains(reference) {
                self.tx.set_patient_of(*row, only_patient)?;
            }
        }
        if let Some(pid) = only_patient {
            for row in &bundle.orphans {
                self.tx.set_patient_of(*row, Some(pid))?;
            }
        }
        Ok(())
    }
}

/// Files at most this large (when their size is known before reading: plain files and archive
/// members) are read whole and parsed from memory, which is several times faster than
/// serde_json's streaming reader; larger or unsized inputs are streamed entry by entry. Memory
/// stays bounded either way: by this constant or by the largest resource.
pub(crate) const WHOLE_FILE_LIMIT: u64 = 16 * 1024 * 1024;

/// Reads a `.json` file: a Bundle, streamed, or a single resource. `size` is the byte size of
/// the (uncompressed) content when it is known up front.
pub(crate) fn read_json(
    mut reader: impl BufRead,
    size: Option<u64>,
    sink: &mut Sink<'_, '_>,
) -> Result<(), ImportError> {
    match size {
        Some(size) if size <= WHOLE_FILE_LIMIT => {
            let mut bytes = Vec::with_capacity(size as usize);
            reader
                .read_to_end(&mut bytes)
                .map_err(|source| ImportError::Io {
                    file: sink.file.to_owned(),
                    source,
                })?;
            read_json_from(serde_json::Deserializer::from_slice(&bytes), sink)
        }
        _ => read_json_from(serde_json::Deserializer::from_reader(reader), sink),
    }
}

fn read_json_from<'de, R: serde_json::de::Read<'de>>(
    mut de: serde_json::Deserializer<R>,
    sink: &mut Sink<'_, '_>,
) -> Result<(), ImportError> {
    let mut bundle = BundleState::default();
    let top = TopLevel {
        sink,
        bundle: &mut bundle,
    }
    .deserialize(&mut de);
    let top = match top {
        Ok(top) => top,
        Err(e) => {
            return Err(sink
                .failure
                .take()
                .unwrap_or_else(|| sink.json_error(&e, Location::File)))
        }
    };
    de.end().map_err(|e| sink.json_error(&e, Location::File))?;
    match top.resource_type.as_deref() {
        Some("Bundle") => {
            match top.bundle_type.as_deref() {
                Some(t) if BUNDLE_TYPES.contains(&t) => {}
                Some(t) => {
                    return Err(sink.invalid(
                        Location::File,
                        format!(
                            "Bundle type {t:?} is not imported (expected one of {})",
                            BUNDLE_TYPES.join(", ")
                        ),
                    ))
                }
                None => return Err(sink.invalid(Location::File, "the Bundle has no type")),
            }
            sink.finish_bundle(bundle)
        }
        _ if top.saw_entries => Err(sink.invalid(
            Location::File,
            "an object with entries that is not a Bundle",
        )),
        _ => {
            // A single resource: put its fields back together.
            let mut text = String::from("{");
            if let Some(rt) = &top.resource_type {
                text.push_str("\"resourceType\":");
                text.push_str(&serde_json::to_string(rt).expect("a string serialises"));
            }
            for (key, value) in &top.other_fields {
                if text.len() > 1 {
                    text.push(',');
                }
                text.push_str(&serde_json::to_string(key).expect("a string serialises"));
                text.push(':');
                text.push_str(value.get());
            }
            text.push('}');
            sink.put(&text, None, None, Location::File)
        }
    }
}

/// Reads an NDJSON file: one resource per line.
pub(crate) fn read_ndjson(
    reader: impl BufRead,
    sink: &mut Sink<'_, '_>,
) -> Result<(), ImportError> {
    for (index, line) in reader.lines().enumerate() {
        let line = line.map_err(|source| ImportError::Io {
            file: sink.file.to_owned(),
            source,
        })?;
        if line.trim().is_empty() {
            continue;
        }
        let location = Location::Line(index + 1);
        sink.put(&line, None, None, location.clone())
            .map_err(|e| match e {
                // A position inside one line: say which line of the file it is.
                ImportError::MalformedJson {
                    file,
                    location: Location::Position { column, .. },
                    reason,
                } => ImportError::MalformedJson {
                    file,
                    location: Location::Position {
                        line: index + 1,
                        column,
                    },
                    reason,
                },
                other => other,
            })?;
    }
    Ok(())
}

#[derive(Default)]
struct TopLevelFields {
    resource_type: Option<String>,
    bundle_type: Option<String>,
    saw_entries: bool,
    other_fields: Vec<(String, Box<RawValue>)>,
}

struct TopLevel<'a, 't, 's> {
    sink: &'a mut Sink<'t, 's>,
    bundle: &'a mut BundleState,
}

impl<'de> DeserializeSeed<'de> for TopLevel<'_, '_, '_> {
    type Value = TopLevelFields;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for TopLevel<'_, '_, '_> {
    type Value = TopLevelFields;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a FHIR resource or Bundle (a JSON object)")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut fields = TopLevelFields::default();
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "resourceType" => fields.resource_type = Some(map.next_value()?),
                "entry" => {
                    fields.saw_entries = true;
                    map.next_value_seed(Entries {
                        sink: &mut *self.sink,
                        bundle: &mut *self.bundle,
                    })?;
                }
                "type" => {
                    let raw: Box<RawValue> = map.next_value()?;
                    fields.bundle_type = serde_json::from_str::<String>(raw.get()).ok();
                    fields.other_fields.push((key, raw));
                }
                _ => {
                    let raw: Box<RawValue> = map.next_value()?;
                    fields.other_fields.push((key, raw));
                }
            }
        }
        Ok(fields)
    }
}

struct Entries<'a, 't, 's> {
    sink: &'a mut Sink<'t, 's>,
    bundle: &'a mut BundleState,
}

impl<'de> DeserializeSeed<'de> for Entries<'_, '_, '_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Entries<'_, '_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of Bundle entries")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut index = 0usize;
        while let Some(entry) = seq.next_element::<Entry>()? {
            let is_delete = entry
                .request
                .as_ref()
                .and_then(|r| r.method.as_deref())
                .is_some_and(|m| m.eq_ignore_ascii_case("DELETE"));
            if is_delete {
                self.sink.counts.deletes_ignored += 1;
            } else if let Some(resource) = &entry.resource {
                let result = self.sink.put(
                    resource.get(),
                    entry.full_url.as_deref(),
                    Some(&mut *self.bundle),
                    Location::Entry(index),
                );
                if let Err(e) = result {
                    self.sink.failure = Some(e);
                    return Err(de::Error::custom("stopped at a bad entry"));
                }
            }
            index += 1;
        }
        Ok(())
    }
}
