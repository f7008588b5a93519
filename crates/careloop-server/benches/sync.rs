//! Sync benchmark against a real server on loopback (TLS, SQLCipher storage, 2 workers) with
//! real encrypted workstation caches. One run, printed as a table:
//!
//! 1. **Publish and initial sync**: a demo panel of PEOPLE (default 10,000) is generated and
//!    published as team north (timed: the server's import and publication); a supervisor's new
//!    workstation then syncs it (panel pulled by cursor and imported into its cache); she opens
//!    the worklists (segmentation) and pushes the opened cases; a coordinator's new workstation
//!    syncs everything (panel and events).
//! 2. **Round trip**: the coordinator claims a case and syncs (push one event, pull, refold),
//!    30 times, each timed: what the desktop's "Sync now" costs after one action.
//! 3. **Load**: WORKSTATIONS (default 500) simulated workstations, each a coordinator of its
//!    own, sign in at once (argon2id on the server), then each does ROUNDS (default 5) rounds
//!    of pushing 5 new events and pulling everyone's new events by cursor, all at once.
//!    Then the same rounds paced: each workstation every INTERVAL seconds (default 10, a
//!    third of the desktop's 30), the workstations spread evenly over it. Printed: p50/p99/
//!    max per request kind, errors, events per second. Afterwards every event pushed is on
//!    the server exactly once.
//!
//! `cargo bench -p careloop-server --bench sync [-- PEOPLE WORKSTATIONS ROUNDS INTERVAL]`

use std::sync::{Arc, Barrier, Mutex};
use std::time::{Duration as StdDuration, Instant};

use careloop_api::sync::Transport;
use careloop_api::Role;
use careloop_sync::{Connection, HttpTransport, TokenStore};
use careloop_testkit::{panel_date, Cluster, Workstation, PASSWORD};
use careloop_wire::{PushRequest, WireEvent};
use chrono::{DateTime, Duration, TimeZone, Utc};

const BATCH: usize = 5;

fn at(minutes: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 2, 9, 0, 0).unwrap() + Duration::minutes(minutes)
}

