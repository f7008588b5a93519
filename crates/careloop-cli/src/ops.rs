//! `careloop case|callback|escalation|referral|audit`: outreach operations, headless. Each
//! names who acts (`--as-user`, `--role`) and when (`--at`, default now), like the signed-in
//! user and the clock of the desktop app. On a cache that syncs with a server, who acts is a
//! user the server signed in here (`sync login`, or `sync run` with a password; default: the
//! last `sync login`), in the role the server gave them: `--role` may only repeat it.

use std::process::ExitCode;

use careloop_api::{
    ApiError, AttemptInput, AuditHead, Careloop, CaseStatus, Channel, CloseReason, ErrorCode,
    EscalationKind, NextAction, Outcome, QueueItem, ReferralStatus, Role, ServiceType, Session,
    WorklistFilter,
};
use chrono::{DateTime, NaiveDate, Utc};
use clap::{Args, Subcommand};
use uuid::Uuid;

use crate::{to_json, Format};

/// Who acts, when, and the output format.
#[derive(Args, Clone)]
pub struct Actor {
    /// The user acting.
    #[arg(long, global = true, value_name = "NAME")]
    as_user: Option<String>,
    /// Their role: coordinator, clinician, supervisor or admin (with a server: the role the
    /// server gave them, which this may only repeat).
    #[arg(long, global = true, value_name = "ROLE")]
    role: Option<String>,
    /// The time of the action, RFC 3339 (default: now).
    #[arg(long, global = true, value_name = "TIMESTAMP")]
    at: Option<DateTime<Utc>>,
    #[arg(long, global = true, value_enum, default_value_t = Format::Text)]
    format: Format,
}

impl Actor {
    /// The session, with `role` when none is given (and no server decides it).
    fn session_or(&self, careloop: &Careloop, role: Role) -> Result<Session, ApiError> {
        if self.role.is_some() {
            return self.session(careloop);
        }
        let mut with_role = self.clone();
        with_role.role = Some(role.to_string());
        with_role.session_with(careloop, false)
    }

    /// Who acts. On a cache connected to a server: a user the server signed in here, in the
    /// role it gave them (`--role` may only repeat it). Without one: `--as-user` (else
    /// `$USER`) in `--role`.
    fn session(&self, careloop: &Careloop) -> Result<Session, ApiError> {
        self.session_with(careloop, true)
    }

    fn session_with(&self, careloop: &Careloop, role_given: bool) -> Result<Session, ApiError> {
        let at = match self.at {
            Some(at) => at,
            None => now()?,
        };
        let asked_role = self.role.as_deref().filter(|_| role_given);
        if let Some((user, role)) = careloop.server_identity(self.as_user.as_deref(), asked_role)? {
            return Ok(Session { user, role, at });
        }
        let user = self
            .as_user
            .clone()
            .or_else(|| std::env::var("USER").ok())
            .unwrap_or_else(|| "careloop".to_owned());
        let role: Role = self
            .role
            .as_deref()
            .ok_or_else(|| bad("--role is required (coordinator, clinician, supervisor or admin)"))?
            .parse()
            .map_err(|e: careloop_api::ops::OpsError| bad(e.to_string()))?;
        Ok(Session { user, role, at })
    }
}

/// Now: `CARELOOP_NOW` (RFC 3339) when set, so scripts and tests can fix today; else the
/// clock.
pub fn now() -> Result<DateTime<Utc>, ApiError> {
    match std::env::var("CARELOOP_NOW") {
        Ok(text) if !text.trim().is_empty() => DateTime::parse_from_rfc3339(text.trim())
            .map(|t| t.with_timezone(&Utc))
            .map_err(|e| {
                bad(format!(
                    "CARELOOP_NOW {text:?} is not an RFC 3339 time: {e}"
                ))
            }),
        _ => Ok(Utc::now()),
    }
}

/// Who the live lists act as when no one is named (after an import): on a cache that syncs,
/// the user the server last signed in here; without a server, `careloop` as a supervisor
/// (the workstation's own automatic openings and closings, audited as such). `None` on a
/// synced cache nobody signed in to: the cases follow at the next command with a user.
pub fn lists_session(careloop: &Careloop, at: DateTime<Utc>) -> Result<Option<Session>, ApiError> {
    if let Some((user, role)) = careloop.server_identity(None, None).ok().flatten() {
        return Ok(Some(Session { user, role, at }));
    }
    if careloop.server_configured()? {
        return Ok(None);
    }
    Ok(Some(Session {
        user: "careloop".to_owned(),
        role: Role::Supervisor,
        at,
    }))
}

