//! Integration tests of the encrypted store: unlocking, refusing what is not ours without
//! touching it, schema versions, key files, and the append-only event log.

use std::collections::BTreeMap;
use std::path::Path;

use careloop_store::events::Appended;
use careloop_store::{
    CacheKey, NewEvent, Store, StoreError, CACHE_FILE_NAME, LATEST_SCHEMA_VERSION,
};
use chrono::{TimeZone, Utc};
use uuid::Uuid;

fn key(byte: &str) -> CacheKey {
    CacheKey::from_hex(&byte.repeat(32)).unwrap()
}

/// Every file in a directory with its bytes: to show that nothing was written.
fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect()
}

fn event(n: u64, payload: serde_json::Value) -> NewEvent {
    NewEvent {
        id: Uuid::new_v7(uuid::Timestamp::from_unix(
            uuid::NoContext,
            1_700_000_000 + n,
            0,
        )),
        kind: "attempt.recorded".into(),
        subject: format!("case-{n}"),
        actor: "coordinator-1".into(),
        occurred_at: Utc.with_ymd_and_hms(2026, 1, 5, 10, 0, 0).unwrap(),
        payload,
        payload_version: 1,
    }
}

#[test]
fn a_new_cache_is_encrypted_and_reopens_with_its_key() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = Store::open(dir.path(), &key("11")).unwrap();
        assert_eq!(store.schema_version().unwrap(), LATEST_SCHEMA_VERSION);
    }
    let bytes = std::fs::read(dir.path().join(CACHE_FILE_NAME)).unwrap();
    assert!(
        !bytes.starts_with(b"SQLite format 3"),
        "an encrypted file has no plaintext header"
    );
    let store = Store::open(dir.path(), &key("11")).unwrap();
    assert_eq!(store.patient_count().unwrap(), 0);
}

#[test]
fn a_wrong_key_is_refused_and_nothing_is_modified() {
    let dir = tempfile::tempdir().unwrap();
    drop(Store::open(dir.path(), &key("11")).unwrap());
    let before = snapshot(dir.path());
    let err = Store::open(dir.path(), &key("22")).unwrap_err();
    assert!(matches!(err, StoreError::Locked { .. }), "{err}");
    assert!(
        err.to_string().contains("cannot unlock the local cache"),
        "{err}"
    );
    assert!(
        err.to_string()
            .contains("wrong key or not a Careloop cache"),
        "{err}"
    );
    assert_eq!(
        snapshot(dir.path()),
        before,
        "a refused open writes nothing"
    );
}

#[test]
fn files_that_are_not_a_careloop_cache_are_refused_unchanged() {
    // Random bytes.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join(CACHE_FILE_NAME),
        b"this is not a database at all, just text\n".repeat(200),
    )
    .unwrap();
    let before = snapshot(dir.path());
    let err = Store::open(dir.path(), &key("11")).unwrap_err();
    assert!(matches!(err, StoreError::Locked { .. }), "{err}");
    assert_eq!(snapshot(dir.path()), before);

    // A plaintext SQLite database of some other program.
    let dir = tempfile::tempdir().unwrap();
    {
        let conn = rusqlite::Connection::open(dir.path().join(CACHE_FILE_NAME)).unwrap();
        conn.execute_batch("CREATE TABLE t (x); INSERT INTO t VALUES (1);")
            .unwrap();
    }
    let before = snapshot(dir.path());
    let err = Store::open(dir.path(), &key("11")).unwrap_err();
    assert!(matches!(err, StoreError::Locked { .. }), "{err}");
    assert_eq!(snapshot(dir.path()), before);

    // An encrypted SQLite database with the right key that is not Careloop's.
    let dir = tempfile::tempdir().unwrap();
    {
        let conn = rusqlite::Connection::open(dir.path().join(CACHE_FILE_NAME)).unwrap();
        conn.execute_batch(&format!(
            "PRAGMA key = \"x'{}'\"; CREATE TABLE t (x);",
            "11".repeat(32)
        ))
        .unwrap();
    }
    let before = snapshot(dir.path());
    let err = Store::open(dir.path(), &key("11")).unwrap_err();
    assert!(matches!(err, StoreError::Locked { .. }), "{err}");
    assert_eq!(snapshot(dir.path()), before);
}

#[test]
fn a_cache_from_a_newer_schema_is_refused_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    drop(Store::open(dir.path(), &key("11")).unwrap());
    {
        let conn = rusqlite::Connection::open(dir.path().join(CACHE_FILE_NAME)).unwrap();
        conn.execute_batch(&format!(
            "PRAGMA key = \"x'{}'\"; INSERT INTO schema_migration VALUES (99, '0099_future', 'x', '2030-01-01T00:00:00Z');",
            "11".repeat(32)
        ))
        .unwrap();
    }
    let before = snapshot(dir.path());
    let err = Store::open(dir.path(), &key("11")).unwrap_err();
    match &err {
        StoreError::SchemaTooNew { found, known, .. } => {
            assert_eq!((*found, *known), (99, LATEST_SCHEMA_VERSION));
        }
        other => panic!("expected SchemaTooNew, got {other}"),
    }
    assert!(
        err.to_string().contains("newer version of Careloop"),
        "{err}"
    );
    assert_eq!(snapshot(dir.path()), before);
}

