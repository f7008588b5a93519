//! Integration tests of the audit trail on a real encrypted cache: an intact chain verifies;
//! edits, deletions, forged insertions, reordering, truncation and a full rewrite made behind
//! the store's back (triggers dropped, rows changed with raw SQL) are each reported; actions
//! and their audit entries land together or not at all.

use careloop_store::audit::{entry_hash, ParseAuditHeadError, GENESIS_HASH, MAX_LISTED_PROBLEMS};
use careloop_store::events::Appended;
use careloop_store::{
    AuditEntry, AuditHead, AuditOutcome, AuditProblem, AuditReport, CacheKey, NewAuditEntry,
    NewEvent, Store, CACHE_FILE_NAME,
};
use chrono::{DateTime, Duration, TimeZone, Utc};
use sha2::{Digest, Sha256};
use uuid::Uuid;

fn key() -> CacheKey {
    CacheKey::from_hex(&"11".repeat(32)).unwrap()
}

fn base_time() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 5, 10, 0, 0).unwrap()
}

/// A synthetic audit entry; `n` varies who, what, about whom and the outcome.
fn entry(n: i64) -> NewAuditEntry {
    NewAuditEntry {
        at: base_time() + Duration::minutes(n),
        actor: format!("coordinator-{}", n % 3),
        role: if n % 4 == 0 {
            "supervisor"
        } else {
            "coordinator"
        }
        .into(),
        action: if n % 2 == 0 {
            "person.view"
        } else {
            "case.claim"
        }
        .into(),
        patient_id: (n % 5 != 0).then(|| format!("patient-{}", n % 4)),
        target: (n % 2 == 1).then(|| format!("case-{n}")),
        outcome: if n % 7 == 0 {
            AuditOutcome::Denied
        } else {
            AuditOutcome::Allowed
        },
    }
}

fn event(n: u64) -> NewEvent {
    NewEvent {
        id: Uuid::new_v7(uuid::Timestamp::from_unix(
            uuid::NoContext,
            1_700_000_000 + n,
            0,
        )),
        kind: "case.claimed".into(),
        subject: format!("case-{n}"),
        actor: "coordinator-1".into(),
        occurred_at: base_time(),
        payload: serde_json::json!({}),
        payload_version: 1,
    }
}

/// A cache in a temp dir holding entries 1..=n.
fn store_with(n: i64) -> (tempfile::TempDir, Store, Vec<AuditEntry>) {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path(), &key()).unwrap();
    let batch: Vec<NewAuditEntry> = (1..=n).map(entry).collect();
    let (_, entries) = store.append_events_with_audit(&[], &batch).unwrap();
    (dir, store, entries)
}

/// The hash as an attacker who read the module docs would compute it: an independent
/// implementation of the documented encoding.
#[allow(clippy::too_many_arguments)]
fn forge_hash(
    prev_hash: &str,
    seq: i64,
    at: &str,
    actor: &str,
    role: &str,
    action: &str,
    patient_id: Option<&str>,
    target: Option<&str>,
    outcome: &str,
) -> String {
    let seq = seq.to_string();
    let mut canonical = Vec::new();
    for field in [
        Some("careloop-audit-v1"),
        Some(seq.as_str()),
        Some(at),
        Some(actor),
        Some(role),
        Some(action),
        patient_id,
        target,
        Some(outcome),
    ] {
        match field {
            Some(v) => canonical.extend(format!("{}:{v},", v.len()).into_bytes()),
            None => canonical.extend(b"-,"),
        }
    }
    let mut hasher = Sha256::new();
    hasher.update(prev_hash.as_bytes());
    hasher.update(b"\n");
    hasher.update(&canonical);
    hex::encode(hasher.finalize())
}

