//! Full-text search for coordinators, as they type: people (names, phones, identifiers,
//! addresses), notes of attempts, referrals, escalations and callbacks, script answers and
//! scripts, in one tantivy index held in RAM.
//!
//! The API crate builds a [`SearchIndex`] at unlock from the encrypted cache
//! ([`SearchIndex::add_all`]), keeps it current as events are appended
//! ([`SearchIndex::upsert`], [`SearchIndex::remove`]) and drops it at lock. What a query
//! matches:
//!
//! - words with accents and case folded ("adan" finds "Adán", "JOSE" finds "José");
//! - the start of words: every term matches the start of a name word ("mar gar" finds
//!   "María García"), the last term also the start of a free-text word from three letters;
//! - words of four letters or more at edit distance 1 ("Jonh" finds "John"), ranked below
//!   exact matches;
//! - phone numbers by their digits whatever the formatting, any four or more consecutive
//!   digits ("014-2233" and "(555) 014-2233" find "+1 555-014-2233");
//! - identifiers (MRN, Patient.id) exactly or by prefix, ignoring case and punctuation;
//! - all terms (AND), each in any field.
//!
//! See the `query` module for the exact rules.
//!
//! **Invariant:** nothing is written to disk. The index lives in a tantivy `RamDirectory`
//! (the crate is built without tantivy's mmap directory), so no plaintext of the encrypted
//! cache leaves memory; the index is rebuilt at each unlock.
//!
//! **Invariant:** no error message carries document or query text (PHI): [`SearchError`]
//! holds only what failed and a category, never the underlying message.
//!
//! **Invariant:** any query string is accepted: the query is split by this crate's rules,
//! never by tantivy's query language, so no input is syntax; an empty or punctuation-only
//! query has no hits; the work per query is bounded (at most 12 terms and 16 words).
//!
//! **API Boundary:** [`SearchIndex`], [`Doc`], [`DocKind`], [`Filter`], [`Hit`],
//! [`SearchError`]. Knows nothing about the store, FHIR, roles or HTTP: the caller decides
//! what is indexed and which kinds a user may see ([`Filter::kinds`]).

mod analysis;
mod fields;
mod query;
mod snippet;

use std::collections::HashSet;
use std::fmt;
use std::hash::{BuildHasher, RandomState};
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use tantivy::collector::TopDocs;
use tantivy::directory::RamDirectory;
use tantivy::schema::{TantivyDocument, Value};
use tantivy::tokenizer::TextAnalyzer;
use tantivy::{Index, IndexReader, IndexSettings, IndexWriter, ReloadPolicy, TantivyError, Term};

use analysis::{
    identifier_key, push_phone_grams, push_prefixes, push_words, term_analyzer, word_analyzer,
    MAX_PREFIX_CHARS, MIN_BODY_PREFIX_CHARS, MIN_IDENTIFIER_PREFIX_CHARS, TERM_TOKENIZER,
    WORD_TOKENIZER,
};
use fields::Fields;
use snippet::Highlighter;

/// What a searchable document is.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum DocKind {
    /// The default only so that [`Doc`] has one.
    #[default]
    Person,
    AttemptNote,
    Answer,
    ReferralNote,
    EscalationNote,
    CallbackNote,
    Script,
}

impl DocKind {
    /// Every kind.
    pub const ALL: [DocKind; 7] = [
        DocKind::Person,
        DocKind::AttemptNote,
        DocKind::Answer,
        DocKind::ReferralNote,
        DocKind::EscalationNote,
        DocKind::CallbackNote,
        DocKind::Script,
    ];

    /// The kind's name, as serialized.
    pub fn as_str(self) -> &'static str {
        match self {
            DocKind::Person => "person",
            DocKind::AttemptNote => "attempt_note",
            DocKind::Answer => "answer",
            DocKind::ReferralNote => "referral_note",
            DocKind::EscalationNote => "escalation_note",
            DocKind::CallbackNote => "callback_note",
            DocKind::Script => "script",
        }
    }
}

impl fmt::Display for DocKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for DocKind {
    type Err = SearchError;

    fn from_str(s: &str) -> Result<DocKind, SearchError> {
        DocKind::ALL
            .into_iter()
            .find(|kind| kind.as_str() == s)
            .ok_or(SearchError::UnknownKind)
    }
}

