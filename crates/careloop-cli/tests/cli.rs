//! Tests of the `careloop` binary as an operator runs it: demo → import → stats, exit codes,
//! and error messages that say what and where.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

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

    /// Runs careloop with this environment's data dir and key file (and no keyring, no
    /// user app-data dir).
    fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().unwrap()
    }

    /// The command [`Env::run`] runs, to adjust before running.
    fn command(&self, args: &[&str]) -> Command {
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
            .env("HOME", self.root.path())
            .env("XDG_DATA_HOME", self.path("xdg"))
            .env("XDG_CONFIG_HOME", self.path("xdg-config"));
        command
    }

    /// The cache, opened directly (no careloop process may hold it).
    fn store(&self) -> careloop_store::Store {
        let key = careloop_store::CacheKey::read_key_file(&self.path("key")).unwrap();
        careloop_store::Store::open(&self.path("data"), &key).unwrap()
    }
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    out.sort();
    out
}

#[test]
fn demo_then_import_then_stats_counts_what_is_stored() {
    let env = Env::new();
    let out = env.run(&[
        "demo",
        "--patients",
        "150",
        "--seed",
        "7",
        "--as-of",
        "2026-06-30",
        "--out",
        env.path("panel").to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = env.run(&[
        "import",
        env.path("panel").to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let summary: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(summary["files_failed"].as_array().unwrap().len(), 0);
    assert_eq!(summary["stored"]["Patient"], 150);

    let out = env.run(&["stats", "--format", "json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let stats: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(stats["patients"], 150);
    assert_eq!(stats["events"], 0);
    assert_eq!(
        stats["resources"], summary["stored"],
        "stats count what the import stored"
    );
    assert!(
        stats["engagement_signals"].as_u64().unwrap() > 0,
        "the demo panel has engagement signals"
    );

    // Importing again stores nothing new.
    let out = env.run(&[
        "import",
        env.path("panel").to_str().unwrap(),
        "--format",
        "json",
    ]);
    let again: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(again["stored"], serde_json::json!({}));
    assert_eq!(again["engagement_signals"], 0);
}

#[test]
fn the_demo_panel_is_deterministic_for_a_seed() {
    let env = Env::new();
    for (out, seed) in [("a", "3"), ("b", "3"), ("c", "4")] {
        let o = env.run(&[
            "demo",
            "--patients",
            "40",
            "--seed",
            seed,
            "--as-of",
            "2026-01-15",
            "--out",
            env.path(out).to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
    }
    assert_eq!(
        files(&env.path("a")),
        files(&env.path("b")),
        "same seed, same bytes"
    );
    assert_ne!(
        files(&env.path("a")),
        files(&env.path("c")),
        "another seed, another panel"
    );
}

#[test]
fn a_malformed_file_exits_1_naming_file_and_line_and_keeps_nothing() {
    let env = Env::new();
    std::fs::create_dir(env.path("in")).unwrap();
    std::fs::write(
        env.path("in/Observation.ndjson"),
        "{\"resourceType\":\"Observation\",\"id\":\"o1\"}\n{\"resourceType\":\"Observation\",\"id\":\"o2\",}\n",
    )
    .unwrap();
    let out = env.run(&["import", env.path("in").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "bad input is exit code 1");
    let err = stderr(&out);
    assert!(
        err.contains("Observation.ndjson") && err.contains("line 2"),
        "{err}"
    );
    assert!(
        stdout(&out).contains("files: 0 ok, 1 failed"),
        "{}",
        stdout(&out)
    );
    let stats = env.run(&["stats", "--format", "json"]);
    let stats: serde_json::Value = serde_json::from_str(&stdout(&stats)).unwrap();
    assert_eq!(
        stats["resources"],
        serde_json::json!({}),
        "the failed file left nothing behind"
    );
}

#[test]
fn key_problems_and_usage_errors_exit_1_with_a_clear_message() {
    use std::os::unix::fs::PermissionsExt;
    let env = Env::new();
    assert!(env.run(&["stats"]).status.success(), "creates the cache");

    std::fs::write(env.path("key"), "d5".repeat(32)).unwrap();
    let out = env.run(&["stats"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("cannot unlock the local cache: wrong key or not a Careloop cache")
            || stderr(&out).contains("wrong key or not a Careloop cache"),
        "{}",
        stderr(&out)
    );

    std::fs::set_permissions(env.path("key"), std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = env.run(&["stats"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("chmod 600"), "{}", stderr(&out));

    let env = Env::new();
    let out = env.run(&["no-such-command"]);
    assert_eq!(out.status.code(), Some(1), "usage errors are user errors");
    let out = env.run(&["import", env.path("missing.json").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("missing.json"), "{}", stderr(&out));
}

#[test]
fn version_is_printed() {
    let out = Command::new(env!("CARGO_BIN_EXE_careloop"))
        .arg("--version")
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(
        stdout(&out).trim(),
        format!("careloop {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn segment_explain_and_score_on_a_demo_panel() {
    let env = Env::new();
    let panel = env.path("panel");
    let out = env.run(&[
        "demo",
        "--patients",
        "200",
        "--seed",
        "42",
        "--as-of",
        "2026-06-30",
        "--out",
        panel.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(env
        .run(&["import", panel.to_str().unwrap()])
        .status
        .success());

    let out = env.run(&["segment", "--as-of", "2026-06-30", "--format", "json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let run: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(run["as_of"], "2026-06-30");
    assert!(run["definitions_version"]
        .as_str()
        .unwrap()
        .starts_with("sha256:"));
    let segments = run["segments"].as_object().unwrap();
    for id in [
        "breast_cancer_screening_gap",
        "diabetes_hba1c_gap",
        "dormant",
        "post_discharge_30d",
        "frequent_ed",
        "medicare_awv_due",
        "polypharmacy",
    ] {
        let s = &segments[id];
        let ids = |key: &str| -> Vec<String> {
            s[key]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap().to_owned())
                .collect()
        };
        let members = ids("members");
        assert_eq!(s["count"].as_u64().unwrap() as usize, members.len(), "{id}");
        assert!(
            members.windows(2).all(|w| w[0] < w[1]),
            "{id}: members are sorted ids"
        );
        let mut split: Vec<String> = ids("worklist").into_iter().chain(ids("overflow")).collect();
        split.extend(
            s["held_back"]
                .as_array()
                .unwrap()
                .iter()
                .map(|h| h["id"].as_str().unwrap().to_owned()),
        );
        split.sort();
        assert_eq!(
            split, members,
            "{id}: worklist, overflow and held_back split the members"
        );
    }
    let member = segments["polypharmacy"]["members"][0]
        .as_str()
        .unwrap()
        .to_owned();
    let out = env.run(&[
        "segment",
        "explain",
        &member,
        "--as-of",
        "2026-06-30",
        "--segment",
        "polypharmacy",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("in polypharmacy as of 2026-06-30: member"),
        "{}",
        stdout(&out)
    );
    assert!(
        stdout(&out).contains("active_medications = "),
        "{}",
        stdout(&out)
    );

    let out = env.run(&[
        "score",
        &member,
        "--as-of",
        "2026-06-30",
        "--format",
        "json",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let scores: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert!(scores["charlson"]["weighted"].is_u64());
    let out = env.run(&["score", "no-such-person", "--as-of", "2026-06-30"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("no patient with id"),
        "{}",
        stderr(&out)
    );
}

/// Runs an operations command as a user with a role at a fixed time.
fn ops(env: &Env, user: &str, role: &str, args: &[&str]) -> Output {
    let mut all: Vec<&str> = args.to_vec();
    all.extend([
        "--as-user",
        user,
        "--role",
        role,
        "--at",
        "2026-07-01T09:00:00Z",
    ]);
    env.run(&all)
}

#[test]
fn cases_from_worklist_to_attempt_with_roles_checked_and_the_audit_trail_verified() {
    let env = Env::new();
    let panel = env.path("panel");
    let p = panel.to_str().unwrap();
    assert!(env
        .run(&[
            "demo",
            "--patients",
            "200",
            "--as-of",
            "2026-06-30",
            "--out",
            p
        ])
        .status
        .success());
    assert!(env.run(&["import", p]).status.success());

    let out = ops(
        &env,
        "sue",
        "supervisor",
        &["case", "open", "--as-of", "2026-06-30", "--format", "json"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let opened: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert!(opened["opened"].as_u64().unwrap() > 0);

    let out = ops(
        &env,
        "ana",
        "coordinator",
        &["case", "list", "--pool", "--format", "json"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let pool: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let case = pool[0]["case_id"].as_str().unwrap().to_owned();

    // A clinician may not claim: exit 1, code forbidden.
    let out = ops(&env, "cleo", "clinician", &["case", "claim", &case]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("error (forbidden)"),
        "{}",
        stderr(&out)
    );
    // A role that does not exist is named with the ones that do.
    let out = ops(&env, "x", "janitor", &["case", "claim", &case]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("coordinator"), "{}", stderr(&out));

    assert!(ops(&env, "ana", "coordinator", &["case", "claim", &case])
        .status
        .success());
    let out = ops(
        &env,
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
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("case is in_progress"),
        "{}",
        stdout(&out)
    );
    // A bad --next says what is expected.
    let out = ops(
        &env,
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
            "later",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("follow-up:DATE"), "{}", stderr(&out));

    let out = ops(
        &env,
        "ana",
        "coordinator",
        &["case", "show", &case, "--format", "json"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let detail: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(detail["attempts"], 1);
    assert_eq!(detail["owner"], "ana");
    assert!(
        detail["clinical"].is_null(),
        "coordinators do not see the clinical history"
    );

    // The audit chain verifies; its head is kept to detect truncation later.
    let out = ops(&env, "sue", "supervisor", &["audit", "verify"]);
    assert!(out.status.success(), "{}", stdout(&out));
    assert!(stdout(&out).contains("audit trail intact"));
    let out = ops(&env, "sue", "supervisor", &["audit", "head"]);
    let head = stdout(&out).trim().to_owned();
    assert!(head.contains(':'), "{head}");

    // Tamper with the database directly: edit one entry, then remove the last one.
    let key = careloop_store::CacheKey::read_key_file(&env.path("key")).unwrap();
    {
        let store = careloop_store::Store::open(&env.path("data"), &key).unwrap();
        let conn = store.connection_for_tests();
        conn.execute_batch(
            "DROP TRIGGER audit_entry_is_append_only_update;
             DROP TRIGGER audit_entry_is_append_only_delete;
             UPDATE audit_entry SET actor = 'mallory' WHERE seq = 2;",
        )
        .unwrap();
    }
    let out = ops(
        &env,
        "sue",
        "supervisor",
        &["audit", "verify", "--format", "json"],
    );
    assert_eq!(out.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(report["ok"], false);
    assert!(
        report["problems"][0].as_str().unwrap().contains("#2"),
        "{report}"
    );
    {
        let store = careloop_store::Store::open(&env.path("data"), &key).unwrap();
        let conn = store.connection_for_tests();
        conn.execute_batch(
            "UPDATE audit_entry SET actor = 'ana' WHERE seq = 2;
             DELETE FROM audit_entry WHERE seq = (SELECT max(seq) FROM audit_entry);",
        )
        .unwrap();
    }
    let out = ops(
        &env,
        "sue",
        "supervisor",
        &["audit", "verify", "--expect-head", &head],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(
        stdout(&out).contains("entries were removed"),
        "{}",
        stdout(&out)
    );
}

/// The shared test data beside the checkout (`../shared/data`), or CARELOOP_SHARED_DATA.
fn shared_data(name: &str) -> PathBuf {
    let dir = std::env::var_os("CARELOOP_SHARED_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data"));
    let path = dir.join(name);
    assert!(
        path.exists(),
        "{} must be there (set CARELOOP_SHARED_DATA)",
        path.display()
    );
    path
}

#[test]
fn search_finds_synthea_people_by_accented_and_unaccented_names() {
    let env = Env::new();
    let archive = shared_data("smart-on-fhir-generated-sample-data-R4-SYNTHEA.tar.gz");
    assert!(env
        .run(&["import", archive.to_str().unwrap()])
        .status
        .success());
    for (query, family) in [
        ("adan", "Adán"),
        ("Adán port", "Adán Portillo"),
        ("ordonez", "Ordóñez"),
        ("Ordóñez", "Ordóñez"),
        ("trevino enr", "Enrique Treviño"),
        ("TREVIÑO", "Treviño"),
        ("melendes", "Meléndez"),
    ] {
        let out = env.run(&["search", query, "--limit", "5", "--format", "json"]);
        assert!(out.status.success(), "{}", stderr(&out));
        let hits: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
        let hits = hits.as_array().unwrap();
        assert!(
            hits.iter().any(|h| h["kind"] == "person"
                && h["title"].as_str().unwrap().contains(family)
                && h["patient_id"].is_string()
                && h["score"].as_f64().unwrap() > 0.0
                && h["snippet"].as_str().unwrap().contains("<b>")),
            "{query}: {hits:?}"
        );
    }
    let out = env.run(&["search", "zzqqxx", "--format", "json"]);
    assert_eq!(stdout(&out).trim(), "[]");
}

#[test]
fn demo_activity_then_the_weekly_review_as_text_json_csv_and_pdf() {
    let env = Env::new();
    let panel = env.path("panel");
    let p = panel.to_str().unwrap();
    let demo = [
        "demo",
        "--patients",
        "200",
        "--as-of",
        "2026-06-29",
        "--out",
        p,
    ];
    assert!(env.run(&demo).status.success());
    assert!(env.run(&["import", p]).status.success());
    let out = env.run(&["demo-activity", "--weeks", "5", "--end", "2026-06-28"]);
    assert!(out.status.success(), "{}", stderr(&out));

    let at = ["--as-user", "sue", "--at", "2026-06-29T08:00:00Z"];
    let review = |extra: &[&str]| {
        let mut args = vec!["review", "--week", "2026-W26"];
        args.extend_from_slice(&at);
        args.extend_from_slice(extra);
        env.run(&args)
    };
    let text = review(&[]);
    assert!(text.status.success(), "{}", stderr(&text));
    let text = stdout(&text);
    assert!(
        text.starts_with("Weekly review 2026-W26 (2026-06-22 to 2026-06-28)"),
        "{text}"
    );
    assert!(
        text.contains("Care-gap closure after the first attempt"),
        "{text}"
    );

    let json = review(&["--format", "json"]);
    let value: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(value["week"], "2026-W26");
    assert!(
        value["response_by_channel"][0]["attempts_to_date"]
            .as_u64()
            .unwrap()
            > 0
    );

    let csv_dir = env.path("csv");
    let out = review(&["--format", "csv", "--out", csv_dir.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let written = files(&csv_dir);
    assert_eq!(written.len(), 19, "one file per table");
    assert!(written
        .iter()
        .all(|(name, _)| name.starts_with("2026-W26-") && name.ends_with(".csv")));
    assert_eq!(stdout(&out).lines().count(), 19, "the paths are printed");

    let pdf = env.path("review.pdf");
    let out = review(&["--format", "pdf", "--out", pdf.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(std::fs::read(&pdf).unwrap().starts_with(b"%PDF-1.7"));

    // A malformed week: exit 1, naming it; nothing written.
    let out = env.run(&[
        "review",
        "--week",
        "2026-26",
        "--format",
        "pdf",
        "--out",
        env.path("x.pdf").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("bad_input") && stderr(&out).contains("2026-26"),
        "{}",
        stderr(&out)
    );
    assert!(!env.path("x.pdf").exists());

    // Exports are new files, owner-only, never written through a planted link, and only into
    // an existing folder (or the export folder).
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&pdf).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "the PDF is owner-only");
        let csv_mode = std::fs::metadata(csv_dir.join(&written[0].0))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(csv_mode & 0o777, 0o600, "the CSV files too");
    }
    let victim = env.path("victim.txt");
    std::fs::write(&victim, b"precious").unwrap();
    let planted = env.path("planted.pdf");
    std::os::unix::fs::symlink(&victim, &planted).unwrap();
    // The old, predictable temporary name too.
    std::os::unix::fs::symlink(&victim, env.path("planted.partial")).unwrap();
    let out = review(&["--format", "pdf", "--out", planted.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("symbolic link"),
        "says why: {}",
        stderr(&out)
    );
    assert_eq!(std::fs::read(&victim).unwrap(), b"precious", "untouched");
    let linked_dir = env.path("linked-csv");
    std::os::unix::fs::symlink(env.path("panel"), &linked_dir).unwrap();
    let out = review(&["--format", "csv", "--out", linked_dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("symbolic link"), "{}", stderr(&out));

    let deep = env.path("no/such/folder/review.pdf");
    let out = review(&["--format", "pdf", "--out", deep.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("does not exist"), "{}", stderr(&out));
    assert!(!env.path("no").exists(), "no folder is made on the way");

    // Without --out: into the export folder, made when missing.
    let exports = env.path("exports");
    let mut args = vec!["review", "--week", "2026-W26", "--format", "pdf"];
    args.extend_from_slice(&at);
    let out = env
        .command(&args)
        .env("CARELOOP_EXPORT_DIR", &exports)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let default = exports.join("review-2026-W26.pdf");
    assert!(std::fs::read(&default).unwrap().starts_with(b"%PDF-1.7"));
    assert_eq!(stdout(&out).trim(), default.to_str().unwrap());
}

#[test]
fn a_closed_pipe_ends_quietly_and_a_full_disk_is_an_error_not_a_panic() {
    use std::process::Stdio;
    let env = Env::new();
    let panel = env.path("panel");
    let p = panel.to_str().unwrap();
    let demo = [
        "demo",
        "--patients",
        "80",
        "--as-of",
        "2026-06-30",
        "--out",
        p,
    ];
    assert!(env.run(&demo).status.success());
    assert!(env.run(&["import", p]).status.success());
    let out = ops(
        &env,
        "sue",
        "supervisor",
        &["case", "open", "--as-of", "2026-06-30"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let list = [
        "case",
        "list",
        "--pool",
        "--as-user",
        "ana",
        "--role",
        "coordinator",
    ];
    let out = env.run(&list);
    assert!(stdout(&out).lines().count() > 2, "{}", stdout(&out));

    // `careloop case list … | head -1`, with the reader gone before anything is written.
    for args in [&list[..], &["stats"][..]] {
        let mut child = env
            .command(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
        assert_eq!(stderr(&out), "", "{args:?}: quiet");
    }
    // A reader that stops after the first line, as head -1 does.
    let mut child = env
        .command(&list)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::BufRead;
        let mut first = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first)
            .unwrap();
        assert!(!first.is_empty());
    }
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(!stderr(&out).contains("panicked"), "{}", stderr(&out));

    // A full disk is an error with a message, exit 1.
    if Path::new("/dev/full").exists() {
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap();
        let out = env.command(&list).stdout(full).output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        assert!(
            stderr(&out).contains("writing the output"),
            "{}",
            stderr(&out)
        );
        assert!(!stderr(&out).contains("panicked"), "{}", stderr(&out));
    }
}

#[test]
fn with_a_server_the_cli_acts_only_as_a_user_it_signed_in_in_their_server_role() {
    let env = Env::new();
    // Without a server: --as-user and --role as given (the demo, the tests above).
    let out = ops(&env, "anyone", "supervisor", &["case", "list"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = env.run(&["review", "--week", "2026-W26", "--as-user", "anyone"]);
    assert!(out.status.success(), "{}", stderr(&out));

    // This cache now syncs with a server, which signed ana (coordinator) and sue
    // (supervisor) in here; cleo's account was made locally.
    let before = {
        let mut store = env.store();
        let before = store.audit_head().unwrap().map_or(0, |h| h.seq);
        store
            .set_sync_meta("server_url", "https://127.0.0.1:9")
            .unwrap();
        let at = chrono::DateTime::from_timestamp(1_782_813_600, 0).unwrap();
        store
            .put_server_account("ana", "coordinator", "correct horse", at)
            .unwrap();
        store
            .put_server_account("sue", "supervisor", "correct horse", at)
            .unwrap();
        store.put_account("cleo", "clinician", "demo", at).unwrap();
        before
    };
    let refused = |out: &Output, says: &str| {
        assert_eq!(out.status.code(), Some(1), "{}", stderr(out));
        assert!(stderr(out).contains(says), "{says:?} in {}", stderr(out));
        assert!(stdout(out).is_empty());
    };
    let out = ops(&env, "ana", "coordinator", &["case", "list"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = env.run(&["case", "list", "--as-user", "ana"]);
    assert!(
        out.status.success(),
        "the server's role is used: {}",
        stderr(&out)
    );
    refused(
        &ops(&env, "ana", "supervisor", &["case", "list"]),
        "is a coordinator on the server",
    );
    refused(
        &ops(&env, "mallory", "supervisor", &["case", "list"]),
        "has not signed in on this workstation through its server",
    );
    refused(
        &ops(&env, "cleo", "clinician", &["callback", "list"]),
        "has not signed in on this workstation through its server",
    );
    refused(
        &env.run(&["case", "list", "--role", "supervisor"]),
        "sign in first",
    );
    refused(
        &env.run(&["search", "x", "--as-user", "anyone"]),
        "has not signed in",
    );

    // The weekly review needs the supervisor role the server gave.
    let week = [
        "review",
        "--week",
        "2026-W26",
        "--at",
        "2026-06-29T08:00:00Z",
    ];
    let as_user = |user: &'static str| {
        let mut args = week.to_vec();
        args.extend(["--as-user", user]);
        env.run(&args)
    };
    refused(&as_user("ana"), "the weekly review is for supervisors");
    refused(&as_user("anyone"), "has not signed in");
    let out = as_user("sue");
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).starts_with("Weekly review 2026-W26"));
    refused(
        &env.run(&["demo-activity", "--weeks", "1", "--end", "2026-06-28"]),
        "not one that syncs with a server",
    );
    // Nothing was done (or read) under a name the server did not sign in.
    let entries = env.store().audit_entries(before, 10_000).unwrap();
    assert!(entries.iter().any(|e| e.actor == "sue"));
    assert!(
        entries.iter().all(|e| e.actor == "ana" || e.actor == "sue"),
        "{entries:?}"
    );
}

#[test]
fn a_sync_with_a_password_makes_the_server_role_the_clis_identity_here() {
    use careloop_testkit::{Cluster, PASSWORD};
    let env = Env::new();
    let cluster = Cluster::start(&env.path("cluster"), 10);
    cluster.add_team("north", &[("ana", "coordinator"), ("sue", "supervisor")]);
    let sync = |user: &str| {
        env.command(&[
            "sync",
            "run",
            "--as-user",
            user,
            "--server",
            &cluster.url,
            "--pin",
            &cluster.pin,
        ])
        .env("CARELOOP_PASSWORD", PASSWORD)
        .output()
        .unwrap()
    };
    let out = sync("ana");
    assert!(out.status.success(), "{}", stderr(&out));
    let ana = env.store().account("ana").unwrap().expect("ana's account");
    assert!(ana.from_server());
    assert_eq!(
        (ana.role.as_str(), ana.scheme()),
        ("coordinator", "argon2id-v1")
    );

    let out = env.run(&["case", "list", "--pool", "--as-user", "ana"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = env.run(&["case", "list", "--as-user", "ana", "--role", "supervisor"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("is a coordinator on the server"),
        "{}",
        stderr(&out)
    );
    let review = ["review", "--week", "2026-W26", "--as-user"];
    let out = env.run(&[&review[..], &["ana"]].concat());
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("forbidden"), "{}", stderr(&out));
    let out = env.run(&[&review[..], &["sue"]].concat());
    assert_eq!(out.status.code(), Some(1), "sue never signed in here");
    assert!(sync("sue").status.success());
    let out = env.run(&[&review[..], &["sue"]].concat());
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn a_definition_the_engine_cannot_evaluate_is_refused_and_one_stored_anyway_is_passed_over() {
    let env = Env::new();
    let mut draft: serde_json::Value =
        serde_json::from_str(include_str!("../../../schema/segments/polypharmacy.json")).unwrap();
    draft["version"] = serde_json::json!(2);
    draft["rule"] = serde_json::json!(
        "active_medications >= 5 and not exists(encounter class in INPATIENT_CLASS within 100000000 days)"
    );
    let text = serde_json::to_string_pretty(&draft).unwrap();
    let file = env.path("draft.json");
    std::fs::write(&file, &text).unwrap();
    let out = env.run(&[
        "segment",
        "publish",
        file.to_str().unwrap(),
        "--as-user",
        "sue",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.starts_with("careloop: error (bad_input): "), "{err}");
    assert!(
        err.contains(
            "segment \"polypharmacy\", in rule: \"within 100000000 days\" is too long \
             (a window is at most 73000 days, 2400 months or 200 years)"
        ),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");

    // The same text stored by a workstation that did not check it (an older version, or
    // through sync): segmentation passes over it, warns, and exits 0.
    env.store()
        .publish_definition(&careloop_store::PublishedDefinition {
            id: "polypharmacy".into(),
            version: 2,
            body: text,
            published_by: "sam".into(),
            published_at: "2026-06-29T10:00:00Z".into(),
        })
        .unwrap();
    let out = env.run(&["segment", "--as-of", "2026-06-30", "--as-user", "sue"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains(
            "careloop: warning: segment \"polypharmacy\" version 2 (published by sam at \
             2026-06-29T10:00:00Z) cannot be evaluated here and is not used; the built-in \
             version stays in force: "
        ),
        "{err}"
    );
    assert!(stdout(&out).contains("polypharmacy"), "{}", stdout(&out));
}

/// Issue 18's bug: after a routine claim clash (two coordinators claim one pool case while
/// offline; the server's order gives it to the first), the supervisor's weekly review must
/// still compute on every workstation, and say what was set aside.
#[test]
fn the_weekly_review_computes_after_a_claim_clash_on_every_workstation() {
    use careloop_testkit::{Cluster, PASSWORD};
    let server = Env::new();
    let cluster = Cluster::start(&server.path("cluster"), 10);
    cluster.add_team(
        "north",
        &[
            ("ana", "coordinator"),
            ("ben", "coordinator"),
            ("sue", "supervisor"),
        ],
    );
    let (sue, ana, ben) = (Env::new(), Env::new(), Env::new());
    let sync = |env: &Env, user: &str| {
        let out = env
            .command(&[
                "sync",
                "run",
                "--as-user",
                user,
                "--server",
                &cluster.url,
                "--pin",
                &cluster.pin,
            ])
            .env("CARELOOP_PASSWORD", PASSWORD)
            .output()
            .unwrap();
        assert!(out.status.success(), "{user}: {}", stderr(&out));
    };
    let at = "2026-11-02T09:00:00Z";
    sync(&sue, "sue");
    let out = sue.run(&[
        "case",
        "open",
        "--as-of",
        "2026-11-01",
        "--as-user",
        "sue",
        "--at",
        at,
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    sync(&sue, "sue");
    sync(&ana, "ana");
    sync(&ben, "ben");
    let out = ana.run(&[
        "case",
        "list",
        "--pool",
        "--format",
        "json",
        "--as-user",
        "ana",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let pool: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let case = pool[0]["case_id"].as_str().unwrap().to_owned();
    // Both claim it offline; ana's reaches the server first.
    let claim = |env: &Env, user: &str, at: &str| {
        let out = env.run(&["case", "claim", &case, "--as-user", user, "--at", at]);
        assert!(out.status.success(), "{user}: {}", stderr(&out));
    };
    claim(&ana, "ana", "2026-11-02T10:00:00Z");
    claim(&ben, "ben", "2026-11-02T10:05:00Z");
    sync(&ana, "ana");
    sync(&ben, "ben");
    sync(&ana, "ana");
    // The supervisor reviews the week on each workstation (signed in there through the
    // server), and on her own.
    for (env, name) in [(&ana, "ana's"), (&ben, "ben's"), (&sue, "sue's")] {
        sync(env, "sue");
        let out = env.run(&[
            "review",
            "--week",
            "2026-W45",
            "--format",
            "json",
            "--as-user",
            "sue",
        ]);
        assert!(
            out.status.success(),
            "on {name} workstation: {}",
            stderr(&out)
        );
        let review: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
        assert_eq!(
            review["pending"]["superseded_events"], 1,
            "on {name} workstation: ben's claim changed nothing"
        );
        let owners: Vec<&str> = review["caseload"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|row| row["open_cases"].as_u64().unwrap_or(0) > 0)
            .map(|row| row["user"].as_str().unwrap())
            .collect();
        assert_eq!(owners, ["ana"], "on {name} workstation: the case is ana's");
    }
}

/// The "to review" list of review segments: a supervisor opens one entrant's case and
/// dismisses another with a reason (not proposed again in the episode); a coordinator may
/// not; "now" comes from CARELOOP_NOW.
#[test]
fn entrants_to_review_are_opened_or_dismissed_by_a_supervisor() {
    let env = Env::new();
    let panel = env.path("panel");
    let p = panel.to_str().unwrap();
    let demo = [
        "demo",
        "--patients",
        "200",
        "--as-of",
        "2026-06-30",
        "--out",
        p,
    ];
    assert!(env.run(&demo).status.success());
    let now = "2026-07-01T09:00:00Z";
    let run = |user: &str, role: &str, args: &[&str]| {
        let mut all: Vec<&str> = args.to_vec();
        all.extend(["--as-user", user, "--role", role, "--format", "json"]);
        env.command(&all).env("CARELOOP_NOW", now).output().unwrap()
    };
    let import = env
        .command(&["import", p])
        .env("CARELOOP_NOW", now)
        .output()
        .unwrap();
    assert!(import.status.success(), "{}", stderr(&import));

    let out = run("sue", "supervisor", &["case", "review", "list"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let rows: Vec<serde_json::Value> = serde_json::from_str(&stdout(&out)).unwrap();
    assert!(rows.len() >= 2, "{rows:?}");
    let segment = rows[0]["segment_id"].as_str().unwrap().to_owned();
    let waiting: Vec<String> = rows
        .iter()
        .filter(|r| r["segment_id"] == segment.as_str())
        .map(|r| r["patient_id"].as_str().unwrap().to_owned())
        .collect();
    assert!(waiting.len() >= 2, "two entrants of {segment}: {rows:?}");
    assert!(rows[0]["since"] == "2026-07-01", "{:?}", rows[0]);

    // Only a supervisor decides, and a dismissal needs a reason.
    let out = run(
        "ana",
        "coordinator",
        &[
            "case",
            "review",
            "dismiss",
            &waiting[0],
            "--segment",
            &segment,
            "--reason",
            "x",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("forbidden"), "{}", stderr(&out));
    let out = run(
        "sue",
        "supervisor",
        &[
            "case",
            "review",
            "dismiss",
            &waiting[0],
            "--segment",
            &segment,
            "--reason",
            " ",
        ],
    );
    assert_eq!(out.status.code(), Some(1));

    let out = run(
        "sue",
        "supervisor",
        &[
            "case",
            "review",
            "dismiss",
            &waiting[0],
            "--segment",
            &segment,
            "--reason",
            "seen by her GP last week",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let out = run(
        "sue",
        "supervisor",
        &["case", "review", "open", &waiting[1], "--segment", &segment],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let opened: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(opened["opened"], 1);

    let out = run(
        "sue",
        "supervisor",
        &["case", "review", "list", "--segment", &segment],
    );
    let left: Vec<serde_json::Value> = serde_json::from_str(&stdout(&out)).unwrap();
    assert!(left
        .iter()
        .all(|r| r["patient_id"] != waiting[0].as_str() && r["patient_id"] != waiting[1].as_str()));
    assert_eq!(left.len(), waiting.len() - 2);

    let out = run("ana", "coordinator", &["case", "list", "--pool"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let pool: Vec<serde_json::Value> = serde_json::from_str(&stdout(&out)).unwrap();
    let case = pool
        .iter()
        .find(|r| r["patient_id"] == waiting[1].as_str() && r["segment_id"] == segment.as_str())
        .expect("the reviewed entrant's case is in the pool");
    assert_eq!(case["status"], "open");
    assert!(case["case_id"].as_str().is_some());
    assert!(case.get("reason").is_none());
}

/// `segment diff --since` shows the live lists' recorded entries and exits with their
/// evidence: after the days move on, the same changes `case changes` lists, grouped by
/// segment; with runs it still compares two runs.
#[test]
fn segment_diff_since_a_day_shows_the_lists_recorded_changes_with_evidence() {
    let env = Env::new();
    let panel = env.path("panel");
    let p = panel.to_str().unwrap();
    let demo = [
        "demo",
        "--patients",
        "300",
        "--as-of",
        "2026-06-30",
        "--out",
        p,
    ];
    assert!(env.run(&demo).status.success());
    let import = env
        .command(&["import", p])
        .env("CARELOOP_NOW", "2026-07-01T09:00:00Z")
        .output()
        .unwrap();
    assert!(import.status.success(), "{}", stderr(&import));
    let later = "2026-10-15T09:00:00Z";
    let diff = env
        .command(&[
            "segment",
            "diff",
            "--since",
            "2026-07-02",
            "--format",
            "json",
        ])
        .env("CARELOOP_NOW", later)
        .output()
        .unwrap();
    assert!(diff.status.success(), "{}", stderr(&diff));
    let changes: Vec<serde_json::Value> = serde_json::from_str(&stdout(&diff)).unwrap();
    assert!(!changes.is_empty(), "three months move people in and out");
    for c in &changes {
        assert!(c["day"].as_str().unwrap() >= "2026-07-02", "{c}");
        assert!(["entered", "exited"].contains(&c["change"].as_str().unwrap()));
        if c["change"] == "entered" {
            assert!(!c["evidence"].as_array().unwrap().is_empty(), "{c}");
        }
    }
    let listed = env
        .command(&[
            "case",
            "changes",
            "--since",
            "2026-07-02",
            "--as-user",
            "sue",
            "--role",
            "supervisor",
            "--format",
            "json",
        ])
        .env("CARELOOP_NOW", later)
        .output()
        .unwrap();
    assert!(listed.status.success(), "{}", stderr(&listed));
    let listed: Vec<serde_json::Value> = serde_json::from_str(&stdout(&listed)).unwrap();
    assert_eq!(listed, changes, "one record, two views");

    let text = env
        .command(&["segment", "diff", "--since", "2026-07-02"])
        .env("CARELOOP_NOW", later)
        .output()
        .unwrap();
    let text = stdout(&text);
    let first = &changes[0];
    let segment = first["segment_id"].as_str().unwrap();
    assert!(text.contains(&format!("{segment}: ")), "{text}");
    assert!(
        text.contains(first["patient_id"].as_str().unwrap()),
        "{text}"
    );
    // --since and runs do not mix.
    let both = env
        .command(&["segment", "diff", "--since", "2026-07-02", "--from", "1"])
        .output()
        .unwrap();
    assert!(!both.status.success());
    assert!(
        stderr(&both).contains("cannot be used with"),
        "{}",
        stderr(&both)
    );
}

/// A shared care plan from the command line: started from a case, a domain owned by a
/// partner, an action, the plan shown and exported as FHIR; a clinician may add to it, an
/// admin may not.
#[test]
fn a_care_plan_is_kept_and_exported_from_the_command_line() {
    let env = Env::new();
    let panel = env.path("panel");
    let p = panel.to_str().unwrap();
    let demo = [
        "demo",
        "--patients",
        "60",
        "--as-of",
        "2026-06-30",
        "--out",
        p,
    ];
    assert!(env.run(&demo).status.success());
    let now = "2026-07-01T09:00:00Z";
    let run = |user: &str, role: &str, args: &[&str]| {
        let mut all: Vec<&str> = args.to_vec();
        all.extend(["--as-user", user, "--role", role, "--format", "json"]);
        env.command(&all).env("CARELOOP_NOW", now).output().unwrap()
    };
    let import = env
        .command(&["import", p])
        .env("CARELOOP_NOW", now)
        .output()
        .unwrap();
    assert!(import.status.success(), "{}", stderr(&import));
    assert!(run(
        "sue",
        "supervisor",
        &["case", "open", "--as-of", "2026-06-30"]
    )
    .status
    .success());
    let pool = run("ana", "coordinator", &["case", "list", "--pool"]);
    let pool: Vec<serde_json::Value> = serde_json::from_str(&stdout(&pool)).unwrap();
    let case = pool[0]["case_id"].as_str().unwrap().to_owned();
    let person = pool[0]["patient_id"].as_str().unwrap().to_owned();

    let started = run("ana", "coordinator", &["plan", "start", &case]);
    assert!(started.status.success(), "{}", stderr(&started));
    let plan = serde_json::from_str::<serde_json::Value>(&stdout(&started)).unwrap()["created"]
        .as_str()
        .unwrap()
        .to_owned();
    let domain = run(
        "ana",
        "coordinator",
        &[
            "plan",
            "domain",
            &plan,
            "housing",
            "--owner",
            "partner:harbor",
            "--goal",
            "safe at home",
        ],
    );
    assert!(domain.status.success(), "{}", stderr(&domain));
    let action = run(
        "cleo",
        "clinician",
        &[
            "plan",
            "action",
            &plan,
            "--domain",
            "housing",
            "--owner",
            "partner:harbor",
            "--due",
            "2026-07-08",
            "bath rail fitted",
        ],
    );
    assert!(action.status.success(), "{}", stderr(&action));
    let admin = run(
        "root",
        "admin",
        &[
            "plan",
            "action",
            &plan,
            "--domain",
            "housing",
            "--owner",
            "x",
            "--due",
            "2026-07-08",
            "y",
        ],
    );
    assert_eq!(admin.status.code(), Some(1));
    assert!(stderr(&admin).contains("forbidden"), "{}", stderr(&admin));

    let shown = run("ana", "coordinator", &["plan", "show", "--person", &person]);
    let shown: serde_json::Value = serde_json::from_str(&stdout(&shown)).unwrap();
    assert_eq!(shown["plan_id"], plan.as_str());
    assert_eq!(shown["domains"][0]["title"], "Housing");
    assert_eq!(shown["actions"][0]["owner"], "partner:harbor");
    let exported = run("ana", "coordinator", &["plan", "export", &plan]);
    let bundle: serde_json::Value = serde_json::from_str(&stdout(&exported)).unwrap();
    assert_eq!(bundle["resourceType"], "Bundle");
    let kinds: Vec<&str> = bundle["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["resource"]["resourceType"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["CarePlan", "Goal", "Task"]);
}
