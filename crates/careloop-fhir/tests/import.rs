//! Integration tests of the importer against a real encrypted store: the shared Synthea
//! archives, atomicity per file, idempotence, versions, references and error locations.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use careloop_fhir::{import_paths, ImportError, ImportOptions, ImportSummary, Location};
use careloop_store::{CacheKey, Store};

fn open_store(dir: &Path) -> Store {
    let key = CacheKey::from_hex(&"ab".repeat(32)).unwrap();
    Store::open(dir, &key).expect("a new store opens")
}

fn import(store: &mut Store, paths: &[PathBuf], keep_going: bool) -> ImportSummary {
    import_paths(store, paths, ImportOptions { keep_going }, &mut |_| {})
        .expect("the run completes")
}

fn write(dir: &Path, name: &str, content: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, content).unwrap();
    path
}

fn counts(pairs: &[(&str, u64)]) -> BTreeMap<String, u64> {
    pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
}

/// The shared test data lies beside the checkout (`../shared/data`), or where
/// CARELOOP_SHARED_DATA says.
fn shared_data(name: &str) -> PathBuf {
    let dir = std::env::var_os("CARELOOP_SHARED_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data"));
    let path = dir.join(name);
    assert!(
        path.is_file(),
        "the shared archive {} must be there (set CARELOOP_SHARED_DATA)",
        path.display()
    );
    path
}

const PATIENT_BUNDLE: &str = r#"{
  "resourceType": "Bundle",
  "type": "transaction",
  "entry": [
    {"fullUrl": "urn:uuid:p-1", "resource": {"resourceType": "Patient", "id": "p-1",
      "name": [{"given": ["Adán"], "family": "Núñez"}], "birthDate": "1950-01-02", "gender": "male"},
     "request": {"method": "POST", "url": "Patient"}},
    {"fullUrl": "urn:uuid:e-1", "resource": {"resourceType": "Encounter", "id": "e-1", "status": "finished",
      "class": {"code": "AMB"}, "subject": {"reference": "urn:uuid:p-1"}},
     "request": {"method": "POST", "url": "Encounter"}},
    {"fullUrl": "urn:uuid:c-1", "resource": {"resourceType": "Claim", "id": "c-1", "patient": {"reference": "urn:uuid:p-1"}},
     "request": {"method": "POST", "url": "Claim"}},
    {"fullUrl": "urn:uuid:eob-1", "resource": {"resourceType": "ExplanationOfBenefit", "id": "eob-1"},
     "request": {"method": "POST", "url": "ExplanationOfBenefit"}}
  ]
}"#;

#[test]
fn main_synthea_archive_imports_with_exact_counts_and_twice_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open_store(dir.path());
    let archive = shared_data("smart-on-fhir-generated-sample-data-R4-SYNTHEA.tar.gz");
    let first = import(&mut store, std::slice::from_ref(&archive), false);
    assert!(
        first.files_failed.is_empty(),
        "no file may fail: {:?}",
        first.files_failed
    );
    assert_eq!(first.files_ok, 617);
    assert_eq!(
        first.stored,
        counts(&[
            ("Condition", 4_546),
            ("DiagnosticReport", 6_262),
            ("Encounter", 18_098),
            ("ImagingStudy", 332),
            ("Immunization", 7_389),
            ("MedicationRequest", 4_712),
            ("Observation", 88_674),
            ("Patient", 615),
            ("Procedure", 14_081),
        ])
    );
    assert_eq!(
        first.skipped,
        counts(&[
            ("AllergyIntolerance", 374),
            ("CarePlan", 1_769),
            ("Claim", 22_810),
            ("ExplanationOfBenefit", 18_098),
            ("Goal", 1_147),
            ("Organization", 1_093),
            ("Practitioner", 1_093),
        ])
    );
    let stored_total: u64 = first.stored.values().sum();
    let skipped_total: u64 = first.skipped.values().sum();
    assert_eq!(
        stored_total + skipped_total,
        191_093,
        "every resource is stored or counted as skipped"
    );
    assert_eq!(store.patient_count().unwrap(), 615);
    let stored: BTreeMap<String, u64> = store.resource_counts().unwrap().into_iter().collect();
    assert_eq!(
        stored, first.stored,
        "what the summary says is what the store holds"
    );

    let digest = store.content_digest().unwrap();
    let second = import(&mut store, &[archive], false);
    assert!(
        second.stored.is_empty(),
        "a re-import writes nothing: {:?}",
        second.stored
    );
    assert_eq!(second.unchanged, first.stored);
    assert_eq!(
        store.content_digest().unwrap(),
        digest,
        "a re-import changes nothing"
    );
}