fn bad(message: impl Into<String>) -> ApiError {
    ApiError::new(ErrorCode::BadInput, message)
}

fn parse<T: std::str::FromStr<Err = careloop_api::ops::OpsError>>(s: &str) -> Result<T, ApiError> {
    s.parse()
        .map_err(|e: careloop_api::ops::OpsError| bad(e.to_string()))
}

fn id(s: &str) -> Result<Uuid, ApiError> {
    s.parse()
        .map_err(|_| bad(format!("{s:?} is not an id (a UUID)")))
}

#[derive(Subcommand)]
pub enum CaseAction {
    /// Open a case for every worklist member without one (runs the segments as of a date).
    Open {
        #[arg(long, value_name = "YYYY-MM-DD")]
        as_of: NaiveDate,
        /// A directory of segment definitions (default: the segments in force).
        #[arg(long, value_name = "DIR")]
        definitions: Option<std::path::PathBuf>,
    },
    /// A worklist: yours by default.
    List {
        /// Someone else's cases.
        #[arg(long, value_name = "NAME", conflicts_with = "pool")]
        owner: Option<String>,
        /// The unassigned pool.
        #[arg(long)]
        pool: bool,
        #[arg(long, value_name = "ID")]
        segment: Option<String>,
        #[arg(long, value_name = "STATUS")]
        status: Option<String>,
        #[arg(long, value_name = "YYYY-MM-DD")]
        due_by: Option<NaiveDate>,
        /// Include closed cases.
        #[arg(long)]
        all: bool,
        /// Skip this many rows.
        #[arg(long, default_value_t = 0)]
        offset: usize,
        /// At most this many rows.
        #[arg(long)]
        limit: Option<usize>,
    },
    /// One case: summary, contact, timeline (the read is audited).
    Show { case: String },
    /// Take an unassigned case.
    Claim { case: String },
    /// Assign or reassign a case (supervisor).
    Assign {
        case: String,
        #[arg(long, value_name = "NAME")]
        to: String,
    },
    /// Document an attempt.
    Attempt {
        case: String,
        /// phone, sms, portal, email, letter, home_visit or peer_contact.
        #[arg(long)]
        channel: String,
        /// The person was reached.
        #[arg(long)]
        reached: bool,
        /// confirmed_stable, emerging_deterioration, needs_different_pathway, declined,
        /// unreachable or wrong_number.
        #[arg(long)]
        outcome: String,
        /// close:REASON, follow-up:YYYY-MM-DD, callback:REASON TEXT, escalate:KIND[:NOTE]
        /// or refer:SERVICE[:NOTE].
        #[arg(long)]
        next: String,
        /// The message template sent (written channels).
        #[arg(long, value_name = "ID")]
        message: Option<String>,
        /// Script answers as JSON: {"question_id": answer, ...}.
        #[arg(long, value_name = "JSON")]
        answers: Option<String>,
        /// A supervisor's reason to contact past the weekly limit.
        #[arg(long = "override", value_name = "REASON")]
        contact_limit_override: Option<String>,
        #[arg(long)]
        note: Option<String>,
    },
    /// Close a case with a reason.
    Close {
        case: String,
        #[arg(long)]
        reason: String,
        #[arg(long)]
        note: Option<String>,
    },
    /// Entrants of review segments waiting for a supervisor: list, open, dismiss.
    Review {
        #[command(subcommand)]
        action: ReviewAction,
    },
    /// Recorded entries into and exits from segments, with their evidence.
    Changes {
        /// From this day on (default: everything).
        #[arg(long, value_name = "YYYY-MM-DD")]
        since: Option<NaiveDate>,
    },
}

#[derive(Subcommand)]
pub enum AlertAction {
    /// Unacknowledged alerts, by deadline, with who holds each (all with --all).
    List {
        #[arg(long)]
        all: bool,
    },
    /// Acknowledge an alert (its assignee, whoever holds it after it went up, a supervisor).
    Ack {
        alert: String,
        #[arg(long)]
        note: Option<String>,
    },
}

#[derive(Subcommand)]
pub enum ReviewAction {
    /// Who waits for review, with why they entered.
    List {
        #[arg(long, value_name = "ID")]
        segment: Option<String>,
    },
    /// Open cases for some or all of a segment's entrants (supervisor).
    Open {
        #[arg(long, value_name = "ID")]
        segment: String,
        /// Every entrant waiting in the segment.
        #[arg(long, conflicts_with = "people")]
        all: bool,
        #[arg(value_name = "PERSON_ID", required_unless_present = "all")]
        people: Vec<String>,
    },
    /// Dismiss an entrant with a reason: not proposed again in this episode (supervisor).
    Dismiss {
        #[arg(value_name = "PERSON_ID")]
        person: String,
        #[arg(long, value_name = "ID")]
        segment: String,
        #[arg(long)]
        reason: String,
    },
}

