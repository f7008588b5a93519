-- Local cache schema version 14: stored bodies compressed.
-- `codec` says how `resource.body` is stored: 0 as the plain JSON text of earlier versions,
-- 1 as zstd with careloop-store's built-in dictionary 1 (see careloop-store's `body`
-- module). New rows are written compressed; the rows written before this version are
-- compressed by the application in batches (`Store::compress_plain_bodies`), which the
-- partial index below finds without a scan. Content never changes: facts stay valid.
ALTER TABLE resource ADD COLUMN codec INTEGER NOT NULL DEFAULT 0;
CREATE INDEX resource_plain ON resource (codec) WHERE codec = 0;
