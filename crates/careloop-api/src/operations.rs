//! Outreach operations through the API: every call names who is asking ([`Session`]), is
//! checked against the RBAC matrix of `careloop_ops::rbac`, and leaves an audit entry
//! (allowed or denied) in the hash chain; every change is appended to the event log
//! together with its audit entry in one transaction, then applied to the in-memory state
//! (a fold of the log, rebuilt when the cache is opened).

use std::collections::HashMap;

use careloop_ops::decide::{self, Decision};
use careloop_ops::events::{Payload, Recorded, KINDS};
use careloop_ops::guards;
use careloop_ops::rbac::{self, Field, Operation};
use careloop_ops::suggest::{self, PastAttempt, Preference};
use careloop_ops::sync::{Fold, LogEntry, Resolution, RESOLUTION_KIND};
use careloop_ops::{
    CaseStatus, Channel, CloseReason, EscalationKind, NextAction, OpEvent, OpsError, OpsState,
    Policy, ReferralStatus, Role, ServiceType,
};
use careloop_scripts::ScriptLibrary;
use careloop_store::{AuditHead, AuditOutcome, NewAuditEntry, NewEvent};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use uuid::Uuid;

use crate::derived::Change;
use crate::{ApiError, Careloop, ErrorCode, Result};

/// Who is asking, and when (the clock is read by the caller: the desktop app, or the CLI's
/// `--at`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Session {
    pub user: String,
    pub role: Role,
    pub at: DateTime<Utc>,
}

impl From<OpsError> for ApiError {
    fn from(e: OpsError) -> ApiError {
        let code = match e {
            OpsError::NotFound { .. } => ErrorCode::NotFound,
            OpsError::Transition { .. } | OpsError::DuplicateOpenCase { .. } => ErrorCode::Conflict,
            OpsError::Refused(_) => ErrorCode::Refused,
            OpsError::Forbidden(_) => ErrorCode::Forbidden,
            OpsError::UnknownName { .. } | OpsError::Invalid(_) => ErrorCode::BadInput,
        };
        ApiError::new(code, e.to_string())
    }
}

impl From<careloop_scripts::ScriptError> for ApiError {
    fn from(e: careloop_scripts::ScriptError) -> ApiError {
        ApiError::new(ErrorCode::Internal, e.to_string())
    }
}

/// The operations' in-memory part of an open cache.
#[derive(Debug)]
pub(crate) struct Ops {
    pub state: OpsState,
    pub policy: Policy,
    pub scripts: ScriptLibrary,
    /// Names and languages of everyone, by id (for worklist rows).
    pub people: HashMap<String, careloop_store::StoredPatient>,
    /// New panel data came in ([`crate::derived::Change::Panel`]) and `people` is brought
    /// up to date from the fact store's stale list when next used.
    pub people_stale: bool,
    /// The log in the fold's order (the server's, then this workstation's outbox): every
    /// reader of operational state (timeline, suggestions, search, the weekly review) reads
    /// these entries, and the review folds them with the same [`Fold`].
    pub log: Vec<LogEntry>,
    /// What folding events from several workstations found: superseded events, conflicts.
    pub fold: Fold,
}

/// The payload of a conflict resolution in the log.
#[derive(serde::Deserialize, Serialize)]
pub(crate) struct ResolutionPayload {
    pub role: Role,
    pub resolution: Resolution,
}

/// A filter of the worklist.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WorklistFilter {
    /// Whose cases: a user name; `None`: the caller's own; `Some("")`: the unassigned pool.
    pub owner: Option<String>,
    pub segment: Option<String>,
    pub status: Option<CaseStatus>,
    /// Only cases due by the end of this date.
    pub due_by: Option<NaiveDate>,
    /// Include closed cases.
    pub include_closed: bool,
    /// Rows to skip and the most to return (after ordering), for paging a long pool.
    pub offset: usize,
    pub limit: Option<usize>,
}

/// One worklist row.
#[derive(Clone, Debug, PartialEq, Serialize, ts_rs::TS)]
#[ts(export)]
pub struct WorklistRow {
    pub case_id: String,
    pub patient_id: String,
    pub name: String,
    pub segment_id: String,
    /// The segment's title, from its definition.
    pub segment_name: String,
    pub status: String,
    pub owner: Option<String>,
    pub priority: i32,
    pub due: String,
    pub overdue: bool,
    /// Why the person is on the list.
    pub summary: String,
    pub preferred_language: Option<String>,
    pub preferred_channel: Option<String>,
    pub last_contact: Option<String>,
    pub attempts: u32,
    pub suggestion: Option<SuggestionDto>,
    /// Why a closed case closed.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub reason: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, ts_rs::TS)]
#[ts(export)]
pub struct SuggestionDto {
    pub channel: String,
    pub when: String,
    pub reason: String,
}

pub use careloop_ops::decide::AttemptInput;

/// What an operation did: the ids it made.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ts_rs::TS)]
#[ts(export)]
pub struct Done {
    pub event_ids: Vec<String>,
    /// The new callback, escalation or referral, if the action made one.
    pub created: Option<String>,
    pub case_status: Option<String>,
}

/// Cases opened from a segmentation run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ts_rs::TS)]
#[ts(export)]
pub struct OpenedCases {
    pub opened: u32,
    /// Worklist members who already had an open case in the segment.
    pub already_open: u32,
}

pub(crate) fn audit_entry(
    session: &Session,
    action: &str,
    patient_id: Option<&str>,
    target: Option<String>,
    outcome: AuditOutcome,
) -> NewAuditEntry {
    NewAuditEntry {
        at: session.at,
        actor: session.user.clone(),
        role: session.role.to_string(),
        action: action.to_owned(),
        patient_id: patient_id.map(str::to_owned),
        target,
        outcome,
    }
}

use audit_entry as audit;

fn to_new_event(r: &Recorded, after: Option<Uuid>) -> Result<NewEvent> {
    Ok(NewEvent {
        id: r.id,
        kind: r.event.kind().to_owned(),
        subject: r.patient_id.clone(),
        actor: r.actor.clone(),
        occurred_at: r.at,
        payload: serde_json::to_value(Payload {
            role: r.role,
            event: r.event.clone(),
            after,
        })
        .map_err(ApiError::internal)?,
        payload_version: 1,
    })
}

pub(crate) fn from_stored(e: &careloop_store::Event) -> Result<Recorded> {
    Ok(from_stored_with_after(e)?.0)
}

/// An operational event of the log, and the case event its author had last seen.
pub(crate) fn from_stored_with_after(
    e: &careloop_store::Event,
) -> Result<(Recorded, Option<Uuid>)> {
    let payload: Payload = serde_json::from_value(e.payload.clone()).map_err(|err| {
        ApiError::internal(format!(
            "event {} ({}) cannot be read: {err}",
            e.seq, e.kind
        ))
    })?;
    Ok(payload.recorded(e.id, e.occurred_at, &e.actor, &e.subject))
}

/// The person and id an action is about, when the case exists (else the decision says
/// which id was not found).
fn case_subject(case_id: Uuid) -> impl FnOnce(&OpsState) -> Option<(String, Uuid)> {
    move |state| Some((state.cases.get(&case_id)?.patient_id.clone(), case_id))
}

fn new_id(session: &Session) -> Uuid {
    new_event_id(session.at)
}

/// A UUIDv7 from the caller's time (not a clock read here) and random bits.
pub(crate) fn new_event_id(at: DateTime<Utc>) -> Uuid {
    let ts = uuid::Timestamp::from_unix(
        uuid::NoContext,
        at.timestamp() as u64,
        at.timestamp_subsec_nanos(),
    );
    Uuid::new_v7(ts)
}

impl Careloop {
    /// The operations state, folded from the log on first use.
    /// The team whose panel this cache holds (case ids are derived from it): the one the
    /// server's panel pages name, else `local` (a workstation without a server).
    pub fn team(&self) -> Result<String> {
        Ok(self
            .store
            .sync_meta(crate::sync::TEAM)?
            .unwrap_or_else(|| "local".to_owned()))
    }

