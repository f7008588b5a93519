//! What the lists must look at, and the one evaluation of memberships: the people
//! evaluated against every segment in force as of a day, the capacity split redone from the
//! stored priorities (`engine::place`, the one rule), and each entry and exit recorded with
//! the evidence that caused it: for an entry, the conditions met with their facts; for an
//! exit, why (`gap_closed` with the fact that closed it, `died`, `left_panel`,
//! `no_longer_met` with the condition no longer met, `segment_withdrawn`).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use careloop_segment::eval::ConditionOutcome;
use careloop_segment::{engine, Catalog, PatientFacts};
use careloop_store::{ListState, ListUpdate, Membership, MembershipChange, Store};
use chrono::{DateTime, NaiveDate, Utc};

use crate::Result;

/// Every current membership: segment → person → membership.
pub type Memberships = BTreeMap<String, BTreeMap<String, Membership>>;

/// Every current membership in the store, by segment and person.
pub fn memberships(store: &Store) -> Result<Memberships> {
    let mut by_segment = Memberships::new();
    for m in store.memberships()? {
        by_segment
            .entry(m.segment_id.clone())
            .or_default()
            .insert(m.patient_id.clone(), m);
    }
    Ok(by_segment)
}

/// What the lists must look at, as of a day.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    pub today: NaiveDate,
    /// Everyone is evaluated: a new day, new definitions, asked for, or the baseline.
    pub full: bool,
    /// The first evaluation that finds anyone: its members are the backlog, recorded as they
    /// are, not as entries (no case opened for them, no alert on their old news), whether
    /// the store was just made or its panel just arrived.
    pub baseline: bool,
    /// Nothing new since the lists last looked: no panel to load.
    pub idle: bool,
    /// The caller's last event the lists took in before (people contacted after it are
    /// evaluated again).
    pub event_seq_before: i64,
    /// What the lists are current for once this evaluation is written.
    pub next: ListState,
}

/// What the lists must look at as of `at`: everyone on a new day (windows move: a
/// mammogram turns 27 months old tonight), with new definitions in force, the first time
/// or when asked (`everyone`); else only the people whose facts were written since
/// (`list_dirty`, kept by the fact store), and, when the caller's events moved past
/// `event_seq` (attempts: the re-contact cooldown), the people it names.
pub fn plan(
    store: &Store,
    catalog: &Catalog,
    at: DateTime<Utc>,
    event_seq: i64,
    everyone: bool,
) -> Result<Plan> {
    let today = at.date_naive();
    let day = today.to_string();
    let state = store.list_state()?;
    let full = everyone
        || state.as_of.as_deref() != Some(day.as_str())
        || state.definitions_version.as_deref() != Some(catalog.version.as_str());
    let idle = !full
        && event_seq == state.event_seq
        && store.stale_fact_count()? == 0
        && store.list_dirty_count()? == 0;
    let baseline = !idle
        && (state.as_of.is_none()
            || (store.membership_count()? == 0 && store.last_membership_seq()? == 0));
    Ok(Plan {
        today,
        full: full || baseline,
        baseline,
        idle,
        event_seq_before: state.event_seq,
        next: ListState {
            as_of: Some(day),
            definitions_version: Some(catalog.version.clone()),
            event_seq,
        },
    })
}

impl Plan {
    /// The people whose facts changed since the lists last looked: read after the facts
    /// were refreshed (a refresh lists who it derived again). Empty when idle or a baseline.
    pub fn dirty(&self, store: &Store) -> Result<BTreeSet<String>> {
        if self.idle || self.baseline {
            return Ok(BTreeSet::new());
        }
        Ok(store.list_dirty()?.into_iter().collect())
    }

    /// Whom to evaluate: `None` for everyone (a full evaluation); else the people whose
    /// facts changed (`dirty`) and those `contacted` since the caller's last event the lists
    /// took in (asked only when the lists are not idle: it may read the caller's log).
    pub fn people<E>(
        &self,
        dirty: &BTreeSet<String>,
        contacted: impl FnOnce() -> std::result::Result<BTreeSet<String>, E>,
    ) -> std::result::Result<Option<BTreeSet<String>>, E> {
        if self.full {
            return Ok(None);
        }
        let mut people = dirty.clone();
        if !self.idle {
            people.extend(contacted()?);
        }
        Ok(Some(people))
    }

