//! Integration tests of the application API: the desktop start-up path, the patient list,
//! and that no plaintext of imported data is left anywhere in the data directory.

use std::path::{Path, PathBuf};

use careloop_api::{Careloop, Config, ErrorCode, PatientQuery, Progress};
use careloop_store::KeySource;
use chrono::NaiveDate;

fn key_file(dir: &Path) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join("key");
    std::fs::write(&path, format!("{}\n", "5a".repeat(32))).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    path
}

fn config(root: &Path) -> Config {
    Config {
        data_dir: root.join("data"),
        key: KeySource::KeyFile(key_file(root)),
    }
}

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 6, 30).unwrap()
}

/// Every byte of every file below `dir`.
fn all_bytes(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(all_bytes(&path));
        } else {
            out.push((path.clone(), std::fs::read(&path).unwrap()));
        }
    }
    out
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn first_desktop_start_creates_the_cache_loads_a_demo_panel_and_reports_progress() {
    let root = tempfile::tempdir().unwrap();
    let config = config(root.path());
    let mut stages = Vec::new();
    let mut import_progress = Vec::new();
    let (careloop, report) =
        Careloop::open_for_desktop(&config, 120, today(), &mut |p: &Progress| {
            if !stages.contains(&p.stage) {
                stages.push(p.stage.clone());
            }
            if p.stage == "import" {
                import_progress.push((p.done, p.total));
            }
        })
        .unwrap();
    assert!(report.created && report.demo_loaded, "{report:?}");
    assert_eq!(report.patients, 120);
    assert_eq!(stages, ["unlock", "demo", "import", "facts", "ready"]);
    let (done, total) = *import_progress.last().unwrap();
    assert_eq!(Some(done), total, "the import progress ends at its total");
    assert!(
        import_progress.windows(2).all(|w| w[0].0 <= w[1].0),
        "progress never goes back"
    );

    let page = careloop
        .list_patients(&PatientQuery {
            text: None,
            offset: 0,
            limit: 50,
        })
        .unwrap();
    assert_eq!((page.total, page.rows.len()), (120, 50));
    let names: Vec<&str> = page.rows.iter().map(|r| r.name.as_str()).collect();
    let mut sorted = names.clone();
    sorted.sort_by_key(|n| n.to_lowercase());
    assert_eq!(names, sorted, "the list is sorted by name");
    drop(careloop);

    // The second start finds the cache and loads nothing.
    let (_, again) = Careloop::open_for_desktop(&config, 120, today(), &mut |_| {}).unwrap();
    assert!(!again.created && !again.demo_loaded);
    assert_eq!(again.patients, 120);
}

#[test]
fn the_patient_list_filters_by_name_and_pages() {
    let root = tempfile::tempdir().unwrap();
    let (careloop, _) =
        Careloop::open_for_desktop(&config(root.path()), 200, today(), &mut |_| {}).unwrap();
    let everyone = careloop
        .list_patients(&PatientQuery {
            text: None,
            offset: 0,
            limit: 500,
        })
        .unwrap();
    let first = &everyone.rows[0].name;
    let fragment: String = first.chars().take(3).collect::<String>().to_uppercase();
    let filtered = careloop
        .list_patients(&PatientQuery {
            text: Some(fragment.clone()),
            offset: 0,
            limit: 500,
        })
        .unwrap();
    assert!(filtered.total >= 1 && filtered.total < everyone.total);
    assert!(filtered
        .rows
        .iter()
        .all(|r| r.name.to_uppercase().contains(&fragment)));

    let second_page = careloop
        .list_patients(&PatientQuery {
            text: None,
            offset: 100,
            limit: 100,
        })
        .unwrap();
    assert_eq!(second_page.rows[0], everyone.rows[100]);
    let capped = careloop
        .list_patients(&PatientQuery {
            text: None,
            offset: 0,
            limit: 100_000,
        })
        .unwrap();
    assert_eq!(capped.rows.len(), careloop_api::MAX_PAGE.min(200) as usize);
}