#[derive(Subcommand)]
pub enum CallbackAction {
    /// The clinician callback queue, due first.
    List {
        /// Include documented callbacks.
        #[arg(long)]
        all: bool,
    },
    /// Document a callback: clinical outcome, next step, and the review sign-off.
    Document {
        callback: String,
        #[arg(long)]
        outcome: String,
        #[arg(long)]
        next_step: String,
        /// I reviewed the decision-support output.
        #[arg(long)]
        reviewed: bool,
    },
}

#[derive(Subcommand)]
pub enum EscalationAction {
    /// Unresolved escalations, overdue first, with the level holding each.
    List,
    /// Escalate a case.
    Raise {
        case: String,
        #[arg(long)]
        kind: String,
        #[arg(long, default_value = "")]
        note: String,
    },
    /// Acknowledge an escalation.
    Ack {
        escalation: String,
        #[arg(long, default_value = "")]
        note: String,
    },
    /// Resolve an acknowledged escalation.
    Resolve {
        escalation: String,
        #[arg(long, default_value = "")]
        note: String,
    },
}

#[derive(Subcommand)]
pub enum ReferralAction {
    /// Open referrals, those past their deadline first (the daily monitor).
    List,
    /// Escalate every referral past its deadline (once per case).
    Escalate,
    /// Refer a case to a service: a service type (the coordinator records the answers), or
    /// a service of the directory (the partner answers itself through the exchange).
    Send {
        case: String,
        #[arg(long, required_unless_present = "partner_service")]
        service: Option<String>,
        /// A service id of the directory (`careloop referral services`).
        #[arg(
            long,
            value_name = "ID",
            conflicts_with = "service",
            requires = "consent"
        )]
        partner_service: Option<String>,
        /// The person's consent to share the referral with the partner, as recorded.
        #[arg(long, value_name = "TEXT")]
        consent: Option<String>,
        #[arg(long, default_value = "")]
        note: String,
    },
    /// The services directory, as the last sync brought it.
    Services,
    /// Record the service's answer, the start or the outcome.
    Update {
        referral: String,
        /// accepted, declined, started or completed.
        #[arg(long)]
        status: String,
        /// Declined: the reason; started: the confirmation; completed: the outcome.
        #[arg(long, default_value = "")]
        note: String,
        /// Started: the date the service started.
        #[arg(long, value_name = "YYYY-MM-DD")]
        on: Option<NaiveDate>,
    },
}

#[derive(Subcommand)]
pub enum AuditAction {
    /// Check the audit hash chain: edited, inserted, deleted or reordered entries, and
    /// truncation against recorded heads.
    Verify {
        /// A head recorded earlier, as SEQ:HASH.
        #[arg(long, value_name = "SEQ:HASH")]
        expect_head: Option<String>,
    },
    /// Print the chain's head (SEQ:HASH), to record elsewhere.
    Head,
}

fn parse_next(text: &str) -> Result<NextAction, ApiError> {
    let (action, rest) = text.split_once(':').unwrap_or((text, ""));
    let (first, note) = rest.split_once(':').unwrap_or((rest, ""));
    Ok(match action {
        "close" => NextAction::Close {
            reason: parse(first)?,
        },
        "follow-up" | "follow_up" => NextAction::FollowUp {
            on: first
                .parse()
                .map_err(|_| bad(format!("follow-up:{first}: the date is YYYY-MM-DD")))?,
        },
        "callback" => NextAction::ClinicianCallback {
            reason: rest.to_owned(),
        },
        "escalate" => NextAction::Escalate {
            kind: parse::<EscalationKind>(first)?,
            note: note.to_owned(),
        },
        "refer" => NextAction::Refer {
            service: parse::<ServiceType>(first)?,
            note: note.to_owned(),
        },
        other => {
            return Err(bad(format!(
                "--next {other:?}: expected close:REASON, follow-up:DATE, callback:REASON, escalate:KIND or refer:SERVICE"
            )))
        }
    })
}

fn print_done(done: &careloop_api::Done, format: Format) -> Result<(), ApiError> {
    match format {
        Format::Json => outln!("{}", to_json(done)?),
        Format::Text => {
            if let Some(created) = &done.created {
                outln!("created {created}");
            }
            if let Some(status) = &done.case_status {
                outln!("case is {status}");
            }
        }
    }
    Ok(())
}

