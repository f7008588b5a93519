//! Folding a log that several workstations wrote while offline.
//!
//! Every workstation and the server fold the same events in the same order (the server's
//! global order, then a workstation's own unacknowledged events), so they derive the same
//! state. Two things can happen that a single workstation never sees:
//!
//! - **Superseded**: an event the state machines refuse in that order, e.g. a second claim of
//!   a case another coordinator claimed first (first in server order wins). It stays in the
//!   log and is listed with why ("already claimed by ana"); it changes nothing.
//! - **Conflict**: two different outcomes for the same case step, recorded on different
//!   workstations from the same starting point (each event names the case event its author
//!   had last seen: [`Envelope::after`]), or the same attempt recorded twice with different
//!   content. Both are kept and the conflict is listed until a person resolves it with a
//!   [`Resolution`] event. Nothing is settled by silent last-writer-wins.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::events::{OpEvent, Recorded};
use crate::{OpsError, OpsState, Policy};

/// The log kind of a conflict resolution.
pub const RESOLUTION_KIND: &str = "conflict.resolved";

/// A person's decision on a conflict: which of the events stands, and why. The other event
/// stays in the log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Resolution {
    pub case_id: Uuid,
    /// The conflict, named by its two events.
    pub events: [Uuid; 2],
    /// The event that stands.
    pub kept: Uuid,
    pub note: String,
}

/// One entry of the log as the fold sees it.
pub enum Envelope<'a> {
    /// An operational event, with the case event its author had last seen (if recorded).
    Op {
        recorded: &'a Recorded,
        after: Option<Uuid>,
    },
    /// A conflict resolution, by whom.
    Resolution {
        id: Uuid,
        actor: &'a str,
        resolution: &'a Resolution,
    },
}

/// One entry of the log, owned, as every reader of operational state keeps it: the
/// workstation's operations state, the weekly review and the server read the same entries
/// through the same [`Fold`] (there is no second, stricter replay).
#[derive(Clone, Debug, PartialEq)]
pub enum LogEntry {
    Op {
        recorded: Recorded,
        /// The case event its author had last seen.
        after: Option<Uuid>,
    },
    Resolution {
        id: Uuid,
        actor: String,
        at: DateTime<Utc>,
        resolution: Resolution,
    },
}

impl LogEntry {
    /// How the fold reads it.
    pub fn envelope(&self) -> Envelope<'_> {
        match self {
            LogEntry::Op { recorded, after } => Envelope::Op {
                recorded,
                after: *after,
            },
            LogEntry::Resolution {
                id,
                actor,
                resolution,
                ..
            } => Envelope::Resolution {
                id: *id,
                actor,
                resolution,
            },
        }
    }

    /// When it was recorded.
    pub fn at(&self) -> DateTime<Utc> {
        match self {
            LogEntry::Op { recorded, .. } => recorded.at,
            LogEntry::Resolution { at, .. } => *at,
        }
    }

    /// The operational event, if it is one.
    pub fn recorded(&self) -> Option<&Recorded> {
        match self {
            LogEntry::Op { recorded, .. } => Some(recorded),
            LogEntry::Resolution { .. } => None,
        }
    }
}

impl From<Recorded> for LogEntry {
    /// An event recorded by a single writer (no `after`).
    fn from(recorded: Recorded) -> LogEntry {
        LogEntry::Op {
            recorded,
            after: None,
        }
    }
}

/// An event kept in the log that changed nothing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Superseded {
    pub event_id: Uuid,
    pub case_id: Uuid,
    pub patient_id: String,
    pub actor: String,
    pub kind: String,
    pub why: String,
}

/// Two outcomes for one case step.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Conflict {
    pub case_id: Uuid,
    pub patient_id: String,
    /// The earlier event in the fold's order, then the later one.
    pub events: [Uuid; 2],
    pub kinds: [String; 2],
    pub actors: [String; 2],
    /// Who resolved it, which event stands, and the note.
    pub resolved: Option<(String, Uuid, String)>,
}

/// One event of a case as folded.
#[derive(Clone, Debug)]
struct Step {
    event_id: Uuid,
    applied: bool,
    outcome: bool,
}