/// A document to index. For a person, `title` is the full name and `text` is empty; for a
/// note or answer, `title` is e.g. "Attempt 2026-07-01 phone" and `text` its body; for a
/// script, its title and text. `segment`, `status` and `owner` are those of the person's
/// case, for filtering (matched exactly; values over 512 bytes match no filter).
#[derive(Clone, Default, PartialEq)]
pub struct Doc {
    pub kind: DocKind,
    pub id: String,
    pub patient_id: Option<String>,
    pub title: String,
    pub text: String,
    /// MRN, Patient.id, other identifiers.
    pub identifiers: Vec<String>,
    /// As written, in any format.
    pub phones: Vec<String>,
    pub address: Option<String>,
    pub language: Option<String>,
    pub segment: Option<String>,
    pub status: Option<String>,
    pub owner: Option<String>,
}

/// Shows the kind and id only: the rest is PHI and must not end up in logs.
impl fmt::Debug for Doc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Doc")
            .field("kind", &self.kind)
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

/// Which documents a search may return. The default allows everything. `kinds` is how the
/// caller enforces who may see what (e.g. coordinators never get callback notes): `Some` of
/// an empty list allows nothing. `segment`, `status` and `owner` match the document's values
/// exactly.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filter {
    pub kinds: Option<Vec<DocKind>>,
    pub segment: Option<String>,
    pub status: Option<String>,
    pub owner: Option<String>,
}

/// One search result. `snippet` is HTML: matches in `<b>…</b>`, everything else escaped.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Hit {
    pub kind: DocKind,
    pub id: String,
    pub patient_id: Option<String>,
    pub title: String,
    pub score: f32,
    pub snippet: String,
}

/// Why an index operation failed. Messages never carry document or query text.
#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    /// The search engine failed; `category` names the kind of failure, never its details
    /// (tantivy's messages may quote terms).
    #[error("search index: {operation} failed ({category})")]
    Engine {
        operation: &'static str,
        category: &'static str,
    },
    /// A document cannot be indexed (e.g. its id is empty or too long).
    #[error("search index: invalid document: {reason}")]
    InvalidDocument { reason: &'static str },
    /// A kind name is not one of [`DocKind::as_str`].
    #[error("unknown search document kind")]
    UnknownKind,
}

fn engine_error(operation: &'static str) -> impl FnOnce(TantivyError) -> SearchError {
    move |error| SearchError::Engine {
        operation,
        category: match error {
            TantivyError::IoError(_) => "i/o",
            TantivyError::LockFailure(..) => "lock",
            TantivyError::DataCorruption(_) => "data corruption",
            TantivyError::Poisoned => "poisoned lock",
            TantivyError::InvalidArgument(_) => "invalid argument",
            TantivyError::ErrorInThread(_) => "indexing thread",
            TantivyError::SchemaError(_) | TantivyError::FieldNotFound(_) => "schema",
            TantivyError::OpenReadError(_)
            | TantivyError::OpenWriteError(_)
            | TantivyError::OpenDirectoryError(_) => "directory",
            _ => "internal",
        },
    }
}

/// Ids longer than this are refused (an id is a key, not text).
const MAX_ID_BYTES: usize = 512;
/// Segment, status and owner values longer than this are not indexed, and filters by such
/// values match nothing (they are codes and ids; tantivy would drop a term of 64 KiB).
pub(crate) const MAX_FILTER_VALUE_BYTES: usize = 512;
/// The indexing memory per writer thread: with two threads, 600,000 documents make a few
/// segments, and the arena is only allocated while documents are being added.
const WRITER_MEMORY_PER_THREAD: usize = 64 << 20;
/// At most this many indexing threads.
const MAX_WRITER_THREADS: usize = 4;

/// The in-RAM search index. `search` takes `&self` and may run from several threads;
/// changes take `&mut self`.
pub struct SearchIndex {
    directory: RamDirectory,
    writer: IndexWriter<TantivyDocument>,
    reader: IndexReader,
    fields: Fields,
    words: TextAnalyzer,
}

impl SearchIndex {
    /// An empty index in RAM. This is `Index::create_in_ram` with a handle kept on the
    /// `RamDirectory` so [`SearchIndex::memory_bytes`] can read its size.
    pub fn new() -> Result<SearchIndex, SearchError> {
        let (schema, fields) = Fields::schema();
        let directory = RamDirectory::create();
        let index = Index::create(directory.clone(), schema, IndexSettings::default())
            .map_err(engine_error("create"))?;
        index.tokenizers().register(WORD_TOKENIZER, word_analyzer());
        index.tokenizers().register(TERM_TOKENIZER, term_analyzer());
        let threads = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(MAX_WRITER_THREADS);
        let writer = index
            .writer_with_num_threads(threads, threads * WRITER_MEMORY_PER_THREAD)
            .map_err(engine_error("open writer"))?;
        // Reloaded explicitly after each commit, so a change is searchable when it returns.
        // Not `OnCommitWithDelay`: its background reload takes the directory's meta lock,
        // and a commit's file cleanup that finds it taken sleeps 100 ms before retrying.
        // Segments merged in the background are picked up at the next change.
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()
            .map_err(engine_error("open reader"))?;
        Ok(SearchIndex {
            directory,
            writer,
            reader,
            fields,
            words: word_analyzer(),
        })
    }

