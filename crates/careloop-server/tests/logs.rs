//! The server's and the sync client's logs carry no PHI, even at TRACE for every target
//! (axum, hyper, hyper-util, rustls and reqwest through the `log` bridge): a panel of people
//! whose names, birth dates, phones, addresses, MRNs, ids, condition text and file name are
//! canaries is published and synced, attempts with canary notes and an escalation go up and
//! come down, sign-ins fail with a canary as the password and as the user name, and hostile
//! requests carry canaries in the path, the query, the method, the token and the body.
//!
//! One test in this file: it installs the process's global subscriber (the server logs from
//! its own runtime's threads, which a thread-local subscriber would not see).

use std::io::Write;
use std::sync::{Arc, Mutex};

use careloop_api::sync::Transport;
use careloop_api::{NextAction, Role, WorklistFilter};
use careloop_server::{admin, ServerConfig};
use careloop_sync::{Connection, HttpTransport, TokenStore};
use careloop_testkit::{unreachable_attempt, Workstation, PASSWORD};
use careloop_wire::{PushRequest, WireEvent};
use chrono::{DateTime, NaiveDate, TimeZone, Utc};

const CANARY: &str = "zqxcanary";
const PHONE: &str = "617-739-2846";
const PHONE_DIGITS: &str = "6177392846";
const MRN: &str = "QXM-55031";
const BIRTH_DATES: [&str; 2] = ["1958-04-17", "1949-09-23"];
/// The wrong password typed (a password is not PHI, but it is free text and must not show).
const PASSWORD_TYPED: &str = "Zqxcanary-pw-Hunter2!";

/// The canaries found in `text`.
fn canaries_in(text: &str) -> Vec<&'static str> {
    let lower = text.to_lowercase();
    [
        CANARY,
        PHONE,
        PHONE_DIGITS,
        MRN,
        BIRTH_DATES[0],
        BIRTH_DATES[1],
    ]
    .into_iter()
    .chain([PASSWORD_TYPED])
    .filter(|c| lower.contains(&c.to_lowercase()))
    .collect()
}

/// Two women of screening age (one over 65, one diabetic): cases open for both.
fn bundle() -> String {
    let patient = |n: u32, birth: &str, phone: &str, mrn: &str| {
        serde_json::json!({
            "fullUrl": format!("urn:uuid:7c1f9a52-4d0e-4b7e-9a57-3f8e2b6c1d0{n}"),
            "resource": {
                "resourceType": "Patient",
                "id": format!("zqxcanary-pid-{n}"),
                "identifier": [{"system": "http://hospital.example.org/mrn", "value": mrn}],
                "name": [{"use": "official", "given": [format!("Zqxcanarygiven{n}")], "family": "Zqxcanaryfamily"}],
                "gender": "female",
                "birthDate": birth,
                "telecom": [{"system": "phone", "value": phone, "rank": 1}],
                "address": [{"line": [format!("{n} Zqxcanary Street")], "city": "Zqxcanaryville", "state": "MA"}]
            }
        })
    };
    serde_json::json!({
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            patient(1, BIRTH_DATES[0], PHONE, MRN),
            patient(2, BIRTH_DATES[1], "(617) 739-2846", "QXM-55032"),
            {
                "fullUrl": "urn:uuid:7c1f9a52-4d0e-4b7e-9a57-3f8e2b6c1d09",
                "resource": {
                    "resourceType": "Condition",
                    "id": "zqxcanary-cond-1",
                    "clinicalStatus": {"coding": [{
                        "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                        "code": "active"
                    }]},
                    "code": {
                        "coding": [{"system": "http://snomed.info/sct", "code": "44054006"}],
                        "text": "Zqxcanary condition text"
                    },
                    "subject": {"reference": "Patient/zqxcanary-pid-1"},
                    "onsetDateTime": "2015-03-02",
                    "note": [{"text": "Zqxcanary clinical note"}]
                }
            }
        ]
    })
    .to_string()
}

/// Where the subscriber writes: one buffer for the whole process.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

/// The subscriber `careloop serve` installs, at TRACE for every target.
fn capture_everything() -> Captured {
    let captured = Captured::default();
    let writer = captured.clone();
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(
            careloop_server::logging::directives("trace"),
        ))
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .try_init()
        .expect("the only subscriber of this test binary");
    captured
}

fn at(minutes: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 2, 9, 0, 0).unwrap() + chrono::Duration::minutes(minutes)
}

