//! Global search through the API on a real encrypted cache: what the index finds (accents,
//! phone digits, identifiers), that nothing of it reaches the disk, that new notes are found
//! without a rebuild, that results respect the role, and that opening one is audited.

use std::path::{Path, PathBuf};

use careloop_api::{
    AttemptInput, Careloop, Channel, Config, ErrorCode, NextAction, Outcome, Role, SearchQuery,
    Session, WorklistFilter,
};
use careloop_store::{AuditOutcome, KeySource};
use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

fn config(root: &Path) -> Config {
    use std::os::unix::fs::PermissionsExt;
    let key = root.join("key");
    std::fs::write(&key, "3c".repeat(32)).unwrap();
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    Config {
        data_dir: root.join("data"),
        key: KeySource::KeyFile(key),
    }
}

/// A discharged person with a canary name, phone and MRN; a second person.
fn panel(root: &Path) -> Careloop {
    let input: PathBuf = root.join("input");
    std::fs::create_dir_all(&input).unwrap();
    let lines = [
        r#"{"resourceType":"Patient","id":"dis","identifier":[{"system":"urn:mrn","value":"MRN-0042137"}],"birthDate":"1950-01-01","gender":"male","name":[{"family":"Zyxqwertón","given":["Adán"]}],"telecom":[{"system":"phone","value":"+1 555-014-2233"}],"address":[{"line":["1 Main St"],"city":"Springfield"}]}"#,
        r#"{"resourceType":"Patient","id":"other","birthDate":"1960-01-01","gender":"female","name":[{"family":"Martínez","given":["María"]}]}"#,
        r#"{"resourceType":"Encounter","id":"stay","status":"finished","class":{"code":"IMP"},"subject":{"reference":"Patient/dis"},"period":{"start":"2021-03-05","end":"2021-03-10"}}"#,
    ];
    std::fs::write(input.join("panel.ndjson"), lines.join("\n")).unwrap();
    let mut careloop = Careloop::open(&config(root)).unwrap();
    assert!(careloop
        .import(std::slice::from_ref(&input), false, &mut |_| {})
        .unwrap()
        .files_failed
        .is_empty());
    std::fs::remove_dir_all(input).unwrap();
    careloop
}

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn who(user: &str, role: Role) -> Session {
    Session {
        user: user.into(),
        role,
        at: t("2021-04-01T09:00:00Z"),
    }
}

fn query(text: &str) -> SearchQuery {
    SearchQuery {
        text: text.into(),
        limit: 20,
        ..SearchQuery::default()
    }
}

fn ids(careloop: &mut Careloop, session: &Session, q: &SearchQuery) -> Vec<(String, String)> {
    careloop
        .search(session, q)
        .unwrap()
        .into_iter()
        .map(|h| (h.kind, h.id))
        .collect()
}

/// Ana claims the discharged person's case and records an unreached attempt with `note`.
fn claim_and_note(careloop: &mut Careloop, ana: &Session, note: &str) {
    let pool = WorklistFilter {
        owner: Some(String::new()),
        ..Default::default()
    };
    let case_id: Uuid = careloop
        .worklist(ana, &pool)
        .unwrap()
        .iter()
        .find(|r| r.patient_id == "dis")
        .unwrap()
        .case_id
        .parse()
        .unwrap();
    careloop.claim_case(ana, case_id).unwrap();
    careloop
        .record_attempt(
            ana,
            AttemptInput {
                case_id,
                channel: Channel::Phone,
                reached: false,
                message_id: None,
                answers: Default::default(),
                outcome: Outcome::Unreachable,
                next: NextAction::FollowUp {
                    on: NaiveDate::from_ymd_opt(2021, 4, 2).unwrap(),
                },
                contact_limit_override: None,
                note: Some(note.into()),
            },
        )
        .unwrap();
}

fn files_under(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else {
            out.push((path.clone(), std::fs::read(&path).unwrap()));
        }
    }
    out
}

#[test]
fn search_finds_people_and_notes_as_typed_without_writing_plaintext() {
    let root = tempfile::tempdir().unwrap();
    let mut careloop = panel(root.path());
    let ana = who("ana", Role::Coordinator);
    let person = ("person".to_owned(), "dis".to_owned());
    for q in [
        "adan",
        "Adán zyx",
        "zyxqwerton",
        "(555) 014-2233",
        "0142233",
        "mrn-00421",
        "Zyxqwretón",
    ] {
        assert!(ids(&mut careloop, &ana, &query(q)).contains(&person), "{q}");
    }
    assert!(!ids(&mut careloop, &ana, &query("adan martinez")).contains(&person));

    // A case and an attempt with a note: searchable as soon as it is recorded.
    careloop
        .open_cases(&ana, NaiveDate::from_ymd_opt(2021, 4, 1).unwrap(), None)
        .unwrap();
    claim_and_note(
        &mut careloop,
        &ana,
        "left a voicemail about the quokkaflight appointment",
    );
    let hits = careloop.search(&ana, &query("quokkafl")).unwrap();
    assert_eq!(hits.len(), 1, "{hits:?}");
    assert_eq!(
        (hits[0].kind.as_str(), hits[0].patient_id.as_deref()),
        ("attempt_note", Some("dis"))
    );
    assert!(
        hits[0].snippet.contains("<b>quokkaflight</b>"),
        "{}",
        hits[0].snippet
    );
    // Filters: the person's case now belongs to ana.
    let owned = SearchQuery {
        owner: Some("ana".into()),
        ..query("adan")
    };
    assert!(ids(&mut careloop, &ana, &owned).contains(&person));
    let others = SearchQuery {
        owner: Some("ben".into()),
        ..query("adan")
    };
    assert!(ids(&mut careloop, &ana, &others).is_empty());

    // Nothing searchable reached the disk: the index is in RAM, the cache encrypted.
    for (path, bytes) in files_under(root.path()) {
        for canary in [&b"Zyxqwert"[..], b"zyxqwert", b"quokkaflight", b"0142233"] {
            assert!(
                !bytes.windows(canary.len()).any(|w| w == canary),
                "{} holds {}",
                path.display(),
                String::from_utf8_lossy(canary)
            );
        }
    }
}