    /// Whether an evaluation is due for `people` ([`Plan::people`]): always for everyone;
    /// else when someone is to be evaluated or the caller's events moved (a placement may
    /// follow from them).
    pub fn must_evaluate(&self, people: Option<&BTreeSet<String>>) -> bool {
        match people {
            None => true,
            Some(people) => {
                !self.idle && (!people.is_empty() || self.next.event_seq != self.event_seq_before)
            }
        }
    }
}

/// One evaluation's inputs.
#[derive(Clone, Copy, Debug)]
pub struct Evaluation<'a> {
    pub catalog: &'a Catalog,
    /// Everyone's facts, in id order.
    pub panel: &'a [PatientFacts],
    /// The people to evaluate (`None`: everyone).
    pub people: Option<&'a BTreeSet<String>>,
    /// Each person's last contact (the re-contact cooldown).
    pub contacts: &'a HashMap<String, NaiveDate>,
    pub today: NaiveDate,
    /// When the changes are seen.
    pub at: DateTime<Utc>,
    /// Members found are recorded as they are, not as entries.
    pub baseline: bool,
    /// The memberships held before.
    pub memberships: &'a Memberships,
}

/// How many people one evaluation looked at, and how many entries and exits it found.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub evaluated: u32,
    pub entered: u32,
    pub exited: u32,
}

/// Evaluates everyone (`people` = None) or those people, and works out the memberships,
/// placements and changes to write, with `state` as what the lists are then current for.
pub fn evaluate(input: Evaluation<'_>, state: ListState) -> (ListUpdate, Counts) {
    evaluate_reporting(input, state, &|_| {})
}