#[cfg(unix)]
#[test]
fn key_files_must_be_private_and_well_formed() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("key");
    let write = |text: &str, mode: u32| {
        std::fs::write(&path, text).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
    };
    let hex = "0123456789abcdef".repeat(4);

    write(&format!("{hex}\n"), 0o600);
    assert_eq!(
        CacheKey::read_key_file(&path).unwrap(),
        CacheKey::from_hex(&hex).unwrap()
    );
    write(&hex, 0o400);
    assert!(
        CacheKey::read_key_file(&path).is_ok(),
        "no newline and read-only are fine"
    );

    write(&hex, 0o644);
    let err = CacheKey::read_key_file(&path).unwrap_err().to_string();
    assert!(err.contains("0644") && err.contains("chmod 600"), "{err}");

    for bad in [
        "short",
        &format!("{hex}00"),
        &format!("{}zz", &hex[..62]),
        &format!("{hex}\n\n"),
    ] {
        write(bad, 0o600);
        let err = CacheKey::read_key_file(&path).unwrap_err().to_string();
        assert!(
            err.contains("64 hexadecimal characters") || err.contains("too long"),
            "{bad:?}: {err}"
        );
    }
    let err = CacheKey::read_key_file(&dir.path().join("missing"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("cannot read it"), "{err}");
    assert_eq!(
        format!("{:?}", CacheKey::from_hex(&hex).unwrap()),
        "CacheKey(<redacted>)"
    );
}

#[test]
fn events_are_appended_read_back_and_deduplicated_by_id() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path(), &key("11")).unwrap();
    let first = event(1, serde_json::json!({"channel": "phone", "reached": true}));
    let second = event(2, serde_json::json!({"channel": "sms"}));
    assert_eq!(store.append_event(&first).unwrap(), Appended::New(1));
    assert_eq!(store.append_event(&second).unwrap(), Appended::New(2));
    assert_eq!(
        store.append_event(&first).unwrap(),
        Appended::AlreadyPresent(1),
        "a retried push is a no-op"
    );

    let mut changed = first.clone();
    changed.payload = serde_json::json!({"channel": "letter"});
    let err = store.append_event(&changed).unwrap_err();
    assert!(matches!(err, StoreError::EventConflict { .. }), "{err}");

    let events = store.events_after(0, 10).unwrap();
    assert_eq!(events.len(), 2);
    assert_eq!(
        (events[0].id, &events[0].payload),
        (first.id, &first.payload)
    );
    assert_eq!(events[1].occurred_at, second.occurred_at);
    assert_eq!(store.events_for_subject("case-2").unwrap().len(), 1);
    drop(store);
    let store = Store::open(dir.path(), &key("11")).unwrap();
    assert_eq!(
        store.event_count().unwrap(),
        2,
        "acknowledged events survive reopening"
    );
}

#[test]
fn invalid_events_are_refused_and_batches_are_all_or_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path(), &key("11")).unwrap();
    let mut v4 = event(1, serde_json::json!({}));
    v4.id = Uuid::from_u128(0x4a5b_0000_0000_4000_8000_0000_0000_0001);
    assert!(store
        .append_event(&v4)
        .unwrap_err()
        .to_string()
        .contains("UUIDv7"));
    let mut no_actor = event(2, serde_json::json!({}));
    no_actor.actor = " ".into();
    assert!(store
        .append_event(&no_actor)
        .unwrap_err()
        .to_string()
        .contains("actor is empty"));
    assert!(
        store
            .append_event(&event(3, serde_json::json!([1])))
            .is_err(),
        "payloads are objects"
    );

    let good = event(4, serde_json::json!({}));
    let mut clash = event(4, serde_json::json!({"other": 1}));
    clash.id = good.id;
    assert!(store.append_events(&[good, clash]).is_err());
    assert_eq!(
        store.event_count().unwrap(),
        0,
        "a failed batch leaves no event behind"
    );
}

#[test]
fn the_event_log_refuses_updates_and_deletes_even_in_raw_sql() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path(), &key("11")).unwrap();
    store
        .append_event(&event(1, serde_json::json!({"x": 1})))
        .unwrap();
    drop(store);
    let conn = rusqlite::Connection::open(dir.path().join(CACHE_FILE_NAME)).unwrap();
    conn.execute_batch(&format!("PRAGMA key = \"x'{}'\";", "11".repeat(32)))
        .unwrap();
    let update = conn
        .execute("UPDATE event SET actor = 'someone else'", [])
        .unwrap_err();
    assert!(update.to_string().contains("append-only"), "{update}");
    let delete = conn.execute("DELETE FROM event", []).unwrap_err();
    assert!(delete.to_string().contains("append-only"), "{delete}");
    let count: i64 = conn
        .query_row("SELECT count(*) FROM event", [], |r| r.get(0))
        .unwrap();
    assert_eq!(count, 1);
}

#[test]
fn the_cache_is_in_wal_mode_with_full_sync() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), &key("11")).unwrap();
    assert_eq!(
        store.pragma_synchronous().unwrap(),
        2,
        "synchronous=FULL: an acknowledged commit survives power loss"
    );
    assert!(dir.path().join("cache.db-wal").exists(), "WAL mode");
}

#[test]
fn deferred_sync_is_only_inside_and_full_again_after_whatever_happened() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path(), &key("12")).unwrap();
    let inside = store
        .with_deferred_sync(|s| s.pragma_synchronous().unwrap())
        .unwrap();
    assert_eq!(inside, 1, "NORMAL while importing");
    assert_eq!(store.pragma_synchronous().unwrap(), 2, "FULL again after");
    let failed: Result<(), &str> = store.with_deferred_sync(|_| Err("a file failed")).unwrap();
    assert!(failed.is_err());
    assert_eq!(
        store.pragma_synchronous().unwrap(),
        2,
        "FULL again after a failure"
    );
}
