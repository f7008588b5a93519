//! The referral exchange end to end on a real server on loopback: a coordinator's workstation
//! sends a referral to a service of the directory; the partner's system (a client of this
//! test signing SMART Backend Services assertions with its own P-384 key) reads its queue,
//! accepts, starts and completes it through `/fhir/Task`; the coordinator's case shows each
//! step after a sync. Another partner can read neither the Task nor the queue (403, logged);
//! illegal steps, unknown Tasks, oversized notes and bad assertions change nothing; a late
//! answer escalates as any overdue referral does.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use careloop_sync::Connection;
use careloop_testkit::{Cluster, Workstation};
use chrono::{DateTime, Duration, TimeZone, Utc};
use ring::rand::SystemRandom;
use ring::signature::{EcdsaKeyPair, KeyPair, ECDSA_P384_SHA384_FIXED_SIGNING};
use serde_json::{json, Value};
use uuid::Uuid;

fn at(minutes: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 2, 9, 0, 0).unwrap() + Duration::minutes(minutes)
}

/// A partner system: its key pair, its client id, and a connection to the server.
struct PartnerSystem {
    client_id: String,
    key: EcdsaKeyPair,
    connection: Connection,
    url: String,
}

impl PartnerSystem {
    /// Makes a key pair and registers it for `partner` with an admin command's function.
    fn register(cluster: &Cluster, partner: &str, client_id: &str) -> PartnerSystem {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P384_SHA384_FIXED_SIGNING, &rng).unwrap();
        let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P384_SHA384_FIXED_SIGNING, pkcs8.as_ref(), &rng)
            .unwrap();
        let point = key.public_key().as_ref();
        let jwks = json!({"keys": [{
            "kty": "EC", "crv": "P-384", "kid": format!("{client_id}-1"), "use": "sig",
            "alg": "ES384",
            "x": URL_SAFE_NO_PAD.encode(&point[1..49]),
            "y": URL_SAFE_NO_PAD.encode(&point[49..97]),
        }]});
        careloop_server::admin::add_partner_client(
            &cluster.data_dir(),
            partner,
            client_id,
            &jwks.to_string(),
        )
        .unwrap();
        PartnerSystem {
            client_id: client_id.to_owned(),
            key,
            connection: Connection::new(&cluster.url, Some(&cluster.pin)).unwrap(),
            url: cluster.url.clone(),
        }
    }

    /// A signed client assertion (`aud` the token URL unless given).
    fn assertion(&self, aud: Option<&str>, jti: &str) -> String {
        let header = json!({"alg": "ES384", "typ": "JWT", "kid": format!("{}-1", self.client_id)});
        let exp = Utc::now().timestamp() + 240;
        let token_url = format!("{}/fhir/auth/token", self.url);
        let claims = json!({
            "iss": self.client_id, "sub": self.client_id,
            "aud": aud.unwrap_or(&token_url), "exp": exp, "jti": jti,
        });
        let signed = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let signature = self
            .key
            .sign(&SystemRandom::new(), signed.as_bytes())
            .unwrap();
        format!("{signed}.{}", URL_SAFE_NO_PAD.encode(signature.as_ref()))
    }

    fn token_request(&self, assertion: &str) -> (u16, Value) {
        let form = format!(
            "grant_type=client_credentials&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer&client_assertion={assertion}&scope=system%2FTask.rs%20system%2FTask.u"
        );
        let (status, body) = self
            .connection
            .raw(
                "POST",
                "/fhir/auth/token",
                None,
                Some("application/x-www-form-urlencoded"),
                form.into_bytes(),
            )
            .unwrap();
        (status, serde_json::from_str(&body).unwrap_or(Value::Null))
    }

    fn token(&self) -> String {
        let (status, body) = self.token_request(&self.assertion(None, &Uuid::new_v4().to_string()));
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["token_type"], "bearer");
        body["access_token"].as_str().unwrap().to_owned()
    }

    fn call(
        &self,
        token: &str,
        method: &str,
        path: &str,
        body: Option<(&str, Value)>,
    ) -> (u16, Value) {
        let (content_type, bytes) = match body {
            Some((ct, v)) => (Some(ct), v.to_string().into_bytes()),
            None => (None, Vec::new()),
        };
        let (status, text) = self
            .connection
            .raw(method, path, Some(token), content_type, bytes)
            .unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }
}

fn patch(ops: Value) -> Option<(&'static str, Value)> {
    Some(("application/json-patch+json", ops))
}

