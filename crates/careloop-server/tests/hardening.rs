//! The server against hostile clients, over real HTTPS on loopback: sign-in throttling
//! (per account and per address, the same answer for unknown, wrong and disabled), refresh
//! token reuse, audit heads that only the token's own identity can move, field limits, and
//! slow or silent connections closed by their time-outs.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration as StdDuration, Instant};

use careloop_api::ErrorCode;
use careloop_sync::Connection;
use careloop_testkit::{Cluster, Workstation, PASSWORD};
use careloop_wire::{AuditHeadWire, PushRequest};
use chrono::{Duration, TimeZone, Utc};
use serde_json::{json, Value};

/// A wrong password that no message would contain by chance.
const BAD: &str = "n0t-the-Pa55word";

const NORTH: &[(&str, &str)] = &[
    ("ana", "coordinator"),
    ("sue", "supervisor"),
    ("bob", "coordinator"),
];

struct Fixture {
    dir: tempfile::TempDir,
    cluster: Cluster,
    conn: Connection,
    clock: Arc<AtomicI64>,
}

fn fixture(configure: impl Fn(&mut careloop_server::ServerConfig) + 'static) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(AtomicI64::new(0));
    let offset = clock.clone();
    let cluster = Cluster::start_with(dir.path(), 10, move |config| {
        let offset = offset.clone();
        config.clock =
            Arc::new(move || Utc::now() + Duration::seconds(offset.load(Ordering::SeqCst)));
        configure(config);
    });
    cluster.add_team("north", NORTH);
    cluster.add_empty_team("south", &[("zed", "coordinator")]);
    let conn = Connection::new(&cluster.url, Some(&cluster.pin)).unwrap();
    Fixture {
        dir,
        cluster,
        conn,
        clock,
    }
}

impl Fixture {
    fn advance(&self, seconds: i64) {
        self.clock.fetch_add(seconds, Ordering::SeqCst);
    }

    /// A sign-in's outcome: "ok", or the error code and message.
    fn sign_in(&self, user: &str, password: &str) -> (String, String) {
        match self.conn.login(user, password, "ws-1") {
            Ok(_) => ("ok".into(), String::new()),
            Err(e) => (format!("{:?}", e.code), e.message),
        }
    }

    fn raw_json(
        &self,
        method: &str,
        path: &str,
        bearer: Option<&str>,
        body: Value,
    ) -> (u16, Value) {
        let (status, text) = self
            .conn
            .raw(
                method,
                path,
                bearer,
                Some("application/json"),
                body.to_string().into_bytes(),
            )
            .unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }
}

#[test]
fn failed_sign_ins_are_slowed_then_locked_the_same_for_known_and_unknown_names() {
    let f = fixture(|_| {});
    for user in ["ana", "nobody"] {
        let mut answers = Vec::new();
        // Three free failures, then each one makes the next wait (1 s, 2 s, …).
        for _ in 0..3 {
            answers.push(f.sign_in(user, BAD).0);
        }
        assert_eq!(answers, ["Unauthorized"; 3], "{user}");
        assert_eq!(f.sign_in(user, BAD).0, "Unauthorized");
        let (code, message) = f.sign_in(user, PASSWORD);
        assert_eq!(
            code, "Refused",
            "{user}: asked again within the wait: {message}"
        );
        assert!(message.contains("too_many_attempts"), "{message}");
        assert!(message.contains("try again in 1 second"), "{message}");
        // Up to the lock (10 failures), waiting out each delay.
        for n in 5..=10 {
            f.advance(61);
            assert_eq!(f.sign_in(user, BAD).0, "Unauthorized", "{user} #{n}");
        }
        // Locked for 15 minutes, even with the right password.
        f.advance(61);
        let (code, message) = f.sign_in(user, PASSWORD);
        assert_eq!(code, "Refused", "{message}");
        assert!(message.contains("minutes"), "{message}");
        f.advance(15 * 60);
    }
    // After the lock, the right password works and clears the count.
    assert_eq!(f.sign_in("ana", PASSWORD).0, "ok");
    assert_eq!(f.sign_in("ana", BAD).0, "Unauthorized");
    assert_eq!(f.sign_in("ana", PASSWORD).0, "ok");
    // Each failure and each lock is kept for the administrator, never the password.
    let log = careloop_server::admin::security_log(&f.cluster.data_dir()).unwrap();
    let count = |kind: &str, user: &str| {
        log.iter()
            .filter(|e| e.kind == kind && e.user == user)
            .count()
    };
    assert_eq!(count("sign_in_failed", "ana"), 11);
    assert_eq!(count("sign_in_failed", "nobody"), 10);
    assert_eq!(count("account_locked", "ana"), 1);
    assert_eq!(count("account_locked", "nobody"), 1);
    assert!(log
        .iter()
        .all(|e| e.address.as_deref() == Some("127.0.0.1")));
    let text = format!("{log:?}");
    assert!(!text.contains(PASSWORD) && !text.contains(BAD));
}