#[test]
fn no_plaintext_of_an_imported_name_is_anywhere_in_the_data_dir() {
    let root = tempfile::tempdir().unwrap();
    let config = config(root.path());
    let input = root.path().join("input");
    std::fs::create_dir(&input).unwrap();
    let canary = "Zqxvbrwynd";
    std::fs::write(
        input.join("Patient.ndjson"),
        format!(
            "{{\"resourceType\":\"Patient\",\"id\":\"canary-1\",\"name\":[{{\"given\":[\"{canary}\"],\"family\":\"Quokkafield\"}}],\"telecom\":[{{\"system\":\"phone\",\"value\":\"555-0199-8877\"}}]}}\n"
        ),
    )
    .unwrap();
    let mut careloop = Careloop::open(&config).unwrap();
    let summary = careloop.import(&[input], false, &mut |_| {}).unwrap();
    assert!(summary.files_failed.is_empty());
    let page = careloop
        .list_patients(&PatientQuery {
            text: Some(canary.into()),
            offset: 0,
            limit: 10,
        })
        .unwrap();
    assert_eq!(page.total, 1, "the name is stored and found");

    // While open (WAL and shared memory present) and after closing.
    for stage in ["open", "closed"] {
        let files = all_bytes(&config.data_dir);
        assert!(!files.is_empty());
        for (path, bytes) in &files {
            for needle in [canary, "Quokkafield", "555-0199-8877", "canary-1"] {
                assert!(
                    !contains(bytes, needle.as_bytes()),
                    "{stage}: {} holds the plaintext {needle:?}",
                    path.display()
                );
            }
        }
        if stage == "open" {
            drop(std::mem::replace(
                &mut careloop,
                Careloop::open(&config).unwrap(),
            ));
        }
    }
}

#[test]
fn errors_carry_a_code_the_ui_can_act_on() {
    let root = tempfile::tempdir().unwrap();
    let config = config(root.path());
    drop(Careloop::open(&config).unwrap());
    let wrong = Config {
        data_dir: config.data_dir.clone(),
        key: KeySource::KeyFile({
            let path = root.path().join("other-key");
            std::fs::write(&path, "7b".repeat(32)).unwrap();
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
            path
        }),
    };
    let err = Careloop::open(&wrong).unwrap_err();
    assert_eq!(err.code, ErrorCode::CacheLocked);
    let json = serde_json::to_value(&err).unwrap();
    assert_eq!(json["code"], "cache_locked");
    assert!(json["message"]
        .as_str()
        .unwrap()
        .contains("cannot unlock the local cache"));
}

fn actor(name: &str) -> careloop_api::Actor {
    careloop_api::Actor {
        name: name.into(),
        at: chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2021, 4, 1, 9, 0, 0).unwrap(),
    }
}

/// Two people: one discharged on 2021-03-10 (in post_discharge_30d until 2021-04-09), one
/// with seven active medications.
fn small_panel(root: &Path) -> Careloop {
    let input = root.join("input");
    std::fs::create_dir_all(&input).unwrap();
    let mut lines = vec![
        r#"{"resourceType":"Patient","id":"dis","birthDate":"1950-01-01","gender":"male","name":[{"family":"Dis"}]}"#.to_owned(),
        r#"{"resourceType":"Patient","id":"meds","birthDate":"1950-01-01","gender":"female","name":[{"family":"Meds"}]}"#.to_owned(),
        r#"{"resourceType":"Encounter","id":"stay","status":"finished","class":{"code":"IMP"},"subject":{"reference":"Patient/dis"},"period":{"start":"2021-03-05","end":"2021-03-10"}}"#.to_owned(),
    ];
    for n in 1..=7 {
        lines.push(format!(
            r#"{{"resourceType":"MedicationRequest","id":"m{n}","status":"active","intent":"order","authoredOn":"2020-01-01","subject":{{"reference":"Patient/meds"}},"medicationCodeableConcept":{{"coding":[{{"system":"http://www.nlm.nih.gov/research/umls/rxnorm","code":"{n}"}}]}}}}"#
        ));
    }
    std::fs::write(input.join("panel.ndjson"), lines.join("\n")).unwrap();
    let mut careloop = Careloop::open(&config(root)).unwrap();
    assert!(careloop
        .import(&[input], false, &mut |_| {})
        .unwrap()
        .files_failed
        .is_empty());
    careloop
}

