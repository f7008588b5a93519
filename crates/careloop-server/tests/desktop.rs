//! The desktop session against a real server on loopback: the first sign-in goes through the
//! server and brings the team's panel (no demo), later sign-ins work offline, the status the
//! header shows (last sync, pending, offline, conflicts, a round under way), "claimed by …",
//! and a conflict resolved from the case view.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use careloop_api::desktop::{DesktopSession, DesktopSettings, ResolveConflictForm};
use careloop_api::dto::{
    CloseCaseForm, CloseReasonName, PatientQuery, RoleName, SignInForm, WorklistQuery,
};
use careloop_api::sync::{wire, ConnectRequest, Connected, Connector, Transport};
use careloop_api::{Config, ErrorCode};
use careloop_store::KeySource;
use careloop_sync::HttpConnector;
use careloop_testkit::{panel_date, unreachable_attempt, Cluster, Workstation, PASSWORD};
use chrono::{DateTime, Duration, TimeZone, Utc};

fn at(minutes: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 2, 9, 0, 0).unwrap() + Duration::minutes(minutes)
}

/// A desktop session for `dir`, its clock at the minute the returned handle holds.
fn desktop(dir: &std::path::Path, cluster: &Cluster) -> (DesktopSession, Arc<AtomicI64>) {
    std::fs::create_dir_all(dir).unwrap();
    let key = dir.join("cache.key");
    std::fs::write(&key, format!("{}\n", "7c".repeat(32))).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let config = Config {
        data_dir: dir.join("cache"),
        key: KeySource::KeyFile(key),
    };
    let settings = DesktopSettings {
        server_url: Some(cluster.url.clone()),
        // Not given: the certificate is pinned on first use.
        server_pin: None,
        ..DesktopSettings::default()
    };
    let minute = Arc::new(AtomicI64::new(0));
    let clock = Arc::clone(&minute);
    let session = DesktopSession::new(config, settings, move || at(clock.load(Ordering::SeqCst)))
        .with_connector(Arc::new(HttpConnector::memory()));
    (session, minute)
}

fn sign_in(session: &DesktopSession, user: &str, password: &str) -> careloop_api::Result<()> {
    session
        .sign_in(SignInForm {
            user: user.into(),
            password: password.into(),
        })
        .map(|_| ())
}

