//! Text analysis shared by indexing and querying, so that both sides see the same words:
//! name-friendly words (split on anything not alphanumeric, accents folded, lowercased),
//! edge n-grams of those words for as-you-type prefixes, normalized identifiers with their
//! prefixes, and digit n-grams of phone numbers.

use tantivy::tokenizer::{
    AsciiFoldingFilter, LowerCaser, RemoveLongFilter, SimpleTokenizer, TextAnalyzer,
    WhitespaceTokenizer,
};

/// The tokenizer of the word fields (`title`, `body`): words folded to ASCII and lowercased,
/// so "José" and "JOSE" are both `jose`.
pub(crate) const WORD_TOKENIZER: &str = "careloop_words";
/// The tokenizer of the fields whose values this crate computes itself (edge n-grams,
/// identifiers, phone digits): the values are already normalized, space-separated terms.
pub(crate) const TERM_TOKENIZER: &str = "careloop_terms";

/// Words longer than this (in UTF-8 bytes) are not indexed or searched: nobody types them,
/// and they would only bloat the term dictionary.
pub(crate) const MAX_WORD_BYTES: usize = 40;
/// Edge n-grams stop at this many characters. A longer query word is matched as a prefix by
/// a prefix automaton on the word field instead (selective, so cheap).
pub(crate) const MAX_PREFIX_CHARS: usize = 20;
/// Free-text words (notes, answers, scripts, addresses) match as prefixes from this many
/// characters: one- and two-letter prefixes of free text match nearly everything.
pub(crate) const MIN_BODY_PREFIX_CHARS: usize = 3;
/// Identifiers match as prefixes from this many characters.
pub(crate) const MIN_IDENTIFIER_PREFIX_CHARS: usize = 2;
/// Longer normalized identifiers are not indexed (a UUID is 32 once its dashes are removed).
pub(crate) const MAX_IDENTIFIER_BYTES: usize = 64;
/// Phone digit n-grams start at this length: shorter digit runs match far too many numbers.
pub(crate) const MIN_PHONE_DIGITS: usize = 4;
/// Only the first digits of a phone are indexed (E.164 has at most 15; extensions add a few).
pub(crate) const MAX_PHONE_DIGITS: usize = 20;
/// Words of at least this many characters also match at edit distance 1.
pub(crate) const MIN_FUZZY_CHARS: usize = 4;

/// The analyzer of the word fields: tantivy's `SimpleTokenizer` (splits on anything that is
/// not alphanumeric), long words dropped, accents folded (`AsciiFoldingFilter`), lowercased.
pub(crate) fn word_analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(MAX_WORD_BYTES))
        .filter(AsciiFoldingFilter)
        .filter(LowerCaser)
        .build()
}

/// The analyzer of the precomputed-term fields: split on whitespace, nothing else.
pub(crate) fn term_analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(WhitespaceTokenizer::default()).build()
}

/// Appends the analyzed words of `text` to `out`.
pub(crate) fn push_words(analyzer: &mut TextAnalyzer, text: &str, out: &mut Vec<String>) {
    let mut stream = analyzer.token_stream(text);
    while let Some(token) = stream.next() {
        out.push(token.text.clone());
    }
}

/// The analyzed words of `text`.
pub(crate) fn words(analyzer: &mut TextAnalyzer, text: &str) -> Vec<String> {
    let mut out = Vec::new();
    push_words(analyzer, text, &mut out);
    out
}

/// An identifier as it is indexed and searched: its words (accent-folded, lowercased)
/// concatenated, so "MRN-00123", "mrn 00123" and "mrn00123" are all `mrn00123`.
/// `None` when nothing alphanumeric is left or the result is too long to be an identifier.
pub(crate) fn identifier_key(analyzer: &mut TextAnalyzer, identifier: &str) -> Option<String> {
    let mut key = String::new();
    let mut stream = analyzer.token_stream(identifier);
    while let Some(token) = stream.next() {
        key.push_str(&token.text);
        if key.len() > MAX_IDENTIFIER_BYTES {
            return None;
        }
    }
    (!key.is_empty()).then_some(key)
}

/// The number of characters of `word`.
pub(crate) fn char_len(word: &str) -> usize {
    word.chars().count()
}

/// Appends to `out`, each followed by a space, the distinct prefixes of `min_chars..=max_chars`
/// characters of `words` (which this sorts and deduplicates). In sorted order, a prefix that a
/// word shares with any earlier word it also shares with the word just before it, so skipping
/// the characters in common with the previous word emits every prefix once, without a set.
pub(crate) fn push_prefixes(
    words: &mut Vec<String>,
    min_chars: usize,
    max_chars: usize,
    out: &mut String,
) {
    words.sort_unstable();
    words.dedup();
    let mut previous = "";
    for word in words.iter() {
        let common = previous
            .chars()
            .zip(word.chars())
            .take_while(|(a, b)| a == b)
            .count();
        for (count, (end, ch)) in word.char_indices().enumerate() {
            let chars = count + 1;
            if chars > max_chars {
                break;
            }
            if chars >= min_chars && chars > common {
                out.push_str(&word[..end + ch.len_utf8()]);
                out.push(' ');
            }
        }
        previous = word;
    }
}

