//! Behaviour of the search index as the API crate uses it: folding, as-you-type prefixes,
//! fuzzy matching, phones, identifiers, AND semantics, filters, changes, hostile input and
//! snippets.

use careloop_search::{Doc, DocKind, Filter, Hit, SearchIndex};
use proptest::prelude::*;

fn person(id: &str, name: &str) -> Doc {
    Doc {
        kind: DocKind::Person,
        id: id.to_owned(),
        patient_id: Some(id.to_owned()),
        title: name.to_owned(),
        ..Doc::default()
    }
}

fn note(kind: DocKind, id: &str, patient_id: &str, title: &str, text: &str) -> Doc {
    Doc {
        kind,
        id: id.to_owned(),
        patient_id: Some(patient_id.to_owned()),
        title: title.to_owned(),
        text: text.to_owned(),
        ..Doc::default()
    }
}

fn index_of(docs: Vec<Doc>) -> SearchIndex {
    let mut index = SearchIndex::new().expect("an index in RAM");
    let count = docs.len() as u64;
    assert_eq!(index.add_all(docs).unwrap(), count);
    index
}

fn search(index: &SearchIndex, query: &str) -> Vec<Hit> {
    index.search(query, &Filter::default(), 20).unwrap()
}

/// The ids of the hits, best first.
fn ids(index: &SearchIndex, query: &str) -> Vec<String> {
    search(index, query).into_iter().map(|hit| hit.id).collect()
}

fn ids_with(index: &SearchIndex, query: &str, filter: &Filter) -> Vec<String> {
    let hits = index.search(query, filter, 20).unwrap();
    let mut ids: Vec<String> = hits.into_iter().map(|hit| hit.id).collect();
    ids.sort();
    ids
}

fn finds(index: &SearchIndex, query: &str, id: &str) -> bool {
    ids(index, query).iter().any(|found| found == id)
}

#[test]
fn accents_and_case_are_folded_both_ways() {
    let index = index_of(vec![person("p1", "Adán Núñez"), person("p2", "Jose Perez")]);
    for query in ["Adan", "adan", "ADÁN", "nunez", "NÚÑEZ", "adán núñez"] {
        assert_eq!(
            ids(&index, query),
            ["p1"],
            "{query:?} should find Adán Núñez"
        );
    }
    for query in ["José", "JOSE", "PÉREZ", "josé pérez"] {
        assert_eq!(
            ids(&index, query),
            ["p2"],
            "{query:?} should find Jose Perez"
        );
    }
}

#[test]
fn the_last_term_matches_as_a_prefix_while_typing() {
    let index = index_of(vec![
        person("martinez", "Luis Martínez"),
        person("maria", "Maria Lopez"),
        person("other", "Zoe Quinn"),
        note(
            DocKind::AttemptNote,
            "n1",
            "other",
            "Attempt 2026-07-01 phone",
            "Needs transportation to the clinic",
        ),
    ]);
    let mut found = ids(&index, "mar");
    found.sort();
    assert_eq!(
        found,
        ["maria", "martinez"],
        "'mar' starts Martínez and Maria"
    );
    for typed in 1..="martinez".len() {
        let prefix = &"martinez"[..typed];
        assert!(
            finds(&index, prefix, "martinez"),
            "{prefix:?} is being typed"
        );
    }
    // Names match as prefixes in every term: the start of a first and a last name.
    assert_eq!(ids(&index, "lu mart"), ["martinez"]);
    // Free text matches as a prefix in the last term only, from three letters.
    assert_eq!(ids(&index, "transpo"), ["n1"]);
    assert!(
        ids(&index, "transpo clinic").is_empty(),
        "not the last term"
    );
    assert_eq!(ids(&index, "clinic transpo"), ["n1"]);
    assert!(
        ids(&index, "tr").is_empty(),
        "two letters of free text match nothing"
    );
}

