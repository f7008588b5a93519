//! Validation of a parsed rule against a [`Schema`]: names, types, values and query misuse.
//!
//! The checker walks the whole tree and collects every error rather than stopping at the
//! first, so a supervisor fixes a rule in one pass. It reports at most one type error per
//! comparison and skips the type checks of a comparison whose signal is unknown, because the
//! "unknown signal" error already says everything useful about it.
//!
//! The tree keeps spans for nodes but not for every word inside a query or a list. To point
//! at the offending word itself (`class`, `active`, the `0` of `within 0 days`, a list item),
//! the checker re-reads the node's own text with the lexer. When the text does not match the
//! tree (a tree built by hand, or the wrong text passed in) it falls back to the node's span.

use crate::ast::{CmpOp, CodeField, Expr, FactKind, FactQuery, Literal, Operand, Window};
use crate::error::{excerpt, RuleError, Span};
use crate::lexer::{tokenize, Keyword, Token, TokenKind};
use crate::limits::{
    window_bounds, MAX_DATE, MAX_DATE_YEAR, MAX_NUMBER, MAX_RULE_CHARS, MAX_WINDOW_DAYS,
    MAX_WINDOW_MONTHS, MIN_DATE, MIN_DATE_YEAR,
};
use crate::schema::{Schema, SignalType};
use crate::suggest::did_you_mean;

/// Validates `expr` (parsed from `text`) against `schema`; see [`crate::check()`].
pub(crate) fn check(expr: &Expr, text: &str, schema: &Schema) -> Result<(), Vec<RuleError>> {
    // A rule too long is refused alone, at the first character past the limit: checking it
    // further could only give a flood of errors nobody reads.
    if let Some((cut, _)) = text.char_indices().nth(MAX_RULE_CHARS) {
        let length = text.chars().count();
        return Err(vec![RuleError::new(
            text,
            Span::new(cut, text.len()),
            format!(
                "the rule is too long ({length} characters; a rule is at most {MAX_RULE_CHARS})"
            ),
        )]);
    }
    let mut checker = Checker {
        text,
        schema,
        errors: Vec::new(),
    };
    checker.expr(expr);
    let mut errors = checker.errors;
    if errors.is_empty() {
        return Ok(());
    }
    // The walk visits nodes in text order, but within a node the errors of inner parts may
    // be found out of order (a query's field comes before its value set); a stable sort by
    // position puts them in text order without reordering errors at the same place.
    errors.sort_by_key(|error| error.span.start);
    Err(errors)
}

struct Checker<'a> {
    text: &'a str,
    schema: &'a Schema,
    errors: Vec<RuleError>,
}

