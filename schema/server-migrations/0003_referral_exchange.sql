-- Careloop central server database, schema version 3: the referral exchange. The services
-- directory (partner organisations and their services), the partner systems' clients
-- (SMART Backend Services: their public keys, the assertion ids already used, the access
-- tokens issued as SHA-256 digests), the referral Tasks the partners answer, and the log of
-- every partner read or write (who, which Task, what came of it; never a person's data).
CREATE TABLE partner_org (
    id TEXT PRIMARY KEY, name TEXT NOT NULL
);
CREATE TABLE partner_service (
    id TEXT PRIMARY KEY, org TEXT NOT NULL REFERENCES partner_org (id), name TEXT NOT NULL,
    service_type TEXT NOT NULL, area TEXT NOT NULL, languages TEXT NOT NULL,
    eligibility TEXT NOT NULL, contact_role TEXT NOT NULL,
    respond_days INTEGER NOT NULL, start_days INTEGER NOT NULL
);
CREATE TABLE partner_client (
    client_id TEXT PRIMARY KEY, org TEXT NOT NULL REFERENCES partner_org (id),
    jwks TEXT NOT NULL, disabled INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE partner_assertion (
    client_id TEXT NOT NULL, jti TEXT NOT NULL, expires_at TEXT NOT NULL,
    PRIMARY KEY (client_id, jti)
) WITHOUT ROWID;
CREATE TABLE partner_token (
    digest TEXT PRIMARY KEY, client_id TEXT NOT NULL, org TEXT NOT NULL,
    scope TEXT NOT NULL, expires_at TEXT NOT NULL
);
CREATE TABLE referral_task (
    id TEXT PRIMARY KEY, team TEXT NOT NULL, org TEXT NOT NULL, service_id TEXT NOT NULL,
    case_id TEXT NOT NULL, patient_id TEXT NOT NULL, status TEXT NOT NULL,
    reason TEXT NOT NULL, consent TEXT NOT NULL, authored_on TEXT NOT NULL,
    last_modified TEXT NOT NULL, version INTEGER NOT NULL DEFAULT 1,
    status_reason TEXT, start_date TEXT, outcome TEXT, answered_by TEXT
);
CREATE INDEX referral_task_by_org ON referral_task (org, status);
CREATE TABLE partner_access (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, client_id TEXT NOT NULL,
    org TEXT NOT NULL, action TEXT NOT NULL, task_id TEXT, outcome TEXT NOT NULL
);
CREATE TRIGGER partner_access_is_append_only_update BEFORE UPDATE ON partner_access
BEGIN SELECT RAISE(ABORT, 'the partner access log is append-only'); END;
CREATE TRIGGER partner_access_is_append_only_delete BEFORE DELETE ON partner_access
BEGIN SELECT RAISE(ABORT, 'the partner access log is append-only'); END;
CREATE INDEX IF NOT EXISTS panel_item_by_key ON panel_item (team, item_key, seq);