/// [`evaluate`], telling `evaluated` how many of the people have been evaluated so far.
pub fn evaluate_reporting(
    input: Evaluation<'_>,
    state: ListState,
    evaluated: &(dyn Fn(u64) + Sync),
) -> (ListUpdate, Counts) {
    let progress = evaluated;
    let Evaluation {
        catalog,
        panel,
        people,
        contacts,
        today,
        at,
        baseline,
        memberships,
    } = input;
    let subset: Vec<PatientFacts>;
    let evaluated: &[PatientFacts] = match people {
        None => panel,
        Some(people) => {
            subset = people
                .iter()
                .filter_map(|id| facts_of(panel, id).cloned())
                .collect();
            &subset
        }
    };
    let mut counts = Counts {
        evaluated: match people {
            None => panel.len() as u32,
            Some(people) => people.len() as u32,
        },
        ..Counts::default()
    };
    let cohorts = engine::run_reporting(catalog, evaluated, contacts, today, progress);
    let mut old: BTreeMap<&str, &BTreeMap<String, Membership>> = memberships
        .iter()
        .map(|(segment, members)| (segment.as_str(), members))
        .collect();
    let day = today.to_string();
    let at_text = at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let mut update = ListUpdate {
        state,
        evaluated: people
            .map(|p| p.iter().cloned().collect())
            .unwrap_or_default(),
        evaluated_everyone: people.is_none(),
        ..ListUpdate::default()
    };
    let record = |update: &mut ListUpdate,
                  segment_id: &str,
                  patient_id: &str,
                  change: &str,
                  reason: &str,
                  evidence: Vec<String>| {
        update.changes.push(MembershipChange {
            seq: 0,
            day: day.clone(),
            at: at_text.clone(),
            segment_id: segment_id.to_owned(),
            patient_id: patient_id.to_owned(),
            change: change.to_owned(),
            reason: reason.to_owned(),
            evidence: serde_json::to_string(&evidence).unwrap_or_else(|_| "[]".into()),
            definitions_version: catalog.version.clone(),
        });
    };
    let no_one = BTreeMap::new();
    let is_evaluated = |p: &str| people.is_none_or(|people| people.contains(p));
    for (segment, cohort) in catalog.segments.iter().zip(&cohorts) {
        let id = &segment.definition.id;
        let before = old.remove(id.as_str()).unwrap_or(&no_one);
        // A segment none of the evaluated people is or was in does not move: the others'
        // priorities, and so the placements, are what they were.
        if let Some(people) = people {
            if cohort.members.is_empty() && !people.iter().any(|p| before.contains_key(p)) {
                continue;
            }
        }
        let held: BTreeSet<&str> = cohort.held_back.iter().map(|(p, _)| p.as_str()).collect();
        // (person, priority, held back, since) of everyone in the segment after this
        // evaluation: those not evaluated as they were, the evaluated as found now.
        let mut next: Vec<(&str, i32, bool, &str)> = before
            .iter()
            .filter(|(p, _)| !is_evaluated(p))
            .map(|(p, m)| {
                (
                    p.as_str(),
                    m.priority,
                    m.placement == "held_back",
                    m.since.as_str(),
                )
            })
            .collect();
        for p in before.keys().filter(|p| is_evaluated(p)) {
            if cohort.members.binary_search(p).is_err() {
                let (reason, evidence) = exit_reason(catalog, segment, evaluated, p, today);
                record(&mut update, id, p, "exited", reason, evidence);
                counts.exited += 1;
                update.remove.push((id.clone(), p.clone()));
            }
        }
        for p in &cohort.members {
            let priority = cohort.priority.get(p).map_or(0, |p| p.total);
            let since = match before.get(p) {
                Some(m) => m.since.as_str(),
                None => {
                    if !baseline {
                        let evidence = facts_of(evaluated, p)
                            .map(|f| {
                                let last = contacts.get(p).copied();
                                let e = engine::explain(catalog, segment, f, last, today);
                                e.conditions
                                    .iter()
                                    .filter(|c| c.held)
                                    .map(condition_line)
                                    .collect()
                            })
                            .unwrap_or_default();
                        record(&mut update, id, p, "entered", "entered", evidence);
                        counts.entered += 1;
                    }
                    day.as_str()
                }
            };
            next.push((p.as_str(), priority, held.contains(p.as_str()), since));
        }
        let candidates: Vec<(&str, i32)> = next
            .iter()
            .filter(|(_, _, held, _)| !held)
            .map(|(p, priority, _, _)| (*p, *priority))
            .collect();
        let (worklist, _) = engine::place(segment.definition.weekly_capacity, candidates);
        let worklist: std::collections::HashSet<&str> = worklist.into_iter().collect();
        for (p, priority, held, since) in next {
            let placement = if held {
                "held_back"
            } else if worklist.contains(p) {
                "worklist"
            } else {
                "overflow"
            };
            let unchanged = before.get(p).is_some_and(|m| {
                m.placement == placement && m.priority == priority && m.since == since
            });
            if !unchanged {
                update.set.push(Membership {
                    segment_id: id.clone(),
                    patient_id: p.to_owned(),
                    placement: placement.to_owned(),
                    priority,
                    since: since.to_owned(),
                });
            }
        }
    }
    // Segments no longer in force (only a full evaluation sees new definitions).
    if people.is_none() {
        for (segment_id, members) in old {
            for p in members.keys() {
                let evidence = vec![format!("segment {segment_id} is no longer in force")];
                record(
                    &mut update,
                    segment_id,
                    p,
                    "exited",
                    "segment_withdrawn",
                    evidence,
                );
                counts.exited += 1;
                update.remove.push((segment_id.to_owned(), p.clone()));
            }
        }
    }
    (update, counts)
}

/// One person's facts in a panel in id order.
pub fn facts_of<'a>(panel: &'a [PatientFacts], id: &str) -> Option<&'a PatientFacts> {
    panel
        .binary_search_by(|p| p.id.as_str().cmp(id))
        .ok()
        .map(|i| &panel[i])
}

