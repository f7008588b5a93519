//! Live lists: every segment in force keeps its membership current, and the cases follow.
//!
//! [`Careloop::bring_lists_current`] is the one entry point. It is called after an import and
//! a sync, and by every command that reads lists, with the time it is asked at. What to
//! evaluate and the evaluation itself are `careloop_lists` (the server keeps each team's
//! lists with the same two calls):
//!
//! - On a new day, with new definitions in force, or the first time: everyone is evaluated
//!   as of the day (windows move: a mammogram turns 27 months old tonight).
//! - Otherwise only the people whose facts were written since (`list_dirty`, kept by the fact
//!   store) and those contacted since (the re-contact cooldown) are evaluated again.
//! - Each entry and exit is recorded with the evidence that caused it.
//!
//! With a coordinator's or supervisor's session the cases are then reconciled with the
//! memberships (idempotent, so a deferred reconciliation catches up): an `automatic` segment's
//! entrants on its worklist get a case (the members the first evaluation found are the
//! backlog a supervisor opens with `case open`) (its id derived from team, person, segment and episode, so no
//! second case anywhere), and an open case whose person left the segment is closed as
//! `resolved_by_new_data` (gap closed) or `left_segment` (the reason in the note), unless
//! work is still pending on it (it then stays open and is counted). A `review` segment's
//! entrants wait on the "to review" list ([`Careloop::to_review`]) until a supervisor opens
//! or dismisses them; a dismissal holds for the episode.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use careloop_ops::rbac::Operation;
use careloop_ops::{decide, CloseReason, Role};
use careloop_segment::definition::Opening;
use careloop_segment::Catalog;
use careloop_store::AuditOutcome;
use careloop_store::{ListUpdate, Membership, ReviewDismissal};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use crate::operations::Session;
use crate::Progress;
use crate::{ApiError, Careloop, ErrorCode, Result};

/// What bringing the lists current did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, ts_rs::TS)]
#[ts(export)]
pub struct ListsChanged {
    /// The day the lists are current for (YYYY-MM-DD).
    pub as_of: String,
    /// Everyone was evaluated (a new day, new definitions, or the first time).
    pub full: bool,
    /// People evaluated.
    pub evaluated: u32,
    pub entered: u32,
    pub exited: u32,
    /// Cases opened for entrants of automatic segments.
    pub opened: u32,
    /// Cases closed because the data shows the gap closed.
    pub closed_by_new_data: u32,
    /// Cases closed because the person left the segment otherwise (died, left the panel, no
    /// longer meets the rule).
    pub closed_left_segment: u32,
    /// Exits whose case stays open: work is pending on it (a callback, an escalation, a
    /// referral).
    pub kept_open: u32,
    /// New alerts on key events.
    pub alerts: u32,
    /// One line for the screen: "3 new in Post-discharge · 1 closed by new data".
    pub summary: String,
}

/// An entrant of a `review` segment waiting for a supervisor's decision.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ts_rs::TS)]
#[ts(export)]
pub struct ToReview {
    pub patient_id: String,
    pub segment_id: String,
    pub segment_name: String,
    /// The day the person entered (YYYY-MM-DD).
    pub since: String,
    pub priority: i32,
    /// worklist or overflow.
    pub placement: String,
    /// Why the person entered: the conditions met, with their facts.
    pub evidence: Vec<String>,
}

/// One recorded entry or exit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ts_rs::TS)]
#[ts(export)]
pub struct MembershipChangeDto {
    pub day: String,
    pub segment_id: String,
    pub patient_id: String,
    /// entered or exited.
    pub change: String,
    pub reason: String,
    pub evidence: Vec<String>,
}

const RECONCILED: &str = "lists_reconciled";
/// The last change the lists made: "DAY\tSUMMARY".
const LAST_CHANGE: &str = "lists_last_change";

pub(crate) use careloop_lists::Memberships;

