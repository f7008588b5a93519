//! The rules enforced around attempts and deadlines, with a fixed clock: the channel rule,
//! the language choice, the over-contact guard, escalation deadlines and auto-escalation,
//! referral deadlines, contact suggestions and the RBAC matrix.

use careloop_ops::calendar::WorkingCalendar;
use careloop_ops::events::{OpEvent, Recorded};
use careloop_ops::guards::{check_channel, check_contact_limit, script_language};
use careloop_ops::model::*;
use careloop_ops::rbac::{allowed, visible, Field, Operation};
use careloop_ops::state::{OpsState, Policy};
use careloop_ops::suggest::{suggest, PastAttempt, Preference};
use chrono::{DateTime, Duration, TimeZone, Utc};
use uuid::Uuid;

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

#[test]
fn sensitive_messages_go_only_through_the_portal() {
    let scripts = careloop_scripts::builtin_scripts().unwrap();
    let script = scripts.get("care_gap_reminder").unwrap();
    let sensitive = script.message("hba1c_due").unwrap();
    let plain = script.message("reminder").unwrap();
    assert!(sensitive.sensitive && !plain.sensitive);
    for channel in [Channel::Sms, Channel::Email, Channel::Letter] {
        let err = check_channel(channel, Some(sensitive)).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("only through the patient portal") && text.contains(channel.as_str()),
            "{text}"
        );
        check_channel(channel, Some(plain)).unwrap();
    }
    check_channel(Channel::Portal, Some(sensitive)).unwrap();
    // A written channel needs a template; a call does not.
    assert!(check_channel(Channel::Sms, None).is_err());
    check_channel(Channel::Phone, None).unwrap();
}

#[test]
fn script_text_follows_the_preferred_language() {
    let scripts = careloop_scripts::builtin_scripts().unwrap();
    let script = scripts.get("post_discharge").unwrap();
    assert_eq!(script_language(script, Some("es")), "es");
    assert_eq!(script_language(script, Some("es-MX")), "es");
    // A language the script lacks falls back to English.
    assert_eq!(script_language(script, Some("vi")), "en");
    assert_eq!(script_language(script, None), "en");
    // FHIR displays give the language by name.
    assert_eq!(script_language(script, Some("Spanish")), "es");
    assert_eq!(
        script_language(script, Some("English (United States)")),
        "en"
    );
    assert_eq!(script_language(script, Some("Klingon")), "en");
}

#[test]
fn over_contact_guard_counts_seven_days_and_needs_a_supervisor_with_a_reason() {
    let policy = Policy::default();
    let mut state = OpsState::default();
    let at = t("2026-11-23T10:00:00Z");
    let case_id = Uuid::from_u128(1);
    let rec = |n: u128, at: DateTime<Utc>, event: OpEvent| Recorded {
        id: Uuid::from_u128(100 + n),
        at,
        actor: "ana".into(),
        role: Role::Coordinator,
        patient_id: "p1".into(),
        event,
    };
    state
        .apply(
            &rec(
                0,
                at - Duration::days(20),
                OpEvent::CaseOpened {
                    case_id,
                    segment_id: "dormant".into(),
                    priority: 1,
                    due: at,
                    summary: String::new(),
                },
            ),
            &policy,
        )
        .unwrap();
    state
        .apply(
            &rec(1, at - Duration::days(20), OpEvent::CaseClaimed { case_id }),
            &policy,
        )
        .unwrap();
    // Attempts 8 days ago (outside the week), then 6, 3 and 1 days ago.
    for (n, days) in [8i64, 6, 3, 1].into_iter().enumerate() {
        let attempt = careloop_ops::Attempt {
            attempt_id: Uuid::from_u128(500 + n as u128),
            case_id,
            channel: Channel::Phone,
            reached: false,
            script_id: "dormant_reengagement".into(),
            script_version: 1,
            language: "en".into(),
            message_id: None,
            answers: Default::default(),
            outcome: Outcome::Unreachable,
            next: careloop_ops::NextAction::FollowUp {
                on: (at + Duration::days(1)).date_naive(),
            },
            contact_limit_override: None,
            note: None,
        };
        state
            .apply(
                &rec(
                    10 + n as u128,
                    at - Duration::days(days),
                    OpEvent::AttemptRecorded(attempt),
                ),
                &policy,
            )
            .unwrap();
    }
    assert_eq!(state.contacts_in_week("p1", at), 3);
    assert_eq!(state.contacts_in_week("p1", at - Duration::days(5)), 2);
    let max = policy.max_contacts_per_week;
    let err = check_contact_limit(3, max, Role::Coordinator, None).unwrap_err();
    assert!(
        err.to_string()
            .contains("3 contacts in the last 7 days already (limit 3)"),
        "{err}"
    );
    let err = check_contact_limit(3, max, Role::Coordinator, Some("urgent")).unwrap_err();
    assert!(
        err.to_string().contains("only a supervisor may override"),
        "{err}"
    );
    assert!(check_contact_limit(3, max, Role::Supervisor, Some("  ")).is_err());
    check_contact_limit(3, max, Role::Supervisor, Some("housing emergency")).unwrap();
    check_contact_limit(2, max, Role::Coordinator, None).unwrap();
}

