//! Writes a demo panel to a directory and prints what was written and how long it took:
//! `cargo run --release --example demo_panel -- DIR [PATIENTS] [SEED] [AS_OF]`.

use std::time::Instant;

use careloop_demo::{write_to_dir, DemoConfig};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let dir = args
        .next()
        .ok_or("usage: demo_panel DIR [PATIENTS] [SEED] [AS_OF]")?;
    let patients = args.next().map(|a| a.parse()).transpose()?.unwrap_or(1_000);
    let seed = args.next().map(|a| a.parse()).transpose()?.unwrap_or(42);
    let as_of = match args.next() {
        Some(text) => chrono::NaiveDate::parse_from_str(&text, "%Y-%m-%d")?,
        None => chrono::NaiveDate::from_ymd_opt(2026, 6, 30).ok_or("bad default date")?,
    };
    let config = DemoConfig {
        patients,
        seed,
        as_of,
    };
    // Monotonic time, for the throughput figure only; the panel itself never reads a clock.
    let started = Instant::now();
    let report = write_to_dir(&config, std::path::Path::new(&dir))?;
    let seconds = started.elapsed().as_secs_f64();
    println!("{report:#?}");
    let resources: u64 = report.resources.values().sum();
    println!(
        "{patients} patients, {resources} resources, {} signals in {seconds:.2} s ({:.0} patients/s)",
        report.engagement_signals,
        f64::from(patients) / seconds
    );
    Ok(())
}
