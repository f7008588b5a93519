//! Source positions ([`Span`], [`line_column`]) and the error type every stage reports.

/// A range of byte offsets into the rule text: `start` is inclusive, `end` exclusive.
///
/// Spans are byte offsets so that `&text[span.start..span.end]` is the exact source of a node;
/// [`line_column`] turns an offset into the 1-based line and column a person reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Span {
    /// Byte offset of the first byte of the node.
    pub start: usize,
    /// Byte offset just past the last byte of the node.
    pub end: usize,
}

impl Span {
    /// Builds a span from two byte offsets.
    pub(crate) fn new(start: usize, end: usize) -> Span {
        Span { start, end }
    }
}

/// One syntax or validation error, located in the rule text.
///
/// `line` and `column` are 1-based and count characters, not bytes, so they match what an
/// editor shows even when the rule contains accented text. `span` is the byte range of the
/// offending part, for highlighting.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("line {line}, column {column}: {message}")]
pub struct RuleError {
    /// 1-based line of `span.start`.
    pub line: usize,
    /// 1-based column of `span.start`, counted in characters.
    pub column: usize,
    /// The byte range of the offending part of the rule.
    pub span: Span,
    /// A full sentence fragment saying what is wrong, e.g. `unknown signal "agee" (did you mean "age"?)`.
    pub message: String,
}

impl RuleError {
    /// Builds an error at `span`, computing the line and column from `text`.
    pub(crate) fn new(text: &str, span: Span, message: impl Into<String>) -> RuleError {
        let (line, column) = line_column(text, span.start);
        RuleError {
            line,
            column,
            span,
            message: message.into(),
        }
    }
}

/// The longest excerpt of rule text an error message quotes, in characters.
pub const EXCERPT_CHARS: usize = 40;

/// `text` as quoted in an error message: at most [`EXCERPT_CHARS`] characters, then "…".
/// Messages never echo more of the input than that, whatever was written.
pub fn excerpt(text: &str) -> String {
    match text.char_indices().nth(EXCERPT_CHARS) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}

/// The 1-based line and column of the byte `offset` in `text`; columns count characters.
///
/// An offset past the end of the text gives the position just after the last character. An
/// offset inside a multi-byte character gives the position of the next character, so the
/// function never panics whatever the offset.
pub fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let mut line = 1;
    let mut column = 1;
    for (index, ch) in text.char_indices() {
        if index >= offset {
            break;
        }
        if ch == '\n' {
            line += 1;
            column = 1;
        } else {
            column += 1;
        }
    }
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_column_counts_lines_and_characters() {
        let text = "ab\ncdé\nf";
        assert_eq!(line_column(text, 0), (1, 1));
        assert_eq!(line_column(text, 2), (1, 3));
        assert_eq!(line_column(text, 3), (2, 1));
        // "é" (bytes 5 and 6) is one column: the newline after it is at byte 7, column 4.
        assert_eq!(line_column(text, 5), (2, 3));
        assert_eq!(line_column(text, 7), (2, 4));
        assert_eq!(line_column(text, 8), (3, 1));
        assert_eq!(line_column(text, 9), (3, 2));
        assert_eq!(line_column(text, 1000), (3, 2));
    }

    #[test]
    fn line_column_inside_a_character_does_not_panic() {
        // Byte 1 is inside "é"; the answer is the position after it.
        assert_eq!(line_column("éa", 1), (1, 2));
        assert_eq!(line_column("", 5), (1, 1));
    }

    #[test]
    fn excerpts_are_short() {
        assert_eq!(excerpt("agee"), "agee");
        assert_eq!(excerpt(&"é".repeat(40)), "é".repeat(40));
        assert_eq!(excerpt(&"é".repeat(41)), format!("{}…", "é".repeat(40)));
        assert_eq!(excerpt(&"x".repeat(10_000)).chars().count(), 41);
    }

    #[test]
    fn display_shows_line_column_and_message() {
        let error = RuleError::new("a\n  b", Span::new(4, 5), "unknown signal \"b\"");
        assert_eq!(error.to_string(), "line 2, column 3: unknown signal \"b\"");
    }
}
