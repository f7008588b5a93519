//! Evaluating a catalogue of segments over a panel as of D: members, priority, and the split
//! of members into worklist (capacity), overflow and held back (dormant first, cooldown).
//! Pure: facts, last contacts and D come in; nothing is read from a clock or a store.

use std::collections::HashMap;

use chrono::NaiveDate;
use rayon::prelude::*;

use crate::codes::ValueSets;
use crate::definition::Segment;
use crate::eval::{self, ConditionOutcome, Context};
use crate::facts::PatientFacts;
use crate::signals::{self, SignalValue, Signals};

/// Segment definitions and value sets that go together, with a version naming their content.
#[derive(Clone, Debug)]
pub struct Catalog {
    pub value_sets: ValueSets,
    /// By id.
    pub segments: Vec<Segment>,
    /// `sha256:` and the first 16 hex digits of a digest of every definition and value set.
    pub version: String,
}

/// A member's priority, with the points that make it up.
#[derive(Clone, Debug, PartialEq)]
pub struct Priority {
    pub total: i32,
    pub points: Vec<(i32, String)>,
}

/// One segment's cohort as of D. Every list is sorted by patient id.
#[derive(Clone, Debug, PartialEq)]
pub struct Cohort {
    pub segment_id: String,
    /// Exactly who the inclusion rule selects (among people alive at D).
    pub members: Vec<String>,
    /// The top `weekly_capacity` of the members not held back, by priority (then id).
    pub worklist: Vec<String>,
    /// Members not held back who do not fit this week's capacity.
    pub overflow: Vec<String>,
    /// Members held back, with the reason.
    pub held_back: Vec<(String, String)>,
    pub priority: HashMap<String, Priority>,
}

/// Why someone is (or is not) in a segment.
#[derive(Clone, Debug, PartialEq)]
pub struct Explanation {
    pub segment_id: String,
    pub member: bool,
    pub alive: bool,
    pub rule: String,
    pub conditions: Vec<ConditionOutcome>,
    /// For a non-member, the first condition that failed (or that the person is not alive).
    pub why_not: Option<String>,
    pub priority: Option<Priority>,
    /// Set when a member is held back (dormant first, cooldown).
    pub held_back: Option<String>,
}

/// Patients per unit of parallel work: small enough for rayon to balance the panel over the
/// cores (a chunk of the sick costs more than one of the healthy), large enough that a task's
/// overhead is lost in its evaluation.
const CHUNK: usize = 512;

/// Evaluates every segment for every patient, on every core: rayon evaluates the panel in
/// contiguous chunks and returns them in panel order, then joins and splits the segments'
/// cohorts in parallel, in catalogue order; the result is the same as one pass.
pub fn run(
    catalog: &Catalog,
    panel: &[PatientFacts],
    last_contact: &HashMap<String, NaiveDate>,
    d: NaiveDate,
) -> Vec<Cohort> {
    run_reporting(catalog, panel, last_contact, d, &|_| {})
}

/// [`run`], telling `evaluated` how many people have been evaluated so far after each chunk
/// (from any thread of the pool; the last call says the whole panel).
pub fn run_reporting(
    catalog: &Catalog,
    panel: &[PatientFacts],
    last_contact: &HashMap<String, NaiveDate>,
    d: NaiveDate,
    evaluated: &(dyn Fn(u64) + Sync),
) -> Vec<Cohort> {
    let done = std::sync::atomic::AtomicU64::new(0);
    let chunk_done = |n: usize| {
        let now = done.fetch_add(n as u64, std::sync::atomic::Ordering::Relaxed) + n as u64;
        evaluated(now);
    };
    // One chunk (one person's recompute, a small panel) is evaluated here, with no hand-off
    // to the pool. A worker's panic is passed on as it was by rayon (evaluation has no
    // panicking path: the lints of lib.rs and the property tests keep it so).
    let small = panel.len() <= CHUNK;
    let parts: Vec<ChunkResult> = if small {
        let part = evaluate_chunk(catalog, panel, 0, d);
        chunk_done(panel.len());
        vec![part]
    } else {
        // `collect` keeps the chunks in panel order.
        panel
            .par_chunks(CHUNK)
            .enumerate()
            .map(|(i, part)| {
                let result = evaluate_chunk(catalog, part, i * CHUNK, d);
                chunk_done(part.len());
                result
            })
            .collect()
    };
    // Then each segment's members are joined in panel order and split (a segment per task).
    let cohort = |(s, segment): (usize, &Segment)| {
        let mut members = Vec::new();
        let mut priority = HashMap::new();
        for part in &parts {
            for (index, points) in &part.members[s] {
                let id = panel_id(panel, part.offset + index);
                members.push((id, &part.signals[*index]));
                priority.insert(id.to_owned(), points.clone());
            }
        }
        split(segment, members, priority, last_contact, d)
    };
    if small {
        catalog.segments.iter().enumerate().map(cohort).collect()
    } else {
        catalog
            .segments
            .par_iter()
            .enumerate()
            .map(cohort)
            .collect()
    }
}

