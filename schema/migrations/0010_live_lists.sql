-- Careloop local cache, schema version 10: live lists.
--
-- Every segment's membership is kept current (`membership`: who is in, where, since when)
-- instead of existing only in the cohort run someone last asked for. Each entry and exit is
-- recorded with the evidence that caused it (`membership_change`). `list_state` says what the
-- memberships are current for: the day they were evaluated as of, the definitions version,
-- and the last event taken in (contacts move people into and out of the re-contact cooldown).
-- People whose facts were written since the lists last looked are listed in `list_dirty`
-- (by the fact store, in the transaction that writes their facts): only they are evaluated
-- again while the day and the definitions stay the same.
CREATE TABLE membership (
    segment_id TEXT NOT NULL,
    patient_id TEXT NOT NULL,
    placement  TEXT NOT NULL CHECK (placement IN ('worklist', 'overflow', 'held_back')),
    priority   INTEGER NOT NULL,
    since      TEXT NOT NULL,              -- the day the person entered (the episode)
    PRIMARY KEY (segment_id, patient_id)
) WITHOUT ROWID;

CREATE TABLE membership_change (
    seq        INTEGER PRIMARY KEY,
    day        TEXT NOT NULL,              -- the day evaluated as of
    at         TEXT NOT NULL,              -- when the change was seen (RFC 3339)
    segment_id TEXT NOT NULL,
    patient_id TEXT NOT NULL,
    change     TEXT NOT NULL CHECK (change IN ('entered', 'exited')),
    reason     TEXT NOT NULL,              -- entered | gap_closed | died | left_panel | no_longer_met | segment_withdrawn
    evidence   TEXT NOT NULL,              -- JSON array of lines
    definitions_version TEXT NOT NULL
);
CREATE INDEX membership_change_person ON membership_change (patient_id, segment_id);
CREATE INDEX membership_change_day ON membership_change (day);

-- Entrants of a "review" segment a supervisor chose not to open a case for, in that episode.
CREATE TABLE review_dismissal (
    segment_id   TEXT NOT NULL,
    patient_id   TEXT NOT NULL,
    since        TEXT NOT NULL,            -- the episode dismissed
    dismissed_by TEXT NOT NULL,
    dismissed_at TEXT NOT NULL,
    reason       TEXT NOT NULL,
    PRIMARY KEY (segment_id, patient_id, since)
) WITHOUT ROWID;

CREATE TABLE list_dirty (
    patient_id TEXT PRIMARY KEY
) WITHOUT ROWID;

CREATE TABLE list_state (
    id                  INTEGER PRIMARY KEY CHECK (id = 1),
    as_of               TEXT,              -- NULL: never evaluated
    definitions_version TEXT,
    event_seq           INTEGER NOT NULL
);
INSERT INTO list_state (id, as_of, definitions_version, event_seq) VALUES (1, NULL, NULL, 0);

-- (NOT EXISTS rather than OR IGNORE: the fact store writes with an upsert, whose conflict
-- handling would apply to the trigger's insert too.)
CREATE TRIGGER list_dirty_fact_write AFTER INSERT ON fact
BEGIN
    INSERT INTO list_dirty (patient_id) SELECT NEW.patient_id
        WHERE NOT EXISTS (SELECT 1 FROM list_dirty WHERE patient_id = NEW.patient_id);
END;

CREATE TRIGGER list_dirty_fact_update AFTER UPDATE ON fact
BEGIN
    INSERT INTO list_dirty (patient_id) SELECT NEW.patient_id
        WHERE NOT EXISTS (SELECT 1 FROM list_dirty WHERE patient_id = NEW.patient_id);
END;

CREATE TRIGGER list_dirty_fact_delete AFTER DELETE ON fact
BEGIN
    INSERT INTO list_dirty (patient_id) SELECT OLD.patient_id
        WHERE NOT EXISTS (SELECT 1 FROM list_dirty WHERE patient_id = OLD.patient_id);
END;
