//! Property tests of the case, callback, escalation and referral state machines: random
//! sequences of valid and invalid actions over a small universe of people, segments and ids
//! (so that actions often hit the wrong state, an unknown id or a closed case).
//!
//! Checked after every sequence: a refused action changed nothing; the state kept
//! incrementally equals the state folded from the accepted log; no illegal state is
//! reachable (one open case per person and segment, nothing pending on a closed case,
//! statuses consistent with what is pending, "unreachable" only after enough attempts,
//! referral histories in lifecycle order).

use careloop_ops::events::{Attempt, NextAction, OpEvent, Recorded};
use careloop_ops::model::*;
use careloop_ops::state::{OpsState, Policy};
use chrono::{DateTime, Duration, TimeZone, Utc};
use proptest::prelude::*;
use uuid::Uuid;

const PEOPLE: &[&str] = &["p1", "p2", "p3"];
const SEGMENTS: &[&str] = &["dormant", "post_discharge_followup"];

fn id(n: u8) -> Uuid {
    Uuid::from_u128(0x1000 + n as u128)
}

#[derive(Clone, Debug)]
enum Action {
    Open {
        case: u8,
        person: usize,
        segment: usize,
    },
    Claim {
        case: u8,
        actor: usize,
    },
    Assign {
        case: u8,
        to: usize,
    },
    Attempt {
        case: u8,
        attempt: u8,
        reached: bool,
        outcome: usize,
        next: usize,
    },
    RequestCallback {
        case: u8,
        callback: u8,
    },
    DocumentCallback {
        case: u8,
        callback: u8,
        signed: bool,
    },
    Escalate {
        case: u8,
        escalation: u8,
    },
    Acknowledge {
        case: u8,
        escalation: u8,
    },
    Resolve {
        case: u8,
        escalation: u8,
    },
    Refer {
        case: u8,
        referral: u8,
    },
    UpdateReferral {
        case: u8,
        referral: u8,
        status: usize,
        with_details: bool,
    },
    Close {
        case: u8,
        reason: usize,
    },
}

fn action() -> impl Strategy<Value = Action> {
    let case = 0u8..4;
    let small = 0u8..4;
    prop_oneof![
        (case.clone(), 0..PEOPLE.len(), 0..SEGMENTS.len()).prop_map(|(case, person, segment)| {
            Action::Open {
                case,
                person,
                segment,
            }
        }),
        (case.clone(), 0usize..2).prop_map(|(case, actor)| Action::Claim { case, actor }),
        (case.clone(), 0usize..2).prop_map(|(case, to)| Action::Assign { case, to }),
        (
            case.clone(),
            0u8..12,
            any::<bool>(),
            0..Outcome::ALL.len(),
            0usize..3
        )
            .prop_map(|(case, attempt, reached, outcome, next)| Action::Attempt {
                case,
                attempt,
                reached,
                outcome,
                next
            }),
        (case.clone(), small.clone())
            .prop_map(|(case, callback)| Action::RequestCallback { case, callback }),
        (case.clone(), small.clone(), any::<bool>()).prop_map(|(case, callback, signed)| {
            Action::DocumentCallback {
                case,
                callback,
                signed,
            }
        }),
        (case.clone(), small.clone())
            .prop_map(|(case, escalation)| Action::Escalate { case, escalation }),
        (case.clone(), small.clone())
            .prop_map(|(case, escalation)| Action::Acknowledge { case, escalation }),
        (case.clone(), small.clone())
            .prop_map(|(case, escalation)| Action::Resolve { case, escalation }),
        (case.clone(), small.clone()).prop_map(|(case, referral)| Action::Refer { case, referral }),
        (
            case.clone(),
            small.clone(),
            0..ReferralStatus::ALL.len(),
            any::<bool>()
        )
            .prop_map(
                |(case, referral, status, with_details)| Action::UpdateReferral {
                    case,
                    referral,
                    status,
                    with_details
                }
            ),
        (case, 0..CloseReason::ALL.len()).prop_map(|(case, reason)| Action::Close { case, reason }),
    ]
}

