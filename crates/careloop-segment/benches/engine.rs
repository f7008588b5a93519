//! Segmentation of a generated demo panel in memory (no store): every built-in segment for
//! everyone, signal derivation included. The panel is generated and read into facts first
//! (not timed); then `engine::run` is timed on every core and on one thread, best of five,
//! and on the busiest patient alone (a recompute after a new fact), mean of 1,000.
//!
//! `cargo bench -p careloop-segment --bench engine [-- PATIENTS]` (default 20,000).

use std::collections::HashMap;
use std::time::Instant;

use careloop_segment::facts::EngagementFact;
use careloop_segment::{builtin_catalog, engine, PatientFacts, SharedFacts};
use chrono::NaiveDate;
use serde_json::Value;

fn main() {
    let patients: u32 = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with("--"))
        .map_or(20_000, |a| a.parse().expect("PATIENTS is a number"));
    let as_of = NaiveDate::from_ymd_opt(2026, 6, 30).unwrap();
    let started = Instant::now();
    let panel = demo_panel(patients, as_of);
    let prepare_s = started.elapsed().as_secs_f64();
    let catalog = builtin_catalog().unwrap();
    let contacts = HashMap::new();

    let best = |run: &dyn Fn() -> Vec<engine::Cohort>| {
        let mut best = f64::MAX;
        let mut members = 0;
        for _ in 0..5 {
            let started = Instant::now();
            let cohorts = run();
            best = best.min(started.elapsed().as_secs_f64());
            members = cohorts.iter().map(|c| c.members.len()).sum::<usize>();
        }
        (best, members)
    };
    let (all_s, members) = best(&|| engine::run(&catalog, &panel, &contacts, as_of));
    let one = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    let (one_s, one_members) =
        best(&|| one.install(|| engine::run(&catalog, &panel, &contacts, as_of)));
    assert_eq!(members, one_members, "the same cohorts on one thread");
    // One patient recomputed after a new fact (the busiest patient, alone).
    let busiest = panel
        .iter()
        .max_by_key(|p| p.observations.len() + p.encounters.len())
        .unwrap();
    let alone = std::slice::from_ref(busiest);
    let started = Instant::now();
    for _ in 0..1_000 {
        std::hint::black_box(engine::run(&catalog, alone, &contacts, as_of));
    }
    let alone_us = started.elapsed().as_secs_f64() * 1e3;
    println!(
        "segment engine: {} patients, {} segments, {members} memberships; prepared in {prepare_s:.1} s; \
         run {:.1} ms on {} threads, {:.1} ms on 1 thread (best of 5); one patient {alone_us:.0} µs",
        panel.len(),
        catalog.segments.len(),
        all_s * 1e3,
        rayon::current_num_threads(),
        one_s * 1e3,
    );
}

/// The demo panel of seed 42 as of D, read into facts in patient order.
fn demo_panel(patients: u32, as_of: NaiveDate) -> Vec<PatientFacts> {
    let config = careloop_demo::DemoConfig {
        patients,
        seed: 42,
        as_of,
    };
    let (files, _) = careloop_demo::generate_in_memory(&config).expect("the panel generates");
    let mut order = Vec::new();
    let mut resources: HashMap<String, Vec<(String, String)>> = HashMap::new();
    let mut engagement: HashMap<String, Vec<EngagementFact>> = HashMap::new();
    for (name, bytes) in &files {
        for line in std::str::from_utf8(bytes).expect("UTF-8").lines() {
            let value: Value = serde_json::from_str(line).expect("JSON");
            if name == "engagement.ndjson" {
                let patient = bare_id(value["patient"].as_str().expect("patient"));
                engagement.entry(patient).or_default().push(EngagementFact {
                    kind: value["kind"].as_str().expect("kind").into(),
                    date: value["at"]
                        .as_str()
                        .and_then(careloop_segment::dates::fhir_date),
                });
                continue;
            }
            let resource_type = value["resourceType"].as_str().expect("resourceType");
            let patient = if resource_type == "Patient" {
                let id = value["id"].as_str().expect("id").to_owned();
                order.push(id.clone());
                id
            } else {
                let Some(patient) = patient_of(&value) else {
                    continue;
                };
                patient
            };
            resources
                .entry(patient)
                .or_default()
                .push((resource_type.to_owned(), line.to_owned()));
        }
    }
    order
        .iter()
        .map(|id| {
            let mut facts = PatientFacts::from_resources(
                id,
                resources.get(id).map_or(&[][..], Vec::as_slice),
                &SharedFacts::default(),
            );
            facts.engagement = engagement.remove(id).unwrap_or_default();
            facts
        })
        .collect()
}

/// The patient a demo resource belongs to, from its R4 reference element.
fn patient_of(resource: &Value) -> Option<String> {
    let reference = ["subject", "patient", "beneficiary"]
        .iter()
        .find_map(|k| resource[*k]["reference"].as_str())
        .or_else(|| {
            resource["participant"]
                .as_array()?
                .iter()
                .find_map(|p| p["actor"]["reference"].as_str())
        })?;
    Some(bare_id(reference))
}

fn bare_id(reference: &str) -> String {
    let id = reference.strip_prefix("urn:uuid:").unwrap_or(reference);
    id.rsplit('/').next().unwrap_or(id).to_owned()
}
