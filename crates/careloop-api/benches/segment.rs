//! Segmentation benchmark on generated demo panels of 10,000 and 100,000 people: the panel
//! is generated and imported into an encrypted store (timed, the facts derived included), then
//! timed: opening the store and loading every patient's facts from the fact store (cold), the
//! same again (resident), evaluating every built-in segment for everyone (signal
//! derivation included), and recomputing one patient after a new fact. Peak memory (VmHWM) is
//! per scenario: each runs in its own process.
//!
//! `cargo bench -p careloop-api --bench segment [-- 10k | 100k]` (default: both).

mod common;

use std::collections::HashMap;
use std::time::Instant;

use careloop_segment::{builtin_catalog, engine};
use chrono::NaiveDate;

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    if let [scenario] = args.as_slice() {
        let n = match scenario.as_str() {
            "10k" => 10_000,
            "100k" => 100_000,
            other => panic!("unknown scenario {other} (10k or 100k)"),
        };
        run(n);
        return;
    }
    let me = std::env::current_exe().expect("the bench knows its path");
    for scenario in ["10k", "100k"] {
        let status = std::process::Command::new(&me)
            .arg(scenario)
            .status()
            .expect("the scenario runs");
        assert!(status.success(), "scenario {scenario} failed");
    }
}

fn run(patients: u32) {
    let as_of = NaiveDate::from_ymd_opt(2026, 6, 30).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = common::config(dir.path());
    // The import derives and stores everyone's facts (the fact store) as its last step.
    let (careloop, import_s) = common::demo_cache(dir.path(), &config, patients, as_of);
    drop(careloop);
    let rss_before = common::peak_rss_mib();

    // Cold: a new connection reads and decodes every stored person's facts.
    let loading = Instant::now();
    let mut careloop = careloop_api::Careloop::open(&config).unwrap();
    let panel = careloop.load_panel_for_benchmark().unwrap();
    let load_s = loading.elapsed().as_secs_f64();
    // Resident: the same call again finds the panel in memory and nothing stale.
    let again = Instant::now();
    let resident = careloop.load_panel_for_benchmark().unwrap();
    let resident_ms = again.elapsed().as_secs_f64() * 1000.0;
    assert_eq!(resident.len(), panel.len());

    let catalog = builtin_catalog().unwrap();
    let contacts = HashMap::new();
    let mut run_s = f64::MAX;
    let mut members = 0;
    for _ in 0..3 {
        let started = Instant::now();
        let cohorts = engine::run(&catalog, &panel, &contacts, as_of);
        run_s = run_s.min(started.elapsed().as_secs_f64());
        members = cohorts.iter().map(|c| c.members.len()).sum();
    }

    let started = Instant::now();
    let derived: Vec<_> = panel
        .iter()
        .map(|p| careloop_segment::signals::derive(p, &catalog.value_sets, as_of))
        .collect();
    let derive_s = started.elapsed().as_secs_f64();
    drop(derived);

    // One patient gets a new fact: re-read that patient's facts and re-evaluate them alone.
    let one = panel
        .iter()
        .max_by_key(|p| p.observations.len() + p.encounters.len())
        .unwrap()
        .clone();
    let iterations = 200;
    let started = Instant::now();
    for _ in 0..iterations {
        std::hint::black_box(engine::run(
            &catalog,
            std::slice::from_ref(&one),
            &contacts,
            as_of,
        ));
    }
    let one_ms = started.elapsed().as_secs_f64() * 1000.0 / iterations as f64;

    println!(
        "{patients:>6} patients, {} segments: evaluate {:.3} s (best of 3, {members} memberships; signal derivation alone, one thread: {derive_s:.3} s), open + load facts from the encrypted store {load_s:.2} s (resident again {resident_ms:.1} ms), one-patient recompute {one_ms:.3} ms, import with fact derivation {import_s:.1} s, peak RSS {:.0} MiB (before loading facts {rss_before:.0} MiB), cache {:.0} MB",
        catalog.segments.len(),
        run_s,
        common::peak_rss_mib(),
        common::dir_bytes(&dir.path().join("data")) as f64 / 1e6,
    );
}
