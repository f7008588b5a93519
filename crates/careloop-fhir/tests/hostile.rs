//! A hostile-input corpus for the importer, built in a temp dir at test time: each file is
//! one way an attacker (or a broken export) tried to get bad data in or the importer down.
//! Every test asserts what the error names (file, line or entry, field), that it quotes no
//! more than a short excerpt of the data, and that the store is exactly as before.

use std::io::Write;
use std::path::{Path, PathBuf};

use careloop_fhir::{
    import_named_inputs, import_paths, import_paths_with, ImportConfig, ImportError, ImportOptions,
    ImportSummary, Location, EXCERPT_CHARS, MAX_RESOURCE_BYTES,
};
use careloop_store::{CacheKey, Store};
use proptest::prelude::*;

fn open_store(dir: &Path) -> Store {
    let key = CacheKey::from_hex(&"cd".repeat(32)).unwrap();
    Store::open(dir, &key).expect("a new store opens")
}

fn import(store: &mut Store, paths: &[PathBuf], keep_going: bool) -> ImportSummary {
    import_paths(store, paths, ImportOptions { keep_going }, &mut |_| {})
        .expect("the run completes")
}

fn write(dir: &Path, name: &str, content: impl AsRef<[u8]>) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, content).unwrap();
    path
}

/// What `careloop stats` shows, plus a digest of every stored row.
fn snapshot(store: &Store) -> (Vec<(String, u64)>, u64, u64, String) {
    (
        store.resource_counts().unwrap(),
        store.patient_count().unwrap(),
        store.engagement_signal_count().unwrap(),
        store.content_digest().unwrap(),
    )
}

/// The one failure of a run.
fn only_failure(summary: &ImportSummary) -> &ImportError {
    match summary.files_failed.as_slice() {
        [one] => one,
        other => panic!("exactly one failed file expected, got {other:?}"),
    }
}

/// No run of more than EXCERPT_CHARS of `c` in the message (the data's value is not echoed).
fn assert_no_long_run(message: &str, c: char) {
    let longest = message
        .split(|x| x != c)
        .map(|run| run.chars().count())
        .max()
        .unwrap_or(0);
    assert!(
        longest <= EXCERPT_CHARS,
        "a value is echoed ({longest} × {c:?}): {}…",
        message.chars().take(200).collect::<String>()
    );
    assert!(
        message.len() < 600,
        "the message is short: {} bytes",
        message.len()
    );
}

const PATIENT: &str = r#"{"resourceType":"Patient","id":"p-1","name":[{"given":["Adán"],"family":"Núñez"}],"birthDate":"1950-01-02"}"#;

/// A store that already holds one person, p-1.
fn store_with_p1(dir: &Path) -> Store {
    let mut store = open_store(&dir.join("data"));
    let seed = write(dir, "seed-Patient.ndjson", format!("{PATIENT}\n"));
    let summary = import(&mut store, &[seed], false);
    assert!(
        summary.files_failed.is_empty(),
        "{:?}",
        summary.files_failed
    );
    store
}

