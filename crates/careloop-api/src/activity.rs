//! A scripted-activity simulator for demos and benchmarks: weeks of outreach work driven
//! through the real application API, so that the weekly review, the queues and the worklists
//! have something realistic to show.
//!
//! The simulated weeks are the `weeks` ISO weeks (Monday to Sunday) ending with the one that
//! contains [`ActivityPlan::end`]; nothing is dated after `end` 23:59:59 UTC (work planned
//! for later is left undone), and they must start after the last event already in the log
//! (which stays in time order). Time is passed in: no clock is read. Each week:
//!
//! - Monday 08:30 the supervisor runs the segmentation as of that Monday and opens cases
//!   (recording a cohort run); the panel's facts are read from the store once per
//!   simulation, not once per run.
//! - Monday 08:45 (and Wednesday, topping up) the supervisor assigns a few urgent cases
//!   directly and the coordinators claim from the unassigned pool, highest priority first,
//!   each up to their caseload less a reserve of a tenth (at least 2) kept for the week's
//!   urgent work (so a signed-in coordinator can still claim in the demo).
//! - Every working day 08:10 the supervisor runs the daily referral monitor (an
//!   `overdue_referral` escalation for each referral past its deadline).
//! - Every working day each coordinator plans attempts on the cases whose next contact is
//!   due (a few on Monday afternoon, most Tuesday to Friday 09:00–16:30), one per person a
//!   day. The channel is mostly the worklist's suggestion (else the documented preference),
//!   sometimes another of the segment's channels or any channel; written channels carry a
//!   template that the channel rule allows (a sensitive one only through the portal). Whether
//!   the person is reached depends on the channel (phone 0.55, sms 0.35, portal 0.4, email
//!   0.25, letter 0.15, home visit 0.8, peer contact 0.6); a reached person's answers are
//!   generated to fit the script (shown questions only, every required one answered). The
//!   API picks the script's language.
//! - Outcomes lead on: follow-ups a few days later (the next working day for urgent
//!   segments), clinician callbacks (documented by the clinician mostly before their
//!   deadline, a fifth late), escalations of every kind (acknowledged by the level holding
//!   them at the time, some late enough to have climbed; resolved days later), referrals
//!   (answered after 0–7 working days, a sixth past the service's deadline; started, a fifth
//!   late; completed), and closings (stable, re-engaged, gap closed, declined, unreachable after 3
//!   attempts, moved, not appropriate).
//! - Before an attempt the over-contact guard is checked: a person at the weekly limit is
//!   contacted later, except that the supervisor records the attempt with a written
//!   `contact_limit_override` for most urgent work (a segment due within two working days,
//!   or a person who reported getting worse) and now and then for a person who asked to be
//!   called back (about 1–3% of attempts).
//!
//! What the API refuses (`refused`, `conflict`) is skipped and counted in
//! [`ActivityReport::refused`]; any other error is returned.
//!
//! Determinism: every choice comes from a ChaCha RNG seeded with [`ActivityPlan::seed`], and
//! everything is visited in an order that does not depend on ids (cases by when they opened,
//! then person and segment). The API makes its ids (UUIDv7) from the session's time and
//! random bits, so two runs of the same plan on the same panel give different ids but the
//! same events otherwise: the same counts per event kind, the same cases with the same
//! statuses, the same times.

use std::collections::{BTreeMap, HashMap, HashSet};

use careloop_ops::events::KINDS;
use careloop_ops::{
    Case, CaseStatus, Channel, CloseReason, EscalationKind, EscalationStatus, Level, NextAction,
    OpEvent, Outcome, ReferralStatus, Role, ServiceType, WorkingCalendar,
};
use careloop_scripts::{Answer, Answers, QuestionKind, Script};
use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Utc, Weekday};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;
use uuid::Uuid;

use crate::operations::{AttemptInput, Session, WorklistFilter};
use crate::{ApiError, Careloop, ErrorCode, Result};

/// What to simulate, and who works.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActivityPlan {
    /// How many ISO weeks, the last one containing `end`.
    pub weeks: u32,
    /// The last simulated day: nothing is dated after it.
    pub end: NaiveDate,
    pub seed: u64,
    /// Coordinators (at least one), in the order they take turns.
    pub coordinators: Vec<String>,
    pub clinician: String,
    pub supervisor: String,
}

impl ActivityPlan {
    /// `weeks` weeks ending with the one containing `end`, seed 42, coordinators ana, ben and
    /// dev, clinician cleo, supervisor sue.
    pub fn new(weeks: u32, end: NaiveDate) -> ActivityPlan {
        ActivityPlan {
            weeks,
            end,
            seed: 42,
            coordinators: ["ana", "ben", "dev"].map(str::to_owned).to_vec(),
            clinician: "cleo".to_owned(),
            supervisor: "sue".to_owned(),
        }
    }

    /// The Monday of the first simulated week.
    pub fn first_day(&self) -> NaiveDate {
        let monday = self.end - Duration::days(self.end.weekday().num_days_from_monday().into());
        monday - Duration::weeks(self.weeks.saturating_sub(1).into())
    }
}

/// What a simulation did, counted from the events it wrote.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ActivityReport {
    pub weeks: u32,
    pub first_day: Option<NaiveDate>,
    pub last_day: Option<NaiveDate>,
    /// Segmentation runs recorded (one per simulated Monday).
    pub cohort_runs: u32,
    pub cases_opened: u32,
    pub cases_claimed: u32,
    pub cases_assigned: u32,
    pub attempts: u32,
    pub reached: u32,
    pub attempts_by_channel: BTreeMap<String, u32>,
    /// Attempts the supervisor recorded past the over-contact limit, with a written reason.
    pub contact_limit_overrides: u32,
    /// Attempts put off because the person was at the over-contact limit.
    pub attempts_postponed: u32,
    pub callbacks_requested: u32,
    pub callbacks_documented: u32,
    /// Documented after their deadline.
    pub callbacks_documented_late: u32,
    pub escalations_raised: BTreeMap<String, u32>,
    pub escalations_acknowledged: u32,
    /// Acknowledged after the first level's deadline (so it had gone up a level).
    pub escalations_acknowledged_late: u32,
    pub escalations_resolved: u32,
    pub referrals_sent: BTreeMap<String, u32>,
    /// Referral updates by the status they set.
    pub referral_updates: BTreeMap<String, u32>,
    pub cases_closed: BTreeMap<String, u32>,
    /// Cases not closed at the end, and those of them nobody owns.
    pub open_cases_at_end: u32,
    pub unassigned_at_end: u32,
    /// Actions the API refused (`refused` or `conflict`), skipped.
    pub refused: u32,
    /// Work planned after `end`, left undone.
    pub left_pending: u32,
    /// Events written, by kind (every kind, zero included).
    pub events: BTreeMap<String, u64>,
    pub events_total: u64,
}