fn print_queue(items: &[QueueItem], format: Format) -> Result<(), ApiError> {
    match format {
        Format::Json => outln!("{}", to_json(&items)?),
        Format::Text => {
            for i in items {
                outln!(
                    "{}{} {} {} [{}] with {} by {}  {}  case {}{}",
                    if i.overdue { "OVERDUE " } else { "" },
                    i.id,
                    i.kind,
                    i.name,
                    i.status,
                    i.owner,
                    i.deadline,
                    i.patient_id,
                    i.case_id,
                    if i.detail.is_empty() {
                        String::new()
                    } else {
                        format!("\n    {}", i.detail)
                    }
                );
            }
            outln!("{} items", items.len());
        }
    }
    Ok(())
}

fn review(
    careloop: &mut Careloop,
    action: ReviewAction,
    session: &Session,
    format: Format,
) -> Result<(), ApiError> {
    match action {
        ReviewAction::List { segment } => {
            let rows = careloop.to_review(segment.as_deref())?;
            match format {
                Format::Json => outln!("{}", to_json(&rows)?),
                Format::Text => {
                    for r in &rows {
                        outln!(
                            "{} {:<28} since {} p{:<3} {}  {}",
                            r.patient_id,
                            r.segment_id,
                            r.since,
                            r.priority,
                            r.placement,
                            r.evidence.join("; ")
                        );
                    }
                    outln!("{} waiting for review", rows.len());
                }
            }
        }
        ReviewAction::Open {
            segment,
            all,
            people,
        } => {
            let people = (!all).then_some(people.as_slice());
            let opened = careloop.review_open(session, &segment, people)?;
            match format {
                Format::Json => outln!("{}", to_json(&serde_json::json!({ "opened": opened }))?),
                Format::Text => outln!("opened {opened} cases in {segment}"),
            }
        }
        ReviewAction::Dismiss {
            person,
            segment,
            reason,
        } => {
            careloop.review_dismiss(session, &segment, &person, &reason)?;
            match format {
                Format::Json => outln!(
                    "{}",
                    to_json(&serde_json::json!({ "dismissed": person, "segment_id": segment }))?
                ),
                Format::Text => outln!("dismissed {person} from review in {segment}"),
            }
        }
    }
    Ok(())
}