/// The lists as the workstation's header shows them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ts_rs::TS)]
#[ts(export)]
pub struct ListsStatus {
    /// The day the lists are current for (YYYY-MM-DD).
    pub as_of: String,
    /// What the lists last changed, and on which day ("3 new in Post-discharge · 1 closed by
    /// new data"); `None` before any change.
    pub last_change: Option<String>,
    pub last_change_on: Option<String>,
    /// Alerts not acknowledged yet.
    pub open_alerts: u32,
    /// Entrants of review segments waiting for a supervisor.
    pub to_review: u32,
}

impl Careloop {
    /// Brings every segment's membership current as of the day of `at` (see the module
    /// doc), then, with a coordinator's or supervisor's session, the cases.
    pub fn bring_lists_current(
        &mut self,
        at: DateTime<Utc>,
        session: Option<&Session>,
    ) -> Result<ListsChanged> {
        self.bring_lists_current_with(at, session, false, &|_| {})
    }

    /// A supervisor's "Refresh lists now": everyone evaluated again as of the session's
    /// day, whatever the lists last saw, then the cases reconciled. Audited.
    pub fn refresh_lists(&mut self, session: &Session) -> Result<ListsChanged> {
        self.refresh_lists_reporting(session, &|_| {})
    }

    /// [`Careloop::refresh_lists`], reporting its progress (stage `lists`): the facts of
    /// people whose data changed derived again, then the people evaluated so far out of
    /// everyone, then the cases.
    pub fn refresh_lists_reporting(
        &mut self,
        session: &Session,
        report: &(dyn Fn(&Progress) + Sync),
    ) -> Result<ListsChanged> {
        self.authorize(
            session,
            Operation::RefreshLists,
            "refresh the lists",
            None,
            None,
        )?;
        let changed = self.bring_lists_current_with(session.at, Some(session), true, report)?;
        self.store.append_audit(&crate::operations::audit_entry(
            session,
            "lists.refresh",
            None,
            Some(format!(
                "{} evaluated: {}",
                changed.evaluated, changed.summary
            )),
            AuditOutcome::Allowed,
        ))?;
        Ok(changed)
    }

