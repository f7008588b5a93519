-- Careloop local cache, schema version 6: offline-first sync with the central server.
--
-- The event log itself stays append-only. The server's global order of an event, once the
-- server has acknowledged it (our own events) or sent it (everyone else's), is kept beside it.
-- An event without a row here is in the outbox: pushed again until acknowledged.
CREATE TABLE event_sync (
    event_id   TEXT PRIMARY KEY REFERENCES event (id),
    server_seq INTEGER NOT NULL UNIQUE
) WITHOUT ROWID;

-- What this workstation knows of its server: the URL, the pinned certificate, the pull
-- cursors (stored in the same transaction as what they cover), the last successful sync.
CREATE TABLE sync_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;
