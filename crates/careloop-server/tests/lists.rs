//! Each team's live lists on the server, kept as a workstation keeps its own
//! (`careloop_lists`): after each panel published only the people it touched are evaluated
//! again, a new day evaluates everyone, each entry and exit is recorded with its evidence,
//! publishing the same file again changes nothing, and a running server moves the lists to
//! the new day by itself.

use std::path::Path;
use std::time::{Duration, Instant};

use careloop_server::storage::SqliteStorage;
use careloop_server::{admin, lists};
use careloop_testkit::Cluster;
use chrono::{DateTime, Utc};

const GAP: &str = "breast_cancer_screening_gap";

fn at(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

fn patient(id: &str, gender: &str, born: &str) -> String {
    format!(
        r#"{{"resourceType":"Patient","id":"{id}","gender":"{gender}","birthDate":"{born}","name":[{{"family":"Test","given":["{id}"]}}]}}"#
    )
}

fn mammogram(id: &str, kind: &str, patient: &str, on: &str) -> String {
    match kind {
        "procedure" => format!(
            r#"{{"resourceType":"Procedure","id":"{id}","status":"completed","subject":{{"reference":"Patient/{patient}"}},"code":{{"coding":[{{"system":"http://snomed.info/sct","code":"71651007"}}]}},"performedDateTime":"{on}"}}"#
        ),
        _ => format!(
            r#"{{"resourceType":"DiagnosticReport","id":"{id}","status":"final","subject":{{"reference":"Patient/{patient}"}},"code":{{"coding":[{{"system":"http://loinc.org","code":"24606-6"}}]}},"effectiveDateTime":"{on}"}}"#
        ),
    }
}

fn file(dir: &Path, name: &str, lines: &[String]) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    path
}

/// The people in the gap segment of the team's cache.
fn gap_members(data: &Path) -> Vec<String> {
    let cache = admin::team_cache(data, "north").unwrap();
    let mut people: Vec<String> = cache
        .memberships()
        .unwrap()
        .into_iter()
        .filter(|m| m.segment_id == GAP)
        .map(|m| m.patient_id)
        .collect();
    people.sort();
    people
}

#[test]
fn a_team_panel_keeps_its_lists_after_each_publish_and_each_new_day() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("server");
    // ann has never had a mammogram; bea's last one leaves the 27-month window after
    // 2026-06-30; cat is a man.
    let base = file(
        dir.path(),
        "base.ndjson",
        &[
            patient("ann", "female", "1970-01-01"),
            patient("bea", "female", "1965-05-05"),
            mammogram("mg-bea", "procedure", "bea", "2024-03-30"),
            patient("cat", "male", "1950-02-02"),
        ],
    );
    let published = admin::publish_panel(&data, "north", &[base], at("2026-06-30T09:00:00Z"))
        .unwrap()
        .lists
        .expect("the lists follow the publish");
    // The first evaluation is the baseline: members as they are, no entries.
    assert!(published.full && !published.idle, "{published:?}");
    assert_eq!((published.entered, published.exited), (0, 0));
    assert_eq!(gap_members(&data), ["ann"]);
    let gap = published
        .segments
        .iter()
        .find(|s| s.segment_id == GAP)
        .unwrap();
    assert_eq!(gap.members, 1);
    assert_eq!(gap.worklist + gap.overflow + gap.held_back, 1);

    // Later the same day nothing changed: nothing is evaluated.
    let storage = SqliteStorage::open(&data).unwrap();
    let same_day =
        lists::bring_current(&data, &storage, "north", at("2026-06-30T18:00:00Z"), false).unwrap();
    assert!(same_day.idle && same_day.evaluated == 0, "{same_day:?}");

    // The next day everyone is evaluated as of it: bea enters.
    let next_day =
        lists::bring_current(&data, &storage, "north", at("2026-07-01T08:00:00Z"), false).unwrap();
    assert!(next_day.full);
    assert_eq!(next_day.evaluated, 3);
    assert!(next_day.entered >= 1, "{next_day:?}");
    assert_eq!(gap_members(&data), ["ann", "bea"]);

    // ann's mammogram result arrives: only she is evaluated, and she leaves with the fact
    // that closed the gap.
    let delta = file(
        dir.path(),
        "delta.ndjson",
        &[mammogram("mg-ann", "report", "ann", "2026-07-01")],
    );
    let after = admin::publish_panel(
        &data,
        "north",
        std::slice::from_ref(&delta),
        at("2026-07-01T12:00:00Z"),
    )
    .unwrap();
    let lists = after.lists.unwrap();
    assert_eq!((lists.evaluated, lists.exited), (1, 1), "{lists:?}");
    assert_eq!(gap_members(&data), ["bea"]);
    let cache = admin::team_cache(&data, "north").unwrap();
    let changes = cache.membership_changes(0, 100).unwrap();
    let exit = changes
        .iter()
        .find(|c| c.patient_id == "ann" && c.change == "exited")
        .expect("ann's exit is recorded");
    assert_eq!(
        (exit.segment_id.as_str(), exit.reason.as_str()),
        (GAP, "gap_closed")
    );
    assert!(
        exit.evidence.contains("DiagnosticReport 2026-07-01"),
        "{}",
        exit.evidence
    );
    assert!(changes
        .iter()
        .any(|c| c.patient_id == "bea" && c.change == "entered" && c.day == "2026-07-01"));
    drop(cache);

    // The same file again publishes nothing and moves nobody.
    let again = admin::publish_panel(&data, "north", &[delta], at("2026-07-01T13:00:00Z")).unwrap();
    assert_eq!(again.lines_published, 0);
    let lists = again.lists.unwrap();
    assert_eq!((lists.entered, lists.exited), (0, 0), "{lists:?}");
    assert_eq!(gap_members(&data), ["bea"]);
}

#[test]
fn a_running_server_moves_each_teams_lists_to_the_new_day_by_itself() {
    let dir = tempfile::tempdir().unwrap();
    // The cluster publishes its panel as of 2026-11-01; the server's clock says the 2nd.
    let cluster = Cluster::start_with(dir.path(), 30, |config| {
        config.clock = std::sync::Arc::new(|| "2026-11-02T07:00:00Z".parse().unwrap());
        config.lists_every = Some(Duration::from_millis(100));
    });
    let data = cluster.data_dir();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let state = admin::team_cache(&data, "north")
            .unwrap()
            .list_state()
            .unwrap();
        if state.as_of.as_deref() == Some("2026-11-02") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the lists stayed as of {:?}",
            state.as_of
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}
