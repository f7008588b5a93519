//! Outreach operations through the API on a real encrypted cache, with a fixed clock: cases
//! opened from worklists, claiming, attempts under the channel rule, the language choice and
//! the over-contact guard, callbacks, escalations, referrals, RBAC refusals (audited), the
//! audit chain, and state rebuilt from the log on reopening.

use std::path::{Path, PathBuf};

use careloop_api::{
    Answers, AttemptInput, Careloop, Channel, CloseReason, Config, ErrorCode, EscalationKind,
    NextAction, Outcome, ReferralStatus, Role, ServiceType, Session, WorklistFilter,
};
use careloop_store::KeySource;
use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

fn config(root: &Path) -> Config {
    use std::os::unix::fs::PermissionsExt;
    let key = root.join("key");
    std::fs::write(&key, "6b".repeat(32)).unwrap();
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    Config {
        data_dir: root.join("data"),
        key: KeySource::KeyFile(key),
    }
}

/// "dis": discharged 2021-03-10, prefers Spanish; "meds": seven active medications.
fn panel(root: &Path) -> Careloop {
    let input: PathBuf = root.join("input");
    std::fs::create_dir_all(&input).unwrap();
    let mut lines = vec![
        r#"{"resourceType":"Patient","id":"dis","birthDate":"1950-01-01","gender":"male","name":[{"family":"Díaz","given":["Adán"]}],"telecom":[{"system":"phone","value":"555-0142"}],"address":[{"line":["1 Main St"],"city":"Springfield"}],"communication":[{"language":{"coding":[{"system":"urn:ietf:bcp:47","code":"es"}]},"preferred":true}]}"#.to_owned(),
        r#"{"resourceType":"Patient","id":"meds","birthDate":"1950-01-01","gender":"female","name":[{"family":"Meds"}]}"#.to_owned(),
        r#"{"resourceType":"Encounter","id":"stay","status":"finished","class":{"code":"IMP"},"subject":{"reference":"Patient/dis"},"period":{"start":"2021-03-05","end":"2021-03-10"}}"#.to_owned(),
        r#"{"resourceType":"Condition","id":"c1","clinicalStatus":{"coding":[{"code":"active"}]},"code":{"coding":[{"system":"http://snomed.info/sct","code":"44054006"}]},"subject":{"reference":"Patient/dis"},"onsetDateTime":"2015-01-01"}"#.to_owned(),
    ];
    for n in 1..=7 {
        lines.push(format!(
            r#"{{"resourceType":"MedicationRequest","id":"m{n}","status":"active","intent":"order","authoredOn":"2020-01-01","subject":{{"reference":"Patient/meds"}},"medicationCodeableConcept":{{"coding":[{{"system":"http://www.nlm.nih.gov/research/umls/rxnorm","code":"{n}"}}]}}}}"#
        ));
    }
    std::fs::write(input.join("panel.ndjson"), lines.join("\n")).unwrap();
    let mut careloop = Careloop::open(&config(root)).unwrap();
    assert!(careloop
        .import(&[input], false, &mut |_| {})
        .unwrap()
        .files_failed
        .is_empty());
    careloop
}

/// The unassigned pool as `session` sees it.
fn unassigned_pool(careloop: &mut Careloop, session: &Session) -> Vec<careloop_api::WorklistRow> {
    careloop
        .worklist(
            session,
            &WorklistFilter {
                owner: Some(String::new()),
                ..Default::default()
            },
        )
        .unwrap()
}

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn who(user: &str, role: Role, at: &str) -> Session {
    Session {
        user: user.into(),
        role,
        at: t(at),
    }
}

fn answers(json: &str) -> Answers {
    serde_json::from_str(json).unwrap()
}

const FULL_ANSWERS: &str = r#"{
    "medication_clarity": {"kind": "yes_no", "value": false},
    "medicines_at_home": {"kind": "yes_no", "value": true},
    "symptom_change": {"kind": "choice", "value": "worse"},
    "warning_signs": {"kind": "choices", "value": ["breathing_harder"]},
    "has_helper": {"kind": "yes_no", "value": false},
    "home_barriers": {"kind": "choices", "value": ["none"]},
    "followup_booked": {"kind": "yes_no", "value": false}
}"#;

fn attempt(
    case_id: Uuid,
    channel: Channel,
    reached: bool,
    outcome: Outcome,
    next: NextAction,
) -> AttemptInput {
    AttemptInput {
        case_id,
        channel,
        reached,
        message_id: None,
        answers: Answers::default(),
        outcome,
        next,
        contact_limit_override: None,
        note: None,
    }
}