    /// Adds many documents with one commit at the end (the bulk load at unlock). A document
    /// whose (kind, id) is already indexed, or repeated in `docs`, replaces the earlier one.
    /// All or nothing: on an error (e.g. a document with an empty id) nothing of `docs` is
    /// indexed. Returns the number of documents added.
    pub fn add_all(&mut self, docs: impl IntoIterator<Item = Doc>) -> Result<u64, SearchError> {
        let replace_existing = !self.is_empty();
        // Hashes of the keys added so far: a collision only costs a needless delete (of a key
        // not indexed yet), never a lost document.
        let mut seen: HashSet<u64> = HashSet::new();
        let hasher = RandomState::new();
        let mut added = 0;
        for doc in docs {
            let queued = document_key(&doc).and_then(|key| {
                if replace_existing || !seen.insert(hasher.hash_one(&key)) {
                    self.writer
                        .delete_term(Term::from_field_text(self.fields.key, &key));
                }
                self.add(&doc, &key)
            });
            if let Err(error) = queued {
                return Err(self.rollback(error));
            }
            added += 1;
        }
        self.commit()?;
        Ok(added)
    }

    /// Adds or replaces the document with `doc`'s (kind, id); searchable when this returns.
    /// On an error the index is unchanged.
    pub fn upsert(&mut self, doc: Doc) -> Result<(), SearchError> {
        let key = document_key(&doc)?;
        self.writer
            .delete_term(Term::from_field_text(self.fields.key, &key));
        if let Err(error) = self.add(&doc, &key) {
            return Err(self.rollback(error));
        }
        self.commit()
    }

    /// Removes the document (kind, id), if indexed; gone from searches when this returns.
    pub fn remove(&mut self, kind: DocKind, id: &str) -> Result<(), SearchError> {
        if id.is_empty() || id.len() > MAX_ID_BYTES {
            return Ok(()); // never indexed
        }
        let key = key_of(kind, id);
        self.writer
            .delete_term(Term::from_field_text(self.fields.key, &key));
        self.commit()
    }

    fn add(&mut self, doc: &Doc, key: &str) -> Result<(), SearchError> {
        let document = self.document(doc, key);
        self.writer
            .add_document(document)
            .map(drop)
            .map_err(engine_error("add"))
    }

    /// Drops what was queued since the last commit, and returns `error` (or the rollback's
    /// own error, if that fails too).
    fn rollback(&mut self, error: SearchError) -> SearchError {
        match self.writer.rollback() {
            Ok(_) => error,
            Err(rollback_error) => engine_error("rollback")(rollback_error),
        }
    }

    /// Commits and reloads the reader, so what was changed is searchable on return.
    fn commit(&mut self) -> Result<(), SearchError> {
        self.writer.commit().map_err(engine_error("commit"))?;
        self.reader.reload().map_err(engine_error("reload"))
    }

