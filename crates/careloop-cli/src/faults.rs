//! `careloop-faults`: randomized fault injection for offline-first sync, against a real
//! server on loopback (TLS, SQLite) and real encrypted workstation caches.
//!
//! Each run makes a team of three (a coordinator and two supervisors, each on their own
//! workstation) on a shared server; both supervisors open the same worklists' cases, then
//! all three work and sync in a random interleaving while faults are injected; then
//! everyone syncs cleanly and every event id is accounted for:
//!
//! - **kill -9** of a workstation mid-sync: a `careloop sync run` process on its cache is
//!   killed after a random delay (before, during or after its push);
//! - **dropped connections**: a request that never arrives, or whose answer is lost after
//!   the server acted on it;
//! - **duplicated and reordered deliveries**: a push delivered twice, an old push delivered
//!   again before the current one, a pull page delivered twice, an old pull page delivered
//!   again;
//! - **server restarts**: the server stops at once (connections cut) and starts again.
//!
//! Afterwards: no event is lost (every id a workstation made is on the server), none is
//! duplicated (each id once on the server, once in each cache), every outbox is empty, and
//! every workstation derives the server's state, in which nobody has two open cases in one
//! segment. Exit 0 when every run holds, 1 otherwise.
//!
//! `careloop-faults [--runs N] [--seed S] [--people P]`

use std::path::PathBuf;
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration as StdDuration, Instant};

use careloop_api::sync::wire::{PanelPage, PullResponse, PushRequest, PushResponse};
use careloop_api::sync::Transport;
use careloop_api::{ApiError, ErrorCode, Role};
use careloop_testkit::{duplicates, panel_date, Cluster, Workstation, PASSWORD};
use chrono::{DateTime, Duration, TimeZone, Utc};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

#[derive(Default, Debug)]
struct Tally {
    runs: u32,
    events: u64,
    syncs: u64,
    failed_syncs: u64,
    dropped_before: u64,
    lost_answers: u64,
    duplicated: u64,
    replayed_old: u64,
    kills: u64,
    kills_mid_push: u64,
    restarts: u64,
}

/// A transport that delivers, drops, duplicates and replays at random.
struct Faulty<'a> {
    inner: &'a mut dyn Transport,
    rng: &'a mut ChaCha8Rng,
    tally: &'a mut Tally,
    pushes: &'a mut Vec<PushRequest>,
    pulls: &'a mut Vec<(i64, u32)>,
}

fn offline(what: &str) -> ApiError {
    ApiError::new(ErrorCode::Offline, format!("fault injected: {what}"))
}

impl Transport for Faulty<'_> {
    fn push(&mut self, request: &PushRequest) -> careloop_api::Result<PushResponse> {
        let roll = self.rng.gen_range(0..12);
        self.pushes.push(request.clone());
        match roll {
            0 => {
                self.tally.dropped_before += 1;
                Err(offline("the push never arrived"))
            }
            1 => {
                self.inner.push(request)?;
                self.tally.lost_answers += 1;
                Err(offline("the push arrived; its answer was lost"))
            }
            2 => {
                self.inner.push(request)?;
                self.tally.duplicated += 1;
                self.inner.push(request)
            }
            3 => {
                let old = self.pushes[self.rng.gen_range(0..self.pushes.len())].clone();
                self.inner.push(&old)?;
                self.tally.replayed_old += 1;
                self.inner.push(request)
            }
            _ => self.inner.push(request),
        }
    }

    fn push_segments(
        &mut self,
        request: &careloop_api::sync::wire::SegmentPushRequest,
    ) -> careloop_api::Result<careloop_api::sync::wire::SegmentPushResponse> {
        // Segment definitions are not part of the faults' work: delivered as they are.
        self.inner.push_segments(request)
    }

    fn pull(&mut self, after: i64, limit: u32) -> careloop_api::Result<PullResponse> {
        let roll = self.rng.gen_range(0..12);
        self.pulls.push((after, limit));
        match roll {
            0 => {
                self.tally.dropped_before += 1;
                Err(offline("the pull never arrived"))
            }
            1 => {
                self.inner.pull(after, limit)?;
                self.tally.lost_answers += 1;
                Err(offline("the pull's answer was lost"))
            }
            2 => {
                // An older page delivered instead (reordered): the cursor goes back, the
                // events in it are already here.
                let (old_after, old_limit) = self.pulls[self.rng.gen_range(0..self.pulls.len())];
                self.tally.replayed_old += 1;
                self.inner.pull(old_after, old_limit)
            }
            _ => self.inner.pull(after, limit),
        }
    }

    fn panel(&mut self, after: i64, limit: u32) -> careloop_api::Result<PanelPage> {
        if self.rng.gen_range(0..12) == 0 {
            self.tally.dropped_before += 1;
            return Err(offline("the panel page never arrived"));
        }
        self.inner.panel(after, limit)
    }
}