/// ana's workstation with a claimed case, the directory synced.
fn coordinator_with_a_case(dir: &std::path::Path) -> (Cluster, Workstation, Workstation, Uuid) {
    let cluster = Cluster::start(dir, 40);
    cluster.add_team("north", &[("ana", "coordinator"), ("sue", "supervisor")]);
    let data = cluster.data_dir();
    careloop_server::admin::add_partner(&data, "harbor", "Harbor Home Care").unwrap();
    careloop_server::admin::add_partner(&data, "meadow", "Meadow Food Bank").unwrap();
    for (partner, id, kind) in [
        ("harbor", "harbor-home", "home_care"),
        ("meadow", "meadow-meals", "meals"),
    ] {
        careloop_server::admin::put_service(
            &data,
            partner,
            &careloop_wire::ServiceWire {
                id: id.into(),
                name: format!("{id} service"),
                service_type: kind.into(),
                area: "North district".into(),
                languages: vec!["en".into(), "es".into()],
                eligibility: "adults in the district".into(),
                contact_role: "intake coordinator".into(),
                respond_within_working_days: 2,
                start_within_working_days: 5,
            },
        )
        .unwrap();
    }
    let mut sue = Workstation::open(&dir.join("sue"), "sue", careloop_ops::Role::Supervisor);
    let mut ana = Workstation::open(&dir.join("ana"), "ana", careloop_ops::Role::Coordinator);
    sue.sync(&cluster, at(0)).unwrap();
    let session = sue.session(at(1));
    sue.api()
        .open_cases(&session, careloop_testkit::panel_date(), None)
        .unwrap();
    sue.sync(&cluster, at(2)).unwrap();
    ana.sync(&cluster, at(3)).unwrap();
    let case = ana.unassigned(at(4))[0];
    ana.act(at(4), |api, s| api.claim_case(s, case)).unwrap();
    (cluster, ana, sue, case)
}

