//! Evaluates a parsed rule for one patient as of D, keeping for each top-level condition
//! whether it held and the evidence it rests on (signals with their values, facts with their
//! type, code and date): the raw material of explanations.

use careloop_rules::{CmpOp, CodeField, Expr, FactKind, FactQuery, Literal, Operand};
use std::ops::ControlFlow;

use chrono::NaiveDate;

use crate::codes::{Coding, ValueSet, ValueSets};
use crate::dates::Window;
use crate::facts::PatientFacts;
use crate::signals::{SignalValue, Signals};

/// A fact a condition rests on.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Evidence {
    pub resource_type: &'static str,
    pub id: String,
    /// The matching code, e.g. "SNOMED 44054006" or "class EMER".
    pub code: String,
    pub date: Option<NaiveDate>,
}

/// One top-level condition of a rule, evaluated.
#[derive(Clone, Debug, PartialEq)]
pub struct ConditionOutcome {
    /// The condition as written (canonical form).
    pub text: String,
    pub held: bool,
    /// The signals it reads, with this person's values.
    pub signals: Vec<(String, SignalValue)>,
    /// The facts that matched its queries (empty for a query that found nothing).
    pub evidence: Vec<Evidence>,
}

/// What a rule evaluation needs.
pub struct Context<'a> {
    pub facts: &'a PatientFacts,
    pub signals: &'a Signals,
    pub value_sets: &'a ValueSets,
    pub as_of: NaiveDate,
}

/// What an evaluation keeps for explanations: the signals read and the facts matched.
#[derive(Default)]
struct Trace {
    signals: Vec<(String, SignalValue)>,
    evidence: Vec<Evidence>,
}

/// Evaluates `rule`; the outcome of every top-level condition is returned (all of them, so
/// "why not" can name the first that failed and explanations can show every one).
pub fn evaluate(rule: &Expr, ctx: &Context<'_>) -> (bool, Vec<ConditionOutcome>) {
    let outcomes: Vec<ConditionOutcome> = rule
        .conjuncts()
        .into_iter()
        .map(|condition| {
            let mut trace = Trace::default();
            let held = eval(condition, ctx, &mut Some(&mut trace));
            let Trace {
                mut signals,
                mut evidence,
            } = trace;
            signals.sort_by(|a, b| a.0.cmp(&b.0));
            signals.dedup_by(|a, b| a.0 == b.0);
            evidence.sort();
            evidence.dedup();
            ConditionOutcome {
                text: condition.to_string(),
                held,
                signals,
                evidence,
            }
        })
        .collect();
    (outcomes.iter().all(|o| o.held), outcomes)
}

/// Whether the rule holds. Keeps no evidence, allocates nothing and stops at the first
/// branch that decides: this runs for every segment and every patient.
pub fn holds(rule: &Expr, ctx: &Context<'_>) -> bool {
    eval(rule, ctx, &mut None)
}

fn eval(expr: &Expr, ctx: &Context<'_>, trace: &mut Option<&mut Trace>) -> bool {
    match expr {
        // With a trace every branch is evaluated (no short circuit), so that explanations
        // show all evidence; without one the first deciding branch ends it.
        Expr::Or(items) => {
            if trace.is_none() {
                return items.iter().any(|e| eval(e, ctx, trace));
            }
            let results: Vec<bool> = items.iter().map(|e| eval(e, ctx, trace)).collect();
            results.contains(&true)
        }
        Expr::And(items) => {
            if trace.is_none() {
                return items.iter().all(|e| eval(e, ctx, trace));
            }
            let results: Vec<bool> = items.iter().map(|e| eval(e, ctx, trace)).collect();
            !results.contains(&false)
        }
        Expr::Not(inner, _) => !eval(inner, ctx, trace),
        Expr::Literal(value, _) => *value,
        Expr::Flag { name, .. } => {
            let value = ctx.signals.get(name);
            if let Some(trace) = trace {
                trace.signals.push((name.clone(), value.clone()));
            }
            value == &SignalValue::Bool(true)
        }
        Expr::Exists { query, .. } => match trace {
            Some(trace) => {
                let found = matches(query, ctx);
                let any = !found.is_empty();
                trace.evidence.extend(found);
                any
            }
            None => {
                let mut any = false;
                scan(query, ctx, &mut |_| {
                    any = true;
                    ControlFlow::Break(())
                });
                any
            }
        },
        Expr::Compare {
            left, op, right, ..
        } => {
            let l = operand(left, ctx, trace);
            let r = operand(right, ctx, trace);
            compare(&l, *op, &r)
        }
        Expr::InList {
            operand: o,
            negated,
            items,
            ..
        } => {
            let value = operand(o, ctx, trace);
            if matches!(value, Value::Signal(SignalValue::Missing)) {
                return false;
            }
            let found = items
                .iter()
                .any(|item| compare(&value, CmpOp::Eq, &Value::Literal(item)));
            found != *negated
        }
    }
}