/// The event for an action; the person is the one the case was opened for when known (so
/// most events are about the right person), else p1.
fn event(action: &Action, n: usize, state: &OpsState) -> Recorded {
    let case_of = |case: u8| id(case);
    let person_of = |case: u8| {
        state
            .cases
            .get(&case_of(case))
            .map_or("p1".to_owned(), |c| c.patient_id.clone())
    };
    let at: DateTime<Utc> =
        Utc.with_ymd_and_hms(2026, 11, 2, 9, 0, 0).unwrap() + Duration::hours(n as i64);
    let (patient_id, event) = match action.clone() {
        Action::Open {
            case,
            person,
            segment,
        } => (
            PEOPLE[person].to_owned(),
            OpEvent::CaseOpened {
                case_id: case_of(case),
                segment_id: SEGMENTS[segment].to_owned(),
                priority: n as i32 % 7,
                due: at + Duration::days(2),
                summary: "on the list".into(),
            },
        ),
        Action::Claim { case, .. } => (
            person_of(case),
            OpEvent::CaseClaimed {
                case_id: case_of(case),
            },
        ),
        Action::Assign { case, to } => (
            person_of(case),
            OpEvent::CaseAssigned {
                case_id: case_of(case),
                to: ["ana", "ben"][to].into(),
            },
        ),
        Action::Attempt {
            case,
            attempt,
            reached,
            outcome,
            next,
        } => (
            person_of(case),
            OpEvent::AttemptRecorded(Attempt {
                attempt_id: Uuid::from_u128(0x2000 + attempt as u128),
                case_id: case_of(case),
                channel: Channel::Phone,
                reached,
                script_id: "post_discharge".into(),
                script_version: 1,
                language: "en".into(),
                message_id: None,
                answers: Default::default(),
                outcome: Outcome::ALL[outcome],
                next: match next {
                    0 => NextAction::FollowUp {
                        on: at.date_naive() + Duration::days(3),
                    },
                    1 => NextAction::ClinicianCallback {
                        reason: "symptoms".into(),
                    },
                    _ => NextAction::Close {
                        reason: CloseReason::Stable,
                    },
                },
                contact_limit_override: None,
                note: None,
            }),
        ),
        Action::RequestCallback { case, callback } => (
            person_of(case),
            OpEvent::CallbackRequested {
                callback_id: Uuid::from_u128(0x3000 + callback as u128),
                case_id: case_of(case),
                reason: "symptoms".into(),
                due: at + Duration::hours(4),
            },
        ),
        Action::DocumentCallback {
            case,
            callback,
            signed,
        } => (
            person_of(case),
            OpEvent::CallbackDocumented {
                callback_id: Uuid::from_u128(0x3000 + callback as u128),
                case_id: case_of(case),
                clinical_outcome: "reviewed".into(),
                next_step: "continue".into(),
                decision_support_reviewed: signed,
            },
        ),
        Action::Escalate { case, escalation } => (
            person_of(case),
            OpEvent::EscalationRaised {
                escalation_id: Uuid::from_u128(0x4000 + escalation as u128),
                case_id: case_of(case),
                kind: EscalationKind::SocialCrisis,
                note: "eviction".into(),
            },
        ),
        Action::Acknowledge { case, escalation } => (
            person_of(case),
            OpEvent::EscalationAcknowledged {
                escalation_id: Uuid::from_u128(0x4000 + escalation as u128),
                case_id: case_of(case),
                note: String::new(),
            },
        ),
        Action::Resolve { case, escalation } => (
            person_of(case),
            OpEvent::EscalationResolved {
                escalation_id: Uuid::from_u128(0x4000 + escalation as u128),
                case_id: case_of(case),
                note: String::new(),
            },
        ),
        Action::Refer { case, referral } => (
            person_of(case),
            OpEvent::ReferralSent {
                referral_id: Uuid::from_u128(0x5000 + referral as u128),
                case_id: case_of(case),
                service: ServiceType::Meals,
                note: String::new(),
                partner: None,
            },
        ),
        Action::UpdateReferral {
            case,
            referral,
            status,
            with_details,
        } => (
            person_of(case),
            OpEvent::ReferralUpdated {
                referral_id: Uuid::from_u128(0x5000 + referral as u128),
                case_id: case_of(case),
                status: ReferralStatus::ALL[status],
                note: if with_details {
                    "details".into()
                } else {
                    String::new()
                },
                on: with_details.then(|| at.date_naive()),
            },
        ),
        Action::Close { case, reason } => (
            person_of(case),
            OpEvent::CaseClosed {
                case_id: case_of(case),
                reason: CloseReason::ALL[reason],
                note: None,
            },
        ),
    };
    let actor = match action {
        Action::Claim { actor, .. } => ["ana", "ben"][*actor],
        _ => "ana",
    };
    Recorded {
        id: Uuid::from_u128(0x9000_0000 + n as u128),
        at,
        actor: actor.into(),
        role: Role::Coordinator,
        patient_id,
        event,
    }
}

