//! The lexer: turns rule text into tokens, stopping at the first thing it cannot read.
//!
//! The whole text is read up front. When the lexer meets something it cannot read it emits
//! one [`TokenKind::Invalid`] token carrying the message and stops; otherwise the list ends
//! with [`TokenKind::Eof`]. The parser never consumes an `Invalid` token, so a lexical error
//! is reported only if the parser reaches it, which keeps "the first error in the text" true
//! even though lexing happens first.

use crate::ast::CmpOp;
use crate::error::{excerpt, Span};

/// The reserved words of the language. Fact kinds, fields and units are not reserved: they
/// are ordinary names that only mean something inside `exists(...)` and `count(...)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Keyword {
    And,
    Or,
    Not,
    True,
    False,
    Exists,
    Count,
    In,
    Within,
    Active,
    Discharged,
}

impl Keyword {
    const ALL: [Keyword; 11] = [
        Keyword::And,
        Keyword::Or,
        Keyword::Not,
        Keyword::True,
        Keyword::False,
        Keyword::Exists,
        Keyword::Count,
        Keyword::In,
        Keyword::Within,
        Keyword::Active,
        Keyword::Discharged,
    ];

    /// The keyword as written in rules.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Keyword::And => "and",
            Keyword::Or => "or",
            Keyword::Not => "not",
            Keyword::True => "true",
            Keyword::False => "false",
            Keyword::Exists => "exists",
            Keyword::Count => "count",
            Keyword::In => "in",
            Keyword::Within => "within",
            Keyword::Active => "active",
            Keyword::Discharged => "discharged",
        }
    }

    /// The keyword spelled exactly `word` (keywords are lowercase), if any.
    pub(crate) fn from_word(word: &str) -> Option<Keyword> {
        Keyword::ALL
            .into_iter()
            .find(|keyword| keyword.as_str() == word)
    }
}

/// What a token is.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum TokenKind {
    /// A lowercase word that is not a keyword: a signal, a fact kind, a field or a unit.
    Name(String),
    /// A reserved word.
    Keyword(Keyword),
    /// An uppercase word: a value set name such as `MAMMOGRAPHY`.
    ValueSet(String),
    /// An unsigned, finite number; the minus sign is a separate token.
    Number(f64),
    /// A quoted text with its escapes resolved.
    Text(String),
    LParen,
    RParen,
    Comma,
    Minus,
    Cmp(CmpOp),
    /// The end of the text. Its span is empty and sits just after the last token, so that
    /// "found the end of the rule" points at the end of the last line that has content
    /// rather than at a trailing blank line or comment.
    Eof,
    /// Text the lexer cannot read; the string is the complete error message.
    Invalid(String),
}

/// A token and where it is in the text.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Token {
    pub(crate) kind: TokenKind,
    pub(crate) span: Span,
}

/// Reads `text` into tokens; the last token is always `Eof` or `Invalid`.
pub(crate) fn tokenize(text: &str) -> Vec<Token> {
    let mut lexer = Lexer {
        text,
        pos: 0,
        tokens: Vec::new(),
    };
    lexer.run();
    lexer.tokens
}

struct Lexer<'a> {
    text: &'a str,
    /// Byte offset of the next character; always on a character boundary because it only
    /// moves by whole characters.
    pos: usize,
    tokens: Vec<Token>,
}

