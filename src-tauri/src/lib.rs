//! The Careloop desktop shell. It registers commands and nothing else: each command is one
//! call into careloop-api's [`DesktopSession`], which owns the cache, the signed-in user, the
//! idle lock, the checks and the errors. No PHI is logged here.

use careloop_api::desktop::DesktopSession;
use careloop_api::desktop::{CaseConflicts, ResolveConflictForm};
use careloop_api::dto::{
    AttemptForm, CallbackForm, CloseCaseForm, EscalationStepForm, ExplanationDto, PersonCase,
    PreviewDto, PublishedDto, ReferralUpdateForm, ScriptDto, SearchRequest, SegmentDefinitionDto,
    SegmentDraft, SessionInfo, SignInForm, WorklistQuery,
};
use careloop_api::review::{DrillRow, WeeklyReview};
use careloop_api::sync::SyncStatus;
use careloop_api::{
    ApiError, CaseDetail, Done, PatientPage, PatientQuery, QueueItem, SearchHit, StartupReport,
    WorklistRow,
};
use tauri::{Emitter, State};

/// The event that carries [`careloop_api::Progress`] to the UI.
pub const PROGRESS_EVENT: &str = "careloop://progress";

/// How often the background sync runs when a server is set (`CARELOOP_SYNC_SECONDS`).
const SYNC_EVERY_SECONDS: u64 = 30;

type Session<'a> = State<'a, DesktopSession>;
type Answer<T> = Result<T, ApiError>;

#[tauri::command(async)]
fn open_cache(app: tauri::AppHandle, session: Session<'_>) -> Answer<StartupReport> {
    session.open(chrono::Local::now().date_naive(), &mut |p| {
        drop(app.emit(PROGRESS_EVENT, p))
    })
}

#[tauri::command(async)]
fn sign_in(form: SignInForm, session: Session<'_>) -> Answer<SessionInfo> {
    session.sign_in(&form)
}

#[tauri::command(async)]
fn lock(session: Session<'_>) -> Answer<SessionInfo> {
    session.lock()
}

#[tauri::command(async)]
fn session_info(session: Session<'_>) -> Answer<SessionInfo> {
    session.session_info()
}

#[tauri::command(async)]
fn keep_alive(session: Session<'_>) -> Answer<SessionInfo> {
    session.keep_alive()
}

#[tauri::command(async)]
fn list_patients(query: PatientQuery, session: Session<'_>) -> Answer<PatientPage> {
    session.list_patients(&query)
}

#[tauri::command(async)]
fn worklist(query: WorklistQuery, session: Session<'_>) -> Answer<Vec<WorklistRow>> {
    session.worklist(&query)
}

#[tauri::command(async)]
fn case_detail(case_id: String, session: Session<'_>) -> Answer<CaseDetail> {
    session.case_detail(&case_id)
}

#[tauri::command(async)]
fn case_explanation(case_id: String, session: Session<'_>) -> Answer<ExplanationDto> {
    session.case_explanation(&case_id)
}

#[tauri::command(async)]
fn case_script(case_id: String, session: Session<'_>) -> Answer<ScriptDto> {
    session.case_script(&case_id)
}

#[tauri::command(async)]
fn claim_case(case_id: String, session: Session<'_>) -> Answer<Done> {
    session.claim_case(&case_id)
}

#[tauri::command(async)]
fn record_attempt(form: AttemptForm, session: Session<'_>) -> Answer<Done> {
    session.record_attempt(form)
}

#[tauri::command(async)]
fn close_case(form: CloseCaseForm, session: Session<'_>) -> Answer<Done> {
    session.close_case(form)
}

#[tauri::command(async)]
fn weekly_review(week: Option<String>, session: Session<'_>) -> Answer<WeeklyReview> {
    session.weekly_review(week.as_deref())
}

#[tauri::command(async)]
fn review_drill(week: String, key: String, session: Session<'_>) -> Answer<Vec<DrillRow>> {
    session.review_drill(&week, &key)
}

#[tauri::command(async)]
fn export_review(week: String, format: String, session: Session<'_>) -> Answer<String> {
    session.export_review(&week, &format)
}

#[tauri::command(async)]
fn callbacks(include_done: bool, session: Session<'_>) -> Answer<Vec<QueueItem>> {
    session.callbacks(include_done)
}

#[tauri::command(async)]
fn document_callback(form: CallbackForm, session: Session<'_>) -> Answer<Done> {
    session.document_callback(&form)
}

