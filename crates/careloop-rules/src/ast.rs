//! The syntax tree of a rule and its canonical text form ([`std::fmt::Display`]).
//!
//! The tree is what the evaluator consumes. Every leaf keeps the [`Span`] of its source so
//! that validation and evaluation errors can point at the exact text a supervisor wrote.
//! Printing a tree gives the canonical text of the rule: parsing that text again gives the
//! same tree apart from the spans.

use std::fmt;

use crate::error::Span;

/// A condition: the whole rule, or any part of it that is true or false for a patient.
#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    /// True when any item is true. `a or b or c` is one `Or` with three items; a parenthesised
    /// `a or (b or c)` keeps its inner `Or`, so the tree mirrors the text.
    Or(Vec<Expr>),
    /// True when every item is true; flattened like [`Expr::Or`].
    And(Vec<Expr>),
    /// `not X`; the span covers `not` and the negated condition.
    Not(Box<Expr>, Span),
    /// `left op right`, e.g. `age >= 50` or `count(...) >= 2`.
    Compare {
        /// The operand before the operator.
        left: Operand,
        /// The comparison operator.
        op: CmpOp,
        /// The operand after the operator.
        right: Operand,
        /// From the start of `left` to the end of `right`.
        span: Span,
    },
    /// `operand in (a, b)` or, when `negated`, `operand not in (a, b)`.
    InList {
        /// The value tested for membership.
        operand: Operand,
        /// True for `not in`.
        negated: bool,
        /// The listed values, in the order written; never empty when parsed.
        items: Vec<Literal>,
        /// From the start of the operand to the closing parenthesis.
        span: Span,
    },
    /// A bare boolean signal used as a condition, e.g. `lives_alone`.
    Flag {
        /// The signal name.
        name: String,
        /// The span of the name.
        span: Span,
    },
    /// `exists(QUERY)`: true when the patient has at least one matching fact.
    Exists {
        /// What to look for.
        query: FactQuery,
        /// From `exists` to the closing parenthesis.
        span: Span,
    },
    /// The constant condition `true` or `false`.
    Literal(bool, Span),
}

/// One side of a comparison, or the tested value of a list membership.
#[derive(Clone, Debug, PartialEq)]
pub enum Operand {
    /// A signal of the patient, e.g. `age`.
    Signal {
        /// The signal name.
        name: String,
        /// The span of the name.
        span: Span,
    },
    /// A constant; the span includes a leading minus sign and the quotes of text.
    Literal(Literal, Span),
    /// `count(QUERY)`: the number of matching facts.
    Count {
        /// What to count.
        query: FactQuery,
        /// From `count` to the closing parenthesis.
        span: Span,
    },
}

/// A constant value written in the rule.
#[derive(Clone, Debug, PartialEq)]
pub enum Literal {
    /// A finite number, integer or decimal.
    Number(f64),
    /// Text, with escapes already resolved.
    Text(String),
    /// `true` or `false`.
    Bool(bool),
}

/// A comparison operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CmpOp {
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

/// The kind of clinical fact a query looks at; each maps to a FHIR resource in the evaluator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FactKind {
    /// `condition`: Condition.
    Condition,
    /// `observation`: Observation.
    Observation,
    /// `report`: DiagnosticReport.
    Report,
    /// `procedure`: Procedure.
    Procedure,
    /// `encounter`: Encounter.
    Encounter,
    /// `medication`: MedicationRequest.
    Medication,
    /// `immunization`: Immunization.
    Immunization,
    /// `imaging`: ImagingStudy.
    Imaging,
    /// `appointment`: Appointment.
    Appointment,
    /// `questionnaire`: QuestionnaireResponse answers.
    Questionnaire,
}

impl FactKind {
    /// Every kind, in declaration order.
    pub(crate) const ALL: [FactKind; 10] = [
        FactKind::Condition,
        FactKind::Observation,
        FactKind::Report,
        FactKind::Procedure,
        FactKind::Encounter,
        FactKind::Medication,
        FactKind::Immunization,
        FactKind::Imaging,
        FactKind::Appointment,
        FactKind::Questionnaire,
    ];

    /// The keyword written in rules.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            FactKind::Condition => "condition",
            FactKind::Observation => "observation",
            FactKind::Report => "report",
            FactKind::Procedure => "procedure",
            FactKind::Encounter => "encounter",
            FactKind::Medication => "medication",
            FactKind::Immunization => "immunization",
            FactKind::Imaging => "imaging",
            FactKind::Appointment => "appointment",
            FactKind::Questionnaire => "questionnaire",
        }
    }

    /// The kind written as `word`, if any.
    pub(crate) fn from_word(word: &str) -> Option<FactKind> {
        FactKind::ALL.into_iter().find(|kind| kind.as_str() == word)
    }
}