    /// [`Careloop::bring_lists_current`]; `everyone`: evaluate the whole panel even when
    /// the day and the definitions are those the lists last saw.
    fn bring_lists_current_with(
        &mut self,
        at: DateTime<Utc>,
        session: Option<&Session>,
        everyone: bool,
        report: &(dyn Fn(&Progress) + Sync),
    ) -> Result<ListsChanged> {
        let catalog = self.catalog(None)?;
        let last_seq = self.store.last_event_seq()?;
        let plan = careloop_lists::plan(&self.store, &catalog, at, last_seq, everyone)?;
        let today = plan.today;
        let panel = if plan.idle {
            Arc::new(Vec::new())
        } else {
            report(&Progress::stage("lists", "Reading everyone's facts…"));
            self.panel_facts_reporting(&mut |done, total| {
                report(&Progress {
                    stage: "lists".into(),
                    done,
                    total: Some(total),
                    message: "Reading the data that changed…".to_owned(),
                })
            })?
        };
        let mut changed = ListsChanged {
            as_of: today.to_string(),
            full: plan.full,
            ..ListsChanged::default()
        };
        // Whose data changed since the lists last looked (their key events alert; not on
        // the baseline, whose data is all old news).
        let dirty = plan.dirty(&self.store)?;
        let people = plan.people(&dirty, || self.contacted_after(plan.event_seq_before))?;
        if plan.must_evaluate(people.as_ref()) {
            // The fold keeps each person's attempt times: no scan of the whole log.
            let contacts: HashMap<String, NaiveDate> = self
                .ops()?
                .state
                .contacts
                .iter()
                .filter_map(|(person, times)| {
                    Some((person.clone(), times.iter().max()?.date_naive()))
                })
                .collect();
            let memberships = self.resident_memberships()?;
            let people_evaluated = people.as_ref().map_or(panel.len(), BTreeSet::len) as u64;
            let message = if plan.full {
                "Evaluating everyone as of today…"
            } else {
                "Evaluating the people whose data changed…"
            };
            let (update, counts) = careloop_lists::evaluate_reporting(
                careloop_lists::Evaluation {
                    catalog: &catalog,
                    panel: &panel,
                    people: people.as_ref(),
                    contacts: &contacts,
                    today,
                    at,
                    baseline: plan.baseline,
                    memberships: &memberships,
                },
                plan.next.clone(),
                &|done| {
                    report(&Progress {
                        stage: "lists".into(),
                        done,
                        total: Some(people_evaluated),
                        message: message.to_owned(),
                    })
                },
            );
            changed.evaluated = counts.evaluated;
            changed.entered = counts.entered;
            changed.exited = counts.exited;
            self.apply_list_update(&update)?;
        }
        // Alerts are raised as the session's user (they are events that sync); without a
        // care role's session the lists move but raise none.
        if let Some(session) =
            session.filter(|s| careloop_ops::rbac::allowed(s.role, Operation::HandleAlerts))
        {
            changed.alerts = self.raise_alerts(session, &catalog, &panel, &dirty, today)?;
        }
        if let Some(session) =
            session.filter(|s| matches!(s.role, Role::Coordinator | Role::Supervisor))
        {
            report(&Progress::stage("lists", "Updating the cases…"));
            self.reconcile_cases(session, &catalog, &mut changed)?;
        }
        changed.summary = summary_line(&changed, &self.changes_named(&catalog, &changed)?);
        if changed.entered
            + changed.exited
            + changed.opened
            + changed.closed_by_new_data
            + changed.closed_left_segment
            + changed.alerts
            > 0
        {
            self.store.set_sync_meta(
                LAST_CHANGE,
                &format!("{}\t{}", changed.as_of, changed.summary),
            )?;
        }
        if changed.entered + changed.exited + changed.alerts > 0 {
            tracing::info!(
                full = changed.full,
                evaluated = changed.evaluated,
                entered = changed.entered,
                exited = changed.exited,
                opened = changed.opened,
                "lists brought current"
            );
        }
        Ok(changed)
    }

    /// People with an attempt recorded after local event `after`.
    fn contacted_after(&self, after: i64) -> Result<BTreeSet<String>> {
        let mut people = BTreeSet::new();
        self.for_each_attempt_after(after, |e| {
            people.insert(e.subject.clone());
        })?;
        Ok(people)
    }

    /// Every current membership, by segment and person: kept in memory while the lists'
    /// generation in the store is the one read (this connection's own writes patch it, see
    /// [`Careloop::apply_list_update`]).
    fn resident_memberships(&mut self) -> Result<Arc<Memberships>> {
        let generation = self.store.list_generation()?;
        if let Some(resident) = self
            .derived
            .memberships
            .as_ref()
            .filter(|r| r.generation == generation)
        {
            return Ok(Arc::clone(&resident.by_segment));
        }
        let by_segment = careloop_lists::evaluate::memberships(&self.store)?;
        let by_segment = Arc::new(by_segment);
        self.derived.memberships = Some(crate::derived::ResidentMemberships {
            by_segment: Arc::clone(&by_segment),
            generation,
        });
        Ok(by_segment)
    }

    /// Writes one evaluation's outcome, and patches the resident memberships with it (when
    /// nobody else wrote the lists meanwhile: each write moves the generation by one).
    fn apply_list_update(&mut self, update: &ListUpdate) -> Result<()> {
        let before = self.store.list_generation()?;
        self.store.apply_list_update(update)?;
        let after = self.store.list_generation()?;
        let Some(resident) = self.derived.memberships.as_mut() else {
            return Ok(());
        };
        if resident.generation != before || after != before + 1 {
            self.derived.memberships = None;
            return Ok(());
        }
        let by_segment = Arc::make_mut(&mut resident.by_segment);
        for (segment, patient) in &update.remove {
            if let Some(members) = by_segment.get_mut(segment) {
                members.remove(patient);
                if members.is_empty() {
                    by_segment.remove(segment);
                }
            }
        }
        for m in &update.set {
            by_segment
                .entry(m.segment_id.clone())
                .or_default()
                .insert(m.patient_id.clone(), m.clone());
        }
        resident.generation = after;
        Ok(())
    }

