//! Simulated-activity benchmark: a generated panel (default 100,000 people) is imported into
//! an encrypted store (not timed), then WEEKS (default 52) of outreach work are simulated
//! through the API (`careloop_api::activity`, the default plan: seed 42, three coordinators
//! unless COORDINATORS says more) ending on 2026-06-28. The work done is bounded by the
//! coordinators' caseloads (and the segments' weekly capacities), not by the panel's size. Timed: the whole simulation (the panel's facts are loaded once, then
//! a segmentation run and cases opened every Monday and the week's work), with the first
//! week (which includes loading the facts) and the slowest week apart; then reopening the
//! cache and folding the log. Printed: wall times, events written, cohort runs, cache size
//! and peak RSS (VmHWM). Progress goes to stderr every 4 weeks.
//!
//! Then the weekly review of the last simulated week on the reopened cache: computed cold
//! (gathering the groups of the whole panel, the facts of everyone contacted, the log and the
//! cohort history), then the same week again (kept in memory), another week, a drill-down, the
//! PDF and the CSV export.
//!
//! `cargo bench -p careloop-api --bench activity [-- PATIENTS WEEKS [COORDINATORS]]`

mod common;

use std::time::Instant;

use careloop_api::activity::{simulate, ActivityPlan};
use careloop_api::Careloop;
use chrono::NaiveDate;

fn main() {
    let args: Vec<u32> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .filter_map(|a| a.parse().ok())
        .collect();
    let patients = args.first().copied().unwrap_or(100_000);
    let weeks = args.get(1).copied().unwrap_or(52);
    let coordinators = args.get(2).copied().unwrap_or(3) as usize;
    let end = NaiveDate::from_ymd_opt(2026, 6, 28).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = common::config(dir.path());
    let started = Instant::now();
    let (mut careloop, _) =
        common::demo_cache(dir.path(), &config, patients, end.succ_opt().unwrap());
    let setup_s = started.elapsed().as_secs_f64();
    let rss_before = common::peak_rss_mib();

    let mut plan = ActivityPlan::new(weeks, end);
    let extra = coordinators.saturating_sub(plan.coordinators.len());
    plan.coordinators.truncate(coordinators.max(1));
    plan.coordinators
        .extend((0..extra).map(|n| format!("coordinator{}", n + 4)));
    let started = Instant::now();
    let mut last = 0.0;
    let mut first_week = 0.0;
    let mut slowest = (0.0, 0);
    let report = simulate(&mut careloop, &plan, &mut |done, of| {
        let now = started.elapsed().as_secs_f64();
        let week = now - last;
        last = now;
        if done == 1 {
            first_week = week;
        } else if week > slowest.0 {
            slowest = (week, done);
        }
        if done % 4 == 0 || done == of {
            eprintln!("week {done}/{of}: {now:.1} s");
        }
    })
    .unwrap();
    let simulate_s = started.elapsed().as_secs_f64();
    let events = careloop.stats().unwrap().events;
    drop(careloop);

    let started = Instant::now();
    let mut reopened = Careloop::open(&config).unwrap();
    // Folding the log happens on first use of the operations.
    reopened
        .set_policy(careloop_api::Policy::default())
        .unwrap();
    let fold_s = started.elapsed().as_secs_f64();

    let sue = careloop_api::Session {
        user: "sue".into(),
        role: careloop_api::Role::Supervisor,
        at: end
            .succ_opt()
            .unwrap()
            .and_hms_opt(8, 0, 0)
            .unwrap()
            .and_utc(),
    };
    let week = careloop_api::review::week_of(end);
    let started = Instant::now();
    let review = reopened.weekly_review(&sue, week).unwrap();
    let review_cold_s = started.elapsed().as_secs_f64();
    let started = Instant::now();
    reopened.weekly_review(&sue, week).unwrap();
    let review_warm_ms = started.elapsed().as_secs_f64() * 1e3;
    let started = Instant::now();
    reopened
        .weekly_review(
            &sue,
            careloop_api::review::week_of(end - chrono::Duration::days(91)),
        )
        .unwrap();
    let review_other_s = started.elapsed().as_secs_f64();
    reopened.weekly_review(&sue, week).unwrap();
    let biggest = review.segments.iter().max_by_key(|s| s.size).unwrap();
    let started = Instant::now();
    let rows = reopened.review_drill(&sue, week, &biggest.drill).unwrap();
    let drill_ms = started.elapsed().as_secs_f64() * 1e3;
    let started = Instant::now();
    let pdf = careloop_review::pdf::render(&review);
    let pdf_ms = started.elapsed().as_secs_f64() * 1e3;
    let started = Instant::now();
    let csv = careloop_review::export::write_csv_dir(&review, &dir.path().join("csv")).unwrap();
    let csv_ms = started.elapsed().as_secs_f64() * 1e3;
    let attempts: u32 = review
        .response_by_channel
        .iter()
        .map(|r| r.attempts_to_date)
        .sum();
    println!(
        "weekly review {week} ({} segments, {} equity rows, {attempts} attempts to date, panel {}): cold {review_cold_s:.1} s, same week again {review_warm_ms:.1} ms, a week 13 weeks earlier {review_other_s:.1} s; drill-down into the largest cohort ({} rows) {drill_ms:.1} ms; PDF {pdf_ms:.0} ms ({:.0} KB); CSV {csv_ms:.0} ms ({} files)",
        review.segments.len(),
        review.equity.rows.len(),
        review.equity.panel_size,
        rows.len(),
        pdf.len() as f64 / 1e3,
        csv.len(),
    );

    println!(
        "{patients} patients, {weeks} weeks ({} to {end}), {} coordinators: simulated in {simulate_s:.1} s (first week, loading the panel's facts included, {first_week:.1} s; slowest other week {:.1} s, week {}); {} events written ({} attempts, {} cases opened, {} closed, {} contact-limit overrides, {} refused), {events} in the log, {} cohort runs; reopen and fold the log {fold_s:.2} s; peak RSS {:.0} MiB (after import {rss_before:.0} MiB); cache {:.0} MB; panel generation and import {setup_s:.0} s",
        plan.first_day(),
        plan.coordinators.len(),
        slowest.0,
        slowest.1,
        report.events_total,
        report.attempts,
        report.cases_opened,
        report.cases_closed.values().sum::<u32>(),
        report.contact_limit_overrides,
        report.refused,
        report.cohort_runs,
        common::peak_rss_mib(),
        common::dir_bytes(&dir.path().join("data")) as f64 / 1e6,
    );
}
