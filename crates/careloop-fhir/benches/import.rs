//! Import benchmark: the main Synthea archive (615 patients, 191,093 resources) into an
//! encrypted and an unencrypted store through the same code path, and a generated 10,000-person
//! demo panel. Each scenario runs in its own process so that its peak memory (VmHWM) is its own.
//!
//! `cargo bench -p careloop-fhir --bench import [-- SCENARIO...]` with scenarios
//! `archive-encrypted`, `archive-plain`, `demo-10k` (default: all three).

use std::path::{Path, PathBuf};
use std::time::Instant;

use careloop_fhir::{import_paths, ImportOptions};
use careloop_store::{CacheKey, Store};

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    if let [scenario] = args.as_slice() {
        run(scenario);
        return;
    }
    let scenarios = if args.is_empty() {
        vec![
            "archive-encrypted".to_owned(),
            "archive-plain".to_owned(),
            "demo-10k".to_owned(),
        ]
    } else {
        args
    };
    let me = std::env::current_exe().expect("the bench knows its own path");
    for scenario in scenarios {
        let status = std::process::Command::new(&me)
            .arg(&scenario)
            .status()
            .expect("the scenario runs");
        assert!(status.success(), "scenario {scenario} failed");
    }
}

fn shared_archive() -> PathBuf {
    std::env::var_os("CARELOOP_SHARED_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data"))
        .join("smart-on-fhir-generated-sample-data-R4-SYNTHEA.tar.gz")
}

fn run(scenario: &str) {
    let dir = tempfile::tempdir().expect("a temp dir");
    let key = CacheKey::from_hex(&"42".repeat(32)).expect("a valid key");
    let (mut store, input) = match scenario {
        "archive-encrypted" => (
            Store::open(&dir.path().join("data"), &key).unwrap(),
            shared_archive(),
        ),
        "archive-plain" => (
            Store::open_unencrypted_for_benchmark(&dir.path().join("data")).unwrap(),
            shared_archive(),
        ),
        "demo-10k" => {
            let panel = dir.path().join("panel");
            let config = careloop_demo::DemoConfig {
                patients: 10_000,
                seed: 42,
                as_of: chrono::NaiveDate::from_ymd_opt(2026, 6, 30).unwrap(),
            };
            careloop_demo::write_to_dir(&config, &panel).expect("the demo panel is written");
            (Store::open(&dir.path().join("data"), &key).unwrap(), panel)
        }
        other => panic!("unknown scenario {other}"),
    };
    let input_bytes = bytes_of(&input);
    let started = Instant::now();
    let summary = import_paths(&mut store, &[input], ImportOptions::default(), &mut |_| {})
        .expect("the import runs");
    let seconds = started.elapsed().as_secs_f64();
    assert!(
        summary.files_failed.is_empty(),
        "{:?}",
        summary.files_failed
    );
    let stored = summary.stored_total();
    let read: u64 = stored + summary.skipped.values().sum::<u64>();
    drop(store);
    println!(
        "{scenario:<18} {seconds:>7.2} s  {stored:>7} stored ({:>6.0}/s)  {read:>7} read ({:>6.0}/s)  input {:>6.1} MB  cache {:>6.1} MB  peak RSS {:>6.1} MB",
        stored as f64 / seconds,
        read as f64 / seconds,
        input_bytes as f64 / 1e6,
        bytes_of(&dir.path().join("data")) as f64 / 1e6,
        peak_rss_kib() as f64 / 1024.0,
    );
}

fn bytes_of(path: &Path) -> u64 {
    if path.is_dir() {
        std::fs::read_dir(path)
            .unwrap()
            .map(|e| bytes_of(&e.unwrap().path()))
            .sum()
    } else {
        std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
    }
}

/// Peak resident memory of this process (VmHWM), in KiB; 0 where /proc is not there.
fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .map(str::to_owned)
        })
        .and_then(|l| l.split_whitespace().nth(1).and_then(|n| n.parse().ok()))
        .unwrap_or(0)
}
