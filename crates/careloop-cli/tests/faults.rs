//! 200 randomized fault-injection runs of sync against a real server (see
//! `src/faults.rs`): kill -9 mid-push, dropped connections, duplicated and reordered
//! deliveries, server restarts; every event id accounted for. `--runs 1000` by hand.

use std::process::Command;

#[test]
fn two_hundred_randomized_fault_runs_lose_and_duplicate_nothing() {
    let output = Command::new(env!("CARGO_BIN_EXE_careloop-faults"))
        .args(["--runs", "200", "--seed", "1"])
        .output()
        .expect("running careloop-faults");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.starts_with("200 runs in"), "{stdout}");
    // The faults did happen.
    for fault in [
        "answers lost",
        "kill -9",
        "server restarts",
        "stale deliveries",
    ] {
        let count: u64 = stdout
            .split(fault)
            .next()
            .and_then(|before| before.split_whitespace().last())
            .and_then(|n| n.trim_start_matches('(').parse().ok())
            .unwrap_or(0);
        assert!(count > 0, "no {fault} in: {stdout}");
    }
}