    /// Opens the cases automatic segments' worklist members are owed and closes the open
    /// cases of people who left (see the module doc). Skipped when nothing moved since the
    /// last reconciliation.
    fn reconcile_cases(
        &mut self,
        session: &Session,
        catalog: &Catalog,
        changed: &mut ListsChanged,
    ) -> Result<()> {
        let last_change = self.store.last_membership_seq()?;
        let marker = format!(
            "{last_change}:{}:{}",
            self.store.last_event_seq()?,
            catalog.version
        );
        if self.store.sync_meta(RECONCILED)?.as_deref() == Some(marker.as_str()) {
            return Ok(());
        }
        let resident = self.resident_memberships()?;
        let memberships: Vec<&Membership> = resident.values().flat_map(|m| m.values()).collect();
        let member = |segment: &str, patient: &str| {
            resident
                .get(segment)
                .is_some_and(|members| members.contains_key(patient))
        };

        // Exits: open cases whose person is no longer in their segment.
        let leaving: Vec<(uuid::Uuid, String, String, DateTime<Utc>)> = self
            .ops()?
            .state
            .cases
            .values()
            .filter(|c| c.status != careloop_ops::CaseStatus::Closed)
            .filter(|c| {
                catalog
                    .segments
                    .iter()
                    .any(|s| s.definition.id == c.segment_id)
            })
            .filter(|c| !member(&c.segment_id, &c.patient_id))
            .map(|c| {
                (
                    c.case_id,
                    c.segment_id.clone(),
                    c.patient_id.clone(),
                    c.opened_at,
                )
            })
            .collect();
        for (case_id, segment_id, patient_id, opened_at) in leaving {
            let Some(exit) = self
                .store
                .last_membership_change(&segment_id, &patient_id)?
                .filter(|c| c.change == "exited")
                .filter(|c| {
                    DateTime::parse_from_rfc3339(&c.at)
                        .is_ok_and(|seen| seen.with_timezone(&Utc) >= opened_at)
                })
            else {
                // Never recorded as a member (a case opened from other definitions): left
                // to the people working it.
                continue;
            };
            let evidence: Vec<String> = serde_json::from_str(&exit.evidence).unwrap_or_default();
            let (reason, what) = if exit.reason == "gap_closed" {
                (
                    CloseReason::ResolvedByNewData,
                    "the data shows the gap closed",
                )
            } else {
                (CloseReason::LeftSegment, exit_text(&exit.reason))
            };
            let note = format!(
                "Closed by the live lists on {}: {what}. {}",
                exit.day,
                evidence.join("; ")
            );
            match self.close_case(session, case_id, reason, Some(note.trim().to_owned())) {
                Ok(_) if reason == CloseReason::ResolvedByNewData => {
                    changed.closed_by_new_data += 1
                }
                Ok(_) => changed.closed_left_segment += 1,
                Err(e) if e.code == ErrorCode::Conflict || e.code == ErrorCode::Refused => {
                    changed.kept_open += 1
                }
                Err(e) => return Err(e),
            }
        }

        // Entries: automatic segments' worklist members who entered (the lists recorded
        // their entry; the members found by the first evaluation are the backlog, opened by
        // a supervisor with `case open`) and have no case in this episode.
        let team = self.team()?;
        let mut owed: Vec<&Membership> = Vec::new();
        for m in &memberships {
            let automatic = catalog.segments.iter().any(|s| {
                s.definition.id == m.segment_id && s.definition.opening() == Opening::Automatic
            });
            if automatic
                && m.placement == "worklist"
                && !has_case_since(&self.ops()?.state, &m.patient_id, &m.segment_id, &m.since)
                && self
                    .store
                    .last_membership_change(&m.segment_id, &m.patient_id)?
                    .is_some_and(|c| c.change == "entered" && c.day == m.since)
            {
                owed.push(m);
            }
        }
        let mut worklists = Vec::new();
        {
            for segment in &catalog.segments {
                let rows: Vec<(String, i32, String)> = owed
                    .iter()
                    .filter(|m| m.segment_id == segment.definition.id)
                    .map(|m| {
                        (
                            m.patient_id.clone(),
                            m.priority,
                            format!("{}: entered on {}", segment.definition.name, m.since),
                        )
                    })
                    .collect();
                if !rows.is_empty() {
                    worklists.push(decide::SegmentWorklist {
                        segment_id: segment.definition.id.clone(),
                        contact_within_working_days: segment.definition.contact_within_working_days,
                        rows,
                    });
                }
            }
        }
        if !worklists.is_empty() {
            changed.opened += self.open_from_worklists(session, &team, &worklists, "live lists")?;
        }
        let last_change = self.store.last_membership_seq()?;
        let marker = format!(
            "{last_change}:{}:{}",
            self.store.last_event_seq()?,
            catalog.version
        );
        self.store.set_sync_meta(RECONCILED, &marker)?;
        Ok(())
    }