fn panel_id(panel: &[PatientFacts], index: usize) -> &str {
    panel[index].id.as_str()
}

/// One chunk's signals and, per segment, its members (index in the chunk) with priority.
struct ChunkResult {
    offset: usize,
    signals: Vec<Signals>,
    members: Vec<Vec<(usize, Priority)>>,
}

fn evaluate_chunk(
    catalog: &Catalog,
    part: &[PatientFacts],
    offset: usize,
    d: NaiveDate,
) -> ChunkResult {
    let signals: Vec<Signals> = part
        .iter()
        .map(|p| signals::derive(p, &catalog.value_sets, d))
        .collect();
    let members = catalog
        .segments
        .iter()
        .map(|segment| {
            let mut members = Vec::new();
            for (index, (facts, signals)) in part.iter().zip(&signals).enumerate() {
                if !signals.alive() {
                    continue;
                }
                let ctx = Context {
                    facts,
                    signals,
                    value_sets: &catalog.value_sets,
                    as_of: d,
                };
                if eval::holds(&segment.rule, &ctx) {
                    members.push((index, score(segment, &ctx)));
                }
            }
            members
        })
        .collect();
    ChunkResult {
        offset,
        signals,
        members,
    }
}

fn score(segment: &Segment, ctx: &Context<'_>) -> Priority {
    let points: Vec<(i32, String)> = segment
        .priority
        .iter()
        .filter(|(when, _)| eval::holds(when, ctx))
        .map(|(_, p)| (p.points, p.reason.clone()))
        .collect();
    Priority {
        total: points
            .iter()
            .fold(0i32, |total, p| total.saturating_add(p.0)),
        points,
    }
}

/// Why a member is held back, if they are.
fn hold_back_reason(
    segment: &Segment,
    signals: &Signals,
    last_contact: Option<NaiveDate>,
    d: NaiveDate,
) -> Option<String> {
    let definition = &segment.definition;
    if definition.hold_back_dormant
        && signals.get("engagement_tier") == &SignalValue::Text("dormant".into())
    {
        return Some("dormant: re-engagement comes first (dormant_reengagement)".to_owned());
    }
    let contacted = last_contact
        .filter(|c| *c <= d && (d - *c).num_days() < definition.cooldown_days as i64)?;
    Some(format!(
        "contacted on {contacted}, within the {}-day re-contact cooldown",
        definition.cooldown_days
    ))
}