    pub(crate) fn ops(&mut self) -> Result<&mut Ops> {
        if self
            .derived
            .ops
            .as_ref()
            .is_some_and(|ops| ops.people_stale)
        {
            // Works off the stale list, which brings the people up to date.
            self.refresh_facts(&mut |_, _| {})?;
        }
        if self.derived.ops.is_none() {
            let policy = Policy::default();
            // In sync order: the server's order first, then this workstation's outbox. Events
            // that cannot apply in that order (a claim another workstation made first) are
            // kept and listed, not dropped: see `careloop_ops::sync`.
            let mut log = Vec::new();
            let mut state = OpsState::default();
            let mut fold = Fold::default();
            let mut failure = None;
            self.store.for_each_event_in_sync_order(|synced| {
                let e = &synced.event;
                if KINDS.contains(&e.kind.as_str()) {
                    match from_stored_with_after(e) {
                        Ok((recorded, after)) => {
                            let entry = LogEntry::Op { recorded, after };
                            fold.apply(&mut state, entry.envelope(), &policy);
                            log.push(entry);
                        }
                        Err(err) => failure = Some(err),
                    }
                } else if e.kind == RESOLUTION_KIND {
                    match serde_json::from_value::<ResolutionPayload>(e.payload.clone()) {
                        Ok(p) => {
                            let entry = LogEntry::Resolution {
                                id: e.id,
                                actor: e.actor.clone(),
                                at: e.occurred_at,
                                resolution: p.resolution,
                            };
                            fold.apply(&mut state, entry.envelope(), &policy);
                            log.push(entry);
                        }
                        Err(err) => {
                            failure = Some(ApiError::internal(format!(
                                "event {} ({}) cannot be read: {err}",
                                e.seq, e.kind
                            )))
                        }
                    }
                }
                Ok(())
            })?;
            if let Some(err) = failure {
                return Err(err);
            }
            let (_, people) = self.store.patients_page(None, 0, i64::MAX as u64)?;
            self.derived.ops = Some(Ops {
                state,
                policy,
                scripts: careloop_scripts::builtin_scripts()?,
                people: people.into_iter().map(|p| (p.id.clone(), p)).collect(),
                people_stale: false,
                log,
                fold,
            });
        }
        Ok(self.derived.ops.as_mut().expect("just set"))
    }

    /// Checks the role; a refusal is audited and returned as `forbidden`.
    pub(crate) fn authorize(
        &mut self,
        session: &Session,
        operation: Operation,
        action: &str,
        patient_id: Option<&str>,
        target: Option<String>,
    ) -> Result<()> {
        if rbac::allowed(session.role, operation) {
            return Ok(());
        }
        self.store.append_audit(&audit(
            session,
            action,
            patient_id,
            target,
            AuditOutcome::Denied,
        ))?;
        Err(ApiError::new(
            ErrorCode::Forbidden,
            format!("a {} may not {action}", session.role),
        ))
    }

    /// Records a read of a person's record.
    pub(crate) fn audit_read(
        &mut self,
        session: &Session,
        action: &str,
        patient_id: Option<&str>,
        target: Option<String>,
    ) -> Result<()> {
        self.store.append_audit(&audit(
            session,
            action,
            patient_id,
            target,
            AuditOutcome::Allowed,
        ))?;
        Ok(())
    }

    /// Checks events against the state, appends them with their audit entry in one
    /// transaction, then keeps them. Nothing lands when any is refused.
    pub(crate) fn commit(
        &mut self,
        session: &Session,
        action: &str,
        events: Vec<OpEvent>,
        patient_id: &str,
        target: Option<String>,
    ) -> Result<Vec<Recorded>> {
        let recorded: Vec<Recorded> = events
            .into_iter()
            .map(|event| Recorded {
                id: new_id(session),
                at: session.at,
                actor: session.user.clone(),
                role: session.role,
                patient_id: patient_id.to_owned(),
                event,
            })
            .collect();
        let entry = audit(
            session,
            action,
            Some(patient_id),
            target,
            AuditOutcome::Allowed,
        );
        self.commit_recorded(recorded, entry)
    }

    /// Applies the events to the state in order (each is checked first, so a refused one
    /// changes nothing itself), then appends them and the audit entry in one transaction.
    /// When a later event of a batch is refused, or the append fails, the events already
    /// applied in memory are not in the log: the state is dropped and folded again from the
    /// log on next use. No state is copied on the usual path.
    pub(crate) fn commit_recorded(
        &mut self,
        recorded: Vec<Recorded>,
        entry: NewAuditEntry,
    ) -> Result<Vec<Recorded>> {
        let ops = self.ops()?;
        let mut new_events = Vec::with_capacity(recorded.len());
        let mut afters = Vec::with_capacity(recorded.len());
        for (n, r) in recorded.iter().enumerate() {
            let after = ops.fold.last_event_of_case(r.event.case_id());
            afters.push(after);
            let applied = to_new_event(r, after).and_then(|event| {
                ops.fold
                    .apply_local(&mut ops.state, r, &ops.policy)
                    .map_err(ApiError::from)?;
                Ok(event)
            });
            match applied {
                Ok(event) => new_events.push(event),
                Err(e) => {
                    if n > 0 {
                        self.derived.changed(Change::CommitFailed);
                    }
                    return Err(e);
                }
            }
        }
        if let Err(e) = self
            .store
            .append_events_with_audit(&new_events, std::slice::from_ref(&entry))
        {
            self.derived.changed(Change::CommitFailed);
            return Err(e.into());
        }
        let ops = self.derived.ops.as_mut().expect("loaded above");
        ops.log
            .extend(recorded.iter().zip(afters).map(|(r, after)| LogEntry::Op {
                recorded: r.clone(),
                after,
            }));
        self.derived.changed(Change::Committed);
        if self.index_events(&recorded).is_err() {
            // The log is the truth; the index is rebuilt from it when next searched.
            self.derived.changed(Change::SearchFailed);
        }
        Ok(recorded)
    }

    fn case_patient(&mut self, case_id: Uuid) -> Result<(String, String)> {
        let ops = self.ops()?;
        let case = ops
            .state
            .cases
            .get(&case_id)
            .ok_or_else(|| ApiError::new(ErrorCode::NotFound, format!("no case {case_id}")))?;
        Ok((case.patient_id.clone(), case.segment_id.clone()))
    }

