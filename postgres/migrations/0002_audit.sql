-- The audit trail, as in the SQLite engine's 0002_audit.sql: one row per
-- security-relevant change or attempt, written in the same transaction as the
-- change it describes.
--
-- user_id and session_id are plain columns, not foreign keys: the trail must
-- outlive the sessions prune deletes. users.id comes from an identity sequence,
-- so a user_id here never comes to name another account.
CREATE TABLE audit_events (
	id          BIGINT      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	occurred_at TIMESTAMPTZ NOT NULL,
	kind        TEXT        NOT NULL CHECK (kind <> ''),
	user_id     BIGINT,
	username    TEXT        NOT NULL DEFAULT '',
	session_id  TEXT,
	client_ip   TEXT        NOT NULL DEFAULT '',
	user_agent  TEXT        NOT NULL DEFAULT '',
	reason      TEXT        NOT NULL DEFAULT '',
	detail      TEXT        NOT NULL DEFAULT ''
);

-- "gatepass audit" lists recent events, of everyone or of one user.
CREATE INDEX audit_events_occurred_at_idx ON audit_events (occurred_at);
CREATE INDEX audit_events_user_id_idx ON audit_events (user_id, occurred_at);

-- Append-only: a bug or an injected statement that tries to rewrite history
-- aborts its whole transaction instead. TRUNCATE fires no row trigger, so it
-- has a statement trigger of its own. The triggers guard against mistakes, not
-- against the table's owner, who can drop them: to keep the trail from a
-- compromised gatepass, grant its role INSERT and SELECT only, or ship the
-- rows elsewhere.
CREATE FUNCTION audit_events_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION 'audit_events is append-only: % refused', TG_OP;
END;
$$;

CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
	FOR EACH ROW EXECUTE FUNCTION audit_events_refuse_change();
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
	FOR EACH ROW EXECUTE FUNCTION audit_events_refuse_change();
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
	FOR EACH STATEMENT EXECUTE FUNCTION audit_events_refuse_change();