/// An operand's value, borrowed where it can be (signals and literals), so comparing
/// allocates nothing.
#[derive(Debug, PartialEq)]
enum Value<'a> {
    Signal(&'a SignalValue),
    Literal(&'a Literal),
    Count(usize),
}

fn operand<'a>(o: &'a Operand, ctx: &Context<'a>, trace: &mut Option<&mut Trace>) -> Value<'a> {
    match o {
        Operand::Signal { name, .. } => {
            let value = ctx.signals.get(name);
            if let Some(trace) = trace {
                trace.signals.push((name.clone(), value.clone()));
            }
            Value::Signal(value)
        }
        Operand::Literal(l, _) => Value::Literal(l),
        Operand::Count { query, .. } => match trace {
            Some(trace) => {
                let found = matches(query, ctx);
                let n = found.len();
                trace.evidence.extend(found);
                Value::Count(n)
            }
            None => {
                let mut n = 0;
                scan(query, ctx, &mut |_| {
                    n += 1;
                    ControlFlow::Continue(())
                });
                Value::Count(n)
            }
        },
    }
}

/// A value as a comparable scalar, borrowing text.
enum Scalar<'a> {
    Number(f64),
    Text(&'a str),
    Bool(bool),
    Date(NaiveDate),
    Missing,
}

impl<'a> Value<'a> {
    fn scalar(&self) -> Scalar<'a> {
        match *self {
            Value::Count(n) => Scalar::Number(n as f64),
            Value::Literal(Literal::Number(n)) => Scalar::Number(*n),
            Value::Literal(Literal::Text(t)) => Scalar::Text(t),
            Value::Literal(Literal::Bool(b)) => Scalar::Bool(*b),
            Value::Signal(SignalValue::Number(n)) => Scalar::Number(*n),
            Value::Signal(SignalValue::Text(t)) => Scalar::Text(t),
            Value::Signal(SignalValue::Bool(b)) => Scalar::Bool(*b),
            Value::Signal(SignalValue::Date(d)) => Scalar::Date(*d),
            Value::Signal(SignalValue::Missing) => Scalar::Missing,
        }
    }
}

/// Any comparison with a missing value is false (so `not (x == 1)` holds for a missing x).
fn compare(l: &Value<'_>, op: CmpOp, r: &Value<'_>) -> bool {
    use std::cmp::Ordering;
    let ordering = match (l.scalar(), r.scalar()) {
        (Scalar::Number(a), Scalar::Number(b)) => a.partial_cmp(&b),
        (Scalar::Text(a), Scalar::Text(b)) => Some(a.cmp(b)),
        (Scalar::Bool(a), Scalar::Bool(b)) => Some(a.cmp(&b)),
        (Scalar::Date(a), Scalar::Date(b)) => Some(a.cmp(&b)),
        // The checker allows a date signal against "YYYY-MM-DD" text.
        (Scalar::Date(a), Scalar::Text(t)) => crate::dates::fhir_date(t).map(|b| a.cmp(&b)),
        (Scalar::Text(t), Scalar::Date(b)) => crate::dates::fhir_date(t).map(|a| a.cmp(&b)),
        _ => None,
    };
    let Some(ordering) = ordering else {
        return false;
    };
    match op {
        CmpOp::Eq => ordering == Ordering::Equal,
        CmpOp::Ne => ordering != Ordering::Equal,
        CmpOp::Lt => ordering == Ordering::Less,
        CmpOp::Le => ordering != Ordering::Greater,
        CmpOp::Gt => ordering == Ordering::Greater,
        CmpOp::Ge => ordering != Ordering::Less,
    }
}

