//! The server's refusals, over real HTTPS: the authorisation matrix (role, team, token
//! state) and a corpus of malformed requests. Each gets its typed error and status, and
//! none changes what the server stores.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use careloop_api::ErrorCode;
use careloop_sync::{Connection, HttpTransport, TokenStore};
use careloop_testkit::{Cluster, Workstation, PASSWORD};
use careloop_wire::{ErrorBody, PushRequest, Tokens};
use chrono::{Duration, TimeZone, Utc};
use serde_json::json;

const USERS: &[(&str, &str)] = &[
    ("ana", "coordinator"),
    ("cleo", "clinician"),
    ("sue", "supervisor"),
    ("root", "admin"),
];

struct Fixture {
    _dir: tempfile::TempDir,
    cluster: Cluster,
    conn: Connection,
    clock: Arc<AtomicI64>,
    /// A valid push of one claim by ana, about a person of team north.
    push: PushRequest,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(AtomicI64::new(0));
    let offset = clock.clone();
    let cluster = Cluster::start_with(dir.path(), 20, move |config| {
        let offset = offset.clone();
        config.clock =
            Arc::new(move || Utc::now() + Duration::seconds(offset.load(Ordering::SeqCst)));
        config.max_body_bytes = 64 * 1024;
    });
    cluster.add_team("north", USERS);
    cluster.add_empty_team("south", &[("zed", "coordinator")]);
    // Sue opens cases and syncs; ana takes the pool and claims one, not yet pushed.
    let mut sue = Workstation::open(
        &dir.path().join("sue"),
        "sue",
        "supervisor".parse().unwrap(),
    );
    let when = Utc.with_ymd_and_hms(2026, 11, 2, 9, 0, 0).unwrap();
    sue.sync(&cluster, when).unwrap();
    sue.act(when, |api, s| {
        api.open_cases(s, careloop_testkit::panel_date(), None)
    })
    .unwrap();
    sue.sync(&cluster, when).unwrap();
    let mut ana = Workstation::open(
        &dir.path().join("ana"),
        "ana",
        "coordinator".parse().unwrap(),
    );
    ana.sync(&cluster, when).unwrap();
    let case = ana
        .act(when, |api, s| {
            api.worklist(
                s,
                &careloop_api::WorklistFilter {
                    owner: Some(String::new()),
                    ..Default::default()
                },
            )
        })
        .unwrap()[0]
        .case_id
        .parse()
        .unwrap();
    ana.act(when, |api, s| api.claim_case(s, case)).unwrap();
    let push = ana.api().sync_push_request().unwrap();
    assert_eq!(push.events.len(), 1);
    let conn = Connection::new(&cluster.url, Some(&cluster.pin)).unwrap();
    Fixture {
        _dir: dir,
        cluster,
        conn,
        clock,
        push,
    }
}

impl Fixture {
    fn login(&self, user: &str) -> Tokens {
        self.conn.login(user, PASSWORD, "ws-test").unwrap()
    }

    /// Sends a request; returns the status and the error code (or "" for a success).
    fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<serde_json::Value>,
    ) -> (u16, String) {
        let (bytes, content_type) = match body {
            Some(b) => (b.to_string().into_bytes(), Some("application/json")),
            None => (Vec::new(), None),
        };
        self.raw(method, path, token, content_type, bytes)
    }

    fn raw(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        content_type: Option<&str>,
        body: Vec<u8>,
    ) -> (u16, String) {
        let (status, text) = self
            .conn
            .raw(method, path, token, content_type, body)
            .unwrap();
        if status < 300 {
            return (status, String::new());
        }
        let error: ErrorBody = serde_json::from_str(&text).unwrap_or_else(|e| {
            panic!("{method} {path}: {status} without an error body ({e}): {text}")
        });
        assert!(!error.message.is_empty());
        (status, error.code)
    }

    /// What the server stores, as a fingerprint: its events and audit heads.
    fn stored(&self) -> (Vec<uuid::Uuid>, usize) {
        (
            self.cluster.server_event_ids("north"),
            careloop_server::admin::audit_heads(&self.cluster.data_dir())
                .unwrap()
                .len(),
        )
    }
}