#[test]
fn many_names_from_one_address_lock_the_address() {
    let f = fixture(|config| {
        config.sign_in_limits.address_free = 4;
        config.sign_in_limits.address_lock_at = 6;
    });
    for n in 0..4 {
        assert_eq!(f.sign_in(&format!("guess{n}"), "x").0, "Unauthorized");
    }
    f.advance(1);
    assert_eq!(f.sign_in("guess4", "x").0, "Unauthorized");
    f.advance(2);
    assert_eq!(f.sign_in("guess5", "x").0, "Unauthorized");
    // Locked: another name from the same address is not even looked at.
    let (code, message) = f.sign_in("ana", PASSWORD);
    assert_eq!(code, "Refused", "{message}");
    let log = careloop_server::admin::security_log(&f.cluster.data_dir()).unwrap();
    assert_eq!(log.iter().filter(|e| e.kind == "address_locked").count(), 1);
}

#[test]
fn unknown_wrong_and_disabled_get_the_same_answer_in_the_same_time() {
    let f = fixture(|config| {
        config.sign_in_limits.account_free = 1000;
        config.sign_in_limits.account_lock_at = 1000;
        config.sign_in_limits.address_free = 1000;
        config.sign_in_limits.address_lock_at = 1000;
    });
    careloop_server::admin::revoke_user(&f.cluster.data_dir(), "bob", false).unwrap();
    let answers: Vec<(String, String)> = [
        ("nobody", PASSWORD),
        ("ana", "wrong password"),
        ("bob", PASSWORD),
    ]
    .iter()
    .map(|(user, password)| f.sign_in(user, password))
    .collect();
    assert!(
        answers.iter().all(|a| a == &answers[0]),
        "the answers differ: {answers:?}"
    );
    assert!(answers[0].1.contains("unknown user or wrong password"));
    // Timing: an unknown name costs a password check too (it was 0.2 ms against 19 ms).
    // Measured in turns, so that load from other tests falls on both alike.
    let time = |user: &str| {
        let started = Instant::now();
        let _ = f.conn.login(user, "wrong password", "ws-1");
        started.elapsed()
    };
    let (mut unknown, mut known): (Vec<StdDuration>, Vec<StdDuration>) =
        (0..9).map(|_| (time("nobody-at-all"), time("ana"))).unzip();
    unknown.sort();
    known.sort();
    let (unknown, known) = (unknown[4], known[4]);
    assert!(
        unknown * 3 >= known,
        "an unknown user answers in {unknown:?}, a known one in {known:?}"
    );
}

