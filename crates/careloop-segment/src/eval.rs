//! Evaluates a parsed rule for one patient as of D, keeping for each top-level condition
//! whether it held and the evidence it rests on (signals with their values, facts with their
//! type, code and date): the raw material of explanations.

use careloop_rules::{CmpOp, CodeField, Expr, FactKind, FactQuery, Literal, Operand};
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

/// Evaluates `rule`; the outcome of every top-level condition is returned (all of them, so
/// "why not" can name the first that failed and explanations can show every one).
pub fn evaluate(rule: &Expr, ctx: &Context<'_>) -> (bool, Vec<ConditionOutcome>) {
    let outcomes: Vec<ConditionOutcome> = rule
        .conjuncts()
        .into_iter()
        .map(|condition| {
            let mut signals = Vec::new();
            let mut evidence = Vec::new();
            let held = eval(condition, ctx, &mut signals, &mut evidence);
            signals.sort_by(|a: &(String, SignalValue), b| a.0.cmp(&b.0));
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

/// Whether the rule holds, without keeping evidence.
pub fn holds(rule: &Expr, ctx: &Context<'_>) -> bool {
    eval(rule, ctx, &mut Vec::new(), &mut Vec::new())
}

fn eval(
    expr: &Expr,
    ctx: &Context<'_>,
    signals: &mut Vec<(String, SignalValue)>,
    evidence: &mut Vec<Evidence>,
) -> bool {
    match expr {
        // Every branch is evaluated (no short circuit) so that explanations show all evidence.
        Expr::Or(items) => {
            let results: Vec<bool> = items
                .iter()
                .map(|e| eval(e, ctx, signals, evidence))
                .collect();
            results.contains(&true)
        }
        Expr::And(items) => {
            let results: Vec<bool> = items
                .iter()
                .map(|e| eval(e, ctx, signals, evidence))
                .collect();
            !results.contains(&false)
        }
        Expr::Not(inner, _) => !eval(inner, ctx, signals, evidence),
        Expr::Literal(value, _) => *value,
        Expr::Flag { name, .. } => {
            let value = ctx.signals.get(name).clone();
            let held = value == SignalValue::Bool(true);
            signals.push((name.clone(), value));
            held
        }
        Expr::Exists { query, .. } => {
            let found = matches(query, ctx);
            let any = !found.is_empty();
            evidence.extend(found);
            any
        }
        Expr::Compare {
            left, op, right, ..
        } => {
            let l = operand(left, ctx, signals, evidence);
            let r = operand(right, ctx, signals, evidence);
            compare(&l, *op, &r)
        }
        Expr::InList {
            operand: o,
            negated,
            items,
            ..
        } => {
            let value = operand(o, ctx, signals, evidence);
            if value == SignalValue::Missing {
                return false;
            }
            let found = items
                .iter()
                .any(|item| compare(&value, CmpOp::Eq, &literal(item)));
            found != *negated
        }
    }
}

fn literal(l: &Literal) -> SignalValue {
    match l {
        Literal::Number(n) => SignalValue::Number(*n),
        Literal::Text(t) => SignalValue::Text(t.clone()),
        Literal::Bool(b) => SignalValue::Bool(*b),
    }
}

fn operand(
    o: &Operand,
    ctx: &Context<'_>,
    signals: &mut Vec<(String, SignalValue)>,
    evidence: &mut Vec<Evidence>,
) -> SignalValue {
    match o {
        Operand::Signal { name, .. } => {
            let value = ctx.signals.get(name).clone();
            signals.push((name.clone(), value.clone()));
            value
        }
        Operand::Literal(l, _) => literal(l),
        Operand::Count { query, .. } => {
            let found = matches(query, ctx);
            let n = found.len();
            evidence.extend(found);
            SignalValue::Number(n as f64)
        }
    }
}

/// Any comparison with a missing value is false (so `not (x == 1)` holds for a missing x).
fn compare(l: &SignalValue, op: CmpOp, r: &SignalValue) -> bool {
    use std::cmp::Ordering;
    let ordering = match (l, r) {
        (SignalValue::Number(a), SignalValue::Number(b)) => a.partial_cmp(b),
        (SignalValue::Text(a), SignalValue::Text(b)) => Some(a.cmp(b)),
        (SignalValue::Bool(a), SignalValue::Bool(b)) => Some(a.cmp(b)),
        (SignalValue::Date(a), SignalValue::Date(b)) => Some(a.cmp(b)),
        // The checker allows a date signal against "YYYY-MM-DD" text.
        (SignalValue::Date(a), SignalValue::Text(t)) => {
            crate::dates::fhir_date(t).map(|b| a.cmp(&b))
        }
        (SignalValue::Text(t), SignalValue::Date(b)) => {
            crate::dates::fhir_date(t).map(|a| a.cmp(b))
        }
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

/// The facts a query finds as of D: dated on or before D (anything later has not happened
/// yet) and, with a window, dated inside it.
pub fn matches(query: &FactQuery, ctx: &Context<'_>) -> Vec<Evidence> {
    let Some(vs) = ctx.value_sets.get(&query.value_set) else {
        return Vec::new();
    };
    let d = ctx.as_of;
    let window = query.window.map(|w| match w {
        careloop_rules::Window::Days(n) => Window::days(d, n),
        careloop_rules::Window::Months(n) => Window::months(d, n),
    });
    let in_time = |date: Option<chrono::NaiveDate>| {
        date.is_some_and(|dt| dt <= d && window.is_none_or(|w| w.contains(dt)))
    };
    let first_match =
        |codes: &[Coding], vs: &ValueSet| codes.iter().find(|c| vs.contains(c)).map(describe);
    let f = ctx.facts;
    let mut found = Vec::new();
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
                        found.push(Evidence {
                            resource_type: "Condition",
                            id: c.id.clone(),
                            code,
                            date: c.onset,
                        });
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
                    if let Some(code) = first_match(&fact.codes, vs).filter(|_| in_time(fact.date))
                    {
                        found.push(Evidence {
                            resource_type,
                            id: fact.id.clone(),
                            code,
                            date: fact.date,
                        });
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
                            .map(|c| format!("class {c}")),
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
                        found.push(Evidence {
                            resource_type: "Encounter",
                            id: e.id.clone(),
                            code,
                            date,
                        });
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
                        found.push(Evidence {
                            resource_type: "MedicationRequest",
                            id: m.id.clone(),
                            code,
                            date: m.authored,
                        });
                    }
                }
            }
            FactKind::Imaging => {
                for i in &f.imaging {
                    let by_code = if query.field == CodeField::Modality {
                        None
                    } else {
                        first_match(&i.procedure_codes, vs)
                    };
                    let code = by_code.or_else(|| {
                        i.modalities
                            .iter()
                            .find(|m| vs.contains_bare(m))
                            .map(|m| format!("modality {m}"))
                    });
                    if let Some(code) = code.filter(|_| in_time(i.date)) {
                        found.push(Evidence {
                            resource_type: "ImagingStudy",
                            id: i.id.clone(),
                            code,
                            date: i.date,
                        });
                    }
                }
            }
            FactKind::Appointment => {
                for a in &f.appointments {
                    if let Some(code) =
                        first_match(&a.service_types, vs).filter(|_| in_time(a.date))
                    {
                        found.push(Evidence {
                            resource_type: "Appointment",
                            id: a.id.clone(),
                            code,
                            date: a.date,
                        });
                    }
                }
            }
            FactKind::Questionnaire => {
                for a in &f.answers {
                    if let Some(code) = first_match(&a.codes, vs).filter(|_| in_time(a.date)) {
                        found.push(Evidence {
                            resource_type: "QuestionnaireResponse",
                            id: a.id.clone(),
                            code,
                            date: a.date,
                        });
                    }
                }
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_compare_with_date_text_and_missing_values_compare_false() {
        let date = SignalValue::Date(NaiveDate::from_ymd_opt(2024, 1, 15).unwrap());
        assert!(compare(
            &date,
            CmpOp::Lt,
            &SignalValue::Text("2024-01-31".into())
        ));
        assert!(compare(
            &SignalValue::Text("2023-12-31".into()),
            CmpOp::Lt,
            &date
        ));
        assert!(!compare(
            &date,
            CmpOp::Eq,
            &SignalValue::Text("not a date".into())
        ));
        for op in [CmpOp::Eq, CmpOp::Ne, CmpOp::Lt, CmpOp::Ge] {
            assert!(
                !compare(&SignalValue::Missing, op, &SignalValue::Number(1.0)),
                "{op:?}"
            );
        }
    }
}