    /// Opens a case for every worklist member of a segmentation run (as of `as_of`) who has
    /// no open case in that segment, due by the segment's contact deadline.
    pub fn open_cases(
        &mut self,
        session: &Session,
        as_of: NaiveDate,
        definitions: Option<&std::path::Path>,
    ) -> Result<OpenedCases> {
        self.open_cases_with(session, as_of, definitions, None)
    }

    /// [`Careloop::open_cases`] on the panel's facts when the caller already holds them
    /// (loaded once with [`Careloop::panel_facts`] for many runs on an unchanged panel, as
    /// the activity simulator does: reading them is most of a run's time); `None` reads them
    /// from the store.
    pub(crate) fn open_cases_with(
        &mut self,
        session: &Session,
        as_of: NaiveDate,
        definitions: Option<&std::path::Path>,
        panel: Option<&[careloop_segment::PatientFacts]>,
    ) -> Result<OpenedCases> {
        self.authorize(
            session,
            Operation::RunSegmentation,
            "open cases",
            None,
            None,
        )?;
        let actor = crate::Actor {
            name: session.user.clone(),
            at: session.at,
        };
        let (catalog, cohorts) = self.run_segments(as_of, definitions, &actor, panel)?;
        let worklists: Vec<decide::SegmentWorklist> = cohorts
            .into_iter()
            .filter_map(|c| {
                let segment = catalog
                    .segments
                    .iter()
                    .find(|s| s.definition.id == c.segment_id)?;
                let name = &segment.definition.name;
                let rows = c
                    .worklist
                    .iter()
                    .map(|id| {
                        let priority = c.priority.get(id);
                        let reasons: Vec<&str> = priority
                            .map(|p| p.points.iter().map(|(_, r)| r.as_str()).collect())
                            .unwrap_or_default();
                        let summary = if reasons.is_empty() {
                            name.clone()
                        } else {
                            format!("{name}: {}", reasons.join(" "))
                        };
                        (id.clone(), priority.map_or(0, |p| p.total), summary)
                    })
                    .collect();
                Some(decide::SegmentWorklist {
                    segment_id: c.segment_id,
                    contact_within_working_days: segment.definition.contact_within_working_days,
                    rows,
                })
            })
            .collect();
        let team = self.team()?;
        let already_open = {
            let ops = self.ops()?;
            decide::open_cases(&ops.state, &ops.policy, session.at, &team, &worklists).already_open
        };
        let opened =
            self.open_from_worklists(session, &team, &worklists, &format!("as of {as_of}"))?;
        Ok(OpenedCases {
            opened,
            already_open,
        })
    }

    /// Opens a case for each worklist row without an open case in its segment
    /// ([`decide::open_cases`]), in one transaction with one audit entry ("N cases {what}").
    /// Returns how many were opened.
    pub(crate) fn open_from_worklists(
        &mut self,
        session: &Session,
        team: &str,
        worklists: &[decide::SegmentWorklist],
        what: &str,
    ) -> Result<u32> {
        let ops = self.ops()?;
        let openings = decide::open_cases(&ops.state, &ops.policy, session.at, team, worklists);
        let opened = openings.events.len() as u32;
        // One transaction for the whole batch, one audit entry for it.
        let recorded: Vec<Recorded> = openings
            .events
            .into_iter()
            .map(|(patient_id, event)| Recorded {
                id: new_id(session),
                at: session.at,
                actor: session.user.clone(),
                role: session.role,
                patient_id,
                event,
            })
            .collect();
        let entry = audit(
            session,
            "case.open_from_worklist",
            None,
            Some(format!("{opened} cases {what}")),
            AuditOutcome::Allowed,
        );
        self.commit_recorded(recorded, entry)?;
        Ok(opened)
    }

    /// The operation's role check (a refusal audited), then its decision from
    /// [`careloop_ops::decide`] on the current state (a refusal changes nothing), committed
    /// with its audit entry naming `target`.
    pub(crate) fn decide(
        &mut self,
        session: &Session,
        (operation, what): (Operation, &str),
        subject: impl FnOnce(&OpsState) -> Option<(String, Uuid)>,
        decide: impl FnOnce(
            &Ops,
            decide::Who<'_>,
            &mut dyn FnMut() -> Uuid,
        ) -> std::result::Result<Decision, OpsError>,
    ) -> Result<Done> {
        let (patient, target) = subject(&self.ops()?.state).unzip();
        self.authorize(
            session,
            operation,
            what,
            patient.as_deref(),
            target.map(|t| t.to_string()),
        )?;
        let who = decide::Who {
            user: &session.user,
            role: session.role,
            at: session.at,
        };
        let decision = decide(self.ops()?, who, &mut || new_id(session))?;
        let target = target.unwrap_or(decision.case_id).to_string();
        let recorded = self.commit(
            session,
            decision.audit_action,
            decision.events,
            &decision.patient_id,
            Some(target),
        )?;
        self.done(recorded, decision.created, decision.case_id)
    }

    /// A coordinator takes an unassigned case, within their caseload limit.
    pub fn claim_case(&mut self, session: &Session, case_id: Uuid) -> Result<Done> {
        self.decide(
            session,
            (Operation::ClaimCase, "claim a case"),
            case_subject(case_id),
            |ops, who, _| decide::claim(&ops.state, &ops.policy, who, case_id),
        )
    }

    /// A supervisor assigns or reassigns a case, within the assignee's caseload limit.
    pub fn assign_case(&mut self, session: &Session, case_id: Uuid, to: &str) -> Result<Done> {
        self.decide(
            session,
            (Operation::AssignCase, "assign a case"),
            case_subject(case_id),
            |ops, _, _| decide::assign(&ops.state, &ops.policy, case_id, to),
        )
    }

    fn done(
        &mut self,
        recorded: Vec<Recorded>,
        created: Option<Uuid>,
        case_id: Uuid,
    ) -> Result<Done> {
        let ops = self.ops()?;
        Ok(Done {
            event_ids: recorded.iter().map(|r| r.id.to_string()).collect(),
            created: created.map(|c| c.to_string()),
            case_status: ops.state.cases.get(&case_id).map(|c| c.status.to_string()),
        })
    }

    /// Documents an attempt ([`decide::attempt`]: the owner, the channel rule, the person's
    /// language, the over-contact guard and the script's answers); the next action's own
    /// event (callback, escalation, referral, closing) lands in the same transaction.
    pub fn record_attempt(&mut self, session: &Session, input: AttemptInput) -> Result<Done> {
        let case_id = input.case_id;
        let (_, segment_id) = self.case_patient(case_id)?;
        let script_id = self.segment_script(&segment_id)?;
        self.decide(
            session,
            (Operation::RecordAttempt, "record an attempt"),
            case_subject(case_id),
            |ops, who, ids| {
                let script = ops.scripts.get(&script_id).ok_or_else(|| {
                    OpsError::Invalid(format!(
                        "segment {segment_id} names script {script_id}, which does not exist"
                    ))
                })?;
                let patient = &ops.state.cases[&case_id].patient_id;
                let preferred = ops
                    .people
                    .get(patient)
                    .and_then(|p| p.preferred_language.as_deref());
                decide::attempt(&ops.state, &ops.policy, who, input, script, preferred, ids)
            },
        )
    }