impl Checker<'_> {
    fn report(&mut self, span: Span, message: impl Into<String>) {
        self.errors.push(RuleError::new(self.text, span, message));
    }

    fn expr(&mut self, expr: &Expr) {
        match expr {
            Expr::Or(items) | Expr::And(items) => items.iter().for_each(|item| self.expr(item)),
            Expr::Not(inner, _) => self.expr(inner),
            Expr::Compare {
                left,
                op,
                right,
                span,
            } => self.compare(left, *op, right, *span),
            Expr::InList {
                operand,
                items,
                span,
                ..
            } => self.in_list(operand, items, *span),
            Expr::Flag { name, span } => self.flag(name, *span),
            Expr::Exists { query, span } => self.query(query, *span),
            Expr::Literal(..) => {}
        }
    }

    // ----- Signals and operands -----------------------------------------------------------

    /// The type of a known signal; reports an unknown one and returns `None`.
    fn signal(&mut self, name: &str, span: Span) -> Option<SignalType> {
        if let Some(signal_type) = self.schema.signals.get(name) {
            return Some(*signal_type);
        }
        let hint = did_you_mean(name, self.schema.signals.keys().map(String::as_str));
        self.report(span, format!("unknown signal \"{}\"{hint}", excerpt(name)));
        None
    }

    /// The type of an operand, checking what it contains; `None` when it cannot be known.
    fn operand(&mut self, operand: &Operand) -> Option<SignalType> {
        match operand {
            Operand::Signal { name, span } => self.signal(name, *span),
            Operand::Literal(literal, span) => {
                self.literal_in_range(literal, *span);
                Some(literal_type(literal))
            }
            Operand::Count { query, span } => {
                self.query(query, *span);
                Some(SignalType::Number)
            }
        }
    }

    fn flag(&mut self, name: &str, span: Span) {
        match self.signal(name, span) {
            Some(SignalType::Bool) | None => {}
            Some(other) => self.report(
                span,
                format!("{name} is {}, not a condition", other.described()),
            ),
        }
    }

    fn compare(&mut self, left: &Operand, op: CmpOp, right: &Operand, span: Span) {
        let left_type = self.operand(left);
        let right_type = self.operand(right);
        let (Some(left_type), Some(right_type)) = (left_type, right_type) else {
            return;
        };
        if !self.compatible(left, left_type, right, right_type) {
            return;
        }
        // Compatible operands have the same type, or are a date and a text written as a date;
        // only the first case can be text or true/false on both sides.
        let ordering = matches!(op, CmpOp::Lt | CmpOp::Le | CmpOp::Gt | CmpOp::Ge);
        if ordering
            && left_type == right_type
            && matches!(left_type, SignalType::Text | SignalType::Bool)
        {
            self.report(
                span,
                format!(
                    "\"{op}\" needs numbers or dates; {} is {} (use == or !=)",
                    name_of(left),
                    left_type.described()
                ),
            );
            return;
        }
        self.allowed_value(left, right);
        self.allowed_value(right, left);
    }

    /// Whether two operands can be compared; reports why not. A date compares with a date or
    /// with text written as a date, which is checked here too.
    fn compatible(
        &mut self,
        left: &Operand,
        left_type: SignalType,
        right: &Operand,
        right_type: SignalType,
    ) -> bool {
        if left_type == right_type {
            return true;
        }
        for (date_side, text_side, text_type) in [
            (left_type, right, right_type),
            (right_type, left, left_type),
        ] {
            if date_side == SignalType::Date && text_type == SignalType::Text {
                if let Operand::Literal(Literal::Text(value), span) = text_side {
                    return self.date_text(value, *span);
                }
            }
        }
        let span = Span::new(operand_span(left).start, operand_span(right).end);
        self.report(
            span,
            format!(
                "{} is {}; {} is {}",
                name_of(left),
                left_type.described(),
                name_of(right),
                right_type.described()
            ),
        );
        false
    }

    /// Whether a text literal compared with a date is a date; reports it when not. A date
    /// outside the years rules may use is reported too, but still compares as a date.
    fn date_text(&mut self, value: &str, span: Span) -> bool {
        if !is_iso_date(value) {
            self.report(
                span,
                format!(
                    "\"{}\" is not a date (write it as \"YYYY-MM-DD\", e.g. \"2024-01-31\")",
                    excerpt(value)
                ),
            );
            return false;
        }
        let year = value.get(0..4).and_then(|y| y.parse::<u32>().ok());
        if !year.is_some_and(|y| (MIN_DATE_YEAR..=MAX_DATE_YEAR).contains(&y)) {
            self.report(
                span,
                format!(
                    "the date \"{value}\" is out of range (dates are from {MIN_DATE} to {MAX_DATE})"
                ),
            );
        }
        true
    }

    /// Reports a number whose magnitude is beyond [`MAX_NUMBER`].
    fn literal_in_range(&mut self, literal: &Literal, span: Span) {
        if let Literal::Number(value) = literal {
            if value.is_finite() && value.abs() <= MAX_NUMBER {
                return;
            }
            let written = self
                .text
                .get(span.start..span.end)
                .map_or_else(|| literal.to_string(), str::to_string);
            self.report(
                span,
                format!(
                    "the number {} is out of range (numbers are between -{max} and {max})",
                    excerpt(&written),
                    max = MAX_NUMBER as u64
                ),
            );
        }
    }

    /// When `signal` is a text signal with a closed set of values and `other` is text, checks
    /// that the text is one of the values.
    fn allowed_value(&mut self, signal: &Operand, other: &Operand) {
        let (Operand::Signal { name, .. }, Operand::Literal(Literal::Text(value), span)) =
            (signal, other)
        else {
            return;
        };
        self.check_value(name, value, *span);
    }

    fn check_value(&mut self, signal: &str, value: &str, span: Span) {
        let Some(allowed) = self.schema.allowed_values.get(signal) else {
            return;
        };
        if allowed.iter().any(|candidate| candidate == value) {
            return;
        }
        self.report(
            span,
            format!(
                "\"{}\" is not a value of {signal} (expected one of: {})",
                excerpt(value),
                allowed.join(", ")
            ),
        );
    }

    fn in_list(&mut self, operand: &Operand, items: &[Literal], span: Span) {
        let Some(operand_type) = self.operand(operand) else {
            return;
        };
        let item_spans = list_item_spans(self.text, span, items.len());
        for (index, item) in items.iter().enumerate() {
            let item_span = item_spans
                .as_ref()
                .and_then(|spans| spans.get(index).copied())
                .unwrap_or(span);
            let item_type = literal_type(item);
            self.literal_in_range(item, item_span);
            match (operand_type, item) {
                (SignalType::Date, Literal::Text(value)) => {
                    self.date_text(value, item_span);
                }
                _ if item_type != operand_type => {
                    self.report(
                        item_span,
                        format!(
                            "{} is {}; {} is {}",
                            name_of(operand),
                            operand_type.described(),
                            excerpt(&item.to_string()),
                            item_type.described()
                        ),
                    );
                }
                (_, Literal::Text(value)) => {
                    if let Operand::Signal { name, .. } = operand {
                        self.check_value(name, value, item_span);
                    }
                }
                _ => {}
            }
        }
    }

    // ----- Fact queries -------------------------------------------------------------------

    /// Checks a query written at `span` (the whole `exists(...)` or `count(...)`).
    fn query(&mut self, query: &FactQuery, span: Span) {
        let tokens = node_tokens(self.text, span);
        let find = |wanted: &TokenKind| {
            tokens
                .iter()
                .find(|token| &token.kind == wanted)
                .map_or(span, |token| token.span)
        };

        if query.kinds.is_empty() {
            self.report(span, "the query names no fact kind");
        }
        for (index, kind) in query.kinds.iter().enumerate() {
            if query.kinds[..index].contains(kind) {
                let second = tokens
                    .iter()
                    .filter(|token| token.kind == TokenKind::Name(kind.as_str().to_string()))
                    .nth(1)
                    .map_or(span, |token| token.span);
                self.report(second, format!("\"{kind}\" is listed twice"));
            }
        }

        let allowed_kinds: &[FactKind] = match query.field {
            CodeField::Code => &FactKind::ALL,
            CodeField::Class | CodeField::Reason => &[FactKind::Encounter],
            CodeField::Type => &[FactKind::Encounter, FactKind::Appointment],
            CodeField::Modality => &[FactKind::Imaging],
        };
        let field_span = find(&TokenKind::Name(query.field.as_str().to_string()));
        self.kinds_allowed(
            query,
            allowed_kinds,
            &format!("\"{}\"", query.field),
            field_span,
        );
        if query.active {
            let active_span = find(&TokenKind::Keyword(Keyword::Active));
            self.kinds_allowed(
                query,
                &[FactKind::Condition, FactKind::Medication],
                "\"active\"",
                active_span,
            );
        }
        if query.discharged {
            let discharged_span = find(&TokenKind::Keyword(Keyword::Discharged));
            self.kinds_allowed(
                query,
                &[FactKind::Encounter],
                "\"discharged\"",
                discharged_span,
            );
        }

        if !self.schema.value_sets.contains(&query.value_set) {
            let hint = did_you_mean(
                &query.value_set,
                self.schema.value_sets.iter().map(String::as_str),
            );
            self.report(
                query.value_set_span,
                format!("unknown value set \"{}\"{hint}", excerpt(&query.value_set)),
            );
        }

        if let Some(window) = query.window {
            // The amount is the token after `within`, the unit the one after it.
            let within = tokens
                .iter()
                .position(|token| token.kind == TokenKind::Keyword(Keyword::Within));
            let amount_span = within
                .and_then(|index| tokens.get(index + 1))
                .map_or(span, |token| token.span);
            match window {
                Window::Days(0) | Window::Months(0) => self.report(
                    amount_span,
                    format!("\"within {window}\" is an empty window (use at least 1)"),
                ),
                Window::Days(n) if n > MAX_WINDOW_DAYS => {
                    self.window_too_long(window, within, &tokens, amount_span);
                }
                Window::Months(n) if n > MAX_WINDOW_MONTHS => {
                    self.window_too_long(window, within, &tokens, amount_span);
                }
                _ => {}
            }
        }
    }

    /// Reports a window longer than the limits, quoting it as written (`within 300000 years`)
    /// when the text matches the tree.
    fn window_too_long(
        &mut self,
        window: Window,
        within: Option<usize>,
        tokens: &[Token],
        amount_span: Span,
    ) {
        let written = within
            .and_then(|index| tokens.get(index + 2))
            .map(|unit| Span::new(amount_span.start, unit.span.end))
            .and_then(|whole| Some((whole, self.text.get(whole.start..whole.end)?)));
        let (span, written) = match written {
            Some((whole, text)) => (whole, excerpt(text)),
            None => (amount_span, window.to_string()),
        };
        self.report(
            span,
            format!("\"within {written}\" is too long ({})", window_bounds()),
        );
    }

    /// Reports `what` (a field or keyword) when the query names kinds outside `allowed`.
    fn kinds_allowed(&mut self, query: &FactQuery, allowed: &[FactKind], what: &str, span: Span) {
        let wrong: Vec<&str> = query
            .kinds
            .iter()
            .filter(|kind| !allowed.contains(kind))
            .map(|kind| kind.as_str())
            .collect();
        if wrong.is_empty() {
            return;
        }
        let allowed: Vec<&str> = allowed.iter().map(|kind| kind.as_str()).collect();
        self.report(
            span,
            format!(
                "{what} applies only to {}, not to {}",
                join_and(&allowed),
                join_and(&wrong)
            ),
        );
    }
}

