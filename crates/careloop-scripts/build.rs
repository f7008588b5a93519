//! Embeds the built-in outreach scripts (`schema/scripts/*.json`) so the binary carries them,
//! listed from the directory so the list cannot drift from the files.

use std::fmt::Write;
use std::path::Path;

fn main() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../schema/scripts");
    // A directory here makes cargo rerun the script when any file in it is added, removed or
    // changed.
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("a readable directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    let mut out = String::new();
    writeln!(
        out,
        "pub(crate) const BUILTIN_SCRIPTS: &[(&str, &str)] = &["
    )
    .unwrap();
    for file in files {
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        let path = file.canonicalize().unwrap();
        writeln!(
            out,
            "    ({name:?}, include_str!({:?})),",
            path.display().to_string()
        )
        .unwrap();
    }
    writeln!(out, "];").unwrap();
    let dest = Path::new(&std::env::var("OUT_DIR").unwrap()).join("builtin.rs");
    std::fs::write(dest, out).unwrap();
}
