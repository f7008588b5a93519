//! A real server on loopback and real encrypted workstation caches, for the sync tests, the
//! fault-injection runs (`careloop-faults`) and the benchmarks. Not used by the server itself,
//! which does not depend on the workstation's crates (this kit joins them).
//!
//! Everything lives in the directory it is given (a temp dir), keys are key files, the
//! refresh tokens stay in memory, and the random work is seeded.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use careloop_api::operations::Session;
use careloop_api::sync::{SyncReport, Transport};
use careloop_api::{
    AttemptInput, Careloop, Channel, CloseReason, Config, NextAction, Outcome, Role, WorklistFilter,
};
use careloop_store::KeySource;
use careloop_sync::{Connection, HttpTransport, TokenStore};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use uuid::Uuid;

use careloop_server::storage::{PanelLine, SqliteStorage, Storage};
use careloop_server::{admin, ServerConfig, ServerHandle};

/// Every test user's password.
pub const PASSWORD: &str = "correct horse battery";

/// The demo panel's "today".
pub fn panel_date() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 1).expect("a date")
}

/// A phone attempt that did not reach the person, to follow up `on`.
pub fn unreachable_attempt(case: Uuid, on: NaiveDate, note: Option<String>) -> AttemptInput {
    AttemptInput {
        case_id: case,
        channel: Channel::Phone,
        reached: false,
        message_id: None,
        answers: Default::default(),
        outcome: Outcome::Unreachable,
        next: NextAction::FollowUp { on },
        contact_limit_override: None,
        note,
    }
}

/// A server with a published panel.
pub struct Cluster {
    pub dir: PathBuf,
    pub server: Option<ServerHandle>,
    pub url: String,
    pub pin: String,
    /// The published panel's lines (copied to each new team).
    lines: Vec<PanelLine>,
    configure: Box<dyn Fn(&mut ServerConfig)>,
    /// Where a stopped server listened ([`Cluster::resume`] listens there again).
    stopped_at: Option<std::net::SocketAddr>,
}

fn write_key(path: &Path, byte: u8) {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path).expect("writing a key file");
    writeln!(file, "{}", hex::encode([byte; 32])).expect("writing a key file");
}

impl Cluster {
    /// Generates a demo panel of `people`, publishes it as team `north`, starts a server.
    pub fn start(dir: &Path, people: u32) -> Cluster {
        Cluster::start_with(dir, people, |_| {})
    }

    /// [`Cluster::start`] with server settings of the test's own (a clock, a body limit).
    pub fn start_with(
        dir: &Path,
        people: u32,
        configure: impl Fn(&mut ServerConfig) + 'static,
    ) -> Cluster {
        let panel = dir.join("panel-files");
        careloop_api::write_demo_panel(&panel, people, 7, panel_date()).expect("demo panel");
        let data = dir.join("server");
        admin::publish_panel(
            &data,
            "north",
            &[panel],
            panel_date().and_hms_opt(10, 0, 0).unwrap().and_utc(),
        )
        .expect("publishing the panel");
        let team_cache = admin::team_cache(&data, "north").expect("the team cache");
        let lines = admin::panel_lines(&team_cache).expect("reading the panel");
        drop(team_cache);
        let mut cluster = Cluster {
            dir: dir.to_owned(),
            server: None,
            url: String::new(),
            pin: String::new(),
            lines,
            configure: Box::new(configure),
            stopped_at: None,
        };
        cluster.start_server("127.0.0.1:0".parse().expect("addr"));
        cluster
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.join("server")
    }

    fn start_server(&mut self, listen: std::net::SocketAddr) {
        let mut config = ServerConfig::new(self.data_dir(), listen);
        config.workers = 2;
        (self.configure)(&mut config);
        let handle = careloop_server::start(config).expect("starting the server");
        self.url = handle.url();
        self.pin = handle.pin.clone();
        self.server = Some(handle);
    }

    /// Stops the server at once (connections cut, as in a crash) and starts it again on the
    /// same data dir (on a new port).
    pub fn restart(&mut self) {
        if let Some(server) = self.server.take() {
            server.stop();
        }
        self.start_server("127.0.0.1:0".parse().expect("addr"));
    }

    /// Stops the server (connections cut): the network is down for its workstations until
    /// [`Cluster::resume`].
    pub fn stop(&mut self) {
        if let Some(server) = self.server.take() {
            self.stopped_at = Some(server.addr);
            server.stop();
        }
    }

    /// Starts a stopped server again on the same address and data dir.
    pub fn resume(&mut self) {
        let listen = self.stopped_at.take().expect("the server was stopped");
        self.start_server(listen);
    }