/// A `.tar.gz` of (member name, content).
fn tar_gz(members: &[(&str, Vec<u8>)]) -> Vec<u8> {
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let mut tar = tar::Builder::new(gz);
    for (name, content) in members {
        let mut header = tar::Header::new_gnu();
        header.set_size(content.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        tar.append_data(&mut header, name, content.as_slice())
            .unwrap();
    }
    tar.into_inner().unwrap().finish().unwrap()
}

/// NDJSON Observations of p-1 whose ids do not compress well, so that a truncated archive
/// breaks inside them.
fn observations(n: usize) -> Vec<u8> {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut out = String::new();
    for i in 0..n {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.push_str(&format!(
            r#"{{"resourceType":"Observation","id":"o-{i}-{x:016x}","status":"final","code":{{"text":"{x:x}"}},"subject":{{"reference":"Patient/p-1"}},"effectiveDateTime":"2024-01-02T03:04:05Z"}}"#
        ));
        out.push('\n');
    }
    out.into_bytes()
}

#[test]
fn a_truncated_archive_commits_nothing_and_fails_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open_store(&dir.path().join("data"));
    let before = snapshot(&store);
    let whole = tar_gz(&[
        ("export/Patient.ndjson", format!("{PATIENT}\n").into_bytes()),
        ("export/Observation.ndjson", observations(3_000)),
    ]);
    let archive = write(dir.path(), "export.tar.gz", &whole[..whole.len() / 2]);
    let good = write(
        dir.path(),
        "other-Patient.ndjson",
        PATIENT.replace("p-1", "p-2"),
    );

    let summary = import(&mut store, &[archive.clone(), good], true);
    let error = only_failure(&summary);
    let message = error.to_string();
    assert!(
        message.starts_with(&archive.display().to_string()),
        "the archive is named: {message}"
    );
    assert!(
        matches!(error, ImportError::ReadFailed { .. }),
        "a read failure: {message}"
    );
    assert_eq!(summary.files_ok, 1, "the other file still imports");
    assert_eq!(
        store.patient_count().unwrap(),
        1,
        "only p-2, none of the archive"
    );
    assert!(store.resource_body("Patient", "p-1").unwrap().is_none());
    assert_eq!(
        store.resource_counts().unwrap(),
        vec![("Patient".into(), 1)]
    );

    // Alone, the archive leaves the store exactly as it was.
    let dir2 = tempfile::tempdir().unwrap();
    let mut empty = open_store(dir2.path());
    let before_empty = snapshot(&empty);
    let summary = import(&mut empty, &[archive], false);
    assert_eq!(summary.files_failed.len(), 1);
    assert_eq!(snapshot(&empty), before_empty);
    assert_eq!(before.1, 0, "the first store started empty");
}

#[test]
fn the_same_resource_twice_in_a_file_is_refused_naming_both_places() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open_store(&dir.path().join("data"));
    let before = snapshot(&store);
    let ndjson = write(
        dir.path(),
        "twice-Patient.ndjson",
        format!(
            "{PATIENT}\n{}\n{}\n",
            PATIENT.replace("p-1", "p-2"),
            PATIENT.replace("Núñez", "Other")
        ),
    );
    let summary = import(&mut store, &[ndjson], false);
    let message = only_failure(&summary).to_string();
    assert!(message.contains("twice-Patient.ndjson"), "{message}");
    assert!(message.contains("at line 3"), "the second place: {message}");
    assert!(message.contains("line 1"), "the first place: {message}");
    assert!(message.contains("same Patient id"), "{message}");
    assert!(
        !message.contains("Núñez") && !message.contains("Other"),
        "{message}"
    );
    assert_eq!(snapshot(&store), before, "nothing of the file is kept");

    let bundle = write(
        dir.path(),
        "twice.json",
        format!(
            r#"{{"resourceType":"Bundle","type":"collection","entry":[{{"resource":{PATIENT}}},{{"resource":{}}},{{"resource":{PATIENT}}}]}}"#,
            PATIENT.replace("p-1", "p-2")
        ),
    );
    let summary = import(&mut store, &[bundle], false);
    let message = only_failure(&summary).to_string();
    assert!(message.contains("at entry 2"), "{message}");
    assert!(message.contains("entry 0"), "{message}");
    assert_eq!(snapshot(&store), before);
}