#[test]
fn a_desktop_signs_in_through_the_server_syncs_its_team_panel_and_keeps_working_offline() {
    let dir = tempfile::tempdir().unwrap();
    let mut cluster = Cluster::start(dir.path(), 30);
    cluster.add_team(
        "north",
        &[
            ("ana", "coordinator"),
            ("ben", "coordinator"),
            ("sue", "supervisor"),
        ],
    );
    // Sue opens the worklists on her workstation; Ben syncs them too.
    let mut sue = Workstation::open(
        &dir.path().join("sue"),
        "sue",
        "supervisor".parse().unwrap(),
    );
    sue.sync(&cluster, at(0)).unwrap();
    let session = sue.session(at(0));
    sue.api().open_cases(&session, panel_date(), None).unwrap();
    sue.sync(&cluster, at(1)).unwrap();
    let mut ben = Workstation::open(
        &dir.path().join("ben"),
        "ben",
        "coordinator".parse().unwrap(),
    );
    ben.sync(&cluster, at(1)).unwrap();

    // A new desktop with a server: no demo panel, nobody signed in, never synced.
    let (ana, minute) = desktop(&dir.path().join("ana-desktop"), &cluster);
    let report = ana.open(panel_date(), &mut |_| {}).unwrap();
    assert!(!report.demo_loaded);
    assert_eq!(report.patients, 0);
    let status = ana.sync_status().unwrap();
    assert!(status.configured);
    assert_eq!(status.last_sync_at, None);

    // The server decides the first sign-in: a wrong password is refused, the right one
    // gives the server's role, then the first round brings the team's panel and cases.
    let wrong = sign_in(&ana, "ana", "not-the-password").unwrap_err();
    assert_eq!(wrong.code, ErrorCode::Forbidden, "{}", wrong.message);
    sign_in(&ana, "ana", PASSWORD).unwrap();
    assert_eq!(
        ana.session_info().unwrap().role,
        Some(RoleName::Coordinator)
    );
    minute.store(5, Ordering::SeqCst);
    let status = ana.sync_now().unwrap();
    assert_eq!(status.last_error, None);
    assert_eq!(status.last_sync_at.as_deref(), Some("2026-11-02T09:05:00Z"));
    assert_eq!((status.pending, status.offline), (0, false));
    // What the sync brought in (the screens reload when it grows): the panel and Sue's cases.
    let first_received = status.received;
    assert!(first_received > 30, "{status:?}");
    let everyone = ana
        .list_patients(PatientQuery {
            text: None,
            offset: 0,
            limit: 100,
        })
        .unwrap();
    assert_eq!(everyone.total, 30, "the team's panel, as published");
    let pool = ana
        .worklist(WorklistQuery {
            owner: Some(String::new()),
            ..WorklistQuery::default()
        })
        .unwrap();
    assert!(pool.len() >= 5, "Sue's cases arrived: {}", pool.len());
    let contested = pool[0].case_id.clone();
    let closing = pool[1].case_id.clone();

    // Ben claims a case and syncs; then the network goes down.
    ben.act(at(6), |api, s| {
        api.claim_case(s, contested.parse().unwrap())
    })
    .unwrap();
    ben.sync(&cluster, at(7)).unwrap();
    cluster.stop();

    // Offline, Ana claims the same case (she has not seen Ben's claim) and closes another.
    minute.store(10, Ordering::SeqCst);
    ana.claim_case(contested.clone()).unwrap();
    ana.close_case(CloseCaseForm {
        case_id: closing.clone(),
        reason: CloseReasonName::NotAppropriate,
        note: Some("moved away".into()),
    })
    .unwrap();
    let status = ana.sync_now().unwrap();
    assert!(status.offline, "{status:?}");
    assert_eq!(status.pending, 2);
    assert_eq!(
        status.received, first_received,
        "nothing came in while offline"
    );
    assert_eq!(status.last_sync_at.as_deref(), Some("2026-11-02T09:05:00Z"));

    // Locked and signed in again while offline: the local account from the first sign-in.
    ana.lock().unwrap();
    sign_in(&ana, "ana", PASSWORD).unwrap();

    // Meanwhile Sue, from the state before, records an attempt on the case Ana closed.
    let attempt = unreachable_attempt(
        closing.parse().unwrap(),
        panel_date() + Duration::days(2),
        None,
    );
    sue.act(at(11), |api, s| api.claim_case(s, attempt.case_id))
        .unwrap();
    sue.act(at(12), |api, s| api.record_attempt(s, attempt))
        .unwrap();

    // The network is back: everything is delivered; Ben's claim stands and Ana sees why hers
    // changed nothing; the close and the attempt are both kept, as a conflict.
    cluster.resume();
    sue.sync(&cluster, at(13)).unwrap();
    minute.store(20, Ordering::SeqCst);
    let status = ana.sync_now().unwrap();
    assert_eq!((status.pending, status.offline), (0, false), "{status:?}");
    assert_eq!(status.last_sync_at.as_deref(), Some("2026-11-02T09:20:00Z"));
    // Ben's claim, and Sue's claim and attempt.
    assert_eq!(status.received, first_received + 3, "{status:?}");
    assert_eq!(
        ana.case_detail(contested.clone()).unwrap().owner.as_deref(),
        Some("ben")
    );
    let seen = ana.case_conflicts(contested.clone()).unwrap();
    assert_eq!(seen.superseded.len(), 1, "{seen:?}");
    assert_eq!(seen.superseded[0].actor, "ana");
    assert!(
        seen.superseded[0].why.contains("ben"),
        "{}",
        seen.superseded[0].why
    );
    assert!(status.open_conflicts >= 1, "{status:?}");
    let open = ana.case_conflicts(closing.clone()).unwrap().conflicts;
    assert_eq!(open.len(), 1, "{open:?}");
    assert_eq!(open[0].resolved_by, None);
    let mut actors = open[0].actors.clone();
    actors.sort();
    assert_eq!(actors, ["ana", "sue"]);

    // A resolution needs a note and one of the two events; then it is kept and synced.
    let mut form = ResolveConflictForm {
        case_id: closing.clone(),
        events: open[0].events.clone(),
        kept: open[0].events[0].clone(),
        note: String::new(),
    };
    assert_eq!(
        ana.resolve_conflict(form.clone()).unwrap_err().code,
        ErrorCode::BadInput
    );
    form.kept = uuid::Uuid::now_v7().to_string();
    form.note = "checked with Sue".into();
    assert_eq!(
        ana.resolve_conflict(form.clone()).unwrap_err().code,
        ErrorCode::BadInput
    );
    form.kept = open[0].events[0].clone();
    ana.resolve_conflict(form.clone()).unwrap();
    let status = ana.sync_now().unwrap();
    assert_eq!(
        (status.pending, status.open_conflicts),
        (0, 0),
        "{status:?}"
    );
    assert_eq!(
        status.received,
        first_received + 3,
        "her own resolution coming back is not news"
    );
    sue.sync(&cluster, at(30)).unwrap();
    let session = sue.session(at(30));
    let (conflicts, _) = sue
        .api()
        .conflicts(&session, Some(closing.parse().unwrap()))
        .unwrap();
    assert_eq!(conflicts[0].resolved_by.as_deref(), Some("ana"));
    assert_eq!(
        conflicts[0].kept.as_deref(),
        Some(open[0].events[0].as_str())
    );

    // The supervisor's weekly review on this desktop still computes after the clash: it
    // reads the same tolerant fold, so Ana's claim counts as superseded, and the resolved
    // conflict is no longer pending.
    ana.lock().unwrap();
    minute.store(31, Ordering::SeqCst);
    sign_in(&ana, "sue", PASSWORD).unwrap();
    let review = ana.weekly_review(Some("2026-W45".to_owned())).unwrap();
    assert_eq!(review.pending.superseded_events, 1, "{:?}", review.pending);
    assert!(
        review.pending.open_conflicts.is_empty(),
        "{:?}",
        review.pending
    );
    let owners: Vec<&str> = review
        .caseload
        .iter()
        .filter(|row| row.open_cases > 0)
        .map(|row| row.user.as_str())
        .collect();
    assert!(owners.contains(&"ben"), "{owners:?}");
}

