-- Audit events older than the retention are deleted by prune, and by nothing
-- else: a DELETE that a bug or an injected statement slips in must still
-- abort. Prune marks its own transaction by setting gatepass.audit_prune, a
-- transaction-local setting that ends with the transaction, to its cutoff; the
-- trigger lets a DELETE through only for events older than that cutoff, so
-- even inside that transaction newer events stay put. UPDATE and TRUNCATE keep
-- their triggers and are refused as before.
--
-- As before, this guards against mistakes, not against a role that may set the
-- variable itself: a role that must never delete events should have no DELETE
-- privilege on the table, and prune then needs --audit-retention 0.
CREATE FUNCTION audit_events_refuse_unpruned_delete() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
	-- Once a session has used the setting, it reads as '' outside prune.
	cutoff TEXT := NULLIF(current_setting('gatepass.audit_prune', true), '');
BEGIN
	IF cutoff IS NOT NULL AND OLD.occurred_at < cutoff::timestamptz THEN
		RETURN OLD;
	END IF;
	RAISE EXCEPTION 'audit_events is append-only: % refused', TG_OP;
END;
$$;

DROP TRIGGER audit_events_no_delete ON audit_events;
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
	FOR EACH ROW EXECUTE FUNCTION audit_events_refuse_unpruned_delete();