#[test]
fn words_of_four_letters_or_more_match_at_edit_distance_one() {
    let index = index_of(vec![
        person("john", "John Smith"),
        person("garcya", "Ana Garcya"),
        person("anne", "Anne Jones"),
        person("jan", "Jan Novak"),
    ]);
    assert!(finds(&index, "Jonh", "john"), "transposition");
    assert!(finds(&index, "Garcia", "garcya"), "substitution");
    assert!(finds(&index, "Smth", "john"), "insertion");
    assert!(finds(&index, "Jonees", "anne"), "deletion");
    assert!(
        !finds(&index, "Ane", "anne"),
        "three letters: no fuzzy matching"
    );
    assert!(
        !finds(&index, "Jon", "jan"),
        "three letters: no fuzzy matching"
    );
    assert!(!finds(&index, "Jhno", "john"), "two edits");
}

#[test]
fn exact_matches_score_above_fuzzy_ones() {
    let index = index_of(vec![
        person("garcya", "Maria Garcya"),
        person("garcia", "Maria Garcia"),
    ]);
    let hits = search(&index, "garcia");
    assert_eq!(hits.len(), 2, "both match: {hits:?}");
    assert_eq!(hits[0].id, "garcia");
    assert!(hits[0].score > hits[1].score, "{hits:?}");
    assert_eq!(ids(&index, "garcya")[0], "garcya");
    assert_eq!(ids(&index, "maria garcia")[0], "garcia");
}

#[test]
fn phones_match_by_digits_whatever_the_format() {
    let mut doc = person("p1", "Rosa Diaz");
    doc.phones = vec!["+1 555-014-2233".to_owned()];
    let mut other = person("p2", "Omar Said");
    other.phones = vec!["(555) 014-9876".to_owned()];
    let index = index_of(vec![doc, other]);
    for query in [
        "(555) 014-2233",
        "555.014.2233",
        "5550142233",
        "+15550142233",
        "+1 555 014 2233",
        "014-2233",
        "0142233",
        "2233",
        "555-014-22",
    ] {
        assert_eq!(
            ids(&index, query),
            ["p1"],
            "{query:?} is in +1 555-014-2233"
        );
    }
    let mut both = ids(&index, "(555) 014");
    both.sort();
    assert_eq!(both, ["p1", "p2"], "a shared area code and exchange");
    assert!(ids(&index, "555-014-0000").is_empty());
    assert!(
        ids(&index, "rosa 2233").contains(&"p1".to_owned()),
        "a name and a phone"
    );
}

#[test]
fn identifiers_match_exactly_or_by_prefix_ignoring_case() {
    let mut a = person("p1", "Rosa Diaz");
    a.identifiers = vec!["MRN-0042137".to_owned(), "7f3a9c2e-1b4d".to_owned()];
    let mut b = person("p2", "Omar Said");
    b.identifiers = vec!["MRN-00421370".to_owned()];
    let index = index_of(vec![a, b]);
    assert_eq!(ids(&index, "MRN-0042137")[0], "p1", "exact ranks first");
    assert_eq!(ids(&index, "mrn0042137")[0], "p1");
    assert_eq!(ids(&index, "mrn-00421370"), ["p2"]);
    let mut both = ids(&index, "mrn004");
    both.sort();
    assert_eq!(both, ["p1", "p2"], "a prefix of both");
    assert_eq!(ids(&index, "7F3A9C"), ["p1"]);
    assert!(ids(&index, "mrn0043").is_empty());
    assert!(
        ids(&index, "0042137").is_empty(),
        "identifiers match from their start"
    );
}

#[test]
fn all_terms_must_match() {
    let index = index_of(vec![
        person("mg", "Maria Garcia"),
        person("ml", "Maria Lopez"),
        person("gg", "Gabriel Garcia"),
    ]);
    let mut maria = ids(&index, "maria");
    maria.sort();
    assert_eq!(maria, ["mg", "ml"]);
    assert_eq!(ids(&index, "maria gar"), ["mg"]);
    assert_eq!(ids(&index, "garcia maria"), ["mg"]);
    assert!(ids(&index, "maria zzz").is_empty());
}

