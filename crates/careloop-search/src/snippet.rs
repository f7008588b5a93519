//! Snippets: what a hit shows under its title. For free text, the best fragment of at most
//! [`MAX_SNIPPET_CHARS`] characters with the matching words in `<b>…</b>` (tantivy's
//! `SnippetGenerator`, fed with the document's own words that matched, so prefix and fuzzy
//! matches are highlighted too); for a person, the name with the matching words highlighted
//! and the language, never the phone, address or identifiers. Everything that is not
//! highlighting markup is HTML-escaped.

use std::collections::BTreeMap;
use std::ops::Range;

use tantivy::schema::Field;
use tantivy::snippet::SnippetGenerator;
use tantivy::tokenizer::TextAnalyzer;

use crate::analysis::within_one_edit;
use crate::query::QueryTerm;

/// The longest fragment of free text in a snippet, in characters (at most; the generator
/// counts UTF-8 bytes).
pub(crate) const MAX_SNIPPET_CHARS: usize = 160;

/// Which document words count as matches of the query's words.
pub(crate) struct Highlighter {
    /// (query word, may match as a prefix in free text, may match at edit distance 1).
    words: Vec<(String, bool, bool)>,
}

impl Highlighter {
    pub(crate) fn new(terms: &[QueryTerm]) -> Highlighter {
        let words = terms
            .iter()
            .flat_map(|term| &term.words)
            .map(|word| (word.text.clone(), word.body_prefix, word.fuzzy))
            .collect();
        Highlighter { words }
    }

    fn matches(&self, token: &str, in_title: bool) -> bool {
        self.words.iter().any(|(word, body_prefix, fuzzy)| {
            token == word
                || ((in_title || *body_prefix) && token.starts_with(word.as_str()))
                || (*fuzzy && within_one_edit(token, word))
        })
    }

    /// The byte ranges of `text`'s words that match.
    fn ranges(&self, analyzer: &mut TextAnalyzer, text: &str, in_title: bool) -> Vec<Range<usize>> {
        let mut ranges = Vec::new();
        let mut stream = analyzer.token_stream(text);
        while let Some(token) = stream.next() {
            if self.matches(&token.text, in_title) {
                ranges.push(token.offset_from..token.offset_to);
            }
        }
        ranges
    }

    /// A person's snippet: the name, matching words highlighted, then the language.
    pub(crate) fn person(
        &self,
        analyzer: &mut TextAnalyzer,
        name: &str,
        language: Option<&str>,
    ) -> String {
        let mut html = highlighted_html(name, &self.ranges(analyzer, name, true));
        if let Some(language) = language.filter(|l| !l.trim().is_empty()) {
            html.push_str(" · ");
            html.push_str(&escape(language.trim()));
        }
        html
    }

    /// A free-text snippet: the best fragment with matching words highlighted, or the start
    /// of the text when no word of it matched (the hit matched on its title).
    pub(crate) fn free_text(
        &self,
        analyzer: &mut TextAnalyzer,
        field: Field,
        text: &str,
    ) -> String {
        let mut terms: BTreeMap<String, f32> = BTreeMap::new();
        let mut stream = analyzer.token_stream(text);
        while let Some(token) = stream.next() {
            if self.matches(&token.text, false) {
                terms.insert(token.text.clone(), 1.0);
            }
        }
        drop(stream);
        if !terms.is_empty() {
            let generator =
                SnippetGenerator::new(terms, analyzer.clone(), field, MAX_SNIPPET_CHARS);
            let snippet = generator.snippet(text);
            if !snippet.is_empty() {
                let range = snippet.fragment_range();
                let mut html = String::new();
                if range.start > 0 {
                    html.push('…');
                }
                html.push_str(&highlighted_html(snippet.fragment(), snippet.highlighted()));
                if range.end < text.len() {
                    html.push('…');
                }
                return html;
            }
        }
        start_of(text)
    }
}

/// The first [`MAX_SNIPPET_CHARS`] characters of `text`, cut at a space when there is one
/// near the end, escaped.
fn start_of(text: &str) -> String {
    let text = text.trim();
    let Some((cut, _)) = text.char_indices().nth(MAX_SNIPPET_CHARS) else {
        return escape(text);
    };
    let head = &text[..cut];
    let head = match head.rfind(char::is_whitespace) {
        Some(space) if space >= cut / 2 => &head[..space],
        _ => head,
    };
    let mut html = escape(head.trim_end());
    html.push('…');
    html
}

/// `text` escaped, with `ranges` (sorted, byte offsets on character boundaries) in `<b>`.
fn highlighted_html(text: &str, ranges: &[Range<usize>]) -> String {
    let mut html = String::with_capacity(text.len() + ranges.len() * 7);
    let mut at = 0;
    for range in ranges {
        if range.start < at || range.end > text.len() || range.start >= range.end {
            continue; // overlapping or out of bounds: never expected, never a panic
        }
        html.push_str(&escape(&text[at..range.start]));
        html.push_str("<b>");
        html.push_str(&escape(&text[range.clone()]));
        html.push_str("</b>");
        at = range.end;
    }
    html.push_str(&escape(&text[at..]));
    html
}

/// HTML-escapes `&`, `<`, `>`, `"` and `'`.
pub(crate) fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            c => escaped.push(c),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn highlights_are_escaped_inside_and_out() {
        assert_eq!(
            highlighted_html("a<b> & c", &[(0..1), (7..8)]),
            "<b>a</b>&lt;b&gt; &amp; <b>c</b>"
        );
    }

    #[test]
    fn long_text_is_cut_at_a_space() {
        let text = "word ".repeat(100);
        let start = start_of(&text);
        assert!(start.ends_with("word…"), "{start}");
        assert!(start.chars().count() <= MAX_SNIPPET_CHARS + 1);
        assert_eq!(start_of("short <text>"), "short &lt;text&gt;");
    }
}