/// Why a person left a segment, with the evidence.
pub fn exit_reason(
    catalog: &Catalog,
    segment: &careloop_segment::Segment,
    panel: &[PatientFacts],
    patient: &str,
    today: NaiveDate,
) -> (&'static str, Vec<String>) {
    let Some(facts) = facts_of(panel, patient) else {
        return (
            "left_panel",
            vec!["no longer in the panel's data".to_owned()],
        );
    };
    if facts.deceased_boolean || facts.deceased_date.is_some_and(|d| d <= today) {
        let when = facts
            .deceased_date
            .map_or("recorded as deceased".to_owned(), |d| {
                format!("died on {d}")
            });
        return ("died", vec![when]);
    }
    let explanation = engine::explain(catalog, segment, facts, None, today);
    let failed = explanation.conditions.iter().find(|c| !c.held);
    let closing = !careloop_segment::eval::closing_queries(&segment.rule).is_empty();
    match failed {
        Some(c) if closing && !c.evidence.is_empty() && c.text.starts_with("not ") => {
            ("gap_closed", vec![condition_line(c)])
        }
        Some(c) => ("no_longer_met", vec![condition_line(c)]),
        None => (
            "no_longer_met",
            vec![explanation
                .why_not
                .unwrap_or_else(|| "no longer meets the rule".to_owned())],
        ),
    }
}

/// A condition as one line: what it says, this person's values, and the facts it found.
pub fn condition_line(c: &ConditionOutcome) -> String {
    let mut line = c.text.clone();
    let values: Vec<String> = c
        .signals
        .iter()
        .map(|(name, v)| {
            let v: serde_json::Value = v.clone().into();
            match v {
                serde_json::Value::String(s) => format!("{name} = {s}"),
                other => format!("{name} = {other}"),
            }
        })
        .collect();
    if !values.is_empty() {
        line.push_str(&format!(" ({})", values.join(", ")));
    }
    let facts: Vec<String> = c
        .evidence
        .iter()
        .map(|e| {
            let date = e.date.map_or("undated".to_owned(), |d| d.to_string());
            format!("{} {} {}", e.resource_type, date, e.code)
        })
        .collect();
    if !facts.is_empty() {
        line.push_str(&format!(": {}", facts.join(", ")));
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(full: bool, idle: bool, seq_before: i64, seq_now: i64) -> Plan {
        Plan {
            today: NaiveDate::from_ymd_opt(2026, 7, 1).unwrap(),
            full,
            baseline: false,
            idle,
            event_seq_before: seq_before,
            next: ListState {
                as_of: Some("2026-07-01".into()),
                definitions_version: Some("v".into()),
                event_seq: seq_now,
            },
        }
    }

    fn set(people: &[&str]) -> BTreeSet<String> {
        people.iter().map(|p| (*p).to_owned()).collect()
    }

    #[test]
    fn whom_to_evaluate_follows_the_plan_and_asks_for_contacts_only_when_needed() {
        let dirty = set(&["ann"]);
        let never = || -> std::result::Result<BTreeSet<String>, ()> {
            panic!("contacts are not read for this plan")
        };
        // Everyone: nobody in particular, and an evaluation is due.
        let full = plan(true, false, 3, 3);
        assert_eq!(full.people(&dirty, never), Ok(None));
        assert!(full.must_evaluate(None));
        // Idle: nothing is read and nothing evaluated.
        let idle = plan(false, true, 3, 3);
        let people = idle.people(&BTreeSet::new(), never).unwrap();
        assert_eq!(people, Some(BTreeSet::new()));
        assert!(!idle.must_evaluate(people.as_ref()));
        // Changed facts and contacts since: both, once each.
        let some = plan(false, false, 3, 5);
        let people = some
            .people(&dirty, || Ok::<_, ()>(set(&["bea", "ann"])))
            .unwrap();
        assert_eq!(people, Some(set(&["ann", "bea"])));
        assert!(some.must_evaluate(people.as_ref()));
        // Nobody changed but the events moved: placements are redone.
        assert!(some.must_evaluate(Some(&BTreeSet::new())));
        assert!(!plan(false, false, 5, 5).must_evaluate(Some(&BTreeSet::new())));
    }
}