#[test]
fn hiv_synthea_archive_imports_with_exact_counts() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open_store(dir.path());
    let summary = import(
        &mut store,
        &[shared_data(
            "fhir-data-pipes-synthea-hiv-sample_data.tar.gz",
        )],
        false,
    );
    assert!(
        summary.files_failed.is_empty(),
        "no file may fail: {:?}",
        summary.files_failed
    );
    assert_eq!(summary.files_ok, 81);
    assert_eq!(
        summary.stored,
        counts(&[
            ("Condition", 84),
            ("DiagnosticReport", 4_006),
            ("Encounter", 4_006),
            ("Immunization", 4_103),
            ("MedicationRequest", 22),
            ("Observation", 17_279),
            ("Patient", 79),
            ("Procedure", 33),
        ])
    );
    assert_eq!(
        summary.skipped,
        counts(&[
            ("Claim", 4_028),
            ("Device", 2),
            ("DocumentReference", 4_006),
            ("ExplanationOfBenefit", 4_006),
            ("Location", 1_191),
            ("Organization", 1_191),
            ("Practitioner", 1_191),
            ("PractitionerRole", 1_191),
            ("Provenance", 79),
        ])
    );
    let total: u64 = summary.stored.values().sum::<u64>() + summary.skipped.values().sum::<u64>();
    assert_eq!(total, 46_497);
}

#[test]
fn unused_resource_types_are_counted_and_not_stored() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open_store(dir.path());
    let file = write(dir.path(), "bundle.json", PATIENT_BUNDLE);
    let summary = import(&mut store, &[file], false);
    assert_eq!(summary.stored, counts(&[("Encounter", 1), ("Patient", 1)]));
    assert_eq!(
        summary.skipped,
        counts(&[("Claim", 1), ("ExplanationOfBenefit", 1)])
    );
    assert_eq!(
        store.resource_body("Claim", "c-1").unwrap(),
        None,
        "a Claim is never stored"
    );
    assert_eq!(
        store
            .resource_patient("Encounter", "e-1")
            .unwrap()
            .as_deref(),
        Some("p-1")
    );
}

#[test]
fn a_bad_entry_fails_its_file_and_leaves_the_cache_exactly_as_before() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open_store(dir.path());
    let good = write(dir.path(), "good.json", PATIENT_BUNDLE);
    import(&mut store, &[good], false);
    let before = store.content_digest().unwrap();

    // Two new, valid entries, then one without a resourceType: the whole file must go.
    let bad = write(
        dir.path(),
        "bad.json",
        r#"{"resourceType":"Bundle","type":"collection","entry":[
            {"resource":{"resourceType":"Patient","id":"p-2","name":[{"family":"New"}]}},
            {"resource":{"resourceType":"Observation","id":"o-2","subject":{"reference":"Patient/p-2"}}},
            {"resource":{"id":"x-3","subject":{"reference":"Patient/p-2"}}}
        ]}"#,
    );
    let summary = import(&mut store, &[bad], false);
    assert_eq!(summary.files_ok, 0);
    let [error] = summary.files_failed.as_slice() else {
        panic!("one failure expected: {:?}", summary.files_failed)
    };
    assert!(
        matches!(
            error,
            ImportError::InvalidResource {
                location: Location::Entry(2),
                ..
            }
        ),
        "the error names entry 2: {error}"
    );
    assert!(
        error.to_string().contains("bad.json"),
        "the error names the file: {error}"
    );
    assert!(
        error.to_string().contains("no resourceType"),
        "the error says why: {error}"
    );
    assert_eq!(
        store.content_digest().unwrap(),
        before,
        "nothing of the failed file is kept"
    );
    assert_eq!(store.patient_count().unwrap(), 1);
}

