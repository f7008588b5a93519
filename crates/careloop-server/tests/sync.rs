//! Offline-first sync between a real server on loopback (TLS, SQLite) and real encrypted
//! workstation caches: idempotent pushes, server-ordered claims, conflicts kept for a person,
//! the audit head, and convergence under random offline work.

use careloop_api::sync::Transport;
use careloop_ops::sync::Resolution;
use careloop_testkit::{duplicates, unreachable_attempt, Cluster, Workstation};
use careloop_wire::{AuditHeadWire, PushStatus};
use chrono::{DateTime, Duration, TimeZone, Utc};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use uuid::Uuid;

fn at(minutes: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 2, 9, 0, 0).unwrap() + Duration::minutes(minutes)
}

const TEAM: &[(&str, &str)] = &[
    ("ana", "coordinator"),
    ("ben", "coordinator"),
    ("sue", "supervisor"),
];

/// A cluster with team north and three workstations (ana, ben, sue); sue has opened the
/// cases from the worklists and everyone has synced.
fn setup(dir: &std::path::Path) -> (Cluster, Vec<Workstation>) {
    let (cluster, mut stations) = team_of(dir, TEAM);
    for ws in &mut stations {
        ws.sync(&cluster, at(0)).unwrap();
    }
    let sue = &mut stations[2];
    let session = sue.session(at(1));
    let opened = sue
        .api()
        .open_cases(&session, careloop_testkit::panel_date(), None)
        .unwrap();
    assert!(opened.opened >= 10, "the demo panel gives work: {opened:?}");
    for ws in stations.iter_mut().rev() {
        ws.sync(&cluster, at(2)).unwrap();
    }
    (cluster, stations)
}

/// A cluster (40 people) with team north of these users, each on a workstation of their own
/// (nothing synced yet).
fn team_of(dir: &std::path::Path, team: &[(&str, &str)]) -> (Cluster, Vec<Workstation>) {
    let cluster = Cluster::start(dir, 40);
    cluster.add_team("north", team);
    let stations = team
        .iter()
        .map(|(user, role)| Workstation::open(&dir.join(user), user, role.parse().unwrap()))
        .collect();
    (cluster, stations)
}

fn unassigned(ws: &mut Workstation, minutes: i64) -> Vec<Uuid> {
    ws.unassigned(at(minutes))
}

fn owner(ws: &mut Workstation, case: Uuid) -> Option<String> {
    let session = ws.session(at(500));
    ws.api().case_detail(&session, case).unwrap().owner
}

#[test]
fn pushing_the_same_batch_again_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (cluster, mut ws) = setup(dir.path());
    let ana = &mut ws[0];
    let cases = unassigned(ana, 10);
    for case in &cases[..3] {
        ana.act(at(10), |api, s| api.claim_case(s, *case)).unwrap();
    }
    let request = ana.api().sync_push_request().unwrap();
    assert_eq!(request.events.len(), 3);
    let mut transport = ana.transport(&cluster).unwrap();
    let first = transport.push(&request).unwrap();
    assert!(first
        .results
        .iter()
        .all(|r| r.status == PushStatus::Accepted));
    let before = cluster.server_event_ids("north");
    // The acknowledgement was lost: the same batch again, twice.
    for _ in 0..2 {
        let again = transport.push(&request).unwrap();
        assert!(again
            .results
            .iter()
            .all(|r| r.status == PushStatus::Duplicate));
        let seqs = |r: &careloop_wire::PushResponse| {
            r.results.iter().map(|r| r.server_seq).collect::<Vec<_>>()
        };
        assert_eq!(seqs(&again), seqs(&first), "the same places in the order");
    }
    assert_eq!(cluster.server_event_ids("north"), before);
    // A round acknowledges them and leaves the outbox empty; nothing is duplicated anywhere.
    let report = ana.sync_with(&mut transport, at(11)).unwrap();
    assert_eq!((report.pushed, report.duplicates), (3, 3));
    assert_eq!(ana.outbox(), 0);
    let ids = ana.event_ids(false);
    assert!(duplicates(&ids).is_empty());
    assert_eq!(cluster.server_event_ids("north").len(), ids.len());
}

