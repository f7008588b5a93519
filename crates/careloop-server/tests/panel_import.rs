//! `careloop admin panel` imports a team's files all or nothing: with one good and one broken
//! file nothing is stored in the team's cache and nothing is published, then or later.

use std::path::Path;

use careloop_api::{Careloop, Config};
use careloop_server::admin;
use careloop_server::storage::{SqliteStorage, Storage};
use careloop_server::ServerError;
use careloop_store::KeySource;

const GOOD: &str = r#"{"resourceType":"Patient","id":"p-good","name":[{"family":"Good"}],"birthDate":"1950-01-02"}
{"resourceType":"Observation","id":"o-good","status":"final","code":{"text":"bp"},"subject":{"reference":"Patient/p-good"},"effectiveDateTime":"2026-01-02"}
"#;

fn write(dir: &Path, name: &str, content: &str) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, content).unwrap();
    path
}

/// The people and resources in the team's own cache.
fn team_cache_counts(data: &Path, team: &str) -> (u64, u64) {
    let config = Config {
        data_dir: data.join("teams").join(team),
        key: KeySource::KeyFile(data.join("teams").join(format!("{team}.key"))),
    };
    let cache = Careloop::open(&config).expect("the team cache opens");
    let stats = cache.stats().expect("stats");
    (stats.patients, stats.resources.values().sum())
}

#[test]
fn a_broken_file_publishes_nothing_of_the_good_ones_then_or_later() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("server");
    let good = write(dir.path(), "good.ndjson", GOOD);
    let broken = write(
        dir.path(),
        "broken.ndjson",
        "{\"resourceType\":\"Patient\",\"id\":\"p-2\"}\n{\"resourceType\":\n",
    );

    let error = admin::publish_panel(&data, "south", &[good, broken], published_at())
        .expect_err("a broken file fails the call");
    let ServerError::BadRequest(message) = &error else {
        panic!("a bad request: {error:?}")
    };
    assert!(message.contains("broken.ndjson"), "{message}");
    assert!(message.contains("line 2"), "{message}");
    assert!(message.contains("nothing was imported"), "{message}");
    assert_eq!(
        team_cache_counts(&data, "south"),
        (0, 0),
        "nothing of good.ndjson is stored"
    );
    let storage = SqliteStorage::open(&data).unwrap();
    assert_eq!(storage.panel_size("south").unwrap(), 0);
    let (items, _) = storage.panel_page("south", 0, 100).unwrap();
    assert!(items.is_empty(), "nothing is published");
    drop(storage);

    // The next publication carries only its own file, not the first call's good one.
    let other = write(
        dir.path(),
        "other.ndjson",
        r#"{"resourceType":"Patient","id":"p-other","birthDate":"1960-03-04"}"#,
    );
    let published = admin::publish_panel(&data, "south", &[other], published_at()).unwrap();
    assert_eq!(published.people, 1);
    assert_eq!(published.resources_imported, 1);
    assert_eq!(published.lines_published, 1);
    assert_eq!(team_cache_counts(&data, "south"), (1, 1));
}

#[test]
fn a_reference_to_a_person_in_another_file_of_the_same_call_is_found() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("server");
    let export = dir.path().join("export");
    std::fs::create_dir(&export).unwrap();
    let (patients, observations) = GOOD.split_once('\n').unwrap();
    // Sorted by name the Observations come first; the importer takes Patients first.
    write(&export, "Observation.ndjson", observations);
    write(&export, "Patient.ndjson", patients);
    let published = admin::publish_panel(&data, "south", &[export], published_at()).unwrap();
    assert_eq!(published.people, 1);
    assert_eq!(published.resources_imported, 2);
    assert_eq!(team_cache_counts(&data, "south"), (1, 2));

    // A person neither in the call nor in the team's cache is refused, naming the field.
    let stray = write(
        dir.path(),
        "stray.ndjson",
        r#"{"resourceType":"Observation","id":"o-stray","status":"final","code":{"text":"x"},"subject":{"reference":"Patient/nobody"}}"#,
    );
    let error =
        admin::publish_panel(&data, "south", &[stray], published_at()).expect_err("refused");
    let message = error.to_string();
    assert!(message.contains("stray.ndjson"), "{message}");
    assert!(message.contains("Observation.subject"), "{message}");
    assert!(!message.contains("nobody"), "{message}");
    assert_eq!(team_cache_counts(&data, "south"), (1, 2));
}

/// When the tests publish panels (the lists are brought current as of its day).
fn published_at() -> chrono::DateTime<chrono::Utc> {
    "2026-07-01T10:00:00Z".parse().unwrap()
}
