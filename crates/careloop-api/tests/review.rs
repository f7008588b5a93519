//! The weekly review through the API on a generated demo panel in a real encrypted cache,
//! after eight scripted weeks of outreach: every table has non-trivial numbers; drill-downs
//! list the cases behind them; only supervisors may see, drill or export (refusals audited);
//! exports write CSV files and a PDF; the review is computed as of its week (later work is
//! invisible).

mod common;
use common::config;

use std::path::Path;

use careloop_api::activity::{simulate, ActivityPlan};
use careloop_api::review::{parse_week, ReviewFormat};
use careloop_api::{Careloop, ErrorCode, Role, Session};
use chrono::{NaiveDate, Utc};

const PATIENTS: u32 = 400;

/// Sunday 2026-06-28: the simulated weeks end with 2026-W26.
fn end() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 6, 28).unwrap()
}

fn session(user: &str, role: Role) -> Session {
    Session {
        user: user.into(),
        role,
        at: "2026-06-29T08:00:00Z"
            .parse::<chrono::DateTime<Utc>>()
            .unwrap(),
    }
}

fn simulated(root: &Path) -> Careloop {
    let today = end().succ_opt().unwrap();
    let (mut careloop, _) =
        Careloop::open_for_desktop(&config(root), PATIENTS, today, &mut |_| {}).unwrap();
    simulate(&mut careloop, &ActivityPlan::new(8, end()), &mut |_, _| {}).unwrap();
    careloop
}

#[test]
fn a_simulated_demo_week_shows_non_trivial_numbers_on_every_table() {
    let root = tempfile::tempdir().unwrap();
    let mut careloop = simulated(root.path());
    let sue = session("sue", Role::Supervisor);
    let week = parse_week("2026-W26").unwrap();
    let r = careloop.weekly_review(&sue, week).unwrap();

    assert_eq!(
        (r.starts.as_str(), r.ends.as_str()),
        ("2026-06-22", "2026-06-28")
    );
    let run = r.run.as_ref().expect("a run in the week");
    assert_eq!(run.as_of, "2026-06-22");
    assert_eq!(r.previous_run.as_ref().unwrap().as_of, "2026-06-15");
    // Cohorts: sizes, movement both ways, placements, contacts against capacity.
    assert!(r.segments.iter().any(|s| s.size > 0));
    assert!(r.segments.iter().any(|s| !s.entered.is_empty()));
    assert!(r.segments.iter().any(|s| !s.exited.is_empty()));
    assert!(r.segments.iter().any(|s| s.worklist > 0));
    assert!(r
        .segments
        .iter()
        .any(|s| s.contacted > 0 && s.capacity_use.is_some()));
    assert!(r.trend.len() >= 8, "one point per simulated Monday");
    // Pending work and caseloads.
    let p = &r.pending;
    assert!(
        !p.overdue_cases.is_empty()
            || !p.unacknowledged_escalations.is_empty()
            || !p.overdue_referrals.is_empty()
            || !p.waiting_callbacks.is_empty()
    );
    assert!(r
        .caseload
        .iter()
        .any(|c| c.open_cases > 0 && c.attempts > 0));
    // Equity: every dimension, shares and ratios, for cohorts and the people contacted.
    // The panel: everyone alive at the end of the week (the demo has a few deceased people).
    assert!(
        (PATIENTS - 20..PATIENTS).contains(&r.equity.panel_size),
        "{}",
        r.equity.panel_size
    );
    for dimension in careloop_review::DIMENSIONS {
        assert!(
            r.equity
                .rows
                .iter()
                .any(|e| e.dimension == dimension && e.ratio.is_some() && e.count > 0),
            "{dimension}"
        );
    }
    assert!(r
        .equity
        .rows
        .iter()
        .any(|e| e.segment_id == "all" && e.population == "contacted" && e.count > 0));
    // Race and ethnicity are read from the demo's US Core extensions, not all "unknown".
    assert!(r
        .equity
        .rows
        .iter()
        .any(|e| e.dimension == "race" && e.group != "unknown" && e.panel_count > 0));
    // Over-contact: a distribution, and the simulated supervisor overrides.
    assert!(r.contacts.per_week.iter().any(|b| b.people > 0));
    assert!(
        r.contacts.per_month.iter().map(|b| b.people).sum::<u32>()
            >= r.contacts.per_week.iter().map(|b| b.people).sum::<u32>()
    );
    // Outcomes.
    assert!(r.closure.iter().any(|c| c.outreached > 0));
    assert!(
        r.closure.iter().any(|c| c.horizons[0].eligible > 0),
        "8 weeks give 30-day windows that have ended"
    );
    assert!(!r.closure_curve.is_empty());
    assert!(r
        .response_by_channel
        .iter()
        .any(|x| x.attempts_week > 0 && x.rate_week.is_some()));
    assert!(r.response_by_segment.iter().any(|x| x.attempts_to_date > 0));
    assert!(r.retention.iter().any(|x| x.contacted > 0));
    let first = r
        .timeliness
        .iter()
        .find(|t| t.measure == "first_attempt")
        .unwrap();
    assert!(first.started > 0 && first.answered > 0 && first.median_hours.is_some());
    assert!(r.timeliness.iter().filter(|t| t.started > 0).count() >= 2);

    // Drill-downs answer from the review just computed, and name real cases.
    let seg = r.segments.iter().find(|s| s.size > 0).unwrap();
    let rows = careloop.review_drill(&sue, week, &seg.drill).unwrap();
    assert_eq!(rows.len() as u32, seg.size);
    let caseload = &r.caseload[0];
    let owned = careloop.review_drill(&sue, week, &caseload.drill).unwrap();
    assert_eq!(owned.len() as u32, caseload.open_cases);
    assert!(owned
        .iter()
        .all(|o| o.owner.as_deref() == Some(caseload.user.as_str())));
    let err = careloop
        .review_drill(&sue, week, "no:such:key")
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::NotFound);

    // Exports: one CSV per table, and a PDF.
    let out = tempfile::tempdir().unwrap();
    let csv = careloop
        .export_review(&sue, week, ReviewFormat::Csv, &out.path().join("csv"))
        .unwrap();
    assert_eq!(csv.len(), careloop_api::review::tables(&r).len());
    let segments = std::fs::read_to_string(out.path().join("csv/2026-W26-segments.csv")).unwrap();
    assert!(segments.starts_with("segment,name,size,"));
    // No folder is made on the way: the PDF goes into an existing one.
    let err = careloop
        .export_review(
            &sue,
            week,
            ReviewFormat::Pdf,
            &out.path().join("new/review.pdf"),
        )
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::Io);
    assert!(err.message.contains("does not exist"), "{err}");
    assert!(!out.path().join("new").exists());
    let pdf = careloop
        .export_review(
            &sue,
            week,
            ReviewFormat::Pdf,
            &out.path().join("review.pdf"),
        )
        .unwrap();
    let bytes = std::fs::read(&pdf[0]).unwrap();
    assert!(bytes.starts_with(b"%PDF-1.7") && bytes.len() > 10_000);

    // The same review as JSON: what the screen gets, and it parses back.
    let json = out.path().join("review.json");
    careloop
        .export_review(&sue, week, ReviewFormat::Json, &json)
        .unwrap();
    let text = std::fs::read_to_string(json).unwrap();
    assert_eq!(text, serde_json::to_string_pretty(&r).unwrap());
    let back: careloop_api::review::WeeklyReview = serde_json::from_str(&text).unwrap();
    assert_eq!((back.week, back.segments.len()), (r.week, r.segments.len()));
}

