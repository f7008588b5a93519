//! Global search through the API: the in-RAM index of `careloop-search` is built from the
//! encrypted cache when first needed (people with names, identifiers, phones, addresses and
//! languages; attempt notes, free-text answers, referral, escalation and callback notes; the
//! scripts' text), kept current as events are appended, and queried with the kinds the
//! caller's role may see. Opening a result is audited.

use std::collections::HashMap;

use careloop_ops::rbac::{self, Field};
use careloop_ops::{CaseStatus, OpEvent, Recorded, Role};
use careloop_scripts::Answer;
use careloop_search::{Doc, DocKind, Filter, SearchIndex};
use careloop_store::{AuditOutcome, NewAuditEntry};
use serde::{Deserialize, Serialize};

use crate::derived::Change;
use crate::operations::Session;
use crate::{ApiError, Careloop, ErrorCode, Result};

impl From<careloop_search::SearchError> for ApiError {
    fn from(e: careloop_search::SearchError) -> ApiError {
        ApiError::new(ErrorCode::Internal, e.to_string())
    }
}

/// A search request.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SearchQuery {
    pub text: String,
    pub limit: usize,
    /// Only people and notes whose case is in this segment, has this status, or this owner.
    pub segment: Option<String>,
    pub status: Option<String>,
    pub owner: Option<String>,
}

/// One search result as the caller may see it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[ts(export)]
pub struct SearchHit {
    pub kind: String,
    pub id: String,
    pub patient_id: Option<String>,
    pub title: String,
    pub score: f32,
    /// HTML: matches in `<b>…</b>`, everything else escaped.
    pub snippet: String,
    /// A person's birth date (YYYY-MM-DD), to tell apart people of one name; none for other
    /// kinds.
    #[serde(default)]
    pub birth_date: Option<String>,
}

/// The kinds a role may find: people and outreach notes for those who see a person's record,
/// callback notes only for those who see callback documentation, scripts for everyone.
pub fn visible_kinds(role: Role) -> Vec<DocKind> {
    let mut kinds = vec![DocKind::Script];
    if rbac::visible(role, Field::Identity) {
        kinds.push(DocKind::Person);
    }
    if rbac::visible(role, Field::OutreachRecord) {
        kinds.extend([
            DocKind::AttemptNote,
            DocKind::Answer,
            DocKind::ReferralNote,
            DocKind::EscalationNote,
        ]);
    }
    if rbac::visible(role, Field::CallbackDocumentation) {
        kinds.push(DocKind::CallbackNote);
    }
    kinds
}

/// The documents one event adds (notes and answers; nothing for events without text).
fn event_docs(r: &Recorded, case: Option<&careloop_ops::Case>) -> Vec<Doc> {
    let at = r.at.format("%Y-%m-%d").to_string();
    let base = |kind: DocKind, id: String, title: String, text: String| Doc {
        kind,
        id,
        patient_id: Some(r.patient_id.clone()),
        title,
        text,
        segment: case.map(|c| c.segment_id.clone()),
        status: case.map(|c| c.status.to_string()),
        owner: case.and_then(|c| c.owner.clone()),
        ..Doc::default()
    };
    let mut docs = Vec::new();
    match &r.event {
        OpEvent::AttemptRecorded(a) => {
            if let Some(note) = a.note.as_ref().filter(|n| !n.trim().is_empty()) {
                docs.push(base(
                    DocKind::AttemptNote,
                    a.attempt_id.to_string(),
                    format!("Attempt {at} {}", a.channel),
                    note.clone(),
                ));
            }
            for (question, answer) in &a.answers {
                if let Answer::Text(text) = answer {
                    if !text.trim().is_empty() {
                        docs.push(base(
                            DocKind::Answer,
                            format!("{}:{question}", a.attempt_id),
                            format!("Answer {at} {}: {question}", a.script_id),
                            text.clone(),
                        ));
                    }
                }
            }
        }
        OpEvent::ReferralSent {
            referral_id,
            service,
            note,
            ..
        } if !note.trim().is_empty() => docs.push(base(
            DocKind::ReferralNote,
            format!("{referral_id}:sent"),
            format!("Referral {at} {service}"),
            note.clone(),
        )),
        OpEvent::ReferralUpdated {
            referral_id,
            status,
            note,
            ..
        } if !note.trim().is_empty() => docs.push(base(
            DocKind::ReferralNote,
            format!("{referral_id}:{status}"),
            format!("Referral {at} {status}"),
            note.clone(),
        )),
        OpEvent::EscalationRaised {
            escalation_id,
            kind,
            note,
            ..
        } if !note.trim().is_empty() => docs.push(base(
            DocKind::EscalationNote,
            escalation_id.to_string(),
            format!("Escalation {at} {kind}"),
            note.clone(),
        )),
        OpEvent::CallbackDocumented {
            callback_id,
            clinical_outcome,
            next_step,
            ..
        } => docs.push(base(
            DocKind::CallbackNote,
            callback_id.to_string(),
            format!("Callback {at}"),
            format!("{clinical_outcome}\n{next_step}"),
        )),
        _ => {}
    }
    docs
}