#[test]
fn the_same_event_id_with_other_content_is_refused_whole() {
    let dir = tempfile::tempdir().unwrap();
    let (cluster, mut ws) = setup(dir.path());
    let ana = &mut ws[0];
    let cases = unassigned(ana, 10);
    ana.act(at(10), |api, s| api.claim_case(s, cases[0]))
        .unwrap();
    ana.act(at(10), |api, s| api.claim_case(s, cases[1]))
        .unwrap();
    let mut transport = ana.transport(&cluster).unwrap();
    ana.sync_with(&mut transport, at(11)).unwrap();
    let before = cluster.server_event_ids("north");
    let mut request = ana.api().sync_push_request().unwrap();
    assert!(request.events.is_empty());
    // Replay the first claim with changed content, ahead of a new valid event.
    ana.act(at(12), |api, s| api.claim_case(s, cases[2]))
        .unwrap();
    let fresh = ana.api().sync_push_request().unwrap().events;
    let mut tampered = careloop_wire::WireEvent {
        occurred_at: at(99),
        ..fresh[0].clone()
    };
    tampered.id = before_event(&cluster, &before);
    request.events = vec![tampered, fresh[0].clone()];
    let err = transport.push(&request).unwrap_err();
    assert_eq!(err.code, careloop_api::ErrorCode::Conflict, "{err:?}");
    assert!(err.message.contains("different content"), "{}", err.message);
    assert_eq!(
        cluster.server_event_ids("north"),
        before,
        "nothing of the push was stored"
    );
}

fn before_event(_cluster: &Cluster, ids: &[Uuid]) -> Uuid {
    *ids.last().unwrap()
}

#[test]
fn claims_are_arbitrated_first_in_server_order_and_nothing_is_lost() {
    let dir = tempfile::tempdir().unwrap();
    let (cluster, mut ws) = setup(dir.path());
    let case = unassigned(&mut ws[0], 10)[0];
    // Both offline; ana claims first in wall time, but ben reaches the server first.
    let (ana, rest) = ws.split_at_mut(1);
    let (ana, ben) = (&mut ana[0], &mut rest[0]);
    ana.act(at(10), |api, s| api.claim_case(s, case)).unwrap();
    ben.act(at(11), |api, s| api.claim_case(s, case)).unwrap();
    let ben_report = ben.sync(&cluster, at(20)).unwrap();
    assert!(ben_report.superseded.is_empty());
    let ana_report = ana.sync(&cluster, at(21)).unwrap();
    assert_eq!(ana_report.superseded.len(), 1, "{ana_report:?}");
    assert!(
        ana_report.superseded[0].contains("already claimed by ben"),
        "{:?}",
        ana_report.superseded
    );
    ben.sync(&cluster, at(22)).unwrap();
    // Both claims are kept everywhere; the case is ben's everywhere; ana sees why.
    for ws in [&mut *ana, &mut *ben] {
        assert_eq!(owner(ws, case).as_deref(), Some("ben"));
        let session = ws.session(at(30));
        let (_, superseded) = ws.api().conflicts(&session, Some(case)).unwrap();
        assert_eq!(superseded.len(), 1);
        assert_eq!(superseded[0].actor, "ana");
        assert!(superseded[0].why.contains("already claimed by ben"));
        assert_eq!(
            ws.event_ids(false).len(),
            cluster.server_event_ids("north").len()
        );
    }
    assert_eq!(
        ana.api().sync_snapshot().unwrap(),
        cluster.team_snapshot("north")
    );
}