#[test]
fn every_endpoint_is_authorised_by_role_and_team() {
    let f = fixture();
    let tokens: Vec<(&str, String)> = USERS
        .iter()
        .map(|(user, role)| (*role, f.login(user).access_token))
        .collect();
    let empty_push = json!({"workstation": "ws-test", "events": [], "audit_head": null});
    // (method, path, body, roles allowed)
    let matrix: &[(&str, &str, Option<serde_json::Value>, &[&str])] = &[
        (
            "GET",
            "/api/v1/me",
            None,
            &["coordinator", "clinician", "supervisor", "admin"],
        ),
        (
            "POST",
            "/api/v1/events",
            Some(empty_push.clone()),
            &["coordinator", "clinician", "supervisor"],
        ),
        (
            "GET",
            "/api/v1/events?after=0",
            None,
            &["coordinator", "clinician", "supervisor"],
        ),
        (
            "GET",
            "/api/v1/panel?after=0&limit=10",
            None,
            &["coordinator", "clinician", "supervisor"],
        ),
        ("GET", "/api/v1/audit-heads", None, &["supervisor", "admin"]),
    ];
    for (method, path, body, allowed) in matrix {
        for (role, token) in &tokens {
            let (status, code) = f.call(method, path, Some(token), body.clone());
            if allowed.contains(role) {
                assert_eq!(status, 200, "{method} {path} as {role}: {code}");
            } else {
                assert_eq!(
                    (status, code.as_str()),
                    (403, "forbidden"),
                    "{method} {path} as {role}"
                );
            }
        }
        assert_eq!(
            f.call(method, path, None, body.clone()),
            (401, "unauthorized".into()),
            "{method} {path} without a token"
        );
    }
    assert_eq!(f.call("GET", "/api/v1/health", None, None).0, 200);

    // Team scope: another team sees none of north's events or people, and may not write them.
    let zed = f.login("zed").access_token;
    let before = f.stored();
    assert!(!before.0.is_empty());
    let mut conn_zed = HttpTransport::sign_in(
        f.conn.clone(),
        "zed",
        PASSWORD,
        "ws-z",
        TokenStore::memory(),
    )
    .unwrap();
    use careloop_api::sync::Transport;
    assert!(conn_zed.pull(0, 100).unwrap().events.is_empty());
    assert!(conn_zed.panel(0, 100).unwrap().items.is_empty());
    let mut theirs = f.push.clone();
    theirs.events[0].actor = "zed".into();
    let body = serde_json::to_value(&theirs).unwrap();
    assert_eq!(
        f.call("POST", "/api/v1/events", Some(&zed), Some(body)),
        (403, "forbidden".into()),
        "a person outside zed's team"
    );
    // Someone else's events, or another role's: refused.
    let ana = &tokens[0].1;
    let mut as_ben = f.push.clone();
    as_ben.events[0].actor = "ben".into();
    assert_eq!(
        f.call(
            "POST",
            "/api/v1/events",
            Some(ana),
            Some(serde_json::to_value(&as_ben).unwrap())
        ),
        (403, "forbidden".into())
    );
    let sue = &tokens[2].1;
    let mut as_sue = f.push.clone();
    as_sue.events[0].actor = "sue".into();
    assert_eq!(
        f.call(
            "POST",
            "/api/v1/events",
            Some(sue),
            Some(serde_json::to_value(&as_sue).unwrap())
        ),
        (403, "forbidden".into()),
        "recorded as a coordinator, pushed by a supervisor"
    );
    assert_eq!(f.stored(), before, "no refusal changed anything");
    // The valid push goes through.
    assert_eq!(
        f.call(
            "POST",
            "/api/v1/events",
            Some(ana),
            Some(serde_json::to_value(&f.push).unwrap())
        )
        .0,
        200
    );
    assert_eq!(f.stored().0.len(), before.0.len() + 1);
}