/// Simulates the plan's weeks on the open cache through the application API, calling
/// `progress(weeks done, weeks)` after each week.
pub fn simulate(
    careloop: &mut Careloop,
    plan: &ActivityPlan,
    progress: &mut dyn FnMut(u32, u32),
) -> Result<ActivityReport> {
    if plan.coordinators.is_empty() {
        return Err(ApiError::new(
            ErrorCode::BadInput,
            "the simulation needs at least one coordinator",
        ));
    }
    let first = plan.first_day();
    let start = at(first, 0, 0);
    if let Some(last) = careloop
        .ops()?
        .log
        .iter()
        .rev()
        .find_map(careloop_ops::sync::LogEntry::recorded)
        .filter(|r| plan.weeks > 0 && r.at >= start)
    {
        // The log stays in time order: simulated work comes after what is there.
        return Err(ApiError::new(
            ErrorCode::BadInput,
            format!(
                "the event log already has events up to {}; simulate weeks that start after it (the first simulated week starts on {first})",
                last.at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            ),
        ));
    }
    let catalog = careloop.catalog(None)?;
    let (calendar, scripts, log_start) = {
        let ops = careloop.ops()?;
        (
            ops.policy.calendar.clone(),
            ops.scripts.clone(),
            ops.log.len(),
        )
    };
    let mut segments = HashMap::new();
    for segment in &catalog.segments {
        let d = &segment.definition;
        let Some(script) = scripts.get(&d.script) else {
            continue;
        };
        let mut channels: Vec<Channel> = d
            .channel_policy
            .channels
            .iter()
            .filter_map(|c| c.parse().ok())
            .collect();
        if channels.is_empty() {
            channels.push(Channel::Phone);
        }
        segments.insert(
            d.id.clone(),
            SegmentInfo {
                kind: Kind::of_script(&d.script),
                urgent: d.contact_within_working_days <= 2,
                channels,
                script: script.clone(),
            },
        );
    }
    let end = plan
        .end
        .and_hms_opt(23, 59, 59)
        .expect("a valid time")
        .and_utc();
    let panel = if plan.weeks > 0 {
        careloop.panel_facts()?
    } else {
        std::sync::Arc::new(Vec::new())
    };
    let mut sim = Sim {
        careloop,
        plan,
        rng: ChaCha8Rng::seed_from_u64(plan.seed),
        calendar,
        end,
        now: DateTime::<Utc>::MIN_UTC,
        queue: BTreeMap::new(),
        seq: 0,
        segments,
        next_contact: HashMap::new(),
        planned: HashSet::new(),
        panel,
        refused: 0,
        postponed: 0,
        left_pending: 0,
        cohort_runs: 0,
    };
    for week in 0..plan.weeks {
        let monday = first + Duration::weeks(week.into());
        for offset in 0..7 {
            let day = monday + Duration::days(offset);
            if day > plan.end {
                break;
            }
            if offset == 0 {
                sim.schedule(at(day, 8, 30), Action::OpenCases(day));
                sim.schedule(at(day, 8, 45), Action::Claim { assign: true });
            }
            if !sim.calendar.is_working_day(day) {
                continue;
            }
            sim.schedule(at(day, 8, 10), Action::Monitor);
            if day.weekday() == Weekday::Wed {
                sim.schedule(at(day, 8, 45), Action::Claim { assign: false });
            }
            sim.schedule(at(day, 8, 55), Action::PlanDay(day));
        }
        let week_end = at(monday + Duration::days(7), 0, 0);
        while let Some(entry) = sim.queue.first_entry() {
            if entry.key().0 >= week_end {
                break;
            }
            let ((time, _), action) = entry.remove_entry();
            sim.now = time;
            sim.run(time, action)?;
        }
        progress(week + 1, plan.weeks);
    }
    sim.left_pending += sim.queue.len() as u32;
    let mut report = ActivityReport {
        weeks: plan.weeks,
        first_day: (plan.weeks > 0).then_some(first),
        last_day: (plan.weeks > 0).then_some(plan.end),
        cohort_runs: sim.cohort_runs,
        attempts_postponed: sim.postponed,
        refused: sim.refused,
        left_pending: sim.left_pending,
        events: KINDS.iter().map(|k| ((*k).to_owned(), 0)).collect(),
        ..ActivityReport::default()
    };
    count_events(sim.careloop, log_start, &mut report)?;
    Ok(report)
}

/// Fills the report's counts from the events written since `log_start`.
fn count_events(
    careloop: &mut Careloop,
    log_start: usize,
    report: &mut ActivityReport,
) -> Result<()> {
    let ops = careloop.ops()?;
    let calendar = &ops.policy.calendar;
    let add =
        |map: &mut BTreeMap<String, u32>, key: &str| *map.entry(key.to_owned()).or_default() += 1;
    for r in ops.log[log_start..]
        .iter()
        .filter_map(careloop_ops::sync::LogEntry::recorded)
    {
        *report.events.entry(r.event.kind().to_owned()).or_default() += 1;
        report.events_total += 1;
        match &r.event {
            OpEvent::CaseOpened { .. } => report.cases_opened += 1,
            OpEvent::CaseClaimed { .. } => report.cases_claimed += 1,
            OpEvent::CaseAssigned { .. } => report.cases_assigned += 1,
            OpEvent::AttemptRecorded(a) => {
                report.attempts += 1;
                report.reached += u32::from(a.reached);
                add(&mut report.attempts_by_channel, a.channel.as_str());
                if a.contact_limit_override.is_some() {
                    report.contact_limit_overrides += 1;
                }
            }
            OpEvent::CallbackRequested { .. } => report.callbacks_requested += 1,
            OpEvent::CallbackDocumented { callback_id, .. } => {
                report.callbacks_documented += 1;
                if ops
                    .state
                    .callbacks
                    .get(callback_id)
                    .is_some_and(|c| r.at > c.due)
                {
                    report.callbacks_documented_late += 1;
                }
            }
            OpEvent::EscalationRaised { kind, .. } => {
                add(&mut report.escalations_raised, kind.as_str());
            }
            OpEvent::EscalationAcknowledged { escalation_id, .. } => {
                report.escalations_acknowledged += 1;
                if ops
                    .state
                    .escalations
                    .get(escalation_id)
                    .is_some_and(|e| e.steps(r.at, calendar).len() > 1)
                {
                    report.escalations_acknowledged_late += 1;
                }
            }
            OpEvent::EscalationResolved { .. } => report.escalations_resolved += 1,
            OpEvent::ReferralSent { service, .. } => {
                add(&mut report.referrals_sent, service.as_str())
            }
            OpEvent::ReferralUpdated { status, .. } => {
                add(&mut report.referral_updates, status.as_str());
            }
            OpEvent::CaseClosed { reason, .. } => add(&mut report.cases_closed, reason.as_str()),
            // The simulation raises none (its panel's data does not change).
            OpEvent::AlertRaised { .. } | OpEvent::AlertAcknowledged { .. } => {}
            // Nor any care plan.
            OpEvent::CarePlan { .. } => {}
        }
    }
    for case in ops
        .state
        .cases
        .values()
        .filter(|c| c.status != CaseStatus::Closed)
    {
        report.open_cases_at_end += 1;
        report.unassigned_at_end += u32::from(case.owner.is_none());
    }
    Ok(())
}

