//! Commands to events ([`careloop_ops::decide`]) on a fixed clock, with counted ids: what each
//! command emits, its deadlines, and what it refuses (nothing emitted then).

use careloop_ops::decide::{self, AttemptInput, SegmentWorklist, Who};
use careloop_ops::events::{NextAction, OpEvent, Recorded};
use careloop_ops::model::*;
use careloop_ops::state::{OpsState, Policy};
use careloop_ops::OpsError;
use careloop_scripts::Answers;
use chrono::{DateTime, Utc};
use uuid::Uuid;

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

/// Monday 2026-06-29, 10:00 UTC (a working day).
const MONDAY: &str = "2026-06-29T10:00:00Z";

fn id(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

/// Ids 1000, 1001, … in the order the decision asks for them.
fn counter() -> impl FnMut() -> Uuid {
    let mut n = 1000;
    move || {
        n += 1;
        id(n - 1)
    }
}

fn apply(
    state: &mut OpsState,
    policy: &Policy,
    actor: &str,
    role: Role,
    patient: &str,
    e: OpEvent,
) {
    let recorded = Recorded {
        id: Uuid::now_v7(),
        at: t(MONDAY),
        actor: actor.into(),
        role,
        patient_id: patient.into(),
        event: e,
    };
    state.apply(&recorded, policy).unwrap();
}

/// Case 1 (p1, post_discharge_30d) owned by ana; case 2 (p2) unassigned.
fn state(policy: &Policy) -> OpsState {
    let mut state = OpsState::default();
    for (case, patient) in [(1, "p1"), (2, "p2")] {
        let open = OpEvent::CaseOpened {
            case_id: id(case),
            segment_id: "post_discharge_30d".into(),
            priority: 5,
            due: t("2026-06-30T17:00:00Z"),
            summary: "discharged".into(),
        };
        apply(&mut state, policy, "sue", Role::Supervisor, patient, open);
    }
    let claim = OpEvent::CaseClaimed { case_id: id(1) };
    apply(&mut state, policy, "ana", Role::Coordinator, "p1", claim);
    state
}

fn who(user: &str, role: Role) -> Who<'_> {
    Who {
        user,
        role,
        at: t(MONDAY),
    }
}

fn unreached(case: u128, next: NextAction) -> AttemptInput {
    AttemptInput {
        case_id: id(case),
        channel: Channel::Phone,
        reached: false,
        message_id: None,
        answers: Answers::new(),
        outcome: Outcome::Unreachable,
        next,
        contact_limit_override: None,
        note: None,
    }
}

#[test]
fn an_attempt_with_a_callback_is_two_events_due_by_the_calendar() {
    let policy = Policy::default();
    let state = state(&policy);
    let scripts = careloop_scripts::builtin_scripts().unwrap();
    let script = scripts.get("post_discharge").unwrap();
    let next = NextAction::ClinicianCallback {
        reason: "dizzy".into(),
    };
    let mut input = unreached(1, next);
    let d = decide::attempt(
        &state,
        &policy,
        who("ana", Role::Coordinator),
        input.clone(),
        script,
        Some("Spanish"),
        &mut counter(),
    )
    .unwrap();
    assert_eq!(d.patient_id, "p1");
    assert_eq!(d.audit_action, "attempt.record");
    assert_eq!(d.created, Some(id(1001)));
    let [OpEvent::AttemptRecorded(a), OpEvent::CallbackRequested {
        callback_id, due, ..
    }] = &d.events[..]
    else {
        panic!("{:?}", d.events)
    };
    assert_eq!((a.attempt_id, *callback_id), (id(1000), id(1001)));
    assert_eq!(
        (a.script_id.as_str(), a.language.as_str()),
        ("post_discharge", "es")
    );
    // Not urgent: the next working day.
    assert_eq!(*due, policy.calendar.add_working_days(t(MONDAY), 1));

    // Emerging deterioration: the end of the same working day.
    input.outcome = Outcome::EmergingDeterioration;
    let d = decide::attempt(
        &state,
        &policy,
        who("ana", Role::Coordinator),
        input,
        script,
        None,
        &mut counter(),
    )
    .unwrap();
    let OpEvent::CallbackRequested { due, .. } = &d.events[1] else {
        panic!("{:?}", d.events)
    };
    assert_eq!(*due, policy.calendar.end_of_working_day(t(MONDAY)));
    assert!(*due < policy.calendar.add_working_days(t(MONDAY), 1));
}

