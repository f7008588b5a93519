//! The desktop app's commands, declared once. Each `fn` below is a method of
//! [`DesktopSession`] (what the boundary does: parse ids and dates, stamp the session, call
//! [`Careloop`](crate::Careloop)); from the same declaration come
//!
//! - the Tauri commands: `src-tauri` expands [`for_each_command!`](crate::for_each_command)
//!   into one `#[tauri::command]` per declaration and the handler that registers them;
//! - the TypeScript client: [`typescript`] writes `ui/src/bindings/commands.ts` (the
//!   `Commands` interface with each command's doc, argument and answer types, and the
//!   function that turns an `invoke` into a client of it), checked by CI like the types;
//!   the UI's `Backend` extends `Commands`, and the UI tests' fake backend implements it,
//!   so neither can drift from Rust.
//!
//! Adding a command: a pure decision in `careloop_ops::decide` (if it decides anything),
//! the [`Careloop`](crate::Careloop) method that commits it, one declaration here, the
//! screen. Argument types must implement `Deserialize` and `ts_rs::TS`, answers `Serialize`
//! and `ts_rs::TS`; argument names are snake_case here and camelCase in TypeScript (as Tauri
//! passes them).
//!
//! `open_cache` is not declared here: it reports progress through the shell's events and
//! reads the shell's clock, so the shell writes it by hand.

use std::sync::atomic::Ordering;

use careloop_ops::sync::Resolution;

pub use super::sync::{CaseConflicts, ResolveConflictForm};
use super::{make_export_folder, DesktopSession};
pub use crate::alerts::AlertDto;
pub use crate::callsheet::CallSheet;
pub use crate::careplans::{
    CarePlanDto, CloseActionForm, MonitoringForm, PlanActionForm, PlanChoices, PlanDomainForm,
    PlanWorkItem, RecordReviewForm, ScheduleReviewForm,
};
use crate::dto::{parse_date, parse_id};
pub use crate::dto::{
    AttemptForm, CallbackForm, CloseCaseForm, EscalationStepForm, ExplanationDto,
    PartnerReferralForm, PartnerServiceDto, PersonCase, PreviewDto, PublishedDto,
    ReferralUpdateForm, ScriptDto, SearchRequest, SegmentDefinitionDto, SegmentDraft, SessionInfo,
    SignInForm, WorklistQuery,
};
pub use crate::lists::{ListsChanged, ListsStatus};
pub use crate::operations::{CaseDetail, Done, QueueItem, WorklistRow};
use crate::review::{parse_week, week_of, ReviewFormat};
pub use crate::review::{DrillRow, ReviewExportFormat, WeeklyReview};
pub use crate::search::SearchHit;
use crate::search::SearchQuery;
pub use crate::sync::SyncStatus;
pub use crate::team::{BulkAssigned, TeamView};
use crate::{ApiError, ErrorCode, Result};
pub use crate::{PatientPage, PatientQuery};

/// One declared command, as the TypeScript generator reads it.
#[derive(Clone, Copy, Debug)]
pub struct Command {
    /// The Tauri command name (snake_case).
    pub name: &'static str,
    /// The doc comment's lines.
    pub doc: &'static [&'static str],
    /// The arguments' names (snake_case) and TypeScript types.
    pub args: &'static [(&'static str, TsType)],
    /// The answer's TypeScript type.
    pub answer: TsType,
}

/// A Rust type's TypeScript name and the generated bindings it needs imported.
pub type TsType = fn(&ts_rs::Config) -> (String, Vec<ts_rs::Dependency>);

/// [`TsType`] of `T`: its name, and the exported types it names (itself, or the items of a
/// `Vec`/`Option`).
pub fn ts_type<T: ts_rs::TS + 'static + ?Sized>(
    cfg: &ts_rs::Config,
) -> (String, Vec<ts_rs::Dependency>) {
    struct Generics<'a>(&'a ts_rs::Config, Vec<ts_rs::Dependency>);
    impl ts_rs::TypeVisitor for Generics<'_> {
        fn visit<U: ts_rs::TS + 'static + ?Sized>(&mut self) {
            self.1.extend(ts_rs::Dependency::from_ty::<U>(self.0));
        }
    }
    let mut visit = Generics(
        cfg,
        ts_rs::Dependency::from_ty::<T>(cfg).into_iter().collect(),
    );
    T::visit_generics(&mut visit);
    (T::name(cfg), visit.1)
}

