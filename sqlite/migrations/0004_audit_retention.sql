-- Audit events older than the retention are deleted by prune, and by nothing
-- else: a DELETE that a bug or an injected statement slips in must still abort.
-- SQLite has no session variables to mark prune's transaction, so prune writes
-- its cutoff into a table of one row, deletes its batch and removes the row,
-- all in one transaction. No other connection ever sees the row, and the
-- trigger lets a DELETE through only for events older than the cutoff, so even
-- inside that transaction newer events stay put.
--
-- occurred_before holds the cutoff as occurred_at stores times, Unix
-- microseconds, so the trigger compares integers.
CREATE TABLE audit_prune_cutoff (
	id              INTEGER PRIMARY KEY CHECK (id = 1),
	occurred_before INTEGER NOT NULL
) STRICT;

DROP TRIGGER audit_events_no_delete;

CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
WHEN NOT EXISTS (
	SELECT 1 FROM audit_prune_cutoff WHERE OLD.occurred_at < occurred_before
)
BEGIN
	SELECT RAISE(ABORT, 'audit_events is append-only');
END;