/// Recomputes every stored hash in order, as someone rewriting the whole trail would.
fn rewrite_chain(store: &Store) {
    let entries = store.audit_entries(0, u32::MAX).unwrap();
    let conn = store.connection_for_tests();
    let mut prev = GENESIS_HASH.to_owned();
    for e in entries {
        let hash = forge_hash(
            &prev,
            e.seq,
            &stored_time(&e),
            &e.actor,
            &e.role,
            &e.action,
            e.patient_id.as_deref(),
            e.target.as_deref(),
            e.outcome.as_str(),
        );
        conn.execute(
            "UPDATE audit_entry SET prev_hash = ?1, hash = ?2 WHERE seq = ?3",
            rusqlite::params![prev, hash, e.seq],
        )
        .unwrap();
        prev = hash;
    }
}

/// An entry's time as stored: RFC 3339 UTC with six fraction digits.
fn stored_time(e: &AuditEntry) -> String {
    e.at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

/// Drops the append-only triggers, as someone with the key and a SQLite shell could, then runs
/// `sql` on the store's own database.
fn tamper(store: &Store, sql: &str) {
    let conn = store.connection_for_tests();
    let triggers: Vec<String> = conn
        .prepare(
            "SELECT name FROM sqlite_master WHERE type = 'trigger'
             AND tbl_name IN ('audit_entry', 'audit_anchor')",
        )
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    for name in triggers {
        conn.execute_batch(&format!("DROP TRIGGER {name}")).unwrap();
    }
    conn.execute_batch(sql).unwrap();
}

fn verify(store: &Store, expected: Option<&AuditHead>) -> AuditReport {
    store.verify_audit(expected).unwrap()
}

fn assert_intact(report: &AuditReport) {
    assert!(report.ok(), "expected an intact trail: {report}");
}

#[test]
fn an_intact_trail_verifies_and_reads_back() {
    let (dir, store, entries) = store_with(20);
    assert_eq!(entries.len(), 20);
    assert_eq!(entries[0].prev_hash, GENESIS_HASH);
    for (i, e) in entries.iter().enumerate() {
        assert_eq!(e.seq, i as i64 + 1, "entries are numbered 1, 2, 3, …");
        if i > 0 {
            assert_eq!(e.prev_hash, entries[i - 1].hash, "#{} links to #{i}", e.seq);
        }
        let at = stored_time(e);
        assert_eq!(
            e.hash,
            forge_hash(
                &e.prev_hash,
                e.seq,
                &at,
                &e.actor,
                &e.role,
                &e.action,
                e.patient_id.as_deref(),
                e.target.as_deref(),
                e.outcome.as_str()
            ),
            "the documented encoding, implemented independently, gives the stored hash"
        );
    }

    let report = verify(&store, None);
    assert_intact(&report);
    assert_eq!(report.entries, 20);
    assert_eq!(report.head, Some(entries[19].head()));
    assert_eq!(store.audit_head().unwrap(), Some(entries[19].head()));
    assert_intact(&verify(&store, Some(&entries[19].head())));
    assert_intact(&verify(&store, Some(&entries[4].head())));
    assert_eq!(
        report.to_string(),
        format!(
            "audit trail: 20 entries, head {}; intact",
            entries[19].head()
        )
    );

    assert_eq!(store.audit_entries(0, 100).unwrap(), entries);
    assert_eq!(store.audit_entries(5, 3).unwrap(), entries[5..8]);
    let about_patient_1: Vec<AuditEntry> = entries
        .iter()
        .filter(|e| e.patient_id.as_deref() == Some("patient-1"))
        .cloned()
        .collect();
    assert!(!about_patient_1.is_empty());
    assert_eq!(
        store.audit_entries_for_patient("patient-1").unwrap(),
        about_patient_1
    );
    assert!(store
        .audit_entries_for_patient("nobody")
        .unwrap()
        .is_empty());

    drop(store);
    let mut store = Store::open(dir.path(), &key()).unwrap();
    assert_intact(&verify(&store, Some(&entries[19].head())));
    let next = store.append_audit(&entry(21)).unwrap();
    assert_eq!(
        (next.seq, next.prev_hash.as_str()),
        (21, entries[19].hash.as_str()),
        "appends after reopening continue the chain"
    );
    assert_intact(&verify(&store, Some(&entries[19].head())));
}

#[test]
fn an_empty_trail_verifies_and_has_no_head() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), &key()).unwrap();
    assert_eq!(store.audit_head().unwrap(), None);
    let report = verify(&store, None);
    assert_intact(&report);
    assert_eq!((report.entries, report.head), (0, None));
}