#[test]
fn filters_restrict_kinds_and_case_fields() {
    let mut attempt = note(
        DocKind::AttemptNote,
        "attempt",
        "p1",
        "Attempt 2026-07-01 phone",
        "Asked about transportation",
    );
    attempt.segment = Some("colorectal".to_owned());
    attempt.status = Some("open".to_owned());
    attempt.owner = Some("coord-1".to_owned());
    let mut callback = note(
        DocKind::CallbackNote,
        "callback",
        "p1",
        "Callback 2026-07-02",
        "Call back about transportation",
    );
    callback.segment = Some("diabetes".to_owned());
    callback.status = Some("closed".to_owned());
    callback.owner = Some("coord-2".to_owned());
    let answer = note(
        DocKind::Answer,
        "answer",
        "p1",
        "Barriers",
        "transportation",
    );
    let index = index_of(vec![attempt, callback, answer]);

    let everything = Filter::default();
    assert_eq!(
        ids_with(&index, "transportation", &everything),
        ["answer", "attempt", "callback"]
    );
    let coordinator = Filter {
        kinds: Some(
            DocKind::ALL
                .into_iter()
                .filter(|kind| *kind != DocKind::CallbackNote)
                .collect(),
        ),
        ..Filter::default()
    };
    assert_eq!(
        ids_with(&index, "transportation", &coordinator),
        ["answer", "attempt"],
        "a coordinator never gets callback notes"
    );
    let notes_only = Filter {
        kinds: Some(vec![DocKind::AttemptNote, DocKind::Answer, DocKind::Script]),
        ..Filter::default()
    };
    assert_eq!(
        ids_with(&index, "transportation", &notes_only),
        ["answer", "attempt"],
        "a few kinds allowed"
    );
    let nothing = Filter {
        kinds: Some(Vec::new()),
        ..Filter::default()
    };
    assert!(ids_with(&index, "transportation", &nothing).is_empty());
    let segment = Filter {
        segment: Some("colorectal".to_owned()),
        ..Filter::default()
    };
    assert_eq!(ids_with(&index, "transportation", &segment), ["attempt"]);
    let status = Filter {
        status: Some("closed".to_owned()),
        ..Filter::default()
    };
    assert_eq!(ids_with(&index, "transportation", &status), ["callback"]);
    let owner = Filter {
        owner: Some("coord-1".to_owned()),
        ..Filter::default()
    };
    assert_eq!(ids_with(&index, "transportation", &owner), ["attempt"]);
    let exact = Filter {
        owner: Some("coord".to_owned()),
        ..Filter::default()
    };
    assert!(
        ids_with(&index, "transportation", &exact).is_empty(),
        "exact, not prefix"
    );
    let both = Filter {
        kinds: Some(vec![DocKind::CallbackNote]),
        owner: Some("coord-1".to_owned()),
        ..Filter::default()
    };
    assert!(
        ids_with(&index, "transportation", &both).is_empty(),
        "filters combine"
    );
}

#[test]
fn upsert_replaces_and_is_searchable_when_it_returns() {
    let mut index = index_of(vec![
        person("p1", "Rosa Diaz"),
        note(
            DocKind::AttemptNote,
            "n1",
            "p1",
            "Attempt",
            "left voicemail",
        ),
    ]);
    assert_eq!(index.len(), 2);
    index
        .upsert(note(
            DocKind::AttemptNote,
            "n1",
            "p1",
            "Attempt",
            "spoke with daughter",
        ))
        .unwrap();
    assert!(ids(&index, "voicemail").is_empty(), "the old text is gone");
    assert_eq!(
        ids(&index, "daughter"),
        ["n1"],
        "the new text is found at once"
    );
    assert_eq!(index.len(), 2, "replaced, not added");

    index.upsert(person("p2", "Omar Said")).unwrap();
    assert_eq!(
        ids(&index, "omar"),
        ["p2"],
        "a new document is found at once"
    );
    assert_eq!(index.len(), 3);
    // The same id under another kind is another document.
    index
        .upsert(note(DocKind::Answer, "p2", "p2", "Barriers", "no car"))
        .unwrap();
    assert_eq!(index.len(), 4);
}

