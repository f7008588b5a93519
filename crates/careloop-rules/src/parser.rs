//! The recursive-descent parser: tokens to [`Expr`], stopping at the first syntax error.
//!
//! Grammar, one function per line:
//!
//! ```text
//! or        := and ('or' and)*
//! and       := unary ('and' unary)*
//! unary     := 'not' unary | atom
//! atom      := '(' or ')' | 'exists' '(' query ')' | condition
//! condition := operand (CMP operand | ['not'] 'in' '(' literal (',' literal)* ')')?
//! operand   := NAME | literal | 'count' '(' query ')'
//! literal   := ['-'] NUMBER | TEXT | 'true' | 'false'
//! query     := ['active'] KIND (',' KIND)* [FIELD] 'in' VALUESET ['discharged'] ['within' NUMBER UNIT]
//! ```
//!
//! `not` applies to the whole condition after it: `not age >= 50` is `not (age >= 50)`.
//! Comparisons take operands, never conditions, so no other reading exists.

use crate::ast::{CodeField, Expr, FactKind, FactQuery, Literal, Operand, Window};
use crate::error::{excerpt, line_column, RuleError, Span};
use crate::lexer::{tokenize, Keyword, Token, TokenKind};
use crate::suggest::did_you_mean;

/// How deeply parentheses and `not` may nest. Real rules nest a few levels; the limit keeps
/// hostile input from overflowing the stack of the recursive parser (and of the recursive
/// printer and checker that walk the tree afterwards).
const MAX_DEPTH: usize = 64;

/// Parses a whole rule; see [`crate::parse()`].
pub(crate) fn parse(text: &str) -> Result<Expr, RuleError> {
    let tokens = tokenize(text);
    let eof = Token {
        kind: TokenKind::Eof,
        span: Span::new(text.len(), text.len()),
    };
    let mut parser = Parser {
        text,
        tokens,
        pos: 0,
        previous_end: 0,
        depth: 0,
        eof,
    };
    let expr = parser.or()?;
    match parser.peek().kind {
        TokenKind::Eof => Ok(expr),
        TokenKind::RParen => Err(parser.error_here("found \")\" without a matching \"(\"")),
        _ => Err(parser.unexpected("\"and\", \"or\" or the end of the rule")),
    }
}

struct Parser<'a> {
    text: &'a str,
    /// Never empty: the lexer always ends the list with `Eof` or `Invalid`.
    tokens: Vec<Token>,
    /// Index of the current token. It never moves past the last token, so the parser keeps
    /// seeing `Eof` or `Invalid` once it gets there.
    pos: usize,
    /// The end of the last consumed token, which is where the node being built ends.
    previous_end: usize,
    /// Current nesting of parentheses and `not`.
    depth: usize,
    /// Returned by `peek` should `tokens` ever be empty, so that peeking can never panic.
    eof: Token,
}