macro_rules! commands {
    ($d:tt $(
        $(#[doc = $doc:literal])*
        fn $name:ident(&$self:ident $(, $arg:ident : $ty:ty)* $(,)?) -> $answer:ty $body:block
    )*) => {
        impl DesktopSession {
            $(
                $(#[doc = $doc])*
                pub fn $name(&$self $(, $arg: $ty)*) -> Result<$answer> {
                    let started = std::time::Instant::now();
                    let _span = tracing::debug_span!("command", name = stringify!($name)).entered();
                    #[allow(clippy::redundant_closure_call)] // `?` and `return` in the body end the closure, not the method: the outcome is logged.
                    let answer = (move || -> Result<$answer> { $body })();
                    log_outcome(answer.as_ref().err(), started);
                    answer
                }
            )*
        }

        /// Every declared command, in declaration order.
        pub const COMMANDS: &[Command] = &[$(
            Command {
                name: stringify!($name),
                doc: &[$($doc),*],
                args: &[$((stringify!($arg), ts_type::<$ty> as TsType)),*],
                answer: ts_type::<$answer>,
            }
        ),*];

        /// Calls `$callback!` with every declared command as
        /// `name(arg: Type, …) -> Answer;` (types named as `careloop_api::commands`
        /// exports them: the caller glob-imports that module). `src-tauri` makes its
        /// Tauri commands this way.
        #[macro_export]
        macro_rules! for_each_command {
            ($d callback:ident) => {
                $d callback! { $( $name($($arg: $ty),*) -> $answer; )* }
            };
        }
    };
}

commands! { $
    /// Signs in with a local account (wrong user or password: `forbidden`).
    fn sign_in(&self, form: SignInForm) -> SessionInfo {
        self.sign_in_with(&form)
    }

    /// Locks the session; every data call answers `session_locked` until the next sign-in.
    fn lock(&self) -> SessionInfo {
        if let Some(s) = self.signed()?.as_mut() {
            s.locked = true;
        }
        self.session_info()
    }

    /// Who is signed in and whether the session is locked (idle past the limit counts as
    /// locked). Not an activity: asking does not keep the session open.
    fn session_info(&self) -> SessionInfo {
        let now = (self.clock)();
        let mut signed = self.signed()?;
        if let Some(s) = signed.as_mut() {
            if self.idle_too_long(s, now) {
                s.locked = true;
            }
        }
        Ok(SessionInfo {
            user: signed.as_ref().map(|s| s.user.clone()),
            role: signed.as_ref().map(|s| s.role.into()),
            locked: signed.as_ref().is_none_or(|s| s.locked),
            idle_lock_seconds: self.settings.idle_lock_seconds,
        })
    }

    /// The user is still there (typing, reading): counts as activity for the idle lock.
    /// Answers `session_locked` when it is too late.
    fn keep_alive(&self) -> SessionInfo {
        self.session()?;
        self.session_info()
    }

    /// One page of patients sorted by name.
    fn list_patients(&self, query: PatientQuery) -> PatientPage {
        self.session()?;
        self.with(|c| c.list_patients(&query))
    }

    /// The worklist: the user's own cases, the unassigned pool, or another user's.
    fn worklist(&self, query: WorklistQuery) -> Vec<WorklistRow> {
        let filter = query.to_filter()?;
        self.with_session(|c, s| {
            // Brought current as of now first (a new day, an import, a sync).
            c.bring_lists_current(s.at, Some(s))?;
            c.worklist(s, &filter)
        })
    }

    /// The user's call sheet for today (their open cases due by tonight, overdue first, with
    /// phone numbers and the scripts' first lines), to print; each case read is audited.
    fn call_sheet(&self) -> CallSheet {
        let (name, phone) = (&self.settings.clinic_name, &self.settings.clinic_phone);
        self.with_session(|c, s| {
            c.bring_lists_current(s.at, Some(s))?;
            c.call_sheet(s, name, phone)
        })
    }

    /// A supervisor's team view: caseloads by owner against the weekly capacity, the
    /// unassigned cases by segment, and the alerts, callbacks and escalations waiting.
    fn team_view(&self) -> TeamView {
        self.with_session(|c, s| {
            c.bring_lists_current(s.at, Some(s))?;
            c.team_view(s)
        })
    }

    /// Who a supervisor can assign cases to (coordinators, and anyone holding open cases).
    fn assignees(&self) -> Vec<String> {
        self.with_session(|c, s| c.assignees(s))
    }

    /// Assigns cases to one person in the order given (a supervisor: from the pool in bulk,
    /// or one case reassigned); each within the caseload, refusals listed (audited).
    fn assign_cases(&self, case_ids: Vec<String>, to: String) -> BulkAssigned {
        let ids = case_ids
            .iter()
            .map(|id| parse_id("case", id))
            .collect::<Result<Vec<_>>>()?;
        self.with_session(|c, s| c.assign_cases(s, &ids, &to))
    }

    /// The live lists brought current as of now: what they last changed, the open alerts
    /// and the entrants waiting for review.
    fn lists_status(&self) -> ListsStatus {
        self.with_session(|c, s| c.lists_status(s))
    }

    /// A supervisor's "Refresh lists now": everyone evaluated again as of now, the cases
    /// reconciled; says what changed (audited). Reports its progress (stage `lists`) as it
    /// goes.
    fn refresh_lists(&self) -> ListsChanged {
        let sink = self.progress_sink();
        self.with_session(|c, s| c.refresh_lists_reporting(s, &*sink))
    }

    /// Alerts on key events, unacknowledged first (with `all`, acknowledged ones too); the
    /// read is audited.
    fn alerts(&self, all: bool) -> Vec<AlertDto> {
        self.with_session(|c, s| c.alerts(s, all))
    }

    /// Acknowledges an alert, with an optional note (audited).
    fn acknowledge_alert(&self, alert_id: String, note: Option<String>) -> AlertDto {
        self.with_session(|c, s| c.acknowledge_alert(s, &alert_id, note.as_deref()))
    }

    /// A case as the role may see it (the read is audited).
    fn case_detail(&self, case_id: String) -> CaseDetail {
        let case_id = parse_id("case", &case_id)?;
        self.with_session(|c, s| c.case_detail(s, case_id))
    }

    /// A case's script in the person's language, for the script runner.
    fn case_script(&self, case_id: String) -> ScriptDto {
        let case_id = parse_id("case", &case_id)?;
        let (name, phone) = (&self.settings.clinic_name, &self.settings.clinic_phone);
        self.with_session(|c, s| c.case_script(s, case_id, name, phone))
    }

    /// Why the case's person is in its segment (evidence codes only for clinical roles).
    fn case_explanation(&self, case_id: String) -> ExplanationDto {
        let case_id = parse_id("case", &case_id)?;
        self.with_session(|c, s| c.case_explanation(s, case_id))
    }

    /// Takes an unassigned case, within the weekly caseload.
    fn claim_case(&self, case_id: String) -> Done {
        let case_id = parse_id("case", &case_id)?;
        self.with_session(|c, s| c.claim_case(s, case_id))
    }

    /// Documents an attempt (channel rule, language, over-contact guard, script answers).
    fn record_attempt(&self, form: AttemptForm) -> Done {
        let input = form.into_input()?;
        self.with_session(|c, s| c.record_attempt(s, input))
    }

    /// Closes a case with a reason.
    fn close_case(&self, form: CloseCaseForm) -> Done {
        let case_id = parse_id("case", &form.case_id)?;
        self.with_session(|c, s| c.close_case(s, case_id, form.reason.into(), form.note))
    }

    /// Callbacks waiting for a clinician (and documented ones with `include_done`).
    fn callbacks(&self, include_done: bool) -> Vec<QueueItem> {
        self.with_session(|c, s| c.callbacks(s, include_done))
    }

    /// A clinician documents a callback with the decision-support sign-off.
    fn document_callback(&self, form: CallbackForm) -> Done {
        let callback_id = parse_id("callback", &form.callback_id)?;
        self.with_session(|c, s| {
            c.document_callback(
                s,
                callback_id,
                &form.clinical_outcome,
                &form.next_step,
                form.decision_support_reviewed,
            )
        })
    }

    /// Escalations not yet resolved, overdue first.
    fn escalations(&self) -> Vec<QueueItem> {
        self.with_session(|c, s| c.escalations(s))
    }

    /// Acknowledges or resolves an escalation.
    fn escalation_step(&self, form: EscalationStepForm) -> Done {
        let id = parse_id("escalation", &form.escalation_id)?;
        self.with_session(|c, s| c.escalation_step(s, id, form.resolve, &form.note))
    }

    /// Open referrals, overdue first.
    fn referrals(&self) -> Vec<QueueItem> {
        self.with_session(|c, s| c.referrals(s))
    }

    /// Records a referral's answer, start or outcome.
    fn update_referral(&self, form: ReferralUpdateForm) -> Done {
        let id = parse_id("referral", &form.referral_id)?;
        let on = form
            .on
            .as_deref()
            .filter(|d| !d.is_empty())
            .map(|d| parse_date("the referral date", d))
            .transpose()?;
        self.with_session(|c, s| c.update_referral(s, id, form.status.into(), &form.note, on))
    }

    /// The services of the directory a referral can go to (as the last sync brought them).
    fn partner_services(&self) -> Vec<PartnerServiceDto> {
        self.with_session(|c, _| {
            Ok(c.directory()?
                .partners
                .into_iter()
                .flat_map(|p| {
                    let partner = p.name;
                    p.services.into_iter().map(move |s| PartnerServiceDto {
                        service_id: s.id,
                        name: s.name,
                        partner: partner.clone(),
                        service_type: s.service_type,
                        area: s.area,
                        languages: s.languages,
                        eligibility: s.eligibility,
                        respond_within_working_days: s.respond_within_working_days,
                    })
                })
                .collect())
        })
    }

    /// Refers a case to a service of the directory: the partner answers it itself.
    fn send_partner_referral(&self, form: PartnerReferralForm) -> Done {
        let id = parse_id("case", &form.case_id)?;
        self.with_session(|c, s| {
            c.send_partner_referral(s, id, &form.service_id, &form.note, &form.consent)
        })
    }

    /// The person's shared care plan, if they have one (the read is audited).
    fn care_plan_of_person(&self, patient_id: String) -> Option<CarePlanDto> {
        self.with_session(|c, s| c.care_plan_of(s, &patient_id))
    }

    /// The domains a care plan may have and who may own them (users, partner organisations).
    fn care_plan_choices(&self) -> PlanChoices {
        self.with_session(|c, s| c.care_plan_choices(s))
    }

    /// Starts the person's shared care plan from one of their cases, led by `lead` (empty:
    /// the caller); answers with the plan.
    fn start_care_plan(&self, case_id: String, lead: Option<String>) -> CarePlanDto {
        let case_id = parse_id("case", &case_id)?;
        self.with_session(|c, s| {
            let lead = lead.as_deref().map(str::trim).filter(|l| !l.is_empty());
            let done = c.start_care_plan(s, case_id, lead)?;
            let plan = done.created.as_deref().unwrap_or_default();
            c.care_plan(s, parse_id("care plan", plan)?)
        })
    }

    /// Sets a domain's owner and goal; answers with the plan.
    fn set_care_plan_domain(&self, form: PlanDomainForm) -> CarePlanDto {
        let plan = parse_id("care plan", &form.plan_id)?;
        self.with_session(|c, s| {
            c.set_care_plan_domain(s, plan, &form.domain, &form.owner, &form.goal)?;
            c.care_plan(s, plan)
        })
    }

    /// Adds an action to a plan; answers with the plan.
    fn add_care_plan_action(&self, plan_id: String, action: PlanActionForm) -> CarePlanDto {
        let plan = parse_id("care plan", &plan_id)?;
        let input = action.to_input()?;
        self.with_session(|c, s| {
            c.add_care_plan_action(s, plan, &input)?;
            c.care_plan(s, plan)
        })
    }

    /// Marks an action done or cancelled, with a note; answers with the plan.
    fn close_care_plan_action(&self, form: CloseActionForm) -> CarePlanDto {
        let plan = parse_id("care plan", &form.plan_id)?;
        let action = parse_id("action", &form.action_id)?;
        self.with_session(|c, s| {
            c.close_care_plan_action(s, plan, action, form.done, &form.note)?;
            c.care_plan(s, plan)
        })
    }

    /// Sets the plan's time-bound monitoring ("contact every N days until DATE"); answers
    /// with the plan.
    fn set_care_plan_monitoring(&self, form: MonitoringForm) -> CarePlanDto {
        let plan = parse_id("care plan", &form.plan_id)?;
        let until = parse_date("the monitoring's end", &form.until)?;
        self.with_session(|c, s| {
            c.set_care_plan_monitoring(s, plan, form.every_days, until, &form.owner)?;
            c.care_plan(s, plan)
        })
    }

    /// Schedules a multidisciplinary case review (a supervisor or the plan's lead).
    fn schedule_case_review(&self, form: ScheduleReviewForm) -> CarePlanDto {
        let plan = parse_id("care plan", &form.plan_id)?;
        let on = parse_date("the review's date", &form.on)?;
        self.with_session(|c, s| {
            c.schedule_case_review(s, plan, on, &form.participants)?;
            c.care_plan(s, plan)
        })
    }

    /// Records a case review's decisions and the actions they make (a supervisor or the
    /// plan's lead).
    fn record_case_review(&self, form: RecordReviewForm) -> CarePlanDto {
        let plan = parse_id("care plan", &form.plan_id)?;
        let review = parse_id("case review", &form.review_id)?;
        let actions = form
            .actions
            .iter()
            .map(PlanActionForm::to_input)
            .collect::<Result<Vec<_>>>()?;
        self.with_session(|c, s| {
            c.record_case_review(s, plan, review, &form.decisions, &actions)?;
            c.care_plan(s, plan)
        })
    }

    /// What the user owes on care plans today: their actions due, the contacts their
    /// monitoring asks for and, for a plan's lead, every owner's overdue actions, the
    /// person's alerts and a review to schedule after an alert of high concern.
    fn care_plan_work(&self) -> Vec<PlanWorkItem> {
        self.with_session(|c, s| {
            c.bring_lists_current(s.at, Some(s))?;
            c.care_plan_work(s)
        })
    }

    /// Writes the plan as a FHIR R4 Bundle (CarePlan, Goals, Tasks) into the export folder;
    /// answers with the path written.
    fn export_care_plan(&self, plan_id: String) -> String {
        let plan = parse_id("care plan", &plan_id)?;
        let dir = self.export_dir()?;
        let out = dir.join(format!("careloop-care-plan-{plan}.json"));
        self.with_session(|c, s| {
            let bundle = c.care_plan_fhir(s, plan)?;
            make_export_folder(&dir)?;
            let text = serde_json::to_string_pretty(&bundle)
                .map_err(|e| ApiError::internal(format!("the care plan's bundle: {e}")))?;
            careloop_review::export::write_atomically(&out, text.as_bytes())
                .map_err(|e| ApiError::new(ErrorCode::Io, format!("{}: {e}", out.display())))
        })?;
        Ok(out.display().to_string())
    }

    /// Searches as the user types, with the kinds the role may see.
    fn search(&self, request: SearchRequest) -> Vec<SearchHit> {
        let query = SearchQuery {
            text: request.text,
            limit: request.limit.unwrap_or(20) as usize,
            segment: request.segment.filter(|s| !s.is_empty()),
            status: request.status.filter(|s| !s.is_empty()),
            owner: request.owner.filter(|s| !s.is_empty()),
        };
        // The index is being built in the background (since sign-in): wait for it rather than
        // build a second one (without holding the cache, so other commands go on).
        for _ in 0..600 {
            if !self.search_building.load(Ordering::SeqCst) {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        self.with_session(|c, s| c.search(s, &query))
    }

    /// Records that the user opened a search result (audited).
    fn open_search_result(&self, hit: SearchHit) -> () {
        self.with_session(|c, s| c.open_search_result(s, &hit))
    }

    /// A person's cases, open ones first (to open one from a search result about the person).
    fn cases_of_person(&self, patient_id: String) -> Vec<PersonCase> {
        self.with_session(|c, s| c.cases_of_person(s, &patient_id))
    }

    /// Segment definitions in force with their published versions (supervisors).
    fn segment_definitions(&self) -> Vec<SegmentDefinitionDto> {
        self.with_session(|c, s| c.segment_definitions(s))
    }

    /// Who a draft would add and remove; nothing is published. Errors name the draft's line
    /// and column.
    fn preview_segment(&self, draft: SegmentDraft) -> PreviewDto {
        self.with_session(|c, s| c.preview_segment_draft(s, &draft))
    }

    /// Publishes a draft as the segment's new version.
    fn publish_segment(&self, draft: SegmentDraft) -> PublishedDto {
        self.with_session(|c, s| c.publish_segment_draft(s, &draft))
    }

    /// The weekly review (supervisors) of an ISO week ("2026-W47"), or of the current week
    /// when null.
    fn weekly_review(&self, week: Option<String>) -> WeeklyReview {
        let week = match week {
            Some(w) => parse_week(&w)?,
            None => week_of((self.clock)().date_naive()),
        };
        self.with_session(|c, s| c.weekly_review(s, week))
    }

    /// The cases behind a number of a week's review: `key` is the number's `drill`.
    fn review_drill(&self, week: String, key: String) -> Vec<DrillRow> {
        let week = parse_week(&week)?;
        self.with_session(|c, s| c.review_drill(s, week, &key))
    }

    /// Writes the week's review as CSV tables (a folder) or a PDF report into the export
    /// folder; answers with the path written.
    fn export_review(&self, week: String, format: ReviewExportFormat) -> String {
        let week = parse_week(&week)?;
        let (format, name) = match format {
            ReviewExportFormat::Csv => (ReviewFormat::Csv, format!("careloop-review-{week}")),
            ReviewExportFormat::Pdf => (ReviewFormat::Pdf, format!("careloop-review-{week}.pdf")),
        };
        let dir = self.export_dir()?;
        let out = dir.join(name);
        self.with_session(|c, s| {
            // The configured export folder is made when missing (owner-only); nothing else.
            make_export_folder(&dir)?;
            c.export_review(s, week, format, &out)
        })?;
        Ok(out.display().to_string())
    }

    /// Last sync, events waiting in the outbox, offline, open conflicts, and whether a round
    /// runs now (a sync round never runs here).
    fn sync_status(&self) -> SyncStatus {
        self.current_sync_status()
    }

    /// Runs a sync round now (nothing without a server or with nobody signed in) and answers
    /// with the status after it. Not an activity: it does not keep an idle session open.
    fn sync_now(&self) -> SyncStatus {
        self.sync_round()
    }

    /// A case's sync conflicts (open and resolved) and its events that changed nothing.
    fn case_conflicts(&self, case_id: String) -> CaseConflicts {
        let case_id = parse_id("case", &case_id)?;
        self.with_session(|c, s| {
            let (conflicts, superseded) = c.conflicts(s, Some(case_id))?;
            Ok(CaseConflicts {
                conflicts,
                superseded,
            })
        })
    }

    /// Records which of a conflict's two events stands, with a required note; answers with
    /// the new event's id.
    fn resolve_conflict(&self, form: ResolveConflictForm) -> String {
        let [first, second] = form.events.as_slice() else {
            return Err(ApiError::new(
                ErrorCode::BadInput,
                "a conflict is named by its two events",
            ));
        };
        let resolution = Resolution {
            case_id: parse_id("case", &form.case_id)?,
            events: [parse_id("event", first)?, parse_id("event", second)?],
            kept: parse_id("event", &form.kept)?,
            note: form.note.clone(),
        };
        self.with_session(|c, s| c.resolve_conflict(s, resolution))
    }
}

/// One line per command: its name (the span's), the error code or `ok`, and how long it
/// took. Never an argument or a message: both can carry a person's data.
fn log_outcome(error: Option<&ApiError>, started: std::time::Instant) {
    let elapsed_ms = started.elapsed().as_millis() as u64;
    match error {
        None => tracing::debug!(outcome = "ok", elapsed_ms),
        Some(e) => tracing::info!(outcome = "error", code = ?e.code, elapsed_ms),
    }
}

/// The TypeScript client of the declared commands (`ui/src/bindings/commands.ts`).
pub fn typescript(cfg: &ts_rs::Config) -> String {
    let mut imports = std::collections::BTreeSet::new();
    let mut interface = String::new();
    let mut client = String::new();
    for command in COMMANDS {
        let camel = camel_case(command.name);
        interface.push_str("  /**\n");
        for line in command.doc {
            let line = line.strip_prefix(' ').unwrap_or(line);
            interface.push_str(&format!(
                "   *{}{line}\n",
                if line.is_empty() { "" } else { " " }
            ));
        }
        interface.push_str("   */\n");
        let mut params = Vec::new();
        let mut names = Vec::new();
        for (arg, ty) in command.args {
            let (ts, deps) = ty(cfg);
            imports.extend(deps.into_iter().map(|d| d.ts_name));
            params.push(format!("{}: {ts}", camel_case(arg)));
            names.push(camel_case(arg));
        }
        let (answer, deps) = (command.answer)(cfg);
        imports.extend(deps.into_iter().map(|d| d.ts_name));
        interface.push_str(&format!(
            "  {camel}({}): Promise<{answer}>;\n",
            params.join(", ")
        ));
        let call_args = if names.is_empty() {
            String::new()
        } else {
            format!(", {{ {} }}", names.join(", "))
        };
        client.push_str(&format!(
            "    {camel}: ({}) => call(\"{}\"{call_args}),\n",
            names.join(", "),
            command.name
        ));
    }
    let mut out = String::from(
        "// Generated by careloop-api from its command declarations (src/commands.rs): \
         `cargo test -p careloop-api export_bindings`. Do not edit.\n",
    );
    for name in &imports {
        out.push_str(&format!("import type {{ {name} }} from \"./{name}\";\n"));
    }
    out.push_str("\n/** The backend's commands, one per declaration in careloop-api. */\n");
    out.push_str("export interface Commands {\n");
    out.push_str(&interface);
    out.push_str("}\n\n/** The Tauri command names, snake_case as Rust declares them. */\n");
    out.push_str("export const COMMAND_NAMES = [\n");
    for command in COMMANDS {
        out.push_str(&format!("  \"{}\",\n", command.name));
    }
    out.push_str("] as const;\n\n");
    out.push_str(
        "/** A client of every command over `call` (the app passes Tauri's `invoke`). */\n\
         export function commandClient(call: <T>(command: string, args?: Record<string, unknown>) => Promise<T>): Commands {\n  return {\n",
    );
    out.push_str(&client);
    out.push_str("  };\n}\n");
    out
}

fn camel_case(snake: &str) -> String {
    let mut out = String::with_capacity(snake.len());
    let mut upper = false;
    for c in snake.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Writes `commands.ts` beside the generated types (run with the other bindings:
    /// `cargo test -p careloop-api export_bindings`; CI fails when the file differs).
    #[test]
    fn export_bindings_commands() {
        let cfg = ts_rs::Config::from_env();
        let dir = cfg.out_dir().to_path_buf();
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("commands.ts"), typescript(&cfg)).unwrap();
    }

    #[test]
    fn every_command_is_named_once_and_documented() {
        let mut names: Vec<&str> = COMMANDS.iter().map(|c| c.name).collect();
        names.sort_unstable();
        let before = names.len();
        names.dedup();
        assert_eq!(names.len(), before, "a command is declared twice");
        for command in COMMANDS {
            assert!(
                !command.doc.is_empty(),
                "{} has no doc comment",
                command.name
            );
        }
    }

    #[test]
    fn the_client_passes_camel_case_arguments_and_imports_what_it_names() {
        let ts = typescript(&ts_rs::Config::default());
        assert!(
            ts.contains("  caseDetail(caseId: string): Promise<CaseDetail>;\n"),
            "{ts}"
        );
        assert!(ts.contains("    caseDetail: (caseId) => call(\"case_detail\", { caseId }),\n"));
        assert!(ts.contains("  worklist(query: WorklistQuery): Promise<Array<WorklistRow>>;\n"));
        assert!(ts.contains("import type { WorklistRow } from \"./WorklistRow\";\n"));
        assert!(ts.contains("  weeklyReview(week: string | null): Promise<WeeklyReview>;\n"));
        assert!(ts.contains("    escalations: () => call(\"escalations\"),\n"));
        assert!(!ts.contains("import type { string }"));
        assert_eq!(camel_case("include_done"), "includeDone");
    }
}
