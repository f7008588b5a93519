//! From what a coordinator typed to a tantivy query, without tantivy's query language: the
//! input is split into terms by this crate's own rules, so quotes, colons, parentheses or
//! backslashes are just characters and no input can fail to parse.
//!
//! - Terms are separated by whitespace; a run of terms without letters but with digits
//!   (`(555) 014-2233`) is one term, so a phone number written with spaces stays whole.
//! - Every term must match (AND); a term matches if any of its readings matches (OR):
//!   - as an identifier: its normalized form equals an identifier, or (from two characters)
//!     is an identifier's prefix;
//!   - as a phone, when it is mostly digits and has at least four: its digits occur in a
//!     phone number (digit n-grams, see [`crate::analysis::add_phone_grams`]);
//!   - as words (most terms are one word; `garcía-lópez` is two, both required): each word
//!     matches a title word exactly, a title word as a prefix (every term: people type the
//!     start of a first and a last name), a free-text word exactly, a free-text word as a
//!     prefix (last term only, from three characters), or, for words of four characters or
//!     more that are not all digits, a title or free-text word at edit distance 1
//!     (transpositions cost one).
//! - Exact matches are scored with BM25 and boosted above prefix matches; fuzzy matches
//!   have a small constant score, and an exact match also matches its fuzzy query, so an
//!   exact match always outranks a fuzzy-only one.
//! - Filters (kinds, segment, status, owner) are required clauses that add nothing to scores.

use tantivy::query::{
    BooleanQuery, BoostQuery, ConstScoreQuery, FuzzyTermQuery, Occur, Query, TermQuery,
};
use tantivy::schema::IndexRecordOption;
use tantivy::tokenizer::TextAnalyzer;
use tantivy::Term;

use crate::analysis::{
    char_len, digits, identifier_key, words, MAX_PREFIX_CHARS, MIN_BODY_PREFIX_CHARS,
    MIN_FUZZY_CHARS, MIN_IDENTIFIER_PREFIX_CHARS, MIN_PHONE_DIGITS,
};
use crate::fields::Fields;
use crate::{DocKind, Filter, MAX_FILTER_VALUE_BYTES};

/// Terms beyond this many are ignored (a query is typed, not pasted; this bounds the work).
pub(crate) const MAX_TERMS: usize = 12;
/// Words beyond this many (over all terms) are ignored, for the same reason.
pub(crate) const MAX_WORDS: usize = 16;
/// A run of digit terms is merged into one phone term up to this many digits (E.164).
const MAX_MERGED_PHONE_DIGITS: usize = 15;

const TITLE_BOOST: f32 = 3.0;
const TITLE_PREFIX_BOOST: f32 = 1.5;
const BODY_BOOST: f32 = 1.0;
const BODY_PREFIX_BOOST: f32 = 0.5;
const IDENTIFIER_BOOST: f32 = 4.0;
const IDENTIFIER_PREFIX_BOOST: f32 = 2.0;
const PHONE_BOOST: f32 = 3.0;
/// The constant score of a fuzzy (or long-prefix automaton) match.
const FUZZY_SCORE: f32 = 0.3;

/// One analyzed word of the query and how it may match.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Word {
    pub text: String,
    /// Matches free-text words as a prefix (last term only).
    pub body_prefix: bool,
    /// Matches at edit distance 1.
    pub fuzzy: bool,
}

/// One term of the query: its readings as an identifier, a phone and words.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct QueryTerm {
    pub identifier: Option<String>,
    pub phone_digits: Option<String>,
    pub words: Vec<Word>,
}

/// The terms of `query`; empty when there is nothing to search for.
pub(crate) fn parse(analyzer: &mut TextAnalyzer, query: &str) -> Vec<QueryTerm> {
    let mut terms = Vec::new();
    let mut word_count = 0;
    for raw in merge_digit_runs(query) {
        if terms.len() == MAX_TERMS || word_count == MAX_WORDS {
            break;
        }
        let identifier = identifier_key(analyzer, &raw)
            .filter(|key| char_len(key) >= MIN_IDENTIFIER_PREFIX_CHARS);
        let phone_digits = Some(digits(&raw)).filter(|d| {
            let alphanumeric = raw.chars().filter(|c| c.is_alphanumeric()).count();
            d.len() >= MIN_PHONE_DIGITS && d.len() * 3 >= alphanumeric * 2
        });
        let mut term_words: Vec<Word> = words(analyzer, &raw)
            .into_iter()
            .take(MAX_WORDS - word_count)
            .map(|text| Word {
                // Numbers (dates, house numbers) are not misspelled names: 2026 is not 2025.
                fuzzy: char_len(&text) >= MIN_FUZZY_CHARS
                    && !text.chars().all(|c| c.is_ascii_digit()),
                body_prefix: false,
                text,
            })
            .collect();
        term_words.dedup();
        if identifier.is_none() && phone_digits.is_none() && term_words.is_empty() {
            continue; // punctuation only
        }
        word_count += term_words.len();
        terms.push(QueryTerm {
            identifier,
            phone_digits,
            words: term_words,
        });
    }
    if let Some(word) = terms.last_mut().and_then(|term| term.words.last_mut()) {
        word.body_prefix = char_len(&word.text) >= MIN_BODY_PREFIX_CHARS;
    }
    terms
}