    fn segment_script(&mut self, segment_id: &str) -> Result<String> {
        let catalog = self.catalog(None)?;
        catalog
            .segments
            .iter()
            .find(|s| s.definition.id == segment_id)
            .map(|s| s.definition.script.clone())
            .ok_or_else(|| ApiError::new(ErrorCode::NotFound, format!("no segment {segment_id}")))
    }

    /// Closes a case with a reason.
    pub fn close_case(
        &mut self,
        session: &Session,
        case_id: Uuid,
        reason: CloseReason,
        note: Option<String>,
    ) -> Result<Done> {
        self.decide(
            session,
            (Operation::CloseCase, "close a case"),
            case_subject(case_id),
            |ops, _, _| decide::close(&ops.state, case_id, reason, note),
        )
    }

    /// A clinician documents a callback: the clinical outcome, the next step, and the
    /// sign-off that the decision-support output was reviewed.
    pub fn document_callback(
        &mut self,
        session: &Session,
        callback_id: Uuid,
        clinical_outcome: &str,
        next_step: &str,
        decision_support_reviewed: bool,
    ) -> Result<Done> {
        self.decide(
            session,
            (Operation::DocumentCallback, "document a callback"),
            |state| {
                let c = state.callbacks.get(&callback_id)?;
                Some((c.patient_id.clone(), callback_id))
            },
            |ops, _, _| {
                decide::document_callback(
                    &ops.state,
                    callback_id,
                    clinical_outcome,
                    next_step,
                    decision_support_reviewed,
                )
            },
        )
    }

    /// Raises an escalation on a case (outside an attempt).
    pub fn raise_escalation(
        &mut self,
        session: &Session,
        case_id: Uuid,
        kind: EscalationKind,
        note: &str,
    ) -> Result<Done> {
        self.decide(
            session,
            (Operation::RaiseEscalation, "raise an escalation"),
            case_subject(case_id),
            |ops, _, ids| decide::raise_escalation(&ops.state, case_id, kind, note, ids),
        )
    }

    /// Acknowledges (or, once acknowledged, resolves) an escalation. Acknowledging is for the
    /// role of the level that holds it now (a supervisor may always).
    pub fn escalation_step(
        &mut self,
        session: &Session,
        escalation_id: Uuid,
        resolve: bool,
        note: &str,
    ) -> Result<Done> {
        let what = if resolve {
            "resolve an escalation"
        } else {
            "acknowledge an escalation"
        };
        self.decide(
            session,
            (Operation::AcknowledgeEscalation, what),
            |state| {
                let e = state.escalations.get(&escalation_id)?;
                Some((e.patient_id.clone(), escalation_id))
            },
            |ops, who, _| {
                decide::escalation_step(&ops.state, &ops.policy, who, escalation_id, resolve, note)
            },
        )
    }

    /// Sends a referral from a case (outside an attempt).
    pub fn send_referral(
        &mut self,
        session: &Session,
        case_id: Uuid,
        service: ServiceType,
        note: &str,
    ) -> Result<Done> {
        self.decide(
            session,
            (Operation::SendReferral, "send a referral"),
            case_subject(case_id),
            |ops, _, ids| decide::send_referral(&ops.state, case_id, service, note, None, ids),
        )
    }

    /// Sends a referral to a service of the directory: the partner organisation answers it
    /// itself through the server's exchange, within the service's deadlines. `consent`: the
    /// person's consent to share it with the partner, as recorded (required).
    pub fn send_partner_referral(
        &mut self,
        session: &Session,
        case_id: Uuid,
        service_id: &str,
        note: &str,
        consent: &str,
    ) -> Result<Done> {
        let directory = self.directory()?;
        let (partner, service) = directory
            .partners
            .iter()
            .find_map(|p| p.services.iter().find(|s| s.id == service_id).map(|s| (p, s)))
            .ok_or_else(|| {
                ApiError::new(
                    ErrorCode::NotFound,
                    format!(
                        "no service {service_id} in the directory (it comes with each sync; {} services known)",
                        directory.partners.iter().map(|p| p.services.len()).sum::<usize>()
                    ),
                )
            })?;
        let service_type: ServiceType = service.service_type.parse().map_err(|e| {
            ApiError::new(ErrorCode::BadInput, format!("service {service_id}: {e}"))
        })?;
        let partner = careloop_ops::PartnerRef {
            organization: partner.id.clone(),
            organization_name: partner.name.clone(),
            service_id: service.id.clone(),
            service_name: service.name.clone(),
            respond_within_working_days: service.respond_within_working_days,
            start_within_working_days: service.start_within_working_days,
            consent: consent.trim().to_owned(),
        };
        self.decide(
            session,
            (Operation::SendReferral, "send a referral"),
            case_subject(case_id),
            |ops, _, ids| {
                decide::send_referral(&ops.state, case_id, service_type, note, Some(partner), ids)
            },
        )
    }

    /// Records the service's answer, the start or the outcome of a referral.
    pub fn update_referral(
        &mut self,
        session: &Session,
        referral_id: Uuid,
        status: ReferralStatus,
        note: &str,
        on: Option<NaiveDate>,
    ) -> Result<Done> {
        self.decide(
            session,
            (Operation::SendReferral, "update a referral"),
            |state| {
                let r = state.referrals.get(&referral_id)?;
                Some((r.patient_id.clone(), referral_id))
            },
            |ops, _, _| decide::update_referral(&ops.state, referral_id, status, note, on),
        )
    }

