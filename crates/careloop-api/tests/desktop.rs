//! Integration tests of the desktop session: the demo accounts, sign-in, the idle lock and
//! the forms the UI sends (attempts with answers and the channel rule, callbacks, search),
//! against a real encrypted cache with a small demo panel and a clock moved by hand.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use careloop_api::commands::{
    CloseActionForm, MonitoringForm, PlanActionForm, PlanDomainForm, RecordReviewForm,
    ScheduleReviewForm,
};
use careloop_api::desktop::{DesktopSession, DesktopSettings, DEMO_ACCOUNTS};
use careloop_api::dto::{
    AnswerDto, AttemptForm, CallbackForm, ChannelName, NextActionDto, OutcomeName,
    QuestionKindName, RoleName, SearchRequest, SignInForm, WorklistQuery,
};
use careloop_api::{Config, ErrorCode};
use careloop_store::KeySource;
use chrono::{DateTime, NaiveDate, Utc};

const START: i64 = 1_782_813_600; // 2026-06-30T10:00:00Z, a Tuesday in working hours.

struct Fixture {
    _root: tempfile::TempDir,
    session: DesktopSession,
    now: Arc<AtomicI64>,
}

impl Fixture {
    fn advance(&self, seconds: i64) {
        self.now.fetch_add(seconds, Ordering::SeqCst);
    }
}

fn config(root: &Path) -> Config {
    use std::os::unix::fs::PermissionsExt;
    let key = root.join("key");
    // Written once: a session of an earlier call may still be reading it (rewriting it in
    // place would let that reader see it empty).
    if !key.exists() {
        let staged = root.join("key.new");
        std::fs::write(&staged, format!("{}\n", "6b".repeat(32))).unwrap();
        std::fs::set_permissions(&staged, std::fs::Permissions::from_mode(0o600)).unwrap();
        std::fs::rename(&staged, &key).unwrap();
    }
    Config {
        data_dir: root.join("data"),
        key: KeySource::KeyFile(key),
    }
}

fn open(idle_lock_seconds: u32) -> Fixture {
    open_with(|settings| settings.idle_lock_seconds = idle_lock_seconds)
}

/// A session on a fresh demo cache, its settings changed by `configure` (the root is the
/// fixture's temp dir).
fn open_with(configure: impl FnOnce(&mut DesktopSettings)) -> Fixture {
    let root = tempfile::tempdir().unwrap();
    let now = Arc::new(AtomicI64::new(START));
    let clock = {
        let now = Arc::clone(&now);
        move || DateTime::<Utc>::from_timestamp(now.load(Ordering::SeqCst), 0).unwrap()
    };
    let mut settings = DesktopSettings {
        demo_patients: 150,
        export_dir: Some(root.path().join("exports")),
        ..DesktopSettings::default()
    };
    configure(&mut settings);
    let session = DesktopSession::new(config(root.path()), settings, clock);
    let today = NaiveDate::from_ymd_opt(2026, 6, 30).unwrap();
    let report = session.open(today, &mut |_| {}).unwrap();
    assert!(report.demo_loaded, "first run loads the demo panel");
    assert!(report.events > 0, "first run opens the demo worklists");
    Fixture {
        _root: root,
        session,
        now,
    }
}

fn sign_in(f: &Fixture, user: &str) {
    f.session
        .sign_in(SignInForm {
            user: user.into(),
            password: "demo".into(),
        })
        .unwrap_or_else(|e| panic!("{user} signs in with the demo password: {e}"));
}

fn pool() -> WorklistQuery {
    WorklistQuery {
        owner: Some(String::new()),
        ..WorklistQuery::default()
    }
}