fn check_invariants(state: &OpsState, policy: &Policy) -> Result<(), TestCaseError> {
    let mut open = std::collections::BTreeSet::new();
    for case in state.cases.values() {
        let pending_callback = case
            .callbacks
            .iter()
            .any(|c| state.callbacks[c].status == CallbackStatus::Waiting);
        let pending_escalation = case
            .escalations
            .iter()
            .any(|e| state.escalations[e].status != EscalationStatus::Resolved);
        let awaiting_referral = case
            .referrals
            .iter()
            .any(|r| state.referrals[r].status == ReferralStatus::Sent);
        if case.status == CaseStatus::Closed {
            prop_assert!(case.closed_reason.is_some());
            prop_assert!(!pending_callback && !pending_escalation && !awaiting_referral);
            // A closed case no longer blocks a new one for the person in the segment.
            if let Some(open) = state.open_case(&case.patient_id, &case.segment_id) {
                prop_assert!(open.case_id != case.case_id && open.status != CaseStatus::Closed);
            }
            if case.closed_reason == Some(CloseReason::Unreachable) {
                prop_assert!(case.attempts >= policy.unreachable_after);
            }
        } else {
            prop_assert!(
                open.insert((case.patient_id.clone(), case.segment_id.clone())),
                "two open cases for one person in one segment"
            );
            prop_assert_eq!(
                state
                    .open_case(&case.patient_id, &case.segment_id)
                    .map(|c| c.case_id),
                Some(case.case_id)
            );
            if pending_callback {
                prop_assert_eq!(case.status, CaseStatus::AwaitingCallback);
            } else if pending_escalation {
                prop_assert_eq!(case.status, CaseStatus::Escalated);
            }
        }
        if case.attempts > 0 {
            prop_assert!(case.owner.is_some(), "an attempt on a case nobody owned");
        }
        if case.status == CaseStatus::Open {
            prop_assert!(case.owner.is_none() && case.attempts == 0);
        }
    }
    for referral in state.referrals.values() {
        let order: Vec<ReferralStatus> = referral.history.iter().map(|s| s.status).collect();
        use ReferralStatus::*;
        let legal = [
            vec![Sent],
            vec![Sent, Accepted],
            vec![Sent, Declined],
            vec![Sent, Accepted, Started],
            vec![Sent, Accepted, Started, Completed],
        ];
        prop_assert!(legal.contains(&order), "referral history {:?}", order);
        prop_assert_eq!(Some(&referral.status), order.last());
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn folded_log_equals_incremental_state_and_no_illegal_state(actions in prop::collection::vec(action(), 1..80)) {
        let policy = Policy::default();
        let mut state = OpsState::default();
        let mut log = Vec::new();
        for (n, action) in actions.iter().enumerate() {
            let recorded = event(action, n, &state);
            let before = state.clone();
            match state.apply(&recorded, &policy) {
                Ok(()) => log.push(recorded),
                Err(_) => prop_assert_eq!(&state, &before, "a refused event changed the state"),
            }
            check_invariants(&state, &policy)?;
        }
        let folded = OpsState::from_log(&log, &policy).expect("an accepted log folds");
        prop_assert_eq!(folded, state);
    }
}

#[test]
fn lifecycle_moves_only_through_documented_actions() {
    let policy = Policy::default();
    let mut state = OpsState::default();
    let mut n = 0;
    let mut apply = |state: &mut OpsState, action: Action| {
        n += 1;
        let recorded = event(&action, n, state);
        state.apply(&recorded, &policy)
    };
    apply(
        &mut state,
        Action::Open {
            case: 0,
            person: 0,
            segment: 0,
        },
    )
    .unwrap();
    let case = || id(0);
    assert_eq!(state.cases[&case()].status, CaseStatus::Open);
    // No attempt before someone owns the case.
    let err = apply(
        &mut state,
        Action::Attempt {
            case: 0,
            attempt: 0,
            reached: true,
            outcome: 0,
            next: 0,
        },
    )
    .unwrap_err();
    assert!(
        err.to_string().contains("claim or assign it first"),
        "{err}"
    );
    // A second open case for the same person and segment is refused.
    let err = apply(
        &mut state,
        Action::Open {
            case: 1,
            person: 0,
            segment: 0,
        },
    )
    .unwrap_err();
    assert!(
        matches!(err, careloop_ops::OpsError::DuplicateOpenCase { .. }),
        "{err}"
    );
    apply(&mut state, Action::Claim { case: 0, actor: 0 }).unwrap();
    assert_eq!(state.cases[&case()].status, CaseStatus::Assigned);
    let err = apply(&mut state, Action::Claim { case: 0, actor: 1 }).unwrap_err();
    assert!(err.to_string().contains("already claimed by ana"), "{err}");
    apply(
        &mut state,
        Action::Attempt {
            case: 0,
            attempt: 0,
            reached: true,
            outcome: 1,
            next: 1,
        },
    )
    .unwrap();
    assert_eq!(state.cases[&case()].status, CaseStatus::InProgress);
    apply(
        &mut state,
        Action::RequestCallback {
            case: 0,
            callback: 0,
        },
    )
    .unwrap();
    assert_eq!(state.cases[&case()].status, CaseStatus::AwaitingCallback);
    let err = apply(&mut state, Action::Close { case: 0, reason: 0 }).unwrap_err();
    assert!(
        err.to_string().contains("still waiting for a clinician"),
        "{err}"
    );
    let err = apply(
        &mut state,
        Action::DocumentCallback {
            case: 0,
            callback: 0,
            signed: false,
        },
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("decision-support output was reviewed"),
        "{err}"
    );
    apply(
        &mut state,
        Action::DocumentCallback {
            case: 0,
            callback: 0,
            signed: true,
        },
    )
    .unwrap();
    assert_eq!(state.cases[&case()].status, CaseStatus::InProgress);
    // Unreachable needs three attempts.
    let unreachable = CloseReason::ALL
        .iter()
        .position(|r| *r == CloseReason::Unreachable)
        .unwrap();
    let err = apply(
        &mut state,
        Action::Close {
            case: 0,
            reason: unreachable,
        },
    )
    .unwrap_err();
    assert!(
        err.to_string().contains("needs 3 attempts; 1 so far"),
        "{err}"
    );
    apply(&mut state, Action::Close { case: 0, reason: 0 }).unwrap();
    assert_eq!(state.cases[&case()].status, CaseStatus::Closed);
    let err = apply(&mut state, Action::Claim { case: 0, actor: 1 }).unwrap_err();
    assert!(err.to_string().contains("the case is closed"), "{err}");
    // Closed: a new case for the same person and segment may open.
    apply(
        &mut state,
        Action::Open {
            case: 1,
            person: 0,
            segment: 0,
        },
    )
    .unwrap();
}