/// The ASCII digits of `text`, in order.
pub(crate) fn digits(text: &str) -> String {
    text.chars().filter(char::is_ascii_digit).collect()
}

/// Appends to `out`, each followed by a space, every distinct run of at least
/// [`MIN_PHONE_DIGITS`] consecutive digits of the phone numbers (all their digit substrings),
/// so a query by any contiguous part of a number (the last 7 digits, the number without its
/// country code, the first digits while typing) is one term lookup. A phone with fewer digits
/// is indexed whole. An 11-digit number makes 36 terms.
pub(crate) fn push_phone_grams(phones: &[String], out: &mut String) {
    let all: Vec<String> = phones
        .iter()
        .map(|phone| {
            let mut all = digits(phone);
            all.truncate(MAX_PHONE_DIGITS);
            all
        })
        .collect();
    let mut grams: Vec<&str> = Vec::new();
    for all in &all {
        if all.is_empty() {
            continue;
        }
        if all.len() < MIN_PHONE_DIGITS {
            grams.push(all);
            continue;
        }
        for start in 0..=all.len() - MIN_PHONE_DIGITS {
            for end in start + MIN_PHONE_DIGITS..=all.len() {
                grams.push(&all[start..end]);
            }
        }
    }
    grams.sort_unstable();
    grams.dedup();
    for gram in grams {
        out.push_str(gram);
        out.push(' ');
    }
}

/// Whether `a` and `b` are at most one edit apart (insertion, deletion, substitution or
/// transposition of adjacent characters), like a Levenshtein automaton of distance 1 with
/// transpositions costing one.
pub(crate) fn within_one_edit(a: &str, b: &str) -> bool {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let (short, long) = if a.len() <= b.len() {
        (&a, &b)
    } else {
        (&b, &a)
    };
    if long.len() - short.len() > 1 {
        return false;
    }
    let common_prefix = short
        .iter()
        .zip(long.iter())
        .take_while(|(x, y)| x == y)
        .count();
    if common_prefix == short.len() {
        return true; // equal, or one character appended
    }
    let i = common_prefix;
    if short.len() == long.len() {
        // One substitution, or one transposition of adjacent characters.
        if short[i + 1..] == long[i + 1..] {
            return true;
        }
        return i + 1 < short.len()
            && short[i] == long[i + 1]
            && short[i + 1] == long[i]
            && short[i + 2..] == long[i + 2..];
    }
    // One insertion into the shorter word.
    short[i..] == long[i + 1..]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_folded_and_lowercased() {
        let mut analyzer = word_analyzer();
        assert_eq!(
            words(&mut analyzer, "José ÁLVAREZ-Núñez, O'Brien"),
            ["jose", "alvarez", "nunez", "o", "brien"]
        );
    }

    #[test]
    fn identifiers_ignore_punctuation_and_case() {
        let mut analyzer = word_analyzer();
        assert_eq!(
            identifier_key(&mut analyzer, "MRN-00123").as_deref(),
            Some("mrn00123")
        );
        assert_eq!(identifier_key(&mut analyzer, "--"), None);
        assert_eq!(identifier_key(&mut analyzer, &"a".repeat(65)), None);
    }

    fn terms(text: &str) -> Vec<&str> {
        text.split_whitespace().collect()
    }

    #[test]
    fn prefixes_are_distinct_and_respect_character_boundaries() {
        let mut out = String::new();
        let mut words = vec![
            "añb".to_owned(),
            "car".to_owned(),
            "care".to_owned(),
            "añb".to_owned(),
        ];
        push_prefixes(&mut words, 1, 3, &mut out);
        assert_eq!(terms(&out), ["a", "añ", "añb", "c", "ca", "car"]);
        let mut out = String::new();
        let mut words = vec!["caregiver".to_owned(), "care".to_owned(), "cab".to_owned()];
        push_prefixes(&mut words, 3, 20, &mut out);
        assert_eq!(
            terms(&out),
            [
                "cab",
                "car",
                "care",
                "careg",
                "caregi",
                "caregiv",
                "caregive",
                "caregiver"
            ]
        );
    }

    #[test]
    fn phone_grams_cover_every_digit_substring_of_four_or_more() {
        let mut out = String::new();
        push_phone_grams(&["+1 555-014-2233".to_owned(), "x".to_owned()], &mut out);
        let grams = terms(&out);
        for wanted in [
            "15550142233",
            "5550142233",
            "0142233",
            "2233",
            "5550",
            "1555",
        ] {
            assert!(grams.contains(&wanted), "{wanted} should be indexed");
        }
        assert!(
            !grams.contains(&"233"),
            "three digits are too unselective to index"
        );
        // 11 digits: 8 + 7 + ... + 1 substrings of 4 or more.
        assert_eq!(grams.len(), 36);
    }

    #[test]
    fn one_edit() {
        assert!(within_one_edit("john", "jonh"));
        assert!(within_one_edit("garcia", "garcya"));
        assert!(within_one_edit("anne", "ane"));
        assert!(within_one_edit("maria", "marias"));
        assert!(within_one_edit("same", "same"));
        assert!(!within_one_edit("john", "jan"));
        assert!(!within_one_edit("abcd", "badc"));
        assert!(!within_one_edit("ab", "abcd"));
    }
}