// ----- Helpers ------------------------------------------------------------------------------

fn literal_type(literal: &Literal) -> SignalType {
    match literal {
        Literal::Number(_) => SignalType::Number,
        Literal::Text(_) => SignalType::Text,
        Literal::Bool(_) => SignalType::Bool,
    }
}

/// How an operand is named in messages: the signal name, the literal as written, or
/// `count(...)` (the whole query would make the message unreadable).
fn name_of(operand: &Operand) -> String {
    match operand {
        Operand::Signal { name, .. } => name.clone(),
        Operand::Literal(literal, _) => excerpt(&literal.to_string()),
        Operand::Count { .. } => "count(...)".to_string(),
    }
}

fn operand_span(operand: &Operand) -> Span {
    match operand {
        Operand::Signal { span, .. } | Operand::Literal(_, span) | Operand::Count { span, .. } => {
            *span
        }
    }
}

/// "a", "a and b", "a, b and c".
fn join_and(words: &[&str]) -> String {
    match words {
        [] => String::new(),
        [only] => (*only).to_string(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// Whether `value` is a calendar date written `YYYY-MM-DD` (months 1-12, days valid for the
/// month, leap years included).
fn is_iso_date(value: &str) -> bool {
    let bytes = value.as_bytes();
    if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
        return false;
    }
    let number = |range: std::ops::Range<usize>| -> Option<u32> {
        let part = value.get(range)?;
        if part.bytes().all(|byte| byte.is_ascii_digit()) {
            part.parse().ok()
        } else {
            None
        }
    };
    let (Some(year), Some(month), Some(day)) = (number(0..4), number(5..7), number(8..10)) else {
        return false;
    };
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let days_in_month = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days_in_month).contains(&day)
}

/// The tokens of the text at `span`, with spans relative to the whole text; empty when the
/// span does not fit the text.
fn node_tokens(text: &str, span: Span) -> Vec<Token> {
    let Some(source) = text.get(span.start..span.end) else {
        return Vec::new();
    };
    tokenize(source)
        .into_iter()
        .filter(|token| !matches!(token.kind, TokenKind::Eof | TokenKind::Invalid(_)))
        .map(|token| Token {
            kind: token.kind,
            span: Span::new(token.span.start + span.start, token.span.end + span.start),
        })
        .collect()
}

/// The spans of the `count` items of the list membership written at `span`, or `None` when
/// the text does not hold exactly that many items.
///
/// The items follow the first `in` outside parentheses (an operand `count(... in X)` has an
/// `in` of its own); a minus sign belongs to the number after it.
fn list_item_spans(text: &str, span: Span, count: usize) -> Option<Vec<Span>> {
    let tokens = node_tokens(text, span);
    let mut depth = 0usize;
    let mut list_start = None;
    for (index, token) in tokens.iter().enumerate() {
        match token.kind {
            TokenKind::LParen => depth += 1,
            TokenKind::RParen => depth = depth.saturating_sub(1),
            TokenKind::Keyword(Keyword::In) if depth == 0 => {
                list_start = Some(index + 1);
                break;
            }
            _ => {}
        }
    }
    let mut spans = Vec::new();
    let mut minus_start = None;
    for token in tokens.get(list_start?..)? {
        match token.kind {
            TokenKind::Minus => minus_start = Some(token.span.start),
            TokenKind::Number(_)
            | TokenKind::Text(_)
            | TokenKind::Keyword(Keyword::True | Keyword::False) => {
                spans.push(Span::new(
                    minus_start.take().unwrap_or(token.span.start),
                    token.span.end,
                ));
            }
            _ => {}
        }
    }
    (spans.len() == count).then_some(spans)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_dates() {
        assert!(is_iso_date("2024-01-31"));
        assert!(is_iso_date("2024-02-29"));
        assert!(!is_iso_date("2023-02-29"));
        assert!(!is_iso_date("2024-13-01"));
        assert!(!is_iso_date("2024-1-01"));
        assert!(!is_iso_date("2024-01-00"));
        assert!(!is_iso_date("2024/01/01"));
        assert!(!is_iso_date("2024-0é-1"));
    }

    #[test]
    fn join_and_reads_naturally() {
        assert_eq!(join_and(&["a"]), "a");
        assert_eq!(join_and(&["a", "b"]), "a and b");
        assert_eq!(join_and(&["a", "b", "c"]), "a, b and c");
    }

    #[test]
    fn list_items_are_found_after_the_outer_in() {
        let text = "count(encounter in X) in (-1, 2)";
        let spans = list_item_spans(text, Span::new(0, text.len()), 2);
        assert_eq!(spans, Some(vec![Span::new(26, 28), Span::new(30, 31)]));
        assert_eq!(list_item_spans(text, Span::new(0, text.len()), 3), None);
        assert_eq!(list_item_spans(text, Span::new(0, 999), 2), None);
    }
}