/// Splits on whitespace, merging runs of pieces that have digits but no letters (a phone
/// number written with spaces) into one piece.
fn merge_digit_runs(query: &str) -> Vec<String> {
    let mut pieces: Vec<String> = Vec::new();
    let mut previous_was_digits = false;
    for piece in query.split_whitespace() {
        let is_digits =
            piece.chars().any(|c| c.is_ascii_digit()) && !piece.chars().any(char::is_alphabetic);
        if is_digits && previous_was_digits {
            let last = pieces.last_mut().expect("a previous piece exists");
            if digits(last).len() + digits(piece).len() <= MAX_MERGED_PHONE_DIGITS {
                last.push(' ');
                last.push_str(piece);
                continue;
            }
        }
        previous_was_digits = is_digits;
        pieces.push(piece.to_owned());
        if pieces.len() > MAX_TERMS * 4 {
            break; // far more than will be used
        }
    }
    pieces
}

fn boosted(query: impl Query, boost: f32) -> (Occur, Box<dyn Query>) {
    (
        Occur::Should,
        Box::new(BoostQuery::new(Box::new(query), boost)),
    )
}

fn term_query(term: Term) -> TermQuery {
    TermQuery::new(term, IndexRecordOption::WithFreqs)
}

fn word_query(fields: &Fields, word: &Word) -> Box<dyn Query> {
    let text = word.text.as_str();
    let short_enough_for_grams = char_len(text) <= MAX_PREFIX_CHARS;
    let title = Term::from_field_text(fields.title, text);
    let body = Term::from_field_text(fields.body, text);
    let mut clauses = vec![
        boosted(term_query(title.clone()), TITLE_BOOST),
        boosted(term_query(body.clone()), BODY_BOOST),
    ];
    if short_enough_for_grams {
        let gram = Term::from_field_text(fields.title_prefix, text);
        clauses.push(boosted(term_query(gram), TITLE_PREFIX_BOOST));
    } else {
        let prefix = FuzzyTermQuery::new_prefix(title.clone(), 0, true);
        clauses.push(boosted(prefix, FUZZY_SCORE));
    }
    if word.body_prefix {
        if short_enough_for_grams {
            let gram = Term::from_field_text(fields.body_prefix, text);
            clauses.push(boosted(term_query(gram), BODY_PREFIX_BOOST));
        } else {
            let prefix = FuzzyTermQuery::new_prefix(body.clone(), 0, true);
            clauses.push(boosted(prefix, FUZZY_SCORE));
        }
    }
    if word.fuzzy {
        clauses.push(boosted(FuzzyTermQuery::new(title, 1, true), FUZZY_SCORE));
        clauses.push(boosted(FuzzyTermQuery::new(body, 1, true), FUZZY_SCORE));
    }
    Box::new(BooleanQuery::new(clauses))
}

fn term_reading_query(fields: &Fields, term: &QueryTerm) -> Box<dyn Query> {
    let mut readings: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    if let Some(identifier) = &term.identifier {
        let exact = Term::from_field_text(fields.identifier, identifier);
        readings.push(boosted(term_query(exact), IDENTIFIER_BOOST));
        let prefix = Term::from_field_text(fields.identifier_prefix, identifier);
        readings.push(boosted(term_query(prefix), IDENTIFIER_PREFIX_BOOST));
    }
    if let Some(phone_digits) = &term.phone_digits {
        let phone = Term::from_field_text(fields.phone, phone_digits);
        readings.push(boosted(term_query(phone), PHONE_BOOST));
    }
    match term.words.as_slice() {
        [] => {}
        [word] => readings.push((Occur::Should, word_query(fields, word))),
        several => {
            let all = several
                .iter()
                .map(|word| (Occur::Must, word_query(fields, word)))
                .collect();
            readings.push((Occur::Should, Box::new(BooleanQuery::new(all))));
        }
    }
    Box::new(BooleanQuery::new(readings))
}