fn split(
    segment: &Segment,
    members: Vec<(&str, &Signals)>,
    priority: HashMap<String, Priority>,
    last_contact: &HashMap<String, NaiveDate>,
    d: NaiveDate,
) -> Cohort {
    let mut held_back = Vec::new();
    let mut candidates = Vec::new();
    for (id, signals) in &members {
        match hold_back_reason(segment, signals, last_contact.get(*id).copied(), d) {
            Some(reason) => held_back.push((id.to_string(), reason)),
            None => candidates.push(*id),
        }
    }
    let ranked: Vec<(&str, i32)> = candidates
        .iter()
        .map(|id| (*id, priority.get(*id).map_or(0, |p| p.total)))
        .collect();
    let (worklist, overflow) = place(segment.definition.weekly_capacity, ranked);
    let mut worklist: Vec<String> = worklist.into_iter().map(str::to_owned).collect();
    let mut overflow: Vec<String> = overflow.into_iter().map(str::to_owned).collect();
    let mut members: Vec<String> = members.iter().map(|(id, _)| id.to_string()).collect();
    members.sort();
    worklist.sort();
    overflow.sort();
    held_back.sort();
    Cohort {
        segment_id: segment.definition.id.clone(),
        members,
        worklist,
        overflow,
        held_back,
        priority,
    }
}

/// Splits the members who are not held back into the worklist (the `capacity` with the
/// highest priority, ties by id) and the overflow: the one rule for a segment's capacity,
/// used by every run and by the live lists when a few people change.
pub fn place(capacity: u32, mut candidates: Vec<(&str, i32)>) -> (Vec<&str>, Vec<&str>) {
    candidates.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let capacity = (capacity as usize).min(candidates.len());
    let worklist = candidates[..capacity].iter().map(|(id, _)| *id).collect();
    let overflow = candidates[capacity..].iter().map(|(id, _)| *id).collect();
    (worklist, overflow)
}

/// Explains one patient's place in one segment.
pub fn explain(
    catalog: &Catalog,
    segment: &Segment,
    facts: &PatientFacts,
    last_contact: Option<NaiveDate>,
    d: NaiveDate,
) -> Explanation {
    let signals = signals::derive(facts, &catalog.value_sets, d);
    let ctx = Context {
        facts,
        signals: &signals,
        value_sets: &catalog.value_sets,
        as_of: d,
    };
    let (held, conditions) = eval::evaluate(&segment.rule, &ctx);
    let alive = signals.alive();
    let member = alive && held;
    let why_not = if member {
        None
    } else if !alive {
        Some("not alive at the as-of date (or born after it): every cohort holds only people alive at D".to_owned())
    } else {
        conditions
            .iter()
            .find(|c| !c.held)
            .map(|c| format!("failed: {}", c.text))
    };
    Explanation {
        segment_id: segment.definition.id.clone(),
        member,
        alive,
        rule: segment.rule.to_string(),
        priority: member.then(|| score(segment, &ctx)),
        held_back: if member {
            hold_back_reason(segment, &signals, last_contact, d)
        } else {
            None
        },
        conditions,
        why_not,
    }
}