#[test]
fn a_reused_refresh_token_revokes_every_token_of_that_sign_in() {
    let f = fixture(|_| {});
    // Stolen and used: the thief refreshes first and uses the new access token; the
    // workstation's later refresh with the same token is reuse.
    let first = f.conn.login("ana", PASSWORD, "ws-1").unwrap();
    let thief = f.conn.refresh(&first.refresh_token).unwrap();
    let me = |token: &str| f.raw_json("GET", "/api/v1/me", Some(token), Value::Null).0;
    assert_eq!(me(&thief.access_token), 200);
    let e = f.conn.refresh(&first.refresh_token).unwrap_err();
    assert_eq!(e.code, ErrorCode::Unauthorized);
    assert!(e.message.contains("already used"), "{}", e.message);
    assert_eq!(
        me(&thief.access_token),
        401,
        "the thief's access token is revoked"
    );
    assert_eq!(
        f.conn.refresh(&thief.refresh_token).unwrap_err().code,
        ErrorCode::Unauthorized,
        "and their refresh token"
    );
    // Another sign-in of the same user is not touched.
    let other = f.conn.login("ana", PASSWORD, "ws-2").unwrap();
    assert_eq!(me(&other.access_token), 200);
    let log = careloop_server::admin::security_log(&f.cluster.data_dir()).unwrap();
    assert_eq!(
        log.iter().filter(|e| e.kind == "refresh_reused").count(),
        1,
        "{log:?}"
    );

    // Not received (a lost answer, a workstation killed mid-refresh): the unused pair is
    // replaced and the sign-in goes on.
    let second = f.conn.login("ana", PASSWORD, "ws-3").unwrap();
    let lost = f.conn.refresh(&second.refresh_token).unwrap();
    let again = f.conn.refresh(&second.refresh_token).unwrap();
    assert_eq!(me(&again.access_token), 200);
    assert_eq!(
        me(&lost.access_token),
        401,
        "the pair never received is revoked"
    );
    // That superseded pair turning up later is reuse: the sign-in is revoked.
    assert_eq!(
        f.conn.refresh(&lost.refresh_token).unwrap_err().code,
        ErrorCode::Unauthorized
    );
    assert_eq!(me(&again.access_token), 401);
    // A retry after the grace period is reuse too.
    let third = f.conn.login("ana", PASSWORD, "ws-4").unwrap();
    let _unused = f.conn.refresh(&third.refresh_token).unwrap();
    f.advance(61);
    assert!(f.conn.refresh(&third.refresh_token).is_err());
    let log = careloop_server::admin::security_log(&f.cluster.data_dir()).unwrap();
    assert_eq!(
        log.iter().filter(|e| e.kind == "refresh_reused").count(),
        3,
        "{log:?}"
    );
}

#[test]
fn audit_heads_belong_to_the_token_and_are_read_within_the_team() {
    let f = fixture(|_| {});
    let when = Utc.with_ymd_and_hms(2026, 11, 2, 9, 0, 0).unwrap();
    let mut sue = Workstation::open(
        &f.dir.path().join("sue"),
        "sue",
        "supervisor".parse().unwrap(),
    );
    sue.sync(&f.cluster, when).unwrap();
    sue.act(when, |api, s| {
        api.open_cases(s, careloop_testkit::panel_date(), None)
    })
    .unwrap();
    sue.sync(&f.cluster, when).unwrap();
    let sue_ws = sue.api().workstation_id().unwrap();
    let genuine = careloop_server::admin::audit_heads(&f.cluster.data_dir()).unwrap();
    let sue_head = genuine
        .iter()
        .find(|h| h.workstation == sue_ws && h.user == "sue")
        .expect("sue's head is recorded")
        .head
        .clone();
    // A coordinator of another team, and one of the same team, each sign in naming sue's
    // workstation and push a head far ahead.
    let forged = AuditHeadWire {
        seq: 999_999_999,
        hash: "f".repeat(64),
    };
    for user in ["zed", "ana"] {
        let tokens = f.conn.login(user, PASSWORD, &sue_ws).unwrap();
        let push = PushRequest {
            workstation: sue_ws.clone(),
            events: Vec::new(),
            audit_head: Some(forged.clone()),
        };
        let (status, _) = f.raw_json(
            "POST",
            "/api/v1/events",
            Some(&tokens.access_token),
            serde_json::to_value(&push).unwrap(),
        );
        assert_eq!(status, 200, "{user}");
        // Only their own team's heads are readable, and only by supervisors and admins.
        let (status, _) = f.raw_json(
            "GET",
            "/api/v1/audit-heads",
            Some(&tokens.access_token),
            Value::Null,
        );
        assert_eq!(status, 403, "{user}");
    }
    // Sue's next genuine sync is not flagged; her record is untouched by the forgeries.
    sue.act(when, |api, s| {
        api.open_cases(s, careloop_testkit::panel_date(), None)
    })
    .unwrap();
    sue.sync(&f.cluster, when).unwrap();
    let heads = careloop_server::admin::audit_heads(&f.cluster.data_dir()).unwrap();
    let mine = heads
        .iter()
        .find(|h| h.workstation == sue_ws && h.user == "sue")
        .unwrap();
    assert_eq!(mine.regression, None, "{heads:?}");
    assert!(mine.head.seq >= sue_head.seq);
    assert!(heads.iter().all(|h| h.user != "sue" || h.team == "north"));
    // The supervisor reads her team's heads only.
    let sue_tokens = f.conn.login("sue", PASSWORD, &sue_ws).unwrap();
    let (status, rows) = f.raw_json(
        "GET",
        "/api/v1/audit-heads",
        Some(&sue_tokens.access_token),
        Value::Null,
    );
    assert_eq!(status, 200);
    let rows = rows.as_array().unwrap();
    assert!(!rows.is_empty());
    assert!(rows.iter().all(|r| r["team"] == "north"), "{rows:?}");
    assert!(rows.iter().all(|r| r["user"] != "zed"));
}