fn sign_in(server: &careloop_server::ServerHandle, ws: &mut Workstation) -> HttpTransport {
    let connection = Connection::new(&server.url(), Some(&server.pin)).unwrap();
    let workstation = ws.api().workstation_id().unwrap();
    HttpTransport::sign_in(
        connection,
        &ws.user.clone(),
        PASSWORD,
        &workstation,
        TokenStore::memory(),
    )
    .unwrap()
}

#[test]
fn the_server_and_the_sync_client_log_no_phi_at_trace() {
    let logs = capture_everything();
    let dir = tempfile::tempdir().unwrap();

    // The panel: published from a file named after a person, as Synthea names its files.
    let panel = dir.path().join("panel");
    std::fs::create_dir_all(&panel).unwrap();
    std::fs::write(panel.join("Zqxcanarygiven1_Zqxcanaryfamily.json"), bundle()).unwrap();
    let data = dir.path().join("server");
    let published = admin::publish_panel(&data, "north", &[panel], published_at()).unwrap();
    assert_eq!(published.people, 2);
    admin::add_user(&data, "ana", "coordinator", "north", PASSWORD).unwrap();
    admin::add_user(&data, "sue", "supervisor", "north", PASSWORD).unwrap();

    let mut config = ServerConfig::new(data.clone(), "127.0.0.1:0".parse().unwrap());
    // Lock an account name at its second failure, to log a lock.
    config.sign_in_limits.account_free = 5;
    config.sign_in_limits.account_lock_at = 2;
    let server = careloop_server::start(config).unwrap();

    // Sue syncs the panel and opens the cases; ana claims two, records attempts with notes
    // (one escalates) and syncs; sue pulls them.
    let mut sue = Workstation::open(&dir.path().join("sue"), "sue", Role::Supervisor);
    let mut sue_link = sign_in(&server, &mut sue);
    sue.sync_with(&mut sue_link, at(0)).unwrap();
    let as_of = NaiveDate::from_ymd_opt(2026, 11, 1).unwrap();
    let opened = sue
        .act(at(1), |api, s| api.open_cases(s, as_of, None))
        .unwrap();
    assert!(opened.opened >= 2, "{opened:?}");
    sue.sync_with(&mut sue_link, at(2)).unwrap();

    let mut ana = Workstation::open(&dir.path().join("ana"), "ana", Role::Coordinator);
    let mut ana_link = sign_in(&server, &mut ana);
    ana.sync_with(&mut ana_link, at(3)).unwrap();
    let pool: Vec<uuid::Uuid> = ana
        .act(at(4), |api, s| {
            api.worklist(
                s,
                &WorklistFilter {
                    owner: Some(String::new()),
                    ..WorklistFilter::default()
                },
            )
        })
        .unwrap()
        .iter()
        .map(|row| row.case_id.parse().unwrap())
        .collect();
    assert!(pool.len() >= 2);
    for case in &pool[..2] {
        ana.act(at(5), |api, s| api.claim_case(s, *case)).unwrap();
    }
    let on = NaiveDate::from_ymd_opt(2026, 11, 4).unwrap();
    ana.act(at(6), |api, s| {
        api.record_attempt(
            s,
            unreachable_attempt(
                pool[0],
                on,
                Some(format!(
                    "Zqxcanary's daughter picked up at {PHONE}; MRN {MRN}"
                )),
            ),
        )
    })
    .unwrap();
    let mut escalating = unreachable_attempt(pool[1], on, None);
    escalating.next = NextAction::Escalate {
        kind: careloop_api::EscalationKind::NoContact,
        note: "Zqxcanary moved to 9 Zqxcanary Lane, born 1949-09-23".into(),
    };
    ana.act(at(7), |api, s| api.record_attempt(s, escalating))
        .unwrap();
    let report = ana.sync_with(&mut ana_link, at(8)).unwrap();
    assert!(report.pushed >= 4, "{report:?}");
    let report = sue.sync_with(&mut sue_link, at(9)).unwrap();
    assert!(report.pulled >= 4, "{report:?}");

    // A push the server refuses with a message that quotes what was sent (the kind): the
    // client logs the refusal's code, not its message.
    let refused = ana_link
        .push(&PushRequest {
            workstation: ana.api().workstation_id().unwrap(),
            events: vec![WireEvent {
                id: uuid::Uuid::now_v7(),
                kind: "zqxcanary.note".into(),
                subject: "zqxcanary-pid-1".into(),
                actor: "ana".into(),
                occurred_at: at(10),
                payload: serde_json::json!({"role": "coordinator", "note": "Zqxcanary"}),
                payload_version: 1,
            }],
            audit_head: None,
        })
        .unwrap_err();
    assert!(
        refused.message.to_lowercase().contains(CANARY),
        "the message quotes the kind: {}",
        refused.message
    );

    // Failed sign-ins: a canary password for a real user, a person's name typed as the user
    // (twice: the second locks that name, the third is throttled).
    let conn = Connection::new(&server.url(), Some(&server.pin)).unwrap();
    assert!(conn.login("ana", PASSWORD_TYPED, "ws-1").is_err());
    for _ in 0..3 {
        assert!(conn
            .login("Zqxcanaryfamily Zqxcanarygiven1", PASSWORD_TYPED, "ws-1")
            .is_err());
    }

    // Hostile requests with canaries where a careless log would copy them.
    let token = conn.login("ana", PASSWORD, "ws-1").unwrap().access_token;
    let hostile: &[(&str, &str, Option<&str>, &str)] = &[
        (
            "GET",
            "/api/v1/patients/zqxcanary-pid-1?name=Zqxcanaryfamily",
            Some(&token),
            "",
        ),
        ("GET", "/api/v1/events?after=zqxcanary", Some(&token), ""),
        ("ZQXCANARY", "/api/v1/events", Some(&token), ""),
        ("DELETE", "/api/v1/events", Some(&token), ""),
        ("GET", "/api/v1/me", Some("Zqxcanary-token"), ""),
        (
            "POST",
            "/api/v1/events",
            Some(&token),
            r#"{"workstation":"ws","events":[{"id":"Zqxcanary 617-739-2846"}]}"#,
        ),
        (
            "POST",
            "/api/v1/events",
            Some(&token),
            r#"{"workstation":"ws","events":[Zqxcanary"#,
        ),
        (
            "POST",
            "/api/v1/auth/login",
            None,
            r#"{"user":"Zqxcanaryfamily","password":1958,"workstation":"QXM-55031"}"#,
        ),
    ];
    for (method, path, bearer, body) in hostile {
        let (status, _) = conn
            .raw(
                method,
                path,
                *bearer,
                Some("application/json"),
                body.as_bytes().to_vec(),
            )
            .unwrap();
        assert!(status >= 400, "{method} {path}: {status}");
    }

    // A dependency that would write bodies (reqwest's verbose connections) stays off even
    // at TRACE.
    tracing::trace!(target: "reqwest::connect::verbose", "zqxcanary write: {PHONE}");

    server.stop();
    drop(ana_link);
    drop(sue_link);
    let text = logs.text();

    // Logging is on, at every level, for ours and the dependencies' targets.
    for expected in [
        "careloop_server::lifecycle",
        "server started",
        "server stopping",
        "server migration applied",
        "panel published",
        r#"route="/api/v1/events""#,
        r#"route="/api/v1/panel""#,
        r#"route="/api/v1/auth/login""#,
        r#"route="unmatched""#,
        r#"method="other""#,
        "status=200",
        "code=\"unauthorized\"",
        "code=\"not_found\"",
        "code=\"method_not_allowed\"",
        "code=\"invalid_body\"",
        "code=\"malformed_json\"",
        "code=\"bad_request\"",
        "code=\"bad_input\"",
        "outcome=\"too_many_attempts\"",
        "lock=\"account\"",
        "push stored",
        "accepted=",
        "careloop_sync",
        "op=\"push\"",
        "op=\"pull\"",
        "latency_us=",
        "rustls::",
        "TRACE",
    ] {
        assert!(
            text.contains(expected),
            "the logs lack {expected:?}:\n{text}"
        );
    }

    // …and no canary anywhere.
    let leaks: Vec<(&str, Vec<&str>)> = text
        .lines()
        .map(|line| (line, canaries_in(line)))
        .filter(|(_, found)| !found.is_empty())
        .collect();
    assert!(
        leaks.is_empty(),
        "{} log lines carry PHI canaries, e.g.:\n{}",
        leaks.len(),
        leaks
            .iter()
            .take(10)
            .map(|(line, found)| format!("{found:?} in {line}"))
            .collect::<Vec<_>>()
            .join("\n")
    );
}

/// When the tests publish panels (the lists are brought current as of its day).
fn published_at() -> chrono::DateTime<chrono::Utc> {
    "2026-07-01T10:00:00Z".parse().unwrap()
}