#[test]
fn the_documented_example_hash_is_the_stored_one() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path(), &key()).unwrap();
    let example = NewAuditEntry {
        at: base_time(),
        actor: "coordinator-1".into(),
        role: "coordinator".into(),
        action: "case.claim".into(),
        patient_id: None,
        target: Some("case-1".into()),
        outcome: AuditOutcome::Allowed,
    };
    let stored = store.append_audit(&example).unwrap();
    assert_eq!(
        stored.hash, "9d2af78c927116de7a5c515a2a425ca4cb600d2be3297a2a89eaf01fcf06864a",
        "the on-disk format of version 1 must never change"
    );
    assert_eq!(stored.hash, entry_hash(GENESIS_HASH, 1, &example));
}

#[test]
fn times_are_kept_to_the_microsecond() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path(), &key()).unwrap();
    let mut e = entry(1);
    e.at = base_time() + Duration::nanoseconds(123_456_789);
    let stored = store.append_audit(&e).unwrap();
    assert_eq!(stored.at, base_time() + Duration::microseconds(123_456));
    assert_eq!(store.audit_entries(0, 1).unwrap(), vec![stored]);
    assert_intact(&verify(&store, None));
}

#[test]
fn the_triggers_refuse_updates_deletes_and_inserts_off_the_chain_in_raw_sql() {
    let (dir, mut store, entries) = store_with(3);
    store
        .record_audit_anchor(&entries[2].head(), base_time(), "sync-server")
        .unwrap();
    drop(store);
    let conn = rusqlite::Connection::open(dir.path().join(CACHE_FILE_NAME)).unwrap();
    conn.execute_batch(&format!("PRAGMA key = \"x'{}'\";", "11".repeat(32)))
        .unwrap();
    for sql in [
        "UPDATE audit_entry SET actor = 'someone else' WHERE seq = 2",
        "DELETE FROM audit_entry WHERE seq = 3",
        "UPDATE audit_anchor SET head_seq = 1",
        "DELETE FROM audit_anchor",
    ] {
        let err = conn.execute(sql, []).unwrap_err();
        assert!(err.to_string().contains("append-only"), "{sql}: {err}");
    }
    let row = |seq: i64, prev: &str| {
        format!(
            "INSERT INTO audit_entry (seq, at, actor, role, action, outcome, prev_hash, hash)
             VALUES ({seq}, '2026-01-05T10:00:00.000000Z', 'a', 'r', 'x', 'allowed', '{prev}', '{}')",
            "ab".repeat(32)
        )
    };
    for (sql, why) in [
        (row(2, &entries[0].hash), "a number already taken"),
        (row(5, &entries[2].hash), "a number after a gap"),
        (
            row(4, &entries[1].hash),
            "a link to an entry other than the last",
        ),
        (row(4, GENESIS_HASH), "a second genesis"),
    ] {
        let err = conn.execute(&sql, []).unwrap_err();
        assert!(
            err.to_string().contains("append-only") || err.to_string().contains("UNIQUE"),
            "{why}: {err}"
        );
    }
    let count: i64 = conn
        .query_row("SELECT count(*) FROM audit_entry", [], |r| r.get(0))
        .unwrap();
    assert_eq!(count, 3);
    drop(conn);
    let store = Store::open(dir.path(), &key()).unwrap();
    assert_intact(&verify(&store, None));
}