#[test]
fn fields_are_bounded_and_every_refusal_has_a_body() {
    let f = fixture(|_| {});
    for (body, what) in [
        (
            json!({"user": "ana", "password": PASSWORD, "workstation": "w".repeat(65)}),
            "workstation",
        ),
        (
            json!({"user": "a".repeat(65), "password": PASSWORD, "workstation": "ws"}),
            "user",
        ),
        (
            json!({"user": "ana", "password": "p".repeat(1025), "workstation": "ws"}),
            "password",
        ),
        (
            json!({"user": "ana", "password": PASSWORD, "workstation": " "}),
            "workstation",
        ),
    ] {
        let (status, error) = f.raw_json("POST", "/api/v1/auth/login", None, body);
        assert_eq!(status, 400, "{what}: {error}");
        assert!(
            error["message"].as_str().unwrap().starts_with(what),
            "{what}: {error}"
        );
    }
    // A method a path does not have: 405 with the error body, like every refusal.
    let (status, error) = f.raw_json("DELETE", "/api/v1/events", None, Value::Null);
    assert_eq!(status, 405);
    assert_eq!(error["code"], "method_not_allowed");
    // Roles are named with their article.
    let root = {
        careloop_server::admin::add_user(&f.cluster.data_dir(), "root", "admin", "north", PASSWORD)
            .unwrap();
        f.conn.login("root", PASSWORD, "ws").unwrap()
    };
    let (status, error) = f.raw_json(
        "GET",
        "/api/v1/events",
        Some(&root.access_token),
        Value::Null,
    );
    assert_eq!(status, 403);
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .starts_with("an admin may not"),
        "{error}"
    );
}

/// Reads until the server closes the connection; how long that took (or None after `limit`).
fn closed_within(stream: &mut TcpStream, limit: StdDuration) -> Option<StdDuration> {
    let started = Instant::now();
    stream
        .set_read_timeout(Some(StdDuration::from_millis(200)))
        .unwrap();
    let mut buf = [0u8; 4096];
    while started.elapsed() < limit {
        match stream.read(&mut buf) {
            Ok(0) => return Some(started.elapsed()),
            Ok(_) => {}
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(_) => return Some(started.elapsed()),
        }
    }
    None
}

