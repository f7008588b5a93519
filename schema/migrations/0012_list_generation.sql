-- Counts the writes of the live lists (each `apply_list_update`), so that a copy of the
-- memberships kept in memory is known current while the count is the same: one evaluation
-- of a few changed people then reads no membership from disk.
ALTER TABLE list_state ADD COLUMN generation INTEGER NOT NULL DEFAULT 0;