#[test]
fn results_respect_the_role_and_opening_one_is_audited() {
    let root = tempfile::tempdir().unwrap();
    let mut careloop = panel(root.path());
    let ana = who("ana", Role::Coordinator);
    let cleo = who("cleo", Role::Clinician);
    let admin = who("root", Role::Admin);
    // Build the index first, then document a callback: it is indexed incrementally.
    assert!(careloop.prepare_search().unwrap() > 0);
    careloop
        .open_cases(&ana, NaiveDate::from_ymd_opt(2021, 4, 1).unwrap(), None)
        .unwrap();
    let case_id: Uuid = careloop
        .worklist(
            &ana,
            &WorklistFilter {
                owner: Some(String::new()),
                ..Default::default()
            },
        )
        .unwrap()
        .iter()
        .find(|r| r.patient_id == "dis")
        .unwrap()
        .case_id
        .parse()
        .unwrap();
    careloop.claim_case(&ana, case_id).unwrap();
    let mut attempt = AttemptInput {
        case_id,
        channel: Channel::Phone,
        reached: true,
        message_id: None,
        answers: serde_json::from_str(
            r#"{"medication_clarity":{"kind":"yes_no","value":true},"medicines_at_home":{"kind":"yes_no","value":true},"symptom_change":{"kind":"choice","value":"better"},"has_helper":{"kind":"yes_no","value":false},"home_barriers":{"kind":"choices","value":["none"]},"followup_booked":{"kind":"yes_no","value":false},"anything_else":{"kind":"text","value":"worried about the stairs"}}"#,
        )
        .unwrap(),
        outcome: Outcome::EmergingDeterioration,
        next: NextAction::ClinicianCallback { reason: "dizzy".into() },
        contact_limit_override: None,
        note: None,
    };
    attempt.note = Some("dizzy on the stairs".into());
    let callback: Uuid = careloop
        .record_attempt(&ana, attempt)
        .unwrap()
        .created
        .unwrap()
        .parse()
        .unwrap();
    careloop
        .document_callback(
            &cleo,
            callback,
            "orthostatic hypotension suspected",
            "review pressure tablets",
            true,
        )
        .unwrap();

    // The clinician finds the callback note; the coordinator does not; the admin finds
    // only scripts, never a person.
    let clinical = careloop.search(&cleo, &query("orthostatic")).unwrap();
    assert_eq!(clinical.len(), 1);
    assert_eq!(clinical[0].kind, "callback_note");
    assert!(careloop
        .search(&ana, &query("orthostatic"))
        .unwrap()
        .is_empty());
    assert!(careloop
        .search(&ana, &query("stairs"))
        .unwrap()
        .iter()
        .any(|h| h.kind == "answer"));
    assert!(careloop.search(&admin, &query("adan")).unwrap().is_empty());
    assert!(careloop
        .search(&admin, &query("medicines"))
        .unwrap()
        .iter()
        .all(|h| h.kind == "script"));
    assert!(!careloop
        .search(&admin, &query("medicines"))
        .unwrap()
        .is_empty());
    // Spanish script text is found too.
    assert!(careloop
        .search(&ana, &query("medicamentos"))
        .unwrap()
        .iter()
        .any(|h| h.kind == "script" && h.id.ends_with(":es")));

    // Opening a result is audited; opening what the role may not see is refused and audited.
    let person = careloop.search(&ana, &query("adan")).unwrap().remove(0);
    careloop.open_search_result(&ana, &person).unwrap();
    let err = careloop.open_search_result(&ana, &clinical[0]).unwrap_err();
    assert_eq!(err.code, ErrorCode::Forbidden);
    let opened: Vec<_> = careloop
        .store_mut()
        .audit_entries_for_patient("dis")
        .unwrap()
        .into_iter()
        .filter(|e| e.action == "search.open")
        .map(|e| e.outcome)
        .collect();
    assert_eq!(opened, [AuditOutcome::Allowed, AuditOutcome::Denied]);
}

#[test]
fn an_index_built_on_a_second_connection_catches_up_with_events_written_meanwhile() {
    let root = tempfile::tempdir().unwrap();
    let mut careloop = panel(root.path());
    let ana = who("ana", Role::Coordinator);
    careloop
        .open_cases(&ana, NaiveDate::from_ymd_opt(2021, 4, 1).unwrap(), None)
        .unwrap();
    // Built apart (as the desktop app does in the background at sign-in)...
    let built = Careloop::build_search_detached(&config(root.path())).unwrap();
    assert!(!careloop.search_ready());
    // ...while the app goes on writing.
    claim_and_note(&mut careloop, &ana, "kiwibird left a message");
    careloop.install_search(built).unwrap();
    assert!(careloop.search_ready());
    let hits = careloop.search(&ana, &query("kiwibird")).unwrap();
    assert_eq!(
        hits.len(),
        1,
        "the note written meanwhile is indexed: {hits:?}"
    );
    let owned = SearchQuery {
        owner: Some("ana".into()),
        ..query("adan")
    };
    assert!(ids(&mut careloop, &ana, &owned).contains(&("person".to_owned(), "dis".to_owned())));
}