impl Lexer<'_> {
    /// The text from `pos` on.
    fn rest(&self) -> &str {
        self.text.get(self.pos..).unwrap_or("")
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn peek_second(&self) -> Option<char> {
        self.rest().chars().nth(1)
    }

    fn bump(&mut self) -> Option<char> {
        let ch = self.peek()?;
        self.pos += ch.len_utf8();
        Some(ch)
    }

    /// The source text between two byte offsets.
    fn slice(&self, start: usize, end: usize) -> &str {
        self.text.get(start..end).unwrap_or("")
    }

    fn push(&mut self, kind: TokenKind, start: usize) {
        self.tokens.push(Token {
            kind,
            span: Span::new(start, self.pos),
        });
    }

    fn run(&mut self) {
        loop {
            self.skip_blanks_and_comments();
            let start = self.pos;
            let Some(ch) = self.peek() else {
                let end = self.tokens.last().map_or(0, |token| token.span.end);
                self.tokens.push(Token {
                    kind: TokenKind::Eof,
                    span: Span::new(end, end),
                });
                return;
            };
            let (kind, start) = if ch.is_ascii_alphabetic() || ch == '_' {
                (self.word(), start)
            } else if ch.is_ascii_digit() {
                (self.number(), start)
            } else if ch == '"' || ch == '\'' {
                self.text_literal()
            } else {
                (self.punctuation(), start)
            };
            let stop = matches!(kind, TokenKind::Invalid(_));
            self.push(kind, start);
            if stop {
                return;
            }
        }
    }

    fn skip_blanks_and_comments(&mut self) {
        while let Some(ch) = self.peek() {
            if ch.is_whitespace() {
                self.bump();
            } else if ch == '#' {
                while let Some(ch) = self.bump() {
                    if ch == '\n' {
                        break;
                    }
                }
            } else {
                break;
            }
        }
    }

    /// A run of ASCII letters, digits and underscores starting with a letter or underscore.
    fn word(&mut self) -> TokenKind {
        let start = self.pos;
        while self
            .peek()
            .is_some_and(|ch| ch.is_ascii_alphanumeric() || ch == '_')
        {
            self.bump();
        }
        let word = self.slice(start, self.pos).to_string();
        let first = word.chars().next().unwrap_or('_');
        let rest_ok = |lower: bool| {
            word.chars().skip(1).all(|ch| {
                ch.is_ascii_digit()
                    || ch == '_'
                    || if lower {
                        ch.is_ascii_lowercase()
                    } else {
                        ch.is_ascii_uppercase()
                    }
            })
        };
        if first.is_ascii_lowercase() && rest_ok(true) {
            match Keyword::from_word(&word) {
                Some(keyword) => TokenKind::Keyword(keyword),
                None => TokenKind::Name(word),
            }
        } else if first.is_ascii_uppercase() && rest_ok(false) {
            // `AND` is a valid value set name as far as the lexer knows; the parser turns it
            // into a keyword hint when it appears where a keyword was expected.
            TokenKind::ValueSet(word)
        } else if let Some(keyword) = Keyword::from_word(&word.to_ascii_lowercase()) {
            TokenKind::Invalid(format!(
                "unknown keyword or character \"{}\" (write \"{}\")",
                excerpt(&word),
                keyword.as_str()
            ))
        } else if first == '_' {
            TokenKind::Invalid(format!(
                "invalid name \"{}\" (names start with a letter)",
                excerpt(&word)
            ))
        } else {
            TokenKind::Invalid(format!(
                "invalid name \"{}\" (signal names are lowercase, value set names uppercase)",
                excerpt(&word)
            ))
        }
    }

    /// Digits with an optional decimal part. A number running into letters or a second dot
    /// (`12m`, `1.2.3`) is reported whole rather than split into confusing tokens.
    fn number(&mut self) -> TokenKind {
        let start = self.pos;
        while self.peek().is_some_and(|ch| ch.is_ascii_digit()) {
            self.bump();
        }
        if self.peek() == Some('.') && self.peek_second().is_some_and(|ch| ch.is_ascii_digit()) {
            self.bump();
            while self.peek().is_some_and(|ch| ch.is_ascii_digit()) {
                self.bump();
            }
        }
        if self
            .peek()
            .is_some_and(|ch| ch.is_ascii_alphanumeric() || ch == '_' || ch == '.')
        {
            while self
                .peek()
                .is_some_and(|ch| ch.is_ascii_alphanumeric() || ch == '_' || ch == '.')
            {
                self.bump();
            }
            return TokenKind::Invalid(format!(
                "invalid number \"{}\"",
                excerpt(self.slice(start, self.pos))
            ));
        }
        let digits = self.slice(start, self.pos);
        match digits.parse::<f64>() {
            Ok(value) if value.is_finite() => TokenKind::Number(value),
            _ => TokenKind::Invalid(format!("number \"{}\" is too large", excerpt(digits))),
        }
    }

    /// A text in double or single quotes on one line, with `\"`, `\'` and `\\` escapes.
    ///
    /// Returns the token and where its span starts: the opening quote, or the backslash of an
    /// unknown escape so that the error points at the escape itself.
    fn text_literal(&mut self) -> (TokenKind, usize) {
        let start = self.pos;
        let unterminated = || {
            (
                TokenKind::Invalid("unterminated text literal".to_string()),
                start,
            )
        };
        let Some(quote) = self.bump() else {
            return unterminated();
        };
        let mut value = String::new();
        loop {
            match self.peek() {
                // A rule value never spans lines, so a newline means the closing quote is
                // missing; stopping here keeps the rest of the rule out of the error.
                None | Some('\n') => return unterminated(),
                Some(ch) if ch == quote => {
                    self.bump();
                    return (TokenKind::Text(value), start);
                }
                Some('\\') => {
                    let escape_start = self.pos;
                    self.bump();
                    match self.peek() {
                        Some(ch @ ('"' | '\'' | '\\')) => {
                            self.bump();
                            value.push(ch);
                        }
                        None | Some('\n') => return unterminated(),
                        Some(ch) => {
                            self.bump();
                            let message = format!(
                                "unknown escape \"\\{ch}\" in text (write \\\", \\' or \\\\)"
                            );
                            return (TokenKind::Invalid(message), escape_start);
                        }
                    }
                }
                Some(ch) => {
                    self.bump();
                    value.push(ch);
                }
            }
        }
    }

    /// Operators and punctuation, with hints for the spellings of other languages.
    fn punctuation(&mut self) -> TokenKind {
        let Some(ch) = self.bump() else {
            return TokenKind::Eof;
        };
        let next = self.peek();
        let hint = |written: &str, write: &str| {
            TokenKind::Invalid(format!(
                "unknown keyword or character \"{written}\" (write \"{write}\")"
            ))
        };
        match (ch, next) {
            ('(', _) => TokenKind::LParen,
            (')', _) => TokenKind::RParen,
            (',', _) => TokenKind::Comma,
            ('-', _) => TokenKind::Minus,
            ('=', Some('=')) => self.two(TokenKind::Cmp(CmpOp::Eq)),
            ('!', Some('=')) => self.two(TokenKind::Cmp(CmpOp::Ne)),
            ('<', Some('=')) => self.two(TokenKind::Cmp(CmpOp::Le)),
            ('>', Some('=')) => self.two(TokenKind::Cmp(CmpOp::Ge)),
            ('<', Some('>')) => {
                self.bump();
                hint("<>", "!=")
            }
            ('=', Some('>')) => {
                self.bump();
                hint("=>", ">=")
            }
            ('=', Some('<')) => {
                self.bump();
                hint("=<", "<=")
            }
            ('<', _) => TokenKind::Cmp(CmpOp::Lt),
            ('>', _) => TokenKind::Cmp(CmpOp::Gt),
            ('=', _) => hint("=", "=="),
            ('!', _) => hint("!", "not"),
            ('&', Some('&')) => {
                self.bump();
                hint("&&", "and")
            }
            ('&', _) => hint("&", "and"),
            ('|', Some('|')) => {
                self.bump();
                hint("||", "or")
            }
            ('|', _) => hint("|", "or"),
            ('\u{201C}' | '\u{201D}' | '\u{2018}' | '\u{2019}', _) => TokenKind::Invalid(format!(
                "unknown character \"{ch}\" (write straight quotes \" or ')"
            )),
            _ => TokenKind::Invalid(format!("unknown character \"{ch}\"")),
        }
    }

    /// Consumes the second character of a two-character operator.
    fn two(&mut self, kind: TokenKind) -> TokenKind {
        self.bump();
        kind
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<TokenKind> {
        tokenize(text).into_iter().map(|token| token.kind).collect()
    }

    #[test]
    fn reads_every_kind_of_token() {
        assert_eq!(
            kinds("age >= 50.5 and sex != 'f' # comment\n exists(MAMMO_2) , - < <= > == ("),
            vec![
                TokenKind::Name("age".into()),
                TokenKind::Cmp(CmpOp::Ge),
                TokenKind::Number(50.5),
                TokenKind::Keyword(Keyword::And),
                TokenKind::Name("sex".into()),
                TokenKind::Cmp(CmpOp::Ne),
                TokenKind::Text("f".into()),
                TokenKind::Keyword(Keyword::Exists),
                TokenKind::LParen,
                TokenKind::ValueSet("MAMMO_2".into()),
                TokenKind::RParen,
                TokenKind::Comma,
                TokenKind::Minus,
                TokenKind::Cmp(CmpOp::Lt),
                TokenKind::Cmp(CmpOp::Le),
                TokenKind::Cmp(CmpOp::Gt),
                TokenKind::Cmp(CmpOp::Eq),
                TokenKind::LParen,
                TokenKind::Eof,
            ]
        );
    }

    #[test]
    fn text_escapes_are_resolved() {
        assert_eq!(
            kinds(r#""a\"b\'c\\d""#)[0],
            TokenKind::Text("a\"b'c\\d".into())
        );
        assert_eq!(kinds(r"'it\'s'")[0], TokenKind::Text("it's".into()));
        assert_eq!(
            kinds(r#"'say "hi"'"#)[0],
            TokenKind::Text("say \"hi\"".into())
        );
    }

    #[test]
    fn spans_are_byte_offsets() {
        let tokens = tokenize("name == \"Adán\" x");
        assert_eq!(tokens[2].span, Span::new(8, 15));
        assert_eq!(tokens[3].span, Span::new(16, 17));
        assert_eq!(tokens[4].span, Span::new(17, 17));
    }

    #[test]
    fn eof_sits_after_the_last_token_not_after_trailing_comments() {
        let tokens = tokenize("a\n# trailing\n\n");
        assert_eq!(tokens[1].kind, TokenKind::Eof);
        assert_eq!(tokens[1].span, Span::new(1, 1));
    }

    #[test]
    fn stops_at_the_first_invalid_token() {
        let tokens = tokenize("a && b @");
        assert_eq!(tokens.len(), 2);
        assert_eq!(
            tokens[1].kind,
            TokenKind::Invalid("unknown keyword or character \"&&\" (write \"and\")".into())
        );
        assert_eq!(tokens[1].span, Span::new(2, 4));
    }

    #[test]
    fn invalid_words_and_numbers() {
        let message = |text: &str| match tokenize(text).pop().map(|token| token.kind) {
            Some(TokenKind::Invalid(message)) => message,
            other => panic!("expected an error for {text:?}, got {other:?}"),
        };
        assert_eq!(
            message("And"),
            "unknown keyword or character \"And\" (write \"and\")"
        );
        assert_eq!(
            message("Age"),
            "invalid name \"Age\" (signal names are lowercase, value set names uppercase)"
        );
        assert_eq!(
            message("_x"),
            "invalid name \"_x\" (names start with a letter)"
        );
        assert_eq!(message("12m"), "invalid number \"12m\"");
        assert_eq!(message("1.2.3"), "invalid number \"1.2.3\"");
        assert_eq!(message("1."), "invalid number \"1.\"");
        assert_eq!(message("'abc"), "unterminated text literal");
        assert_eq!(message("\"ab\ncd\""), "unterminated text literal");
        assert_eq!(
            message(r#""a\n""#),
            r#"unknown escape "\n" in text (write \", \' or \\)"#
        );
        assert_eq!(message("é"), "unknown character \"é\"");
        assert_eq!(
            message("“x”"),
            "unknown character \"“\" (write straight quotes \" or ')"
        );
        assert_eq!(
            message(&"9".repeat(400)),
            format!("number \"{}…\" is too large", "9".repeat(40))
        );
    }

    #[test]
    fn unknown_escape_points_at_the_backslash() {
        let tokens = tokenize(r#"x == "ab\qc""#);
        let last = tokens.last().cloned();
        assert_eq!(last.map(|token| token.span), Some(Span::new(8, 10)));
    }
}