#[test]
fn attempts_are_for_the_owner_or_a_supervisor_and_answers_are_checked() {
    let policy = Policy::default();
    let state = state(&policy);
    let scripts = careloop_scripts::builtin_scripts().unwrap();
    let script = scripts.get("post_discharge").unwrap();
    let follow = NextAction::FollowUp {
        on: t(MONDAY).date_naive(),
    };
    let attempt = |user, role, input: AttemptInput| {
        decide::attempt(
            &state,
            &policy,
            who(user, role),
            input,
            script,
            None,
            &mut counter(),
        )
    };
    let err = attempt("ben", Role::Coordinator, unreached(1, follow.clone())).unwrap_err();
    assert!(matches!(err, OpsError::Forbidden(_)), "{err}");
    assert!(err.to_string().contains("owned by ana"), "{err}");
    let err = attempt("ana", Role::Coordinator, unreached(2, follow.clone())).unwrap_err();
    assert!(err.to_string().contains("is unassigned"), "{err}");
    let d = attempt("sue", Role::Supervisor, unreached(1, follow.clone())).unwrap();
    assert_eq!(d.events.len(), 1);
    assert_eq!(d.created, None);
    let err = attempt("ana", Role::Coordinator, unreached(9, follow.clone())).unwrap_err();
    assert!(
        matches!(err, OpsError::NotFound { what: "case", .. }),
        "{err}"
    );

    // Reached: the script's required answers must be there and valid.
    let mut reached = unreached(1, follow.clone());
    reached.reached = true;
    reached.outcome = Outcome::ConfirmedStable;
    let err = attempt("ana", Role::Coordinator, reached.clone()).unwrap_err();
    assert!(matches!(err, OpsError::Invalid(_)), "{err}");
    assert!(
        err.to_string().starts_with("script post_discharge:"),
        "{err}"
    );

    // A written channel needs a template that exists.
    let mut sms = unreached(1, follow);
    sms.channel = Channel::Sms;
    sms.message_id = Some("nope".into());
    let err = attempt("ana", Role::Coordinator, sms).unwrap_err();
    assert!(err.to_string().contains("has no message \"nope\""), "{err}");
}

#[test]
fn the_over_contact_guard_names_the_override_in_the_audit_action() {
    let policy = Policy::default();
    let mut state = state(&policy);
    let scripts = careloop_scripts::builtin_scripts().unwrap();
    let script = scripts.get("post_discharge").unwrap();
    let follow = NextAction::FollowUp {
        on: t(MONDAY).date_naive(),
    };
    for _ in 0..policy.max_contacts_per_week {
        let d = decide::attempt(
            &state,
            &policy,
            who("ana", Role::Coordinator),
            unreached(1, follow.clone()),
            script,
            None,
            &mut || Uuid::now_v7(),
        )
        .unwrap();
        for e in d.events {
            apply(&mut state, &policy, "ana", Role::Coordinator, "p1", e);
        }
    }
    let err = decide::attempt(
        &state,
        &policy,
        who("ana", Role::Coordinator),
        unreached(1, follow.clone()),
        script,
        None,
        &mut counter(),
    )
    .unwrap_err();
    assert!(matches!(err, OpsError::Refused(_)), "{err}");
    let mut input = unreached(1, follow);
    input.contact_limit_override = Some("family asked us to call back".into());
    let d = decide::attempt(
        &state,
        &policy,
        who("sue", Role::Supervisor),
        input,
        script,
        None,
        &mut counter(),
    )
    .unwrap();
    assert_eq!(d.audit_action, "attempt.record_with_contact_limit_override");
}

#[test]
fn claiming_stops_at_the_weekly_capacity() {
    let policy = Policy {
        caseload_per_coordinator: 1,
        ..Policy::default()
    };
    let state = state(&policy);
    let err = decide::claim(&state, &policy, who("ana", Role::Coordinator), id(2)).unwrap_err();
    assert!(
        err.to_string()
            .contains("ana already has 1 open cases (weekly capacity 1)"),
        "{err}"
    );
    let d = decide::claim(&state, &policy, who("ben", Role::Coordinator), id(2)).unwrap();
    assert_eq!(d.events, vec![OpEvent::CaseClaimed { case_id: id(2) }]);
    assert_eq!(
        (d.patient_id.as_str(), d.audit_action),
        ("p2", "case.claim")
    );
    assert!(decide::assign(&state, &policy, id(2), "ana").is_err());
    assert!(decide::assign(&state, &policy, id(2), "ben").is_ok());
}

#[test]
fn an_escalation_is_acknowledged_by_the_level_that_holds_it() {
    let policy = Policy::default();
    let mut state = state(&policy);
    let d = decide::raise_escalation(
        &state,
        id(1),
        EscalationKind::Safeguarding,
        "concern",
        &mut counter(),
    )
    .unwrap();
    assert_eq!(d.created, Some(id(1000)));
    for e in d.events {
        apply(&mut state, &policy, "ana", Role::Coordinator, "p1", e);
    }
    let level = state.escalations[&id(1000)].kind.policy().first_level;
    let wrong = [Role::Coordinator, Role::Clinician]
        .into_iter()
        .find(|r| *r != level.role())
        .unwrap();
    let err = decide::escalation_step(&state, &policy, who("x", wrong), id(1000), false, "ok")
        .unwrap_err();
    assert!(err.to_string().contains("may not acknowledge it"), "{err}");
    let d = decide::escalation_step(
        &state,
        &policy,
        who("x", level.role()),
        id(1000),
        false,
        "ok",
    )
    .unwrap();
    assert_eq!(d.audit_action, "escalation.acknowledge");
    let d = decide::escalation_step(
        &state,
        &policy,
        who("sue", Role::Supervisor),
        id(1000),
        true,
        "",
    )
    .unwrap();
    assert_eq!(d.audit_action, "escalation.resolve");
    assert!(decide::escalation_step(
        &state,
        &policy,
        who("sue", Role::Supervisor),
        id(7),
        true,
        ""
    )
    .is_err());
}