/// An index built apart from the app's connection, with the last event it saw.
pub struct DetachedSearch {
    search: Search,
    seen: i64,
}

impl std::fmt::Debug for DetachedSearch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DetachedSearch")
            .field("seen", &self.seen)
            .finish()
    }
}

/// The index and the person documents in it (kept to update their case fields).
pub(crate) struct Search {
    index: SearchIndex,
    persons: HashMap<String, Doc>,
    /// Events a sync pulled into the log that the index has not taken in yet: indexed (with
    /// the case fields of their people, from the state folded again) before the next search,
    /// instead of building the whole index again.
    behind: Vec<careloop_ops::Recorded>,
}

impl Search {
    /// Notes events pulled into the log, for the next search to index.
    pub(crate) fn fall_behind(&mut self, pulled: impl IntoIterator<Item = careloop_ops::Recorded>) {
        self.behind.extend(pulled);
    }
}

impl std::fmt::Debug for Search {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the documents (PHI): only how many.
        f.debug_struct("Search")
            .field("documents", &self.index.len())
            .finish()
    }
}

/// Gives the memory freed after a bulk build (hundreds of MiB on a large panel) back to
/// the system instead of leaving it in the allocator.
fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases free heap memory; it has no preconditions.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// A person's case for filtering (a person has one case field): an open case before a
/// closed one, an owned one before an unassigned one, then the most recently opened.
fn person_case<'a>(
    cases: impl Iterator<Item = &'a careloop_ops::Case>,
) -> HashMap<String, &'a careloop_ops::Case> {
    let mut case_of: HashMap<String, &careloop_ops::Case> = HashMap::new();
    for case in cases {
        let better = case_of.get(&case.patient_id).is_none_or(|c| {
            let key = |c: &careloop_ops::Case| {
                (
                    c.status != CaseStatus::Closed,
                    c.owner.is_some(),
                    c.opened_at,
                )
            };
            key(case) > key(c)
        });
        if better {
            case_of.insert(case.patient_id.clone(), case);
        }
    }
    case_of
}

impl Careloop {
    /// The search index, built on first use.
    fn search_index(&mut self) -> Result<&mut SearchIndex> {
        let behind = self
            .derived
            .search
            .as_mut()
            .map(|s| std::mem::take(&mut s.behind))
            .unwrap_or_default();
        if !behind.is_empty() {
            // Pulled by a sync: the state is folded again, then only those events and their
            // people's case fields are indexed.
            self.ops()?;
            if self.index_events(&behind).is_err() {
                self.derived.changed(Change::SearchFailed);
            }
        }
        if self.derived.search.is_none() {
            let search = self.build_search()?;
            self.derived.search = Some(search);
        }
        Ok(&mut self.derived.search.as_mut().expect("just built").index)
    }

    /// Builds the index now.
    pub fn prepare_search(&mut self) -> Result<u64> {
        Ok(self.search_index()?.len())
    }