#[test]
fn demo_accounts_sign_in_with_their_roles_and_nothing_is_answered_before() {
    let f = open(900);
    let info = f.session.session_info().unwrap();
    assert!(
        info.locked && info.user.is_none(),
        "nobody is signed in at start"
    );
    let err = f.session.worklist(pool()).unwrap_err();
    assert_eq!(
        err.code,
        ErrorCode::SessionLocked,
        "data needs a sign-in: {err}"
    );

    let wrong = f
        .session
        .sign_in(SignInForm {
            user: "ana".into(),
            password: "nope".into(),
        })
        .unwrap_err();
    assert_eq!(wrong.code, ErrorCode::Forbidden);
    assert!(
        !wrong.message.contains("nope"),
        "the password is never echoed"
    );

    for (name, role) in DEMO_ACCOUNTS {
        let info = f
            .session
            .sign_in(SignInForm {
                user: (*name).into(),
                password: "demo".into(),
            })
            .unwrap();
        assert_eq!(info.user.as_deref(), Some(*name));
        assert_eq!(info.role, Some(RoleName::from(*role)));
        assert!(!info.locked);
        assert_eq!(info.idle_lock_seconds, 900);
    }
}

#[test]
fn the_session_locks_when_idle_or_asked_and_unlock_needs_the_password() {
    let f = open(60);
    sign_in(&f, "ana");
    f.advance(59);
    assert!(f.session.worklist(pool()).is_ok(), "within the idle limit");
    f.advance(59);
    assert!(
        f.session.worklist(pool()).is_ok(),
        "each command is activity: the limit counts from the last one"
    );
    f.advance(61);
    assert!(
        f.session.session_info().unwrap().locked,
        "idle past the limit"
    );
    let err = f.session.worklist(pool()).unwrap_err();
    assert_eq!(err.code, ErrorCode::SessionLocked);
    assert!(err.message.contains("1 minute"), "{err}");
    f.advance(1);
    let err = f.session.worklist(pool()).unwrap_err();
    assert_eq!(err.code, ErrorCode::SessionLocked, "stays locked: {err}");

    sign_in(&f, "ana");
    assert!(f.session.worklist(pool()).is_ok());
    let info = f.session.lock().unwrap();
    assert!(info.locked);
    assert_eq!(
        info.user.as_deref(),
        Some("ana"),
        "the lock screen knows who to ask for"
    );
    assert_eq!(
        f.session.keep_alive().unwrap_err().code,
        ErrorCode::SessionLocked
    );
}

