//! Computing a review: one pass over the log up to the end of the week (folding the state
//! and collecting attempts), then the tables. Definitions are in the crate docs.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use careloop_ops::model::{CallbackStatus, CaseStatus, Channel, EscalationStatus, ReferralStatus};
use careloop_ops::sync::{Fold, LogEntry};
use careloop_ops::{Case, CloseReason, OpEvent, OpsState, Policy};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use uuid::Uuid;

use crate::groups::{Demographics, DIMENSIONS};
use crate::model::*;
use crate::{Result, ReviewError, Week};

/// One person of the panel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Person {
    pub id: String,
    pub name: String,
    pub demographics: Demographics,
    /// Alive and in the panel at the end of the week: counted in the panel's shares.
    pub in_panel: bool,
}

/// A segment as the catalogue defines it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SegmentInfo {
    pub id: String,
    pub name: String,
    pub capacity: u32,
    /// Its rule says `not exists(…)`: closing evidence closes the gap.
    pub care_gap: bool,
}

/// A recorded segmentation run: its date and cohort sizes; members when the review needs them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CohortRun {
    pub id: i64,
    pub as_of: NaiveDate,
    /// Members of each segment (every placement).
    pub sizes: BTreeMap<String, u32>,
    pub members: Vec<Member>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    pub segment_id: String,
    pub patient_id: String,
    /// worklist, overflow or held_back.
    pub placement: String,
}

/// Thresholds a service may set.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Settings {
    /// Over when ratio >= threshold, under when ratio <= 1 / threshold.
    pub equity_threshold: f64,
    /// Flag only groups expected to have at least this many people.
    pub min_expected: f64,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            equity_threshold: 1.25,
            min_expected: 5.0,
        }
    }
}

/// Everything a review reads.
pub struct Input<'a> {
    pub week: Week,
    pub people: &'a [Person],
    /// In the order the tables list them.
    pub segments: &'a [SegmentInfo],
    /// Every recorded run (sizes only are needed for the trend).
    pub runs: &'a [CohortRun],
    /// This review's run and the previous review's, with their members (see [`select_runs`]).
    pub current: Option<&'a CohortRun>,
    pub previous: Option<&'a CohortRun>,
    /// The whole log in the fold's order (the server's, then the workstation's outbox);
    /// entries recorded at or after the end of the week are ignored. It is folded with the
    /// one conflict-tolerant [`Fold`] every reader uses: an event that does not apply in
    /// that order (a claim another coordinator made first) is counted as superseded and
    /// nowhere else; two outcomes of one case step both count, and the conflict is listed
    /// as pending until someone resolves it.
    pub log: &'a [LogEntry],
    pub policy: &'a Policy,
    /// Dates of closing evidence by (person, care-gap segment).
    pub evidence: &'a HashMap<(String, String), Vec<NaiveDate>>,
    /// Visit (encounter start) dates by person.
    pub visits: &'a HashMap<String, Vec<NaiveDate>>,
    /// The live lists' recorded entries and exits dated in the week, and the first day they
    /// kept a record (`None`: never evaluated). A week that ends on or after that day has
    /// these as its entries and exits; an earlier one compares the two runs.
    pub list_changes: &'a [ListChange],
    pub lists_since: Option<NaiveDate>,
    pub settings: Settings,
}

/// An entry into or an exit from a segment, as the live lists recorded it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListChange {
    pub day: NaiveDate,
    pub segment_id: String,
    pub patient_id: String,
    pub entered: bool,
    /// `entered`, or why the person left (gap_closed, died, left_panel, no_longer_met,
    /// segment_withdrawn).
    pub reason: String,
}

/// Which recorded runs a week's review compares: the latest dated on or before its Sunday,
/// and the latest dated before its Monday. Runs are identified by id (later runs have
/// larger ids).
pub fn select_runs(runs: &[CohortRun], week: Week) -> (Option<i64>, Option<i64>) {
    let latest = |ok: &dyn Fn(&CohortRun) -> bool| {
        runs.iter()
            .filter(|r| ok(r))
            .max_by_key(|r| (r.as_of, r.id))
            .map(|r| r.id)
    };
    (
        latest(&|r| r.as_of <= week.sunday()),
        latest(&|r| r.as_of < week.monday()),
    )
}

/// The cases behind the review's numbers, by drill key.
#[derive(Clone, Debug, Default)]
pub struct Drills {
    keys: HashMap<String, Vec<(u32, Option<Uuid>)>>,
    people: Vec<(String, String)>,
    cases: BTreeMap<Uuid, Case>,
}

impl Drills {
    /// The rows behind `key`, by name.
    pub fn rows(&self, key: &str) -> Result<Vec<DrillRow>> {
        let refs = self
            .keys
            .get(key)
            .ok_or_else(|| ReviewError::UnknownDrill(key.to_owned()))?;
        let mut rows: Vec<DrillRow> = refs
            .iter()
            .map(|(person, case)| {
                let (id, name) = &self.people[*person as usize];
                let case = case.and_then(|c| self.cases.get(&c));
                DrillRow {
                    case_id: case.map(|c| c.case_id.to_string()),
                    patient_id: id.clone(),
                    name: name.clone(),
                    segment_id: case.map(|c| c.segment_id.clone()),
                    status: case.map(|c| c.status.to_string()),
                    owner: case.and_then(|c| c.owner.clone()),
                }
            })
            .collect();
        rows.sort_by(|a, b| (&a.name, &a.case_id).cmp(&(&b.name, &b.case_id)));
        rows.dedup();
        Ok(rows)
    }