#[test]
fn invalid_dates_are_refused_with_the_field_named() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = store_with_p1(dir.path());
    let before = snapshot(&store);
    for (name, line, field) in [
        (
            "a-Patient.ndjson",
            r#"{"resourceType":"Patient","id":"p-9","birthDate":"not-a-date"}"#,
            "Patient.birthDate: not a valid FHIR date",
        ),
        (
            "b-Patient.ndjson",
            r#"{"resourceType":"Patient","id":"p-9","birthDate":"1950-13-01"}"#,
            "Patient.birthDate: not a valid FHIR date",
        ),
        (
            "c-Patient.ndjson",
            r#"{"resourceType":"Patient","id":"p-9","birthDate":"1950-02-30"}"#,
            "Patient.birthDate: not a valid FHIR date",
        ),
        (
            "d-Patient.ndjson",
            r#"{"resourceType":"Patient","id":"p-9","deceasedDateTime":"2020-01-01T25:00:00Z"}"#,
            "Patient.deceasedDateTime: not a valid FHIR dateTime",
        ),
        (
            "Observation.ndjson",
            r#"{"resourceType":"Observation","id":"o-9","subject":{"reference":"Patient/p-1"},"effectiveDateTime":"2024-13-01"}"#,
            "Observation.effectiveDateTime: not a valid FHIR dateTime",
        ),
        (
            "Encounter.ndjson",
            r#"{"resourceType":"Encounter","id":"e-9","subject":{"reference":"Patient/p-1"},"period":{"start":"yesterday"}}"#,
            "Encounter.period.start: not a valid FHIR dateTime",
        ),
        (
            "Immunization.ndjson",
            r#"{"resourceType":"Immunization","id":"i-9","patient":{"reference":"Patient/p-1"},"occurrenceDateTime":20240101}"#,
            "Immunization.occurrenceDateTime: expected a string",
        ),
    ] {
        // The bad line comes second, after a good one: the good one is not kept either.
        let good = r#"{"resourceType":"Patient","id":"p-8","birthDate":"1960"}"#;
        let file = write(dir.path(), name, format!("{good}\n{line}\n"));
        let summary = import(&mut store, &[file], false);
        let error = only_failure(&summary);
        assert!(
            matches!(
                error,
                ImportError::InvalidResource {
                    location: Location::Line(2),
                    ..
                }
            ),
            "{name}: {error}"
        );
        let message = error.to_string();
        assert!(message.contains(name), "{message}");
        assert!(message.contains(field), "{name}: {message}");
        assert!(
            !message.contains("not-a-date")
                && !message.contains("1950")
                && !message.contains("yesterday"),
            "no value: {message}"
        );
        assert_eq!(snapshot(&store), before, "{name}: the store is unchanged");
    }
}

#[test]
fn references_to_unknown_people_are_refused_and_known_ones_anywhere_in_the_import_pass() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = store_with_p1(dir.path());
    let before = snapshot(&store);
    let nobody = write(
        dir.path(),
        "Observation.ndjson",
        "{\"resourceType\":\"Observation\",\"id\":\"o-1\",\"subject\":{\"reference\":\"Patient/p-1\"}}\n\
         {\"resourceType\":\"Observation\",\"id\":\"o-2\",\"subject\":{\"reference\":\"Patient/nobody\"}}\n",
    );
    let summary = import(&mut store, std::slice::from_ref(&nobody), false);
    let message = only_failure(&summary).to_string();
    assert!(message.contains("Observation.ndjson"), "{message}");
    assert!(message.contains("line 2"), "{message}");
    assert!(message.contains("Observation.subject"), "{message}");
    assert!(
        message.contains("neither in this import nor in the cache"),
        "{message}"
    );
    assert!(!message.contains("nobody"), "no value: {message}");
    assert_eq!(snapshot(&store), before);

    // A Bundle entry pointing at a urn:uuid that is no entry of the Bundle, and a signal.
    let bundle = write(
        dir.path(),
        "dangling.json",
        r#"{"resourceType":"Bundle","type":"transaction","entry":[
            {"fullUrl":"urn:uuid:c-1","resource":{"resourceType":"Condition","id":"c-1","subject":{"reference":"urn:uuid:ghost"}}}]}"#,
    );
    let signal = write(
        dir.path(),
        "engagement.ndjson",
        r#"{"patient":"Patient/ghost","kind":"portal_login","at":"2026-01-01"}"#,
    );
    let summary = import(&mut store, &[bundle, signal], true);
    assert_eq!(summary.files_failed.len(), 2, "{:?}", summary.files_failed);
    assert!(summary.files_failed[0]
        .to_string()
        .contains("entry 0: Condition.subject"));
    assert!(summary.files_failed[1]
        .to_string()
        .contains("line 1: signal.patient"));
    assert_eq!(snapshot(&store), before);

    // A bulk export whose Observations sort before its Patients imports cleanly, people first.
    let export = dir.path().join("export");
    std::fs::create_dir(&export).unwrap();
    write(
        &export,
        "Observation.ndjson",
        r#"{"resourceType":"Observation","id":"o-3","subject":{"reference":"Patient/p-3"},"effectiveDateTime":"2024-05-06"}"#,
    );
    write(&export, "Patient.ndjson", PATIENT.replace("p-1", "p-3"));
    let summary = import(&mut store, &[export], false);
    assert!(
        summary.files_failed.is_empty(),
        "{:?}",
        summary.files_failed
    );
    assert_eq!(store.patient_count().unwrap(), 2);
    assert_eq!(
        store
            .resource_patient("Observation", "o-3")
            .unwrap()
            .as_deref(),
        Some("p-3")
    );
}