#[test]
fn only_supervisors_see_the_review_and_every_reading_is_audited() {
    let root = tempfile::tempdir().unwrap();
    let mut careloop = simulated(root.path());
    let week = parse_week("2026-W26").unwrap();
    let head = |c: &mut Careloop| {
        c.audit_head(&session("sue", Role::Supervisor))
            .unwrap()
            .unwrap()
            .seq
    };
    for role in [Role::Coordinator, Role::Clinician, Role::Admin] {
        let before = head(&mut careloop);
        let who = session("someone", role);
        assert_eq!(
            careloop.weekly_review(&who, week).unwrap_err().code,
            ErrorCode::Forbidden
        );
        assert_eq!(
            careloop
                .review_drill(&who, week, "pending:callbacks")
                .unwrap_err()
                .code,
            ErrorCode::Forbidden
        );
        let out = tempfile::tempdir().unwrap();
        let path = out.path().join("r.pdf");
        assert_eq!(
            careloop
                .export_review(&who, week, ReviewFormat::Pdf, &path)
                .unwrap_err()
                .code,
            ErrorCode::Forbidden
        );
        assert!(!path.exists(), "nothing written for a refused export");
        // Three refusals, three audit entries (audit_head itself reads as a supervisor and
        // is audited too).
        assert!(head(&mut careloop) >= before + 3);
    }
    let before = head(&mut careloop);
    careloop
        .weekly_review(&session("sue", Role::Supervisor), week)
        .unwrap();
    assert!(
        head(&mut careloop) > before,
        "reading the review is audited"
    );
    let report = careloop
        .verify_audit(&session("sue", Role::Supervisor), None)
        .unwrap();
    assert!(report.problems.is_empty(), "{report:?}");
}

#[test]
fn a_review_sees_only_what_happened_before_its_week_ended() {
    let root = tempfile::tempdir().unwrap();
    let mut careloop = simulated(root.path());
    let sue = session("sue", Role::Supervisor);
    let earlier = careloop
        .weekly_review(&sue, parse_week("2026-W23").unwrap())
        .unwrap();
    let later = careloop
        .weekly_review(&sue, parse_week("2026-W26").unwrap())
        .unwrap();
    // Three weeks later there are more attempts to date, and the trend is longer.
    let to_date = |r: &careloop_api::review::WeeklyReview| {
        r.response_by_channel
            .iter()
            .map(|x| x.attempts_to_date)
            .sum::<u32>()
    };
    assert!(to_date(&later) > to_date(&earlier));
    assert_eq!(later.trend.len(), earlier.trend.len() + 3);
    // A week before any activity: empty, not an error.
    let before = careloop
        .weekly_review(&sue, parse_week("2025-W01").unwrap())
        .unwrap();
    assert!(before.run.is_none() && before.caseload.is_empty());
    assert!(before
        .timeliness
        .iter()
        .all(|t| t.started == 0 && t.rate_within.is_none()));
    // What the review keeps from the facts is dropped on import: new people count.
    let panel = root.path().join("more");
    careloop_api::write_demo_panel(&panel, 20, 7, end()).unwrap();
    careloop.import(&[panel], false, &mut |_| {}).unwrap();
    let grown = careloop
        .weekly_review(&sue, parse_week("2026-W26").unwrap())
        .unwrap();
    assert!(grown.equity.panel_size > later.equity.panel_size);
    // A malformed week is a clear error.
    let e = parse_week("2026-26").unwrap_err();
    assert_eq!(e.code, ErrorCode::BadInput);
    assert!(e.message.contains("2026-26"), "{}", e.message);
}