#[test]
fn an_edited_field_is_reported_as_edited_without_naming_its_content() {
    let (_dir, store, _) = store_with(10);
    tamper(
        &store,
        "UPDATE audit_entry SET patient_id = 'patient-9' WHERE seq = 5",
    );
    let report = verify(&store, None);
    assert_eq!(report.problems, vec![AuditProblem::Edited { seq: 5 }]);
    assert!(!report.ok());
    let text = report.to_string();
    assert!(text.contains("#5") && text.contains("edited"), "{text}");
    assert!(
        !text.contains("patient-"),
        "reports name entry numbers, never a person: {text}"
    );

    // Each field is covered, the outcome and the time too.
    for (seq, sql) in [
        (2, "UPDATE audit_entry SET outcome = 'denied' WHERE seq = 2"),
        (
            3,
            "UPDATE audit_entry SET at = '2026-01-05T09:00:00.000000Z' WHERE seq = 3",
        ),
        (9, "UPDATE audit_entry SET target = NULL WHERE seq = 9"),
        (
            6,
            "UPDATE audit_entry SET role = 'supervisor' WHERE seq = 6",
        ),
        (
            7,
            "UPDATE audit_entry SET action = 'person.export' WHERE seq = 7",
        ),
        (
            8,
            "UPDATE audit_entry SET actor = 'coordinator-9' WHERE seq = 8",
        ),
    ] {
        tamper(&store, sql);
        assert!(
            verify(&store, None)
                .problems
                .contains(&AuditProblem::Edited { seq }),
            "{sql}"
        );
    }
}

#[test]
fn an_edited_entry_with_a_recomputed_hash_breaks_the_next_link() {
    let (_dir, store, entries) = store_with(10);
    let e = &entries[4];
    let at = stored_time(e);
    let forged = forge_hash(
        &e.prev_hash,
        5,
        &at,
        &e.actor,
        &e.role,
        &e.action,
        e.patient_id.as_deref(),
        e.target.as_deref(),
        "denied",
    );
    tamper(
        &store,
        &format!("UPDATE audit_entry SET outcome = 'denied', hash = '{forged}' WHERE seq = 5"),
    );
    assert_eq!(
        verify(&store, None).problems,
        vec![AuditProblem::Broken { seq: 6 }]
    );
}

#[test]
fn a_deleted_middle_entry_is_a_gap_and_a_broken_link() {
    let (_dir, store, _) = store_with(10);
    tamper(&store, "DELETE FROM audit_entry WHERE seq = 5");
    let report = verify(&store, None);
    assert_eq!(
        report.problems,
        vec![
            AuditProblem::Gap { after: 4, next: 6 },
            AuditProblem::Broken { seq: 6 }
        ]
    );
    assert_eq!(report.entries, 9);

    tamper(&store, "DELETE FROM audit_entry WHERE seq = 1");
    assert_eq!(
        verify(&store, None).problems[..2],
        [
            AuditProblem::Gap { after: 0, next: 2 },
            AuditProblem::Broken { seq: 2 }
        ],
        "the first entry is missing"
    );
}

#[test]
fn a_forged_entry_inserted_in_the_middle_breaks_the_chain() {
    let (_dir, store, entries) = store_with(10);
    // Make room at 5 (two steps: the primary key is checked row by row), then insert an entry
    // whose hash is right for its content and its link to entry 4.
    let at = "2026-01-05T10:04:30.000000Z";
    let forged = forge_hash(
        &entries[3].hash,
        5,
        at,
        "coordinator-2",
        "supervisor",
        "person.view",
        Some("patient-3"),
        None,
        "allowed",
    );
    tamper(
        &store,
        &format!(
            "UPDATE audit_entry SET seq = -seq WHERE seq >= 5;
             UPDATE audit_entry SET seq = 1 - seq WHERE seq < 0;
             INSERT INTO audit_entry (seq, at, actor, role, action, patient_id, target, outcome, prev_hash, hash)
             VALUES (5, '{at}', 'coordinator-2', 'supervisor', 'person.view', 'patient-3', NULL, 'allowed', '{}', '{forged}');",
            entries[3].hash
        ),
    );
    let report = verify(&store, None);
    assert_eq!(report.entries, 11);
    assert!(
        !report.problems.contains(&AuditProblem::Edited { seq: 5 }),
        "the forged entry itself is consistent: {report}"
    );
    assert!(
        report.problems.contains(&AuditProblem::Broken { seq: 6 }),
        "the entry after it no longer links to it: {report}"
    );
    assert!(
        report.problems.contains(&AuditProblem::Edited { seq: 6 }),
        "renumbered entries no longer match their hashes: {report}"
    );
}

