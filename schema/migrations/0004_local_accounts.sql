-- Careloop local cache, schema version 4: local accounts, until central sign-in exists.
--
-- One row per user of this workstation: the role they sign in as and a salted password hash
-- (see crates/careloop-store/src/accounts.rs for the scheme). The table lives inside the
-- encrypted cache like everything else; no password is ever stored.
CREATE TABLE local_account (
    name          TEXT PRIMARY KEY,
    role          TEXT NOT NULL,
    scheme        TEXT NOT NULL,            -- 'sha256-salted-v1' (interim; argon2id later)
    salt          TEXT NOT NULL,            -- hex, 16 random bytes
    password_hash TEXT NOT NULL,            -- hex
    created_at    TEXT NOT NULL             -- RFC 3339 UTC
);