    /// Whether the index is built.
    pub fn search_ready(&self) -> bool {
        self.derived.search.is_some()
    }

    /// Builds the index on a second connection to the same cache, for a background thread
    /// (readers do not block the app's connection): the desktop app starts it at sign-in so
    /// the first search does not wait for it. Install it with [`Careloop::install_search`].
    pub fn build_search_detached(config: &crate::Config) -> Result<DetachedSearch> {
        let mut side = Careloop::open(config)?;
        let seen = side.store.last_event_seq()?;
        let search = side.build_search()?;
        Ok(DetachedSearch { search, seen })
    }

    /// Takes an index built by [`Careloop::build_search_detached`] (unless one is already in
    /// place), and indexes the events appended since it read the log.
    pub fn install_search(&mut self, built: DetachedSearch) -> Result<()> {
        if self.derived.search.is_some() {
            return Ok(());
        }
        let mut later = Vec::new();
        let mut after = built.seen;
        loop {
            let batch = self.store.events_after(after, 10_000)?;
            let Some(tail) = batch.last() else { break };
            after = tail.seq;
            for e in batch
                .iter()
                .filter(|e| careloop_ops::events::KINDS.contains(&e.kind.as_str()))
            {
                later.push(crate::operations::from_stored(e)?);
            }
        }
        self.ops()?;
        self.derived.search = Some(built.search);
        if self.index_events(&later).is_err() {
            self.derived.changed(Change::SearchFailed);
        }
        Ok(())
    }

    /// Builds the index from the cache: people, notes from the event log, scripts.
    fn build_search(&mut self) -> Result<Search> {
        let ops = self.ops()?;
        let case_of: HashMap<String, careloop_ops::Case> = person_case(ops.state.cases.values())
            .into_iter()
            .map(|(p, c)| (p, c.clone()))
            .collect();
        let mut docs: Vec<Doc> = Vec::new();
        for r in ops
            .log
            .iter()
            .filter_map(careloop_ops::sync::LogEntry::recorded)
        {
            let case = ops.state.cases.get(&r.event.case_id());
            docs.extend(event_docs(r, case));
        }
        for script in ops.scripts.iter() {
            for language in script.title.languages() {
                let text_in = |t: &careloop_scripts::Text| t.get(language).0.to_owned();
                let mut text = text_in(&script.introduction);
                for q in &script.questions {
                    text.push('\n');
                    text.push_str(&text_in(&q.text));
                }
                docs.push(Doc {
                    kind: DocKind::Script,
                    id: format!("{}:{language}", script.id),
                    title: text_in(&script.title),
                    text,
                    language: Some(language.to_owned()),
                    ..Doc::default()
                });
            }
        }
        let people = ops.people.clone();
        let mut index = SearchIndex::new()?;
        index.add_all(docs)?;
        let mut persons = Vec::new();
        self.store.for_each_resource("Patient", |id, body| {
            // The one reader of Patient JSON (careloop-fhir): the same phone and address
            // as the case view. The body was checked at import; if it no longer reads, the
            // person is still found by name and id.
            let record = careloop_fhir::read_patient(body).unwrap_or_default();
            let mut identifiers = vec![id.to_owned()];
            identifiers.extend(record.identifiers);
            let phones = record.phones;
            let address = record.address;
            let person = people.get(id);
            let case = case_of.get(id);
            persons.push(Doc {
                kind: DocKind::Person,
                id: id.to_owned(),
                patient_id: Some(id.to_owned()),
                title: person.map_or_else(String::new, |p| p.name.clone()),
                text: String::new(),
                identifiers,
                phones,
                address,
                language: person.and_then(|p| p.preferred_language.clone()),
                segment: case.map(|c| c.segment_id.clone()),
                status: case.map(|c| c.status.to_string()),
                owner: case.and_then(|c| c.owner.clone()),
            });
            Ok(())
        })?;
        index.add_all(persons.iter().cloned())?;
        let search = Search {
            index,
            persons: persons.into_iter().map(|d| (d.id.clone(), d)).collect(),
            behind: Vec::new(),
        };
        release_free_memory();
        Ok(search)
    }