    /// A user's worklist: ordered by due date, then priority (highest first), then name.
    pub fn worklist(
        &mut self,
        session: &Session,
        filter: &WorklistFilter,
    ) -> Result<Vec<WorklistRow>> {
        self.authorize(
            session,
            Operation::ViewWorklist,
            "view a worklist",
            None,
            None,
        )?;
        let owner = match &filter.owner {
            None => Some(session.user.as_str()),
            Some(o) if o.is_empty() => None,
            Some(o) => Some(o.as_str()),
        };
        let catalog = self.catalog(None)?;
        let ops = self.ops()?;
        let now = session.at;
        let due_by = filter
            .due_by
            .map(|d| d.and_hms_opt(23, 59, 59).expect("a valid time").and_utc());
        let cases: Vec<&careloop_ops::Case> = ops
            .state
            .cases
            .values()
            .filter(|c| c.owner.as_deref() == owner)
            .filter(|c| filter.include_closed || c.status != CaseStatus::Closed)
            .filter(|c| filter.segment.as_ref().is_none_or(|s| &c.segment_id == s))
            .filter(|c| filter.status.is_none_or(|s| c.status == s))
            .filter(|c| due_by.is_none_or(|d| c.due <= d))
            .collect();
        // Sort keys made once (the name lookup is not repeated per comparison); with a page
        // asked for, only the rows up to its end are put in order.
        let name_of = |id: &str| ops.people.get(id).map_or("", |p| p.name.as_str());
        let mut keyed: Vec<_> = cases
            .into_iter()
            .map(|c| {
                (
                    (
                        c.due,
                        std::cmp::Reverse(c.priority),
                        name_of(&c.patient_id),
                        c.case_id,
                    ),
                    c,
                )
            })
            .collect();
        let end = filter.limit.map_or(keyed.len(), |l| {
            filter.offset.saturating_add(l).min(keyed.len())
        });
        if end < keyed.len() && end > 0 {
            keyed.select_nth_unstable_by(end - 1, |a, b| a.0.cmp(&b.0));
            keyed.truncate(end);
        }
        keyed.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        let cases: Vec<&careloop_ops::Case> = keyed.into_iter().map(|(_, c)| c).collect();
        // Each segment's attempt history, for the suggestions.
        let mut history: HashMap<&str, Vec<PastAttempt>> = HashMap::new();
        for r in ops.log.iter().filter_map(LogEntry::recorded) {
            if let OpEvent::AttemptRecorded(a) = &r.event {
                if let Some(case) = ops.state.cases.get(&a.case_id) {
                    history
                        .entry(case.segment_id.as_str())
                        .or_default()
                        .push(PastAttempt {
                            channel: a.channel,
                            at: r.at,
                            reached: a.reached,
                        });
                }
            }
        }
        let channels: HashMap<&str, Vec<Channel>> = catalog
            .segments
            .iter()
            .map(|s| {
                (
                    s.definition.id.as_str(),
                    s.definition
                        .channel_policy
                        .channels
                        .iter()
                        .filter_map(|c| c.parse().ok())
                        .collect(),
                )
            })
            .collect();
        // The suggestion depends on the segment and the documented channel only: computed
        // once per pair.
        let mut by_segment: HashMap<(&str, Option<Channel>), Option<suggest::Suggestion>> =
            HashMap::new();
        let rows = cases
            .into_iter()
            .skip(filter.offset)
            .take(filter.limit.unwrap_or(usize::MAX))
            .map(|c| {
                let person = ops.people.get(&c.patient_id);
                let preferred: Option<Channel> = person
                    .and_then(|p| p.preferred_channel.as_deref())
                    .and_then(|c| c.parse().ok());
                let suggestion = by_segment
                    .entry((c.segment_id.as_str(), preferred))
                    .or_insert_with(|| {
                        channels.get(c.segment_id.as_str()).and_then(|allowed| {
                            suggest::suggest(
                                &Preference {
                                    channel: preferred,
                                    window: None,
                                },
                                allowed,
                                history.get(c.segment_id.as_str()).map_or(&[][..], |h| h),
                            )
                        })
                    })
                    .clone();
                WorklistRow {
                    case_id: c.case_id.to_string(),
                    patient_id: c.patient_id.clone(),
                    name: person.map_or_else(String::new, |p| p.name.clone()),
                    segment_id: c.segment_id.clone(),
                    segment_name: segment_name(&catalog, &c.segment_id),
                    status: c.status.to_string(),
                    owner: c.owner.clone(),
                    priority: c.priority,
                    due: c.due.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                    overdue: c.overdue(now),
                    summary: c.summary.clone(),
                    preferred_language: person.and_then(|p| p.preferred_language.clone()),
                    preferred_channel: preferred.map(|c| c.to_string()),
                    last_contact: c
                        .last_attempt_at
                        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
                    attempts: c.attempts,
                    suggestion: suggestion.map(|s| SuggestionDto {
                        channel: s.channel.to_string(),
                        when: s.when,
                        reason: s.reason,
                    }),
                    reason: c.closed_reason.map(|r| r.to_string()),
                }
            })
            .collect();
        Ok(rows)
    }

    /// One case with its timeline, the fields the role may see, and the script in the
    /// person's language. The read is audited.
    pub fn case_detail(&mut self, session: &Session, case_id: Uuid) -> Result<CaseDetail> {
        let (patient, segment_id) = self.case_patient(case_id)?;
        self.authorize(
            session,
            Operation::ViewCase,
            "view a case",
            Some(&patient),
            Some(case_id.to_string()),
        )?;
        self.audit_read(
            session,
            "case.view",
            Some(&patient),
            Some(case_id.to_string()),
        )?;
        let script_id = self.segment_script(&segment_id)?;
        let segment_title = segment_name(&self.catalog(None)?, &segment_id);
        let clinical = if rbac::visible(session.role, Field::ClinicalHistory) {
            Some(self.clinical_summary(&patient)?)
        } else {
            None
        };
        let contact = if rbac::visible(session.role, Field::Contact) {
            Some(self.contact_details(&patient)?)
        } else {
            None
        };
        let ops = self.ops()?;
        let case = ops.state.cases[&case_id].clone();
        let person = ops.people.get(&patient).cloned();
        let language = ops.scripts.get(&script_id).map(|s| {
            guards::script_language(
                s,
                person
                    .as_ref()
                    .and_then(|p| p.preferred_language.as_deref()),
            )
        });
        let show_callback_notes = rbac::visible(session.role, Field::CallbackDocumentation);
        let timeline = ops
            .log
            .iter()
            .filter_map(LogEntry::recorded)
            .filter(|r| r.event.case_id() == case_id)
            .map(|r| TimelineEntry {
                at: r.at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                actor: r.actor.clone(),
                role: r.role.to_string(),
                kind: r.event.kind().to_owned(),
                detail: describe(&r.event, show_callback_notes),
            })
            .collect();
        let now = session.at;
        let calendar = &ops.policy.calendar;
        Ok(CaseDetail {
            case_id: case_id.to_string(),
            patient_id: patient.clone(),
            name: person.as_ref().map(|p| p.name.clone()),
            birth_date: person.as_ref().and_then(|p| p.birth_date.clone()),
            preferred_language: person.as_ref().and_then(|p| p.preferred_language.clone()),
            segment_id: case.segment_id.clone(),
            segment_name: segment_title,
            status: case.status.to_string(),
            owner: case.owner.clone(),
            priority: case.priority,
            due: case.due.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            overdue: case.overdue(now),
            summary: case.summary.clone(),
            attempts: case.attempts,
            script_id,
            script_language: language,
            contacts_in_last_7_days: ops.state.contacts_in_week(&patient, now),
            contact,
            clinical,
            timeline,
            callbacks: case
                .callbacks
                .iter()
                .map(|id| ops.state.callbacks[id].callback_id.to_string())
                .collect(),
            escalations: case
                .escalations
                .iter()
                .map(|id| {
                    let e = &ops.state.escalations[id];
                    format!(
                        "{} {} {}{}",
                        e.escalation_id,
                        e.kind,
                        e.status,
                        if e.overdue(now, calendar) {
                            " (overdue)"
                        } else {
                            ""
                        }
                    )
                })
                .collect(),
            referrals: case
                .referrals
                .iter()
                .map(|id| {
                    let r = &ops.state.referrals[id];
                    format!("{} {} {}", r.referral_id, r.service, r.status)
                })
                .collect(),
        })
    }

