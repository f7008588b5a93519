//! Live-lists benchmark on a generated demo panel (default 100,000 people) in an encrypted
//! store: the panel is generated and imported (not timed), then timed, each as a supervisor
//! bringing the lists current (memberships, cases, alerts):
//! - the first evaluation of the cache (everyone; the members found are the backlog),
//! - the next day's first call (everyone evaluated as of the new day),
//! - CHANGED people (default 100) get a new ED visit each (an import of one file, timed
//!   apart), then the call that brings memberships, cases and alerts current (only they are
//!   evaluated),
//! - a call with nothing new.
//!
//! `cargo bench -p careloop-api --bench lists [-- PATIENTS CHANGED]`

mod common;

use std::io::Write;
use std::time::Instant;

use careloop_api::{Role, Session};
use chrono::{DateTime, NaiveDate, Utc};

fn main() {
    let args: Vec<u32> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .filter_map(|a| a.parse().ok())
        .collect();
    let patients = args.first().copied().unwrap_or(100_000);
    let changed = args.get(1).copied().unwrap_or(100) as usize;
    let as_of = NaiveDate::from_ymd_opt(2026, 6, 30).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = common::config(dir.path());
    let (careloop, import_s) = common::demo_cache(dir.path(), &config, patients, as_of);
    drop(careloop);
    let mut careloop = careloop_api::Careloop::open(&config).unwrap();
    let at = |text: &str| -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    };
    timed(
        &mut careloop,
        "first evaluation (cold: facts loaded)",
        at("2026-06-30T08:00:00Z"),
    );
    timed(
        &mut careloop,
        "next day (everyone evaluated)",
        at("2026-07-01T08:00:00Z"),
    );

    // CHANGED people's new ED visits, as one delta file.
    let ids: Vec<String> = careloop
        .list_patients(&careloop_api::dto::PatientQuery {
            text: None,
            offset: 0,
            limit: changed as u32,
        })
        .unwrap()
        .rows
        .into_iter()
        .map(|p| p.id)
        .collect();
    let delta = dir.path().join("delta.ndjson");
    let mut file = std::fs::File::create(&delta).unwrap();
    for (i, id) in ids.iter().enumerate() {
        writeln!(
            file,
            r#"{{"resourceType":"Encounter","id":"bench-ed-{i}","status":"finished","class":{{"code":"EMER"}},"subject":{{"reference":"Patient/{id}"}},"period":{{"start":"2026-07-01T03:00:00Z","end":"2026-07-01T06:00:00Z"}}}}"#
        )
        .unwrap();
    }
    drop(file);
    let started = Instant::now();
    careloop.import(&[delta], false, &mut |_| {}).unwrap();
    let delta_import_ms = started.elapsed().as_secs_f64() * 1000.0;
    timed(
        &mut careloop,
        &format!("{} people changed (after the import)", ids.len()),
        at("2026-07-01T09:00:00Z"),
    );
    timed(&mut careloop, "nothing new", at("2026-07-01T09:05:00Z"));
    println!(
        "{patients} patients: panel generated and imported in {import_s:.0} s; the delta of {} ED visits imported in {delta_import_ms:.1} ms; peak RSS {:.0} MiB",
        ids.len(),
        common::peak_rss_mib()
    );
}

/// Brings the lists current as a supervisor at `t` and prints how long it took and what it did.
fn timed(careloop: &mut careloop_api::Careloop, label: &str, t: DateTime<Utc>) {
    let sue = Session {
        user: "sue".into(),
        role: Role::Supervisor,
        at: t,
    };
    let started = Instant::now();
    let c = careloop.bring_lists_current(t, Some(&sue)).unwrap();
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    println!(
        "{label:<44} {ms:>9.1} ms  (evaluated {}, entered {}, exited {}, opened {}, alerts {})",
        c.evaluated, c.entered, c.exited, c.opened, c.alerts
    );
}
