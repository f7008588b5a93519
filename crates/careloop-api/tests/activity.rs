//! The scripted-activity simulator on a generated demo panel in a real encrypted cache: four
//! weeks of outreach write every kind of event, one cohort run per Monday, nothing after the
//! last day, a few supervisor overrides of the contact limit and attempts on several
//! channels; the log folds to the same state when the cache is reopened; and the same plan
//! on another fresh cache does the same work.

mod common;
use common::config;

use std::collections::BTreeMap;
use std::path::Path;

use careloop_api::activity::{simulate, ActivityPlan, ActivityReport};
use careloop_api::{Careloop, Role, Session};
use chrono::{DateTime, NaiveDate, Utc};

const PATIENTS: u32 = 300;

/// 2026-06-28, a Sunday: the four weeks are those of June 1, 8, 15 and 22.
fn end() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 6, 28).unwrap()
}

fn last_instant() -> DateTime<Utc> {
    end().and_hms_opt(23, 59, 59).unwrap().and_utc()
}

fn supervisor() -> Session {
    Session {
        user: "sue".into(),
        role: Role::Supervisor,
        at: last_instant(),
    }
}

/// A fresh cache with the demo panel (dated up to the day after the last simulated day),
/// after four simulated weeks.
fn simulated(root: &Path) -> (Careloop, ActivityReport, Vec<(u32, u32)>) {
    let today = end().succ_opt().unwrap();
    let (mut careloop, _) =
        Careloop::open_for_desktop(&config(root), PATIENTS, today, &mut |_| {}).unwrap();
    let mut progress = Vec::new();
    let report = simulate(
        &mut careloop,
        &ActivityPlan::new(4, end()),
        &mut |done, of| progress.push((done, of)),
    )
    .unwrap();
    (careloop, report, progress)
}

/// Every case as (person, segment, status, owner, due, case id), in person and segment order.
fn cases(careloop: &mut Careloop) -> Vec<(String, String, String, Option<String>, String, String)> {
    let people = careloop
        .list_patients(&careloop_api::PatientQuery {
            text: None,
            offset: 0,
            limit: PATIENTS,
        })
        .unwrap();
    let mut cases = Vec::new();
    for person in people.rows {
        for c in careloop.cases_of_person(&supervisor(), &person.id).unwrap() {
            cases.push((
                person.id.clone(),
                c.segment_id,
                c.status,
                c.owner,
                c.due,
                c.case_id,
            ));
        }
    }
    cases.sort();
    cases
}

/// The events in the store, by kind.
fn stored_kinds(careloop: &mut Careloop) -> BTreeMap<String, u64> {
    let mut kinds = BTreeMap::new();
    for e in careloop.store_mut().events_after(0, u32::MAX).unwrap() {
        *kinds.entry(e.kind).or_default() += 1;
    }
    kinds
}

