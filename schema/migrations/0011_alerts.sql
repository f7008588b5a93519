-- Careloop local cache, schema version 11: alerts on key events.
--
-- One alert per (kind, source resource): its id is derived from the team, the kind and the
-- source, so importing the same data again, or another workstation finding the same event,
-- names the same alert. Raised by the live lists for people whose data changed; acknowledged
-- by the person it went to (or a supervisor), audited.
CREATE TABLE alert (
    alert_id        TEXT PRIMARY KEY,
    kind            TEXT NOT NULL,
    patient_id      TEXT NOT NULL,
    source          TEXT NOT NULL,         -- "ResourceType/id"
    occurred        TEXT NOT NULL,         -- the event's day (YYYY-MM-DD)
    raised_at       TEXT NOT NULL,         -- RFC 3339
    due             TEXT NOT NULL,         -- review deadline, RFC 3339
    assignee        TEXT NOT NULL,         -- a user, or "lead" (the team's lead role)
    evidence        TEXT NOT NULL,
    acknowledged_by TEXT,
    acknowledged_at TEXT,
    note            TEXT
);
CREATE INDEX alert_patient ON alert (patient_id);