    /// A new team with the same panel, and its users (name, role).
    pub fn add_team(&self, team: &str, users: &[(&str, &str)]) {
        let storage = SqliteStorage::open(&self.data_dir()).expect("storage");
        storage
            .add_panel_items(team, &self.lines)
            .expect("publishing the team's panel");
        for (name, role) in users {
            if storage.user(name).expect("users").is_none() {
                admin::add_user(&self.data_dir(), name, role, team, PASSWORD).expect("a user");
            }
        }
    }

    /// A team whose panel is empty (its users may touch nobody's record), and its users.
    pub fn add_empty_team(&self, team: &str, users: &[(&str, &str)]) {
        for (name, role) in users {
            admin::add_user(&self.data_dir(), name, role, team, PASSWORD).expect("a user");
        }
    }

    /// The team's event ids on the server, with how often each is stored.
    pub fn server_event_ids(&self, team: &str) -> Vec<Uuid> {
        let storage = SqliteStorage::open(&self.data_dir()).expect("storage");
        let mut ids = Vec::new();
        let mut after = 0;
        loop {
            let (events, more) = storage.pull(team, after, 5_000).expect("pull");
            if let Some(last) = events.last() {
                after = last.server_seq;
            }
            ids.extend(events.iter().map(|e| e.event.id));
            if !more {
                return ids;
            }
        }
    }

    /// What the server derives from the team's events.
    pub fn team_snapshot(&self, team: &str) -> serde_json::Value {
        self.server
            .as_ref()
            .expect("the server runs")
            .team_snapshot(team)
    }
}

/// One workstation: its own encrypted cache and one signed-in user.
pub struct Workstation {
    pub careloop: Option<Careloop>,
    pub user: String,
    pub role: Role,
    pub dir: PathBuf,
    pub key: PathBuf,
    /// The coordinators a supervisor assigns cases to.
    pub coordinators: Vec<String>,
}

impl Workstation {
    pub fn open(dir: &Path, user: &str, role: Role) -> Workstation {
        std::fs::create_dir_all(dir).expect("a workstation dir");
        let key = dir.join("cache.key");
        write_key(&key, 0x5a);
        let mut ws = Workstation {
            careloop: None,
            user: user.to_owned(),
            role,
            dir: dir.join("cache"),
            key,
            coordinators: vec!["ana".into(), "ben".into()],
        };
        ws.reopen();
        ws
    }

    pub fn config(&self) -> Config {
        Config {
            data_dir: self.dir.clone(),
            key: KeySource::KeyFile(self.key.clone()),
        }
    }

    /// Closes and opens the cache again (as after a crash: only what was committed is there).
    pub fn reopen(&mut self) {
        self.careloop = None;
        self.careloop = Some(Careloop::open(&self.config()).expect("opening the cache"));
    }

    /// Closes the cache (so that another process can use it).
    pub fn close(&mut self) {
        self.careloop = None;
    }

    pub fn api(&mut self) -> &mut Careloop {
        self.careloop.as_mut().expect("the cache is open")
    }

    /// Runs `f` on the cache with this user's session at `at`.
    pub fn act<T>(&mut self, at: DateTime<Utc>, f: impl FnOnce(&mut Careloop, &Session) -> T) -> T {
        let session = self.session(at);
        f(self.api(), &session)
    }

    /// The cases of the unassigned pool, as this user sees them at `at`.
    pub fn unassigned(&mut self, at: DateTime<Utc>) -> Vec<Uuid> {
        let session = self.session(at);
        self.api()
            .worklist(
                &session,
                &WorklistFilter {
                    owner: Some(String::new()),
                    ..WorklistFilter::default()
                },
            )
            .expect("the pool")
            .iter()
            .map(|r| r.case_id.parse().expect("a case id"))
            .collect()
    }

    pub fn session(&self, at: DateTime<Utc>) -> Session {
        Session {
            user: self.user.clone(),
            role: self.role,
            at,
        }
    }

    /// Signs in (pinning the cluster's certificate).
    pub fn transport(&mut self, cluster: &Cluster) -> careloop_api::Result<HttpTransport> {
        let connection = Connection::new(&cluster.url, Some(&cluster.pin))?;
        let workstation = self.api().workstation_id()?;
        HttpTransport::sign_in(
            connection,
            &self.user,
            PASSWORD,
            &workstation,
            TokenStore::memory(),
        )
    }