fn follow_up() -> NextAction {
    NextAction::FollowUp {
        on: NaiveDate::from_ymd_opt(2021, 4, 6).unwrap(),
    }
}

#[test]
fn a_case_from_worklist_to_closing_under_every_rule() {
    let root = tempfile::tempdir().unwrap();
    let mut careloop = panel(root.path());
    let ana = who("ana", Role::Coordinator, "2021-04-01T09:00:00Z");
    let ben = who("ben", Role::Coordinator, "2021-04-01T09:05:00Z");
    let cleo = who("cleo", Role::Clinician, "2021-04-01T09:10:00Z");
    let sue = who("sue", Role::Supervisor, "2021-04-01T09:15:00Z");
    let as_of = NaiveDate::from_ymd_opt(2021, 4, 1).unwrap();

    // Cases open from the worklists; a second run opens none again.
    let opened = careloop.open_cases(&ana, as_of, None).unwrap();
    assert!(opened.opened >= 2, "{opened:?}");
    let again = careloop.open_cases(&ana, as_of, None).unwrap();
    assert_eq!((again.opened, again.already_open), (0, opened.opened));

    // The pool: the post-discharge case is due in 2 working days (Thursday → Monday close),
    // with the reason, the language and a mid-week suggestion.
    let pool = unassigned_pool(&mut careloop, &ana);
    let row = pool
        .iter()
        .find(|r| r.patient_id == "dis" && r.segment_id == "post_discharge_30d")
        .expect("the discharged person has a case");
    assert_eq!(row.due, "2021-04-05T18:00:00Z");
    assert_eq!(row.name, "Adán Díaz");
    assert_eq!(row.preferred_language.as_deref(), Some("es"));
    assert!(!row.summary.is_empty());
    // The documented channel (Patient.telecom) comes first; the day is mid-week by default.
    assert_eq!(row.preferred_channel.as_deref(), Some("phone"));
    let reason = &row.suggestion.as_ref().unwrap().reason;
    assert!(
        reason.contains("documented preferred channel") && reason.contains("mid-week"),
        "{reason}"
    );
    let dues: Vec<&str> = pool.iter().map(|r| r.due.as_str()).collect();
    assert!(
        dues.windows(2).all(|w| w[0] <= w[1]),
        "ordered by due: {dues:?}"
    );
    let case_id: Uuid = row.case_id.parse().unwrap();

    // A clinician may not claim (refused and audited); the second coordinator comes too late.
    let err = careloop.claim_case(&cleo, case_id).unwrap_err();
    assert_eq!(err.code, ErrorCode::Forbidden);
    let denied = careloop
        .store_mut()
        .audit_entries(0, 1000)
        .unwrap()
        .into_iter()
        .filter(|e| e.outcome == careloop_store::AuditOutcome::Denied)
        .count();
    assert_eq!(denied, 1);
    careloop.claim_case(&ana, case_id).unwrap();
    let err = careloop.claim_case(&ben, case_id).unwrap_err();
    assert_eq!(err.code, ErrorCode::Conflict);
    assert!(
        err.message.contains("already claimed by ana"),
        "{}",
        err.message
    );
    let err = careloop
        .record_attempt(
            &ben,
            attempt(
                case_id,
                Channel::Phone,
                false,
                Outcome::Unreachable,
                follow_up(),
            ),
        )
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::Forbidden);

    // Channel rule: a sensitive template by SMS is refused, and nothing lands.
    let events_before = careloop.stats().unwrap().events;
    let mut sms = attempt(
        case_id,
        Channel::Sms,
        false,
        Outcome::Unreachable,
        follow_up(),
    );
    sms.message_id = Some("medicines_check".into());
    let err = careloop.record_attempt(&ana, sms).unwrap_err();
    assert_eq!(err.code, ErrorCode::Refused);
    assert!(
        err.message.contains("only through the patient portal"),
        "{}",
        err.message
    );
    assert_eq!(careloop.stats().unwrap().events, events_before);

    // Required answers are enforced for a reached person.
    let mut partial = attempt(
        case_id,
        Channel::Phone,
        true,
        Outcome::EmergingDeterioration,
        NextAction::ClinicianCallback {
            reason: "worse breathing".into(),
        },
    );
    partial.answers = answers(r#"{"medication_clarity": {"kind": "yes_no", "value": true}}"#);
    let err = careloop.record_attempt(&ana, partial.clone()).unwrap_err();
    assert_eq!(err.code, ErrorCode::BadInput);
    assert!(err.message.contains("medicines_at_home"), "{}", err.message);

    // The full attempt routes a same-day callback to clinicians; the script was Spanish.
    partial.answers = answers(FULL_ANSWERS);
    let done = careloop.record_attempt(&ana, partial).unwrap();
    assert_eq!(done.case_status.as_deref(), Some("awaiting_callback"));
    let callback_id: Uuid = done.created.unwrap().parse().unwrap();
    let events = careloop.store_mut().events_for_subject("dis").unwrap();
    let attempt_event = events
        .iter()
        .find(|e| e.kind == "attempt.recorded")
        .unwrap();
    assert_eq!(attempt_event.payload["event"]["language"], "es");
    let queue = careloop.callbacks(&cleo, false).unwrap();
    assert_eq!(queue.len(), 1);
    assert_eq!(queue[0].deadline, "2021-04-01T18:00:00Z");
    assert_eq!(
        careloop.callbacks(&ana, false).unwrap_err().code,
        ErrorCode::Forbidden
    );
    // An attempt whose next action is refused (closing while a callback waits) lands
    // nothing at all, not even the attempt.
    let events_before = careloop.stats().unwrap().events;
    let err = careloop
        .record_attempt(
            &ana,
            attempt(
                case_id,
                Channel::Phone,
                false,
                Outcome::Unreachable,
                NextAction::Close {
                    reason: CloseReason::Declined,
                },
            ),
        )
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::Conflict);
    assert!(
        err.message.contains("still waiting for a clinician"),
        "{}",
        err.message
    );
    assert_eq!(careloop.stats().unwrap().events, events_before);
    let detail = careloop.case_detail(&ana, case_id).unwrap();
    assert_eq!(
        (detail.status.as_str(), detail.attempts),
        ("awaiting_callback", 1)
    );
    let err = careloop
        .document_callback(&cleo, callback_id, "reviewed meds", "GP tomorrow", false)
        .unwrap_err();
    assert!(err.message.contains("decision-support"), "{}", err.message);
    let done = careloop
        .document_callback(&cleo, callback_id, "reviewed meds", "GP tomorrow", true)
        .unwrap();
    assert_eq!(done.case_status.as_deref(), Some("in_progress"));

    // Over-contact: three contacts this week; the fourth needs a supervisor and a reason.
    for _ in 0..2 {
        careloop
            .record_attempt(
                &ana,
                attempt(
                    case_id,
                    Channel::Phone,
                    false,
                    Outcome::Unreachable,
                    follow_up(),
                ),
            )
            .unwrap();
    }
    let err = careloop
        .record_attempt(
            &ana,
            attempt(
                case_id,
                Channel::Phone,
                false,
                Outcome::Unreachable,
                follow_up(),
            ),
        )
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::Refused);
    assert!(err.message.contains("limit 3"), "{}", err.message);
    let mut overridden = attempt(
        case_id,
        Channel::Phone,
        false,
        Outcome::Unreachable,
        follow_up(),
    );
    overridden.contact_limit_override = Some("callback result must reach them today".into());
    careloop.record_attempt(&sue, overridden).unwrap();
    let audit = careloop.store_mut().audit_entries(0, 1000).unwrap();
    let override_entry = audit
        .iter()
        .find(|e| e.action == "attempt.record_with_contact_limit_override")
        .expect("the override is audited");
    assert_eq!(
        (override_entry.actor.as_str(), override_entry.role.as_str()),
        ("sue", "supervisor")
    );

    // Escalation: a social crisis is the coordinator's for 4 working hours, then climbs.
    let done = careloop
        .raise_escalation(
            &ana,
            case_id,
            EscalationKind::SocialCrisis,
            "eviction notice",
        )
        .unwrap();
    let escalation_id: Uuid = done.created.unwrap().parse().unwrap();
    let later = who("ana", Role::Coordinator, "2021-04-01T15:00:00Z");
    let list = careloop.escalations(&later).unwrap();
    assert_eq!(list[0].owner, "supervisor", "{list:?}");
    let err = careloop
        .escalation_step(&later, escalation_id, false, "")
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::Refused);
    assert!(
        err.message.contains("with the supervisor"),
        "{}",
        err.message
    );
    let err = careloop
        .escalation_step(&sue, escalation_id, true, "")
        .unwrap_err();
    assert_eq!(
        err.code,
        ErrorCode::Conflict,
        "resolve before acknowledging"
    );
    careloop
        .escalation_step(&sue, escalation_id, false, "on it")
        .unwrap();
    careloop
        .escalation_step(&sue, escalation_id, true, "housing team")
        .unwrap();

    // Closed-loop referral.
    let done = careloop
        .send_referral(&ana, case_id, ServiceType::Housing, "eviction")
        .unwrap();
    let referral_id: Uuid = done.created.unwrap().parse().unwrap();
    assert_eq!(done.case_status.as_deref(), Some("referred"));
    let err = careloop
        .update_referral(&ana, referral_id, ReferralStatus::Completed, "done", None)
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::Conflict);
    let monitor = careloop
        .referrals(&who("ana", Role::Coordinator, "2021-04-08T09:00:00Z"))
        .unwrap();
    assert!(
        monitor[0].overdue && monitor[0].detail.contains("no answer from housing"),
        "{monitor:?}"
    );
    careloop
        .update_referral(&ana, referral_id, ReferralStatus::Accepted, "", None)
        .unwrap();
    careloop
        .update_referral(
            &ana,
            referral_id,
            ReferralStatus::Started,
            "visit booked",
            Some(as_of),
        )
        .unwrap();

    // Minimum necessary: the coordinator sees contact details, not the clinical history.
    let detail = careloop.case_detail(&ana, case_id).unwrap();
    assert_eq!(
        detail.contact.as_ref().unwrap().phone.as_deref(),
        Some("555-0142")
    );
    assert!(detail.clinical.is_none());
    assert_eq!(detail.script_language.as_deref(), Some("es"));
    assert!(
        !detail
            .timeline
            .iter()
            .any(|e| e.detail.contains("GP tomorrow")),
        "callback notes are clinical"
    );
    let clinical = careloop.case_detail(&cleo, case_id).unwrap();
    assert!(clinical
        .clinical
        .unwrap()
        .iter()
        .any(|l| l.contains("44054006")));
    assert!(clinical
        .timeline
        .iter()
        .any(|e| e.detail.contains("GP tomorrow")));
    let reads = careloop
        .store_mut()
        .audit_entries_for_patient("dis")
        .unwrap()
        .into_iter()
        .filter(|e| e.action == "case.view")
        .count();
    assert_eq!(reads, 3);

    // Closing, then the worklist no longer shows it.
    careloop
        .close_case(&ana, case_id, CloseReason::Stable, None)
        .unwrap();
    let mine = careloop.worklist(&ana, &WorklistFilter::default()).unwrap();
    assert!(mine.iter().all(|r| r.case_id != case_id.to_string()));

    // The audit chain verifies; only supervisors and admins may verify it.
    assert_eq!(
        careloop.verify_audit(&ana, None).unwrap_err().code,
        ErrorCode::Forbidden
    );
    let report = careloop.verify_audit(&sue, None).unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);

    // Reopened: the state folded from the log is the same.
    let before = careloop.case_detail(&sue, case_id).unwrap();
    drop(careloop);
    let mut reopened = Careloop::open(&config(root.path())).unwrap();
    let after = reopened.case_detail(&sue, case_id).unwrap();
    assert_eq!(before.status, after.status);
    assert_eq!(before.timeline, after.timeline);
    assert_eq!(after.status, "closed");
}

