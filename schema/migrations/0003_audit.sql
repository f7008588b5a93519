-- Careloop local cache, schema version 3: the audit trail, a hash chain.
--
-- Every access decision (who, in which role, did what to which person or item, allowed or
-- denied) is an entry whose `hash` covers its content and the previous entry's hash; see
-- crates/careloop-store/src/audit.rs for the exact encoding. The triggers below stop
-- mistakes; the hash chain, checked against heads recorded elsewhere (`audit_anchor`), is
-- what detects deliberate edits by someone who can drop the triggers.
CREATE TABLE audit_entry (
    seq        INTEGER PRIMARY KEY,
    at         TEXT NOT NULL,              -- RFC 3339 UTC, microseconds
    actor      TEXT NOT NULL,
    role       TEXT NOT NULL,
    action     TEXT NOT NULL,              -- e.g. 'case.claim', 'person.view'
    patient_id TEXT,                       -- which person, if any
    target     TEXT,                       -- e.g. a case or referral id, if any
    outcome    TEXT NOT NULL CHECK (outcome IN ('allowed', 'denied')),
    prev_hash  TEXT NOT NULL CHECK (length(prev_hash) = 64),
    hash       TEXT NOT NULL CHECK (length(hash) = 64)
);
CREATE INDEX audit_entry_by_patient ON audit_entry (patient_id, seq);

-- An entry must extend the chain at its end: the next number, linked to the last hash (or to
-- 64 zeros for the first entry).
CREATE TRIGGER audit_entry_extends_the_chain BEFORE INSERT ON audit_entry
WHEN NEW.seq IS NOT (SELECT coalesce(max(seq), 0) + 1 FROM audit_entry)
  OR NEW.prev_hash IS NOT coalesce(
         (SELECT hash FROM audit_entry ORDER BY seq DESC LIMIT 1),
         '0000000000000000000000000000000000000000000000000000000000000000')
BEGIN
    SELECT RAISE(ABORT, 'the audit trail is append-only: an entry must extend the chain at its end');
END;
CREATE TRIGGER audit_entry_is_append_only_update BEFORE UPDATE ON audit_entry
BEGIN
    SELECT RAISE(ABORT, 'the audit trail is append-only: entries cannot be updated');
END;
CREATE TRIGGER audit_entry_is_append_only_delete BEFORE DELETE ON audit_entry
BEGIN
    SELECT RAISE(ABORT, 'the audit trail is append-only: entries cannot be deleted');
END;

-- Heads of the chain recorded elsewhere (acknowledged by the sync server, exported by an
-- operator): the chain must still contain each of them. A copy here only helps against
-- mistakes and partial tampering; the copy held elsewhere is the real check.
CREATE TABLE audit_anchor (
    seq         INTEGER PRIMARY KEY,
    head_seq    INTEGER NOT NULL,
    head_hash   TEXT NOT NULL,
    recorded_at TEXT NOT NULL,             -- RFC 3339 UTC, microseconds
    source      TEXT NOT NULL              -- e.g. 'sync-server', 'operator-export'
);
CREATE INDEX audit_anchor_by_head ON audit_anchor (head_seq, head_hash);

CREATE TRIGGER audit_anchor_is_append_only_update BEFORE UPDATE ON audit_anchor
BEGIN
    SELECT RAISE(ABORT, 'audit anchors are append-only: they cannot be updated');
END;
CREATE TRIGGER audit_anchor_is_append_only_delete BEFORE DELETE ON audit_anchor
BEGIN
    SELECT RAISE(ABORT, 'audit anchors are append-only: they cannot be deleted');
END;
