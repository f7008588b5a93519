-- A team's published segment definitions without reading its resources: the server keeps
-- each team's live lists and reads the definitions in force at every evaluation.
CREATE INDEX IF NOT EXISTS panel_by_kind ON panel_item (team, kind, seq);