    /// Brings the lists current as of the session's time and says where they stand: what
    /// they last changed, the open alerts, the entrants waiting for review.
    pub fn lists_status(&mut self, session: &Session) -> Result<ListsStatus> {
        let changed = self.bring_lists_current(session.at, Some(session))?;
        let last = self.store.sync_meta(LAST_CHANGE)?;
        let (on, text) = match last.as_deref().and_then(|l| l.split_once('\t')) {
            Some((on, text)) => (Some(on.to_owned()), Some(text.to_owned())),
            None => (None, None),
        };
        let open_alerts = self
            .ops()?
            .state
            .alerts
            .values()
            .filter(|a| a.acknowledged_at.is_none())
            .count() as u32;
        Ok(ListsStatus {
            as_of: changed.as_of,
            last_change: text,
            last_change_on: on,
            open_alerts,
            to_review: self.to_review(None)?.len() as u32,
        })
    }

    /// Entrants of `review` segments waiting for a decision: in the segment's worklist or
    /// overflow, no case in this episode, not dismissed in it. Optionally of one segment.
    pub fn to_review(&mut self, segment: Option<&str>) -> Result<Vec<ToReview>> {
        let catalog = self.catalog(None)?;
        let dismissed: BTreeSet<(String, String, String)> =
            self.store.dismissals()?.into_iter().collect();
        let memberships = self.store.memberships()?;
        let mut rows = Vec::new();
        for s in &catalog.segments {
            if s.definition.opening() != Opening::Review
                || segment.is_some_and(|wanted| wanted != s.definition.id)
            {
                continue;
            }
            for m in memberships
                .iter()
                .filter(|m| m.segment_id == s.definition.id && m.placement != "held_back")
            {
                if dismissed.contains(&(
                    m.segment_id.clone(),
                    m.patient_id.clone(),
                    m.since.clone(),
                )) || has_case_since(&self.ops()?.state, &m.patient_id, &m.segment_id, &m.since)
                {
                    continue;
                }
                let evidence = self
                    .store
                    .last_membership_change(&m.segment_id, &m.patient_id)?
                    .filter(|c| c.change == "entered")
                    .map(|c| serde_json::from_str(&c.evidence).unwrap_or_default())
                    .unwrap_or_default();
                rows.push(ToReview {
                    patient_id: m.patient_id.clone(),
                    segment_id: m.segment_id.clone(),
                    segment_name: s.definition.name.clone(),
                    since: m.since.clone(),
                    priority: m.priority,
                    placement: m.placement.clone(),
                    evidence,
                });
            }
        }
        rows.sort_by(|a, b| {
            (a.segment_id.as_str(), -a.priority, a.patient_id.as_str()).cmp(&(
                b.segment_id.as_str(),
                -b.priority,
                b.patient_id.as_str(),
            ))
        });
        Ok(rows)
    }