/// What folding a multi-writer log found beside the state ([`OpsState`], which it updates).
#[derive(Clone, Debug, Default)]
pub struct Fold {
    pub superseded: Vec<Superseded>,
    pub conflicts: Vec<Conflict>,
    case_log: HashMap<Uuid, Vec<Step>>,
    attempts: HashMap<Uuid, (Uuid, String)>,
    conflict_by_pair: BTreeMap<[Uuid; 2], usize>,
    /// Who recorded each applied event, and its kind (for naming a conflict's first event).
    applied: HashMap<Uuid, (String, &'static str)>,
}

/// Whether an event records an outcome of a case step (what two workstations can disagree
/// on), as opposed to routing (claims and assignments, which the server's order settles).
pub fn is_outcome(event: &OpEvent) -> bool {
    matches!(
        event,
        OpEvent::AttemptRecorded(_)
            | OpEvent::CallbackDocumented { .. }
            | OpEvent::EscalationResolved { .. }
            | OpEvent::ReferralUpdated { .. }
            | OpEvent::CaseClosed { .. }
    )
}

impl Fold {
    /// Folds a whole log in order.
    pub fn from_log<'a>(
        log: impl IntoIterator<Item = Envelope<'a>>,
        policy: &Policy,
    ) -> (OpsState, Fold) {
        let mut state = OpsState::default();
        let mut fold = Fold::default();
        for entry in log {
            fold.apply(&mut state, entry, policy);
        }
        (state, fold)
    }

    /// Applies an event recorded on this workstation now: refused (with the state
    /// machines' error, nothing changed) when it cannot apply, as a single writer would be.
    pub fn apply_local(
        &mut self,
        state: &mut OpsState,
        recorded: &Recorded,
        policy: &Policy,
    ) -> Result<(), OpsError> {
        state.apply(recorded, policy)?;
        self.note_applied(recorded);
        Ok(())
    }

    fn note_applied(&mut self, recorded: &Recorded) {
        if let OpEvent::AttemptRecorded(attempt) = &recorded.event {
            self.attempts
                .insert(attempt.attempt_id, (recorded.id, recorded.actor.clone()));
        }
        self.applied
            .insert(recorded.id, (recorded.actor.clone(), recorded.event.kind()));
        self.push_step(
            recorded.event.case_id(),
            recorded.id,
            true,
            is_outcome(&recorded.event),
        );
    }

    /// The last event of a case in this fold (what a new event of it records as `after`).
    pub fn last_event_of_case(&self, case_id: Uuid) -> Option<Uuid> {
        self.case_log
            .get(&case_id)
            .and_then(|steps| steps.last())
            .map(|s| s.event_id)
    }

    /// Open conflicts of a case.
    pub fn open_conflicts(&self, case_id: Uuid) -> impl Iterator<Item = &Conflict> {
        self.conflicts
            .iter()
            .filter(move |c| c.case_id == case_id && c.resolved.is_none())
    }

    /// Checks a resolution against the conflicts (for the API, before appending one).
    pub fn check_resolution(&self, resolution: &Resolution) -> Result<(), OpsError> {
        let index = self
            .conflict_by_pair
            .get(&resolution.events)
            .ok_or_else(|| OpsError::NotFound {
                what: "conflict",
                id: format!("{}+{}", resolution.events[0], resolution.events[1]),
            })?;
        let conflict = &self.conflicts[*index];
        if conflict.case_id != resolution.case_id {
            return Err(OpsError::Invalid(format!(
                "the conflict belongs to case {}, not {}",
                conflict.case_id, resolution.case_id
            )));
        }
        if !resolution.events.contains(&resolution.kept) {
            return Err(OpsError::Invalid(format!(
                "event {} is not one of the conflict's two events",
                resolution.kept
            )));
        }
        if resolution.note.trim().is_empty() {
            return Err(OpsError::Invalid(
                "say why in a note: the resolution is kept in the record".into(),
            ));
        }
        if conflict.resolved.is_some() {
            return Err(OpsError::Transition {
                what: "conflict",
                id: format!("{}+{}", resolution.events[0], resolution.events[1]),
                from: "resolved".into(),
                action: "resolve",
                why: "it is already resolved".into(),
            });
        }
        Ok(())
    }

    /// Folds one more entry. Never fails: what cannot apply is listed, not dropped. Returns
    /// whether it took effect (false: it is listed in [`Fold::superseded`]). An outcome that
    /// conflicts with another takes effect (both are kept, and the conflict is listed).
    pub fn apply(&mut self, state: &mut OpsState, entry: Envelope<'_>, policy: &Policy) -> bool {
        match entry {
            Envelope::Op { recorded, after } => self.apply_op(state, recorded, after, policy),
            Envelope::Resolution {
                id,
                actor,
                resolution,
            } => {
                if self.check_resolution(resolution).is_ok() {
                    let index = self.conflict_by_pair[&resolution.events];
                    self.conflicts[index].resolved =
                        Some((actor.to_owned(), resolution.kept, resolution.note.clone()));
                    true
                } else {
                    // A second resolution of the same conflict (two supervisors offline):
                    // the first in order stands; this one is kept in the log, listed.
                    let why = self
                        .check_resolution(resolution)
                        .err()
                        .map(|e| e.to_string())
                        .unwrap_or_default();
                    self.superseded.push(Superseded {
                        event_id: id,
                        case_id: resolution.case_id,
                        patient_id: String::new(),
                        actor: actor.to_owned(),
                        kind: RESOLUTION_KIND.into(),
                        why,
                    });
                    false
                }
            }
        }
    }