fn filter_clause(query: impl Query) -> (Occur, Box<dyn Query>) {
    (
        Occur::Must,
        Box::new(ConstScoreQuery::new(Box::new(query), 0.0)),
    )
}

/// The whole query: every term required, plus the filter. `None` when nothing can match
/// (no terms, a kind filter that allows no kind, a filter value too long to be indexed).
pub(crate) fn build(
    fields: &Fields,
    terms: &[QueryTerm],
    filter: &Filter,
) -> Option<Box<dyn Query>> {
    if terms.is_empty() {
        return None;
    }
    let mut clauses: Vec<(Occur, Box<dyn Query>)> = terms
        .iter()
        .map(|term| (Occur::Must, term_reading_query(fields, term)))
        .collect();
    if let Some(kinds) = &filter.kinds {
        let (allowed, excluded): (Vec<DocKind>, Vec<DocKind>) = DocKind::ALL
            .into_iter()
            .partition(|kind| kinds.contains(kind));
        if allowed.is_empty() {
            return None;
        }
        // Every document has exactly one kind, so "not an excluded kind" is "an allowed
        // kind". Excluding is cheaper when fewer kinds are excluded (the usual case: all
        // but callback notes): the excluded postings are only skipped through. Both sides
        // are plain term queries, iterated lazily (a `TermSetQuery` would first collect every
        // allowed document into a bit set, on every search).
        if !excluded.is_empty() {
            let (occur, kinds) = if excluded.len() < allowed.len() {
                (Occur::MustNot, excluded)
            } else {
                (Occur::Must, allowed)
            };
            let union: Vec<(Occur, Box<dyn Query>)> = kinds
                .into_iter()
                .map(|kind| {
                    let term = Term::from_field_text(fields.kind, kind.as_str());
                    let query: Box<dyn Query> =
                        Box::new(TermQuery::new(term, IndexRecordOption::Basic));
                    (Occur::Should, query)
                })
                .collect();
            let union = ConstScoreQuery::new(Box::new(BooleanQuery::new(union)), 0.0);
            clauses.push((occur, Box::new(union)));
        }
    }
    for (field, value) in [
        (fields.segment, &filter.segment),
        (fields.status, &filter.status),
        (fields.owner, &filter.owner),
    ] {
        if let Some(value) = value {
            if value.len() > MAX_FILTER_VALUE_BYTES {
                return None; // never indexed
            }
            let term = Term::from_field_text(field, value);
            clauses.push(filter_clause(TermQuery::new(
                term,
                IndexRecordOption::Basic,
            )));
        }
    }
    Some(Box::new(BooleanQuery::new(clauses)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::word_analyzer;

    #[test]
    fn a_phone_written_with_spaces_is_one_term() {
        let terms = parse(&mut word_analyzer(), "maria (555) 014-2233");
        assert_eq!(terms.len(), 2);
        assert_eq!(terms[1].phone_digits.as_deref(), Some("5550142233"));
        assert_eq!(terms[0].phone_digits, None);
    }

    #[test]
    fn only_the_last_word_matches_free_text_as_a_prefix() {
        let terms = parse(&mut word_analyzer(), "Maria gar");
        assert!(!terms[0].words[0].body_prefix);
        assert!(terms[1].words[0].body_prefix);
        assert!(terms[0].words[0].fuzzy, "five letters");
        assert!(!terms[1].words[0].fuzzy, "three letters");
        assert!(
            !parse(&mut word_analyzer(), "2026")[0].words[0].fuzzy,
            "a number"
        );
    }

    #[test]
    fn punctuation_is_not_a_term() {
        assert!(parse(&mut word_analyzer(), " \"():\\*~^ -- ").is_empty());
        assert!(parse(&mut word_analyzer(), "").is_empty());
    }

    #[test]
    fn the_number_of_terms_is_bounded() {
        let long = "word ".repeat(10_000);
        assert_eq!(parse(&mut word_analyzer(), &long).len(), MAX_TERMS);
        let hyphenated = "a-".repeat(10_000);
        let terms = parse(&mut word_analyzer(), &hyphenated);
        assert_eq!(
            terms.iter().map(|t| t.words.len()).sum::<usize>(),
            1,
            "deduplicated"
        );
    }
}