#[test]
fn a_partner_system_accepts_starts_and_completes_a_referral_and_the_case_shows_each_step() {
    let dir = tempfile::tempdir().unwrap();
    let (cluster, mut ana, _sue, case) = coordinator_with_a_case(dir.path());
    let directory = ana.api().directory().unwrap();
    assert_eq!(
        directory.partners.len(),
        2,
        "the directory came with the sync"
    );

    // A referral to a directory service needs consent; an unknown service is refused.
    let refused = ana.act(at(5), |api, s| {
        api.send_partner_referral(s, case, "harbor-home", "needs help at home", " ")
    });
    assert!(refused.unwrap_err().message.contains("consent"));
    let unknown = ana.act(at(5), |api, s| {
        api.send_partner_referral(s, case, "nowhere", "x", "verbal, 2026-11-02")
    });
    assert!(unknown.unwrap_err().message.contains("no service nowhere"));
    let sent = ana
        .act(at(5), |api, s| {
            api.send_partner_referral(
                s,
                case,
                "harbor-home",
                "lives alone, struggles with bathing",
                "verbal consent to share with Harbor, 2026-11-02",
            )
        })
        .unwrap();
    let referral: Uuid = sent.created.unwrap().parse().unwrap();
    ana.sync(&cluster, at(6)).unwrap();

    let harbor = PartnerSystem::register(&cluster, "harbor", "harbor-system");
    let meadow = PartnerSystem::register(&cluster, "meadow", "meadow-system");
    let token = harbor.token();

    // The partner's queue: its Task, with the person's contact details and nothing else.
    let (status, bundle) = harbor.call(
        &token,
        "GET",
        "/fhir/Task?owner=Organization/harbor&status=requested",
        None,
    );
    assert_eq!(status, 200, "{bundle}");
    assert_eq!(bundle["resourceType"], "Bundle");
    assert_eq!(bundle["total"], 1);
    let task = &bundle["entry"][0]["resource"];
    assert_eq!(task["id"], referral.to_string());
    assert_eq!(task["status"], "requested");
    assert_eq!(task["intent"], "order");
    assert_eq!(task["owner"]["reference"], "Organization/harbor");
    assert_eq!(task["focus"]["reference"], "#request");
    let request = &task["contained"][1];
    assert_eq!(request["resourceType"], "ServiceRequest");
    assert_eq!(
        request["reasonCode"][0]["text"],
        "lives alone, struggles with bathing"
    );
    assert_eq!(
        task["input"][0]["valueString"],
        "verbal consent to share with Harbor, 2026-11-02"
    );
    let patient = &task["contained"][0];
    assert_eq!(patient["resourceType"], "Patient");
    assert!(
        patient["name"][0]["text"]
            .as_str()
            .is_some_and(|n| !n.is_empty()),
        "{patient}"
    );
    let allowed = [
        "resourceType",
        "id",
        "identifier",
        "name",
        "birthDate",
        "telecom",
        "address",
        "communication",
    ];
    for key in patient.as_object().unwrap().keys() {
        assert!(
            allowed.contains(&key.as_str()),
            "minimum necessary: {key} is shown"
        );
    }
    let path = format!("/fhir/Task/{referral}");

    // Another partner: neither the Task nor harbor's queue; each refusal is logged.
    let other = meadow.token();
    assert_eq!(meadow.call(&other, "GET", &path, None).0, 403);
    assert_eq!(
        meadow
            .call(
                &other,
                "PATCH",
                &path,
                patch(json!([{"op": "replace", "path": "/status", "value": "accepted"}]))
            )
            .0,
        403
    );
    assert_eq!(
        meadow
            .call(&other, "GET", "/fhir/Task?owner=Organization/harbor", None)
            .0,
        403
    );
    let (status, mine) = meadow.call(&other, "GET", "/fhir/Task", None);
    assert_eq!((status, mine["total"].clone()), (200, json!(0)));

    // Bad answers change nothing.
    let (status, outcome) = harbor.call(
        &token,
        "PATCH",
        &path,
        patch(json!([{"op": "replace", "path": "/status", "value": "completed"}])),
    );
    assert_eq!(status, 409, "{outcome}");
    assert_eq!(outcome["resourceType"], "OperationOutcome");
    assert!(outcome["issue"][0]["diagnostics"]
        .as_str()
        .unwrap()
        .contains("requested → completed"));
    let (status, _) = harbor.call(
        &token,
        "PATCH",
        &path,
        patch(json!([{"op": "replace", "path": "/status", "value": "rejected"}])),
    );
    assert_eq!(status, 400, "a rejection needs its reason");
    let long = "x".repeat(5_000);
    let (status, outcome) = harbor.call(
        &token,
        "PATCH",
        &path,
        patch(json!([
            {"op": "replace", "path": "/status", "value": "rejected"},
            {"op": "add", "path": "/statusReason", "value": {"text": long}}
        ])),
    );
    assert_eq!(status, 400, "{outcome}");
    let unknown = format!("/fhir/Task/{}", Uuid::now_v7());
    assert_eq!(harbor.call(&token, "GET", &unknown, None).0, 404);
    assert_eq!(
        harbor.call(&token, "GET", "/fhir/Task/not-an-id", None).0,
        404
    );
    let (_, unchanged) = harbor.call(&token, "GET", &path, None);
    assert_eq!(unchanged["status"], "requested");
    assert_eq!(unchanged["meta"]["versionId"], "1");

    // Accept (JSON Patch), start (PUT of the Task), complete.
    let (status, accepted) = harbor.call(
        &token,
        "PATCH",
        &path,
        patch(json!([
            {"op": "test", "path": "/status", "value": "requested"},
            {"op": "replace", "path": "/status", "value": "accepted"}
        ])),
    );
    assert_eq!(status, 200, "{accepted}");
    assert_eq!(accepted["status"], "accepted");
    assert_eq!(accepted["meta"]["versionId"], "2");
    let mut started = accepted.clone();
    started["status"] = json!("in-progress");
    started["executionPeriod"] = json!({"start": "2026-11-04"});
    started["note"] = json!([{"text": "first visit booked"}]);
    let (status, body) = harbor.call(
        &token,
        "PUT",
        &path,
        Some(("application/fhir+json", started)),
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["executionPeriod"]["start"], "2026-11-04");
    let (status, body) = harbor.call(
        &token,
        "PATCH",
        &path,
        patch(json!([
            {"op": "replace", "path": "/status", "value": "completed"},
            {"op": "add", "path": "/output", "value": [{"type": {"text": "outcome"}, "valueString": "daily home care in place"}]}
        ])),
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "completed");
    // The same answer again changes nothing.
    let (status, again) = harbor.call(
        &token,
        "PATCH",
        &path,
        patch(json!([{"op": "replace", "path": "/status", "value": "completed"}])),
    );
    assert_eq!(
        (status, again["meta"]["versionId"].clone()),
        (200, json!("4"))
    );

    // The coordinator's case shows who answered, each step.
    ana.sync(&cluster, at(30)).unwrap();
    let detail = ana.act(at(31), |api, s| api.case_detail(s, case)).unwrap();
    let steps: Vec<(String, String)> = detail
        .timeline
        .iter()
        .filter(|t| t.kind == "referral.updated")
        .map(|t| (t.actor.clone(), t.detail.clone()))
        .collect();
    assert_eq!(
        steps,
        vec![
            (
                "harbor-system@harbor".to_owned(),
                "referral accepted".to_owned()
            ),
            (
                "harbor-system@harbor".to_owned(),
                "referral started on 2026-11-04: first visit booked".to_owned()
            ),
            (
                "harbor-system@harbor".to_owned(),
                "referral completed: daily home care in place".to_owned()
            ),
        ]
    );
    assert!(detail
        .timeline
        .iter()
        .any(|t| t.detail.contains("through the exchange")));
    // The coordinator does not type the partner's answers.
    let typed = ana.act(at(32), |api, s| {
        api.update_referral(
            s,
            referral,
            careloop_ops::ReferralStatus::Accepted,
            "",
            None,
        )
    });
    assert!(typed.is_err());

    // Every partner call is in the access log, the refusals too.
    let log = careloop_server::admin::partner_access_log(&cluster.data_dir()).unwrap();
    let refused: Vec<_> = log.iter().filter(|a| a.outcome == "forbidden").collect();
    assert_eq!(refused.len(), 3, "{log:?}");
    assert!(refused.iter().all(|a| a.org == "meadow"));
    assert!(log
        .iter()
        .any(|a| a.org == "harbor" && a.action == "search" && a.outcome == "ok"));
    assert_eq!(
        log.iter()
            .filter(|a| a.action == "answer" && a.outcome == "ok")
            .count(),
        4
    );
}