#[test]
fn four_weeks_of_outreach_write_every_kind_of_event_and_fold_back_the_same() {
    let root = tempfile::tempdir().unwrap();
    let (mut careloop, report, progress) = simulated(root.path());
    assert_eq!(progress, [(1, 4), (2, 4), (3, 4), (4, 4)]);
    assert_eq!(
        report.first_day,
        NaiveDate::from_ymd_opt(2026, 6, 1),
        "{report:#?}"
    );

    // Every kind of outreach event, as the report counts them and as the store holds them
    // (alerts come from new panel data, which the simulated weeks do not bring: see
    // tests/lists.rs; care plans are not simulated: see tests/careplans.rs).
    for kind in careloop_ops::events::KINDS {
        if !kind.starts_with("alert.") && !kind.starts_with("care_plan.") {
            assert!(report.events[*kind] > 0, "no {kind} event: {report:#?}");
        }
    }
    assert_eq!(report.events.len(), careloop_ops::events::KINDS.len());
    let stored = stored_kinds(&mut careloop);
    for (kind, n) in &report.events {
        assert_eq!(stored.get(kind).copied().unwrap_or(0), *n, "{kind}");
    }
    assert_eq!(stored.values().sum::<u64>(), report.events_total);

    // One cohort run per simulated Monday, by the supervisor, in the morning.
    let runs = careloop.cohort_runs().unwrap();
    let mondays: Vec<String> = runs.iter().map(|r| r.as_of.clone()).collect();
    assert_eq!(
        mondays,
        ["2026-06-01", "2026-06-08", "2026-06-15", "2026-06-22"]
    );
    assert_eq!(report.cohort_runs, 4);
    for run in &runs {
        assert_eq!(run.run_by, "sue");
        assert_eq!(run.run_at, format!("{}T08:30:00Z", run.as_of));
    }

    // Nothing after the last day: events, cohort runs, audit entries.
    let events = careloop.store_mut().events_after(0, u32::MAX).unwrap();
    let first = NaiveDate::from_ymd_opt(2026, 6, 1).unwrap();
    for e in &events {
        assert!(
            e.occurred_at <= last_instant(),
            "{} at {}",
            e.kind,
            e.occurred_at
        );
        assert!(
            e.occurred_at.date_naive() >= first,
            "{} at {}",
            e.kind,
            e.occurred_at
        );
    }
    assert!(
        events
            .windows(2)
            .all(|w| w[0].occurred_at <= w[1].occurred_at),
        "the log is in time order"
    );
    let audit = careloop.store_mut().audit_entries(0, u32::MAX).unwrap();
    assert!(audit.iter().all(|a| a.at <= last_instant()));

    // Overrides of the contact limit: by the supervisor, with a written reason, audited.
    assert!(report.contact_limit_overrides >= 1, "{report:#?}");
    let overrides: Vec<_> = events
        .iter()
        .filter(|e| !e.payload["event"]["contact_limit_override"].is_null())
        .collect();
    assert_eq!(overrides.len() as u32, report.contact_limit_overrides);
    for e in &overrides {
        assert_eq!(e.actor, "sue");
        assert_eq!(e.payload["role"], "supervisor");
        assert!(e.payload["event"]["contact_limit_override"]
            .as_str()
            .is_some_and(|r| r.len() > 20));
    }
    assert!(audit
        .iter()
        .any(|a| a.action == "attempt.record_with_contact_limit_override"));

    // Attempts on several channels, the written ones with a template the channel rule allows.
    assert!(report.attempts_by_channel.len() >= 4, "{report:#?}");
    assert!(report.reached > 0 && report.reached < report.attempts);
    assert!(report.cases_closed.len() >= 4, "{report:#?}");
    assert!(report.escalations_raised.len() >= 3, "{report:#?}");
    assert!(report.callbacks_documented_late > 0 || report.escalations_acknowledged_late > 0);
    println!("{}", serde_json::to_string_pretty(&report).unwrap());

    // The log folds: reopened, the cache derives the same cases and queues.
    let before = cases(&mut careloop);
    let queues = |c: &mut Careloop| {
        (
            c.callbacks(&supervisor(), true).unwrap(),
            c.escalations(&supervisor()).unwrap(),
            c.referrals(&supervisor()).unwrap(),
        )
    };
    let queues_before = queues(&mut careloop);
    assert!(before.len() as u32 >= report.cases_opened);
    drop(careloop);
    let mut reopened = Careloop::open(&config(root.path())).unwrap();
    assert_eq!(cases(&mut reopened), before);
    assert_eq!(queues(&mut reopened), queues_before);
    assert_eq!(stored_kinds(&mut reopened), stored);

    // Simulating weeks already in the log is refused (the log stays in time order); the next
    // week goes on from where the log ends.
    let err = simulate(&mut reopened, &ActivityPlan::new(1, end()), &mut |_, _| {}).unwrap_err();
    assert_eq!(err.code, careloop_api::ErrorCode::BadInput, "{err}");
    assert_eq!(stored_kinds(&mut reopened), stored);
    let next_week = ActivityPlan::new(1, end() + chrono::Duration::days(7));
    let more = simulate(&mut reopened, &next_week, &mut |_, _| {}).unwrap();
    assert_eq!(more.cohort_runs, 1);
    assert!(more.attempts > 0, "{more:#?}");
}

#[test]
fn the_same_plan_on_two_fresh_caches_does_the_same_work() {
    let (one, two) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (mut a, report_a, _) = simulated(one.path());
    let (mut b, report_b, _) = simulated(two.path());
    assert_eq!(report_a, report_b);
    // The same cases with the same statuses, owners and deadlines (ids differ: UUIDv7).
    let without_ids = |c: &mut Careloop| {
        cases(c)
            .into_iter()
            .map(|(p, s, status, owner, due, _)| (p, s, status, owner, due))
            .collect::<Vec<_>>()
    };
    assert_eq!(without_ids(&mut a), without_ids(&mut b));
    assert_eq!(stored_kinds(&mut a), stored_kinds(&mut b));
}