#[test]
fn a_coordinator_runs_the_script_and_routes_a_callback_that_the_clinician_documents() {
    let f = open(900);
    sign_in(&f, "ana");
    let rows = f.session.worklist(pool()).unwrap();
    assert!(!rows.is_empty(), "the demo worklists have unassigned cases");
    // A case whose script has a sensitive template, to check the channel rule.
    let (case_id, script) = rows
        .iter()
        .find_map(|row| {
            let script = f.session.case_script(row.case_id.to_owned()).unwrap();
            script
                .messages
                .iter()
                .any(|m| m.sensitive)
                .then(|| (row.case_id.clone(), script))
        })
        .expect("some demo case's script has a sensitive template");
    assert!(!script.questions.is_empty());
    assert!(
        !script.introduction.text.contains('{'),
        "placeholders are filled: {}",
        script.introduction.text
    );
    f.session.claim_case(case_id.clone()).unwrap();
    let why = f.session.case_explanation(case_id.clone()).unwrap();
    assert!(why.member, "the case's person is in the segment: {why:?}");
    assert!(
        why.conditions
            .iter()
            .flat_map(|c| &c.evidence)
            .all(|e| e.code.is_empty()),
        "a coordinator sees no evidence codes"
    );

    // Answers for every question that is shown when each yes/no is answered "no" and every
    // other question takes its first option, lowest value, a date or a text.
    let mut answers = BTreeMap::new();
    for q in &script.questions {
        if let Some(cond) = &q.show_if {
            let shown = match (answers.get(&cond.question), &cond.any_of) {
                (Some(AnswerDto::YesNo(v)), Some(any)) => {
                    any.iter().any(|a| a == if *v { "yes" } else { "no" })
                }
                (Some(AnswerDto::Choice(v)), Some(any)) => any.contains(v),
                (Some(AnswerDto::Choices(v)), Some(any)) => v.iter().any(|c| any.contains(c)),
                (Some(AnswerDto::Scale(v)), None) => {
                    cond.at_least.is_none_or(|m| *v >= m) && cond.at_most.is_none_or(|m| *v <= m)
                }
                _ => false,
            };
            if !shown {
                continue;
            }
        }
        let answer = match q.kind {
            QuestionKindName::YesNo => AnswerDto::YesNo(false),
            QuestionKindName::SingleChoice => AnswerDto::Choice(q.options[0].value.clone()),
            QuestionKindName::MultipleChoice => {
                AnswerDto::Choices(vec![q.options[0].value.clone()])
            }
            QuestionKindName::Scale => AnswerDto::Scale(q.min.unwrap()),
            QuestionKindName::Date => AnswerDto::Date("2026-07-01".into()),
            QuestionKindName::FreeText => AnswerDto::Text("doing fine".into()),
        };
        answers.insert(q.id.clone(), answer);
    }
    let sensitive = script.messages.iter().find(|m| m.sensitive).unwrap();
    let form = |channel, message_id: Option<String>| AttemptForm {
        case_id: case_id.clone(),
        channel,
        reached: true,
        message_id,
        answers: answers.clone(),
        outcome: OutcomeName::EmergingDeterioration,
        next: NextActionDto::ClinicianCallback {
            reason: "new breathlessness".into(),
        },
        contact_limit_override: None,
        note: Some("asked for a call back".into()),
    };
    let refused = f
        .session
        .record_attempt(form(ChannelName::Sms, Some(sensitive.id.clone())))
        .unwrap_err();
    assert_eq!(refused.code, ErrorCode::Refused, "{refused}");
    assert!(
        refused.message.contains("portal"),
        "the reason names the rule: {refused}"
    );
    let done = f
        .session
        .record_attempt(form(ChannelName::Phone, None))
        .unwrap();
    assert_eq!(done.case_status.as_deref(), Some("awaiting_callback"));
    let callback_id = done.created.expect("a callback was requested");

    // The coordinator cannot document it; the clinician can, with the sign-off.
    let document = CallbackForm {
        callback_id: callback_id.clone(),
        clinical_outcome: "reviewed; GP appointment tomorrow".into(),
        next_step: "follow up in 2 days".into(),
        decision_support_reviewed: true,
    };
    assert_eq!(
        f.session
            .document_callback(document.clone())
            .unwrap_err()
            .code,
        ErrorCode::Forbidden
    );
    sign_in(&f, "cleo");
    let queue = f.session.callbacks(false).unwrap();
    assert!(
        queue.iter().any(|q| q.id == callback_id),
        "the callback is queued"
    );
    f.session.document_callback(document.clone()).unwrap();
    assert!(!f
        .session
        .callbacks(false)
        .unwrap()
        .iter()
        .any(|q| q.id == callback_id));
}

#[test]
fn search_finds_a_person_by_part_of_an_accented_name_typed_without_accents() {
    let f = open(900);
    sign_in(&f, "ana");
    let rows = f.session.worklist(pool()).unwrap();
    let accented = rows
        .iter()
        .map(|r| r.name.clone())
        .chain(
            f.session
                .list_patients(careloop_api::PatientQuery {
                    text: None,
                    offset: 0,
                    limit: 500,
                })
                .unwrap()
                .rows
                .into_iter()
                .map(|p| p.name),
        )
        .find_map(|name| {
            name.split_whitespace()
                .find(|w| !w.is_ascii() && w.chars().count() >= 4)
                .map(|w| (name.clone(), w.to_owned()))
        })
        .expect("the demo panel has accented names");
    let (name, word) = accented;
    let folded: String = word
        .chars()
        .take(4)
        .map(|c| match c {
            'à' | 'á' | 'â' | 'ä' => 'a',
            'é' | 'è' | 'ê' | 'ë' => 'e',
            'í' | 'ì' | 'î' | 'ï' => 'i',
            'ó' | 'ò' | 'ô' | 'ö' => 'o',
            'ú' | 'ù' | 'û' | 'ü' => 'u',
            'ç' => 'c',
            'ñ' => 'n',
            c => c,
        })
        .collect();
    let hits = f
        .session
        .search(SearchRequest {
            text: folded.to_lowercase(),
            limit: Some(50),
            ..SearchRequest::default()
        })
        .unwrap();
    assert!(
        hits.iter().any(|h| h.kind == "person" && h.title == name),
        "searching {folded:?} finds {name:?}: {:?}",
        hits.iter().map(|h| &h.title).collect::<Vec<_>>()
    );
    let hit = hits.into_iter().find(|h| h.title == name).unwrap();
    // A person hit carries the birth date that tells apart people of one name.
    let born = f
        .session
        .list_patients(careloop_api::PatientQuery {
            text: Some(name.clone()),
            offset: 0,
            limit: 50,
        })
        .unwrap()
        .rows
        .into_iter()
        .find(|p| Some(&p.id) == hit.patient_id.as_ref())
        .and_then(|p| p.birth_date);
    assert!(born.is_some(), "the demo's people have birth dates");
    assert_eq!(hit.birth_date, born);
    f.session.open_search_result(hit.clone()).unwrap();
    let patient = hit
        .patient_id
        .as_deref()
        .expect("a person hit names the person");
    let cases = f.session.cases_of_person(patient.to_owned()).unwrap();
    if let Some(row) = rows.iter().find(|r| r.patient_id == patient) {
        assert!(
            cases.iter().any(|c| c.case_id == row.case_id),
            "the person's cases include their worklist case"
        );
    }
}

