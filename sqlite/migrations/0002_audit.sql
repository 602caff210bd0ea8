-- The audit trail: one row per security-relevant change or attempt, written in
-- the same transaction as the change it describes.
--
-- user_id and session_id are plain columns, not foreign keys: the trail must
-- outlive the sessions prune deletes. users.id is AUTOINCREMENT, so a user_id
-- here never comes to name another account.
CREATE TABLE audit_events (
	id          INTEGER PRIMARY KEY AUTOINCREMENT,
	occurred_at INTEGER NOT NULL,
	kind        TEXT    NOT NULL CHECK (kind <> ''),
	user_id     INTEGER,
	username    TEXT    NOT NULL DEFAULT '',
	session_id  TEXT,
	client_ip   TEXT    NOT NULL DEFAULT '',
	user_agent  TEXT    NOT NULL DEFAULT '',
	reason      TEXT    NOT NULL DEFAULT '',
	detail      TEXT    NOT NULL DEFAULT ''
) STRICT;

-- "gatepass audit" lists recent events, of everyone or of one user.
CREATE INDEX audit_events_occurred_at_idx ON audit_events (occurred_at);
CREATE INDEX audit_events_user_id_idx ON audit_events (user_id, occurred_at);

-- Append-only: a bug or an injected statement that tries to rewrite history
-- aborts its whole transaction instead. The triggers also turn off SQLite's
-- truncate shortcut for an unqualified DELETE. They guard against mistakes, not
-- against whoever can write the database file, who can drop them.
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN
	SELECT RAISE(ABORT, 'audit_events is append-only');
END;

CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
BEGIN
	SELECT RAISE(ABORT, 'audit_events is append-only');
END;