#[test]
fn malformed_json_is_reported_with_its_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open_store(dir.path());
    let text = "{\n \"resourceType\": \"Bundle\",\n \"type\": \"batch\",\n \"entry\": [\n  {\"resource\": {\"resourceType\": \"Patient\", \"id\": \"p\"}},\n  {\"resource\": {\"resourceType\": \"Patient\" \"id\": \"q\"}}\n ]\n}\n";
    let file = write(dir.path(), "broken.json", text);
    let summary = import(&mut store, &[file], false);
    let [error] = summary.files_failed.as_slice() else {
        panic!("one failure expected")
    };
    match error {
        ImportError::MalformedJson {
            file,
            location: Location::Position { line, column },
            ..
        } => {
            assert!(file.ends_with("broken.json"));
            assert_eq!((*line, *column), (6, 43), "{error}");
            assert!(
                error.to_string().contains("expected `,` or `}`"),
                "syntax errors keep their punctuation: {error}"
            );
        }
        other => panic!("expected malformed JSON with a position, got {other}"),
    }
    assert_eq!(
        store.patient_count().unwrap(),
        0,
        "the first, valid entry is not kept either"
    );
}

#[test]
fn ndjson_errors_name_the_line_and_never_quote_data() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open_store(dir.path());
    let file = write(
        dir.path(),
        "Patient.ndjson",
        "{\"resourceType\":\"Patient\",\"id\":\"a\"}\n\n{\"resourceType\":\"Patient\",\"id\":\"b\",\"name\":\"Secretname Person\"}\n",
    );
    let summary = import(&mut store, &[file], false);
    let [error] = summary.files_failed.as_slice() else {
        panic!("one failure expected")
    };
    let message = error.to_string();
    assert!(
        matches!(
            error,
            ImportError::InvalidResource {
                location: Location::Line(3),
                ..
            }
        ),
        "{message}"
    );
    assert!(
        !message.contains("Secretname"),
        "a data value leaked into the error: {message}"
    );
    assert_eq!(store.patient_count().unwrap(), 0);
}

#[test]
fn keep_going_imports_the_other_files_and_stopping_does_not() {
    let dir = tempfile::tempdir().unwrap();
    let bad = write(dir.path(), "a-bad.ndjson", "{not json}\n");
    let good = write(dir.path(), "b-good.json", PATIENT_BUNDLE);
    let other = write(dir.path(), "notes.txt", "hello");

    let mut store = open_store(&dir.path().join("stop"));
    let stopped = import(&mut store, &[bad.clone(), good.clone()], false);
    assert_eq!((stopped.files_ok, stopped.files_failed.len()), (0, 1));
    assert_eq!(
        store.patient_count().unwrap(),
        0,
        "without --keep-going the run stops at the failure"
    );

    let mut store = open_store(&dir.path().join("go-on"));
    let went_on = import(&mut store, &[bad, good, other], true);
    assert_eq!((went_on.files_ok, went_on.files_failed.len()), (1, 2));
    assert!(matches!(
        went_on.files_failed[1],
        ImportError::Unsupported { .. }
    ));
    assert_eq!(store.patient_count().unwrap(), 1);
}