impl Parser<'_> {
    // ----- Token access -------------------------------------------------------------------

    fn peek(&self) -> &Token {
        self.tokens
            .get(self.pos)
            .or(self.tokens.last())
            .unwrap_or(&self.eof)
    }

    /// Consumes the current token and returns it. Callers only advance past a token they have
    /// matched, which is never `Eof` or `Invalid`.
    fn advance(&mut self) -> Token {
        let token = self.peek().clone();
        if self.pos + 1 < self.tokens.len() {
            self.pos += 1;
        }
        self.previous_end = token.span.end;
        token
    }

    fn at_keyword(&self, keyword: Keyword) -> bool {
        self.peek().kind == TokenKind::Keyword(keyword)
    }

    /// Consumes the keyword if it is the current token.
    fn eat_keyword(&mut self, keyword: Keyword) -> Option<Token> {
        self.at_keyword(keyword).then(|| self.advance())
    }

    fn at(&self, kind: &TokenKind) -> bool {
        &self.peek().kind == kind
    }

    // ----- Errors -------------------------------------------------------------------------

    fn error(&self, span: Span, message: impl Into<String>) -> RuleError {
        RuleError::new(self.text, span, message)
    }

    fn error_here(&self, message: impl Into<String>) -> RuleError {
        self.error(self.peek().span, message)
    }

    /// The error for an unexpected current token: the lexer's message if the text could not
    /// be read here, otherwise "expected ..., found ...".
    fn unexpected(&self, expected: &str) -> RuleError {
        let token = self.peek();
        match &token.kind {
            TokenKind::Invalid(message) => self.error(token.span, message.clone()),
            TokenKind::ValueSet(word)
                if Keyword::from_word(&word.to_ascii_lowercase()).is_some() =>
            {
                let lower = word.to_ascii_lowercase();
                self.error(
                    token.span,
                    format!(
                        "unknown keyword or character \"{}\" (write \"{lower}\")",
                        excerpt(word)
                    ),
                )
            }
            _ => self.error(
                token.span,
                format!("expected {expected}, found {}", self.describe(token)),
            ),
        }
    }

    /// How a token is named in "found ..." messages.
    fn describe(&self, token: &Token) -> String {
        match &token.kind {
            TokenKind::Eof => "the end of the rule".to_string(),
            TokenKind::Text(value) => format!("the text \"{}\"", excerpt(value)),
            _ => format!(
                "\"{}\"",
                excerpt(
                    self.text
                        .get(token.span.start..token.span.end)
                        .unwrap_or("")
                )
            ),
        }
    }

    /// The error for a missing `)`: at the end of the rule it names the unclosed parenthesis,
    /// elsewhere it says what could have come instead of the current token.
    fn missing_close(&self, open: Span, expected: &str) -> RuleError {
        if self.at(&TokenKind::Eof) {
            let (line, column) = line_column(self.text, open.start);
            self.error_here(format!(
                "unclosed parenthesis opened at line {line}, column {column}"
            ))
        } else {
            self.unexpected(expected)
        }
    }

    /// Counts one more level of nesting, refusing to go deeper than [`MAX_DEPTH`].
    fn enter(&mut self) -> Result<(), RuleError> {
        if self.depth >= MAX_DEPTH {
            return Err(self.error_here(format!(
                "the rule is nested too deeply (more than {MAX_DEPTH} levels of parentheses or \"not\")"
            )));
        }
        self.depth += 1;
        Ok(())
    }

    fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    // ----- Conditions ---------------------------------------------------------------------

    fn or(&mut self) -> Result<Expr, RuleError> {
        let first = self.and()?;
        if !self.at_keyword(Keyword::Or) {
            return Ok(first);
        }
        let mut items = vec![first];
        while self.eat_keyword(Keyword::Or).is_some() {
            items.push(self.and()?);
        }
        Ok(Expr::Or(items))
    }

    fn and(&mut self) -> Result<Expr, RuleError> {
        let first = self.unary()?;
        if !self.at_keyword(Keyword::And) {
            return Ok(first);
        }
        let mut items = vec![first];
        while self.eat_keyword(Keyword::And).is_some() {
            items.push(self.unary()?);
        }
        Ok(Expr::And(items))
    }

    fn unary(&mut self) -> Result<Expr, RuleError> {
        if self.at_keyword(Keyword::Not) {
            self.enter()?;
            let not = self.advance();
            let inner = self.unary()?;
            self.leave();
            return Ok(Expr::Not(
                Box::new(inner),
                Span::new(not.span.start, self.previous_end),
            ));
        }
        self.atom()
    }

    fn atom(&mut self) -> Result<Expr, RuleError> {
        match self.peek().kind {
            TokenKind::LParen => {
                self.enter()?;
                let open = self.advance();
                let inner = self.or()?;
                if !self.at(&TokenKind::RParen) {
                    return Err(self.missing_close(open.span, "\"and\", \"or\" or \")\""));
                }
                self.advance();
                self.leave();
                Ok(inner)
            }
            TokenKind::Keyword(Keyword::Exists) => {
                let keyword = self.advance();
                let query = self.query_call("exists")?;
                Ok(Expr::Exists {
                    query,
                    span: Span::new(keyword.span.start, self.previous_end),
                })
            }
            TokenKind::Name(_)
            | TokenKind::Number(_)
            | TokenKind::Text(_)
            | TokenKind::Minus
            | TokenKind::Keyword(Keyword::True | Keyword::False | Keyword::Count) => {
                self.condition()
            }
            _ => Err(self.unexpected("a condition")),
        }
    }

    /// A comparison, a list membership, a bare boolean signal or `true` / `false`.
    fn condition(&mut self) -> Result<Expr, RuleError> {
        let start = self.peek().span.start;
        let left = self.operand("a condition")?;
        match self.peek().kind {
            TokenKind::Cmp(op) => {
                self.advance();
                let right = self.operand("a value, a signal or count(...)")?;
                Ok(Expr::Compare {
                    left,
                    op,
                    right,
                    span: Span::new(start, self.previous_end),
                })
            }
            TokenKind::Keyword(Keyword::In) => self.list(left, false, start),
            TokenKind::Keyword(Keyword::Not) => {
                self.advance();
                if !self.at_keyword(Keyword::In) {
                    return Err(self.unexpected("\"in\" after \"not\""));
                }
                self.list(left, true, start)
            }
            _ => self.lone_operand(left),
        }
    }

    /// An operand with no operator after it: only a signal (a flag) or `true` / `false` can
    /// stand alone, and only when the condition ends there.
    fn lone_operand(&self, operand: Operand) -> Result<Expr, RuleError> {
        let ends_here = matches!(
            self.peek().kind,
            TokenKind::Eof | TokenKind::RParen | TokenKind::Keyword(Keyword::And | Keyword::Or)
        );
        match operand {
            Operand::Signal { name, span } if ends_here => Ok(Expr::Flag { name, span }),
            Operand::Literal(Literal::Bool(value), span) if ends_here => {
                Ok(Expr::Literal(value, span))
            }
            // `exist(...)` or `counts(...)`: a name used like a function is a misspelt query.
            Operand::Signal { name, span } if self.at(&TokenKind::LParen) => Err(self.error(
                span,
                match did_you_mean(&name, ["exists", "count"]) {
                    hint if hint.is_empty() => {
                        format!(
                            "\"{}\" is not a function (write exists(...) or count(...))",
                            excerpt(&name)
                        )
                    }
                    hint => format!("\"{}\" is not a function{hint}", excerpt(&name)),
                },
            )),
            _ => Err(self.unexpected("a comparison operator")),
        }
    }

    /// `in (a, b, ...)` after `operand` (and `not`, already consumed, when `negated`).
    fn list(&mut self, operand: Operand, negated: bool, start: usize) -> Result<Expr, RuleError> {
        self.advance(); // `in`
        if !self.at(&TokenKind::LParen) {
            let expected = if matches!(self.peek().kind, TokenKind::ValueSet(_)) {
                "\"(\" and a list of values after \"in\" (value sets go inside exists(...) or count(...))"
            } else {
                "\"(\" and a list of values after \"in\""
            };
            return Err(self.unexpected(expected));
        }
        let open = self.advance();
        let mut items = vec![self.literal()?];
        loop {
            match self.peek().kind {
                TokenKind::Comma => {
                    self.advance();
                    items.push(self.literal()?);
                }
                TokenKind::RParen => {
                    self.advance();
                    break;
                }
                _ => return Err(self.missing_close(open.span, "\",\" or \")\"")),
            }
        }
        Ok(Expr::InList {
            operand,
            negated,
            items,
            span: Span::new(start, self.previous_end),
        })
    }

    // ----- Operands and literals ----------------------------------------------------------

    fn operand(&mut self, expected: &str) -> Result<Operand, RuleError> {
        match &self.peek().kind {
            TokenKind::Name(name) => {
                let name = name.clone();
                let token = self.advance();
                Ok(Operand::Signal {
                    name,
                    span: token.span,
                })
            }
            TokenKind::Keyword(Keyword::Count) => {
                let keyword = self.advance();
                let query = self.query_call("count")?;
                Ok(Operand::Count {
                    query,
                    span: Span::new(keyword.span.start, self.previous_end),
                })
            }
            TokenKind::Number(_)
            | TokenKind::Minus
            | TokenKind::Text(_)
            | TokenKind::Keyword(Keyword::True | Keyword::False) => {
                let start = self.peek().span.start;
                let literal = self.literal()?;
                Ok(Operand::Literal(
                    literal,
                    Span::new(start, self.previous_end),
                ))
            }
            _ => Err(self.unexpected(expected)),
        }
    }

    fn literal(&mut self) -> Result<Literal, RuleError> {
        match &self.peek().kind {
            TokenKind::Number(value) => {
                let value = *value;
                self.advance();
                Ok(Literal::Number(value))
            }
            TokenKind::Minus => {
                self.advance();
                match self.peek().kind {
                    TokenKind::Number(value) => {
                        self.advance();
                        Ok(Literal::Number(-value))
                    }
                    _ => Err(self.unexpected("a number after \"-\"")),
                }
            }
            TokenKind::Text(value) => {
                let value = value.clone();
                self.advance();
                Ok(Literal::Text(value))
            }
            TokenKind::Keyword(Keyword::True) => {
                self.advance();
                Ok(Literal::Bool(true))
            }
            TokenKind::Keyword(Keyword::False) => {
                self.advance();
                Ok(Literal::Bool(false))
            }
            _ => Err(self.unexpected("a value (a number, text in quotes, true or false)")),
        }
    }

    // ----- Fact queries -------------------------------------------------------------------

    /// `( query )` after `exists` or `count` (named by `function` in messages).
    fn query_call(&mut self, function: &str) -> Result<FactQuery, RuleError> {
        if !self.at(&TokenKind::LParen) {
            return Err(self.unexpected(&format!("\"(\" after \"{function}\"")));
        }
        let open = self.advance();
        let query = self.query()?;
        if !self.at(&TokenKind::RParen) {
            let expected = match (query.discharged, query.window) {
                (_, Some(_)) => "\")\"",
                (false, None) if query.kinds.contains(&FactKind::Encounter) => {
                    "\"discharged\", \"within\" or \")\""
                }
                (_, None) => "\"within\" or \")\"",
            };
            return Err(self.missing_close(open.span, expected));
        }
        self.advance();
        Ok(query)
    }

    fn query(&mut self) -> Result<FactQuery, RuleError> {
        let active = self.eat_keyword(Keyword::Active).is_some();
        let mut kinds = vec![self.kind()?];
        while self.at(&TokenKind::Comma) {
            self.advance();
            kinds.push(self.kind()?);
        }
        let field = self.field()?;
        if self.eat_keyword(Keyword::In).is_none() {
            return Err(self.unexpected("\"in\" and a value set name"));
        }
        let (value_set, value_set_span) = match &self.peek().kind {
            TokenKind::ValueSet(name) => {
                let name = name.clone();
                (name, self.advance().span)
            }
            _ => return Err(self.unexpected("a value set name in capitals (e.g. MAMMOGRAPHY)")),
        };
        let discharged = self.eat_keyword(Keyword::Discharged).is_some();
        let window = match self.eat_keyword(Keyword::Within) {
            Some(_) => Some(self.window()?),
            None => None,
        };
        Ok(FactQuery {
            kinds,
            field,
            value_set,
            value_set_span,
            active,
            discharged,
            window,
        })
    }

    fn kind(&mut self) -> Result<FactKind, RuleError> {
        let names = FactKind::ALL.map(FactKind::as_str);
        if let TokenKind::Name(word) = &self.peek().kind {
            if let Some(kind) = FactKind::from_word(word) {
                self.advance();
                return Ok(kind);
            }
            let hint = did_you_mean(word, names);
            if !hint.is_empty() {
                return Err(
                    self.error_here(format!("unknown fact kind \"{}\"{hint}", excerpt(word)))
                );
            }
        }
        Err(self.unexpected(&format!("a fact kind ({})", names.join(", "))))
    }

    /// The optional field between the kinds and `in`; `code` when none is written.
    fn field(&mut self) -> Result<CodeField, RuleError> {
        let fields = CodeField::ALL.map(CodeField::as_str).join(", ");
        match &self.peek().kind {
            TokenKind::Keyword(Keyword::In) => Ok(CodeField::Code),
            TokenKind::Name(word) => {
                if let Some(field) = CodeField::from_word(word) {
                    self.advance();
                    Ok(field)
                } else if FactKind::from_word(word).is_some() {
                    Err(self.unexpected("\",\" between fact kinds"))
                } else {
                    Err(self.unexpected(&format!("\",\", a field ({fields}) or \"in\"")))
                }
            }
            TokenKind::Keyword(Keyword::Active) => Err(self.error_here(
                "\"active\" goes before the fact kind, e.g. exists(active condition in DIABETES)",
            )),
            _ => Err(self.unexpected(&format!("\",\", a field ({fields}) or \"in\""))),
        }
    }

    /// `NUMBER UNIT` after `within`. Years become months so the evaluator has two units.
    fn window(&mut self) -> Result<Window, RuleError> {
        let expected = "a whole number of days, months or years after \"within\"";
        let TokenKind::Number(_) = self.peek().kind else {
            return Err(self.unexpected(expected));
        };
        let number_span = self.peek().span;
        let digits = self
            .text
            .get(number_span.start..number_span.end)
            .unwrap_or("");
        if !digits.bytes().all(|byte| byte.is_ascii_digit()) {
            return Err(self.unexpected(expected));
        }
        let Ok(amount) = digits.parse::<u32>() else {
            return Err(self.error_here(format!(
                "the window {} is too large ({})",
                excerpt(digits),
                crate::limits::window_bounds()
            )));
        };
        self.advance();
        let unit = match &self.peek().kind {
            TokenKind::Name(word) => word.as_str(),
            _ => return Err(self.unexpected("a unit (days, months or years)")),
        };
        let window = match unit {
            "day" | "days" => Window::Days(amount),
            "month" | "months" => Window::Months(amount),
            "year" | "years" => match amount.checked_mul(12) {
                Some(months) => Window::Months(months),
                None => {
                    return Err(self.error(
                        number_span,
                        format!(
                            "the window {digits} years is too large ({})",
                            crate::limits::window_bounds()
                        ),
                    ))
                }
            },
            _ => return Err(self.unexpected("a unit (days, months or years)")),
        };
        self.advance();
        Ok(window)
    }
}