#[tauri::command(async)]
fn escalations(session: Session<'_>) -> Answer<Vec<QueueItem>> {
    session.escalations()
}

#[tauri::command(async)]
fn escalation_step(form: EscalationStepForm, session: Session<'_>) -> Answer<Done> {
    session.escalation_step(&form)
}

#[tauri::command(async)]
fn referrals(session: Session<'_>) -> Answer<Vec<QueueItem>> {
    session.referrals()
}

#[tauri::command(async)]
fn update_referral(form: ReferralUpdateForm, session: Session<'_>) -> Answer<Done> {
    session.update_referral(&form)
}

#[tauri::command(async)]
fn search(request: SearchRequest, session: Session<'_>) -> Answer<Vec<SearchHit>> {
    session.search(&request)
}

#[tauri::command(async)]
fn cases_of_person(patient_id: String, session: Session<'_>) -> Answer<Vec<PersonCase>> {
    session.cases_of_person(&patient_id)
}

#[tauri::command(async)]
fn segment_definitions(session: Session<'_>) -> Answer<Vec<SegmentDefinitionDto>> {
    session.segment_definitions()
}

#[tauri::command(async)]
fn preview_segment(draft: SegmentDraft, session: Session<'_>) -> Answer<PreviewDto> {
    session.preview_segment(&draft)
}

#[tauri::command(async)]
fn publish_segment(draft: SegmentDraft, session: Session<'_>) -> Answer<PublishedDto> {
    session.publish_segment(&draft)
}

#[tauri::command(async)]
fn open_search_result(hit: SearchHit, session: Session<'_>) -> Answer<()> {
    session.open_search_result(&hit)
}

#[tauri::command(async)]
fn sync_status(session: Session<'_>) -> Answer<SyncStatus> {
    session.sync_status()
}

#[tauri::command(async)]
fn sync_now(session: Session<'_>) -> Answer<SyncStatus> {
    session.sync_now()
}

#[tauri::command(async)]
fn case_conflicts(case_id: String, session: Session<'_>) -> Answer<CaseConflicts> {
    session.case_conflicts(&case_id)
}

#[tauri::command(async)]
fn resolve_conflict(form: ResolveConflictForm, session: Session<'_>) -> Answer<String> {
    session.resolve_conflict(&form)
}

/// Syncs in the background while the app runs (a round does nothing until the cache is
/// open and someone is signed in, and nothing at all without a server), backing off while
/// the server cannot be reached.
fn sync_in_background(app: tauri::AppHandle) {
    use tauri::Manager;
    let every = std::env::var("CARELOOP_SYNC_SECONDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|s: &u64| *s > 0)
        .unwrap_or(SYNC_EVERY_SECONDS);
    let mut backoff = careloop_api::sync::Backoff::new(
        std::time::Duration::from_secs(every),
        std::time::Duration::from_secs(600),
        u64::from(std::process::id()),
    );
    std::thread::spawn(move || {
        let mut wait = std::time::Duration::from_secs(every);
        loop {
            std::thread::sleep(wait);
            // Offline or refused: wait longer each time (up to 10 minutes); "Sync now" and
            // the next success go back to the usual interval.
            let succeeded = app
                .state::<DesktopSession>()
                .sync_now()
                .is_ok_and(|status| status.last_error.is_none());
            wait = backoff.next(succeeded);
        }
    });
}

/// Starts the app.
pub fn run() {
    let session = DesktopSession::from_env()
        .with_connector(std::sync::Arc::new(careloop_sync::HttpConnector::keyring()));
    tauri::Builder::default()
        .manage(session)
        .setup(|app| {
            sync_in_background(app.handle().clone());
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![
            open_cache,
            sign_in,
            lock,
            session_info,
            keep_alive,
            list_patients,
            worklist,
            case_detail,
            case_explanation,
            case_script,
            claim_case,
            record_attempt,
            close_case,
            callbacks,
            document_callback,
            escalations,
            escalation_step,
            referrals,
            update_referral,
            search,
            open_search_result,
            cases_of_person,
            segment_definitions,
            preview_segment,
            publish_segment,
            weekly_review,
            review_drill,
            export_review,
            sync_status,
            sync_now,
            case_conflicts,
            resolve_conflict,
        ])
        .run(tauri::generate_context!())
        .expect("the Tauri runtime failed to start");
}