#[test]
fn newer_versions_replace_older_ones_and_older_ones_are_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open_store(dir.path());
    let version = |v: u32, updated: &str, family: &str| {
        format!(
            "{{\"resourceType\":\"Patient\",\"id\":\"p\",\"meta\":{{\"versionId\":\"{v}\",\"lastUpdated\":\"{updated}\"}},\"name\":[{{\"family\":\"{family}\"}}]}}\n"
        )
    };
    let v2 = write(
        dir.path(),
        "v2.ndjson",
        &version(2, "2024-02-01T00:00:00Z", "Second"),
    );
    let v1 = write(
        dir.path(),
        "v1.ndjson",
        &version(1, "2024-01-01T00:00:00Z", "First"),
    );
    let v3 = write(
        dir.path(),
        "v3.ndjson",
        &version(3, "2024-03-01T00:00:00+01:00", "Third"),
    );

    import(&mut store, &[v2], false);
    let older = import(&mut store, &[v1], false);
    assert_eq!(older.older, counts(&[("Patient", 1)]));
    assert!(store
        .resource_body("Patient", "p")
        .unwrap()
        .unwrap()
        .contains("Second"));
    let newer = import(&mut store, &[v3], false);
    assert_eq!(newer.stored, counts(&[("Patient", 1)]));
    assert!(store
        .resource_body("Patient", "p")
        .unwrap()
        .unwrap()
        .contains("Third"));
    let (_, rows) = store.patients_page(None, 0, 10).unwrap();
    assert_eq!(
        rows[0].name, "Third",
        "the patient list follows the newest version"
    );
}

#[test]
fn references_and_ids_resolve_in_every_documented_form() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open_store(dir.path());
    // The Patient's id differs from its fullUrl; entries without resource.id take theirs from
    // fullUrl; one reference comes before the Patient entry; one resource has no reference;
    // a DELETE entry is ignored.
    let bundle = r#"{"resourceType":"Bundle","type":"transaction","entry":[
      {"fullUrl":"urn:uuid:obs-early","resource":{"resourceType":"Observation","subject":{"reference":"urn:uuid:full-p"}}},
      {"fullUrl":"urn:uuid:full-p","resource":{"resourceType":"Patient","id":"real-p","name":[{"family":"X"}]}},
      {"fullUrl":"urn:uuid:enc-1","resource":{"resourceType":"Encounter","subject":{"reference":"urn:uuid:full-p"}}},
      {"fullUrl":"https://example.org/fhir/MedicationRequest/mr-1","resource":{"resourceType":"MedicationRequest","subject":{"reference":"Patient/real-p"}}},
      {"fullUrl":"urn:uuid:cond-1","resource":{"resourceType":"Condition","id":"cond-1","subject":{"reference":"https://example.org/fhir/Patient/real-p"}}},
      {"fullUrl":"urn:uuid:imm-1","resource":{"resourceType":"Immunization","id":"imm-1"}},
      {"fullUrl":"urn:uuid:cov-1","resource":{"resourceType":"Coverage","id":"cov-1","beneficiary":{"reference":"urn:uuid:full-p"}}},
      {"fullUrl":"urn:uuid:app-1","resource":{"resourceType":"Appointment","id":"app-1","status":"noshow",
        "participant":[{"actor":{"reference":"Practitioner/dr-1"}},{"actor":{"reference":"Patient/real-p"}}]}},
      {"request":{"method":"DELETE","url":"Observation/gone"}}
    ]}"#;
    let file = write(dir.path(), "refs.json", bundle);
    let summary = import(&mut store, &[file], false);
    assert!(
        summary.files_failed.is_empty(),
        "{:?}",
        summary.files_failed
    );
    assert_eq!(summary.deletes_ignored, 1);
    for (resource_type, id) in [
        ("Observation", "obs-early"),
        ("Encounter", "enc-1"),
        ("MedicationRequest", "mr-1"),
        ("Condition", "cond-1"),
        ("Immunization", "imm-1"),
        ("Coverage", "cov-1"),
        ("Appointment", "app-1"),
    ] {
        assert_eq!(
            store
                .resource_patient(resource_type, id)
                .unwrap()
                .as_deref(),
            Some("real-p"),
            "{resource_type}/{id} belongs to the bundle's patient"
        );
    }
}