/// Every API operation, for every role: refused with `forbidden` exactly where the RBAC
/// matrix says so (other refusals, e.g. a conflict, mean the role was let through).
#[test]
fn the_api_enforces_the_whole_rbac_matrix() {
    use careloop_api::ops::rbac::{allowed, Operation};
    let as_of = NaiveDate::from_ymd_opt(2021, 4, 1).unwrap();
    let sue = who("sue", Role::Supervisor, "2021-04-01T09:00:00Z");
    // A fresh cache per role; the case is owned by that role's user, so that the owner rule
    // does not hide the role rule.
    for role in [
        Role::Coordinator,
        Role::Clinician,
        Role::Supervisor,
        Role::Admin,
    ] {
        let root = tempfile::tempdir().unwrap();
        let mut careloop = panel(root.path());
        careloop.open_cases(&sue, as_of, None).unwrap();
        let pool = unassigned_pool(&mut careloop, &sue);
        let case_id: Uuid = pool
            .iter()
            .find(|r| r.patient_id == "dis" && r.segment_id == "post_discharge_30d")
            .unwrap_or_else(|| panic!("no post-discharge case in the pool: {pool:?}"))
            .case_id
            .parse()
            .unwrap();
        let s = who(role.as_str(), role, "2021-04-01T10:00:00Z");
        careloop.assign_case(&sue, case_id, role.as_str()).unwrap();
        let callback = careloop
            .record_attempt(&sue, {
                let mut a = attempt(
                    case_id,
                    Channel::Phone,
                    true,
                    Outcome::EmergingDeterioration,
                    NextAction::ClinicianCallback { reason: "x".into() },
                );
                a.answers = answers(FULL_ANSWERS);
                a.contact_limit_override = Some("matrix test".into());
                a
            })
            .unwrap()
            .created
            .unwrap()
            .parse::<Uuid>()
            .unwrap();
        let escalation: Uuid = careloop
            .raise_escalation(&sue, case_id, EscalationKind::ClinicalConcern, "")
            .unwrap()
            .created
            .unwrap()
            .parse()
            .unwrap();
        let referral: Uuid = careloop
            .send_referral(&sue, case_id, ServiceType::Meals, "")
            .unwrap()
            .created
            .unwrap()
            .parse()
            .unwrap();
        fn ok<T>(r: Result<T, careloop_api::ApiError>) -> Result<(), careloop_api::ApiError> {
            r.map(|_| ())
        }
        let forbidden = |r: Result<(), careloop_api::ApiError>| matches!(r, Err(e) if e.code == ErrorCode::Forbidden);
        let checks: Vec<(Operation, bool)> = vec![
            (
                Operation::ViewWorklist,
                forbidden(ok(careloop.worklist(&s, &WorklistFilter::default()))),
            ),
            (
                Operation::ViewCase,
                forbidden(ok(careloop.case_detail(&s, case_id))),
            ),
            (
                Operation::ClaimCase,
                forbidden(ok(careloop.claim_case(&s, case_id))),
            ),
            (
                Operation::AssignCase,
                forbidden(ok(careloop.assign_case(&s, case_id, role.as_str()))),
            ),
            (
                Operation::RecordAttempt,
                forbidden(ok(careloop.record_attempt(&s, {
                    let mut a = attempt(
                        case_id,
                        Channel::Phone,
                        false,
                        Outcome::Unreachable,
                        follow_up(),
                    );
                    a.contact_limit_override = Some("matrix test".into());
                    a
                }))),
            ),
            (
                Operation::ViewCallbacks,
                forbidden(ok(careloop.callbacks(&s, true))),
            ),
            (
                Operation::DocumentCallback,
                forbidden(ok(
                    careloop.document_callback(&s, callback, "seen", "none", true)
                )),
            ),
            (
                Operation::RaiseEscalation,
                forbidden(ok(careloop.raise_escalation(
                    &s,
                    case_id,
                    EscalationKind::NoContact,
                    "",
                ))),
            ),
            (
                Operation::AcknowledgeEscalation,
                forbidden(ok(careloop.escalation_step(&s, escalation, false, ""))),
            ),
            (
                Operation::SendReferral,
                forbidden(ok(careloop.update_referral(
                    &s,
                    referral,
                    ReferralStatus::Accepted,
                    "",
                    None,
                ))),
            ),
            (
                Operation::RunSegmentation,
                forbidden(ok(careloop.open_cases(&s, as_of, None))),
            ),
            (
                Operation::VerifyAudit,
                forbidden(ok(careloop.verify_audit(&s, None))),
            ),
            (
                Operation::CloseCase,
                forbidden(ok(careloop.close_case(
                    &s,
                    case_id,
                    CloseReason::NotAppropriate,
                    None,
                ))),
            ),
        ];
        for (operation, was_forbidden) in checks {
            assert_eq!(
                was_forbidden,
                !allowed(role, operation),
                "{role} {operation:?}"
            );
        }
    }
}