    /// A case's script rendered in the person's language (English when the script has no
    /// translation), with `{first_name}` from the person's name and the clinic's name and
    /// phone filled in, and its message templates. A read of the person's record: audited.
    pub fn case_script(
        &mut self,
        session: &Session,
        case_id: Uuid,
        clinic_name: &str,
        clinic_phone: &str,
    ) -> Result<crate::dto::ScriptDto> {
        let (patient, segment_id) = self.case_patient(case_id)?;
        self.authorize(
            session,
            Operation::ViewCase,
            "view a case's script",
            Some(&patient),
            Some(case_id.to_string()),
        )?;
        self.audit_read(
            session,
            "case.script",
            Some(&patient),
            Some(case_id.to_string()),
        )?;
        let script_id = self.segment_script(&segment_id)?;
        let ops = self.ops()?;
        let script = ops.scripts.get(&script_id).ok_or_else(|| {
            ApiError::new(
                ErrorCode::Internal,
                format!("segment {segment_id} names script {script_id}, which does not exist"),
            )
        })?;
        let person = ops.people.get(&patient);
        let language =
            guards::script_language(script, person.and_then(|p| p.preferred_language.as_deref()));
        let placeholders = careloop_scripts::Placeholders {
            first_name: person
                .and_then(|p| p.name.split_whitespace().next())
                .unwrap_or_default()
                .to_owned(),
            clinic_name: clinic_name.to_owned(),
            clinic_phone: clinic_phone.to_owned(),
        };
        Ok(crate::dto::ScriptDto::new(script, &language, &placeholders))
    }

    /// Why the case's person is in its segment as of the session's date: conditions,
    /// signals and values, evidence dates and priority points. Evidence codes are clinical
    /// history, so roles that do not see it get the dates and resource types only. The read
    /// is audited.
    pub fn case_explanation(
        &mut self,
        session: &Session,
        case_id: Uuid,
    ) -> Result<crate::dto::ExplanationDto> {
        let (patient, segment_id) = self.case_patient(case_id)?;
        self.authorize(
            session,
            Operation::ViewCase,
            "view why a person is on a worklist",
            Some(&patient),
            Some(case_id.to_string()),
        )?;
        self.audit_read(
            session,
            "case.explain",
            Some(&patient),
            Some(case_id.to_string()),
        )?;
        let mut explanation = self
            .explain(&patient, session.at.date_naive(), Some(&segment_id), None)?
            .into_iter()
            .next()
            .ok_or_else(|| {
                ApiError::new(ErrorCode::NotFound, format!("no segment {segment_id}"))
            })?;
        if !rbac::visible(session.role, Field::ClinicalHistory) {
            for condition in &mut explanation.conditions {
                for evidence in &mut condition.evidence {
                    evidence.code.clear();
                }
            }
        }
        Ok(explanation)
    }

    /// The segment definitions in force, each with its text and published versions, for the
    /// segment editor (supervisors).
    pub fn segment_definitions(
        &mut self,
        session: &Session,
    ) -> Result<Vec<crate::dto::SegmentDefinitionDto>> {
        self.authorize(
            session,
            Operation::PublishSegment,
            "edit segments",
            None,
            None,
        )?;
        let published = self.store.published_definitions()?;
        let catalog = self.catalog(None)?;
        let (_, warnings) = self.published_in_force()?;
        catalog
            .segments
            .iter()
            .map(|segment| {
                let d = &segment.definition;
                let history: Vec<_> = published.iter().filter(|p| p.id == d.id).collect();
                // The version in force: the latest, unless that one cannot be evaluated here.
                let latest = history.iter().rev().find(|p| p.version == d.version);
                let text = match latest {
                    Some(p) => p.body.clone(),
                    None => serde_json::to_string_pretty(d).map_err(ApiError::internal)?,
                };
                Ok(crate::dto::SegmentDefinitionDto {
                    id: d.id.clone(),
                    name: d.name.clone(),
                    version: d.version,
                    published: latest.is_some(),
                    text,
                    history: history
                        .iter()
                        .map(|p| crate::dto::PublishedDto {
                            id: p.id.clone(),
                            version: p.version,
                            published_by: p.published_by.clone(),
                            published_at: p.published_at.clone(),
                        })
                        .collect(),
                    problems: warnings
                        .iter()
                        .filter(|(id, _)| *id == d.id)
                        .map(|(_, warning)| warning.clone())
                        .collect(),
                })
            })
            .collect()
    }

    /// Who a draft definition would add to and remove from its segment as of the session's
    /// date; nothing is published. Errors name the draft's line and column.
    pub fn preview_segment_draft(
        &mut self,
        session: &Session,
        draft: &crate::dto::SegmentDraft,
    ) -> Result<crate::dto::PreviewDto> {
        self.authorize(
            session,
            Operation::PublishSegment,
            "preview a segment draft",
            None,
            None,
        )?;
        self.preview_segment_text("draft", &draft.text, session.at.date_naive())
    }

    /// Publishes a draft as the segment's new version (audited).
    pub fn publish_segment_draft(
        &mut self,
        session: &Session,
        draft: &crate::dto::SegmentDraft,
    ) -> Result<crate::dto::PublishedDto> {
        self.authorize(
            session,
            Operation::PublishSegment,
            "publish a segment",
            None,
            None,
        )?;
        let actor = crate::Actor {
            name: session.user.clone(),
            at: session.at,
        };
        let published = self.publish_segment_text("draft", draft.text.clone(), &actor)?;
        self.store.append_audit(&audit(
            session,
            "segment.publish",
            None,
            Some(format!("{}@{}", published.id, published.version)),
            AuditOutcome::Allowed,
        ))?;
        Ok(published)
    }

    /// A person's cases (open ones first, then by due date), to open one from a search
    /// result about the person.
    pub fn cases_of_person(
        &mut self,
        session: &Session,
        patient_id: &str,
    ) -> Result<Vec<crate::dto::PersonCase>> {
        self.authorize(
            session,
            Operation::ViewWorklist,
            "list a person's cases",
            Some(patient_id),
            None,
        )?;
        let catalog = self.catalog(None)?;
        let ops = self.ops()?;
        let now = session.at;
        let mut cases: Vec<&careloop_ops::Case> = ops
            .state
            .cases
            .values()
            .filter(|c| c.patient_id == patient_id)
            .collect();
        cases.sort_by_key(|c| (c.status == CaseStatus::Closed, c.due, c.case_id));
        Ok(cases
            .into_iter()
            .map(|c| crate::dto::PersonCase {
                case_id: c.case_id.to_string(),
                segment_id: c.segment_id.clone(),
                segment_name: segment_name(&catalog, &c.segment_id),
                status: c.status.to_string(),
                owner: c.owner.clone(),
                due: c.due.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                overdue: c.overdue(now),
            })
            .collect())
    }

    /// Callbacks waiting for a clinician (documented ones with `include_done`), due first.
    pub fn callbacks(&mut self, session: &Session, include_done: bool) -> Result<Vec<QueueItem>> {
        self.authorize(
            session,
            Operation::ViewCallbacks,
            "view callbacks",
            None,
            None,
        )?;
        let ops = self.ops()?;
        let now = session.at;
        let mut items: Vec<QueueItem> = ops
            .state
            .callbacks
            .values()
            .filter(|c| include_done || c.status == careloop_ops::CallbackStatus::Waiting)
            .map(|c| QueueItem {
                id: c.callback_id.to_string(),
                case_id: c.case_id.to_string(),
                patient_id: c.patient_id.clone(),
                name: ops
                    .people
                    .get(&c.patient_id)
                    .map_or_else(String::new, |p| p.name.clone()),
                kind: "callback".into(),
                status: c.status.to_string(),
                owner: "clinician".into(),
                deadline: c.due.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                overdue: c.status == careloop_ops::CallbackStatus::Waiting && now > c.due,
                detail: c.reason.clone(),
            })
            .collect();
        sort_queue(&mut items);
        Ok(items)
    }