#[test]
fn gzip_files_and_tar_gz_archives_import_like_plain_files() {
    use flate2::{write::GzEncoder, Compression};
    let dir = tempfile::tempdir().unwrap();
    let mut store = open_store(&dir.path().join("data"));
    let mut gz = GzEncoder::new(Vec::new(), Compression::fast());
    gz.write_all(PATIENT_BUNDLE.as_bytes()).unwrap();
    let gz_bytes = gz.finish().unwrap();
    std::fs::write(dir.path().join("bundle.json.gz"), &gz_bytes).unwrap();

    let mut tar = tar::Builder::new(GzEncoder::new(Vec::new(), Compression::fast()));
    let ndjson = b"{\"resourceType\":\"Patient\",\"id\":\"nd-1\",\"name\":[{\"family\":\"Nd\"}]}\n";
    for (name, data) in [
        ("inner/a.ndjson", &ndjson[..]),
        ("inner/b.json.gz", &gz_bytes[..]),
        ("README.txt", b"x"),
    ] {
        let mut header = tar::Header::new_gnu();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        tar.append_data(&mut header, name, data).unwrap();
    }
    std::fs::write(
        dir.path().join("panel.tar.gz"),
        tar.into_inner().unwrap().finish().unwrap(),
    )
    .unwrap();

    let summary = import(
        &mut store,
        &[
            dir.path().join("bundle.json.gz"),
            dir.path().join("panel.tar.gz"),
        ],
        false,
    );
    assert!(
        summary.files_failed.is_empty(),
        "{:?}",
        summary.files_failed
    );
    assert_eq!(
        summary.files_ok, 3,
        "two archive members and one file; README is passed over"
    );
    assert_eq!(store.patient_count().unwrap(), 2);
}

#[test]
fn engagement_signal_files_are_validated_and_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open_store(&dir.path().join("data"));
    // Signals name people the cache knows (a signal for an unknown person is refused).
    let people = write(
        dir.path(),
        "Patient.ndjson",
        "{\"resourceType\":\"Patient\",\"id\":\"p-1\"}\n{\"resourceType\":\"Patient\",\"id\":\"p-2\"}\n",
    );
    assert!(import(&mut store, &[people], false).files_failed.is_empty());
    let good = write(
        dir.path(),
        "week.engagement.ndjson",
        "{\"patient\":\"Patient/p-1\",\"kind\":\"checkin_missed\",\"at\":\"2026-06-24\",\"channel\":\"app\"}\n\
         {\"patient\":\"p-1\",\"kind\":\"portal_login\",\"at\":\"2026-06-25T09:30:00+02:00\"}\n",
    );
    let first = import(&mut store, std::slice::from_ref(&good), false);
    assert_eq!((first.files_ok, first.engagement_signals), (1, 2));
    assert_eq!(store.engagement_signal_count().unwrap(), 2);
    let again = import(&mut store, &[good], false);
    assert_eq!(
        again.engagement_signals, 0,
        "the same signals are stored once"
    );

    for (name, line, reason) in [
        (
            "kind.engagement.ndjson",
            r#"{"patient":"p-1","kind":"visited","at":"2026-06-24"}"#,
            "unknown signal kind",
        ),
        (
            "at.engagement.ndjson",
            r#"{"patient":"p-1","kind":"checkin_done","at":"yesterday"}"#,
            "signal.at: must be a date",
        ),
        (
            "field.engagement.ndjson",
            r#"{"patient":"p-1","kind":"checkin_done","at":"2026-06-24","mood":"ok"}"#,
            "unknown field",
        ),
    ] {
        let file = write(
            dir.path(),
            name,
            &format!(
                "{{\"patient\":\"p-2\",\"kind\":\"checkin_done\",\"at\":\"2026-06-20\"}}\n{line}\n"
            ),
        );
        let summary = import(&mut store, &[file], false);
        let [error] = summary.files_failed.as_slice() else {
            panic!("{name}: one failure expected")
        };
        assert!(
            matches!(
                error,
                ImportError::InvalidResource {
                    location: Location::Line(2),
                    ..
                }
            ),
            "{error}"
        );
        assert!(error.to_string().contains(reason), "{name}: {error}");
        assert_eq!(
            store.engagement_signal_count().unwrap(),
            2,
            "{name}: the file's first, valid line is not kept"
        );
    }
}
