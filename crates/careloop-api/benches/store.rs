//! The fact store's figures in one table: for each panel, the import into the encrypted cache
//! and into a plain one through the same code path (the cost of encryption), the facts
//! derived, the cache's bytes per person and per resource against the gzipped input, the
//! end-to-end `segment` run as its own process (wall time and peak memory, as a user's
//! `careloop segment --as-of D` pays it), and a resident re-evaluation of everyone.
//!
//! Panels:
//! - `synthea-10k`: Synthea-shaped, 17 copies of the shared archive's 615 people (10,455), every
//!   UUID made fresh per copy, written as gzipped Bundles (the input's size is theirs);
//!   `synthea-1k`: the same with 2 copies (1,230 people), for a quick look;
//! - `demo-10k`, `demo-100k`: `careloop demo` panels (seed 42), gzipped NDJSON measured.
//!
//! `cargo bench -p careloop-api --bench store [-- PANEL…]` (default: synthea-10k demo-10k).
//! Each panel runs in its own process, the segment run in one more.

mod common;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use careloop_api::{Actor, Careloop};
use chrono::NaiveDate;

const AS_OF: (i32, u32, u32) = (2026, 6, 30);

fn as_of() -> NaiveDate {
    NaiveDate::from_ymd_opt(AS_OF.0, AS_OF.1, AS_OF.2).unwrap()
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    match args.as_slice() {
        [mode, panel] if mode == "panel" => return run(panel),
        [mode, dir] if mode == "segment" => return segment_child(Path::new(dir)),
        _ => {}
    }
    let panels = if args.is_empty() {
        vec!["synthea-10k".to_owned(), "demo-10k".to_owned()]
    } else {
        args
    };
    let me = std::env::current_exe().unwrap();
    let mut columns: Vec<(String, Vec<(String, String)>)> = Vec::new();
    for panel in &panels {
        let output = std::process::Command::new(&me)
            .args(["panel", panel])
            .stderr(std::process::Stdio::inherit())
            .output()
            .unwrap();
        assert!(output.status.success(), "panel {panel} failed");
        let rows = String::from_utf8(output.stdout)
            .unwrap()
            .lines()
            .filter_map(|l| l.strip_prefix("ROW\t"))
            .filter_map(|l| l.split_once('\t'))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        columns.push((panel.clone(), rows));
    }
    // One table: a row per figure, a column per panel.
    let width = 44;
    print!("{:<width$}", "");
    for (panel, _) in &columns {
        print!(" | {panel:>14}");
    }
    println!();
    if let Some((_, first)) = columns.first() {
        for (i, (name, _)) in first.iter().enumerate() {
            print!("{name:<width$}");
            for (_, rows) in &columns {
                print!(
                    " | {:>14}",
                    rows.get(i).map(|r| r.1.as_str()).unwrap_or("-")
                );
            }
            println!();
        }
    }
}

fn row(name: &str, value: String) {
    println!("ROW\t{name}\t{value}");
}

fn run(panel: &str) {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("input");
    let generated = Instant::now();
    let (people, gz_bytes) = match panel {
        "synthea-10k" => synthea_copies(&input, 17),
        "synthea-1k" => synthea_copies(&input, 2),
        "demo-10k" => demo(&input, 10_000),
        "demo-100k" => demo(&input, 100_000),
        other => panic!("unknown panel {other} (synthea-10k, synthea-1k, demo-10k, demo-100k)"),
    };
    eprintln!(
        "{panel}: input written in {:.1} s",
        generated.elapsed().as_secs_f64()
    );

    // The same import into a plain and an encrypted store: the cost of encryption.
    let plain_s = {
        let mut store =
            careloop_store::Store::open_unencrypted_for_benchmark(&dir.path().join("plain"))
                .unwrap();
        let started = Instant::now();
        careloop_fhir::import_paths(
            &mut store,
            std::slice::from_ref(&input),
            Default::default(),
            &mut |_| {},
        )
        .unwrap();
        started.elapsed().as_secs_f64()
    };
    std::fs::remove_dir_all(dir.path().join("plain")).unwrap();
    let config = common::config(dir.path());
    let (stored, encrypted_s) = {
        let mut careloop = Careloop::open(&config).unwrap();
        let started = Instant::now();
        let summary = careloop_fhir::import_paths(
            careloop.store_mut(),
            std::slice::from_ref(&input),
            Default::default(),
            &mut |_| {},
        )
        .unwrap();
        assert!(
            summary.files_failed.is_empty(),
            "{:?}",
            summary.files_failed
        );
        (summary.stored_total(), started.elapsed().as_secs_f64())
    };
    let facts_s = {
        let mut careloop = Careloop::open(&config).unwrap();
        let started = Instant::now();
        careloop.refresh_facts(&mut |_, _| {}).unwrap();
        started.elapsed().as_secs_f64()
    };
    std::fs::remove_dir_all(&input).unwrap();
    let cache = common::dir_bytes(&config.data_dir);

    row("people", format!("{people}"));
    row("resources stored", format!("{stored}"));
    row("import, encrypted (s)", format!("{encrypted_s:.2}"));
    row(
        "import, encrypted (resources/s)",
        format!("{:.0}", stored as f64 / encrypted_s),
    );
    row(
        "import, plain (resources/s)",
        format!("{:.0}", stored as f64 / plain_s),
    );
    row(
        "encryption's cost on import",
        format!("{:+.0}%", (encrypted_s / plain_s - 1.0) * 100.0),
    );
    row(
        "derive and store everyone's facts (s)",
        format!("{facts_s:.2}"),
    );
    row(
        "import + facts (s)",
        format!("{:.2}", encrypted_s + facts_s),
    );
    row(
        "gzipped input (MB)",
        format!("{:.1}", gz_bytes as f64 / 1e6),
    );
    row("cache (MB)", format!("{:.1}", cache as f64 / 1e6));
    row(
        "cache / gzipped input",
        format!("{:.2}", cache as f64 / gz_bytes as f64),
    );
    row(
        "cache bytes per person",
        format!("{:.0}", cache as f64 / people as f64),
    );
    row(
        "cache bytes per resource",
        format!("{:.0}", cache as f64 / stored as f64),
    );

    // End to end, as `careloop segment --as-of D` runs it: its own process, a cold cache.
    let output = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["segment", &dir.path().display().to_string()])
        .stderr(std::process::Stdio::inherit())
        .output()
        .unwrap();
    assert!(output.status.success(), "the segment run failed");
    let text = String::from_utf8(output.stdout).unwrap();
    for line in text.lines().filter(|l| l.starts_with("ROW\t")) {
        println!("{line}");
    }

    // Resident: the panel in memory, everyone evaluated again (as a day change does).
    let mut careloop = Careloop::open(&config).unwrap();
    let panel_facts = careloop.load_panel_for_benchmark().unwrap();
    let catalog = careloop_segment::builtin_catalog().unwrap();
    let contacts = std::collections::HashMap::new();
    let mut best = f64::MAX;
    for _ in 0..3 {
        let started = Instant::now();
        std::hint::black_box(careloop_segment::engine::run(
            &catalog,
            &panel_facts,
            &contacts,
            as_of(),
        ));
        best = best.min(started.elapsed().as_secs_f64());
    }
    row(
        "resident: evaluate everyone (s, best of 3)",
        format!("{best:.3}"),
    );
}