    /// Escalations not yet resolved, with the level holding each now and its deadline;
    /// overdue first.
    pub fn escalations(&mut self, session: &Session) -> Result<Vec<QueueItem>> {
        self.authorize(
            session,
            Operation::ViewWorklist,
            "view escalations",
            None,
            None,
        )?;
        let ops = self.ops()?;
        let now = session.at;
        let calendar = &ops.policy.calendar;
        let mut items: Vec<QueueItem> = ops
            .state
            .escalations
            .values()
            .filter(|e| e.status != careloop_ops::EscalationStatus::Resolved)
            .map(|e| {
                let steps = e.steps(now, calendar);
                let current = steps.last().expect("an escalation has a first step");
                QueueItem {
                    id: e.escalation_id.to_string(),
                    case_id: e.case_id.to_string(),
                    patient_id: e.patient_id.clone(),
                    name: ops
                        .people
                        .get(&e.patient_id)
                        .map_or_else(String::new, |p| p.name.clone()),
                    kind: e.kind.to_string(),
                    status: e.status.to_string(),
                    owner: current.level.to_string(),
                    deadline: current
                        .deadline
                        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                    overdue: e.overdue(now, calendar),
                    detail: steps
                        .iter()
                        .map(|s| {
                            format!(
                                "{} from {} until {}",
                                s.level,
                                s.from.format("%Y-%m-%d %H:%M"),
                                s.deadline.format("%Y-%m-%d %H:%M")
                            )
                        })
                        .collect::<Vec<_>>()
                        .join("; "),
                }
            })
            .collect();
        sort_queue(&mut items);
        Ok(items)
    }

    /// Referrals still open (sent, accepted, started), with the daily monitor's reason when
    /// one is past its deadline; overdue first.
    pub fn referrals(&mut self, session: &Session) -> Result<Vec<QueueItem>> {
        self.authorize(
            session,
            Operation::ViewWorklist,
            "view referrals",
            None,
            None,
        )?;
        let ops = self.ops()?;
        let now = session.at;
        let mut items: Vec<QueueItem> = ops
            .state
            .referrals
            .values()
            .filter(|r| {
                matches!(
                    r.status,
                    ReferralStatus::Sent | ReferralStatus::Accepted | ReferralStatus::Started
                )
            })
            .map(|r| {
                let overdue = r.overdue(now);
                let deadline = match r.status {
                    ReferralStatus::Sent => Some(r.response_deadline),
                    ReferralStatus::Accepted => r.start_deadline,
                    _ => None,
                };
                QueueItem {
                    id: r.referral_id.to_string(),
                    case_id: r.case_id.to_string(),
                    patient_id: r.patient_id.clone(),
                    name: ops
                        .people
                        .get(&r.patient_id)
                        .map_or_else(String::new, |p| p.name.clone()),
                    kind: r.partner.as_ref().map_or_else(
                        || r.service.to_string(),
                        |p| format!("{} ({})", p.service_name, p.organization_name),
                    ),
                    status: r.status.to_string(),
                    // Who must act next: the partner answers a referral of the exchange.
                    owner: r
                        .partner
                        .as_ref()
                        .map_or_else(|| "coordinator".into(), |p| p.organization_name.clone()),
                    deadline: deadline.map_or_else(String::new, |d| {
                        d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                    }),
                    overdue: overdue.is_some(),
                    detail: overdue.unwrap_or_default(),
                }
            })
            .collect();
        sort_queue(&mut items);
        Ok(items)
    }

    /// The daily referral monitor's action: raises an `overdue_referral` escalation on each
    /// case with a referral past its deadline, unless one is already open there. Returns the
    /// escalations raised.
    pub fn escalate_overdue_referrals(&mut self, session: &Session) -> Result<Vec<String>> {
        self.authorize(
            session,
            Operation::SendReferral,
            "escalate overdue referrals",
            None,
            None,
        )?;
        let ops = self.ops()?;
        let mut due: Vec<(Uuid, String, String)> = Vec::new();
        for referral in ops.state.referrals.values() {
            let Some(why) = referral.overdue(session.at) else {
                continue;
            };
            let case = &ops.state.cases[&referral.case_id];
            let already = case.escalations.iter().any(|e| {
                let e = &ops.state.escalations[e];
                e.kind == EscalationKind::OverdueReferral
                    && e.status != careloop_ops::EscalationStatus::Resolved
            });
            if case.status != CaseStatus::Closed
                && !already
                && !due.iter().any(|(c, _, _)| *c == case.case_id)
            {
                due.push((
                    case.case_id,
                    case.patient_id.clone(),
                    format!("referral {}: {why}", referral.referral_id),
                ));
            }
        }
        let mut raised = Vec::new();
        for (case_id, patient, note) in due {
            let escalation_id = new_id(session);
            self.commit(
                session,
                "escalation.raise_for_overdue_referral",
                vec![OpEvent::EscalationRaised {
                    escalation_id,
                    case_id,
                    kind: EscalationKind::OverdueReferral,
                    note,
                }],
                &patient,
                Some(case_id.to_string()),
            )?;
            raised.push(escalation_id.to_string());
        }
        Ok(raised)
    }

    /// Verifies the audit chain (and, when given, that it still reaches `expected_head`).
    pub fn verify_audit(
        &mut self,
        session: &Session,
        expected_head: Option<&AuditHead>,
    ) -> Result<careloop_store::AuditReport> {
        self.authorize(
            session,
            Operation::VerifyAudit,
            "verify the audit trail",
            None,
            None,
        )?;
        Ok(self.store.verify_audit(expected_head)?)
    }

    /// The audit chain's head, to record elsewhere (detects later truncation).
    pub fn audit_head(&mut self, session: &Session) -> Result<Option<AuditHead>> {
        self.authorize(
            session,
            Operation::VerifyAudit,
            "read the audit head",
            None,
            None,
        )?;
        Ok(self.store.audit_head()?)
    }

    fn contact_details(&self, patient_id: &str) -> Result<ContactDto> {
        let body = self.store.resource_body("Patient", patient_id)?;
        // The one reader of Patient JSON (careloop-fhir): the same phone and address as
        // the search index.
        let record = body
            .as_deref()
            .and_then(|b| careloop_fhir::read_patient(b).ok())
            .unwrap_or_default();
        Ok(ContactDto {
            phone: record.phone,
            address: record.address,
        })
    }

    fn clinical_summary(&self, patient_id: &str) -> Result<Vec<String>> {
        let facts = self.patient_facts(patient_id)?;
        let names = self.code_names(patient_id)?;
        let name = |codes: &[careloop_segment::codes::Coding], fallback: &str| {
            codes
                .iter()
                .find_map(|k| names.get(k.code.as_str()).cloned())
                .unwrap_or_else(|| {
                    codes
                        .first()
                        .map_or(fallback.to_owned(), |k| format!("code {}", k.code))
                })
        };
        let mut lines: Vec<String> = facts
            .conditions
            .iter()
            .filter(|c| c.abatement.is_none() && !c.resolved_status)
            .map(|c| match c.onset {
                Some(onset) => format!("{} (since {onset})", name(&c.codes, "a condition")),
                None => name(&c.codes, "a condition"),
            })
            .collect();
        lines.extend(
            facts
                .medications
                .iter()
                .filter(|m| m.status.as_deref() == Some("active"))
                .map(|m| format!("Medication: {}", name(&m.codes, &m.key))),
        );
        Ok(lines)
    }