#[test]
fn a_first_sign_in_without_the_server_says_the_network_is_needed() {
    let dir = tempfile::tempdir().unwrap();
    let mut cluster = Cluster::start(dir.path(), 5);
    cluster.add_team("north", &[("ana", "coordinator")]);
    let (ana, _) = desktop(&dir.path().join("ana-desktop"), &cluster);
    ana.open(panel_date(), &mut |_| {}).unwrap();
    cluster.stop();
    let error = sign_in(&ana, "ana", PASSWORD).unwrap_err();
    assert_eq!(error.code, ErrorCode::Offline, "{}", error.message);
    assert!(error.message.contains("first sign-in"), "{}", error.message);
    // Nobody is signed in; the status says so without reaching for the network.
    let status = ana.sync_now().unwrap();
    assert_eq!((status.pending, status.last_sync_at), (0, None));
}

#[test]
fn the_desktop_signs_in_and_syncs_from_inside_a_tokio_runtime_as_the_app_does() {
    // Tauri runs the app's commands inside tasks on its tokio runtime's workers, where
    // reqwest's blocking client panics ("cannot drop a runtime…") unless careloop-sync keeps
    // it off that thread.
    let dir = tempfile::tempdir().unwrap();
    let cluster = Cluster::start(dir.path(), 5);
    cluster.add_team("north", &[("ana", "coordinator")]);
    let (ana, _) = desktop(&dir.path().join("ana-desktop"), &cluster);
    ana.open(panel_date(), &mut |_| {}).unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .build()
        .unwrap();
    let status = runtime
        .block_on(async move {
            tokio::spawn(async move {
                sign_in(&ana, "ana", PASSWORD)?;
                ana.sync_now()
            })
            .await
        })
        .expect("no panic")
        .unwrap();
    assert_eq!(status.last_error, None, "{status:?}");
    assert!(status.received >= 5, "the panel arrived: {status:?}");
}

/// A connector whose transport stops before each pull until the test lets it go on: the
/// test looks at the status while a round is under way.
struct Gated {
    inner: HttpConnector,
    reached: std::sync::mpsc::SyncSender<()>,
    release: Arc<std::sync::Mutex<std::sync::mpsc::Receiver<()>>>,
}

struct GatedTransport {
    inner: Box<dyn Transport + Send>,
    reached: std::sync::mpsc::SyncSender<()>,
    release: Arc<std::sync::Mutex<std::sync::mpsc::Receiver<()>>>,
}

