-- Careloop central server database, schema version 2: token families and reuse detection,
-- audit heads keyed by the pushing token's identity, security events.
--
-- Every token descends from one password sign-in (its family); a rotated refresh token
-- presented again revokes the family. Tokens made before this version are each a family of
-- their own.
ALTER TABLE token ADD COLUMN family TEXT NOT NULL DEFAULT '';
ALTER TABLE token ADD COLUMN parent TEXT;
ALTER TABLE token ADD COLUMN rotated INTEGER NOT NULL DEFAULT 0;
ALTER TABLE token ADD COLUMN used INTEGER NOT NULL DEFAULT 0;
ALTER TABLE token ADD COLUMN rotated_at TEXT;
UPDATE token SET family = digest;
CREATE INDEX token_by_family ON token (family);
CREATE INDEX token_by_parent ON token (parent);

-- Heads keyed by the identity of the reporting token: its user's team, the user, and the
-- workstation it was issued to at sign-in. `audit_head` keyed them on a field of the request
-- body, which anyone could set: it is no longer read (kept, as nothing is deleted).
CREATE TABLE team_audit_head (
    team TEXT NOT NULL, workstation TEXT NOT NULL, user_name TEXT NOT NULL,
    seq INTEGER NOT NULL, hash TEXT NOT NULL, at TEXT NOT NULL, regression TEXT,
    PRIMARY KEY (team, workstation, user_name)
) WITHOUT ROWID;

-- Failed sign-ins, locks and reused refresh tokens (never a password).
CREATE TABLE security_event (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, kind TEXT NOT NULL,
    user_name TEXT NOT NULL, address TEXT, detail TEXT NOT NULL
);