/// The outreach a segment does, from its script: decides outcomes, services and closings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    PostDischarge,
    SocialRisk,
    Behavioural,
    Support,
    Dormant,
    CareGap,
}

impl Kind {
    fn of_script(script: &str) -> Kind {
        match script {
            "post_discharge" => Kind::PostDischarge,
            "social_risk_escalation" => Kind::SocialRisk,
            "bh_continuity" => Kind::Behavioural,
            "support_plan_review" => Kind::Support,
            "dormant_reengagement" => Kind::Dormant,
            _ => Kind::CareGap,
        }
    }

    /// Shares of a reached person's outcomes: stable, deterioration, different pathway (the
    /// rest declined).
    fn outcome_shares(self) -> (f64, f64, f64) {
        match self {
            Kind::PostDischarge => (0.50, 0.20, 0.20),
            Kind::SocialRisk => (0.20, 0.05, 0.60),
            Kind::Behavioural => (0.45, 0.20, 0.25),
            Kind::Support => (0.40, 0.15, 0.35),
            Kind::Dormant => (0.60, 0.05, 0.20),
            Kind::CareGap => (0.60, 0.07, 0.20),
        }
    }

    fn services(self) -> &'static [ServiceType] {
        match self {
            Kind::PostDischarge => &[
                ServiceType::FollowUpClinic,
                ServiceType::HomeCare,
                ServiceType::Transport,
                ServiceType::Meals,
            ],
            Kind::SocialRisk => &[
                ServiceType::EmergencyAssistance,
                ServiceType::Housing,
                ServiceType::Meals,
                ServiceType::Benefits,
            ],
            Kind::Behavioural => &[ServiceType::BehaviouralHealth, ServiceType::Housing],
            Kind::Support => &[
                ServiceType::HomeCare,
                ServiceType::Benefits,
                ServiceType::Transport,
                ServiceType::Meals,
            ],
            Kind::Dormant => &[ServiceType::FollowUpClinic, ServiceType::Transport],
            Kind::CareGap => &[
                ServiceType::Transport,
                ServiceType::FollowUpClinic,
                ServiceType::Benefits,
            ],
        }
    }

    /// The escalation a reached person who needs another pathway gets instead of a referral.
    fn escalation(self, rng: &mut ChaCha8Rng) -> EscalationKind {
        match self {
            Kind::SocialRisk => EscalationKind::SocialCrisis,
            Kind::Support | Kind::Behavioural if rng.gen_bool(0.5) => EscalationKind::Safeguarding,
            Kind::Support => EscalationKind::SocialCrisis,
            _ => EscalationKind::ClinicalConcern,
        }
    }

    /// Why a case closes when the person is well.
    fn closing(self, rng: &mut ChaCha8Rng) -> CloseReason {
        match self {
            Kind::Dormant => CloseReason::ReEngaged,
            Kind::CareGap if rng.gen_bool(0.7) => CloseReason::GapClosed,
            _ => CloseReason::Stable,
        }
    }
}

struct SegmentInfo {
    kind: Kind,
    /// Contact due within two working days of opening.
    urgent: bool,
    channels: Vec<Channel>,
    script: Script,
}

/// Something someone does at a time.
#[derive(Clone, Debug)]
enum Action {
    Monitor,
    OpenCases(NaiveDate),
    Claim {
        assign: bool,
    },
    PlanDay(NaiveDate),
    Attempt {
        case: Uuid,
        coordinator: usize,
        hint: Option<Channel>,
    },
    DocumentCallback(Uuid),
    AcknowledgeEscalation(Uuid),
    ResolveEscalation(Uuid),
    AnswerReferral(Uuid),
    StartReferral(Uuid),
    CompleteReferral(Uuid),
    CloseCase {
        case: Uuid,
        reason: CloseReason,
    },
}

struct Sim<'a> {
    careloop: &'a mut Careloop,
    plan: &'a ActivityPlan,
    rng: ChaCha8Rng,
    calendar: WorkingCalendar,
    /// `plan.end` 23:59:59.
    end: DateTime<Utc>,
    /// The time of the action being run.
    now: DateTime<Utc>,
    /// What is to be done, in time order (ties in the order planned).
    queue: BTreeMap<(DateTime<Utc>, u64), Action>,
    seq: u64,
    segments: HashMap<String, SegmentInfo>,
    /// The day a case's next attempt is due (none: as soon as there is time).
    next_contact: HashMap<Uuid, NaiveDate>,
    /// People with an attempt planned on the day being planned.
    planned: HashSet<String>,
    panel: std::sync::Arc<Vec<careloop_segment::PatientFacts>>,
    refused: u32,
    postponed: u32,
    left_pending: u32,
    cohort_runs: u32,
}

fn at(day: NaiveDate, hour: u32, minute: u32) -> DateTime<Utc> {
    day.and_hms_opt(hour, minute, 0)
        .expect("a valid time")
        .and_utc()
}