impl Connector for Gated {
    fn connect(&self, request: &ConnectRequest) -> careloop_api::Result<Connected> {
        let connected = self.inner.connect(request)?;
        Ok(Connected {
            transport: Box::new(GatedTransport {
                inner: connected.transport,
                reached: self.reached.clone(),
                release: Arc::clone(&self.release),
            }),
            ..connected
        })
    }
}

impl Transport for GatedTransport {
    fn push(&mut self, request: &wire::PushRequest) -> careloop_api::Result<wire::PushResponse> {
        self.inner.push(request)
    }
    fn pull(&mut self, after: i64, limit: u32) -> careloop_api::Result<wire::PullResponse> {
        self.reached.send(()).unwrap();
        self.release.lock().unwrap().recv().unwrap();
        self.inner.pull(after, limit)
    }
    fn panel(&mut self, after: i64, limit: u32) -> careloop_api::Result<wire::PanelPage> {
        self.inner.panel(after, limit)
    }
    fn push_segments(
        &mut self,
        request: &wire::SegmentPushRequest,
    ) -> careloop_api::Result<wire::SegmentPushResponse> {
        self.inner.push_segments(request)
    }
}

#[test]
fn while_a_round_runs_the_status_says_so_and_shows_what_has_come_in() {
    let dir = tempfile::tempdir().unwrap();
    let cluster = Cluster::start(dir.path(), 12);
    cluster.add_team("north", &[("ana", "coordinator")]);
    let (reached, at_pull) = std::sync::mpsc::sync_channel(1);
    let (go_on, release) = std::sync::mpsc::channel();
    let (ana, _) = desktop(&dir.path().join("ana-desktop"), &cluster);
    let ana = ana.with_connector(Arc::new(Gated {
        inner: HttpConnector::memory(),
        reached,
        release: Arc::new(std::sync::Mutex::new(release)),
    }));
    ana.open(panel_date(), &mut |_| {}).unwrap();
    sign_in(&ana, "ana", PASSWORD).unwrap();
    assert!(!ana.sync_status().unwrap().syncing);

    std::thread::scope(|scope| {
        let round = scope.spawn(|| ana.sync_now());
        // The round has stored the panel and waits to pull events.
        at_pull.recv().unwrap();
        let during = ana.sync_status().unwrap();
        assert!(during.syncing, "{during:?}");
        assert!(during.received > 12, "the panel is in: {during:?}");
        assert_eq!(during.last_sync_at, None, "not done yet");
        go_on.send(()).unwrap();
        let after = round.join().unwrap().unwrap();
        assert!(!after.syncing, "{after:?}");
        assert_eq!(after.received, during.received, "no events to pull");
        assert!(after.last_sync_at.is_some(), "{after:?}");
    });
}

#[test]
fn a_user_disabled_on_the_server_loses_the_offline_copy_of_their_password() {
    let dir = tempfile::tempdir().unwrap();
    let cluster = Cluster::start(dir.path(), 10);
    cluster.add_team("north", &[("ana", "coordinator")]);
    let (ana, _minute) = desktop(&dir.path().join("ana-desktop"), &cluster);
    ana.open(panel_date(), &mut |_| {}).unwrap();
    // The first sign-in goes to the server and leaves an offline copy here.
    sign_in(&ana, "ana", PASSWORD).unwrap();
    ana.lock().unwrap();
    // The administrator disables ana on the server. The next sign-in here is checked
    // locally (it works offline), and the server is asked in the background: it refuses.
    careloop_server::admin::revoke_user(&cluster.data_dir(), "ana", false).unwrap();
    sign_in(&ana, "ana", PASSWORD).unwrap();
    ana.lock().unwrap();
    // From then on the offline copy is gone: the server decides, and it says no.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let refused = loop {
        match sign_in(&ana, "ana", PASSWORD) {
            Err(e) => break e,
            Ok(()) => {
                ana.lock().unwrap();
                assert!(
                    std::time::Instant::now() < deadline,
                    "the offline copy still signs ana in"
                );
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
        }
    };
    assert_eq!(refused.code, ErrorCode::Forbidden, "{}", refused.message);
    assert!(refused.message.contains("unknown user or wrong password"));
}