fn escalation(kind: EscalationKind, raised_at: DateTime<Utc>) -> careloop_ops::Escalation {
    careloop_ops::Escalation {
        escalation_id: Uuid::from_u128(7),
        case_id: Uuid::from_u128(1),
        patient_id: "p1".into(),
        kind,
        note: String::new(),
        raised_at,
        raised_by: "ana".into(),
        status: EscalationStatus::Raised,
        acknowledged_at: None,
        acknowledged_by: None,
        resolved_at: None,
    }
}

#[test]
fn unacknowledged_escalations_climb_on_working_hours() {
    let cal = WorkingCalendar::default();
    // Social crisis: the coordinator has 4 working hours, then the supervisor, then the
    // service lead. Raised Friday 16:00: coordinator until Monday 10:00.
    let e = escalation(EscalationKind::SocialCrisis, t("2026-11-20T16:00:00Z"));
    let steps = e.steps(t("2026-11-21T12:00:00Z"), &cal);
    assert_eq!(steps.len(), 1);
    assert_eq!(steps[0].level, Level::Coordinator);
    assert_eq!(steps[0].deadline, t("2026-11-23T10:00:00Z"));
    assert!(!e.overdue(t("2026-11-23T10:00:00Z"), &cal));
    // Monday 11:00: past the coordinator's deadline, now the supervisor's until 14:00.
    let steps = e.steps(t("2026-11-23T11:00:00Z"), &cal);
    let levels: Vec<Level> = steps.iter().map(|s| s.level).collect();
    assert_eq!(levels, [Level::Coordinator, Level::Supervisor]);
    assert_eq!(steps[1].from, t("2026-11-23T10:00:00Z"));
    assert_eq!(steps[1].deadline, t("2026-11-23T14:00:00Z"));
    assert!(!e.overdue(t("2026-11-23T11:00:00Z"), &cal));
    // Monday 17:00: at the service lead (14:00-18:00). Tuesday 09:00: overdue at the top.
    let steps = e.steps(t("2026-11-24T09:00:00Z"), &cal);
    assert_eq!(steps.last().unwrap().level, Level::ServiceLead);
    assert_eq!(steps.len(), 3);
    assert!(e.overdue(t("2026-11-24T09:00:00Z"), &cal));
    // Acknowledged at 10:30 Monday: it stopped at the supervisor.
    let mut acked = e.clone();
    acked.status = EscalationStatus::Acknowledged;
    acked.acknowledged_at = Some(t("2026-11-23T10:30:00Z"));
    assert_eq!(acked.steps(t("2026-11-30T09:00:00Z"), &cal).len(), 2);
    assert!(!acked.overdue(t("2026-11-30T09:00:00Z"), &cal));
    // A clinical concern starts with the supervisor.
    let clinical = escalation(EscalationKind::ClinicalConcern, t("2026-11-23T09:00:00Z"));
    assert_eq!(
        clinical.steps(t("2026-11-23T09:00:00Z"), &cal)[0].level,
        Level::Supervisor
    );
}