/// Which coded element of a fact the value set is matched against.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CodeField {
    /// `code` (the default when no field is written).
    Code,
    /// `class`: Encounter.class; encounters only.
    Class,
    /// `type`: Encounter.type or Appointment.appointmentType / serviceType.
    Type,
    /// `reason`: Encounter.reasonCode.
    Reason,
    /// `modality`: ImagingStudy series modality; imaging only.
    Modality,
}

impl CodeField {
    /// Every field, in declaration order.
    pub(crate) const ALL: [CodeField; 5] = [
        CodeField::Code,
        CodeField::Class,
        CodeField::Type,
        CodeField::Reason,
        CodeField::Modality,
    ];

    /// The keyword written in rules.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            CodeField::Code => "code",
            CodeField::Class => "class",
            CodeField::Type => "type",
            CodeField::Reason => "reason",
            CodeField::Modality => "modality",
        }
    }

    /// The field written as `word`, if any.
    pub(crate) fn from_word(word: &str) -> Option<CodeField> {
        CodeField::ALL
            .into_iter()
            .find(|field| field.as_str() == word)
    }
}

/// How far back from the as-of date a query looks. Years are stored as months (×12).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Window {
    /// `within N days`.
    Days(u32),
    /// `within N months` or `within N/12 years`.
    Months(u32),
}

/// The inside of `exists(...)` or `count(...)`:
/// `['active'] KIND {',' KIND} [FIELD] 'in' VALUESET ['discharged'] ['within' NUMBER UNIT]`.
#[derive(Clone, Debug, PartialEq)]
pub struct FactQuery {
    /// The kinds of fact searched, in the order written; a fact of any of them matches.
    pub kinds: Vec<FactKind>,
    /// The coded element matched against the value set.
    pub field: CodeField,
    /// The value set name, e.g. `MAMMOGRAPHY`.
    pub value_set: String,
    /// The span of the value set name.
    pub value_set_span: Span,
    /// `active`: only facts active at the as-of date (conditions and medications).
    pub active: bool,
    /// `discharged`: the window applies to the encounter's end date.
    pub discharged: bool,
    /// `within N unit`; `None` means any time.
    pub window: Option<Window>,
}

impl Expr {
    /// The items of a top-level [`Expr::And`], or the expression itself otherwise.
    ///
    /// The evaluator uses this to explain which condition of a rule a patient fails.
    pub fn conjuncts(&self) -> Vec<&Expr> {
        match self {
            Expr::And(items) => items.iter().collect(),
            other => vec![other],
        }
    }
}

/// Where an expression is printed, which decides whether it needs parentheses.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Context {
    /// The whole rule.
    Top,
    /// An item of an `Or`.
    InOr,
    /// An item of an `And`.
    InAnd,
    /// The operand of `not`.
    InNot,
}

impl Expr {
    /// Prints the expression, adding parentheses only where the parser needs them.
    fn write(&self, f: &mut fmt::Formatter<'_>, context: Context) -> fmt::Result {
        match self {
            Expr::Or(items) => {
                // An `Or` inside an `Or` only exists when the text had parentheses, so they are
                // printed back to keep the round trip exact.
                let parens = context != Context::Top;
                write_list(f, items, "or", false, Context::InOr, context, parens)
            }
            Expr::And(items) => {
                // `and` binds tighter than `or`, so an `And` inside an `Or` needs none.
                let parens = matches!(context, Context::InAnd | Context::InNot);
                write_list(f, items, "and", true, Context::InAnd, context, parens)
            }
            Expr::Not(inner, _) => {
                f.write_str("not ")?;
                inner.write(f, Context::InNot)
            }
            Expr::Compare {
                left, op, right, ..
            } => write!(f, "{left} {op} {right}"),
            Expr::InList {
                operand,
                negated,
                items,
                ..
            } => {
                write!(f, "{operand} {}in (", if *negated { "not " } else { "" })?;
                for (index, item) in items.iter().enumerate() {
                    if index > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{item}")?;
                }
                f.write_str(")")
            }
            Expr::Flag { name, .. } => f.write_str(name),
            Expr::Exists { query, .. } => write!(f, "exists({query})"),
            Expr::Literal(value, _) => f.write_str(if *value { "true" } else { "false" }),
        }
    }
}

/// Prints the items of an `And` or `Or` joined by `keyword`.
///
/// The parser never builds an empty or one-item list; for hand-built trees an empty `And`
/// prints as `true`, an empty `Or` as `false` (the neutral values) and one item as itself, in
/// the list's own context so that it gets the parentheses the list would have needed.
fn write_list(
    f: &mut fmt::Formatter<'_>,
    items: &[Expr],
    keyword: &str,
    empty_value: bool,
    item_context: Context,
    context: Context,
    parens: bool,
) -> fmt::Result {
    match items {
        [] => f.write_str(if empty_value { "true" } else { "false" }),
        [only] => only.write(f, context),
        _ => {
            if parens {
                f.write_str("(")?;
            }
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    write!(f, " {keyword} ")?;
                }
                item.write(f, item_context)?;
            }
            if parens {
                f.write_str(")")?;
            }
            Ok(())
        }
    }
}