#[test]
fn add_all_replaces_repeated_and_existing_documents() {
    let mut index = index_of(vec![
        note(DocKind::Answer, "a1", "p1", "Barriers", "first"),
        note(DocKind::Answer, "a1", "p1", "Barriers", "second"),
    ]);
    assert_eq!(index.len(), 1);
    assert_eq!(ids(&index, "second"), ["a1"]);
    assert!(ids(&index, "first").is_empty());
    index
        .add_all(vec![note(DocKind::Answer, "a1", "p1", "Barriers", "third")])
        .unwrap();
    assert_eq!(index.len(), 1);
    assert!(ids(&index, "second").is_empty());
    assert_eq!(ids(&index, "third"), ["a1"]);
}

#[test]
fn remove_takes_a_document_out() {
    let mut index = index_of(vec![person("p1", "Rosa Diaz"), person("p2", "Rosa Perez")]);
    index.remove(DocKind::Person, "p1").unwrap();
    assert_eq!(ids(&index, "rosa"), ["p2"]);
    assert_eq!(index.len(), 1);
    index.remove(DocKind::Person, "absent").unwrap();
    index.remove(DocKind::AttemptNote, "p2").unwrap();
    assert_eq!(index.len(), 1, "the kind is part of the identity");
}

#[test]
fn invalid_documents_are_refused_without_their_text() {
    let mut index = index_of(vec![person("p0", "Rosa Diaz")]);
    let error = index.upsert(person("", "Secret Name")).unwrap_err();
    assert!(!error.to_string().contains("Secret"), "{error}");
    let error = index
        .upsert(person(&"x".repeat(600), "Secret Name"))
        .unwrap_err();
    assert!(!error.to_string().contains("Secret"), "{error}");
    assert!(!error.to_string().contains("xxx"), "{error}");

    // A bulk load is all or nothing: the valid documents before the bad one are dropped.
    let error = index
        .add_all(vec![person("p1", "Secret Name"), person("", "Other")])
        .unwrap_err();
    assert!(!error.to_string().contains("Secret"), "{error}");
    index.upsert(person("p2", "Omar Said")).unwrap();
    assert!(
        ids(&index, "secret").is_empty(),
        "rolled back, not committed later"
    );
    assert_eq!(index.len(), 2);
    index.remove(DocKind::Person, "").unwrap();
    index.remove(DocKind::Person, &"x".repeat(100_000)).unwrap();
    assert_eq!(index.len(), 2);
}

#[test]
fn hostile_documents_and_filter_values_are_indexed_without_failing() {
    let huge_word = "é".repeat(50_000);
    let mut doc = person("p1", &format!("Rosa {huge_word} Díaz"));
    doc.text = format!(
        "<b>{huge_word}</b> \" \\ \u{0} 😀 {}",
        "word ".repeat(20_000)
    );
    doc.identifiers = vec![huge_word.clone(), String::new(), "---".to_owned()];
    doc.phones = vec!["9".repeat(10_000), String::new(), "+".to_owned()];
    doc.address = Some(huge_word.clone());
    doc.language = Some(String::new());
    doc.owner = Some("o".repeat(100_000));
    doc.segment = Some(huge_word.clone());
    let index = index_of(vec![doc]);
    assert_eq!(ids(&index, "rosa diaz"), ["p1"]);
    assert_eq!(ids(&index, "9999"), ["p1"]);
    let filter = Filter {
        owner: Some("o".repeat(100_000)),
        ..Filter::default()
    };
    assert!(
        ids_with(&index, "rosa", &filter).is_empty(),
        "values over 512 bytes are not indexed for filtering"
    );
    let filter = Filter {
        segment: Some("s".repeat(100_000)),
        status: Some("\u{0}".to_owned()),
        ..Filter::default()
    };
    assert!(ids_with(&index, "rosa", &filter).is_empty());
}

