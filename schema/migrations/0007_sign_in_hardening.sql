-- Careloop local cache, schema version 7: password hashes and sign-in throttling.
--
-- `local_account.scheme` is 'argon2id-v1' for new and upgraded accounts (the PHC string is in
-- `password_hash`, with its salt; `salt` is then empty); 'sha256-salted-v1' rows are rehashed
-- on their next successful sign-in. `origin` says how the account came here: 'local' (the
-- demo's accounts) or 'server' (a user the central server signed in on this workstation,
-- with the role the server gave them).
ALTER TABLE local_account ADD COLUMN origin TEXT NOT NULL DEFAULT 'local';

-- Failed sign-ins per user name as typed (known or not, so that the answer does not tell
-- them apart), kept across restarts: the count since the last success and when the last one
-- happened. A successful sign-in deletes the row.
CREATE TABLE sign_in_failure (
    name            TEXT PRIMARY KEY,
    failures        INTEGER NOT NULL,
    last_failure_at TEXT NOT NULL           -- RFC 3339 UTC
) WITHOUT ROWID;