#[test]
fn a_cache_made_before_sign_in_gets_demo_accounts_only_when_asked() {
    let root = tempfile::tempdir().unwrap();
    let today = NaiveDate::from_ymd_opt(2026, 6, 30).unwrap();
    // A cache as the app made it before sign-in existed: a demo panel, no accounts.
    careloop_api::Careloop::open_for_desktop(&config(root.path()), 40, today, &mut |_| {}).unwrap();
    let clock = || DateTime::<Utc>::from_timestamp(START, 0).unwrap();
    let plain = DesktopSession::new(config(root.path()), DesktopSettings::default(), clock);
    plain.open(today, &mut |_| {}).unwrap();
    let err = plain
        .sign_in(SignInForm {
            user: "ana".into(),
            password: "demo".into(),
        })
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::Forbidden);
    assert!(err.message.contains("CARELOOP_DEMO_ACCOUNTS"), "{err}");
    drop(plain);

    let settings = DesktopSettings {
        demo_accounts_for_existing_cache: true,
        ..DesktopSettings::default()
    };
    let asked = DesktopSession::new(config(root.path()), settings, clock);
    asked.open(today, &mut |_| {}).unwrap();
    sign_in_as(&asked, "ana");
}

fn sign_in_as(session: &DesktopSession, user: &str) {
    session
        .sign_in(SignInForm {
            user: user.into(),
            password: "demo".into(),
        })
        .unwrap_or_else(|e| panic!("{user} signs in: {e}"));
}

#[test]
fn a_supervisor_previews_and_publishes_a_segment_draft_and_others_may_not() {
    let f = open(900);
    sign_in(&f, "ana");
    assert_eq!(
        f.session.segment_definitions().unwrap_err().code,
        ErrorCode::Forbidden,
        "coordinators do not edit segments"
    );
    sign_in(&f, "sue");
    let definitions = f.session.segment_definitions().unwrap();
    let dormant = definitions
        .iter()
        .find(|d| d.id == "dormant")
        .expect("the built-in dormant segment");
    assert!(!dormant.published && dormant.history.is_empty());

    // A broken draft: the error names the line and column.
    let broken = careloop_api::dto::SegmentDraft {
        text: dormant
            .text
            .replacen("\"rule\": \"", "\"rule\": \"nonsense_signal > 3 and ", 1),
    };
    let err = f.session.preview_segment(broken.clone()).unwrap_err();
    assert_eq!(err.code, ErrorCode::BadInput);
    assert!(err.message.starts_with("draft:"), "{err}");

    // A new version previews (nothing published) and then publishes.
    let mut json: serde_json::Value = serde_json::from_str(&dormant.text).unwrap();
    json["version"] = serde_json::json!(dormant.version + 1);
    let draft = careloop_api::dto::SegmentDraft {
        text: serde_json::to_string_pretty(&json).unwrap(),
    };
    let preview = f.session.preview_segment(draft.clone()).unwrap();
    assert_eq!(
        preview.draft_count, preview.published_count,
        "same rule, same members"
    );
    assert!(preview.added.is_empty() && preview.removed.is_empty());
    let published = f.session.publish_segment(draft.clone()).unwrap();
    assert_eq!(
        (published.version, published.published_by.as_str()),
        (dormant.version + 1, "sue")
    );
    let after = f.session.segment_definitions().unwrap();
    let dormant = after.iter().find(|d| d.id == "dormant").unwrap();
    assert!(dormant.published);
    assert_eq!(dormant.history.len(), 1);
}