#[test]
fn bad_assertions_and_foreign_tokens_get_no_access() {
    let dir = tempfile::tempdir().unwrap();
    let (cluster, _ana, _sue, _case) = coordinator_with_a_case(dir.path());
    let harbor = PartnerSystem::register(&cluster, "harbor", "harbor-system");

    // Wrong audience, a replayed jti, a tampered signature, an unregistered client.
    let (status, _) = harbor.token_request(&harbor.assertion(Some("https://elsewhere/token"), "a"));
    assert_eq!(status, 401);
    let once = harbor.assertion(None, "the-same-jti");
    assert_eq!(harbor.token_request(&once).0, 200);
    assert_eq!(harbor.token_request(&once).0, 401, "a replayed assertion");
    let mut tampered = harbor.assertion(None, "b");
    tampered.pop();
    tampered.push(if tampered.ends_with('A') { 'B' } else { 'A' });
    assert_eq!(harbor.token_request(&tampered).0, 401);
    let stranger = PartnerSystem {
        client_id: "stranger".into(),
        ..PartnerSystem::register(&cluster, "meadow", "meadow-system")
    };
    assert_eq!(
        stranger.token_request(&stranger.assertion(None, "c")).0,
        401
    );

    // A care user's token is not a partner token, and a partner token is not a care user's.
    let transport_token = {
        let connection = Connection::new(&cluster.url, Some(&cluster.pin)).unwrap();
        connection
            .login("ana", careloop_testkit::PASSWORD, "ws-test")
            .unwrap()
            .access_token
    };
    let (status, _) = harbor.call(&transport_token, "GET", "/fhir/Task", None);
    assert_eq!(status, 401);
    let token = harbor.token();
    let (status, _) = harbor.call(&token, "GET", "/api/v1/events?after=0", None);
    assert_eq!(status, 401);
    let (status, _) = harbor.call(&token, "GET", "/api/v1/directory", None);
    assert_eq!(status, 401);
}

#[test]
fn a_late_answer_escalates_as_any_overdue_referral() {
    let dir = tempfile::tempdir().unwrap();
    let (cluster, mut ana, _sue, case) = coordinator_with_a_case(dir.path());
    let sent = ana
        .act(at(5), |api, s| {
            api.send_partner_referral(s, case, "meadow-meals", "no food at home", "verbal")
        })
        .unwrap();
    let referral = sent.created.unwrap();
    ana.sync(&cluster, at(6)).unwrap();
    // Monday 09:05 + 2 working days: due Wednesday; on Thursday it is overdue.
    let thursday = at(3 * 24 * 60);
    let queue = ana.act(thursday, |api, s| api.referrals(s)).unwrap();
    let item = queue.iter().find(|q| q.id == referral).unwrap();
    assert!(item.overdue, "{item:?}");
    assert_eq!(item.owner, "Meadow Food Bank");
    assert!(
        item.detail.contains("no answer from Meadow Food Bank"),
        "{item:?}"
    );
    let raised = ana
        .act(thursday, |api, s| api.escalate_overdue_referrals(s))
        .unwrap();
    assert_eq!(raised.len(), 1);
    // Before the deadline, nothing is overdue.
    let tuesday = at(24 * 60);
    let queue = ana.act(tuesday, |api, s| api.referrals(s)).unwrap();
    assert!(!queue.iter().find(|q| q.id == referral).unwrap().overdue);
}