#[test]
fn the_demo_panel_imports_cleanly_from_a_directory() {
    let dir = tempfile::tempdir().unwrap();
    let config = careloop_demo::DemoConfig {
        patients: 40,
        seed: 7,
        as_of: chrono::NaiveDate::from_ymd_opt(2026, 6, 1).unwrap(),
    };
    let (files, report) = careloop_demo::generate_in_memory(&config).unwrap();
    let panel = dir.path().join("panel");
    std::fs::create_dir(&panel).unwrap();
    for (name, bytes) in &files {
        write(&panel, name, bytes);
    }
    let mut store = open_store(&dir.path().join("data"));
    let summary = import(&mut store, &[panel], false);
    assert!(
        summary.files_failed.is_empty(),
        "{:?}",
        summary.files_failed
    );
    assert_eq!(store.patient_count().unwrap(), report.patients);
    assert!(summary.engagement_signals > 0);
}

#[test]
fn type_errors_name_the_field_path_and_not_the_value() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open_store(&dir.path().join("data"));
    let before = snapshot(&store);
    for (line, expected) in [
        (
            r#"{"resourceType":"Patient","id":"p-1","birthDate":123}"#,
            "line 1: Patient.birthDate: expected a string",
        ),
        (
            r#"{"resourceType":"Patient","id":"p-1","name":[{"given":["Adán",4711]}]}"#,
            "line 1: Patient.name[0].given[1]: expected a string (found integer)",
        ),
        (
            r#"{"resourceType":"Patient","id":"p-1","meta":{"versionId":4711}}"#,
            "line 1: Patient.meta.versionId: expected a string (found integer)",
        ),
    ] {
        let file = write(dir.path(), "Patient.ndjson", format!("{line}\n"));
        let summary = import(&mut store, &[file], false);
        let message = only_failure(&summary).to_string();
        assert!(message.contains(expected), "{message}");
        assert!(
            !message.contains("123") && !message.contains("4711"),
            "{message}"
        );
        assert_eq!(snapshot(&store), before);
    }
}