/// A small demo cache (no simulated weeks) and a session on it whose clock the test moves.
fn small(root: &Path, now: &Arc<AtomicI64>) -> DesktopSession {
    let clock = {
        let now = Arc::clone(now);
        move || DateTime::<Utc>::from_timestamp(now.load(Ordering::SeqCst), 0).unwrap()
    };
    let settings = DesktopSettings {
        demo_patients: 40,
        demo_activity_weeks: 0,
        ..DesktopSettings::default()
    };
    let session = DesktopSession::new(config(root), settings, clock);
    let today = NaiveDate::from_ymd_opt(2026, 6, 30).unwrap();
    session.open(today, &mut |_| {}).unwrap();
    session
}

/// The cache of `root`, opened directly (the session must be dropped first).
fn store_of(root: &Path) -> careloop_store::Store {
    let key = careloop_store::CacheKey::read_key_file(&root.join("key")).unwrap();
    careloop_store::Store::open(&root.join("data"), &key).unwrap()
}

fn try_sign_in(session: &DesktopSession, user: &str, password: &str) -> careloop_api::Result<()> {
    session
        .sign_in(SignInForm {
            user: user.into(),
            password: password.into(),
        })
        .map(|_| ())
}

#[test]
fn passwords_are_stored_as_argon2id_and_an_old_hash_is_upgraded_at_sign_in() {
    let root = tempfile::tempdir().unwrap();
    let now = Arc::new(AtomicI64::new(START));
    drop(small(root.path(), &now));
    {
        let mut store = store_of(root.path());
        let ana = store.account("ana").unwrap().unwrap();
        assert_eq!(
            ana.scheme(),
            "argon2id-v1",
            "the demo accounts are argon2id"
        );
        // sue as a cache made before argon2id holds her: the fast salted SHA-256.
        let at = DateTime::<Utc>::from_timestamp(START, 0).unwrap();
        store
            .put_legacy_account("sue", "supervisor", "demo", at)
            .unwrap();
        assert_eq!(
            store.account("sue").unwrap().unwrap().scheme(),
            "sha256-salted-v1"
        );
    }
    let session = small(root.path(), &now);
    let wrong = try_sign_in(&session, "sue", "Demo").unwrap_err();
    assert_eq!(wrong.code, ErrorCode::Forbidden);
    drop(session);
    assert_eq!(
        store_of(root.path())
            .account("sue")
            .unwrap()
            .unwrap()
            .scheme(),
        "sha256-salted-v1",
        "a failed sign-in changes nothing"
    );
    let session = small(root.path(), &now);
    try_sign_in(&session, "sue", "demo").unwrap();
    assert_eq!(
        session.session_info().unwrap().role,
        Some(RoleName::Supervisor)
    );
    drop(session);
    let store = store_of(root.path());
    let sue = store.account("sue").unwrap().unwrap();
    assert_eq!(
        sue.scheme(),
        "argon2id-v1",
        "rehashed on the successful sign-in"
    );
    assert_eq!(sue.role, "supervisor");
    assert!(sue.verify("demo") && !sue.verify("Demo"));
    let entries = store.audit_entries(0, 10_000).unwrap();
    assert!(
        entries
            .iter()
            .any(|e| e.action == "account.password_rehash" && e.actor == "sue"),
        "the upgrade is audited"
    );
    drop(store);
    // Signing in again with the upgraded hash works.
    let session = small(root.path(), &now);
    try_sign_in(&session, "sue", "demo").unwrap();
}