    /// A supervisor opens cases for entrants on the "to review" list of `segment` (`None`:
    /// all of them). Returns how many were opened.
    pub fn review_open(
        &mut self,
        session: &Session,
        segment: &str,
        people: Option<&[String]>,
    ) -> Result<u32> {
        self.authorize(
            session,
            Operation::ReviewEntrants,
            "open cases from the review list",
            None,
            Some(segment.to_owned()),
        )?;
        let catalog = self.catalog(None)?;
        let definition = catalog
            .segments
            .iter()
            .find(|s| s.definition.id == segment)
            .map(|s| s.definition.clone())
            .ok_or_else(|| ApiError::new(ErrorCode::NotFound, format!("no segment {segment}")))?;
        let waiting = self.to_review(Some(segment))?;
        if let Some(people) = people {
            if let Some(missing) = people
                .iter()
                .find(|p| !waiting.iter().any(|w| &w.patient_id == *p))
            {
                return Err(ApiError::new(
                    ErrorCode::NotFound,
                    format!("{missing} is not waiting for review in {segment}"),
                ));
            }
        }
        let rows: Vec<(String, i32, String)> = waiting
            .into_iter()
            .filter(|w| people.is_none_or(|p| p.contains(&w.patient_id)))
            .map(|w| {
                let summary = format!("{}: entered on {}, reviewed", definition.name, w.since);
                (w.patient_id, w.priority, summary)
            })
            .collect();
        let team = self.team()?;
        let worklists = [decide::SegmentWorklist {
            segment_id: segment.to_owned(),
            contact_within_working_days: definition.contact_within_working_days,
            rows,
        }];
        self.open_from_worklists(session, &team, &worklists, "review list")
    }

    /// A supervisor dismisses an entrant on the "to review" list, with a reason: not
    /// proposed again in this episode. Audited.
    pub fn review_dismiss(
        &mut self,
        session: &Session,
        segment: &str,
        patient_id: &str,
        reason: &str,
    ) -> Result<()> {
        self.authorize(
            session,
            Operation::ReviewEntrants,
            "dismiss an entrant",
            Some(patient_id),
            Some(segment.to_owned()),
        )?;
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(ApiError::new(
                ErrorCode::BadInput,
                "a dismissal needs a reason",
            ));
        }
        let waiting = self
            .to_review(Some(segment))?
            .into_iter()
            .find(|w| w.patient_id == patient_id)
            .ok_or_else(|| {
                ApiError::new(
                    ErrorCode::NotFound,
                    format!("{patient_id} is not waiting for review in {segment}"),
                )
            })?;
        self.store.dismiss_entrant(&ReviewDismissal {
            segment_id: segment.to_owned(),
            patient_id: patient_id.to_owned(),
            since: waiting.since,
            dismissed_by: session.user.clone(),
            dismissed_at: session
                .at
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            reason: reason.to_owned(),
        })?;
        self.store.append_audit(&crate::operations::audit_entry(
            session,
            "case.review_dismiss",
            Some(patient_id),
            Some(format!("{segment}: {reason}")),
            AuditOutcome::Allowed,
        ))?;
        Ok(())
    }

    /// Recorded entries and exits, oldest first, from the day `since` on (all when `None`).
    pub fn membership_changes(&self, since: Option<NaiveDate>) -> Result<Vec<MembershipChangeDto>> {
        let mut out = Vec::new();
        let mut after = 0;
        loop {
            let batch = self.store.membership_changes(after, 10_000)?;
            let Some(tail) = batch.last() else { break };
            after = tail.seq;
            out.extend(
                batch
                    .into_iter()
                    .filter(|c| since.is_none_or(|d| c.day.as_str() >= d.to_string().as_str()))
                    .map(|c| MembershipChangeDto {
                        evidence: serde_json::from_str(&c.evidence).unwrap_or_default(),
                        day: c.day,
                        segment_id: c.segment_id,
                        patient_id: c.patient_id,
                        change: c.change,
                        reason: c.reason,
                    }),
            );
        }
        Ok(out)
    }

    /// Segment names of this update's entries, for the summary line.
    fn changes_named(
        &self,
        catalog: &Catalog,
        changed: &ListsChanged,
    ) -> Result<Vec<(String, u32)>> {
        if changed.entered == 0 {
            return Ok(Vec::new());
        }
        let mut by_segment: BTreeMap<String, u32> = BTreeMap::new();
        let latest = self.store.membership_changes_of_day(&changed.as_of)?;
        for c in latest.iter().filter(|c| c.change == "entered") {
            *by_segment.entry(c.segment_id.clone()).or_default() += 1;
        }
        Ok(by_segment
            .into_iter()
            .map(|(id, n)| {
                let name = catalog
                    .segments
                    .iter()
                    .find(|s| s.definition.id == id)
                    .map_or(id, |s| s.definition.name.clone());
                (name, n)
            })
            .collect())
    }
}