#[test]
fn a_bom_is_accepted_and_non_utf8_text_is_refused_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open_store(&dir.path().join("data"));
    let ndjson = write(
        dir.path(),
        "bom-Patient.ndjson",
        format!("\u{FEFF}{PATIENT}\n"),
    );
    let bundle = write(
        dir.path(),
        "bom.json",
        format!(
            "\u{FEFF}{{\"resourceType\":\"Bundle\",\"type\":\"collection\",\"entry\":[{{\"resource\":{}}}]}}",
            PATIENT.replace("p-1", "p-2")
        ),
    );
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(format!("\u{FEFF}{}", PATIENT.replace("p-1", "p-3")).as_bytes())
        .unwrap();
    let single_gz = write(dir.path(), "bom.json.gz", gz.finish().unwrap());
    let summary = import(&mut store, &[ndjson, bundle, single_gz], false);
    assert!(
        summary.files_failed.is_empty(),
        "{:?}",
        summary.files_failed
    );
    assert_eq!(store.patient_count().unwrap(), 3);

    let before = snapshot(&store);
    let mut latin1 = format!("{}\n", PATIENT.replace("p-1", "p-4")).into_bytes();
    latin1.extend_from_slice(
        b"{\"resourceType\":\"Patient\",\"id\":\"p-5\",\"name\":[{\"family\":\"N\xfa\xf1ez\"}]}\n",
    );
    let file = write(dir.path(), "latin1-Patient.ndjson", latin1);
    let summary = import(&mut store, &[file], false);
    let error = only_failure(&summary);
    assert!(
        matches!(
            error,
            ImportError::InvalidResource {
                location: Location::Position {
                    line: 2,
                    column: 58
                },
                ..
            }
        ),
        "{error}"
    );
    assert!(error.to_string().contains("not valid UTF-8"), "{error}");
    assert_eq!(snapshot(&store), before);

    // In a Bundle, the line and column of the bad byte.
    let mut bundle =
        b"{\"resourceType\":\"Bundle\",\"type\":\"collection\",\"entry\":[\n{\"resource\":"
            .to_vec();
    bundle.extend_from_slice(
        b"{\"resourceType\":\"Patient\",\"id\":\"p-6\",\"name\":[{\"family\":\"N\xfa\"}]}}]}",
    );
    let file = write(dir.path(), "latin1.json", bundle);
    let summary = import(&mut store, &[file], false);
    let error = only_failure(&summary);
    assert!(
        matches!(
            error,
            ImportError::MalformedJson {
                location: Location::Position { line: 2, .. },
                ..
            }
        ),
        "{error}"
    );
    assert_eq!(snapshot(&store), before);
}