fn session(user: &str, role: Role, at: DateTime<Utc>) -> Session {
    Session {
        user: user.to_owned(),
        role,
        at,
    }
}

fn parse_id(id: Option<&str>, what: &str) -> Result<Uuid> {
    id.and_then(|id| id.parse().ok())
        .ok_or_else(|| ApiError::internal(format!("the API made a {what} without a valid id")))
}

/// The order cases are visited in: when opened, then person and segment (never the id).
fn case_order(case: &Case) -> (DateTime<Utc>, &str, &str) {
    (case.opened_at, &case.patient_id, &case.segment_id)
}

/// The share of attempts on a channel that reach the person.
fn reach(channel: Channel) -> f64 {
    match channel {
        Channel::Phone => 0.55,
        Channel::Sms => 0.35,
        Channel::Portal => 0.4,
        Channel::Email => 0.25,
        Channel::Letter => 0.15,
        Channel::HomeVisit => 0.8,
        Channel::PeerContact => 0.6,
    }
}

const NOTES: &[&str] = &[
    "Spoke briefly; will check again as planned.",
    "Left a message with the clinic number.",
    "Person asked for a call later in the week.",
    "Carer answered and passed the message on.",
    "Went through the script; no concerns raised beyond the answers.",
];

const FREE_TEXT: &[&str] = &[
    "Doing fine, busy week.",
    "Would like help getting to appointments.",
    "Feeling a little tired lately.",
    "Family is helping with shopping.",
    "Nothing else to add.",
];

const OVERRIDE_REASONS: &[&str] = &[
    "Not reached since the urgent flag; the risk of waiting outweighs the contact limit.",
    "The person asked to be called back today about the same concern.",
    "Clinician asked for a same-week check; contacts this week were missed calls.",
];

const DECLINE_REASONS: &[&str] = &[
    "No capacity this month",
    "Outside the service's area",
    "Person does not meet the eligibility criteria",
];

/// Answers to the questions the script shows: each shown question in order, optional ones
/// about half the time, with values its kind allows; answering may show later questions.
fn answers_for(script: &Script, day: NaiveDate, rng: &mut ChaCha8Rng) -> Answers {
    let mut answers = Answers::new();
    let mut skipped: HashSet<&str> = HashSet::new();
    for _ in 0..=script.questions.len() {
        let visible = script.visible_questions(&answers);
        let Some(question) = visible
            .into_iter()
            .find(|q| !answers.contains_key(&q.id) && !skipped.contains(q.id.as_str()))
        else {
            break;
        };
        if !question.required && rng.gen_bool(0.5) {
            skipped.insert(&question.id);
            continue;
        }
        let answer = match &question.kind {
            QuestionKind::YesNo => Answer::YesNo(rng.gen_bool(0.5)),
            QuestionKind::SingleChoice { options } => Answer::Choice(
                options
                    .choose(rng)
                    .map_or_else(String::new, |o| o.value.clone()),
            ),
            QuestionKind::MultipleChoice { options } => {
                let n = rng.gen_range(1..=2.min(options.len()).max(1));
                Answer::Choices(
                    options
                        .choose_multiple(rng, n)
                        .map(|o| o.value.clone())
                        .collect(),
                )
            }
            QuestionKind::Scale { min, max, .. } => Answer::Scale(rng.gen_range(*min..=*max)),
            QuestionKind::Date => Answer::Date(day + Duration::days(rng.gen_range(3..=30))),
            QuestionKind::FreeText => {
                Answer::Text((*FREE_TEXT.choose(rng).expect("not empty")).to_owned())
            }
        };
        answers.insert(question.id.clone(), answer);
    }
    answers
}