#[test]
fn two_outcomes_for_one_case_step_are_kept_as_a_conflict_until_a_person_resolves_it() {
    let dir = tempfile::tempdir().unwrap();
    let (cluster, mut ws) = setup(dir.path());
    let case = unassigned(&mut ws[0], 10)[0];
    ws[0].act(at(10), |api, s| api.claim_case(s, case)).unwrap();
    ws[0].sync(&cluster, at(11)).unwrap();
    ws[2].sync(&cluster, at(12)).unwrap();
    // Offline: ana records an attempt; sue, from the same state, closes the case.
    let attempt = unreachable_attempt(case, at(0).date_naive() + Duration::days(2), None);
    ws[0]
        .act(at(20), |api, s| api.record_attempt(s, attempt))
        .unwrap();
    ws[2]
        .act(at(21), |api, s| {
            api.close_case(
                s,
                case,
                careloop_api::CloseReason::NotAppropriate,
                Some("moved away".into()),
            )
        })
        .unwrap();
    ws[2].sync(&cluster, at(30)).unwrap();
    ws[0].sync(&cluster, at(31)).unwrap();
    ws[2].sync(&cluster, at(32)).unwrap();
    let mut pair = None;
    for i in [0, 2] {
        let session = ws[i].session(at(40));
        let (conflicts, _) = ws[i].api().conflicts(&session, Some(case)).unwrap();
        assert_eq!(conflicts.len(), 1, "one conflict on workstation {i}");
        let c = &conflicts[0];
        assert_eq!(c.kinds, ["case.closed", "attempt.recorded"]);
        assert_eq!(c.actors, ["sue", "ana"]);
        assert_eq!(c.resolved_by, None);
        assert_eq!(ws[i].api().sync_status().unwrap().open_conflicts, 1);
        pair = Some([
            c.events[0].parse::<Uuid>().unwrap(),
            c.events[1].parse().unwrap(),
        ]);
    }
    let events = pair.unwrap();
    // A resolution names one of the two events and says why.
    let bad = ws[2].act(at(50), |api, s| {
        api.resolve_conflict(
            s,
            Resolution {
                case_id: case,
                events,
                kept: Uuid::now_v7(),
                note: "x".into(),
            },
        )
    });
    assert_eq!(bad.unwrap_err().code, careloop_api::ErrorCode::BadInput);
    ws[2]
        .act(at(50), |api, s| {
            api.resolve_conflict(
                s,
                Resolution {
                    case_id: case,
                    events,
                    kept: events[0],
                    note: "the person moved; the attempt was to an old number".into(),
                },
            )
        })
        .unwrap();
    ws[2].sync(&cluster, at(51)).unwrap();
    ws[0].sync(&cluster, at(52)).unwrap();
    for i in [0, 2] {
        let session = ws[i].session(at(60));
        let (conflicts, _) = ws[i].api().conflicts(&session, Some(case)).unwrap();
        assert_eq!(conflicts[0].resolved_by.as_deref(), Some("sue"));
        assert_eq!(
            conflicts[0].kept.as_deref(),
            Some(events[0].to_string().as_str())
        );
        assert_eq!(ws[i].api().sync_status().unwrap().open_conflicts, 0);
    }
    assert_eq!(
        ws[0].api().sync_snapshot().unwrap(),
        cluster.team_snapshot("north")
    );
}

#[test]
fn a_workstation_whose_audit_chain_went_backwards_is_flagged_on_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let (cluster, mut ws) = setup(dir.path());
    let ana = &mut ws[0];
    for case in unassigned(ana, 10).into_iter().take(3) {
        ana.act(at(10), |api, s| api.claim_case(s, case)).unwrap();
    }
    let mut transport = ana.transport(&cluster).unwrap();
    let request = ana.api().sync_push_request().unwrap();
    let head = request.audit_head.clone().expect("ana's claim is audited");
    transport.push(&request).unwrap();
    let heads = careloop_server::admin::audit_heads(&cluster.data_dir()).unwrap();
    let mine = heads
        .iter()
        .find(|h| h.workstation == request.workstation)
        .unwrap();
    assert_eq!(mine.head, head);
    assert_eq!(mine.regression, None);
    // The chain was truncated: the next sync reports an earlier head.
    let mut truncated = request.clone();
    truncated.audit_head = Some(AuditHeadWire {
        seq: head.seq - 2,
        hash: "0".repeat(64),
    });
    transport.push(&truncated).unwrap();
    let heads = careloop_server::admin::audit_heads(&cluster.data_dir()).unwrap();
    let mine = heads
        .iter()
        .find(|h| h.workstation == request.workstation)
        .unwrap();
    assert_eq!(mine.head, head, "the furthest head is kept");
    let regression = mine.regression.as_deref().expect("flagged");
    assert!(
        regression.contains("truncated or rewritten"),
        "{regression}"
    );
}

