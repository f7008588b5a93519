//! The `careloop` binary's logs carry no PHI: a whole workstation flow at `CARELOOP_LOG=trace`
//! (every target, ours and the dependencies') over a person whose name, birth date, phone,
//! address, MRN, id, condition text, file name and attempt note are canaries; stderr must
//! hold log lines and none of the canaries.

use std::path::PathBuf;
use std::process::{Command, Output};

/// Every string that must never reach stderr. Text canaries share `zqxcanary` (checked
/// case-insensitively); the phone is checked with and without its separators, the MRN and
/// the birth date as they are written in the file.
const CANARY: &str = "zqxcanary";
const PHONE: &str = "617-739-2846";
const PHONE_DIGITS: &str = "6177392846";
const MRN: &str = "QXM-55031";
const BIRTH_DATE: &str = "1958-04-17";

/// The person: a woman of 68 with diabetes, so that the breast screening, wellness visit
/// and HbA1c segments all take her and cases open for her.
fn bundle() -> String {
    serde_json::json!({
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {
                "fullUrl": "urn:uuid:7c1f9a52-4d0e-4b7e-9a57-3f8e2b6c1d01",
                "resource": {
                    "resourceType": "Patient",
                    "id": "zqxcanary-pid-1",
                    "identifier": [
                        {"system": "http://hospital.example.org/mrn", "value": MRN},
                        {"system": "http://example.org/zqxcanary-local", "value": "ZQXCANARY-LOCAL-7"}
                    ],
                    "name": [{"use": "official", "given": ["Zqxcanarygiven"], "family": "Zqxcanaryfamily"}],
                    "gender": "female",
                    "birthDate": BIRTH_DATE,
                    "telecom": [
                        {"system": "phone", "value": PHONE, "use": "home", "rank": 1},
                        {"system": "email", "value": "zqxcanary@example.org"}
                    ],
                    "address": [{
                        "line": ["12 Zqxcanary Street"],
                        "city": "Zqxcanaryville",
                        "state": "MA",
                        "postalCode": "02118"
                    }],
                    "communication": [{"language": {"coding": [{"code": "en", "display": "English"}]}, "preferred": true}]
                }
            },
            {
                "fullUrl": "urn:uuid:7c1f9a52-4d0e-4b7e-9a57-3f8e2b6c1d02",
                "resource": {
                    "resourceType": "Condition",
                    "id": "zqxcanary-cond-1",
                    "clinicalStatus": {"coding": [{
                        "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                        "code": "active"
                    }]},
                    "code": {
                        "coding": [{"system": "http://snomed.info/sct", "code": "44054006", "display": "Diabetes mellitus type 2"}],
                        "text": "Zqxcanary condition text"
                    },
                    "subject": {"reference": "Patient/zqxcanary-pid-1"},
                    "onsetDateTime": "2015-03-02",
                    "note": [{"text": "Zqxcanary clinical note"}]
                }
            }
        ]
    })
    .to_string()
}

struct Env {
    root: tempfile::TempDir,
}

impl Env {
    fn new() -> Env {
        use std::os::unix::fs::PermissionsExt;
        let root = tempfile::tempdir().unwrap();
        let key = root.path().join("key");
        std::fs::write(&key, format!("{}\n", "c4".repeat(32))).unwrap();
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
        Env { root }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.root.path().join(name)
    }