pub fn case(
    careloop: &mut Careloop,
    action: CaseAction,
    actor: &Actor,
) -> Result<ExitCode, ApiError> {
    let session = actor.session(careloop)?;
    let format = actor.format;
    // Every list this reads is first brought current as of the session's day.
    let lists = careloop.bring_lists_current(session.at, Some(&session))?;
    if lists.entered + lists.exited + lists.opened > 0 && format == Format::Text {
        eprintln!("careloop: lists as of {}: {}", lists.as_of, lists.summary);
    }
    match action {
        CaseAction::Review { action } => review(careloop, action, &session, format)?,
        CaseAction::Changes { since } => {
            let changes = careloop.membership_changes(since)?;
            match format {
                Format::Json => outln!("{}", to_json(&changes)?),
                Format::Text => {
                    for c in &changes {
                        outln!(
                            "{} {:<7} {:<28} {} ({}): {}",
                            c.day,
                            c.change,
                            c.segment_id,
                            c.patient_id,
                            c.reason,
                            c.evidence.join("; ")
                        );
                    }
                    outln!("{} changes", changes.len());
                }
            }
        }
        CaseAction::Open { as_of, definitions } => {
            let opened = careloop.open_cases(&session, as_of, definitions.as_deref())?;
            match format {
                Format::Json => outln!("{}", to_json(&opened)?),
                Format::Text => outln!(
                    "opened {} cases ({} worklist members already had one)",
                    opened.opened,
                    opened.already_open
                ),
            }
        }
        CaseAction::List {
            owner,
            pool,
            segment,
            status,
            due_by,
            all,
            offset,
            limit,
        } => {
            let filter = WorklistFilter {
                owner: if pool { Some(String::new()) } else { owner },
                segment,
                status: status.as_deref().map(parse::<CaseStatus>).transpose()?,
                due_by,
                include_closed: all,
                offset,
                limit,
            };
            let rows = careloop.worklist(&session, &filter)?;
            match format {
                Format::Json => outln!("{}", to_json(&rows)?),
                Format::Text => {
                    for r in &rows {
                        outln!(
                            "{} {:<24} {:<28} {:<17} p{:<3} due {}{}  {}",
                            r.case_id,
                            r.name,
                            r.segment_id,
                            r.status,
                            r.priority,
                            r.due,
                            if r.overdue { " OVERDUE" } else { "" },
                            r.suggestion
                                .as_ref()
                                .map_or(String::new(), |s| format!("→ {} {}", s.channel, s.when))
                        );
                    }
                    outln!("{} cases", rows.len());
                }
            }
        }
        CaseAction::Show { case } => {
            let detail = careloop.case_detail(&session, id(&case)?)?;
            match format {
                Format::Json => outln!("{}", to_json(&detail)?),
                Format::Text => {
                    outln!(
                        "case {} — {} ({}) in {}: {}{}, owner {}, due {}",
                        detail.case_id,
                        detail.name.as_deref().unwrap_or("?"),
                        detail.patient_id,
                        detail.segment_id,
                        detail.status,
                        if detail.overdue { " OVERDUE" } else { "" },
                        detail.owner.as_deref().unwrap_or("nobody"),
                        detail.due,
                    );
                    outln!("why: {}", detail.summary);
                    outln!(
                        "script {} in {}; {} contacts in the last 7 days",
                        detail.script_id,
                        detail.script_language.as_deref().unwrap_or("?"),
                        detail.contacts_in_last_7_days
                    );
                    if let Some(c) = &detail.contact {
                        outln!(
                            "contact: {} / {}",
                            c.phone.as_deref().unwrap_or("no phone"),
                            c.address.as_deref().unwrap_or("no address")
                        );
                    }
                    if let Some(clinical) = &detail.clinical {
                        for line in clinical {
                            outln!("clinical: {line}");
                        }
                    }
                    for t in &detail.timeline {
                        outln!("  {} {} ({}) {}", t.at, t.actor, t.role, t.detail);
                    }
                }
            }
        }
        CaseAction::Claim { case } => {
            print_done(&careloop.claim_case(&session, id(&case)?)?, format)?
        }
        CaseAction::Assign { case, to } => {
            print_done(&careloop.assign_case(&session, id(&case)?, &to)?, format)?
        }
        CaseAction::Attempt {
            case,
            channel,
            reached,
            outcome,
            next,
            message,
            answers,
            contact_limit_override,
            note,
        } => {
            let answers = match answers {
                Some(json) => {
                    serde_json::from_str(&json).map_err(|e| bad(format!("--answers: {e}")))?
                }
                None => Default::default(),
            };
            let input = AttemptInput {
                case_id: id(&case)?,
                channel: parse::<Channel>(&channel)?,
                reached,
                message_id: message,
                answers,
                outcome: parse::<Outcome>(&outcome)?,
                next: parse_next(&next)?,
                contact_limit_override,
                note,
            };
            print_done(&careloop.record_attempt(&session, input)?, format)?
        }
        CaseAction::Close { case, reason, note } => print_done(
            &careloop.close_case(&session, id(&case)?, parse::<CloseReason>(&reason)?, note)?,
            format,
        )?,
    }
    Ok(ExitCode::SUCCESS)
}

pub fn callback(
    careloop: &mut Careloop,
    action: CallbackAction,
    actor: &Actor,
) -> Result<ExitCode, ApiError> {
    let session = actor.session(careloop)?;
    match action {
        CallbackAction::List { all } => {
            print_queue(&careloop.callbacks(&session, all)?, actor.format)?
        }
        CallbackAction::Document {
            callback,
            outcome,
            next_step,
            reviewed,
        } => print_done(
            &careloop.document_callback(
                &session,
                id(&callback)?,
                &outcome,
                &next_step,
                reviewed,
            )?,
            actor.format,
        )?,
    }
    Ok(ExitCode::SUCCESS)
}