    /// The display text of each code in the person's conditions and medication requests, as
    /// their resources give it (`code.text`, else the coding's `display`).
    fn code_names(&self, patient_id: &str) -> Result<HashMap<String, String>> {
        let mut names = HashMap::new();
        for (kind, body) in self.store.patient_resources(patient_id)? {
            let field = match kind.as_str() {
                "Condition" => "code",
                "MedicationRequest" => "medicationCodeableConcept",
                _ => continue,
            };
            let Ok(resource) = serde_json::from_str::<serde_json::Value>(&body) else {
                continue;
            };
            let concept = &resource[field];
            let codings = concept["coding"].as_array().cloned().unwrap_or_default();
            let text = concept["text"]
                .as_str()
                .or_else(|| codings.iter().find_map(|c| c["display"].as_str()));
            let Some(text) = text.filter(|t| !t.trim().is_empty()) else {
                continue;
            };
            for coding in &codings {
                if let Some(code) = coding["code"].as_str() {
                    names
                        .entry(code.to_owned())
                        .or_insert_with(|| text.trim().to_owned());
                }
            }
        }
        Ok(names)
    }
}

fn sort_queue(items: &mut [QueueItem]) {
    items.sort_by(|a, b| {
        b.overdue
            .cmp(&a.overdue)
            .then_with(|| a.deadline.cmp(&b.deadline))
            .then_with(|| a.id.cmp(&b.id))
    });
}

/// A line of the timeline for an event (no free-text answers; callback notes only for
/// roles that see callback documentation).
fn describe(event: &OpEvent, callback_notes: bool) -> String {
    match event {
        OpEvent::CaseOpened {
            segment_id, due, ..
        } => {
            format!(
                "opened in {segment_id}, due {}",
                due.format("%Y-%m-%d %H:%M")
            )
        }
        OpEvent::CaseClaimed { .. } => "claimed".into(),
        OpEvent::CaseAssigned { to, .. } => format!("assigned to {to}"),
        OpEvent::AttemptRecorded(a) => format!(
            "{} attempt, {}: {}; next: {}{}",
            words(a.channel),
            if a.reached { "reached" } else { "not reached" },
            words(a.outcome),
            match &a.next {
                NextAction::Close { reason } => format!("close ({})", words(reason)),
                NextAction::FollowUp { on } => format!("follow up on {on}"),
                NextAction::ClinicianCallback { .. } => "clinician callback".into(),
                NextAction::Escalate { kind, .. } => format!("escalate ({})", words(kind)),
                NextAction::Refer { service, .. } => format!("refer to {}", words(service)),
            },
            if a.contact_limit_override.is_some() {
                "; contact limit overridden"
            } else {
                ""
            }
        ),
        OpEvent::CallbackRequested { due, .. } => {
            format!(
                "clinician callback requested, due {}",
                due.format("%Y-%m-%d %H:%M")
            )
        }
        OpEvent::CallbackDocumented {
            clinical_outcome,
            next_step,
            ..
        } => {
            if callback_notes {
                format!("callback documented: {clinical_outcome}; next: {next_step}")
            } else {
                "callback documented".into()
            }
        }
        OpEvent::EscalationRaised { kind, .. } => format!("escalated ({})", words(kind)),
        OpEvent::EscalationAcknowledged { .. } => "escalation acknowledged".into(),
        OpEvent::EscalationResolved { .. } => "escalation resolved".into(),
        OpEvent::ReferralSent {
            service,
            partner: None,
            ..
        } => format!("referred to {}", words(service)),
        OpEvent::ReferralSent {
            partner: Some(p), ..
        } => format!(
            "referred to {} ({}), through the exchange",
            p.service_name, p.organization_name
        ),
        OpEvent::ReferralUpdated {
            status, on, note, ..
        } => {
            let on = on.map(|d| format!(" on {d}")).unwrap_or_default();
            if note.is_empty() {
                format!("referral {status}{on}")
            } else {
                format!("referral {status}{on}: {note}")
            }
        }
        OpEvent::CaseClosed { reason, .. } => format!("closed: {}", words(reason)),
        OpEvent::AlertRaised { kind, occurred, .. } => {
            format!("alert raised ({}, {occurred})", words(kind))
        }
        OpEvent::AlertAcknowledged { .. } => "alert acknowledged".into(),
        OpEvent::CarePlan { change, .. } => change.describe(),
    }
}

/// A segment's title from its definition (its id in words when the catalogue has none).
pub(crate) fn segment_name(catalog: &careloop_segment::Catalog, id: &str) -> String {
    catalog
        .segments
        .iter()
        .find(|s| s.definition.id == id)
        .map_or_else(|| words(id), |s| s.definition.name.clone())
}

/// A stable name as words for people ("needs_different_pathway" → "needs different pathway").
fn words(name: impl std::fmt::Display) -> String {
    name.to_string().replace('_', " ")
}

/// A case as a role may see it.
#[derive(Clone, Debug, PartialEq, Serialize, ts_rs::TS)]
#[ts(export)]
pub struct CaseDetail {
    pub case_id: String,
    pub patient_id: String,
    pub name: Option<String>,
    pub birth_date: Option<String>,
    pub preferred_language: Option<String>,
    pub segment_id: String,
    /// The segment's title, from its definition.
    pub segment_name: String,
    pub status: String,
    pub owner: Option<String>,
    pub priority: i32,
    pub due: String,
    pub overdue: bool,
    pub summary: String,
    pub attempts: u32,
    pub script_id: String,
    /// The language the script is given in for this person.
    pub script_language: Option<String>,
    pub contacts_in_last_7_days: u32,
    /// Contact details (roles that see them).
    pub contact: Option<ContactDto>,
    /// Active conditions and medications (clinicians and supervisors only).
    pub clinical: Option<Vec<String>>,
    pub timeline: Vec<TimelineEntry>,
    pub callbacks: Vec<String>,
    pub escalations: Vec<String>,
    pub referrals: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, ts_rs::TS)]
#[ts(export)]
pub struct ContactDto {
    pub phone: Option<String>,
    pub address: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, ts_rs::TS)]
#[ts(export)]
pub struct TimelineEntry {
    pub at: String,
    pub actor: String,
    pub role: String,
    pub kind: String,
    pub detail: String,
}

/// A callback, escalation or referral in a queue.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ts_rs::TS)]
#[ts(export)]
pub struct QueueItem {
    pub id: String,
    pub case_id: String,
    pub patient_id: String,
    pub name: String,
    pub kind: String,
    pub status: String,
    /// The role or level that holds it.
    pub owner: String,
    pub deadline: String,
    pub overdue: bool,
    pub detail: String,
}

impl Careloop {
    /// Replaces the service's operational policy (calendar, guards, capacities).
    pub fn set_policy(&mut self, policy: Policy) -> Result<()> {
        self.ops()?.policy = policy;
        Ok(())
    }
}