const NASTY: &[&str] = &[
    "",
    "   ",
    "\t\n",
    "\"",
    "\"unbalanced",
    "title:maria",
    "a:b:c",
    "(maria",
    "maria)",
    "((()))",
    "\\",
    "\\\\\\",
    "*",
    "mar*",
    "?",
    "~",
    "maria~2",
    "^",
    "maria^10",
    "+maria -garcia",
    "AND OR NOT",
    "[a TO z]",
    "{a TO z}",
    "'",
    "o'brien",
    "-",
    "--",
    "+",
    "#",
    "%",
    "&&",
    "||",
    "!",
    "<script>alert(1)</script>",
    "\u{0}",
    "\u{feff}",
    "\u{200b}\u{200b}",
    "é",
    "ß",
    "ﬁ",
    "İstanbul",
    "😀",
    "👩‍⚕️ maria",
    "日本語",
    "مرحبا",
    "Ωμέγα",
    "ⅷ",
    "١٢٣٤٥٦",
    "１２３４５",
    "0000",
    "+",
    "+1 (",
    ") -",
    "1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9",
    "99999999999999999999999999999999999999",
];

#[test]
fn hostile_queries_never_fail() {
    let mut rosa = person("p1", "Rosa O'Brien");
    rosa.phones = vec!["+1 555-014-2233".to_owned()];
    rosa.identifiers = vec!["MRN-1".to_owned()];
    let index = index_of(vec![
        rosa,
        note(
            DocKind::Script,
            "s1",
            "",
            "Intro",
            "Hello <b>there</b> & welcome",
        ),
    ]);
    let long = [
        "maria ".repeat(5_000),
        "x".repeat(100_000),
        "(".repeat(10_000),
    ];
    for query in NASTY.iter().copied().chain(long.iter().map(String::as_str)) {
        let result = index.search(query, &Filter::default(), 20);
        assert!(result.is_ok(), "{query:?}: {:?}", result.err());
    }
    for empty in [
        "", "   ", "\t\n", "\"", "((()))", "\\", "*", "--", "&&", "!?.,;:",
    ] {
        assert!(
            ids(&index, empty).is_empty(),
            "{empty:?} has nothing to search for"
        );
    }
    assert_eq!(ids(&index, "o'brien"), ["p1"]);
    assert_eq!(ids(&index, "(rosa)"), ["p1"], "parentheses are not syntax");
    assert_eq!(ids(&index, "rosa:o'brien"), ["p1"], "colons are not syntax");
    assert!(
        ids(&index, "title:rosa").is_empty(),
        "'title' is a word here, not a field"
    );
    assert!(index
        .search("rosa", &Filter::default(), 0)
        .unwrap()
        .is_empty());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn any_query_is_answered(query in ".{0,80}", punctuation in "[ -/:-@\\[-`{-~]{0,30}") {
        thread_local! {
            static INDEX: SearchIndex = {
                let mut doc = person("p1", "María José García");
                doc.phones = vec!["555 014 2233".to_owned()];
                index_of(vec![doc, note(DocKind::Answer, "a1", "p1", "Q", "sí, tengo coche")])
            };
        }
        INDEX.with(|index| {
            prop_assert!(index.search(&query, &Filter::default(), 20).is_ok());
            let hits = index.search(&punctuation, &Filter::default(), 20).unwrap();
            prop_assert!(hits.is_empty(), "punctuation only: {:?}", hits);
            Ok(())
        })?;
    }
}