pub fn alert(
    careloop: &mut Careloop,
    action: AlertAction,
    actor: &Actor,
) -> Result<ExitCode, ApiError> {
    let session = actor.session(careloop)?;
    let format = actor.format;
    let lists = careloop.bring_lists_current(session.at, Some(&session))?;
    if lists.alerts > 0 && format == Format::Text {
        eprintln!("careloop: lists as of {}: {}", lists.as_of, lists.summary);
    }
    match action {
        AlertAction::List { all } => {
            let rows = careloop.alerts(&session, all)?;
            match format {
                Format::Json => outln!("{}", to_json(&rows)?),
                Format::Text => {
                    for a in &rows {
                        outln!(
                            "{} {:<24} {} due {}{} → {}  {}",
                            a.alert_id,
                            a.title,
                            a.patient_id,
                            a.due,
                            if a.overdue { " OVERDUE" } else { "" },
                            a.level,
                            a.evidence
                        );
                    }
                    outln!("{} alerts", rows.len());
                }
            }
        }
        AlertAction::Ack { alert, note } => {
            let acknowledged = careloop.acknowledge_alert(&session, &alert, note.as_deref())?;
            match format {
                Format::Json => outln!("{}", to_json(&acknowledged)?),
                Format::Text => outln!("acknowledged {} ({})", alert, acknowledged.title),
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub fn escalation(
    careloop: &mut Careloop,
    action: EscalationAction,
    actor: &Actor,
) -> Result<ExitCode, ApiError> {
    let session = actor.session(careloop)?;
    match action {
        EscalationAction::List => print_queue(&careloop.escalations(&session)?, actor.format)?,
        EscalationAction::Raise { case, kind, note } => print_done(
            &careloop.raise_escalation(
                &session,
                id(&case)?,
                parse::<EscalationKind>(&kind)?,
                &note,
            )?,
            actor.format,
        )?,
        EscalationAction::Ack { escalation, note } => print_done(
            &careloop.escalation_step(&session, id(&escalation)?, false, &note)?,
            actor.format,
        )?,
        EscalationAction::Resolve { escalation, note } => print_done(
            &careloop.escalation_step(&session, id(&escalation)?, true, &note)?,
            actor.format,
        )?,
    }
    Ok(ExitCode::SUCCESS)
}

pub fn referral(
    careloop: &mut Careloop,
    action: ReferralAction,
    actor: &Actor,
) -> Result<ExitCode, ApiError> {
    let session = actor.session(careloop)?;
    match action {
        ReferralAction::List => print_queue(&careloop.referrals(&session)?, actor.format)?,
        ReferralAction::Escalate => {
            let raised = careloop.escalate_overdue_referrals(&session)?;
            match actor.format {
                Format::Json => outln!("{}", to_json(&raised)?),
                Format::Text => outln!("raised {} escalations", raised.len()),
            }
        }
        ReferralAction::Send {
            case,
            service,
            partner_service: Some(partner_service),
            consent,
            note,
        } => {
            let _ = service;
            print_done(
                &careloop.send_partner_referral(
                    &session,
                    id(&case)?,
                    &partner_service,
                    &note,
                    consent.as_deref().unwrap_or(""),
                )?,
                actor.format,
            )?
        }
        ReferralAction::Send {
            case,
            service,
            note,
            ..
        } => print_done(
            &careloop.send_referral(
                &session,
                id(&case)?,
                parse::<ServiceType>(service.as_deref().unwrap_or(""))?,
                &note,
            )?,
            actor.format,
        )?,
        ReferralAction::Services => {
            let directory = careloop.directory()?;
            match actor.format {
                Format::Json => outln!("{}", to_json(&directory)?),
                Format::Text => {
                    for p in &directory.partners {
                        for s in &p.services {
                            outln!(
                                "{}\t{} — {} ({}; {}; languages {}; answers within {} working days)",
                                s.id,
                                s.name,
                                p.name,
                                s.service_type,
                                if s.area.is_empty() { "any area" } else { &s.area },
                                if s.languages.is_empty() { "-".to_owned() } else { s.languages.join(", ") },
                                s.respond_within_working_days
                            );
                        }
                    }
                    if directory.partners.is_empty() {
                        outln!("no services directory yet: it comes with a sync");
                    }
                }
            }
        }
        ReferralAction::Update {
            referral,
            status,
            note,
            on,
        } => print_done(
            &careloop.update_referral(
                &session,
                id(&referral)?,
                parse::<ReferralStatus>(&status)?,
                &note,
                on,
            )?,
            actor.format,
        )?,
    }
    Ok(ExitCode::SUCCESS)
}

pub fn audit(
    careloop: &mut Careloop,
    action: AuditAction,
    actor: &Actor,
) -> Result<ExitCode, ApiError> {
    let session = actor.session(careloop)?;
    match action {
        AuditAction::Head => {
            match careloop.audit_head(&session)? {
                Some(head) => outln!("{head}"),
                None => outln!("empty"),
            }
            Ok(ExitCode::SUCCESS)
        }
        AuditAction::Verify { expect_head } => {
            let expected: Option<AuditHead> = expect_head
                .as_deref()
                .map(|h| {
                    h.parse()
                        .map_err(|_| bad(format!("--expect-head {h:?}: expected SEQ:HASH")))
                })
                .transpose()?;
            let report = careloop.verify_audit(&session, expected.as_ref())?;
            let ok = report.problems.is_empty();
            match actor.format {
                Format::Json => outln!(
                    "{}",
                    serde_json::json!({
                        "ok": ok,
                        "entries": report.entries,
                        "head": report.head.as_ref().map(|h| h.to_string()),
                        "problems": report.problems.iter().map(|p| p.to_string()).collect::<Vec<_>>(),
                    })
                ),
                Format::Text => {
                    outln!(
                        "{} entries, head {}",
                        report.entries,
                        report
                            .head
                            .as_ref()
                            .map_or("none".to_owned(), |h| h.to_string())
                    );
                    for p in &report.problems {
                        outln!("PROBLEM: {p}");
                    }
                    outln!(
                        "{}",
                        if ok {
                            "audit trail intact"
                        } else {
                            "audit trail TAMPERED"
                        }
                    );
                }
            }
            Ok(if ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
    }
}

/// `careloop search`: people, notes and scripts as the role may see them (default role:
/// coordinator, so callback notes are not shown).
pub fn search(
    careloop: &mut Careloop,
    query: careloop_api::SearchQuery,
    actor: &Actor,
) -> Result<ExitCode, ApiError> {
    let session = actor.session_or(careloop, Role::Coordinator)?;
    let hits = careloop.search(&session, &query)?;
    match actor.format {
        Format::Json => outln!("{}", to_json(&hits)?),
        Format::Text => {
            // Grouped by kind (in the order each kind first appears), best first within.
            let mut kinds: Vec<&str> = Vec::new();
            for h in &hits {
                if !kinds.contains(&h.kind.as_str()) {
                    kinds.push(&h.kind);
                }
            }
            for kind in kinds {
                outln!("{kind}:");
                for h in hits.iter().filter(|h| h.kind == kind) {
                    outln!(
                        "  {:>6.2}  {:<40} {}  {}",
                        h.score,
                        h.id,
                        h.patient_id.as_deref().unwrap_or("-"),
                        h.snippet
                    );
                }
            }
            outln!("{} hits", hits.len());
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(Subcommand)]
pub enum PlanAction {
    /// Start the person's shared care plan from one of their cases.
    Start {
        case: String,
        /// The lead coordinator (default: you).
        #[arg(long)]
        lead: Option<String>,
    },
    /// Set a domain's owner (a user, or partner:ID) and goal.
    Domain {
        plan: String,
        /// health, behavioural_health, housing, social_services, caregiver_support, …
        domain: String,
        #[arg(long)]
        owner: String,
        #[arg(long)]
        goal: String,
    },
    /// Add an action to a domain of the plan.
    Action {
        plan: String,
        #[arg(long)]
        domain: String,
        #[arg(long)]
        owner: String,
        #[arg(long, value_name = "YYYY-MM-DD")]
        due: NaiveDate,
        text: String,
    },
    /// Mark an action done (or --cancel it).
    Done {
        plan: String,
        action: String,
        #[arg(long)]
        cancel: bool,
        #[arg(long, default_value = "")]
        note: String,
    },
    /// Contact the person every N days until a date (puts them on the owner's list).
    Monitor {
        plan: String,
        #[arg(long, value_name = "DAYS")]
        every: u32,
        #[arg(long, value_name = "YYYY-MM-DD")]
        until: NaiveDate,
        #[arg(long)]
        owner: String,
    },
    /// Schedule a multidisciplinary case review (the plan is its agenda).
    Review {
        plan: String,
        #[arg(long, value_name = "YYYY-MM-DD")]
        on: NaiveDate,
        #[arg(long = "participant", required = true)]
        participants: Vec<String>,
    },
    /// Record a case review: its decisions and the actions they make
    /// (--action DOMAIN|OWNER|YYYY-MM-DD|TEXT, repeated).
    Held {
        plan: String,
        review: String,
        #[arg(long)]
        decisions: String,
        #[arg(long = "action", value_name = "DOMAIN|OWNER|DUE|TEXT")]
        actions: Vec<String>,
    },
    /// A plan (by its id, or the person's with --person).
    Show {
        #[arg(required_unless_present = "person")]
        plan: Option<String>,
        #[arg(long, value_name = "PATIENT_ID", conflicts_with = "plan")]
        person: Option<String>,
    },
    /// What you owe on care plans today (a lead also sees every owner's overdue actions and
    /// the alerts of the plan's person).
    Work,
    /// The plan as FHIR R4 (a Bundle of the CarePlan, its Goals and its actions as Tasks).
    Export { plan: String },
}

fn plan_action(text: &str) -> Result<careloop_api::careplans::ActionInput, ApiError> {
    let parts: Vec<&str> = text.splitn(4, '|').collect();
    let [domain, owner, due, what] = parts[..] else {
        return Err(bad(format!(
            "--action {text:?}: expected DOMAIN|OWNER|YYYY-MM-DD|TEXT"
        )));
    };
    Ok(careloop_api::careplans::ActionInput {
        domain: domain.to_owned(),
        owner: owner.to_owned(),
        due: due
            .parse()
            .map_err(|_| bad(format!("--action {text:?}: {due:?} is not a date")))?,
        text: what.to_owned(),
    })
}

pub fn plan(
    careloop: &mut Careloop,
    action: PlanAction,
    actor: &Actor,
) -> Result<ExitCode, ApiError> {
    let session = actor.session(careloop)?;
    let format = actor.format;
    match action {
        PlanAction::Start { case, lead } => print_done(
            &careloop.start_care_plan(&session, id(&case)?, lead.as_deref())?,
            format,
        )?,
        PlanAction::Domain {
            plan,
            domain,
            owner,
            goal,
        } => print_done(
            &careloop.set_care_plan_domain(&session, id(&plan)?, &domain, &owner, &goal)?,
            format,
        )?,
        PlanAction::Action {
            plan,
            domain,
            owner,
            due,
            text,
        } => print_done(
            &careloop.add_care_plan_action(
                &session,
                id(&plan)?,
                &careloop_api::careplans::ActionInput {
                    domain,
                    text,
                    owner,
                    due,
                },
            )?,
            format,
        )?,
        PlanAction::Done {
            plan,
            action,
            cancel,
            note,
        } => print_done(
            &careloop.close_care_plan_action(&session, id(&plan)?, id(&action)?, !cancel, &note)?,
            format,
        )?,
        PlanAction::Monitor {
            plan,
            every,
            until,
            owner,
        } => print_done(
            &careloop.set_care_plan_monitoring(&session, id(&plan)?, every, until, &owner)?,
            format,
        )?,
        PlanAction::Review {
            plan,
            on,
            participants,
        } => print_done(
            &careloop.schedule_case_review(&session, id(&plan)?, on, &participants)?,
            format,
        )?,
        PlanAction::Held {
            plan,
            review,
            decisions,
            actions,
        } => {
            let actions = actions
                .iter()
                .map(|a| plan_action(a))
                .collect::<Result<Vec<_>, _>>()?;
            print_done(
                &careloop.record_case_review(
                    &session,
                    id(&plan)?,
                    id(&review)?,
                    &decisions,
                    &actions,
                )?,
                format,
            )?
        }
        PlanAction::Show { plan, person } => {
            let shown = match (plan, person) {
                (Some(plan), _) => Some(careloop.care_plan(&session, id(&plan)?)?),
                (None, Some(person)) => careloop.care_plan_of(&session, &person)?,
                (None, None) => None,
            };
            match (format, shown) {
                (Format::Json, shown) => outln!("{}", to_json(&shown)?),
                (Format::Text, None) => outln!("no care plan"),
                (Format::Text, Some(p)) => {
                    outln!(
                        "care plan {} — {} ({}), led by {}, since {}",
                        p.plan_id,
                        p.name,
                        p.patient_id,
                        p.lead,
                        p.started_on
                    );
                    for d in &p.domains {
                        outln!("  {}: {} — goal: {}", d.title, d.owner, d.goal);
                    }
                    for a in &p.actions {
                        outln!(
                            "  [{}{}] {} {} by {}: {}",
                            a.status,
                            if a.overdue { ", overdue" } else { "" },
                            a.action_id,
                            a.owner,
                            a.due,
                            a.text
                        );
                    }
                    if let Some(m) = &p.monitoring {
                        outln!(
                            "  monitoring: {} every {} days until {}; next {}",
                            m.owner,
                            m.every_days,
                            m.until,
                            m.next_due.as_deref().unwrap_or("none (ended)")
                        );
                    }
                    for r in &p.reviews {
                        outln!(
                            "  review {} on {} with {}{}",
                            r.review_id,
                            r.on,
                            r.participants.join(", "),
                            r.decisions
                                .as_ref()
                                .map(|d| format!(": {d}"))
                                .unwrap_or_default()
                        );
                    }
                }
            }
        }
        PlanAction::Work => {
            let items = careloop.care_plan_work(&session)?;
            match format {
                Format::Json => outln!("{}", to_json(&items)?),
                Format::Text => {
                    for i in &items {
                        outln!(
                            "{}\t{}\t{} ({})\t{}\t{}",
                            i.due,
                            i.kind,
                            i.name,
                            i.patient_id,
                            i.owner,
                            i.detail
                        );
                    }
                    outln!("{} items", items.len());
                }
            }
        }
        PlanAction::Export { plan } => {
            outln!(
                "{}",
                to_json(&careloop.care_plan_fhir(&session, id(&plan)?)?)?
            )
        }
    }
    Ok(ExitCode::SUCCESS)
}