#[test]
fn silent_and_slow_clients_are_cut_off_and_the_server_keeps_answering() {
    let f = fixture(|config| {
        config.timeouts.handshake = StdDuration::from_secs(1);
        config.timeouts.headers = StdDuration::from_secs(1);
        config.timeouts.idle = StdDuration::from_secs(2);
        config.timeouts.request = StdDuration::from_secs(2);
        config.max_connections = 16;
    });
    let addr = f.cluster.url.trim_start_matches("https://").to_owned();
    // More idle connections than the cap, and half-sent TLS hellos.
    let mut silent: Vec<TcpStream> = (0..20)
        .map(|_| TcpStream::connect(&addr).unwrap())
        .collect();
    let mut half: Vec<TcpStream> = (0..5)
        .map(|_| {
            let mut s = TcpStream::connect(&addr).unwrap();
            s.write_all(&[0x16, 0x03, 0x01, 0x02, 0x00, 0x01]).unwrap();
            s
        })
        .collect();
    // The server still answers while they are open (the cap makes it wait at most until
    // the silent ones time out).
    let started = Instant::now();
    let health = f.raw_json("GET", "/api/v1/health", None, Value::Null);
    assert_eq!(health.0, 200);
    assert!(
        started.elapsed() < StdDuration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    for s in silent.iter_mut().chain(half.iter_mut()) {
        assert!(
            closed_within(s, StdDuration::from_secs(6)).is_some(),
            "a silent connection is still open"
        );
    }
}

#[test]
fn names_that_are_not_directories_and_keys_that_others_read_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("server");
    for team in [".", "..", ".hidden", "", "a/b"] {
        let e = careloop_server::admin::add_user(&data, "amy", "coordinator", team, PASSWORD)
            .unwrap_err();
        assert!(e.to_string().starts_with("team"), "{team:?}: {e}");
        let e =
            careloop_server::admin::publish_panel(&data, team, &[], published_at()).unwrap_err();
        assert!(e.to_string().starts_with("team"), "{team:?}: {e}");
    }
    assert!(!dir.path().join("teams").exists() && !data.join("..").join("teams").exists());
    // A server key that others can read is refused, not used.
    careloop_server::admin::add_user(&data, "amy", "coordinator", "north", PASSWORD).unwrap();
    use std::os::unix::fs::PermissionsExt;
    let key = data.join("server.key");
    assert_eq!(
        std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
        0o600
    );
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let e = careloop_server::admin::audit_heads(&data).unwrap_err();
    assert!(e.to_string().contains("chmod 600"), "{e}");
}

#[test]
fn the_server_refuses_a_definition_no_workstation_could_evaluate() {
    let f = fixture(|_| {});
    let sue = f.conn.login("sue", PASSWORD, "ws-sue").unwrap();
    let builtin = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../schema/segments/frequent_ed.json"),
    )
    .unwrap();
    let mut definition: Value = serde_json::from_str(&builtin).unwrap();
    definition["version"] = json!(2);
    definition["rule"] =
        json!("count(encounter class in EMERGENCY_CLASS within 100000000 days) >= 2");
    let push = json!({"definitions": [{
        "id": "frequent_ed",
        "version": 2,
        "body": definition.to_string(),
        "published_by": "sue",
        "published_at": "2026-12-01T09:00:00Z",
    }]});
    let (status, error) = f.raw_json("POST", "/api/v1/segments", Some(&sue.access_token), push);
    assert_eq!(status, 400, "{error}");
    let message = error["message"].as_str().unwrap();
    assert!(
        message.contains("frequent_ed") && message.contains("within 100000000 days"),
        "{message}"
    );
    // Nothing reached the team's panel: a workstation that syncs gets no version 2.
    let (status, page) = f.raw_json(
        "GET",
        "/api/v1/panel?after=0&limit=20000",
        Some(&sue.access_token),
        Value::Null,
    );
    assert_eq!(status, 200);
    assert!(!page.to_string().contains("segment/frequent_ed/2"));
}

/// When the tests publish panels (the lists are brought current as of its day).
fn published_at() -> chrono::DateTime<chrono::Utc> {
    "2026-07-01T10:00:00Z".parse().unwrap()
}