    /// One sync round over `transport`.
    pub fn sync_with(
        &mut self,
        transport: &mut dyn Transport,
        at: DateTime<Utc>,
    ) -> careloop_api::Result<SyncReport> {
        self.api().sync_once(transport, at)
    }

    /// Signs in and syncs once.
    pub fn sync(
        &mut self,
        cluster: &Cluster,
        at: DateTime<Utc>,
    ) -> careloop_api::Result<SyncReport> {
        let mut transport = self.transport(cluster)?;
        self.sync_with(&mut transport, at)
    }

    /// Ids of the events in this cache, all of them or only this user's.
    pub fn event_ids(&mut self, only_mine: bool) -> Vec<Uuid> {
        let user = self.user.clone();
        let store = self.api().store_mut();
        let mut ids = Vec::new();
        let mut after = 0;
        loop {
            let batch = store.events_after(after, 10_000).expect("events");
            let Some(last) = batch.last() else { break };
            after = last.seq;
            ids.extend(
                batch
                    .iter()
                    .filter(|e| !only_mine || e.actor == user)
                    .map(|e| e.id),
            );
        }
        ids
    }

    pub fn outbox(&mut self) -> u64 {
        self.api().store_mut().outbox_count().expect("outbox")
    }

    /// One piece of local work, chosen by `rng`: claim an unassigned case, record an attempt
    /// on one of this user's cases, close one, or (a supervisor) assign or close any. What
    /// the API refuses (a guard, a case another already holds here) is skipped.
    pub fn random_work(&mut self, rng: &mut ChaCha8Rng, at: DateTime<Utc>) -> bool {
        let session = self.session(at);
        let supervisor = self.role == Role::Supervisor;
        let coordinators = self.coordinators.clone();
        let api = self.careloop.as_mut().expect("open");
        let pool = api.worklist(
            &session,
            &WorklistFilter {
                owner: Some(String::new()),
                ..WorklistFilter::default()
            },
        );
        let mine = api.worklist(
            &session,
            &WorklistFilter {
                owner: supervisor.then(|| coordinators[0].clone()),
                ..WorklistFilter::default()
            },
        );
        let (Ok(pool), Ok(mine)) = (pool, mine) else {
            return false;
        };
        let pick = |rows: &[careloop_api::WorklistRow], rng: &mut ChaCha8Rng| {
            (!rows.is_empty())
                .then(|| {
                    rows[rng.gen_range(0..rows.len())]
                        .case_id
                        .parse::<Uuid>()
                        .ok()
                })
                .flatten()
        };
        let roll = rng.gen_range(0..10);
        let result = match roll {
            0..=3 => match pick(&pool, rng) {
                Some(case) if supervisor => api
                    .assign_case(
                        &session,
                        case,
                        if rng.gen_bool(0.5) { "ana" } else { "ben" },
                    )
                    .map(|_| ()),
                Some(case) => api.claim_case(&session, case).map(|_| ()),
                None => return false,
            },
            4..=7 => match pick(&mine, rng) {
                Some(case) => api
                    .record_attempt(
                        &session,
                        unreachable_attempt(case, (at + Duration::days(2)).date_naive(), None),
                    )
                    .map(|_| ()),
                None => return false,
            },
            _ => match pick(&mine, rng) {
                Some(case) => api
                    .close_case(
                        &session,
                        case,
                        CloseReason::NotAppropriate,
                        Some("test".into()),
                    )
                    .map(|_| ()),
                None => return false,
            },
        };
        result.is_ok()
    }
}

/// The ids in `ids` that occur more than once.
pub fn duplicates(ids: &[Uuid]) -> BTreeSet<Uuid> {
    let mut seen = BTreeSet::new();
    ids.iter()
        .filter(|id| !seen.insert(**id))
        .copied()
        .collect()
}

/// The (person, segment) pairs with more than one case not closed in a sync snapshot (see
/// `Careloop::sync_snapshot`): a case's id is derived from its team, person, segment and
/// episode, so however many places open it, there is one.
pub fn doubled_open_cases(snapshot: &serde_json::Value) -> Vec<(String, String)> {
    let mut open: std::collections::BTreeMap<(String, String), u32> = Default::default();
    let cases = snapshot["cases"].as_object().into_iter().flatten();
    for (_, case) in cases {
        if case["status"] != "closed" {
            let key = (
                case["patient_id"].as_str().unwrap_or_default().to_owned(),
                case["segment_id"].as_str().unwrap_or_default().to_owned(),
            );
            *open.entry(key).or_default() += 1;
        }
    }
    open.into_iter()
        .filter(|(_, n)| *n > 1)
        .map(|(key, _)| key)
        .collect()
}