#[test]
fn referrals_past_their_deadline_show_in_the_monitor() {
    let policy = Policy::default();
    let mut state = OpsState::default();
    let case_id = Uuid::from_u128(1);
    let referral_id = Uuid::from_u128(2);
    let sent = t("2026-11-19T10:00:00Z"); // a Thursday
    let rec = |n: u128, at: DateTime<Utc>, event: OpEvent| Recorded {
        id: Uuid::from_u128(100 + n),
        at,
        actor: "ana".into(),
        role: Role::Coordinator,
        patient_id: "p1".into(),
        event,
    };
    state
        .apply(
            &rec(
                0,
                sent,
                OpEvent::CaseOpened {
                    case_id,
                    segment_id: "social_risk_escalation".into(),
                    priority: 3,
                    due: sent,
                    summary: String::new(),
                },
            ),
            &policy,
        )
        .unwrap();
    state
        .apply(
            &rec(
                1,
                sent,
                OpEvent::ReferralSent {
                    referral_id,
                    case_id,
                    service: ServiceType::Housing,
                    note: String::new(),
                    partner: None,
                },
            ),
            &policy,
        )
        .unwrap();
    let referral = &state.referrals[&referral_id];
    // Housing answers within 3 working days: Thursday → Tuesday's close.
    assert_eq!(referral.response_deadline, t("2026-11-24T18:00:00Z"));
    assert!(referral.overdue(t("2026-11-24T17:59:00Z")).is_none());
    let why = referral.overdue(t("2026-11-25T09:00:00Z")).unwrap();
    assert!(why.contains("no answer from housing"), "{why}");
    // Accepted: the start deadline (10 working days) takes over.
    state
        .apply(
            &rec(
                2,
                t("2026-11-23T09:00:00Z"),
                OpEvent::ReferralUpdated {
                    referral_id,
                    case_id,
                    status: ReferralStatus::Accepted,
                    note: String::new(),
                    on: None,
                },
            ),
            &policy,
        )
        .unwrap();
    let referral = &state.referrals[&referral_id];
    assert!(referral.overdue(t("2026-11-25T09:00:00Z")).is_none());
    assert_eq!(referral.start_deadline, Some(t("2026-12-07T18:00:00Z")));
    assert!(referral
        .overdue(t("2026-12-08T09:00:00Z"))
        .unwrap()
        .contains("not started"));
    // Skipping a step is refused with the lifecycle spelled out.
    let err = state
        .apply(
            &rec(
                3,
                t("2026-11-23T10:00:00Z"),
                OpEvent::ReferralUpdated {
                    referral_id,
                    case_id,
                    status: ReferralStatus::Completed,
                    note: "done".into(),
                    on: None,
                },
            ),
            &policy,
        )
        .unwrap_err();
    assert!(
        err.to_string().contains("not accepted → completed"),
        "{err}"
    );
}

#[test]
fn suggestions_prefer_documented_then_history_then_mid_week() {
    let allowed = [Channel::Phone, Channel::Sms, Channel::Letter];
    let pref = Preference {
        channel: Some(Channel::Sms),
        window: Some("after 17:00".into()),
    };
    let s = suggest(&pref, &allowed, &[]).unwrap();
    assert_eq!((s.channel, s.when.as_str()), (Channel::Sms, "after 17:00"));
    assert!(
        s.reason.contains("documented preferred channel"),
        "{}",
        s.reason
    );
    // No preference, little history: the first channel, mid-week.
    let s = suggest(&Preference::default(), &allowed, &[]).unwrap();
    assert_eq!(
        (s.channel, s.when.as_str()),
        (Channel::Phone, "Wednesday 10:00")
    );
    assert!(s.reason.contains("mid-week by default"), "{}", s.reason);
    // History: letters answered 8 of 10 on Tuesdays at 14:00, phone 2 of 12.
    let mut history = Vec::new();
    for i in 0..10 {
        history.push(PastAttempt {
            channel: Channel::Letter,
            at: t("2026-11-17T14:05:00Z") - Duration::weeks(i),
            reached: i < 8,
        });
    }
    for i in 0..12 {
        history.push(PastAttempt {
            channel: Channel::Phone,
            at: t("2026-11-18T10:00:00Z") - Duration::weeks(i),
            reached: i < 2,
        });
    }
    let s = suggest(&Preference::default(), &allowed, &history).unwrap();
    assert_eq!(
        (s.channel, s.when.as_str()),
        (Channel::Letter, "Tuesday 14:00")
    );
    assert!(
        s.reason.contains("reached 80% of 10 attempts"),
        "{}",
        s.reason
    );
    // A documented channel outside the segment's policy is not used.
    let pref = Preference {
        channel: Some(Channel::Portal),
        window: None,
    };
    assert_eq!(
        suggest(&pref, &allowed, &history).unwrap().channel,
        Channel::Letter
    );
}

