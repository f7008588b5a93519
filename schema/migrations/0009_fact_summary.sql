-- Careloop local cache, schema version 9: a summary beside each person's facts.
--
-- `fact_summary.summary` holds what the weekly review's groups read of a person (birth and
-- death, sex, language, payer, race, ethnicity, digital contacts), in the facts' encoding
-- with the clinical lists left empty: a few hundred bytes, so a cold review reads 100,000
-- people's groups without reading (decrypting and decoding) their clinical facts. It is
-- written with the facts, in the same transaction, and goes with them.
CREATE TABLE fact_summary (
    patient_id TEXT PRIMARY KEY,
    summary    BLOB NOT NULL
) WITHOUT ROWID;

-- Facts written before this table have no summary: everyone is derived again on first use
-- (resumable, like any rebuild of the fact store).
UPDATE fact_state SET fact_schema = 0 WHERE id = 1;
