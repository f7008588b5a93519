//! Worklist benchmark: a generated panel (default 100,000 people) is imported into an
//! encrypted store and cases are opened from every segment's worklist with capacity lifted
//! (not timed); one coordinator claims the first CASES of them (default 5,000). Timed: the
//! coordinator's worklist (ordered, with explanation summary, language, suggestion), the
//! unassigned pool, and folding the whole event log when the cache is reopened.
//!
//! `cargo bench -p careloop-api --bench worklist [-- PATIENTS CASES]`

mod common;

use std::time::Instant;

use careloop_api::{Careloop, Role, Session, WorklistFilter};
use chrono::{NaiveDate, TimeZone, Utc};

fn main() {
    let args: Vec<u32> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .filter_map(|a| a.parse().ok())
        .collect();
    let patients = args.first().copied().unwrap_or(100_000);
    let cases = args.get(1).copied().unwrap_or(5_000) as usize;
    let as_of = NaiveDate::from_ymd_opt(2026, 6, 30).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = common::config(dir.path());
    let (mut careloop, _) = common::demo_cache(dir.path(), &config, patients, as_of);

    // Every built-in segment with its capacity lifted, so that the worklists hold everyone.
    let definitions = dir.path().join("definitions");
    std::fs::create_dir_all(&definitions).unwrap();
    let builtin = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../schema/segments");
    for entry in std::fs::read_dir(builtin).unwrap() {
        let path = entry.unwrap().path();
        let mut json: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        json["weekly_capacity"] = serde_json::json!(1_000_000);
        std::fs::write(
            definitions.join(path.file_name().unwrap()),
            json.to_string(),
        )
        .unwrap();
    }
    let at = Utc.with_ymd_and_hms(2026, 7, 1, 9, 0, 0).unwrap();
    let sue = Session {
        user: "sue".into(),
        role: Role::Supervisor,
        at,
    };
    let ana = Session {
        user: "ana".into(),
        role: Role::Coordinator,
        at,
    };
    careloop
        .set_policy(careloop_ops_policy(cases as u32))
        .unwrap();
    let opened = careloop
        .open_cases(&sue, as_of, Some(&definitions))
        .unwrap();
    let pool = careloop
        .worklist(
            &ana,
            &WorklistFilter {
                owner: Some(String::new()),
                ..Default::default()
            },
        )
        .unwrap();
    let started = Instant::now();
    for row in pool.iter().take(cases) {
        careloop
            .claim_case(&ana, row.case_id.parse().unwrap())
            .unwrap();
    }
    let claim_ms = started.elapsed().as_secs_f64() * 1000.0 / cases.min(pool.len()) as f64;

    let time = |careloop: &mut Careloop, filter: &WorklistFilter| {
        let mut runs = Vec::new();
        let mut rows = 0;
        for _ in 0..21 {
            let started = Instant::now();
            rows = careloop.worklist(&ana, filter).unwrap().len();
            runs.push(started.elapsed().as_secs_f64() * 1000.0);
        }
        runs.sort_by(|a, b| a.partial_cmp(b).unwrap());
        (rows, runs[runs.len() / 2], runs[runs.len() - 1])
    };
    let (mine, mine_p50, mine_max) = time(&mut careloop, &WorklistFilter::default());
    let (pooled, pool_p50, pool_max) = time(
        &mut careloop,
        &WorklistFilter {
            owner: Some(String::new()),
            ..Default::default()
        },
    );
    let (paged, page_p50, page_max) = time(
        &mut careloop,
        &WorklistFilter {
            owner: Some(String::new()),
            limit: Some(200),
            ..Default::default()
        },
    );
    let events = careloop.stats().unwrap().events;
    drop(careloop);
    let started = Instant::now();
    let mut reopened = Careloop::open(&config).unwrap();
    reopened
        .set_policy(careloop_ops_policy(cases as u32))
        .unwrap();
    let fold_s = started.elapsed().as_secs_f64();
    println!(
        "{patients} patients, {} cases opened: coordinator worklist of {mine} cases p50 {mine_p50:.1} ms (max {mine_max:.1} ms of 21); unassigned pool of {pooled} cases p50 {pool_p50:.1} ms (max {pool_max:.1} ms), its first page of {paged} p50 {page_p50:.1} ms (max {page_max:.1} ms); claim {claim_ms:.2} ms each; reopen and fold {events} events {fold_s:.2} s",
        opened.opened
    );
}

fn careloop_ops_policy(caseload: u32) -> careloop_api::Policy {
    careloop_api::Policy {
        caseload_per_coordinator: caseload,
        ..careloop_api::Policy::default()
    }
}