/// Three supervisors open the same worklists on their own workstations, each offline, at
/// about the same time: a case's id is derived from (team, person, segment, episode), so
/// the server and every workstation hold each case once, and nobody has two open cases in
/// one segment, before or after the work that follows.
#[test]
fn three_workstations_opening_the_same_worklists_make_each_case_once() {
    let dir = tempfile::tempdir().unwrap();
    let team = [
        ("sue", "supervisor"),
        ("vic", "supervisor"),
        ("wes", "supervisor"),
    ];
    let (cluster, mut ws) = team_of(dir.path(), &team);
    for w in &mut ws {
        w.sync(&cluster, at(0)).unwrap();
    }
    let mut opened = Vec::new();
    for (i, w) in ws.iter_mut().enumerate() {
        let session = w.session(at(1 + i as i64));
        let report = w
            .api()
            .open_cases(&session, careloop_testkit::panel_date(), None)
            .unwrap();
        opened.push(report.opened);
    }
    assert!(opened[0] >= 10, "the demo panel gives work: {opened:?}");
    assert_eq!(opened, vec![opened[0]; 3], "each opened the same worklists");
    for round in 0..2 {
        for w in ws.iter_mut() {
            w.sync(&cluster, at(10 + round)).unwrap();
        }
    }
    let expected = cluster.team_snapshot("north");
    let cases = expected["cases"].as_object().unwrap();
    assert_eq!(
        cases.len(),
        opened[0] as usize,
        "each case once on the server"
    );
    assert!(careloop_testkit::doubled_open_cases(&expected).is_empty());
    assert!(
        expected["superseded"].as_array().unwrap().is_empty(),
        "a repeated open is the same case, not a superseded event"
    );
    for w in ws.iter_mut() {
        assert_eq!(w.api().sync_snapshot().unwrap(), expected, "{}", w.user);
    }

    // Opening again, on any workstation, opens nothing: the cases are there.
    let session = ws[1].session(at(20));
    let again = ws[1]
        .api()
        .open_cases(&session, careloop_testkit::panel_date(), None)
        .unwrap();
    assert_eq!(again.opened, 0, "{again:?}");
}

/// Three workstations doing random work, offline and online, syncing at random: once all
/// have synced, every cache derives the same state as the server, every event is
/// everywhere exactly once, and no outbox holds anything.
#[test]
fn three_workstations_converge_under_random_offline_work() {
    for seed in 0..4u64 {
        let dir = tempfile::tempdir().unwrap();
        let (cluster, mut ws) = setup(dir.path());
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut online = [true, true, true];
        let mut minutes = 10;
        let mut made = 0;
        for _ in 0..60 {
            minutes += rng.gen_range(1..90);
            let i = rng.gen_range(0..3);
            match rng.gen_range(0..10) {
                0 => online[i] = !online[i],
                1..=3 if online[i] => {
                    ws[i].sync(&cluster, at(minutes)).unwrap();
                }
                _ => made += ws[i].random_work(&mut rng, at(minutes)) as u32,
            }
        }
        assert!(made >= 15, "seed {seed}: enough work was done ({made})");
        for round in 0..2 {
            for w in ws.iter_mut() {
                w.sync(&cluster, at(minutes + 10 + round)).unwrap();
            }
        }
        let server_ids = cluster.server_event_ids("north");
        assert!(duplicates(&server_ids).is_empty(), "seed {seed}");
        let expected = cluster.team_snapshot("north");
        let mut created = Vec::new();
        for w in ws.iter_mut() {
            assert_eq!(w.outbox(), 0, "seed {seed}: {} pushed everything", w.user);
            let mut ids = w.event_ids(false);
            assert!(duplicates(&ids).is_empty());
            ids.sort();
            let mut on_server = server_ids.clone();
            on_server.sort();
            assert_eq!(ids, on_server, "seed {seed}: {} has every event", w.user);
            assert_eq!(
                w.api().sync_snapshot().unwrap(),
                expected,
                "seed {seed}: {} derives the server's state",
                w.user
            );
            created.extend(w.event_ids(true));
        }
        created.sort();
        let mut on_server = server_ids.clone();
        on_server.sort();
        assert_eq!(
            created, on_server,
            "seed {seed}: every event made is on the server once"
        );
    }
}