    /// careloop with this environment's data dir and key file, no keyring, no user app-data
    /// dir, and logs at `log` (None: `CARELOOP_LOG` unset).
    fn run_logged(&self, log: Option<&str>, args: &[&str]) -> Output {
        let mut command = Command::new(env!("CARGO_BIN_EXE_careloop"));
        command
            .arg("--data-dir")
            .arg(self.path("data"))
            .arg("--key-file")
            .arg(self.path("key"))
            .args(args)
            .env_remove("CARELOOP_DATA_DIR")
            .env_remove("CARELOOP_KEY_FILE")
            .env_remove("CARELOOP_EXPORT_DIR")
            .env_remove("CARELOOP_SERVER_URL")
            .env_remove("CARELOOP_LOG")
            .env_remove("RUST_LOG")
            .env("HOME", self.root.path())
            .env("XDG_DATA_HOME", self.path("xdg"))
            .env("XDG_CONFIG_HOME", self.path("xdg-config"));
        if let Some(log) = log {
            command.env("CARELOOP_LOG", log);
        }
        command.output().unwrap()
    }
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The canaries found in `text`.
fn canaries_in(text: &str) -> Vec<&'static str> {
    let lower = text.to_lowercase();
    [CANARY, PHONE, PHONE_DIGITS, MRN, BIRTH_DATE]
        .into_iter()
        .filter(|c| lower.contains(&c.to_lowercase()))
        .collect()
}

/// Everything the flow wrote to stderr, command by command.
struct Flow<'a> {
    env: &'a Env,
    stderr: Vec<(String, String)>,
}

impl Flow<'_> {
    /// Runs a command at TRACE; it must succeed (or fail as `expect_code` says).
    fn run(&mut self, args: &[&str], expect_code: i32) -> Output {
        let out = self.env.run_logged(Some("trace"), args);
        assert_eq!(
            out.status.code(),
            Some(expect_code),
            "{args:?}: {}",
            stderr(&out)
        );
        self.stderr.push((args.join(" "), stderr(&out)));
        out
    }

    /// An operations command as `user` in `role` at a fixed time.
    fn ops(&mut self, user: &str, role: &str, args: &[&str], expect_code: i32) -> Output {
        let mut all = args.to_vec();
        all.extend([
            "--as-user",
            user,
            "--role",
            role,
            "--at",
            "2026-07-01T09:00:00Z",
        ]);
        self.run(&all, expect_code)
    }
}