/// The supervisor's team view counts each open case once, under its owner or in the
/// unassigned pool by segment, with overdue and due-today from the session's clock; the
/// waiting callbacks are counted; coordinators may not read it (refused).
#[test]
fn the_team_view_counts_caseloads_the_pool_and_what_waits() {
    let root = tempfile::tempdir().unwrap();
    let mut careloop = panel(root.path());
    let ana = who("ana", Role::Coordinator, "2021-04-01T09:00:00Z");
    let sue = who("sue", Role::Supervisor, "2021-04-01T09:15:00Z");
    let as_of = NaiveDate::from_ymd_opt(2021, 4, 1).unwrap();
    careloop.open_cases(&ana, as_of, None).unwrap();
    let pool = unassigned_pool(&mut careloop, &ana);
    let total = pool.len() as u32;
    assert!(total >= 2);
    let discharge = pool
        .iter()
        .find(|r| r.segment_id == "post_discharge_30d")
        .unwrap();
    let case_id: Uuid = discharge.case_id.parse().unwrap();
    careloop.claim_case(&ana, case_id).unwrap();

    assert_eq!(
        careloop.team_view(&ana).unwrap_err().code,
        ErrorCode::Forbidden
    );
    let view = careloop.team_view(&sue).unwrap();
    assert_eq!(view.owners.len(), 1);
    let row = &view.owners[0];
    assert_eq!((row.owner.as_str(), row.open, row.overdue), ("ana", 1, 0));
    // Due on Monday 5 April: not today.
    assert_eq!(row.due_today, 0);
    assert!(!row.at_capacity);
    let unassigned: u32 = view.unassigned.iter().map(|u| u.open).sum();
    assert_eq!(
        unassigned,
        total - 1,
        "every other open case is in the pool"
    );
    assert!(view
        .unassigned
        .iter()
        .all(|u| !u.segment_name.is_empty() && u.segment_name != u.segment_id));
    assert_eq!(view.waiting.callbacks, 0);

    // Two months later the pool is overdue; a callback asked for waits on the clinicians.
    let mut call = attempt(
        case_id,
        Channel::Phone,
        true,
        Outcome::EmergingDeterioration,
        NextAction::ClinicianCallback {
            reason: "worse breathing".into(),
        },
    );
    call.answers = answers(FULL_ANSWERS);
    careloop.record_attempt(&ana, call).unwrap();
    let later = who("sue", Role::Supervisor, "2021-06-01T09:00:00Z");
    let view = careloop.team_view(&later).unwrap();
    let overdue: u32 = view.unassigned.iter().map(|u| u.overdue).sum();
    let expected = pool
        .iter()
        .filter(|r| r.case_id != discharge.case_id && t(&r.due) < later.at)
        .count() as u32;
    assert!(expected >= 1);
    assert_eq!(overdue, expected);
    assert_eq!(view.waiting.callbacks, 1);
    assert_eq!(view.waiting.callbacks_overdue, 1);
}