struct Options {
    runs: u32,
    seed: u64,
    people: u32,
}

fn parse_args() -> Result<Options, String> {
    let mut options = Options {
        runs: 200,
        seed: 1,
        people: 20,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| {
            args.next()
                .and_then(|v| v.parse::<u64>().ok())
                .ok_or_else(|| format!("{name} needs a number"))
        };
        match arg.as_str() {
            "--runs" => options.runs = value("--runs")? as u32,
            "--seed" => options.seed = value("--seed")?,
            "--people" => options.people = value("--people")? as u32,
            "--help" | "-h" => {
                return Err("usage: careloop-faults [--runs N] [--seed S] [--people P]".into())
            }
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(options)
}

fn at(minutes: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 2, 8, 0, 0).unwrap() + Duration::minutes(minutes)
}

/// The `careloop` binary beside this one.
fn careloop_binary() -> PathBuf {
    let me = std::env::current_exe().expect("the running binary");
    me.with_file_name("careloop")
}

/// A sync round, with faults.
fn faulty_sync(
    ws: &mut Workstation,
    cluster: &Cluster,
    rng: &mut ChaCha8Rng,
    tally: &mut Tally,
    when: DateTime<Utc>,
) {
    tally.syncs += 1;
    let mut transport = match ws.transport(cluster) {
        Ok(t) => t,
        Err(_) => {
            tally.failed_syncs += 1;
            return;
        }
    };
    let mut pushes = Vec::new();
    let mut pulls = Vec::new();
    let mut faulty = Faulty {
        inner: &mut transport,
        rng,
        tally,
        pushes: &mut pushes,
        pulls: &mut pulls,
    };
    match ws.api().sync_once(&mut faulty, when) {
        Ok(_) => {}
        Err(e) if e.code == ErrorCode::Offline => tally.failed_syncs += 1,
        Err(e) => panic!("sync failed with a non-network error: {e:?}"),
    }
}

/// Runs `careloop sync run` on the workstation's cache and kills it (SIGKILL) after a random
/// delay.
fn kill_mid_sync(ws: &mut Workstation, cluster: &Cluster, rng: &mut ChaCha8Rng, tally: &mut Tally) {
    let pending = ws.outbox();
    ws.close();
    let mut child = Command::new(careloop_binary())
        .arg("--data-dir")
        .arg(&ws.dir)
        .arg("--key-file")
        .arg(&ws.key)
        .args([
            "sync",
            "run",
            "--as-user",
            &ws.user,
            "--server",
            &cluster.url,
            "--pin",
            &cluster.pin,
        ])
        .env("CARELOOP_PASSWORD", PASSWORD)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("starting careloop sync run");
    std::thread::sleep(StdDuration::from_millis(rng.gen_range(0..80)));
    let finished = child.try_wait().expect("the child's status").is_some();
    let _ = child.kill();
    let _ = child.wait();
    tally.kills += 1;
    if !finished && pending > 0 {
        tally.kills_mid_push += 1;
    }
    ws.reopen();
}

fn one_run(
    cluster: &mut Cluster,
    base: &std::path::Path,
    run: u32,
    rng: &mut ChaCha8Rng,
    tally: &mut Tally,
) -> Result<(), String> {
    let team = format!("t{run}");
    let names = [
        format!("ana{run}"),
        format!("vic{run}"),
        format!("sue{run}"),
    ];
    cluster.add_team(
        &team,
        &[
            (&names[0], "coordinator"),
            (&names[1], "supervisor"),
            (&names[2], "supervisor"),
        ],
    );
    let dir = base.join(format!("run-{run}"));
    let roles = [Role::Coordinator, Role::Supervisor, Role::Supervisor];
    let mut ws: Vec<Workstation> = names
        .iter()
        .zip(roles)
        .map(|(name, role)| {
            let mut w = Workstation::open(&dir.join(name), name, role);
            w.coordinators = vec![names[0].clone(), names[1].clone()];
            w
        })
        .collect();
    // Both supervisors open the cases (from the panel each pulls), with faults from the
    // start: the same cases, whose ids are derived from the team, person, segment and
    // episode.
    let mut minutes = 0;
    for supervisor in [1, 2] {
        while ws[supervisor]
            .api()
            .stats()
            .map_err(|e| e.message)?
            .patients
            == 0
        {
            faulty_sync(&mut ws[supervisor], cluster, rng, tally, at(minutes));
        }
        let session = ws[supervisor].session(at(1));
        ws[supervisor]
            .api()
            .open_cases(&session, panel_date(), None)
            .map_err(|e| e.message)?;
    }
    for w in ws.iter_mut() {
        faulty_sync(w, cluster, rng, tally, at(2));
    }
    let steps = rng.gen_range(15..40);
    for _ in 0..steps {
        minutes += rng.gen_range(1..120);
        let i = rng.gen_range(0..3);
        match rng.gen_range(0..20) {
            0 => {
                // Work waits in an outbox, then that workstation's sync process is killed.
                for _ in 0..4 {
                    ws[i].random_work(rng, at(minutes));
                }
                let busiest = (0..3).max_by_key(|&j| ws[j].outbox()).unwrap_or(i);
                kill_mid_sync(&mut ws[busiest], cluster, rng, tally)
            }
            1 if rng.gen_bool(0.5) => {
                cluster.restart();
                tally.restarts += 1;
            }
            2..=7 => faulty_sync(&mut ws[i], cluster, rng, tally, at(minutes)),
            _ => {
                ws[i].random_work(rng, at(minutes));
            }
        }
    }
    // Everyone online again, no faults: two clean rounds each.
    for round in 0..2 {
        for w in ws.iter_mut() {
            w.sync(cluster, at(minutes + 10 + round))
                .map_err(|e| format!("{}: clean sync: {}", w.user, e.message))?;
        }
    }
    // Accounting by event id.
    let server_ids = cluster.server_event_ids(&team);
    let dup = duplicates(&server_ids);
    if !dup.is_empty() {
        return Err(format!("duplicated on the server: {dup:?}"));
    }
    let mut on_server = server_ids.clone();
    on_server.sort();
    let expected = cluster.team_snapshot(&team);
    let doubled = careloop_testkit::doubled_open_cases(&expected);
    if !doubled.is_empty() {
        return Err(format!(
            "two open cases for one person in one segment: {doubled:?}"
        ));
    }
    let mut made = Vec::new();
    for w in ws.iter_mut() {
        let waiting = w.outbox();
        if waiting != 0 {
            return Err(format!("{}: {waiting} events still in the outbox", w.user));
        }
        let mut ids = w.event_ids(false);
        let dup = duplicates(&ids);
        if !dup.is_empty() {
            return Err(format!("{}: duplicated in the cache: {dup:?}", w.user));
        }
        ids.sort();
        if ids != on_server {
            let missing = on_server
                .iter()
                .filter(|id| ids.binary_search(id).is_err())
                .count();
            let extra = ids
                .iter()
                .filter(|id| on_server.binary_search(id).is_err())
                .count();
            return Err(format!(
                "{}: the cache has {} events, the server {} ({missing} missing here, {extra} not on the server)",
                w.user,
                ids.len(),
                on_server.len()
            ));
        }
        if w.api().sync_snapshot().map_err(|e| e.message)? != expected {
            return Err(format!("{}: derives another state than the server", w.user));
        }
        made.extend(w.event_ids(true));
    }
    made.sort();
    if made != on_server {
        return Err(format!(
            "made {} events on the workstations, the server holds {}",
            made.len(),
            on_server.len()
        ));
    }
    tally.events += made.len() as u64;
    tally.runs += 1;
    drop(ws);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

fn main() -> ExitCode {
    let options = match parse_args() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(1);
        }
    };
    if !careloop_binary().exists() {
        eprintln!(
            "careloop-faults: {} is missing (build the workspace)",
            careloop_binary().display()
        );
        return ExitCode::from(2);
    }
    let base = std::env::temp_dir().join(format!("careloop-faults-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&base);
    std::fs::create_dir_all(&base).expect("a temp dir");
    let started = Instant::now();
    let mut cluster = Cluster::start(&base, options.people);
    let mut tally = Tally::default();
    let mut failure = None;
    for run in 0..options.runs {
        let mut rng = ChaCha8Rng::seed_from_u64(
            options
                .seed
                .wrapping_mul(1_000_003)
                .wrapping_add(run as u64),
        );
        if let Err(e) = one_run(&mut cluster, &base, run, &mut rng, &mut tally) {
            failure = Some(format!("run {run} (seed {}): {e}", options.seed));
            break;
        }
    }
    drop(cluster);
    let _ = std::fs::remove_dir_all(&base);
    println!(
        "{} runs in {:.1} s: {} events accounted for (0 lost, 0 duplicated); {} syncs ({} cut short by faults); \
         faults: {} never delivered, {} answers lost, {} duplicated pushes, {} stale deliveries, \
         {} kill -9 ({} with events waiting), {} server restarts",
        tally.runs,
        started.elapsed().as_secs_f64(),
        tally.events,
        tally.syncs,
        tally.failed_syncs,
        tally.dropped_before,
        tally.lost_answers,
        tally.duplicated,
        tally.replayed_old,
        tally.kills,
        tally.kills_mid_push,
        tally.restarts
    );
    match failure {
        Some(f) => {
            eprintln!("careloop-faults: FAILED: {f}");
            ExitCode::from(1)
        }
        None => ExitCode::SUCCESS,
    }
}