#[test]
fn expired_revoked_and_rotated_tokens_are_refused() {
    let f = fixture();
    let body = Some(serde_json::to_value(&f.push).unwrap());
    let before = f.stored();
    // Wrong password and unknown user: the same answer.
    for (user, password) in [("ana", "wrong password"), ("nobody", PASSWORD)] {
        let e = f.conn.login(user, password, "ws").unwrap_err();
        assert_eq!(e.code, ErrorCode::Unauthorized);
        assert!(
            e.message.contains("unknown user or wrong password"),
            "{}",
            e.message
        );
    }
    // An access token expires after 15 minutes; the refresh token gets a new pair once.
    let tokens = f.login("ana");
    f.clock.store(16 * 60, Ordering::SeqCst);
    assert_eq!(
        f.call(
            "POST",
            "/api/v1/events",
            Some(&tokens.access_token),
            body.clone()
        ),
        (401, "unauthorized".into())
    );
    let fresh = f.conn.refresh(&tokens.refresh_token).unwrap();
    assert_eq!(
        f.call("GET", "/api/v1/me", Some(&fresh.access_token), None)
            .0,
        200
    );
    // Rotation: the old refresh token is spent.
    assert_eq!(
        f.conn.refresh(&tokens.refresh_token).unwrap_err().code,
        ErrorCode::Unauthorized
    );
    // The transport refreshes an expired access token by itself, once.
    let mut transport =
        HttpTransport::sign_in(f.conn.clone(), "ana", PASSWORD, "ws", TokenStore::memory())
            .unwrap();
    f.clock.store(40 * 60, Ordering::SeqCst);
    use careloop_api::sync::Transport;
    transport.pull(0, 10).unwrap();
    // Sign-out revokes the refresh token.
    let other = f.login("ana");
    f.conn.logout(&other.refresh_token).unwrap();
    assert_eq!(
        f.conn.refresh(&other.refresh_token).unwrap_err().code,
        ErrorCode::Unauthorized
    );
    // Revocation by the administrator: every token of the user, at once.
    let live = f.login("ana");
    careloop_server::admin::revoke_user(&f.cluster.data_dir(), "ana", false).unwrap();
    assert_eq!(
        f.call(
            "POST",
            "/api/v1/events",
            Some(&live.access_token),
            body.clone()
        ),
        (401, "unauthorized".into())
    );
    assert_eq!(
        f.conn.refresh(&live.refresh_token).unwrap_err().code,
        ErrorCode::Unauthorized
    );
    assert_eq!(
        f.conn.login("ana", PASSWORD, "ws").unwrap_err().code,
        ErrorCode::Unauthorized
    );
    // A refresh token after 30 days.
    let cleo = f.login("cleo");
    f.clock.store(31 * 24 * 3600, Ordering::SeqCst);
    assert_eq!(
        f.conn.refresh(&cleo.refresh_token).unwrap_err().code,
        ErrorCode::Unauthorized
    );
    assert_eq!(f.stored(), before);
}

#[test]
fn malformed_requests_get_typed_errors_and_change_nothing() {
    let f = fixture();
    let ana = f.login("ana").access_token;
    let token = Some(ana.as_str());
    let json = Some("application/json");
    let valid = serde_json::to_value(&f.push).unwrap();
    let event = valid["events"][0].clone();
    let with_event = |change: &dyn Fn(&mut serde_json::Value)| {
        let mut e = event.clone();
        change(&mut e);
        json!({"workstation": "ws-test", "events": [e], "audit_head": null})
            .to_string()
            .into_bytes()
    };
    let before = f.stored();
    // (what, body, content type, expected status, expected code)
    type Case<'a> = (&'a str, Vec<u8>, Option<&'a str>, u16, &'a str);
    let corpus: Vec<Case> = vec![
        ("not JSON", b"{\"workstation\": ".to_vec(), json, 400, "malformed_json"),
        ("not an object", b"[]".to_vec(), json, 422, "invalid_body"),
        ("no content type", valid.to_string().into_bytes(), None, 415, "unsupported_media_type"),
        (
            "an unknown field",
            json!({"workstation": "w", "events": [], "audit_head": null, "force": true}).to_string().into_bytes(),
            json,
            422,
            "invalid_body",
        ),
        ("an unknown field in an event", with_event(&|e| e["extra"] = json!(1)), json, 422, "invalid_body"),
        ("a wrong type", with_event(&|e| e["payload_version"] = json!("1")), json, 422, "invalid_body"),
        ("a missing field", with_event(&|e| { e.as_object_mut().unwrap().remove("kind"); }), json, 422, "invalid_body"),
        ("a UUIDv4 id", with_event(&|e| e["id"] = json!(uuid::Uuid::new_v4())), json, 400, "bad_request"),
        ("an unknown kind", with_event(&|e| e["kind"] = json!("case.deleted")), json, 400, "bad_request"),
        ("a payload that is not an object", with_event(&|e| e["payload"] = json!([1])), json, 400, "bad_request"),
        ("a payload of another shape", with_event(&|e| e["payload"] = json!({"role": "coordinator"})), json, 400, "bad_request"),
        ("an empty subject", with_event(&|e| e["subject"] = json!("")), json, 400, "bad_request"),
        (
            "a bad audit head",
            json!({"workstation": "w", "events": [], "audit_head": {"seq": 0, "hash": "x"}}).to_string().into_bytes(),
            json,
            400,
            "bad_request",
        ),
        (
            "a body over the limit",
            json!({"workstation": "w", "events": [], "audit_head": null, "pad": "x".repeat(70_000)}).to_string().into_bytes(),
            json,
            413,
            "payload_too_large",
        ),
    ];
    for (what, body, content_type, status, code) in corpus {
        assert_eq!(
            f.raw("POST", "/api/v1/events", token, content_type, body),
            (status, code.to_owned()),
            "{what}"
        );
    }
    // A push whose second event is bad stores neither.
    let mut two = f.push.clone();
    let mut bad = two.events[0].clone();
    bad.id = uuid::Uuid::now_v7();
    bad.kind = "case.deleted".into();
    two.events.push(bad);
    assert_eq!(
        f.call(
            "POST",
            "/api/v1/events",
            token,
            Some(serde_json::to_value(&two).unwrap())
        ),
        (400, "bad_request".into())
    );
    for query in [
        "after=-1",
        "limit=0",
        "limit=999999",
        "after=abc",
        "bogus=1",
    ] {
        assert_eq!(
            f.call("GET", &format!("/api/v1/events?{query}"), token, None),
            (400, "bad_request".into()),
            "{query}"
        );
    }
    assert_eq!(
        f.call("GET", "/api/v1/nothing-here", token, None),
        (404, "not_found".into())
    );
    assert_eq!(
        f.raw("GET", "/api/v1/me", None, None, Vec::new()).0,
        401,
        "no Authorization header"
    );
    let (status, _) = f
        .conn
        .raw("GET", "/api/v1/me", None, None, Vec::new())
        .unwrap();
    assert_eq!(status, 401);
    assert_eq!(
        f.call(
            "POST",
            "/api/v1/auth/login",
            None,
            Some(json!({"user": "ana"}))
        ),
        (422, "invalid_body".into())
    );
    assert_eq!(f.stored(), before, "no malformed request changed anything");
}