/// A supervisor assigns from the pool in bulk: each case within the caseload (the rest
/// refused with the reason, nothing undone), the coordinators listed as assignees; a
/// coordinator may not assign.
#[test]
fn bulk_assignment_stops_at_the_caseload_and_says_why() {
    let root = tempfile::tempdir().unwrap();
    let mut careloop = panel(root.path());
    let ana = who("ana", Role::Coordinator, "2021-04-01T09:00:00Z");
    let sue = who("sue", Role::Supervisor, "2021-04-01T09:15:00Z");
    let as_of = NaiveDate::from_ymd_opt(2021, 4, 1).unwrap();
    careloop.open_cases(&ana, as_of, None).unwrap();
    let pool: Vec<Uuid> = unassigned_pool(&mut careloop, &sue)
        .iter()
        .map(|r| r.case_id.parse().unwrap())
        .collect();
    assert!(pool.len() >= 2);
    careloop
        .set_policy(careloop_api::Policy {
            caseload_per_coordinator: 1,
            ..Default::default()
        })
        .unwrap();
    careloop
        .store_mut()
        .put_account("ben", "coordinator", "demo", t("2021-04-01T08:00:00Z"))
        .unwrap();
    assert!(careloop
        .assignees(&sue)
        .unwrap()
        .contains(&"ben".to_owned()));
    assert_eq!(
        careloop.assign_cases(&ana, &pool, "ben").unwrap_err().code,
        ErrorCode::Forbidden
    );
    let done = careloop.assign_cases(&sue, &pool, "ben").unwrap();
    assert_eq!(done.assigned, 1);
    assert_eq!(done.refused.len(), pool.len() - 1);
    assert!(
        done.refused[0].contains("ben already has 1 open cases"),
        "{:?}",
        done.refused
    );
    let view = careloop.team_view(&sue).unwrap();
    assert_eq!(view.owners.len(), 1);
    assert_eq!(
        (view.owners[0].owner.as_str(), view.owners[0].open),
        ("ben", 1)
    );
    assert!(view.owners[0].at_capacity);
    // Reassigning the one case to someone else moves it.
    let ben_case = pool[0];
    assert_eq!(
        careloop
            .assign_cases(&sue, &[ben_case], "ana")
            .unwrap()
            .assigned,
        1
    );
    let view = careloop.team_view(&sue).unwrap();
    assert_eq!(view.owners[0].owner, "ana");
}