#[test]
fn a_whole_workstation_flow_at_trace_logs_no_phi() {
    let env = Env::new();
    let panel = env.path("panel");
    std::fs::create_dir_all(&panel).unwrap();
    // File names can be PHI too (Synthea names its files after the people in them).
    std::fs::write(panel.join("Zqxcanarygiven_Zqxcanaryfamily.json"), bundle()).unwrap();
    let p = panel.to_str().unwrap();
    let mut flow = Flow {
        env: &env,
        stderr: Vec::new(),
    };

    let out = flow.run(&["import", p, "--format", "json"], 0);
    let summary: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(summary["stored"]["Patient"], 1, "{summary}");
    flow.run(&["stats"], 0);
    flow.run(&["segment", "--as-of", "2026-06-30", "--as-user", "sue"], 0);
    flow.run(
        &[
            "segment",
            "explain",
            "zqxcanary-pid-1",
            "--as-of",
            "2026-06-30",
        ],
        0,
    );

    let out = flow.ops(
        "sue",
        "supervisor",
        &["case", "open", "--as-of", "2026-06-30", "--format", "json"],
        0,
    );
    let opened: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert!(opened["opened"].as_u64().unwrap() >= 2, "{opened}");
    let out = flow.ops(
        "ana",
        "coordinator",
        &["case", "list", "--pool", "--format", "json"],
        0,
    );
    let pool: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let case = pool[0]["case_id"].as_str().unwrap().to_owned();
    let other = pool[1]["case_id"].as_str().unwrap().to_owned();

    // A refusal too: its code is logged, its message is not.
    flow.ops("cleo", "clinician", &["case", "claim", &case], 1);
    flow.ops("ana", "coordinator", &["case", "claim", &case], 0);
    flow.ops("ana", "coordinator", &["case", "claim", &other], 0);
    flow.ops(
        "ana",
        "coordinator",
        &[
            "case",
            "attempt",
            &case,
            "--channel",
            "phone",
            "--outcome",
            "unreachable",
            "--next",
            "follow-up:2026-07-03",
            "--note",
            "Zqxcanary's daughter answered at 617-739-2846; call after 5",
        ],
        0,
    );
    flow.ops(
        "ana",
        "coordinator",
        &[
            "case",
            "attempt",
            &other,
            "--channel",
            "phone",
            "--outcome",
            "unreachable",
            "--next",
            "escalate:no_contact:Zqxcanary's neighbour says she moved to 12 Zqxcanary Street",
        ],
        0,
    );
    flow.ops(
        "ana",
        "coordinator",
        &["escalation", "list", "--format", "json"],
        0,
    );
    flow.ops("ana", "coordinator", &["case", "list"], 0);
    let shown = flow.ops("ana", "coordinator", &["case", "show", &case], 0);
    assert!(
        !canaries_in(&stdout(&shown)).is_empty(),
        "the case view shows the person (so the data did flow): {}",
        stdout(&shown)
    );

    // Search for the person's name, phone digits and the note's words.
    for query in ["Zqxcanaryfamily", "7392846", "daughter", MRN] {
        let out = flow.ops("ana", "coordinator", &["search", query], 0);
        assert!(
            !canaries_in(&stdout(&out)).is_empty(),
            "{query} finds the person or the note: {}",
            stdout(&out)
        );
    }

    // The supervisor's review, as text and exported as CSV and PDF.
    let at = ["--as-user", "sue", "--at", "2026-07-06T08:00:00Z"];
    let mut review = vec!["review", "--week", "2026-W27"];
    review.extend_from_slice(&at);
    flow.run(&review, 0);
    let csv = env.path("csv");
    let mut args = review.clone();
    args.extend(["--format", "csv", "--out", csv.to_str().unwrap()]);
    flow.run(&args, 0);
    let pdf = env.path("review.pdf");
    let mut args = review.clone();
    args.extend(["--format", "pdf", "--out", pdf.to_str().unwrap()]);
    flow.run(&args, 0);
    assert!(std::fs::read(&pdf).unwrap().starts_with(b"%PDF"));
    flow.ops("sue", "supervisor", &["audit", "verify"], 0);

    // Logging is on: every command's span and outcome are there, and the dependencies'
    // TRACE output is not filtered away.
    let all: String = flow
        .stderr
        .iter()
        .map(|(_, e)| e.as_str())
        .collect::<Vec<_>>()
        .join("\n");
    assert!(all.lines().count() > flow.stderr.len(), "{all}");
    for (command, err) in &flow.stderr {
        assert!(
            err.contains("command finished"),
            "{command} logs its outcome: {err}"
        );
        assert!(err.contains("command{name="), "{command}: {err}");
    }
    assert!(all.contains("name=\"case attempt\""), "{all}");
    assert!(
        all.contains("outcome=\"error\" code=\"forbidden\""),
        "{all}"
    );
    assert!(
        all.contains("imported") && all.contains("stored=2"),
        "{all}"
    );

    // …and no canary anywhere in it.
    for (command, err) in &flow.stderr {
        let found = canaries_in(err);
        assert!(
            found.is_empty(),
            "`careloop {command}` wrote {found:?} to stderr:\n{err}"
        );
    }

    // By default only warnings are logged: a successful command writes nothing to stderr.
    let quiet = env.run_logged(None, &["stats"]);
    assert!(quiet.status.success());
    assert_eq!(
        stderr(&quiet),
        "",
        "CARELOOP_LOG unset: warn and above only"
    );
    // A malformed filter is said once, without echoing it, and the command still runs.
    let bad = env.run_logged(Some("zqxcanary=[{"), &["stats"]);
    assert!(bad.status.success(), "{}", stderr(&bad));
    assert!(stderr(&bad).contains("CARELOOP_LOG is not a log filter"));
    assert!(canaries_in(&stderr(&bad)).is_empty(), "{}", stderr(&bad));
}