#[test]
fn swapped_entries_are_detected() {
    let (_dir, store, _) = store_with(10);
    // Swap everything but the numbers of entries 3 and 7.
    tamper(
        &store,
        "UPDATE audit_entry SET seq = -seq WHERE seq IN (3, 7);
         UPDATE audit_entry SET seq = 7 WHERE seq = -3;
         UPDATE audit_entry SET seq = 3 WHERE seq = -7;",
    );
    let report = verify(&store, None);
    for problem in [
        AuditProblem::Edited { seq: 3 },
        AuditProblem::Edited { seq: 7 },
        AuditProblem::Broken { seq: 3 },
        AuditProblem::Broken { seq: 4 },
    ] {
        assert!(report.problems.contains(&problem), "{problem}: {report}");
    }

    // Swapping only who and about whom, keeping hashes and links in place.
    let (_dir, store, entries) = store_with(10);
    let (a, b) = (&entries[3], &entries[4]);
    assert!(a.actor != b.actor && a.patient_id != b.patient_id);
    tamper(&store, "SELECT 1");
    let conn = store.connection_for_tests();
    for (seq, from) in [(4, b), (5, a)] {
        conn.execute(
            "UPDATE audit_entry SET actor = ?1, patient_id = ?2 WHERE seq = ?3",
            rusqlite::params![from.actor, from.patient_id, seq],
        )
        .unwrap();
    }
    assert_eq!(
        verify(&store, None).problems,
        vec![
            AuditProblem::Edited { seq: 4 },
            AuditProblem::Edited { seq: 5 }
        ]
    );
}

#[test]
fn deleting_the_last_entries_is_caught_by_an_expected_head() {
    let (_dir, store, entries) = store_with(10);
    let exported = entries[9].head();
    tamper(&store, "DELETE FROM audit_entry WHERE seq > 7");
    assert_intact(&verify(&store, None));
    let report = verify(&store, Some(&exported));
    assert_eq!(
        report.problems,
        vec![AuditProblem::Truncated {
            expected: exported.clone(),
            found: Some(entries[6].head()),
        }]
    );
    assert!(
        report.to_string().contains("entries were removed"),
        "{report}"
    );

    tamper(&store, "DELETE FROM audit_entry");
    assert_eq!(
        verify(&store, Some(&exported)).problems,
        vec![AuditProblem::Truncated {
            expected: exported,
            found: None
        }],
        "an emptied trail"
    );
}

#[test]
fn deleting_the_last_entries_is_caught_by_an_anchor() {
    let (_dir, mut store, entries) = store_with(10);
    store
        .record_audit_anchor(&entries[3].head(), base_time(), "operator-export")
        .unwrap();
    store
        .record_audit_anchor(&entries[9].head(), base_time(), "sync-server")
        .unwrap();
    store
        .record_audit_anchor(&entries[9].head(), base_time(), "operator-export")
        .unwrap();
    assert_intact(&verify(&store, None));
    tamper(&store, "DELETE FROM audit_entry WHERE seq > 8");
    assert_eq!(
        verify(&store, None).problems,
        vec![AuditProblem::Truncated {
            expected: entries[9].head(),
            found: Some(entries[7].head()),
        }],
        "reported once although recorded twice"
    );
    assert_eq!(
        verify(&store, Some(&entries[9].head())).problems.len(),
        1,
        "an expected head equal to an anchor is reported once"
    );

    // Truncated, then new entries appended over the removed numbers: the anchor's hash differs.
    store.append_audit(&entry(50)).unwrap();
    store.append_audit(&entry(51)).unwrap();
    let report = verify(&store, None);
    assert_eq!(
        report.problems,
        vec![AuditProblem::AnchorMismatch {
            head: entries[9].head()
        }],
        "{report}"
    );
}