fn ms(d: StdDuration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn secs(d: StdDuration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

fn dir_bytes(path: &std::path::Path) -> u64 {
    let mut total = 0;
    if let Ok(entries) = std::fs::read_dir(path) {
        for entry in entries.flatten() {
            let p = entry.path();
            total += if p.is_dir() {
                dir_bytes(&p)
            } else {
                entry.metadata().map(|m| m.len()).unwrap_or(0)
            };
        }
    }
    total
}

/// p50, p99 and max of `samples`, as text.
fn spread(samples: &mut [StdDuration]) -> String {
    if samples.is_empty() {
        return "none".into();
    }
    samples.sort();
    let rank =
        |p: f64| samples[((p * samples.len() as f64).ceil() as usize).clamp(1, samples.len()) - 1];
    format!(
        "p50 {} · p99 {} · max {} ({} requests)",
        ms(rank(0.5)),
        ms(rank(0.99)),
        ms(*samples.last().unwrap()),
        samples.len()
    )
}

#[derive(Default)]
struct Samples {
    login: Vec<StdDuration>,
    push: Vec<StdDuration>,
    pull: Vec<StdDuration>,
    paced_push: Vec<StdDuration>,
    paced_pull: Vec<StdDuration>,
    errors: Vec<String>,
    pushed: Vec<uuid::Uuid>,
}

fn main() {
    let args: Vec<u32> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .filter_map(|a| a.parse().ok())
        .collect();
    let people = args.first().copied().unwrap_or(10_000);
    let stations = args.get(1).copied().unwrap_or(500) as usize;
    let rounds = args.get(2).copied().unwrap_or(5) as usize;
    let interval = StdDuration::from_secs(args.get(3).copied().unwrap_or(10).into());
    let dir = tempfile::tempdir().unwrap();
    println!("sync benchmark: {people} people, {stations} workstations × {rounds} rounds of {BATCH} events; 2 server workers, {} cores", std::thread::available_parallelism().map_or(0, |n| n.get()));

    // 1. Publish and initial sync.
    let started = Instant::now();
    let cluster = Cluster::start(dir.path(), people);
    println!("generate + publish the panel: {}", secs(started.elapsed()));
    cluster.add_team("north", &[("ana", "coordinator"), ("sue", "supervisor")]);
    let mut sue = Workstation::open(&dir.path().join("sue"), "sue", Role::Supervisor);
    let started = Instant::now();
    let report = sue.sync(&cluster, at(0)).unwrap();
    println!(
        "initial sync, panel only: {} ({} panel lines; cache {:.1} MB)",
        secs(started.elapsed()),
        report.panel_items,
        dir_bytes(&sue.dir) as f64 / 1e6
    );
    let session = sue.session(at(1));
    let started = Instant::now();
    let opened = sue.api().open_cases(&session, panel_date(), None).unwrap();
    let segmentation = started.elapsed();
    let started = Instant::now();
    let report = sue.sync(&cluster, at(2)).unwrap();
    println!(
        "open the worklists: {} ({} cases); push them: {} ({} events)",
        secs(segmentation),
        opened.opened,
        secs(started.elapsed()),
        report.pushed
    );
    let mut ana = Workstation::open(&dir.path().join("ana"), "ana", Role::Coordinator);
    let started = Instant::now();
    let report = ana.sync(&cluster, at(3)).unwrap();
    println!(
        "initial sync, panel and events: {} ({} panel lines, {} events)",
        secs(started.elapsed()),
        report.panel_items,
        report.pulled
    );

    // 2. Round trip after one action.
    let pool = ana.unassigned(at(4));
    let mut transport = ana.transport(&cluster).unwrap();
    let mut trips = Vec::new();
    let mut template = None;
    for (i, case) in pool.iter().take(31).enumerate() {
        ana.act(at(5 + i as i64), |api, s| api.claim_case(s, *case))
            .unwrap();
        if template.is_none() {
            // One real claim, kept as the shape of the load's events.
            template = Some(ana.api().sync_push_request().unwrap().events[0].clone());
        }
        let started = Instant::now();
        ana.sync_with(&mut transport, at(5 + i as i64)).unwrap();
        if i > 0 {
            trips.push(started.elapsed());
        }
    }
    println!(
        "round trip (claim, push 1, pull, refold): {}",
        spread(&mut trips)
    );
    let template: WireEvent = template.expect("a claim");
    let cursor = ana.api().sync_events_cursor().unwrap();

    // 3. Load.
    let started = Instant::now();
    let users: Vec<String> = (0..stations).map(|i| format!("load{i:03}")).collect();
    let data_dir = cluster.data_dir();
    for user in &users {
        careloop_server::admin::add_user(&data_dir, user, "coordinator", "north", PASSWORD)
            .unwrap();
    }
    println!("{} accounts made: {}", users.len(), secs(started.elapsed()));
    let before = cluster.server_event_ids("north").len();
    let samples = Arc::new(Mutex::new(Samples::default()));
    let barrier = Arc::new(Barrier::new(stations + 1));
    let (url, pin) = (cluster.url.clone(), cluster.pin.clone());
    let threads: Vec<_> = users
        .iter()
        .cloned()
        .enumerate()
        .map(|(index, user)| {
            let (samples, barrier, url, pin, template) = (
                Arc::clone(&samples),
                Arc::clone(&barrier),
                url.clone(),
                pin.clone(),
                template.clone(),
            );
            std::thread::spawn(move || {
                let record = |f: &mut dyn FnMut(&mut Samples)| f(&mut samples.lock().unwrap());
                barrier.wait();
                let started = Instant::now();
                let signed = Connection::new(&url, Some(&pin)).and_then(|c| {
                    HttpTransport::sign_in(
                        c,
                        &user,
                        PASSWORD,
                        &format!("ws-{user}"),
                        TokenStore::memory(),
                    )
                });
                let elapsed = started.elapsed();
                let mut transport = match signed {
                    Ok(t) => t,
                    Err(e) => {
                        record(&mut |s| s.errors.push(format!("login: {}", e.message)));
                        barrier.wait();
                        barrier.wait();
                        return;
                    }
                };
                record(&mut |s| s.login.push(elapsed));
                barrier.wait();
                let mut after = cursor;
                let mut round = |paced: bool| {
                    let events: Vec<WireEvent> = (0..BATCH)
                        .map(|_| WireEvent {
                            id: uuid::Uuid::now_v7(),
                            actor: user.clone(),
                            ..template.clone()
                        })
                        .collect();
                    let ids: Vec<uuid::Uuid> = events.iter().map(|e| e.id).collect();
                    let request = PushRequest {
                        workstation: format!("ws-{user}"),
                        events,
                        audit_head: None,
                    };
                    let started = Instant::now();
                    match transport.push(&request) {
                        Ok(_) => {
                            let elapsed = started.elapsed();
                            record(&mut |s| {
                                if paced {
                                    &mut s.paced_push
                                } else {
                                    &mut s.push
                                }
                                .push(elapsed);
                                s.pushed.extend(&ids);
                            });
                        }
                        Err(e) => record(&mut |s| s.errors.push(format!("push: {}", e.message))),
                    }
                    loop {
                        let started = Instant::now();
                        match transport.pull(after, 1000) {
                            Ok(page) => {
                                let elapsed = started.elapsed();
                                record(&mut |s| {
                                    if paced {
                                        &mut s.paced_pull
                                    } else {
                                        &mut s.pull
                                    }
                                    .push(elapsed)
                                });
                                after = page.cursor;
                                if !page.more {
                                    break;
                                }
                            }
                            Err(e) => {
                                record(&mut |s| s.errors.push(format!("pull: {}", e.message)));
                                break;
                            }
                        }
                    }
                };
                // All at once (as after a server restart)…
                for _ in 0..rounds {
                    round(false);
                }
                barrier.wait();
                // …then paced: each workstation's rounds `interval` apart, the workstations
                // spread evenly over the interval (as the desktop's timer spreads them).
                let start = Instant::now();
                let offset = interval.mul_f64(index as f64 / stations as f64);
                for r in 0..rounds {
                    let due = start + interval * r as u32 + offset;
                    if let Some(wait) = due.checked_duration_since(Instant::now()) {
                        std::thread::sleep(wait);
                    }
                    round(true);
                }
            })
        })
        .collect();
    // The clock starts before the threads are released (on 2 cores this thread may run
    // only after many of them have signed in).
    let started = Instant::now();
    barrier.wait();
    barrier.wait();
    let logins = started.elapsed();
    let started = Instant::now();
    barrier.wait();
    let herd = started.elapsed();
    let started = Instant::now();
    for t in threads {
        t.join().unwrap();
    }
    let paced = started.elapsed();
    let mut s = Arc::try_unwrap(samples).ok().unwrap().into_inner().unwrap();
    println!(
        "load: {} sign-ins at once: {} wall; {}",
        stations,
        secs(logins),
        spread(&mut s.login)
    );
    let herd_events = stations * rounds * BATCH;
    println!(
        "load, all at once: {herd_events} events in {} ({:.0} events/s, {:.0} requests/s)",
        secs(herd),
        herd_events as f64 / herd.as_secs_f64(),
        (s.push.len() + s.pull.len()) as f64 / herd.as_secs_f64()
    );
    println!("  push of {BATCH} events: {}", spread(&mut s.push));
    println!("  pull page: {}", spread(&mut s.pull));
    println!(
        "load, paced (each workstation every {} s, spread over the interval; {:.0} rounds/s): {} wall",
        interval.as_secs(),
        stations as f64 / interval.as_secs_f64(),
        secs(paced)
    );
    println!("  push of {BATCH} events: {}", spread(&mut s.paced_push));
    println!("  pull page: {}", spread(&mut s.paced_pull));
    println!(
        "load: {} events pushed; {} errors",
        s.pushed.len(),
        s.errors.len()
    );
    for e in s.errors.iter().take(5) {
        println!("  error: {e}");
    }
    let on_server = cluster.server_event_ids("north");
    let mut unique = on_server.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(
        unique.len(),
        on_server.len(),
        "no event twice on the server"
    );
    assert_eq!(
        on_server.len(),
        before + s.pushed.len(),
        "every acknowledged event is on the server"
    );
    println!(
        "server: {} events, each once; data dir {:.1} MB",
        on_server.len(),
        dir_bytes(&cluster.data_dir()) as f64 / 1e6
    );
}
