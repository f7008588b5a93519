-- Careloop central server database, schema version 1: what the first release made (users,
-- token digests, the event log in server order, audit heads, each team's panel lines).
-- A database made by that release has these tables and no server_migration table: it is
-- recorded as version 1 when first opened, and the later migrations run.
CREATE TABLE IF NOT EXISTS app_user (
    name TEXT PRIMARY KEY, role TEXT NOT NULL, team TEXT NOT NULL,
    password_hash TEXT NOT NULL, disabled INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS token (
    digest TEXT PRIMARY KEY, kind TEXT NOT NULL, user_name TEXT NOT NULL,
    workstation TEXT NOT NULL, expires_at TEXT NOT NULL, revoked INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS token_by_user ON token (user_name);
CREATE TABLE IF NOT EXISTS event (
    server_seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE, team TEXT NOT NULL, workstation TEXT NOT NULL,
    kind TEXT NOT NULL, subject TEXT NOT NULL, actor TEXT NOT NULL, occurred_at TEXT NOT NULL,
    payload TEXT NOT NULL, payload_version INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS event_by_team ON event (team, server_seq);
CREATE TRIGGER IF NOT EXISTS event_is_append_only_update BEFORE UPDATE ON event
BEGIN SELECT RAISE(ABORT, 'the event log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS event_is_append_only_delete BEFORE DELETE ON event
BEGIN SELECT RAISE(ABORT, 'the event log is append-only'); END;
CREATE TABLE IF NOT EXISTS audit_head (
    workstation TEXT PRIMARY KEY, user_name TEXT NOT NULL, seq INTEGER NOT NULL,
    hash TEXT NOT NULL, at TEXT NOT NULL, regression TEXT
);
CREATE TABLE IF NOT EXISTS panel_item (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, team TEXT NOT NULL, kind TEXT NOT NULL,
    item_key TEXT NOT NULL, digest TEXT NOT NULL, json TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS panel_by_team ON panel_item (team, seq);
CREATE TABLE IF NOT EXISTS panel_latest (
    team TEXT NOT NULL, item_key TEXT NOT NULL, digest TEXT NOT NULL,
    PRIMARY KEY (team, item_key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS panel_member (
    team TEXT NOT NULL, patient_id TEXT NOT NULL, PRIMARY KEY (team, patient_id)
) WITHOUT ROWID;
