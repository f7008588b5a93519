//! Reading FHIR JSON: a Bundle streamed entry by entry (or a single resource), and NDJSON
//! line by line, handing each resource to the [`Sink`] that writes it.

use std::cell::Cell;
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::hash::{Hash, Hasher};
use std::io::{BufRead, Read};
use std::rc::Rc;

use careloop_store::{ImportTx, PutOutcome, ResourceRecord};
use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::error::{describe_field_error, describe_json_error, excerpt, ImportError, Location};
use crate::resource::{self, Head};
use crate::source::{Lines, Unit};
use crate::{ImportConfig, MAX_NESTING};

/// Bundle types imported; the issue and FHIR name these as carrying resources to load.
const BUNDLE_TYPES: &[&str] = &["batch", "collection", "searchset", "transaction"];

/// Writes the resources of one file into its unit's transaction and keeps the unit's counts.
pub(crate) struct Sink<'t, 's> {
    tx: &'t mut ImportTx<'s>,
    pub(crate) unit: &'t mut Unit,
    pub(crate) file: Rc<str>,
    compact: String,
    /// Set when a Bundle's handler failed inside serde; taken after deserialisation.
    failure: Option<ImportError>,
    pub(crate) limit: u64,
    /// Counts what a streamed Bundle has read since the current entry or field began.
    budget: Option<Rc<Budget>>,
    refuse_duplicates: bool,
    /// Digests (128-bit) of the (type, id) of every stored-type resource of this file, with
    /// where it was: the same resource twice in one file is refused, both places named.
    seen: HashMap<u128, Location>,
}

/// The byte budget of one resource in a streamed Bundle: the reader fails once more than the
/// limit was read since the mark (set at each entry and each top-level field).
pub(crate) struct Budget {
    consumed: Cell<u64>,
    mark: Cell<u64>,
    limit: u64,
    exceeded: Cell<bool>,
    entry: Cell<Option<usize>>,
}

impl Budget {
    fn new(limit: u64) -> Self {
        Budget {
            consumed: Cell::new(0),
            mark: Cell::new(0),
            limit,
            exceeded: Cell::new(false),
            entry: Cell::new(None),
        }
    }

    fn mark(&self, entry: Option<usize>) {
        self.mark.set(self.consumed.get());
        self.entry.set(entry);
    }

    fn location(&self) -> Location {
        match self.entry.get() {
            Some(i) => Location::Entry(i),
            None => Location::File,
        }
    }
}

/// A reader that stops with an error once the current resource is over its budget.
struct Limited<R> {
    inner: R,
    budget: Rc<Budget>,
}

impl<R: Read> Read for Limited<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        let budget = &self.budget;
        budget.consumed.set(budget.consumed.get() + n as u64);
        if budget.consumed.get() - budget.mark.get() > budget.limit {
            budget.exceeded.set(true);
            return Err(std::io::Error::other("resource over the size limit"));
        }
        Ok(n)
    }
}

fn digest(resource_type: &str, id: &str) -> u128 {
    let half = |salt: u8| {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        salt.hash(&mut h);
        resource_type.hash(&mut h);
        id.hash(&mut h);
        h.finish()
    };
    (u128::from(half(1)) << 64) | u128::from(half(2))
}

/// What one Bundle needs to attach resources to patients once all its entries are read.
#[derive(Default)]
struct BundleState {
    patient_by_full_url: HashMap<String, String>,
    other_full_urls: HashSet<String>,
    patients: Vec<String>,
    /// Rows whose reference might name a Patient entry not seen yet: (row, reference, id used).
    pending: Vec<(i64, String, Option<String>)>,
    /// References that might name a Patient entry not seen yet, to check once the Bundle is
    /// read: (reference, id used, where, which field).
    pending_people: Vec<(String, Option<String>, Location, String)>,
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
    pub(crate) fn new(
        tx: &'t mut ImportTx<'s>,
        unit: &'t mut Unit,
        file: &str,
        config: &ImportConfig,
    ) -> Self {
        Sink {
            tx,
            unit,
            file: Rc::from(file),
            compact: String::new(),
            failure: None,
            limit: config.max_resource_bytes,
            budget: None,
            refuse_duplicates: config.refuse_duplicates,
            seen: HashMap::new(),
        }
    }

    pub(crate) fn invalid(&self, location: Location, reason: impl Into<String>) -> ImportError {
        ImportError::InvalidResource {
            file: self.file.to_string(),
            location,
            reason: reason.into(),
        }
    }

    fn too_large(&self, location: Location) -> ImportError {
        ImportError::TooLarge {
            file: self.file.to_string(),
            location,
            limit: self.limit,
        }
    }