/// Whether the person has a case in the segment opened on or after `since` (the episode).
fn has_case_since(
    state: &careloop_ops::OpsState,
    patient: &str,
    segment: &str,
    since: &str,
) -> bool {
    state.cases.values().any(|c| {
        c.patient_id == patient
            && c.segment_id == segment
            && (c.status != careloop_ops::CaseStatus::Closed
                || c.opened_at.date_naive().to_string().as_str() >= since)
    })
}

fn exit_text(reason: &str) -> &'static str {
    match reason {
        "died" => "the person died",
        "left_panel" => "the person left the panel",
        "segment_withdrawn" => "the segment is no longer in force",
        _ => "the person no longer meets the segment's rule",
    }
}

/// "3 new in Post-discharge · 1 closed by new data", or "No changes".
fn summary_line(changed: &ListsChanged, entered: &[(String, u32)]) -> String {
    let mut parts: Vec<String> = entered
        .iter()
        .map(|(name, n)| format!("{n} new in {name}"))
        .collect();
    let left = changed.exited;
    if changed.closed_by_new_data > 0 {
        parts.push(format!("{} closed by new data", changed.closed_by_new_data));
    }
    if changed.closed_left_segment > 0 {
        parts.push(format!(
            "{} closed: left the segment",
            changed.closed_left_segment
        ));
    }
    match changed.opened {
        0 => {}
        1 => parts.push("1 case opened".to_owned()),
        n => parts.push(format!("{n} cases opened")),
    }
    match changed.alerts {
        0 => {}
        1 => parts.push("1 new alert".to_owned()),
        n => parts.push(format!("{n} new alerts")),
    }
    if left > 0 && parts.iter().all(|p| !p.contains("closed")) {
        parts.push(format!("{left} left a list"));
    }
    if parts.is_empty() {
        "No changes".to_owned()
    } else {
        parts.join(" · ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_summary_line_says_what_changed_in_words() {
        let changed = ListsChanged {
            entered: 3,
            exited: 1,
            closed_by_new_data: 1,
            ..ListsChanged::default()
        };
        let one_opened = ListsChanged {
            entered: 1,
            opened: 1,
            ..ListsChanged::default()
        };
        assert_eq!(
            summary_line(&one_opened, &[("Dormant".into(), 1)]),
            "1 new in Dormant · 1 case opened"
        );
        assert_eq!(
            summary_line(&changed, &[("Post-discharge".into(), 3)]),
            "3 new in Post-discharge · 1 closed by new data"
        );
        assert_eq!(summary_line(&ListsChanged::default(), &[]), "No changes");
    }
}