impl Sim<'_> {
    fn schedule(&mut self, time: DateTime<Utc>, action: Action) {
        // Never before what is being done now: the log stays in time order.
        let time = time.max(self.now);
        if time > self.end {
            self.left_pending += 1;
            return;
        }
        self.queue.insert((time, self.seq), action);
        self.seq += 1;
    }

    /// What the API refused (`refused`, `conflict`) is skipped and counted; anything else is
    /// an error.
    fn tolerate<T>(&mut self, result: Result<T>) -> Result<Option<T>> {
        match result {
            Ok(value) => Ok(Some(value)),
            Err(e) if matches!(e.code, ErrorCode::Refused | ErrorCode::Conflict) => {
                self.refused += 1;
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    /// The `n`th working day after `day` (`n == 0`: `day` itself when it is one, else the
    /// next).
    fn working_day(&self, day: NaiveDate, n: u32) -> NaiveDate {
        let mut day = day;
        let mut left = n;
        for _ in 0..1000 {
            if self.calendar.is_working_day(day) {
                if left == 0 {
                    return day;
                }
                left -= 1;
            }
            day = day.succ_opt().expect("dates this far out do not occur");
        }
        day
    }

    /// A random minute between `from` and `to` (minutes of the day, UTC) on `day`.
    fn random_time(&mut self, day: NaiveDate, from: u32, to: u32) -> DateTime<Utc> {
        let minute = self.rng.gen_range(from..=to.max(from));
        at(day, 0, 0) + Duration::minutes(minute.into())
    }

    /// A random working time on the `n`th working day after `day`, 09:00–17:00.
    fn working_time(&mut self, day: NaiveDate, n: u32) -> DateTime<Utc> {
        let day = self.working_day(day, n);
        self.random_time(day, 9 * 60, 17 * 60)
    }

    /// `minutes` working minutes after `start`, on the service's calendar.
    fn add_working_minutes(&self, start: DateTime<Utc>, minutes: i64) -> DateTime<Utc> {
        let cal = &self.calendar;
        let mut remaining = Duration::minutes(minutes);
        let local = start.with_timezone(&cal.offset);
        let mut day = local.date_naive();
        let mut from = local.time();
        for _ in 0..1000 {
            if cal.is_working_day(day) && from < cal.closes {
                let begin = from.max(cal.opens);
                let available = cal.closes - begin;
                if remaining <= available {
                    let local = cal
                        .offset
                        .from_local_datetime(&day.and_time(begin))
                        .single()
                        .expect("a fixed offset maps every local time once");
                    return local.with_timezone(&Utc) + remaining;
                }
                remaining -= available;
            }
            day = day.succ_opt().expect("dates this far out do not occur");
            from = NaiveTime::MIN;
        }
        start
    }

    fn supervisor(&self, at: DateTime<Utc>) -> Session {
        session(&self.plan.supervisor, Role::Supervisor, at)
    }

    /// The case's owner when a simulated coordinator owns it, else the supervisor.
    fn owner_session(&mut self, case_id: Uuid, at: DateTime<Utc>) -> Result<Session> {
        let owner = self
            .careloop
            .ops()?
            .state
            .cases
            .get(&case_id)
            .and_then(|c| c.owner.clone())
            .filter(|o| self.plan.coordinators.contains(o));
        Ok(match owner {
            Some(owner) => session(&owner, Role::Coordinator, at),
            None => self.supervisor(at),
        })
    }

    fn run(&mut self, at: DateTime<Utc>, action: Action) -> Result<()> {
        match action {
            Action::Monitor => self.monitor(at),
            Action::OpenCases(day) => {
                let supervisor = self.supervisor(at);
                self.careloop
                    .open_cases_with(&supervisor, day, None, Some(&self.panel))?;
                self.cohort_runs += 1;
                Ok(())
            }
            Action::Claim { assign } => self.claim(at, assign),
            Action::PlanDay(day) => self.plan_day(at, day),
            Action::Attempt {
                case,
                coordinator,
                hint,
            } => self.attempt(at, case, coordinator, hint),
            Action::DocumentCallback(id) => self.document_callback(at, id),
            Action::AcknowledgeEscalation(id) => self.acknowledge(at, id),
            Action::ResolveEscalation(id) => self.resolve(at, id),
            Action::AnswerReferral(id) => self.answer_referral(at, id),
            Action::StartReferral(id) => self.start_referral(at, id),
            Action::CompleteReferral(id) => {
                let status = self.referral_status(id)?;
                if status == Some(ReferralStatus::Started) {
                    let case = self.careloop.ops()?.state.referrals[&id].case_id;
                    let s = self.owner_session(case, at)?;
                    let r = self.careloop.update_referral(
                        &s,
                        id,
                        ReferralStatus::Completed,
                        "Service completed; the person's needs were met",
                        None,
                    );
                    self.tolerate(r)?;
                }
                Ok(())
            }
            Action::CloseCase { case, reason } => {
                // Closed already, or waiting on something new: not now.
                if !matches!(
                    self.case_status(case)?,
                    Some(CaseStatus::Assigned | CaseStatus::InProgress)
                ) {
                    return Ok(());
                }
                let s = self.owner_session(case, at)?;
                let r = self.careloop.close_case(
                    &s,
                    case,
                    reason,
                    Some("Closed after the follow-up work was done.".to_owned()),
                );
                self.tolerate(r)?;
                self.next_contact.remove(&case);
                Ok(())
            }
        }
    }

    fn case_status(&mut self, case: Uuid) -> Result<Option<CaseStatus>> {
        Ok(self
            .careloop
            .ops()?
            .state
            .cases
            .get(&case)
            .map(|c| c.status))
    }

    fn referral_status(&mut self, id: Uuid) -> Result<Option<ReferralStatus>> {
        Ok(self
            .careloop
            .ops()?
            .state
            .referrals
            .get(&id)
            .map(|r| r.status))
    }

    /// The daily referral monitor, as the supervisor; the escalations it raises are
    /// acknowledged later like any other.
    fn monitor(&mut self, at: DateTime<Utc>) -> Result<()> {
        let supervisor = self.supervisor(at);
        let raised = self.careloop.escalate_overdue_referrals(&supervisor)?;
        let mut raised = raised
            .iter()
            .map(|id| parse_id(Some(id), "escalation"))
            .collect::<Result<Vec<_>>>()?;
        let ops = self.careloop.ops()?;
        let order = |id: &Uuid| {
            let case = &ops.state.cases[&ops.state.escalations[id].case_id];
            (
                case.opened_at,
                case.patient_id.clone(),
                case.segment_id.clone(),
            )
        };
        raised.sort_by_cached_key(order);
        for id in raised {
            self.schedule_acknowledgement(at, id, EscalationKind::OverdueReferral);
        }
        Ok(())
    }

    /// Open cases owned by each coordinator.
    fn caseloads(&mut self) -> Result<Vec<u32>> {
        let ops = self.careloop.ops()?;
        let mut loads = vec![0; self.plan.coordinators.len()];
        for case in ops.state.cases.values() {
            if case.status == CaseStatus::Closed {
                continue;
            }
            if let Some(i) = case
                .owner
                .as_ref()
                .and_then(|o| self.plan.coordinators.iter().position(|c| c == o))
            {
                loads[i] += 1;
            }
        }
        Ok(loads)
    }

    /// The supervisor assigns a few urgent cases (when `assign`), then the coordinators
    /// claim from the pool, highest priority first, the one with the most room first.
    fn claim(&mut self, at: DateTime<Utc>, assign: bool) -> Result<()> {
        let limit = self.careloop.ops()?.policy.caseload_per_coordinator;
        let target = limit.saturating_sub((limit / 10).max(2)).max(1);
        let mut loads = self.caseloads()?;
        let supervisor = self.supervisor(at);
        let mut pool = self.careloop.worklist(
            &supervisor,
            &WorklistFilter {
                owner: Some(String::new()),
                ..WorklistFilter::default()
            },
        )?;
        pool.sort_by(|a, b| {
            b.priority
                .cmp(&a.priority)
                .then_with(|| a.due.cmp(&b.due))
                .then_with(|| a.patient_id.cmp(&b.patient_id))
                .then_with(|| a.segment_id.cmp(&b.segment_id))
        });
        let mut direct = if assign { self.rng.gen_range(1..=3) } else { 0 };
        for row in &pool {
            let Some(who) = (0..loads.len())
                .filter(|i| loads[*i] < target)
                .min_by_key(|i| (loads[*i], *i))
            else {
                break;
            };
            let case_id = parse_id(Some(&row.case_id), "case")?;
            let urgent = self.segments.get(&row.segment_id).is_some_and(|s| s.urgent);
            let name = self.plan.coordinators[who].clone();
            let result = if direct > 0 && urgent {
                direct -= 1;
                self.careloop.assign_case(&supervisor, case_id, &name)
            } else {
                let coordinator = session(&name, Role::Coordinator, at);
                self.careloop.claim_case(&coordinator, case_id)
            };
            if self.tolerate(result)?.is_some() {
                loads[who] += 1;
            }
        }
        Ok(())
    }

    /// Each coordinator plans the day's attempts: cases whose next contact is due, earliest
    /// deadline and highest priority first, one attempt per person a day.
    fn plan_day(&mut self, at: DateTime<Utc>, day: NaiveDate) -> Result<()> {
        self.planned.clear();
        let monday = day.weekday() == Weekday::Mon;
        for i in 0..self.plan.coordinators.len() {
            let name = self.plan.coordinators[i].clone();
            let coordinator = session(&name, Role::Coordinator, at);
            let rows = self
                .careloop
                .worklist(&coordinator, &WorklistFilter::default())?;
            let hints: HashMap<String, Option<Channel>> = rows
                .into_iter()
                .map(|r| {
                    let hint = r
                        .suggestion
                        .and_then(|s| s.channel.parse().ok())
                        .or_else(|| r.preferred_channel.and_then(|c| c.parse().ok()));
                    (r.case_id, hint)
                })
                .collect();
            let next_contact = &self.next_contact;
            let ops = self.careloop.ops()?;
            let mut due: Vec<&Case> = ops
                .state
                .cases
                .values()
                .filter(|c| c.owner.as_deref() == Some(name.as_str()))
                .filter(|c| matches!(c.status, CaseStatus::Assigned | CaseStatus::InProgress))
                .filter(|c| next_contact.get(&c.case_id).is_none_or(|d| *d <= day))
                .collect();
            due.sort_by(|a, b| {
                (a.due, std::cmp::Reverse(a.priority), case_order(a)).cmp(&(
                    b.due,
                    std::cmp::Reverse(b.priority),
                    case_order(b),
                ))
            });
            let due: Vec<(Uuid, String)> = due
                .into_iter()
                .map(|c| (c.case_id, c.patient_id.clone()))
                .collect();
            let capacity = if monday {
                self.rng.gen_range(2..=5)
            } else {
                self.rng.gen_range(9..=15)
            };
            let mut planned = 0;
            for (case, patient) in due {
                if planned == capacity {
                    break;
                }
                if !self.planned.insert(patient) {
                    continue;
                }
                planned += 1;
                let from = if monday { 13 * 60 } else { 9 * 60 };
                let time = self.random_time(day, from, 16 * 60 + 30);
                let hint = hints.get(&case.to_string()).copied().flatten();
                self.schedule(
                    time,
                    Action::Attempt {
                        case,
                        coordinator: i,
                        hint,
                    },
                );
            }
        }
        Ok(())
    }

    /// A channel: mostly the suggestion, else one of the segment's channels, now and then
    /// any channel.
    fn choose_channel(&mut self, hint: Option<Channel>, segment: &str) -> Channel {
        let r: f64 = self.rng.gen();
        let allowed = &self.segments[segment].channels;
        match hint {
            Some(hint) if r < 0.55 => hint,
            _ if r < 0.9 => *allowed.choose(&mut self.rng).expect("not empty"),
            _ => *Channel::ALL.choose(&mut self.rng).expect("not empty"),
        }
    }

    fn attempt(
        &mut self,
        at: DateTime<Utc>,
        case_id: Uuid,
        coordinator: usize,
        hint: Option<Channel>,
    ) -> Result<()> {
        let name = self.plan.coordinators[coordinator].clone();
        let (segment_id, attempts, worsening, in_week, limit) = {
            let ops = self.careloop.ops()?;
            let Some(case) = ops.state.cases.get(&case_id) else {
                return Ok(());
            };
            if case.owner.as_deref() != Some(name.as_str())
                || !matches!(case.status, CaseStatus::Assigned | CaseStatus::InProgress)
            {
                return Ok(());
            }
            (
                case.segment_id.clone(),
                case.attempts,
                case.last_outcome == Some(Outcome::EmergingDeterioration),
                ops.state.contacts_in_week(&case.patient_id, at),
                ops.policy.max_contacts_per_week,
            )
        };
        let Some(info) = self.segments.get(&segment_id) else {
            return Ok(());
        };
        // Urgent: the segment's first contact is due within two working days, or the person
        // reported getting worse.
        let (kind, urgent) = (info.kind, info.urgent || worsening);
        let day = at.date_naive();
        // The over-contact guard: wait, or the supervisor overrides.
        let mut who = session(&name, Role::Coordinator, at);
        let mut contact_limit_override = None;
        if in_week >= limit {
            // Mostly urgent work; now and then a person who asked to be called back.
            if self.rng.gen_bool(if urgent { 0.75 } else { 0.15 }) {
                who = self.supervisor(at);
                contact_limit_override = OVERRIDE_REASONS
                    .choose(&mut self.rng)
                    .map(|r| (*r).to_owned());
            } else {
                self.postponed += 1;
                let later = self.working_day(day, 2);
                self.next_contact.insert(case_id, later);
                return Ok(());
            }
        }
        let mut channel = self.choose_channel(hint, &segment_id);
        let mut message_id = None;
        if channel.is_written() {
            let templates: Vec<&str> = self.segments[&segment_id]
                .script
                .messages
                .iter()
                .filter(|m| channel.is_secure() || !m.sensitive)
                .map(|m| m.id.as_str())
                .collect();
            match templates.choose(&mut self.rng) {
                Some(id) => message_id = Some((*id).to_owned()),
                None => channel = Channel::Phone,
            }
        }
        let reached = self.rng.gen_bool(reach(channel));
        let after = attempts + 1;
        let (outcome, next) = if reached {
            let (stable, deterioration, pathway) = kind.outcome_shares();
            let r: f64 = self.rng.gen();
            if r < stable {
                if self.rng.gen_bool(0.7) || after >= 4 {
                    let reason = kind.closing(&mut self.rng);
                    (Outcome::ConfirmedStable, NextAction::Close { reason })
                } else {
                    let n = self.rng.gen_range(5..=10);
                    let on = self.working_day(day, n);
                    (Outcome::ConfirmedStable, NextAction::FollowUp { on })
                }
            } else if r < stable + deterioration {
                let next = if self.rng.gen_bool(0.75) {
                    NextAction::ClinicianCallback {
                        reason: "Reports feeling worse; please review".to_owned(),
                    }
                } else {
                    NextAction::Escalate {
                        kind: EscalationKind::ClinicalConcern,
                        note: "Worsening symptoms reported on the call".to_owned(),
                    }
                };
                (Outcome::EmergingDeterioration, next)
            } else if r < stable + deterioration + pathway {
                let next = if self.rng.gen_bool(0.7) {
                    NextAction::Refer {
                        service: *kind.services().choose(&mut self.rng).expect("not empty"),
                        note: "Referred after the outreach call".to_owned(),
                    }
                } else {
                    NextAction::Escalate {
                        kind: kind.escalation(&mut self.rng),
                        note: "Needs more than outreach can offer".to_owned(),
                    }
                };
                (Outcome::NeedsDifferentPathway, next)
            } else if self.rng.gen_bool(0.8) {
                (
                    Outcome::Declined,
                    NextAction::Close {
                        reason: CloseReason::Declined,
                    },
                )
            } else {
                let on = self.working_day(day, 10);
                (Outcome::Declined, NextAction::FollowUp { on })
            }
        } else {
            let wrong_number =
                matches!(channel, Channel::Phone | Channel::Sms) && self.rng.gen_bool(0.1);
            let outcome = if wrong_number {
                Outcome::WrongNumber
            } else {
                Outcome::Unreachable
            };
            let r: f64 = self.rng.gen();
            let next = if wrong_number && after >= 2 && r < 0.3 {
                NextAction::Close {
                    reason: CloseReason::MovedOrDeceased,
                }
            } else if after >= 6 || (after >= 3 && r < 0.6) {
                NextAction::Close {
                    reason: CloseReason::Unreachable,
                }
            } else if after >= 3 && r < 0.75 {
                NextAction::Escalate {
                    kind: EscalationKind::NoContact,
                    note: format!("Not reached after {after} attempts"),
                }
            } else {
                // Urgent work is tried again the next working day.
                let days = if urgent { 1 } else { self.rng.gen_range(2..=4) };
                NextAction::FollowUp {
                    on: self.working_day(day, days),
                }
            };
            (outcome, next)
        };
        let answers = if reached {
            answers_for(&self.segments[&segment_id].script, day, &mut self.rng)
        } else {
            Answers::new()
        };
        let note = self
            .rng
            .gen_bool(0.6)
            .then(|| (*NOTES.choose(&mut self.rng).expect("not empty")).to_owned());
        let input = AttemptInput {
            case_id,
            channel,
            reached,
            message_id,
            answers,
            outcome,
            next: next.clone(),
            contact_limit_override,
            note,
        };
        let result = self.careloop.record_attempt(&who, input);
        let Some(done) = self.tolerate(result)? else {
            return Ok(());
        };
        self.next_contact.remove(&case_id);
        match next {
            NextAction::FollowUp { on } => {
                self.next_contact.insert(case_id, on);
            }
            NextAction::Close { .. } => {}
            NextAction::ClinicianCallback { .. } => {
                let id = parse_id(done.created.as_deref(), "callback")?;
                self.schedule_callback(at, id)?;
            }
            NextAction::Escalate { kind, .. } => {
                let id = parse_id(done.created.as_deref(), "escalation")?;
                self.schedule_acknowledgement(at, id, kind);
            }
            NextAction::Refer { service, .. } => {
                let id = parse_id(done.created.as_deref(), "referral")?;
                self.schedule_referral_answer(at, id, service);
            }
        }
        Ok(())
    }

    /// The clinician documents a callback: mostly before its deadline (in working hours
    /// between the request and the deadline), a fifth 1–3 working days late.
    fn schedule_callback(&mut self, requested: DateTime<Utc>, id: Uuid) -> Result<()> {
        let due = self.careloop.ops()?.state.callbacks[&id].due;
        let time = if self.rng.gen_bool(0.8) {
            let earliest = requested + Duration::minutes(20);
            let days: Vec<NaiveDate> = earliest
                .date_naive()
                .iter_days()
                .take_while(|d| *d <= due.date_naive())
                .filter(|d| self.calendar.is_working_day(*d))
                .collect();
            match days.choose(&mut self.rng).copied() {
                Some(day) => {
                    let minute = |t: DateTime<Utc>| t.hour_minute();
                    let from = if day == earliest.date_naive() {
                        minute(earliest).max(8 * 60 + 30)
                    } else {
                        8 * 60 + 30
                    };
                    let to = if day == due.date_naive() {
                        minute(due).saturating_sub(5).min(17 * 60 + 30)
                    } else {
                        17 * 60 + 30
                    };
                    if from <= to {
                        self.random_time(day, from, to)
                    } else {
                        earliest
                    }
                }
                None => earliest,
            }
        } else {
            let n = self.rng.gen_range(1..=3);
            self.working_time(due.date_naive(), n)
        };
        self.schedule(time, Action::DocumentCallback(id));
        Ok(())
    }

    fn document_callback(&mut self, at: DateTime<Utc>, id: Uuid) -> Result<()> {
        let case = {
            let ops = self.careloop.ops()?;
            let Some(callback) = ops.state.callbacks.get(&id) else {
                return Ok(());
            };
            callback.case_id
        };
        let clinician = session(&self.plan.clinician, Role::Clinician, at);
        let (outcome, next_step) = *[
            (
                "Reviewed by phone; no change to the plan",
                "Coordinator to check in next week",
            ),
            ("Medication adjusted", "Review in one week"),
            (
                "Booked a same-week appointment",
                "Coordinator to confirm attendance",
            ),
        ]
        .choose(&mut self.rng)
        .expect("not empty");
        let r = self
            .careloop
            .document_callback(&clinician, id, outcome, next_step, true);
        if self.tolerate(r)?.is_some() {
            self.resume(at, case, 0.45, CloseReason::Stable)?;
        }
        Ok(())
    }

    /// Something pending on a case is done: close it (with `share` probability, the next
    /// working day) or contact the person again in a few days. Nothing when other work is
    /// still pending on it.
    fn resume(
        &mut self,
        at: DateTime<Utc>,
        case: Uuid,
        share: f64,
        reason: CloseReason,
    ) -> Result<()> {
        if !matches!(
            self.case_status(case)?,
            Some(CaseStatus::Assigned | CaseStatus::InProgress)
        ) {
            return Ok(());
        }
        if self.rng.gen_bool(share) {
            let time = self.working_time(at.date_naive(), 1);
            self.schedule(time, Action::CloseCase { case, reason });
            // No attempt before the closing.
            let after = self.working_day(time.date_naive(), 5);
            self.next_contact.insert(case, after);
        } else {
            let n = self.rng.gen_range(1..=4);
            let day = self.working_day(at.date_naive(), n);
            self.next_contact.insert(case, day);
        }
        Ok(())
    }

    /// When an escalation is acknowledged: mostly within its first level's working hours, a
    /// fifth within the next level's, a tenth later still.
    fn schedule_acknowledgement(&mut self, raised: DateTime<Utc>, id: Uuid, kind: EscalationKind) {
        let hours = i64::from(kind.policy().ack_working_hours) * 60;
        let r: f64 = self.rng.gen();
        let minutes = if r < 0.7 {
            self.rng.gen_range(hours / 10..=hours * 9 / 10)
        } else if r < 0.9 {
            self.rng
                .gen_range(hours + hours / 10..=2 * hours - hours / 10)
        } else {
            self.rng.gen_range(2 * hours + 30..=4 * hours)
        };
        let time = self.add_working_minutes(raised, minutes.max(5));
        self.schedule(time, Action::AcknowledgeEscalation(id));
    }

    /// The level holding the escalation acknowledges it: the case's coordinator at the
    /// first level, else the supervisor.
    fn acknowledge(&mut self, at: DateTime<Utc>, id: Uuid) -> Result<()> {
        let (level, case) = {
            let ops = self.careloop.ops()?;
            let Some(e) = ops.state.escalations.get(&id) else {
                return Ok(());
            };
            if e.status != EscalationStatus::Raised {
                return Ok(());
            }
            let level = e
                .steps(at, &ops.policy.calendar)
                .last()
                .map_or(Level::Supervisor, |s| s.level);
            (level, e.case_id)
        };
        let who = match level {
            Level::Coordinator => self.owner_session(case, at)?,
            Level::Supervisor | Level::ServiceLead => self.supervisor(at),
        };
        let r = self
            .careloop
            .escalation_step(&who, id, false, "Acknowledged; looking into it");
        if self.tolerate(r)?.is_some() {
            let n = self.rng.gen_range(1..=5);
            let time = self.working_time(at.date_naive(), n);
            self.schedule(time, Action::ResolveEscalation(id));
        }
        Ok(())
    }

    /// The supervisor resolves clinical and safeguarding escalations, the case's coordinator
    /// the others.
    fn resolve(&mut self, at: DateTime<Utc>, id: Uuid) -> Result<()> {
        let (kind, case) = {
            let ops = self.careloop.ops()?;
            let Some(e) = ops.state.escalations.get(&id) else {
                return Ok(());
            };
            if e.status != EscalationStatus::Acknowledged {
                return Ok(());
            }
            (e.kind, e.case_id)
        };
        let who = match kind {
            EscalationKind::ClinicalConcern | EscalationKind::Safeguarding => self.supervisor(at),
            _ => self.owner_session(case, at)?,
        };
        let r =
            self.careloop
                .escalation_step(&who, id, true, "Resolved; plan agreed with the person");
        if self.tolerate(r)?.is_some() {
            let reason = if self.rng.gen_bool(0.3) {
                CloseReason::NotAppropriate
            } else {
                CloseReason::Stable
            };
            self.resume(at, case, 0.5, reason)?;
        }
        Ok(())
    }

    /// The service answers after 0–7 working days: mostly within its response time, a
    /// sixth up to two working days past it.
    fn schedule_referral_answer(&mut self, sent: DateTime<Utc>, id: Uuid, service: ServiceType) {
        let deadline = service.response_working_days().max(1);
        let n = if self.rng.gen_bool(5.0 / 6.0) {
            self.rng.gen_range(0..deadline)
        } else {
            self.rng.gen_range(deadline..=(deadline + 2).min(7))
        };
        let time = if n == 0 {
            let from = sent.hour_minute() + 30;
            self.random_time(sent.date_naive(), from, 17 * 60)
        } else {
            self.working_time(sent.date_naive(), n)
        };
        self.schedule(time, Action::AnswerReferral(id));
    }

    fn answer_referral(&mut self, at: DateTime<Utc>, id: Uuid) -> Result<()> {
        if self.referral_status(id)? != Some(ReferralStatus::Sent) {
            return Ok(());
        }
        let case = self.careloop.ops()?.state.referrals[&id].case_id;
        let who = self.owner_session(case, at)?;
        if self.rng.gen_bool(0.75) {
            let r = self.careloop.update_referral(
                &who,
                id,
                ReferralStatus::Accepted,
                "Accepted by the service",
                None,
            );
            if self.tolerate(r)?.is_some() {
                let n = if self.rng.gen_bool(0.8) {
                    self.rng.gen_range(1..=8)
                } else {
                    self.rng.gen_range(11..=14)
                };
                let time = self.working_time(at.date_naive(), n);
                self.schedule(time, Action::StartReferral(id));
            }
        } else {
            let reason = *DECLINE_REASONS.choose(&mut self.rng).expect("not empty");
            let r = self
                .careloop
                .update_referral(&who, id, ReferralStatus::Declined, reason, None);
            if self.tolerate(r)?.is_some() {
                self.resume(at, case, 0.5, CloseReason::NotAppropriate)?;
            }
        }
        Ok(())
    }

    fn start_referral(&mut self, at: DateTime<Utc>, id: Uuid) -> Result<()> {
        if self.referral_status(id)? != Some(ReferralStatus::Accepted) {
            return Ok(());
        }
        let (case, segment) = {
            let ops = self.careloop.ops()?;
            let case = ops.state.referrals[&id].case_id;
            (case, ops.state.cases[&case].segment_id.clone())
        };
        let who = self.owner_session(case, at)?;
        let r = self.careloop.update_referral(
            &who,
            id,
            ReferralStatus::Started,
            "Service confirmed the start",
            Some(at.date_naive()),
        );
        if self.tolerate(r)?.is_some() {
            let n = self.rng.gen_range(5..=25);
            let time = self.working_time(at.date_naive(), n);
            self.schedule(time, Action::CompleteReferral(id));
            let kind = self
                .segments
                .get(&segment)
                .map_or(Kind::CareGap, |s| s.kind);
            let reason = kind.closing(&mut self.rng);
            self.resume(at, case, 0.65, reason)?;
        }
        Ok(())
    }
}

/// Minutes since midnight (UTC).
trait HourMinute {
    fn hour_minute(&self) -> u32;
}

impl HourMinute for DateTime<Utc> {
    fn hour_minute(&self) -> u32 {
        use chrono::Timelike;
        self.hour() * 60 + self.minute()
    }
}
