//! What the benchmarks share: an encrypted cache in a temp dir holding a generated demo panel,
//! and the machine figures they print.

#![allow(dead_code)] // each bench uses a part

use std::path::Path;

use careloop_api::{Careloop, Config};
use chrono::NaiveDate;

/// A cache under `dir` (key file, no keyring).
pub fn config(dir: &Path) -> Config {
    use std::os::unix::fs::PermissionsExt;
    let key = dir.join("key");
    std::fs::write(&key, "7e".repeat(32)).unwrap();
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    Config {
        data_dir: dir.join("data"),
        key: careloop_store::KeySource::KeyFile(key),
    }
}

/// Opens the cache of `config` and imports a demo panel of `patients` people (seed 42) dated
/// up to `as_of`; returns it and the import's seconds (generation not included).
pub fn demo_cache(dir: &Path, config: &Config, patients: u32, as_of: NaiveDate) -> (Careloop, f64) {
    let panel_dir = dir.join("panel");
    careloop_api::write_demo_panel(&panel_dir, patients, 42, as_of).unwrap();
    let mut careloop = Careloop::open(config).unwrap();
    let imported = std::time::Instant::now();
    careloop
        .import(std::slice::from_ref(&panel_dir), false, &mut |_| {})
        .unwrap();
    let import_s = imported.elapsed().as_secs_f64();
    std::fs::remove_dir_all(&panel_dir).unwrap();
    (careloop, import_s)
}

/// Bytes of the files directly in `path`.
pub fn dir_bytes(path: &Path) -> u64 {
    std::fs::read_dir(path)
        .map(|d| d.map(|e| e.unwrap().metadata().unwrap().len()).sum())
        .unwrap_or(0)
}

/// This process's peak resident memory (VmHWM), MiB.
pub fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .unwrap_or(0.0)
        / 1024.0
}