#[test]
fn the_server_keeps_no_plaintext_phi_on_disk() {
    let dir = tempfile::tempdir().unwrap();
    let (cluster, mut ws) = setup(dir.path());
    let ana = &mut ws[0];
    let person = ana
        .api()
        .list_patients(&careloop_api::PatientQuery {
            text: None,
            offset: 0,
            limit: 1,
        })
        .unwrap()
        .rows
        .remove(0);
    let case = unassigned(ana, 10)[0];
    ana.act(at(10), |api, s| api.claim_case(s, case)).unwrap();
    let note = "left a voicemail, daughter says she is at the coast until Friday";
    let attempt = unreachable_attempt(
        case,
        at(0).date_naive() + Duration::days(2),
        Some(note.into()),
    );
    ana.act(at(11), |api, s| api.record_attempt(s, attempt))
        .unwrap();
    ana.sync(&cluster, at(12)).unwrap();
    let family = person.name.split_whitespace().last().unwrap().to_owned();
    let mut files = 0;
    let mut pending = vec![cluster.data_dir()];
    while let Some(path) = pending.pop() {
        for entry in std::fs::read_dir(&path).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
                continue;
            }
            files += 1;
            let bytes = std::fs::read(&path).unwrap();
            for needle in [family.as_str(), person.id.as_str(), "daughter says"] {
                assert!(
                    !bytes.windows(needle.len()).any(|w| w == needle.as_bytes()),
                    "{} holds {needle:?} in plaintext",
                    path.display()
                );
            }
        }
    }
    assert!(
        files >= 4,
        "server.db, its key, the certificate, a team cache: {files}"
    );
}

/// A new version of the built-in dormant segment, named `name`, as a supervisor drafts it.
fn dormant_draft(ws: &mut Workstation, name: &str) -> careloop_api::dto::SegmentDraft {
    let session = ws.session(at(20));
    let definitions = ws.api().segment_definitions(&session).unwrap();
    let dormant = definitions.iter().find(|d| d.id == "dormant").unwrap();
    let mut json: serde_json::Value = serde_json::from_str(&dormant.text).unwrap();
    json["version"] = serde_json::json!(dormant.version + 1);
    json["name"] = serde_json::json!(name);
    careloop_api::dto::SegmentDraft {
        text: serde_json::to_string_pretty(&json).unwrap(),
    }
}

fn dormant_versions(ws: &mut Workstation) -> Vec<(u32, String)> {
    ws.api()
        .store_mut()
        .published_definitions()
        .unwrap()
        .into_iter()
        .filter(|d| d.id == "dormant")
        .map(|d| (d.version, d.published_by))
        .collect()
}

#[test]
fn segment_definitions_published_by_a_supervisor_reach_the_whole_team() {
    use careloop_wire::{SegmentDefinitionWire, SegmentPushRequest};
    let dir = tempfile::tempdir().unwrap();
    let (cluster, mut ws) = setup(dir.path());
    careloop_server::admin::add_user(
        &cluster.data_dir(),
        "sam",
        "supervisor",
        "north",
        careloop_testkit::PASSWORD,
    )
    .unwrap();
    let mut sam = Workstation::open(
        &dir.path().join("sam"),
        "sam",
        careloop_api::Role::Supervisor,
    );
    sam.sync(&cluster, at(3)).unwrap();

    // Offline, Sue and Sam both draft version 2 of the same segment, differently.
    let sues = dormant_draft(&mut ws[2], "Dormant (Sue's)");
    let sams = dormant_draft(&mut sam, "Dormant (Sam's)");
    ws[2]
        .act(at(21), |api, s| api.publish_segment_draft(s, &sues))
        .unwrap();
    sam.act(at(22), |api, s| api.publish_segment_draft(s, &sams))
        .unwrap();
    // Sue's reaches the server first: it is the team's version 2.
    let report = ws[2].sync(&cluster, at(23)).unwrap();
    assert_eq!((report.segments_pushed, report.superseded.len()), (1, 0));
    let report = sam.sync(&cluster, at(24)).unwrap();
    assert_eq!(report.segments_pushed, 1);
    assert_eq!(report.superseded.len(), 1, "{report:?}");
    assert!(
        report.superseded[0].contains("sue published version 2 first"),
        "{}",
        report.superseded[0]
    );
    // The coordinators get Sue's with the panel; nothing is sent twice.
    for coordinator in &mut ws[..2] {
        let report = coordinator.sync(&cluster, at(25)).unwrap();
        assert_eq!(report.panel_items, 1, "only the definition is new");
        assert_eq!(dormant_versions(coordinator), [(2, "sue".to_owned())]);
    }
    assert_eq!(ws[2].sync(&cluster, at(26)).unwrap().segments_pushed, 0);

    // Refused whole: a coordinator publishing, a supervisor sending another's definition, a
    // body that is not a definition. The team's panel is unchanged.
    let published = |by: &str, body: &str| SegmentPushRequest {
        definitions: vec![SegmentDefinitionWire {
            id: "dormant".into(),
            version: 3,
            body: body.into(),
            published_by: by.into(),
            published_at: "2026-11-02T10:00:00Z".into(),
        }],
    };
    let mut v3: serde_json::Value = serde_json::from_str(&sues.text).unwrap();
    v3["version"] = serde_json::json!(3);
    let v3 = v3.to_string();
    let mut ana = ws[0].transport(&cluster).unwrap();
    let refused = ana.push_segments(&published("ana", &v3)).unwrap_err();
    assert_eq!(
        refused.code,
        careloop_api::ErrorCode::Forbidden,
        "{}",
        refused.message
    );
    let mut sue = ws[2].transport(&cluster).unwrap();
    let refused = sue.push_segments(&published("sam", &v3)).unwrap_err();
    assert_eq!(
        refused.code,
        careloop_api::ErrorCode::Forbidden,
        "{}",
        refused.message
    );
    let refused = sue
        .push_segments(&published("sue", "{\"id\": \"dormant\"}"))
        .unwrap_err();
    assert_eq!(
        refused.code,
        careloop_api::ErrorCode::BadInput,
        "{}",
        refused.message
    );
    assert_eq!(ws[1].sync(&cluster, at(27)).unwrap().panel_items, 0);
}