#[test]
fn snippets_highlight_matches_and_escape_the_rest() {
    let text = "Called twice. <script>alert('x')</script> & spoke with María about \
                transportation to the clinic on Tuesday.";
    let mut rosa = person("p1", "María <Rosa> Diaz");
    rosa.language = Some("es".to_owned());
    rosa.phones = vec!["+1 555-014-2233".to_owned()];
    rosa.address = Some("12 Elm Street".to_owned());
    let index = index_of(vec![
        rosa,
        note(
            DocKind::AttemptNote,
            "n1",
            "p1",
            "Attempt 2026-07-01 phone",
            text,
        ),
    ]);

    let hits = search(&index, "transpo");
    assert_eq!(hits.len(), 1);
    let snippet = &hits[0].snippet;
    assert!(snippet.contains("<b>transportation</b>"), "{snippet}");
    assert!(snippet.contains("&lt;script&gt;"), "{snippet}");
    assert!(snippet.contains("&amp;"), "{snippet}");
    assert!(!snippet.contains("<script>"), "{snippet}");
    assert!(
        snippet
            .replace("<b>", "")
            .replace("</b>", "")
            .chars()
            .count()
            <= 162,
        "at most 160 characters and two ellipses: {snippet}"
    );

    let hits = search(&index, "maria");
    let person_hit = hits.iter().find(|hit| hit.kind == DocKind::Person).unwrap();
    assert_eq!(person_hit.snippet, "<b>María</b> &lt;Rosa&gt; Diaz · es");
    let note_hit = hits
        .iter()
        .find(|hit| hit.kind == DocKind::AttemptNote)
        .unwrap();
    assert!(
        note_hit.snippet.contains("<b>María</b>"),
        "{}",
        note_hit.snippet
    );

    let hits = search(&index, "014-2233");
    assert_eq!(hits.len(), 1);
    assert!(
        !hits[0].snippet.contains("2233"),
        "no phone: {}",
        hits[0].snippet
    );
    assert!(
        !hits[0].snippet.contains("Elm"),
        "no address: {}",
        hits[0].snippet
    );
    assert_eq!(
        hits[0].title, "María <Rosa> Diaz",
        "the title itself is raw text"
    );
}

#[test]
fn long_text_snippets_are_a_fragment_around_the_match() {
    let text = format!(
        "{} the daughter asked for a Spanish speaker {}",
        "Nothing of note here. ".repeat(20),
        "More filler text follows. ".repeat(20)
    );
    let index = index_of(vec![note(
        DocKind::EscalationNote,
        "e1",
        "p1",
        "Escalation",
        &text,
    )]);
    let snippet = &search(&index, "daughter")[0].snippet;
    assert!(snippet.contains("<b>daughter</b>"), "{snippet}");
    assert!(
        snippet.starts_with('…') && snippet.ends_with('…'),
        "{snippet}"
    );
    let visible = snippet.replace("<b>", "").replace("</b>", "");
    assert!(
        visible.chars().count() <= 162,
        "{} chars: {snippet}",
        visible.chars().count()
    );

    // Matched on its title only: the start of the text.
    let snippet = &search(&index, "escalation")[0].snippet;
    assert!(snippet.starts_with("Nothing of note here."), "{snippet}");
    assert!(snippet.chars().count() <= 161, "{snippet}");
}

#[test]
fn hits_carry_their_identity_and_serialize_in_snake_case() {
    let index = index_of(vec![note(
        DocKind::ReferralNote,
        "r1",
        "p9",
        "Referral to food bank",
        "Sent",
    )]);
    let hit = &search(&index, "food")[0];
    assert_eq!(hit.kind, DocKind::ReferralNote);
    assert_eq!(hit.patient_id.as_deref(), Some("p9"));
    assert_eq!(hit.title, "Referral to food bank");
    let json = serde_json::to_value(hit).unwrap();
    assert_eq!(json["kind"], "referral_note");
    for kind in DocKind::ALL {
        assert_eq!(serde_json::to_value(kind).unwrap(), kind.as_str());
        assert_eq!(kind.as_str().parse::<DocKind>().unwrap(), kind);
    }
}

#[test]
fn size_and_count_are_reported() {
    let mut index = SearchIndex::new().unwrap();
    assert_eq!(index.len(), 0);
    assert!(index.is_empty());
    let docs = (0..500).map(|i| person(&format!("p{i}"), &format!("Person Number{i}")));
    assert_eq!(index.add_all(docs).unwrap(), 500);
    assert_eq!(index.len(), 500);
    assert!(index.memory_bytes() > 10_000, "{}", index.memory_bytes());
}