    fn json_error(&self, e: &serde_json::Error, fallback: Location) -> ImportError {
        let (location, reason, malformed) = describe_json_error(e);
        let location = if location == Location::File {
            fallback
        } else {
            location
        };
        let file = self.file.to_string();
        if e.classify() == serde_json::error::Category::Io {
            return ImportError::ReadFailed {
                file,
                location,
                source: std::io::Error::other(reason),
            };
        }
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
        // The plain parse first (the common, valid case); a failure is parsed again with the
        // field's path tracked, for the message.
        let head: Head<'_> = match serde_json::from_str(raw).or_else(|_| {
            serde_path_to_error::deserialize(&mut serde_json::Deserializer::from_str(raw))
        }) {
            Ok(head) => head,
            Err(e) => {
                let inner = e.inner();
                let malformed = matches!(
                    inner.classify(),
                    serde_json::error::Category::Syntax | serde_json::error::Category::Eof
                );
                return Err(if malformed {
                    match location {
                        // Inside a Bundle the entry's own line numbers mean nothing.
                        Location::Entry(_) => {
                            let (_, reason, _) = describe_json_error(inner);
                            self.invalid(location.clone(), reason)
                        }
                        _ => self.json_error(inner, location.clone()),
                    }
                } else {
                    self.invalid(
                        location.clone(),
                        describe_field_error(resource_type_of(raw).as_deref(), &e),
                    )
                });
            }
        };
        let fallback_id = full_url.and_then(|u| resource::id_from_reference(u, None));
        let (resource_type, id) = resource::validate_identity(
            head.resource_type.as_deref(),
            head.id.as_deref().or(fallback_id),
        )
        .map_err(|reason| self.invalid(location.clone(), reason))?;
        self.unit.counts.resources_seen += 1;

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
                .unit
                .counts
                .skipped
                .entry(resource_type.to_owned())
                .or_default() += 1;
            return Ok(());
        }
        head.check_dates(resource_type)
            .map_err(|reason| self.invalid(location.clone(), reason))?;
        if self.refuse_duplicates {
            let key = digest(resource_type, id);
            if let Some(first) = self.seen.get(&key) {
                return Err(self.invalid(
                    location.clone(),
                    format!(
                        "the same {resource_type} id as at {first}: a file may hold each resource only once"
                    ),
                ));
            }
            self.seen.insert(key, location.clone());
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
                Some((field, reference)) => {
                    let what = || format!("{resource_type}.{field}");
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
                                match bundle.as_deref_mut() {
                                    Some(b) => b.pending_people.push((
                                        reference.to_owned(),
                                        parsed.clone(),
                                        location.clone(),
                                        what(),
                                    )),
                                    None => {
                                        if let Some(pid) = &parsed {
                                            self.unit.refer(pid, &self.file, &location, what);
                                        }
                                    }
                                }
                                (parsed.clone(), Later::Pending(reference.to_owned(), parsed))
                            } else if let Some(pid) = parsed {
                                self.unit.refer(&pid, &self.file, &location, what);
                                (Some(pid), Later::Nothing)
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
                self.invalid(location.clone(), describe_field_error(Some("Patient"), &e))
            })?)
        } else {
            None
        };
        if resource::compact_json(raw, &mut self.compact) > MAX_NESTING {
            return Err(self.invalid(
                location,
                format!(
                    "the {resource_type} nests arrays and objects deeper than {MAX_NESTING} levels"
                ),
            ));
        }
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
        let counts = &mut self.unit.counts;
        let (map, written) = match outcome {
            PutOutcome::Inserted(row) | PutOutcome::Replaced(row) => {
                (&mut counts.stored, Some(row))
            }
            PutOutcome::Unchanged(_) => (&mut counts.unchanged, None),
            PutOutcome::Older(_) => (&mut counts.older, None),
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

    /// Attaches the rows that waited for the whole Bundle to be read, and notes the people
    /// its references name.
    fn finish_bundle(&mut self, bundle: BundleState) -> Result<(), ImportError> {
        let only_patient = match bundle.patients.as_slice() {
            [one] => Some(one.as_str()),
            _ => None,
        };
        for (reference, used, location, what) in bundle.pending_people {
            let person = match bundle.patient_by_full_url.get(&reference) {
                Some(pid) => Some(pid.clone()),
                // The reference names another entry of the Bundle: no person.
                None if bundle.other_full_urls.contains(&reference) => None,
                None => used,
            };
            if let Some(person) = person {
                self.unit.refer(&person, &self.file, &location, || what);
            }
        }
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
/// the (uncompressed) content when it is known up front. A UTF-8 BOM at the start is skipped.
pub(crate) fn read_json(
    mut reader: impl BufRead,
    size: Option<u64>,
    sink: &mut Sink<'_, '_>,
) -> Result<(), ImportError> {
    let unreadable = |sink: &Sink<'_, '_>, source| ImportError::ReadFailed {
        file: sink.file.to_string(),
        location: Location::File,
        source,
    };
    match size {
        Some(size) if size <= WHOLE_FILE_LIMIT => {
            let mut bytes = Vec::with_capacity(size as usize);
            reader
                .take(WHOLE_FILE_LIMIT + 1)
                .read_to_end(&mut bytes)
                .map_err(|e| unreadable(sink, e))?;
            if bytes.len() as u64 > WHOLE_FILE_LIMIT {
                return Err(unreadable(
                    sink,
                    std::io::Error::other("the file grew while it was read"),
                ));
            }
            let text = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
            read_json_from(serde_json::Deserializer::from_slice(text), sink)
        }
        _ => {
            let starts_with_bom = reader
                .fill_buf()
                .map_err(|e| unreadable(sink, e))?
                .starts_with(b"\xEF\xBB\xBF");
            if starts_with_bom {
                reader.consume(3);
            }
            let budget = Rc::new(Budget::new(sink.limit));
            sink.budget = Some(budget.clone());
            let limited = Limited {
                inner: reader,
                budget,
            };
            read_json_from(serde_json::Deserializer::from_reader(limited), sink)
        }
    }
}

/// A JSON string literal of `text`.
fn json_string(text: &str) -> String {
    serde_json::Value::String(text.to_owned()).to_string()
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
            if let Some(budget) = sink.budget.as_ref().filter(|b| b.exceeded.get()) {
                return Err(sink.too_large(budget.location()));
            }
            return Err(sink
                .failure
                .take()
                .unwrap_or_else(|| sink.json_error(&e, Location::File)));
        }
    };
    de.end().map_err(
        |e| match sink.budget.as_ref().filter(|b| b.exceeded.get()) {
            Some(_) => sink.too_large(Location::File),
            None => sink.json_error(&e, Location::File),
        },
    )?;
    match top.resource_type.as_deref() {
        Some("Bundle") => {
            match top.bundle_type.as_deref() {
                Some(t) if BUNDLE_TYPES.contains(&t) => {}
                Some(t) => {
                    return Err(sink.invalid(
                        Location::File,
                        format!(
                            "Bundle type {:?} is not imported (expected one of {})",
                            excerpt(t),
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
                text.push_str(&json_string(rt));
            }
            for (key, value) in &top.other_fields {
                if text.len() > 1 {
                    text.push(',');
                }
                text.push_str(&json_string(key));
                text.push(':');
                text.push_str(value.get());
            }
            text.push('}');
            if text.len() as u64 > sink.limit {
                return Err(sink.too_large(Location::File));
            }
            sink.put(&text, None, None, Location::File)
        }
    }
}

/// Reads an NDJSON file: one resource per line, each at most the size limit.
pub(crate) fn read_ndjson(
    reader: impl BufRead,
    sink: &mut Sink<'_, '_>,
) -> Result<(), ImportError> {
    let mut lines = Lines::new(reader, sink.limit);
    let file = sink.file.clone();
    while let Some((number, line)) = lines.next_line(&file)? {
        if line.trim().is_empty() {
            continue;
        }
        let location = Location::Line(number);
        sink.put(line, None, None, location.clone())
            .map_err(|e| match e {
                // A position inside one line: say which line of the file it is.
                ImportError::MalformedJson {
                    file,
                    location: Location::Position { column, .. },
                    reason,
                } => ImportError::MalformedJson {
                    file,
                    location: Location::Position {
                        line: number,
                        column,
                    },
                    reason,
                },
                other => other,
            })?;
    }
    Ok(())
}

/// The `resourceType` of a resource's JSON, for messages about a resource whose other fields
/// did not read.
fn resource_type_of(raw: &str) -> Option<String> {
    #[derive(Deserialize)]
    struct TypeOnly {
        #[serde(rename = "resourceType")]
        resource_type: Option<String>,
    }
    let t = serde_json::from_str::<TypeOnly>(raw).ok()?.resource_type?;
    resource::validate_identity(Some(&t), Some("x")).ok()?;
    Some(t)
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
        while let Some(key) = {
            if let Some(budget) = &self.sink.budget {
                budget.mark(None);
            }
            map.next_key::<String>()?
        } {
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
                    if raw.get().len() as u64 > self.sink.limit {
                        self.sink.failure = Some(self.sink.too_large(Location::File));
                        return Err(de::Error::custom("stopped at a field over the limit"));
                    }
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
        while let Some(entry) = {
            if let Some(budget) = &self.sink.budget {
                budget.mark(Some(index));
            }
            seq.next_element::<Entry>()?
        } {
            let too_large = entry
                .resource
                .as_ref()
                .is_some_and(|r| r.get().len() as u64 > self.sink.limit);
            if too_large {
                self.sink.failure = Some(self.sink.too_large(Location::Entry(index)));
                return Err(de::Error::custom("stopped at an entry over the limit"));
            }
            let is_delete = entry
                .request
                .as_ref()
                .and_then(|r| r.method.as_deref())
                .is_some_and(|m| m.eq_ignore_ascii_case("DELETE"));
            if is_delete {
                self.sink.unit.counts.deletes_ignored += 1;
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
