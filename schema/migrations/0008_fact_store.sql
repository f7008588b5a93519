-- Careloop local cache, schema version 8: the fact store.
--
-- Segmentation reads each person's clinical facts in the form the engine uses, encoded once
-- (`fact.facts`: careloop-segment's compact encoding, `fact_schema` says which), instead of
-- parsing every stored FHIR body at every run. The facts are derived from the stored
-- resources and engagement signals, so they are kept current the way a cache is:
--
-- - `fact_dirty` lists people whose facts must be derived again. Triggers add to it in the
--   same transaction as the change that makes facts stale (a resource of the person written,
--   moved or removed; an engagement signal; a shared Medication, which sets
--   `fact_state.shared_dirty` because any person's medication keys may name it). The
--   application derives the facts of everyone listed, writes them and removes them from the
--   list in one transaction per batch, so a crash midway leaves a list to finish, never a
--   stale fact believed fresh.
-- - `fact_state.fact_schema` is the encoding the stored facts were written with; a build with
--   another one lists everyone again (a rebuild with progress, resumable the same way).
CREATE TABLE fact (
    patient_id TEXT PRIMARY KEY,
    facts      BLOB NOT NULL
);

CREATE TABLE fact_dirty (
    patient_id TEXT PRIMARY KEY
) WITHOUT ROWID;

CREATE TABLE fact_state (
    id           INTEGER PRIMARY KEY CHECK (id = 1),
    fact_schema  INTEGER NOT NULL,          -- 0: none written yet
    shared_dirty INTEGER NOT NULL,
    generation   INTEGER NOT NULL           -- counts writes of facts (a resident copy's check)
);
INSERT INTO fact_state (id, fact_schema, shared_dirty, generation) VALUES (1, 0, 0, 0);

-- Everyone with data is listed once now: the first use derives the facts (with progress).
INSERT OR IGNORE INTO fact_dirty (patient_id)
    SELECT DISTINCT patient_id FROM resource WHERE patient_id IS NOT NULL;
INSERT OR IGNORE INTO fact_dirty (patient_id) SELECT DISTINCT patient_id FROM engagement_signal;

CREATE TRIGGER fact_resource_insert AFTER INSERT ON resource
WHEN NEW.patient_id IS NOT NULL
BEGIN
    INSERT OR IGNORE INTO fact_dirty (patient_id) VALUES (NEW.patient_id);
END;

CREATE TRIGGER fact_resource_update AFTER UPDATE ON resource
BEGIN
    INSERT OR IGNORE INTO fact_dirty (patient_id)
        SELECT NEW.patient_id WHERE NEW.patient_id IS NOT NULL;
    INSERT OR IGNORE INTO fact_dirty (patient_id)
        SELECT OLD.patient_id WHERE OLD.patient_id IS NOT NULL;
END;

CREATE TRIGGER fact_resource_delete AFTER DELETE ON resource
WHEN OLD.patient_id IS NOT NULL
BEGIN
    INSERT OR IGNORE INTO fact_dirty (patient_id) VALUES (OLD.patient_id);
END;

CREATE TRIGGER fact_shared_insert AFTER INSERT ON resource
WHEN NEW.patient_id IS NULL AND NEW.resource_type = 'Medication'
BEGIN
    UPDATE fact_state SET shared_dirty = 1 WHERE id = 1;
END;

CREATE TRIGGER fact_shared_update AFTER UPDATE ON resource
WHEN NEW.resource_type = 'Medication'
BEGIN
    UPDATE fact_state SET shared_dirty = 1 WHERE id = 1;
END;

CREATE TRIGGER fact_signal_insert AFTER INSERT ON engagement_signal
BEGIN
    INSERT OR IGNORE INTO fact_dirty (patient_id) VALUES (NEW.patient_id);
END;

CREATE TRIGGER fact_signal_delete AFTER DELETE ON engagement_signal
BEGIN
    INSERT OR IGNORE INTO fact_dirty (patient_id) VALUES (OLD.patient_id);
END;