#[test]
fn five_failed_sign_ins_lock_the_name_for_15_minutes_across_restarts_and_are_audited() {
    let root = tempfile::tempdir().unwrap();
    let now = Arc::new(AtomicI64::new(START));
    let session = small(root.path(), &now);

    // An unknown user and a wrong password get the same answer.
    let unknown = try_sign_in(&session, "mallory", "demo").unwrap_err();
    let wrong = try_sign_in(&session, "cleo", "wrong").unwrap_err();
    assert_eq!(unknown, wrong, "the same code and message");
    assert_eq!(wrong.code, ErrorCode::Forbidden);
    assert_eq!(wrong.message, "unknown user or wrong password");

    // ana: two failures, then growing waits before each next one (2, 4, 8 s)...
    for guess in ["guess1", "guess2"] {
        let err = try_sign_in(&session, "ana", guess).unwrap_err();
        assert_eq!(err.message, "unknown user or wrong password");
    }
    for (wait, guess) in [(2, "guess3"), (4, "guess4"), (8, "guess5")] {
        let err = try_sign_in(&session, "ana", "demo").unwrap_err();
        assert!(
            err.message.contains("wait") && err.message.contains(&format!("{wait} seconds")),
            "too soon, even with the right password: {err}"
        );
        now.fetch_add(wait, Ordering::SeqCst);
        let err = try_sign_in(&session, "ana", guess).unwrap_err();
        assert_eq!(err.message, "unknown user or wrong password");
    }
    // ...and the 5th locked her name for 15 minutes.
    let locked = try_sign_in(&session, "ana", "demo").unwrap_err();
    assert_eq!(locked.code, ErrorCode::Forbidden);
    assert!(locked.message.contains("locked"), "{locked}");
    assert!(locked.message.contains("15 minutes"), "{locked}");
    assert!(!locked.message.contains("demo") && !locked.message.contains("guess"));
    assert!(session.session_info().unwrap().user.is_none());
    // Others are not locked out by ana's failures.
    try_sign_in(&session, "cleo", "demo").unwrap();

    // Restarting the app does not reset the count.
    drop(session);
    now.fetch_add(14 * 60, Ordering::SeqCst);
    let session = small(root.path(), &now);
    let still = try_sign_in(&session, "ana", "demo").unwrap_err();
    assert!(still.message.contains("locked"), "{still}");
    assert!(still.message.contains("60 seconds"), "{still}");
    now.fetch_add(60, Ordering::SeqCst);
    try_sign_in(&session, "ana", "demo").expect("the lock ended");
    assert_eq!(session.session_info().unwrap().user.as_deref(), Some("ana"));
    // A success forgets the failures: one more wrong password is just one failure.
    session.lock().unwrap();
    try_sign_in(&session, "ana", "nope").unwrap_err();
    try_sign_in(&session, "ana", "demo").expect("no wait after a single failure");
    drop(session);

    let entries = store_of(root.path()).audit_entries(0, 10_000).unwrap();
    let of = |action: &str| {
        entries
            .iter()
            .filter(|e| e.actor == "ana" && e.action == action)
            .count()
    };
    let denied = entries
        .iter()
        .filter(|e| {
            e.actor == "ana"
                && e.action == "session.sign_in"
                && e.outcome == careloop_store::AuditOutcome::Denied
        })
        .count();
    assert_eq!(
        denied, 6,
        "each failure is audited (5, then one after the lock)"
    );
    assert_eq!(of("session.sign_in.locked"), 1, "the lock is audited once");
    assert_eq!(
        of("session.sign_in.throttled"),
        5,
        "each refused attempt is audited (3 waits, 2 while locked)"
    );
    assert!(entries
        .iter()
        .any(|e| e.actor == "mallory" && e.role == "unknown"));
}