/// A sync keeps the search index: an acknowledgement changes nothing it holds, and what a
/// pull brings in (another's note, another's claim) is indexed before the next search
/// instead of the whole index being built again.
#[test]
fn a_sync_keeps_the_search_index_and_indexes_what_it_pulled() {
    let dir = tempfile::tempdir().unwrap();
    let (cluster, mut ws) = setup(dir.path());
    let case = unassigned(&mut ws[0], 10)[0];
    let ana_session = ws[0].session(at(10));
    let query = |text: &str, owner: Option<&str>| careloop_api::SearchQuery {
        text: text.into(),
        limit: 20,
        segment: None,
        status: None,
        owner: owner.map(str::to_owned),
    };
    ws[0].api().prepare_search().unwrap();
    assert!(ws[0].api().search_ready());

    // Ana's own claim and note: indexed when recorded; the acknowledgement keeps the index.
    ws[0].act(at(11), |api, s| api.claim_case(s, case)).unwrap();
    let note = "zanzibar-heron callback wanted".to_owned();
    ws[0]
        .act(at(12), |api, s| {
            api.record_attempt(
                s,
                unreachable_attempt(
                    case,
                    careloop_testkit::panel_date() + Duration::days(3),
                    Some(note),
                ),
            )
        })
        .unwrap();
    ws[0].sync(&cluster, at(13)).unwrap();
    assert!(
        ws[0].api().search_ready(),
        "an acknowledgement keeps the index"
    );
    let hits = ws[0]
        .api()
        .search(&ana_session, &query("zanzibar", None))
        .unwrap();
    assert!(!hits.is_empty());

    // Ben's claim of another case and his note arrive with Ana's next pull.
    let other = unassigned(&mut ws[1], 14)
        .into_iter()
        .find(|c| *c != case)
        .unwrap();
    ws[1]
        .act(at(15), |api, s| api.claim_case(s, other))
        .unwrap();
    ws[1]
        .act(at(16), |api, s| {
            api.record_attempt(
                s,
                unreachable_attempt(
                    other,
                    careloop_testkit::panel_date() + Duration::days(3),
                    Some("quokka-lantern no answer".into()),
                ),
            )
        })
        .unwrap();
    ws[1].sync(&cluster, at(17)).unwrap();
    ws[0].sync(&cluster, at(18)).unwrap();
    assert!(ws[0].api().search_ready(), "a pull keeps the index");
    let hits = ws[0]
        .api()
        .search(&ana_session, &query("quokka", None))
        .unwrap();
    assert_eq!(hits.len(), 1, "Ben's pulled note is found: {hits:?}");
    // Indexed with the case fields of the state folded again: the case is Ben's.
    let mut owned = |owner: &str| {
        ws[0]
            .api()
            .search(&ana_session, &query("quokka", Some(owner)))
            .unwrap()
            .len()
    };
    let (bens, anas) = (owned("ben"), owned("ana"));
    assert_eq!((bens, anas), (1, 0));
}