#[test]
fn a_rewritten_chain_is_caught_only_by_heads_recorded_earlier() {
    let (_dir, mut store, entries) = store_with(20);
    store
        .record_audit_anchor(&entries[9].head(), base_time(), "sync-server")
        .unwrap();
    let exported = entries[19].head();
    tamper(
        &store,
        "UPDATE audit_entry SET outcome = 'denied', actor = 'coordinator-9' WHERE seq = 3",
    );
    rewrite_chain(&store);

    let report = verify(&store, None);
    assert_eq!(
        report.problems,
        vec![AuditProblem::AnchorMismatch {
            head: entries[9].head()
        }],
        "the chain is consistent again; only the anchor knows: {report}"
    );
    assert!(report.to_string().contains("rewritten"), "{report}");
    assert_eq!(
        verify(&store, Some(&exported)).problems,
        vec![
            AuditProblem::AnchorMismatch {
                head: exported.clone()
            },
            AuditProblem::AnchorMismatch {
                head: entries[9].head()
            },
        ]
    );

    // Whoever rewrites the chain can empty the anchor table too: then only a head kept
    // outside this database tells.
    tamper(&store, "DELETE FROM audit_anchor");
    assert_intact(&verify(&store, None));
    assert_eq!(
        verify(&store, Some(&exported)).problems,
        vec![AuditProblem::AnchorMismatch { head: exported }]
    );

    // A rewrite that also drops the last entries.
    let (_dir, mut store, entries) = store_with(20);
    store
        .record_audit_anchor(&entries[19].head(), base_time(), "sync-server")
        .unwrap();
    tamper(&store, "DELETE FROM audit_entry WHERE seq > 15");
    rewrite_chain(&store);
    let head = store.audit_head().unwrap();
    assert_eq!(
        verify(&store, None).problems,
        vec![AuditProblem::Truncated {
            expected: entries[19].head(),
            found: head
        }]
    );
}

#[test]
fn problems_beyond_the_listed_maximum_are_counted() {
    let n = MAX_LISTED_PROBLEMS as i64 + 150;
    let (_dir, store, _) = store_with(n);
    tamper(&store, "UPDATE audit_entry SET role = role || '.'");
    let report = verify(&store, None);
    assert_eq!(report.problems.len(), MAX_LISTED_PROBLEMS);
    assert_eq!(
        report.problems.len() as u64 + report.unlisted_problems,
        n as u64
    );
    assert!(!report.ok());
    assert!(report.to_string().contains("more"), "{report}");
}