fn describe(coding: &Coding) -> String {
    use crate::codes::System;
    let system = match &coding.system {
        System::Snomed => "SNOMED",
        System::Loinc => "LOINC",
        System::Cpt => "CPT",
        System::Hcpcs => "HCPCS",
        System::Icd10 => "ICD-10",
        System::RxNorm => "RxNorm",
        System::Other(uri) => uri.as_str(),
    };
    format!("{system} {}", coding.code)
}

/// The code a fact matched by, borrowed from the fact.
enum MatchedCode<'a> {
    Coding(&'a Coding),
    Class(&'a str),
    Modality(&'a str),
}

impl MatchedCode<'_> {
    fn describe(&self) -> String {
        match self {
            MatchedCode::Coding(c) => describe(c),
            MatchedCode::Class(c) => format!("class {c}"),
            MatchedCode::Modality(m) => format!("modality {m}"),
        }
    }
}

/// A fact a query found, borrowed from the patient's facts.
struct Hit<'a> {
    resource_type: &'static str,
    id: &'a crate::facts::ResourceId,
    code: MatchedCode<'a>,
    date: Option<NaiveDate>,
}

/// The facts a query finds as of D: dated on or before D (anything later has not happened
/// yet) and, with a window, dated inside it.
pub fn matches(query: &FactQuery, ctx: &Context<'_>) -> Vec<Evidence> {
    let mut found = Vec::new();
    scan(query, ctx, &mut |hit| {
        found.push(Evidence {
            resource_type: hit.resource_type,
            id: hit.id.to_string(),
            code: hit.code.describe(),
            date: hit.date,
        });
        ControlFlow::Continue(())
    });
    found
}

/// Calls `on` for each fact the query finds (see [`matches`]) until it breaks.
fn scan<'a>(query: &FactQuery, ctx: &Context<'a>, on: &mut dyn FnMut(Hit<'a>) -> ControlFlow<()>) {
    let Some(vs) = ctx.value_sets.get(&query.value_set) else {
        return;
    };
    let d = ctx.as_of;
    let window = query.window.map(|w| match w {
        careloop_rules::Window::Days(n) => Window::days(d, n),
        careloop_rules::Window::Months(n) => Window::months(d, n),
    });
    let in_time = |date: Option<chrono::NaiveDate>| {
        date.is_some_and(|dt| dt <= d && window.is_none_or(|w| w.contains(dt)))
    };
    fn first_match<'c>(codes: &'c [Coding], vs: &ValueSet) -> Option<MatchedCode<'c>> {
        codes
            .iter()
            .find(|c| vs.contains(c))
            .map(MatchedCode::Coding)
    }
    let f: &'a PatientFacts = ctx.facts;
    macro_rules! hit {
        ($resource_type:expr, $id:expr, $code:expr, $date:expr) => {
            if on(Hit {
                resource_type: $resource_type,
                id: $id,
                code: $code,
                date: $date,
            })
            .is_break()
            {
                return;
            }
        };
    }
    for kind in &query.kinds {
        match kind {
            FactKind::Condition => {
                for c in &f.conditions {
                    let Some(code) = first_match(&c.codes, vs) else {
                        continue;
                    };
                    let timely = if query.active {
                        c.active_at(d) && (window.is_none() || in_time(c.onset))
                    } else {
                        in_time(c.onset)
                    };
                    if timely {
                        hit!("Condition", &c.id, code, c.onset);
                    }
                }
            }
            FactKind::Observation
            | FactKind::Report
            | FactKind::Procedure
            | FactKind::Immunization => {
                let (list, resource_type) = match kind {
                    FactKind::Observation => (&f.observations, "Observation"),
                    FactKind::Report => (&f.reports, "DiagnosticReport"),
                    FactKind::Procedure => (&f.procedures, "Procedure"),
                    _ => (&f.immunizations, "Immunization"),
                };
                for fact in list {
                    if !in_time(fact.date) {
                        continue;
                    }
                    if let Some(code) = first_match(&fact.codes, vs) {
                        hit!(resource_type, &fact.id, code, fact.date);
                    }
                }
            }
            FactKind::Encounter => {
                for e in &f.encounters {
                    let code = match query.field {
                        CodeField::Class => e
                            .class
                            .as_deref()
                            .filter(|c| vs.contains_bare(c))
                            .map(MatchedCode::Class),
                        CodeField::Reason => first_match(&e.reasons, vs),
                        _ => first_match(&e.types, vs),
                    };
                    let Some(code) = code else { continue };
                    // A discharge needs an end date; otherwise the start places the encounter
                    // (and it must have started by D).
                    let (timely, date) = if query.discharged {
                        (in_time(e.end) && e.start.is_none_or(|s| s <= d), e.end)
                    } else {
                        (in_time(e.start), e.start)
                    };
                    if timely {
                        hit!("Encounter", &e.id, code, date);
                    }
                }
            }
            FactKind::Medication => {
                for m in &f.medications {
                    let Some(code) = first_match(&m.codes, vs) else {
                        continue;
                    };
                    let timely = if query.active {
                        m.active_at(d) && (window.is_none() || in_time(m.authored))
                    } else {
                        in_time(m.authored)
                    };
                    if timely {
                        hit!("MedicationRequest", &m.id, code, m.authored);
                    }
                }
            }
            FactKind::Imaging => {
                for i in &f.imaging {
                    if !in_time(i.date) {
                        continue;
                    }
                    let by_code = if query.field == CodeField::Modality {
                        None
                    } else {
                        first_match(&i.procedure_codes, vs)
                    };
                    let code = by_code.or_else(|| {
                        i.modalities
                            .iter()
                            .find(|m| vs.contains_bare(m))
                            .map(|m| MatchedCode::Modality(m))
                    });
                    if let Some(code) = code {
                        hit!("ImagingStudy", &i.id, code, i.date);
                    }
                }
            }
            FactKind::Appointment => {
                for a in &f.appointments {
                    if !in_time(a.date) {
                        continue;
                    }
                    if let Some(code) = first_match(&a.service_types, vs) {
                        hit!("Appointment", &a.id, code, a.date);
                    }
                }
            }
            FactKind::Questionnaire => {
                for a in &f.answers {
                    if !in_time(a.date) {
                        continue;
                    }
                    if let Some(code) = first_match(&a.codes, vs) {
                        hit!("QuestionnaireResponse", &a.id, code, a.date);
                    }
                }
            }
        }
    }
}