    /// The best `limit` hits for `query` among the documents `filter` allows, best first.
    /// An empty or punctuation-only query has no hits.
    pub fn search(
        &self,
        query: &str,
        filter: &Filter,
        limit: usize,
    ) -> Result<Vec<Hit>, SearchError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let mut words = self.words.clone();
        let terms = query::parse(&mut words, query);
        let Some(tantivy_query) = query::build(&self.fields, &terms, filter) else {
            return Ok(Vec::new());
        };
        let searcher = self.reader.searcher();
        let top = searcher
            .search(&tantivy_query, &TopDocs::with_limit(limit).order_by_score())
            .map_err(engine_error("search"))?;
        let highlighter = Highlighter::new(&terms);
        let mut hits = Vec::with_capacity(top.len());
        for (score, address) in top {
            let stored: TantivyDocument = searcher.doc(address).map_err(engine_error("read"))?;
            let kind = first_str(&stored, self.fields.kind)
                .and_then(|kind| kind.parse().ok())
                .ok_or(SearchError::Engine {
                    operation: "read",
                    category: "stored kind missing",
                })?;
            let title = first_str(&stored, self.fields.title).unwrap_or_default();
            let snippet = if kind == DocKind::Person {
                highlighter.person(&mut words, title, first_str(&stored, self.fields.language))
            } else {
                let text = first_str(&stored, self.fields.text).unwrap_or_default();
                highlighter.free_text(&mut words, self.fields.text, text)
            };
            hits.push(Hit {
                kind,
                id: first_str(&stored, self.fields.id)
                    .unwrap_or_default()
                    .to_owned(),
                patient_id: first_str(&stored, self.fields.patient_id).map(str::to_owned),
                title: title.to_owned(),
                score,
                snippet,
            });
        }
        Ok(hits)
    }

    /// The number of documents searchable now.
    pub fn len(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    /// Whether no document is searchable.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The index's memory: the sum of the sizes of the RAM directory's files (segments,
    /// including those a background merge is about to replace) plus the buffers of files
    /// being written. Not included: the writer's indexing arena while documents are being
    /// added, and the readers' caches.
    pub fn memory_bytes(&self) -> u64 {
        self.directory.total_mem_usage() as u64
    }

    /// The tantivy document for `doc`: stored fields for hits and snippets, and the
    /// precomputed terms (edge n-grams, identifiers, phone digits).
    fn document(&mut self, doc: &Doc, key: &str) -> TantivyDocument {
        let f = self.fields;
        let mut document = TantivyDocument::default();
        document.add_text(f.key, key);
        document.add_text(f.kind, doc.kind.as_str());
        document.add_text(f.id, &doc.id);
        if let Some(patient_id) = &doc.patient_id {
            document.add_text(f.patient_id, patient_id);
        }
        document.add_text(f.title, &doc.title);
        let mut terms = String::new();
        let mut words = Vec::new();
        push_words(&mut self.words, &doc.title, &mut words);
        push_prefixes(&mut words, 1, MAX_PREFIX_CHARS, &mut terms);
        add_terms(&mut document, f.title_prefix, &mut terms);

        if !doc.text.is_empty() {
            document.add_text(f.text, &doc.text);
            document.add_text(f.body, &doc.text);
        }
        for extra in [&doc.address, &doc.language].into_iter().flatten() {
            document.add_text(f.body, extra);
        }
        words.clear();
        push_words(&mut self.words, &doc.text, &mut words);
        for extra in [&doc.address, &doc.language].into_iter().flatten() {
            push_words(&mut self.words, extra, &mut words);
        }
        push_prefixes(
            &mut words,
            MIN_BODY_PREFIX_CHARS,
            MAX_PREFIX_CHARS,
            &mut terms,
        );
        add_terms(&mut document, f.body_prefix, &mut terms);

        let mut identifiers: Vec<String> = doc
            .identifiers
            .iter()
            .filter_map(|identifier| identifier_key(&mut self.words, identifier))
            .collect();
        push_prefixes(
            &mut identifiers,
            MIN_IDENTIFIER_PREFIX_CHARS,
            usize::MAX,
            &mut terms,
        );
        add_terms(&mut document, f.identifier_prefix, &mut terms);
        for identifier in &identifiers {
            document.add_text(f.identifier, identifier);
        }

        push_phone_grams(&doc.phones, &mut terms);
        add_terms(&mut document, f.phone, &mut terms);

        if let Some(language) = &doc.language {
            document.add_text(f.language, language);
        }
        for (field, value) in [
            (f.segment, &doc.segment),
            (f.status, &doc.status),
            (f.owner, &doc.owner),
        ] {
            if let Some(value) = value.as_ref().filter(|v| v.len() <= MAX_FILTER_VALUE_BYTES) {
                document.add_text(field, value);
            }
        }
        document
    }
}

/// Adds the space-separated precomputed `terms` to a field analyzed by [`TERM_TOKENIZER`],
/// and clears them.
fn add_terms(document: &mut TantivyDocument, field: tantivy::schema::Field, terms: &mut String) {
    if !terms.is_empty() {
        document.add_text(field, terms.as_str());
        terms.clear();
    }
}

fn key_of(kind: DocKind, id: &str) -> String {
    format!("{}:{id}", kind.as_str())
}

fn document_key(doc: &Doc) -> Result<String, SearchError> {
    if doc.id.is_empty() {
        return Err(SearchError::InvalidDocument { reason: "empty id" });
    }
    if doc.id.len() > MAX_ID_BYTES {
        return Err(SearchError::InvalidDocument {
            reason: "id longer than 512 bytes",
        });
    }
    Ok(key_of(doc.kind, &doc.id))
}

fn first_str(document: &TantivyDocument, field: tantivy::schema::Field) -> Option<&str> {
    document.get_first(field).and_then(|value| value.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip() {
        for kind in DocKind::ALL {
            assert_eq!(kind.as_str().parse::<DocKind>().unwrap(), kind);
        }
        assert!("Person".parse::<DocKind>().is_err());
    }

    #[test]
    fn the_index_can_be_shared_between_threads() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<SearchIndex>();
    }
}