    fn apply_op(
        &mut self,
        state: &mut OpsState,
        recorded: &Recorded,
        after: Option<Uuid>,
        policy: &Policy,
    ) -> bool {
        let case_id = recorded.event.case_id();
        let outcome = is_outcome(&recorded.event);
        // The same attempt recorded twice with different content.
        if let OpEvent::AttemptRecorded(attempt) = &recorded.event {
            if let Some((first, first_actor)) = self.attempts.get(&attempt.attempt_id).cloned() {
                self.add_conflict(case_id, recorded, first, first_actor);
                self.push_step(case_id, recorded.id, false, outcome);
                self.superseded.push(superseded(
                    recorded,
                    format!("attempt {} is already recorded", attempt.attempt_id),
                ));
                return false;
            }
        }
        // A concurrent outcome: one recorded after the author's `after`, by someone else.
        if outcome {
            if let (Some(after), Some(steps)) = (after, self.case_log.get(&case_id)) {
                if let Some(position) = steps.iter().position(|s| s.event_id == after) {
                    let rival = steps[position + 1..]
                        .iter()
                        .find(|s| s.applied && s.outcome)
                        .map(|s| s.event_id);
                    if let Some(rival) = rival {
                        let rival_actor = self.actor_of(rival);
                        self.add_conflict(case_id, recorded, rival, rival_actor);
                    }
                }
            }
        }
        // The same case opened again (its id names team, person, segment and episode): one
        // case, nothing to apply and nothing to report.
        if let OpEvent::CaseOpened { segment_id, .. } = &recorded.event {
            if state
                .cases
                .get(&case_id)
                .is_some_and(|c| c.patient_id == recorded.patient_id && c.segment_id == *segment_id)
            {
                self.push_step(case_id, recorded.id, false, false);
                return false;
            }
        }
        // The same alert raised again (by another workstation, or the same data imported
        // again elsewhere): one alert.
        if let OpEvent::AlertRaised { alert_id, .. } = &recorded.event {
            if state
                .alerts
                .get(alert_id)
                .is_some_and(|a| a.patient_id == recorded.patient_id)
            {
                self.push_step(case_id, recorded.id, false, false);
                return false;
            }
        }
        match state.apply(recorded, policy) {
            Ok(()) => {
                self.note_applied(recorded);
                true
            }
            Err(e) => {
                self.push_step(case_id, recorded.id, false, outcome);
                self.superseded.push(superseded(recorded, why(&e)));
                false
            }
        }
    }

    fn push_step(&mut self, case_id: Uuid, event_id: Uuid, applied: bool, outcome: bool) {
        self.case_log.entry(case_id).or_default().push(Step {
            event_id,
            applied,
            outcome,
        });
    }

    fn actor_of(&self, event_id: Uuid) -> String {
        self.applied
            .get(&event_id)
            .map(|(actor, _)| actor.clone())
            .unwrap_or_default()
    }

    fn add_conflict(&mut self, case_id: Uuid, later: &Recorded, earlier: Uuid, actor: String) {
        let pair = [earlier, later.id];
        if self.conflict_by_pair.contains_key(&pair) {
            return;
        }
        let earlier_kind = self
            .applied
            .get(&earlier)
            .map_or(later.event.kind(), |(_, kind)| *kind)
            .to_owned();
        self.conflict_by_pair.insert(pair, self.conflicts.len());
        self.conflicts.push(Conflict {
            case_id,
            patient_id: later.patient_id.clone(),
            events: pair,
            kinds: [earlier_kind, later.event.kind().to_owned()],
            actors: [actor, later.actor.clone()],
            resolved: None,
        });
    }
}

/// The derived state and what the fold found, as JSON: equal on every replica that folded
/// the same events in the same order (what the convergence tests compare).
pub fn snapshot(state: &OpsState, fold: &Fold) -> serde_json::Value {
    serde_json::json!({
        "cases": state.cases,
        "callbacks": state.callbacks,
        "escalations": state.escalations,
        "referrals": state.referrals,
        "alerts": state.alerts,
        "conflicts": fold.conflicts,
        "superseded": fold.superseded,
    })
}

fn why(e: &OpsError) -> String {
    match e {
        OpsError::Transition { why, .. } => why.clone(),
        e => e.to_string(),
    }
}

fn superseded(recorded: &Recorded, why: String) -> Superseded {
    Superseded {
        event_id: recorded.id,
        case_id: recorded.event.case_id(),
        patient_id: recorded.patient_id.clone(),
        actor: recorded.actor.clone(),
        kind: recorded.event.kind().to_owned(),
        why,
    }
}
