//! The server database's numbered migrations: a database made by the first release (its
//! tables, written with its schema, no migration record) opens, is brought to the current
//! version, and what it held still works: the user signs in, an access token it issued
//! still authorises, the events are still served in their order. One made by a newer
//! Careloop is refused before anything is written.

use std::os::unix::fs::PermissionsExt;

use careloop_server::{auth, ServerConfig};
use careloop_sync::Connection;
use rusqlite::params;

const KEY: &str = "ab";

/// A database as the first release left it: its schema, a user, a token it issued, an
/// event, an audit head, a panel member.
fn first_release_database(dir: &std::path::Path, access_token: &str) {
    std::fs::create_dir_all(dir).unwrap();
    let key = dir.join("server.key");
    std::fs::write(&key, format!("{}\n", KEY.repeat(32))).unwrap();
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    let conn = rusqlite::Connection::open(dir.join("server.db")).unwrap();
    conn.execute_batch(&format!("PRAGMA key = \"x'{}'\";", KEY.repeat(32)))
        .unwrap();
    conn.execute_batch(include_str!(
        "../../../schema/server-migrations/0001_base.sql"
    ))
    .unwrap();
    conn.execute(
        "INSERT INTO app_user (name, role, team, password_hash) VALUES ('ana', 'coordinator', 'north', ?1)",
        params![auth::hash_password("first-release-pw").unwrap()],
    )
    .unwrap();
    conn.execute(
        "INSERT INTO token (digest, kind, user_name, workstation, expires_at, revoked)
         VALUES (?1, 'access', 'ana', 'ws-old', '2999-01-01T00:00:00.000000Z', 0)",
        params![auth::digest(access_token)],
    )
    .unwrap();
    conn.execute(
        "INSERT INTO event (id, team, workstation, kind, subject, actor, occurred_at, payload, payload_version)
         VALUES ('0192f000-0000-7000-8000-000000000001', 'north', 'ws-old', 'case.claimed', 'p-1', 'ana',
                 '2026-11-02T09:00:00.000000Z', '{\"case_id\":\"0192f000-0000-7000-8000-0000000000c1\",\"role\":\"coordinator\"}', 1)",
        [],
    )
    .unwrap();
    conn.execute(
        "INSERT INTO audit_head (workstation, user_name, seq, hash, at) VALUES ('ws-old', 'ana', 7, ?1, '2026-11-02T09:00:00.000000Z')",
        params!["a".repeat(64)],
    )
    .unwrap();
    conn.execute(
        "INSERT INTO panel_member (team, patient_id) VALUES ('north', 'p-1')",
        [],
    )
    .unwrap();
}

fn versions(dir: &std::path::Path) -> Vec<u32> {
    let conn = rusqlite::Connection::open(dir.join("server.db")).unwrap();
    conn.execute_batch(&format!("PRAGMA key = \"x'{}'\";", KEY.repeat(32)))
        .unwrap();
    let mut stmt = conn
        .prepare("SELECT version FROM server_migration ORDER BY version")
        .unwrap();
    let rows = stmt.query_map([], |r| r.get(0)).unwrap();
    rows.collect::<Result<_, _>>().unwrap()
}

#[test]
fn a_database_of_the_first_release_is_migrated_and_keeps_working() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("server");
    let old_token = "old-access-token-of-the-first-release";
    first_release_database(&data, old_token);

    let server = careloop_server::start(ServerConfig::new(
        data.clone(),
        "127.0.0.1:0".parse().unwrap(),
    ))
    .unwrap();
    assert_eq!(
        versions(&data),
        [1, 2, 3, 4],
        "recorded as version 1, then migrated"
    );
    let conn = Connection::new(&server.url(), Some(&server.pin)).unwrap();
    // The token the first release issued still authorises, and the event is still served.
    let (status, me) = conn
        .raw("GET", "/api/v1/me", Some(old_token), None, Vec::new())
        .unwrap();
    assert_eq!(status, 200, "{me}");
    let (status, page) = conn
        .raw(
            "GET",
            "/api/v1/events?after=0",
            Some(old_token),
            None,
            Vec::new(),
        )
        .unwrap();
    assert_eq!(status, 200, "{page}");
    let page: serde_json::Value = serde_json::from_str(&page).unwrap();
    assert_eq!(page["events"][0]["event"]["kind"], "case.claimed", "{page}");
    assert_eq!(page["events"][0]["server_seq"], 1);
    // Its password still signs in; a refresh of the new pair works (families, version 2).
    let tokens = conn.login("ana", "first-release-pw", "ws-new").unwrap();
    assert!(conn.refresh(&tokens.refresh_token).is_ok());
    server.stop();

    // Opening it again changes nothing.
    let server = careloop_server::start(ServerConfig::new(
        data.clone(),
        "127.0.0.1:0".parse().unwrap(),
    ))
    .unwrap();
    assert_eq!(versions(&data), [1, 2, 3, 4]);
    server.stop();

    // A database a newer Careloop migrated is refused, not written.
    {
        let conn = rusqlite::Connection::open(data.join("server.db")).unwrap();
        conn.execute_batch(&format!("PRAGMA key = \"x'{}'\";", KEY.repeat(32)))
            .unwrap();
        conn.execute(
            "INSERT INTO server_migration (version, name, checksum, applied_at) VALUES (?1, 'future', '', '2030-01-01T00:00:00Z')",
            [careloop_server::storage::SERVER_SCHEMA_VERSION + 1],
        )
        .unwrap();
    }
    let e = careloop_server::start(ServerConfig::new(
        data.clone(),
        "127.0.0.1:0".parse().unwrap(),
    ))
    .err()
    .expect("refused");
    assert!(e.to_string().contains("newer Careloop"), "{e}");
    assert_eq!(versions(&data), [1, 2, 3, 4, 5]);
}