#[test]
fn huge_values_are_never_echoed_whole() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = store_with_p1(dir.path());
    let before = snapshot(&store);
    let huge = "x".repeat(5 * 1024 * 1024);
    let cases = [
        format!(r#"{{"resourceType":"Patient","id":"{huge}"}}"#),
        format!(r#"{{"resourceType":"{huge}","id":"a"}}"#),
        format!(
            r#"{{"resourceType":"Observation","id":"o","subject":{{"reference":"Patient/{huge}"}}}}"#
        ),
        format!(
            r#"{{"resourceType":"Observation","id":"o","subject":{{"reference":"Patient/p-1"}},"issued":"{huge}"}}"#
        ),
        format!(r#"{{"resourceType":"Patient","id":"p-2","birthDate":["{huge}"]}}"#),
        format!(
            r#"{{"resourceType":"Patient","id":"p-2","identifier":[{{"value":"{huge}"}}],"gender":{{"{huge}":1}}}}"#
        ),
        format!(r#"{{"resourceType":"Patient","id":"p-2","identifier":"{huge}"#),
    ];
    for (i, line) in cases.iter().enumerate() {
        let file = write(dir.path(), &format!("huge-{i}.ndjson"), format!("{line}\n"));
        let summary = import(&mut store, &[file], false);
        let message = only_failure(&summary).to_string();
        assert!(message.contains(&format!("huge-{i}.ndjson")), "{i}");
        assert_no_long_run(&message, 'x');
        assert_eq!(snapshot(&store), before, "case {i}");
    }
    // Engagement signals: a huge person id, a huge unknown field.
    for (i, line) in [
        format!(r#"{{"patient":"Patient/{huge}","kind":"portal_login","at":"2026-01-01"}}"#),
        format!(r#"{{"patient":"p-1","kind":"portal_login","at":"2026-01-01","{huge}":1}}"#),
    ]
    .iter()
    .enumerate()
    {
        let name = format!("huge-{i}.engagement.ndjson");
        let file = write(dir.path(), &name, format!("{line}\n"));
        let summary = import(&mut store, &[file], false);
        let message = only_failure(&summary).to_string();
        assert!(message.contains(&name), "{message}");
        assert!(message.contains("line 1: signal."), "{message}");
        assert_no_long_run(&message, 'x');
        assert_eq!(snapshot(&store), before, "signal case {i}");
    }
    // A Bundle type and an archive member name are data too.
    let bundle = write(
        dir.path(),
        "type.json",
        format!(r#"{{"resourceType":"Bundle","type":"{huge}","entry":[]}}"#),
    );
    let summary = import(&mut store, &[bundle], false);
    assert_no_long_run(&only_failure(&summary).to_string(), 'x');
    let long_name = format!("{}.ndjson", "x".repeat(300));
    let archive = write(
        dir.path(),
        "names.tar.gz",
        tar_gz(&[(long_name.as_str(), b"{not json}\n".to_vec())]),
    );
    let summary = import(&mut store, &[archive], false);
    let message = only_failure(&summary).to_string();
    assert!(message.contains("names.tar.gz!"), "{message}");
    assert_no_long_run(&message, 'x');
    assert_eq!(snapshot(&store), before);
}

#[cfg(unix)]
#[test]
fn a_symlink_cycle_is_refused_with_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open_store(&dir.path().join("data"));
    let root = dir.path().join("panel");
    std::fs::create_dir_all(root.join("a/b")).unwrap();
    write(&root, "Patient.ndjson", PATIENT);
    std::os::unix::fs::symlink(&root, root.join("a/b/back-to-top")).unwrap();
    let error = import_paths(&mut store, &[root], ImportOptions::default(), &mut |_| {})
        .expect_err("a cycle is refused");
    assert!(
        matches!(error, ImportError::DirectoryCycle { .. }),
        "{error}"
    );
    let message = error.to_string();
    assert!(
        message.contains("back-to-top"),
        "the link is named: {message}"
    );
    assert!(message.contains("cycle"), "{message}");
    assert_eq!(store.patient_count().unwrap(), 0);

    // Two links to the same directory (no cycle) list its files once.
    let twice = dir.path().join("twice");
    std::fs::create_dir_all(twice.join("real")).unwrap();
    write(&twice.join("real"), "Patient.ndjson", PATIENT);
    std::os::unix::fs::symlink(twice.join("real"), twice.join("link")).unwrap();
    let summary = import(&mut store, &[twice], false);
    assert!(
        summary.files_failed.is_empty(),
        "{:?}",
        summary.files_failed
    );
    assert_eq!(summary.files_ok, 1);
}

#[test]
fn a_line_over_the_size_limit_is_refused_with_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = store_with_p1(dir.path());
    let before = snapshot(&store);
    // Written in pieces: the test holds no more than a few KiB of it.
    let path = dir.path().join("big-Patient.ndjson");
    {
        let mut file = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
        writeln!(file, "{}", PATIENT.replace("p-1", "p-2")).unwrap();
        write!(file, r#"{{"resourceType":"Patient","id":"p-3","text":""#).unwrap();
        let chunk = [b'x'; 4096];
        for _ in 0..(MAX_RESOURCE_BYTES / 4096 + 1) {
            file.write_all(&chunk).unwrap();
        }
        writeln!(file, "\"}}").unwrap();
    }
    let summary = import(&mut store, &[path], false);
    let error = only_failure(&summary);
    assert!(
        matches!(
            error,
            ImportError::TooLarge {
                location: Location::Line(2),
                ..
            }
        ),
        "{error}"
    );
    let message = error.to_string();
    assert!(message.contains("big-Patient.ndjson"), "{message}");
    assert!(
        message.contains("larger than the limit of 16 MiB"),
        "{message}"
    );
    assert_eq!(snapshot(&store), before);
}

#[test]
fn a_bundle_entry_over_a_lowered_limit_is_refused_streamed_or_not() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open_store(&dir.path().join("data"));
    let before = snapshot(&store);
    let config = ImportConfig {
        max_resource_bytes: 1024,
        ..ImportConfig::default()
    };
    let big = PATIENT
        .replace("Adán", &"y".repeat(2_000))
        .replace("p-1", "p-2");
    let bundle = format!(
        r#"{{"resourceType":"Bundle","type":"collection","entry":[{{"resource":{PATIENT}}},{{"resource":{big}}}]}}"#
    );
    let plain = write(dir.path(), "big.json", &bundle);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(bundle.as_bytes()).unwrap();
    let streamed = write(dir.path(), "big.json.gz", gz.finish().unwrap());
    let single = write(dir.path(), "single.json", &big);
    for (path, location) in [
        (plain, Location::Entry(1)),
        (streamed, Location::Entry(1)),
        (single, Location::File),
    ] {
        let summary =
            import_paths_with(&mut store, std::slice::from_ref(&path), config, &mut |_| {})
                .unwrap();
        let error = only_failure(&summary);
        match error {
            ImportError::TooLarge {
                location: at,
                limit: 1024,
                ..
            } => assert_eq!(*at, location, "{error}"),
            other => panic!("{}: {other}", path.display()),
        }
        assert_no_long_run(&error.to_string(), 'y');
        assert_eq!(snapshot(&store), before);
    }
}

#[test]
fn keep_going_counts_each_failed_file_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open_store(&dir.path().join("data"));
    // Two broken members in one archive: still one failed file.
    let archive = write(
        dir.path(),
        "two-bad.tar.gz",
        tar_gz(&[
            ("a.ndjson", b"{broken\n".to_vec()),
            ("b.ndjson", b"{broken too\n".to_vec()),
        ]),
    );
    let good = write(dir.path(), "good-Patient.ndjson", PATIENT);
    let summary = import(&mut store, &[archive, good], true);
    assert_eq!(summary.files_failed.len(), 1, "{:?}", summary.files_failed);
    assert!(summary.files_failed[0]
        .to_string()
        .contains("two-bad.tar.gz!a.ndjson"));
    assert_eq!(summary.files_ok, 1);
}

#[test]
fn all_or_nothing_keeps_nothing_when_any_file_fails() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open_store(&dir.path().join("data"));
    let before = snapshot(&store);
    let good = write(dir.path(), "good-Patient.ndjson", PATIENT);
    let broken = write(dir.path(), "broken.ndjson", "{\"resourceType\":\n");
    let config = ImportConfig {
        all_or_nothing: true,
        keep_going: true,
        ..ImportConfig::default()
    };
    let summary =
        import_paths_with(&mut store, &[good.clone(), broken], config, &mut |_| {}).unwrap();
    assert_eq!(summary.files_failed.len(), 1);
    assert_eq!(summary.files_ok, 0);
    assert!(summary.stored.is_empty());
    assert_eq!(snapshot(&store), before);
    let summary = import_paths_with(&mut store, &[good], config, &mut |_| {}).unwrap();
    assert_eq!((summary.files_ok, store.patient_count().unwrap()), (1, 1));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    /// Whatever bytes a line holds, the importer answers (imported or refused), never panics.
    #[test]
    fn arbitrary_bytes_never_panic_the_importer(
        line in prop::collection::vec(any::<u8>(), 0..512),
        prefix in prop::sample::select(vec![
            &b""[..],
            &br#"{"resourceType":"Patient","id":"p"#[..],
            &br#"{"resourceType":"Observation","id":"o","subject":{"reference":""#[..],
        ]),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let mut store = open_store(dir.path());
        let mut bytes = prefix.to_vec();
        bytes.extend_from_slice(&line);
        let inputs = vec![
            ("x.ndjson".to_owned(), bytes.clone()),
            ("x.json".to_owned(), bytes.clone()),
            ("x.engagement.ndjson".to_owned(), bytes),
        ];
        let summary = import_named_inputs(
            &mut store,
            &inputs,
            ImportOptions { keep_going: true },
            &mut |_| {},
        );
        prop_assert!(summary.is_ok());
    }
}

#[test]
fn deeply_nested_json_is_refused_without_overflowing_the_stack() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open_store(&dir.path().join("data"));
    let before = snapshot(&store);
    let depth = 1_000_000;
    let nested = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
    let cases = [
        (
            "deep.ndjson",
            format!(r#"{{"resourceType":"Patient","id":"p-1","extension":{nested}}}"#),
        ),
        (
            "deep.json",
            format!(
                r#"{{"resourceType":"Bundle","type":"collection","entry":[{{"resource":{{"resourceType":"Patient","id":"p-1","x":{nested}}}}}]}}"#
            ),
        ),
        ("deep-top.json", nested.clone()),
        (
            "deep-patient.ndjson",
            format!(r#"{{"resourceType":"Patient","id":"p-1","name":{nested}}}"#),
        ),
    ];
    for (name, content) in cases {
        let file = write(dir.path(), name, content);
        let summary = import(&mut store, &[file], false);
        let message = only_failure(&summary).to_string();
        assert!(message.contains(name), "{message}");
        assert!(message.len() < 600, "{message}");
        if name.starts_with("deep.") {
            assert!(
                message.contains("nests arrays and objects deeper than 100 levels"),
                "{message}"
            );
        }
        assert_eq!(snapshot(&store), before, "{name}");
    }
    // As deep as allowed is fine.
    let limit = format!(
        r#"{{"resourceType":"Patient","id":"p-1","extension":{}{}}}"#,
        "[".repeat(careloop_fhir::MAX_NESTING - 1),
        "]".repeat(careloop_fhir::MAX_NESTING - 1)
    );
    let file = write(dir.path(), "limit.ndjson", limit);
    let summary = import(&mut store, &[file], false);
    assert!(
        summary.files_failed.is_empty(),
        "{:?}",
        summary.files_failed
    );
}

/// A bad file in the middle of a directory is undone alone, with everything it wrote before
/// failing, and the files before and after it stay (their commits synced once at the end);
/// without keep_going the files before stay and nothing after is read. The store then holds
/// exactly what importing the good files alone gives.
#[test]
fn a_bad_file_among_many_is_undone_alone() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("many");
    std::fs::create_dir_all(&input).unwrap();
    let person = |n: usize| {
        format!(r#"{{"resourceType":"Patient","id":"p{n:03}","name":[{{"family":"F{n}"}}]}}"#)
    };
    for n in 0..40 {
        write(&input, &format!("{n:03}-Patient.ndjson"), person(n));
    }
    // File 020 writes a person, then fails on its second line.
    write(
        &input,
        "020-Patient.ndjson",
        format!("{}\n{{broken\n", person(20)),
    );

    let mut store = open_store(&dir.path().join("data"));
    let summary = import(&mut store, std::slice::from_ref(&input), true);
    assert_eq!(summary.files_ok, 39);
    assert!(only_failure(&summary)
        .to_string()
        .contains("020-Patient.ndjson"));
    assert_eq!(store.patient_count().unwrap(), 39);
    assert!(
        store.patient("p020").unwrap().is_none(),
        "the bad file's first line is undone"
    );
    assert!(
        store.patient("p039").unwrap().is_some(),
        "files after it stay"
    );

    // The same content as the good files imported alone.
    let alone = dir.path().join("alone");
    std::fs::create_dir_all(&alone).unwrap();
    for n in (0..40).filter(|&n| n != 20) {
        write(&alone, &format!("{n:03}-Patient.ndjson"), person(n));
    }
    let mut reference = open_store(&dir.path().join("reference"));
    import(&mut reference, &[alone], false);
    assert_eq!(snapshot(&store), snapshot(&reference));

    // Without keep_going: the files before stay, the rest are not read.
    let mut stopped = open_store(&dir.path().join("stopped"));
    let summary = import(&mut stopped, &[input], false);
    assert_eq!(summary.files_ok, 20);
    assert_eq!(stopped.patient_count().unwrap(), 20);
    assert!(stopped.patient("p019").unwrap().is_some());
    assert!(stopped.patient("p021").unwrap().is_none());
}