#[test]
fn a_care_plan_is_run_from_the_desktop_forms_and_each_answer_is_the_plan_as_it_stands() {
    let f = open_with(|_| {});
    sign_in(&f, "ana");
    let case_id = f.session.worklist(pool()).unwrap()[0].case_id.clone();
    f.session.claim_case(case_id.clone()).unwrap();
    let patient = f.session.case_detail(case_id.clone()).unwrap().patient_id;
    assert_eq!(
        f.session.care_plan_of_person(patient.clone()).unwrap(),
        None
    );

    let choices = f.session.care_plan_choices().unwrap();
    assert!(choices
        .domains
        .iter()
        .any(|d| d.domain == "housing" && d.title == "Housing"));
    let owners: Vec<&str> = choices.owners.iter().map(|o| o.value.as_str()).collect();
    assert!(
        owners.contains(&"ana") && owners.contains(&"cleo") && owners.contains(&"sue"),
        "{owners:?}"
    );

    // An empty lead is the caller.
    let plan = f
        .session
        .start_care_plan(case_id.clone(), Some(" ".into()))
        .unwrap();
    assert_eq!(
        (plan.lead.as_str(), plan.patient_id.as_str()),
        ("ana", patient.as_str())
    );
    let plan_id = plan.plan_id.clone();
    let plan = f
        .session
        .set_care_plan_domain(PlanDomainForm {
            plan_id: plan_id.clone(),
            domain: "housing".into(),
            owner: "cleo".into(),
            goal: "a safe place to live".into(),
        })
        .unwrap();
    assert_eq!(plan.domains.len(), 1);
    assert_eq!(plan.domains[0].owner, "cleo");

    // A bad date names the field, and nothing is added.
    let action = |due: &str| PlanActionForm {
        domain: "housing".into(),
        text: "call the housing office".into(),
        owner: "ana".into(),
        due: due.into(),
    };
    let bad = f
        .session
        .add_care_plan_action(plan_id.clone(), action("2 July"))
        .unwrap_err();
    assert_eq!(bad.code, ErrorCode::BadInput);
    assert!(bad.message.contains("the action's due date"), "{bad}");
    assert!(f
        .session
        .care_plan_of_person(patient.clone())
        .unwrap()
        .unwrap()
        .actions
        .is_empty());
    let plan = f
        .session
        .add_care_plan_action(plan_id.clone(), action("2026-07-02"))
        .unwrap();
    let action_id = plan.actions[0].action_id.clone();
    assert!(!plan.actions[0].overdue);

    // Three days on, the lead sees it overdue in the care plans' work.
    f.advance(3 * 86_400);
    sign_in(&f, "ana");
    let work = f.session.care_plan_work().unwrap();
    assert!(
        work.iter()
            .any(|w| w.kind == "overdue_action" && w.plan_id == plan_id),
        "{work:?}"
    );
    let plan = f
        .session
        .close_care_plan_action(CloseActionForm {
            plan_id: plan_id.clone(),
            action_id,
            done: true,
            note: "office called".into(),
        })
        .unwrap();
    assert_eq!(plan.actions[0].status, "done");
    assert!(!f
        .session
        .care_plan_work()
        .unwrap()
        .iter()
        .any(|w| w.plan_id == plan_id));

    let plan = f
        .session
        .set_care_plan_monitoring(MonitoringForm {
            plan_id: plan_id.clone(),
            every_days: 7,
            until: "2026-08-31".into(),
            owner: "ana".into(),
        })
        .unwrap();
    assert_eq!(plan.monitoring.as_ref().map(|m| m.every_days), Some(7));

    // Only a supervisor or the lead schedules a case review.
    let review = ScheduleReviewForm {
        plan_id: plan_id.clone(),
        on: "2026-07-10".into(),
        participants: vec!["ana".into(), "cleo".into()],
    };
    sign_in(&f, "cleo");
    assert_eq!(
        f.session
            .schedule_case_review(review.clone())
            .unwrap_err()
            .code,
        ErrorCode::Forbidden
    );
    sign_in(&f, "ana");
    let plan = f.session.schedule_case_review(review).unwrap();
    let review_id = plan.reviews[0].review_id.clone();
    let plan = f
        .session
        .record_case_review(RecordReviewForm {
            plan_id: plan_id.clone(),
            review_id,
            decisions: "benefits navigation".into(),
            actions: vec![PlanActionForm {
                domain: "housing".into(),
                text: "check the housing benefit".into(),
                owner: "cleo".into(),
                due: "2026-07-20".into(),
            }],
        })
        .unwrap();
    assert!(plan.reviews[0].held);
    assert!(plan
        .actions
        .iter()
        .any(|a| a.from_review.is_some() && a.owner == "cleo"));
    let kinds: Vec<&str> = plan.timeline.iter().map(|t| t.kind.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "care_plan.started",
            "care_plan.domain_set",
            "care_plan.action_added",
            "care_plan.action_closed",
            "care_plan.monitoring_set",
            "care_plan.review_scheduled",
            "care_plan.review_held",
        ]
    );

    // The export is the plan as FHIR, owner-only, in the export folder.
    let path = f.session.export_care_plan(plan_id.clone()).unwrap();
    let bundle: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(bundle["entry"][0]["resource"]["resourceType"], "CarePlan");
    assert_eq!(bundle["entry"][0]["resource"]["id"], plan_id.as_str());
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o600
    );
}

