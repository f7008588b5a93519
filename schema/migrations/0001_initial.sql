-- Careloop local cache, schema version 1.
-- Clinical facts are stored per FHIR resource, keyed by (resource_type, id), with the
-- version and lastUpdated the source gave; the body is the resource as compact JSON.
CREATE TABLE resource (
    rowid         INTEGER PRIMARY KEY,
    resource_type TEXT NOT NULL,
    id            TEXT NOT NULL,
    patient_id    TEXT,
    version_id    TEXT,
    last_updated  TEXT,
    body          TEXT NOT NULL,
    UNIQUE (resource_type, id)
);
CREATE INDEX resource_by_patient ON resource (patient_id, resource_type);

-- One row per Patient resource: what the patient list and search need without parsing bodies.
CREATE TABLE patient (
    id                 TEXT PRIMARY KEY,
    name               TEXT NOT NULL,
    sort_name          TEXT NOT NULL,
    birth_date         TEXT,
    gender             TEXT,
    deceased           INTEGER NOT NULL DEFAULT 0,
    preferred_language TEXT
);
CREATE INDEX patient_by_sort_name ON patient (sort_name, id);

-- Engagement signals from the service itself (digital check-ins, portal use); see
-- schema/engagement-signal.schema.json for the import format.
CREATE TABLE engagement_signal (
    patient_id TEXT NOT NULL,
    kind       TEXT NOT NULL,
    at         TEXT NOT NULL,
    channel    TEXT,
    PRIMARY KEY (patient_id, kind, at)
) WITHOUT ROWID;

-- The append-only log of operational changes. `seq` is the local order; `id` is the
-- client-made UUIDv7 that sync and audit rely on.
CREATE TABLE event (
    seq             INTEGER PRIMARY KEY,
    id              TEXT NOT NULL UNIQUE,
    kind            TEXT NOT NULL,
    subject         TEXT NOT NULL,
    actor           TEXT NOT NULL,
    occurred_at     TEXT NOT NULL,
    payload         TEXT NOT NULL,
    payload_version INTEGER NOT NULL
);
CREATE INDEX event_by_subject ON event (subject, seq);

CREATE TRIGGER event_is_append_only_update BEFORE UPDATE ON event
BEGIN
    SELECT RAISE(ABORT, 'the event log is append-only: events cannot be updated');
END;
CREATE TRIGGER event_is_append_only_delete BEFORE DELETE ON event
BEGIN
    SELECT RAISE(ABORT, 'the event log is append-only: events cannot be deleted');
END;
