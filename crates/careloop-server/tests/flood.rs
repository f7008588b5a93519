//! A sign-in flood against a real server on loopback: many concurrent bad sign-ins for a
//! known user, with the throttle out of the way so every one reaches the password check.
//! The server's memory stays flat (password checks run on a bounded pool; beyond its queue
//! the answer is 429 `server_busy`), and `/health` keeps answering.
//!
//! The server runs in a child process (this test binary again, `harness = false`), so that
//! its resident memory is measured apart from the 48 clients'.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use careloop_sync::Connection;
use careloop_testkit::Cluster;

/// Set in the child: the directory it serves from.
const CHILD: &str = "CARELOOP_FLOOD_SERVER_DIR";

fn main() {
    if let Ok(dir) = std::env::var(CHILD) {
        serve(std::path::Path::new(&dir));
        return;
    }
    a_sign_in_flood_keeps_memory_flat_and_health_answering();
    println!("test a_sign_in_flood_keeps_memory_flat_and_health_answering ... ok");
}

/// The child: a server with the throttle out of the way (every bad sign-in reaches the
/// password check), until its standard input closes.
fn serve(dir: &std::path::Path) {
    let cluster = Cluster::start_with(dir, 5, |config| {
        let off = 1_000_000;
        config.sign_in_limits.account_free = off;
        config.sign_in_limits.account_lock_at = off;
        config.sign_in_limits.address_free = off;
        config.sign_in_limits.address_lock_at = off;
    });
    cluster.add_team("north", &[("ana", "coordinator")]);
    println!("READY {} {}", cluster.url, cluster.pin);
    let mut line = String::new();
    let _ = std::io::stdin().read_line(&mut line);
}

fn resident_mib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap();
    kib / 1024
}

fn a_sign_in_flood_keeps_memory_flat_and_health_answering() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(std::env::current_exe().unwrap())
        .env(CHILD, dir.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let mut ready = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut ready)
        .unwrap();
    let mut words = ready.split_whitespace().skip(1);
    let (url, pin) = (
        words.next().unwrap().to_owned(),
        words.next().unwrap().to_owned(),
    );
    let warm = Connection::new(&url, Some(&pin)).unwrap();
    for _ in 0..4 {
        let _ = warm.login("ana", "wrong password", "ws");
    }
    let conns: Vec<Connection> = (0..48)
        .map(|_| Connection::new(&url, Some(&pin)).unwrap())
        .collect();
    let health = Connection::new(&url, Some(&pin)).unwrap();
    let before = resident_mib(pid);
    let stop = Arc::new(AtomicBool::new(false));
    let peak = Arc::new(AtomicU64::new(before));
    let (answered, busy) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let clients: Vec<_> = conns
        .into_iter()
        .map(|conn| {
            let (stop, answered, busy) = (stop.clone(), answered.clone(), busy.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    // One request at a time per client, no retry: the raw answer.
                    let body = br#"{"user":"ana","password":"wrong password","workstation":"ws"}"#;
                    let (status, _) = conn
                        .raw(
                            "POST",
                            "/api/v1/auth/login",
                            None,
                            Some("application/json"),
                            body.to_vec(),
                        )
                        .unwrap();
                    answered.fetch_add(1, Ordering::Relaxed);
                    match status {
                        401 => {}
                        429 => {
                            busy.fetch_add(1, Ordering::Relaxed);
                            std::thread::sleep(Duration::from_millis(20));
                        }
                        other => panic!("a bad sign-in answered {other}"),
                    }
                }
            })
        })
        .collect();
    let mut slowest_health = Duration::ZERO;
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(6) {
        let asked = Instant::now();
        let (status, _) = health
            .raw("GET", "/api/v1/health", None, None, Vec::new())
            .unwrap();
        assert_eq!(status, 200);
        slowest_health = slowest_health.max(asked.elapsed());
        peak.fetch_max(resident_mib(pid), Ordering::Relaxed);
        std::thread::sleep(Duration::from_millis(100));
    }
    stop.store(true, Ordering::Relaxed);
    for c in clients {
        c.join().unwrap();
    }
    drop(child.stdin.take());
    let _ = child.wait();
    let peak = peak.load(Ordering::Relaxed);
    println!(
        "48 clients, 6 s: {} answers ({} busy), resident {before} MiB before, {peak} MiB at most; /health at worst {slowest_health:?}",
        answered.load(Ordering::Relaxed),
        busy.load(Ordering::Relaxed),
    );
    assert!(busy.load(Ordering::Relaxed) > 0, "beyond the queue: 429");
    assert!(
        peak < before + 100,
        "resident memory grew from {before} MiB to {peak} MiB under the flood"
    );
    assert!(
        slowest_health < Duration::from_secs(2),
        "/health took {slowest_health:?} under the flood"
    );
}