fn day(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

#[test]
fn runs_are_recorded_and_diff_names_who_entered_and_left() {
    let root = tempfile::tempdir().unwrap();
    let mut careloop = small_panel(root.path());
    assert_eq!(
        careloop.segment_diff(None, None).unwrap_err().code,
        ErrorCode::NotFound,
        "a diff needs two runs"
    );
    let first = careloop
        .segment(day("2021-03-31"), None, &actor("sam"))
        .unwrap();
    assert_eq!(first.segments["post_discharge_30d"].members, ["dis"]);
    let second = careloop
        .segment(day("2021-04-14"), None, &actor("ana"))
        .unwrap();
    assert!(second.segments["post_discharge_30d"].members.is_empty());
    let runs = careloop.cohort_runs().unwrap();
    assert_eq!(runs.len(), 2);
    assert_eq!(
        (runs[0].as_of.as_str(), runs[1].run_by.as_str()),
        ("2021-03-31", "ana")
    );
    assert_eq!(
        runs[0].run_at, "2021-04-01T09:00:00Z",
        "the time is the one passed in"
    );

    let diff = careloop.segment_diff(None, None).unwrap();
    assert_eq!((diff.from.id, diff.to.id), (runs[0].id, runs[1].id));
    assert_eq!(diff.segments["post_discharge_30d"].left, ["dis"]);
    assert!(diff.segments["post_discharge_30d"].entered.is_empty());
    assert!(
        diff.segments["polypharmacy"].entered.is_empty()
            && diff.segments["polypharmacy"].left.is_empty()
    );
    let reverse = careloop
        .segment_diff(Some(runs[1].id), Some(runs[0].id))
        .unwrap();
    assert_eq!(reverse.segments["post_discharge_30d"].entered, ["dis"]);
}

#[test]
fn preview_shows_the_impact_of_a_draft_and_publishing_makes_it_the_one_in_force() {
    let root = tempfile::tempdir().unwrap();
    let mut careloop = small_panel(root.path());
    let mut draft: serde_json::Value =
        serde_json::from_str(include_str!("../../../schema/segments/polypharmacy.json")).unwrap();
    draft["version"] = serde_json::json!(2);
    draft["rule"] = serde_json::json!("active_medications >= 10");
    let file = root.path().join("polypharmacy-v2.json");
    std::fs::write(&file, serde_json::to_string_pretty(&draft).unwrap()).unwrap();

    let preview = careloop.preview_segment(&file, day("2021-03-31")).unwrap();
    assert_eq!(
        (preview.published_version, preview.draft_version),
        (Some(1), 2)
    );
    assert_eq!((preview.published_count, preview.draft_count), (1, 0));
    assert_eq!(preview.removed, ["meds"]);
    assert!(preview.added.is_empty());
    assert_eq!(
        careloop
            .segment(day("2021-03-31"), None, &actor("sam"))
            .unwrap()
            .segments["polypharmacy"]
            .count,
        1,
        "a preview publishes nothing"
    );

    let published = careloop.publish_segment(&file, &actor("sam")).unwrap();
    assert_eq!(
        (published.version, published.published_by.as_str()),
        (2, "sam")
    );
    assert_eq!(
        careloop
            .segment(day("2021-03-31"), None, &actor("sam"))
            .unwrap()
            .segments["polypharmacy"]
            .count,
        0
    );
    let again = careloop.publish_segment(&file, &actor("sam")).unwrap_err();
    assert!(
        again
            .message
            .contains("not newer than the published version 2"),
        "{}",
        again.message
    );

    draft["rule"] = serde_json::json!("active_medications >= 10 and agee > 1");
    draft["version"] = serde_json::json!(3);
    std::fs::write(&file, serde_json::to_string_pretty(&draft).unwrap()).unwrap();
    let invalid = careloop.publish_segment(&file, &actor("sam")).unwrap_err();
    assert_eq!(invalid.code, ErrorCode::BadInput);
    assert!(
        invalid.message.contains("unknown signal \"agee\""),
        "{}",
        invalid.message
    );
}