/// The child process: open the cache cold and run every published segment as of the date,
/// recording the run, as the CLI's `segment` does.
fn segment_child(dir: &Path) {
    let config = common::config(dir);
    let started = Instant::now();
    let mut careloop = Careloop::open(&config).unwrap();
    let actor = Actor {
        name: "bench".to_owned(),
        at: chrono::DateTime::from_timestamp(1_782_000_000, 0).unwrap(),
    };
    let run = careloop.segment(as_of(), None, &actor).unwrap();
    let seconds = started.elapsed().as_secs_f64();
    assert!(!run.segments.is_empty());
    row(
        "segment end to end, own process (s)",
        format!("{seconds:.2}"),
    );
    row(
        "segment end to end, peak RSS (MiB)",
        format!("{:.0}", common::peak_rss_mib()),
    );
}

/// A `careloop demo` panel as NDJSON in `dir`; (people, bytes of the NDJSON gzipped).
fn demo(dir: &Path, people: u32) -> (u64, u64) {
    careloop_api::write_demo_panel(dir, people, 42, as_of()).unwrap();
    let mut gz = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        gz += gzipped_len(&std::fs::read(path).unwrap());
    }
    (u64::from(people), gz)
}

fn gzipped_len(bytes: &[u8]) -> u64 {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap().len() as u64
}

fn shared_archive() -> PathBuf {
    std::env::var_os("CARELOOP_SHARED_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data"))
        .join("smart-on-fhir-generated-sample-data-R4-SYNTHEA.tar.gz")
}

/// `copies` copies of the shared Synthea archive's Bundles with fresh UUIDs each, as gzipped
/// JSON files in `dir`; (people, bytes written).
fn synthea_copies(dir: &Path, copies: u32) -> (u64, u64) {
    std::fs::create_dir_all(dir).unwrap();
    let file = std::fs::File::open(shared_archive()).expect("the shared Synthea archive");
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(file));
    let mut bundles = Vec::new();
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        let name = entry.path().unwrap().display().to_string();
        if !name.ends_with(".json") {
            continue;
        }
        let mut text = Vec::new();
        entry.read_to_end(&mut text).unwrap();
        bundles.push(text);
    }
    let people_per_copy = bundles
        .iter()
        .filter(|b| {
            // A person's Bundle (the archive also holds hospital and practitioner Bundles).
            let head = &b[..b.len().min(400)];
            head.windows(20).any(|w| w == b"\"resourceType\": \"Pat")
        })
        .count() as u64;
    let mut written = 0;
    for copy in 0..copies {
        for (i, bundle) in bundles.iter().enumerate() {
            let fresh = fresh_uuids(bundle, copy);
            let path = dir.join(format!("copy{copy:02}-{i:04}.json.gz"));
            let mut encoder = flate2::write::GzEncoder::new(
                std::fs::File::create(&path).unwrap(),
                flate2::Compression::default(),
            );
            encoder.write_all(&fresh).unwrap();
            encoder.finish().unwrap();
            written += std::fs::metadata(&path).unwrap().len();
        }
    }
    (people_per_copy * u64::from(copies), written)
}

/// The text with every UUID's first 32 bits mixed with the copy number: one bijection per copy,
/// so references between resources still meet, and copies do not collide.
fn fresh_uuids(text: &[u8], copy: u32) -> Vec<u8> {
    let mut out = text.to_vec();
    let hex = |b: u8| b.is_ascii_hexdigit();
    let mut i = 0;
    while i + 36 <= out.len() {
        let w = &out[i..i + 36];
        let is_uuid = w.iter().enumerate().all(|(j, &b)| match j {
            8 | 13 | 18 | 23 => b == b'-',
            _ => hex(b),
        });
        if is_uuid {
            let first = u32::from_str_radix(std::str::from_utf8(&w[..8]).unwrap(), 16).unwrap();
            let mixed = first ^ copy.wrapping_mul(0x9e37_79b1);
            out[i..i + 8].copy_from_slice(format!("{mixed:08x}").as_bytes());
            i += 36;
        } else {
            i += 1;
        }
    }
    out
}