impl fmt::Display for Expr {
    /// The canonical text of the rule, on one line: `parse(&expr.to_string())` gives `expr`
    /// back apart from the spans.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write(f, Context::Top)
    }
}

impl fmt::Display for Operand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Operand::Signal { name, .. } => f.write_str(name),
            Operand::Literal(literal, _) => write!(f, "{literal}"),
            Operand::Count { query, .. } => write!(f, "count({query})"),
        }
    }
}

impl fmt::Display for Literal {
    /// Numbers print in plain decimal notation (Rust never uses an exponent for `f64`), text in
    /// double quotes with `"` and `\` escaped.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Literal::Number(value) => write!(f, "{value}"),
            Literal::Text(text) => {
                f.write_str("\"")?;
                for ch in text.chars() {
                    match ch {
                        '"' => f.write_str("\\\"")?,
                        '\\' => f.write_str("\\\\")?,
                        other => write!(f, "{other}")?,
                    }
                }
                f.write_str("\"")
            }
            Literal::Bool(value) => f.write_str(if *value { "true" } else { "false" }),
        }
    }
}

impl fmt::Display for CmpOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CmpOp::Eq => "==",
            CmpOp::Ne => "!=",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
        })
    }
}

impl fmt::Display for FactKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for CodeField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for Window {
    /// `1 day`, `30 days`, `1 month`, `27 months`; whole years of months print as years.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let plural = |n: u32| if n == 1 { "" } else { "s" };
        match *self {
            Window::Days(n) => write!(f, "{n} day{}", plural(n)),
            Window::Months(n) if n > 0 && n % 12 == 0 => {
                write!(f, "{} year{}", n / 12, plural(n / 12))
            }
            Window::Months(n) => write!(f, "{n} month{}", plural(n)),
        }
    }
}

impl fmt::Display for FactQuery {
    /// The inside of `exists(...)`; the default field `code` is not printed.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.active {
            f.write_str("active ")?;
        }
        for (index, kind) in self.kinds.iter().enumerate() {
            if index > 0 {
                f.write_str(", ")?;
            }
            f.write_str(kind.as_str())?;
        }
        if self.field != CodeField::Code {
            write!(f, " {}", self.field)?;
        }
        write!(f, " in {}", self.value_set)?;
        if self.discharged {
            f.write_str(" discharged")?;
        }
        if let Some(window) = self.window {
            write!(f, " within {window}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span() -> Span {
        Span::new(0, 0)
    }

    fn flag(name: &str) -> Expr {
        Expr::Flag {
            name: name.to_string(),
            span: span(),
        }
    }

    #[test]
    fn and_inside_or_has_no_parentheses_and_or_inside_and_has() {
        let expr = Expr::Or(vec![flag("a"), Expr::And(vec![flag("b"), flag("c")])]);
        assert_eq!(expr.to_string(), "a or b and c");
        let expr = Expr::And(vec![flag("a"), Expr::Or(vec![flag("b"), flag("c")])]);
        assert_eq!(expr.to_string(), "a and (b or c)");
        let expr = Expr::Not(Box::new(Expr::And(vec![flag("a"), flag("b")])), span());
        assert_eq!(expr.to_string(), "not (a and b)");
    }

    #[test]
    fn degenerate_lists_print_as_neutral_values() {
        assert_eq!(Expr::And(vec![]).to_string(), "true");
        assert_eq!(Expr::Or(vec![]).to_string(), "false");
        assert_eq!(Expr::Or(vec![flag("a")]).to_string(), "a");
        // A one-item list keeps the parentheses its item needs where the list stands.
        let inner = Expr::Or(vec![Expr::And(vec![flag("a"), flag("b")])]);
        assert_eq!(
            Expr::Not(Box::new(inner), span()).to_string(),
            "not (a and b)"
        );
    }

    #[test]
    fn windows_print_years_when_whole() {
        assert_eq!(Window::Days(1).to_string(), "1 day");
        assert_eq!(Window::Days(30).to_string(), "30 days");
        assert_eq!(Window::Months(1).to_string(), "1 month");
        assert_eq!(Window::Months(12).to_string(), "1 year");
        assert_eq!(Window::Months(27).to_string(), "27 months");
        assert_eq!(Window::Months(36).to_string(), "3 years");
        assert_eq!(Window::Months(0).to_string(), "0 months");
    }

    #[test]
    fn text_escapes_quotes_and_backslashes() {
        let literal = Literal::Text("say \"hi\" \\ 'you'".to_string());
        assert_eq!(literal.to_string(), r#""say \"hi\" \\ 'you'""#);
    }

    #[test]
    fn conjuncts_of_and_and_of_anything_else() {
        let expr = Expr::And(vec![flag("a"), flag("b")]);
        assert_eq!(expr.conjuncts().len(), 2);
        let single = flag("a");
        assert_eq!(single.conjuncts(), vec![&single]);
    }
}