impl Explanation {
    /// A readable rendering, the same as `careloop segment explain` prints: used by snapshot
    /// tests, so a change in what explanations say shows up in review. (Writing to a `String`
    /// cannot fail, hence the ignored results.)
    pub fn render(&self) -> String {
        use std::fmt::Write;
        let mut out = String::new();
        let verdict = if self.member {
            "member"
        } else {
            "not a member"
        };
        let _ = writeln!(out, "{}: {verdict}", self.segment_id);
        for c in &self.conditions {
            let _ = writeln!(
                out,
                "  [{}] {}",
                if c.held { "x" } else { " " },
                c.text.replace('\n', " ")
            );
            for (name, value) in &c.signals {
                let _ = writeln!(out, "      {name} = {value:?}");
            }
            for e in &c.evidence {
                let date = e.date.map_or("no date".to_owned(), |d| d.to_string());
                let _ = writeln!(out, "      {} {} {} {date}", e.resource_type, e.id, e.code);
            }
        }
        if let Some(why) = &self.why_not {
            let _ = writeln!(out, "  why not: {why}");
        }
        if let Some(p) = &self.priority {
            let _ = writeln!(out, "  priority {}", p.total);
            for (points, reason) in &p.points {
                let _ = writeln!(out, "      +{points} {reason}");
            }
        }
        if let Some(held) = &self.held_back {
            let _ = writeln!(out, "  held back: {held}");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{builtin_catalog, SharedFacts};
    use serde_json::json;

    /// Person `i` of a varied panel: diabetics with and without a recent HbA1c, women and men
    /// of many ages, some dead before D.
    fn person(i: usize) -> PatientFacts {
        let id = format!("p{i:05}");
        let year = 1930 + (i * 7) % 70;
        let mut patient = json!({"resourceType": "Patient", "id": id,
            "birthDate": format!("{year}-0{}-1{}", 1 + i % 9, i % 10),
            "gender": if i.is_multiple_of(3) { "male" } else { "female" }});
        if i.is_multiple_of(29) {
            patient["deceasedDateTime"] = json!("2020-01-01");
        }
        let mut resources = vec![patient];
        if i % 4 != 1 {
            resources.push(
                json!({"resourceType": "Condition", "id": format!("{id}-dm"),
                "onsetDateTime": "2012-02-03",
                "code": {"coding": [{"system": "http://snomed.info/sct", "code": "44054006"}]}}),
            );
        }
        let visit = format!("20{}-0{}-15", 18 + i % 4, 1 + i % 9);
        resources.push(
            json!({"resourceType": "Encounter", "id": format!("{id}-visit"),
            "status": "finished", "class": {"code": if i.is_multiple_of(11) { "EMER" } else { "AMB" }},
            "period": {"start": visit, "end": visit}}),
        );
        if i % 5 < 2 {
            resources.push(
                json!({"resourceType": "Observation", "id": format!("{id}-a1c"),
                "status": "final", "effectiveDateTime": format!("2020-{:02}-10", 1 + i % 12),
                "code": {"coding": [{"system": "http://loinc.org", "code": "4548-4"}]},
                "valueQuantity": {"value": 6.0 + (i % 7) as f64, "unit": "%"}}),
            );
        }
        let list: Vec<(String, String)> = resources
            .iter()
            .map(|r| {
                (
                    r["resourceType"].as_str().unwrap().to_owned(),
                    r.to_string(),
                )
            })
            .collect();
        PatientFacts::from_resources(&id, &list, &SharedFacts::default())
    }

    /// The panel cut into rayon's chunks gives exactly what one pass over it in order gives,
    /// whatever the number of threads.
    #[test]
    fn parallel_runs_equal_one_sequential_pass() {
        let catalog = builtin_catalog().unwrap();
        let d = NaiveDate::from_ymd_opt(2021, 3, 31).unwrap();
        let panel: Vec<PatientFacts> = (0..3 * CHUNK + 77).map(person).collect();
        let last_contact: HashMap<String, NaiveDate> = (0..panel.len())
            .step_by(13)
            .map(|i| (format!("p{i:05}"), d - chrono::Days::new((i % 40) as u64)))
            .collect();

        // The reference: the whole panel as one chunk, on this thread.
        let whole = evaluate_chunk(&catalog, &panel, 0, d);
        let expected: Vec<Cohort> = catalog
            .segments
            .iter()
            .enumerate()
            .map(|(s, segment)| {
                let members = whole.members[s]
                    .iter()
                    .map(|(i, _)| (panel[*i].id.as_str(), &whole.signals[*i]))
                    .collect();
                let priority = whole.members[s]
                    .iter()
                    .map(|(i, p)| (panel[*i].id.clone(), p.clone()))
                    .collect();
                split(segment, members, priority, &last_contact, d)
            })
            .collect();
        // Members come from every chunk, so the join of the chunks is exercised.
        let diabetes = expected
            .iter()
            .find(|c| c.segment_id == "diabetes_hba1c_gap")
            .unwrap();
        assert!(diabetes.members.len() > CHUNK, "{}", diabetes.members.len());
        assert!(diabetes.members.last().unwrap() > &format!("p{:05}", 3 * CHUNK));
        assert!(expected.iter().any(|c| !c.held_back.is_empty()));

        for threads in [1, 2, 3, 7] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            let cohorts = pool.install(|| run(&catalog, &panel, &last_contact, d));
            assert_eq!(cohorts, expected, "{threads} threads");
        }
    }
}