#[test]
fn rbac_matrix_is_as_documented() {
    use Operation::*;
    use Role::*;
    // The whole matrix, written out: (operation, [coordinator, clinician, supervisor, admin,
    // partner]). A partner (on the server's exchange only) may call none of them.
    let expected: &[(Operation, [bool; 5])] = &[
        (ViewWorklist, [true, true, true, false, false]),
        (ViewCase, [true, true, true, false, false]),
        (ClaimCase, [true, false, true, false, false]),
        (AssignCase, [false, false, true, false, false]),
        (RecordAttempt, [true, false, true, false, false]),
        (OverrideContactLimit, [false, false, true, false, false]),
        (CloseCase, [true, false, true, false, false]),
        (ViewCallbacks, [false, true, true, false, false]),
        (DocumentCallback, [false, true, false, false, false]),
        (RaiseEscalation, [true, true, true, false, false]),
        (AcknowledgeEscalation, [true, true, true, false, false]),
        (SendReferral, [true, false, true, false, false]),
        (RunSegmentation, [true, false, true, false, false]),
        (PublishSegment, [false, false, true, false, false]),
        (WeeklyReview, [false, false, true, false, false]),
        (VerifyAudit, [false, false, true, true, false]),
        (Administer, [false, false, true, true, false]),
        (ResolveConflict, [true, false, true, false, false]),
        (ReviewEntrants, [false, false, true, false, false]),
        (HandleAlerts, [true, true, true, false, false]),
        (RefreshLists, [false, false, true, false, false]),
        (ManageCarePlan, [true, true, true, false, false]),
    ];
    assert_eq!(expected.len(), Operation::ALL.len());
    for (op, roles) in expected {
        for (role, want) in [Coordinator, Clinician, Supervisor, Admin, Partner]
            .into_iter()
            .zip(roles)
        {
            assert_eq!(allowed(role, *op), *want, "{role} {op:?}");
        }
    }
    let fields: &[(Field, [bool; 5])] = &[
        (Field::Identity, [true, true, true, false, true]),
        (Field::Contact, [true, true, true, false, true]),
        (Field::OutreachFacts, [true, true, true, false, false]),
        (Field::OutreachRecord, [true, true, true, false, false]),
        (Field::ClinicalHistory, [false, true, true, false, false]),
        (
            Field::CallbackDocumentation,
            [false, true, true, false, false],
        ),
        (Field::RaceEthnicity, [false, false, true, false, false]),
    ];
    assert_eq!(fields.len(), Field::ALL.len());
    for (field, roles) in fields {
        for (role, want) in [Coordinator, Clinician, Supervisor, Admin, Partner]
            .into_iter()
            .zip(roles)
        {
            assert_eq!(visible(role, *field), *want, "{role} {field:?}");
        }
    }
}

#[test]
fn names_parse_and_unknown_names_say_what_is_expected() {
    assert_eq!("home_visit".parse::<Channel>().unwrap(), Channel::HomeVisit);
    let err = "fax".parse::<Channel>().unwrap_err().to_string();
    assert!(
        err.contains("unknown Channel \"fax\"") && err.contains("portal"),
        "{err}"
    );
    let _ = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0);
}
