-- Prune deletes expired sessions in small batches. Without an index it finds
-- each batch by walking the table, and in PostgreSQL the rows earlier batches
-- deleted stay in the way until vacuum, so every batch took longer than the
-- one before. The index hands out the oldest expired sessions first. A
-- session's expiry never changes, so refreshes, which touch last_used_at, keep
-- their heap-only updates; the index costs a sign-in one entry.
CREATE INDEX sessions_expires_at_idx ON sessions (expires_at);