/// A CA and a server certificate it issued for localhost and 127.0.0.1, as PEM files in
/// `dir`; returns the CA's PEM.
fn site_ca(dir: &std::path::Path, name: &str) -> (String, std::path::PathBuf, std::path::PathBuf) {
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, name);
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let leaf_key = rcgen::KeyPair::generate().unwrap();
    let leaf = rcgen::CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
        .unwrap()
        .signed_by(&leaf_key, &ca, &ca_key)
        .unwrap();
    std::fs::create_dir_all(dir).unwrap();
    let (cert, key) = (dir.join("site-cert.pem"), dir.join("site-key.pem"));
    std::fs::write(&cert, leaf.pem()).unwrap();
    std::fs::write(&key, leaf_key.serialize_pem()).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    (ca.pem(), cert, key)
}

#[test]
fn a_workstation_given_the_site_ca_accepts_only_certificates_it_issued() {
    let dir = tempfile::tempdir().unwrap();
    let (ca, cert, key) = site_ca(&dir.path().join("tls"), "Clinic CA");
    let (other_ca, _, _) = site_ca(&dir.path().join("other"), "Another CA");
    let cluster = Cluster::start_with(dir.path(), 5, move |config| {
        config.tls = careloop_server::tls::TlsSource::Files {
            cert: cert.clone(),
            key: key.clone(),
        }
    });
    cluster.add_team("north", &[("ana", "coordinator")]);
    let trusted = Connection::with_ca(&cluster.url, &ca).unwrap();
    assert_eq!(
        trusted.login("ana", PASSWORD, "ws").unwrap().role,
        "coordinator"
    );
    let e = Connection::with_ca(&cluster.url, &other_ca)
        .unwrap()
        .login("ana", PASSWORD, "ws")
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::BadInput, "{e:?}");
    assert!(e.message.contains("certificate"), "{}", e.message);
    // The certificate was issued for localhost too.
    let by_name = Connection::with_ca(&cluster.url.replace("127.0.0.1", "localhost"), &ca).unwrap();
    by_name.login("ana", PASSWORD, "ws").unwrap();
    let not_pem = Connection::with_ca(&cluster.url, "not a PEM")
        .err()
        .unwrap();
    assert_eq!(not_pem.code, ErrorCode::BadInput, "{}", not_pem.message);
}

#[test]
fn a_workstation_refuses_a_server_whose_certificate_is_not_the_pinned_one() {
    let f = fixture();
    let wrong = "0".repeat(64);
    let conn = Connection::new(&f.cluster.url, Some(&wrong)).unwrap();
    let e = conn.login("ana", PASSWORD, "ws").unwrap_err();
    assert_eq!(e.code, ErrorCode::BadInput, "{e:?}");
    assert!(e.message.contains("pinned"), "{}", e.message);
    // Trust on first use: no pin, the shown certificate is the server's.
    let tofu = Connection::new(&f.cluster.url, None).unwrap();
    tofu.login("ana", PASSWORD, "ws").unwrap();
    assert_eq!(tofu.seen_pin().as_deref(), Some(f.cluster.pin.as_str()));
}