#[test]
fn a_run_opens_cases_only_for_people_without_one_due_by_the_segment_deadline() {
    let policy = Policy::default();
    let state = state(&policy);
    let worklists = vec![
        SegmentWorklist {
            segment_id: "post_discharge_30d".into(),
            contact_within_working_days: 2,
            rows: vec![
                ("p1".into(), 5, "already open".into()),
                ("p3".into(), 7, "new".into()),
            ],
        },
        SegmentWorklist {
            segment_id: "dormant".into(),
            contact_within_working_days: 10,
            rows: vec![("p1".into(), 1, "other segment".into())],
        },
    ];
    let openings = decide::open_cases(&state, &policy, t(MONDAY), "north", &worklists);
    assert_eq!(openings.already_open, 1);
    let opened: Vec<(&str, &str, DateTime<Utc>, Uuid)> = openings
        .events
        .iter()
        .map(|(p, e)| match e {
            OpEvent::CaseOpened {
                segment_id,
                due,
                case_id,
                ..
            } => (p.as_str(), segment_id.as_str(), *due, *case_id),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        opened,
        vec![
            (
                "p3",
                "post_discharge_30d",
                policy.calendar.add_working_days(t(MONDAY), 2),
                careloop_ops::case_id("north", "p3", "post_discharge_30d", 1)
            ),
            (
                "p1",
                "dormant",
                policy.calendar.add_working_days(t(MONDAY), 10),
                careloop_ops::case_id("north", "p1", "dormant", 1)
            ),
        ]
    );
}

#[test]
fn a_case_id_names_team_person_segment_and_episode() {
    let id = careloop_ops::case_id("north", "p1", "dormant", 1);
    assert_eq!(id, careloop_ops::case_id("north", "p1", "dormant", 1));
    assert_eq!(id.get_version_num(), 8);
    for other in [
        careloop_ops::case_id("south", "p1", "dormant", 1),
        careloop_ops::case_id("north", "p2", "dormant", 1),
        careloop_ops::case_id("north", "p1", "frequent_ed", 1),
        careloop_ops::case_id("north", "p1", "dormant", 2),
        // The parts are length-prefixed: moving a boundary gives another id.
        careloop_ops::case_id("north", "p1d", "ormant", 1),
    ] {
        assert_ne!(id, other);
    }
}

#[test]
fn lookups_of_unknown_items_say_which_id() {
    let policy = Policy::default();
    let state = state(&policy);
    let err = decide::document_callback(&state, id(5), "ok", "none", true).unwrap_err();
    assert_eq!(err.to_string(), format!("no callback {}", id(5)));
    let err =
        decide::update_referral(&state, id(6), ReferralStatus::Accepted, "", None).unwrap_err();
    assert_eq!(err.to_string(), format!("no referral {}", id(6)));
    let err = decide::close(&state, id(7), CloseReason::Stable, None).unwrap_err();
    assert_eq!(err.to_string(), format!("no case {}", id(7)));
}

/// Two workstations open the same case (same team, person, segment, episode) without
/// having seen each other's opening: the server's order folds it as one case, the second
/// opening changes nothing and is not reported as superseded, and the work on the case
/// from either workstation applies to it. After it closes, the next opening is episode 2.
#[test]
fn the_same_case_opened_twice_is_one_case() {
    use careloop_ops::sync::{Envelope, Fold};
    let policy = Policy::default();
    let case_id = careloop_ops::case_id("north", "p1", "dormant", 1);
    let open = OpEvent::CaseOpened {
        case_id,
        segment_id: "dormant".into(),
        priority: 3,
        due: t("2026-07-02T17:00:00Z"),
        summary: "dormant".into(),
    };
    let recorded = |n: u128, actor: &str, role: Role, event: OpEvent| Recorded {
        id: id(n),
        at: t(MONDAY),
        actor: actor.into(),
        role,
        patient_id: "p1".into(),
        event,
    };
    let log = [
        recorded(1, "ana", Role::Coordinator, open.clone()),
        recorded(2, "ben", Role::Coordinator, open),
        recorded(
            3,
            "ben",
            Role::Coordinator,
            OpEvent::CaseClaimed { case_id },
        ),
    ];
    let mut state = OpsState::default();
    let mut fold = Fold::default();
    let applied: Vec<bool> = log
        .iter()
        .map(|r| {
            fold.apply(
                &mut state,
                Envelope::Op {
                    recorded: r,
                    after: None,
                },
                &policy,
            )
        })
        .collect();
    assert_eq!(applied, [true, false, true]);
    assert_eq!(state.cases.len(), 1);
    assert_eq!(state.cases[&case_id].owner.as_deref(), Some("ben"));
    assert!(fold.superseded.is_empty(), "{:?}", fold.superseded);
    assert!(fold.conflicts.is_empty());
    assert_eq!(state.episodes("p1", "dormant"), 1);
}