/// An alert is an event: two supervisors' workstations that find the same ED visit in the
/// same new panel data raise one alert between them, a coordinator's workstation sees it
/// after a sync, and of two acknowledgements made offline the first in the server's order
/// stands, the other is superseded, saying who was first.
#[test]
fn an_alert_raised_on_two_workstations_is_one_alert_acknowledged_once() {
    let dir = tempfile::tempdir().unwrap();
    let team = [
        ("ana", "coordinator"),
        ("sue", "supervisor"),
        ("vic", "supervisor"),
    ];
    let (cluster, mut ws) = team_of(dir.path(), &team);
    // Each pulls the panel; its lists' first evaluation is the backlog (no alerts).
    for w in &mut ws {
        w.sync(&cluster, at(0)).unwrap();
        let session = w.session(at(1));
        let first = w.api().bring_lists_current(at(1), Some(&session)).unwrap();
        assert_eq!(first.alerts, 0);
    }
    let person = ws[0]
        .api()
        .list_patients(&careloop_api::dto::PatientQuery {
            text: None,
            offset: 0,
            limit: 1,
        })
        .unwrap()
        .rows[0]
        .id
        .clone();
    let delta = dir.path().join("ed.ndjson");
    std::fs::write(
        &delta,
        format!(
            r#"{{"resourceType":"Encounter","id":"ed-sync-1","status":"finished","class":{{"code":"EMER"}},"subject":{{"reference":"Patient/{person}"}},"period":{{"start":"2026-11-01T03:00:00Z","end":"2026-11-01T06:00:00Z"}}}}"#
        ) + "\n",
    )
    .unwrap();
    careloop_server::admin::publish_panel(&cluster.data_dir(), "north", &[delta], published_at())
        .unwrap();

    // Both supervisors pull it and raise the alert before either pushes.
    for w in &mut ws[1..] {
        w.sync(&cluster, at(10)).unwrap();
        let session = w.session(at(11));
        let changed = w.api().bring_lists_current(at(11), Some(&session)).unwrap();
        assert_eq!(changed.alerts, 1, "{}: {changed:?}", w.user);
    }
    for round in 0..2 {
        for w in ws.iter_mut() {
            w.sync(&cluster, at(20 + round)).unwrap();
        }
    }
    let expected = cluster.team_snapshot("north");
    let alerts = expected["alerts"].as_object().unwrap();
    assert_eq!(alerts.len(), 1, "one alert on the server: {alerts:?}");
    assert!(expected["superseded"].as_array().unwrap().is_empty());
    for w in ws.iter_mut() {
        assert_eq!(w.api().sync_snapshot().unwrap(), expected, "{}", w.user);
    }
    // The coordinator has not evaluated her lists since: she sees it from the log.
    let ana = ws[0].session(at(30));
    let seen = ws[0].api().alerts(&ana, false).unwrap();
    assert_eq!(seen.len(), 1);
    assert_eq!(
        (seen[0].kind.as_str(), seen[0].patient_id.as_str()),
        ("ed_visit", person.as_str())
    );
    let alert_id = seen[0].alert_id.clone();

    // Both supervisors acknowledge it offline; sue syncs first.
    for w in &mut ws[1..] {
        let session = w.session(at(40));
        w.api()
            .acknowledge_alert(&session, &alert_id, Some("seen"))
            .unwrap();
    }
    for round in 0..2 {
        for w in ws.iter_mut() {
            w.sync(&cluster, at(50 + round)).unwrap();
        }
    }
    let expected = cluster.team_snapshot("north");
    let alert = &expected["alerts"][&alert_id];
    assert_eq!(alert["acknowledged_by"], "sue", "{alert}");
    let superseded = expected["superseded"].as_array().unwrap();
    assert_eq!(superseded.len(), 1, "{superseded:?}");
    assert_eq!(superseded[0]["actor"], "vic");
    assert_eq!(superseded[0]["kind"], "alert.acknowledged");
    assert!(
        superseded[0]["why"]
            .as_str()
            .unwrap()
            .contains("already acknowledged by sue"),
        "{superseded:?}"
    );
    for w in ws.iter_mut() {
        assert_eq!(w.api().sync_snapshot().unwrap(), expected, "{}", w.user);
    }
    let ana = ws[0].session(at(60));
    let seen = ws[0].api().alerts(&ana, false).unwrap();
    assert!(seen.is_empty(), "acknowledged everywhere: {seen:?}");
}

/// When the tests publish panels (the lists are brought current as of its day).
fn published_at() -> chrono::DateTime<chrono::Utc> {
    "2026-07-01T10:00:00Z".parse().unwrap()
}