    /// Every key, for tests and the CSV of drill-downs.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.keys.keys().map(String::as_str)
    }
}

/// An attempt as the review counts it.
struct AttemptSeen {
    at: DateTime<Utc>,
    by: String,
    role: String,
    case_id: Uuid,
    patient: String,
    channel: Channel,
    reached: bool,
    limit_override: Option<String>,
}

fn rate(num: u32, den: u32) -> Option<f64> {
    (den > 0).then(|| num as f64 / den as f64)
}

fn rfc(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Median (mean of the two middle values for an even count) and 90th percentile (nearest
/// rank: the ⌈0.9·n⌉-th smallest) of hours.
fn median_p90(mut hours: Vec<f64>) -> (Option<f64>, Option<f64>) {
    if hours.is_empty() {
        return (None, None);
    }
    hours.sort_by(f64::total_cmp);
    let n = hours.len();
    let median = if n % 2 == 1 {
        hours[n / 2]
    } else {
        (hours[n / 2 - 1] + hours[n / 2]) / 2.0
    };
    let rank = ((0.9 * n as f64).ceil() as usize).clamp(1, n);
    (Some(median), Some(hours[rank - 1]))
}

fn hours_between(from: DateTime<Utc>, to: DateTime<Utc>) -> f64 {
    (to - from).num_seconds() as f64 / 3600.0
}

struct Builder<'a> {
    index: HashMap<&'a str, u32>,
    people: Vec<(String, String)>,
    keys: HashMap<String, Vec<(u32, Option<Uuid>)>>,
}

impl<'a> Builder<'a> {
    fn person(&mut self, id: &str) -> u32 {
        if let Some(i) = self.index.get(id) {
            return *i;
        }
        // Someone the log names who is no longer in the panel's records.
        if let Some(i) = self.people.iter().position(|(p, _)| p == id) {
            return i as u32;
        }
        self.people
            .push((id.to_owned(), "(not in the panel)".to_owned()));
        (self.people.len() - 1) as u32
    }

    fn name(&mut self, id: &str) -> String {
        let i = self.person(id);
        self.people[i as usize].1.clone()
    }

    fn drill(
        &mut self,
        key: String,
        rows: impl IntoIterator<Item = (String, Option<Uuid>)>,
    ) -> String {
        let refs: Vec<(u32, Option<Uuid>)> = rows
            .into_iter()
            .map(|(patient, case)| (self.person(&patient), case))
            .collect();
        self.keys.entry(key.clone()).or_default().extend(refs);
        key
    }
}

/// Computes the review of `input.week`.
pub fn compute(input: &Input<'_>) -> Result<(WeeklyReview, Drills)> {
    let week = input.week;
    let (start, end) = (week.start(), week.end());
    let sunday = week.sunday();
    let calendar = &input.policy.calendar;

    // The state at the end of the week, and every attempt before it.
    let mut state = OpsState::default();
    let mut fold = Fold::default();
    let mut recorded_at: HashMap<Uuid, DateTime<Utc>> = HashMap::new();
    let mut attempts: Vec<AttemptSeen> = Vec::new();
    let mut first_attempt: HashMap<Uuid, DateTime<Utc>> = HashMap::new();
    // The first contact's deadline (a case's `due` moves on with each follow-up).
    let mut first_due: HashMap<Uuid, DateTime<Utc>> = HashMap::new();
    // Cases the live lists closed as resolved by new data, with when.
    let mut closed_by_data: Vec<(Uuid, &str, DateTime<Utc>)> = Vec::new();
    for entry in input.log.iter().filter(|e| e.at() < end) {
        let took_effect = fold.apply(&mut state, entry.envelope(), input.policy);
        let Some(recorded) = entry.recorded() else {
            continue;
        };
        recorded_at.insert(recorded.id, recorded.at);
        if !took_effect {
            continue;
        }
        if let OpEvent::CaseOpened { case_id, due, .. } = &recorded.event {
            first_due.insert(*case_id, *due);
        }
        if let OpEvent::CaseClosed {
            case_id,
            reason: CloseReason::ResolvedByNewData,
            ..
        } = &recorded.event
        {
            closed_by_data.push((*case_id, recorded.patient_id.as_str(), recorded.at));
        }
        if let OpEvent::AttemptRecorded(a) = &recorded.event {
            first_attempt.entry(a.case_id).or_insert(recorded.at);
            attempts.push(AttemptSeen {
                at: recorded.at,
                by: recorded.actor.clone(),
                role: recorded.role.to_string(),
                case_id: a.case_id,
                patient: recorded.patient_id.clone(),
                channel: a.channel,
                reached: a.reached,
                limit_override: a.contact_limit_override.clone(),
            });
        }
    }
    let in_week = |t: DateTime<Utc>| t >= start && t < end;
    let segment_of = |case_id: &Uuid| state.cases.get(case_id).map(|c| c.segment_id.as_str());

    let mut b = Builder {
        index: input
            .people
            .iter()
            .enumerate()
            .map(|(i, p)| (p.id.as_str(), i as u32))
            .collect(),
        people: input
            .people
            .iter()
            .map(|p| (p.id.clone(), p.name.clone()))
            .collect(),
        keys: HashMap::new(),
    };

    // Cases by person and segment (the latest opened), for drill rows of people.
    let mut case_of: HashMap<(&str, &str), Uuid> = HashMap::new();
    for case in state.cases.values() {
        let slot = case_of
            .entry((case.patient_id.as_str(), case.segment_id.as_str()))
            .or_insert(case.case_id);
        if state.cases[slot].opened_at <= case.opened_at {
            *slot = case.case_id;
        }
    }
    let person_rows = |ids: &mut dyn Iterator<Item = &str>, segment: Option<&str>| {
        ids.map(|id| {
            (
                id.to_owned(),
                segment.and_then(|s| case_of.get(&(id, s)).copied()),
            )
        })
        .collect::<Vec<_>>()
    };

    // Attempts of the week.
    let week_attempts: Vec<&AttemptSeen> = attempts.iter().filter(|a| in_week(a.at)).collect();
    let mut contacted_in: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for a in &week_attempts {
        if let Some(segment) = segment_of(&a.case_id) {
            contacted_in
                .entry(segment)
                .or_default()
                .insert(a.patient.as_str());
        }
    }

    // 1. Segments.
    fn members_of(run: Option<&CohortRun>) -> BTreeMap<&str, BTreeMap<&str, &str>> {
        let mut by: BTreeMap<&str, BTreeMap<&str, &str>> = BTreeMap::new();
        for m in run.map(|r| r.members.as_slice()).unwrap_or_default() {
            by.entry(m.segment_id.as_str())
                .or_default()
                .insert(m.patient_id.as_str(), m.placement.as_str());
        }
        by
    }
    let current = members_of(input.current);
    let previous = members_of(input.previous);
    // Entries and exits: the live lists' record when they kept one by the week's end.
    let live_lists = input.lists_since.is_some_and(|d| d <= sunday);
    let empty = BTreeMap::new();
    let mut segments = Vec::new();
    for s in input.segments {
        let now = current.get(s.id.as_str()).unwrap_or(&empty);
        let before = previous.get(s.id.as_str()).unwrap_or(&empty);
        let placed = |p: &str| now.values().filter(|v| **v == p).count() as u32;
        let people_refs = |ids: Vec<&str>, b: &mut Builder<'_>| {
            let mut refs: Vec<PersonRef> = ids
                .into_iter()
                .map(|id| PersonRef {
                    patient_id: id.to_owned(),
                    name: b.name(id),
                })
                .collect();
            refs.sort_by(|x, y| (&x.name, &x.patient_id).cmp(&(&y.name, &y.patient_id)));
            refs
        };
        let (entered_ids, exited_ids): (Vec<&str>, Vec<&str>) = if live_lists {
            // The live lists' record of the week: each person once per direction.
            let of = |entered: bool| -> Vec<&str> {
                let ids: BTreeSet<&str> = input
                    .list_changes
                    .iter()
                    .filter(|c| c.segment_id == s.id && c.entered == entered)
                    .filter(|c| c.day >= week.monday() && c.day <= sunday)
                    .map(|c| c.patient_id.as_str())
                    .collect();
                ids.into_iter().collect()
            };
            (of(true), of(false))
        } else {
            (
                now.keys()
                    .filter(|id| !before.contains_key(*id))
                    .copied()
                    .collect(),
                before
                    .keys()
                    .filter(|id| !now.contains_key(*id))
                    .copied()
                    .collect(),
            )
        };
        b.drill(
            format!("entered:{}", s.id),
            person_rows(&mut entered_ids.iter().copied(), Some(&s.id)),
        );
        b.drill(
            format!("exited:{}", s.id),
            person_rows(&mut exited_ids.iter().copied(), Some(&s.id)),
        );
        let entered = people_refs(entered_ids, &mut b);
        let exited = people_refs(exited_ids, &mut b);
        let contacted = contacted_in
            .get(s.id.as_str())
            .map_or(0, |c| c.len() as u32);
        let drill = b.drill(
            format!("cohort:{}", s.id),
            person_rows(&mut now.keys().copied(), Some(&s.id)),
        );
        segments.push(SegmentRow {
            segment_id: s.id.clone(),
            name: s.name.clone(),
            size: now.len() as u32,
            entered,
            exited,
            worklist: placed("worklist"),
            overflow: placed("overflow"),
            held_back: placed("held_back"),
            capacity: s.capacity,
            contacted,
            capacity_use: rate(contacted, s.capacity),
            open_cases: state
                .cases
                .values()
                .filter(|c| c.segment_id == s.id && c.status != CaseStatus::Closed)
                .count() as u32,
            drill,
        });
    }
    let mut trend: Vec<TrendPoint> = input
        .runs
        .iter()
        .filter(|r| r.as_of <= sunday)
        .map(|r| TrendPoint {
            run_id: r.id,
            as_of: r.as_of.to_string(),
            sizes: input
                .segments
                .iter()
                .map(|s| SegmentCount {
                    segment_id: s.id.clone(),
                    count: r.sizes.get(&s.id).copied().unwrap_or(0),
                })
                .collect(),
        })
        .collect();
    trend.sort_by_key(|t| (t.as_of.clone(), t.run_id));

    // 2. Pending work at the end of the week.
    let pending = {
        let item = |b: &mut Builder<'_>,
                    id: String,
                    case: &Case,
                    since: DateTime<Utc>,
                    due: Option<DateTime<Utc>>,
                    overdue: bool,
                    detail: String| PendingItem {
            id,
            case_id: case.case_id.to_string(),
            patient_id: case.patient_id.clone(),
            name: b.name(&case.patient_id),
            segment_id: case.segment_id.clone(),
            owner: case.owner.clone(),
            since: rfc(since),
            due: due.map(rfc),
            overdue,
            detail,
        };
        let mut overdue_cases = Vec::new();
        for c in state.cases.values() {
            if c.overdue(end) {
                overdue_cases.push(item(
                    &mut b,
                    c.case_id.to_string(),
                    c,
                    c.opened_at,
                    Some(c.due),
                    true,
                    format!("{}; {} attempt(s)", c.status, c.attempts),
                ));
            }
        }
        let mut escalations = Vec::new();
        for e in state.escalations.values() {
            if e.status == EscalationStatus::Raised {
                let steps = e.steps(end, calendar);
                let level = steps.last().map_or("", |s| s.level.as_str());
                escalations.push(item(
                    &mut b,
                    e.escalation_id.to_string(),
                    &state.cases[&e.case_id],
                    e.raised_at,
                    steps.last().map(|s| s.deadline),
                    e.overdue(end, calendar),
                    format!("{} with the {}", e.kind, level.replace('_', " ")),
                ));
            }
        }
        let mut referrals = Vec::new();
        for r in state.referrals.values() {
            if let Some(why) = r.overdue(end) {
                let due = match r.status {
                    ReferralStatus::Accepted => r.start_deadline,
                    _ => Some(r.response_deadline),
                };
                referrals.push(item(
                    &mut b,
                    r.referral_id.to_string(),
                    &state.cases[&r.case_id],
                    r.sent_at,
                    due,
                    true,
                    why,
                ));
            }
        }
        let mut callbacks = Vec::new();
        for c in state.callbacks.values() {
            if c.status == CallbackStatus::Waiting {
                callbacks.push(item(
                    &mut b,
                    c.callback_id.to_string(),
                    &state.cases[&c.case_id],
                    c.requested_at,
                    Some(c.due),
                    end > c.due,
                    format!("requested by {}", c.requested_by),
                ));
            }
        }
        let mut conflicts = Vec::new();
        for c in fold.conflicts.iter().filter(|c| c.resolved.is_none()) {
            let Some(case) = state.cases.get(&c.case_id) else {
                continue;
            };
            let since = recorded_at
                .get(&c.events[1])
                .copied()
                .unwrap_or(case.opened_at);
            conflicts.push(item(
                &mut b,
                format!("{}+{}", c.events[0], c.events[1]),
                case,
                since,
                None,
                false,
                format!(
                    "{} by {} and {} by {}: both kept until someone resolves it",
                    c.kinds[0], c.actors[0], c.kinds[1], c.actors[1]
                ),
            ));
        }
        for list in [
            &mut overdue_cases,
            &mut escalations,
            &mut referrals,
            &mut callbacks,
            &mut conflicts,
        ] {
            list.sort_by(|x, y| (!x.overdue, &x.since, &x.id).cmp(&(!y.overdue, &y.since, &y.id)));
        }
        for (key, list) in [
            ("pending:overdue_cases", &overdue_cases),
            ("pending:escalations", &escalations),
            ("pending:referrals", &referrals),
            ("pending:callbacks", &callbacks),
            ("pending:conflicts", &conflicts),
        ] {
            let rows: Vec<(String, Option<Uuid>)> = list
                .iter()
                .map(|i| (i.patient_id.clone(), i.case_id.parse().ok()))
                .collect();
            b.drill(key.to_owned(), rows);
        }
        Pending {
            overdue_cases,
            unacknowledged_escalations: escalations,
            overdue_referrals: referrals,
            waiting_callbacks: callbacks,
            open_conflicts: conflicts,
            superseded_events: fold.superseded.len() as u32,
        }
    };

    // 3. Caseload per coordinator.
    let mut users: BTreeSet<String> = state
        .cases
        .values()
        .filter(|c| c.status != CaseStatus::Closed)
        .filter_map(|c| c.owner.clone())
        .collect();
    users.extend(
        week_attempts
            .iter()
            .filter(|a| a.role == "coordinator")
            .map(|a| a.by.clone()),
    );
    let capacity = input.policy.caseload_per_coordinator;
    let mut caseload = Vec::new();
    for user in users {
        let owned: Vec<&Case> = state
            .cases
            .values()
            .filter(|c| c.status != CaseStatus::Closed && c.owner.as_deref() == Some(&user))
            .collect();
        let mine: Vec<&&AttemptSeen> = week_attempts.iter().filter(|a| a.by == user).collect();
        let drill = b.drill(
            format!("caseload:{user}"),
            owned
                .iter()
                .map(|c| (c.patient_id.clone(), Some(c.case_id)))
                .collect::<Vec<_>>(),
        );
        caseload.push(CaseloadRow {
            open_cases: owned.len() as u32,
            capacity,
            use_share: rate(owned.len() as u32, capacity),
            overdue: owned.iter().filter(|c| c.overdue(end)).count() as u32,
            attempts: mine.len() as u32,
            reached: mine.iter().filter(|a| a.reached).count() as u32,
            user,
            drill,
        });
    }

    // 4. Equity.
    let groups: Vec<[String; 7]> = input
        .people
        .iter()
        .map(|p| p.demographics.groups(sunday).0)
        .collect();
    let mut panel_counts: Vec<BTreeMap<&str, u32>> = vec![BTreeMap::new(); DIMENSIONS.len()];
    let mut panel_size = 0u32;
    for (p, g) in input.people.iter().zip(&groups) {
        if p.in_panel {
            panel_size += 1;
            for (d, value) in g.iter().enumerate() {
                *panel_counts[d].entry(value.as_str()).or_default() += 1;
            }
        }
    }
    let mut populations: Vec<(String, &'static str, Vec<&str>)> = Vec::new();
    for s in input.segments {
        let cohort: Vec<&str> = current
            .get(s.id.as_str())
            .map(|m| m.keys().copied().collect())
            .unwrap_or_default();
        let contacted: Vec<&str> = contacted_in
            .get(s.id.as_str())
            .map(|c| c.iter().copied().collect())
            .unwrap_or_default();
        populations.push((s.id.clone(), "cohort", cohort));
        populations.push((s.id.clone(), "contacted", contacted));
    }
    let all_contacted: BTreeSet<&str> = week_attempts.iter().map(|a| a.patient.as_str()).collect();
    populations.push((
        "all".to_owned(),
        "contacted",
        all_contacted.into_iter().collect(),
    ));
    let settings = input.settings;
    let mut equity_rows = Vec::new();
    for (segment, population, ids) in &populations {
        let size = ids.len() as u32;
        for (d, dimension) in DIMENSIONS.iter().enumerate() {
            let mut members: BTreeMap<&str, Vec<&str>> =
                panel_counts[d].keys().map(|g| (*g, Vec::new())).collect();
            for id in ids {
                let group = match b.index.get(id) {
                    Some(i) => groups[*i as usize][d].as_str(),
                    None => "unknown",
                };
                members.entry(group).or_default().push(id);
            }
            for (group, who) in members {
                let count = who.len() as u32;
                let panel_count = panel_counts[d].get(group).copied().unwrap_or(0);
                let panel_share = rate(panel_count, panel_size);
                let expected = panel_share.unwrap_or(0.0) * size as f64;
                let ratio = (expected > 0.0).then(|| count as f64 / expected);
                let flag = match ratio {
                    Some(r) if expected >= settings.min_expected => {
                        if r >= settings.equity_threshold {
                            "over"
                        } else if r <= 1.0 / settings.equity_threshold {
                            "under"
                        } else {
                            ""
                        }
                    }
                    _ => "",
                };
                let seg = (segment != "all").then_some(segment.as_str());
                let drill = b.drill(
                    format!("equity:{segment}:{population}:{dimension}:{group}"),
                    person_rows(&mut who.iter().copied(), seg),
                );
                equity_rows.push(EquityRow {
                    segment_id: segment.clone(),
                    population: (*population).to_owned(),
                    dimension: (*dimension).to_owned(),
                    group: group.to_owned(),
                    count,
                    population_size: size,
                    share: rate(count, size),
                    panel_count,
                    panel_share,
                    expected,
                    ratio,
                    flag: flag.to_owned(),
                    drill,
                });
            }
        }
    }
    let equity = Equity {
        threshold: settings.equity_threshold,
        min_expected: settings.min_expected,
        panel_size,
        rows: equity_rows,
    };

    // 5. Over-contact.
    let limit = input.policy.max_contacts_per_week;
    let mut times: BTreeMap<&str, Vec<DateTime<Utc>>> = BTreeMap::new();
    for a in &attempts {
        times.entry(a.patient.as_str()).or_default().push(a.at);
    }
    let buckets = |b: &mut Builder<'_>, name: &str, from: DateTime<Utc>| {
        let top = limit + 2;
        let mut people: Vec<Vec<String>> = vec![Vec::new(); top as usize];
        for (patient, ts) in &times {
            let n = ts.iter().filter(|t| **t >= from && **t < end).count() as u32;
            if n > 0 {
                people[(n.min(top) - 1) as usize].push((*patient).to_owned());
            }
        }
        people
            .into_iter()
            .enumerate()
            .map(|(i, who)| {
                let label = if i as u32 + 1 == top {
                    format!("{top}+")
                } else {
                    (i + 1).to_string()
                };
                Bucket {
                    people: who.len() as u32,
                    drill: b.drill(
                        format!("contacts:{name}:{label}"),
                        who.into_iter().map(|p| (p, None)).collect::<Vec<_>>(),
                    ),
                    contacts: label,
                }
            })
            .collect::<Vec<_>>()
    };
    let per_week = buckets(&mut b, "week", start);
    let per_month = buckets(&mut b, "28_days", end - Duration::days(28));
    let mut above_limit = Vec::new();
    for (patient, ts) in &times {
        let in_wk: Vec<&DateTime<Utc>> = ts.iter().filter(|t| in_week(**t)).collect();
        let most = in_wk
            .iter()
            .map(|t| {
                ts.iter()
                    .filter(|u| **u > **t - Duration::days(7) && **u <= **t)
                    .count() as u32
            })
            .max()
            .unwrap_or(0);
        if most > limit {
            let cases: Vec<(String, Option<Uuid>)> = week_attempts
                .iter()
                .filter(|a| a.patient == *patient)
                .map(|a| (a.patient.clone(), Some(a.case_id)))
                .collect();
            above_limit.push(AboveLimit {
                patient_id: (*patient).to_owned(),
                name: b.name(patient),
                contacts_in_week: in_wk.len() as u32,
                most_in_7_days: most,
                drill: b.drill(format!("above_limit:{patient}"), cases),
            });
        }
    }
    above_limit.sort_by(|x, y| (y.most_in_7_days, &x.name).cmp(&(x.most_in_7_days, &y.name)));
    let mut overrides = Vec::new();
    let mut by_user: BTreeMap<String, u32> = BTreeMap::new();
    for a in &week_attempts {
        if let Some(reason) = &a.limit_override {
            *by_user.entry(a.by.clone()).or_default() += 1;
            overrides.push(OverrideRow {
                at: rfc(a.at),
                by: a.by.clone(),
                role: a.role.clone(),
                case_id: a.case_id.to_string(),
                patient_id: a.patient.clone(),
                name: b.name(&a.patient),
                reason: reason.clone(),
            });
        }
    }
    let contacts = OverContact {
        limit,
        per_week,
        per_month,
        above_limit,
        overrides,
        overrides_by_user: by_user
            .into_iter()
            .map(|(user, count)| UserCount { user, count })
            .collect(),
    };

    // 6. Outcomes. Care-gap closure.
    let mut closure = Vec::new();
    let mut closure_curve = Vec::new();
    for s in input.segments.iter().filter(|s| s.care_gap) {
        // (case, patient, first attempt day, first evidence day on or after it, if any)
        let mut cases: Vec<(Uuid, &str, NaiveDate, Option<NaiveDate>)> = Vec::new();
        for c in state.cases.values().filter(|c| c.segment_id == s.id) {
            let Some(first) = first_attempt.get(&c.case_id) else {
                continue;
            };
            let a = first.date_naive();
            let closing = input
                .evidence
                .get(&(c.patient_id.clone(), s.id.clone()))
                .into_iter()
                .flatten()
                .filter(|d| **d >= a && **d <= sunday)
                .min()
                .copied();
            cases.push((c.case_id, c.patient_id.as_str(), a, closing));
        }
        let rows_of =
            |list: &mut dyn Iterator<Item = &(Uuid, &str, NaiveDate, Option<NaiveDate>)>| {
                list.map(|(c, p, _, _)| ((*p).to_owned(), Some(*c)))
                    .collect::<Vec<_>>()
            };
        let mut horizons = Vec::new();
        for days in [30u32, 60, 90] {
            let n = Duration::days(days as i64);
            let eligible: Vec<_> = cases
                .iter()
                .filter(|(_, _, a, _)| *a + n <= sunday)
                .collect();
            let closed: Vec<_> = eligible
                .iter()
                .copied()
                .filter(|(_, _, a, e)| e.is_some_and(|e| e <= *a + n))
                .collect();
            horizons.push(HorizonCell {
                days,
                eligible: eligible.len() as u32,
                closed: closed.len() as u32,
                rate: rate(closed.len() as u32, eligible.len() as u32),
                drill: b.drill(
                    format!("closure:{}:{days}", s.id),
                    rows_of(&mut closed.into_iter()),
                ),
            });
        }
        let closed_so_far = cases.iter().filter(|c| c.3.is_some()).count() as u32;
        let drill = b.drill(format!("closure:{}", s.id), rows_of(&mut cases.iter()));
        let by_data: Vec<(String, Option<Uuid>)> = closed_by_data
            .iter()
            .filter(|(case, _, at)| in_week(*at) && segment_of(case) == Some(s.id.as_str()))
            .map(|(case, patient, _)| ((*patient).to_owned(), Some(*case)))
            .collect();
        let closed_by_new_data = by_data.len() as u32;
        let closed_by_new_data_drill = b.drill(format!("closed-by-data:{}", s.id), by_data);
        closure.push(ClosureRow {
            segment_id: s.id.clone(),
            name: s.name.clone(),
            outreached: cases.len() as u32,
            horizons,
            closed_so_far,
            drill,
            closed_by_new_data,
            closed_by_new_data_drill,
        });
        // Kaplan–Meier: time to closing evidence, censored at the end of the week.
        let times: Vec<(i64, bool)> = cases
            .iter()
            .map(|(_, _, a, e)| match e {
                Some(e) => ((*e - *a).num_days(), true),
                None => ((sunday - *a).num_days(), false),
            })
            .collect();
        if !times.is_empty() {
            let mut survival = 1.0;
            let mut day_events: BTreeMap<i64, u32> = BTreeMap::new();
            for (t, closed) in &times {
                if *closed {
                    *day_events.entry(*t).or_default() += 1;
                }
            }
            let mut events = day_events.into_iter().peekable();
            for day in (0..=90).step_by(5) {
                while let Some((t, d)) = events.next_if(|(t, _)| *t <= day) {
                    let at_risk = times.iter().filter(|(u, _)| *u >= t).count() as f64;
                    if at_risk > 0.0 {
                        survival *= 1.0 - d as f64 / at_risk;
                    }
                }
                closure_curve.push(CurvePoint {
                    segment_id: s.id.clone(),
                    day: day as u32,
                    closed_share: 1.0 - survival,
                });
            }
        }
    }

    // Response rates.
    let response =
        |b: &mut Builder<'_>, key: String, drill: String, of: &dyn Fn(&AttemptSeen) -> bool| {
            let to_date: Vec<&AttemptSeen> = attempts.iter().filter(|a| of(a)).collect();
            let week: Vec<&&AttemptSeen> = to_date.iter().filter(|a| in_week(a.at)).collect();
            let reached_week = week.iter().filter(|a| a.reached).count() as u32;
            let reached_to_date = to_date.iter().filter(|a| a.reached).count() as u32;
            let drill = b.drill(
                drill,
                week.iter()
                    .map(|a| (a.patient.clone(), Some(a.case_id)))
                    .collect::<Vec<_>>(),
            );
            ResponseRow {
                key,
                attempts_week: week.len() as u32,
                reached_week,
                rate_week: rate(reached_week, week.len() as u32),
                attempts_to_date: to_date.len() as u32,
                reached_to_date,
                rate_to_date: rate(reached_to_date, to_date.len() as u32),
                drill,
            }
        };
    let response_by_channel: Vec<ResponseRow> = Channel::ALL
        .iter()
        .map(|ch| {
            response(
                &mut b,
                ch.to_string(),
                format!("response:channel:{ch}"),
                &|a: &AttemptSeen| a.channel == *ch,
            )
        })
        .collect();
    let response_by_segment: Vec<ResponseRow> = input
        .segments
        .iter()
        .map(|s| {
            response(
                &mut b,
                s.id.clone(),
                format!("response:segment:{}", s.id),
                &|a: &AttemptSeen| segment_of(&a.case_id) == Some(s.id.as_str()),
            )
        })
        .collect();

    // Retention.
    let mut retention = Vec::new();
    for s in input.segments {
        let mut first: BTreeMap<&str, (NaiveDate, Uuid)> = BTreeMap::new();
        for c in state.cases.values().filter(|c| c.segment_id == s.id) {
            if let Some(at) = first_attempt.get(&c.case_id) {
                let entry = first
                    .entry(c.patient_id.as_str())
                    .or_insert((at.date_naive(), c.case_id));
                if at.date_naive() < entry.0 {
                    *entry = (at.date_naive(), c.case_id);
                }
            }
        }
        let year = Duration::days(365);
        let (mut complete, mut retained, mut so_far) = (0, 0, 0);
        let mut retained_rows = Vec::new();
        for (patient, (a, case)) in &first {
            let visits = input.visits.get(*patient);
            let visit_in =
                |until: NaiveDate| visits.is_some_and(|v| v.iter().any(|d| *d > *a && *d <= until));
            if *a + year <= sunday {
                complete += 1;
                if visit_in(*a + year) {
                    retained += 1;
                }
            }
            if visit_in(sunday) {
                so_far += 1;
                retained_rows.push(((*patient).to_owned(), Some(*case)));
            }
        }
        let drill = b.drill(format!("retention:{}", s.id), retained_rows);
        retention.push(RetentionRow {
            segment_id: s.id.clone(),
            name: s.name.clone(),
            contacted: first.len() as u32,
            window_complete: complete,
            retained,
            rate: rate(retained, complete),
            retained_so_far: so_far,
            drill,
        });
    }

    // Timeliness of clocks started in the week.
    struct Clock<'c> {
        patient: &'c str,
        case: Uuid,
        started: DateTime<Utc>,
        answered: Option<DateTime<Utc>>,
        due: DateTime<Utc>,
    }
    let mut timeliness = Vec::new();
    let measures: [(&str, &str, Vec<Clock<'_>>); 4] = [
        (
            "first_attempt",
            "Case opened → first attempt",
            state
                .cases
                .values()
                .filter(|c| in_week(c.opened_at))
                .map(|c| Clock {
                    patient: &c.patient_id,
                    case: c.case_id,
                    started: c.opened_at,
                    answered: first_attempt.get(&c.case_id).copied(),
                    due: first_due.get(&c.case_id).copied().unwrap_or(c.due),
                })
                .collect(),
        ),
        (
            "referral_response",
            "Referral sent → accepted or declined",
            state
                .referrals
                .values()
                .filter(|r| in_week(r.sent_at))
                .map(|r| Clock {
                    patient: &r.patient_id,
                    case: r.case_id,
                    started: r.sent_at,
                    answered: r
                        .history
                        .iter()
                        .find(|h| {
                            matches!(
                                h.status,
                                ReferralStatus::Accepted | ReferralStatus::Declined
                            )
                        })
                        .map(|h| h.at),
                    due: r.response_deadline,
                })
                .collect(),
        ),
        (
            "escalation_ack",
            "Escalation raised → acknowledged",
            state
                .escalations
                .values()
                .filter(|e| in_week(e.raised_at))
                .map(|e| Clock {
                    patient: &e.patient_id,
                    case: e.case_id,
                    started: e.raised_at,
                    answered: e.acknowledged_at,
                    due: e.steps(end, calendar)[0].deadline,
                })
                .collect(),
        ),
        (
            "callback",
            "Callback requested → documented",
            state
                .callbacks
                .values()
                .filter(|c| in_week(c.requested_at))
                .map(|c| Clock {
                    patient: &c.patient_id,
                    case: c.case_id,
                    started: c.requested_at,
                    answered: c.documented_at,
                    due: c.due,
                })
                .collect(),
        ),
    ];
    for (measure, label, clocks) in measures {
        let answered: Vec<&Clock<'_>> = clocks.iter().filter(|c| c.answered.is_some()).collect();
        let within = answered
            .iter()
            .filter(|c| c.answered.is_some_and(|a| a <= c.due))
            .count() as u32;
        let overdue: Vec<&Clock<'_>> = clocks
            .iter()
            .filter(|c| c.answered.is_none() && c.due < end)
            .collect();
        let (median_hours, p90_hours) = median_p90(
            answered
                .iter()
                .map(|c| hours_between(c.started, c.answered.expect("answered")))
                .collect(),
        );
        let judged = answered.len() as u32 + overdue.len() as u32;
        let drill = b.drill(
            format!("timeliness:{measure}"),
            clocks
                .iter()
                .map(|c| (c.patient.to_owned(), Some(c.case)))
                .collect::<Vec<_>>(),
        );
        timeliness.push(TimelinessRow {
            measure: measure.to_owned(),
            label: label.to_owned(),
            started: clocks.len() as u32,
            answered: answered.len() as u32,
            median_hours,
            p90_hours,
            within_deadline: within,
            rate_within: rate(within, judged),
            overdue: overdue.len() as u32,
            drill,
        });
    }

    // Referrals of the four weeks ending with this one, by receiving service.
    let since = end - chrono::Duration::days(28);
    let mut by_service: BTreeMap<(String, String), Vec<&careloop_ops::Referral>> = BTreeMap::new();
    for r in state.referrals.values().filter(|r| r.sent_at >= since) {
        let key = match &r.partner {
            Some(p) => (p.organization_name.clone(), p.service_name.clone()),
            None => ("recorded by coordinators".to_owned(), r.service.to_string()),
        };
        by_service.entry(key).or_default().push(r);
    }
    let mut referrals_by_partner = Vec::new();
    for ((partner, service), referrals) in by_service {
        let step = |r: &careloop_ops::Referral, statuses: &[ReferralStatus]| {
            r.history
                .iter()
                .find(|h| statuses.contains(&h.status))
                .cloned()
        };
        let mut row = PartnerRow {
            partner: partner.clone(),
            service: service.clone(),
            sent: referrals.len() as u32,
            ..PartnerRow::default()
        };
        let mut response_hours = Vec::new();
        let (mut judged, mut start_judged) = (0, 0);
        for r in &referrals {
            match step(r, &[ReferralStatus::Accepted, ReferralStatus::Declined]) {
                Some(answer) => {
                    row.answered += 1;
                    judged += 1;
                    response_hours.push(hours_between(r.sent_at, answer.at));
                    if answer.at <= r.response_deadline {
                        row.answered_in_time += 1;
                    }
                    if answer.status == ReferralStatus::Declined {
                        row.declined += 1;
                        if !answer.note.trim().is_empty() {
                            row.decline_reasons.push(answer.note.trim().to_owned());
                        }
                    } else {
                        row.accepted += 1;
                    }
                }
                None if r.response_deadline < end => judged += 1,
                None => {}
            }
            if let Some(deadline) = r.start_deadline {
                match step(r, &[ReferralStatus::Started]) {
                    Some(started) => {
                        row.started += 1;
                        start_judged += 1;
                        if started.at <= deadline {
                            row.started_in_time += 1;
                        }
                    }
                    None if deadline < end => start_judged += 1,
                    None => {}
                }
            }
            if r.status == ReferralStatus::Completed {
                row.completed += 1;
            }
        }
        row.median_response_hours = median_p90(response_hours).0;
        row.rate_answered_in_time = rate(row.answered_in_time, judged);
        row.rate_started_in_time = rate(row.started_in_time, start_judged);
        row.drill = b.drill(
            format!("referrals:{partner}:{service}"),
            referrals
                .iter()
                .map(|r| (r.patient_id.clone(), Some(r.case_id)))
                .collect::<Vec<_>>(),
        );
        referrals_by_partner.push(row);
    }

    // Care plans at the end of the week.
    let mut care_plans = CarePlansReview {
        active_plans: state.care_plans.len() as u32,
        ..CarePlansReview::default()
    };
    // Each owner's row, and the cases of their overdue actions (for the drill).
    type OwnerRow = (PlanOwnerRow, Vec<(String, Option<Uuid>)>);
    let mut owners: BTreeMap<String, OwnerRow> = BTreeMap::new();
    for plan in state.care_plans.values() {
        for a in plan.actions.values() {
            let (row, people) = owners.entry(a.owner.clone()).or_insert_with(|| {
                (
                    PlanOwnerRow {
                        owner: a.owner.clone(),
                        ..PlanOwnerRow::default()
                    },
                    Vec::new(),
                )
            });
            match a.status {
                careloop_ops::careplan::ActionStatus::Open => {
                    row.open += 1;
                    if a.overdue(sunday) {
                        row.overdue += 1;
                        people.push((plan.patient_id.clone(), Some(plan.case_id)));
                    }
                }
                careloop_ops::careplan::ActionStatus::Done => {
                    if a.closed_at.is_some_and(in_week) {
                        row.done_in_week += 1;
                    }
                }
                careloop_ops::careplan::ActionStatus::Cancelled => {}
            }
        }
        for review in plan.reviews.values() {
            if review.held_at.is_some_and(in_week) {
                care_plans.reviews_held += 1;
            } else if review.held_at.is_none() && review.on > sunday {
                care_plans.reviews_upcoming += 1;
            }
        }
    }
    for (owner, (mut row, people)) in owners {
        row.drill = b.drill(format!("plan-overdue:{owner}"), people);
        care_plans.actions_by_owner.push(row);
    }

    let run_ref = |r: Option<&CohortRun>| {
        r.map(|r| RunRef {
            id: r.id,
            as_of: r.as_of.to_string(),
        })
    };
    let review = WeeklyReview {
        week: week.to_string(),
        starts: week.monday().to_string(),
        ends: sunday.to_string(),
        as_of: rfc(end),
        run: run_ref(input.current),
        previous_run: run_ref(input.previous),
        segments,
        trend,
        pending,
        caseload,
        equity,
        contacts,
        closure,
        closure_curve,
        response_by_channel,
        response_by_segment,
        retention,
        timeliness,
        referrals_by_partner,
        care_plans,
    };
    let Builder { people, keys, .. } = b;
    Ok((
        review,
        Drills {
            keys,
            people,
            cases: state.cases,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_and_p90_by_nearest_rank() {
        assert_eq!(median_p90(vec![]), (None, None));
        assert_eq!(median_p90(vec![5.0]), (Some(5.0), Some(5.0)));
        assert_eq!(median_p90(vec![4.0, 1.0]), (Some(2.5), Some(4.0)));
        let ten: Vec<f64> = (1..=10).map(f64::from).collect();
        // ⌈0.9·10⌉ = 9th smallest.
        assert_eq!(median_p90(ten), (Some(5.5), Some(9.0)));
        let eleven: Vec<f64> = (1..=11).map(f64::from).collect();
        // ⌈0.9·11⌉ = 10th.
        assert_eq!(median_p90(eleven), (Some(6.0), Some(10.0)));
    }
}