#[test]
fn events_and_their_audit_entries_land_together_or_not_at_all() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path(), &key()).unwrap();
    // Event ids carry random bits: the same event is this value, not another call of `event`.
    let first = event(1);
    let (appended, audited) = store
        .append_events_with_audit(&[first.clone(), event(2)], &[entry(1), entry(2)])
        .unwrap();
    assert_eq!(appended, vec![Appended::New(1), Appended::New(2)]);
    assert_eq!(audited.iter().map(|e| e.seq).collect::<Vec<_>>(), [1, 2]);
    let digest = store.content_digest().unwrap();
    let head = store.audit_head().unwrap();

    let unchanged = |store: &Store, why: &str| {
        assert_eq!(store.content_digest().unwrap(), digest, "{why}: events");
        assert_eq!(store.audit_head().unwrap(), head, "{why}: audit trail");
        assert_eq!(store.audit_entries(0, 100).unwrap().len(), 2, "{why}");
        assert_intact(&verify(store, head.as_ref()));
    };

    let mut not_v7 = event(3);
    not_v7.id = Uuid::from_u128(0x4a5b_0000_0000_4000_8000_0000_0000_0001);
    assert!(store
        .append_events_with_audit(&[event(3), not_v7], &[entry(3)])
        .is_err());
    unchanged(&store, "an invalid event");

    let mut clash = first.clone();
    clash.payload = serde_json::json!({"other": 1});
    let err = store
        .append_events_with_audit(&[event(4), clash], &[entry(3), entry(4)])
        .unwrap_err();
    assert!(err.to_string().contains("different content"), "{err}");
    unchanged(
        &store,
        "an event conflicting with the log, found after rows were written",
    );

    let mut no_role = entry(4);
    no_role.role = "  ".into();
    assert!(store
        .append_events_with_audit(&[event(4)], &[entry(3), no_role])
        .is_err());
    unchanged(&store, "an invalid audit entry");

    let (appended, audited) = store
        .append_events_with_audit(&[first], &[entry(3)])
        .unwrap();
    assert_eq!(
        (appended, audited[0].seq),
        (vec![Appended::AlreadyPresent(1)], 3),
        "a retried action is audited again"
    );
}

#[test]
fn invalid_audit_entries_and_anchors_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path(), &key()).unwrap();
    type Breakage = fn(&mut NewAuditEntry);
    let cases: [(&str, Breakage); 5] = [
        ("actor is empty", |e| e.actor = String::new()),
        ("role is empty", |e| e.role = " ".into()),
        ("action is empty", |e| e.action = String::new()),
        ("patient_id is empty", |e| {
            e.patient_id = Some(String::new())
        }),
        ("target is empty", |e| e.target = Some(" ".into())),
    ];
    for (message, break_it) in cases {
        let mut e = entry(1);
        break_it(&mut e);
        let err = store.append_audit(&e).unwrap_err().to_string();
        assert!(err.contains(message), "{message}: {err}");
    }
    assert_eq!(store.audit_head().unwrap(), None);

    let good = store.append_audit(&entry(1)).unwrap().head();
    for bad in [
        AuditHead {
            seq: 0,
            hash: good.hash.clone(),
        },
        AuditHead {
            seq: 1,
            hash: "abc".into(),
        },
        AuditHead {
            seq: 1,
            hash: good.hash.to_uppercase(),
        },
    ] {
        let err = store
            .record_audit_anchor(&bad, base_time(), "sync-server")
            .unwrap_err();
        assert!(err.to_string().contains("SEQ:HASH"), "{bad}: {err}");
    }
    let err = store
        .record_audit_anchor(&good, base_time(), "")
        .unwrap_err();
    assert!(err.to_string().contains("source is empty"), "{err}");
    assert_intact(&verify(&store, None));
}

#[test]
fn audit_heads_are_written_and_parsed_as_seq_colon_hash() {
    let hash = "0123456789abcdef".repeat(4);
    let head = AuditHead {
        seq: 42,
        hash: hash.clone(),
    };
    assert_eq!(head.to_string(), format!("42:{hash}"));
    assert_eq!(head.to_string().parse::<AuditHead>(), Ok(head.clone()));
    assert_eq!(
        format!(" 42:{} \n", hash.to_uppercase()).parse::<AuditHead>(),
        Ok(head),
        "surrounding blanks and upper-case digits are accepted"
    );
    for bad in [
        String::new(),
        "42".into(),
        format!("0:{hash}"),
        format!("-1:{hash}"),
        format!("x:{hash}"),
        format!("42:{}", &hash[1..]),
        format!("42:{hash}0"),
        format!("42:{}g", &hash[1..]),
        format!("42:{hash}:1"),
    ] {
        assert_eq!(
            bad.parse::<AuditHead>(),
            Err(ParseAuditHeadError),
            "{bad:?}"
        );
    }
}