/// The fact queries a rule requires to find nothing (`not exists(…)` among its top-level
/// conditions): what closes a care gap. Empty for a rule that is not a care gap.
pub fn closing_queries(rule: &Expr) -> Vec<&FactQuery> {
    rule.conjuncts()
        .into_iter()
        .filter_map(|c| match c {
            Expr::Not(inner, _) => match inner.as_ref() {
                Expr::Exists { query, .. } => Some(query),
                _ => None,
            },
            _ => None,
        })
        .collect()
}

/// Dates of the facts that would close the gap (any of `queries`, their time windows
/// ignored), dated on or before `as_of`, sorted.
pub fn closing_evidence(
    queries: &[&FactQuery],
    facts: &PatientFacts,
    value_sets: &ValueSets,
    as_of: NaiveDate,
) -> Vec<NaiveDate> {
    let signals = Signals::none(as_of);
    let ctx = Context {
        facts,
        signals: &signals,
        value_sets,
        as_of,
    };
    let mut dates: Vec<NaiveDate> = queries
        .iter()
        .flat_map(|q| {
            let unwindowed = FactQuery {
                window: None,
                ..(*q).clone()
            };
            matches(&unwindowed, &ctx)
        })
        .filter_map(|e| e.date)
        .collect();
    dates.sort();
    dates.dedup();
    dates
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_compare_with_date_text_and_missing_values_compare_false() {
        let date = SignalValue::Date(NaiveDate::from_ymd_opt(2024, 1, 15).unwrap());
        let date = Value::Signal(&date);
        let text = |t: &str| Literal::Text(t.to_owned());
        let (jan31, dec31, junk) = (text("2024-01-31"), text("2023-12-31"), text("not a date"));
        assert!(compare(&date, CmpOp::Lt, &Value::Literal(&jan31)));
        assert!(compare(&Value::Literal(&dec31), CmpOp::Lt, &date));
        assert!(!compare(&date, CmpOp::Eq, &Value::Literal(&junk)));
        for op in [CmpOp::Eq, CmpOp::Ne, CmpOp::Lt, CmpOp::Ge] {
            assert!(
                !compare(
                    &Value::Signal(&SignalValue::Missing),
                    op,
                    &Value::Literal(&Literal::Number(1.0))
                ),
                "{op:?}"
            );
        }
    }
}