    /// Keeps the index (when built) current with appended events: their notes are
    /// searchable when this returns.
    pub(crate) fn index_events(&mut self, recorded: &[Recorded]) -> Result<()> {
        if self.derived.search.is_none() {
            return Ok(());
        }
        let ops = self
            .derived
            .ops
            .as_ref()
            .expect("events were just applied to it");
        let search = self.derived.search.as_mut().expect("checked");
        let mut docs: Vec<Doc> = recorded
            .iter()
            .flat_map(|r| event_docs(r, ops.state.cases.get(&r.event.case_id())))
            .collect();
        // The people whose case changed get their case fields again.
        let touched: std::collections::BTreeSet<&str> =
            recorded.iter().map(|r| r.patient_id.as_str()).collect();
        let case_of = person_case(
            ops.state
                .cases
                .values()
                .filter(|c| touched.contains(c.patient_id.as_str())),
        );
        for patient in touched {
            if let (Some(person), Some(case)) =
                (search.persons.get_mut(patient), case_of.get(patient))
            {
                let fields = (
                    Some(case.segment_id.clone()),
                    Some(case.status.to_string()),
                    case.owner.clone(),
                );
                if (
                    person.segment.clone(),
                    person.status.clone(),
                    person.owner.clone(),
                ) != fields
                {
                    (person.segment, person.status, person.owner) = fields;
                    docs.push(person.clone());
                }
            }
        }
        for doc in docs {
            search.index.upsert(doc)?;
        }
        Ok(())
    }

    /// Searches people, notes and scripts as the session's role may see them. The query
    /// text is not audited (it may be a name); opening a result is
    /// ([`Careloop::open_search_result`]).
    pub fn search(&mut self, session: &Session, query: &SearchQuery) -> Result<Vec<SearchHit>> {
        let filter = Filter {
            kinds: Some(visible_kinds(session.role)),
            segment: query.segment.clone(),
            status: query.status.clone(),
            owner: query.owner.clone(),
        };
        let limit = query.limit.clamp(1, 200);
        let hits = self.search_index()?.search(&query.text, &filter, limit)?;
        let people = &self.ops()?.people;
        Ok(hits
            .into_iter()
            .map(|h| SearchHit {
                birth_date: (h.kind == DocKind::Person)
                    .then(|| h.patient_id.as_ref().and_then(|id| people.get(id)))
                    .flatten()
                    .and_then(|p| p.birth_date.clone()),
                kind: h.kind.as_str().to_owned(),
                id: h.id,
                patient_id: h.patient_id,
                title: h.title,
                score: h.score,
                snippet: h.snippet,
            })
            .collect())
    }

    /// Records that the session opened a search result (a person or a note about one).
    pub fn open_search_result(&mut self, session: &Session, hit: &SearchHit) -> Result<()> {
        let kind: DocKind = hit.kind.parse().map_err(|_| {
            ApiError::new(
                ErrorCode::BadInput,
                format!("unknown result kind {:?}", hit.kind),
            )
        })?;
        if !visible_kinds(session.role).contains(&kind) {
            self.store.append_audit(&NewAuditEntry {
                at: session.at,
                actor: session.user.clone(),
                role: session.role.to_string(),
                action: "search.open".into(),
                patient_id: hit.patient_id.clone(),
                target: Some(format!("{}:{}", hit.kind, hit.id)),
                outcome: AuditOutcome::Denied,
            })?;
            return Err(ApiError::new(
                ErrorCode::Forbidden,
                format!("a {} may not open a {}", session.role, hit.kind),
            ));
        }
        self.store.append_audit(&NewAuditEntry {
            at: session.at,
            actor: session.user.clone(),
            role: session.role.to_string(),
            action: "search.open".into(),
            patient_id: hit.patient_id.clone(),
            target: Some(format!("{}:{}", hit.kind, hit.id)),
            outcome: AuditOutcome::Allowed,
        })?;
        Ok(())
    }
}
