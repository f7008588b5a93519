-- Careloop local cache, schema version 2: cohort history and published segment definitions.

-- Every segmentation run: which definitions, as of which date, when and by whom.
CREATE TABLE cohort_run (
    id                  INTEGER PRIMARY KEY,
    as_of               TEXT NOT NULL,
    definitions_version TEXT NOT NULL,
    run_at              TEXT NOT NULL,
    run_by              TEXT NOT NULL
);

-- Each run's members per segment, with where capacity and hold-backs put them.
CREATE TABLE cohort_member (
    run_id     INTEGER NOT NULL REFERENCES cohort_run (id),
    segment_id TEXT NOT NULL,
    patient_id TEXT NOT NULL,
    placement  TEXT NOT NULL CHECK (placement IN ('worklist', 'overflow', 'held_back')),
    PRIMARY KEY (run_id, segment_id, patient_id)
) WITHOUT ROWID;

-- Segment definitions published by supervisors: every version is kept.
CREATE TABLE segment_definition (
    id           TEXT NOT NULL,
    version      INTEGER NOT NULL,
    body         TEXT NOT NULL,
    published_by TEXT NOT NULL,
    published_at TEXT NOT NULL,
    PRIMARY KEY (id, version)
);