#[test]
fn refresh_lists_now_reports_the_share_of_everyone_evaluated() {
    let f = open(900);
    let seen: Arc<std::sync::Mutex<Vec<careloop_api::Progress>>> = Arc::default();
    let sink = Arc::clone(&seen);
    f.session
        .set_progress_sink(Arc::new(move |p| sink.lock().unwrap().push(p.clone())));
    sign_in(&f, "sue");
    let changed = f.session.refresh_lists().unwrap();
    assert!(changed.full && changed.evaluated > 0, "{changed:?}");
    let seen = seen.lock().unwrap();
    assert!(seen.iter().all(|p| p.stage == "lists"), "{seen:?}");
    let measured: Vec<&careloop_api::Progress> = seen
        .iter()
        .filter(|p| p.message == "Evaluating everyone as of today…")
        .collect();
    let everyone = u64::from(changed.evaluated);
    assert!(
        measured
            .iter()
            .all(|p| p.total == Some(everyone) && p.done <= everyone),
        "{measured:?}"
    );
    assert_eq!(measured.iter().map(|p| p.done).max(), Some(everyone));
    assert!(seen.iter().any(|p| p.message == "Updating the cases…"));
}

#[test]
fn the_call_sheet_holds_the_users_calls_due_today_with_phone_and_script() {
    let f = open(900);
    sign_in(&f, "ana");
    // Three cases claimed from the pool, then the clock moved to the day the last is due.
    let claimed: Vec<(String, String)> = f
        .session
        .worklist(pool())
        .unwrap()
        .into_iter()
        .take(3)
        .map(|r| (r.case_id, r.due))
        .collect();
    assert!(!claimed.is_empty(), "the demo pool has cases");
    for (case, _) in &claimed {
        f.session.claim_case(case.clone()).unwrap();
    }
    let last_due = claimed
        .iter()
        .map(|(_, due)| DateTime::parse_from_rfc3339(due).unwrap().timestamp())
        .max()
        .unwrap();
    f.advance(last_due - START + 60);
    sign_in(&f, "ana");
    let day = DateTime::<Utc>::from_timestamp(last_due + 60, 0)
        .unwrap()
        .date_naive();
    let end_of_today = format!("{day}T23:59:59Z");
    let due_today: Vec<String> = claimed.into_iter().map(|(case, _)| case).collect();
    let sheet = f.session.call_sheet().unwrap();
    assert_eq!(
        (sheet.user.as_str(), sheet.day.clone()),
        ("ana", day.to_string())
    );
    for case in &due_today {
        let call = sheet
            .calls
            .iter()
            .find(|c| &c.case_id == case)
            .expect("each case claimed and due today is on the sheet");
        assert!(
            !call.opening.is_empty() && !call.opening.contains('{'),
            "{}",
            call.opening
        );
        assert!(!call.questions.is_empty());
    }
    assert!(sheet
        .calls
        .iter()
        .all(|c| c.due.as_str() <= end_of_today.as_str()));
    // Overdue first.
    let overdue: Vec<bool> = sheet.calls.iter().map(|c| c.overdue).collect();
    let mut sorted = overdue.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(overdue, sorted);
    assert!(
        sheet.calls.iter().any(|c| c.phone.is_some()),
        "phone numbers are printed"
    );
}
