//! Trains the zstd dictionary that careloop-store compresses stored bodies with, and reports
//! how well it compresses archives it was not trained on.
//!
//! `cargo run --release -p careloop-fhir --example train_body_dictionary -- OUT TRAIN…
//! [--check CHECK…]`: imports each TRAIN input (archive, file or directory) into a throw-away
//! store, takes every body as the store holds it (compact JSON), samples about 16 MB of each
//! input's bodies evenly in (type, id) order, trains a 112 KiB dictionary into OUT, then
//! prints the compressed size of every body of each input with it (level 3, as the store
//! writes), the CHECK inputs being data it was not trained on. Codec 1's dictionary
//! (`crates/careloop-store/dictionaries/fhir-r4-1.zdict`) was trained on the shared
//! `smart-on-fhir-generated-sample-data-R4-SYNTHEA.tar.gz` and a demo panel
//! (`careloop demo --patients 2000 --seed 1`), checked on the shared
//! `fhir-data-pipes-synthea-hiv-sample_data.tar.gz`. A new dictionary is a new codec, never a
//! replacement of that file: caches hold rows compressed with it.

use std::path::{Path, PathBuf};

use careloop_fhir::{import_paths, ImportOptions};
use careloop_store::Store;

const DICTIONARY_BYTES: usize = 112 * 1024;
const SAMPLE_BYTES: usize = 16 * 1024 * 1024;

fn bodies(archive: &Path) -> Vec<String> {
    let dir = tempfile::tempdir().expect("a temp dir");
    let mut store =
        Store::open_unencrypted_for_benchmark(&dir.path().join("data")).expect("a store");
    let summary = import_paths(
        &mut store,
        &[archive.to_owned()],
        ImportOptions::default(),
        &mut |_| {},
    )
    .expect("the archive imports");
    assert!(
        summary.files_failed.is_empty(),
        "{:?}",
        summary.files_failed
    );
    let mut bodies = Vec::new();
    store
        .for_each_stored_resource(|_, _, _, body| {
            bodies.push(body.to_owned());
            Ok(())
        })
        .expect("the bodies read back");
    bodies
}

fn report(name: &str, bodies: &[String], dictionary: &[u8]) {
    let mut compressor =
        zstd::bulk::Compressor::with_dictionary(3, dictionary).expect("a compressor");
    let (mut plain, mut packed) = (0usize, 0usize);
    for body in bodies {
        plain += body.len();
        packed += compressor
            .compress(body.as_bytes())
            .expect("compresses")
            .len();
    }
    println!(
        "{name}: {} bodies, {:.1} MB as JSON, {:.1} MB compressed ({:.1}x, {:.0} bytes a body)",
        bodies.len(),
        plain as f64 / 1e6,
        packed as f64 / 1e6,
        plain as f64 / packed as f64,
        packed as f64 / bodies.len() as f64
    );
}

fn main() {
    let args: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    let Some((out, rest)) = args.split_first() else {
        eprintln!("usage: train_body_dictionary OUT TRAIN… [--check CHECK…]");
        std::process::exit(2);
    };
    let split = rest
        .iter()
        .position(|a| a.as_os_str() == "--check")
        .unwrap_or(rest.len());
    let (train, checks) = (&rest[..split], rest.get(split + 1..).unwrap_or_default());
    let training: Vec<(String, Vec<String>)> = train
        .iter()
        .map(|input| (input.display().to_string(), bodies(input)))
        .collect();
    let mut samples: Vec<&[u8]> = Vec::new();
    for (_, input) in &training {
        let total: usize = input.iter().map(String::len).sum();
        let step = (total / SAMPLE_BYTES).max(1);
        samples.extend(input.iter().step_by(step).map(|b| b.as_bytes()));
    }
    let dictionary = zstd::dict::from_samples(&samples, DICTIONARY_BYTES).expect("trains");
    std::fs::write(out, &dictionary).expect("the dictionary is written");
    println!(
        "trained {} bytes on {} bodies",
        dictionary.len(),
        samples.len()
    );
    for (name, input) in &training {
        report(name, input, &dictionary);
        report("  (the same without a dictionary)", input, &[]);
    }
    for check in checks {
        let input = bodies(check);
        report(
            &format!("{} (not trained on)", check.display()),
            &input,
            &dictionary,
        );
        report("  (the same without a dictionary)", &input, &[]);
    }
}
